/*
 * Unit tests of libtamwil-client's outbox: operations signed and sealed
 * with a handle that never connects, queued, listed in order, answered
 * (accepted, refused: the first answer stands), kept across a close and
 * a reopen, a duplicate idempotency key refused, the file private (0600)
 * and free of the identities it carries sealed; what was learnt from head
 * office recalled; and a sync that cannot reach head office leaves
 * everything waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keyfile.h"
#include "tamwil-client.h"
#include "tamwil-outbox.h"
#include "tamwil.pb-c.h"

#define NATIONAL_ID "JB4471192"
#define FIRST_NAME  "Khadija"
#define LAST_NAME   "Ait Benhaddou"
#define BIRTH_DATE  "1988-03-21"

struct fixture {
	keyfile_secret server, client;
	keyfile_data data;
	char dir[64];
	char path[256];
	tamwil_client *c; /* offline: keys, no socket */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	tamwil_client_options opt = {0};
	char sfp[KEYFILE_FINGERPRINT_LEN], pfp[KEYFILE_FINGERPRINT_LEN];
	tamwil_error err;

	if (f == NULL)
		return -1;
	*state = f;
	if (sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-outbox.XXXXXX");
	if (keyfile_generate(&f->server) != 0 ||
	    keyfile_generate(&f->client) != 0 ||
	    keyfile_data_generate(&f->data) != 0 || mkdtemp(f->dir) == NULL)
		return -1;
	/* Nothing listens on port 9 of loopback: never dialled anyway. */
	opt.server = "127.0.0.1:9";
	opt.server_noise_pk = f->server.noise_pk;
	opt.server_data_pk = f->data.pk;
	opt.server_sign_pk = f->server.sign_pk;
	opt.state_dir = f->dir;
	opt.key = &f->client;
	if (tamwil_client_open(&opt, &f->c, &err) != TAMWIL_OK)
		return -1;
	keyfile_fingerprint(f->server.noise_pk, f->server.sign_pk, sfp);
	keyfile_fingerprint(f->client.noise_pk, f->client.sign_pk, pfp);
	return tamwil_outbox_path(f->dir, sfp, pfp, f->path, sizeof(f->path));
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	if (f == NULL)
		return 0;
	tamwil_client_close(f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (f->dir[0] == '/' && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

/* The outbox of the fixture's handle. */
static tamwil_outbox *outbox(struct fixture *f)
{
	tamwil_outbox *ob = NULL;
	tamwil_error err;

	assert_int_equal(tamwil_client_outbox(f->c, &ob, &err), TAMWIL_OK);
	assert_non_null(ob);
	return ob;
}

/*
 * Signs an approval of ref (with key, when not NULL: 16 bytes) with the
 * offline handle and queues it; returns its id.
 */
static int64_t queue_approve(struct fixture *f, tamwil_outbox *ob,
			     const char *ref, uint8_t *key)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__ApproveApplication body =
	    TAMWIL__V1__APPROVE_APPLICATION__INIT;
	uint8_t sig[SIGNOP_SIGLEN], *bytes = NULL;
	tamwil_error err;
	size_t len = 0;
	int64_t id = 0;
	int rc;

	body.reference = (char *)ref;
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &body;
	if (key != NULL) {
		op.idempotency_key.data = key;
		op.idempotency_key.len = SIGNOP_IDEMPOTENCY_LEN;
	}
	assert_int_equal(tamwil_client_sign(f->c, &op, &bytes, &len, sig, &err),
			 TAMWIL_OK);
	rc = tamwil_outbox_add(ob, bytes, len, sig, &id, &err);
	free(bytes);
	if (rc != TAMWIL_OK) {
		assert_int_equal(rc, TAMWIL_ERR_LOCAL);
		assert_string_equal(err.message,
				    "this operation is already in the outbox "
				    "(its idempotency key is queued)");
		return -1;
	}
	return id;
}

/* A submission whose identity is sealed by the offline handle. */
static int64_t queue_submit(struct fixture *f, tamwil_outbox *ob)
{
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__SubmitApplication s = TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__Money m = TAMWIL__V1__MONEY__INIT;
	uint8_t sig[SIGNOP_SIGLEN], *box = NULL, *bytes = NULL;
	size_t box_len = 0, len = 0;
	tamwil_error err;
	int64_t n = 0;

	id.national_id = NATIONAL_ID;
	id.first_name = FIRST_NAME;
	id.last_name = LAST_NAME;
	id.birth_date = BIRTH_DATE;
	assert_int_equal(
	    tamwil_client_seal_identity(f->c, &id, &box, &box_len, &err),
	    TAMWIL_OK);
	m.minor = 4500000;
	m.currency = "MAD";
	s.programme = "INDH-2026";
	s.region = "LAG";
	s.identity_box.data = box;
	s.identity_box.len = box_len;
	s.sector = "crafts";
	s.activity = "Atelier de tissage";
	s.amount_requested = &m;
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &s;
	assert_int_equal(tamwil_client_sign(f->c, &op, &bytes, &len, sig, &err),
			 TAMWIL_OK);
	assert_int_equal(tamwil_outbox_add(ob, bytes, len, sig, &n, &err),
			 TAMWIL_OK);
	free(bytes);
	free(box);
	return n;
}

static void expect_entry(tamwil_outbox *ob, int64_t id, int status,
			 tamwil_outbox_entry *e)
{
	tamwil_error err;

	assert_int_equal(tamwil_outbox_get(ob, id, e, &err), TAMWIL_OK);
	assert_int_equal(e->id, id);
	assert_int_equal(e->status, status);
}

static void test_add_list_order(void **state)
{
	struct fixture *f = *state;
	tamwil_outbox *ob = outbox(f);
	tamwil_outbox_entry *v = NULL;
	tamwil_error err;
	size_t n = 0;
	int64_t ids[3];

	ids[0] = queue_approve(f, ob, "LAG-2026-000003", NULL);
	ids[1] = queue_submit(f, ob);
	ids[2] = queue_approve(f, ob, "LAG-2026-000001", NULL);
	assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
	assert_int_equal(tamwil_outbox_list(ob, 0, &v, &n, &err), TAMWIL_OK);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n && i < 3; i++) {
		assert_int_equal(v[i].id, ids[i]);
		assert_int_equal(v[i].status, TAMWIL_OUTBOX_WAITING);
		assert_true(v[i].queued_at > 0);
		assert_int_equal(v[i].done_at, 0);
	}
	assert_string_equal(v[0].kind, "approve");
	assert_string_equal(v[0].label, "LAG-2026-000003");
	assert_string_equal(v[1].kind, "submit");
	assert_string_equal(v[1].label,
			    "INDH-2026, LAG, crafts, 45 000,00 MAD");
	assert_string_equal(v[2].label, "LAG-2026-000001");
	free(v);
}

static void test_bytes_kept_exactly(void **state)
{
	struct fixture *f = *state;
	tamwil_outbox *ob = outbox(f);
	Tamwil__V1__Operation *op;
	uint8_t sig[SIGNOP_SIGLEN], *bytes = NULL;
	tamwil_outbox_entry e;
	tamwil_error err;
	size_t len = 0;
	int64_t id = queue_approve(f, ob, "LAG-2026-000007", NULL);

	assert_int_equal(tamwil_outbox_bytes(ob, id, &bytes, &len, sig, &err),
			 TAMWIL_OK);
	/* The signature covers the very bytes kept. */
	assert_int_equal(signop_verify(bytes, len, f->client.sign_pk, sig), 0);
	op = tamwil__v1__operation__unpack(NULL, len, bytes);
	assert_non_null(op);
	expect_entry(ob, id, TAMWIL_OUTBOX_WAITING, &e);
	assert_memory_equal(e.idempotency_key, op->idempotency_key.data,
			    SIGNOP_IDEMPOTENCY_LEN);
	assert_string_equal(op->approve_application->reference,
			    "LAG-2026-000007");
	tamwil__v1__operation__free_unpacked(op, NULL);
	free(bytes);
}

static void test_duplicate_key_refused(void **state)
{
	struct fixture *f = *state;
	tamwil_outbox *ob = outbox(f);
	uint8_t key[SIGNOP_IDEMPOTENCY_LEN];
	size_t n = 0;
	tamwil_error err;

	memset(key, 0x5a, sizeof(key));
	assert_true(queue_approve(f, ob, "LAG-2026-000001", key) > 0);
	/* queue_approve checks the sentence of the refusal. */
	assert_int_equal(queue_approve(f, ob, "LAG-2026-000002", key), -1);
	assert_int_equal(
	    tamwil_outbox_count(ob, TAMWIL_OUTBOX_WAITING, &n, &err),
	    TAMWIL_OK);
	assert_int_equal(n, 1);
}

static void test_garbage_refused(void **state)
{
	struct fixture *f = *state;
	tamwil_outbox *ob = outbox(f);
	const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
	uint8_t sig[SIGNOP_SIGLEN] = {0};
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	uint8_t buf[64];
	tamwil_error err;
	size_t len;

	assert_int_equal(
	    tamwil_outbox_add(ob, junk, sizeof(junk), sig, NULL, &err),
	    TAMWIL_ERR_LOCAL);
	assert_string_equal(err.message, "the outbox takes only operations "
					 "with a 16-byte idempotency key");
	/* An operation without an idempotency key cannot be retried. */
	op.client_time = 1;
	len = tamwil__v1__operation__pack(&op, buf);
	assert_int_equal(tamwil_outbox_add(ob, buf, len, sig, NULL, &err),
			 TAMWIL_ERR_LOCAL);
}

static void test_accepted_and_refused(void **state)
{
	struct fixture *f = *state;
	tamwil_outbox *ob = outbox(f);
	Tamwil__V1__OperationResult res = TAMWIL__V1__OPERATION_RESULT__INIT;
	Tamwil__V1__Receipt receipt = TAMWIL__V1__RECEIPT__INIT, *back = NULL;
	tamwil_outbox_entry e;
	tamwil_error err;
	size_t n = 0;
	int64_t a = queue_approve(f, ob, "LAG-2026-000001", NULL);
	int64_t b = queue_approve(f, ob, "LAG-2026-000002", NULL);
	int64_t c = queue_approve(f, ob, "LAG-2026-000003", NULL);

	res.reference = "LAG-2026-000001";
	res.state = TAMWIL__V1__APPLICATION_STATE__STATE_APPROVED;
	res.sequence = 41;
	res.receipt = &receipt;
	receipt.entry.data = (uint8_t *)"entry";
	receipt.entry.len = 5;
	assert_int_equal(tamwil_outbox_mark_accepted(ob, a, &res, &err),
			 TAMWIL_OK);
	assert_int_equal(
	    tamwil_outbox_mark_refused(
		ob, b, TAMWIL__V1__ERROR_CODE__ERROR_BAD_STATE,
		"the application is rejected: it cannot be approved", &err),
	    TAMWIL_OK);
	expect_entry(ob, a, TAMWIL_OUTBOX_ACCEPTED, &e);
	assert_int_equal(e.sequence, 41);
	assert_string_equal(e.reference, "LAG-2026-000001");
	assert_int_equal(e.state,
			 TAMWIL__V1__APPLICATION_STATE__STATE_APPROVED);
	assert_int_equal(e.replayed, 0);
	assert_true(e.done_at > 0);
	assert_int_equal(tamwil_outbox_receipt(ob, a, &back, &err), TAMWIL_OK);
	assert_non_null(back);
	assert_int_equal(back->entry.len, 5);
	assert_memory_equal(back->entry.data, "entry", 5);
	tamwil__v1__receipt__free_unpacked(back, NULL);
	expect_entry(ob, b, TAMWIL_OUTBOX_REFUSED, &e);
	assert_int_equal(e.code, TAMWIL__V1__ERROR_CODE__ERROR_BAD_STATE);
	assert_string_equal(e.reason,
			    "the application is rejected: it cannot be "
			    "approved");
	assert_int_equal(tamwil_outbox_receipt(ob, b, &back, &err), TAMWIL_OK);
	assert_null(back);

	/* The first answer stands: a later one changes nothing. */
	assert_int_equal(tamwil_outbox_mark_refused(ob, a, 4, "late", &err),
			 TAMWIL_OK);
	res.sequence = 99;
	assert_int_equal(tamwil_outbox_mark_accepted(ob, b, &res, &err),
			 TAMWIL_OK);
	expect_entry(ob, a, TAMWIL_OUTBOX_ACCEPTED, &e);
	assert_int_equal(e.sequence, 41);
	expect_entry(ob, b, TAMWIL_OUTBOX_REFUSED, &e);
	assert_int_equal(e.sequence, 0);
	/* No such entry. */
	assert_int_equal(tamwil_outbox_mark_accepted(ob, 999, &res, &err),
			 TAMWIL_ERR_LOCAL);
	assert_string_equal(err.message, "the outbox has no entry 999");

	assert_int_equal(
	    tamwil_outbox_count(ob, TAMWIL_OUTBOX_WAITING, &n, &err),
	    TAMWIL_OK);
	assert_int_equal(n, 1);
	expect_entry(ob, c, TAMWIL_OUTBOX_WAITING, &e);
}

static void test_reopen_keeps_everything(void **state)
{
	struct fixture *f = *state;
	tamwil_outbox *ob = outbox(f);
	Tamwil__V1__OperationResult res = TAMWIL__V1__OPERATION_RESULT__INIT;
	tamwil_outbox_entry *v = NULL;
	tamwil_error err;
	char cur[TAMWIL_OUTBOX_VALUE_MAX];
	size_t n = 0;
	int64_t a = queue_approve(f, ob, "LAG-2026-000001", NULL);
	int64_t b = queue_submit(f, ob);

	res.sequence = 7;
	res.replayed = 1;
	assert_int_equal(tamwil_outbox_mark_accepted(ob, a, &res, &err),
			 TAMWIL_OK);
	assert_int_equal(
	    tamwil_outbox_remember(ob, "programme", "INDH-2026", "MAD", &err),
	    TAMWIL_OK);
	/* Closing the handle closes its outbox; a plain open reads it. */
	tamwil_client_close(f->c);
	f->c = NULL;
	assert_int_equal(tamwil_outbox_open(f->path, &ob, &err), TAMWIL_OK);
	assert_int_equal(tamwil_outbox_list(ob, 1, &v, &n, &err), TAMWIL_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, a);
	assert_int_equal(v[0].status, TAMWIL_OUTBOX_ACCEPTED);
	assert_int_equal(v[0].sequence, 7);
	assert_int_equal(v[0].replayed, 1);
	assert_int_equal(v[1].id, b);
	assert_int_equal(v[1].status, TAMWIL_OUTBOX_WAITING);
	free(v);
	assert_int_equal(tamwil_outbox_list(ob, 0, &v, &n, &err), TAMWIL_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, b);
	free(v);
	assert_int_equal(tamwil_outbox_recall(ob, "programme", "INDH-2026", cur,
					      sizeof(cur), &err),
			 TAMWIL_OK);
	assert_string_equal(cur, "MAD");
	assert_int_equal(tamwil_outbox_recall(ob, "programme", "PAMP-2026", cur,
					      sizeof(cur), &err),
			 1);
	tamwil_outbox_close(ob);
}

/* 1 if the file at path holds text's bytes. */
static int file_holds(const char *path, const char *text)
{
	FILE *fp = fopen(path, "rb");
	size_t n = strlen(text), len;
	char *buf;
	int found = 0;

	if (fp == NULL)
		return 0;
	buf = malloc(1 << 22);
	assert_non_null(buf);
	len = fread(buf, 1, 1 << 22, fp);
	fclose(fp);
	for (size_t i = 0; i + n <= len && !found; i++)
		found = memcmp(buf + i, text, n) == 0;
	free(buf);
	return found;
}

static void test_private_and_no_identity(void **state)
{
	struct fixture *f = *state;
	tamwil_outbox *ob = outbox(f);
	const char *secrets[] = {NATIONAL_ID, FIRST_NAME, LAST_NAME,
				 BIRTH_DATE};
	char wal[300];
	struct stat st;

	queue_submit(f, ob);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	/* The test can find what is there: the programme is in clear. */
	assert_true(file_holds(wal, "INDH-2026") ||
		    file_holds(f->path, "INDH-2026"));
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		assert_false(file_holds(f->path, secrets[i]));
		assert_false(file_holds(wal, secrets[i]));
	}
}

