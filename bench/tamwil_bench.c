/*
 * tamwil-bench: head office's throughput and latency under C concurrent
 * regional clients, through the real client library, against a tamwild
 * it starts (a temporary state folder, limits raised for one loopback
 * source) or one it is given. A program to run by hand, never a test.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench_daemon.h"
#include "bench_report.h"
#include "bench_work.h"

#define BENCH_MAX_LIST 16
/* Descriptors the benchmark keeps besides idle channels. */
#define BENCH_FD_SPARE 256
/*
 * Client threads, and so regions, that --prefill fills: like the sixteen
 * regional offices of an agency. Each region numbers at most 999 999
 * references a year, which bounds --prefill.
 */
#define BENCH_PREFILL_CLIENTS 16
/* Applications --prefill puts in one programme before opening another. */
#define BENCH_PREFILL_CHUNK 10000L
#define BENCH_PREFILL_MAX   (BENCH_PREFILL_CLIENTS * 999000L)
/* Ed25519 verifications timed before the workloads: about 0.2 s. */
#define BENCH_VERIFY_COUNT 3000L
/* Disk syncs timed before the workloads: a fraction of a second. */
#define BENCH_SYNC_COUNT 200L

static const char bench_usage[] =
    "usage: tamwil-bench [-w WORKLOADS] [-c CLIENTS] [-d SECONDS | -n OPS]\n"
    "                    [--sign-inline | --sign before|inline|both] "
    "[--json]\n"
    "                    [--idle COUNTS] [--prefill N] [--presign N]\n"
    "                    [--tamwild PATH] [--state DIR]\n"
    "                    [--server HOST:PORT --server-key PUBFILE\n"
    "                     --admin-key KEYFILE [--server-pid PID]]\n"
    "\n"
    "Measures a tamwild's operations per second and latency (p50, p99,\n"
    "max) for C concurrent clients, each a thread with its own Noise\n"
    "channel, through libtamwil-client. Receipts are verified as the\n"
    "tamwil client verifies them.\n"
    "\n"
    "  -w, --workloads LIST  of submit (signed submissions, sealed\n"
    "                        identities), mix (70 % submissions, 20 %\n"
    "                        approvals and rejections, 10 % tranches),\n"
    "                        list (first page of the client's region),\n"
    "                        handshake (connect, whoami, close), idle\n"
    "                        (server memory per idle channel)\n"
    "                        default: all of them\n"
    "  -c, --clients LIST    client counts, default 1,4,16,64\n"
    "  -d, --duration S      seconds per measurement, default 10\n"
    "  -n, --count OPS       operations per measurement instead\n"
    "  --sign MODE           before: operations signed and sealed before\n"
    "                        the clock starts; inline: inside the timed\n"
    "                        loop; both. Default: both for the full run,\n"
    "                        before when -w is given\n"
    "  --sign-inline         the same as --sign both\n"
    "  --idle COUNTS         idle channel counts, default 1000,10000\n"
    "  --prefill N           first fill the database up to N applications\n"
    "                        (signed submissions through the real path)\n"
    "  --presign N           operations signed ahead per measurement by\n"
    "                        duration, default 3000 per second (min 10000)\n"
    "  --json                one JSON object instead of the table\n"
    "  --tamwild PATH        the daemon to start (default: the build's)\n"
    "  --state DIR           its state folder, kept (and reused when it\n"
    "                        exists), its log in DIR.log; default: a\n"
    "                        temporary folder, removed at the end\n"
    "  --server HOST:PORT    measure a running tamwild instead, with its\n"
    "  --server-key PUBFILE  public key file and an admin's private key\n"
    "  --admin-key KEYFILE   (principals, regions and a programme are\n"
    "                        enrolled and created in it)\n"
    "  --server-pid PID      its process, for the idle workload, the\n"
    "                        server's CPU time per operation and its\n"
    "                        writer thread's share of a CPU\n"
    "\n"
    "The daemon needs a descriptor limit above the idle count: when the\n"
    "benchmark starts it, it raises its own limit to the hard one first.\n"
    "For a given server, run it with ulimit -n 20000 or more, and with\n"
    "max_per_source, handshake_rate and handshake_burst above what one\n"
    "address opens (the benchmark's own daemon gets 1000000).\n"
    "\n"
    "examples:\n"
    "  tamwil-bench\n"
    "  tamwil-bench -w submit -c 1,64 -d 5 --json\n"
    "  tamwil-bench -w submit -c 16 --state /var/tmp/big --prefill "
    "1000000\n";

