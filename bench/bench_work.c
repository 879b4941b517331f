/*
 * The workloads; see bench_work.h. Each client thread owns its channels
 * and its region, so the references its submissions get are consecutive
 * and the decisions and tranches of the mix can be signed before the
 * clock starts, like submissions: a thread learns the next number of its
 * region from one untimed submission and counts from there.
 */
#include "bench_work.h"

#include "bench_daemon.h"
#include "bench_ops.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define E(x) TAMWIL__V1__ERROR_CODE__ERROR_##x

/* Channels of a client thread, by the role that signs on them. */
enum { CH_COORDINATOR = 0, CH_APPROVER = 1, CH_TREASURER = 2, CH_N = 3 };

/* One operation signed ahead, and the channel that sends it. */
typedef struct bench_op {
	uint8_t *bytes;
	size_t len;
	uint8_t sig[SIGNOP_SIGLEN];
	int chan;
	int what; /* 0 submission, 1 decision, 2 disbursement */
} bench_op;

/* What the threads of one run share. */
typedef struct bench_shared {
	const bench_env *env;
	const bench_spec *spec;
	pthread_barrier_t ready;
	atomic_int stop;
	char tag[12]; /* makes this run's national IDs unique */
} bench_shared;

typedef struct bench_worker {
	bench_shared *sh;
	const bench_principal *pr;
	int index;
	pthread_t thread;
	tamwil_client *ch[CH_N];
	char prefix[32]; /* "BNAA-2026-": this region's references */
	long base;	 /* the number of the next submission's reference */
	long quota;	 /* operations to do; LONG_MAX: until stopped */
	bench_op *pool;
	long npool;
	uint32_t *lat; /* microseconds, one per answered operation */
	size_t nlat, cap;
	long errors;
	long by_kind[3];
	int setup_failed, exhausted;
	struct timespec end;
	char error[BENCH_WHY_MAX];
} bench_worker;

const char *bench_kind_name(int kind)
{
	static const char *const names[] = {"submit", "mix", "list",
					    "handshake"};

	return kind >= 0 && kind < BENCH_NKINDS ? names[kind] : NULL;
}

