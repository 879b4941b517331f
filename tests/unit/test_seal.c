/*
 * Unit tests of common/seal: a box made by a regional client opens at head
 * office with the key computed from the other side, and nowhere else;
 * small-order public keys are refused; sealed stored fields open only
 * under their key and associated data; the blind index joins the spellings
 * of one national ID and separates everything else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"

/* A beneficiary's identity fields, as the client would pack them. */
static const uint8_t identity[] = "CIN AB123456; Fatima Zahra Benali; "
				  "\xd9\x81\xd8\xa7\xd8\xb7\xd9\x85\xd8\xa9; "
				  "1989-04-12; +212 600 000 000";
#define IDENTITY_LEN (sizeof identity - 1)
/* Room for every ID character between a space and a '-'. */
#define SPACED_LEN (3 * (size_t)SEAL_INDEX_ID_MAX)

struct pair {
	uint8_t pk[crypto_box_PUBLICKEYBYTES];
	uint8_t sk[crypto_box_SECRETKEYBYTES];
};

static void new_pair(struct pair *p)
{
	assert_int_equal(crypto_box_keypair(p->pk, p->sk), 0);
}

/* The box key from both sides: client sk + data pk, data sk + client pk. */
static void box_keys(const struct pair *client, const struct pair *data,
		     uint8_t at_client[SEAL_KEYLEN],
		     uint8_t at_server[SEAL_KEYLEN])
{
	assert_int_equal(seal_box_key(at_client, data->pk, client->sk), 0);
	assert_int_equal(seal_box_key(at_server, client->pk, data->sk), 0);
}

static void test_box_round_trip(void **state)
{
	struct pair client, data;
	uint8_t kc[SEAL_KEYLEN], ks[SEAL_KEYLEN];
	uint8_t box[IDENTITY_LEN + SEAL_BOX_OVERHEAD], again[sizeof box];
	uint8_t out[IDENTITY_LEN];

	(void)state;
	new_pair(&client);
	new_pair(&data);
	box_keys(&client, &data, kc, ks);
	assert_memory_equal(kc, ks, SEAL_KEYLEN);
	assert_int_equal(seal_box(kc, identity, IDENTITY_LEN, box), 0);
	assert_int_equal(seal_box_open(ks, box, sizeof box, out), 0);
	assert_memory_equal(out, identity, IDENTITY_LEN);
	/* A fresh nonce each time: the same fields never box the same. */
	assert_int_equal(seal_box(kc, identity, IDENTITY_LEN, again), 0);
	assert_memory_not_equal(box, again, SEAL_BOX_NONCELEN);
	assert_memory_not_equal(box, again, sizeof box);
	/* It is an ordinary crypto_box: nonce in front. */
	assert_int_equal(crypto_box_open_easy(out, box + SEAL_BOX_NONCELEN,
					      sizeof box - SEAL_BOX_NONCELEN,
					      box, client.pk, data.sk),
			 0);
	assert_memory_equal(out, identity, IDENTITY_LEN);
	/* Empty contents box and open too. */
	assert_int_equal(seal_box(kc, NULL, 0, box), 0);
	assert_int_equal(seal_box_open(ks, box, SEAL_BOX_OVERHEAD, NULL), 0);
}

static void test_box_tampered(void **state)
{
	struct pair client, data;
	uint8_t kc[SEAL_KEYLEN], ks[SEAL_KEYLEN];
	uint8_t box[IDENTITY_LEN + SEAL_BOX_OVERHEAD];
	uint8_t out[IDENTITY_LEN];

	(void)state;
	new_pair(&client);
	new_pair(&data);
	box_keys(&client, &data, kc, ks);
	assert_int_equal(seal_box(kc, identity, IDENTITY_LEN, box), 0);
	for (size_t i = 0; i < sizeof box; i++) {
		box[i] ^= 0x01;
		assert_int_equal(seal_box_open(ks, box, sizeof box, out), -1);
		box[i] ^= 0x01;
	}
	assert_int_equal(seal_box_open(ks, box, sizeof box - 1, out), -1);
	assert_int_equal(seal_box_open(ks, box, SEAL_BOX_OVERHEAD - 1, out),
			 -1);
	assert_int_equal(seal_box_open(ks, box, 0, out), -1);
	assert_int_equal(seal_box_open(ks, box, sizeof box, out), 0);
}

