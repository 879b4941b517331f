/*
 * Unit tests of CSV output as RFC 4180 writes it: quotes only where a
 * field holds ',', '"', CR or LF, inner quotes doubled, records ended by
 * CRLF, UTF-8 left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvfield.h"

static void test_needs_quotes(void **state)
{
	(void)state;
	assert_false(csvfield_needs_quotes("LAG-2026-000001"));
	assert_false(csvfield_needs_quotes(""));
	assert_false(csvfield_needs_quotes(NULL));
	assert_false(csvfield_needs_quotes("Atelier de couture"));
	assert_false(csvfield_needs_quotes("\xd8\xae\xd9\x8a\xd8\xa7\xd8\xb7"));
	assert_true(csvfield_needs_quotes("Couture, broderie"));
	assert_true(csvfield_needs_quotes("dit \"fine\""));
	assert_true(csvfield_needs_quotes("line\nbreak"));
	assert_true(csvfield_needs_quotes("cr\r"));
}

/* Asserts the field text of s is want, and its reported length. */
static void expect_field(const char *s, const char *want)
{
	char buf[256];

	assert_int_equal(csvfield_format(s, buf, sizeof(buf)), strlen(want));
	assert_string_equal(buf, want);
}

static void test_format(void **state)
{
	char small[6];

	(void)state;
	expect_field("plain", "plain");
	expect_field("", "");
	expect_field(NULL, "");
	expect_field("a,b", "\"a,b\"");
	expect_field("Couture, broderie \"fine\" et vente",
		     "\"Couture, broderie \"\"fine\"\" et vente\"");
	expect_field("\"", "\"\"\"\"");
	expect_field("two\r\nlines", "\"two\r\nlines\"");
	/* Like snprintf: the length needed, the start written. */
	assert_int_equal(csvfield_format("a,bcdefgh", small, sizeof(small)),
			 11);
	assert_string_equal(small, "\"a,bc");
	assert_int_equal(csvfield_format("abcdefgh", small, sizeof(small)), 8);
	assert_string_equal(small, "abcde");
	assert_int_equal(csvfield_format("a,b", NULL, 0), 5);
}

static void test_row(void **state)
{
	const char *fields[] = {"LAG-2026-000001", "x\"y", NULL, "a,b",
				"\xd8\xae\xd9\x8a\xd8\xa7\xd8\xb7\xd8\xa9"};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	assert_non_null(out);
	assert_int_equal(csvfield_row(out, fields, 5), 0);
	assert_int_equal(csvfield_row(out, fields, 1), 0);
	assert_int_equal(fclose(out), 0);
	assert_string_equal(text, "LAG-2026-000001,\"x\"\"y\",,\"a,b\","
				  "\xd8\xae\xd9\x8a\xd8\xa7\xd8\xb7\xd8\xa9"
				  "\r\nLAG-2026-000001\r\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_needs_quotes),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_row),
	};

	return cmocka_run_group_tests_name("client_csv", tests, NULL, NULL);
}