enum { W_IDLE = BENCH_NKINDS, W_N };

typedef struct bench_opts {
	int workloads[W_N]; /* 1: selected */
	int workloads_given;
	int clients[BENCH_MAX_LIST], nclients;
	long idle[BENCH_MAX_LIST];
	int nidle;
	double duration;
	long count, prefill, presign;
	int sign; /* 1 before, 2 inline, 3 both; 0 default */
	int json;
	const char *tamwild, *state, *server, *server_key, *admin_key;
	long server_pid;
} bench_opts;

/* Prints the usage (stdout for --help, else stderr) and exits. */
static void bench_usage_exit(int status)
{
	fputs(bench_usage, status == 0 ? stdout : stderr);
	exit(status);
}

/* Exits with status 2 saying value is not what option expects. */
static void bench_bad(const char *option, const char *value,
		      const char *expected)
{
	fprintf(stderr, "tamwil-bench: %s: '%s' is not %s\n", option, value,
		expected);
	exit(2);
}

/* A whole number in [min, max], or exit naming the option. */
static long bench_long(const char *option, const char *v, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
		char want[96];

		snprintf(want, sizeof(want), "a whole number from %ld to %ld",
			 min, max);
		bench_bad(option, v, want);
	}
	return n;
}

/* A comma-separated list of whole numbers in [min, max]; its length. */
static int bench_list(const char *option, const char *v, long min, long max,
		      long *out)
{
	char buf[256], *save = NULL, *tok;
	int n = 0;

	if (strlen(v) >= sizeof(buf) || v[0] == '\0')
		bench_bad(option, v, "a list of numbers like 1,4,16,64");
	memcpy(buf, v, strlen(v) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == BENCH_MAX_LIST)
			bench_bad(option, v, "a list of at most 16 numbers");
		out[n++] = bench_long(option, tok, min, max);
	}
	if (n == 0)
		bench_bad(option, v, "a list of numbers like 1,4,16,64");
	return n;
}

/* Reads -w: the selected workloads, or exits naming the unknown one. */
static void bench_workloads(bench_opts *o, const char *v)
{
	static const char *const names[W_N] = {"submit", "mix", "list",
					       "handshake", "idle"};
	char buf[256], *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		bench_bad("-w", v, "a list of workloads");
	memcpy(buf, v, strlen(v) + 1);
	memset(o->workloads, 0, sizeof(o->workloads));
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		int k = 0;

		while (k < W_N && strcmp(tok, names[k]) != 0)
			k++;
		if (k == W_N) {
			fprintf(stderr,
				"tamwil-bench: -w: unknown workload '%s' "
				"(submit, mix, list, handshake or idle)\n",
				tok);
			exit(2);
		}
		o->workloads[k] = 1;
	}
	o->workloads_given = 1;
}

/* Reads --sign: before (1), inline (2) or both (3). */
static void bench_sign_mode(bench_opts *o, const char *v)
{
	if (strcmp(v, "before") == 0)
		o->sign = 1;
	else if (strcmp(v, "inline") == 0)
		o->sign = 2;
	else if (strcmp(v, "both") == 0)
		o->sign = 3;
	else
		bench_bad("--sign", v, "before, inline or both");
}

enum {
	OPT_SIGN = 256,
	OPT_SIGN_INLINE,
	OPT_IDLE,
	OPT_PREFILL,
	OPT_PRESIGN,
	OPT_JSON,
	OPT_TAMWILD,
	OPT_STATE,
	OPT_SERVER,
	OPT_SERVER_KEY,
	OPT_ADMIN_KEY,
	OPT_SERVER_PID
};

/* Checks the options that only make sense together. */
static void bench_check(bench_opts *o)
{
	int given = (o->server != NULL) + (o->server_key != NULL) +
		    (o->admin_key != NULL);

	if (given != 0 && given != 3) {
		fprintf(stderr, "tamwil-bench: --server, --server-key and "
				"--admin-key go together\n");
		exit(2);
	}
	if (o->server != NULL && (o->tamwild != NULL || o->state != NULL)) {
		fprintf(stderr, "tamwil-bench: --tamwild and --state are for "
				"a daemon the benchmark starts, not with "
				"--server\n");
		exit(2);
	}
	if (o->server == NULL && o->server_pid != 0) {
		fprintf(stderr, "tamwil-bench: --server-pid goes with "
				"--server\n");
		exit(2);
	}
	if (o->sign == 0)
		o->sign = o->workloads_given ? 1 : 3;
	if (o->presign == 0) {
		double p = 3000.0 * o->duration;

		o->presign = p < 10000 ? 10000 : (long)p;
	}
}

