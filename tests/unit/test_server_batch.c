/*
 * Group commit: several operations applied in one transaction by
 * ops_apply_batch(), as the writer thread does. A refused operation leaves
 * nothing while the others are durable; an idempotency key used twice in
 * one batch is a replay; two approvals of one batch cannot overshoot the
 * envelope; a commit that fails loses the whole batch and says so. One
 * checkpoint is signed per batch, and every receipt of the batch names
 * it and verifies as the client checks it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <sqlite3.h>
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
#include "tamwil-client.h"

#include "server_world.h"

#define BATCH_MAX 8

struct fixture {
	char dir[64], path[128];
	server *srv;
	store *rd; /* a worker's read-only connection */
	struct world_who admin, coord, approver, approver2;
	char refs[2][STORE_REF_MAX];
};

static void create_region(struct world_who *w, const char *code,
			  struct world_signed *so)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion body = TAMWIL__V1__CREATE_REGION__INIT;

	body.code = (char *)code;
	body.name = (char *)code;
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &body;
	world_sign(w, &op, 0, so);
}

static void approve(struct world_who *w, const char *ref,
		    struct world_signed *so)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__ApproveApplication body =
	    TAMWIL__V1__APPROVE_APPLICATION__INIT;

	body.reference = (char *)ref;
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &body;
	world_sign(w, &op, 0, so);
}

/* A submission of 30 000 MAD by the coordinator. */
static void submit(struct fixture *f, int i, struct world_signed *so)
{
	struct world_submission sub;
	char nid[32];

	snprintf(nid, sizeof(nid), "CD%06d", i);
	world_submission(&sub, f->srv, &f->coord, "PROG-26", nid, 3000000);
	world_sign(&f->coord, &sub.op, 0, so);
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

/* world_apply() on the fixture's server: at most BATCH_MAX operations. */
static int run_batch(struct fixture *f, struct world_signed *so, size_t n,
		     Tamwil__V1__Response **resp)
{
	assert_true(n <= BATCH_MAX);
	return world_apply(f->srv, f->rd, so, n, resp);
}

static void free_batch(struct world_signed *so, Tamwil__V1__Response **resp,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tamwil__v1__response__free_unpacked(resp[i], NULL);
		world_signed_free(&so[i]);
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
	struct world_programme p;
	Tamwil__V1__Response *resp[3];
	struct world_signed so[3];

	world_region(f->srv, "LAG", "Laghouat");
	world_enrol(f->srv, &f->admin, "Administratrice",
		    TAMWIL__V1__ROLE__ROLE_ADMIN, "");
	world_enrol(f->srv, &f->coord, "Coordinatrice",
		    TAMWIL__V1__ROLE__ROLE_COORDINATOR, "LAG");
	world_enrol(f->srv, &f->approver, "Approbateur",
		    TAMWIL__V1__ROLE__ROLE_APPROVER, "");
	world_enrol(f->srv, &f->approver2, "Approbatrice",
		    TAMWIL__V1__ROLE__ROLE_APPROVER, "");
	/* An envelope that holds one grant of 30 000 MAD, not two. */
	world_programme(&p, "PROG-26", 5000000, 3500000);
	world_sign(&f->admin, &p.op, 0, &so[0]);
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
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-batch-XXXXXX");
	world_open(f->dir, f->path, &f->srv);
	assert_int_equal(store_open_reader(f->path, &f->rd, err, sizeof(err)),
			 0);
	admin_setup(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->rd);
	world_close(f->dir, f->srv);
	free(f);
	return 0;
}

/* One refused operation among four: the other three are kept, in order. */
static void test_refused_one_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct world_signed so[4];
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
	struct world_signed so[3];
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
	world_sign(&f->admin, &op, 1, &so[2]);
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
	struct world_signed so[2];
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
	struct world_signed so[3], retry[2];
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
	world_signed_free(&so[1]);
}

/* 1 when the log has a checkpoint of exactly `size` entries. */
static int has_checkpoint(store *st, uint64_t size)
{
	store_checkpoint cp;
	int rc = store_checkpoint_at(st, size, &cp);

	assert_true(rc == 0 || rc == STORE_NOT_FOUND);
	return rc == 0;
}

/*
 * Three submissions in one batch: one checkpoint, of the size the batch
 * leaves, and every receipt names it and passes the client's check.
 */
