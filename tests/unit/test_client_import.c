/*
 * Unit tests of the import reader (tamwil-import.h): byte order marks,
 * separators, quoting, line ends, French amounts, Arabic names, every
 * kind of bad value with its line and column, duplicates, and files
 * without rows or without a usable header.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tamwil-import.h"

#define HEADER_SEMI                                                            \
	"programme;region;national_id;name;sex;birth_date;category;sector;"    \
	"activity;amount;contribution\r\n"
#define HEADER_COMMA                                                           \
	"programme,region,national_id,name,sex,birth_date,category,sector,"    \
	"activity,amount,contribution\n"
#define BOM "\xEF\xBB\xBF"
/* خديجة العلوي */
#define AR_FIRST "\xd8\xae\xd8\xaf\xd9\x8a\xd8\xac\xd8\xa9"
#define AR_LAST	 "\xd8\xa7\xd9\x84\xd8\xb9\xd9\x84\xd9\x88\xd9\x8a"

/* Reads text, fed in pieces of step bytes (0: at once). */
static tamwil_import *read_text(const char *text, size_t step)
{
	tamwil_import *im = tamwil_import_new();
	size_t len = strlen(text);

	assert_non_null(im);
	if (step == 0)
		step = len > 0 ? len : 1;
	for (size_t i = 0; i < len; i += step)
		assert_int_equal(
		    tamwil_import_feed(im, text + i,
				       len - i < step ? len - i : step),
		    0);
	assert_int_equal(tamwil_import_finish(im), 0);
	return im;
}

/* Asserts a problem on line with column (NULL: none) whose text has part. */
static void expect_problem(const tamwil_import *im, unsigned long line,
			   const char *column, const char *part)
{
	for (size_t i = 0; i < tamwil_import_problems(im); i++) {
		const tamwil_import_problem *p =
		    tamwil_import_problem_at(im, i);

		if (p->line != line || strstr(p->why, part) == NULL)
			continue;
		if (column == NULL
			? p->column == NULL
			: p->column != NULL && strcmp(p->column, column) == 0)
			return;
	}
	for (size_t i = 0; i < tamwil_import_problems(im); i++) {
		const tamwil_import_problem *p =
		    tamwil_import_problem_at(im, i);

		fprintf(stderr, "  line %lu: %s: %s\n", p->line,
			p->column ? p->column : "-", p->why);
	}
	fail_msg("no problem on line %lu, column %s, saying '%s'", line,
		 column ? column : "(none)", part);
}

static void test_bom_semicolons_crlf_arabic(void **state)
{
	static const char text[] = BOM HEADER_SEMI
	    "INDH;LAG;JB123456;Khadija Alaoui;F;21/03/1988;rural_woman;"
	    "crafts;\"Tissage; tapis \"\"berbères\"\"\";\"35 000,00\";0\r\n"
	    "INDH;;AB99;" AR_FIRST " " AR_LAST ";f;1990-01-02;femme_rurale;"
	    "commerce;\xd8\xae\xd9\x8a\xd8\xa7\xd8\xb7\xd8\xa9;35000,5;\r\n";
	tamwil_import *im;
	const tamwil_import_row *r;

	(void)state;
	for (size_t step = 0; step < 8; step += 7) {
		im = read_text(text, step);
		assert_int_equal(tamwil_import_problems(im), 0);
		assert_int_equal(tamwil_import_rows(im), 2);
		r = tamwil_import_row_at(im, 0);
		assert_true(r->ok);
		assert_int_equal(r->line, 2);
		assert_string_equal(r->programme, "INDH");
		assert_string_equal(r->region, "LAG");
		assert_string_equal(r->national_id, "JB123456");
		assert_string_equal(r->first_name, "Khadija");
		assert_string_equal(r->last_name, "Alaoui");
		assert_int_equal(r->sex, TAMWIL__V1__SEX__SEX_FEMALE);
		assert_string_equal(r->birth_date, "1988-03-21");
		assert_int_equal(r->birth_year, 1988);
		assert_int_equal(r->category,
				 TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN);
		assert_string_equal(r->activity, "Tissage; tapis \"berbères\"");
		assert_int_equal(r->amount, 3500000);
		assert_int_equal(r->contribution, 0);
		r = tamwil_import_row_at(im, 1);
		assert_true(r->ok);
		assert_int_equal(r->line, 3);
		assert_string_equal(r->region, "");
		assert_string_equal(r->first_name, AR_FIRST);
		assert_string_equal(r->last_name, AR_LAST);
		assert_int_equal(r->category,
				 TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN);
		assert_int_equal(r->amount, 3500050);
		tamwil_import_free(im);
	}
}

