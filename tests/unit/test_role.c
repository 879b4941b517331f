/*
 * Unit tests of the role table: every protocol role has one name and
 * comes back from it; unknown values and names are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "role.h"
#include "tamwil.pb-c.h"

static void test_round_trip(void **state)
{
	static const char *const names[] = {"coordinator", "approver",
					    "treasurer", "auditor", "admin"};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int r = role_from_name(names[i]);
		assert_int_not_equal(r, 0);
		assert_string_equal(role_name(r), names[i]);
	}
	assert_int_equal(role_from_name("admin"), TAMWIL__V1__ROLE__ROLE_ADMIN);
}

static void test_unknown(void **state)
{
	(void)state;
	assert_null(role_name(TAMWIL__V1__ROLE__ROLE_UNSPECIFIED));
	assert_null(role_name(99));
	assert_int_equal(role_from_name("Admin"), 0);
	assert_int_equal(role_from_name(""), 0);
	assert_int_equal(role_from_name("king"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
