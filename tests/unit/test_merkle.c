/*
 * Unit tests of common/merkle and common/checkpoint. A reference written
 * straight from RFC 9162's definitions (MTH, PATH, SUBPROOF over an array
 * of leaf hashes, hashed with libsodium directly) is checked against the
 * library, which sees the same leaves only through an in-memory store of
 * perfect-subtree hashes that merkle_append() filled. Published
 * Certificate Transparency vectors pin the hashing; every proof in trees
 * of up to 64 leaves verifies and no tampered one does; proofs of a
 * ten-million-leaf tree cost O(log n) fetches; checkpoints sign a pinned
 * 68-byte body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "keyfile.h"
#include "merkle.h"

#define LEVELS 64
/* Leaves in the shared tree: enough for 1024 and 1025. */
#define BIG 1025
/* Trees up to this size are checked exhaustively. */
#define SMALL	  64
#define HUGE_SIZE 10000000ULL

/* ------------------------------------------------------------------
 * The reference: RFC 9162 section 2.1 over an array of leaf hashes.
 */

/* SHA-256(0x00 || entry). */
static void ref_leaf(const uint8_t *entry, size_t len, merkle_hash out)
{
	uint8_t buf[64];

	assert_true(len < sizeof(buf));
	buf[0] = 0x00;
	if (len > 0)
		memcpy(buf + 1, entry, len);
	assert_int_equal(crypto_hash_sha256(out, buf, len + 1), 0);
}

/* SHA-256(0x01 || left || right). */
static void ref_node(const merkle_hash l, const merkle_hash r, merkle_hash out)
{
	uint8_t buf[1 + 2 * MERKLE_HASHLEN];

	buf[0] = 0x01;
	memcpy(buf + 1, l, MERKLE_HASHLEN);
	memcpy(buf + 1 + MERKLE_HASHLEN, r, MERKLE_HASHLEN);
	assert_int_equal(crypto_hash_sha256(out, buf, sizeof(buf)), 0);
}

/* The largest power of two smaller than n (n >= 2). */
static size_t ref_split(size_t n)
{
	size_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH(D[n]) by the RFC's recursive definition. */
static void ref_mth(const merkle_hash *d, size_t n, merkle_hash out)
{
	merkle_hash l, r;
	size_t k;

	if (n == 0) {
		assert_int_equal(
		    crypto_hash_sha256(out, (const uint8_t *)"", 0), 0);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], MERKLE_HASHLEN);
		return;
	}
	k = ref_split(n);
	ref_mth(d, k, l);
	ref_mth(d + k, n - k, r);
	ref_node(l, r, out);
}

/* Appends MTH(D[n]) to out[*len]. */
static void ref_push(const merkle_hash *d, size_t n, merkle_hash *out,
		     size_t *len)
{
	ref_mth(d, n, out[*len]);
	(*len)++;
}

/* PATH(m, D[n]) appended to out[*len] (RFC 9162 2.1.3.1). */
static void ref_path(size_t m, const merkle_hash *d, size_t n, merkle_hash *out,
		     size_t *len)
{
	size_t k;

	if (n == 1)
		return;
	k = ref_split(n);
	if (m < k) {
		ref_path(m, d, k, out, len);
		ref_push(d + k, n - k, out, len);
	} else {
		ref_path(m - k, d + k, n - k, out, len);
		ref_push(d, k, out, len);
	}
}

/* SUBPROOF(m, D[n], b) appended to out[*len] (RFC 9162 2.1.4.1). */
static void ref_subproof(size_t m, const merkle_hash *d, size_t n, int b,
			 merkle_hash *out, size_t *len)
{
	size_t k;

	if (m == n) {
		if (!b)
			ref_push(d, n, out, len);
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		ref_subproof(m, d, k, b, out, len);
		ref_push(d + k, n - k, out, len);
	} else {
		ref_subproof(m - k, d + k, n - k, 0, out, len);
		ref_push(d, k, out, len);
	}
}

/* ceil(log2(n)) for n >= 1. */
static size_t ceil_log2(uint64_t n)
{
	size_t bits = 0;

	while (bits < 64 && ((uint64_t)1 << bits) < n)
		bits++;
	return bits;
}

/* ------------------------------------------------------------------
 * An in-memory node store, filled by merkle_append().
 */

typedef struct node_store {
	merkle_hash *nodes[LEVELS];
	uint64_t count[LEVELS];
	/* Fetches beyond the first `limit` leaves fail: 0 means no limit. */
	uint64_t limit;
	unsigned fetches;
	int fail_fetch, fail_store;
} node_store;

static int store_fetch(void *arg, unsigned level, uint64_t index,
		       merkle_hash out)
{
	node_store *s = arg;

	s->fetches++;
	if (s->fail_fetch || level >= LEVELS || index >= s->count[level])
		return -1;
	if (s->limit != 0 && index >= (s->limit >> level))
		return -1;
	memcpy(out, s->nodes[level][index], MERKLE_HASHLEN);
	return 0;
}

/* Accepts only the next node of each level, as appends produce them. */
static int store_put(void *arg, unsigned level, uint64_t index,
		     const merkle_hash hash)
{
	node_store *s = arg;
	merkle_hash *grown;

	if (s->fail_store || level >= LEVELS || index != s->count[level])
		return -1;
	grown = realloc(s->nodes[level], (index + 1) * sizeof(merkle_hash));
	if (grown == NULL)
		return -1;
	s->nodes[level] = grown;
	memcpy(grown[index], hash, MERKLE_HASHLEN);
	s->count[level]++;
	return 0;
}

static void store_free(node_store *s)
{
	unsigned i;

	for (i = 0; i < LEVELS; i++)
		free(s->nodes[i]);
	memset(s, 0, sizeof(*s));
}

