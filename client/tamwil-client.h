/*
 * libtamwil-client: what a front end needs to talk to head office. It
 * opens a Noise_XK channel to tamwild over TCP, sends requests and waits
 * for their answers with deadlines, and turns every failure into a code
 * and a sentence a person can act on. Blocking; one connection per handle.
 * The library never prints and keeps no global state; call it from one
 * thread per handle.
 *
 * The conversation, as the server implements it (docs/PROTOCOL.md):
 *   - every message is a frame: a 2-byte big-endian length, then the body;
 *   - handshake message 1 carries no payload, message 2 a ServerHello,
 *     and message 3 a ClientHello carrying the first Request, so it leaves
 *     only with the first call after tamwil_client_connect();
 *   - every later Request is one sealed frame, answered by one Response
 *     echoing its request_id (a per-connection counter starting at 1);
 *   - the server closes, without answering, a handshake from a key it does
 *     not know: a close right after message 3 is reported as
 *     TAMWIL_ERR_NOT_ENROLLED.
 *
 * Typical use:
 *
 *     tamwil_client *c;
 *     tamwil_error err;
 *     tamwil_whoami me;
 *     if (tamwil_client_connect(&opt, &c, &err) != TAMWIL_OK ||
 *         tamwil_client_whoami(c, &me, &err) != TAMWIL_OK)
 *             show(err.message);
 *     tamwil_client_close(c);
 *
 * State changes are Operations (tamwil.proto), signed and sent by
 * tamwil_client_operate():
 *
 *     Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
 *     Tamwil__V1__ApproveApplication body =
 *         TAMWIL__V1__APPROVE_APPLICATION__INIT;
 *     Tamwil__V1__OperationResult *res;
 *     body.reference = "LAG-2026-000123";
 *     op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
 *     op.approve_application = &body;
 *     if (tamwil_client_operate(c, &op, &res, &err) == TAMWIL_OK)
 *             tamwil__v1__operation_result__free_unpacked(res, NULL);
 *
 * and queries are any other Request, through tamwil_client_call().
 *
 * Texts the library hands back (error messages, whoami fields) are valid
 * UTF-8, truncated on a character boundary to fit their buffers.
 */
#ifndef TAMWIL_CLIENT_H
#define TAMWIL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "keyfile.h"
#include "merkle.h"
#include "signop.h"
#include "tamwil.pb-c.h"

#define TAMWIL_DEFAULT_PORT 7405
#define TAMWIL_ERROR_MAX    512
#define TAMWIL_TEXT_MAX	    256
/* Default deadlines, used when the options say 0. */
#define TAMWIL_CONNECT_TIMEOUT_MS 10000
#define TAMWIL_IO_TIMEOUT_MS	  30000
/* Room for the name of an ErrorCode, see tamwil_error_code_name(). */
#define TAMWIL_CODE_NAME_MAX 64

/* Why a call failed. */
enum tamwil_status {
	TAMWIL_OK = 0,
	TAMWIL_ERR_UNREACHABLE = -1, /* connection refused, no route, DNS */
	TAMWIL_ERR_TIMEOUT = -2,     /* no answer within the deadline */
	TAMWIL_ERR_SERVER_KEY =
	    -3, /* the server did not prove the expected key */
	TAMWIL_ERR_NOT_ENROLLED =
	    -4,			  /* the server closed after the handshake */
	TAMWIL_ERR_PROTOCOL = -5, /* malformed, undecryptable or unexpected */
	TAMWIL_ERR_REFUSED = -6,  /* the server answered with an Error */
	TAMWIL_ERR_CLOSED = -7,	  /* the connection dropped mid-request */
	TAMWIL_ERR_LOCAL = -8,	  /* a local failure: memory, keys, usage */
	/* an operation's receipt does not prove it is in head office's log */
	TAMWIL_ERR_RECEIPT = -9,
	/* head office's log does not extend the checkpoint this office kept */
	TAMWIL_ERR_FORKED = -10
};