static void test_box_wrong_key(void **state)
{
	struct pair client, data, other;
	uint8_t kc[SEAL_KEYLEN], ks[SEAL_KEYLEN], ko[SEAL_KEYLEN];
	uint8_t box[IDENTITY_LEN + SEAL_BOX_OVERHEAD];
	uint8_t out[IDENTITY_LEN];

	(void)state;
	new_pair(&client);
	new_pair(&data);
	new_pair(&other);
	box_keys(&client, &data, kc, ks);
	assert_int_equal(seal_box(kc, identity, IDENTITY_LEN, box), 0);
	/* Another client's key, or another data key, opens nothing. */
	assert_int_equal(seal_box_key(ko, other.pk, data.sk), 0);
	assert_int_equal(seal_box_open(ko, box, sizeof box, out), -1);
	assert_int_equal(seal_box_key(ko, client.pk, other.sk), 0);
	assert_int_equal(seal_box_open(ko, box, sizeof box, out), -1);
	assert_int_equal(seal_box_open(ks, box, sizeof box, out), 0);
}

static void test_box_small_order(void **state)
{
	/* libsodium's blacklist of small-order X25519 points, a few of them. */
	static const uint8_t bad[][32] = {
	    {0},
	    {1},
	    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
	     0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
	     0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
	    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	};
	struct pair me;
	uint8_t key[SEAL_KEYLEN];

	(void)state;
	new_pair(&me);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(key, 0xaa, sizeof key);
		assert_int_equal(seal_box_key(key, bad[i], me.sk), -1);
		for (size_t j = 0; j < sizeof key; j++)
			assert_int_equal(key[j], 0);
	}
}

/* Keys derived from a fresh data key pair. */
static void new_keys(seal_keys *k)
{
	struct pair data;

	new_pair(&data);
	assert_int_equal(seal_derive(k, data.sk), 0);
	sodium_memzero(&data, sizeof data);
}

static void test_derive(void **state)
{
	struct pair data;
	seal_keys a, b;
	uint8_t sub[SEAL_KEYLEN];

	(void)state;
	new_pair(&data);
	assert_int_equal(seal_derive(&a, data.sk), 0);
	assert_int_equal(seal_derive(&b, data.sk), 0);
	assert_memory_equal(&a, &b, sizeof a);
	assert_memory_not_equal(a.rest, a.index, SEAL_KEYLEN);
	/* crypto_kdf, context "tamwilDK", ids 1 and 2. */
	assert_int_equal(
	    crypto_kdf_derive_from_key(sub, sizeof sub, 1, "tamwilDK", data.sk),
	    0);
	assert_memory_equal(sub, a.rest, SEAL_KEYLEN);
	assert_int_equal(
	    crypto_kdf_derive_from_key(sub, sizeof sub, 2, "tamwilDK", data.sk),
	    0);
	assert_memory_equal(sub, a.index, SEAL_KEYLEN);
	new_keys(&b);
	assert_memory_not_equal(a.rest, b.rest, SEAL_KEYLEN);
	assert_int_equal(seal_derive(&b, NULL), -1);
}

static void test_rest_round_trip(void **state)
{
	static const uint8_t ad[] = "beneficiary 42";
	seal_keys k;
	uint8_t ct[IDENTITY_LEN + SEAL_REST_OVERHEAD], again[sizeof ct];
	uint8_t out[IDENTITY_LEN];

	(void)state;
	new_keys(&k);
	assert_int_equal(
	    seal_rest(&k, identity, IDENTITY_LEN, ad, sizeof ad - 1, ct), 0);
	assert_int_equal(
	    seal_rest_open(&k, ct, sizeof ct, ad, sizeof ad - 1, out), 0);
	assert_memory_equal(out, identity, IDENTITY_LEN);
	assert_int_equal(
	    seal_rest(&k, identity, IDENTITY_LEN, ad, sizeof ad - 1, again), 0);
	assert_memory_not_equal(ct, again, sizeof ct);
	/* Without associated data. */
	assert_int_equal(seal_rest(&k, identity, IDENTITY_LEN, NULL, 0, ct), 0);
	assert_int_equal(seal_rest_open(&k, ct, sizeof ct, NULL, 0, out), 0);
	assert_memory_equal(out, identity, IDENTITY_LEN);
	/* Empty contents. */
	assert_int_equal(seal_rest(&k, NULL, 0, ad, sizeof ad - 1, ct), 0);
	assert_int_equal(
	    seal_rest_open(&k, ct, SEAL_REST_OVERHEAD, ad, sizeof ad - 1, NULL),
	    0);
}

