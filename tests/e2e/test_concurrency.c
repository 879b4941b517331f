/*
 * Many offices at once: 16 connections, each on its own thread through
 * libtamwil-client, each sending 50 operations one after the other while
 * the others do the same. Every acknowledged operation must be in the
 * database exactly once, at the log entry its receipt names; receipts
 * must verify; a retry must be a replay; and the daemon must have shared
 * commits between operations (its "group commit" line at stop).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "harness.h"
#include "harness_domain.h"
#include "keyfile.h"
#include "tamwil-client.h"

#define CLIENTS	      16
#define OPS	      50
#define OPS_STOP      400 /* when the daemon is stopped under the clients */
#define CLOSES	      200 /* tries at closing while an answer is on its way */
#define STOP_AFTER_MS 200
#define RUN_MS	      60000
#define CODE_MAX      8
#define WHY_MAX	      TAMWIL_ERROR_MAX
#define LOG_CAP	      (1u << 20)
#define STOP_MS	      10000
#define DB_NAME	      "tamwil.db"
#define WORKERS	      "3" /* more than the machine's cores */
#define STATS_NEEDLE  "group commit: "

struct fixture {
	char dir[H_PATH_MAX];
	char home[H_PATH_MAX + 8];
	const char *env[2];
	char key[H_PATH_MAX], pub[H_PATH_MAX];
	char state[H_PATH_MAX], server_pub[H_PATH_MAX], log[H_PATH_MAX];
	char server[64];
	h_daemon d;
	keyfile_secret admin;
	keyfile_public srv;
};

/* What one client thread did. */
struct client {
	const struct fixture *f;
	int index;
	int ops; /* how many to send */
	char codes[OPS_STOP][CODE_MAX];
	uint64_t seq[OPS_STOP];
	int acked[OPS_STOP];
	int sent;	   /* operations sent, answered or not */
	char why[WHY_MAX]; /* the first failure, "" if none */
};

/* The region code of operation i of client t: four capital letters. */
static void region_code(int t, int i, char out[CODE_MAX])
{
	snprintf(out, CODE_MAX, "Q%c%c%c", 'A' + t, 'A' + i / 26, 'A' + i % 26);
}

static int client_fail(struct client *c, const char *what,
		       const tamwil_error *err)
{
	if (c->why[0] == '\0')
		snprintf(c->why, sizeof(c->why), "client %d: %s: %.400s",
			 c->index, what, err != NULL ? err->message : "");
	return -1;
}

/*
 * Sends one CreateRegion; checks the answer and its receipt. With retry,
 * sends the same signed bytes again and expects the first result back.
 */
static int client_op(struct client *c, tamwil_client *tc, int i, int retry)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion body = TAMWIL__V1__CREATE_REGION__INIT;
	Tamwil__V1__OperationResult *res = NULL, *again = NULL;
	uint8_t *bytes = NULL, sig[SIGNOP_SIGLEN];
	char why[128];
	size_t len;
	tamwil_error err;
	int rc = -1;

	region_code(c->index, i, c->codes[i]);
	body.code = c->codes[i];
	body.name = c->codes[i];
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &body;
	if (tamwil_client_sign(tc, &op, &bytes, &len, sig, &err) != TAMWIL_OK)
		return client_fail(c, "sign", &err);
	if (tamwil_client_send_signed(tc, bytes, len, sig, &res, &err) !=
	    TAMWIL_OK) {
		client_fail(c, "operate", &err);
		goto out;
	}
	c->acked[i] = 1;
	c->seq[i] = res->sequence;
	if (res->replayed || strcmp(res->reference, c->codes[i]) != 0 ||
	    res->receipt == NULL ||
	    tamwil_receipt_verify(c->f->srv.sign_pk, res->receipt,
				  res->sequence, NULL, NULL, why,
				  sizeof(why)) != 0) {
		snprintf(err.message, sizeof(err.message), "%s: %s",
			 c->codes[i], res->receipt ? why : "no receipt");
		client_fail(c, "result", &err);
		goto out;
	}
	if (retry) {
		if (tamwil_client_send_signed(tc, bytes, len, sig, &again,
					      &err) != TAMWIL_OK) {
			client_fail(c, "retry", &err);
			goto out;
		}
		if (!again->replayed || again->sequence != res->sequence) {
			client_fail(c, "retry was not a replay", NULL);
			goto out;
		}
	}
	rc = 0;
