/*
 * Unit tests of common/signop: a signature verifies over the very bytes it
 * was made for, under the signer's key, and over nothing else: not a
 * flipped bit of the operation or of the signature, not another key, not
 * the bare operation without the domain prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "signop.h"

/* Some operation bytes: not a real Operation, any bytes will do. */
static const uint8_t op_bytes[] = "\x0a\x10submit application LAG-2026-000123 "
				  "amount 25000000 MAD";
#define OP_LEN (sizeof op_bytes - 1)

/* A fresh signing key (only the Ed25519 pair matters here). */
static void new_key(keyfile_secret *k)
{
	memset(k, 0, sizeof *k);
	assert_int_equal(crypto_sign_keypair(k->sign_pk, k->sign_sk), 0);
}

static void test_round_trip(void **state)
{
	keyfile_secret k;
	uint8_t sig[SIGNOP_SIGLEN];

	(void)state;
	new_key(&k);
	assert_int_equal(signop_sign(op_bytes, OP_LEN, &k, sig), 0);
	assert_int_equal(signop_verify(op_bytes, OP_LEN, k.sign_pk, sig), 0);
	/* Ed25519 is deterministic. */
	{
		uint8_t again[SIGNOP_SIGLEN];

		assert_int_equal(signop_sign(op_bytes, OP_LEN, &k, again), 0);
		assert_memory_equal(sig, again, SIGNOP_SIGLEN);
	}
	/* The empty operation is signed too, and differs from a byte. */
	assert_int_equal(signop_sign(NULL, 0, &k, sig), 0);
	assert_int_equal(signop_verify(NULL, 0, k.sign_pk, sig), 0);
	assert_int_equal(signop_verify(op_bytes, 1, k.sign_pk, sig), -1);
	sodium_memzero(&k, sizeof k);
}

