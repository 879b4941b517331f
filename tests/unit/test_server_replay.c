/*
 * The offline verifier against a log the daemon's own operation path
 * wrote: a programme, principals, applications approved, disbursed and
 * repaid. The replay must agree with every entry, checkpoint and the
 * stored state, and name the first bad entry of a tampered log.
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
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "check.h"
#include "keyfile.h"
#include "ops.h"
#include "replay.h"
#include "seal.h"
#include "signop.h"
#include "store.h"

#include "server_world.h"

struct fixture {
	char dir[64], path[128];
	server *srv;
	struct world_who admin, coord, approver, treasurer;
	char refs[4][STORE_REF_MAX];
};

/* Signs op as w and applies it; returns the result's reference. */
static void apply(struct fixture *f, struct world_who *w,
		  Tamwil__V1__Operation *op, char *ref)
{
	struct world_signed so;
	Tamwil__V1__Response *resp;
	uint8_t out[65536];
	size_t out_len;

	world_sign(w, op, 0, &so);
	assert_int_equal(
	    ops_apply(f->srv, &w->sess, &so.sop, 1, out, sizeof(out), &out_len),
	    0);
	resp = tamwil__v1__response__unpack(NULL, out_len, out);
	assert_non_null(resp);
	if (resp->body_case != TAMWIL__V1__RESPONSE__BODY_OPERATION)
		fail_msg("refused: %s", resp->error->message);
	if (ref != NULL)
		snprintf(ref, STORE_REF_MAX, "%s", resp->operation->reference);
	tamwil__v1__response__free_unpacked(resp, NULL);
	world_signed_free(&so);
}

static void admin_setup(struct fixture *f)
{
	struct world_programme p;
	char err[300];
	uint64_t seq;

	world_region(f->srv, "LAG", "Laghouat");
	world_programme(&p, "ANGEM-26", 1350000000, 10000000);
	/* The server's own key may not: programmes are people's decisions. */
	assert_int_equal(ops_apply_local(f->srv, &p.op, &seq, err, sizeof(err)),
			 -1);
	world_enrol(f->srv, &f->admin, "Administratrice",
		    TAMWIL__V1__ROLE__ROLE_ADMIN, "");
	p.op.idempotency_key.len = 0;
	apply(f, &f->admin, &p.op, NULL);
}

/* Submits one application with a sealed identity; returns its reference. */
static void submit(struct fixture *f, int i, char *ref)
{
	struct world_submission sub;
	char nid[32];

	snprintf(nid, sizeof(nid), "AB%06d", i);
	world_submission(&sub, f->srv, &f->coord, "ANGEM-26", nid, 3500000);
	apply(f, &f->coord, &sub.op, ref);
}

static void approve(struct fixture *f, const char *ref)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__ApproveApplication m =
	    TAMWIL__V1__APPROVE_APPLICATION__INIT;

	m.reference = (char *)ref;
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &m;
	apply(f, &f->approver, &op, NULL);
}

static void disburse(struct fixture *f, const char *ref, int64_t amount)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RecordDisbursement m =
	    TAMWIL__V1__RECORD_DISBURSEMENT__INIT;
	Tamwil__V1__Money a;

	m.reference = (char *)ref;
	m.amount = world_mad(&a, amount);
	m.method = TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_CASH;
	m.payment_reference = "R1";
	m.date = "";
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT;
	op.record_disbursement = &m;
	apply(f, &f->treasurer, &op, NULL);
}

static void repay(struct fixture *f, const char *ref, int64_t amount)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RecordRepayment m = TAMWIL__V1__RECORD_REPAYMENT__INIT;
	Tamwil__V1__Money a;

	m.reference = (char *)ref;
	m.amount = world_mad(&a, amount);
	m.date = "";
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT;
	op.record_repayment = &m;
	apply(f, &f->treasurer, &op, NULL);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-replay-XXXXXX");
	world_open(f->dir, f->path, &f->srv);
	admin_setup(f);
	world_enrol(f->srv, &f->coord, "Coordinatrice",
		    TAMWIL__V1__ROLE__ROLE_COORDINATOR, "LAG");
	world_enrol(f->srv, &f->approver, "Approbateur",
		    TAMWIL__V1__ROLE__ROLE_APPROVER, "");
	world_enrol(f->srv, &f->treasurer, "Trésorier",
		    TAMWIL__V1__ROLE__ROLE_TREASURER, "");
	for (int i = 0; i < 4; i++)
		submit(f, i, f->refs[i]);
	approve(f, f->refs[0]);
	approve(f, f->refs[1]);
	disburse(f, f->refs[0], 3500000);
	disburse(f, f->refs[1], 1000000);
	repay(f, f->refs[0], 500000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	world_close(f->dir, f->srv);
	free(f);
	return 0;
}

/*
 * Feeds every entry and its checkpoint to a replay, with entry `bad`
 * replaced by `alt` (alt_len bytes) when alt is not NULL. Returns the
 * replay's verdict: 0, or -1 with err.
 */
static int verify(struct fixture *f, replay *r, uint64_t bad,
		  const uint8_t *alt, size_t alt_len, char *err, size_t cap)
{
	static uint8_t buf[AUDIT_ENTRY_MAX];
	store_checkpoint row;
	checkpoint cp;
	uint64_t size;
	size_t len;

	assert_int_equal(store_log_size(f->srv->st, &size), 0);
	for (uint64_t seq = 0; seq < size; seq++) {
		assert_int_equal(
		    store_log_entry(f->srv->st, seq, buf, sizeof(buf), &len),
		    0);
		if (alt != NULL && seq == bad) {
			memcpy(buf, alt, alt_len);
			len = alt_len;
		}
		if (replay_entry(r, buf, len, err, cap) != 0)
			return -1;
		assert_int_equal(store_checkpoint_at(f->srv->st, seq + 1, &row),
				 0);
		cp.size = row.size;
		memcpy(cp.root, row.root, 32);
		cp.time = row.time;
		memcpy(cp.sig, row.sig, 64);
		if (replay_checkpoint(r, &cp, err, cap) != 0)
			return -1;
	}
	return 0;
}