out:
	if (res != NULL)
		tamwil__v1__operation_result__free_unpacked(res, NULL);
	if (again != NULL)
		tamwil__v1__operation_result__free_unpacked(again, NULL);
	free(bytes);
	return rc;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	tamwil_client_options opt = {0};
	tamwil_client *tc = NULL;
	tamwil_whoami me;
	tamwil_error err;

	opt.server = c->f->server;
	opt.server_noise_pk = c->f->srv.noise_pk;
	opt.server_sign_pk = c->f->srv.sign_pk;
	opt.key = &c->f->admin;
	if (tamwil_client_connect(&opt, &tc, &err) != TAMWIL_OK) {
		client_fail(c, "connect", &err);
		return NULL;
	}
	if (tamwil_client_whoami(tc, &me, &err) != TAMWIL_OK) {
		client_fail(c, "whoami", &err);
		goto out;
	}
	for (int i = 0; i < c->ops; i++) {
		c->sent = i + 1;
		if (client_op(c, tc, i, i == 0) != 0)
			break;
	}
out:
	tamwil_client_close(tc);
	return NULL;
}

/* Runs tamwild with the NULL-terminated arguments; output in r. */
static void run_tamwild(struct fixture *f, hd_result *r, const char *arg, ...)
{
	char text[HD_CMD_TEXT];
	va_list ap;
	hd_cmd c;

	hd_cmd_init(&c, h_tamwild_path());
	va_start(ap, arg);
	if (arg != NULL) {
		hd_cmd_add(&c, arg);
		hd_cmd_add_va(&c, ap);
	}
	va_end(ap);
	hd_cmd_text(&c, text, sizeof(text));
	if (hd_run(r, RUN_MS, f->env, &c) != 0 || !hd_ok(r)) {
		hd_result_print(r, text);
		H_FAIL("failed: %s", text);
	}
}

static int setup(void **state)
{
	static const char *const workers[] = {"--workers", WORKERS,
					      "--log-level", "debug", NULL};
	struct fixture *f = calloc(1, sizeof(*f));
	hd_result r = {0};

	if (f == NULL || sodium_init() < 0) {
		free(f);
		return -1;
	}
	*state = f;
	if (h_tamwild_path() == NULL || h_tamwil_path() == NULL ||
	    h_tmpdir_create(f->dir, sizeof(f->dir)) != 0)
		return -1;
	snprintf(f->home, sizeof(f->home), "HOME=%s", f->dir);
	f->env[0] = f->home;
	f->env[1] = NULL;
	if (h_keygen(f->dir, "admin", f->env, f->key, f->pub) != 0 ||
	    h_path(f->state, sizeof(f->state), f->dir, "state") != 0 ||
	    h_path(f->server_pub, sizeof(f->server_pub), f->dir,
		   "server.pub") != 0 ||
	    h_path(f->log, sizeof(f->log), f->dir, "tamwild.log") != 0)
		return -1;
	run_tamwild(f, &r, "init", "--state", f->state, "--admin", f->pub,
		    "--admin-name", "Amina El Idrissi", NULL);
	run_tamwild(f, &r, "pubkey", "--state", f->state, NULL);
	if (h_write_file(f->server_pub, r.out) != 0 ||
	    keyfile_read_public(f->server_pub, &f->srv) != 0 ||
	    keyfile_read_secret(f->key, NULL, &f->admin) != 0) {
		hd_result_free(&r);
		return -1;
	}
	hd_result_free(&r);
	if (h_daemon_start(&f->d, f->state, f->log, workers, f->env) != 0)
		return -1;
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%d", f->d.port);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	h_daemon_kill(&f->d);
	sodium_memzero(&f->admin, sizeof(f->admin));
	if (f->dir[0] != '\0' && getenv("TAMWIL_E2E_KEEP") == NULL)
		h_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static long long db_count(sqlite3 *db, const char *sql, const char *text)
{
	sqlite3_stmt *s;
	long long n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (text != NULL)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* The region code that log entry seq creates, into code; 0 or -1. */
static int db_entry_code(sqlite3 *db, uint64_t seq, char code[CODE_MAX])
{
	sqlite3_stmt *s;
	Tamwil__V1__LogEntry *e = NULL;
	Tamwil__V1__Operation *op = NULL;
	int rc = -1;

	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT entry FROM log_entries "
					    "WHERE seq = ?1",
					    -1, &s, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)seq);
	if (sqlite3_step(s) == SQLITE_ROW)
		e = tamwil__v1__log_entry__unpack(
		    NULL, (size_t)sqlite3_column_bytes(s, 0),
		    sqlite3_column_blob(s, 0));
	if (e != NULL && e->operation != NULL)
		op = tamwil__v1__operation__unpack(
		    NULL, e->operation->operation.len,
		    e->operation->operation.data);
	if (op != NULL &&
	    op->body_case == TAMWIL__V1__OPERATION__BODY_CREATE_REGION) {
		snprintf(code, CODE_MAX, "%s", op->create_region->code);
		rc = 0;
	}
	if (op != NULL)
		tamwil__v1__operation__free_unpacked(op, NULL);
	if (e != NULL)
		tamwil__v1__log_entry__free_unpacked(e, NULL);
	sqlite3_finalize(s);
	return rc;
}