static void test_open_refuses_shared_file(void **state)
{
	struct fixture *f = *state;
	char path[300];
	tamwil_outbox *ob = NULL;
	tamwil_error err;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/shared.db", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(tamwil_outbox_open(path, &ob, &err), TAMWIL_ERR_LOCAL);
	assert_null(ob);
	assert_non_null(strstr(err.message, "may be read by others"));
}

/* Counts the callback's calls. */
static int count_calls(void *arg, const tamwil_outbox_entry *e, size_t done,
		       size_t total)
{
	(void)e;
	(void)done;
	(void)total;
	(*(int *)arg)++;
	return 0;
}

static void test_sync_offline_keeps_waiting(void **state)
{
	struct fixture *f = *state;
	tamwil_outbox *ob = outbox(f);
	tamwil_outbox_summary sum;
	tamwil_error err;
	int calls = 0;

	queue_approve(f, ob, "LAG-2026-000001", NULL);
	queue_approve(f, ob, "LAG-2026-000002", NULL);
	assert_false(tamwil_client_online(f->c));
	assert_true(tamwil_outbox_link_down(
	    tamwil_outbox_sync(ob, f->c, count_calls, &calls, &sum, &err)));
	assert_int_equal(calls, 0);
	assert_int_equal(sum.accepted, 0);
	assert_int_equal(sum.refused, 0);
	assert_int_equal(sum.waiting, 2);
	assert_string_equal(err.message, "not connected to 127.0.0.1:9");
}