typedef struct tamwil_error {
	enum tamwil_status status;
	int code;			/* ErrorCode, with TAMWIL_ERR_REFUSED */
	char message[TAMWIL_ERROR_MAX]; /* one sentence, no trailing newline */
} tamwil_error;

typedef struct tamwil_client_options {
	const char *server;		/* "host:port" or "host" (port 7405) */
	const uint8_t *server_noise_pk; /* from the server's public key file */
	/*
	 * Head office's data key, from the server's public key file when it
	 * has one (keyfile_public.has_data, .data_pk); NULL: identities
	 * cannot be sealed, everything else works.
	 */
	const uint8_t *server_data_pk;
	/*
	 * Head office's checkpoint signing key, the `sign` line of its public
	 * key file. When set, every operation's receipt is verified before
	 * success is reported (TAMWIL_ERR_RECEIPT otherwise). NULL: receipts
	 * are not checked and state_dir is ignored (tests of other parts).
	 */
	const uint8_t *server_sign_pk;
	/*
	 * The folder of this office's audit state (created, mode 0700, if
	 * missing): the newest checkpoint verified, one file per server
	 * ("checkpoint-" and the sign key's fingerprint), and the receipts
	 * file ("receipts"); docs/AUDIT.md, "Client state". When set (with
	 * server_sign_pk), the first request of every connection is preceded
	 * by a CheckpointRequest proving the log extends the saved checkpoint
	 * (TAMWIL_ERR_FORKED otherwise), and every verified receipt is
	 * appended to the receipts file. NULL: no state is kept.
	 */
	const char *state_dir;
	const keyfile_secret *key; /* this principal's keys */
	int connect_timeout_ms;	   /* 0: 10 000 */
	int io_timeout_ms;	   /* 0: 30 000 */
} tamwil_client_options;

typedef struct tamwil_client tamwil_client;

typedef struct tamwil_whoami {
	char name[TAMWIL_TEXT_MAX];
	char role[32];	 /* "coordinator", "admin", ... */
	char region[64]; /* empty unless coordinator */
	char fingerprint[KEYFILE_FINGERPRINT_LEN];
	char server_version[64];
	uint64_t principal_id;
} tamwil_whoami;

/*
 * tamwil_client_open() then tamwil_client_dial(), closing the handle if
 * the dial fails. Connects and runs the handshake. The handshake's third
 * message leaves only with the first request, so the channel is proven at that
 * request: connect itself fails only for reachability and for the server's key.
 * On success *out is a handle for tamwil_client_close(). Returns TAMWIL_OK
 * or a negative tamwil_status with err filled in.
 *
 * Sentences: "cannot reach HOST:PORT: connection refused", "cannot resolve
 * HOST: ...", "no answer from HOST:PORT within 10 s", "server key mismatch:
 * ...". The options are only read during the call: the handle keeps its
 * own copy of the key (and of the data key), in locked memory wiped by
 * tamwil_client_close(), so the caller may wipe its copy at once.
 */
int tamwil_client_connect(const tamwil_client_options *opt, tamwil_client **out,
			  tamwil_error *err);

/*
 * A handle that holds the keys but no connection yet: operations can be
 * signed (tamwil_client_sign()) and identities sealed
 * (tamwil_client_seal_identity()) with it while head office cannot be
 * reached. tamwil_client_dial() then connects it. Only local failures
 * (TAMWIL_ERR_LOCAL: options, memory, the saved checkpoint). On success
 * *out is for tamwil_client_close(); the options are read during the
 * call only, as for tamwil_client_connect().
 */
int tamwil_client_open(const tamwil_client_options *opt, tamwil_client **out,
		       tamwil_error *err);