/* The shared fixture: BIG leaf hashes and the store they were appended to. */
typedef struct fixture {
	merkle_hash leaves[BIG];
	merkle_hash roots[SMALL + 1]; /* reference roots of sizes 0..SMALL */
	node_store store;
} fixture;

/* Entry i of the fixture's log. */
static size_t entry_of(unsigned i, uint8_t *buf, size_t cap)
{
	int len = snprintf((char *)buf, cap, "tamwil log entry %u", i);

	assert_true(len > 0 && (size_t)len < cap);
	return (size_t)len;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	uint8_t entry[48];
	unsigned i;

	if (f == NULL)
		return -1;
	for (i = 0; i < BIG; i++) {
		size_t len = entry_of(i, entry, sizeof(entry));
		merkle_hash h;

		ref_leaf(entry, len, f->leaves[i]);
		if (merkle_leaf_hash(entry, len, h) != 0 ||
		    merkle_append(i, h, store_fetch, store_put, &f->store) != 0)
			return -1;
	}
	for (i = 0; i <= SMALL; i++)
		ref_mth(f->leaves, i, f->roots[i]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	store_free(&f->store);
	free(f);
	return 0;
}

/* Decodes 64 hex digits. */
static void from_hex(const char *hex, merkle_hash out)
{
	size_t len = 0;

	assert_int_equal(sodium_hex2bin(out, MERKLE_HASHLEN, hex, strlen(hex),
					NULL, &len, NULL),
			 0);
	assert_int_equal(len, MERKLE_HASHLEN);
}

/* ------------------------------------------------------------------
 * Hashing and roots.
 */

static void test_leaf_and_node_hash(void **state)
{
	static const uint8_t entry[] = "\x01\x02\x03";
	merkle_hash a, b, c, d;

	(void)state;
	assert_int_equal(merkle_leaf_hash(entry, 3, a), 0);
	ref_leaf(entry, 3, b);
	assert_memory_equal(a, b, MERKLE_HASHLEN);
	assert_int_equal(merkle_leaf_hash(NULL, 0, a), 0);
	ref_leaf(NULL, 0, b);
	assert_memory_equal(a, b, MERKLE_HASHLEN);
	assert_int_equal(merkle_leaf_hash(NULL, 1, a), -1);
	assert_int_equal(merkle_leaf_hash(entry, 3, NULL), -1);

	assert_int_equal(merkle_leaf_hash(entry, 1, c), 0);
	assert_int_equal(merkle_node_hash(a, c, d), 0);
	ref_node(a, c, b);
	assert_memory_equal(d, b, MERKLE_HASHLEN);
	/* The output may be one of the inputs. */
	assert_int_equal(merkle_node_hash(a, c, a), 0);
	assert_memory_equal(a, b, MERKLE_HASHLEN);
	assert_int_equal(merkle_node_hash(NULL, c, d), -1);
}

static void test_empty_root(void **state)
{
	merkle_hash root, want;

	(void)state;
	from_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852"
		 "b855",
		 want);
	/* No fetch is needed (nor made) for the empty tree. */
	assert_int_equal(merkle_root(0, NULL, NULL, root), 0);
	assert_memory_equal(root, want, MERKLE_HASHLEN);
	assert_int_equal(merkle_range(0, 0, NULL, NULL, root), 0);
	assert_memory_equal(root, want, MERKLE_HASHLEN);
}

/* merkle_root(size) over the fixture's store equals the reference. */
static void check_root(fixture *f, uint64_t size)
{
	merkle_hash got, want;

	f->store.limit = size;
	assert_int_equal(merkle_root(size, store_fetch, &f->store, got), 0);
	ref_mth(f->leaves, size, want);
	assert_memory_equal(got, want, MERKLE_HASHLEN);
	f->store.limit = 0;
}

static void test_roots_match_reference(void **state)
{
	static const uint64_t larger[] = {127,	128,  129, 1000,
					  1023, 1024, 1025};
	fixture *f = *state;
	uint64_t size;
	size_t i;

	for (size = 0; size <= 70; size++)
		check_root(f, size);
	for (i = 0; i < sizeof(larger) / sizeof(larger[0]); i++)
		check_root(f, larger[i]);
	/* A tree beyond the stored leaves cannot be hashed. */
	{
		merkle_hash h;

		assert_int_equal(
		    merkle_root(BIG + 1, store_fetch, &f->store, h), -1);
	}
}

/* Every stored node is MTH of its aligned 2^level leaves. */
static void test_append_stores_perfect_subtrees(void **state)
{
	fixture *f = *state;
	unsigned level;

	for (level = 0; level < LEVELS; level++) {
		uint64_t width = (uint64_t)1 << level, j;

		assert_int_equal(f->store.count[level], BIG >> level);
		for (j = 0; j < f->store.count[level]; j++) {
			merkle_hash want;

			ref_mth(f->leaves + j * width, width, want);
			assert_memory_equal(f->store.nodes[level][j], want,
					    MERKLE_HASHLEN);
		}
		if (f->store.count[level] == 0)
			break;
	}
}

