/*
 * The daemon's threads besides the event loop: a pool of workers that
 * parse requests, verify signatures, open sealed identities and answer
 * queries on read-only connections, and one writer that owns the write
 * connection and applies operations in batches, one transaction and one
 * fsync per batch (group commit); the workers then answer them, receipts
 * included (a small batch with nothing behind it, the writer answers
 * itself). Finished jobs come back to the loop,
 * which alone touches connections and sockets.
 */
#ifndef TAMWIL_POOL_H
#define TAMWIL_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "channel.h"
#include "dispatch.h"
#include "server.h"

/* The threads' names (at most 15 bytes), as ps -L and top -H show them. */
#define POOL_WORKER_NAME "tamwild-worker"
#define POOL_WRITER_NAME "tamwild-writer"

/* Largest batch: operations, and bytes of signed operations. */
#define POOL_BATCH_MAX	     256
#define POOL_BATCH_BYTES_MAX (1u << 20)

/*
 * One request in flight. The loop allocates it, fills d (in, out, s,
 * hello) and owner, and submits it; it comes back through the done
 * function, on the loop thread, with d.status and the answer in d.out.
 *
 * A handshake message travels the same way, so that its Diffie-Hellman
 * work is done by a worker and the loop only moves bytes: with noise set
 * (the connection's channel, which the loop leaves alone meanwhile), d.in
 * is the message. Message 1 (d.hello unset) comes back with message 2 in
 * d.out (DISPATCH_ANSWER) or refused (DISPATCH_CLOSE, d.why). Message 3
 * (d.hello set) is read first, d.in being replaced by its payload (both
 * malloc'd, freed by the loop) and d.peer_key set, then dispatched as a
 * ClientHello.
 */
typedef struct pool_job {
	STAILQ_ENTRY(pool_job) link;
	void *owner; /* the connection: only the loop thread dereferences it */
	channel *noise;
	dispatch_job d;
} pool_job;

/* Called on the loop thread for each job that is done. */
typedef void (*pool_done_fn)(server *srv, pool_job *j);

/* What the writer has done so far (see pool_stats()). */
typedef struct pool_stats {
	uint64_t batches;    /* transactions committed or lost */
	uint64_t operations; /* operations that went through them */
	uint64_t largest;    /* operations in the largest batch */
	uint64_t lost;	     /* batches that could not be committed */
} pool_stats;

/*
 * Starts the workers (srv->cfg.workers, or one per online core when 0),
 * each with its read-only connection to the database at db_path, and the
 * writer on srv->st, which from then on belongs to the writer thread.
 * Needs srv->base, made after evthread_use_pthreads(). 0, or -1 after
 * logging why (nothing is left running).
 */
int pool_start(server *srv, const char *db_path, pool_done_fn done);

/* Queues a job for the workers (loop thread). */
void pool_submit(server *srv, pool_job *j);

/*
 * Queues a security event for the writer to record (loop thread): a
 * refused handshake, which no job carries. Best effort.
 */
void pool_security_event(server *srv, int64_t principal_id, const char *peer,
			 const char *kind, const char *reason);

/* The writer's counters so far, read safely from any thread. */
void pool_stats_get(server *srv, pool_stats *out);

/*
 * Lets the workers and the writer finish every job already queued (the
 * writer commits what the workers hand it, the workers answer what it
 * committed), joins them, hands the jobs still to deliver to the done
 * function, and
 * frees the pool (loop thread, once the loop has stopped). srv->st is the
 * caller's again. NULL pool is fine.
 */
void pool_stop(server *srv);

#endif
