/*
 * Rotation of the at-rest keys against the real tamwild. Beneficiaries
 * are filled in; `tamwild rekey` runs while an admin keeps reading their
 * names and a coordinator keeps submitting (new ones, and duplicates that
 * must stay refused); then every name reads back the same, no row is left
 * under the old version, the rows no longer open under the old keys, and
 * `tamwild check` passes. A rotation stopped half-way (a row it cannot
 * open) and one killed while it waits for the database both carry on to
 * completion when run again. The command's refusals follow, a backup
 * taken after the first rotation restores after the last, and a version
 * no row uses is retired.
 *
 * TAMWIL_E2E_KEEP=1 keeps the temporary folder.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "harness.h"
#include "harness_domain.h"
#include "harness_office.h"
#include "keyfile.h"
#include "seal.h"
#include "tamwil-client.h"

#define FILLED 600
/* Submissions the coordinator makes at most while the rotation runs. */
#define WRITES_MAX 400
#define RUN_MS	   60000

struct world {
	hd_home home;
	hd_world h;
	char admin_key[H_PATH_MAX], admin_pub[H_PATH_MAX];
	char coord_key[H_PATH_MAX], coord_pub[H_PATH_MAX];
	char db[H_PATH_MAX + 16];
	keyfile_public server;
	keyfile_secret admin, coord;
	h_daemon d;
	hd_result r;
	char refs[FILLED][32];
};

/* The reader and the writer that run beside a rotation. */
struct load {
	struct world *w;
	volatile int stop;
	/* reader */
	unsigned long answered, wrong, reader_failed;
	char reader_failure[TAMWIL_ERROR_MAX + 64];
	/* writer */
	int written, duplicates_refused;
	char writer_failure[TAMWIL_ERROR_MAX + 64];
	char written_refs[WRITES_MAX][32];
};

/* ---- the client side ------------------------------------------------------
 */

static tamwil_client *world_client(struct world *w, const keyfile_secret *key)
{
	tamwil_client_options opt = {0};
	tamwil_client *c = NULL;
	tamwil_error err;
	char server[64];

	snprintf(server, sizeof(server), "127.0.0.1:%d", w->d.port);
	opt.server = server;
	opt.server_noise_pk = w->server.noise_pk;
	opt.server_data_pk = w->server.data_pk;
	opt.server_sign_pk = w->server.sign_pk;
	opt.key = key;
	opt.connect_timeout_ms = 5000;
	opt.io_timeout_ms = 20000;
	if (tamwil_client_connect(&opt, &c, &err) != TAMWIL_OK)
		H_FAIL("cannot connect: %s", err.message);
	return c;
}

/* The name beneficiary number i was given. */
static void expected_name(int i, char *out, size_t cap)
{
	snprintf(out, cap, "Prenom%04d Nom%04d", i, i);
}

/*
 * Submits an application for the beneficiary of national ID nid, named
 * after i. TAMWIL_OK with the reference in ref, or the status with err.
 */
static int submit(tamwil_client *c, const char *nid, int i, char ref[32],
		  tamwil_error *err)
{
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__OperationResult *res = NULL;
	ho_submission s;
	char first[32], last[32];
	int st;

	snprintf(first, sizeof(first), "Prenom%04d", i);
	snprintf(last, sizeof(last), "Nom%04d", i);
	id.national_id = (char *)nid;
	id.first_name = first;
	id.last_name = last;
	id.birth_date = "1991-03-02";
	id.phone = "+212 600 000 000";
	st = ho_submission_make(&s, c, &id, "REKEY-2026", "SOU", 1000000 + i,
				err);
	if (st == TAMWIL_OK)
		st = tamwil_client_operate(c, &s.op, &res, err);
	ho_submission_free(&s);
	if (st == TAMWIL_OK) {
		snprintf(ref, 32, "%s", res->reference);
		tamwil__v1__operation_result__free_unpacked(res, NULL);
	}
	return st;
}

/* The beneficiary's name head office shows for ref, into name. */
static int read_name(tamwil_client *c, const char *ref, char *name, size_t cap,
		     tamwil_error *err)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__GetApplicationRequest get =
	    TAMWIL__V1__GET_APPLICATION_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	int st;

	get.reference = (char *)ref;
	req.body_case = TAMWIL__V1__REQUEST__BODY_GET_APPLICATION;
	req.get_application = &get;
	st = tamwil_client_call(c, &req, &resp, err);
	if (st != TAMWIL_OK)
		return st;
	snprintf(name, cap, "%s",
		 resp->application->application->beneficiary_name);
	tamwil__v1__response__free_unpacked(resp, NULL);
	return TAMWIL_OK;
}

