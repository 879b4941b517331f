/*
 * Support for the end-to-end tests: temporary directories, child processes
 * with captured output and deadlines, tamwild on loopback, raw TCP with the
 * channel's framing, and a raw Noise_XK client built on common/channel.h
 * so that a test can send what the real client never would.
 *
 * Every wait here is bounded by a deadline; every address is 127.0.0.1.
 * Functions report failure through their return value and leave the
 * asserting to the tests; none of them calls exit(). The raw socket and
 * Noise functions keep no shared state, so threads may use them at once;
 * children are killed when the thread that started them ends.
 */
#ifndef TAMWIL_E2E_HARNESS_H
#define TAMWIL_E2E_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "channel.h"
#include "keyfile.h"
#include "tamwil.pb-c.h"

#define H_PATH_MAX 512
/* Captured output beyond this many bytes per stream is read and dropped. */
#define H_OUTPUT_MAX 16384
/* How long a daemon may take to log that it listens. */
#define H_START_TIMEOUT_MS 10000
/* Default deadline of one command. */
#define H_RUN_TIMEOUT_MS 20000
#define H_MAX_ARGS	 32

/* ---- time, paths, files ---------------------------------------------- */

/* Milliseconds of a monotonic clock. */
int64_t h_now_ms(void);

/* Sleeps ms milliseconds (restarting after signals). */
void h_sleep_ms(int ms);

/*
 * Milliseconds left until deadline (an h_now_ms() time), never below zero
 * or above INT_MAX.
 */
int h_left_ms(int64_t deadline);

/* The daemon's and the client's paths from env TAMWILD / TAMWIL, or NULL. */
const char *h_tamwild_path(void);
const char *h_tamwil_path(void);

/*
 * A command prefix (words separated by spaces, the first a program's
 * path) under which every tamwild the tests start runs, and one for every
 * tamwil: how scripts/test --valgrind runs them under memcheck. With
 * TAMWIL_E2E_WRAP set the daemon is many times slower, so tests do less
 * and wait longer (below); the deadlines given to h_run(), hd_run(),
 * hd_batch(), h_daemon_stop() and h_log_wait(), and the daemon's start,
 * are stretched by h_wait_ms().
 */
#define H_WRAP_ENV	  "TAMWIL_E2E_WRAP"
#define H_WRAP_CLIENT_ENV "TAMWIL_E2E_WRAP_CLIENT"
/* How many times longer a deadline is under TAMWIL_E2E_WRAP. */
#define H_SLOW_FACTOR 10
/* The daemon's handshake deadline then, unless a test gives its own. */
#define H_SLOW_HANDSHAKE_S "30"

/* 1 when TAMWIL_E2E_WRAP is set. */
int h_slow(void);

/* n, or slow when TAMWIL_E2E_WRAP is set: a count that costs time. */
int h_count(int n, int slow);

/* ms, or H_SLOW_FACTOR times ms when TAMWIL_E2E_WRAP is set. */
int h_wait_ms(int ms);

/*
 * Creates a fresh private directory "$TMPDIR/tamwil-e2e.XXXXXX" (TMPDIR
 * defaults to /tmp) and writes its path into dir. Returns 0 or -1.
 */
int h_tmpdir_create(char *dir, size_t cap);

/* Removes dir and everything below it; returns 0 or -1. */
int h_tmpdir_remove(const char *dir);

/* Writes "dir/name" into out; returns 0, or -1 when it does not fit. */
int h_path(char *out, size_t cap, const char *dir, const char *name);

/* Creates or truncates path with text (mode 0600); returns 0 or -1. */
int h_write_file(const char *path, const char *text);

/*
 * Reads at most cap - 1 bytes of path starting at offset, NUL-terminates,
 * stores the count in *len. Returns 0 or -1.
 */
int h_read_file(const char *path, long offset, char *buf, size_t cap,
		size_t *len);

/* Size of path in bytes, or -1. */
long h_file_size(const char *path);

/* ---- child processes ---------------------------------------------------- */

/* What a finished command did. */
typedef struct h_result {
	int exited;		/* 1: it exited; 0: a signal ended it */
	int status;		/* exit status, or the number of the signal */
	int timed_out;		/* 1: killed at the deadline */
	int64_t elapsed_ms;	/* from spawn to reaping */
	char out[H_OUTPUT_MAX]; /* stdout, NUL-terminated, maybe truncated */
	size_t out_len;
	char err[H_OUTPUT_MAX]; /* stderr, likewise */
	size_t err_len;
} h_result;

/* A running child whose stdout and stderr come back through pipes. */
typedef struct h_proc {
	pid_t pid;  /* -1 once reaped */
	int out_fd; /* read ends, -1 once closed */
	int err_fd;
	int64_t started_ms;
} h_proc;

/*
 * Starts argv[0] (a path) with argv, stdin from /dev/null, stdout and
 * stderr into pipes. env lists changes to this process's environment:
 * "NAME=value" sets, a bare "NAME" removes; it may be NULL. The child is
 * killed if the test process dies. Returns 0 or -1.
 */
