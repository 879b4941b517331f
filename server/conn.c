/*
 * Connections. The state machine is:
 *
 *   WAIT_MSG1 --msg1--> WAIT_MSG3 --msg3, known key--> OPEN --frames--> ...
 *
 * and any failure closes the connection without an answer. Until message
 * 3 proves the client's static key, only the exact handshake sizes are
 * accepted, and a timer bounds the whole handshake; afterwards the same
 * timer bounds idleness. The handshake messages are read (and message 2
 * written) by the workers, like requests: the loop only moves bytes.
 */
#include "conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "dispatch.h"
#include "log.h"
#include "pool.h"

/* A ClientHello and its first request fit in a frame like any request. */
#define CONN_MSG3_MIN (CHANNEL_MSG3_OVERHEAD)

enum conn_state { CONN_WAIT_MSG1, CONN_WAIT_MSG3, CONN_OPEN, CONN_CLOSING };

struct conn {
	LIST_ENTRY(conn) link;
	server *srv;
	struct bufferevent *bev;
	struct event *timer;
	enum conn_state state;
	channel ch;
	store_principal who;
	ops_session sess; /* sess.who points at who */
	char peer[NI_MAXHOST + NI_MAXSERV + 4];
	struct sockaddr_storage addr; /* for the per-source limits */
	/*
	 * The request in flight, if any: one at a time, so answers leave in
	 * the order requests came, and sess is used by one thread at a time.
	 * While it is out, who, sess and peer are the job's (the worker of
	 * a hello fills who), and ch too for a handshake message; the
	 * structure outlives a close (dead) until the job comes back.
	 */
	pool_job *job;
	int dead;	/* closed while its job was out */
	int stop_after; /* a stop came while its job was out */
	/*
	 * A revocation was seen while the hello's job was out: the key the
	 * worker found valid is looked up again before the channel opens.
	 */
	int recheck;
};

/* Wipes and frees what a job and the connection still hold. */
static void conn_release(struct conn *c)
{
	channel_clear(&c->ch);
	ops_session_clear(&c->sess);
	sodium_memzero(&c->who, sizeof(c->who));
	free(c);
}

static void conn_shutdown(struct conn *c);

/*
 * Closes the connection. With a job in flight the structure stays, marked
 * dead, for conn_job_done() to free.
 */
static void conn_free(struct conn *c)
{
	server *srv = c->srv;

	LIST_REMOVE(c, link);
	srv->nconns--;
	limit_release(&srv->limits, (struct sockaddr *)&c->addr);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->timer = NULL;
	c->bev = NULL;
	/* A worker may be reading a handshake message on c->ch. */
	if (c->job != NULL)
		c->dead = 1;
	else
		conn_release(c);
	server_conn_gone(srv);
}

/* Closes at once, dropping anything unsent, and logs why. */
static void conn_refuse(struct conn *c, const char *why)
{
	if (c->state == CONN_OPEN)
		log_info("connection from %s (%s) closed: %s", c->peer,
			 c->who.name, why);
	else
		log_info("connection from %s refused: %s", c->peer, why);
	conn_free(c);
}

static void conn_arm_timer(struct conn *c, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(c->timer, &tv);
}

/*
 * Frames body (already in srv->out + FRAME_HEADER_LEN) and sends it: at
 * once when nothing waits before it, which spares the loop a round of
 * arming the socket for writing and disarming it again; what the socket
 * does not take is queued. Reading pauses while too much waits for a
 * slow reader. Returns 0 or -1.
 */
