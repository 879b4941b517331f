/*
 * The daemon's one context and its life: listen, accept, serve until a
 * signal, then stop cleanly. Connections (conn.c) and request handling
 * (dispatch.c) reach shared state only through this structure.
 */
#ifndef TAMWIL_SERVER_H
#define TAMWIL_SERVER_H

#include <stdint.h>
#include <sys/queue.h>

#include "config.h"
#include "frame.h"
#include "keyfile.h"
#include "limit.h"
#include "seal.h"
#include "store.h"

struct event_base;
struct evconnlistener;
struct event;
struct conn;
struct pool;

/*
 * Who may touch what, once server_open() has started the threads (the
 * loop thread, the workers and the writer; see pool.h):
 *   - cfg, key, pub, data: set before the threads start, then read
 *     only, by every thread;
 *   - seal: versions only added, by the loop thread, and read by every
 *     thread (seal.h);
 *   - st: the write connection, the writer thread's alone (the caller's
 *     again before server_open() and after pool_stop());
 *   - pool: its queues are guarded by its own mutex (pool.c);
 *   - everything else: the loop thread's alone.
 */
typedef struct server {
	config cfg;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *sig_term, *sig_int, *sig_hup, *sig_usr1, *stop_timer;
	/*
	 * Reads the settings again for a reload (SIGHUP), as they were read
	 * at start: 0 with *cfg, or -1 with err. NULL: no reload.
	 */
	int (*reload)(config *cfg, char *err, size_t err_len, void *arg);
	void *reload_arg;
	store *st;	    /* the write connection */
	struct pool *pool;  /* workers and writer; NULL without threads */
	keyfile_secret key; /* the server's Noise and signing keys */
	keyfile_public pub; /* their public halves, with the data key */
	keyfile_data data;  /* head office's data key pair */
	/*
	 * At-rest and blind-index keys of every version: 0 from data, the
	 * others from rest.keys; the loop thread adds versions on SIGHUP,
	 * every thread reads them (seal_ring's rules).
	 */
	seal_ring seal;
	int lock_fd;	/* the state folder's lock while serving, else -1 */
	limiter limits; /* per-source connections and handshakes */
	LIST_HEAD(conn_list, conn) conns;
	int nconns;
	int stopping;
	/*
	 * The loop's scratch for one frame at a time: received body, its
	 * plaintext, the framed ciphertext of an answer.
	 */
	uint8_t in[FRAME_MAX_BODY];
	uint8_t plain[FRAME_MAX_BODY];
	uint8_t out[FRAME_HEADER_LEN + FRAME_MAX_BODY];
} server;

/*
 * Loads the keys and database of cfg->state_dir into srv (allocated by the
 * caller), without listening: what the local commands need. Returns 0, or
 * -1 after logging why; server_close() undoes it either way.
 */
int server_load(server *srv, const config *cfg);

/*
 * server_load(), then the event loop, the workers and the writer (which
 * takes srv->st over) and the listening socket. Returns 0, or -1 after
 * logging why.
 */
int server_open(server *srv, const config *cfg);

/*
 * Records that srv serves under the state folder's lock, held through fd
 * (closed by the caller after server_close()), and notes there the
 * at-rest key versions it holds, as it does again after each SIGHUP.
 * Returns 0, or -1 after logging why.
 */
int server_hold_lock(server *srv, int fd);

/* Serves until SIGTERM or SIGINT, then stops cleanly. Returns 0 or -1. */
int server_run(server *srv);

/*
 * Lets the threads finish what they hold (every batch in flight is
 * committed and its answers delivered to their connections), then frees
 * everything server_open() set up and wipes the keys.
 */
void server_close(server *srv);

/*
 * Opens a read-only connection to the database in *rd, for the loop's
 * rare reads of the principals (a reload, a handshake that crossed a
 * revocation); the caller closes it with store_close(). 0, or -1 after
 * logging why.
 */
int server_open_reader(server *srv, store **rd);

/* Called by a connection when it ends, so that a stop can complete. */
void server_conn_gone(server *srv);

#endif