int h_spawn(h_proc *p, const char *const argv[], const char *const env[]);

/*
 * Reads the child's output until both pipes close and reaps it, or kills it
 * (SIGKILL) when the monotonic clock reaches deadline_ms. Fills r and
 * releases p. Returns 0 when the child was reaped, -1 on a local failure.
 */
int h_collect(h_proc *p, int64_t deadline_ms, h_result *r);

/*
 * Called by h_proc_read() when the child's stdout (stream 1) or stderr
 * (stream 2) has something on *fd: reads what is there and, at end of
 * stream, closes *fd and sets it to -1.
 */
typedef void (*h_drain_fn)(void *arg, int stream, int *fd);

/*
 * Hands p's pipes to drain as they have output, until both are closed or
 * the monotonic clock reaches deadline_ms (h_collect's first half, for
 * output kept elsewhere than in an h_result).
 */
void h_proc_read(h_proc *p, int64_t deadline_ms, h_drain_fn drain, void *arg);

/*
 * Ends p once its output is read (h_collect's second half): reaps it, or
 * kills it (SIGKILL) when the clock reaches deadline_ms, closes its pipes
 * and releases it. Sets *elapsed_ms (from the spawn) and, unless waitpid
 * failed, *exited (1: it exited; 0: a signal ended it) and *status (its
 * exit status or the signal's number). Returns 0 when it ended by itself,
 * 1 when it was killed, -1 when waitpid failed.
 */
int h_proc_end(h_proc *p, int64_t deadline_ms, int *exited, int *status,
	       int64_t *elapsed_ms);

/* h_spawn then h_collect with a deadline timeout_ms from now. */
int h_run(h_result *r, int timeout_ms, const char *const env[],
	  const char *const argv[]);

/* 1 if r is an exit with status 0 before the deadline. */
int h_ok(const h_result *r);

/* Prints r (status, time, both streams) to stderr under a heading. */
void h_result_print(const h_result *r, const char *what);

/* 1 if text is exactly one non-empty line ending with '\n'. */
int h_one_line(const char *text);

/*
 * Finds "key" followed by ':' and a JSON string in the text of a JSON
 * object and copies the unescaped string into out (\" \\ \/ \n \t undone,
 * other escapes copied as they are). Returns 0, or -1 if absent or too
 * long.
 */
int h_json_string(const char *json, const char *key, char *out, size_t cap);

/* 1 if "key" is present in the JSON object's text with the value null. */
int h_json_null(const char *json, const char *key);

/* ---- the client and the daemon ----------------------------------------- */

/*
 * Runs "tamwil keygen --out dir/name.key" and saves the output of
 * "tamwil key public dir/name.key" as dir/name.pub. key and pub receive the
 * two paths (each H_PATH_MAX). Returns 0, or -1 (printing what failed).
 */
int h_keygen(const char *dir, const char *name, const char *const env[],
	     char *key, char *pub);

/*
 * Runs "tamwil --server 127.0.0.1:port --server-key server_pub --key key
 * [--json] whoami" into r. Returns h_run's result.
 */
int h_whoami(h_result *r, int port, const char *server_pub, const char *key,
	     int json, const char *const env[]);

typedef struct h_daemon {
	pid_t pid; /* 0 when not running */
	int port;  /* the port it reported listening on */
	char log[H_PATH_MAX];
} h_daemon;

/*
 * Starts "tamwild --state state --listen 127.0.0.1:0 extra..." (extra is
 * NULL-terminated, may be NULL) with stdout and stderr appended to log,
 * and waits up to H_START_TIMEOUT_MS for the line "listening on
 * 127.0.0.1:PORT" to learn the port. Returns 0; or -1 after killing the
 * daemon and printing its log.
 */
int h_daemon_start(h_daemon *d, const char *state, const char *log,
		   const char *const extra[], const char *const env[]);

/*
 * Sends SIGTERM and waits up to timeout_ms for the daemon to exit, storing
 * its wait status in *wstatus. Returns 0 if it exited by itself, -1 if it
 * had to be killed (or was not running).
 */
int h_daemon_stop(h_daemon *d, int timeout_ms, int *wstatus);

/*
 * A daemon's disk that fills up or slows down on demand: the environment
 * that preloads the shim (tests/e2e/enospc.c, its path in shim) into a
 * daemon serving state, the shim acting while the file flag exists (see
 * the shim for what the flag may hold). env is base followed by the
 * shim's variables; the sanitizer's runtime is then no longer the first
 * library loaded, which it is told to accept.
 */
#define H_DISK_ENV_MAX 8
typedef struct h_disk {
	char flag[H_PATH_MAX];
	char preload[H_PATH_MAX + 16], dir[H_PATH_MAX + 32];
	char flag_var[H_PATH_MAX + 32], asan[512];
	const char *env[H_DISK_ENV_MAX];
} h_disk;

