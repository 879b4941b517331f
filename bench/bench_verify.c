/*
 * bench_verify: the offline verifier's rate on a synthetic log, against
 * libsodium's Ed25519 verification rate measured in the same run. The log
 * has the agency's shape: principals enrolled by the server's key, a
 * programme, then submissions, approvals and tranches signed by their
 * principals. Building and signing the log is not timed.
 *
 *   bench_verify [--entries N] [--json]      (default 1 000 000)
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "keyfile.h"
#include "merkle.h"
#include "replay.h"
#include "signop.h"
#include "tamwil.pb-c.h"

/* One entry of the synthetic log, with the checkpoint it completes. */
typedef struct bench_entry {
	uint8_t *bytes;
	size_t len;
	checkpoint cp;
} bench_entry;

typedef struct bench_log {
	bench_entry *v;
	size_t n, cap;
	keyfile_secret server, admin, coord, approver, treasurer;
	merkle_hash frontier[64];
	unsigned levels[64];
	int nfrontier;
} bench_log;

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_die(const char *what)
{
	fprintf(stderr, "bench_verify: %s\n", what);
	exit(1);
}

/* The root after appending leaf: the frontier folded from the right. */
static void bench_root(bench_log *l, const merkle_hash leaf, merkle_hash root)
{
	memcpy(l->frontier[l->nfrontier], leaf, MERKLE_HASHLEN);
	l->levels[l->nfrontier++] = 0;
	while (l->nfrontier >= 2 &&
	       l->levels[l->nfrontier - 1] == l->levels[l->nfrontier - 2]) {
		merkle_node_hash(l->frontier[l->nfrontier - 2],
				 l->frontier[l->nfrontier - 1],
				 l->frontier[l->nfrontier - 2]);
		l->levels[--l->nfrontier - 1]++;
	}
	memcpy(root, l->frontier[l->nfrontier - 1], MERKLE_HASHLEN);
	for (int i = l->nfrontier - 2; i >= 0; i--)
		merkle_node_hash(l->frontier[i], root, root);
}

/* Signs op as key and appends its entry with outcome (reference, state). */
static void bench_add(bench_log *l, const keyfile_secret *key,
		      Tamwil__V1__Operation *op, const char *reference,
		      int state)
{
	Tamwil__V1__SignedOperation sop = TAMWIL__V1__SIGNED_OPERATION__INIT;
	Tamwil__V1__OperationResult out = TAMWIL__V1__OPERATION_RESULT__INIT;
	Tamwil__V1__LogEntry e = TAMWIL__V1__LOG_ENTRY__INIT;
	uint8_t idem[16], sig[64], opbuf[1024];
	merkle_hash leaf;
	bench_entry *be;
	size_t oplen;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL)
			bench_die("out of memory");
	}
	randombytes_buf(idem, sizeof(idem));
	op->idempotency_key.data = idem;
	op->idempotency_key.len = sizeof(idem);
	oplen = tamwil__v1__operation__pack(op, opbuf);
	if (signop_sign(opbuf, oplen, key, sig) != 0)
		bench_die("cannot sign");
	sop.operation.data = opbuf;
	sop.operation.len = oplen;
	sop.signer_key.data = (uint8_t *)key->sign_pk;
	sop.signer_key.len = 32;
	sop.signature.data = sig;
	sop.signature.len = 64;
	out.reference = (char *)reference;
	out.state = (Tamwil__V1__ApplicationState)state;
	e.sequence = l->n;
	e.time = 1790000000 + (int64_t)l->n;
	e.operation = &sop;
	e.outcome = &out;
	be = &l->v[l->n];
	be->len = tamwil__v1__log_entry__get_packed_size(&e);
	be->bytes = malloc(be->len);
	if (be->bytes == NULL)
		bench_die("out of memory");
	tamwil__v1__log_entry__pack(&e, be->bytes);
	merkle_leaf_hash(be->bytes, be->len, leaf);
	be->cp.size = l->n + 1;
	be->cp.time = e.time;
	bench_root(l, leaf, be->cp.root);
	if (checkpoint_sign(&be->cp, &l->server) != 0)
		bench_die("cannot sign a checkpoint");
	/* The key lived on this stack frame: the caller's op must not keep it.
	 */
	op->idempotency_key.data = NULL;
	op->idempotency_key.len = 0;
	l->n++;
}