static void test_rest_refusals(void **state)
{
	static const uint8_t ad[] = "beneficiary 42";
	static const uint8_t other_ad[] = "beneficiary 43";
	seal_keys k, other;
	uint8_t ct[IDENTITY_LEN + SEAL_REST_OVERHEAD];
	uint8_t out[IDENTITY_LEN];

	(void)state;
	new_keys(&k);
	new_keys(&other);
	assert_int_equal(
	    seal_rest(&k, identity, IDENTITY_LEN, ad, sizeof ad - 1, ct), 0);
	/* Wrong, missing or truncated associated data. */
	assert_int_equal(seal_rest_open(&k, ct, sizeof ct, other_ad,
					sizeof other_ad - 1, out),
			 -1);
	assert_int_equal(seal_rest_open(&k, ct, sizeof ct, NULL, 0, out), -1);
	assert_int_equal(
	    seal_rest_open(&k, ct, sizeof ct, ad, sizeof ad - 2, out), -1);
	/* Wrong key: another data key's, or the index key. */
	assert_int_equal(
	    seal_rest_open(&other, ct, sizeof ct, ad, sizeof ad - 1, out), -1);
	memcpy(other.rest, k.index, SEAL_KEYLEN);
	assert_int_equal(
	    seal_rest_open(&other, ct, sizeof ct, ad, sizeof ad - 1, out), -1);
	/* Any changed byte, or a short ciphertext. */
	for (size_t i = 0; i < sizeof ct; i++) {
		ct[i] ^= 0x80;
		assert_int_equal(
		    seal_rest_open(&k, ct, sizeof ct, ad, sizeof ad - 1, out),
		    -1);
		ct[i] ^= 0x80;
	}
	assert_int_equal(
	    seal_rest_open(&k, ct, sizeof ct - 1, ad, sizeof ad - 1, out), -1);
	assert_int_equal(seal_rest_open(&k, ct, SEAL_REST_OVERHEAD - 1, ad,
					sizeof ad - 1, out),
			 -1);
	assert_int_equal(
	    seal_rest_open(&k, ct, sizeof ct, ad, sizeof ad - 1, out), 0);
}

static void test_index(void **state)
{
	static const char *const same[] = {"AB123456", "ab 123456", "AB-123456",
					   " a-b 12 34 56 ", "Ab123456"};
	seal_keys k, other;
	uint8_t ref[SEAL_INDEX_LEN], got[SEAL_INDEX_LEN];

	(void)state;
	new_keys(&k);
	new_keys(&other);
	assert_int_equal(seal_index(&k, "AB123456", ref), 0);
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		assert_int_equal(seal_index(&k, same[i], got), 0);
		assert_memory_equal(ref, got, SEAL_INDEX_LEN);
	}
	/* Keyed BLAKE2b-256 of the normalised ID under the index key. */
	assert_int_equal(crypto_generichash(got, sizeof got,
					    (const uint8_t *)"AB123456", 8,
					    k.index, sizeof k.index),
			 0);
	assert_memory_equal(ref, got, SEAL_INDEX_LEN);
	/* Another ID, another key: another index. */
	assert_int_equal(seal_index(&k, "AB123457", got), 0);
	assert_memory_not_equal(ref, got, SEAL_INDEX_LEN);
	assert_int_equal(seal_index(&k, "BA123456", got), 0);
	assert_memory_not_equal(ref, got, SEAL_INDEX_LEN);
	assert_int_equal(seal_index(&other, "AB123456", got), 0);
	assert_memory_not_equal(ref, got, SEAL_INDEX_LEN);
	/* An Algerian NIN: 18 digits. */
	assert_int_equal(seal_index(&k, "109 870 123 456 789 012", got), 0);
	assert_memory_not_equal(ref, got, SEAL_INDEX_LEN);
}