static void test_commas_no_bom_french_names(void **state)
{
	static const char text[] =
	    "Programme,CIN,Prénom,Nom,Sexe,Date de naissance,Catégorie,"
	    "Secteur,Activité,Montant demandé,Apport,Formule,Téléphone,"
	    "Adresse\n"
	    "INDH,JB1,Fatima Zahra,Ait Benhaddou,femme,05/07/1995,jeune,"
	    "services,Salon,\"35000,50\",\"1 500,00\",crédit,0600000000,"
	    "\"Douar X, Tiznit\"\n"
	    "INDH,JB2,Omar,Tazi,H,1980-12-31,ancien_detenu,industry,Atelier,"
	    "35000.50,,,,\n";
	tamwil_import *im = read_text(text, 0);
	const tamwil_import_row *r;

	(void)state;
	assert_int_equal(tamwil_import_problems(im), 0);
	assert_int_equal(tamwil_import_rows(im), 2);
	r = tamwil_import_row_at(im, 0);
	assert_string_equal(r->first_name, "Fatima Zahra");
	assert_string_equal(r->last_name, "Ait Benhaddou");
	assert_int_equal(r->category, TAMWIL__V1__CATEGORY__CATEGORY_YOUTH);
	assert_string_equal(r->birth_date, "1995-07-05");
	assert_int_equal(r->amount, 3500050);
	assert_int_equal(r->contribution, 150000);
	assert_string_equal(r->formula, "crédit");
	assert_string_equal(r->phone, "0600000000");
	assert_string_equal(r->address, "Douar X, Tiznit");
	r = tamwil_import_row_at(im, 1);
	assert_int_equal(r->sex, TAMWIL__V1__SEX__SEX_MALE);
	assert_int_equal(r->category,
			 TAMWIL__V1__CATEGORY__CATEGORY_FORMER_DETAINEE);
	assert_int_equal(r->amount, 3500050);
	assert_string_equal(r->region, "");
	assert_string_equal(r->address, "");
	tamwil_import_free(im);
}

/* A cell of several lines is one row; its line breaks become spaces. */
static void test_multiline_and_blank_lines(void **state)
{
	static const char text[] = HEADER_COMMA
	    "\n"
	    "INDH,LAG,A1,Ali Ben,M,1990-01-01,youth,commerce,\"Épicerie\r\n"
	    "et\nlivraison\",1000,\n"
	    ",,,,,,,,,,\n"
	    "\n"
	    "INDH,LAG,A2,Sara Ben,F,1990-02-30,youth,commerce,x,1000,\n";
	tamwil_import *im = read_text(text, 0);

	(void)state;
	assert_int_equal(tamwil_import_rows(im), 2);
	assert_int_equal(tamwil_import_row_at(im, 0)->line, 3);
	assert_string_equal(tamwil_import_row_at(im, 0)->activity,
			    "Épicerie et livraison");
	assert_int_equal(tamwil_import_row_at(im, 1)->line, 8);
	expect_problem(im, 8, "birth_date", "1990-02-30 is not a date");
	assert_int_equal(tamwil_import_problems(im), 1);
	tamwil_import_free(im);
}

/* Old spreadsheets end lines with a CR alone: each is still a line. */
static void test_cr_line_ends(void **state)
{
	static const char text[] =
	    "programme;region;national_id;name;sex;birth_date;category;"
	    "sector;activity;amount;contribution\r"
	    "INDH;LAG;D1;Ali Ben;M;1990-01-01;youth;commerce;\"a\rb\";1000;\r"
	    "\r"
	    "INDH;LAG;D2;Sara Ben;F;1990-02-30;youth;commerce;x;1000;\r";
	tamwil_import *im = read_text(text, 0);

	(void)state;
	assert_int_equal(tamwil_import_rows(im), 2);
	assert_int_equal(tamwil_import_row_at(im, 0)->line, 2);
	assert_string_equal(tamwil_import_row_at(im, 0)->activity, "a b");
	assert_int_equal(tamwil_import_row_at(im, 1)->line, 5);
	expect_problem(im, 5, "birth_date", "1990-02-30 is not a date");
	assert_int_equal(tamwil_import_problems(im), 1);
	tamwil_import_free(im);
}

