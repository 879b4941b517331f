/*
 * Part of libtamwil-client: reading a spreadsheet of beneficiaries (CSV,
 * as offices export it) into applications ready to submit, with every
 * problem found tied to the physical line of the file and the column.
 * Nothing here prints or talks to head office; see docs/IMPORT.md.
 *
 *     tamwil_import *im = tamwil_import_new();
 *     tamwil_import_feed(im, bytes, len);        (as often as needed)
 *     tamwil_import_finish(im);
 *     for each row: tamwil_import_row_at(im, i), its problems by line
 *     tamwil_import_free(im);
 *
 * The file is UTF-8 with or without a byte order mark; fields are
 * separated by ';', ',' or a tab, whichever the header line holds most of
 * outside quotes; quoted fields may hold separators, quotes ("") and line
 * breaks; lines end with LF, CRLF or a CR alone. The header names the columns
 * in any order, in English or French (tamwil_import_column_names()).
 */
#ifndef TAMWIL_IMPORT_H
#define TAMWIL_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "tamwil.pb-c.h"

/* The columns an import file may have. */
enum tamwil_import_column {
	TAMWIL_IMPORT_PROGRAMME,
	TAMWIL_IMPORT_REGION,
	TAMWIL_IMPORT_NATIONAL_ID,
	TAMWIL_IMPORT_NAME, /* "FIRST LAST", instead of the two below */
	TAMWIL_IMPORT_FIRST_NAME,
	TAMWIL_IMPORT_LAST_NAME,
	TAMWIL_IMPORT_SEX,
	TAMWIL_IMPORT_BIRTH_DATE,
	TAMWIL_IMPORT_CATEGORY,
	TAMWIL_IMPORT_SECTOR,
	TAMWIL_IMPORT_ACTIVITY,
	TAMWIL_IMPORT_AMOUNT,
	TAMWIL_IMPORT_CONTRIBUTION,
	TAMWIL_IMPORT_FORMULA,
	TAMWIL_IMPORT_PHONE,
	TAMWIL_IMPORT_ADDRESS,
	TAMWIL_IMPORT_NCOLUMNS
};

/* Longest text of one field, in bytes; longer ones are a problem. */
#define TAMWIL_IMPORT_FIELD_MAX 1000
/*
 * Rows of one file at most (the header and blank lines not counted); a
 * problem on the first row over it says to split the file.
 */
#define TAMWIL_IMPORT_ROWS_MAX 100000
/* Room for a problem's sentence. */
#define TAMWIL_IMPORT_WHY_MAX 320

/* One problem: a bad value, a duplicate, or the file as a whole. */
typedef struct tamwil_import_problem {
	unsigned long line; /* physical line (the header is 1); 0: the file */
	const char *column; /* the column's name, or NULL for a whole row */
	int column_id;	    /* enum tamwil_import_column, or -1 */
	char why[TAMWIL_IMPORT_WHY_MAX]; /* "31/02/1990 is not a date" */
} tamwil_import_problem;

/*
 * One row, read and checked. Texts belong to the import and live until
 * tamwil_import_free(); an optional column left out or empty reads "".
 */
typedef struct tamwil_import_row {
	unsigned long line; /* the physical line the row starts on */
	int ok;		    /* 1: no problem was found in it */
	const char *programme, *region, *national_id;
	const char *first_name, *last_name;
	const char *birth_date; /* YYYY-MM-DD, whatever the file wrote */
	const char *sector, *activity, *formula, *phone, *address;
	int sex;		      /* Tamwil__V1__Sex */
	int category;		      /* Tamwil__V1__Category */
	int birth_year;		      /* of birth_date */
	int64_t amount, contribution; /* minor units */
} tamwil_import_row;

typedef struct tamwil_import tamwil_import;

/* A fresh import, or NULL when memory runs out. */
tamwil_import *tamwil_import_new(void);

/* Frees im and everything it handed out; NULL is fine. */
void tamwil_import_free(tamwil_import *im);

/*
 * Hands the next len bytes of the file to im. Returns 0, or -1 when
 * memory runs out or the file passes 64 MiB (then a problem on line 0
 * says so, and finish finds no rows).
 */
int tamwil_import_feed(tamwil_import *im, const void *data, size_t len);

/*
 * Ends the file: reads the header, checks every row and looks for rows
 * that repeat a national ID within a programme (the later ones are the
 * problem). Returns 0 when the rows could be checked (each row's ok says
 * how it went), or -1 when memory ran out. A file without a usable header
 * (empty, an unknown or repeated column, a required column missing) has
 * no rows and one problem on line 0 or 1 saying what is wrong.
 */
int tamwil_import_finish(tamwil_import *im);

/*
 * Reads the file at path with feed and finish. Returns 0, or -1 with the
 * errno of a failed read in *error (0 when memory ran out).
 */
int tamwil_import_read_file(tamwil_import *im, const char *path, int *error);

/* The rows, in the file's order. */
size_t tamwil_import_rows(const tamwil_import *im);
const tamwil_import_row *tamwil_import_row_at(const tamwil_import *im,
					      size_t i);

/* The problems, by line (file-wide ones first), then by column. */
size_t tamwil_import_problems(const tamwil_import *im);
const tamwil_import_problem *tamwil_import_problem_at(const tamwil_import *im,
						      size_t i);

/*
 * Adds a problem found later (by the caller, e.g. a programme head office
 * does not have) to row i, which stops being ok. why is copied. Returns 0,
 * or -1 when memory runs out.
 */
int tamwil_import_reject(tamwil_import *im, size_t i,
			 enum tamwil_import_column column, const char *why);

/* The column's name in a header, "birth_date". */
const char *tamwil_import_column_name(enum tamwil_import_column c);

/*
 * The names and aliases a header may use for column c, NULL-terminated
 * ("birth_date", "date_naissance", ...). Names are compared without case,
 * accents, spaces, '-' or '_' ("Date de naissance" is date_de_naissance).
 */
const char *const *tamwil_import_column_names(enum tamwil_import_column c);

/* 1 if the header must have column c (or NAME for the two name columns). */
int tamwil_import_column_required(enum tamwil_import_column c);

/*
 * Fills id and body from row r for a SubmitApplication, borrowing r's
 * texts: everything but the identity box, the region when r has none,
 * and the currency, which the caller sets on requested and contribution
 * (both wired into body here).
 */
void tamwil_import_fill(const tamwil_import_row *r, Tamwil__V1__Identity *id,
			Tamwil__V1__SubmitApplication *body,
			Tamwil__V1__Money *requested,
			Tamwil__V1__Money *contribution);

#endif
