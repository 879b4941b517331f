/*
 * Unit tests of common/money: every shape of amount staff type, with the
 * exact count of centimes; every refusal with its reason; the int64
 * boundaries; formatting and round trips; overflow-checked addition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "money.h"

struct parse_case {
	const char *text;
	int64_t minor;
};

struct refusal_case {
	const char *text;
	int err;
};

/* Parses text and checks it gives want centimes. */
static void check_parse(const char *text, int64_t want)
{
	int64_t got = -1;
	int rc = money_parse(text, &got);

	if (rc != MONEY_OK || got != want)
		print_error("money_parse(\"%s\"): rc %d, %lld, want %lld\n",
			    text, rc, (long long)got, (long long)want);
	assert_int_equal(rc, MONEY_OK);
	assert_true(got == want);
}

/* Parses text and checks it is refused with err, leaving *minor alone. */
static void check_refused(const char *text, int err)
{
	int64_t got = 777;
	int rc = money_parse(text, &got);

	if (rc != err)
		print_error("money_parse(\"%s\"): rc %d, want %d\n",
			    text ? text : "(null)", rc, err);
	assert_int_equal(rc, err);
	assert_true(got == 777);
}

static void test_parse_accepted(void **state)
{
	static const struct parse_case cases[] = {
	    {"250000", 25000000},
	    {"250000.00", 25000000},
	    {"250000,00", 25000000},
	    {"250000,5", 25000050},
	    {"250000.5", 25000050},
	    {"250000,05", 25000005},
	    {"250 000,00", 25000000},
	    {"250 000", 25000000},
	    {"1 121 215,07", 112121507},
	    {"1.121.215,07", 112121507},
	    {"1,121,215.07", 112121507},
	    {"1.121.215", 112121500},
	    {"1,121,215", 112121500},
	    {"1 121 215", 112121500},
	    {"1.121,07", 112107},
	    {"1,121.07", 112107},
	    {"1 234.56", 123456},
	    {"13 500 000,00", 1350000000},
	    {"8 100 000", 810000000},
	    {"0", 0},
	    {"0,00", 0},
	    {"0,5", 50},
	    {"0.07", 7},
	    {"007", 700},
	    {"1234", 123400},
	    {"1234,5", 123450},
	    {"999", 99900},
	    {"  250000  ", 25000000},
	    {"\t1 121 215,07\t", 112121507},
	    {"1\xc2\xa0"
	     "121\xc2\xa0"
	     "215,07",
	     112121507},
	    {"1\xe2\x80\xaf"
	     "121\xe2\x80\xaf"
	     "215,07",
	     112121507},
	    {"1 121\xc2\xa0"
	     "215\xe2\x80\xaf"
	     "000,07",
	     112121500007},
	    {"\xc2\xa0"
	     "250 000,00\xe2\x80\xaf",
	     25000000},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_parse(cases[i].text, cases[i].minor);
}

static void test_parse_refused(void **state)
{
	static const struct refusal_case cases[] = {
	    {"", MONEY_ERR_EMPTY},
	    {"   ", MONEY_ERR_EMPTY},
	    {"\t\xc2\xa0\xe2\x80\xaf", MONEY_ERR_EMPTY},
	    {NULL, MONEY_ERR_EMPTY},
	    {"abc", MONEY_ERR_SYNTAX},
	    {"12a", MONEY_ERR_SYNTAX},
	    {"1,2,3", MONEY_ERR_SYNTAX},
	    {"12 34", MONEY_ERR_SYNTAX},
	    {"1 2345", MONEY_ERR_SYNTAX},
	    {"1234 567", MONEY_ERR_SYNTAX},
	    {"0 123", MONEY_ERR_SYNTAX},
	    {"1.234.5", MONEY_ERR_SYNTAX},
	    {"1  234", MONEY_ERR_SYNTAX},
	    {"1 234.567.890", MONEY_ERR_SYNTAX},
	    {"1 234,567 890", MONEY_ERR_SYNTAX},
	    {"1.234 567", MONEY_ERR_SYNTAX},
	    {"1.234", MONEY_ERR_SYNTAX},
	    {"1,234", MONEY_ERR_SYNTAX},
	    {"999,000", MONEY_ERR_SYNTAX},
	    {"+5", MONEY_ERR_SYNTAX},
	    {"5,", MONEY_ERR_SYNTAX},
	    {"5.", MONEY_ERR_SYNTAX},
	    {",5", MONEY_ERR_SYNTAX},
	    {".50", MONEY_ERR_SYNTAX},
	    {"1 ,50", MONEY_ERR_SYNTAX},
	    {"1..5", MONEY_ERR_SYNTAX},
	    {"1,,5", MONEY_ERR_SYNTAX},
	    {"250 000 MAD", MONEY_ERR_SYNTAX},
	    {"1e5", MONEY_ERR_SYNTAX},
	    {"0x10", MONEY_ERR_SYNTAX},
	    {"1\xc2"
	     "234",
	     MONEY_ERR_SYNTAX},
	    {"1\xe2\x80"
	     "234",
	     MONEY_ERR_SYNTAX},
	    {"\xd9\xa1\xd9\xa2", MONEY_ERR_SYNTAX}, /* Arabic-Indic digits */
	    {"1\n", MONEY_ERR_SYNTAX},
	    {"-5", MONEY_ERR_NEGATIVE},
	    {" -1 234,00", MONEY_ERR_NEGATIVE},
	    {"1,234,567.891", MONEY_ERR_DECIMALS},
	    {"1 234,567", MONEY_ERR_DECIMALS},
	    {"1.234,567", MONEY_ERR_DECIMALS},
	    {"1234,567", MONEY_ERR_DECIMALS},
	    {"0,500", MONEY_ERR_DECIMALS},
	    {"0.123", MONEY_ERR_DECIMALS},
	    {"12,3456", MONEY_ERR_DECIMALS},
	    {"250000,001", MONEY_ERR_DECIMALS},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_refused(cases[i].text, cases[i].err);
}

static void test_parse_range(void **state)
{
	(void)state;
	/* INT64_MAX = 9 223 372 036 854 775 807 centimes. */
	check_parse("92233720368547758,07", INT64_MAX);
	check_parse("92 233 720 368 547 758,07", INT64_MAX);
	check_parse("92.233.720.368.547.758,07", INT64_MAX);
	check_parse("92233720368547758", INT64_MAX - 7);
	check_parse("000000000000000000000000000001", 100);
	check_refused("92233720368547758,08", MONEY_ERR_RANGE);
	check_refused("92 233 720 368 547 758,08", MONEY_ERR_RANGE);
	check_refused("92233720368547759", MONEY_ERR_RANGE);
	check_refused("922337203685477580", MONEY_ERR_RANGE);
	check_refused("9223372036854775807", MONEY_ERR_RANGE);
	check_refused("9223372036854775808", MONEY_ERR_RANGE);
	check_refused("99999999999999999999999999999999999999,99",
		      MONEY_ERR_RANGE);
	check_refused("999 999 999 999 999 999 999 999 999", MONEY_ERR_RANGE);
	/* A malformed text is a syntax error even when it is huge. */
	check_refused("99999999999999999999999 12", MONEY_ERR_SYNTAX);
	check_refused("99999999999999999999999,123", MONEY_ERR_DECIMALS);
}

/* Formats minor with currency and checks the text and its length. */
static void check_format(int64_t minor, const char *currency, const char *want)
{
	char buf[MONEY_TEXT_MAX];
	int n = money_format(minor, currency, buf, sizeof buf);

	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
}

static void test_format(void **state)
{
	(void)state;
	check_format(112121507, "MAD", "1 121 215,07 MAD");
	check_format(112121507, NULL, "1 121 215,07");
	check_format(1350000000, "MAD", "13 500 000,00 MAD");
	check_format(0, NULL, "0,00");
	check_format(5, NULL, "0,05");
	check_format(50, "DZD", "0,50 DZD");
	check_format(99999, NULL, "999,99");
	check_format(100000, NULL, "1 000,00");
	check_format(-123400, NULL, "-1 234,00");
	check_format(-5, "EUR", "-0,05 EUR");
	check_format(-100000000, NULL, "-1 000 000,00");
	check_format(INT64_MAX, "XOF", "92 233 720 368 547 758,07 XOF");
	check_format(INT64_MIN, "MAD", "-92 233 720 368 547 758,08 MAD");
	check_format(INT64_MIN + 1, NULL, "-92 233 720 368 547 758,07");
}

static void test_format_refusals(void **state)
{
	char buf[MONEY_TEXT_MAX];
	char small[8];

	(void)state;
	assert_int_equal(money_format(100, "mad", buf, sizeof buf), -1);
	assert_string_equal(buf, "");
	assert_int_equal(money_format(100, "MADX", buf, sizeof buf), -1);
	assert_int_equal(money_format(100, "MA", buf, sizeof buf), -1);
	assert_int_equal(money_format(100, "", buf, sizeof buf), -1);
	assert_int_equal(money_format(100, NULL, NULL, 0), -1);
	/* "1 000,00" needs 9 bytes with its NUL. */
	assert_int_equal(money_format(100000, NULL, small, sizeof small), -1);
	assert_string_equal(small, "");
	assert_int_equal(money_format(10000, NULL, small, sizeof small), 6);
	assert_string_equal(small, "100,00");
	assert_int_equal(money_format(100, NULL, small, 0), -1);
}

/* format(parse(text)) == text and parse(format(x)) == x, both signs. */
static void test_round_trips(void **state)
{
	static const int64_t values[] = {0,
					 1,
					 7,
					 99,
					 100,
					 123456,
					 112121507,
					 1350000000,
					 810000000,
					 INT64_MAX,
					 INT64_MAX - 1,
					 INT64_MIN + 1};
	char buf[MONEY_TEXT_MAX];
	int64_t back;

	(void)state;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		int64_t v = values[i];

		assert_true(money_format(v, NULL, buf, sizeof buf) > 0);
		if (v >= 0) {
			assert_int_equal(money_parse(buf, &back), MONEY_OK);
		} else {
			/* The sign is refused; the magnitude reads back. */
			assert_int_equal(money_parse(buf, &back),
					 MONEY_ERR_NEGATIVE);
			assert_int_equal(money_parse(buf + 1, &back), MONEY_OK);
			back = -back;
		}
		assert_true(back == v);
	}
	/* INT64_MIN's magnitude is one beyond what can be parsed. */
	assert_true(money_format(INT64_MIN, NULL, buf, sizeof buf) > 0);
	check_refused(buf + 1, MONEY_ERR_RANGE);
	check_format(112121507, NULL, "1 121 215,07");
	check_parse("1 121 215,07", 112121507);
}

static void test_add(void **state)
{
	int64_t sum = 42;

	(void)state;
	assert_int_equal(money_add(112121507, 1350000000, &sum), 0);
	assert_true(sum == 1462121507);
	assert_int_equal(money_add(INT64_MAX - 1, 1, &sum), 0);
	assert_true(sum == INT64_MAX);
	assert_int_equal(money_add(-5, 5, &sum), 0);
	assert_true(sum == 0);
	assert_int_equal(money_add(INT64_MIN, INT64_MAX, &sum), 0);
	assert_true(sum == -1);
	sum = 42;
	assert_int_equal(money_add(INT64_MAX, 1, &sum), -1);
	assert_int_equal(money_add(INT64_MAX, INT64_MAX, &sum), -1);
	assert_int_equal(money_add(INT64_MIN, -1, &sum), -1);
	assert_int_equal(money_add(INT64_MIN, INT64_MIN, &sum), -1);
	assert_true(sum == 42);
}

static void test_currency(void **state)
{
	static const char *const good[] = {"MAD", "DZD", "TND",
					   "EUR", "USD", "XOF"};
	static const char *const bad[] = {"",	 "mad",	 "MA",	 "MADD", "GBP",
					  "JPY", " MAD", "MAD ", "XAF",	 "KWD"};

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(money_currency_valid(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(money_currency_valid(bad[i]));
	assert_false(money_currency_valid(NULL));
}

static void test_strerror(void **state)
{
	static const int codes[] = {MONEY_OK,	      MONEY_ERR_EMPTY,
				    MONEY_ERR_SYNTAX, MONEY_ERR_DECIMALS,
				    MONEY_ERR_RANGE,  MONEY_ERR_NEGATIVE};

	(void)state;
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const char *s = money_strerror(codes[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
	}
	/* The ambiguous "1.234" gets a sentence that shows the way out. */
	assert_non_null(strstr(money_strerror(MONEY_ERR_SYNTAX), "1234,00"));
	assert_non_null(strstr(money_strerror(MONEY_ERR_SYNTAX), "1234 "));
	assert_non_null(strstr(money_strerror(MONEY_ERR_DECIMALS), "two"));
	assert_non_null(money_strerror(-99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_accepted),
	    cmocka_unit_test(test_parse_refused),
	    cmocka_unit_test(test_parse_range),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_format_refusals),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_add),
	    cmocka_unit_test(test_currency),
	    cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