double bench_seconds(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Fills o for the principal key, receipts checked against the server. */
static void bench_options(const bench_env *env, const keyfile_secret *key,
			  tamwil_client_options *o)
{
	memset(o, 0, sizeof(*o));
	o->server = env->server;
	o->server_noise_pk = env->spub.noise_pk;
	o->server_data_pk = env->spub.has_data ? env->spub.data_pk : NULL;
	o->server_sign_pk = env->spub.sign_pk;
	o->key = key;
}

/*
 * Opens a channel as key and finishes its handshake with a whoami. 0, or
 * -1 with the library's sentence in why.
 */
static int bench_open(const bench_env *env, const keyfile_secret *key,
		      tamwil_client **c, char *why, size_t cap)
{
	tamwil_client_options o;
	tamwil_whoami me;
	tamwil_error err;

	bench_options(env, key, &o);
	if (tamwil_client_connect(&o, c, &err) != TAMWIL_OK) {
		*c = NULL;
		snprintf(why, cap, "%s", err.message);
		return -1;
	}
	if (tamwil_client_whoami(*c, &me, &err) != TAMWIL_OK) {
		tamwil_client_close(*c);
		*c = NULL;
		snprintf(why, cap, "%s", err.message);
		return -1;
	}
	return 0;
}

/*
 * Applies op on c; a refusal whose code is `allowed` (0: none) counts as
 * done. 0, or -1 with the sentence in why.
 */
static int bench_apply(tamwil_client *c, Tamwil__V1__Operation *op, int allowed,
		       char *why, size_t cap)
{
	Tamwil__V1__OperationResult *res = NULL;
	tamwil_error err;

	if (tamwil_client_operate(c, op, &res, &err) == TAMWIL_OK) {
		tamwil__v1__operation_result__free_unpacked(res, NULL);
		return 0;
	}
	if (err.status == TAMWIL_ERR_REFUSED && allowed != 0 &&
	    err.code == allowed)
		return 0;
	snprintf(why, cap, "%s", err.message);
	return -1;
}

/* Creates region code; one that exists already is fine. 0 or -1. */
static int bench_region(tamwil_client *c, const char *code, char *why,
			size_t cap)
{
	bench_opbuf b;

	bench_op_region(&b, code);
	return bench_apply(c, &b.op, E(ALREADY_EXISTS), why, cap);
}

/* Enrols key as name with role (and region). 0 or -1 with why. */
static int bench_enrol(tamwil_client *c, const keyfile_secret *key,
		       const char *name, Tamwil__V1__Role role,
		       const char *region, char *why, size_t cap)
{
	bench_opbuf b;

	bench_op_enrol(&b, key, name, role, region);
	return bench_apply(c, &b.op, 0, why, cap);
}

/* Creates programme code in MAD with the benchmark's envelope. */
static int bench_programme(tamwil_client *c, const char *code, char *why,
			   size_t cap)
{
	bench_opbuf b;

	bench_op_programme(&b, code);
	return bench_apply(c, &b.op, 0, why, cap);
}

/* Creates a fresh programme BENCH-NNNNNNNNN on c as env's. 0 or -1. */
static int bench_env_programme_on(bench_env *env, tamwil_client *c, char *why,
				  size_t cap)
{
	snprintf(env->programme, sizeof(env->programme), "BENCH-%09u",
		 (unsigned)randombytes_uniform(1000000000));
	return bench_programme(c, env->programme, why, cap);
}

/* Regions and the three principals of client thread i. */
static int bench_setup_one(tamwil_client *admin, bench_principal *p, int i,
			   char *why, size_t cap)
{
	char name[64];

	snprintf(p->region, sizeof(p->region), "BN%c%c", 'A' + i / 26,
		 'A' + i % 26);
	if (keyfile_generate(&p->coordinator) != 0 ||
	    keyfile_generate(&p->approver) != 0 ||
	    keyfile_generate(&p->treasurer) != 0) {
		snprintf(why, cap, "cannot generate keys");
		return -1;
	}
	if (bench_region(admin, p->region, why, cap) != 0)
		return -1;
	snprintf(name, sizeof(name), "Coordinatrice %s", p->region);
	if (bench_enrol(admin, &p->coordinator, name,
			TAMWIL__V1__ROLE__ROLE_COORDINATOR, p->region, why,
			cap) != 0)
		return -1;
	snprintf(name, sizeof(name), "Approbateur %d", i);
	if (bench_enrol(admin, &p->approver, name,
			TAMWIL__V1__ROLE__ROLE_APPROVER, "", why, cap) != 0)
		return -1;
	snprintf(name, sizeof(name), "Trésorière %d", i);
	return bench_enrol(admin, &p->treasurer, name,
			   TAMWIL__V1__ROLE__ROLE_TREASURER, "", why, cap);
}

int bench_env_setup(bench_env *env, const keyfile_secret *admin, int nclients,
		    char *why, size_t cap)
{
	tamwil_client *c = NULL;
	int rc = -1;

	env->p = NULL;
	env->nprincipals = 0;
	if (nclients < 1 || nclients > BENCH_MAX_CLIENTS) {
		snprintf(why, cap, "between 1 and %d clients",
			 BENCH_MAX_CLIENTS);
		return -1;
	}
	env->p = sodium_allocarray((size_t)nclients, sizeof(*env->p));
	if (env->p == NULL) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	if (bench_open(env, admin, &c, why, cap) != 0)
		goto out;
	snprintf(env->server_version, sizeof(env->server_version), "%s",
		 tamwil_client_server_version(c));
	if (bench_env_programme_on(env, c, why, cap) != 0)
		goto out;
	for (int i = 0; i < nclients; i++) {
		if (bench_setup_one(c, &env->p[i], i, why, cap) != 0)
			goto out;
		env->nprincipals = i + 1;
	}
	rc = 0;
out:
	tamwil_client_close(c);
	if (rc != 0)
		bench_env_free(env);
	return rc;
}

int bench_env_programme(bench_env *env, const keyfile_secret *admin, char *why,
			size_t cap)
{
	tamwil_client *c;
	int rc;

	if (bench_open(env, admin, &c, why, cap) != 0)
		return -1;
	rc = bench_env_programme_on(env, c, why, cap);
	tamwil_client_close(c);
	return rc;
}

void bench_env_free(bench_env *env)
{
	sodium_free(env->p);
	env->p = NULL;
	env->nprincipals = 0;
}

int bench_env_count(const bench_env *env, const keyfile_secret *admin,
		    uint64_t *n, char *why, size_t cap)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListApplicationsRequest body =
	    TAMWIL__V1__LIST_APPLICATIONS_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	tamwil_client *c;
	tamwil_error err;
	int rc;

	if (bench_open(env, admin, &c, why, cap) != 0)
		return -1;
	body.page_size = 1;
	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS;
	req.list_applications = &body;
	rc = tamwil_client_call(c, &req, &resp, &err);
	tamwil_client_close(c);
	if (rc != TAMWIL_OK) {
		snprintf(why, cap, "%s", err.message);
		return -1;
	}
	*n = resp->applications->total;
	tamwil__v1__response__free_unpacked(resp, NULL);
	return 0;
}

