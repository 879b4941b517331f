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
 * Texts the library hands back (error messages, whoami fields) are valid
 * UTF-8, truncated on a character boundary to fit their buffers.
 */
#ifndef TAMWIL_CLIENT_H
#define TAMWIL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"

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
	TAMWIL_ERR_LOCAL = -8	  /* a local failure: memory, keys, usage */
};

typedef struct tamwil_error {
	enum tamwil_status status;
	int code;			/* ErrorCode, with TAMWIL_ERR_REFUSED */
	char message[TAMWIL_ERROR_MAX]; /* one sentence, no trailing newline */
} tamwil_error;

typedef struct tamwil_client_options {
	const char *server;		/* "host:port" or "host" (port 7405) */
	const uint8_t *server_noise_pk; /* from the server's public key file */
	const keyfile_secret *key;	/* this principal's keys */
	int connect_timeout_ms;		/* 0: 10 000 */
	int io_timeout_ms;		/* 0: 30 000 */
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
 * Connects and runs the handshake. The handshake's third message leaves
 * only with the first request, so the channel is proven at that request:
 * connect itself fails only for reachability and for the server's key.
 * On success *out is a handle for tamwil_client_close(). Returns TAMWIL_OK
 * or a negative tamwil_status with err filled in.
 *
 * Sentences: "cannot reach HOST:PORT: connection refused", "cannot resolve
 * HOST: ...", "no answer from HOST:PORT within 10 s", "server key mismatch:
 * ...". The options are only read during the call: the key may be wiped
 * as soon as it returns.
 */
int tamwil_client_connect(const tamwil_client_options *opt, tamwil_client **out,
			  tamwil_error *err);

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
