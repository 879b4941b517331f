/*
 * Unit tests of common/frame.c: a frame is judged from its two header
 * bytes alone, refused when empty or oversize, and ready only once its
 * whole body has arrived.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

static void test_need_more_without_header(void **state)
{
	uint8_t buf[2] = {0x00, 0x05};
	size_t len = 12345;

	(void)state;
	assert_int_equal(frame_check(buf, 0, FRAME_MAX_BODY, &len),
			 FRAME_NEED_MORE);
	assert_int_equal(frame_check(buf, 1, FRAME_MAX_BODY, &len),
			 FRAME_NEED_MORE);
	/* Without a full header nothing is announced. */
	assert_int_equal(len, 12345);
}

static void test_zero_length_is_bad(void **state)
{
	uint8_t buf[4] = {0x00, 0x00, 0xaa, 0xbb};
	size_t len = 99;

	(void)state;
	assert_int_equal(frame_check(buf, 2, FRAME_MAX_BODY, &len), FRAME_BAD);
	assert_int_equal(frame_check(buf, sizeof buf, FRAME_MAX_BODY, &len),
			 FRAME_BAD);
	assert_int_equal(len, 0);
}

static void test_above_max_body_is_bad(void **state)
{
	uint8_t hdr[2] = {0x01, 0x01}; /* 257 */
	uint8_t big[2] = {0xff, 0xff}; /* 65535 */
	size_t len = 0;

	(void)state;
	/* Refused on the header alone, before the body arrives. */
	assert_int_equal(frame_check(hdr, sizeof hdr, 256, &len), FRAME_BAD);
	assert_int_equal(len, 257);
	assert_int_equal(frame_check(hdr, sizeof hdr, 1, &len), FRAME_BAD);
	assert_int_equal(frame_check(big, sizeof big, FRAME_MAX_BODY - 1, &len),
			 FRAME_BAD);
	/* A max_body above FRAME_MAX_BODY does not widen the limit. */
	assert_int_equal(frame_check(big, sizeof big, 100000, &len),
			 FRAME_NEED_MORE);
	assert_int_equal(len, FRAME_MAX_BODY);
}

static void test_exact_max_is_ok(void **state)
{
	static uint8_t buf[FRAME_HEADER_LEN + FRAME_MAX_BODY];
	uint8_t hdr[2] = {0x01, 0x00}; /* 256 */
	size_t len = 0;

	(void)state;
	assert_int_equal(frame_check(hdr, sizeof hdr, 256, &len),
			 FRAME_NEED_MORE);
	assert_int_equal(len, 256);

	assert_int_equal(frame_put_header(buf, FRAME_MAX_BODY), 0);
	assert_int_equal(frame_check(buf, sizeof buf - 1, FRAME_MAX_BODY, &len),
			 FRAME_NEED_MORE);
	assert_int_equal(frame_check(buf, sizeof buf, FRAME_MAX_BODY, &len),
			 FRAME_READY);
	assert_int_equal(len, FRAME_MAX_BODY);
}

static void test_ready_only_with_full_body(void **state)
{
	uint8_t buf[2 + 5 + 3] = {0x00, 0x05, 'a', 'b', 'c',
				  'd',	'e',  'x', 'y', 'z'};
	size_t len = 0;
	size_t avail;

	(void)state;
	for (avail = 2; avail < 7; avail++) {
		assert_int_equal(frame_check(buf, avail, 5, &len),
				 FRAME_NEED_MORE);
		assert_int_equal(len, 5);
	}
	assert_int_equal(frame_check(buf, 7, 5, &len), FRAME_READY);
	assert_int_equal(len, 5);
	/* Bytes of the next frame behind it change nothing. */
	assert_int_equal(frame_check(buf, sizeof buf, 5, &len), FRAME_READY);
	assert_int_equal(len, 5);
	/* One-byte frames work. */
	buf[1] = 1;
	assert_int_equal(frame_check(buf, 2, 1, &len), FRAME_NEED_MORE);
	assert_int_equal(frame_check(buf, 3, 1, &len), FRAME_READY);
	assert_int_equal(len, 1);
}

static void test_header_round_trip(void **state)
{
	static const size_t lens[] = {1, 2, 255, 256, 257, 4096, 65534, 65535};
	uint8_t hdr[FRAME_HEADER_LEN];
	size_t len = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		assert_int_equal(frame_put_header(hdr, lens[i]), 0);
		assert_int_equal(hdr[0], lens[i] >> 8);
		assert_int_equal(hdr[1], lens[i] & 0xff);
		assert_int_equal(
		    frame_check(hdr, sizeof hdr, FRAME_MAX_BODY, &len),
		    FRAME_NEED_MORE);
		assert_int_equal(len, lens[i]);
	}
}

static void test_put_header_refuses(void **state)
{
	uint8_t hdr[FRAME_HEADER_LEN] = {0x12, 0x34};

	(void)state;
	assert_int_equal(frame_put_header(hdr, 0), -1);
	assert_int_equal(frame_put_header(hdr, 65536), -1);
	assert_int_equal(frame_put_header(hdr, (size_t)-1), -1);
	/* A refused header is left as it was. */
	assert_int_equal(hdr[0], 0x12);
	assert_int_equal(hdr[1], 0x34);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_need_more_without_header),
	    cmocka_unit_test(test_zero_length_is_bad),
	    cmocka_unit_test(test_above_max_body_is_bad),
	    cmocka_unit_test(test_exact_max_is_ok),
	    cmocka_unit_test(test_ready_only_with_full_body),
	    cmocka_unit_test(test_header_round_trip),
	    cmocka_unit_test(test_put_header_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
