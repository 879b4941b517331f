/*
 * tamwil-prefill: fills a benchmark state folder offline to N applications
 * through the daemon's own operation path (ops_prepare() and
 * ops_apply_batch(): rules, store, audit log and checkpoints), with real
 * operations signed by enrolled principals, thousands to a transaction.
 * The folder is then measured with tamwil-bench --state. A second thread
 * signs and verifies the next transaction's submissions (the daemon's
 * workers' share) while the first applies the current one (its writer's).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench_daemon.h"
#include "bench_ops.h"
#include "config.h"
#include "log.h"
#include "ops.h"
#include "server.h"
#include "state.h"
#include "store.h"
#include "tamwil-client.h"

#define PF_REGIONS   16	    /* BNAA..BNAP, as tamwil-bench --prefill */
#define PF_PROGRAMME 10000  /* applications per programme */
#define PF_CHUNK_MAX 100000 /* submissions per transaction, at most */
#define PF_CHUNK     4000   /* by default */
#define PF_CACHE_MIB 1024   /* the writer's page cache */
/* Decisions come by blocks of 21 submissions, a number prime to the
 * regions' so that every region gets some. */
#define PF_BLOCK    21
#define PF_MAX_APPS 15984000L /* 16 regions of 999 000 a year */
#define E(x)	    TAMWIL__V1__ERROR_CODE__ERROR_##x

static const char pf_usage[] =
    "usage: tamwil-prefill --state DIR -n N [--chunk K] [--tamwild PATH]\n"
    "\n"
    "Fills the benchmark state folder DIR (created with `tamwild init`\n"
    "and the benchmark's admin key when it holds no database) until it\n"
    "holds N applications, offline: every application a submission\n"
    "signed by a coordinator of regions BNAA..BNAP, applied by the\n"
    "daemon's own code; of every 21, two approved (one of them paid in\n"
    "one tranche) and one rejected; a new programme every 10 000.\n"
    "K submissions (default 4000) share one transaction. The daemon must\n"
    "not be running on DIR. SIGINT or SIGTERM stop it after the current\n"
    "transaction; what was committed stays.\n";

/* One principal: its keys, an offline client handle that signs and
 * seals, and the session the daemon's code sees it through. */
typedef struct pf_actor {
	keyfile_secret key;
	tamwil_client *c;
	store_principal who;
	ops_session sess;
} pf_actor;

/* One operation of a transaction. */
typedef struct pf_slot {
	pf_actor *a;
	uint8_t *bytes;
	uint8_t sig[SIGNOP_SIGLEN];
	Tamwil__V1__SignedOperation sop;
	ops_pending p;
	int allowed; /* a refusal code that counts as done; 0: none */
} pf_slot;

/*
 * A transaction's operations: signed, then verified by ops_prepare(),
 * then applied; refs receives the references of those applied.
 */
typedef struct pf_batch {
	pf_slot *slots;
	ops_pending **pend;
	char (*refs)[STORE_REF_MAX];
	size_t n;
	long first; /* submissions: the run's number of the first */
	int ready;  /* prepared, for the applying thread */
	int failed; /* the preparing thread stopped on an error */
	char why[BENCH_ERR_MAX];
} pf_batch;

