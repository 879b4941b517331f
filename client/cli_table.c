/*
 * Tables for people and for CSV; see cli_table.h.
 */
#include "cli_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "csvfield.h"
#include "textwidth.h"

/* Spaces between two columns. */
#define GAP 2
/*
 * Shrinkable columns are cut no narrower than this. Others (references,
 * states, amounts) are never cut: a table that still does not fit runs
 * wider than the terminal rather than show "45 000…" for an amount.
 */
#define MIN_SHRINK 6

struct cli_table {
	const struct cli_column *cols;
	size_t ncols;
	char **cells; /* rows * ncols texts, row after row */
	size_t rows, cap;
};

cli_table *cli_table_new(const struct cli_column *cols, size_t n)
{
	cli_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->cols = cols;
	t->ncols = n;
	return t;
}

/* Makes room for one more row; 0 or -1. */
static int grow(cli_table *t)
{
	size_t cap = t->cap ? 2 * t->cap : 16;
	char **cells;

	if (t->rows < t->cap)
		return 0;
	cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
	if (cells == NULL)
		return -1;
	t->cells = cells;
	t->cap = cap;
	return 0;
}

int cli_table_add(cli_table *t, const char *const *cells)
{
	char **row;
	size_t i;

	if (grow(t) != 0)
		return -1;
	row = t->cells + t->rows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] != NULL ? cells[i] : "");
		if (row[i] == NULL)
			break;
	}
	if (i == t->ncols) {
		t->rows++;
		return 0;
	}
	while (i > 0)
		free(row[--i]);
	return -1;
}

size_t cli_table_rows(const cli_table *t)
{
	return t->rows;
}

void cli_table_free(cli_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

size_t cli_table_limit(FILE *out)
{
	struct winsize ws;
	int fd = fileno(out);
	const char *env = getenv("COLUMNS");

	/* $COLUMNS, when set, says the width whatever out is (as ls does). */
	if (env != NULL && env[0] >= '1' && env[0] <= '9') {
		char *end;
		unsigned long cols = strtoul(env, &end, 10);

		if (*end == '\0' && cols >= 20 && cols <= 10000)
			return cols;
	}
	if (fd < 0 || !isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) != 0 ||
	    ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

/* Prints t as CSV: the keys, then the rows. */
static int print_csv(const cli_table *t, FILE *out)
{
	const char **keys = calloc(t->ncols, sizeof(*keys));
	int rc;

	if (keys == NULL)
		return -1;
	for (size_t i = 0; i < t->ncols; i++)
		keys[i] = t->cols[i].key;
	rc = csvfield_row(out, keys, t->ncols);
	free(keys);
	for (size_t r = 0; rc == 0 && r < t->rows; r++)
		rc = csvfield_row(out,
				  (const char *const *)t->cells + r * t->ncols,
				  t->ncols);
	return rc;
}

/*
 * The cleaned texts of t for people: the titles as row 0, then the
 * cells; and each column's width in widths. NULL when memory runs out.
 */
static char **clean_texts(const cli_table *t, size_t *widths)
{
	size_t n = (t->rows + 1) * t->ncols;
	char **texts = calloc(n, sizeof(*texts));

	if (texts == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t col = i % t->ncols, w;
		const char *s =
		    i < t->ncols ? t->cols[col].title : t->cells[i - t->ncols];

		texts[i] = textwidth_clean(s);
		if (texts[i] == NULL) {
			while (i > 0)
				free(texts[--i]);
			free(texts);
			return NULL;
		}
		w = textwidth(texts[i]);
		if (w > widths[col])
			widths[col] = w;
	}
	return texts;
}

/*
 * The widest shrinkable column still wider than MIN_SHRINK: its index,
 * or -1.
 */
static long widest(const cli_table *t, const size_t *widths)
{
	long best = -1;

	for (size_t i = 0; i < t->ncols; i++) {
		if (!t->cols[i].shrink || widths[i] <= MIN_SHRINK)
			continue;
		if (best < 0 || widths[i] > widths[best])
			best = (long)i;
	}
	return best;
}

/*
 * Narrows the shrinkable columns, widest first, until the table fits
 * limit (0: no limit) or none can give more.
 */
static void fit(const cli_table *t, size_t *widths, size_t limit)
{
	size_t total = GAP * (t->ncols - 1);

	for (size_t i = 0; i < t->ncols; i++)
		total += widths[i];
	while (limit > 0 && total > limit) {
		long i = widest(t, widths);

		if (i < 0)
			break;
		widths[i]--;
		total--;
	}
}

/* Writes n spaces. */
static void pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

/* Prints one line of texts in the widths; the last column is not padded. */
static void print_line(const cli_table *t, char *const *texts,
		       const size_t *widths, FILE *out)
{
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = texts[i] != NULL ? texts[i] : "";
		size_t cap = strlen(s) + 4, w;
		char *cut = malloc(cap);

		if (i > 0)
			pad(out, GAP);
		if (cut == NULL)
			continue;
		w = textwidth_fit(s, widths[i], cut, cap);
		if (t->cols[i].right)
			pad(out, widths[i] - w);
		fputs(cut, out);
		if (!t->cols[i].right && i + 1 < t->ncols)
			pad(out, widths[i] - w);
		free(cut);
	}
	fputc('\n', out);
}

/* Prints t for people: titles, a rule, the rows. */
static int print_text(const cli_table *t, FILE *out)
{
	size_t *widths = calloc(t->ncols, sizeof(*widths));
	char **texts = NULL;
	size_t n = (t->rows + 1) * t->ncols;

	if (widths != NULL)
		texts = clean_texts(t, widths);
	if (texts == NULL) {
		free(widths);
		return -1;
	}
	fit(t, widths, cli_table_limit(out));
	print_line(t, texts, widths, out);
	for (size_t i = 0; i < t->ncols; i++) {
		if (i > 0)
			pad(out, GAP);
		for (size_t k = 0; k < widths[i]; k++)
			fputs("\xe2\x94\x80", out); /* U+2500 ─ */
	}
	fputc('\n', out);
	for (size_t r = 1; r <= t->rows; r++)
		print_line(t, texts + r * t->ncols, widths, out);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(widths);
	return ferror(out) ? -1 : 0;
}

int cli_table_print(const cli_table *t, int csv, FILE *out)
{
	if (t->ncols == 0)
		return 0;
	return csv ? print_csv(t, out) : print_text(t, out);
}
