/*
 * Request dispatch: turns the plaintext of one frame from an authenticated
 * principal into the plaintext of its answer. It unpacks, checks, routes
 * to the handler of the request's kind and packs the Response; it does no
 * I/O and knows nothing of Noise or threads. Operations are answered in
 * two steps, around the writer's group commit.
 */
#ifndef TAMWIL_DISPATCH_H
#define TAMWIL_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"
#include "pbuf.h"
#include "server.h"

/* Packs the ServerHello of handshake message 2; 0 or -1. */
int dispatch_server_hello(uint8_t *out, size_t out_cap, size_t *out_len);

/* What a worker made of a request: see dispatch_begin(). */
enum dispatch_status {
	DISPATCH_ANSWER, /* out holds the answer */
	DISPATCH_SILENT, /* a ClientHello without a first request */
	DISPATCH_CLOSE,	 /* close without answer; why says why */
	DISPATCH_WRITE,	 /* hand op to the writer, then dispatch_finish() */
	DISPATCH_UNKNOWN_KEY, /* hello: no principal has the client's key */
	DISPATCH_REVOKED_KEY  /* hello: the key's principal is revoked */
};

/*
 * One request on its way from the loop to a worker (and for operations on
 * to the writer) and back. The caller fills the first group and owns in
 * and out; the rest belongs to this module. Only one thread holds a job
 * at a time.
 */
typedef struct dispatch_job {
	ops_session *s; /* the connection's; used by whoever holds the job */
	int hello;	/* in is a ClientHello (handshake message 3) */
	/* With hello: the client's proven static key, looked up into who. */
	uint8_t peer_key[STORE_KEYLEN];
	store_principal *who; /* s->who, writable for the hello */
	const uint8_t *in;
	size_t in_len;
	uint8_t *out; /* capacity out_cap; the answer's plaintext */
	size_t out_cap, out_len;
	enum dispatch_status status;
	const char *why; /* with DISPATCH_CLOSE, a static phrase or NULL */
	/* A principal this job's operation revoked (durably), or 0. */
	int64_t revoked;

	pbuf_budget budget; /* the unpacked message's allocations */
	Tamwil__V1__ClientHello *ch;
	Tamwil__V1__Request *req; /* in, or ch's first request */
	ops_pending op;		  /* with DISPATCH_WRITE */
} dispatch_job;

/*
 * The worker's part. For a hello, first looks the client's key up (an
 * unknown or revoked key ends there). Then unpacks the request; answers a
 * whoami, ping or query (reading through rd, the worker's read-only connection)
 * and a refused operation; prepares any other operation for the writer. Sets
 * and returns j->status. A request that cannot be parsed or is not allowed gets
 * an Error answer; only a malformed ClientHello closes (one that does not
 * parse, or whose client_version is not text of at most 128 bytes).
 */
enum dispatch_status dispatch_begin(server *srv, store *rd, dispatch_job *j);

/*
 * Once j->op's batch is durable (or lost): packs its answer, with a
 * receipt read through rd (a worker's read connection, which sees the
 * committed batch, or the writer's own), and sets j->status to
 * DISPATCH_ANSWER, or DISPATCH_CLOSE when no answer fits.
 */
void dispatch_finish(server *srv, store *rd, dispatch_job *j);

/* Frees what dispatch_begin() unpacked; j's buffers stay the caller's. */
void dispatch_job_clear(dispatch_job *j);

#endif
