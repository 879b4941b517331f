/*
 * Unit tests of the store: schema creation and upgrade, the database
 * settings durability depends on, and the principal calls with their
 * refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

struct fixture {
	char dir[64];
	char path[128];
	store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	assert_int_equal(store_open(f->path, 1, &f->st, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	store_close(f->st);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Runs a one-value query on a separate connection. */
static long long query_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void key(uint8_t *k, uint8_t fill)
{
	memset(k, fill, STORE_KEYLEN);
}

static void test_schema_is_current_and_wal(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(query_int(f->path, "PRAGMA user_version"),
			 store_schema_version());
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
					    "sqlite_master WHERE name IN "
					    "('regions', 'principals')"),
			 2);
	/* journal_mode is persistent: a new connection sees WAL. */
	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_principal_round_trip(void **state)
{
	struct fixture *f = *state;
	uint8_t n[STORE_KEYLEN], s[STORE_KEYLEN];
	store_principal p;
	int64_t id, count;

	key(n, 1);
	key(s, 2);
	assert_int_equal(store_principal_add(f->st, "Amina Benali", "admin",
					     NULL, n, s, 0, &id),
			 0);
	assert_true(id > 0);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_principal_by_noise(f->st, n, &p), 0);
	assert_int_equal(p.id, id);
	assert_string_equal(p.name, "Amina Benali");
	assert_string_equal(p.role, "admin");
	assert_string_equal(p.region, "");
	assert_memory_equal(p.noise_pk, n, STORE_KEYLEN);
	assert_memory_equal(p.sign_pk, s, STORE_KEYLEN);
	assert_int_equal(p.revoked, 0);
	assert_int_equal(store_principal_count(f->st, &count), 0);
	assert_int_equal(count, 1);
}

static void test_arabic_name_kept_exactly(void **state)
{
	struct fixture *f = *state;
	const char *name = "فاطمة الزهراء بنعلي";
	uint8_t n[STORE_KEYLEN], s[STORE_KEYLEN];
	store_principal p;
	int64_t id;

	key(n, 3);
	key(s, 4);
	assert_int_equal(
	    store_principal_add(f->st, name, "approver", NULL, n, s, 0, &id),
	    0);
	assert_int_equal(store_principal_by_noise(f->st, n, &p), 0);
	assert_string_equal(p.name, name);
}

static void test_duplicate_key_conflicts(void **state)
{
	struct fixture *f = *state;
	uint8_t n[STORE_KEYLEN], s[STORE_KEYLEN], s2[STORE_KEYLEN];
	int64_t id, count;

	key(n, 5);
	key(s, 6);
	key(s2, 7);
	assert_int_equal(
	    store_principal_add(f->st, "A", "admin", NULL, n, s, 0, &id), 0);
	assert_int_equal(
	    store_principal_add(f->st, "B", "auditor", NULL, n, s2, 0, &id),
	    STORE_CONFLICT);
	assert_non_null(strstr(store_errmsg(f->st), "already enrolled"));
	assert_int_equal(store_principal_count(f->st, &count), 0);
	assert_int_equal(count, 1);
}

static void test_unknown_region_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t n[STORE_KEYLEN], s[STORE_KEYLEN];
	int64_t id, count;

	key(n, 8);
	key(s, 9);
	assert_int_equal(
	    store_principal_add(f->st, "C", "coordinator", "LAG", n, s, 0, &id),
	    STORE_NOT_FOUND);
	assert_non_null(strstr(store_errmsg(f->st), "unknown region LAG"));
	assert_int_equal(store_principal_count(f->st, &count), 0);
	assert_int_equal(count, 0);
}

static void test_bad_role_refused_by_schema(void **state)
{
	struct fixture *f = *state;
	uint8_t n[STORE_KEYLEN], s[STORE_KEYLEN];
	int64_t id;

	key(n, 10);
	key(s, 11);
	assert_int_equal(
	    store_principal_add(f->st, "D", "king", NULL, n, s, 0, &id), -1);
	/* A coordinator without a region breaks the schema's CHECK too. */
	assert_int_equal(
	    store_principal_add(f->st, "E", "coordinator", NULL, n, s, 0, &id),
	    -1);
}

static void test_revoke(void **state)
{
	struct fixture *f = *state;
	uint8_t n[STORE_KEYLEN], s[STORE_KEYLEN], other[STORE_KEYLEN];
	store_principal p;
	int64_t id;

	key(n, 12);
	key(s, 13);
	key(other, 14);
	assert_int_equal(
	    store_principal_add(f->st, "F", "treasurer", NULL, n, s, 0, &id),
	    0);
	assert_int_equal(store_principal_revoke(f->st, n), 0);
	assert_int_equal(store_principal_by_noise(f->st, n, &p), 0);
	assert_int_equal(p.revoked, 1);
	/* Revoking twice, or an unknown key, finds nothing to revoke. */
	assert_int_equal(store_principal_revoke(f->st, n), STORE_NOT_FOUND);
	assert_int_equal(store_principal_revoke(f->st, other), STORE_NOT_FOUND);
	assert_int_equal(store_principal_by_noise(f->st, other, &p),
			 STORE_NOT_FOUND);
}

static void test_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	uint8_t n[STORE_KEYLEN], s[STORE_KEYLEN];
	store_principal p;
	char err[256];
	int64_t id;

	key(n, 15);
	key(s, 16);
	assert_int_equal(
	    store_principal_add(f->st, "G", "admin", NULL, n, s, 0, &id), 0);
	store_close(f->st);
	assert_int_equal(store_open(f->path, 0, &f->st, err, sizeof(err)), 0);
	assert_int_equal(store_principal_by_noise(f->st, n, &p), 0);
	assert_string_equal(p.name, "G");
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	store *st = NULL;
	sqlite3 *db;
	char err[256], sql[64];

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 store_schema_version() + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, 0, &st, err, sizeof(err)), -1);
	assert_null(st);
	assert_non_null(strstr(err, "newer than this tamwild"));
}

static void test_missing_database_not_created(void **state)
{
	struct fixture *f = *state;
	char path[160], err[256];
	store *st = NULL;

	snprintf(path, sizeof(path), "%s/absent.db", f->dir);
	assert_int_equal(store_open(path, 0, &st, err, sizeof(err)), -1);
	assert_null(st);
	assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_schema_is_current_and_wal,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_principal_round_trip, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_arabic_name_kept_exactly,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_key_conflicts, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_region_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_role_refused_by_schema,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_missing_database_not_created,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