/*
 * Every acknowledged operation once in the tables, at its log entry, and
 * no other operation there. Returns how many were acknowledged.
 */
static long long check_database(const struct fixture *f, struct client *cl)
{
	char path[H_PATH_MAX], code[CODE_MAX];
	sqlite3 *db;
	long long acked = 0;

	assert_int_equal(h_path(path, sizeof(path), f->state, DB_NAME), 0);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	for (int t = 0; t < CLIENTS; t++) {
		for (int i = 0; i < cl[t].sent; i++) {
			if (!cl[t].acked[i])
				continue;
			acked++;
			assert_int_equal(
			    db_count(db,
				     "SELECT count(*) FROM regions "
				     "WHERE code = ?1",
				     cl[t].codes[i]),
			    1);
			assert_int_equal(db_entry_code(db, cl[t].seq[i], code),
					 0);
			assert_string_equal(code, cl[t].codes[i]);
		}
	}
	assert_int_equal(db_count(db, "SELECT count(*) FROM regions", NULL),
			 acked);
	assert_int_equal(db_count(db, "SELECT count(*) FROM operations", NULL),
			 acked);
	/* The first admin's enrolment, then one entry per operation. */
	assert_int_equal(db_count(db, "SELECT count(*) FROM log_entries", NULL),
			 acked + 1);
	assert_int_equal(db_count(db,
				  "SELECT count(*) FROM checkpoints "
				  "WHERE tree_size = "
				  "(SELECT count(*) FROM log_entries)",
				  NULL),
			 1);
	/* One checkpoint per batch that appended, never more than entries. */
	assert_true(db_count(db, "SELECT count(*) FROM checkpoints", NULL) <=
		    acked + 1);
	sqlite3_close(db);
	return acked;
}

/*
 * Reads the daemon's closing "group commit" line: nothing lost, and
 * batches formed. Returns the number of operations it counts.
 */
static unsigned long long check_batches(const struct fixture *f)
{
	char *log = malloc(LOG_CAP), *line, *nl;
	unsigned long long ops, batches, largest, lost;
	size_t n;

	assert_non_null(log);
	assert_int_equal(h_read_file(f->log, 0, log, LOG_CAP, &n), 0);
	line = strstr(log, STATS_NEEDLE);
	if (line == NULL) {
		h_log_dump(f->log, 0);
		H_FAIL("no group commit line in the log");
	}
	assert_int_equal(sscanf(line,
				STATS_NEEDLE "%llu operations in %llu batches "
					     "(largest %llu, %llu lost)",
				&ops, &batches, &largest, &lost),
			 4);
	nl = strchr(line, '\n');
	if (nl != NULL)
		*nl = '\0';
	print_message("%s\n", line);
	assert_int_equal(lost, 0);
	assert_true(largest > 1);
	assert_true(batches < ops);
	free(log);
	return ops;
}

/* Starts the clients, each to send ops operations. */
static void clients_start(struct fixture *f, struct client *cl, pthread_t *th,
			  int ops)
{
	for (int t = 0; t < CLIENTS; t++) {
		cl[t].f = f;
		cl[t].index = t;
		cl[t].ops = ops;
		assert_int_equal(
		    pthread_create(&th[t], NULL, client_main, &cl[t]), 0);
	}
}

static void test_concurrent_offices(void **state)
{
	struct fixture *f = *state;
	struct client *cl = calloc(CLIENTS, sizeof(*cl));
	pthread_t th[CLIENTS];
	hd_result r = {0};
	int wstatus = 0;

	static const char *const started[] = {
	    WORKERS " workers and one writer started", NULL};

	assert_non_null(cl);
	assert_int_equal(h_log_wait(f->log, 0, started, 1000), 0);
	clients_start(f, cl, th, OPS);
	for (int t = 0; t < CLIENTS; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < CLIENTS; t++) {
		if (cl[t].why[0] != '\0') {
			h_log_dump(f->log, 0);
			H_FAIL("%s", cl[t].why);
		}
	}
	/* A clean stop writes the writer's counters. */
	assert_int_equal(h_daemon_stop(&f->d, STOP_MS, &wstatus), 0);
	assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
	assert_int_equal(check_database(f, cl), CLIENTS * OPS);
	/* Each client retried its first operation once. */
	assert_int_equal(check_batches(f), CLIENTS * (OPS + 1));
	/* The log, its checkpoints shared by batches, verifies and replays. */
	run_tamwild(f, &r, "check", "--state", f->state, NULL);
	assert_non_null(strstr(r.out, "all checks passed"));
	hd_result_free(&r);
	free(cl);
}

/*
 * SIGTERM while the clients are busy: the daemon answers what it took,
 * stops, and every operation it kept was acknowledged, every one
 * acknowledged kept.
 */
