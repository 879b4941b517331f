/*
 * The audit log writer: appends every accepted operation as a leaf of the
 * RFC 9162 Merkle tree in the same transaction as its change, signs a
 * checkpoint of the tree each transaction leaves, and builds the receipts and
 * proofs clients and auditors check. Hashing lives in common/merkle.c, the rows
 * in the store.
 */
#ifndef TAMWIL_AUDIT_H
#define TAMWIL_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "merkle.h"
#include "server.h"
#include "tamwil.pb-c.h"

/* Largest operation accepted, so an entry and its receipt fit one frame. */
#define AUDIT_OPERATION_MAX 32768
#define AUDIT_ENTRY_MAX	    (AUDIT_OPERATION_MAX + 1024)

/* A receipt's parts, owned by the caller (about 40 KiB: keep it off the stack).
 */
typedef struct audit_receipt {
	uint8_t entry[AUDIT_ENTRY_MAX];
	size_t entry_len;
	checkpoint cp;
	merkle_hash proof[MERKLE_MAX_PROOF];
	size_t nproof;
	/* What a Tamwil__V1__Receipt built by audit_receipt_message() points
	 * to. */
	Tamwil__V1__Checkpoint cp_msg;
	ProtobufCBinaryData proof_msg[MERKLE_MAX_PROOF];
} audit_receipt;

/*
 * Inside the caller's transaction: appends the entry of sop with its
 * outcome (which carries no receipt) at the end of the log and updates
 * the tree. *seq is the entry's sequence number. 0 or -1 (the caller
 * rolls back). The entry is covered by a signature only once
 * audit_checkpoint() has run in the same transaction.
 */
int audit_append(server *srv, const Tamwil__V1__SignedOperation *sop,
		 const Tamwil__V1__OperationResult *outcome, int64_t now,
		 uint64_t *seq);

/*
 * Inside the caller's transaction, after its last audit_append(): signs
 * and records the checkpoint of the log's size, unless one of that size
 * exists already (nothing was appended). One signature for the whole
 * transaction, however many entries it appended. 0 or -1 (the caller
 * rolls back the transaction).
 */
int audit_checkpoint(server *srv, int64_t now);

/*
 * The readers below take the store connection to read from: the writer's
 * own, or a query thread's read-only one.
 *
 * Fills r with entry seq, the checkpoint of tree_size (0: the newest) and
 * the inclusion proof of the entry in it. 0, or -1 (unknown entry or
 * checkpoint, store failure).
 */
int audit_receipt_build(store *st, uint64_t seq, uint64_t tree_size,
			audit_receipt *r);

/* Points msg at r's parts, for packing; r must outlive msg. */
void audit_receipt_message(audit_receipt *r, Tamwil__V1__Receipt *msg);

/* Points msg at a checkpoint (which must outlive msg). */
void audit_checkpoint_message(const checkpoint *cp,
			      Tamwil__V1__Checkpoint *msg);

/* The newest checkpoint: 0, 1 when the log is still empty, or -1. */
int audit_latest(store *st, checkpoint *cp);

/*
 * The consistency proof from old_size to new_size into proof (capacity
 * MERKLE_MAX_PROOF), *n hashes. 0 or -1.
 */
int audit_consistency(store *st, uint64_t old_size, uint64_t new_size,
		      merkle_hash *proof, size_t *n);

#endif
