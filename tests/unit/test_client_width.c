/*
 * Unit tests of the display widths tables are aligned by: French accents
 * precomposed and combining, Arabic letters and vowel signs, wide CJK
 * characters and emoji; what a terminal must not be handed; cutting with
 * an ellipsis without splitting a character from its marks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <locale.h>

#include "textwidth.h"

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(textwidth(""), 0);
	assert_int_equal(textwidth("Khadija"), 7);
	/* Precomposed and combining accents take the same columns. */
	assert_int_equal(textwidth("La\xc3\xa2youne"), 8);     /* â */
	assert_int_equal(textwidth("La\x61\xcc\x82youne"), 8); /* a + U+0302 */
	assert_int_equal(textwidth("Le\xc3\xafla Chra\xc3\xaf"
				   "bi"),
			 13);
	/* Arabic: one column a letter, none a vowel sign. */
	assert_int_equal(
	    textwidth("\xd8\xae\xd8\xaf\xd9\x8a\xd8\xac\xd8\xa9 "
		      "\xd8\xa7\xd9\x84\xd8\xb9\xd9\x84\xd9\x88\xd9\x8a"),
	    12); /* خديجة العلوي */
	assert_int_equal(
	    textwidth("\xd9\x85\xd9\x8f\xd8\xad\xd9\x8e\xd9\x85\xd9\x91"
		      "\xd9\x8e\xd8\xaf"),
	    4); /* مُحَمَّد */
	/* Wide characters take two. */
	assert_int_equal(textwidth("\xe4\xb8\xad\xe6\x96\x87"), 4); /* 中文 */
	assert_int_equal(textwidth("\xf0\x9f\x98\x80"), 2);	    /* 😀 */
	/* The ellipsis is one column. */
	assert_int_equal(textwidth(TEXTWIDTH_ELLIPSIS), 1);
}

/* Asserts textwidth_clean(in) is want. */
static void expect_clean(const char *in, const char *want)
{
	char *out = textwidth_clean(in);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_clean(void **state)
{
	(void)state;
	expect_clean("Tanger-T\xc3\xa9touan", "Tanger-T\xc3\xa9touan");
	expect_clean(NULL, "");
	/* Escape sequences, tabs, line breaks, C1 controls. */
	expect_clean("\x1b[31mred", "?[31mred");
	expect_clean("a\tb\nc\r", "a?b?c?");
	expect_clean("x\xc2\x85y", "x?y"); /* U+0085 */
	/* Bytes that are not UTF-8, and a truncated sequence. */
	expect_clean("bad \xff!", "bad ?!");
	expect_clean("cut \xd8", "cut ?");
	/* A right-to-left override would reorder the rest of the line. */
	expect_clean("ab\xe2\x80\xae"
		     "cd",
		     "ab?cd");
	expect_clean("\xe2\x81\xa6x\xe2\x81\xa9", "?x?"); /* isolates */
	/* Arabic and its marks stay. */
	expect_clean("\xd9\x85\xd9\x8f", "\xd9\x85\xd9\x8f");
}

/* Asserts textwidth_fit(s, width) gives want, of cols columns. */
static void expect_fit(const char *s, size_t width, const char *want,
		       size_t cols)
{
	char out[128];

	assert_int_equal(textwidth_fit(s, width, out, sizeof(out)), cols);
	assert_string_equal(out, want);
	assert_true(textwidth(out) <= width);
}

static void test_fit(void **state)
{
	char small[8];

	(void)state;
	expect_fit("Khadija Alaoui", 20, "Khadija Alaoui", 14);
	expect_fit("Khadija Alaoui", 14, "Khadija Alaoui", 14);
	expect_fit("Khadija Alaoui", 8, "Khadija" TEXTWIDTH_ELLIPSIS, 8);
	expect_fit("Khadija Alaoui", 1, TEXTWIDTH_ELLIPSIS, 1);
	expect_fit("Khadija Alaoui", 0, "", 0);
	/* A combining mark stays with its letter. */
	expect_fit("Lae\xcc\x81titia", 4, "Lae\xcc\x81" TEXTWIDTH_ELLIPSIS, 4);
	/* Arabic is cut by columns, not bytes. */
	expect_fit(
	    "\xd8\xae\xd8\xaf\xd9\x8a\xd8\xac\xd8\xa9 "
	    "\xd8\xa7\xd9\x84\xd8\xb9\xd9\x84\xd9\x88\xd9\x8a",
	    6, "\xd8\xae\xd8\xaf\xd9\x8a\xd8\xac\xd8\xa9" TEXTWIDTH_ELLIPSIS,
	    6);
	/* A wide character that does not fit is left out whole. */
	expect_fit("\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", 4,
		   "\xe4\xb8\xad" TEXTWIDTH_ELLIPSIS, 3);
	/* A small buffer: whole characters and the ellipsis, never more. */
	textwidth_fit("La\xc3\xa2youne", 20, small, sizeof(small));
	assert_string_equal(small, "La\xc3\xa2" TEXTWIDTH_ELLIPSIS);
	assert_true(strlen(small) < sizeof(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_width),
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_fit),
	};

	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) {
		fprintf(stderr, "no C.UTF-8 locale: cannot measure text\n");
		return 77;
	}
	return cmocka_run_group_tests_name("client_width", tests, NULL, NULL);
}