static void test_append_errors(void **state)
{
	node_store s;
	merkle_hash h;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(h, 7, sizeof(h));
	assert_int_equal(merkle_append(0, h, store_fetch, store_put, &s), 0);
	assert_int_equal(
	    merkle_append(UINT64_MAX, h, store_fetch, store_put, &s), -1);
	assert_int_equal(merkle_append(1, NULL, store_fetch, store_put, &s),
			 -1);
	assert_int_equal(merkle_append(1, h, NULL, store_put, &s), -1);
	assert_int_equal(merkle_append(1, h, store_fetch, NULL, &s), -1);
	s.fail_store = 1;
	assert_int_equal(merkle_append(1, h, store_fetch, store_put, &s), -1);
	s.fail_store = 0;
	/* Leaf 1 completes level 1, which needs leaf 0 fetched. */
	s.fail_fetch = 1;
	assert_int_equal(merkle_append(1, h, store_fetch, store_put, &s), -1);
	s.fail_fetch = 0;
	store_free(&s);
	memset(&s, 0, sizeof(s));
	assert_int_equal(merkle_append(0, h, store_fetch, store_put, &s), 0);
	assert_int_equal(merkle_append(1, h, store_fetch, store_put, &s), 0);
	assert_int_equal(s.count[0], 2);
	assert_int_equal(s.count[1], 1);
	store_free(&s);
}

static void test_range_errors(void **state)
{
	fixture *f = *state;
	merkle_hash h, want;

	assert_int_equal(merkle_range(3, 2, store_fetch, &f->store, h), -1);
	assert_int_equal(merkle_range(5, 5, store_fetch, &f->store, h), -1);
	/* [1, 3) and [2, 10) are misaligned; [1, 2) is one leaf. */
	assert_int_equal(merkle_range(1, 3, store_fetch, &f->store, h), -1);
	assert_int_equal(merkle_range(2, 10, store_fetch, &f->store, h), -1);
	assert_int_equal(merkle_range(1, 2, store_fetch, &f->store, h), 0);
	assert_memory_equal(h, f->leaves[1], MERKLE_HASHLEN);
	/* [8, 13): a right part the recursion produces (tree of 13). */
	assert_int_equal(merkle_range(8, 13, store_fetch, &f->store, h), 0);
	ref_mth(f->leaves + 8, 5, want);
	assert_memory_equal(h, want, MERKLE_HASHLEN);
	assert_int_equal(merkle_range(0, 3, NULL, NULL, h), -1);
	assert_int_equal(merkle_range(0, 3, store_fetch, &f->store, NULL), -1);
	f->store.fail_fetch = 1;
	assert_int_equal(merkle_range(0, 3, store_fetch, &f->store, h), -1);
	f->store.fail_fetch = 0;
}

/* ------------------------------------------------------------------
 * Published vectors: Certificate Transparency's test tree (RFC 6962
 * hashing, which RFC 9162 keeps), and a tree of the bytes 0..6.
 */

#define H_6E34                                                                 \
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
#define H_FAC5                                                                 \
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
#define H_D37E                                                                 \
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
#define H_96A2                                                                 \
	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
#define H_5F08                                                                 \
	"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
#define H_6B47                                                                 \
	"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
#define H_BC1A                                                                 \
	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
#define H_CA85                                                                 \
	"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
#define H_0EBC                                                                 \
	"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"

static const char *const ct_entries[8] = {
    "",
    "\x00",
    "\x10",
    "\x20\x21",
    "\x30\x31",
    "\x40\x41\x42\x43",
    "\x50\x51\x52\x53\x54\x55\x56\x57",
    "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
static const size_t ct_lens[8] = {0, 1, 1, 2, 2, 4, 8, 16};

/* MTH of the first 1..8 entries. */
static const char *const ct_roots[8] = {
    H_6E34,
    H_FAC5,
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    H_D37E,
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

/* A published proof: (a, b) is (index, size) or (old size, new size). */
typedef struct known_proof {
	uint64_t a, b;
	size_t n;
	const char *hashes[4];
} known_proof;

static const known_proof ct_inclusion[] = {
    {0, 8, 3, {H_96A2, H_5F08, H_6B47, NULL}},
    {5, 8, 3, {H_BC1A, H_CA85, H_D37E, NULL}},
    {2, 3, 1, {H_FAC5, NULL, NULL, NULL}},
    {1, 5, 3, {H_6E34, H_5F08, H_BC1A, NULL}},
};

static const known_proof ct_consistency[] = {
    {1, 8, 3, {H_96A2, H_5F08, H_6B47, NULL}},
    {6, 8, 3, {H_0EBC, H_CA85, H_D37E, NULL}},
    {2, 5, 2, {H_5F08, H_BC1A, NULL, NULL}},
};

/* Appends n leaf hashes to a fresh store. */
static void store_fill(node_store *s, const merkle_hash *leaves, size_t n)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++)
		assert_int_equal(
		    merkle_append(i, leaves[i], store_fetch, store_put, s), 0);
}

/* proof (n hashes) is the published one. */
static void assert_known(const known_proof *k, const merkle_hash *proof,
			 size_t n)
{
	size_t i;

	assert_int_equal(n, k->n);
	for (i = 0; i < n; i++) {
		merkle_hash want;

		from_hex(k->hashes[i], want);
		assert_memory_equal(proof[i], want, MERKLE_HASHLEN);
	}
}

/* The CT tree's leaf hashes, and the store they were appended to. */
static void ct_tree(merkle_hash leaves[8], node_store *s)
{
	size_t i;

	for (i = 0; i < 8; i++)
		assert_int_equal(
		    merkle_leaf_hash((const uint8_t *)ct_entries[i], ct_lens[i],
				     leaves[i]),
		    0);
	store_fill(s, leaves, 8);
}

static void test_ct_roots(void **state)
{
	merkle_hash leaves[8], got, want;
	node_store s;
	size_t n;

	(void)state;
	ct_tree(leaves, &s);
	for (n = 1; n <= 8; n++) {
		from_hex(ct_roots[n - 1], want);
		s.limit = n;
		assert_int_equal(merkle_root(n, store_fetch, &s, got), 0);
		assert_memory_equal(got, want, MERKLE_HASHLEN);
		ref_mth(leaves, n, got);
		assert_memory_equal(got, want, MERKLE_HASHLEN);
	}
	store_free(&s);
}

