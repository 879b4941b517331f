/*
 * Unit tests of what the command line reads: amounts the way staff type
 * them (and the ambiguous ones refused), full names split into first and
 * last, equipment items, enum names, dates, counts and text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "argparse.h"
#include "tamwil.pb-c.h"

static char why[ARGPARSE_WHY_MAX];

static void expect_amount(const char *text, int64_t want)
{
	int64_t v = -1;

	assert_int_equal(argparse_amount(text, 0, &v, why, sizeof(why)), 0);
	assert_true(v == want);
}

/* The amount is refused with a sentence holding part. */
static void expect_bad_amount(const char *text, int zero_ok, const char *part)
{
	int64_t v = -1;

	why[0] = '\0';
	assert_int_equal(argparse_amount(text, zero_ok, &v, why, sizeof(why)),
			 -1);
	if (strstr(why, part) == NULL)
		fail_msg("\"%s\": \"%s\" does not say \"%s\"", text, why, part);
}

static void test_amounts(void **state)
{
	int64_t v = -1;

	(void)state;
	expect_amount("250000", 25000000);
	expect_amount("250000.00", 25000000);
	expect_amount("250 000,00", 25000000);
	expect_amount("1 121 215,07", 112121507);
	expect_amount("1.121.215,07", 112121507);
	expect_amount("20000.5", 2000050);
	expect_bad_amount("12,345", 0,
			  "\"12,345\" is ambiguous: write 12345 or 12345,00");
	expect_bad_amount("1.234", 0, "write 1234 or 1234,00");
	expect_bad_amount("0", 0, "zero");
	expect_bad_amount("0,00", 0, "zero");
	expect_bad_amount("-5", 0, "no sign");
	expect_bad_amount("-1 000,00", 0, "no sign");
	expect_bad_amount("12,3456", 0, "two decimals");
	expect_bad_amount("abc", 0, "not an amount");
	expect_bad_amount("", 0, "no amount");
	/* Zero where it is allowed: a contribution, an item's value. */
	assert_int_equal(argparse_amount("0", 1, &v, why, sizeof(why)), 0);
	assert_true(v == 0);
}

static void expect_name(const char *full, const char *first, const char *last)
{
	char f[64], l[64];

	assert_int_equal(
	    argparse_name(full, f, sizeof(f), l, sizeof(l), why, sizeof(why)),
	    0);
	assert_string_equal(f, first);
	assert_string_equal(l, last);
}

static void test_names(void **state)
{
	char f[8], l[8];

	(void)state;
	expect_name("Khadija Alaoui", "Khadija", "Alaoui");
	expect_name("Fatima Zahra Bennani", "Fatima Zahra", "Bennani");
	expect_name("  Khadija   Alaoui  ", "Khadija", "Alaoui");
	/* عبد الله الإدريسي */
	expect_name("\xd8\xb9\xd8\xa8\xd8\xaf \xd8\xa7\xd9\x84\xd9\x84\xd9\x87 "
		    "\xd8\xa7\xd9\x84\xd8\xa5\xd8\xaf\xd8\xb1\xd9\x8a\xd8\xb3"
		    "\xd9\x8a",
		    "\xd8\xb9\xd8\xa8\xd8\xaf \xd8\xa7\xd9\x84\xd9\x84\xd9\x87",
		    "\xd8\xa7\xd9\x84\xd8\xa5\xd8\xaf\xd8\xb1\xd9\x8a\xd8\xb3"
		    "\xd9\x8a");
	/* One word does not say which part it is. */
	assert_int_equal(argparse_name("Khadija", f, sizeof(f), l, sizeof(l),
				       why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "--first-name"));
	assert_int_equal(
	    argparse_name("   ", f, sizeof(f), l, sizeof(l), why, sizeof(why)),
	    -1);
	assert_int_equal(argparse_name("Khadija Alaouiiiiiii", f, sizeof(f), l,
				       sizeof(l), why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "too long"));
}

static void expect_item(const char *text, const char *desc, uint32_t qty,
			int64_t unit)
{
	char d[128];
	uint32_t q = 0;
	int64_t u = -1;

	assert_int_equal(
	    argparse_item(text, d, sizeof(d), &q, &u, why, sizeof(why)), 0);
	assert_string_equal(d, desc);
	assert_int_equal(q, qty);
	assert_true(u == unit);
}

static void expect_bad_item(const char *text, const char *part)
{
	char d[128];
	uint32_t q = 0;
	int64_t u = -1;

	why[0] = '\0';
	assert_int_equal(
	    argparse_item(text, d, sizeof(d), &q, &u, why, sizeof(why)), -1);
	if (strstr(why, part) == NULL)
		fail_msg("\"%s\": \"%s\" does not say \"%s\"", text, why, part);
}