static void test_path(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(tamwil_outbox_path("/s", "ab12 cd34", "ef56 0789", buf,
					    sizeof(buf)),
			 0);
	assert_string_equal(buf, "/s/outbox-ab12cd34-ef560789.db");
	assert_int_equal(
	    tamwil_outbox_path("/s", "ab12 cd34", "ef56 0789", buf, 10), -1);
}

/*
 * Several processes opening one new outbox at the same moment (parallel
 * commands of one office) all get it: none meets "database is locked"
 * while the file is switched to WAL or its tables are made.
 */
static void test_open_at_once(void **state)
{
	enum { ROUNDS = 10, PROCS = 6 };
	struct fixture *f = *state;
	char path[sizeof(f->path) + 16];

	for (int round = 0; round < ROUNDS; round++) {
		int go[2], failed = 0;
		pid_t pid[PROCS];

		snprintf(path, sizeof(path), "%s.%d", f->path, round);
		assert_int_equal(pipe(go), 0);
		for (int i = 0; i < PROCS; i++) {
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				tamwil_outbox *ob = NULL;
				tamwil_error err;
				char b;
				int rc;

				close(go[1]);
				/* All start when the pipe closes. */
				(void)read(go[0], &b, 1);
				rc = tamwil_outbox_open(path, &ob, &err);
				if (rc != TAMWIL_OK)
					fprintf(stderr, "%s\n", err.message);
				tamwil_outbox_close(ob);
				_exit(rc == TAMWIL_OK ? 0 : 1);
			}
		}
		close(go[0]);
		close(go[1]);
		for (int i = 0; i < PROCS; i++) {
			int ws;

			assert_int_equal(waitpid(pid[i], &ws, 0), pid[i]);
			failed += !WIFEXITED(ws) || WEXITSTATUS(ws) != 0;
		}
		assert_int_equal(failed, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_add_list_order, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bytes_kept_exactly, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_key_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_accepted_and_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_private_and_no_identity, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_open_refuses_shared_file,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_offline_keeps_waiting,
					    setup, teardown),
	    cmocka_unit_test(test_path),
	    cmocka_unit_test_setup_teardown(test_open_at_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