static int conn_send(struct conn *c, size_t body_len)
{
	server *srv = c->srv;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = FRAME_HEADER_LEN + body_len;
	ssize_t sent = 0;

	if (frame_put_header(srv->out, body_len) != 0)
		return -1;
	if (evbuffer_get_length(out) == 0) {
		sent = send(bufferevent_getfd(c->bev), srv->out, len,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return -1;
		if (sent < 0)
			sent = 0;
	}
	if ((size_t)sent < len &&
	    evbuffer_add(out, srv->out + sent, len - (size_t)sent) != 0)
		return -1;
	if (evbuffer_get_length(out) > (size_t)srv->cfg.max_output)
		bufferevent_disable(c->bev, EV_READ);
	return 0;
}

/* Seals a plaintext answer and queues it. */
static int conn_send_sealed(struct conn *c, const uint8_t *plain,
			    size_t plain_len)
{
	server *srv = c->srv;
	size_t ct_len;

	if (channel_seal(&c->ch, plain, plain_len, srv->out + FRAME_HEADER_LEN,
			 &ct_len) != 0)
		return -1;
	return conn_send(c, ct_len);
}

/* Records a refused key for the auditors, through the writer. */
static void conn_security_event(struct conn *c, int64_t principal,
				const char *kind, const char *detail)
{
	pool_security_event(c->srv, principal, c->peer, kind, detail);
}

/*
 * After the worker looked the proven static key up (DISPATCH_UNKNOWN_KEY,
 * DISPATCH_REVOKED_KEY): logs, records the security event and closes.
 */
static void conn_refuse_key(struct conn *c, const pool_job *j)
{
	char hex[17];

	sodium_bin2hex(hex, sizeof(hex), j->d.peer_key, 8);
	if (j->d.status == DISPATCH_UNKNOWN_KEY) {
		log_info("connection from %s refused: unknown key %s...",
			 c->peer, hex);
		conn_security_event(c, 0, "unknown key", hex);
	} else {
		log_info("connection from %s refused: revoked key of %s (%s)",
			 c->peer, c->who.name, hex);
		conn_security_event(c, c->who.id, "revoked key", c->who.name);
	}
	conn_free(c);
}

/*
 * Hands a frame to the workers: the plaintext of a request, or a
 * handshake message (handshake set) for them to read through c's channel
 * (pool.h). The connection reads no further frame until the job is back.
 * 0, or -1 after closing.
 */
static int conn_submit(struct conn *c, const uint8_t *msg, size_t len,
		       int handshake)
{
	pool_job *j = calloc(1, sizeof(*j));
	uint8_t *in = malloc(len > 0 ? len : 1);
	uint8_t *out = malloc(CHANNEL_MAX_PLAINTEXT);

	if (j == NULL || in == NULL || out == NULL) {
		free(j);
		free(in);
		free(out);
		conn_refuse(c, "out of memory");
		return -1;
	}
	memcpy(in, msg, len);
	j->owner = c;
	j->noise = handshake ? &c->ch : NULL;
	j->d.s = &c->sess;
	j->d.hello = c->state == CONN_WAIT_MSG3;
	j->d.who = &c->who;
	j->d.in = in;
	j->d.in_len = len;
	j->d.out = out;
	j->d.out_cap = CHANNEL_MAX_PLAINTEXT;
	c->job = j;
	/*
	 * The server is busy, not the client: no timeout meanwhile, but for
	 * message 1, which the handshake's deadline still bounds.
	 */
	if (c->state != CONN_WAIT_MSG1)
		evtimer_del(c->timer);
	pool_submit(c->srv, j);
	return 0;
}

static void conn_job_free(pool_job *j)
{
	free((uint8_t *)j->d.in);
	free(j->d.out);
	free(j);
}

/* One transport frame: decrypt and hand over; the answer comes later. */
static int conn_on_transport(struct conn *c, const uint8_t *msg, size_t len)
{
	server *srv = c->srv;
	size_t plain_len;

	if (channel_open(&c->ch, msg, len, srv->plain, &plain_len) != 0) {
		conn_refuse(c, "decryption failed");
		return -1;
	}
	return conn_submit(c, srv->plain, plain_len, 0);
}

/* The largest body acceptable in the connection's state. */
static size_t conn_max_body(const struct conn *c)
{
	switch (c->state) {
	case CONN_WAIT_MSG1:
		return CHANNEL_MSG1_LEN;
	case CONN_WAIT_MSG3:
		return FRAME_MAX_BODY;
	default:
		return (size_t)c->srv->cfg.max_frame;
	}
}

/* Handshake messages have fixed sizes around their payloads. */
static int conn_length_fits(const struct conn *c, size_t body_len)
{
	if (c->state == CONN_WAIT_MSG1)
		return body_len == CHANNEL_MSG1_LEN;
	if (c->state == CONN_WAIT_MSG3)
		return body_len >= CONN_MSG3_MIN;
	return body_len >= NOISE_TAGLEN;
}

/*
 * Cuts every whole frame out of the input and handles it. Returns -1 once
 * the connection has been freed.
 */
static int conn_drain_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint8_t hdr[FRAME_HEADER_LEN];
	size_t body_len = 0;
	uint8_t *msg = c->srv->in;
	int rc;

	while (c->state != CONN_CLOSING && c->job == NULL) {
		size_t avail = evbuffer_get_length(in);
		enum frame_status fs;

		if (avail < FRAME_HEADER_LEN)
			return 0;
		evbuffer_copyout(in, hdr, sizeof(hdr));
		fs = frame_check(hdr, avail, conn_max_body(c), &body_len);
		if (fs == FRAME_BAD || !conn_length_fits(c, body_len)) {
			conn_refuse(c, "bad frame length");
			return -1;
		}
		if (fs == FRAME_NEED_MORE)
			return 0;
		evbuffer_drain(in, FRAME_HEADER_LEN);
		if (evbuffer_remove(in, msg, body_len) != (int)body_len) {
			conn_refuse(c, "short read");
			return -1;
		}
		/*
		 * Handshake messages go to the workers whole: message 1 comes
		 * back with message 2, message 3 with the client's key looked
		 * up and its ClientHello answered.
		 */
		if (c->state == CONN_WAIT_MSG1 || c->state == CONN_WAIT_MSG3)
			rc = conn_submit(c, msg, body_len, 1);
		else
			rc = conn_on_transport(c, msg, body_len);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/*
 * A revocation has just become durable. A connection whose hello is with
 * the workers may have had its key looked up before it; it is checked
 * again when the job comes back (conn_job_done).
 */
static void conn_mark_handshakes(server *srv)
{
	struct conn *c;

	LIST_FOREACH(c, &srv->conns, link)
	{
		if (c->state == CONN_WAIT_MSG3 && c->job != NULL)
			c->recheck = 1;
	}
}

/*
 * Whether c's key, read through rd, is still enrolled and not revoked:
 * 1, 0 (revoked or gone), or -1 after logging a failed look-up.
 */
static int conn_key_valid(const struct conn *c, store *rd)
{
	store_principal now;
	int rc = store_principal_by_noise(rd, c->who.noise_pk, &now);

	if (rc != 0 && rc != STORE_NOT_FOUND) {
		log_error("principal lookup: %s", store_errmsg(rd));
		return -1;
	}
	return rc == 0 && !now.revoked;
}

/*
 * 1 when the key proven by c's handshake is still enrolled and not
 * revoked, looked up on the loop: only for a handshake that crossed a
 * revocation, which is rare. A failed lookup counts as revoked.
 */
static int conn_key_still_valid(struct conn *c)
{
	store *rd;
	int rc;

	if (server_open_reader(c->srv, &rd) != 0)
		return 0;
	rc = conn_key_valid(c, rd);
	store_close(rd);
	return rc == 1;
}

/* Ends c, whose key was revoked: at once, or once its job is back. */
static void conn_end_revoked(struct conn *c)
{
	if (c->job != NULL)
		c->stop_after = 1;
	else
		conn_refuse(c, "its key was revoked");
}

/*
 * Closes every channel of principal id but keep at once, the one whose
 * job is out as soon as its answer is back: a revoked key keeps no
 * session.
 */
static void conn_close_principal(server *srv, int64_t id,
				 const struct conn *keep)
{
	struct conn *c, *next;

	conn_mark_handshakes(srv);
	for (c = LIST_FIRST(&srv->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, link);
		if (c == keep || c->state != CONN_OPEN || c->who.id != id)
			continue;
		conn_end_revoked(c);
	}
}

int conn_close_revoked(server *srv, store *rd)
{
	struct conn *c, *next;
	int closed = 0, rc;

	conn_mark_handshakes(srv);
	for (c = LIST_FIRST(&srv->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, link);
		if (c->state != CONN_OPEN)
			continue;
		/* A job out only reads who: reading it here is safe. */
		rc = conn_key_valid(c, rd);
		if (rc < 0)
			return -1;
		if (rc == 1)
			continue;
		closed++;
		conn_end_revoked(c);
	}
	return closed;
}

/*
 * Message 1 read by a worker: sends message 2 (in j's out) and waits for
 * message 3, the handshake's deadline still running.
 */
static void conn_on_msg2(struct conn *c, pool_job *j)
{
	size_t len = j->d.out_len;
	int rc = -1;

	if (len <= FRAME_MAX_BODY) {
		memcpy(c->srv->out + FRAME_HEADER_LEN, j->d.out, len);
		rc = conn_send(c, len);
	}
	conn_job_free(j);
	if (rc != 0) {
		conn_refuse(c, "cannot write handshake message 2");
		return;
	}
	c->state = CONN_WAIT_MSG3;
	/* A message 3 sent early waits in the input buffer. */
	conn_drain_input(c);
}

void conn_job_done(server *srv, pool_job *j)
{
	struct conn *c = j->owner;
	enum dispatch_status status = j->d.status;
	int rc = 0;

	c->job = NULL;
	if (c->dead) {
		log_debug("answer to %s dropped: the connection had closed",
			  c->peer);
		conn_job_free(j);
		conn_release(c);
		return;
	}
	if (status == DISPATCH_UNKNOWN_KEY || status == DISPATCH_REVOKED_KEY) {
		conn_refuse_key(c, j);
		conn_job_free(j);
		return;
	}
	if (status == DISPATCH_CLOSE) {
		conn_refuse(c, j->d.why != NULL
				   ? j->d.why
				   : "no answer could be produced");
		conn_job_free(j);
		return;
	}
	if (c->state == CONN_WAIT_MSG1) {
		conn_on_msg2(c, j);
		return;
	}
	if (j->d.revoked != 0)
		conn_close_principal(srv, j->d.revoked, c);
	if (c->state == CONN_WAIT_MSG3 && c->recheck &&
	    !conn_key_still_valid(c)) {
		log_info("connection from %s refused: the key of %s was "
			 "revoked during the handshake",
			 c->peer, c->who.name);
		conn_security_event(c, c->who.id, "revoked key", c->who.name);
		conn_free(c);
		conn_job_free(j);
		return;
	}
	if (c->state == CONN_WAIT_MSG3) {
		c->state = CONN_OPEN;
		log_info("connection from %s accepted: %s (%s%s%s)", c->peer,
			 c->who.name, c->who.role, c->who.region[0] ? ", " : "",
			 c->who.region);
	}
	if (status == DISPATCH_ANSWER)
		rc = conn_send_sealed(c, j->d.out, j->d.out_len);
	conn_job_free(j);
	if (rc != 0) {
		conn_refuse(c, "cannot send the answer");
		return;
	}
	if (c->stop_after || srv->stopping) {
		c->stop_after = 0;
		conn_shutdown(c);
		return;
	}
	conn_arm_timer(c, srv->cfg.idle_timeout_s * 1000L);
	/* Frames that came meanwhile wait in the input buffer. */
	conn_drain_input(c);
}

static void conn_on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_drain_input(arg);
}

/* Output drained: resume reading, or finish a graceful close. */
static void conn_on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_CLOSING) {
		conn_free(c);
		return;
	}
	bufferevent_enable(bev, EV_READ);
}

