/*
 * A flood of hostile clients on loopback, and one office that must keep
 * being served. From other loopback addresses (127.0.0.2 and up) the test
 * holds thousands of connections that never speak and reopens them as
 * the daemon drops them, trickles handshakes one byte at a time, and
 * sends garbage; from 127.0.0.1 a few enrolled clients send requests and
 * never read the answers. Meanwhile a well-behaved office connects and
 * asks who it is, again and again: every answer must come, each within
 * FLOOD_LATENCY_MS, and the daemon must stop cleanly afterwards.
 *
 * Bounded: FLOOD_MS of flood, fixed numbers of sockets (FLOOD_SLOW times
 * fewer, and a longer promise, under a checker: TAMWIL_E2E_WRAP).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"
#include "harness_domain.h"
#include "keyfile.h"
#include "tamwil-client.h"

#define FLOOD_MS 8000
/* The latency the office is promised during the flood. */
#define FLOOD_LATENCY_MS 2000
/* Silent connections from each of IDLE_SOURCES addresses. */
#define IDLE_PER_SOURCE 400
#define IDLE_SOURCES	6
#define TRICKLERS	100
#define GARBAGE		100
#define SLOW_READERS	8
/* Under a checker (TAMWIL_E2E_WRAP) the flood is this many times smaller. */
#define FLOOD_SLOW 20
/* Reopened sockets per round, so the test never spins on reconnects. */
#define REOPEN_PER_ROUND 200

enum kind { IDLE, TRICKLE, JUNK };

/*
 * The flood's size: the numbers above, or FLOOD_SLOW times fewer sockets
 * and a promise h_wait_ms() stretches under a checker.
 */
static struct {
	size_t idle_per_source, tricklers, garbage, idle, sockets;
	int latency_ms;
} fl;

static void flood_size(void)
{
	fl.idle_per_source =
	    (size_t)h_count(IDLE_PER_SOURCE, IDLE_PER_SOURCE / FLOOD_SLOW);
	fl.tricklers = (size_t)h_count(TRICKLERS, TRICKLERS / FLOOD_SLOW);
	fl.garbage = (size_t)h_count(GARBAGE, GARBAGE / FLOOD_SLOW);
	fl.idle = fl.idle_per_source * IDLE_SOURCES;
	fl.sockets = fl.idle + fl.tricklers + fl.garbage;
	fl.latency_ms = h_wait_ms(FLOOD_LATENCY_MS);
}

struct attacker {
	int fd; /* -1 when closed */
	enum kind kind;
	char src[16];
};

/* The office's view of the flood, filled by its thread. */
struct office {
	const char *server_pub;
	const char *key_path;
	int port;
	volatile int stop;
	int asked, answered;
	int64_t worst_ms;
	char failure[TAMWIL_ERROR_MAX + 32];
};

struct fixture {
	hd_home home;
	hd_world w;
	char admin_key[H_PATH_MAX], admin_pub[H_PATH_MAX];
	h_daemon d;
	hd_result r;
};

/* ---- hostile sockets ----------------------------------------------------- */

