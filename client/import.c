/*
 * Reading an import file (see tamwil-import.h): the bytes are kept, then
 * split into records by libcsv one physical line at a time, so that each
 * record knows the line it starts on; the header maps columns, and each
 * row is read and checked the way `tamwil submit` checks its options.
 */
#include "tamwil-import.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <sodium.h>

#include "argparse.h"
#include "text.h"

/* A file is never larger than this. */
#define IMPORT_FILE_MAX (64u << 20)
/* Longest national ID, name, sector... as head office keeps them. */
#define ID_MAX		64
#define PERSON_NAME_MAX ((size_t)200)
#define CODE_MAX	64
#define SECTOR_MAX	100
#define FORMULA_MAX	100
#define PHONE_MAX	64
#define ACTIVITY_MAX	TAMWIL_IMPORT_FIELD_MAX
/* Room for a header name once folded ("datedenaissance"). */
#define FOLD_MAX 64
/* Room for a date rewritten YYYY-MM-DD. */
#define DATE_MAX 11

/* One record of the file as libcsv split it. */
struct record {
	unsigned long line;
	size_t n;
	char **fields; /* n NUL-terminated texts */
};

struct tamwil_import {
	char *bytes; /* the file as fed */
	size_t len, cap;
	int full; /* 1 once the file went over IMPORT_FILE_MAX */
	/* the records, the header first */
	struct record *recs;
	size_t n_recs, cap_recs;
	struct record cur; /* the record being read */
	size_t cap_cur;
	unsigned long line, cur_line;
	int in_record, oom;
	/* the header's column of each enum value, or -1 */
	long col[TAMWIL_IMPORT_NCOLUMNS];
	size_t n_cols;
	tamwil_import_row *rows;
	size_t n_rows;
	char **texts; /* texts made for rows (dates rewritten) */
	size_t n_texts, cap_texts;
	tamwil_import_problem *probs;
	size_t n_probs, cap_probs;
};

/* ---- columns ------------------------------------------------------------ */

static const char *const names_programme[] = {"programme", "program",
					      "code_programme", NULL};
static const char *const names_region[] = {"region", "région", "code_region",
					   NULL};
static const char *const names_national_id[] = {
    "national_id",    "cin", "cnie", "numero_cin", "n_cin",
    "piece_identite", NULL};
static const char *const names_name[] = {"name", "nom_complet", "full_name",
					 NULL};
static const char *const names_first_name[] = {"first_name", "prénom", NULL};
static const char *const names_last_name[] = {"last_name", "nom",
					      "nom_de_famille", NULL};
static const char *const names_sex[] = {"sex", "sexe", NULL};
static const char *const names_birth_date[] = {"birth_date", "date_naissance",
					       "date_de_naissance", NULL};
static const char *const names_category[] = {"category", "catégorie", NULL};
static const char *const names_sector[] = {"sector", "secteur", NULL};
static const char *const names_activity[] = {"activity", "activité", "projet",
					     NULL};
static const char *const names_amount[] = {"amount", "amount_requested",
					   "montant", "montant_demandé", NULL};
static const char *const names_contribution[] = {
    "contribution", "own_contribution", "apport", "apport_personnel", NULL};
static const char *const names_formula[] = {
    "formula", "financing_formula", "formule", "formule_de_financement", NULL};
static const char *const names_phone[] = {"phone", "téléphone", "tel", NULL};
static const char *const names_address[] = {"address", "adresse", NULL};

static const char *const *const column_names[TAMWIL_IMPORT_NCOLUMNS] = {
    [TAMWIL_IMPORT_PROGRAMME] = names_programme,
    [TAMWIL_IMPORT_REGION] = names_region,
    [TAMWIL_IMPORT_NATIONAL_ID] = names_national_id,
    [TAMWIL_IMPORT_NAME] = names_name,
    [TAMWIL_IMPORT_FIRST_NAME] = names_first_name,
    [TAMWIL_IMPORT_LAST_NAME] = names_last_name,
    [TAMWIL_IMPORT_SEX] = names_sex,
    [TAMWIL_IMPORT_BIRTH_DATE] = names_birth_date,
    [TAMWIL_IMPORT_CATEGORY] = names_category,
    [TAMWIL_IMPORT_SECTOR] = names_sector,
    [TAMWIL_IMPORT_ACTIVITY] = names_activity,
    [TAMWIL_IMPORT_AMOUNT] = names_amount,
    [TAMWIL_IMPORT_CONTRIBUTION] = names_contribution,
    [TAMWIL_IMPORT_FORMULA] = names_formula,
    [TAMWIL_IMPORT_PHONE] = names_phone,
    [TAMWIL_IMPORT_ADDRESS] = names_address,
};