/* ---- building operations --------------------------------------------- */

/*
 * Signs op on channel chan of w into *out. 0, or -1 with the sentence in
 * w->error.
 */
static int bench_sign(bench_worker *w, int chan, Tamwil__V1__Operation *op,
		      bench_op *out)
{
	tamwil_error err;

	out->chan = chan;
	if (tamwil_client_sign(w->ch[chan], op, &out->bytes, &out->len,
			       out->sig, &err) != TAMWIL_OK) {
		snprintf(w->error, sizeof(w->error), "%s", err.message);
		return -1;
	}
	return 0;
}

/* Submission number k of this run, its identity sealed. */
static int bench_make_submit(bench_worker *w, long k, bench_op *out)
{
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	bench_opbuf b;
	char nid[48];
	uint8_t *box = NULL;
	size_t len;
	tamwil_error err;
	int rc;

	snprintf(nid, sizeof(nid), "%s%03d%09ld", w->sh->tag, w->index, k);
	id.national_id = nid;
	id.first_name = "Khadija";
	id.last_name = "Alaoui";
	id.birth_date = "1990-05-01";
	id.phone = "0612345678";
	id.address = "Douar Ait Ouahi";
	if (tamwil_client_seal_identity(w->ch[CH_COORDINATOR], &id, &box, &len,
					&err) != TAMWIL_OK) {
		snprintf(w->error, sizeof(w->error), "%s", err.message);
		return -1;
	}
	bench_op_submit(&b, w->sh->env->programme, w->pr->region, box, len);
	rc = bench_sign(w, CH_COORDINATOR, &b.op, out);
	out->what = 0;
	free(box);
	return rc;
}

/* The approval (reject 0) or rejection (reject 1) of reference ref. */
static int bench_make_decision(bench_worker *w, const char *ref, int reject,
			       bench_op *out)
{
	bench_opbuf b;

	bench_op_decision(&b, ref, reject);
	out->what = 1;
	return bench_sign(w, CH_APPROVER, &b.op, out);
}

/* The one tranche, in cash, of the whole amount of reference ref. */
static int bench_make_disbursement(bench_worker *w, const char *ref,
				   bench_op *out)
{
	bench_opbuf b;

	bench_op_disbursement(&b, ref);
	out->what = 2;
	return bench_sign(w, CH_TREASURER, &b.op, out);
}

/*
 * Operation j of w's schedule. The mix goes by blocks of ten: seven
 * submissions, with the approval of the block's first after it, the
 * rejection of its second after that, and the tranche of the approved
 * one after that, all early in the block so that even a short run keeps
 * the proportions: S A S R S D S S S S.
 */
static int bench_make(bench_worker *w, long j, bench_op *out)
{
	static const int submission[10] = {0, -1, 1, -1, 2, -1, 3, 4, 5, 6};
	char ref[48];
	long b = j / 10, r = j % 10;

	if (w->sh->spec->kind == BENCH_SUBMIT)
		return bench_make_submit(w, j, out);
	if (submission[r] >= 0)
		return bench_make_submit(w, 7 * b + submission[r], out);
	snprintf(ref, sizeof(ref), "%s%06ld", w->prefix,
		 w->base + 7 * b + (r == 3 ? 1 : 0));
	if (r == 5)
		return bench_make_disbursement(w, ref, out);
	return bench_make_decision(w, ref, r == 3, out);
}