/* A non-blocking connection from src to 127.0.0.1:port, or -1. */
static int flood_connect(const char *src, int port)
{
	struct sockaddr_in from = {0}, to = {0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	from.sin_family = AF_INET;
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, src, &from.sin_addr) != 1 ||
	    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
	    (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0 &&
	     errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends what an attacker of its kind sends each round. */
static void flood_speak(struct attacker *a)
{
	uint8_t junk[4096];

	if (a->kind == TRICKLE) {
		/* A frame header promising 48 bytes, then a byte a round. */
		static const uint8_t b = 0;

		(void)send(a->fd, &b, 1, MSG_NOSIGNAL);
	} else if (a->kind == JUNK) {
		randombytes_buf(junk, sizeof(junk));
		(void)send(a->fd, junk, sizeof(junk), MSG_NOSIGNAL);
	}
}

/* Reads and drops what came; closes a socket the daemon closed. */
static int flood_drain(struct attacker *a)
{
	char buf[512];
	ssize_t n;

	while ((n = recv(a->fd, buf, sizeof(buf), 0)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		close(a->fd);
		a->fd = -1;
		return 1;
	}
	return 0;
}

/* One round: speak, drain, and count the sockets the daemon dropped. */
static int flood_round(struct attacker *a, struct pollfd *p, int port)
{
	int dropped = 0, reopened = 0;
	nfds_t n = 0;

	for (size_t i = 0; i < fl.sockets; i++) {
		if (a[i].fd < 0 && reopened < REOPEN_PER_ROUND) {
			a[i].fd = flood_connect(a[i].src, port);
			reopened += a[i].fd >= 0;
		}
		if (a[i].fd >= 0)
			flood_speak(&a[i]);
	}
	for (size_t i = 0; i < fl.sockets; i++) {
		p[i].fd = a[i].fd;
		p[i].events = POLLIN;
		p[i].revents = 0;
		n++;
	}
	if (poll(p, n, 50) < 0)
		return 0;
	for (size_t i = 0; i < fl.sockets; i++)
		if (a[i].fd >= 0 &&
		    (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			dropped += flood_drain(&a[i]);
	return dropped;
}

/* ---- the office ---------------------------------------------------------- */

static void *office_main(void *arg)
{
	struct office *o = arg;
	keyfile_public server;
	keyfile_secret key;
	tamwil_client_options opt = {0};
	char addr[32];

	if (keyfile_read_public(o->server_pub, &server) != KEYFILE_OK ||
	    keyfile_read_secret(o->key_path, NULL, &key) != KEYFILE_OK) {
		snprintf(o->failure, sizeof(o->failure), "cannot read keys");
		return NULL;
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", o->port);
	opt.server = addr;
	opt.server_noise_pk = server.noise_pk;
	opt.key = &key;
	opt.connect_timeout_ms = fl.latency_ms * 2;
	opt.io_timeout_ms = fl.latency_ms * 2;
	while (!o->stop && o->failure[0] == '\0') {
		int64_t t0 = h_now_ms(), took;
		tamwil_client *c = NULL;
		tamwil_whoami me;
		tamwil_error err;

		o->asked++;
		if (tamwil_client_connect(&opt, &c, &err) != TAMWIL_OK ||
		    tamwil_client_whoami(c, &me, &err) != TAMWIL_OK)
			snprintf(o->failure, sizeof(o->failure),
				 "request %d: %s", o->asked, err.message);
		else
			o->answered++;
		tamwil_client_close(c);
		took = h_now_ms() - t0;
		if (took > o->worst_ms)
			o->worst_ms = took;
		h_sleep_ms(100);
	}
	sodium_memzero(&key, sizeof(key));
	return NULL;
}

/* ---- readers that never read --------------------------------------------- */

/*
 * Enrolled clients that send whoami after whoami without reading, until
 * the daemon stops reading them (the send times out) or n requests went.
 */
static void slow_readers(h_noise *r, int n, const struct fixture *f)
{
	for (int i = 0; i < n; i++) {
		Tamwil__V1__Request req;
		Tamwil__V1__WhoamiRequest body;

		if (h_noise_start(&r[i], f->d.port, f->admin_key,
				  f->w.server_pub, 5000) != 0)
			H_FAIL("slow reader %d: no handshake", i);
		h_whoami_request(&req, &body, 1);
		if (h_noise_finish(&r[i], &req, 5000) != H_IO_OK)
			H_FAIL("slow reader %d: no message 3", i);
		for (uint64_t id = 2; id < 20000; id++) {
			h_whoami_request(&req, &body, id);
			if (h_noise_send(&r[i], &req, 20) != H_IO_OK)
				break;
		}
	}
}

/* ---- the test ------------------------------------------------------------ */

/* Room for every socket of the flood, the daemon's included. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 16384) {
		rl.rlim_cur = rl.rlim_max < 16384 ? rl.rlim_max : 16384;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur < fl.sockets + 512)
		skip(); /* the machine will not let this test hold its flood */
}

static void world_make(struct fixture *f)
{
	static const char *const extra[] = {"--handshake-timeout", "4",
					    "--idle-timeout", "5", NULL};

	if (hd_home_create(&f->home) != 0 ||
	    h_keygen(f->home.dir, "admin", f->home.env, f->admin_key,
		     f->admin_pub) != 0 ||
	    hd_world_create(&f->w, &f->home, 1, f->admin_pub,
			    "Amina El Idrissi") != 0)
		H_FAIL("cannot make head office's state");
	if (h_daemon_start(&f->d, f->w.state, f->w.log, extra, f->home.env) !=
	    0)
		H_FAIL("tamwild did not start");
}

static void test_flood(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct attacker *a;
	struct pollfd *p;
	h_noise readers[SLOW_READERS];
	struct office o = {0};
	pthread_t office;
	int64_t end;
	int dropped = 0, ws;

	(void)state;
	flood_size();
	a = calloc(fl.sockets, sizeof(*a));
	p = calloc(fl.sockets, sizeof(*p));
	assert_non_null(f);
	assert_non_null(a);
	assert_non_null(p);
	raise_fd_limit();
	world_make(f);
	for (size_t i = 0; i < fl.sockets; i++) {
		a[i].fd = -1;
		if (i < fl.idle) {
			a[i].kind = IDLE;
			snprintf(a[i].src, sizeof(a[i].src), "127.0.0.%u",
				 (unsigned char)(2 + i / fl.idle_per_source));
		} else if (i < fl.idle + fl.tricklers) {
			a[i].kind = TRICKLE;
			snprintf(a[i].src, sizeof(a[i].src), "127.0.0.%d",
				 2 + IDLE_SOURCES);
		} else {
			a[i].kind = JUNK;
			snprintf(a[i].src, sizeof(a[i].src), "127.0.0.%d",
				 3 + IDLE_SOURCES);
		}
	}
	slow_readers(readers, SLOW_READERS, f);

	o.server_pub = f->w.server_pub;
	o.key_path = f->admin_key;
	o.port = f->d.port;
	assert_int_equal(pthread_create(&office, NULL, office_main, &o), 0);
	end = h_now_ms() + FLOOD_MS;
	while (h_now_ms() < end && o.failure[0] == '\0')
		dropped += flood_round(a, p, f->d.port);
	o.stop = 1;
	assert_int_equal(pthread_join(office, NULL), 0);
	fprintf(stderr,
		"flood: %d connections dropped by the daemon; the office had "
		"%d of %d answers, the slowest in %lld ms\n",
		dropped, o.answered, o.asked, (long long)o.worst_ms);

	for (size_t i = 0; i < fl.sockets; i++)
		if (a[i].fd >= 0)
			close(a[i].fd);
	for (int i = 0; i < SLOW_READERS; i++)
		h_noise_close(&readers[i]);
	if (o.failure[0] != '\0')
		H_FAIL("the office was not served: %s", o.failure);
	assert_true(o.answered >= 10);
	if (o.worst_ms > fl.latency_ms)
		H_FAIL("the office waited %lld ms, more than %d ms",
		       (long long)o.worst_ms, fl.latency_ms);
	/* The daemon let the silent ones go: they were dropped and redone. */
	assert_true(dropped > 0);
	assert_true(h_daemon_alive(&f->d));
	assert_int_equal(h_daemon_stop(&f->d, 10000, &ws), 0);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	hd_home_remove(&f->home);
	hd_result_free(&f->r);
	free(p);
	free(a);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flood),
	};

	if (sodium_init() < 0 || h_tamwild_path() == NULL ||
	    h_tamwil_path() == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