static void test_stop_drains(void **state)
{
	struct fixture *f = *state;
	struct client *cl = calloc(CLIENTS, sizeof(*cl));
	pthread_t th[CLIENTS];
	int wstatus = 0, cut = 0;
	long long acked;

	assert_non_null(cl);
	clients_start(f, cl, th, OPS_STOP);
	/* Under a checker the daemon needs longer to acknowledge any. */
	h_sleep_ms(h_wait_ms(STOP_AFTER_MS));
	assert_int_equal(h_daemon_stop(&f->d, STOP_MS, &wstatus), 0);
	for (int t = 0; t < CLIENTS; t++)
		pthread_join(th[t], NULL);
	assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
	for (int t = 0; t < CLIENTS; t++)
		cut += cl[t].sent < OPS_STOP || cl[t].why[0] != '\0';
	if (cut == 0)
		H_FAIL("the clients finished before the stop: nothing tested");
	acked = check_database(f, cl);
	assert_true(acked > 0);
	assert_true(check_batches(f) >= (unsigned long long)acked);
	free(cl);
}

/*
 * One operation sent and the connection closed at once, as its first
 * request (in handshake message 3) or after a whoami. 0, or -1 when the
 * daemon could not be reached.
 */
static int send_and_vanish(struct fixture *f, int i, int in_hello)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion body = TAMWIL__V1__CREATE_REGION__INIT;
	Tamwil__V1__Request req, who;
	Tamwil__V1__SignedOperation sop;
	Tamwil__V1__WhoamiRequest wbody;
	Tamwil__V1__Response *resp = NULL;
	uint8_t *bytes = NULL, sig[SIGNOP_SIGLEN], key[SIGNOP_IDEMPOTENCY_LEN];
	char code[CODE_MAX];
	size_t len;
	h_noise c;
	int rc = -1;

	snprintf(code, sizeof(code), "V%c%c", 'A' + i / 26, 'A' + i % 26);
	body.code = code;
	body.name = code;
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &body;
	randombytes_buf(key, sizeof(key));
	op.idempotency_key.data = key;
	op.idempotency_key.len = sizeof(key);
	if (hd_op_sign(&op, &f->admin, &bytes, &len, sig) != 0 ||
	    h_noise_start(&c, f->d.port, f->key, f->server_pub, RUN_MS) != 0)
		goto out;
	hd_signed_request(&req, &sop, 1, bytes, len, f->admin.sign_pk, sig);
	if (in_hello) {
		rc = h_noise_finish(&c, &req, RUN_MS) == H_IO_OK ? 0 : -1;
	} else {
		h_whoami_request(&who, &wbody, 1);
		req.request_id = 2;
		rc = h_noise_finish(&c, &who, RUN_MS) == H_IO_OK &&
			     h_noise_recv(&c, &resp, RUN_MS) == H_IO_OK &&
			     h_noise_send(&c, &req, RUN_MS) == H_IO_OK
			 ? 0
			 : -1;
	}
	h_noise_close(&c);
out:
	if (resp != NULL)
		tamwil__v1__response__free_unpacked(resp, NULL);
	free(bytes);
	return rc;
}

/*
 * Clients that vanish while their operation is being applied: the answer
 * is dropped, nothing else happens, the daemon serves on and stops
 * cleanly. Tries until the log shows a dropped answer, at most CLOSES
 * times.
 */
static void test_close_in_flight(void **state)
{
	static const char *const dropped[] = {"answer to ", "dropped", NULL};
	struct fixture *f = *state;
	struct client cl = {0};
	int wstatus = 0, i;
	char path[H_PATH_MAX];
	sqlite3 *db;

	for (i = 0; i < CLOSES; i++) {
		assert_int_equal(send_and_vanish(f, i, i % 2), 0);
		if (i % 2 == 1 && h_log_wait(f->log, 0, dropped, 1) == 0)
			break;
	}
	if (i == CLOSES) {
		h_log_dump(f->log, 0);
		H_FAIL("no answer was ever dropped in %d tries", CLOSES);
	}
	/* The daemon still serves. */
	cl.f = f;
	cl.ops = 1;
	client_main(&cl);
	if (cl.why[0] != '\0')
		H_FAIL("%s", cl.why);
	assert_int_equal(h_daemon_stop(&f->d, STOP_MS, &wstatus), 0);
	assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
	/* Whatever was kept was kept whole: a region, its entry, its record. */
	assert_int_equal(h_path(path, sizeof(path), f->state, DB_NAME), 0);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(db_count(db, "SELECT count(*) FROM operations", NULL),
			 db_count(db, "SELECT count(*) FROM regions", NULL));
	assert_int_equal(db_count(db, "SELECT count(*) FROM log_entries", NULL),
			 db_count(db, "SELECT count(*) FROM regions", NULL) +
			     1);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_concurrent_offices, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_stop_drains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_in_flight, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