/*
 * One untimed submission that tells the thread its region's reference
 * prefix and next number.
 */
static int bench_probe(bench_worker *w)
{
	Tamwil__V1__OperationResult *res = NULL;
	bench_op op = {0};
	tamwil_error err;
	const char *dash;
	int rc = -1;

	if (bench_make_submit(w, LONG_MAX / 2, &op) != 0)
		return -1;
	if (tamwil_client_send_signed(w->ch[CH_COORDINATOR], op.bytes, op.len,
				      op.sig, &res, &err) != TAMWIL_OK) {
		snprintf(w->error, sizeof(w->error), "%s", err.message);
		goto out;
	}
	dash = strrchr(res->reference, '-');
	if (dash == NULL ||
	    (size_t)(dash + 1 - res->reference) >= sizeof(w->prefix)) {
		snprintf(w->error, sizeof(w->error),
			 "unexpected reference '%s'", res->reference);
		goto out;
	}
	memcpy(w->prefix, res->reference, (size_t)(dash + 1 - res->reference));
	w->prefix[dash + 1 - res->reference] = '\0';
	w->base = atol(dash + 1) + 1;
	rc = 0;
out:
	if (res != NULL)
		tamwil__v1__operation_result__free_unpacked(res, NULL);
	free(op.bytes);
	return rc;
}

/* ---- the client threads ----------------------------------------------- */

/* Records one latency (microseconds). -1 when memory runs out. */
static int bench_note(bench_worker *w, const struct timespec *a,
		      const struct timespec *b)
{
	double us = bench_seconds(a, b) * 1e6;

	if (w->nlat == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 4096;
		uint32_t *v = realloc(w->lat, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		w->lat = v;
		w->cap = cap;
	}
	w->lat[w->nlat++] =
	    us >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)(us + 0.5);
	return 0;
}

/* Counts a failure; 1 when the channel is still usable, 0 when not. */
static int bench_failed(bench_worker *w, const tamwil_error *err)
{
	if (w->errors++ == 0)
		snprintf(w->error, sizeof(w->error), "%s", err->message);
	return err->status == TAMWIL_ERR_REFUSED;
}

/* Sends a signed operation; 1 done, 0 failed but go on, -1 stop. */
static int bench_send(bench_worker *w, bench_op *op)
{
	Tamwil__V1__OperationResult *res = NULL;
	tamwil_error err;

	if (tamwil_client_send_signed(w->ch[op->chan], op->bytes, op->len,
				      op->sig, &res, &err) != TAMWIL_OK)
		return bench_failed(w, &err) ? 0 : -1;
	tamwil__v1__operation_result__free_unpacked(res, NULL);
	w->by_kind[op->what]++;
	return 1;
}

/* One list of the thread's region: 1 done, 0 failed, -1 stop. */
static int bench_list(bench_worker *w)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListApplicationsRequest body =
	    TAMWIL__V1__LIST_APPLICATIONS_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	tamwil_error err;

	body.region = (char *)w->pr->region;
	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS;
	req.list_applications = &body;
	if (tamwil_client_call(w->ch[CH_COORDINATOR], &req, &resp, &err) !=
	    TAMWIL_OK)
		return bench_failed(w, &err) ? 0 : -1;
	tamwil__v1__response__free_unpacked(resp, NULL);
	return 1;
}

/* Connect, whoami, close: 1 done, 0 failed (a new try is fine). */
static int bench_handshake(bench_worker *w)
{
	tamwil_error err;
	tamwil_client *c;

	if (bench_open(w->sh->env, &w->pr->coordinator, &c, err.message,
		       sizeof(err.message)) != 0) {
		err.status = TAMWIL_ERR_CLOSED;
		return bench_failed(w, &err);
	}
	tamwil_client_close(c);
	return 1;
}