static void test_whole_log_replays(void **state)
{
	struct fixture *f = *state;
	replay *r = replay_new(f->srv->key.sign_pk);
	Tamwil__V1__ExportApplication a = TAMWIL__V1__EXPORT_APPLICATION__INIT;
	Tamwil__V1__ExportProgramme p = TAMWIL__V1__EXPORT_PROGRAMME__INIT;
	store_application row;
	uint64_t apps, progs, people;
	char err[REPLAY_ERR_MAX];

	assert_non_null(r);
	if (verify(f, r, 0, NULL, 0, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	replay_counts(r, &apps, &progs, &people);
	assert_int_equal(apps, 4);
	assert_int_equal(progs, 1);
	assert_int_equal(people, 4);
	/* The database's state is the replay's. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(
		    store_application_get(f->srv->st, f->refs[i], &row), 0);
		a.reference = row.reference;
		a.state = (Tamwil__V1__ApplicationState)row.state;
		a.programme = row.programme;
		a.region = row.region;
		a.currency = row.currency;
		a.requested = row.requested;
		a.granted = row.granted;
		a.disbursed = row.disbursed;
		a.repaid = row.repaid;
		if (replay_check_application(r, &a, err, sizeof(err)) != 0)
			fail_msg("%s", err);
	}
	/* Unstated programme: finish refuses. */
	assert_int_equal(replay_finish(r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ANGEM-26"));
	p.code = "ANGEM-26";
	p.currency = "MAD";
	p.envelope = 1350000000;
	p.granted = 7000000;
	p.disbursed = 4500000;
	if (replay_check_programme(r, &p, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(replay_finish(r, err, sizeof(err)), 0);
	/* A stated figure that differs is named. */
	a.repaid += 1;
	assert_int_equal(replay_check_application(r, &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, a.reference));
	replay_free(r);
}

/* Replays with entry seq changed by edit; returns the error. */
static void tampered(struct fixture *f, uint64_t seq,
		     void (*edit)(uint8_t *, size_t *), char *err, size_t cap)
{
	static uint8_t buf[AUDIT_ENTRY_MAX];
	replay *r = replay_new(f->srv->key.sign_pk);
	size_t len;

	assert_non_null(r);
	assert_int_equal(
	    store_log_entry(f->srv->st, seq, buf, sizeof(buf), &len), 0);
	edit(buf, &len);
	assert_int_equal(verify(f, r, seq, buf, len, err, cap), -1);
	replay_free(r);
}

static void flip_last_byte(uint8_t *b, size_t *len)
{
	b[*len - 1] ^= 0x01;
}

static void test_changed_byte_is_named(void **state)
{
	struct fixture *f = *state;
	char err[REPLAY_ERR_MAX];

	/* Entry 10 is an approval; its last bytes are the outcome. */
	tampered(f, 10, flip_last_byte, err, sizeof(err));
	assert_non_null(strstr(err, "entry 10:"));
}

static void test_wrong_server_key_is_refused(void **state)
{
	struct fixture *f = *state;
	keyfile_secret other;
	char err[REPLAY_ERR_MAX];
	replay *r;

	assert_int_equal(keyfile_generate(&other), 0);
	r = replay_new(other.sign_pk);
	assert_non_null(r);
	assert_int_equal(verify(f, r, 0, NULL, 0, err, sizeof(err)), -1);
	/* Entry 0 is signed by the real server's key: unknown here. */
	assert_non_null(strstr(err, "entry 0:"));
	replay_free(r);
}

static void test_removed_and_swapped_entries(void **state)
{
	struct fixture *f = *state;
	static uint8_t e5[AUDIT_ENTRY_MAX], e6[AUDIT_ENTRY_MAX];
	char err[REPLAY_ERR_MAX];
	size_t l5, l6;
	replay *r = replay_new(f->srv->key.sign_pk);

	assert_non_null(r);
	assert_int_equal(store_log_entry(f->srv->st, 5, e5, sizeof(e5), &l5),
			 0);
	assert_int_equal(store_log_entry(f->srv->st, 6, e6, sizeof(e6), &l6),
			 0);
	/* Entry 6 given where 5 is due: its number betrays it. */
	assert_int_equal(verify(f, r, 5, e6, l6, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "entry 5:"));
	replay_free(r);
}

/* tamwild check: sound state passes; a changed row is named. */
static void test_check_state(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	sqlite3 *db;

	assert_non_null(out);
	assert_int_equal(check_state(f->srv, out), 0);
	fflush(out);
	assert_non_null(strstr(text, "all checks passed"));
	fclose(out);
	free(text);
	/* A tranche added behind the log's back. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "UPDATE applications SET disbursed ="
				      " disbursed + 1 WHERE state = 5",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	text = NULL;
	out = open_memstream(&text, &len);
	assert_non_null(out);
	assert_int_equal(check_state(f->srv, out), 1);
	fflush(out);
	assert_non_null(strstr(text, "FAILED: application"));
	fclose(out);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_whole_log_replays, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_changed_byte_is_named, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_server_key_is_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_removed_and_swapped_entries,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_state, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
