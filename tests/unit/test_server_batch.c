/*
 * Group commit: several operations applied in one transaction by
 * ops_apply_batch(), as the writer thread does. A refused operation leaves
 * nothing while the others are durable; an idempotency key used twice in
 * one batch is a replay; two approvals of one batch cannot overshoot the
 * envelope; a commit that fails loses the whole batch and says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "keyfile.h"
#include "merkle.h"
#include "ops.h"
#include "seal.h"
#include "signop.h"
#include "store.h"

#define BATCH_MAX 8

struct who {
	keyfile_secret key;
	store_principal row;
	ops_session sess;
};

/* An operation signed by one principal, as a client sends it. */
struct signed_op {
	struct who *by;
	uint8_t key[SIGNOP_IDEMPOTENCY_LEN];
	uint8_t *bytes;
	uint8_t sig[SIGNOP_SIGLEN];
	Tamwil__V1__SignedOperation sop;
};

struct fixture {
	char dir[64], path[128];
	server *srv;
	store *rd; /* a worker's read-only connection */
	struct who admin, coord, approver, approver2;
	char refs[2][STORE_REF_MAX];
};

/* Enrols w through the server's own operation and loads its row. */
static void enrol(struct fixture *f, struct who *w, const char *name,
		  Tamwil__V1__Role role, const char *region)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__EnrolPrincipal body = TAMWIL__V1__ENROL_PRINCIPAL__INIT;
	char err[300];
	uint64_t seq;

	assert_int_equal(keyfile_generate(&w->key), 0);
	body.name = (char *)name;
	body.role = role;
	body.region = (char *)region;
	body.noise_key.data = w->key.noise_pk;
	body.noise_key.len = 32;
	body.sign_key.data = w->key.sign_pk;
	body.sign_key.len = 32;
	op.body_case = TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL;
	op.enrol_principal = &body;
	assert_int_equal(ops_apply_local(f->srv, &op, &seq, err, sizeof(err)),
			 0);
	assert_int_equal(
	    store_principal_by_noise(f->srv->st, w->key.noise_pk, &w->row), 0);
	memset(&w->sess, 0, sizeof(w->sess));
	w->sess.who = &w->row;
	w->sess.peer = "test";
}

/* Signs op as w into so, with a fresh idempotency key unless keep_key. */
static void sign(struct who *w, Tamwil__V1__Operation *op, int keep_key,
		 struct signed_op *so)
{
	size_t len;

	if (!keep_key)
		signop_new_idempotency_key(so->key);
	so->by = w;
	op->idempotency_key.data = so->key;
	op->idempotency_key.len = sizeof(so->key);
	len = tamwil__v1__operation__get_packed_size(op);
	so->bytes = malloc(len);
	assert_non_null(so->bytes);
	tamwil__v1__operation__pack(op, so->bytes);
	assert_int_equal(signop_sign(so->bytes, len, &w->key, so->sig), 0);
	tamwil__v1__signed_operation__init(&so->sop);
	so->sop.operation.data = so->bytes;
	so->sop.operation.len = len;
	so->sop.signer_key.data = w->key.sign_pk;
	so->sop.signer_key.len = 32;
	so->sop.signature.data = so->sig;
	so->sop.signature.len = SIGNOP_SIGLEN;
	op->idempotency_key.data = NULL;
	op->idempotency_key.len = 0;
}

static void create_region(struct who *w, const char *code, struct signed_op *so)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion body = TAMWIL__V1__CREATE_REGION__INIT;

	body.code = (char *)code;
	body.name = (char *)code;
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &body;
	sign(w, &op, 0, so);
}

static void approve(struct who *w, const char *ref, struct signed_op *so)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__ApproveApplication body =
	    TAMWIL__V1__APPROVE_APPLICATION__INIT;

	body.reference = (char *)ref;
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &body;
	sign(w, &op, 0, so);
}

static Tamwil__V1__Money *mad(Tamwil__V1__Money *m, int64_t minor)
{
	tamwil__v1__money__init(m);
	m->minor = minor;
	m->currency = "MAD";
	return m;
}