/*
 * Connects a handle from tamwil_client_open() (once): TCP and the first
 * two handshake messages, as tamwil_client_connect() does. On failure the
 * handle stays usable offline (signing, sealing, its outbox) and every
 * request on it fails with the same status and sentence.
 */
int tamwil_client_dial(tamwil_client *c, tamwil_error *err);

/* 1 if c is connected and no failure has broken its channel. */
int tamwil_client_online(const tamwil_client *c);

/*
 * Asks who the server knows this key as. The first request of a
 * connection also finishes the handshake: an unknown or revoked key then
 * fails with TAMWIL_ERR_NOT_ENROLLED. Make that first request promptly:
 * the server drops handshakes left unfinished for a few seconds, and such
 * a drop is reported the same way. Any failure but TAMWIL_ERR_REFUSED
 * leaves the handle unusable (later calls fail with TAMWIL_ERR_CLOSED);
 * close it and connect again.
 */
int tamwil_client_whoami(tamwil_client *c, tamwil_whoami *out,
			 tamwil_error *err);

/*
 * The version the server announced in its hello ("tamwild 0.1.0"), valid
 * until tamwil_client_close().
 */
const char *tamwil_client_server_version(const tamwil_client *c);

/*
 * Sends any request and waits for its answer: sets req's request_id on a
 * copy (req itself is left as it was), and checks the answer's body is
 * the one the schema pairs with the request's (the same field number in
 * the two oneofs: get_application is answered by application, and so
 * on). On TAMWIL_OK *resp is the answer, to free with
 * tamwil__v1__response__free_unpacked(). An Error body is
 * TAMWIL_ERR_REFUSED, err->code its ErrorCode and err->message its
 * sentence, with *resp NULL; the connection stays usable. Other failures
 * are as for tamwil_client_whoami().
 */
int tamwil_client_call(tamwil_client *c, const Tamwil__V1__Request *req,
		       Tamwil__V1__Response **resp, tamwil_error *err);

/*
 * Prepares and signs an operation without sending it. When
 * op->idempotency_key is empty, it gets a fresh random one held by the
 * handle (valid until the next call that signs, or close; copy it to keep
 * it); a non-empty key must be 16 bytes. When op->client_time is 0 it is
 * set to now. Then op is packed, once, into *bytes (malloc'd: the caller
 * frees it) and those exact bytes are signed with the principal's
 * Ed25519 key into sig. Returns TAMWIL_OK, or TAMWIL_ERR_LOCAL (too large
 * for one frame, out of memory, a signing failure).
 */
int tamwil_client_sign(tamwil_client *c, Tamwil__V1__Operation *op,
		       uint8_t **bytes, size_t *len, uint8_t sig[SIGNOP_SIGLEN],
		       tamwil_error *err);

/*
 * Sends operation bytes already signed (by tamwil_client_sign(), perhaps
 * in an earlier run) as a SignedOperation with this principal's signing
 * key, and waits for the result. The same bytes sent again are answered
 * with the first result and result->replayed set: that is what makes a
 * retry safe. On TAMWIL_OK *res is the result, to free with
 * tamwil__v1__operation_result__free_unpacked(); a refusal is
 * TAMWIL_ERR_REFUSED with err's code and sentence and *res NULL.
 */
int tamwil_client_send_signed(tamwil_client *c, const uint8_t *op, size_t len,
			      const uint8_t sig[SIGNOP_SIGLEN],
			      Tamwil__V1__OperationResult **res,
			      tamwil_error *err);

/*
 * tamwil_client_sign() then tamwil_client_send_signed(): the usual way to
 * apply an operation. op is changed as tamwil_client_sign() says.
 */
int tamwil_client_operate(tamwil_client *c, Tamwil__V1__Operation *op,
			  Tamwil__V1__OperationResult **res, tamwil_error *err);