static void test_index_refusals(void **state)
{
	static const char *const bad[] = {
	    "",
	    "  ",
	    "- -",
	    "AB12345\xc3\xa9",	/* é */
	    "AB\302\240123456", /* no-break space */
	    "AB_123456",
	    "AB.123456",
	    "AB\t123456",
	    "AB123456\n",
	    "\xd9\xa1\xd9\xa2\xd9\xa3",
	    /* 65 characters once normalised. */
	    "12345678901234567890123456789012345678901234567890123456789012345",
	};
	char max[SEAL_INDEX_ID_MAX + 1];
	char spaced[SPACED_LEN + 1];
	seal_keys k;
	uint8_t out[SEAL_INDEX_LEN];

	(void)state;
	new_keys(&k);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(out, 0xaa, sizeof out);
		assert_int_equal(seal_index(&k, bad[i], out), -1);
		for (size_t j = 0; j < sizeof out; j++)
			assert_int_equal(out[j], 0);
	}
	assert_int_equal(seal_index(&k, NULL, out), -1);
	/* 64 characters pass, however many spaces and dashes surround them. */
	memset(max, 'A', SEAL_INDEX_ID_MAX);
	max[SEAL_INDEX_ID_MAX] = '\0';
	assert_int_equal(seal_index(&k, max, out), 0);
	for (size_t i = 0; i < SEAL_INDEX_ID_MAX; i++) {
		spaced[3 * i] = ' ';
		spaced[3 * i + 1] = 'a';
		spaced[3 * i + 2] = '-';
	}
	spaced[SPACED_LEN] = '\0';
	{
		uint8_t again[SEAL_INDEX_LEN];

		assert_int_equal(seal_index(&k, spaced, again), 0);
		assert_memory_equal(out, again, SEAL_INDEX_LEN);
	}
	/* One more is refused. */
	spaced[SPACED_LEN - 1] = 'B'; /* in place of the last '-' */
	assert_int_equal(seal_index(&k, spaced, out), -1);
}

static void test_derive_version(void **state)
{
	struct pair data;
	uint8_t master[SEAL_KEYLEN], sub[SEAL_KEYLEN];
	seal_keys v0, a, b;

	(void)state;
	new_pair(&data);
	randombytes_buf(master, sizeof master);
	assert_int_equal(seal_derive_version(&a, master), 0);
	assert_int_equal(seal_derive_version(&b, master), 0);
	assert_memory_equal(&a, &b, sizeof a);
	assert_memory_not_equal(a.rest, a.index, SEAL_KEYLEN);
	/* crypto_kdf, context "tamwilRK", ids 1 and 2. */
	assert_int_equal(
	    crypto_kdf_derive_from_key(sub, sizeof sub, 1, "tamwilRK", master),
	    0);
	assert_memory_equal(sub, a.rest, SEAL_KEYLEN);
	assert_int_equal(
	    crypto_kdf_derive_from_key(sub, sizeof sub, 2, "tamwilRK", master),
	    0);
	assert_memory_equal(sub, a.index, SEAL_KEYLEN);
	/* The same 32 bytes as a data key and as a master key part ways. */
	assert_int_equal(seal_derive(&v0, data.sk), 0);
	assert_int_equal(seal_derive_version(&b, data.sk), 0);
	assert_memory_not_equal(v0.rest, b.rest, SEAL_KEYLEN);
	assert_memory_not_equal(v0.index, b.index, SEAL_KEYLEN);
	memset(&b, 0x55, sizeof b);
	assert_int_equal(seal_derive_version(&b, NULL), -1);
	assert_true(sodium_is_zero((const uint8_t *)&b, sizeof b));
}

/* Two versions as a rotation has them: version 0 and a fresh one. */
static void two_versions(seal_ring *ring)
{
	uint8_t master[SEAL_KEYLEN];
	seal_keys k;

	memset(ring, 0, sizeof *ring);
	new_keys(&k);
	assert_int_equal(seal_ring_add(ring, &k), 0);
	randombytes_buf(master, sizeof master);
	assert_int_equal(seal_derive_version(&k, master), 0);
	assert_int_equal(seal_ring_add(ring, &k), 0);
}

