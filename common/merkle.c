/*
 * Merkle tree hashing of the audit log, RFC 9162 section 2.1. Every hash a
 * proof or a root needs is the hash of a range of leaves the RFC's
 * recursion produces; merkle_range() assembles it from the hashes of
 * perfect subtrees, which the caller fetches. Every step of a recursion
 * here drops the top bit of the size it works on, so none goes deeper
 * than MERKLE_MAX_DEPTH (checked all the same), and every shift is by
 * less than 64.
 */
#include "merkle.h"

#include <sodium.h>
#include <string.h>

/* One level of recursion per bit of a 64-bit tree size, at most. */
#define MERKLE_MAX_DEPTH 64

#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

/* Where proofs find the hashes of perfect subtrees. */
typedef struct merkle_source {
	merkle_fetch_fn fetch;
	void *arg;
} merkle_source;

/* A proof being built: cap hashes of room, n of them filled. */
typedef struct merkle_proof_buf {
	merkle_hash *hashes;
	size_t cap;
	size_t n;
} merkle_proof_buf;

/*
 * SHA-256(prefix || a || b) into out; a and b are MERKLE_HASHLEN bytes, or
 * b is NULL and a is alen bytes (NULL only if alen is 0). out may alias a
 * or b: it is written only once all input is read. 0 or -1.
 */
static int hash_prefixed(uint8_t prefix, const uint8_t *a, size_t alen,
			 const uint8_t *b, merkle_hash out)
{
	crypto_hash_sha256_state st;

	if (sodium_init() < 0 || crypto_hash_sha256_init(&st) != 0)
		return -1;
	if (crypto_hash_sha256_update(&st, &prefix, 1) != 0)
		return -1;
	if (alen > 0 && crypto_hash_sha256_update(&st, a, alen) != 0)
		return -1;
	if (b != NULL && crypto_hash_sha256_update(&st, b, MERKLE_HASHLEN) != 0)
		return -1;
	return crypto_hash_sha256_final(&st, out) == 0 ? 0 : -1;
}

/* MTH({}) = SHA-256 of nothing, into out. 0 or -1. */
static int empty_root(merkle_hash out)
{
	static const uint8_t nothing[1] = {0};

	if (sodium_init() < 0)
		return -1;
	return crypto_hash_sha256(out, nothing, 0) == 0 ? 0 : -1;
}

/* 1 if the two hashes are equal, 0 if not. */
static int hash_equal(const merkle_hash a, const merkle_hash b)
{
	return memcmp(a, b, MERKLE_HASHLEN) == 0;
}

/* The number of bits x needs: 0 for 0, 64 for 2^63 and above. */
static unsigned bit_length(uint64_t x)
{
	unsigned n = 0;

	while (x != 0) {
		x >>= 1;
		n++;
	}
	return n;
}

/* 1 if x is a power of two (1, 2, 4, ...), 0 if not. */
static int is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

/* RFC 9162's k: the largest power of two smaller than n, for n >= 2. */
static uint64_t split_point(uint64_t n)
{
	return (uint64_t)1 << (bit_length(n - 1) - 1);
}

/* SHA-256(0x00 || entry): see merkle.h. */
int merkle_leaf_hash(const uint8_t *entry, size_t len, merkle_hash out)
{
	if (out == NULL || (entry == NULL && len > 0))
		return -1;
	return hash_prefixed(LEAF_PREFIX, entry, len, NULL, out);
}

/* SHA-256(0x01 || left || right): see merkle.h. */
int merkle_node_hash(const merkle_hash left, const merkle_hash right,
		     merkle_hash out)
{
	if (left == NULL || right == NULL || out == NULL)
		return -1;
	return hash_prefixed(NODE_PREFIX, left, MERKLE_HASHLEN, right, out);
}

/*
 * MTH of the size leaves from start (size >= 1, start a multiple of the
 * largest power of two not above size): a perfect subtree is fetched, any
 * other range is split at k into a perfect left part and a smaller right
 * one. depth counts the levels above. 0 or -1.
 */