typedef struct pf {
	server *srv;
	keyfile_public spub;
	pf_actor admin, approver, treasurer;
	pf_actor coord[PF_REGIONS];
	char tag[12]; /* makes this run's programmes and national IDs unique */
	long start, target, chunk, next;
	/* Submissions, prepared in turn into one and applied from the other. */
	pf_batch sub[2];
	pf_batch dec; /* decisions and administration, on the main thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int quit;
} pf;

static volatile sig_atomic_t pf_stop;

static void pf_on_signal(int sig)
{
	(void)sig;
	pf_stop = 1;
}

/* Seconds of the monotonic clock. */
static double pf_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Gives a its keys (fresh unless key is given) and an offline handle.
 * 0, or -1 with why.
 */
static int pf_actor_open(pf *f, pf_actor *a, const keyfile_secret *key,
			 char *why, size_t cap)
{
	tamwil_client_options o;
	tamwil_error err;

	if (key != NULL)
		a->key = *key;
	else if (keyfile_generate(&a->key) != 0) {
		snprintf(why, cap, "cannot generate keys");
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.server = "127.0.0.1:0";
	o.server_noise_pk = f->spub.noise_pk;
	o.server_data_pk = f->spub.data_pk;
	o.key = &a->key;
	if (tamwil_client_open(&o, &a->c, &err) != TAMWIL_OK) {
		snprintf(why, cap, "%s", err.message);
		return -1;
	}
	return 0;
}

/* Reads a's principal from the store once it is enrolled. */
static int pf_actor_bind(pf *f, pf_actor *a, char *why, size_t cap)
{
	if (store_principal_by_noise(f->srv->st, a->key.noise_pk, &a->who) !=
	    0) {
		snprintf(why, cap,
			 "a principal of the prefill is not enrolled");
		return -1;
	}
	a->sess.who = &a->who;
	a->sess.peer = "tamwil-prefill";
	return 0;
}

static void pf_actor_close(pf_actor *a)
{
	tamwil_client_close(a->c);
	ops_session_clear(&a->sess);
	sodium_memzero(&a->key, sizeof(a->key));
}

/*
 * Signs op as a into slot i of batch b. 0, or -1 with why.
 */
static int pf_sign(pf_batch *b, size_t i, pf_actor *a,
		   Tamwil__V1__Operation *op, int allowed, char *why,
		   size_t cap)
{
	pf_slot *s = &b->slots[i];
	size_t len;
	tamwil_error err;

	memset(s, 0, sizeof(*s));
	s->a = a;
	s->allowed = allowed;
	if (tamwil_client_sign(a->c, op, &s->bytes, &len, s->sig, &err) !=
	    TAMWIL_OK) {
		snprintf(why, cap, "%s", err.message);
		return -1;
	}
	tamwil__v1__signed_operation__init(&s->sop);
	s->sop.operation.data = s->bytes;
	s->sop.operation.len = len;
	s->sop.signer_key.data = a->key.sign_pk;
	s->sop.signer_key.len = sizeof(a->key.sign_pk);
	s->sop.signature.data = s->sig;
	s->sop.signature.len = sizeof(s->sig);
	return 0;
}

/* Verifies and parses the n signed operations of b. */
static void pf_prepare(pf *f, pf_batch *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		pf_slot *s = &b->slots[i];

		(void)ops_prepare(f->srv, &s->a->sess, &s->sop, (uint64_t)i,
				  &s->p);
		b->pend[i] = &s->p;
	}
	b->n = n;
}

/* Frees what the n prepared operations of b hold. */
static void pf_release(pf_batch *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ops_pending_clear(&b->slots[i].p);
		free(b->slots[i].bytes);
		b->slots[i].bytes = NULL;
	}
}

/*
 * Applies the prepared operations of b in one transaction, as the
 * daemon's writer applies a batch, and copies each one's reference to
 * b->refs. 0, or -1 with the first refusal in why.
 */
static int pf_apply(pf *f, pf_batch *b, char *why, size_t cap)
{
	int rc = ops_apply_batch(f->srv, b->pend, b->n) == 0 ? 0 : -1;

	if (rc != 0)
		snprintf(why, cap, "%s", store_errmsg(f->srv->st));
	for (size_t i = 0; i < b->n; i++) {
		pf_slot *s = &b->slots[i];

		if (s->p.outcome == OPS_APPLIED)
			memcpy(b->refs[i], s->p.res.reference, STORE_REF_MAX);
		else if (rc == 0 && (s->p.outcome != OPS_REFUSED ||
				     (int)s->p.ref.code != s->allowed)) {
			snprintf(why, cap, "operation refused: %s",
				 s->p.ref.message);
			rc = -1;
		}
	}
	pf_release(b, b->n);
	return rc;
}

/* Prepares the first n operations of f->dec and applies them. */
static int pf_apply_now(pf *f, size_t n, char *why, size_t cap)
{
	pf_prepare(f, &f->dec, n);
	return pf_apply(f, &f->dec, why, cap);
}

/* ---- the operations ---------------------------------------------------- */

/* Creates region code (one that exists is fine) into slot i. */
static int pf_region(pf *f, size_t i, const char *code, char *why, size_t cap)
{
	bench_opbuf b;

	bench_op_region(&b, code);
	return pf_sign(&f->dec, i, &f->admin, &b.op, E(ALREADY_EXISTS), why,
		       cap);
}