static void test_flipped_bits(void **state)
{
	keyfile_secret k;
	uint8_t sig[SIGNOP_SIGLEN];
	uint8_t op[OP_LEN];

	(void)state;
	new_key(&k);
	memcpy(op, op_bytes, OP_LEN);
	assert_int_equal(signop_sign(op, OP_LEN, &k, sig), 0);
	for (size_t i = 0; i < OP_LEN * 8; i++) {
		op[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(signop_verify(op, OP_LEN, k.sign_pk, sig), -1);
		op[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (size_t i = 0; i < (size_t)SIGNOP_SIGLEN * 8; i++) {
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(signop_verify(op, OP_LEN, k.sign_pk, sig), -1);
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	/* Truncated or extended operation bytes fail too. */
	assert_int_equal(signop_verify(op, OP_LEN - 1, k.sign_pk, sig), -1);
	assert_int_equal(signop_verify(op_bytes, OP_LEN + 1, k.sign_pk, sig),
			 -1);
	assert_int_equal(signop_verify(op, OP_LEN, k.sign_pk, sig), 0);
	sodium_memzero(&k, sizeof k);
}

static void test_other_key(void **state)
{
	keyfile_secret a, b;
	uint8_t sig[SIGNOP_SIGLEN];
	uint8_t zero_pk[KEYFILE_KEYLEN] = {0};

	(void)state;
	new_key(&a);
	new_key(&b);
	assert_int_equal(signop_sign(op_bytes, OP_LEN, &a, sig), 0);
	assert_int_equal(signop_verify(op_bytes, OP_LEN, b.sign_pk, sig), -1);
	assert_int_equal(signop_verify(op_bytes, OP_LEN, zero_pk, sig), -1);
	/* The channel's X25519 key is no signing key either. */
	assert_int_equal(crypto_box_keypair(a.noise_pk, a.noise_sk), 0);
	assert_int_equal(signop_verify(op_bytes, OP_LEN, a.noise_pk, sig), -1);
	sodium_memzero(&a, sizeof a);
	sodium_memzero(&b, sizeof b);
}

static void test_domain_separation(void **state)
{
	keyfile_secret k;
	uint8_t sig[SIGNOP_SIGLEN];
	uint8_t *m;

	(void)state;
	assert_int_equal(SIGNOP_DOMAIN_LEN, sizeof SIGNOP_DOMAIN);
	new_key(&k);
	/* A plain Ed25519 signature of the bare operation does not verify. */
	assert_int_equal(
	    crypto_sign_detached(sig, NULL, op_bytes, OP_LEN, k.sign_sk), 0);
	assert_int_equal(signop_verify(op_bytes, OP_LEN, k.sign_pk, sig), -1);
	/* Nor one over the domain without its NUL. */
	m = malloc(SIGNOP_DOMAIN_LEN - 1 + OP_LEN);
	assert_non_null(m);
	memcpy(m, SIGNOP_DOMAIN, SIGNOP_DOMAIN_LEN - 1);
	memcpy(m + SIGNOP_DOMAIN_LEN - 1, op_bytes, OP_LEN);
	assert_int_equal(crypto_sign_detached(sig, NULL, m,
					      SIGNOP_DOMAIN_LEN - 1 + OP_LEN,
					      k.sign_sk),
			 0);
	assert_int_equal(signop_verify(op_bytes, OP_LEN, k.sign_pk, sig), -1);
	free(m);
	/* And ours is plain Ed25519 over domain || NUL || op. */
	assert_int_equal(signop_sign(op_bytes, OP_LEN, &k, sig), 0);
	assert_int_equal(
	    crypto_sign_verify_detached(sig, op_bytes, OP_LEN, k.sign_pk), -1);
	m = malloc(SIGNOP_DOMAIN_LEN + OP_LEN);
	assert_non_null(m);
	memcpy(m, SIGNOP_DOMAIN, SIGNOP_DOMAIN_LEN);
	memcpy(m + SIGNOP_DOMAIN_LEN, op_bytes, OP_LEN);
	assert_int_equal(crypto_sign_verify_detached(
			     sig, m, SIGNOP_DOMAIN_LEN + OP_LEN, k.sign_pk),
			 0);
	free(m);
	sodium_memzero(&k, sizeof k);
}

static void test_limits(void **state)
{
	keyfile_secret k;
	uint8_t sig[SIGNOP_SIGLEN];
	uint8_t *big = calloc(1, SIGNOP_OP_MAX + 1);

	(void)state;
	assert_non_null(big);
	new_key(&k);
	assert_int_equal(signop_sign(big, SIGNOP_OP_MAX, &k, sig), 0);
	assert_int_equal(signop_verify(big, SIGNOP_OP_MAX, k.sign_pk, sig), 0);
	memset(sig, 0xaa, sizeof sig);
	assert_int_equal(signop_sign(big, SIGNOP_OP_MAX + 1, &k, sig), -1);
	for (size_t i = 0; i < SIGNOP_SIGLEN; i++)
		assert_int_equal(sig[i], 0);
	assert_int_equal(signop_verify(big, SIGNOP_OP_MAX + 1, k.sign_pk, sig),
			 -1);
	assert_int_equal(signop_sign(NULL, 1, &k, sig), -1);
	assert_int_equal(signop_sign(op_bytes, OP_LEN, NULL, sig), -1);
	assert_int_equal(signop_sign(op_bytes, OP_LEN, &k, NULL), -1);
	assert_int_equal(signop_verify(NULL, 1, k.sign_pk, sig), -1);
	assert_int_equal(signop_verify(op_bytes, OP_LEN, NULL, sig), -1);
	assert_int_equal(signop_verify(op_bytes, OP_LEN, k.sign_pk, NULL), -1);
	free(big);
	sodium_memzero(&k, sizeof k);
}

static void test_idempotency_key(void **state)
{
	uint8_t a[SIGNOP_IDEMPOTENCY_LEN], b[SIGNOP_IDEMPOTENCY_LEN];
	uint8_t zero[SIGNOP_IDEMPOTENCY_LEN] = {0};

	(void)state;
	signop_new_idempotency_key(a);
	signop_new_idempotency_key(b);
	assert_memory_not_equal(a, b, SIGNOP_IDEMPOTENCY_LEN);
	assert_memory_not_equal(a, zero, SIGNOP_IDEMPOTENCY_LEN);
}

/* The digest is SHA-256 of exactly the bytes given. */
static void test_digest(void **state)
{
	/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
	static const uint8_t abc[32] = {
	    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
	    0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
	    0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	uint8_t d[SIGNOP_DIGEST_LEN];

	(void)state;
	assert_int_equal(signop_digest((const uint8_t *)"abc", 3, d), 0);
	assert_memory_equal(d, abc, sizeof(abc));
	assert_int_equal(signop_digest((const uint8_t *)"abd", 3, d), 0);
	assert_memory_not_equal(d, abc, sizeof(abc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_digest),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_flipped_bits),
	    cmocka_unit_test(test_other_key),
	    cmocka_unit_test(test_domain_separation),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_idempotency_key),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