static int range_hash(uint64_t start, uint64_t size, const merkle_source *src,
		      unsigned depth, merkle_hash out)
{
	merkle_hash left;
	uint64_t k;

	if (depth > MERKLE_MAX_DEPTH)
		return -1;
	if (is_pow2(size)) {
		unsigned level = bit_length(size) - 1;

		return src->fetch(src->arg, level, start >> level, out);
	}
	k = split_point(size);
	if (range_hash(start, k, src, depth + 1, left) != 0)
		return -1;
	if (range_hash(start + k, size - k, src, depth + 1, out) != 0)
		return -1;
	return merkle_node_hash(left, out, out);
}

/* MTH(D[start:end]) after checking the range: see merkle.h. */
int merkle_range(uint64_t start, uint64_t end, merkle_fetch_fn fetch, void *arg,
		 merkle_hash out)
{
	merkle_source src = {fetch, arg};
	uint64_t size, align;

	if (out == NULL || end < start)
		return -1;
	size = end - start;
	if (size == 0)
		return start == 0 ? empty_root(out) : -1;
	align = (uint64_t)1 << (bit_length(size) - 1);
	if (fetch == NULL || (start & (align - 1)) != 0)
		return -1;
	return range_hash(start, size, &src, 0, out);
}

/* MTH(D[0:size]): see merkle.h. */
int merkle_root(uint64_t size, merkle_fetch_fn fetch, void *arg,
		merkle_hash out)
{
	return merkle_range(0, size, fetch, arg, out);
}

/* Stores a leaf and the perfect subtrees it completes: see merkle.h. */
int merkle_append(uint64_t index, const merkle_hash leaf, merkle_fetch_fn fetch,
		  merkle_store_fn store, void *arg)
{
	merkle_hash h, sibling;
	unsigned level;

	if (leaf == NULL || fetch == NULL || store == NULL ||
	    index == UINT64_MAX)
		return -1;
	memcpy(h, leaf, MERKLE_HASHLEN);
	if (store(arg, 0, index, h) != 0)
		return -1;
	/* Level k completes when the low k bits of index are all ones. */
	for (level = 1; level < 64 && ((index >> (level - 1)) & 1) != 0;
	     level++) {
		uint64_t left = (index >> (level - 1)) - 1;

		if (fetch(arg, level - 1, left, sibling) != 0)
			return -1;
		if (merkle_node_hash(sibling, h, h) != 0)
			return -1;
		if (store(arg, level, index >> level, h) != 0)
			return -1;
	}
	return 0;
}

/* Appends MTH(D[start:end]) to the proof. 0 or -1 (no room, no hash). */
static int proof_push(merkle_proof_buf *buf, const merkle_source *src,
		      uint64_t start, uint64_t end)
{
	if (buf->n >= buf->cap)
		return -1;
	if (merkle_range(start, end, src->fetch, src->arg,
			 buf->hashes[buf->n]) != 0)
		return -1;
	buf->n++;
	return 0;
}

/*
 * Appends PATH(m, D[lo:hi]) of RFC 9162 2.1.3.1, m relative to lo and
 * below hi - lo. depth counts the levels above. 0 or -1.
 */
static int path(uint64_t m, uint64_t lo, uint64_t hi, const merkle_source *src,
		unsigned depth, merkle_proof_buf *buf)
{
	uint64_t k;

	if (depth > MERKLE_MAX_DEPTH)
		return -1;
	if (hi - lo == 1)
		return 0;
	k = split_point(hi - lo);
	if (m < k) {
		if (path(m, lo, lo + k, src, depth + 1, buf) != 0)
			return -1;
		return proof_push(buf, src, lo + k, hi);
	}
	if (path(m - k, lo + k, hi, src, depth + 1, buf) != 0)
		return -1;
	return proof_push(buf, src, lo, lo + k);
}