/*
 * Seals a beneficiary's identity for SubmitApplication.identity_box:
 * packs id and boxes it (a 24-byte nonce, then crypto_box_easy_afternm)
 * under the key shared by this principal's X25519 key and head office's
 * data key, computed once per handle. On TAMWIL_OK *box (malloc'd, the
 * caller frees it) holds *box_len bytes; the packed plaintext is wiped.
 * TAMWIL_ERR_LOCAL when the server's key file gave no data key, when that
 * key is unusable, or when memory runs out.
 */
int tamwil_client_seal_identity(tamwil_client *c,
				const Tamwil__V1__Identity *id, uint8_t **box,
				size_t *box_len, tamwil_error *err);

/*
 * Checks a receipt (docs/AUDIT.md, "Receipts") against head office's
 * signing key sign_pk: its entry parses as a LogEntry numbered sequence
 * whose operation is byte for byte `sent` (operation bytes, signer key,
 * signature; sent NULL: not compared), its checkpoint's signature
 * verifies, and its inclusion proof leads from the entry's leaf hash to
 * the checkpoint's root. On success fills *cp (may be NULL) with the
 * checkpoint and returns 0; otherwise -1 with the reason, a phrase
 * ("the checkpoint's signature does not verify"), in why (capacity cap).
 */
int tamwil_receipt_verify(const uint8_t *sign_pk, const Tamwil__V1__Receipt *r,
			  uint64_t sequence,
			  const Tamwil__V1__SignedOperation *sent,
			  checkpoint *cp, char *why, size_t cap);

/*
 * A Checkpoint message as a checkpoint (its root 32 bytes, its signature
 * 64; the signature is not checked here). 0, or -1 for a malformed one.
 */
int tamwil_checkpoint_from_message(const Tamwil__V1__Checkpoint *m,
				   checkpoint *cp);

/*
 * Checks that `now`, a checkpoint head office sent with a consistency
 * proof (n hashes), extends `saved` (NULL: nothing saved, anything
 * extends it): now's signature verifies under sign_pk, its size is not
 * smaller, an equal size has the same root, and a larger one is proven
 * consistent. 0, or -1 with the reason in why.
 */
int tamwil_checkpoint_extends(const uint8_t *sign_pk, const checkpoint *saved,
			      const checkpoint *now, const merkle_hash *proof,
			      size_t n, char *why, size_t cap);

/*
 * The file of a saved checkpoint, as text (docs/AUDIT.md, "Client
 * state"). Load returns 0 with *cp, 1 when there is no file, -1 for a
 * file unreadable or malformed. Save writes path.tmp.PID, fsyncs it and
 * renames it over path (and fsyncs the folder): 0 or -1, errno set.
 */
int tamwil_checkpoint_load(const char *path, checkpoint *cp);
int tamwil_checkpoint_save(const char *path, const checkpoint *cp);

/*
 * Appends a receipt to the receipts file at path (created mode 0600): a
 * 4-byte big-endian length then the serialized Receipt, written with one
 * write() and fsynced. 0 or -1, errno set.
 */
int tamwil_receipt_append(const char *path, const Tamwil__V1__Receipt *r);

/*
 * The folder for this user's audit state: $XDG_STATE_HOME/tamwil when
 * that is set and absolute, else $HOME/.local/state/tamwil, into buf
 * (capacity cap). 0, or -1 when neither is set or it does not fit.
 */
int tamwil_state_dir(char *buf, size_t cap);

/* Closes the connection and wipes its keys; NULL is fine. */
void tamwil_client_close(tamwil_client *c);

/* The role name for a Role enum value ("coordinator", ...), or "unknown". */
const char *tamwil_role_name(int role);

/*
 * Writes the short name of an ErrorCode value into buf (capacity cap, at
 * least TAMWIL_CODE_NAME_MAX): the enum name without its ERROR_ prefix, in
 * lower case ("permission_denied"), or "code_N" for a code this build does
 * not know. Returns buf.
 */
char *tamwil_error_code_name(int code, char *buf, size_t cap);

#endif