/*
 * The n applications refs read back with the names given to beneficiaries
 * first, first + 1, ...
 */
static void assert_names_of(struct world *w, char (*refs)[32], int n, int first)
{
	tamwil_client *c = world_client(w, &w->admin);
	char name[128], want[64];
	tamwil_error err;

	for (int i = 0; i < n; i++) {
		if (read_name(c, refs[i], name, sizeof(name), &err) !=
		    TAMWIL_OK)
			H_FAIL("%s: %s", refs[i], err.message);
		expected_name(first + i, want, sizeof(want));
		if (strcmp(name, want) != 0)
			H_FAIL("%s reads as '%s', not '%s'", refs[i], name,
			       want);
	}
	tamwil_client_close(c);
}

/* Every filled beneficiary's name reads back as it was given. */
static void assert_names(struct world *w)
{
	assert_names_of(w, w->refs, FILLED, 0);
}

/* The admin reads every name over and over until told to stop. */
static void *reader_main(void *arg)
{
	struct load *l = arg;
	tamwil_client *c = world_client(l->w, &l->w->admin);
	char name[128], want[64];
	tamwil_error err;

	for (int i = 0; !l->stop; i = (i + 1) % FILLED) {
		if (read_name(c, l->w->refs[i], name, sizeof(name), &err) !=
		    TAMWIL_OK) {
			snprintf(l->reader_failure, sizeof(l->reader_failure),
				 "%s: %s", l->w->refs[i], err.message);
			l->reader_failed++;
			break;
		}
		expected_name(i, want, sizeof(want));
		if (strcmp(name, want) != 0) {
			snprintf(l->reader_failure, sizeof(l->reader_failure),
				 "%s reads as '%s'", l->w->refs[i], name);
			l->wrong++;
		}
		__atomic_add_fetch(&l->answered, 1, __ATOMIC_RELAXED);
	}
	tamwil_client_close(c);
	return NULL;
}

/*
 * The coordinator submits, in turn, a new beneficiary and one already
 * filled, which must be refused as a duplicate.
 */
static void *writer_main(void *arg)
{
	struct load *l = arg;
	tamwil_client *c = world_client(l->w, &l->w->coord);
	tamwil_error err;
	char nid[32], ref[32];

	for (int k = 0; !l->stop && l->written < WRITES_MAX; k++) {
		int st;

		if (k % 2 == 1) {
			snprintf(nid, sizeof(nid), "KF%05d", k % FILLED);
			st = submit(c, nid, k % FILLED, ref, &err);
			if (st == TAMWIL_ERR_REFUSED &&
			    err.code ==
				TAMWIL__V1__ERROR_CODE__ERROR_DUPLICATE_APPLICATION) {
				__atomic_add_fetch(&l->duplicates_refused, 1,
						   __ATOMIC_RELAXED);
				continue;
			}
			snprintf(l->writer_failure, sizeof(l->writer_failure),
				 "duplicate %s not refused as one: %s", nid,
				 st == TAMWIL_OK ? ref : err.message);
			break;
		}
		snprintf(nid, sizeof(nid), "KW%05d", l->written);
		if (submit(c, nid, FILLED + l->written, ref, &err) !=
		    TAMWIL_OK) {
			snprintf(l->writer_failure, sizeof(l->writer_failure),
				 "%s: %s", nid, err.message);
			break;
		}
		snprintf(l->written_refs[l->written], 32, "%s", ref);
		l->written++;
	}
	tamwil_client_close(c);
	return NULL;
}

/* ---- the world ------------------------------------------------------------
 */

/*
 * Runs program with the NULL-terminated arguments into w->r; returns its
 * exit status (-1: it did not exit by itself).
 */
static int run(struct world *w, const char *program, ...)
{
	va_list ap;
	hd_cmd c;

	hd_cmd_init(&c, program);
	va_start(ap, program);
	hd_cmd_add_va(&c, ap);
	va_end(ap);
	if (hd_run(&w->r, RUN_MS, w->home.env, &c) != 0 || !w->r.exited ||
	    w->r.timed_out)
		return -1;
	return w->r.status;
}

