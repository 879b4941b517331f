/*
 * Tables: rows of texts under named columns, printed for people with
 * columns aligned by display width (accents, Arabic, wide characters) and
 * the shrinkable ones (names, activities) cut with "…" to fit the
 * terminal, or as CSV for scripts (a header of the columns' keys, then
 * one record per row).
 */
#ifndef TAMWIL_CLI_TABLE_H
#define TAMWIL_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct cli_column {
	const char *key;   /* CSV header: snake_case, as the JSON keys */
	const char *title; /* table header, for people */
	int right;	   /* 1: aligned right (numbers, amounts) */
	int shrink;	   /* 1: may be cut when the terminal is too narrow */
};

typedef struct cli_table cli_table;

/*
 * A table of n columns (cols must outlive it). NULL when memory runs
 * out.
 */
cli_table *cli_table_new(const struct cli_column *cols, size_t n);

/*
 * Appends a row of one text per column (copied; NULL reads as ""). For a
 * table, texts are cleaned of what a terminal must not be handed (see
 * textwidth_clean()) when printed. Returns 0, or -1 when memory runs out.
 */
int cli_table_add(cli_table *t, const char *const *cells);

/* How many rows were added. */
size_t cli_table_rows(const cli_table *t);

/*
 * Prints t to out: as CSV when csv is 1, else as a table for people. A
 * table's shrinkable columns are cut to fit cli_table_limit(out); nothing
 * is cut when that is 0 (a pipe or a file, without $COLUMNS). Returns 0,
 * or -1 when writing or memory failed.
 */
int cli_table_print(const cli_table *t, int csv, FILE *out);

/* Frees t; NULL is fine. */
void cli_table_free(cli_table *t);

/*
 * The width a table may take on out: $COLUMNS when it holds a number of
 * columns (20 to 10000), else the terminal's columns, or 0 (no limit)
 * when out is not a terminal.
 */
size_t cli_table_limit(FILE *out);

#endif