static void test_ct_proofs(void **state)
{
	merkle_hash leaves[8], proof[MERKLE_MAX_PROOF], r1, r2;
	node_store s;
	size_t i, n;

	(void)state;
	ct_tree(leaves, &s);
	for (i = 0; i < sizeof(ct_inclusion) / sizeof(ct_inclusion[0]); i++) {
		const known_proof *k = &ct_inclusion[i];

		assert_int_equal(merkle_inclusion_proof(k->a, k->b, store_fetch,
							&s, proof,
							MERKLE_MAX_PROOF, &n),
				 0);
		assert_known(k, proof, n);
		from_hex(ct_roots[k->b - 1], r1);
		assert_int_equal(merkle_verify_inclusion(
				     k->a, k->b, leaves[k->a], proof, n, r1),
				 0);
	}
	for (i = 0; i < sizeof(ct_consistency) / sizeof(ct_consistency[0]);
	     i++) {
		const known_proof *k = &ct_consistency[i];

		assert_int_equal(
		    merkle_consistency_proof(k->a, k->b, store_fetch, &s, proof,
					     MERKLE_MAX_PROOF, &n),
		    0);
		assert_known(k, proof, n);
		from_hex(ct_roots[k->a - 1], r1);
		from_hex(ct_roots[k->b - 1], r2);
		assert_int_equal(
		    merkle_verify_consistency(k->a, k->b, r1, r2, proof, n), 0);
	}
	store_free(&s);
}

#define H_FCF0                                                                 \
	"fcf0a6c700dd13e274b6fba8deea8dd9b26e4eedde3495717cac8408c9c5177f"
#define H_A20B                                                                 \
	"a20bf9a7cc2dc8a08f5f415a71b19f6ac427bab54d24eec868b5d3103449953a"
#define H_89C9                                                                 \
	"89c929834ed1459b07f65b5e1a2143a8cf5d8efdf30f49ffffa328bb1d9133bb"
#define H_583C                                                                 \
	"583c7dfb7b3055d99465544032a571e10a134b1b6f769422bbb71fd7fa167a5d"

/* The tree whose entry i is the single byte i, for i = 0..6. */
static void test_byte_tree(void **state)
{
	static const known_proof incl = {3, 7, 3, {H_FCF0, H_A20B, H_89C9}};
	static const known_proof cons = {
	    3, 7, 4, {H_FCF0, H_583C, H_A20B, H_89C9}};
	merkle_hash leaves[7], proof[MERKLE_MAX_PROOF], root, want;
	node_store s;
	uint8_t i;
	size_t n;

	(void)state;
	for (i = 0; i < 7; i++)
		assert_int_equal(merkle_leaf_hash(&i, 1, leaves[i]), 0);
	store_fill(&s, leaves, 7);
	assert_int_equal(merkle_root(7, store_fetch, &s, root), 0);
	from_hex("3560191803028444b232018ac047fdb561c09c23a7a6876c85e08b5e4d48"
		 "e9f3",
		 want);
	assert_memory_equal(root, want, MERKLE_HASHLEN);
	assert_int_equal(merkle_inclusion_proof(3, 7, store_fetch, &s, proof,
						MERKLE_MAX_PROOF, &n),
			 0);
	assert_known(&incl, proof, n);
	assert_int_equal(merkle_consistency_proof(3, 7, store_fetch, &s, proof,
						  MERKLE_MAX_PROOF, &n),
			 0);
	assert_known(&cons, proof, n);
	store_free(&s);
}

/* ------------------------------------------------------------------
 * Every inclusion proof of trees of up to SMALL leaves.
 */

/* A copy of h with one bit flipped. */
static void flipped(const merkle_hash h, size_t byte, merkle_hash out)
{
	memcpy(out, h, MERKLE_HASHLEN);
	out[byte % MERKLE_HASHLEN] ^= 0x40;
}

/*
 * The inclusion proof of (index, size) from the fixture's store, limited
 * to the tree's leaves: the reference's PATH, of at most ceil(log2 size)
 * hashes. Returns its length.
 */
static size_t inclusion_from_store(fixture *f, uint64_t index, uint64_t size,
				   merkle_hash *proof)
{
	merkle_hash want[MERKLE_MAX_PROOF];
	size_t n = 0, wn = 0;

	f->store.limit = size;
	assert_int_equal(merkle_inclusion_proof(index, size, store_fetch,
						&f->store, proof,
						MERKLE_MAX_PROOF, &n),
			 0);
	f->store.limit = 0;
	ref_path(index, f->leaves, size, want, &wn);
	assert_int_equal(n, wn);
	if (n > 0)
		assert_memory_equal(proof, want, n * MERKLE_HASHLEN);
	assert_true(n <= ceil_log2(size));
	return n;
}

/* No index but the right one verifies. */
static void inclusion_wrong_index(const fixture *f, uint64_t index,
				  uint64_t size, const merkle_hash *proof,
				  size_t n)
{
	const uint8_t *leaf = f->leaves[index];
	const uint8_t *root = f->roots[size];
	uint64_t j;

	for (j = 0; j <= size; j++) {
		if (j != index)
			assert_int_equal(merkle_verify_inclusion(
					     j, size, leaf, proof, n, root),
					 -1);
	}
	assert_int_equal(
	    merkle_verify_inclusion(UINT64_MAX, size, leaf, proof, n, root),
	    -1);
}