static void test_items(void **state)
{
	(void)state;
	expect_item("Machine \xc3\xa0 coudre:2:12 500,00",
		    "Machine \xc3\xa0 coudre", 2, 1250000);
	expect_item("Ustensiles de cuisine:3:2 071,69", "Ustensiles de cuisine",
		    3, 207169);
	/* The description may hold ':' itself. */
	expect_item("Kit 1:2 (mixte):1:100", "Kit 1:2 (mixte)", 1, 10000);
	expect_item("Don:1:0", "Don", 1, 0);
	expect_bad_item("Machine", "DESCRIPTION:QUANTITY:UNIT_VALUE");
	expect_bad_item("Machine:2", "DESCRIPTION:QUANTITY:UNIT_VALUE");
	expect_bad_item(":2:100", "description is empty");
	expect_bad_item("Machine:0:100", "quantity");
	expect_bad_item("Machine:two:100", "quantity");
	expect_bad_item("Machine::100", "quantity");
	expect_bad_item("Machine:2000000:100", "quantity");
	expect_bad_item("Machine:2:12,500", "ambiguous");
	expect_bad_item("Machine:2:", "no amount");
}

static void test_enums(void **state)
{
	const ProtobufCEnumDescriptor *cat = &tamwil__v1__category__descriptor;
	const ProtobufCEnumDescriptor *st =
	    &tamwil__v1__application_state__descriptor;
	char buf[256];

	(void)state;
	assert_int_equal(argparse_enum(cat, "CATEGORY_", "rural_woman"),
			 TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN);
	assert_int_equal(argparse_enum(cat, "CATEGORY_", "Rural-Woman"),
			 TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN);
	assert_int_equal(argparse_enum(cat, "CATEGORY_", "rural"), 0);
	assert_int_equal(argparse_enum(cat, "CATEGORY_", "rural_woman_x"), 0);
	assert_int_equal(argparse_enum(cat, "CATEGORY_", "unspecified"), 0);
	assert_int_equal(argparse_enum(cat, "CATEGORY_", ""), 0);
	assert_int_equal(argparse_enum(st, "STATE_", "written_off"),
			 TAMWIL__V1__APPLICATION_STATE__STATE_WRITTEN_OFF);
	assert_int_equal(
	    argparse_enum(&tamwil__v1__disbursement_method__descriptor,
			  "METHOD_", "equipment"),
	    TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_EQUIPMENT);
	assert_string_equal(
	    argparse_enum_name(st, "STATE_", 9, buf, sizeof(buf)),
	    "written_off");
	assert_string_equal(
	    argparse_enum_name(st, "STATE_", 0, buf, sizeof(buf)), "unknown");
	assert_string_equal(
	    argparse_enum_name(st, "STATE_", 99, buf, sizeof(buf)), "unknown");
	assert_string_equal(
	    argparse_enum_list(cat, "CATEGORY_", buf, sizeof(buf)),
	    "former_detainee, rural_woman, woman_at_home, "
	    "youth, person_with_disability, other");
	assert_int_equal(argparse_sex("F"), 1);
	assert_int_equal(argparse_sex("m"), 2);
	assert_int_equal(argparse_sex("X"), 0);
	assert_string_equal(argparse_sex_name(2), "M");
	assert_string_equal(argparse_sex_name(0), "");
}

static void test_dates_counts_text(void **state)
{
	int64_t t = 0;
	unsigned long n = 0;

	(void)state;
	assert_int_equal(argparse_day("2026-03-21", &t, why, sizeof(why)), 0);
	assert_true(t == INT64_C(1774051200));
	assert_int_equal(argparse_day("2026-02-30", &t, why, sizeof(why)), -1);
	assert_int_equal(argparse_day("21/03/2026", &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "YYYY-MM-DD"));
	assert_int_equal(argparse_count("10", 1, 500, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 10);
	assert_int_equal(argparse_count("0", 1, 500, &n, why, sizeof(why)), -1);
	assert_int_equal(argparse_count("501", 1, 500, &n, why, sizeof(why)),
			 -1);
	assert_int_equal(argparse_count("1x", 1, 500, &n, why, sizeof(why)),
			 -1);
	assert_int_equal(argparse_count("", 1, 500, &n, why, sizeof(why)), -1);
	assert_int_equal(argparse_count("99999999999999999999", 1, 500, &n, why,
					sizeof(why)),
			 -1);
	assert_true(argparse_text("La\xc3\xa2youne", why, sizeof(why)));
	assert_false(argparse_text("bad \xff", why, sizeof(why)));
	assert_false(argparse_text("two\nlines", why, sizeof(why)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_amounts),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_items),
	    cmocka_unit_test(test_enums),
	    cmocka_unit_test(test_dates_counts_text),
	};

	return cmocka_run_group_tests_name("client_args", tests, NULL, NULL);
}