static void test_one_checkpoint_per_batch(void **state)
{
	struct fixture *f = *state;
	struct world_signed so[3];
	Tamwil__V1__Response *resp[3];
	uint64_t before = log_size(f->srv->st);
	char why[256];
	checkpoint cp;

	for (int i = 0; i < 3; i++)
		submit(f, 10 + i, &so[i]);
	assert_int_equal(run_batch(f, so, 3, resp), 0);
	assert_int_equal(log_size(f->rd), before + 3);
	assert_false(has_checkpoint(f->rd, before + 1));
	assert_false(has_checkpoint(f->rd, before + 2));
	assert_true(has_checkpoint(f->rd, before + 3));
	for (int i = 0; i < 3; i++) {
		const Tamwil__V1__OperationResult *r =
		    expect_result(f, resp[i]);

		assert_int_equal(r->sequence, before + (uint64_t)i);
		assert_int_equal(r->receipt->checkpoint->tree_size, before + 3);
		if (tamwil_receipt_verify(f->srv->key.sign_pk, r->receipt,
					  r->sequence, &so[i].sop, &cp, why,
					  sizeof(why)) != 0)
			fail_msg("receipt %d: %s", i, why);
		assert_int_equal(cp.size, before + 3);
	}
	/* The client refuses a receipt for bytes it did not send. */
	assert_int_not_equal(tamwil_receipt_verify(f->srv->key.sign_pk,
						   resp[0]->operation->receipt,
						   resp[0]->operation->sequence,
						   &so[1].sop, &cp, why,
						   sizeof(why)),
			     0);
	free_batch(so, resp, 3);
}

/* A batch whose operations are all refused signs no checkpoint. */
static void test_refused_batch_signs_nothing(void **state)
{
	struct fixture *f = *state;
	struct world_signed so[1];
	Tamwil__V1__Response *resp[1];
	uint64_t before = log_size(f->srv->st);
	store_checkpoint latest;

	create_region(&f->admin, "LAG", &so[0]); /* taken */
	assert_int_equal(run_batch(f, so, 1, resp), 0);
	expect_error(resp[0], TAMWIL__V1__ERROR_CODE__ERROR_ALREADY_EXISTS,
		     "region LAG already exists");
	assert_int_equal(log_size(f->rd), before);
	assert_int_equal(store_checkpoint_latest(f->rd, &latest), 0);
	assert_int_equal(latest.size, before);
	free_batch(so, resp, 1);
}

/* Runs sql on another connection to the fixture's database. */
static void exec_sql(const struct fixture *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * The batch's checkpoint cannot be recorded: the whole batch is lost,
 * every operation is answered unavailable, and nothing of it is kept.
 */
static void test_checkpoint_failure_loses_the_batch(void **state)
{
	struct fixture *f = *state;
	struct world_signed so[2];
	Tamwil__V1__Response *resp[2];
	static const char lost[] = "head office could not store the "
				   "operation; nothing was applied, try again";
	uint64_t before = log_size(f->srv->st);
	int64_t id;

	exec_sql(f, "CREATE TRIGGER no_checkpoint BEFORE INSERT ON checkpoints"
		    " BEGIN SELECT RAISE(ABORT, 'no room'); END");
	create_region(&f->admin, "JJJ", &so[0]);
	create_region(&f->admin, "KKK", &so[1]);
	assert_int_equal(run_batch(f, so, 2, resp), -1);
	for (int i = 0; i < 2; i++)
		expect_error(resp[i], TAMWIL__V1__ERROR_CODE__ERROR_UNAVAILABLE,
			     lost);
	assert_false(store_in_transaction(f->srv->st));
	assert_int_equal(log_size(f->rd), before);
	assert_int_equal(store_region_find(f->rd, "JJJ", &id), STORE_NOT_FOUND);
	for (int i = 0; i < 2; i++)
		tamwil__v1__response__free_unpacked(resp[i], NULL);
	/* Once checkpoints can be recorded again, the retry is applied. */
	exec_sql(f, "DROP TRIGGER no_checkpoint");
	assert_int_equal(run_batch(f, so, 2, resp), 0);
	assert_int_equal(expect_result(f, resp[1])->sequence, before + 1);
	assert_true(has_checkpoint(f->rd, before + 2));
	free_batch(so, resp, 2);
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
	struct world_signed so[2];
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
	    cmocka_unit_test_setup_teardown(test_one_checkpoint_per_batch,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_batch_signs_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_checkpoint_failure_loses_the_batch, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