/* A changed leaf, root, or proof (flipped, cut, grown, swapped) fails. */
static void inclusion_tampered(const fixture *f, uint64_t index, uint64_t size,
			       merkle_hash *proof, size_t n)
{
	const uint8_t *leaf = f->leaves[index];
	const uint8_t *root = f->roots[size];
	merkle_hash bad, keep;
	size_t i;

	flipped(leaf, index, bad);
	assert_int_equal(
	    merkle_verify_inclusion(index, size, bad, proof, n, root), -1);
	flipped(root, size, bad);
	assert_int_equal(
	    merkle_verify_inclusion(index, size, leaf, proof, n, bad), -1);
	for (i = 0; i < n; i++) {
		memcpy(keep, proof[i], MERKLE_HASHLEN);
		proof[i][(i + index) % MERKLE_HASHLEN] ^= 0x01;
		assert_int_equal(
		    merkle_verify_inclusion(index, size, leaf, proof, n, root),
		    -1);
		memcpy(proof[i], keep, MERKLE_HASHLEN);
	}
	if (n > 0)
		assert_int_equal(merkle_verify_inclusion(index, size, leaf,
							 proof, n - 1, root),
				 -1);
	memcpy(proof[n], root, MERKLE_HASHLEN);
	assert_int_equal(
	    merkle_verify_inclusion(index, size, leaf, proof, n + 1, root), -1);
	if (n > 1) {
		memcpy(keep, proof[0], MERKLE_HASHLEN);
		memcpy(proof[0], proof[1], MERKLE_HASHLEN);
		memcpy(proof[1], keep, MERKLE_HASHLEN);
		assert_int_equal(
		    merkle_verify_inclusion(index, size, leaf, proof, n, root),
		    -1);
	}
}

static void test_inclusion_all_small(void **state)
{
	fixture *f = *state;
	merkle_hash proof[MERKLE_MAX_PROOF];
	uint64_t size, index;

	for (size = 1; size <= SMALL; size++) {
		for (index = 0; index < size; index++) {
			size_t n = inclusion_from_store(f, index, size, proof);

			assert_int_equal(merkle_verify_inclusion(
					     index, size, f->leaves[index],
					     proof, n, f->roots[size]),
					 0);
			inclusion_wrong_index(f, index, size, proof, n);
			inclusion_tampered(f, index, size, proof, n);
		}
	}
}

/* ------------------------------------------------------------------
 * Every consistency proof between trees of up to SMALL leaves.
 */

/* The consistency proof (old, new) from the store, checked as above. */
static size_t consistency_from_store(fixture *f, uint64_t old, uint64_t new,
				     merkle_hash *proof)
{
	merkle_hash want[MERKLE_MAX_PROOF];
	size_t n = 0, wn = 0;

	f->store.limit = new;
	assert_int_equal(merkle_consistency_proof(old, new, store_fetch,
						  &f->store, proof,
						  MERKLE_MAX_PROOF, &n),
			 0);
	f->store.limit = 0;
	ref_subproof(old, f->leaves, new, 1, want, &wn);
	assert_int_equal(n, wn);
	if (n > 0)
		assert_memory_equal(proof, want, n * MERKLE_HASHLEN);
	assert_true(n <= ceil_log2(new) + 1);
	return n;
}

/* verify_consistency(old, new) with the fixture's roots of those sizes. */
static int verify_sizes(const fixture *f, uint64_t old, uint64_t new,
			const merkle_hash *proof, size_t n)
{
	return merkle_verify_consistency(old, new, f->roots[old], f->roots[new],
					 proof, n);
}

/* A changed root or proof (flipped, cut, grown, swapped) fails. */
static void consistency_tampered(const fixture *f, uint64_t old, uint64_t new,
				 merkle_hash *proof, size_t n)
{
	const uint8_t *r1 = f->roots[old], *r2 = f->roots[new];
	merkle_hash bad, keep;
	size_t i;

	flipped(r1, old, bad);
	assert_int_equal(merkle_verify_consistency(old, new, bad, r2, proof, n),
			 -1);
	flipped(r2, new, bad);
	assert_int_equal(merkle_verify_consistency(old, new, r1, bad, proof, n),
			 -1);
	if (old != new)
		assert_int_equal(
		    merkle_verify_consistency(old, new, r2, r1, proof, n), -1);
	for (i = 0; i < n; i++) {
		memcpy(keep, proof[i], MERKLE_HASHLEN);
		proof[i][(i + old) % MERKLE_HASHLEN] ^= 0x80;
		assert_int_equal(verify_sizes(f, old, new, proof, n), -1);
		memcpy(proof[i], keep, MERKLE_HASHLEN);
	}
	if (n > 0)
		assert_int_equal(verify_sizes(f, old, new, proof, n - 1), -1);
	memcpy(proof[n], r1, MERKLE_HASHLEN);
	assert_int_equal(verify_sizes(f, old, new, proof, n + 1), -1);
	if (n > 1) {
		memcpy(keep, proof[0], MERKLE_HASHLEN);
		memcpy(proof[0], proof[1], MERKLE_HASHLEN);
		memcpy(proof[1], keep, MERKLE_HASHLEN);
		assert_int_equal(verify_sizes(f, old, new, proof, n), -1);
		memcpy(proof[1], proof[0], MERKLE_HASHLEN);
		memcpy(proof[0], keep, MERKLE_HASHLEN);
	}
}

/*
 * The proof of (old, new) fails for any neighbouring pair of sizes, with
 * the roots of those sizes; with the roots of (old, new) it fails for
 * another old size. (A proof alone binds sizes only through the roots:
 * clients take size and root together from a signed checkpoint.)
 */