static void test_every_bad_value(void **state)
{
	static const char text[] = HEADER_SEMI
	    ";LAG;B1;Ali Ben;M;1990-01-01;youth;commerce;x;1000;\n"	/* 2 */
	    "INDH;LAG;;Ali Ben;M;1990-01-01;youth;commerce;x;1000;\n"	/* 3 */
	    "INDH;LAG;B3;Ali;M;1990-01-01;youth;commerce;x;1000;\n"	/* 4 */
	    "INDH;LAG;B4;Ali Ben;X;1990-01-01;youth;commerce;x;1000;\n" /* 5 */
	    "INDH;LAG;B5;Ali Ben;M;31/02/1990;youth;commerce;x;1000;\n" /* 6 */
	    "INDH;LAG;B6;Ali Ben;M;1990-01-01;pilot;commerce;x;1000;\n" /* 7 */
	    "INDH;LAG;B7;Ali Ben;M;1990-01-01;youth;;x;1000;\n"		/* 8 */
	    "INDH;LAG;B8;Ali Ben;M;1990-01-01;youth;commerce;;1000;\n"	/* 9 */
	    "INDH;LAG;B9;Ali Ben;M;1990-01-01;youth;commerce;x;abc;\n"	/* 10 */
	    "INDH;LAG;C1;Ali Ben;M;1990-01-01;youth;commerce;x;0;\n"	/* 11 */
	    "INDH;LAG;C2;Ali Ben;M;1990-01-01;youth;commerce;x;12,345;\n"
	    "INDH;LAG;C3;Ali Ben;M;1990-01-01;youth;commerce;x;1000;-5\n"
	    "INDH;LAG;C4;Ali Ben;M;1990-01-01;youth;commerce;x;1000\n" /* 14 */
	    "INDH;LAG;C5;Ali Ben;M;1990-01-01;youth;commerce;x\x01y;1000;\n"
	    "INDH;LAG;C6;Ali Ben;M;1990-01-01;youth;commerce;\xff;1000;\n"
	    "INDH;LAG;C7;Ali Ben;M;;youth;commerce;x;1.234.5;\n" /* 17 */
	    "INDH;LAG;C8;Ali Ben;M;1990-01-01;youth;commerce;x;1000;\n";
	tamwil_import *im = read_text(text, 0);

	(void)state;
	assert_int_equal(tamwil_import_rows(im), 17);
	expect_problem(im, 2, "programme", "empty");
	expect_problem(im, 3, "national_id", "empty");
	expect_problem(im, 4, "name",
		       "'Ali' is one word: write the first and last names");
	expect_problem(im, 5, "sex", "'X' is not F or M");
	expect_problem(im, 6, "birth_date", "31/02/1990 is not a date");
	expect_problem(im, 7, "category", "'pilot' is not a category");
	expect_problem(im, 8, "sector", "empty");
	expect_problem(im, 9, "activity", "empty");
	expect_problem(im, 10, "amount", "abc");
	expect_problem(im, 11, "amount", "");
	expect_problem(im, 12, "amount", "ambiguous");
	expect_problem(im, 13, "contribution", "");
	expect_problem(im, 14, NULL, "10 fields where the header has 11");
	expect_problem(im, 15, "activity", "control characters");
	expect_problem(im, 16, "activity", "not valid UTF-8");
	expect_problem(im, 17, "birth_date", "empty");
	expect_problem(im, 17, "amount", "\"1.234.5\": not an amount");
	/* The bad rows are the lines above, and only they. */
	for (size_t i = 0; i < tamwil_import_rows(im); i++)
		assert_int_equal(tamwil_import_row_at(im, i)->ok,
				 tamwil_import_row_at(im, i)->line == 18);
	assert_int_equal(tamwil_import_problems(im), 17);
	tamwil_import_free(im);
}

