/*
 * Unit tests of the per-source limits: the connection cap and the token
 * bucket per address, independence of addresses, release, refill over
 * time, and reuse of idle slots when many addresses pass by.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "limit.h"

static struct sockaddr_in v4(uint32_t host)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(host);
	return a;
}

static limiter *make(int conns, int rate, int burst)
{
	limiter *l = malloc(sizeof(*l));

	assert_non_null(l);
	limit_init(l, conns, rate, burst);
	return l;
}

static void test_connection_cap(void **state)
{
	limiter *l = make(3, 1000, 1000);
	struct sockaddr_in a = v4(0x7f000001), b = v4(0x7f000002);
	const struct sockaddr *sa = (const struct sockaddr *)&a;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(limit_admit(l, sa, 0), LIMIT_OK);
	assert_int_equal(limit_admit(l, sa, 0), LIMIT_TOO_MANY_CONNECTIONS);
	/* Another address is counted apart. */
	assert_int_equal(limit_admit(l, (const struct sockaddr *)&b, 0),
			 LIMIT_OK);
	limit_release(l, sa);
	assert_int_equal(limit_admit(l, sa, 0), LIMIT_OK);
	free(l);
}

static void test_handshake_rate(void **state)
{
	limiter *l = make(1000, 10, 5);
	struct sockaddr_in a = v4(0x0a000001);
	const struct sockaddr *sa = (const struct sockaddr *)&a;

	(void)state;
	/* A burst of 5, then refused until tokens come back. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(limit_admit(l, sa, 1000), LIMIT_OK);
	assert_int_equal(limit_admit(l, sa, 1000), LIMIT_TOO_FAST);
	/* 10 per second: one token every 100 ms. */
	assert_int_equal(limit_admit(l, sa, 1050), LIMIT_TOO_FAST);
	assert_int_equal(limit_admit(l, sa, 1100), LIMIT_OK);
	assert_int_equal(limit_admit(l, sa, 1100), LIMIT_TOO_FAST);
	/* Never more than the burst, however long the pause. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(limit_admit(l, sa, 100000), LIMIT_OK);
	assert_int_equal(limit_admit(l, sa, 100000), LIMIT_TOO_FAST);
	free(l);
}

static void test_ipv6_and_mapped_are_distinct_keys(void **state)
{
	limiter *l = make(1, 100, 100);
	struct sockaddr_in6 a;
	struct sockaddr_in b = v4(0x7f000001);

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_addr = in6addr_loopback;
	assert_int_equal(limit_admit(l, (const struct sockaddr *)&a, 0),
			 LIMIT_OK);
	assert_int_equal(limit_admit(l, (const struct sockaddr *)&a, 0),
			 LIMIT_TOO_MANY_CONNECTIONS);
	assert_int_equal(limit_admit(l, (const struct sockaddr *)&b, 0),
			 LIMIT_OK);
	free(l);
}

static void test_idle_slots_are_reused(void **state)
{
	limiter *l = make(4, 100, 10);

	(void)state;
	/* Far more addresses than slots pass by, one connection each. */
	for (uint32_t i = 0; i < 5 * LIMIT_SLOTS; i++) {
		struct sockaddr_in a = v4(0xc0a80000u + i);
		const struct sockaddr *sa = (const struct sockaddr *)&a;
		assert_int_equal(limit_admit(l, sa, (int64_t)i * 1000),
				 LIMIT_OK);
		limit_release(l, sa);
	}
	free(l);
}

static void test_busy_table_refuses(void **state)
{
	limiter *l = make(4, 100, 10);
	int full = 0;

	(void)state;
	/* Addresses that keep their connections fill the table. */
	for (uint32_t i = 0; i < 2 * LIMIT_SLOTS && !full; i++) {
		struct sockaddr_in a = v4(0x64000000u + i);
		full = limit_admit(l, (const struct sockaddr *)&a, 0) ==
		       LIMIT_TABLE_FULL;
	}
	assert_true(full);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connection_cap),
	    cmocka_unit_test(test_handshake_rate),
	    cmocka_unit_test(test_ipv6_and_mapped_are_distinct_keys),
	    cmocka_unit_test(test_idle_slots_are_reused),
	    cmocka_unit_test(test_busy_table_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