/*
 * Appends SUBPROOF(m, D[lo:hi], complete) of RFC 9162 2.1.4.1, for
 * 0 < m <= hi - lo. depth counts the levels above. 0 or -1.
 */
static int subproof(uint64_t m, uint64_t lo, uint64_t hi, int complete,
		    const merkle_source *src, unsigned depth,
		    merkle_proof_buf *buf)
{
	uint64_t k;

	if (depth > MERKLE_MAX_DEPTH)
		return -1;
	if (m == hi - lo)
		return complete ? 0 : proof_push(buf, src, lo, hi);
	k = split_point(hi - lo);
	if (m <= k) {
		if (subproof(m, lo, lo + k, complete, src, depth + 1, buf) != 0)
			return -1;
		return proof_push(buf, src, lo + k, hi);
	}
	if (subproof(m - k, lo + k, hi, 0, src, depth + 1, buf) != 0)
		return -1;
	return proof_push(buf, src, lo, lo + k);
}

/*
 * Checks the arguments common to both proof builders and readies buf;
 * clears *n. 0 or -1.
 */
static int proof_start(merkle_fetch_fn fetch, merkle_hash *proof, size_t cap,
		       size_t *n, merkle_proof_buf *buf)
{
	if (n == NULL)
		return -1;
	*n = 0;
	if (fetch == NULL || (proof == NULL && cap > 0))
		return -1;
	buf->hashes = proof;
	buf->cap = cap;
	buf->n = 0;
	return 0;
}

/* PATH(index, D[size]) of RFC 9162 2.1.3.1: see merkle.h. */
int merkle_inclusion_proof(uint64_t index, uint64_t size, merkle_fetch_fn fetch,
			   void *arg, merkle_hash *proof, size_t cap, size_t *n)
{
	merkle_source src = {fetch, arg};
	merkle_proof_buf buf;

	if (proof_start(fetch, proof, cap, n, &buf) != 0 || index >= size)
		return -1;
	if (path(index, 0, size, &src, 0, &buf) != 0)
		return -1;
	*n = buf.n;
	return 0;
}

/* PROOF(old_size, D[new_size]) of RFC 9162 2.1.4.1: see merkle.h. */
int merkle_consistency_proof(uint64_t old_size, uint64_t new_size,
			     merkle_fetch_fn fetch, void *arg,
			     merkle_hash *proof, size_t cap, size_t *n)
{
	merkle_source src = {fetch, arg};
	merkle_proof_buf buf;

	if (proof_start(fetch, proof, cap, n, &buf) != 0)
		return -1;
	if (old_size == 0 || old_size > new_size)
		return -1;
	if (subproof(old_size, 0, new_size, 1, &src, 0, &buf) != 0)
		return -1;
	*n = buf.n;
	return 0;
}

/* The length of PATH(m, D[n]), for m < n. */
static size_t inclusion_len(uint64_t m, uint64_t n)
{
	size_t len = 0;

	while (n > 1) {
		uint64_t k = split_point(n);

		if (m < k) {
			n = k;
		} else {
			m -= k;
			n -= k;
		}
		len++;
	}
	return len;
}

/* The length of PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m <= n. */
static size_t consistency_len(uint64_t m, uint64_t n)
{
	size_t len = 0;
	int complete = 1;

	while (m != n) {
		uint64_t k = split_point(n);

		if (m <= k) {
			n = k;
		} else {
			m -= k;
			n -= k;
			complete = 0;
		}
		len++;
	}
	return complete ? len : len + 1;
}

