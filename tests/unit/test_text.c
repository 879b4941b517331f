/*
 * Unit tests of the text checks: well-formed UTF-8 in French and Arabic
 * passes; every kind of malformed sequence and control character fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "text.h"

static int valid(const char *s)
{
	return text_valid(s, strlen(s));
}

static void test_well_formed(void **state)
{
	(void)state;
	assert_true(valid(""));
	assert_true(valid("Coopérative Tiwizi"));
	assert_true(valid("فاطمة الزهراء"));
	assert_true(valid("ⵜⴰⵎⴰⵣⵉⵖⵜ"));		/* Tifinagh, three-byte */
	assert_true(valid("\xf0\x9f\x8c\xbe")); /* four-byte */
	assert_true(valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
	    "\x80",		/* lone continuation */
	    "\xc3",		/* truncated */
	    "\xc0\xaf",		/* overlong '/' */
	    "\xe0\x80\xaf",	/* overlong */
	    "\xed\xa0\x80",	/* surrogate U+D800 */
	    "\xf4\x90\x80\x80", /* above U+10FFFF */
	    "\xf5\x80\x80\x80", /* invalid lead */
	    "\xff",
	    "a\001b", /* control */
	    "tab\there",
	    "del\x7f",
	    "new\nline",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(valid(bad[i]));
	/* An embedded NUL is a control character too. */
	assert_false(text_valid("a\0b", 3));
}

static void test_names(void **state)
{
	(void)state;
	assert_true(text_valid_name("Amina Benali", 200));
	assert_true(text_valid_name("بنعلي", 10));
	assert_false(text_valid_name("بنعلي", 9)); /* 10 bytes */
	assert_false(text_valid_name("", 200));
	assert_false(text_valid_name(" Amina", 200));
	assert_false(text_valid_name("Amina ", 200));
	assert_false(text_valid_name("Am\xc3", 200));
}

static void test_dates(void **state)
{
	int y = 0;

	(void)state;
	assert_true(text_valid_date("1987-03-14", &y));
	assert_int_equal(y, 1987);
	assert_true(text_valid_date("2000-02-29", NULL));
	assert_false(text_valid_date("1900-02-29", NULL));
	assert_false(text_valid_date("2026-02-29", NULL));
	assert_false(text_valid_date("2026-04-31", NULL));
	assert_false(text_valid_date("2026-13-01", NULL));
	assert_false(text_valid_date("2026-00-10", NULL));
	assert_false(text_valid_date("1899-12-31", NULL));
	assert_false(text_valid_date("14/03/1987", NULL));
	assert_false(text_valid_date("1987-3-14", NULL));
	assert_false(text_valid_date("", NULL));
}

/* Repairs a copy of in and compares it with want. */
static void expect_repair(const char *in, const char *want)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", in);
	text_repair(buf);
	assert_string_equal(buf, want);
	assert_true(text_valid(buf, strlen(buf)));
}

static void test_repair(void **state)
{
	(void)state;
	/* Valid text, French and Arabic, is left alone. */
	expect_repair("région Laghouat", "région Laghouat");
	expect_repair("الأغواط", "الأغواط");
	/* Stray bytes, overlongs, surrogates and controls become '?'. */
	expect_repair("no application \xff\xfe", "no application ??");
	expect_repair("a\xc0\xaf"
		      "b",
		      "a??b");
	expect_repair("x\xed\xa0\x80y", "x???y");
	expect_repair("line\nbreak\x1b[0m", "line?break?[0m");
	expect_repair("del\x7f", "del?");
	/* A sequence cut by a buffer's end is dropped, not replaced. */
	expect_repair("caf\xc3", "caf");
	expect_repair("\xd8\xa7\xd9", "\xd8\xa7");
	expect_repair("\xe2\x82", "");
	expect_repair("\xf0\x9f\x98", "");
	/* A lead byte followed by a non-continuation is not "cut". */
	expect_repair("\xc3"
		      "A",
		      "?A");
	expect_repair("\xe0\x80", "??");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_well_formed),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_repair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
