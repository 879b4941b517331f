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

struct who {
	keyfile_secret key;
	store_principal row;
	ops_session sess;
};

struct fixture {
	char dir[64], path[128];
	server *srv;
	struct who admin, coord, approver, treasurer;
	char refs[4][STORE_REF_MAX];
};

/* Enrols k through the server's own signed operation; loads its row. */
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

/* Signs op as w and applies it; returns the result's reference. */
static void apply(struct fixture *f, struct who *w, Tamwil__V1__Operation *op,
		  char *ref)
{
	Tamwil__V1__SignedOperation sop = TAMWIL__V1__SIGNED_OPERATION__INIT;
	Tamwil__V1__Response *resp;
	uint8_t key[16], sig[64], *bytes, out[65536];
	size_t len, out_len;

	signop_new_idempotency_key(key);
	op->idempotency_key.data = key;
	op->idempotency_key.len = sizeof(key);
	len = tamwil__v1__operation__get_packed_size(op);
	bytes = malloc(len);
	assert_non_null(bytes);
	tamwil__v1__operation__pack(op, bytes);
	assert_int_equal(signop_sign(bytes, len, &w->key, sig), 0);
	sop.operation.data = bytes;
	sop.operation.len = len;
	sop.signer_key.data = w->key.sign_pk;
	sop.signer_key.len = 32;
	sop.signature.data = sig;
	sop.signature.len = 64;
	assert_int_equal(
	    ops_apply(f->srv, &w->sess, &sop, 1, out, sizeof(out), &out_len),
	    0);
	resp = tamwil__v1__response__unpack(NULL, out_len, out);
	assert_non_null(resp);
	if (resp->body_case != TAMWIL__V1__RESPONSE__BODY_OPERATION)
		fail_msg("refused: %s", resp->error->message);
	if (ref != NULL)
		snprintf(ref, STORE_REF_MAX, "%s", resp->operation->reference);
	tamwil__v1__response__free_unpacked(resp, NULL);
	free(bytes);
	/* The key lived on this frame: the caller's op must not keep it. */
	op->idempotency_key.data = NULL;
	op->idempotency_key.len = 0;
}

static Tamwil__V1__Money *mad(Tamwil__V1__Money *m, int64_t minor)
{
	tamwil__v1__money__init(m);
	m->minor = minor;
	m->currency = "MAD";
	return m;
}

static void admin_setup(struct fixture *f)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion reg = TAMWIL__V1__CREATE_REGION__INIT;
	Tamwil__V1__CreateProgramme prog = TAMWIL__V1__CREATE_PROGRAMME__INIT;
	Tamwil__V1__Money env, ceil;
	char err[300];
	uint64_t seq;

	reg.code = "LAG";
	reg.name = "Laghouat";
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &reg;
	assert_int_equal(ops_apply_local(f->srv, &op, &seq, err, sizeof(err)),
			 0);
	prog.code = "ANGEM-26";
	prog.name = "Programme 2026";
	prog.envelope = mad(&env, 1350000000);
	prog.ceiling = mad(&ceil, 10000000);
	prog.period_start = "";
	prog.period_end = "";
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME;
	op.create_programme = &prog;
	/* The server's own key may not: programmes are people's decisions. */
	assert_int_equal(ops_apply_local(f->srv, &op, &seq, err, sizeof(err)),
			 -1);
	enrol(f, &f->admin, "Administratrice", TAMWIL__V1__ROLE__ROLE_ADMIN,
	      "");
	op.idempotency_key.len = 0;
	apply(f, &f->admin, &op, NULL);
}

/* Submits one application with a sealed identity; returns its reference. */
static void submit(struct fixture *f, int i, char *ref)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__SubmitApplication m = TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__Money req, own;
	uint8_t boxkey[32], plain[512], box[512 + SEAL_BOX_OVERHEAD];
	char nid[32];
	size_t n;

	snprintf(nid, sizeof(nid), "AB%06d", i);
	id.national_id = nid;
	id.first_name = "Khadija";
	id.last_name = "Alaoui";
	id.birth_date = "1990-05-01";
	id.phone = "";
	id.address = "";
	n = tamwil__v1__identity__pack(&id, plain);
	assert_int_equal(
	    seal_box_key(boxkey, f->srv->data.pk, f->coord.key.noise_sk), 0);
	assert_int_equal(seal_box(boxkey, plain, n, box), 0);
	m.programme = "ANGEM-26";
	m.region = "LAG";
	m.identity_box.data = box;
	m.identity_box.len = n + SEAL_BOX_OVERHEAD;
	m.sex = TAMWIL__V1__SEX__SEX_FEMALE;
	m.birth_year = 1990;
	m.category = TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN;
	m.sector = "crafts";
	m.activity = "weaving";
	m.financing_formula = "";
	m.amount_requested = mad(&req, 3500000);
	m.own_contribution = mad(&own, 0);
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &m;
	apply(f, &f->coord, &op, ref);
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
	m.amount = mad(&a, amount);
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
	m.amount = mad(&a, amount);
	m.date = "";
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT;
	op.record_repayment = &m;
	apply(f, &f->treasurer, &op, NULL);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	keyfile_secret admin;

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-replay-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	f->srv = calloc(1, sizeof(*f->srv));
	assert_non_null(f->srv);
	assert_int_equal(keyfile_generate(&f->srv->key), 0);
	assert_int_equal(keyfile_data_generate(&f->srv->data), 0);
	assert_int_equal(seal_derive(&f->srv->seal, f->srv->data.sk), 0);
	assert_int_equal(store_open(f->path, 1, &f->srv->st, err, sizeof(err)),
			 0);
	(void)admin;
	admin_setup(f);
	enrol(f, &f->coord, "Coordinatrice", TAMWIL__V1__ROLE__ROLE_COORDINATOR,
	      "LAG");
	enrol(f, &f->approver, "Approbateur", TAMWIL__V1__ROLE__ROLE_APPROVER,
	      "");
	enrol(f, &f->treasurer, "Trésorier", TAMWIL__V1__ROLE__ROLE_TREASURER,
	      "");
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
	char cmd[160];

	store_close(f->srv->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->srv);
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