const char *tamwil_import_column_name(enum tamwil_import_column c)
{
	return c < TAMWIL_IMPORT_NCOLUMNS ? column_names[c][0] : "";
}

const char *const *tamwil_import_column_names(enum tamwil_import_column c)
{
	static const char *const none[] = {NULL};

	return c < TAMWIL_IMPORT_NCOLUMNS ? column_names[c] : none;
}

int tamwil_import_column_required(enum tamwil_import_column c)
{
	switch (c) {
	case TAMWIL_IMPORT_PROGRAMME:
	case TAMWIL_IMPORT_NATIONAL_ID:
	case TAMWIL_IMPORT_NAME:
	case TAMWIL_IMPORT_SEX:
	case TAMWIL_IMPORT_BIRTH_DATE:
	case TAMWIL_IMPORT_CATEGORY:
	case TAMWIL_IMPORT_SECTOR:
	case TAMWIL_IMPORT_ACTIVITY:
	case TAMWIL_IMPORT_AMOUNT:
		return 1;
	default:
		return 0;
	}
}

/*
 * Folds a name for comparison into out: ASCII letters lower-cased, the
 * accented letters of French as their base letter, digits kept, the rest
 * (spaces, '-', '_', apostrophes) dropped. Longer names are cut.
 */
static void fold(const char *s, char *out, size_t cap)
{
	static const struct {
		const char *utf8;
		char base;
	} accents[] = {{"à", 'a'}, {"â", 'a'}, {"ç", 'c'}, {"é", 'e'},
		       {"è", 'e'}, {"ê", 'e'}, {"ë", 'e'}, {"î", 'i'},
		       {"ï", 'i'}, {"ô", 'o'}, {"ù", 'u'}, {"û", 'u'},
		       {"É", 'e'}, {"È", 'e'}, {"À", 'a'}, {"Ç", 'c'}};
	size_t n = 0;

	while (*s != '\0' && n + 1 < cap) {
		unsigned char c = (unsigned char)*s;
		size_t i, step = 1;

		if (isalnum(c) && c < 0x80) {
			out[n++] = (char)tolower(c);
		} else if (c >= 0x80) {
			for (i = 0; i < sizeof(accents) / sizeof(accents[0]);
			     i++) {
				size_t l = strlen(accents[i].utf8);

				if (strncmp(s, accents[i].utf8, l) == 0) {
					out[n++] = accents[i].base;
					step = l;
					break;
				}
			}
		}
		s += step;
	}
	out[n] = '\0';
}

/* The column whose name or alias is the header text h, or -1. */
static int column_of(const char *h)
{
	char want[FOLD_MAX], have[FOLD_MAX];

	fold(h, want, sizeof(want));
	for (int c = 0; c < TAMWIL_IMPORT_NCOLUMNS; c++) {
		for (const char *const *n = column_names[c]; *n != NULL; n++) {
			fold(*n, have, sizeof(have));
			if (strcmp(want, have) == 0)
				return c;
		}
	}
	return -1;
}

/* ---- problems ----------------------------------------------------------- */

/* Adds a problem; column is -1 for none. Returns 0 or -1 (memory). */
__attribute__((format(printf, 4, 5))) static int
problem(tamwil_import *im, unsigned long line, int column, const char *fmt, ...)
{
	tamwil_import_problem *p;
	va_list ap;

	if (im->n_probs == im->cap_probs) {
		size_t cap = im->cap_probs ? 2 * im->cap_probs : 16;

		p = realloc(im->probs, cap * sizeof(*p));
		if (p == NULL) {
			im->oom = 1;
			return -1;
		}
		im->probs = p;
		im->cap_probs = cap;
	}
	p = &im->probs[im->n_probs++];
	p->line = line;
	p->column_id = column;
	p->column = column >= 0 ? column_names[column][0] : NULL;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	/* Sentences quote the file's bytes, and may be cut short. */
	text_repair(p->why);
	return 0;
}

/* Orders problems by line, then column (a whole row's first). */
static int problem_cmp(const void *a, const void *b)
{
	const tamwil_import_problem *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->column_id > y->column_id) - (x->column_id < y->column_id);
}

