/*
 * Operations: the rules of the agency's work. Verifies a SignedOperation
 * (signature by the channel's own principal, over the exact bytes), parses
 * what it verified, checks role, region, maker-checker, state machine and
 * budget rules, and applies the change together with its log entry and
 * idempotency record under a savepoint of its batch's transaction (group
 * commit). A retry under the same idempotency key returns the first
 * result and changes nothing.
 */
#ifndef TAMWIL_OPS_H
#define TAMWIL_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "pbuf.h"
#include "reply.h"
#include "seal.h"
#include "server.h"
#include "signop.h"
#include "store.h"
#include "tamwil.pb-c.h"

/* What an operation needs to know of its channel. */
typedef struct ops_session {
	const store_principal *who;
	const char *peer; /* "address:port", for the security events */
	/* crypto_box key shared with the principal, computed once. */
	uint8_t box_key[SEAL_KEYLEN];
	int has_box_key;
} ops_session;

/* How an operation ended. */
enum ops_outcome {
	OPS_PENDING,  /* prepared, waiting for the writer */
	OPS_REFUSED,  /* ref says why; nothing of it was kept */
	OPS_APPLIED,  /* res holds the result, durable once its batch is */
	OPS_REPLAYED, /* its idempotency key was seen: res is the first result
		       */
};

/* What an applied operation hands back. */
typedef struct ops_result {
	char reference[STORE_REF_MAX];
	int state;
	int64_t principal_id;
	uint64_t seq; /* the operation's log entry */
} ops_result;

/*
 * One operation on its way through the daemon: ops_prepare() verifies
 * and parses it (a worker thread), ops_apply_batch() applies it with the
 * others of its batch (the writer thread), ops_answer() packs its answer
 * once the batch is durable. Only one thread holds it at a time. The
 * fields belong to this module; callers allocate it, pass it along and
 * release it with ops_pending_clear().
 */
typedef struct ops_pending {
	ops_session *s;
	const Tamwil__V1__SignedOperation *sop; /* the caller's */
	uint64_t request_id;
	Tamwil__V1__Operation *op; /* unpacked from sop, or the caller's */
	int owns_op;
	pbuf_budget budget; /* op's allocations */
	uint8_t digest[SIGNOP_DIGEST_LEN];
	/* A submission's identity, opened and checked ahead of the writer. */
	Tamwil__V1__Identity *ident;
	reply_refusal ident_ref; /* why ident is NULL, told in rule order */
	/*
	 * And, also ahead, its blind index and its sealing at rest, which a
	 * new beneficiary's row stores. index_ref and sealed_ref say why
	 * either could not be made (code 0 when it was), told where the
	 * writer needs it.
	 */
	uint8_t index[SEAL_INDEX_LEN]; /* under at-rest key_version */
	unsigned key_version;
	reply_refusal index_ref;
	uint8_t *sealed; /* sealed_len bytes, or NULL */
	size_t sealed_len;
	reply_refusal sealed_ref;
	enum ops_outcome outcome;
	int batched; /* reached ops_apply_batch() still pending */
	reply_refusal ref;
	ops_result res;
} ops_pending;

/*
 * The CPU-heavy half of an operation, run off the writer and without the
 * database: checks the envelope (the channel's principal signed these
 * bytes, Ed25519), parses the operation and opens a submission's sealed
 * identity. Whether the key is still active is checked by the writer.
 * Returns 0 when p is ready for ops_apply_batch(), or -1 when it was
 * refused (p->outcome OPS_REFUSED, p->ref). sop must outlive p.
 */
int ops_prepare(server *srv, ops_session *s,
		const Tamwil__V1__SignedOperation *sop, uint64_t request_id,
		ops_pending *p);

/*
 * Group commit, on the thread that owns srv->st: one transaction for all
 * n operations, each under its own savepoint. A refused operation is
 * rolled back alone and keeps its refusal; the others are appended to the
 * audit log in order, and one checkpoint of the log's new size is signed
 * for them all. Returns only after COMMIT returned: 0 when the
 * batch is durable, -1 when the transaction could not be begun or
 * committed, in which case nothing of it was kept and every operation of
 * the batch is refused with ERROR_UNAVAILABLE. Operations already refused
 * by ops_prepare() are left as they are.
 */
int ops_apply_batch(server *srv, ops_pending *const *v, size_t n);

/*
 * Packs p's answer into out: its OperationResult with a receipt read
 * through st, or its Error. For an applied operation, call it only after
 * its batch is durable. Returns 0, or -1 when no answer fits.
 */
int ops_answer(server *srv, store *st, const ops_pending *p, uint8_t *out,
	       size_t out_cap, size_t *out_len);

/*
 * The kind of security event p's refusal records ("bad signature",
 * "wrong role", ...), or NULL when it is a plain rule refusal.
 */
const char *ops_security_kind(const ops_pending *p);

/* Frees what p holds (not p itself). */
void ops_pending_clear(ops_pending *p);

/*
 * ops_prepare(), a batch of one and ops_answer(), all on the calling
 * thread through srv->st: for tools and tests that hold the store alone.
 * Returns 0 when an answer was packed, -1 when none could be.
 */
int ops_apply(server *srv, ops_session *s,
	      const Tamwil__V1__SignedOperation *sop, uint64_t request_id,
	      uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Applies op signed by the server's own key, for the commands run on head
 * office's machine (tamwild init, enrol, revoke): the first admin and any
 * local change of principals become log entries like every other
 * operation, and an auditor holding the server's public key can check
 * them. Only region and principal operations are accepted: programmes
 * and applications are the decisions of people.
 * Returns 0 with *seq set, or -1 with a sentence in err.
 */
int ops_apply_local(server *srv, Tamwil__V1__Operation *op, uint64_t *seq,
		    char *err, size_t err_len);

/* Wipes the session's keys. */
void ops_session_clear(ops_session *s);

#endif