/* A submission by the coordinator with a sealed identity. */
static void submit(struct fixture *f, int i, struct signed_op *so)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__SubmitApplication m = TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__Money req, own;
	uint8_t boxkey[32], plain[512], box[512 + SEAL_BOX_OVERHEAD];
	char nid[32];
	size_t n;

	snprintf(nid, sizeof(nid), "CD%06d", i);
	id.national_id = nid;
	id.first_name = "Fatima";
	id.last_name = "Zahra";
	id.birth_date = "1988-03-02";
	id.phone = "";
	id.address = "";
	n = tamwil__v1__identity__pack(&id, plain);
	assert_int_equal(
	    seal_box_key(boxkey, f->srv->data.pk, f->coord.key.noise_sk), 0);
	assert_int_equal(seal_box(boxkey, plain, n, box), 0);
	m.programme = "PROG-26";
	m.region = "LAG";
	m.identity_box.data = box;
	m.identity_box.len = n + SEAL_BOX_OVERHEAD;
	m.sex = TAMWIL__V1__SEX__SEX_FEMALE;
	m.birth_year = 1988;
	m.category = TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN;
	m.sector = "crafts";
	m.activity = "pottery";
	m.financing_formula = "";
	m.amount_requested = mad(&req, 3000000);
	m.own_contribution = mad(&own, 0);
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &m;
	sign(&f->coord, &op, 0, so);
}

/* Checks a receipt as a client would: signed checkpoint, inclusion. */
static void expect_receipt(const server *srv,
			   const Tamwil__V1__OperationResult *r)
{
	const Tamwil__V1__Receipt *rc = r->receipt;
	checkpoint cp = {0};
	merkle_hash leaf, proof[MERKLE_MAX_PROOF];
	Tamwil__V1__LogEntry *e;

	assert_non_null(rc);
	assert_non_null(rc->checkpoint);
	assert_int_equal(rc->checkpoint->root.len, MERKLE_HASHLEN);
	assert_int_equal(rc->checkpoint->signature.len, CHECKPOINT_SIGLEN);
	assert_true(rc->n_inclusion_proof <= MERKLE_MAX_PROOF);
	cp.size = rc->checkpoint->tree_size;
	cp.time = rc->checkpoint->time;
	memcpy(cp.root, rc->checkpoint->root.data, MERKLE_HASHLEN);
	memcpy(cp.sig, rc->checkpoint->signature.data, CHECKPOINT_SIGLEN);
	assert_int_equal(checkpoint_verify(&cp, srv->key.sign_pk), 0);
	for (size_t i = 0; i < rc->n_inclusion_proof; i++) {
		assert_int_equal(rc->inclusion_proof[i].len, MERKLE_HASHLEN);
		memcpy(proof[i], rc->inclusion_proof[i].data, MERKLE_HASHLEN);
	}
	assert_int_equal(merkle_leaf_hash(rc->entry.data, rc->entry.len, leaf),
			 0);
	assert_int_equal(merkle_verify_inclusion(r->sequence, cp.size, leaf,
						 (const merkle_hash *)proof,
						 rc->n_inclusion_proof,
						 cp.root),
			 0);
	e = tamwil__v1__log_entry__unpack(NULL, rc->entry.len, rc->entry.data);
	assert_non_null(e);
	assert_int_equal(e->sequence, r->sequence);
	tamwil__v1__log_entry__free_unpacked(e, NULL);
}

/*
 * Runs n signed operations as one batch, the way the daemon does: each
 * prepared on a read connection, all applied together, answers packed
 * after the commit. Returns ops_apply_batch()'s result; resp[i] are the
 * unpacked answers (the caller frees them with free_answers()).
 */
static int run_batch(struct fixture *f, struct signed_op *so, size_t n,
		     Tamwil__V1__Response **resp)
{
	ops_pending *p = calloc(n, sizeof(*p));
	ops_pending *v[BATCH_MAX];
	uint8_t *out = malloc(65536);
	size_t len;
	int rc;

	assert_non_null(p);
	assert_non_null(out);
	assert_true(n <= BATCH_MAX);
	for (size_t i = 0; i < n; i++) {
		(void)ops_prepare(f->srv, f->rd, &so[i].by->sess, &so[i].sop,
				  i + 1, &p[i]);
		v[i] = &p[i];
	}
	rc = ops_apply_batch(f->srv, v, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(
		    ops_answer(f->srv, f->srv->st, &p[i], out, 65536, &len), 0);
		resp[i] = tamwil__v1__response__unpack(NULL, len, out);
		assert_non_null(resp[i]);
		assert_int_equal(resp[i]->request_id, i + 1);
		ops_pending_clear(&p[i]);
	}
	free(out);
	free(p);
	return rc;
}