static void problems_sort(tamwil_import *im)
{
	if (im->n_probs > 1)
		qsort(im->probs, im->n_probs, sizeof(*im->probs), problem_cmp);
}

/* ---- records ------------------------------------------------------------ */

/* Frees r's fields, wiped first: they hold identities. */
static void record_free(struct record *r)
{
	for (size_t i = 0; i < r->n; i++) {
		sodium_memzero(r->fields[i], strlen(r->fields[i]));
		free(r->fields[i]);
	}
	free(r->fields);
	r->fields = NULL;
	r->n = 0;
}

/* libcsv's field callback: appends a copy of the field to the record. */
static void on_field(void *s, size_t len, void *data)
{
	tamwil_import *im = data;
	char *copy;

	if (im->oom)
		return;
	if (im->cur.n == im->cap_cur) {
		size_t cap = im->cap_cur ? 2 * im->cap_cur : 16;
		char **f = realloc(im->cur.fields, cap * sizeof(*f));

		if (f == NULL) {
			im->oom = 1;
			return;
		}
		im->cur.fields = f;
		im->cap_cur = cap;
	}
	copy = malloc(len + 1);
	if (copy == NULL) {
		im->oom = 1;
		return;
	}
	if (len > 0)
		memcpy(copy, s, len);
	copy[len] = '\0';
	im->cur.fields[im->cur.n++] = copy;
}

/* libcsv's record callback: keeps the record with the line it began on. */
static void on_record(int term, void *data)
{
	tamwil_import *im = data;

	(void)term;
	im->in_record = 0;
	if (im->oom)
		return;
	if (im->n_recs == im->cap_recs) {
		size_t cap = im->cap_recs ? 2 * im->cap_recs : 64;
		struct record *r = realloc(im->recs, cap * sizeof(*r));

		if (r == NULL) {
			im->oom = 1;
			record_free(&im->cur);
			return;
		}
		im->recs = r;
		im->cap_recs = cap;
	}
	im->cur.line = im->cur_line;
	im->recs[im->n_recs++] = im->cur;
	memset(&im->cur, 0, sizeof(im->cur));
	im->cap_cur = 0;
}

/* Spaces libcsv trims around unquoted fields (never the separator). */
static int is_space(unsigned char c)
{
	return c == ' ';
}

