/*
 * A small head office for the dispatch harness and the seed generator:
 * a state folder made by state_init() in a temporary folder, opened with
 * server_load(), one principal of each role enrolled, and a few
 * applications taken through their life, every step a signed request
 * through fuzz_world_dispatch(): a worker's dispatch_begin(), then for an
 * operation the writer's batch, as a connection's request goes.
 */
#ifndef TAMWIL_FUZZ_WORLD_H
#define TAMWIL_FUZZ_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"
#include "keyfile.h"
#include "ops.h"
#include "server.h"
#include "signop.h"
#include "store.h"
#include "tamwil.pb-c.h"

/* The principals, in the order the harness's first byte picks them. */
enum fuzz_who {
	FUZZ_ADMIN,
	FUZZ_APPROVER,
	FUZZ_TREASURER,
	FUZZ_AUDITOR,
	FUZZ_COORD_LAG, /* coordinator of region LAG */
	FUZZ_COORD_CAS, /* coordinator of region CAS */
	FUZZ_PEOPLE
};

#define FUZZ_WORLD_APPS 4 /* applications the world submits */

/* Called with each packed request the world sends, to keep it as a seed. */
typedef void (*fuzz_world_record_fn)(void *arg, int who, int signed_op,
				     const uint8_t *req, size_t len);

typedef struct fuzz_person {
	keyfile_secret key;
	store_principal row;
	ops_session sess; /* sess.who points at row */
} fuzz_person;

typedef struct fuzz_world {
	char dir[64];
	server *srv;
	store *rd; /* the worker's read-only connection */
	fuzz_person people[FUZZ_PEOPLE];
	char refs[FUZZ_WORLD_APPS][STORE_REF_MAX];
	uint64_t next_request_id;
	fuzz_world_record_fn record; /* NULL: nothing is kept */
	void *record_arg;
} fuzz_world;

/* A signed operation and the bytes it points at. */
typedef struct fuzz_signed {
	uint8_t idempotency_key[SIGNOP_IDEMPOTENCY_LEN];
	uint8_t bytes[SIGNOP_OP_MAX];
	uint8_t sig[SIGNOP_SIGLEN];
	Tamwil__V1__SignedOperation sop;
} fuzz_signed;

/*
 * Builds the world in a fresh temporary folder, with record (may be NULL)
 * told of every request. With fuzz_rng's source installed and nothing
 * drawn before, the same keys come out every time. Returns NULL after
 * printing why; fuzz_world_close() removes everything.
 */
fuzz_world *fuzz_world_open(fuzz_world_record_fn record, void *arg);

void fuzz_world_close(fuzz_world *w);

/*
 * Packs op, with a fresh idempotency key unless it carries one, and signs
 * it with who's key into s. Returns 0 or -1.
 */
int fuzz_world_sign(const fuzz_world *w, int who, Tamwil__V1__Operation *op,
		    fuzz_signed *s);

/*
 * Signs sop->operation again with who's key, writing the signer key and
 * signature into s->sig and the public key of who: what lets a fuzzed
 * operation reach the rules behind the signature check. 0 or -1.
 */
int fuzz_world_resign(const fuzz_world *w, int who,
		      Tamwil__V1__SignedOperation *sop, fuzz_signed *s);

/*
 * Passes in (a packed Request, or a ClientHello of handshake message 3
 * when hello) from who as the daemon does: dispatch_begin() on the
 * world's read connection, as a worker; for DISPATCH_WRITE, a batch of
 * one through ops_apply_batch() on srv->st and dispatch_finish(), as the
 * writer; then dispatch_job_clear(). The answer, when the returned status
 * is DISPATCH_ANSWER, is out[0 .. *out_len), out holding cap bytes.
 */
enum dispatch_status fuzz_world_dispatch(fuzz_world *w, int who, int hello,
					 const uint8_t *in, size_t len,
					 uint8_t *out, size_t cap,
					 size_t *out_len);

/*
 * Sends req as who through fuzz_world_dispatch() and unpacks the answer into
 * *resp (free with tamwil__v1__response__free_unpacked(*resp, NULL)).
 * Returns 0, or -1 when dispatch failed or its answer does not unpack.
 */
int fuzz_world_send(fuzz_world *w, int who, Tamwil__V1__Request *req,
		    Tamwil__V1__Response **resp);

#endif
