/*
 * The audit log writer. The tree's perfect subtrees are rows of the store,
 * so appending costs O(log n) writes and a proof O(log n) reads, whatever
 * the size of the log. One checkpoint is signed per transaction, of the
 * size the log reaches at its end: every receipt of the transaction's
 * operations names it.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

/* merkle_fetch_fn over the store. */
static int audit_fetch(void *arg, unsigned level, uint64_t index,
		       merkle_hash out)
{
	return store_log_node(arg, level, index, out) == 0 ? 0 : -1;
}

/* merkle_store_fn over the store. */
static int audit_store(void *arg, unsigned level, uint64_t index,
		       const merkle_hash hash)
{
	return store_log_node_put(arg, level, index, hash);
}

/* Packs the LogEntry of an operation into buf; 0 with *len, or -1. */
static int audit_pack_entry(uint64_t seq, int64_t now,
			    const Tamwil__V1__SignedOperation *sop,
			    const Tamwil__V1__OperationResult *outcome,
			    uint8_t *buf, size_t cap, size_t *len)
{
	Tamwil__V1__LogEntry e = TAMWIL__V1__LOG_ENTRY__INIT;

	e.sequence = seq;
	e.time = now;
	e.operation = (Tamwil__V1__SignedOperation *)sop;
	e.outcome = (Tamwil__V1__OperationResult *)outcome;
	if (outcome->receipt != NULL ||
	    tamwil__v1__log_entry__get_packed_size(&e) > cap)
		return -1;
	*len = tamwil__v1__log_entry__pack(&e, buf);
	return 0;
}

int audit_append(server *srv, const Tamwil__V1__SignedOperation *sop,
		 const Tamwil__V1__OperationResult *outcome, int64_t now,
		 uint64_t *seq)
{
	uint8_t *entry = malloc(AUDIT_ENTRY_MAX);
	merkle_hash leaf;
	size_t len;
	int rc = -1;

	if (entry == NULL || store_log_size(srv->st, seq) != 0)
		goto out;
	if (audit_pack_entry(*seq, now, sop, outcome, entry, AUDIT_ENTRY_MAX,
			     &len) != 0) {
		log_error("log entry %llu does not fit",
			  (unsigned long long)*seq);
		goto out;
	}
	if (store_log_add(srv->st, *seq, now, entry, len) != 0 ||
	    merkle_leaf_hash(entry, len, leaf) != 0 ||
	    merkle_append(*seq, leaf, audit_fetch, audit_store, srv->st) != 0)
		goto out;
	rc = 0;
out:
	free(entry);
	return rc;
}

int audit_checkpoint(server *srv, int64_t now)
{
	store_checkpoint row;
	checkpoint cp = {0};
	int rc = store_checkpoint_latest(srv->st, &row);

	if (rc != 0 && rc != STORE_NOT_FOUND)
		return -1;
	if (store_log_size(srv->st, &cp.size) != 0)
		return -1;
	/* Nothing appended since the last checkpoint (or nothing at all). */
	if (cp.size == 0 || (rc == 0 && row.size == cp.size))
		return 0;
	cp.time = now;
	if (merkle_root(cp.size, audit_fetch, srv->st, cp.root) != 0 ||
	    checkpoint_sign(&cp, &srv->key) != 0)
		return -1;
	row.size = cp.size;
	memcpy(row.root, cp.root, sizeof(row.root));
	row.time = cp.time;
	memcpy(row.sig, cp.sig, sizeof(row.sig));
	return store_checkpoint_add(srv->st, &row);
}

/* Copies a checkpoint row into a checkpoint. */
static void audit_from_row(const store_checkpoint *row, checkpoint *cp)
{
	cp->size = row->size;
	memcpy(cp->root, row->root, sizeof(cp->root));
	cp->time = row->time;
	memcpy(cp->sig, row->sig, sizeof(cp->sig));
}

int audit_latest(store *st, checkpoint *cp)
{
	store_checkpoint row;
	int rc = store_checkpoint_latest(st, &row);

	if (rc == STORE_NOT_FOUND)
		return 1;
	if (rc != 0)
		return -1;
	audit_from_row(&row, cp);
	return 0;
}

/* The checkpoint of exactly `size` leaves: 0 or -1. */
static int audit_at(store *st, uint64_t size, checkpoint *cp)
{
	store_checkpoint row;

	if (store_checkpoint_at(st, size, &row) != 0)
		return -1;
	audit_from_row(&row, cp);
	return 0;
}

int audit_receipt_build(store *st, uint64_t seq, uint64_t tree_size,
			audit_receipt *r)
{
	/* One snapshot for the checkpoint, the entry and the proof's nodes. */
	int began = store_read_begin(st), rc;

	if (began < 0)
		return -1;
	rc = tree_size == 0 ? audit_latest(st, &r->cp)
			    : audit_at(st, tree_size, &r->cp);
	if (rc != 0 || seq >= r->cp.size ||
	    store_log_entry(st, seq, r->entry, sizeof(r->entry),
			    &r->entry_len) != 0 ||
	    merkle_inclusion_proof(seq, r->cp.size, audit_fetch, st, r->proof,
				   MERKLE_MAX_PROOF, &r->nproof) != 0)
		rc = -1;
	return store_read_end(st, began, rc);
}

void audit_checkpoint_message(const checkpoint *cp, Tamwil__V1__Checkpoint *msg)
{
	tamwil__v1__checkpoint__init(msg);
	msg->tree_size = cp->size;
	msg->root.data = (uint8_t *)cp->root;
	msg->root.len = MERKLE_HASHLEN;
	msg->time = cp->time;
	msg->signature.data = (uint8_t *)cp->sig;
	msg->signature.len = CHECKPOINT_SIGLEN;
}

void audit_receipt_message(audit_receipt *r, Tamwil__V1__Receipt *msg)
{
	tamwil__v1__receipt__init(msg);
	msg->entry.data = r->entry;
	msg->entry.len = r->entry_len;
	audit_checkpoint_message(&r->cp, &r->cp_msg);
	msg->checkpoint = &r->cp_msg;
	for (size_t i = 0; i < r->nproof; i++) {
		r->proof_msg[i].data = r->proof[i];
		r->proof_msg[i].len = MERKLE_HASHLEN;
	}
	msg->n_inclusion_proof = r->nproof;
	msg->inclusion_proof = r->proof_msg;
}

int audit_consistency(store *st, uint64_t old_size, uint64_t new_size,
		      merkle_hash *proof, size_t *n)
{
	int began = store_read_begin(st), rc;

	if (began < 0)
		return -1;
	rc = merkle_consistency_proof(old_size, new_size, audit_fetch, st,
				      proof, MERKLE_MAX_PROOF, n);
	return store_read_end(st, began, rc);
}
