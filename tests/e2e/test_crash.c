/*
 * Crash safety of tamwild. Offices keep submitting on their own
 * connections, resending each signed operation after every failure (as
 * the real client's outbox does), while the daemon is killed with SIGKILL
 * at random moments and started again. Afterwards every operation an
 * office saw acknowledged is in the database exactly once, nothing else
 * is, the log verifies and replays to the database (tamwild check), and
 * no office ever saw head office's history go back (every connection
 * checks the office's saved checkpoint).
 *
 * Then a full disk (enospc.c preloaded into the daemon): operations are
 * refused as such while queries go on, the disk may fill in the middle
 * of a commit or of a checkpoint, and once there is room the refused
 * operations sent again are applied once, with nothing lost or doubled.
 *
 * Bounded: WORKERS x PER_WORKER operations and KILLS kills (fewer under a
 * checker, TAMWIL_E2E_WRAP: see harness.h), each wait with a deadline.
 * TAMWIL_E2E_KEEP=1 keeps the temporary folder.
 */
#include <errno.h>
#include <pthread.h>
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

#include "harness.h"
#include "harness_domain.h"
#include "harness_office.h"
#include "keyfile.h"
#include "tamwil-client.h"

#define WORKERS	   4
#define PER_WORKER 75
#define KILLS	   12
/* Under a checker, whose daemon takes seconds to start. */
#define PER_WORKER_SLOW 10
#define KILLS_SLOW	3
/* The longest an office keeps retrying one operation. */
#define RETRY_MS 60000
#define RUN_MS	 30000

/* What the offices share with the test, under mu. */
struct world {
	pthread_mutex_t mu;
	int port; /* where the daemon listens now */
	hd_home home;
	hd_world h;
	char admin_key[H_PATH_MAX], admin_pub[H_PATH_MAX];
	char coord_key[H_PATH_MAX], coord_pub[H_PATH_MAX];
	keyfile_public server;
	keyfile_secret coord;
	h_daemon d;
	hd_result r;
	/*
	 * The daemon's environment: home.env unless full is set, then
	 * disk.env (disk.flag present: the state folder's disk is full).
	 */
	int full;
	h_disk disk;
};

/* One office: its operations and what became of them. */
struct office {
	struct world *w;
	int id;
	char state_dir[H_PATH_MAX + 16]; /* its saved checkpoint */
	int n;				 /* operations to send */
	char refs[PER_WORKER][32];	 /* acknowledged references */
	int acked, retries;
	char failure[TAMWIL_ERROR_MAX + 64]; /* "" while all is well */
};

static int world_port(struct world *w)
{
	int port;

	pthread_mutex_lock(&w->mu);
	port = w->port;
	pthread_mutex_unlock(&w->mu);
	return port;
}

/* Connects to wherever the daemon listens now; NULL with err. */
static tamwil_client *office_connect(struct office *o, tamwil_error *err)
{
	struct world *w = o->w;
	tamwil_client_options opt = {0};
	tamwil_client *c = NULL;
	char server[64];

	snprintf(server, sizeof(server), "127.0.0.1:%d", world_port(w));
	opt.server = server;
	opt.server_noise_pk = w->server.noise_pk;
	opt.server_data_pk = w->server.data_pk;
	opt.server_sign_pk = w->server.sign_pk;
	opt.state_dir = o->state_dir;
	opt.key = &w->coord;
	opt.connect_timeout_ms = 2000;
	opt.io_timeout_ms = 5000;
	if (tamwil_client_connect(&opt, &c, err) != TAMWIL_OK)
		return NULL;
	return c;
}

/* Builds, seals and signs submission i of office o on c; 0 or -1. */
static int office_sign(struct office *o, tamwil_client *c, int i,
		       uint8_t **bytes, size_t *len, uint8_t sig[64],
		       tamwil_error *err)
{
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	ho_submission s;
	char nid[32];
	int rc;

	snprintf(nid, sizeof(nid), "KC%02d%04d", o->id, i);
	id.national_id = nid;
	id.first_name = "Meriem";
	id.last_name = "Ait Lahcen";
	id.birth_date = "1995-07-14";
	rc = ho_submission_make(&s, c, &id, "CRASH-2026", "SOU", 1500000 + i,
				err);
	if (rc == TAMWIL_OK) {
		s.sub.activity = "Atelier de couture";
		rc = tamwil_client_sign(c, &s.op, bytes, len, sig, err);
	}
	ho_submission_free(&s);
	return rc == TAMWIL_OK ? 0 : -1;
}