static void test_duplicates(void **state)
{
	static const char text[] = HEADER_COMMA
	    "INDH,LAG,JB 123-456,Ali Ben,M,1990-01-01,youth,commerce,x,1000,\n"
	    "INDH,LAG,AA1,Ali Ben,M,1990-01-01,youth,commerce,x,1000,\n"
	    "FEMMES,LAG,jb123456,Ali Ben,M,1990-01-01,youth,commerce,x,1000,\n"
	    "INDH,TTA,jb123456,Ali Ben,M,1990-01-01,youth,commerce,x,1000,\n"
	    "INDH,LAG,JB123456,Ali Ben,M,1990-13-01,youth,commerce,x,1000,\n";
	tamwil_import *im = read_text(text, 0);

	(void)state;
	assert_true(tamwil_import_row_at(im, 0)->ok);
	assert_true(tamwil_import_row_at(im, 1)->ok);
	/* Another programme may have the same beneficiary. */
	assert_true(tamwil_import_row_at(im, 2)->ok);
	assert_false(tamwil_import_row_at(im, 3)->ok);
	expect_problem(im, 5, "national_id",
		       "jb123456 is already on line 2 for programme INDH");
	expect_problem(im, 6, "national_id", "already on line 2");
	expect_problem(im, 6, "birth_date", "not a date");
	assert_int_equal(tamwil_import_problems(im), 3);
	tamwil_import_free(im);
}

static void test_empty_files(void **state)
{
	static const char *const empties[] = {"", BOM, "\n\r\n", BOM "\r\n"};
	tamwil_import *im;

	(void)state;
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		im = read_text(empties[i], 0);
		assert_int_equal(tamwil_import_rows(im), 0);
		assert_int_equal(tamwil_import_problems(im), 1);
		expect_problem(im, 0, NULL, "the file is empty");
		tamwil_import_free(im);
	}
	im = read_text(HEADER_SEMI "\r\n;;;;;;;;;;\r\n", 0);
	assert_int_equal(tamwil_import_rows(im), 0);
	expect_problem(im, 0, NULL, "a header but no rows");
	tamwil_import_free(im);
}

static void test_bad_headers(void **state)
{
	tamwil_import *im;

	(void)state;
	im = read_text("programme;national_id;name;sex;category;sector;"
		       "activity;amount\n"
		       "INDH;A1;Ali Ben;M;youth;commerce;x;1000\n",
		       0);
	assert_int_equal(tamwil_import_rows(im), 0);
	expect_problem(im, 1, NULL, "lacks the required column birth_date");
	tamwil_import_free(im);

	im = read_text("programme;national_id;first_name;sex;category\n", 0);
	expect_problem(im, 1, NULL,
		       "lacks the required columns name (or first_name and "
		       "last_name), birth_date, sector, activity, amount");
	tamwil_import_free(im);

	im = read_text("programme;montant;Amount\n", 0);
	expect_problem(im, 1, "amount", "names this column twice");
	tamwil_import_free(im);

	im = read_text("programme;nationality\n", 0);
	expect_problem(im, 1, NULL, "unknown column 'nationality'");
	tamwil_import_free(im);

	/* What the file says is quoted as text: bad bytes become '?'. */
	im = read_text("programme;nati\xffon\x1b[2J\n", 0);
	expect_problem(im, 1, NULL, "unknown column 'nati?on?[2J'");
	tamwil_import_free(im);
}

static void test_long_field(void **state)
{
	size_t n = 100000, cap = n + 512, used;
	char *text = malloc(cap);
	tamwil_import *im;

	(void)state;
	assert_non_null(text);
	used = (size_t)snprintf(text, cap, "%s%s", HEADER_SEMI,
				"INDH;LAG;A1;Ali Ben;M;1990-01-01;youth;"
				"commerce;\"");
	memset(text + used, 'a', n);
	snprintf(text + used + n, cap - used - n, "%s",
		 "\";1000;\nINDH;LAG;A2;Sara Ben;F;1990-01-01;youth;commerce;"
		 "x;1000;\n");
	im = read_text(text, 4096);
	assert_int_equal(tamwil_import_rows(im), 2);
	expect_problem(im, 2, "activity", "too long: 100000 bytes");
	assert_true(tamwil_import_row_at(im, 1)->ok);
	assert_int_equal(tamwil_import_row_at(im, 1)->line, 3);
	tamwil_import_free(im);
	free(text);
}