static void test_ring(void **state)
{
	seal_ring *ring = calloc(1, sizeof *ring);
	seal_keys k;

	(void)state;
	assert_non_null(ring);
	assert_int_equal(seal_ring_count(ring), 0);
	assert_null(seal_ring_get(ring, 0));
	for (unsigned v = 0; v < SEAL_VERSIONS_MAX; v++) {
		memset(&k, (int)v, sizeof k);
		assert_int_equal(seal_ring_add(ring, &k), 0);
		assert_int_equal(seal_ring_count(ring), v + 1);
		assert_memory_equal(seal_ring_get(ring, v), &k, sizeof k);
		assert_null(seal_ring_get(ring, v + 1));
	}
	/* Full: refused, and what it holds is unchanged. */
	assert_int_equal(seal_ring_add(ring, &k), -1);
	assert_int_equal(seal_ring_count(ring), SEAL_VERSIONS_MAX);
	memset(&k, 0, sizeof k);
	assert_memory_equal(seal_ring_get(ring, 0), &k, sizeof k);
	assert_int_equal(seal_ring_add(NULL, &k), -1);
	assert_int_equal(seal_ring_add(ring, NULL), -1);
	/* A retired place: counted, and no keys to be had from it. */
	memset(ring, 0, sizeof *ring);
	memset(&k, 0x33, sizeof k);
	assert_int_equal(seal_ring_add(ring, &k), 0);
	assert_int_equal(seal_ring_add(ring, NULL), 0);
	assert_int_equal(seal_ring_add(ring, &k), 0);
	assert_int_equal(seal_ring_count(ring), 3);
	assert_non_null(seal_ring_get(ring, 0));
	assert_null(seal_ring_get(ring, 1));
	assert_memory_equal(seal_ring_get(ring, 2), &k, sizeof k);
	free(ring);
}

/*
 * A field sealed under one version opens under it alone, and a national
 * ID's blind index is another under each version: a lookup must try
 * every version a row may still be under.
 */
static void test_across_versions(void **state)
{
	seal_ring *ring = calloc(1, sizeof *ring);
	uint8_t idx0[SEAL_INDEX_LEN], idx1[SEAL_INDEX_LEN],
	    again[SEAL_INDEX_LEN];
	uint8_t ct0[IDENTITY_LEN + SEAL_REST_OVERHEAD], ct1[sizeof ct0];
	uint8_t out[IDENTITY_LEN];
	const seal_keys *k0, *k1;

	(void)state;
	assert_non_null(ring);
	two_versions(ring);
	k0 = seal_ring_get(ring, 0);
	k1 = seal_ring_get(ring, 1);
	assert_int_equal(seal_index(k0, "AB123456", idx0), 0);
	assert_int_equal(seal_index(k1, "ab-123456", idx1), 0);
	assert_memory_not_equal(idx0, idx1, SEAL_INDEX_LEN);
	assert_int_equal(seal_index(k1, "AB 123456", again), 0);
	assert_memory_equal(idx1, again, SEAL_INDEX_LEN);
	assert_int_equal(
	    seal_rest(k0, identity, IDENTITY_LEN, idx0, sizeof idx0, ct0), 0);
	assert_int_equal(
	    seal_rest(k1, identity, IDENTITY_LEN, idx1, sizeof idx1, ct1), 0);
	assert_int_equal(
	    seal_rest_open(k0, ct0, sizeof ct0, idx0, sizeof idx0, out), 0);
	assert_memory_equal(out, identity, IDENTITY_LEN);
	assert_int_equal(
	    seal_rest_open(k1, ct1, sizeof ct1, idx1, sizeof idx1, out), 0);
	assert_memory_equal(out, identity, IDENTITY_LEN);
	/* Under the other version's key, or bound to the other index: no. */
	assert_int_equal(
	    seal_rest_open(k1, ct0, sizeof ct0, idx0, sizeof idx0, out), -1);
	assert_int_equal(
	    seal_rest_open(k0, ct1, sizeof ct1, idx1, sizeof idx1, out), -1);
	assert_int_equal(
	    seal_rest_open(k1, ct1, sizeof ct1, idx0, sizeof idx0, out), -1);
	/* A version not held opens nothing. */
	assert_int_equal(seal_rest_open(seal_ring_get(ring, 2), ct1, sizeof ct1,
					idx1, sizeof idx1, out),
			 -1);
	free(ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_box_round_trip),
	    cmocka_unit_test(test_box_tampered),
	    cmocka_unit_test(test_box_wrong_key),
	    cmocka_unit_test(test_box_small_order),
	    cmocka_unit_test(test_derive),
	    cmocka_unit_test(test_rest_round_trip),
	    cmocka_unit_test(test_rest_refusals),
	    cmocka_unit_test(test_index),
	    cmocka_unit_test(test_index_refusals),
	    cmocka_unit_test(test_derive_version),
	    cmocka_unit_test(test_ring),
	    cmocka_unit_test(test_across_versions),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