static void consistency_wrong_sizes(const fixture *f, uint64_t old,
				    uint64_t new, const merkle_hash *proof,
				    size_t n)
{
	uint64_t i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			uint64_t o = old + i - 1, w = new + j - 1;

			if ((o == old && w == new) || o == 0 || o > w ||
			    w > SMALL || (n == 0 && o == w))
				continue;
			assert_int_equal(verify_sizes(f, o, w, proof, n), -1);
		}
	}
	if (old == new)
		return;
	assert_int_equal(merkle_verify_consistency(old - 1, new, f->roots[old],
						   f->roots[new], proof, n),
			 -1);
	assert_int_equal(merkle_verify_consistency(old + 1, new, f->roots[old],
						   f->roots[new], proof, n),
			 -1);
}

static void test_consistency_all_small(void **state)
{
	fixture *f = *state;
	merkle_hash proof[MERKLE_MAX_PROOF];
	uint64_t old, new;

	for (new = 1; new <= SMALL; new ++) {
		for (old = 1; old <= new; old++) {
			size_t n = consistency_from_store(f, old, new, proof);

			assert_int_equal(verify_sizes(f, old, new, proof, n),
					 0);
			consistency_tampered(f, old, new, proof, n);
			consistency_wrong_sizes(f, old, new, proof, n);
		}
	}
}

/* ------------------------------------------------------------------
 * The cost of proofs in a ten-million-leaf tree: fetches only, with a
 * callback that makes up the hash of any perfect subtree of the tree.
 */

typedef struct fake_tree {
	uint64_t size;
	unsigned fetches;
} fake_tree;

/* SHA-256(level || index) for a perfect subtree inside the tree, else -1. */
static int fake_fetch(void *arg, unsigned level, uint64_t index,
		      merkle_hash out)
{
	fake_tree *t = arg;
	uint8_t buf[12];
	int i;

	t->fetches++;
	if (level >= 64 || index >= (t->size >> level))
		return -1;
	for (i = 0; i < 4; i++)
		buf[i] = (uint8_t)(level >> (8 * (3 - i)));
	for (i = 0; i < 8; i++)
		buf[4 + i] = (uint8_t)(index >> (8 * (7 - i)));
	return crypto_hash_sha256(out, buf, sizeof(buf));
}