static void free_batch(struct signed_op *so, Tamwil__V1__Response **resp,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tamwil__v1__response__free_unpacked(resp[i], NULL);
		free(so[i].bytes);
	}
}

/* The answer must be an OperationResult with a receipt that checks. */
static const Tamwil__V1__OperationResult *
expect_result(const struct fixture *f, const Tamwil__V1__Response *r)
{
	if (r->body_case != TAMWIL__V1__RESPONSE__BODY_OPERATION)
		fail_msg("refused: %s", r->error->message);
	expect_receipt(f->srv, r->operation);
	return r->operation;
}

static void expect_error(const Tamwil__V1__Response *r,
			 Tamwil__V1__ErrorCode code, const char *message)
{
	assert_int_equal(r->body_case, TAMWIL__V1__RESPONSE__BODY_ERROR);
	assert_int_equal(r->error->code, code);
	assert_string_equal(r->error->message, message);
}

static uint64_t log_size(store *st)
{
	uint64_t n;

	assert_int_equal(store_log_size(st, &n), 0);
	return n;
}

static void admin_setup(struct fixture *f)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion reg = TAMWIL__V1__CREATE_REGION__INIT;
	Tamwil__V1__CreateProgramme prog = TAMWIL__V1__CREATE_PROGRAMME__INIT;
	Tamwil__V1__Money env, ceil;
	Tamwil__V1__Response *resp[3];
	struct signed_op so[3];
	char err[300];
	uint64_t seq;

	reg.code = "LAG";
	reg.name = "Laghouat";
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &reg;
	assert_int_equal(ops_apply_local(f->srv, &op, &seq, err, sizeof(err)),
			 0);
	enrol(f, &f->admin, "Administratrice", TAMWIL__V1__ROLE__ROLE_ADMIN,
	      "");
	enrol(f, &f->coord, "Coordinatrice", TAMWIL__V1__ROLE__ROLE_COORDINATOR,
	      "LAG");
	enrol(f, &f->approver, "Approbateur", TAMWIL__V1__ROLE__ROLE_APPROVER,
	      "");
	enrol(f, &f->approver2, "Approbatrice", TAMWIL__V1__ROLE__ROLE_APPROVER,
	      "");
	/* An envelope that holds one grant of 30 000 MAD, not two. */
	prog.code = "PROG-26";
	prog.name = "Programme 2026";
	prog.envelope = mad(&env, 5000000);
	prog.ceiling = mad(&ceil, 3500000);
	prog.period_start = "";
	prog.period_end = "";
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME;
	op.create_programme = &prog;
	sign(&f->admin, &op, 0, &so[0]);
	submit(f, 1, &so[1]);
	submit(f, 2, &so[2]);
	assert_int_equal(run_batch(f, so, 3, resp), 0);
	expect_result(f, resp[0]);
	snprintf(f->refs[0], STORE_REF_MAX, "%s",
		 expect_result(f, resp[1])->reference);
	snprintf(f->refs[1], STORE_REF_MAX, "%s",
		 expect_result(f, resp[2])->reference);
	free_batch(so, resp, 3);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-batch-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	f->srv = calloc(1, sizeof(*f->srv));
	assert_non_null(f->srv);
	assert_int_equal(keyfile_generate(&f->srv->key), 0);
	assert_int_equal(keyfile_data_generate(&f->srv->data), 0);
	assert_int_equal(seal_derive(&f->srv->seal, f->srv->data.sk), 0);
	assert_int_equal(store_open(f->path, 1, &f->srv->st, err, sizeof(err)),
			 0);
	assert_int_equal(store_open_reader(f->path, &f->rd, err, sizeof(err)),
			 0);
	admin_setup(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[160];

	store_close(f->rd);
	store_close(f->srv->st);
	free(f->srv);
	unlink(f->path);
	snprintf(path, sizeof(path), "%s-wal", f->path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", f->path);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* One refused operation among four: the other three are kept, in order. */
static void test_refused_one_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct signed_op so[4];
	Tamwil__V1__Response *resp[4];
	uint8_t hash[32], buf[512];
	uint64_t before = log_size(f->srv->st), seq0;
	int64_t id;
	size_t n;

	create_region(&f->admin, "AAA", &so[0]);
	create_region(&f->admin, "LAG", &so[1]); /* taken */
	create_region(&f->admin, "BBB", &so[2]);
	create_region(&f->coord, "CCC", &so[3]); /* not an admin */
	assert_int_equal(run_batch(f, so, 4, resp), 0);
	seq0 = expect_result(f, resp[0])->sequence;
	assert_int_equal(seq0, before);
	expect_error(resp[1], TAMWIL__V1__ERROR_CODE__ERROR_ALREADY_EXISTS,
		     "region LAG already exists");
	assert_int_equal(expect_result(f, resp[2])->sequence, before + 1);
	expect_error(resp[3], TAMWIL__V1__ERROR_CODE__ERROR_PERMISSION_DENIED,
		     "only an admin may create a region; you are coordinator");
	assert_int_equal(resp[2]->operation->receipt->checkpoint->tree_size,
			 before + 2);
	/* Durable: another connection sees the two regions, not CCC. */
	assert_int_equal(log_size(f->rd), before + 2);
	assert_int_equal(store_region_find(f->rd, "AAA", &id), 0);
	assert_int_equal(store_region_find(f->rd, "BBB", &id), 0);
	assert_int_equal(store_region_find(f->rd, "CCC", &id), STORE_NOT_FOUND);
	/* The refused ones left no idempotency record either. */
	assert_int_equal(store_op_find(f->rd, f->admin.row.id, so[1].key, hash,
				       buf, sizeof(buf), &n),
			 STORE_NOT_FOUND);
	assert_int_equal(store_op_find(f->rd, f->coord.row.id, so[3].key, hash,
				       buf, sizeof(buf), &n),
			 STORE_NOT_FOUND);
	assert_int_equal(store_op_find(f->rd, f->admin.row.id, so[0].key, hash,
				       buf, sizeof(buf), &n),
			 0);
	free_batch(so, resp, 4);
}

/* The same idempotency key twice in one batch: the second is a replay. */
static void test_same_key_twice_in_a_batch(void **state)
{
	struct fixture *f = *state;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion body = TAMWIL__V1__CREATE_REGION__INIT;
	struct signed_op so[3];
	Tamwil__V1__Response *resp[3];
	const Tamwil__V1__OperationResult *first, *again;
	uint64_t before = log_size(f->srv->st);

	create_region(&f->admin, "DDD", &so[0]);
	so[1] = so[0];
	so[1].bytes = malloc(so[0].sop.operation.len);
	assert_non_null(so[1].bytes);
	memcpy(so[1].bytes, so[0].bytes, so[0].sop.operation.len);
	so[1].sop.operation.data = so[1].bytes;
	so[1].sop.signature.data = so[1].sig;
	/* The same key for another operation is a conflict. */
	body.code = "EEE";
	body.name = "EEE";
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &body;
	memcpy(so[2].key, so[0].key, sizeof(so[2].key));
	sign(&f->admin, &op, 1, &so[2]);
	assert_int_equal(run_batch(f, so, 3, resp), 0);
	first = expect_result(f, resp[0]);
	again = expect_result(f, resp[1]);
	assert_false(first->replayed);
	assert_true(again->replayed);
	assert_int_equal(again->sequence, first->sequence);
	assert_string_equal(again->reference, "DDD");
	expect_error(resp[2],
		     TAMWIL__V1__ERROR_CODE__ERROR_IDEMPOTENCY_CONFLICT,
		     "this idempotency key was used for another operation");
	assert_int_equal(log_size(f->rd), before + 1);
	free_batch(so, resp, 3);
}

/* Two approvals that together exceed the envelope: exactly one passes. */
static void test_envelope_holds_within_a_batch(void **state)
{
	struct fixture *f = *state;
	struct signed_op so[2];
	Tamwil__V1__Response *resp[2];
	store_programme p;

	approve(&f->approver, f->refs[0], &so[0]);
	approve(&f->approver2, f->refs[1], &so[1]);
	assert_int_equal(run_batch(f, so, 2, resp), 0);
	assert_int_equal(expect_result(f, resp[0])->state,
			 TAMWIL__V1__APPLICATION_STATE__STATE_APPROVED);
	expect_error(resp[1], TAMWIL__V1__ERROR_CODE__ERROR_BUDGET_EXCEEDED,
		     "programme PROG-26's envelope would be exceeded: it has "
		     "20 000,00 MAD left");
	assert_int_equal(store_programme_get(f->rd, "PROG-26", &p), 0);
	assert_int_equal(p.granted, 3000000);
	free_batch(so, resp, 2);
}

/* A commit that fails loses the whole batch, says so, and leaves nothing. */
static void test_commit_failure_loses_the_batch(void **state)
{
	struct fixture *f = *state;
	struct signed_op so[3], retry[2];
	Tamwil__V1__Response *resp[3];
	static const char lost[] = "head office could not store the "
				   "operation; nothing was applied, try again";
	uint64_t before = log_size(f->srv->st);
	uint8_t hash[32], buf[512];
	int64_t id;
	size_t n;

	create_region(&f->admin, "FFF", &so[0]);
	create_region(&f->admin, "LAG", &so[1]); /* would be refused anyway */
	create_region(&f->admin, "GGG", &so[2]);
	store_test_fail_commits(f->srv->st, 1);
	assert_int_equal(run_batch(f, so, 3, resp), -1);
	for (int i = 0; i < 3; i++)
		expect_error(resp[i], TAMWIL__V1__ERROR_CODE__ERROR_UNAVAILABLE,
			     lost);
	assert_false(store_in_transaction(f->srv->st));
	assert_int_equal(log_size(f->srv->st), before);
	assert_int_equal(log_size(f->rd), before);
	assert_int_equal(store_region_find(f->rd, "FFF", &id), STORE_NOT_FOUND);
	assert_int_equal(store_op_find(f->rd, f->admin.row.id, so[0].key, hash,
				       buf, sizeof(buf), &n),
			 STORE_NOT_FOUND);
	for (int i = 0; i < 3; i++)
		tamwil__v1__response__free_unpacked(resp[i], NULL);
	/* The retry of the same bytes is applied, not replayed. */
	retry[0] = so[0];
	retry[1] = so[2];
	assert_int_equal(run_batch(f, retry, 2, resp), 0);
	assert_false(expect_result(f, resp[0])->replayed);
	assert_int_equal(resp[0]->operation->sequence, before);
	assert_int_equal(expect_result(f, resp[1])->sequence, before + 1);
	assert_int_equal(store_region_find(f->rd, "GGG", &id), 0);
	free_batch(retry, resp, 2);
	free(so[1].bytes);
}

static int on_security(void *arg, int64_t time, const char *principal,
		       const char *peer, const char *kind, const char *reason)
{
	(void)time;
	(void)peer;
	(void)reason;
	if (strcmp(kind, "bad signature") == 0 &&
	    strcmp(principal, "Administratrice") == 0)
		(*(int *)arg)++;
	return 0;
}

/* A bad signature is refused before the batch, recorded within it. */
static void test_bad_signature_recorded(void **state)
{
	struct fixture *f = *state;
	struct signed_op so[2];
	Tamwil__V1__Response *resp[2];
	uint64_t before = log_size(f->srv->st);
	int64_t id;
	int seen = 0;

	create_region(&f->admin, "HHH", &so[0]);
	so[0].sig[0] ^= 1;
	create_region(&f->admin, "III", &so[1]);
	assert_int_equal(run_batch(f, so, 2, resp), 0);
	expect_error(resp[0], TAMWIL__V1__ERROR_CODE__ERROR_BAD_SIGNATURE,
		     "the operation's signature does not verify");
	assert_int_equal(expect_result(f, resp[1])->sequence, before);
	assert_int_equal(store_region_find(f->rd, "HHH", &id), STORE_NOT_FOUND);
	assert_int_equal(
	    store_security_events(f->rd, 0, 10, on_security, &seen), 0);
	assert_int_equal(seen, 1);
	free_batch(so, resp, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_refused_one_leaves_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_key_twice_in_a_batch,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_envelope_holds_within_a_batch,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_failure_loses_the_batch,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_signature_recorded, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
