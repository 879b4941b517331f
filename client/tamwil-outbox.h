/*
 * libtamwil-client's outbox: signed operations kept on this office's disk
 * until head office has answered them, so that a submission made while
 * the link is down is never lost and, thanks to its idempotency key,
 * never applied twice. One SQLite file per head office and principal
 * (WAL, synchronous=FULL, mode 0600), in the client's state folder.
 *
 * Each entry keeps the exact operation bytes and their signature (what
 * is sent, again and again if need be), the idempotency key, what the
 * operation is for people (a kind and a short label, never a name or an
 * identity number: identities travel only inside the sealed
 * SubmitApplication.identity_box), when it was queued, and its status:
 *
 *   waiting   queued, head office has not answered yet
 *   accepted  head office applied it: log entry, reference, receipt kept
 *   refused   head office refused it: the code and the sentence kept
 *
 * Entries are sent in the order they were queued. Write-ahead: an
 * operation is in the file (committed, synced) before it is first sent;
 * a crash between the send and the answer's record leaves it waiting,
 * and sending it again gets head office's first answer (replayed).
 *
 * The file also keeps what this office learnt from head office while it
 * could reach it (the currency of a programme or application, the
 * coordinator's region), so commands can be prepared offline.
 *
 * Typical use, for a front end:
 *
 *     tamwil_outbox *ob;
 *     if (tamwil_client_outbox(c, &ob, &err) != TAMWIL_OK ||
 *         tamwil_client_sign(c, &op, &bytes, &len, sig, &err) != TAMWIL_OK ||
 *         tamwil_outbox_add(ob, bytes, len, sig, &id, &err) != TAMWIL_OK)
 *             show(err.message);
 *     if (tamwil_client_online(c))
 *             tamwil_outbox_sync(ob, c, show_one, arg, &sum, &err);
 *
 * The library never prints; one handle per thread.
 */
#ifndef TAMWIL_OUTBOX_H
#define TAMWIL_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "tamwil-client.h"

#define TAMWIL_OUTBOX_KIND_MAX	32
#define TAMWIL_OUTBOX_LABEL_MAX 256
#define TAMWIL_OUTBOX_REF_MAX	64
/* Room for a learnt value (a currency, a region code). */
#define TAMWIL_OUTBOX_VALUE_MAX 64

typedef struct tamwil_outbox tamwil_outbox;

enum tamwil_outbox_status {
	TAMWIL_OUTBOX_WAITING = 0,
	TAMWIL_OUTBOX_ACCEPTED = 1,
	TAMWIL_OUTBOX_REFUSED = 2
};

/* One entry, without its bytes. */
typedef struct tamwil_outbox_entry {
	int64_t id; /* queue order, from 1 */
	uint8_t idempotency_key[SIGNOP_IDEMPOTENCY_LEN];
	char kind[TAMWIL_OUTBOX_KIND_MAX];   /* "submit", "approve", ... */
	char label[TAMWIL_OUTBOX_LABEL_MAX]; /* "LAG-2026-000123", ... */
	int64_t queued_at;		     /* Unix time */
	int64_t done_at; /* when answered; 0 while waiting */
	int status;	 /* enum tamwil_outbox_status */
	/* accepted */
	uint64_t sequence;		       /* its log entry */
	char reference[TAMWIL_OUTBOX_REF_MAX]; /* application, region, ... */
	int state;			       /* ApplicationState after it */
	uint64_t principal_id;		       /* for an enrolment */
	int replayed; /* head office had applied it before this office knew */
	/* refused */
	int code;		       /* ErrorCode */
	char reason[TAMWIL_ERROR_MAX]; /* head office's sentence */
} tamwil_outbox_entry;

/*
 * The file of the outbox of the principal whose key fingerprint is
 * principal_fp, at the head office whose key fingerprint is server_fp
 * (keyfile_fingerprint() texts), in state_dir:
 * "STATE_DIR/outbox-SERVER-PRINCIPAL.db", the fingerprints without their
 * spaces. 0, or -1 when it does not fit in cap.
 */
int tamwil_outbox_path(const char *state_dir, const char *server_fp,
		       const char *principal_fp, char *buf, size_t cap);

/*
 * Opens (creating it, mode 0600) the outbox at path. On TAMWIL_OK *out is
 * for tamwil_outbox_close(); else TAMWIL_ERR_LOCAL with a sentence naming
 * the file.
 */
int tamwil_outbox_open(const char *path, tamwil_outbox **out,
		       tamwil_error *err);

/* Closes the file; NULL is fine. */
void tamwil_outbox_close(tamwil_outbox *ob);

/*
 * The outbox of c's principal at c's head office, in the state folder of
 * c's options (tamwil_outbox_path()), opened at the first call and
 * closed by tamwil_client_close(): do not close it yourself. Works
 * without a connection. TAMWIL_ERR_LOCAL when the options gave no state
 * folder or no server sign key, or the file cannot be opened.
 */
int tamwil_client_outbox(tamwil_client *c, tamwil_outbox **out,
			 tamwil_error *err);

/*
 * Queues signed operation bytes (as tamwil_client_sign() gave them) and
 * their signature, durably, as waiting. The bytes must parse as an
 * Operation with a 16-byte idempotency key; the kind and the label are
 * drawn from it. *id (may be NULL) receives the entry's number.
 * TAMWIL_ERR_LOCAL for bytes that do not parse, a key already queued
 * ("this operation is already in the outbox"), or a write that failed.
 */