/* Reads the command line into o, or exits with status 2 saying why. */
static void bench_parse(int argc, char **argv, bench_opts *o)
{
	static const struct option opts[] = {
	    {"workloads", required_argument, NULL, 'w'},
	    {"clients", required_argument, NULL, 'c'},
	    {"duration", required_argument, NULL, 'd'},
	    {"count", required_argument, NULL, 'n'},
	    {"sign", required_argument, NULL, OPT_SIGN},
	    {"sign-inline", no_argument, NULL, OPT_SIGN_INLINE},
	    {"idle", required_argument, NULL, OPT_IDLE},
	    {"prefill", required_argument, NULL, OPT_PREFILL},
	    {"presign", required_argument, NULL, OPT_PRESIGN},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"tamwild", required_argument, NULL, OPT_TAMWILD},
	    {"state", required_argument, NULL, OPT_STATE},
	    {"server", required_argument, NULL, OPT_SERVER},
	    {"server-key", required_argument, NULL, OPT_SERVER_KEY},
	    {"admin-key", required_argument, NULL, OPT_ADMIN_KEY},
	    {"server-pid", required_argument, NULL, OPT_SERVER_PID},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	long list[BENCH_MAX_LIST];
	int c;

	memset(o, 0, sizeof(*o));
	for (int k = 0; k < W_N; k++)
		o->workloads[k] = 1;
	o->clients[0] = 1, o->clients[1] = 4, o->clients[2] = 16;
	o->clients[3] = 64, o->nclients = 4;
	o->idle[0] = 1000, o->idle[1] = 10000, o->nidle = 2;
	o->duration = 10;
	while ((c = getopt_long(argc, argv, "w:c:d:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			bench_workloads(o, optarg);
			break;
		case 'c':
			o->nclients = bench_list("-c", optarg, 1,
						 BENCH_MAX_CLIENTS, list);
			for (int i = 0; i < o->nclients; i++)
				o->clients[i] = (int)list[i];
			break;
		case 'd':
			o->duration = (double)bench_long("-d", optarg, 1, 3600);
			break;
		case 'n':
			o->count = bench_long("-n", optarg, 1, 100000000);
			break;
		case OPT_SIGN:
			bench_sign_mode(o, optarg);
			break;
		case OPT_SIGN_INLINE:
			o->sign = 3;
			break;
		case OPT_IDLE:
			o->nidle =
			    bench_list("--idle", optarg, 1, 1000000, o->idle);
			break;
		case OPT_PREFILL:
			o->prefill =
			    bench_long("--prefill", optarg, 0, 1000000000);
			break;
		case OPT_PRESIGN:
			o->presign =
			    bench_long("--presign", optarg, 1, 100000000);
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_TAMWILD:
			o->tamwild = optarg;
			break;
		case OPT_STATE:
			o->state = optarg;
			break;
		case OPT_SERVER:
			o->server = optarg;
			break;
		case OPT_SERVER_KEY:
			o->server_key = optarg;
			break;
		case OPT_ADMIN_KEY:
			o->admin_key = optarg;
			break;
		case OPT_SERVER_PID:
			o->server_pid =
			    bench_long("--server-pid", optarg, 1, INT_MAX);
			break;
		case 'h':
			bench_usage_exit(0);
			break;
		default:
			bench_usage_exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tamwil-bench: unexpected argument '%s'\n",
			argv[optind]);
		exit(2);
	}
	bench_check(o);
}

/* The largest client count to enrol principals for. */
static int bench_max_clients(const bench_opts *o)
{
	int max = o->prefill > 0 ? BENCH_PREFILL_CLIENTS : 1;

	for (int i = 0; i < o->nclients; i++)
		if (o->clients[i] > max)
			max = o->clients[i];
	return max;
}

/* Fails early when idle channels cannot fit the descriptor limit. */
static int bench_check_fds(const bench_opts *o, char *why, size_t cap)
{
	long limit, need = 0;

	if (bench_raise_nofile(&limit) != 0) {
		snprintf(why, cap, "cannot raise the descriptor limit: %s",
			 strerror(errno));
		return -1;
	}
	if (!o->workloads[W_IDLE])
		return 0;
	for (int i = 0; i < o->nidle; i++)
		if (o->idle[i] > need)
			need = o->idle[i];
	need += BENCH_FD_SPARE;
	if (need > limit) {
		snprintf(why, cap,
			 "--idle needs %ld descriptors but the limit is %ld "
			 "(raise it with ulimit -n, or lower --idle)",
			 need, limit);
		return -1;
	}
	return 0;
}

/* The server, its keys and the admin's: started or given. */
static int bench_connect_setup(const bench_opts *o, bench_daemon *d,
			       bench_env *env, keyfile_secret *admin,
			       bench_report *r, char *why, size_t cap)
{
	char pub[BENCH_PATH_MAX + 32];
	int e;

	if (o->server != NULL) {
		if (snprintf(env->server, sizeof(env->server), "%s",
			     o->server) >= (int)sizeof(env->server)) {
			snprintf(why, cap, "--server: too long");
			return -1;
		}
		if ((e = keyfile_read_public(o->server_key, &env->spub)) != 0) {
			snprintf(why, cap, "--server-key %s: %s", o->server_key,
				 keyfile_strerror(e));
			return -1;
		}
		if ((e = keyfile_read_secret(o->admin_key, NULL, admin)) != 0) {
			snprintf(why, cap, "--admin-key %s: %s", o->admin_key,
				 keyfile_strerror(e));
			return -1;
		}
		return 0;
	}
	if (o->tamwild != NULL) {
		snprintf(d->tamwild, sizeof(d->tamwild), "%s", o->tamwild);
		if (access(d->tamwild, X_OK) != 0) {
			snprintf(why, cap, "--tamwild %.400s: %s", o->tamwild,
				 strerror(errno));
			return -1;
		}
	} else if (bench_find_tamwild(d->tamwild, sizeof(d->tamwild)) != 0) {
		snprintf(why, cap,
			 "cannot find tamwild next to this program: "
			 "give --tamwild PATH");
		return -1;
	}
	if (bench_daemon_prepare(d, o->state, admin, why, cap) != 0 ||
	    bench_daemon_start(d, why, cap) != 0)
		return -1;
	r->started = 1;
	if (o->state != NULL)
		snprintf(r->state, sizeof(r->state), "%s", o->state);
	snprintf(env->server, sizeof(env->server), "127.0.0.1:%d", d->port);
	snprintf(pub, sizeof(pub), "%s/server.pub", d->state);
	if ((e = keyfile_read_public(pub, &env->spub)) != 0) {
		snprintf(why, cap, "%.400s: %s", pub, keyfile_strerror(e));
		return -1;
	}
	return 0;
}

/*
 * Fills the database up to o->prefill applications, in programmes of
 * BENCH_PREFILL_CHUNK applications (a database of a million holds many
 * programmes), then gives the measurements a fresh programme of their own.
 */
static int bench_prefill(const bench_opts *o, bench_env *env,
			 const keyfile_secret *admin, bench_report *r,
			 char *why, size_t cap)
{
	bench_spec s = {0};
	bench_result res;

	if (bench_env_count(env, admin, &r->applications, why, cap) != 0)
		return -1;
	if (o->prefill <= (long)r->applications)
		return 0;
	s.kind = BENCH_SUBMIT;
	s.clients = BENCH_PREFILL_CLIENTS;
	s.sign_inline = 1;
	for (long left = o->prefill - (long)r->applications; left > 0;
	     left -= s.count) {
		s.count =
		    left < BENCH_PREFILL_CHUNK ? left : BENCH_PREFILL_CHUNK;
		if (bench_run(env, &s, &res, why, cap) != 0)
			return -1;
		r->prefilled += res.ops;
		r->prefill_seconds += res.seconds;
		r->prefill_errors += res.errors;
		if (res.errors > 0 ||
		    bench_env_programme(env, admin, why, cap) != 0)
			break;
	}
	return bench_env_count(env, admin, &r->applications, why, cap);
}

/* Runs one measurement and prints its row unless the output is JSON. */
static int bench_measure(const bench_opts *o, const bench_env *env,
			 bench_report *r, int kind, int clients,
			 int inline_sign, char *why, size_t cap)
{
	bench_row *row;

	if (r->nrows == BENCH_MAX_ROWS) {
		snprintf(why, cap, "more than %d measurements", BENCH_MAX_ROWS);
		return -1;
	}
	row = &r->rows[r->nrows];
	row->spec.kind = kind;
	row->spec.clients = clients;
	row->spec.duration = o->duration;
	row->spec.count = o->count;
	row->spec.sign_inline = inline_sign;
	row->spec.pool = o->presign;
	if (bench_run(env, &row->spec, &row->res, why, cap) != 0)
		return -1;
	if (!o->json)
		bench_report_row(stdout, r, r->nrows);
	r->nrows++;
	return 0;
}

/* Every selected workload at every client count. */
static int bench_measure_all(const bench_opts *o, const bench_env *env,
			     bench_report *r, char *why, size_t cap)
{
	for (int k = 0; k < BENCH_NKINDS; k++) {
		int signed_kind = k == BENCH_SUBMIT || k == BENCH_MIX;

		if (!o->workloads[k])
			continue;
		for (int i = 0; i < o->nclients; i++) {
			if ((!signed_kind || (o->sign & 1)) &&
			    bench_measure(o, env, r, k, o->clients[i], 0, why,
					  cap) != 0)
				return -1;
			if (signed_kind && (o->sign & 2) &&
			    bench_measure(o, env, r, k, o->clients[i], 1, why,
					  cap) != 0)
				return -1;
		}
	}
	return 0;
}

/*
 * libsodium's crypto_sign_verify_detached() over n signatures on this
 * thread: microseconds each into *us, measured in the run so that it
 * shares the machine's load with the figures it stands beside. 0 or -1.
 */
static int bench_verify_time(long n, double *us)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t msg[256], sig[crypto_sign_BYTES];
	struct timespec a, b;
	int rc = -1;

	randombytes_buf(msg, sizeof(msg));
	if (crypto_sign_keypair(pk, sk) != 0 ||
	    crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk) != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
			goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	*us = bench_seconds(&a, &b) * 1e6 / (double)n;
	rc = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

/* qsort() order of doubles. */
static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The disk's own floor under a durable commit: n times, a 4 KiB write
 * and fdatasync() of a scratch file in dir (the daemon's state folder
 * when the benchmark started it, the temporary folder otherwise); the
 * median in microseconds into *us. 0 or -1.
 */
static int bench_sync_time(const char *dir, long n, double *us)
{
	char path[BENCH_PATH_MAX + 32];
	double *t = calloc((size_t)n, sizeof(*t));
	uint8_t page[4096];
	struct timespec a, b;
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/bench-sync.XXXXXX", dir);
	fd = t != NULL ? mkstemp(path) : -1;
	if (fd < 0) {
		free(t);
		return -1;
	}
	randombytes_buf(page, sizeof(page));
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (pwrite(fd, page, sizeof(page),
			   (off_t)(i % 64) * (off_t)sizeof(page)) !=
			(ssize_t)sizeof(page) ||
		    fdatasync(fd) != 0)
			goto out;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = bench_seconds(&a, &b) * 1e6;
	}
	qsort(t, (size_t)n, sizeof(*t), bench_cmp_double);
	*us = t[n / 2];
	rc = 0;
out:
	close(fd);
	unlink(path);
	free(t);
	return rc;
}