/* Enrols a as name with role (and region) into slot i. */
static int pf_enrol(pf *f, size_t i, const pf_actor *a, const char *name,
		    Tamwil__V1__Role role, const char *region, char *why,
		    size_t cap)
{
	bench_opbuf b;

	bench_op_enrol(&b, &a->key, name, role, region);
	return pf_sign(&f->dec, i, &f->admin, &b.op, 0, why, cap);
}

/* The code of the run's programme j (below 10^5) into out. */
static void pf_programme_code(const pf *f, long j, char out[24])
{
	snprintf(out, 24, "%.9s-%05d", f->tag, (int)(j % 100000));
}

/* Creates the run's programme j, in one transaction. */
static int pf_programme(pf *f, long j, char *why, size_t cap)
{
	bench_opbuf b;
	char code[24];

	pf_programme_code(f, j, code);
	bench_op_programme(&b, code);
	if (pf_sign(&f->dec, 0, &f->admin, &b.op, 0, why, cap) != 0)
		return -1;
	return pf_apply_now(f, 1, why, cap);
}

/*
 * Submission k of this run into slot i of b: region, sex, category,
 * sector and birth year vary with k, so that every list filter has
 * matches.
 */
static int pf_submit(pf *f, pf_batch *b, size_t i, long k, char *why,
		     size_t cap)
{
	static const char *const sectors[] = {
	    "crafts",	"agriculture", "commerce", "services",
	    "catering", "building",    "industry"};
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__SubmitApplication *m;
	pf_actor *a = &f->coord[k % PF_REGIONS];
	char nid[48], birth[16], programme[24];
	int year = 1960 + (int)(k % 45);
	bench_opbuf ob;
	uint8_t *box = NULL;
	size_t len;
	tamwil_error err;
	int rc;

	snprintf(nid, sizeof(nid), "%s%010ld", f->tag, k);
	snprintf(birth, sizeof(birth), "%04d-05-01", year);
	id.national_id = nid;
	id.first_name = k % 3 == 2 ? "Youssef" : "Khadija";
	id.last_name = "Alaoui";
	id.birth_date = birth;
	id.phone = "0612345678";
	id.address = "Douar Ait Ouahi";
	if (tamwil_client_seal_identity(a->c, &id, &box, &len, &err) !=
	    TAMWIL_OK) {
		snprintf(why, cap, "%s", err.message);
		return -1;
	}
	pf_programme_code(f, k / PF_PROGRAMME, programme);
	bench_op_submit(&ob, programme, a->who.region, box, len);
	m = &ob.body.submit;
	m->sex = k % 3 == 2 ? TAMWIL__V1__SEX__SEX_MALE
			    : TAMWIL__V1__SEX__SEX_FEMALE;
	m->birth_year = (uint32_t)year;
	m->category = (Tamwil__V1__Category)(1 + (k / PF_REGIONS) % 6);
	m->sector = (char *)sectors[(k / 7) % 7];
	rc = pf_sign(b, i, a, &ob.op, 0, why, cap);
	free(box);
	return rc;
}

/* The approval (reject 0) or rejection of ref into slot i. */
static int pf_decide(pf *f, size_t i, char *ref, int reject, char *why,
		     size_t cap)
{
	bench_opbuf b;

	bench_op_decision(&b, ref, reject);
	return pf_sign(&f->dec, i, &f->approver, &b.op, 0, why, cap);
}

/* The one tranche, in cash, of the whole grant of ref into slot i. */
static int pf_disburse(pf *f, size_t i, char *ref, char *why, size_t cap)
{
	bench_opbuf b;

	bench_op_disbursement(&b, ref);
	return pf_sign(&f->dec, i, &f->treasurer, &b.op, 0, why, cap);
}

/* ---- the run ------------------------------------------------------------ */

/*
 * Regions BNAA..BNAP (kept when they exist), and a coordinator for each,
 * an approver and a treasurer, with fresh keys, in one transaction.
 */