static void bench_enrol(bench_log *l, const keyfile_secret *k,
			Tamwil__V1__Role role, const char *region)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__EnrolPrincipal m = TAMWIL__V1__ENROL_PRINCIPAL__INIT;

	m.name = "bench";
	m.role = role;
	m.region = (char *)region;
	m.noise_key.data = (uint8_t *)k->noise_pk;
	m.noise_key.len = 32;
	m.sign_key.data = (uint8_t *)k->sign_pk;
	m.sign_key.len = 32;
	op.body_case = TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL;
	op.enrol_principal = &m;
	bench_add(l, &l->server, &op, "", 0);
}

static Tamwil__V1__Money *bench_mad(Tamwil__V1__Money *m, int64_t minor)
{
	tamwil__v1__money__init(m);
	m->minor = minor;
	m->currency = "MAD";
	return m;
}

/* The fixed part: principals, a region, a programme. */
static void bench_setup(bench_log *l)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion reg = TAMWIL__V1__CREATE_REGION__INIT;
	Tamwil__V1__CreateProgramme prog = TAMWIL__V1__CREATE_PROGRAMME__INIT;
	Tamwil__V1__Money env, ceil;

	if (keyfile_generate(&l->server) || keyfile_generate(&l->admin) ||
	    keyfile_generate(&l->coord) || keyfile_generate(&l->approver) ||
	    keyfile_generate(&l->treasurer))
		bench_die("cannot make keys");
	reg.code = "LAG";
	reg.name = "Laghouat";
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &reg;
	bench_add(l, &l->server, &op, "LAG", 0);
	bench_enrol(l, &l->admin, TAMWIL__V1__ROLE__ROLE_ADMIN, "");
	bench_enrol(l, &l->coord, TAMWIL__V1__ROLE__ROLE_COORDINATOR, "LAG");
	bench_enrol(l, &l->approver, TAMWIL__V1__ROLE__ROLE_APPROVER, "");
	bench_enrol(l, &l->treasurer, TAMWIL__V1__ROLE__ROLE_TREASURER, "");
	prog.code = "BENCH";
	prog.name = "Benchmark";
	prog.envelope = bench_mad(&env, INT64_MAX / 2);
	prog.ceiling = bench_mad(&ceil, 10000000);
	prog.period_start = "";
	prog.period_end = "";
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME;
	op.create_programme = &prog;
	bench_add(l, &l->admin, &op, "BENCH", 0);
}

/* One application's life: submit, approve, one tranche. Three entries. */
static void bench_application(bench_log *l, size_t i)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__SubmitApplication sub =
	    TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__ApproveApplication app =
	    TAMWIL__V1__APPROVE_APPLICATION__INIT;
	Tamwil__V1__RecordDisbursement dis =
	    TAMWIL__V1__RECORD_DISBURSEMENT__INIT;
	Tamwil__V1__Money req, own, amt;
	uint8_t box[160];
	char ref[32];

	snprintf(ref, sizeof(ref), "LAG-2026-%06zu", i % 1000000);
	if (i >= 1000000)
		snprintf(ref, sizeof(ref), "LAG-%zu", i);
	randombytes_buf(box, sizeof(box)); /* a sealed identity's size */
	sub.programme = "BENCH";
	sub.region = "LAG";
	sub.identity_box.data = box;
	sub.identity_box.len = sizeof(box);
	sub.sex = TAMWIL__V1__SEX__SEX_FEMALE;
	sub.birth_year = 1990;
	sub.category = TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN;
	sub.sector = "crafts";
	sub.activity = "weaving workshop";
	sub.financing_formula = "";
	sub.amount_requested = bench_mad(&req, 3500000);
	sub.own_contribution = bench_mad(&own, 0);
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &sub;
	bench_add(l, &l->coord, &op, ref,
		  TAMWIL__V1__APPLICATION_STATE__STATE_SUBMITTED);
	app.reference = ref;
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &app;
	bench_add(l, &l->approver, &op, ref,
		  TAMWIL__V1__APPLICATION_STATE__STATE_APPROVED);
	dis.reference = ref;
	dis.amount = bench_mad(&amt, 3500000);
	dis.method = TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_CASH;
	dis.payment_reference = "REC";
	dis.date = "2026-11-24";
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT;
	op.record_disbursement = &dis;
	bench_add(l, &l->treasurer, &op, ref,
		  TAMWIL__V1__APPLICATION_STATE__STATE_DISBURSED);
}