/* One timed operation j: 1 done, 0 failed, -1 stop this thread. */
static int bench_one(bench_worker *w, long j)
{
	const bench_spec *spec = w->sh->spec;
	bench_op op = {0};
	int rc;

	switch (spec->kind) {
	case BENCH_LIST:
		return bench_list(w);
	case BENCH_HANDSHAKE:
		return bench_handshake(w);
	default:
		break;
	}
	if (!spec->sign_inline) {
		if (j >= w->npool) {
			w->exhausted = 1;
			return -1;
		}
		return bench_send(w, &w->pool[j]);
	}
	if (bench_make(w, j, &op) != 0) {
		w->errors++;
		return -1;
	}
	rc = bench_send(w, &op);
	free(op.bytes);
	return rc;
}

/* Opens the thread's channels, probes its region, signs its pool. */
static int bench_prepare(bench_worker *w)
{
	const bench_spec *spec = w->sh->spec;
	const keyfile_secret *keys[CH_N] = {
	    &w->pr->coordinator, &w->pr->approver, &w->pr->treasurer};
	int nch = spec->kind == BENCH_MIX	  ? CH_N
		  : spec->kind == BENCH_HANDSHAKE ? 0
						  : 1;

	for (int i = 0; i < nch; i++)
		if (bench_open(w->sh->env, keys[i], &w->ch[i], w->error,
			       sizeof(w->error)) != 0)
			return -1;
	if (spec->kind == BENCH_MIX && bench_probe(w) != 0)
		return -1;
	if (spec->sign_inline ||
	    (spec->kind != BENCH_SUBMIT && spec->kind != BENCH_MIX))
		return 0;
	if (spec->count > 0)
		w->npool = w->quota;
	else
		w->npool = spec->pool / spec->clients + 1;
	if (w->npool == 0)
		return 0;
	w->pool = calloc((size_t)w->npool, sizeof(*w->pool));
	if (w->pool == NULL) {
		snprintf(w->error, sizeof(w->error), "out of memory");
		return -1;
	}
	for (long j = 0; j < w->npool; j++)
		if (bench_make(w, j, &w->pool[j]) != 0)
			return -1;
	return 0;
}

/*
 * A client thread: prepares, waits for the others at the barrier, then
 * runs its operations until its quota, the stop flag or a failure that
 * leaves a channel unusable; notes when it ended.
 */