/* run(), failing the test unless it succeeds. */
#define MUST(w, ...)                                                           \
	do {                                                                   \
		if (run((w), __VA_ARGS__, (char *)NULL) != 0) {                \
			hd_result_print(&(w)->r, "command");                   \
			H_FAIL("command failed");                              \
		}                                                              \
	} while (0)

/* Runs tamwil as the admin. */
#define ADMIN(w, ...)                                                          \
	do {                                                                   \
		char server_[64];                                              \
		snprintf(server_, sizeof(server_), "127.0.0.1:%d",             \
			 (w)->d.port);                                         \
		MUST((w), h_tamwil_path(), "--server", server_,                \
		     "--server-key", (w)->h.server_pub, "--key",               \
		     (w)->admin_key, __VA_ARGS__);                             \
	} while (0)

/* Fails the test unless w->r's stdout holds needle. */
static void out_has(struct world *w, const char *needle)
{
	if (strstr(w->r.out, needle) == NULL) {
		hd_result_print(&w->r, needle);
		H_FAIL("the output lacks '%s'", needle);
	}
}

/* `tamwild rekey` on the world's state, which must succeed. */
static void rekey_ok(struct world *w)
{
	if (run(w, h_tamwild_path(), "rekey", "--state", w->h.state,
		(char *)NULL) != 0) {
		hd_result_print(&w->r, "tamwild rekey");
		H_FAIL("tamwild rekey failed");
	}
	out_has(w, "rekey done: all ");
}

static void world_make(struct world *w)
{
	tamwil_client *c;
	tamwil_error err;
	char nid[32];

	if (hd_head_office(&w->home, &w->h, w->admin_key, w->admin_pub,
			   w->coord_key, w->coord_pub, "Amina El Idrissi") != 0)
		H_FAIL("cannot make head office's state");
	snprintf(w->db, sizeof(w->db), "%s/tamwil.db", w->h.state);
	assert_int_equal(keyfile_read_public(w->h.server_pub, &w->server),
			 KEYFILE_OK);
	assert_int_equal(keyfile_read_secret(w->admin_key, NULL, &w->admin),
			 KEYFILE_OK);
	assert_int_equal(keyfile_read_secret(w->coord_key, NULL, &w->coord),
			 KEYFILE_OK);
	if (h_daemon_start(&w->d, w->h.state, w->h.log, NULL, w->home.env) != 0)
		H_FAIL("tamwild did not start");
	ADMIN(w, "region", "add", "SOU", "Souss-Massa");
	ADMIN(w, "enrol", w->coord_pub, "--name", "Hafsa Ouchen", "--role",
	      "coordinator", "--region", "SOU");
	ADMIN(w, "programme", "add", "REKEY-2026", "--name", "Essai",
	      "--currency", "MAD", "--envelope", "100 000 000,00", "--ceiling",
	      "50 000,00");
	c = world_client(w, &w->coord);
	for (int i = 0; i < FILLED; i++) {
		snprintf(nid, sizeof(nid), "KF%05d", i);
		if (submit(c, nid, i, w->refs[i], &err) != TAMWIL_OK)
			H_FAIL("filling %s: %s", nid, err.message);
	}
	tamwil_client_close(c);
}

/* ---- the database, read beside the daemon ---------------------------------
 */

static sqlite3 *db_open(struct world *w)
{
	sqlite3 *db = NULL;

	assert_int_equal(
	    sqlite3_open_v2(w->db, &db, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	return db;
}

/* The one integer sql answers. */
static int64_t db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void db_exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		H_FAIL("%s: %s", sql, sqlite3_errmsg(db));
}

/* A copy of beneficiary id's blind index and sealed identity. */
struct row {
	uint8_t index[32];
	uint8_t sealed[512];
	int len;
	int64_t version;
};

static void db_row(sqlite3 *db, int64_t id, struct row *r)
{
	sqlite3_stmt *s = NULL;

	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "SELECT blind_index, identity, key_version"
			       " FROM beneficiaries WHERE id = ?1",
			       -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(s, 1, id);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(s, 0), 32);
	r->len = sqlite3_column_bytes(s, 1);
	assert_true(r->len > SEAL_REST_OVERHEAD &&
		    r->len <= (int)sizeof(r->sealed));
	memcpy(r->index, sqlite3_column_blob(s, 0), 32);
	memcpy(r->sealed, sqlite3_column_blob(s, 1), (size_t)r->len);
	r->version = sqlite3_column_int64(s, 2);
	sqlite3_finalize(s);
}

