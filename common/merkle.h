/*
 * Merkle tree hashing of the audit log, exactly as RFC 9162 section 2.1:
 * SHA-256, leaf hash SHA-256(0x00 || entry), interior node
 * SHA-256(0x01 || left || right), an unbalanced tree split at the largest
 * power of two smaller than its size. Proofs are built from the hashes of
 * perfect subtrees, which the caller fetches (from the database, from an
 * export), so a proof of a ten-million-leaf log costs O(log n) fetches.
 */
#ifndef TAMWIL_MERKLE_H
#define TAMWIL_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASHLEN 32
/* Longest proof for a tree of up to 2^63 leaves (RFC 9162 bounds). */
#define MERKLE_MAX_PROOF 130

typedef uint8_t merkle_hash[MERKLE_HASHLEN];

/* The leaf hash of an entry. 0 or -1. */
int merkle_leaf_hash(const uint8_t *entry, size_t len, merkle_hash out);

/* The hash of an interior node. 0 or -1. */
int merkle_node_hash(const merkle_hash left, const merkle_hash right,
		     merkle_hash out);

/*
 * Fetches the hash of the perfect subtree at `level` with index `index`:
 * the 2^level leaves [index * 2^level, (index + 1) * 2^level). Level 0 is
 * the leaf hashes. Returns 0, or -1 (the computation then fails with -1).
 */
typedef int (*merkle_fetch_fn)(void *arg, unsigned level, uint64_t index,
			       merkle_hash out);

/*
 * The hash of the subtree over leaves [start, end) of the tree, where the
 * range is one the RFC's recursion produces (start a multiple of the
 * largest power of two not above end - start). The root of a tree of size
 * n is merkle_range(0, n); the root of the empty tree is SHA-256 of
 * nothing. 0 or -1.
 */
int merkle_range(uint64_t start, uint64_t end, merkle_fetch_fn fetch,
		 void *arg, merkle_hash out);

/* The root of a tree of `size` leaves. 0 or -1. */
int merkle_root(uint64_t size, merkle_fetch_fn fetch, void *arg,
		merkle_hash out);

/*
 * The perfect-subtree hashes that appending leaf number `index` (0-based)
 * completes: after the leaf itself (level 0), the node of level k over the
 * leaves ending at index exists when (index + 1) is a multiple of 2^k.
 * Calls store(arg, level, index >> level, hash) for each, level 0 first,
 * fetching left siblings through fetch. O(log n). 0 or -1.
 */
typedef int (*merkle_store_fn)(void *arg, unsigned level, uint64_t index,
			       const merkle_hash hash);
int merkle_append(uint64_t index, const merkle_hash leaf,
		  merkle_fetch_fn fetch, merkle_store_fn store, void *arg);

/*
 * The inclusion proof (RFC 9162 2.1.3.1) of leaf `index` in the tree of
 * `size` leaves, into proof (capacity cap), *n hashes. 0 or -1
 * (index >= size, too small a buffer, a fetch failing).
 */
int merkle_inclusion_proof(uint64_t index, uint64_t size,
			   merkle_fetch_fn fetch, void *arg, merkle_hash *proof,
			   size_t cap, size_t *n);

/*
 * The consistency proof (RFC 9162 2.1.4.1) between trees of old_size and
 * new_size leaves (0 < old_size <= new_size). 0 or -1.
 */
int merkle_consistency_proof(uint64_t old_size, uint64_t new_size,
			     merkle_fetch_fn fetch, void *arg,
			     merkle_hash *proof, size_t cap, size_t *n);

/* Verifies an inclusion proof (RFC 9162 2.1.3.2). 0 if it holds, -1 if not. */
int merkle_verify_inclusion(uint64_t index, uint64_t size,
			    const merkle_hash leaf, const merkle_hash *proof,
			    size_t n, const merkle_hash root);

/* Verifies a consistency proof (RFC 9162 2.1.4.2). 0 if it holds, -1 if not. */
int merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
			      const merkle_hash old_root,
			      const merkle_hash new_root,
			      const merkle_hash *proof, size_t n);

#endif
