/*
 * Operations: the rules of the agency's work. Verifies a SignedOperation
 * (signature by the channel's own principal, over the exact bytes), parses
 * what it verified, checks role, region, maker-checker, state machine and
 * budget rules, and applies the change in one transaction together with
 * its idempotency record. A retry under the same idempotency key returns
 * the first result and changes nothing.
 */
#ifndef TAMWIL_OPS_H
#define TAMWIL_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "reply.h"
#include "seal.h"
#include "server.h"
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

/*
 * Applies sop for the session's principal and packs the answer (an
 * OperationResult or an Error) for request_id into out. Returns 0 when an
 * answer was packed, -1 when none could be (the caller closes).
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