/*
 * The whole run: descriptors, the server, the principals, the prefill,
 * every measurement and the idle channels, into r. 0, or -1 with why.
 */
static int bench_main(const bench_opts *o, bench_daemon *d, bench_report *r,
		      char *why, size_t cap)
{
	bench_env env = {0};
	keyfile_secret *admin = sodium_malloc(sizeof(*admin));
	pid_t pid;
	int rc = -1;

	if (admin == NULL) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	if (bench_check_fds(o, why, cap) != 0 ||
	    bench_connect_setup(o, d, &env, admin, r, why, cap) != 0 ||
	    bench_env_setup(&env, admin, bench_max_clients(o), why, cap) != 0)
		goto out;
	snprintf(r->server, sizeof(r->server), "%s", env.server);
	snprintf(r->server_version, sizeof(r->server_version), "%s",
		 env.server_version);
	if (bench_prefill(o, &env, admin, r, why, cap) != 0)
		goto out;
	pid = d->pid > 0 ? d->pid : (pid_t)o->server_pid;
	env.server_pid = pid;
	r->verify_count = BENCH_VERIFY_COUNT;
	if (bench_verify_time(r->verify_count, &r->verify_us) != 0) {
		snprintf(why, cap, "libsodium's Ed25519 verification failed");
		goto out;
	}
	snprintf(r->sync_dir, sizeof(r->sync_dir), "%s",
		 d->pid > 0 ? d->state : bench_tmpdir());
	r->sync_count = BENCH_SYNC_COUNT;
	if (bench_sync_time(r->sync_dir, r->sync_count, &r->sync_us) != 0) {
		snprintf(why, cap, "cannot time fdatasync() in %.300s: %s",
			 r->sync_dir, strerror(errno));
		goto out;
	}
	if (!o->json)
		bench_report_heading(stdout, r);
	if (bench_measure_all(o, &env, r, why, cap) != 0)
		goto out;
	if (o->workloads[W_IDLE]) {
		if (pid <= 0)
			snprintf(r->idle_skipped, sizeof(r->idle_skipped),
				 "the server's process is unknown: give "
				 "--server-pid");
		else if (bench_idle_run(&env, pid, o->idle, (size_t)o->nidle, 8,
					r->idle, why, cap) != 0)
			goto out;
		else
			r->nidle = o->nidle;
	}
	rc = 0;
out:
	bench_env_free(&env);
	sodium_free(admin);
	return rc;
}