/* Fills k for state, its flag file flag_name in dir. Returns 0 or -1. */
int h_disk_env(h_disk *k, const char *shim, const char *state, const char *dir,
	       const char *flag_name, const char *const base[]);

/* Kills (SIGKILL) and reaps the daemon if it runs; safe to repeat. */
void h_daemon_kill(h_daemon *d);

/* 1 if the daemon has not exited. */
int h_daemon_alive(h_daemon *d);

/*
 * Waits up to timeout_ms for a line of the file at path, at or after byte
 * offset from, that contains every string of needles (NULL-terminated).
 * Returns 0 when found, -1 at the deadline.
 */
int h_log_wait(const char *path, long from, const char *const needles[],
	       int timeout_ms);

/* Prints the file at path from offset from to stderr under a heading. */
void h_log_dump(const char *path, long from);

/* ---- raw TCP and frames ------------------------------------------------ */

enum h_io {
	H_IO_OK = 0,
	H_IO_CLOSED = 1,  /* the peer closed (end of stream or reset) */
	H_IO_TIMEOUT = 2, /* the deadline passed */
	H_IO_ERROR = -1	  /* any other failure */
};

/*
 * Connects to 127.0.0.1:port within timeout_ms; returns a non-blocking
 * socket (close-on-exec), or -1.
 */
int h_tcp_connect(int port, int timeout_ms);

/* Sends all of buf within timeout_ms; returns an h_io value. */
int h_send_all(int fd, const void *buf, size_t len, int timeout_ms);

/* Receives exactly len bytes within timeout_ms; returns an h_io value. */
int h_recv_all(int fd, void *buf, size_t len, int timeout_ms);

/* Sends one frame (header and body); returns an h_io value. */
int h_frame_send(int fd, const uint8_t *body, size_t len, int timeout_ms);

/*
 * Receives one frame whose body fits in cap bytes into body, its length
 * into *len. Returns an h_io value (H_IO_ERROR for a bad header).
 */
int h_frame_recv(int fd, uint8_t *body, size_t cap, size_t *len,
		 int timeout_ms);

enum h_close {
	H_CLOSE_CLOSED = 0, /* read gave end of stream or ECONNRESET */
	H_CLOSE_DATA = 1,   /* the peer sent bytes instead */
	H_CLOSE_OPEN = 2,   /* still open at the deadline */
	H_CLOSE_ERROR = -1
};

/*
 * Waits up to timeout_ms for the peer to close fd without sending anything.
 * Returns an h_close value.
 */
int h_wait_closed(int fd, int timeout_ms);

/* ---- a raw Noise_XK client --------------------------------------------- */

typedef struct h_noise {
	int fd;
	channel ch;
	keyfile_secret key;
	uint8_t server_pk[KEYFILE_KEYLEN];
	char fingerprint[KEYFILE_FINGERPRINT_LEN]; /* of key */
	char server_version[128];		   /* from the ServerHello */
	uint32_t protocol_version;
} h_noise;

/*
 * Reads the private key file key_path and the server's public key file,
 * connects to 127.0.0.1:port, sends message 1, and reads message 2 and its
 * ServerHello. Returns 0; or -1 with everything released (c->fd is -1).
 */
int h_noise_start(h_noise *c, int port, const char *key_path,
		  const char *server_pub_path, int timeout_ms);

/*
 * Writes message 3 (a ClientHello, with first as its first request unless
 * NULL) into out without sending it. Returns 0 or -1.
 */
int h_noise_msg3(h_noise *c, const Tamwil__V1__Request *first, uint8_t *out,
		 size_t cap, size_t *len);

/* Writes message 3 and sends it as one frame; returns an h_io value. */
int h_noise_finish(h_noise *c, const Tamwil__V1__Request *first,
		   int timeout_ms);

/* Packs and seals req into out (one frame body) without sending it. */
int h_noise_seal(h_noise *c, const Tamwil__V1__Request *req, uint8_t *out,
		 size_t cap, size_t *len);

/* Seals req and sends it as one frame; returns an h_io value. */
int h_noise_send(h_noise *c, const Tamwil__V1__Request *req, int timeout_ms);

/*
 * Receives one frame, opens it and unpacks a Response into *resp (free
 * with tamwil__v1__response__free_unpacked). Returns an h_io value;
 * H_IO_ERROR also when the frame does not open or parse.
 */
int h_noise_recv(h_noise *c, Tamwil__V1__Response **resp, int timeout_ms);

/* Closes the socket and wipes the keys; safe to repeat. */
void h_noise_close(h_noise *c);

/* Makes req a whoami request with request_id id; body is its storage. */
void h_whoami_request(Tamwil__V1__Request *req, Tamwil__V1__WhoamiRequest *body,
		      uint64_t id);

/*
 * fail_msg() that the static analyzer knows does not return: cmocka's
 * failure jumps out of the test, which a plain call does not say.
 */
#define H_FAIL(...)                                                            \
	do {                                                                   \
		fail_msg(__VA_ARGS__);                                         \
		abort();                                                       \
	} while (0)

#endif