/* Is st a failure that a resend may cure (head office away or killed)? */
static int office_transient(int st)
{
	return st == TAMWIL_ERR_UNREACHABLE || st == TAMWIL_ERR_TIMEOUT ||
	       st == TAMWIL_ERR_CLOSED || st == TAMWIL_ERR_NOT_ENROLLED;
}

/*
 * Sends operation i until head office acknowledges it, over *c
 * (reconnecting as needed). 0, or -1 with o->failure set.
 */
static int office_submit(struct office *o, tamwil_client **c, int i)
{
	int64_t deadline = h_now_ms() + RETRY_MS;
	uint8_t *bytes = NULL, sig[64];
	size_t len = 0;
	tamwil_error err;
	int rc = -1;

	while (h_now_ms() < deadline) {
		Tamwil__V1__OperationResult *res = NULL;
		int st;

		if (*c == NULL && (*c = office_connect(o, &err)) == NULL) {
			o->retries++;
			h_sleep_ms(30);
			continue;
		}
		/* Signed once: every resend is byte for byte the same. */
		if (bytes == NULL &&
		    office_sign(o, *c, i, &bytes, &len, sig, &err) != 0) {
			st = err.status;
			goto failed;
		}
		st = tamwil_client_send_signed(*c, bytes, len, sig, &res, &err);
		if (st == TAMWIL_OK) {
			snprintf(o->refs[i], sizeof(o->refs[i]), "%s",
				 res->reference);
			tamwil__v1__operation_result__free_unpacked(res, NULL);
			o->acked++;
			rc = 0;
			goto out;
		}
	failed:
		tamwil_client_close(*c);
		*c = NULL;
		if (!office_transient(st)) {
			snprintf(o->failure, sizeof(o->failure),
				 "operation %d: %s", i, err.message);
			goto out;
		}
		o->retries++;
		h_sleep_ms(20);
	}
	snprintf(o->failure, sizeof(o->failure),
		 "operation %d: not acknowledged within %d s", i,
		 RETRY_MS / 1000);
out:
	free(bytes);
	return rc;
}

static void *office_main(void *arg)
{
	struct office *o = arg;
	tamwil_client *c = NULL;

	for (int i = 0; i < o->n; i++)
		if (office_submit(o, &c, i) != 0)
			break;
	tamwil_client_close(c);
	return NULL;
}

/* ---- the world ----------------------------------------------------------- */

/*
 * Runs program with the NULL-terminated arguments; fails the test unless
 * it succeeds.
 */
static void must_run(struct world *w, const char *program, ...)
{
	char text[4096];
	va_list ap;
	hd_cmd c;

	hd_cmd_init(&c, program);
	va_start(ap, program);
	hd_cmd_add_va(&c, ap);
	va_end(ap);
	hd_cmd_text(&c, text, sizeof(text));
	if (hd_run(&w->r, RUN_MS, w->home.env, &c) != 0 || !hd_ok(&w->r)) {
		hd_result_print(&w->r, text);
		H_FAIL("command failed: %s", text);
	}
}

/* Runs tamwil as the admin with the NULL-terminated arguments. */
#define ADMIN(w, ...)                                                          \
	do {                                                                   \
		char server_[64];                                              \
		snprintf(server_, sizeof(server_), "127.0.0.1:%d",             \
			 world_port(w));                                       \
		must_run((w), h_tamwil_path(), "--server", server_,            \
			 "--server-key", (w)->h.server_pub, "--key",           \
			 (w)->admin_key, __VA_ARGS__, (char *)NULL);           \
	} while (0)

/* Starts the daemon and publishes its port. */
static void world_start(struct world *w)
{
	const char *const *env = w->full ? w->disk.env : w->home.env;

	if (h_daemon_start(&w->d, w->h.state, w->h.log, NULL, env) != 0)
		H_FAIL("tamwild did not start");
	pthread_mutex_lock(&w->mu);
	w->port = w->d.port;
	pthread_mutex_unlock(&w->mu);
}

/*
 * Makes head office with an admin, a coordinator of SOU and a programme,
 * its daemon running (on a disk that fills on demand when full is set).
 */