/* Right-shifts fn and sn equally until LSB(fn) is set or fn is 0. */
static void shift_to_odd(uint64_t *fn, uint64_t *sn)
{
	while ((*fn & 1) == 0 && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

/* One step 4 of RFC 9162 2.1.3.2 for proof element p: 0 or -1. */
static int inclusion_step(uint64_t *fn, uint64_t *sn, const merkle_hash p,
			  merkle_hash r)
{
	if (*sn == 0)
		return -1;
	if ((*fn & 1) != 0 || *fn == *sn) {
		if (merkle_node_hash(p, r, r) != 0)
			return -1;
		shift_to_odd(fn, sn);
	} else if (merkle_node_hash(r, p, r) != 0) {
		return -1;
	}
	*fn >>= 1;
	*sn >>= 1;
	return 0;
}

/* RFC 9162 2.1.3.2, after the length check: see merkle.h. */
int merkle_verify_inclusion(uint64_t index, uint64_t size,
			    const merkle_hash leaf, const merkle_hash *proof,
			    size_t n, const merkle_hash root)
{
	uint64_t fn, sn;
	merkle_hash r;
	size_t i;

	if (leaf == NULL || root == NULL || (proof == NULL && n > 0))
		return -1;
	if (index >= size || n > MERKLE_MAX_PROOF ||
	    n != inclusion_len(index, size))
		return -1;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASHLEN);
	for (i = 0; i < n; i++) {
		if (inclusion_step(&fn, &sn, proof[i], r) != 0)
			return -1;
	}
	return sn == 0 && hash_equal(r, root) ? 0 : -1;
}

/* One step 6 of RFC 9162 2.1.4.2 for proof element c: 0 or -1. */
static int consistency_step(uint64_t *fn, uint64_t *sn, const merkle_hash c,
			    merkle_hash fr, merkle_hash sr)
{
	if (*sn == 0)
		return -1;
	if ((*fn & 1) != 0 || *fn == *sn) {
		if (merkle_node_hash(c, fr, fr) != 0 ||
		    merkle_node_hash(c, sr, sr) != 0)
			return -1;
		shift_to_odd(fn, sn);
	} else if (merkle_node_hash(sr, c, sr) != 0) {
		return -1;
	}
	*fn >>= 1;
	*sn >>= 1;
	return 0;
}

/*
 * Steps 2 to 7 of RFC 9162 2.1.4.2, for 0 < old_size < new_size and a
 * proof of n >= 1 hashes. Instead of prepending old_root to the proof
 * when old_size is a power of two, starts from it. 0 or -1.
 */
static int consistency_walk(uint64_t old_size, uint64_t new_size,
			    const merkle_hash old_root,
			    const merkle_hash new_root,
			    const merkle_hash *proof, size_t n)
{
	uint64_t fn = old_size - 1, sn = new_size - 1;
	merkle_hash fr, sr;
	size_t i = 0;

	if (is_pow2(old_size)) {
		memcpy(fr, old_root, MERKLE_HASHLEN);
	} else {
		memcpy(fr, proof[0], MERKLE_HASHLEN);
		i = 1;
	}
	memcpy(sr, fr, MERKLE_HASHLEN);
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		if (consistency_step(&fn, &sn, proof[i], fr, sr) != 0)
			return -1;
	}
	if (sn != 0 || !hash_equal(fr, old_root) || !hash_equal(sr, new_root))
		return -1;
	return 0;
}

/* 1 if h is the root of the empty tree, 0 if not (or on failure). */
static int is_empty_root(const merkle_hash h)
{
	merkle_hash empty;

	return empty_root(empty) == 0 && hash_equal(h, empty);
}

/* RFC 9162 2.1.4.2 and the edge cases of merkle.h. */
int merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
			      const merkle_hash old_root,
			      const merkle_hash new_root,
			      const merkle_hash *proof, size_t n)
{
	if (old_root == NULL || new_root == NULL || (proof == NULL && n > 0))
		return -1;
	if (old_size > new_size || n > MERKLE_MAX_PROOF)
		return -1;
	if (old_size == 0) {
		if (n != 0 || !is_empty_root(old_root))
			return -1;
		return new_size > 0 || hash_equal(old_root, new_root) ? 0 : -1;
	}
	if (old_size == new_size)
		return n == 0 && hash_equal(old_root, new_root) ? 0 : -1;
	if (n == 0 || n != consistency_len(old_size, new_size))
		return -1;
	return consistency_walk(old_size, new_size, old_root, new_root, proof,
				n);
}
