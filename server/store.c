/*
 * The store: opening, migrations, principals and the helpers its other
 * files share (store_domain.c writes, store_query.c reads lists and
 * reports). Statements are prepared once, on first use, and kept for the
 * life of the connection; every call resets what it used before returning,
 * so no statement holds a read transaction open between calls.
 */
#include "store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_private.h"
#include "store_schema.h"

static const char *const store_sql[STMT_COUNT] = {
    [STMT_PRINCIPAL_ADD] =
	"INSERT INTO principals(name, role, region_id, noise_pk, sign_pk,"
	" enrolled_by, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [STMT_PRINCIPAL_BY_NOISE] =
	"SELECT p.id, p.name, p.role, coalesce(r.code, ''), p.noise_pk,"
	" p.sign_pk, p.status = 'revoked' FROM principals p"
	" LEFT JOIN regions r ON r.id = p.region_id WHERE p.noise_pk = ?1",
    [STMT_PRINCIPAL_REVOKE] =
	"UPDATE principals SET status = 'revoked', revoked_at = ?2"
	" WHERE noise_pk = ?1 AND status = 'active'",
    [STMT_PRINCIPAL_COUNT] = "SELECT count(*) FROM principals",
};

/* Records the database's error after what was being done: -1. */
int store_fail(store *st, const char *what)
{
	int os = st->db ? sqlite3_system_errno(st->db) : 0;

	/* A full disk may also surface as an I/O error of a file's growth. */
	st->full = st->db != NULL &&
		   ((sqlite3_errcode(st->db) & 0xff) == SQLITE_FULL ||
		    os == ENOSPC || os == EDQUOT);
	snprintf(st->err, sizeof(st->err), "%s: %s", what,
		 st->db ? sqlite3_errmsg(st->db) : "no database");
	return -1;
}

/* The cached statement id, prepared from sql on first use; NULL on error. */
sqlite3_stmt *store_stmt(store *st, enum store_stmt id, const char *sql)
{
	if (st->stmt[id] != NULL)
		return st->stmt[id];
	if (sql == NULL) {
		snprintf(st->err, sizeof(st->err), "statement %d has no SQL",
			 (int)id);
		return NULL;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &st->stmt[id], NULL) != SQLITE_OK) {
		store_fail(st, "prepare");
		return NULL;
	}
	return st->stmt[id];
}

/* This file's statements. */
static sqlite3_stmt *store_base_stmt(store *st, enum store_stmt id)
{
	return store_stmt(st, id, store_sql[id]);
}

/* Resets s and clears its bindings; errors were reported by the step. */
void store_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Binds text, NULL for NULL or "": SQLITE_OK or an error. */
int store_bind_text_or_null(sqlite3_stmt *s, int col, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return sqlite3_bind_null(s, col);
	return sqlite3_bind_text(s, col, text, -1, SQLITE_STATIC);
}

/* Binds v, NULL for 0: SQLITE_OK or an error. */
int store_bind_int64_or_null(sqlite3_stmt *s, int col, int64_t v)
{
	if (v == 0)
		return sqlite3_bind_null(s, col);
	return sqlite3_bind_int64(s, col, v);
}

/* Copies a text column ("" for NULL) into dst, cut at a UTF-8 boundary. */
void store_column_text(sqlite3_stmt *s, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (cap == 0)
		return;
	if (n >= cap) {
		/* Cut before the first byte of the character that overflows. */
		n = cap - 1;
		while (n > 0 && (t[n] & 0xC0) == 0x80)
			n--;
	}
	if (n > 0)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

/* Copies a key column; -1 if it is not exactly STORE_KEYLEN bytes. */
int store_column_key(sqlite3_stmt *s, int col, uint8_t *dst)
{
	if (sqlite3_column_bytes(s, col) != STORE_KEYLEN)
		return -1;
	memcpy(dst, sqlite3_column_blob(s, col), STORE_KEYLEN);
	return 0;
}

/* Runs SQL text with no results (pragmas, migrations): 0 or -1. */
static int store_exec(store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, what);
	return 0;
}