/* The number of bits set in x. */
static unsigned popcount64(uint64_t x)
{
	unsigned n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

static void test_fetches_are_logarithmic(void **state)
{
	static const uint64_t indexes[] = {
	    0, 1, 4999999, 8388607, 8388608, 9999998, 9999999, HUGE_SIZE / 3};
	static const uint64_t olds[] = {1,	 2,	  3,	   8388608,
					8388609, 5000001, 9999999, HUGE_SIZE};
	merkle_hash proof[MERKLE_MAX_PROOF], root;
	fake_tree t = {HUGE_SIZE, 0};
	size_t i, n;

	(void)state;
	assert_int_equal(merkle_root(HUGE_SIZE, fake_fetch, &t, root), 0);
	assert_int_equal(t.fetches, popcount64(HUGE_SIZE));
	for (i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		t.fetches = 0;
		assert_int_equal(merkle_inclusion_proof(indexes[i], HUGE_SIZE,
							fake_fetch, &t, proof,
							MERKLE_MAX_PROOF, &n),
				 0);
		assert_true(n <= ceil_log2(HUGE_SIZE));
		assert_true(t.fetches < 200);
	}
	for (i = 0; i < sizeof(olds) / sizeof(olds[0]); i++) {
		t.fetches = 0;
		assert_int_equal(merkle_consistency_proof(olds[i], HUGE_SIZE,
							  fake_fetch, &t, proof,
							  MERKLE_MAX_PROOF, &n),
				 0);
		assert_true(n <= ceil_log2(HUGE_SIZE) + 1);
		assert_true(t.fetches < 200);
	}
}

/* The largest trees: no shift overflows, no recursion runs away. */
static void test_extreme_sizes(void **state)
{
	merkle_hash proof[MERKLE_MAX_PROOF], root;
	fake_tree t = {UINT64_MAX, 0};
	size_t n;

	(void)state;
	assert_int_equal(merkle_root(UINT64_MAX, fake_fetch, &t, root), 0);
	assert_int_equal(t.fetches, 64);
	assert_int_equal(merkle_inclusion_proof(UINT64_MAX - 1, UINT64_MAX,
						fake_fetch, &t, proof,
						MERKLE_MAX_PROOF, &n),
			 0);
	assert_true(n <= 64);
	assert_int_equal(merkle_inclusion_proof(0, UINT64_MAX, fake_fetch, &t,
						proof, MERKLE_MAX_PROOF, &n),
			 0);
	assert_true(n <= 64);
	assert_int_equal(merkle_consistency_proof(UINT64_MAX / 2, UINT64_MAX,
						  fake_fetch, &t, proof,
						  MERKLE_MAX_PROOF, &n),
			 0);
	assert_true(n <= 65);
	assert_int_equal(merkle_consistency_proof(UINT64_MAX - 1, UINT64_MAX,
						  fake_fetch, &t, proof,
						  MERKLE_MAX_PROOF, &n),
			 0);
	assert_true(n <= 65);
	t.size = (uint64_t)1 << 63;
	assert_int_equal(merkle_root(t.size, fake_fetch, &t, root), 0);
	assert_int_equal(merkle_verify_inclusion(UINT64_MAX - 1, UINT64_MAX,
						 root, proof, 0, root),
			 -1);
}

/* ------------------------------------------------------------------
 * Arguments the proof builders and verifiers refuse.
 */

static void test_proof_errors(void **state)
{
	fixture *f = *state;
	merkle_hash proof[MERKLE_MAX_PROOF];
	size_t n = 99;

	assert_int_equal(merkle_inclusion_proof(5, 5, store_fetch, &f->store,
						proof, MERKLE_MAX_PROOF, &n),
			 -1);
	assert_int_equal(n, 0);
	assert_int_equal(merkle_inclusion_proof(0, 0, store_fetch, &f->store,
						proof, MERKLE_MAX_PROOF, &n),
			 -1);
	/* Leaf 3 of 64 needs six hashes. */
	n = 99;
	assert_int_equal(
	    merkle_inclusion_proof(3, 64, store_fetch, &f->store, proof, 5, &n),
	    -1);
	assert_int_equal(n, 0);
	assert_int_equal(
	    merkle_inclusion_proof(3, 64, store_fetch, &f->store, proof, 6, &n),
	    0);
	assert_int_equal(n, 6);
	assert_int_equal(
	    merkle_inclusion_proof(0, 1, store_fetch, &f->store, NULL, 0, &n),
	    0);
	assert_int_equal(n, 0);
	assert_int_equal(merkle_inclusion_proof(3, 64, NULL, NULL, proof,
						MERKLE_MAX_PROOF, &n),
			 -1);
	assert_int_equal(merkle_inclusion_proof(3, 64, store_fetch, &f->store,
						proof, MERKLE_MAX_PROOF, NULL),
			 -1);
	f->store.fail_fetch = 1;
	assert_int_equal(merkle_inclusion_proof(3, 64, store_fetch, &f->store,
						proof, MERKLE_MAX_PROOF, &n),
			 -1);
	assert_int_equal(merkle_consistency_proof(3, 64, store_fetch, &f->store,
						  proof, MERKLE_MAX_PROOF, &n),
			 -1);
	f->store.fail_fetch = 0;
	assert_int_equal(merkle_consistency_proof(0, 64, store_fetch, &f->store,
						  proof, MERKLE_MAX_PROOF, &n),
			 -1);
	assert_int_equal(merkle_consistency_proof(9, 8, store_fetch, &f->store,
						  proof, MERKLE_MAX_PROOF, &n),
			 -1);
	assert_int_equal(merkle_consistency_proof(3, 64, store_fetch, &f->store,
						  proof, 2, &n),
			 -1);
	/* Equal sizes: nothing to prove, nothing fetched. */
	f->store.fetches = 0;
	assert_int_equal(merkle_consistency_proof(9, 9, store_fetch, &f->store,
						  proof, MERKLE_MAX_PROOF, &n),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(f->store.fetches, 0);
}

static void test_verify_edge_cases(void **state)
{
	fixture *f = *state;
	merkle_hash proof[MERKLE_MAX_PROOF + 1], empty;
	const uint8_t *r4 = f->roots[4], *r5 = f->roots[5];

	memset(proof, 0, sizeof(proof));
	ref_mth(NULL, 0, empty);
	/* A one-leaf tree: the root is the leaf, the proof empty. */
	assert_int_equal(
	    merkle_verify_inclusion(0, 1, f->leaves[0], NULL, 0, f->roots[1]),
	    0);
	assert_int_equal(
	    merkle_verify_inclusion(0, 0, f->leaves[0], NULL, 0, f->roots[1]),
	    -1);
	assert_int_equal(
	    merkle_verify_inclusion(1, 1, f->leaves[0], NULL, 0, f->roots[1]),
	    -1);
	assert_int_equal(
	    merkle_verify_inclusion(0, 2, f->leaves[0], NULL, 1, f->roots[2]),
	    -1);
	assert_int_equal(merkle_verify_inclusion(0, 1, f->leaves[0], proof,
						 MERKLE_MAX_PROOF + 1,
						 f->roots[1]),
			 -1);
	assert_int_equal(
	    merkle_verify_inclusion(0, 1, NULL, NULL, 0, f->roots[1]), -1);
	assert_int_equal(
	    merkle_verify_inclusion(0, 1, f->leaves[0], NULL, 0, NULL), -1);

	/* Equal sizes: consistent iff the roots are equal, with no proof. */
	assert_int_equal(merkle_verify_consistency(4, 4, r4, r4, NULL, 0), 0);
	assert_int_equal(merkle_verify_consistency(4, 4, r4, r5, NULL, 0), -1);
	assert_int_equal(merkle_verify_consistency(4, 4, r4, r4, proof, 1), -1);
	/* The empty tree is a prefix of any tree, and has one root. */
	assert_int_equal(merkle_verify_consistency(0, 5, empty, r5, NULL, 0),
			 0);
	assert_int_equal(merkle_verify_consistency(0, 0, empty, empty, NULL, 0),
			 0);
	assert_int_equal(merkle_verify_consistency(0, 0, empty, r5, NULL, 0),
			 -1);
	assert_int_equal(merkle_verify_consistency(0, 5, r4, r5, NULL, 0), -1);
	assert_int_equal(merkle_verify_consistency(0, 5, empty, r5, proof, 1),
			 -1);
	/* Different sizes need a proof; shrinking never verifies. */
	assert_int_equal(merkle_verify_consistency(4, 5, r4, r5, NULL, 0), -1);
	assert_int_equal(merkle_verify_consistency(5, 4, r5, r4, NULL, 0), -1);
	assert_int_equal(merkle_verify_consistency(4, 5, r4, r5, NULL, 1), -1);
	assert_int_equal(merkle_verify_consistency(4, 5, r4, r5, proof,
						   MERKLE_MAX_PROOF + 1),
			 -1);
	assert_int_equal(merkle_verify_consistency(4, 5, NULL, r5, proof, 1),
			 -1);
	assert_int_equal(merkle_verify_consistency(4, 5, r4, NULL, proof, 1),
			 -1);
}

/* ------------------------------------------------------------------
 * Checkpoints.
 */

/* The key pair made from the seed 0x01..0x20 (only the Ed25519 half). */
static void seeded_key(keyfile_secret *k)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	size_t i;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i + 1);
	memset(k, 0, sizeof(*k));
	assert_int_equal(crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed),
			 0);
}