static void world_make(struct world *w, int full)
{
	assert_int_equal(pthread_mutex_init(&w->mu, NULL), 0);
	if (hd_head_office(&w->home, &w->h, w->admin_key, w->admin_pub,
			   w->coord_key, w->coord_pub, "Amina El Idrissi") != 0)
		H_FAIL("cannot make head office's state");
	assert_int_equal(keyfile_read_public(w->h.server_pub, &w->server),
			 KEYFILE_OK);
	assert_int_equal(keyfile_read_secret(w->coord_key, NULL, &w->coord),
			 KEYFILE_OK);
	if (full && h_disk_env(&w->disk, TAMWIL_ENOSPC_SHIM, w->h.state,
			       w->home.dir, "disk-full", w->home.env) != 0)
		H_FAIL("home folder path too long");
	w->full = full;
	world_start(w);
	ADMIN(w, "region", "add", "SOU", "Souss-Massa");
	ADMIN(w, "enrol", w->coord_pub, "--name", "Hafsa Ouchen", "--role",
	      "coordinator", "--region", "SOU");
	ADMIN(w, "programme", "add", "CRASH-2026", "--name",
	      "Programme d'essai", "--currency", "MAD", "--envelope",
	      "100 000 000,00", "--ceiling", "50 000,00");
}

/*
 * The end of a test: the daemon stopped, the state folder sound (its log
 * verified and replayed to the tables), and the applications exactly the
 * n acknowledged references, each once.
 */
static void world_verify(struct world *w, const char *const *refs, size_t n)
{
	json_t *list;
	size_t found = 0;
	int ws;

	assert_int_equal(h_daemon_stop(&w->d, 10000, &ws), 0);
	must_run(w, h_tamwild_path(), "check", "--state", w->h.state,
		 (char *)NULL);
	if (strstr(w->r.out, "all checks passed") == NULL)
		H_FAIL("tamwild check: %s", w->r.out);
	world_start(w);
	ADMIN(w, "--json", "list", "--all");
	list = hd_json_parse(w->r.out);
	assert_non_null(list);
	assert_int_equal(hd_json_count(list, "reference"), n);
	for (size_t i = 0; i < n; i++)
		found += hd_json_count_value(list, "reference", refs[i]) == 1;
	assert_int_equal(found, n);
	json_decref(list);
	assert_int_equal(h_daemon_stop(&w->d, 10000, &ws), 0);
}