/* Ed25519 verifications per second over the log's own signatures. */
static double bench_ed25519(const bench_log *l, size_t count)
{
	uint8_t msg[128], sig[64];
	double t0, t;

	randombytes_buf(msg, sizeof(msg));
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), l->admin.sign_sk);
	t0 = bench_now();
	for (size_t i = 0; i < count; i++) {
		if (crypto_sign_verify_detached(sig, msg, sizeof(msg),
						l->admin.sign_pk) != 0)
			bench_die("verification failed");
	}
	t = bench_now() - t0;
	return (double)count / t;
}

/* Feeds the whole log to the verifier; returns the seconds it took. */
static double bench_replay(const bench_log *l)
{
	char err[REPLAY_ERR_MAX];
	replay *r = replay_new(l->server.sign_pk);
	double t0;

	if (r == NULL)
		bench_die("out of memory");
	t0 = bench_now();
	for (size_t i = 0; i < l->n; i++) {
		if (replay_entry(r, l->v[i].bytes, l->v[i].len, err,
				 sizeof(err)) != 0 ||
		    replay_checkpoint(r, &l->v[i].cp, err, sizeof(err)) != 0)
			bench_die(err);
	}
	t0 = bench_now() - t0;
	replay_free(r);
	return t0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"entries", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	bench_log l = {0};
	size_t want = 1000000;
	double t, rate, ed;
	int json = 0, ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'n')
			want = strtoull(optarg, NULL, 10);
		else if (ch == 'j')
			json = 1;
		else {
			fprintf(ch == 'h' ? stdout : stderr,
				"usage: bench_verify [--entries N] [--json]\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (sodium_init() < 0 || want < 10)
		bench_die("needs libsodium and at least 10 entries");
	fprintf(stderr, "building and signing a log of %zu entries...\n", want);
	bench_setup(&l);
	for (size_t i = 0; l.n + 3 <= want; i++)
		bench_application(&l, i);
	fprintf(stderr, "verifying...\n");
	t = bench_replay(&l);
	rate = (double)l.n / t;
	/* Each entry costs two Ed25519 checks: the operation, the checkpoint.
	 */
	ed = bench_ed25519(&l, l.n < 200000 ? l.n : 200000);
	if (json)
		printf("{\"entries\": %zu, \"seconds\": %.3f, "
		       "\"entries_per_second\": %.0f, "
		       "\"ed25519_verifications_per_second\": %.0f, "
		       "\"ratio_to_ed25519\": %.3f}\n",
		       l.n, t, rate, ed, rate / ed);
	else
		printf("entries verified          %zu in %.2f s\n"
		       "verify rate               %.0f entries/s\n"
		       "libsodium Ed25519 verify  %.0f signatures/s\n"
		       "ratio                     %.2f (each entry checks two "
		       "signatures: its operation and its checkpoint)\n",
		       l.n, t, rate, ed, rate / ed);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].bytes);
	free(l.v);
	return 0;
}