static void test_broken_quotes(void **state)
{
	tamwil_import *im = read_text(
	    HEADER_COMMA
	    "INDH,LAG,A1,Ali Ben,M,1990-01-01,youth,commerce,x,1000,\n"
	    "INDH,LAG,A2,Ali Ben,M,1990-01-01,youth,commerce,\"x\"y,1000,\n",
	    0);

	(void)state;
	assert_int_equal(tamwil_import_rows(im), 0);
	expect_problem(im, 3, NULL, "the quotes do not pair up");
	tamwil_import_free(im);
	im = read_text(HEADER_COMMA "INDH,LAG,A1,\"Ali Ben\n", 0);
	expect_problem(im, 2, NULL, "the quotes do not pair up");
	tamwil_import_free(im);
}

static void test_reject_and_fill(void **state)
{
	tamwil_import *im = read_text(
	    HEADER_COMMA
	    "INDH,,A1,Ali Ben,M,1990-01-01,youth,commerce,x,1000,5\n"
	    "NOPE,LAG,A2,Ali Ben,M,1990-01-01,youth,commerce,x,1000,\n",
	    0);
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__SubmitApplication body =
	    TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__Money req = TAMWIL__V1__MONEY__INIT;
	Tamwil__V1__Money own = TAMWIL__V1__MONEY__INIT;

	(void)state;
	assert_int_equal(tamwil_import_reject(im, 1, TAMWIL_IMPORT_PROGRAMME,
					      "head office has no programme"),
			 0);
	assert_false(tamwil_import_row_at(im, 1)->ok);
	expect_problem(im, 3, "programme", "head office has no programme");
	tamwil_import_fill(tamwil_import_row_at(im, 0), &id, &body, &req, &own);
	assert_string_equal(id.national_id, "A1");
	assert_string_equal(id.first_name, "Ali");
	assert_string_equal(id.last_name, "Ben");
	assert_string_equal(id.birth_date, "1990-01-01");
	assert_string_equal(id.phone, "");
	assert_string_equal(body.programme, "INDH");
	assert_string_equal(body.region, "");
	assert_int_equal(body.birth_year, 1990);
	assert_int_equal(body.sex, TAMWIL__V1__SEX__SEX_MALE);
	assert_ptr_equal(body.amount_requested, &req);
	assert_ptr_equal(body.own_contribution, &own);
	assert_int_equal(req.minor, 100000);
	assert_int_equal(own.minor, 500);
	assert_string_equal(body.financing_formula, "");
	tamwil_import_free(im);
}

/* The example of docs/IMPORT.md reads without a problem. */
static void test_documented_example(void **state)
{
	tamwil_import *im = tamwil_import_new();
	const tamwil_import_row *r;
	int e;

	(void)state;
	assert_non_null(im);
	assert_int_equal(tamwil_import_read_file(im, TAMWIL_IMPORT_EXAMPLE, &e),
			 0);
	assert_int_equal(tamwil_import_problems(im), 0);
	assert_int_equal(tamwil_import_rows(im), 3);
	r = tamwil_import_row_at(im, 2);
	assert_true(r->ok);
	assert_int_equal(r->line, 4);
	assert_string_equal(r->activity,
			    "Réparation de téléphones et accessoires");
	assert_int_equal(r->amount, 3000000);
	tamwil_import_free(im);
	im = tamwil_import_new();
	assert_non_null(im);
	assert_int_equal(tamwil_import_read_file(im, "/nonexistent/x.csv", &e),
			 -1);
	assert_int_equal(e, ENOENT);
	tamwil_import_free(im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bom_semicolons_crlf_arabic),
	    cmocka_unit_test(test_commas_no_bom_french_names),
	    cmocka_unit_test(test_multiline_and_blank_lines),
	    cmocka_unit_test(test_cr_line_ends),
	    cmocka_unit_test(test_every_bad_value),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_empty_files),
	    cmocka_unit_test(test_bad_headers),
	    cmocka_unit_test(test_long_field),
	    cmocka_unit_test(test_broken_quotes),
	    cmocka_unit_test(test_reject_and_fill),
	    cmocka_unit_test(test_documented_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