static int pf_setup(pf *f, char *why, size_t cap)
{
	size_t n = 0;
	char code[8], name[64];

	for (int r = 0; r < PF_REGIONS; r++) {
		snprintf(code, sizeof(code), "BN%c%c", 'A' + r / 26,
			 'A' + r % 26);
		snprintf(name, sizeof(name), "Coordinatrice %s", code);
		if (pf_actor_open(f, &f->coord[r], NULL, why, cap) != 0 ||
		    pf_region(f, n++, code, why, cap) != 0 ||
		    pf_enrol(f, n++, &f->coord[r], name,
			     TAMWIL__V1__ROLE__ROLE_COORDINATOR, code, why,
			     cap) != 0)
			return -1;
	}
	if (pf_actor_open(f, &f->approver, NULL, why, cap) != 0 ||
	    pf_actor_open(f, &f->treasurer, NULL, why, cap) != 0 ||
	    pf_enrol(f, n++, &f->approver, "Approbateur de remplissage",
		     TAMWIL__V1__ROLE__ROLE_APPROVER, "", why, cap) != 0 ||
	    pf_enrol(f, n++, &f->treasurer, "Trésorière de remplissage",
		     TAMWIL__V1__ROLE__ROLE_TREASURER, "", why, cap) != 0 ||
	    pf_apply_now(f, n, why, cap) != 0)
		return -1;
	for (int r = 0; r < PF_REGIONS; r++) {
		if (pf_actor_bind(f, &f->coord[r], why, cap) != 0)
			return -1;
	}
	return pf_actor_bind(f, &f->approver, why, cap) ||
	       pf_actor_bind(f, &f->treasurer, why, cap);
}

/*
 * The size of the transaction of submissions that starts at the run's
 * number k: at most f->chunk, never across a programme, up to the target.
 */
static long pf_chunk_size(const pf *f, long k)
{
	long n = f->target - f->start - k;
	long room = PF_PROGRAMME - k % PF_PROGRAMME;

	if (n > room)
		n = room;
	return n > f->chunk ? f->chunk : n;
}

/* Waits for batch b to be in state `ready` (or f->quit); f->mu held. */
static void pf_wait(pf *f, const pf_batch *b, int ready)
{
	while (b->ready != ready && !f->quit)
		pthread_cond_wait(&f->cv, &f->mu);
}

