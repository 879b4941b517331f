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
/*
 * Room for any proof: for a 64-bit tree size an inclusion proof has at
 * most 64 hashes (ceil(log2 size)) and a consistency proof at most 65.
 * The verifiers refuse a proof longer than this outright.
 */
#define MERKLE_MAX_PROOF 130

typedef uint8_t merkle_hash[MERKLE_HASHLEN];

/* The leaf hash of an entry (entry may be NULL if len is 0). 0 or -1. */
int merkle_leaf_hash(const uint8_t *entry, size_t len, merkle_hash out);

/* The hash of an interior node; out may be left or right. 0 or -1. */
int merkle_node_hash(const merkle_hash left, const merkle_hash right,
		     merkle_hash out);

/*
 * Fetches the hash of the perfect subtree at `level` with index `index`:
 * the 2^level leaves [index * 2^level, (index + 1) * 2^level). Level 0 is
 * the leaf hashes. Returns 0, or -1 (the computation then fails with -1).
 * Proofs and roots of a tree of n leaves only ask for subtrees that lie
 * wholly inside [0, n); level is always below 64.
 */
typedef int (*merkle_fetch_fn)(void *arg, unsigned level, uint64_t index,
			       merkle_hash out);

/*
 * The hash of the subtree over leaves [start, end) of the tree, where the
 * range is one the RFC's recursion produces (start a multiple of the
 * largest power of two not above end - start). The root of a tree of size
 * n is merkle_range(0, n); the root of the empty tree is SHA-256 of
 * nothing, computed without fetch (which may then be NULL). Fetches one
 * perfect subtree per bit set in end - start. 0, or -1 for a fetch that
 * fails, a range not so aligned, end < start, or an empty range not at 0.
 */
int merkle_range(uint64_t start, uint64_t end, merkle_fetch_fn fetch, void *arg,
		 merkle_hash out);

/* The root of a tree of `size` leaves. 0 or -1. */
int merkle_root(uint64_t size, merkle_fetch_fn fetch, void *arg,
		merkle_hash out);

/*
 * The perfect-subtree hashes that appending leaf number `index` (0-based)
 * completes: after the leaf itself (level 0), the node of level k over the
 * leaves ending at index exists when (index + 1) is a multiple of 2^k.
 * Calls store(arg, level, index >> level, hash) for each, level 0 first,
 * fetching left siblings through fetch (so leaves 0..index-1 must have
 * been appended). O(log n). 0 or -1 (also for index UINT64_MAX, whose
 * tree size would not fit in 64 bits).
 */
typedef int (*merkle_store_fn)(void *arg, unsigned level, uint64_t index,
			       const merkle_hash hash);
int merkle_append(uint64_t index, const merkle_hash leaf, merkle_fetch_fn fetch,
		  merkle_store_fn store, void *arg);

/*
 * The inclusion proof (RFC 9162 2.1.3.1) of leaf `index` in the tree of
 * `size` leaves, into proof (capacity cap; proof may be NULL if cap is 0),
 * *n hashes, at most ceil(log2 size). O(log size) fetches. 0 or -1
 * (index >= size, too small a buffer, a fetch failing); *n is 0 on failure.
 */
int merkle_inclusion_proof(uint64_t index, uint64_t size, merkle_fetch_fn fetch,
			   void *arg, merkle_hash *proof, size_t cap,
			   size_t *n);

/*
 * The consistency proof (RFC 9162 2.1.4.1) between trees of old_size and
 * new_size leaves (0 < old_size <= new_size), at most ceil(log2 new_size)
 * + 1 hashes; empty, and nothing fetched, when the sizes are equal.
 * O(log new_size) fetches. 0 or -1, as merkle_inclusion_proof().
 */
int merkle_consistency_proof(uint64_t old_size, uint64_t new_size,
			     merkle_fetch_fn fetch, void *arg,
			     merkle_hash *proof, size_t cap, size_t *n);

/*
 * Verifies an inclusion proof (RFC 9162 2.1.3.2). 0 if it holds, -1 if not:
 * index >= size, a proof longer than MERKLE_MAX_PROOF or of another length
 * than PATH(index, D[size]) has, or hashes that do not lead to root. The
 * proof binds the size only through the root: take both from one signed
 * checkpoint.
 */
int merkle_verify_inclusion(uint64_t index, uint64_t size,
			    const merkle_hash leaf, const merkle_hash *proof,
			    size_t n, const merkle_hash root);

/*
 * Verifies a consistency proof (RFC 9162 2.1.4.2). 0 if it holds, -1 if
 * not. Beyond the RFC's 0 < old_size < new_size: equal sizes hold iff the
 * proof is empty and the roots are equal; old_size 0 holds iff the proof
 * is empty and old_root is SHA-256 of nothing (the empty tree is a prefix
 * of every tree); old_size > new_size, or a proof longer than
 * MERKLE_MAX_PROOF or of another length than PROOF(old_size, D[new_size])
 * has, never holds. As for inclusion, sizes are bound only through the
 * roots: take each size and root from one signed checkpoint.
 */
int merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
			      const merkle_hash old_root,
			      const merkle_hash new_root,
			      const merkle_hash *proof, size_t n);

#endif