/* Puts r's sealed identity back into beneficiary id. */
static void db_put_identity(sqlite3 *db, int64_t id, const uint8_t *sealed,
			    int len)
{
	sqlite3_stmt *s = NULL;

	assert_int_equal(sqlite3_prepare_v2(db,
					    "UPDATE beneficiaries SET identity "
					    "= ?2 WHERE id = ?1",
					    -1, &s, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_blob(s, 2, sealed, len, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
}

/*
 * The at-rest keys of version v, from the state folder's key files as
 * head office derives them.
 */
static void keys_of(struct world *w, unsigned v, seal_keys *k)
{
	char path[H_PATH_MAX + 16];
	keyfile_data data;
	keyfile_rest *rest = malloc(sizeof(*rest));

	assert_non_null(rest);
	if (v == 0) {
		snprintf(path, sizeof(path), "%s/data.key", w->h.state);
		assert_int_equal(keyfile_read_data(path, NULL, &data), 0);
		assert_int_equal(seal_derive(k, data.sk), 0);
		sodium_memzero(&data, sizeof(data));
	} else {
		snprintf(path, sizeof(path), "%s/rest.keys", w->h.state);
		assert_int_equal(keyfile_read_rest(path, rest), 0);
		assert_true(rest->count >= v);
		assert_int_equal(seal_derive_version(k, rest->key[v - 1]), 0);
	}
	sodium_memzero(rest, sizeof(*rest));
	free(rest);
}

/* 1 if r's sealed identity opens under k, with its stored blind index. */
static int opens_under(const struct row *r, const seal_keys *k)
{
	uint8_t plain[512];

	return seal_rest_open(k, r->sealed, (size_t)r->len, r->index,
			      sizeof(r->index), plain) == 0;
}

/* ---- the test -------------------------------------------------------------
 */

/* Rotation under load: reads and writes go on, nothing is lost. */
static void rotate_under_load(struct world *w, struct row *before)
{
	struct load *l = calloc(1, sizeof(*l));
	pthread_t reader, writer;
	unsigned long answered_before, answered_after;
	sqlite3 *db = db_open(w);
	seal_keys old, fresh;

	assert_non_null(l);
	l->w = w;
	for (int i = 0; i < FILLED; i++)
		db_row(db, i + 1, &before[i]);
	assert_int_equal(db_int(db, "SELECT count(*) FROM beneficiaries"
				    " WHERE key_version <> 0"),
			 0);
	assert_int_equal(pthread_create(&reader, NULL, reader_main, l), 0);
	assert_int_equal(pthread_create(&writer, NULL, writer_main, l), 0);
	/* Both at work before the rotation starts. */
	while (
	    (__atomic_load_n(&l->answered, __ATOMIC_RELAXED) < 20 ||
	     __atomic_load_n(&l->duplicates_refused, __ATOMIC_RELAXED) < 1) &&
	    l->reader_failure[0] == '\0' && l->writer_failure[0] == '\0')
		h_sleep_ms(10);
	answered_before = __atomic_load_n(&l->answered, __ATOMIC_RELAXED);
	rekey_ok(w);
	answered_after = __atomic_load_n(&l->answered, __ATOMIC_RELAXED);
	l->stop = 1;
	assert_int_equal(pthread_join(reader, NULL), 0);
	assert_int_equal(pthread_join(writer, NULL), 0);
	fprintf(stderr,
		"%lu names read during the rotation, %d submissions and %d "
		"duplicates refused beside it\n",
		answered_after - answered_before, l->written,
		l->duplicates_refused);
	out_has(w, "holds at-rest key version 1");
	out_has(w, "at-rest key version 1 added");
	if (l->reader_failure[0] != '\0')
		H_FAIL("reader: %s", l->reader_failure);
	if (l->writer_failure[0] != '\0')
		H_FAIL("writer: %s", l->writer_failure);
	assert_true(answered_after > answered_before);
	assert_true(l->written > 0);
	assert_true(l->duplicates_refused > 0);

	/* What was written beside the rotation reads back too. */
	assert_names_of(w, l->written_refs, l->written, FILLED);
	/* Nothing under the old version; no row was added twice. */
	assert_int_equal(db_int(db, "SELECT count(*) FROM beneficiaries"
				    " WHERE key_version <> 1"),
			 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM beneficiaries"),
			 FILLED + l->written);
	/* Every row sealed anew: it opens under version 1, not under 0. */
	keys_of(w, 0, &old);
	keys_of(w, 1, &fresh);
	for (int i = 0; i < FILLED; i++) {
		struct row now;

		db_row(db, i + 1, &now);
		assert_true(opens_under(&before[i], &old));
		assert_false(opens_under(&before[i], &fresh));
		assert_int_equal(now.version, 1);
		assert_memory_not_equal(now.index, before[i].index, 32);
		assert_memory_not_equal(now.sealed, before[i].sealed,
					(size_t)now.len);
		assert_false(opens_under(&now, &old));
		assert_true(opens_under(&now, &fresh));
	}
	sodium_memzero(&old, sizeof(old));
	sodium_memzero(&fresh, sizeof(fresh));
	sqlite3_close(db);
	free(l);
}

/* A known beneficiary submitted again, spelled otherwise: a duplicate. */
static void assert_duplicate_refused(struct world *w, const char *nid, int i)
{
	tamwil_client *c = world_client(w, &w->coord);
	tamwil_error err;
	char ref[32];

	assert_int_equal(submit(c, nid, i, ref, &err), TAMWIL_ERR_REFUSED);
	assert_int_equal(err.code,
			 TAMWIL__V1__ERROR_CODE__ERROR_DUPLICATE_APPLICATION);
	tamwil_client_close(c);
}

/*
 * A rotation that stops half-way (one row does not open), then one
 * killed while it waits for the database: run again, it completes.
 */
static void rotate_interrupted(struct world *w)
{
	sqlite3 *db = db_open(w);
	int64_t middle = FILLED / 2 + 60, under1, under2;
	uint8_t garbage[512];
	struct row keep;
	h_result *killed = calloc(1, sizeof(*killed));
	h_proc p;
	const char *argv[] = {h_tamwild_path(), "rekey", "--state", w->h.state,
			      NULL};

	assert_non_null(killed);
	db_row(db, middle, &keep);
	randombytes_buf(garbage, sizeof(garbage));
	db_put_identity(db, middle, garbage, keep.len);
	assert_int_equal(run(w, h_tamwild_path(), "rekey", "--state",
			     w->h.state, (char *)NULL),
			 1);
	out_has(w, "at-rest key version 2 added");
	out_has(w, "rekey stopped after 256 identities");
	out_has(w, "does not open under at-rest key version 1");
	out_has(w, "run it again to carry on");
	under1 = db_int(db, "SELECT count(*) FROM beneficiaries"
			    " WHERE key_version = 1");
	under2 = db_int(db, "SELECT count(*) FROM beneficiaries"
			    " WHERE key_version = 2");
	assert_int_equal(under2, 256);
	assert_true(under1 > 0);
	db_put_identity(db, middle, keep.sealed, keep.len);

	/* Killed while the database is ours: it cannot have finished. */
	db_exec(db, "BEGIN IMMEDIATE");
	assert_int_equal(h_spawn(&p, argv, w->home.env), 0);
	h_sleep_ms(1500);
	assert_int_equal(kill(p.pid, SIGKILL), 0);
	assert_int_equal(h_collect(&p, h_now_ms() + RUN_MS, killed), 0);
	assert_int_equal(killed->exited, 0);
	free(killed);
	db_exec(db, "ROLLBACK");
	assert_int_equal(db_int(db, "SELECT count(*) FROM beneficiaries"
				    " WHERE key_version = 2"),
			 under2);
	/* Meanwhile head office reads rows of either version. */
	assert_names(w);
	assert_duplicate_refused(w, "KF00599", 599);
	assert_duplicate_refused(w, "kf-00001", 1);

	rekey_ok(w);
	out_has(w, "carrying on to version 2");
	out_has(w, "sealed under at-rest key version 2");
	assert_int_equal(db_int(db, "SELECT count(*) FROM beneficiaries"
				    " WHERE key_version <> 2"),
			 0);
	sqlite3_close(db);
}

/* What tamwild rekey refuses, each with a sentence naming it. */
static void rekey_refusals(struct world *w)
{
	char path[H_PATH_MAX + 16], dir[H_PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s/nowhere", w->home.dir);
	assert_int_equal(
	    run(w, h_tamwild_path(), "rekey", "--state", dir, (char *)NULL), 1);
	assert_non_null(strstr(w->r.err, "is not a Tamwil state folder"));
	assert_int_equal(run(w, h_tamwild_path(), "rekey", (char *)NULL), 2);
	assert_non_null(strstr(w->r.err, "rekey needs --state DIR"));
	snprintf(path, sizeof(path), "%s/rest.keys", w->h.state);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(run(w, h_tamwild_path(), "rekey", "--state",
			     w->h.state, (char *)NULL),
			 1);
	assert_non_null(strstr(w->r.err, "rest.keys"));
	assert_non_null(strstr(w->r.err, "readable or writable by other"));
	assert_int_equal(chmod(path, 0600), 0);
}

static void test_rekey(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct row *before = calloc(FILLED, sizeof(*before));
	char backup[H_PATH_MAX + 16], rest[H_PATH_MAX + 16];
	char aside[H_PATH_MAX + 32];
	int ws;

	(void)state;
	assert_non_null(w);
	assert_non_null(before);
	world_make(w);
	rotate_under_load(w, before);
	assert_names(w);
	/* A backup whose rows are under version 1. */
	snprintf(backup, sizeof(backup), "%s/before.db", w->home.dir);
	MUST(w, h_tamwild_path(), "backup", "--state", w->h.state, "--out",
	     backup);
	out_has(w, "rest.keys");
	rotate_interrupted(w);
	assert_names(w);

	MUST(w, h_tamwild_path(), "check", "--state", w->h.state);
	out_has(w, "all checks passed");
	out_has(w, "open under their at-rest keys (version 2: ");

	/* A restarted daemon reads the keys from rest.keys. */
	assert_int_equal(h_daemon_stop(&w->d, 10000, &ws), 0);
	rekey_refusals(w);
	rekey_ok(w);
	out_has(w, "tamwild is not running");
	out_has(w, "sealed under at-rest key version 3");
	if (h_daemon_start(&w->d, w->h.state, w->h.log, NULL, w->home.env) != 0)
		H_FAIL("tamwild did not start again");
	assert_names(w);
	assert_duplicate_refused(w, "KF00007", 7);

	/* The backup restores after three rotations: version 1 was kept. */
	assert_int_equal(h_daemon_stop(&w->d, 10000, &ws), 0);
	MUST(w, h_tamwild_path(), "restore", "--state", w->h.state, "--from",
	     backup);
	MUST(w, h_tamwild_path(), "check", "--state", w->h.state);
	out_has(w, "all checks passed");
	out_has(w, "open under their at-rest keys (version 1: ");
	/* Without the version its rows need, the state is refused. */
	snprintf(rest, sizeof(rest), "%s/rest.keys", w->h.state);
	snprintf(aside, sizeof(aside), "%s/rest.keys.aside", w->home.dir);
	assert_int_equal(rename(rest, aside), 0);
	assert_int_equal(run(w, h_tamwild_path(), "check", "--state",
			     w->h.state, (char *)NULL),
			 1);
	assert_non_null(strstr(w->r.err, "at-rest key version 1, which"));
	assert_int_equal(rename(aside, rest), 0);
	if (h_daemon_start(&w->d, w->h.state, w->h.log, NULL, w->home.env) != 0)
		H_FAIL("tamwild did not start on the restored state");
	assert_names(w);

	/* A version no row uses is retired; one still used is not. */
	assert_int_equal(run(w, h_tamwild_path(), "rekey", "--state",
			     w->h.state, "--retire", "1", (char *)NULL),
			 1);
	out_has(w, "still sealed under version 1");
	assert_int_equal(run(w, h_tamwild_path(), "rekey", "--state",
			     w->h.state, "--retire", "one", (char *)NULL),
			 2);
	assert_non_null(strstr(w->r.err, "is not an at-rest key version"));
	MUST(w, h_tamwild_path(), "rekey", "--state", w->h.state, "--retire",
	     "2");
	out_has(w, "at-rest key version 2 retired");
	assert_int_equal(h_daemon_stop(&w->d, 10000, &ws), 0);
	if (h_daemon_start(&w->d, w->h.state, w->h.log, NULL, w->home.env) != 0)
		H_FAIL("tamwild did not start with version 2 retired");
	assert_names(w);
	assert_duplicate_refused(w, "KF00011", 11);

	h_daemon_kill(&w->d);
	hd_home_remove(&w->home);
	hd_result_free(&w->r);
	sodium_memzero(&w->admin, sizeof(w->admin));
	sodium_memzero(&w->coord, sizeof(w->coord));
	free(before);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rekey),
	};

	if (sodium_init() < 0 || h_tamwild_path() == NULL ||
	    h_tamwil_path() == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