/* Size 1234567, root bytes 0xa0..0xbf, time 2026-01-01T00:00:00Z. */
static void known_checkpoint(checkpoint *cp)
{
	size_t i;

	memset(cp, 0, sizeof(*cp));
	cp->size = 1234567;
	for (i = 0; i < MERKLE_HASHLEN; i++)
		cp->root[i] = (uint8_t)(0xa0 + i);
	cp->time = 1767225600;
}

/* Compares bytes with hex digits. */
static void assert_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[128];
	size_t wlen = 0;

	assert_true(len <= sizeof(want));
	assert_int_equal(sodium_hex2bin(want, sizeof(want), hex, strlen(hex),
					NULL, &wlen, NULL),
			 0);
	assert_int_equal(wlen, len);
	assert_memory_equal(got, want, len);
}

static void test_checkpoint_body(void **state)
{
	uint8_t body[CHECKPOINT_BODY_LEN];
	checkpoint cp;

	(void)state;
	assert_int_equal(CHECKPOINT_BODY_LEN, 68);
	known_checkpoint(&cp);
	checkpoint_body(&cp, body);
	assert_hex(body, sizeof(body),
		   "74616d77696c2f3120636865636b706f696e7400" /* domain */
		   "000000000012d687"			      /* size */
		   "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"	      /* root */
		   "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
		   "000000006955b900"); /* time */
	/* Time is signed: -1 is all ones. */
	cp.size = 1;
	cp.time = -1;
	checkpoint_body(&cp, body);
	assert_hex(body + 20, 8, "0000000000000001");
	assert_hex(body + 60, 8, "ffffffffffffffff");
}

static void test_checkpoint_known_signature(void **state)
{
	keyfile_secret k;
	checkpoint cp;

	(void)state;
	seeded_key(&k);
	assert_hex(k.sign_pk, KEYFILE_KEYLEN,
		   "79b5562e8fe654f94078b112e8a98ba7"
		   "901f853ae695bed7e0e3910bad049664");
	known_checkpoint(&cp);
	assert_int_equal(checkpoint_sign(&cp, &k), 0);
	assert_hex(cp.sig, CHECKPOINT_SIGLEN,
		   "046e190ae7a116e1f25b84da101fbb2e43c506b0a22085a3dd396f48"
		   "7447fdebe4825aec81dd440cb75eda26e85d0e5edfa56981c6988198"
		   "66708327b2a32806");
	assert_int_equal(checkpoint_verify(&cp, k.sign_pk), 0);
	sodium_memzero(&k, sizeof(k));
}

static void test_checkpoint_round_trip(void **state)
{
	keyfile_secret k, other;
	checkpoint cp, bad;

	(void)state;
	memset(&k, 0, sizeof(k));
	memset(&other, 0, sizeof(other));
	assert_int_equal(crypto_sign_keypair(k.sign_pk, k.sign_sk), 0);
	assert_int_equal(crypto_sign_keypair(other.sign_pk, other.sign_sk), 0);
	known_checkpoint(&cp);
	assert_int_equal(checkpoint_sign(&cp, &k), 0);
	assert_int_equal(checkpoint_verify(&cp, k.sign_pk), 0);
	assert_int_equal(checkpoint_verify(&cp, other.sign_pk), -1);

	bad = cp;
	bad.size++;
	assert_int_equal(checkpoint_verify(&bad, k.sign_pk), -1);
	bad = cp;
	bad.root[31] ^= 1;
	assert_int_equal(checkpoint_verify(&bad, k.sign_pk), -1);
	bad = cp;
	bad.time--;
	assert_int_equal(checkpoint_verify(&bad, k.sign_pk), -1);
	bad = cp;
	bad.sig[10] ^= 1;
	assert_int_equal(checkpoint_verify(&bad, k.sign_pk), -1);

	assert_int_equal(checkpoint_verify(NULL, k.sign_pk), -1);
	assert_int_equal(checkpoint_verify(&cp, NULL), -1);
	assert_int_equal(checkpoint_sign(NULL, &k), -1);
	bad = cp;
	assert_int_equal(checkpoint_sign(&bad, NULL), -1);
	{
		static const uint8_t zero[CHECKPOINT_SIGLEN];

		assert_memory_equal(bad.sig, zero, CHECKPOINT_SIGLEN);
	}
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(&other, sizeof(other));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_leaf_and_node_hash),
	    cmocka_unit_test(test_empty_root),
	    cmocka_unit_test(test_roots_match_reference),
	    cmocka_unit_test(test_append_stores_perfect_subtrees),
	    cmocka_unit_test(test_append_errors),
	    cmocka_unit_test(test_range_errors),
	    cmocka_unit_test(test_ct_roots),
	    cmocka_unit_test(test_ct_proofs),
	    cmocka_unit_test(test_byte_tree),
	    cmocka_unit_test(test_inclusion_all_small),
	    cmocka_unit_test(test_consistency_all_small),
	    cmocka_unit_test(test_fetches_are_logarithmic),
	    cmocka_unit_test(test_extreme_sizes),
	    cmocka_unit_test(test_proof_errors),
	    cmocka_unit_test(test_verify_edge_cases),
	    cmocka_unit_test(test_checkpoint_body),
	    cmocka_unit_test(test_checkpoint_known_signature),
	    cmocka_unit_test(test_checkpoint_round_trip),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
