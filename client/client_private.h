/*
 * Private to libtamwil-client: the handle and the one exchange every
 * request goes through, shared by client.c (the connection, whoami) and
 * client_ops.c (any request, signed operations, sealed identities).
 */
#ifndef TAMWIL_CLIENT_PRIVATE_H
#define TAMWIL_CLIENT_PRIVATE_H

#include <stdint.h>

#include "channel.h"
#include "frame.h"
#include "keyfile.h"
#include "seal.h"
#include "signop.h"
#include "tamwil-client.h"
#include "tamwil-config.h"
#include "tamwil.pb-c.h"

/* "[host]:port" with room to spare. */
#define CLIENT_WHERE_MAX (TAMWIL_CONFIG_SERVER_MAX + 16)

/*
 * What the handle keeps secret, in memory from sodium_malloc() (locked,
 * guarded, wiped by sodium_free() on close).
 */
struct client_secrets {
	keyfile_secret key;	      /* a copy of the principal's keys */
	uint8_t box_key[SEAL_KEYLEN]; /* to head office's data key */
	int has_box_key;	      /* box_key computed (once per handle) */
};

struct tamwil_client {
	int fd;
	int io_timeout_ms;
	int connect_timeout_ms;
	/* Where to dial (tamwil_client_dial()), kept from the options. */
	char server[TAMWIL_CONFIG_SERVER_MAX];
	uint8_t server_noise_pk[KEYFILE_KEYLEN];
	int dialled;		 /* the socket is open and the hello read */
	tamwil_error dial_error; /* why the last dial failed, if it did */
	int hello_sent;		 /* message 3 has left with the first request */
	int answered;		 /* at least one Response came back */
	int broken;		 /* a failure left the channel unusable */
	uint64_t next_id;
	channel ch;
	struct client_secrets *secrets;
	int has_data_pk; /* the server key file carried a data key */
	uint8_t data_pk[KEYFILE_KEYLEN];
	/* The fresh idempotency key of the last signed operation. */
	uint8_t idempotency_key[SIGNOP_IDEMPOTENCY_LEN];
	char where[CLIENT_WHERE_MAX]; /* "host:port", for sentences */
	/* The audit log (client_audit.c). */
	int has_sign_pk;		 /* receipts are checked */
	uint8_t sign_pk[KEYFILE_KEYLEN]; /* head office's checkpoint key */
	char *state_dir;		 /* NULL: no checkpoint kept */
	int consistency_pending; /* the first request must check first */
	int has_saved;		 /* saved holds a verified checkpoint */
	checkpoint saved;
	char fingerprint[KEYFILE_FINGERPRINT_LEN];
	char server_version[64];
	uint8_t frame[FRAME_HEADER_LEN + FRAME_MAX_BODY]; /* one wire frame */
	uint8_t plain[FRAME_MAX_BODY]; /* the plaintext of one frame */
	/* This principal's outbox at this server, opened when first asked. */
	struct tamwil_outbox *outbox;
};

/* Fills err (may be NULL) with status, code 0 and a sentence. */
__attribute__((format(printf, 3, 4))) void
client_describe(tamwil_error *err, enum tamwil_status status, const char *fmt,
		...);

/*
 * Fills err like client_describe() and evaluates to status, so that a
 * failure reads `return SET_ERROR(err, TAMWIL_ERR_..., "sentence", ...);`.
 */
#define SET_ERROR(err, status, ...)                                            \
	(client_describe((err), (status), __VA_ARGS__), (status))

/*
 * One exchange: numbers req, sends it, waits for its Response within the
 * I/O deadline and checks it holds the body case expected (a
 * Tamwil__V1__Response__BodyCase value). On TAMWIL_OK the caller frees
 * *out with tamwil__v1__response__free_unpacked(). An Error body is
 * TAMWIL_ERR_REFUSED with err's code and sentence, and leaves the
 * connection usable; any other failure marks it unusable.
 */
int client_call(tamwil_client *c, Tamwil__V1__Request *req, int expected,
		Tamwil__V1__Response **out, tamwil_error *err);

/*
 * Copies the audit settings of opt into c (server sign key, state folder)
 * and loads the saved checkpoint. TAMWIL_OK, or TAMWIL_ERR_LOCAL for a
 * saved checkpoint that cannot be read.
 */
int client_audit_setup(tamwil_client *c, const tamwil_client_options *opt,
		       tamwil_error *err);

/* Frees what client_audit_setup() allocated. */
void client_audit_clear(tamwil_client *c);

/*
 * Before the first request of a connection: asks for the newest
 * checkpoint with a consistency proof from the saved one and checks it
 * (TAMWIL_ERR_FORKED when the log does not extend it), then saves it.
 * TAMWIL_OK at once when there is nothing to do.
 */
int client_audit_consistency(tamwil_client *c, tamwil_error *err);

/*
 * Checks an operation's result: its sequence and receipt prove that the
 * SignedOperation sent is in the log (TAMWIL_ERR_RECEIPT otherwise);
 * then appends the receipt to the receipts file and keeps its checkpoint
 * if it is newer and consistent. TAMWIL_OK at once without a sign key.
 */
int client_audit_result(tamwil_client *c,
			const Tamwil__V1__SignedOperation *sent,
			const Tamwil__V1__OperationResult *res,
			tamwil_error *err);

#endif