/*
 * SIGINT and SIGTERM are blocked in every thread and taken by one thread
 * that stops the daemon, removes the temporary folder and exits, so an
 * interrupted run leaves nothing behind.
 */
typedef struct bench_watch {
	bench_daemon *d;
	sigset_t set;
	pthread_t thread;
} bench_watch;

static void *bench_watch_thread(void *arg)
{
	bench_watch *w = arg;
	int sig;

	if (sigwait(&w->set, &sig) != 0)
		return NULL;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	bench_daemon_stop(w->d);
	fprintf(stderr, "tamwil-bench: interrupted\n");
	_exit(128 + sig);
}

/* Blocks the two signals and starts the thread that takes them. 0 or -1. */
static int bench_watch_start(bench_watch *w, bench_daemon *d)
{
	w->d = d;
	sigemptyset(&w->set);
	sigaddset(&w->set, SIGINT);
	sigaddset(&w->set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &w->set, NULL) != 0)
		return -1;
	return pthread_create(&w->thread, NULL, bench_watch_thread, w) == 0
		   ? 0
		   : -1;
}

/* Ends the watching thread (unless a signal already ends the process). */
static void bench_watch_stop(bench_watch *w)
{
	pthread_cancel(w->thread);
	pthread_join(w->thread, NULL);
}