/* Sets batch b's state and wakes the other thread. */
static void pf_mark(pf *f, pf_batch *b, int ready)
{
	pthread_mutex_lock(&f->mu);
	b->ready = ready;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/*
 * The preparing thread: signs and verifies the submissions of each
 * transaction in turn into f->sub[0], f->sub[1], f->sub[0], ..., each
 * once the applying thread has emptied it. A batch of n 0 ends the run.
 */
static void *pf_producer(void *arg)
{
	pf *f = arg;
	long k = 0;

	for (int t = 0;; t ^= 1) {
		pf_batch *b = &f->sub[t];
		long n = pf_chunk_size(f, k);
		size_t i;
		int quit;

		pthread_mutex_lock(&f->mu);
		pf_wait(f, b, 0);
		quit = f->quit;
		pthread_mutex_unlock(&f->mu);
		if (quit)
			break;
		b->first = k;
		for (i = 0; i < (size_t)(n > 0 ? n : 0); i++) {
			if (pf_submit(f, b, i, k + (long)i, b->why,
				      sizeof(b->why)) != 0) {
				pf_release(b, i);
				b->failed = 1;
				n = 0;
				break;
			}
		}
		pf_prepare(f, b, (size_t)(n > 0 ? n : 0));
		pf_mark(f, b, 1);
		if (n <= 0)
			break;
		k += n;
	}
	return NULL;
}

/*
 * Applies the submissions of b, then in a second transaction the
 * decisions of each block of PF_BLOCK among them: its first two
 * approved, the second of those paid, its third rejected.
 */
static int pf_decide_block(pf *f, const pf_batch *b, char *why, size_t cap)
{
	size_t i, d = 0;

	for (i = 0; i + 3 <= b->n; i += PF_BLOCK) {
		if (pf_decide(f, d++, b->refs[i], 0, why, cap) != 0 ||
		    pf_decide(f, d++, b->refs[i + 1], 0, why, cap) != 0 ||
		    pf_decide(f, d++, b->refs[i + 2], 1, why, cap) != 0 ||
		    pf_disburse(f, d++, b->refs[i + 1], why, cap) != 0) {
			pf_release(&f->dec, d);
			return -1;
		}
	}
	return d > 0 ? pf_apply_now(f, d, why, cap) : 0;
}

/* The number of applications the store holds into *n. */
static int pf_count(pf *f, uint64_t *n, char *why, size_t cap)
{
	store_filter flt;

	memset(&flt, 0, sizeof(flt));
	if (store_applications(f->srv->st, &flt, NULL, NULL, n) != 0) {
		snprintf(why, cap, "%s", store_errmsg(f->srv->st));
		return -1;
	}
	return 0;
}

/*
 * The applying thread: each prepared transaction of submissions in turn,
 * the programme it needs created first, then its decisions; progress on
 * stderr. 0, or -1 with why.
 */
static int pf_consume(pf *f, char *why, size_t cap)
{
	double t0 = pf_now(), last = t0;

	for (int t = 0; !pf_stop; t ^= 1) {
		pf_batch *b = &f->sub[t];

		pthread_mutex_lock(&f->mu);
		pf_wait(f, b, 1);
		pthread_mutex_unlock(&f->mu);
		if (b->failed) {
			snprintf(why, cap, "%s", b->why);
			return -1;
		}
		if (b->n == 0)
			break;
		if (b->first % PF_PROGRAMME == 0 &&
		    pf_programme(f, b->first / PF_PROGRAMME, why, cap) != 0) {
			pf_release(b, b->n);
			return -1;
		}
		if (pf_apply(f, b, why, cap) != 0 ||
		    pf_decide_block(f, b, why, cap) != 0)
			return -1;
		f->next = b->first + (long)b->n;
		pf_mark(f, b, 0);
		if (pf_now() - last >= 10) {
			last = pf_now();
			fprintf(stderr,
				"tamwil-prefill: %ld applications, %.0f a "
				"second\n",
				f->start + f->next,
				(double)f->next / (last - t0));
		}
	}
	last = pf_now() - t0;
	printf(
	    "%ld applications in %s: %ld added in %.1f s (%.0f a second)%s\n",
	    f->start + f->next, f->srv->cfg.state_dir, f->next, last,
	    last > 0 ? (double)f->next / last : 0.0,
	    pf_stop ? ", stopped by a signal" : "");
	return 0;
}

/*
 * Fills f's store up to f->target applications, a new programme every
 * PF_PROGRAMME. 0, or -1 with why.
 */
static int pf_fill(pf *f, char *why, size_t cap)
{
	pthread_t producer;
	uint64_t have;
	int rc;

	if (pf_count(f, &have, why, cap) != 0)
		return -1;
	f->start = (long)have;
	if (f->start >= f->target) {
		printf("%s already holds %ld applications\n",
		       f->srv->cfg.state_dir, f->start);
		return 0;
	}
	if (pf_setup(f, why, cap) != 0)
		return -1;
	if (pthread_create(&producer, NULL, pf_producer, f) != 0) {
		snprintf(why, cap, "cannot start a thread");
		return -1;
	}
	rc = pf_consume(f, why, cap);
	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(producer, NULL);
	/* A transaction prepared but not applied. */
	for (int t = 0; t < 2; t++) {
		if (f->sub[t].ready && !f->sub[t].failed)
			pf_release(&f->sub[t], f->sub[t].n);
	}
	return rc;
}

/* Allocates a batch of cap operations: 0 or -1. */
static int pf_batch_alloc(pf_batch *b, size_t cap)
{
	b->slots = calloc(cap, sizeof(*b->slots));
	b->pend = calloc(cap, sizeof(ops_pending *));
	b->refs = calloc(cap, sizeof(*b->refs));
	return b->slots && b->pend && b->refs ? 0 : -1;
}

static void pf_batch_free(pf_batch *b)
{
	free(b->slots);
	free(b->pend);
	free(b->refs);
}

/* Allocates the batches for transactions of f->chunk submissions. */
static int pf_alloc(pf *f)
{
	size_t cap = (size_t)f->chunk;

	/* The administration of pf_setup() goes through f->dec too. */
	return pf_batch_alloc(&f->sub[0], cap) ||
	       pf_batch_alloc(&f->sub[1], cap) ||
	       pf_batch_alloc(&f->dec, cap < 64 ? 64 : cap);
}

static void pf_free(pf *f)
{
	for (int r = 0; r < PF_REGIONS; r++)
		pf_actor_close(&f->coord[r]);
	pf_actor_close(&f->approver);
	pf_actor_close(&f->treasurer);
	pf_actor_close(&f->admin);
	pf_batch_free(&f->sub[0]);
	pf_batch_free(&f->sub[1]);
	pf_batch_free(&f->dec);
}

/*
 * Opens (or creates) the state folder dir as the benchmark does, takes
 * its lock and loads it as the daemon would. 0, or -1 with why.
 */
static int pf_open(pf *f, bench_daemon *d, const char *dir, int *lock,
		   char *why, size_t cap)
{
	keyfile_secret admin;
	char pub[BENCH_PATH_MAX + 16];
	config cfg;
	int e;

	snprintf(d->state, sizeof(d->state), "%s", dir);
	if (bench_daemon_prepare(d, dir, &admin, why, cap) != 0)
		return -1;
	if (state_lock(dir, lock, why, cap) != 0)
		goto fail;
	snprintf(pub, sizeof(pub), "%s/server.pub", dir);
	if ((e = keyfile_read_public(pub, &f->spub)) != 0) {
		snprintf(why, cap, "%.400s: %s", pub, keyfile_strerror(e));
		goto fail;
	}
	config_defaults(&cfg);
	if (config_set(&cfg, "state", dir, why, cap) != 0)
		goto fail;
	if (server_load(f->srv, &cfg) != 0) {
		snprintf(why, cap, "cannot load the state folder %s", dir);
		goto fail;
	}
	/* The indexes of millions of rows are written at random places. */
	if (store_cache(f->srv->st, PF_CACHE_MIB) != 0) {
		snprintf(why, cap, "%s", store_errmsg(f->srv->st));
		goto fail;
	}
	if (pf_actor_open(f, &f->admin, &admin, why, cap) != 0 ||
	    pf_actor_bind(f, &f->admin, why, cap) != 0)
		goto fail;
	sodium_memzero(&admin, sizeof(admin));
	return 0;
fail:
	sodium_memzero(&admin, sizeof(admin));
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"state", required_argument, NULL, 's'},
	    {"chunk", required_argument, NULL, 'k'},
	    {"tamwild", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	static bench_daemon d;
	static server srv;
	static pf f;
	const char *dir = NULL, *tamwild = NULL;
	long target = -1, chunk = PF_CHUNK;
	char why[BENCH_ERR_MAX];
	uint8_t tag[4];
	int c, rc = 1, lock = -1;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			dir = optarg;
			break;
		case 't':
			tamwild = optarg;
			break;
		case 'n':
		case 'k':
			errno = 0;
			*(c == 'n' ? &target : &chunk) =
			    strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    (c == 'n' &&
			     (target < 0 || target > PF_MAX_APPS)) ||
			    (c == 'k' && (chunk < 1 || chunk > PF_CHUNK_MAX))) {
				fprintf(stderr,
					"tamwil-prefill: %s must be a number "
					"from %d to %ld, not '%s'\n",
					c == 'n' ? "-n" : "--chunk",
					c == 'n' ? 0 : 1,
					c == 'n' ? PF_MAX_APPS : PF_CHUNK_MAX,
					optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(pf_usage, stdout);
			return 0;
		default:
			fputs(pf_usage, stderr);
			return 2;
		}
	}
	if (dir == NULL || target < 0 || optind != argc) {
		fprintf(stderr, "tamwil-prefill: %s\n%s",
			optind != argc ? "unexpected argument"
				       : "--state and -n are required",
			pf_usage);
		return 2;
	}
	if (sodium_init() < 0 || store_library_init() != 0) {
		fprintf(stderr, "tamwil-prefill: cannot initialise libsodium "
				"or SQLite\n");
		return 1;
	}
	if (tamwild != NULL)
		snprintf(d.tamwild, sizeof(d.tamwild), "%s", tamwild);
	else if (bench_find_tamwild(d.tamwild, sizeof(d.tamwild)) != 0) {
		fprintf(stderr, "tamwil-prefill: tamwild not found next to "
				"this program; give --tamwild\n");
		return 2;
	}
	signal(SIGINT, pf_on_signal);
	signal(SIGTERM, pf_on_signal);
	/* One line per operation would be most of the work. */
	log_set_level(LOG_LEVEL_WARN);
	randombytes_buf(tag, sizeof(tag));
	snprintf(f.tag, sizeof(f.tag), "F%02X%02X%02X%02X", tag[0], tag[1],
		 tag[2], tag[3]);
	f.srv = &srv;
	f.target = target;
	f.chunk = chunk;
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	if (pf_alloc(&f) != 0) {
		snprintf(why, sizeof(why), "out of memory");
		goto out;
	}
	if (pf_open(&f, &d, dir, &lock, why, sizeof(why)) != 0 ||
	    pf_fill(&f, why, sizeof(why)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "tamwil-prefill: %s\n", why);
	pf_free(&f);
	server_close(&srv);
	if (lock >= 0)
		close(lock);
	return rc;
}