static int store_user_version(store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_fail(st, "read schema version");
		goto out;
	}
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_fail(st, "read schema version");
		goto out;
	}
	*version = sqlite3_column_int(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/*
 * Copies the database at path, before an upgrade from version, to
 * PATH.before-upgrade-vVERSION-TIME beside it: an upgrade that goes wrong
 * in a way no transaction catches can still be undone by hand.
 */
static int store_backup_before_upgrade(store *st, const char *path, int version)
{
	char copy[4200], stamp[32], err[sizeof(st->err) - 64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (snprintf(copy, sizeof(copy), "%s.before-upgrade-v%d-%s", path,
		     version, stamp) >= (int)sizeof(copy)) {
		snprintf(st->err, sizeof(st->err), "%s: path too long", path);
		return -1;
	}
	if (store_copy(path, copy, err, sizeof(err)) != 0) {
		snprintf(st->err, sizeof(st->err),
			 "no backup before the upgrade, so no upgrade: %s",
			 err);
		return -1;
	}
	return 0;
}

/*
 * Brings the schema from version to the current one: every migration and
 * the new version number in one transaction, so a crash leaves either the
 * old schema or the new, never one in between. An existing database is
 * backed up first (a new one, version 0, has nothing to keep).
 */
static int store_migrate(store *st, const char *path)
{
	char sql[64];
	int version;

	if (store_user_version(st, &version) != 0)
		return -1;
	if (version < 0) {
		snprintf(st->err, sizeof(st->err),
			 "the database has schema version %d, which no tamwild "
			 "writes",
			 version);
		return -1;
	}
	if (version > store_schema_version()) {
		snprintf(st->err, sizeof(st->err),
			 "the database has schema version %d, newer than this "
			 "tamwild (%d): upgrade tamwild",
			 version, store_schema_version());
		return -1;
	}
	if (version == store_schema_version())
		return 0;
	if (version > 0 && store_backup_before_upgrade(st, path, version) != 0)
		return -1;
	if (store_exec(st, "BEGIN IMMEDIATE", "begin migration") != 0)
		return -1;
	/* Another process may have upgraded it while we made the copy. */
	if (store_user_version(st, &version) != 0)
		goto fail;
	if (version < 0 || version > store_schema_version()) {
		snprintf(st->err, sizeof(st->err),
			 "the schema version changed to %d during the upgrade",
			 version);
		goto fail;
	}
	for (int v = version; v < store_schema_version(); v++) {
		if (store_exec(st, store_schema_migrations[v], "migrate"))
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 store_schema_version());
	if (store_exec(st, sql, "record schema version") != 0 ||
	    store_exec(st, "COMMIT", "commit migration") != 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int store_library_init(void)
{
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK ||
	    sqlite3_initialize() != SQLITE_OK)
		return -1;
	return 0;
}

int store_schema_version(void)
{
	return STORE_SCHEMA_VERSION;
}

/*
 * Opens the database at path with flags, runs pragmas and, with migrate,
 * brings the schema up to date. 0 with *out, or -1 with a sentence in err
 * (when not NULL).
 */
static int store_connect(const char *path, int flags, const char *pragmas,
			 int migrate, store **out, char *err, size_t err_len)
{
	store *st;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		if (err != NULL)
			snprintf(err, err_len, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		store_fail(st, path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/* Readers wait only for a checkpoint of the WAL, briefly. */
	sqlite3_busy_timeout(st->db, 5000);
	if (store_exec(st, pragmas, path) != 0 ||
	    (migrate && store_migrate(st, path) != 0))
		goto fail;
	*out = st;
	return 0;
fail:
	if (err != NULL)
		snprintf(err, err_len, "%s%s", st->err,
			 st->full ? " (the disk is full)" : "");
	store_close(st);
	return -1;
}

int store_open(const char *path, int create, store **out, char *err,
	       size_t err_len)
{
	static const char pragmas[] = "PRAGMA journal_mode = WAL;"
				      "PRAGMA synchronous = FULL;"
				      "PRAGMA temp_store = MEMORY;"
				      "PRAGMA foreign_keys = ON;";

	return store_connect(
	    path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0),
	    pragmas, 1, out, err, err_len);
}

int store_open_reader(const char *path, store **out, char *err, size_t err_len)
{
	return store_connect(path, SQLITE_OPEN_READONLY,
			     "PRAGMA foreign_keys = ON;", 0, out, err, err_len);
}

int store_cache(store *st, int mib)
{
	char sql[64];

	/* A negative cache_size is in KiB rather than pages. */
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = %lld",
		 -(long long)mib * 1024);
	return store_exec(st, sql, "set the cache size");
}

void store_close(store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	for (int i = 0; i < 2 * STORE_F_SETS; i++)
		sqlite3_finalize(st->list[i]);
	for (int i = 0; i < 8; i++)
		sqlite3_finalize(st->report[i]);
	sqlite3_close(st->db);
	free(st);
}

const char *store_errmsg(const store *st)
{
	return st->err;
}

int store_full(const store *st)
{
	return st->full;
}

int store_principal_add(store *st, const char *name, const char *role,
			const char *region, const uint8_t *noise_pk,
			const uint8_t *sign_pk, int64_t enrolled_by,
			int64_t *id)
{
	sqlite3_stmt *s;
	int64_t region_id = 0;
	int rc;

	if (region != NULL && region[0] != '\0') {
		rc = store_region_find(st, region, &region_id);
		if (rc != 0)
			return rc;
	}
	s = store_base_stmt(st, STMT_PRINCIPAL_ADD);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
	if (region_id != 0)
		sqlite3_bind_int64(s, 3, region_id);
	sqlite3_bind_blob(s, 4, noise_pk, STORE_KEYLEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, sign_pk, STORE_KEYLEN, SQLITE_STATIC);
	if (enrolled_by != 0)
		sqlite3_bind_int64(s, 6, enrolled_by);
	sqlite3_bind_int64(s, 7, (int64_t)time(NULL));
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		*id = sqlite3_last_insert_rowid(st->db);
		rc = 0;
	} else if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		snprintf(st->err, sizeof(st->err),
			 "this key is already enrolled");
		rc = STORE_CONFLICT;
	} else {
		rc = store_fail(st, "enrol principal");
	}
	store_done(s);
	return rc;
}

int store_principal_by_noise(store *st, const uint8_t *noise_pk,
			     store_principal *out)
{
	sqlite3_stmt *s = store_base_stmt(st, STMT_PRINCIPAL_BY_NOISE);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_blob(s, 1, noise_pk, STORE_KEYLEN, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		rc = STORE_NOT_FOUND;
	} else if (rc != SQLITE_ROW) {
		rc = store_fail(st, "find principal");
	} else {
		out->id = sqlite3_column_int64(s, 0);
		store_column_text(s, 1, out->name, sizeof(out->name));
		store_column_text(s, 2, out->role, sizeof(out->role));
		store_column_text(s, 3, out->region, sizeof(out->region));
		out->revoked = sqlite3_column_int(s, 6);
		rc = 0;
		if (store_column_key(s, 4, out->noise_pk) != 0 ||
		    store_column_key(s, 5, out->sign_pk) != 0) {
			snprintf(st->err, sizeof(st->err),
				 "principal %lld has a malformed key",
				 (long long)out->id);
			rc = -1;
		}
	}
	store_done(s);
	return rc;
}

int store_principal_revoke(store *st, const uint8_t *noise_pk)
{
	sqlite3_stmt *s = store_base_stmt(st, STMT_PRINCIPAL_REVOKE);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_blob(s, 1, noise_pk, STORE_KEYLEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		rc = store_fail(st, "revoke principal");
	else
		rc = sqlite3_changes(st->db) == 1 ? 0 : STORE_NOT_FOUND;
	store_done(s);
	return rc;
}

int store_principal_count(store *st, int64_t *count)
{
	sqlite3_stmt *s = store_base_stmt(st, STMT_PRINCIPAL_COUNT);
	int rc = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*count = sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		store_fail(st, "count principals");
	}
	store_done(s);
	return rc;
}