/* 1 if the line [s, s+len) holds nothing but blanks and its end. */
static int blank_line(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/*
 * The length of the physical line at the start of [s, s+len), its end
 * included: LF, CRLF, or a CR alone, which libcsv ends a record at too
 * (the line ends of old spreadsheets).
 */
static size_t line_length(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n' ||
		    (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n')))
			return i + 1;
	return len;
}

/*
 * The separator of the header line starting at s: the one of ';', ','
 * and tab found most often outside quotes (',' when none is).
 */
static unsigned char separator(const char *s, size_t len)
{
	size_t semi = 0, comma = 0, tab = 0;
	int quoted = 0;

	for (size_t i = 0; i < len && (quoted || s[i] != '\n'); i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == ';')
			semi++;
		else if (!quoted && s[i] == ',')
			comma++;
		else if (!quoted && s[i] == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	if (tab > comma)
		return '\t';
	return ',';
}

/*
 * Splits the bytes into records, one physical line at a time so that a
 * record knows its first line. 0, or -1 when the quoting is broken (a
 * problem says where) or memory ran out.
 */
static int split(tamwil_import *im)
{
	struct csv_parser p;
	const char *s = im->bytes;
	size_t len = im->len, i = 0;
	int rc = -1;

	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		len -= 3;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		im->oom = 1;
		return -1;
	}
	csv_set_delim(&p, separator(s, len));
	csv_set_space_func(&p, is_space);
	im->line = 0;
	while (i < len && !im->oom) {
		size_t n = line_length(s + i, len - i);

		im->line++;
		if (!im->in_record && !blank_line(s + i, n)) {
			im->in_record = 1;
			im->cur_line = im->line;
		}
		if (csv_parse(&p, s + i, n, on_field, on_record, im) != n)
			break;
		i += n;
	}
	if (i == len && csv_fini(&p, on_field, on_record, im) == 0 &&
	    !im->oom) {
		rc = 0;
	} else if (!im->oom) {
		problem(im, im->in_record ? im->cur_line : im->line, -1, "%s",
			csv_error(&p) == CSV_EPARSE
			    ? "the quotes do not pair up: a field that holds a "
			      "'\"' must be enclosed in quotes, with each '\"' "
			      "inside doubled, and nothing may follow its "
			      "closing quote"
			    : csv_strerror(csv_error(&p)));
	}
	csv_free(&p);
	record_free(&im->cur);
	return rc;
}

/* ---- the header --------------------------------------------------------- */

/*
 * Maps the header's columns. 0, or -1 with the problem said (line 1):
 * an unknown or repeated column, or a required one missing.
 */
static int read_header(tamwil_import *im, const struct record *h)
{
	char list[TAMWIL_IMPORT_WHY_MAX / 2];
	size_t used = 0;

	for (int c = 0; c < TAMWIL_IMPORT_NCOLUMNS; c++)
		im->col[c] = -1;
	im->n_cols = h->n;
	for (size_t i = 0; i < h->n; i++) {
		int c = column_of(h->fields[i]);

		if (h->fields[i][0] == '\0')
			continue; /* an unnamed column is read as nothing */
		if (c < 0)
			return problem(im, h->line, -1,
				       "the header has an unknown column "
				       "'%.60s' (see docs/IMPORT.md for the "
				       "names)",
				       h->fields[i]),
			       -1;
		if (im->col[c] >= 0)
			return problem(im, h->line, c,
				       "the header names this column twice "
				       "(columns %ld and %zu)",
				       im->col[c] + 1, i + 1),
			       -1;
		im->col[c] = (long)i;
	}
	if (im->col[TAMWIL_IMPORT_NAME] >= 0 &&
	    (im->col[TAMWIL_IMPORT_FIRST_NAME] >= 0 ||
	     im->col[TAMWIL_IMPORT_LAST_NAME] >= 0))
		return problem(im, h->line, TAMWIL_IMPORT_NAME,
			       "give either the column name, or first_name "
			       "and last_name, not both"),
		       -1;
	list[0] = '\0';
	for (int c = 0; c < TAMWIL_IMPORT_NCOLUMNS; c++) {
		int missing =
		    tamwil_import_column_required(c) && im->col[c] < 0;

		if (c == TAMWIL_IMPORT_NAME)
			missing = im->col[c] < 0 &&
				  (im->col[TAMWIL_IMPORT_FIRST_NAME] < 0 ||
				   im->col[TAMWIL_IMPORT_LAST_NAME] < 0);
		if (missing && used < sizeof(list))
			used += (size_t)snprintf(
			    list + used, sizeof(list) - used, "%s%s",
			    used ? ", " : "",
			    c == TAMWIL_IMPORT_NAME
				? "name (or first_name and last_name)"
				: column_names[c][0]);
	}
	if (used > 0)
		return problem(im, h->line, -1,
			       "the header lacks the required column%s %s",
			       strchr(list, ',') != NULL ? "s" : "", list),
		       -1;
	return 0;
}

/* ---- rows --------------------------------------------------------------- */

/* Keeps a text made for a row; returns it, or NULL (memory). */
static const char *keep(tamwil_import *im, const char *s)
{
	char *copy;

	if (im->n_texts == im->cap_texts) {
		size_t cap = im->cap_texts ? 2 * im->cap_texts : 64;
		char **t = realloc(im->texts, cap * sizeof(*t));

		if (t == NULL)
			return NULL;
		im->texts = t;
		im->cap_texts = cap;
	}
	copy = strdup(s);
	if (copy != NULL)
		im->texts[im->n_texts++] = copy;
	return copy;
}

/*
 * Cuts the blanks around s in place, and makes each line break inside it
 * (a cell of several lines) one space: head office keeps one-line texts.
 * Returns s.
 */
static char *trim(char *s)
{
	size_t n = 0, i = 0;

	for (size_t j = 0; s[j] != '\0'; j++) {
		char c = s[j];

		if (c == '\r' && s[j + 1] == '\n')
			continue;
		if (c == '\r' || c == '\n')
			c = ' ';
		s[n++] = c;
	}
	s[n] = '\0';
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (i > 0)
		memmove(s, s + i, n - i + 1);
	return s;
}

/* What check_row() works on: a record, the row it fills, the import. */
struct row_ctx {
	tamwil_import *im;
	const struct record *rec;
	tamwil_import_row *row;
	int bad;
};

/* The trimmed field of column c, or "" when the file has no such column. */
static const char *field(const struct row_ctx *x, int c)
{
	long i = x->im->col[c];

	return i >= 0 && (size_t)i < x->rec->n ? x->rec->fields[i] : "";
}

/* Records a problem with column c of the row. */
__attribute__((format(printf, 3, 4))) static void bad(struct row_ctx *x, int c,
						      const char *fmt, ...)
{
	char why[TAMWIL_IMPORT_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	x->bad = 1;
	problem(x->im, x->rec->line, c, "%s", why);
}

/*
 * A text of column c: required or not, at most max bytes of UTF-8
 * without control characters, not the empty text when required. Returns
 * the text (maybe ""), or NULL when it is bad (a problem said why).
 */
static const char *text_of(struct row_ctx *x, int c, int required, size_t max)
{
	const char *v = field(x, c);
	size_t len = strlen(v);

	if (required && len == 0) {
		bad(x, c, "empty, and this column is required");
		return NULL;
	}
	if (len > max) {
		bad(x, c, "too long: %zu bytes where at most %zu are kept", len,
		    max);
		return NULL;
	}
	if (!text_valid(v, len)) {
		bad(x, c,
		    "not valid UTF-8, or it holds control characters: "
		    "save the file as \"CSV UTF-8\"");
		return NULL;
	}
	return v;
}

/*
 * Reads a date written YYYY-MM-DD or DD/MM/YYYY (a day or month of one
 * digit too) into out as YYYY-MM-DD. Returns 0, or -1 when it is neither.
 */
static int read_date(const char *v, char out[DATE_MAX], int *year)
{
	unsigned d, m, y;
	int n = 0;

	if (strlen(v) == 10 && v[4] == '-' && v[7] == '-') {
		memcpy(out, v, DATE_MAX);
	} else if (sscanf(v, "%2u/%2u/%4u%n", &d, &m, &y, &n) == 3 &&
		   (size_t)n == strlen(v) && isdigit((unsigned char)v[0]) &&
		   y >= 1000) {
		if (d > 31 || m > 12 || y > 9999)
			return -1;
		snprintf(out, DATE_MAX, "%04u-%02u-%02u", y % 10000u, m % 100u,
			 d % 100u);
	} else {
		return -1;
	}
	return text_valid_date(out, year) ? 0 : -1;
}

/* Sex: F or M, and the French words. 0 when it is neither. */
static int read_sex(const char *v)
{
	char f[FOLD_MAX];

	fold(v, f, sizeof(f));
	if (strcmp(f, "f") == 0 || strcmp(f, "femme") == 0 ||
	    strcmp(f, "female") == 0)
		return TAMWIL__V1__SEX__SEX_FEMALE;
	if (strcmp(f, "m") == 0 || strcmp(f, "h") == 0 ||
	    strcmp(f, "homme") == 0 || strcmp(f, "male") == 0)
		return TAMWIL__V1__SEX__SEX_MALE;
	return 0;
}

/* A category by its name, or its French name. 0 when unknown. */
static int read_category(const char *v)
{
	static const struct {
		const char *name;
		int value;
	} french[] = {
	    {"ancien_detenu", TAMWIL__V1__CATEGORY__CATEGORY_FORMER_DETAINEE},
	    {"femme_rurale", TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN},
	    {"femme_au_foyer", TAMWIL__V1__CATEGORY__CATEGORY_WOMAN_AT_HOME},
	    {"jeune", TAMWIL__V1__CATEGORY__CATEGORY_YOUTH},
	    {"personne_handicapee",
	     TAMWIL__V1__CATEGORY__CATEGORY_PERSON_WITH_DISABILITY},
	    {"autre", TAMWIL__V1__CATEGORY__CATEGORY_OTHER}};
	char want[FOLD_MAX], have[FOLD_MAX];
	int c =
	    argparse_enum(&tamwil__v1__category__descriptor, "CATEGORY_", v);

	if (c != 0)
		return c;
	fold(v, want, sizeof(want));
	for (size_t i = 0; i < sizeof(french) / sizeof(french[0]); i++) {
		fold(french[i].name, have, sizeof(have));
		if (strcmp(want, have) == 0)
			return french[i].value;
	}
	return 0;
}

/* Reads the names: one "FIRST LAST" column, or the two. */
static void check_names(struct row_ctx *x)
{
	tamwil_import_row *r = x->row;
	char first[PERSON_NAME_MAX + 1], last[PERSON_NAME_MAX + 1],
	    why[ARGPARSE_WHY_MAX];
	const char *full;

	if (x->im->col[TAMWIL_IMPORT_NAME] < 0) {
		r->first_name =
		    text_of(x, TAMWIL_IMPORT_FIRST_NAME, 1, PERSON_NAME_MAX);
		r->last_name =
		    text_of(x, TAMWIL_IMPORT_LAST_NAME, 1, PERSON_NAME_MAX);
		return;
	}
	full = text_of(x, TAMWIL_IMPORT_NAME, 1, 2 * PERSON_NAME_MAX);
	if (full == NULL)
		return;
	if (strchr(full, ' ') == NULL) {
		bad(x, TAMWIL_IMPORT_NAME,
		    "'%s' is one word: write the first and last names "
		    "(\"Khadija Alaoui\"), or use the columns first_name and "
		    "last_name",
		    full);
		return;
	}
	if (argparse_name(full, first, sizeof(first), last, sizeof(last), why,
			  sizeof(why)) != 0) {
		bad(x, TAMWIL_IMPORT_NAME, "%s", why);
		return;
	}
	r->first_name = keep(x->im, first);
	r->last_name = keep(x->im, last);
	if (r->first_name == NULL || r->last_name == NULL)
		x->im->oom = 1;
}

/* Reads the sex, birth date and category. */
static void check_person(struct row_ctx *x)
{
	tamwil_import_row *r = x->row;
	char date[DATE_MAX], list[ARGPARSE_WHY_MAX];
	const char *v;

	if ((v = text_of(x, TAMWIL_IMPORT_SEX, 1, CODE_MAX)) != NULL &&
	    (r->sex = read_sex(v)) == 0)
		bad(x, TAMWIL_IMPORT_SEX, "'%s' is not F or M", v);
	if ((v = text_of(x, TAMWIL_IMPORT_BIRTH_DATE, 1, CODE_MAX)) != NULL) {
		if (read_date(v, date, &r->birth_year) != 0)
			bad(x, TAMWIL_IMPORT_BIRTH_DATE,
			    "%s is not a date (write YYYY-MM-DD or "
			    "DD/MM/YYYY)",
			    v);
		else if ((r->birth_date = keep(x->im, date)) == NULL)
			x->im->oom = 1;
	}
	if ((v = text_of(x, TAMWIL_IMPORT_CATEGORY, 1, CODE_MAX)) != NULL &&
	    (r->category = read_category(v)) == 0)
		bad(x, TAMWIL_IMPORT_CATEGORY, "'%s' is not a category: %s", v,
		    argparse_enum_list(&tamwil__v1__category__descriptor,
				       "CATEGORY_", list, sizeof(list)));
}

/* Reads an amount of column c; empty is zero when zero_ok. */
static void check_amount(struct row_ctx *x, int c, int zero_ok, int64_t *minor)
{
	char why[ARGPARSE_WHY_MAX];
	const char *v = text_of(x, c, !zero_ok, CODE_MAX);

	if (v == NULL)
		return;
	if (v[0] == '\0') {
		*minor = 0;
		return;
	}
	if (argparse_amount(v, zero_ok, minor, why, sizeof(why)) != 0)
		bad(x, c, "%s", why);
}

/* Reads and checks the record rec into row. */
static void check_row(tamwil_import *im, const struct record *rec,
		      tamwil_import_row *row)
{
	struct row_ctx x = {im, rec, row, 0};

	row->line = rec->line;
	if (rec->n != im->n_cols) {
		problem(im, rec->line, -1,
			"%zu fields where the header has %zu columns (a "
			"separator too many or too few?)",
			rec->n, im->n_cols);
		return;
	}
	for (size_t i = 0; i < rec->n; i++)
		trim(rec->fields[i]);
	row->programme = text_of(&x, TAMWIL_IMPORT_PROGRAMME, 1, CODE_MAX);
	row->region = text_of(&x, TAMWIL_IMPORT_REGION, 0, CODE_MAX);
	row->national_id = text_of(&x, TAMWIL_IMPORT_NATIONAL_ID, 1, ID_MAX);
	check_names(&x);
	check_person(&x);
	row->sector = text_of(&x, TAMWIL_IMPORT_SECTOR, 1, SECTOR_MAX);
	row->activity = text_of(&x, TAMWIL_IMPORT_ACTIVITY, 1, ACTIVITY_MAX);
	check_amount(&x, TAMWIL_IMPORT_AMOUNT, 0, &row->amount);
	check_amount(&x, TAMWIL_IMPORT_CONTRIBUTION, 1, &row->contribution);
	row->formula = text_of(&x, TAMWIL_IMPORT_FORMULA, 0, FORMULA_MAX);
	row->phone = text_of(&x, TAMWIL_IMPORT_PHONE, 0, PHONE_MAX);
	row->address = text_of(&x, TAMWIL_IMPORT_ADDRESS, 0, PERSON_NAME_MAX);
	row->ok = !x.bad;
}

/* 1 if every field of rec is empty once trimmed (a spreadsheet's ";;;"). */
static int empty_record(const struct record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		if (trim(rec->fields[i])[0] != '\0')
			return 0;
	return 1;
}

/* ---- duplicates --------------------------------------------------------- */

/* A row's programme and national ID as head office compares them. */
struct dup_key {
	char *key; /* "PROGRAMME\x1fID", the ID without spaces or '-', upper */
	size_t row;
};

static int dup_cmp(const void *a, const void *b)
{
	const struct dup_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return (x->row > y->row) - (x->row < y->row);
}

/* The key of row r into a fresh string, or NULL (memory). */
static char *dup_key_of(const tamwil_import_row *r)
{
	size_t pl = strlen(r->programme), il = strlen(r->national_id), n;
	char *k = malloc(pl + il + 2);

	if (k == NULL)
		return NULL;
	memcpy(k, r->programme, pl);
	k[pl] = '\x1f';
	n = pl + 1;
	for (size_t i = 0; i < il; i++) {
		unsigned char c = (unsigned char)r->national_id[i];

		if (c != ' ' && c != '-')
			k[n++] = (char)(c < 0x80 ? toupper(c) : c);
	}
	k[n] = '\0';
	return k;
}

/*
 * Finds the rows whose national ID an earlier row has for the same
 * programme; each such row is a problem. 0, or -1 (memory).
 */
static int find_duplicates(tamwil_import *im)
{
	struct dup_key *keys = calloc(im->n_rows + 1, sizeof(*keys));
	size_t n = 0, i;
	int rc = -1;

	if (keys == NULL)
		return -1;
	for (i = 0; i < im->n_rows; i++) {
		const tamwil_import_row *r = &im->rows[i];

		if (r->programme == NULL || r->national_id == NULL)
			continue;
		if ((keys[n].key = dup_key_of(r)) == NULL)
			goto out;
		keys[n++].row = i;
	}
	qsort(keys, n, sizeof(*keys), dup_cmp);
	for (i = 1; i < n; i++) {
		size_t first = i - 1;

		while (first > 0 &&
		       strcmp(keys[first - 1].key, keys[i].key) == 0)
			first--;
		if (strcmp(keys[first].key, keys[i].key) != 0)
			continue;
		im->rows[keys[i].row].ok = 0;
		if (problem(im, im->rows[keys[i].row].line,
			    TAMWIL_IMPORT_NATIONAL_ID,
			    "%s is already on line %lu for programme %s",
			    im->rows[keys[i].row].national_id,
			    im->rows[keys[first].row].line,
			    im->rows[keys[i].row].programme) != 0)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(keys[i].key);
	free(keys);
	return rc;
}

/* ---- the import --------------------------------------------------------- */

tamwil_import *tamwil_import_new(void)
{
	return calloc(1, sizeof(tamwil_import));
}

void tamwil_import_free(tamwil_import *im)
{
	if (im == NULL)
		return;
	for (size_t i = 0; i < im->n_recs; i++)
		record_free(&im->recs[i]);
	record_free(&im->cur);
	for (size_t i = 0; i < im->n_texts; i++) {
		sodium_memzero(im->texts[i], strlen(im->texts[i]));
		free(im->texts[i]);
	}
	free(im->texts);
	free(im->recs);
	free(im->rows);
	free(im->probs);
	if (im->bytes != NULL)
		sodium_memzero(im->bytes, im->cap);
	free(im->bytes);
	free(im);
}

int tamwil_import_feed(tamwil_import *im, const void *data, size_t len)
{
	if (im->full)
		return -1;
	if (len > IMPORT_FILE_MAX - im->len) {
		im->full = 1;
		problem(im, 0, -1, "the file is larger than %u MiB",
			IMPORT_FILE_MAX >> 20);
		return -1;
	}
	if (im->len + len > im->cap) {
		size_t cap = im->cap ? im->cap : 65536;
		char *b;

		while (cap < im->len + len)
			cap *= 2;
		b = realloc(im->bytes, cap);
		if (b == NULL)
			return -1;
		im->bytes = b;
		im->cap = cap;
	}
	if (len > 0)
		memcpy(im->bytes + im->len, data, len);
	im->len += len;
	return 0;
}

/* Reads the rows below the header; 0, or -1 (memory). */
static int check_rows(tamwil_import *im)
{
	size_t n = 0;

	im->rows = calloc(im->n_recs, sizeof(*im->rows));
	if (im->rows == NULL)
		return -1;
	for (size_t i = 1; i < im->n_recs && !im->oom; i++) {
		if (empty_record(&im->recs[i]))
			continue;
		if (n == TAMWIL_IMPORT_ROWS_MAX) {
			problem(im, im->recs[i].line, -1,
				"more than %u rows: split the file",
				TAMWIL_IMPORT_ROWS_MAX);
			break;
		}
		check_row(im, &im->recs[i], &im->rows[n++]);
	}
	im->n_rows = n;
	return im->oom ? -1 : 0;
}

int tamwil_import_finish(tamwil_import *im)
{
	int rc = -1;

	if (im->full)
		goto out;
	if (split(im) != 0) {
		if (im->oom)
			return -1;
		goto out; /* broken quoting: said, and no rows */
	}
	if (im->n_recs == 0) {
		problem(im, 0, -1,
			"the file is empty: it needs a header line naming "
			"the columns, then one line per application");
		goto out;
	}
	if (read_header(im, &im->recs[0]) != 0)
		goto out;
	if (check_rows(im) != 0 || find_duplicates(im) != 0)
		return -1;
	if (im->n_rows == 0)
		problem(im, 0, -1, "the file has a header but no rows");
out:
	rc = im->oom ? -1 : 0;
	problems_sort(im);
	return rc;
}

int tamwil_import_read_file(tamwil_import *im, const char *path, int *error)
{
	char buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = -1;

	*error = 0;
	if (f == NULL) {
		*error = errno;
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (tamwil_import_feed(im, buf, n) != 0 && !im->full)
			goto out;
	if (ferror(f)) {
		*error = errno != 0 ? errno : EIO;
		goto out;
	}
	rc = tamwil_import_finish(im);
out:
	fclose(f);
	return rc;
}

size_t tamwil_import_rows(const tamwil_import *im)
{
	return im->n_rows;
}

const tamwil_import_row *tamwil_import_row_at(const tamwil_import *im, size_t i)
{
	return i < im->n_rows ? &im->rows[i] : NULL;
}

size_t tamwil_import_problems(const tamwil_import *im)
{
	return im->n_probs;
}

const tamwil_import_problem *tamwil_import_problem_at(const tamwil_import *im,
						      size_t i)
{
	return i < im->n_probs ? &im->probs[i] : NULL;
}

int tamwil_import_reject(tamwil_import *im, size_t i,
			 enum tamwil_import_column column, const char *why)
{
	if (i >= im->n_rows)
		return -1;
	im->rows[i].ok = 0;
	if (problem(im, im->rows[i].line, (int)column, "%s", why) != 0)
		return -1;
	problems_sort(im);
	return 0;
}

void tamwil_import_fill(const tamwil_import_row *r, Tamwil__V1__Identity *id,
			Tamwil__V1__SubmitApplication *body,
			Tamwil__V1__Money *requested,
			Tamwil__V1__Money *contribution)
{
	id->national_id = (char *)r->national_id;
	id->first_name = (char *)r->first_name;
	id->last_name = (char *)r->last_name;
	id->birth_date = (char *)r->birth_date;
	id->phone = (char *)(r->phone != NULL ? r->phone : "");
	id->address = (char *)(r->address != NULL ? r->address : "");
	requested->minor = r->amount;
	contribution->minor = r->contribution;
	body->programme = (char *)r->programme;
	body->region = (char *)(r->region != NULL ? r->region : "");
	body->sex = (Tamwil__V1__Sex)r->sex;
	body->birth_year = (uint32_t)r->birth_year;
	body->category = (Tamwil__V1__Category)r->category;
	body->sector = (char *)r->sector;
	body->activity = (char *)r->activity;
	body->amount_requested = requested;
	body->own_contribution = contribution;
	body->financing_formula =
	    (char *)(r->formula != NULL ? r->formula : "");
}