int tamwil_outbox_add(tamwil_outbox *ob, const uint8_t *op, size_t len,
		      const uint8_t sig[SIGNOP_SIGLEN], int64_t *id,
		      tamwil_error *err);

/*
 * Reads entry id into *e: TAMWIL_OK, or TAMWIL_ERR_LOCAL when there is
 * no such entry or the file cannot be read.
 */
int tamwil_outbox_get(tamwil_outbox *ob, int64_t id, tamwil_outbox_entry *e,
		      tamwil_error *err);

/*
 * Reads entry id's operation bytes (*op, malloc'd: the caller frees it)
 * and signature. TAMWIL_OK or TAMWIL_ERR_LOCAL.
 */
int tamwil_outbox_bytes(tamwil_outbox *ob, int64_t id, uint8_t **op,
			size_t *len, uint8_t sig[SIGNOP_SIGLEN],
			tamwil_error *err);

/*
 * Entry id's receipt, as head office sent it (*r, to free with
 * tamwil__v1__receipt__free_unpacked()), or *r NULL when it has none
 * (waiting, refused). TAMWIL_OK or TAMWIL_ERR_LOCAL.
 */
int tamwil_outbox_receipt(tamwil_outbox *ob, int64_t id,
			  Tamwil__V1__Receipt **r, tamwil_error *err);

/*
 * The waiting entries in queue order (all != 0: every entry, history
 * included) into *list (malloc'd, the caller frees it; NULL when none)
 * and *n. TAMWIL_OK or TAMWIL_ERR_LOCAL.
 */
int tamwil_outbox_list(tamwil_outbox *ob, int all, tamwil_outbox_entry **list,
		       size_t *n, tamwil_error *err);

/* How many entries have status status, into *n. TAMWIL_OK or _LOCAL. */
int tamwil_outbox_count(tamwil_outbox *ob, int status, size_t *n,
			tamwil_error *err);

/*
 * Records head office's answers to a waiting entry: accepted with res
 * (its sequence, reference, state, principal, replayed flag and receipt
 * are kept), or refused with an ErrorCode and sentence. An entry already
 * answered is left as it is (TAMWIL_OK: the first answer stands).
 * TAMWIL_ERR_LOCAL when there is no such entry or the write failed.
 */
int tamwil_outbox_mark_accepted(tamwil_outbox *ob, int64_t id,
				const Tamwil__V1__OperationResult *res,
				tamwil_error *err);
int tamwil_outbox_mark_refused(tamwil_outbox *ob, int64_t id, int code,
			       const char *reason, tamwil_error *err);

/*
 * What this office learnt from head office, by topic: "programme" (code
 * to currency), "application" (reference to currency), "whoami" ("region"
 * to the coordinator's region). Remember replaces an earlier value;
 * recall copies it into buf (capacity cap) and returns TAMWIL_OK, 1 when
 * nothing is known, or TAMWIL_ERR_LOCAL.
 */
int tamwil_outbox_remember(tamwil_outbox *ob, const char *topic,
			   const char *key, const char *value,
			   tamwil_error *err);
int tamwil_outbox_recall(tamwil_outbox *ob, const char *topic, const char *key,
			 char *buf, size_t cap, tamwil_error *err);

/*
 * Called by tamwil_outbox_sync() once head office has answered an entry
 * (e as now recorded: accepted or refused), with how many entries this
 * sync has handled (done, e included) out of total. A non-zero return
 * stops the sync after this entry.
 */
typedef int (*tamwil_outbox_fn)(void *arg, const tamwil_outbox_entry *e,
				size_t done, size_t total);

/* What a sync did. */
typedef struct tamwil_outbox_summary {
	size_t accepted; /* entries accepted by this sync */
	size_t refused;	 /* refused by this sync */
	size_t waiting;	 /* still waiting after it */
} tamwil_outbox_summary;

/*
 * Sends the waiting entries on c (connected as the outbox's principal),
 * oldest first, one at a time: each answer's receipt is verified by
 * tamwil_client_send_signed() and the answer recorded before the next
 * entry leaves. A refusal is recorded and the sync goes on, except a
 * refusal that says head office is failing or busy (internal,
 * unavailable), which leaves the entry waiting and stops. Only one sync
 * runs at a time on a file (another process's waits for it, through a
 * lock file next to it), so nothing leaves twice at once.
 *
 * Returns TAMWIL_OK when nothing waits any more; otherwise the status
 * that stopped it (TAMWIL_ERR_UNREACHABLE, _TIMEOUT or _CLOSED when the
 * link dropped, _REFUSED for a failing head office, _RECEIPT,
 * _PROTOCOL, _NOT_ENROLLED, _FORKED, _LOCAL), with err filled in and
 * the entry it was sending still waiting. *sum (may be NULL) is filled
 * in either way; fn may be NULL.
 */
int tamwil_outbox_sync(tamwil_outbox *ob, tamwil_client *c, tamwil_outbox_fn fn,
		       void *arg, tamwil_outbox_summary *sum,
		       tamwil_error *err);

/* 1 if status says head office could not be reached or the link dropped:
 * the entry waits for a later sync. */
int tamwil_outbox_link_down(int status);

/* "waiting", "accepted" or "refused". */
const char *tamwil_outbox_status_name(int status);

#endif
