/*
 * The benchmark's workloads, run through libtamwil-client exactly as the
 * regional client runs them (Noise_XK channel, sealed identities, signed
 * operations, receipts verified against head office's signing key): the
 * principals and programme a run needs, C client threads with one
 * channel each, and the rate and latencies they achieved.
 */
#ifndef TAMWIL_BENCH_WORK_H
#define TAMWIL_BENCH_WORK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "keyfile.h"
#include "tamwil-client.h"

/* Most client threads one run may have (two-letter region codes). */
#define BENCH_MAX_CLIENTS 512
#define BENCH_WHY_MAX	  TAMWIL_ERROR_MAX

/* The principals of client thread i: a coordinator in region BNxx. */
typedef struct bench_principal {
	char region[8];
	keyfile_secret coordinator, approver, treasurer;
} bench_principal;

/* What every run against one server shares. */
typedef struct bench_env {
	char server[300];	 /* "host:port" */
	keyfile_public spub;	 /* the server's public key file */
	char server_version[64]; /* from its hello */
	char programme[20];	 /* the one submissions go to */
	int nprincipals;
	bench_principal *p; /* nprincipals of them */
	pid_t server_pid;   /* for its CPU time; 0 when unknown */
} bench_env;

/*
 * Connects as admin and prepares env for up to nclients client threads:
 * regions BNAA, BNAB, ... (kept when they exist), a coordinator,
 * an approver and a treasurer for each thread (fresh keys, so maker-
 * checker never refuses), and a programme BENCH-NNNNNNNNN in MAD with an
 * envelope of ten thousand billion and a ceiling of 100 000,00. env's
 * server and spub must be set. 0, or -1 with a sentence in why (env is
 * then released).
 */
int bench_env_setup(bench_env *env, const keyfile_secret *admin, int nclients,
		    char *why, size_t cap);

/*
 * Creates another such programme as admin and makes it env's: later runs
 * submit to it. 0, or -1 with a sentence in why.
 */
int bench_env_programme(bench_env *env, const keyfile_secret *admin, char *why,
			size_t cap);

/* Wipes the keys and frees env->p. */
void bench_env_free(bench_env *env);

/* Seconds from a to b. */
double bench_seconds(const struct timespec *a, const struct timespec *b);

/*
 * The number of applications the server holds (a ListApplications total
 * as admin) into *n. 0, or -1 with a sentence in why.
 */
int bench_env_count(const bench_env *env, const keyfile_secret *admin,
		    uint64_t *n, char *why, size_t cap);

enum bench_kind {
	BENCH_SUBMIT = 0,    /* signed submissions with sealed identities */
	BENCH_MIX = 1,	     /* 70 % submit, 20 % decide, 10 % disburse */
	BENCH_LIST = 2,	     /* ListApplications, first page of a region */
	BENCH_HANDSHAKE = 3, /* connect, whoami, close */
	BENCH_NKINDS
};

/* The name of a kind ("submit", ...), or NULL. */
const char *bench_kind_name(int kind);

/* What one run does. */
typedef struct bench_spec {
	int kind;
	int clients;
	double duration; /* seconds; used when count is 0 */
	long count;	 /* operations over all clients; 0: by duration */
	int sign_inline; /* sign (and seal) inside the timed loop */
	long pool; /* pre-signed operations over all clients, by duration */
} bench_spec;

/* What one run achieved. Latencies in microseconds. */
typedef struct bench_result {
	long ops;	 /* answered as expected */
	long errors;	 /* refused or failed */
	long by_kind[3]; /* mix: submissions, decisions, disbursements */
	double seconds;
	double rate; /* ops / seconds */
	uint32_t p50, p99, max;
	int exhausted; /* the pre-signed operations ran out before the end */
	/*
	 * CPU time per answered operation over the timed run, microseconds:
	 * the server's (negative when its process is unknown) and this
	 * program's own, all its threads (the load generator).
	 */
	double server_cpu_us, client_cpu_us;
	/*
	 * The server's writer thread's CPU time over the run's time, 0 to
	 * 1: how close the one thread that applies and commits came to a
	 * whole CPU. Negative when unknown.
	 */
	double writer_share;
	char first_error[BENCH_WHY_MAX]; /* "" when none */
} bench_result;

/*
 * Runs spec against env's server and fills out. Channels are opened and
 * (unless spec->sign_inline) every operation signed and sealed before the
 * clock starts; the clock stops when the duration is over or the count
 * done (or the pre-signed pool used up: out->exhausted). 0, or -1 with a
 * sentence in why when the run could not be set up.
 */
int bench_run(const bench_env *env, const bench_spec *spec, bench_result *out,
	      char *why, size_t cap);

/* The memory of the server per idle channel, at one count. */
typedef struct bench_idle {
	long connections;
	long long rss_before, rss_after; /* bytes */
	double per_connection;		 /* bytes */
} bench_idle;

/*
 * Opens counts[0], then up to counts[1], ... channels (connect and
 * whoami, then silence) with `threads` threads, and reads the RSS of the
 * server process pid before opening any and after each count into
 * out[i]. Everything is closed at the end. 0, or -1 with a sentence in
 * why.
 */
int bench_idle_run(const bench_env *env, pid_t pid, const long *counts,
		   size_t n, int threads, bench_idle *out, char *why,
		   size_t cap);

#endif