int main(int argc, char **argv)
{
	static bench_report r;
	bench_daemon d = {0};
	bench_watch watch;
	bench_opts o;
	char why[BENCH_ERR_MAX] = "";
	long errors = 0;
	int rc;

	bench_parse(argc, argv, &o);
	if (sodium_init() < 0) {
		fprintf(stderr, "tamwil-bench: libsodium cannot start\n");
		return 1;
	}
	if (bench_watch_start(&watch, &d) != 0) {
		fprintf(stderr, "tamwil-bench: cannot watch for signals\n");
		return 1;
	}
	r.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	rc = bench_main(&o, &d, &r, why, sizeof(why));
	bench_watch_stop(&watch);
	bench_daemon_stop(&d);
	if (rc != 0) {
		fprintf(stderr, "tamwil-bench: %s\n", why);
		return 1;
	}
	for (int i = 0; i < r.nrows; i++)
		errors += r.rows[i].res.errors;
	if (o.json) {
		if (bench_report_json(stdout, &r) != 0) {
			fprintf(stderr, "tamwil-bench: cannot write JSON\n");
			return 1;
		}
	} else {
		bench_report_tail(stdout, &r);
	}
	if (fflush(stdout) != 0)
		return 1;
	if (errors > 0 || r.prefill_errors > 0) {
		fprintf(stderr, "tamwil-bench: %ld operations failed\n",
			errors + r.prefill_errors);
		return 1;
	}
	return 0;
}
