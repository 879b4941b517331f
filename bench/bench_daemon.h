/*
 * The tamwild a benchmark starts for itself: a state folder made with
 * `tamwild init`, a tamwild.conf whose per-source limits do not throttle
 * a load generator on the same machine, the daemon on a free loopback
 * port, and its memory read from /proc. Also the descriptor limit a
 * benchmark holding thousands of connections needs.
 */
#ifndef TAMWIL_BENCH_DAEMON_H
#define TAMWIL_BENCH_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

#include "keyfile.h"

#define BENCH_PATH_MAX 1024
#define BENCH_ERR_MAX  512
/* The admin key the benchmark keeps inside a state folder it reuses. */
#define BENCH_ADMIN_KEY "bench-admin.key"

typedef struct bench_daemon {
	pid_t pid; /* 0 when not running */
	int port;
	char tamwild[BENCH_PATH_MAX]; /* the program */
	char state[BENCH_PATH_MAX];   /* the state folder */
	char log[BENCH_PATH_MAX];     /* stdout and stderr of the daemon */
	char tmp[BENCH_PATH_MAX / 2]; /* removed at the end; "" when none */
} bench_daemon;

/* The folder of temporary files: $TMPDIR when absolute, else /tmp. */
const char *bench_tmpdir(void);

/*
 * Raises this process's soft RLIMIT_NOFILE to its hard limit, so that it
 * (and a tamwild it starts, which inherits it) can hold many connections.
 * *now gets the new soft limit. 0 or -1 (errno set).
 */
int bench_raise_nofile(long *now);

/*
 * The path of tamwild next to this program in a build tree
 * (BENCHDIR/../server/tamwild) into out; 0, or -1 when it is not there.
 */
int bench_find_tamwild(char *out, size_t cap);

/*
 * Prepares a state folder in d->state: when state is NULL a fresh one
 * inside a new temporary folder (d->tmp, removed by bench_daemon_stop),
 * else the folder state, created when it holds no database yet and
 * reused when it does. A new folder is made by `tamwild init` with a
 * fresh admin key, saved as BENCH_ADMIN_KEY inside it; a reused folder's
 * key is read from there. The admin key goes to *admin. tamwild.conf is
 * (re)written with the benchmark's limits (max_connections,
 * max_per_source, handshake_rate, handshake_burst raised, so that one
 * loopback address may open as many channels as it wants). 0, or -1
 * with a sentence in err.
 */
int bench_daemon_prepare(bench_daemon *d, const char *state,
			 keyfile_secret *admin, char *err, size_t cap);

/*
 * Starts "tamwild --state d->state --listen 127.0.0.1:0", its output
 * appended to d->log, and waits up to 20 s for its "listening on" line
 * to learn d->port. 0, or -1 with a sentence in err (the daemon killed).
 */
int bench_daemon_start(bench_daemon *d, char *err, size_t cap);

/*
 * Stops the daemon (SIGTERM, then SIGKILL after 10 s) and removes d->tmp
 * when there is one. Safe to call more than once.
 */
void bench_daemon_stop(bench_daemon *d);

/*
 * The resident set size of process pid in bytes (VmRSS of
 * /proc/PID/status) into *bytes. 0 or -1.
 */
int bench_rss(pid_t pid, long long *bytes);

/*
 * The CPU time process pid has used so far, user and system, in seconds
 * (utime + stime of /proc/PID/stat) into *seconds. 0 or -1.
 */
int bench_cpu(pid_t pid, double *seconds);

/* The name tamwild gives its writer thread (POOL_WRITER_NAME, pool.h). */
#define BENCH_WRITER_THREAD "tamwild-writer"

/*
 * The CPU time the threads of process pid named name (as ps -L shows
 * them) have used so far, summed, into *seconds: 0, or -1 when none has
 * that name or /proc cannot be read.
 */
int bench_cpu_threads(pid_t pid, const char *name, double *seconds);

#endif
