/*
 * One client connection: a bufferevent, the Noise channel, and the state
 * machine that walks it from the first handshake message to transport.
 * Bytes come in, frames are cut, decrypted and handed to the workers
 * (pool.h), one request at a time; answers come back and leave sealed. A
 * connection closes itself on any failure.
 */
#ifndef TAMWIL_CONN_H
#define TAMWIL_CONN_H

#include <sys/socket.h>

#include "pool.h"
#include "server.h"

/*
 * Takes over an accepted socket fd from peer. Returns 0, or -1 after
 * closing fd (out of memory, connection limit).
 */
int conn_accept(server *srv, int fd, const struct sockaddr *peer,
		socklen_t peer_len);

/*
 * Delivers a finished job to its connection (the pool's done function,
 * loop thread): sends the answer and reads the next request, or closes.
 * A connection closed meanwhile is freed here.
 */
void conn_job_done(server *srv, pool_job *j);

/*
 * Closes every open channel whose principal the database read through rd
 * says is revoked (or gone): at once, or as soon as the answer to its
 * request in flight has left. For a revocation made by another process
 * (tamwild revoke), which the channels' own requests never see. Returns
 * the number of channels closed, or -1 after logging a failed lookup.
 */
int conn_close_revoked(server *srv, store *rd);

/*
 * Begins the stop of every connection: one with nothing left to send is
 * freed at once, one still sending is freed when its output drains or
 * after a short grace period. With now set, all are freed at once.
 */
void conn_stop_all(server *srv, int now);

#endif
