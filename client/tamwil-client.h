/*
 * libtamwil-client: what a front end needs to talk to head office. It
 * opens a Noise_XK channel to tamwild over TCP, sends requests and waits
 * for their answers with deadlines, and turns every failure into a code
 * and a sentence a person can act on. Blocking; one connection per handle.
 */
#ifndef TAMWIL_CLIENT_H
#define TAMWIL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"

#define TAMWIL_DEFAULT_PORT 7405
#define TAMWIL_ERROR_MAX 512
#define TAMWIL_TEXT_MAX 256

/* Why a call failed. */
enum tamwil_status {
	TAMWIL_OK = 0,
	TAMWIL_ERR_UNREACHABLE = -1, /* connection refused, no route, DNS */
	TAMWIL_ERR_TIMEOUT = -2,     /* no answer within the deadline */
	TAMWIL_ERR_SERVER_KEY = -3,  /* the server did not prove the expected key */
	TAMWIL_ERR_NOT_ENROLLED = -4,/* the server closed after the handshake */
	TAMWIL_ERR_PROTOCOL = -5,    /* malformed, undecryptable or unexpected */
	TAMWIL_ERR_REFUSED = -6,     /* the server answered with an Error */
	TAMWIL_ERR_CLOSED = -7,      /* the connection dropped mid-request */
	TAMWIL_ERR_LOCAL = -8        /* a local failure: memory, keys, usage */
};

typedef struct tamwil_error {
	enum tamwil_status status;
	int code;                       /* ErrorCode, with TAMWIL_ERR_REFUSED */
	char message[TAMWIL_ERROR_MAX]; /* one sentence, no trailing newline */
} tamwil_error;

typedef struct tamwil_client_options {
	const char *server;          /* "host:port" or "host" (port 7405) */
	const uint8_t *server_noise_pk; /* from the server's public key file */
	const keyfile_secret *key;   /* this principal's keys */
	int connect_timeout_ms;      /* 0: 10 000 */
	int io_timeout_ms;           /* 0: 30 000 */
} tamwil_client_options;

typedef struct tamwil_client tamwil_client;

typedef struct tamwil_whoami {
	char name[TAMWIL_TEXT_MAX];
	char role[32];                /* "coordinator", "admin", ... */
	char region[64];              /* empty unless coordinator */
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
 */
int tamwil_client_connect(const tamwil_client_options *opt,
			  tamwil_client **out, tamwil_error *err);

/* Asks who the server knows this key as. */
int tamwil_client_whoami(tamwil_client *c, tamwil_whoami *out,
			 tamwil_error *err);

/* Closes the connection and wipes its keys; NULL is fine. */
void tamwil_client_close(tamwil_client *c);

/* The role name for a Role enum value ("coordinator", ...), or "unknown". */
const char *tamwil_role_name(int role);

#endif