static void conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF)
		conn_refuse(c, c->state == CONN_OPEN
				   ? "client closed"
				   : "closed during handshake");
	else if (what & BEV_EVENT_ERROR)
		conn_refuse(c, "socket error");
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == CONN_OPEN)
		conn_refuse(c, "idle timeout");
	else if (c->state == CONN_CLOSING)
		conn_free(c);
	else
		conn_refuse(c, "handshake timeout");
}

/* "1.2.3.4:5678" or "[::1]:5678", for the log. */
static void conn_peer_name(const struct sockaddr *sa, socklen_t len, char *buf,
			   size_t cap)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	int v6 = sa->sa_family == AF_INET6;

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, cap, "?");
		return;
	}
	snprintf(buf, cap, "%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "",
		 port);
}

static int64_t conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int conn_accept(server *srv, int fd, const struct sockaddr *peer,
		socklen_t peer_len)
{
	struct conn *c;
	char name[NI_MAXHOST + NI_MAXSERV + 4];
	enum limit_verdict verdict;

	conn_peer_name(peer, peer_len, name, sizeof(name));
	if (srv->nconns >= srv->cfg.max_connections || srv->stopping) {
		log_warn("connection from %s refused: %s", name,
			 srv->stopping ? "shutting down"
				       : "connection limit reached");
		close(fd);
		return -1;
	}
	verdict = limit_admit(&srv->limits, peer, conn_now_ms());
	if (verdict != LIMIT_OK) {
		log_warn("connection from %s refused: %s", name,
			 limit_reason(verdict));
		close(fd);
		return -1;
	}
	/*
	 * An answer larger than libevent's single write (16 KiB, a page of
	 * applications) leaves in two writes: without this the second waits
	 * for the client's delayed acknowledgement, some 40 ms.
	 */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		limit_release(&srv->limits, peer);
		goto fail;
	}
	if ((size_t)peer_len <= sizeof(c->addr))
		memcpy(&c->addr, peer, (size_t)peer_len);
	c->srv = srv;
	snprintf(c->peer, sizeof(c->peer), "%s", name);
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(srv->base, conn_on_timer, c);
	if (c->bev == NULL || c->timer == NULL ||
	    channel_init_responder(&c->ch, srv->key.noise_sk) != 0)
		goto fail;
	c->sess.who = &c->who;
	c->sess.peer = c->peer;
	LIST_INSERT_HEAD(&srv->conns, c, link);
	srv->nconns++;
	/* Never buffer more than one largest frame from a client. */
	bufferevent_setwatermark(c->bev, EV_READ, 0,
				 FRAME_HEADER_LEN + FRAME_MAX_BODY);
	bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event,
			  c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_arm_timer(c, srv->cfg.handshake_timeout_ms);
	log_debug("connection from %s", c->peer);
	return 0;
fail:
	log_error("connection from %s dropped: out of memory", name);
	if (c != NULL) {
		if (c->timer != NULL)
			event_free(c->timer);
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		channel_clear(&c->ch);
		free(c);
	} else {
		close(fd);
	}
	return -1;
}

/* Closes gracefully: see conn_stop_all(). */
static void conn_shutdown(struct conn *c)
{
	if (c->job != NULL) {
		c->stop_after = 1; /* its answer first */
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_free(c);
		return;
	}
	c->state = CONN_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	conn_arm_timer(c, 2000);
}

void conn_stop_all(server *srv, int now)
{
	struct conn *c, *next;

	for (c = LIST_FIRST(&srv->conns); c != NULL; c = next) {
		next = LIST_NEXT(c, link);
		if (now)
			conn_free(c);
		else
			conn_shutdown(c);
	}
}