/* Releases what world_make() made. */
static void world_free(struct world *w)
{
	h_daemon_kill(&w->d);
	hd_home_remove(&w->home);
	hd_result_free(&w->r);
	sodium_memzero(&w->coord, sizeof(w->coord));
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* ---- crashes ------------------------------------------------------------- */

static void test_kill_under_load(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct office *o = calloc(WORKERS, sizeof(*o));
	const char *refs[WORKERS * PER_WORKER];
	pthread_t t[WORKERS];
	int kills = 0, retries = 0, n = 0;
	int per_worker = h_count(PER_WORKER, PER_WORKER_SLOW);
	int nkills = h_count(KILLS, KILLS_SLOW);

	(void)state;
	assert_non_null(w);
	assert_non_null(o);
	world_make(w, 0);

	for (int i = 0; i < WORKERS; i++) {
		o[i].w = w;
		o[i].id = i;
		o[i].n = per_worker;
		snprintf(o[i].state_dir, sizeof(o[i].state_dir), "%s/office-%d",
			 w->home.dir, i);
		assert_int_equal(
		    pthread_create(&t[i], NULL, office_main, &o[i]), 0);
	}
	/* Kills at random moments while the offices work. */
	for (; kills < nkills; kills++) {
		h_sleep_ms(100 + (int)randombytes_uniform(300));
		h_daemon_kill(&w->d);
		h_sleep_ms((int)randombytes_uniform(100));
		world_start(w);
	}
	for (int i = 0; i < WORKERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < WORKERS; i++) {
		if (o[i].failure[0] != '\0')
			H_FAIL("office %d: %s", i, o[i].failure);
		assert_int_equal(o[i].acked, per_worker);
		retries += o[i].retries;
		for (int k = 0; k < per_worker; k++)
			refs[n++] = o[i].refs[k];
	}
	fprintf(stderr, "%d kills, %d operations acknowledged, %d resends\n",
		kills, n, retries);
	world_verify(w, refs, (size_t)n);
	world_free(w);
	free(o);
}

/* ---- a full disk --------------------------------------------------------- */

/* Submissions of one office, signed once and sent as often as needed. */
struct full_op {
	struct office *o;
	int i;			 /* the office's submission number */
	uint8_t *bytes, sig[64]; /* NULL until signed */
	size_t len;
	int status, code, replayed; /* what head office said last */
	char ref[32];
	char message[TAMWIL_ERROR_MAX];
};

/* Sends f over c, signing it the first time; records the answer. */
static void full_send_on(struct full_op *f, tamwil_client *c)
{
	Tamwil__V1__OperationResult *res = NULL;
	tamwil_error err = {0};

	f->code = 0;
	f->replayed = 0;
	f->message[0] = '\0';
	if (f->bytes == NULL &&
	    office_sign(f->o, c, f->i, &f->bytes, &f->len, f->sig, &err) != 0)
		f->status = err.status;
	else
		f->status = tamwil_client_send_signed(c, f->bytes, f->len,
						      f->sig, &res, &err);
	if (f->status == TAMWIL_OK && res != NULL) {
		snprintf(f->ref, sizeof(f->ref), "%s", res->reference);
		f->replayed = res->replayed;
		tamwil__v1__operation_result__free_unpacked(res, NULL);
		return;
	}
	f->code = err.code;
	snprintf(f->message, sizeof(f->message), "%s", err.message);
}

/* A thread: sends one full_op over a connection of its own. */
static void *full_send_main(void *arg)
{
	struct full_op *f = arg;
	tamwil_error err = {0};
	tamwil_client *c = office_connect(f->o, &err);

	if (c == NULL) {
		f->status = err.status;
		snprintf(f->message, sizeof(f->message), "%s", err.message);
		return NULL;
	}
	full_send_on(f, c);
	tamwil_client_close(c);
	return NULL;
}

/* Sends the n operations of v at once, each over its own connection. */
static void full_send_all(struct full_op *v, int n)
{
	pthread_t t[WORKERS];

	assert_true(n <= WORKERS);
	for (int i = 0; i < n; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, full_send_main, &v[i]), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
}

/* Fails unless f was refused because head office's disk is full. */
static void full_expect_refused(const struct full_op *f)
{
	if (f->status != TAMWIL_ERR_REFUSED ||
	    f->code != TAMWIL__V1__ERROR_CODE__ERROR_UNAVAILABLE ||
	    strstr(f->message, "disk is full") == NULL)
		H_FAIL("office %d, operation %d: status %d, code %d, \"%s\"; "
		       "expected a refusal for a full disk",
		       f->o->id, f->i, f->status, f->code, f->message);
}

/* Fails unless f was applied now (replayed 0) or before (replayed 1). */
static void full_expect_applied(const struct full_op *f, int replayed)
{
	if (f->status != TAMWIL_OK || f->replayed != replayed)
		H_FAIL("office %d, operation %d: status %d (replayed %d), "
		       "\"%s\"; expected it applied%s",
		       f->o->id, f->i, f->status, f->replayed, f->message,
		       replayed ? " before" : "");
}

/* The references head office acknowledged, in order. */
struct full_acked {
	const char *refs[64];
	size_t n;
};

static void full_acked_add(struct full_acked *a, const struct full_op *f)
{
	assert_true(a->n < sizeof(a->refs) / sizeof(a->refs[0]));
	a->refs[a->n++] = f->ref;
}

/* Sends f over c, expecting it applied now, and adds it to a. */
static void full_apply(struct full_acked *a, struct full_op *f,
		       tamwil_client *c)
{
	full_send_on(f, c);
	full_expect_applied(f, 0);
	full_acked_add(a, f);
}

/* office_connect(), failing the test when it cannot. */
static tamwil_client *full_connect(struct office *o)
{
	tamwil_error err;
	tamwil_client *c = office_connect(o, &err);

	if (c == NULL)
		H_FAIL("office %d: %s", o->id, err.message);
	return c;
}

/* Makes the state folder's disk full: "all" or "db" files, after bytes. */
static void full_fill(struct world *w, const char *what, long bytes)
{
	char text[64];

	snprintf(text, sizeof(text), "%s %ld\n", what, bytes);
	assert_int_equal(h_write_file(w->disk.flag, text), 0);
}

/* Gives the disk its room back. */
static void full_free(struct world *w)
{
	assert_int_equal(unlink(w->disk.flag), 0);
}

/*
 * Runs c (with the daemon's environment when daemon is set), expecting
 * exit status `status` and every string of needles on its stderr.
 */
static void full_run_expect(struct world *w, const hd_cmd *c, int daemon,
			    int status, const char *const needles[])
{
	const char *const *env = daemon ? w->disk.env : w->home.env;
	char text[4096];

	hd_cmd_text(c, text, sizeof(text));
	if (hd_run(&w->r, RUN_MS, env, c) != 0 || !w->r.exited ||
	    w->r.status != status) {
		hd_result_print(&w->r, text);
		H_FAIL("%s: expected exit status %d", text, status);
	}
	for (size_t i = 0; needles[i] != NULL; i++) {
		if (strstr(w->r.err, needles[i]) == NULL) {
			hd_result_print(&w->r, text);
			H_FAIL("%s: \"%s\" not said", text, needles[i]);
		}
	}
}

/*
 * The admin's tamwil, sending an operation to a full disk, tells why it
 * was refused and keeps it in its outbox for `tamwil sync` (status 75).
 */
static void full_cli_refused(struct world *w)
{
	const char *said[] = {"refused (unavailable)", "disk is full",
			      "queued: 1 operation waiting", NULL};
	hd_cmd c;

	hd_cmd_init(&c, h_tamwil_path());
	hd_cmd_add(&c, "--server");
	hd_cmd_addf(&c, "127.0.0.1:%d", world_port(w));
	hd_cmd_add(&c, "--server-key");
	hd_cmd_add(&c, w->h.server_pub);
	hd_cmd_add(&c, "--key");
	hd_cmd_add(&c, w->admin_key);
	hd_cmd_add(&c, "region");
	hd_cmd_add(&c, "add");
	hd_cmd_add(&c, "TNG");
	hd_cmd_add(&c, "Tanger-Tétouan-Al Hoceïma");
	full_run_expect(w, &c, 0, 75, said);
}

/* tamwild started on a full disk exits at once, saying the disk is full. */
static void full_start_refused(struct world *w)
{
	const char *said[] = {"disk is full", NULL};
	hd_cmd c;

	hd_cmd_init(&c, h_tamwild_path());
	hd_cmd_add(&c, "--state");
	hd_cmd_add(&c, w->h.state);
	hd_cmd_add(&c, "--listen");
	hd_cmd_add(&c, "127.0.0.1:0");
	full_run_expect(w, &c, 1, 1, said);
}

/* Operations acknowledged before the disk fills; offices at once. */
#define FULL_BEFORE  3
#define FULL_OFFICES WORKERS
/* What may still be written when the disk fills in a commit: about one
 * page of the write-ahead log and a half. */
#define FULL_MID_COMMIT 6000

static void test_full_disk(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct office *o = calloc(FULL_OFFICES, sizeof(*o));
	struct full_op *op = calloc(64, sizeof(*op));
	struct full_acked acked = {0};
	char wal[H_PATH_MAX];
	const char *full_log[] = {"not stored", "disk is full", NULL};
	tamwil_client *c;
	tamwil_whoami me;
	tamwil_error err;
	json_t *list;
	long from;
	size_t n = 0; /* the group of operations at hand */
	int ws, refused = 0;

	(void)state;
	assert_non_null(w);
	assert_non_null(o);
	assert_non_null(op);
	world_make(w, 1);
	if (h_path(wal, sizeof(wal), w->h.state, "tamwil.db-wal") != 0)
		H_FAIL("state folder path too long");
	for (int i = 0; i < FULL_OFFICES; i++) {
		o[i].w = w;
		o[i].id = i;
		snprintf(o[i].state_dir, sizeof(o[i].state_dir), "%s/office-%d",
			 w->home.dir, i);
	}
	for (int i = 0; i < 64; i++)
		op[i].o = &o[i % FULL_OFFICES];
	for (int i = 0; i < 64; i++)
		op[i].i = i / FULL_OFFICES;

	/* Acknowledged before, over a connection that stays open. */
	c = full_connect(&o[0]);
	for (; n < FULL_BEFORE; n++) {
		full_apply(&acked, &op[n * FULL_OFFICES], c);
	}

	/*
	 * The disk is full: an operation on the open connection and one from
	 * each office at once are refused as such, the daemon says why, and
	 * it goes on answering queries, old connections and new.
	 */
	full_fill(w, "all", 0);
	from = h_file_size(w->h.log);
	full_send_on(&op[n * FULL_OFFICES], c);
	full_expect_refused(&op[n * FULL_OFFICES]);
	if (h_log_wait(w->h.log, from, full_log, 5000) != 0) {
		h_log_dump(w->h.log, from);
		H_FAIL("tamwild did not log that its disk is full");
	}
	full_send_all(&op[(n + 1) * FULL_OFFICES], FULL_OFFICES);
	for (int i = 0; i < FULL_OFFICES; i++)
		full_expect_refused(&op[(n + 1) * FULL_OFFICES + i]);
	assert_int_equal(tamwil_client_whoami(c, &me, &err), TAMWIL_OK);
	assert_true(h_daemon_alive(&w->d));
	ADMIN(w, "--json", "list", "--all");
	list = hd_json_parse(w->r.out);
	assert_non_null(list);
	assert_int_equal(hd_json_count(list, "reference"), acked.n);
	json_decref(list);

	full_cli_refused(w);

	/*
	 * Stopped on a full disk, head office stops cleanly; it cannot start
	 * again until there is room (SQLite must write beside the database
	 * to open it), and says so.
	 */
	tamwil_client_close(c);
	assert_int_equal(h_daemon_stop(&w->d, 10000, &ws), 0);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	full_start_refused(w);

	/* Room again: the same bytes are applied once, then replayed. */
	full_free(w);
	world_start(w);
	ADMIN(w, "sync");
	c = full_connect(&o[0]);
	full_apply(&acked, &op[n * FULL_OFFICES], c);
	full_send_on(&op[n * FULL_OFFICES], c);
	full_expect_applied(&op[n * FULL_OFFICES], 1);
	assert_string_equal(op[n * FULL_OFFICES].ref, acked.refs[acked.n - 1]);
	n++;
	full_send_all(&op[n * FULL_OFFICES], FULL_OFFICES);
	for (int i = 0; i < FULL_OFFICES; i++) {
		full_expect_applied(&op[n * FULL_OFFICES + i], 0);
		full_acked_add(&acked, &op[n * FULL_OFFICES + i]);
	}
	n++;

	/*
	 * The disk fills in the middle of a commit of offices sending at
	 * once: each is applied or refused as such, never anything else; the
	 * refused ones are applied once when sent again with room.
	 */
	full_fill(w, "all", FULL_MID_COMMIT);
	full_send_all(&op[n * FULL_OFFICES], FULL_OFFICES);
	full_free(w);
	for (int i = 0; i < FULL_OFFICES; i++) {
		struct full_op *f = &op[n * FULL_OFFICES + i];

		if (f->status == TAMWIL_OK) {
			full_expect_applied(f, 0);
			full_acked_add(&acked, f);
			continue;
		}
		full_expect_refused(f);
		refused++;
		full_apply(&acked, f, c);
	}
	assert_true(refused > 0);
	n++;

	/*
	 * Only the database file is full, which only a checkpoint of the
	 * write-ahead log writes: operations are still kept (in the log),
	 * the checkpoint of the daemon's stop fails and leaves the log
	 * behind, a daemon started on it goes on, and the checkpoint is made
	 * once there is room.
	 */
	full_fill(w, "db", 0);
	full_apply(&acked, &op[n * FULL_OFFICES], c);
	n++;
	tamwil_client_close(c);
	assert_int_equal(h_daemon_stop(&w->d, 10000, &ws), 0);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	if (h_file_size(wal) <= 0)
		H_FAIL("the write-ahead log was checkpointed on a full disk");
	world_start(w);
	c = full_connect(&o[0]);
	full_apply(&acked, &op[n * FULL_OFFICES], c);
	tamwil_client_close(c);
	full_free(w);
	assert_int_equal(h_daemon_stop(&w->d, 10000, &ws), 0);
	if (h_file_size(wal) > 0)
		H_FAIL("the write-ahead log was not checkpointed at the stop");
	world_start(w);

	fprintf(stderr,
		"full disk: %zu operations acknowledged, %d refused in the "
		"commit that filled the disk\n",
		acked.n, refused);
	world_verify(w, acked.refs, acked.n);
	for (int i = 0; i < 64; i++)
		free(op[i].bytes);
	free(op);
	free(o);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_under_load),
	    cmocka_unit_test(test_full_disk),
	};

	if (sodium_init() < 0 || h_tamwild_path() == NULL ||
	    h_tamwil_path() == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