static void *bench_thread(void *arg)
{
	bench_worker *w = arg;
	bench_shared *sh = w->sh;
	struct timespec a, b;

	w->setup_failed = bench_prepare(w) != 0;
	pthread_barrier_wait(&sh->ready);
	for (long j = 0; !w->setup_failed && j < w->quota; j++) {
		int rc;

		if (atomic_load(&sh->stop))
			break;
		clock_gettime(CLOCK_MONOTONIC, &a);
		rc = bench_one(w, j);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (rc < 0) {
			if (w->exhausted)
				atomic_store(&sh->stop, 1);
			break;
		}
		if (rc == 1 && bench_note(w, &a, &b) != 0) {
			snprintf(w->error, sizeof(w->error), "out of memory");
			w->errors++;
			break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &w->end);
	return NULL;
}

/* qsort() order of uint32_t values. */
static int bench_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * CPU seconds used so far: cpu[0] by the server, cpu[1] by this process
 * (every thread), cpu[2] by the server's writer thread (-1 when the
 * server's process is unknown or unreadable).
 */
static void bench_cpu_now(const bench_env *env, double cpu[3])
{
	struct rusage ru;

	if (env->server_pid <= 0 || bench_cpu(env->server_pid, &cpu[0]) != 0)
		cpu[0] = -1;
	if (env->server_pid <= 0 ||
	    bench_cpu_threads(env->server_pid, BENCH_WRITER_THREAD, &cpu[2]) !=
		0)
		cpu[2] = -1;
	cpu[1] = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu[1] =
		    (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * Sets out's CPU times per operation and the writer's share from the
 * readings around the run (out->ops and out->seconds set).
 */
static void bench_cpu_per_op(const double before[3], const double after[3],
			     bench_result *out)
{
	double ops = out->ops > 0 ? (double)out->ops : 1.0;

	out->server_cpu_us = before[0] < 0 || after[0] < 0
				 ? -1
				 : (after[0] - before[0]) * 1e6 / ops;
	out->client_cpu_us = (after[1] - before[1]) * 1e6 / ops;
	out->writer_share = before[2] < 0 || after[2] < 0 || out->seconds <= 0
				? -1
				: (after[2] - before[2]) / out->seconds;
}

/* Merges the threads' latencies and counts into out. 0 or -1. */
static int bench_collect(bench_worker *w, int n, const struct timespec *t0,
			 bench_result *out)
{
	size_t total = 0, k = 0;
	uint32_t *all;

	for (int i = 0; i < n; i++) {
		double s = bench_seconds(t0, &w[i].end);

		total += w[i].nlat;
		out->errors += w[i].errors;
		for (int x = 0; x < 3; x++)
			out->by_kind[x] += w[i].by_kind[x];
		out->exhausted |= w[i].exhausted;
		if (s > out->seconds)
			out->seconds = s;
		if (out->first_error[0] == '\0' && w[i].error[0] != '\0')
			snprintf(out->first_error, sizeof(out->first_error),
				 "%s", w[i].error);
	}
	out->ops = (long)total;
	out->rate = out->seconds > 0 ? (double)total / out->seconds : 0;
	if (total == 0)
		return 0;
	all = malloc(total * sizeof(*all));
	if (all == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		memcpy(all + k, w[i].lat, w[i].nlat * sizeof(*all));
		k += w[i].nlat;
	}
	qsort(all, total, sizeof(*all), bench_cmp_u32);
	out->p50 = all[(total - 1) / 2];
	out->p99 = all[(size_t)((double)total * 0.99 + 0.999999) - 1];
	out->max = all[total - 1];
	free(all);
	return 0;
}

/* Closes a thread's channels and frees what it allocated. */
static void bench_worker_free(bench_worker *w)
{
	for (int i = 0; i < CH_N; i++)
		tamwil_client_close(w->ch[i]);
	for (long j = 0; j < w->npool; j++)
		free(w->pool[j].bytes);
	free(w->pool);
	free(w->lat);
}

/* Sleeps until the duration from t0 is over or the threads stopped. */
static void bench_wait_duration(bench_shared *sh, const struct timespec *t0,
				double duration)
{
	const struct timespec tick = {0, 5 * 1000000L};
	struct timespec now;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (bench_seconds(t0, &now) >= duration ||
		    atomic_load(&sh->stop))
			break;
		nanosleep(&tick, NULL);
	}
	atomic_store(&sh->stop, 1);
}

int bench_run(const bench_env *env, const bench_spec *spec, bench_result *out,
	      char *why, size_t cap)
{
	bench_shared sh = {.env = env, .spec = spec};
	bench_worker *w;
	struct timespec t0;
	double cpu0[3], cpu1[3];
	int n = spec->clients, started = 0, rc = -1;
	uint8_t tag[4];

	memset(out, 0, sizeof(*out));
	if (n < 1 || n > env->nprincipals) {
		snprintf(why, cap, "%d clients, but principals for %d", n,
			 env->nprincipals);
		return -1;
	}
	randombytes_buf(tag, sizeof(tag));
	snprintf(sh.tag, sizeof(sh.tag), "R%02X%02X%02X%02X", tag[0], tag[1],
		 tag[2], tag[3]);
	atomic_init(&sh.stop, 0);
	w = calloc((size_t)n, sizeof(*w));
	if (w == NULL ||
	    pthread_barrier_init(&sh.ready, NULL, (unsigned)n + 1) != 0) {
		free(w);
		snprintf(why, cap, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		w[i].sh = &sh;
		w[i].pr = &env->p[i];
		w[i].index = i;
		w[i].quota = spec->count > 0 ? spec->count / n +
						   (i < spec->count % n ? 1 : 0)
					     : LONG_MAX;
	}
	for (; started < n; started++)
		if (pthread_create(&w[started].thread, NULL, bench_thread,
				   &w[started]) != 0)
			break;
	if (started < n) {
		/* The barrier counts n + 1: stand in for the missing ones. */
		atomic_store(&sh.stop, 1);
		for (int i = started; i < n; i++) {
			w[i].setup_failed = 1;
			snprintf(w[i].error, sizeof(w[i].error),
				 "cannot start a thread");
			pthread_barrier_wait(&sh.ready);
		}
	}
	pthread_barrier_wait(&sh.ready);
	bench_cpu_now(env, cpu0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (spec->count == 0)
		bench_wait_duration(&sh, &t0, spec->duration);
	for (int i = 0; i < started; i++)
		pthread_join(w[i].thread, NULL);
	bench_cpu_now(env, cpu1);
	for (int i = 0; i < n; i++)
		if (w[i].setup_failed) {
			snprintf(why, cap, "client %d: %s", i, w[i].error);
			goto out;
		}
	if (bench_collect(w, n, &t0, out) != 0) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	bench_cpu_per_op(cpu0, cpu1, out);
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		bench_worker_free(&w[i]);
	pthread_barrier_destroy(&sh.ready);
	free(w);
	return rc;
}

/* ---- idle channels ------------------------------------------------------ */

typedef struct bench_opener {
	const bench_env *env;
	tamwil_client **h;
	long from, to; /* h[from .. to) */
	pthread_t thread;
	char error[BENCH_WHY_MAX];
	int failed;
} bench_opener;

/* Opens o->h[from .. to); stops at the first failure (o->error). */
static void *bench_open_thread(void *arg)
{
	bench_opener *o = arg;

	for (long i = o->from; i < o->to; i++) {
		const bench_principal *p = &o->env->p[i % o->env->nprincipals];

		if (bench_open(o->env, &p->coordinator, &o->h[i], o->error,
			       sizeof(o->error)) != 0) {
			o->failed = 1;
			break;
		}
	}
	return NULL;
}

/* Opens h[from .. to) with up to `threads` threads. 0, or -1 with why. */
static int bench_open_many(const bench_env *env, tamwil_client **h, long from,
			   long to, int threads, char *why, size_t cap)
{
	bench_opener o[64];
	int n = threads < 1 ? 1 : threads > 64 ? 64 : threads, started = 0;
	long per = (to - from + n - 1) / n;
	int rc = 0;

	for (int i = 0; i < n; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		o[i].env = env;
		o[i].h = h;
		o[i].from = from + per * i < to ? from + per * i : to;
		o[i].to = o[i].from + per < to ? o[i].from + per : to;
	}
	for (; started < n; started++)
		if (pthread_create(&o[started].thread, NULL, bench_open_thread,
				   &o[started]) != 0)
			break;
	for (int i = 0; i < started; i++)
		pthread_join(o[i].thread, NULL);
	if (started < n) {
		snprintf(why, cap, "cannot start a thread");
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (o[i].failed && rc == 0) {
			snprintf(why, cap, "channel %ld: %s", o[i].from + 1,
				 o[i].error);
			rc = -1;
		}
	return rc;
}

int bench_idle_run(const bench_env *env, pid_t pid, const long *counts,
		   size_t n, int threads, bench_idle *out, char *why,
		   size_t cap)
{
	struct timespec settle = {0, 300 * 1000000L};
	tamwil_client **h;
	long long before;
	long max = 0, open = 0;
	int rc = -1;

	for (size_t i = 0; i < n; i++)
		if (counts[i] > max)
			max = counts[i];
	h = calloc((size_t)max + 1, sizeof(tamwil_client *));
	if (h == NULL) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	nanosleep(&settle, NULL);
	if (bench_rss(pid, &before) != 0) {
		snprintf(why, cap, "cannot read /proc/%ld/status", (long)pid);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		long long after;

		if (counts[i] > open) {
			if (bench_open_many(env, h, open, counts[i], threads,
					    why, cap) != 0)
				goto out;
			open = counts[i];
		}
		nanosleep(&settle, NULL);
		if (bench_rss(pid, &after) != 0) {
			snprintf(why, cap, "cannot read /proc/%ld/status",
				 (long)pid);
			goto out;
		}
		out[i].connections = counts[i];
		out[i].rss_before = before;
		out[i].rss_after = after;
		out[i].per_connection =
		    (double)(after - before) / (double)counts[i];
	}
	rc = 0;
out:
	for (long i = 0; i < max; i++)
		tamwil_client_close(h[i]);
	free(h);
	return rc;
}
