/*
 * The store's writes and single reads: transactions and savepoints,
 * regions, programmes, beneficiaries, applications and their history,
 * tranches, repayments and idempotency records. A call that writes more
 * than one row (a tranche and its items) relies on the caller's
 * transaction or savepoint: when it fails, the caller rolls back.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_private.h"

static const char *const domain_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_SAVEPOINT] = "SAVEPOINT op",
    [STMT_RELEASE] = "RELEASE op",
    [STMT_ROLLBACK_TO] = "ROLLBACK TO op",
    [STMT_REGION_ADD] =
	"INSERT INTO regions(code, name, created_at) VALUES (?1, ?2, ?3)",
    [STMT_REGION_FIND] = "SELECT id FROM regions WHERE code = ?1",
    [STMT_PROGRAMME_ADD] =
	"INSERT INTO programmes(code, name, currency, envelope, ceiling,"
	" period_start, period_end, target_beneficiaries, categories,"
	" created_by, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [STMT_PROGRAMME_GET] = STORE_PROGRAMME_SELECT "WHERE p.code = ?1",
    [STMT_PROGRAMME_TOTALS] = "UPDATE programmes SET granted = granted + ?2,"
			      " disbursed = disbursed + ?3 WHERE id = ?1",
    [STMT_BENEFICIARY_FIND] =
	"SELECT id FROM beneficiaries WHERE blind_index = ?1",
    [STMT_BENEFICIARY_ADD] =
	"INSERT INTO beneficiaries(blind_index, identity, region_id,"
	" created_at, key_version) VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_BENEFICIARY_SEALED] = "SELECT blind_index, identity, key_version"
				" FROM beneficiaries WHERE id = ?1",
    /*
     * The region's code and the next number of its year (?2): max() over
     * the (region_id, year, seq) index with both fixed, one seek however
     * many applications there are. The writer's transaction keeps it
     * from changing before the insert that uses it.
     */
    [STMT_APPLICATION_NEXT] =
	"SELECT r.code, (SELECT coalesce(max(a.seq), 0) + 1"
	" FROM applications a WHERE a.region_id = r.id AND a.year = ?2)"
	" FROM regions r WHERE r.id = ?1",
    /*
     * Plain values: an INSERT that selects from its own table, or returns
     * rows, goes through temporary tables SQLite builds on every run.
     */
    [STMT_APPLICATION_ADD] =
	"INSERT INTO applications(region_id, submitted_at, programme_id,"
	" beneficiary_id, sex, birth_year, category, sector, activity,"
	" requested, contribution, formula, submitted_by, reference, year,"
	" seq, state)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	" ?14, ?15, ?16, 1)",
    [STMT_APPLICATION_GET] = STORE_APPLICATION_SELECT "WHERE a.reference = ?1",
    [STMT_APPLICATION_UPDATE] =
	"UPDATE applications SET state = ?2, granted = ?3, disbursed = ?4,"
	" repaid = ?5, decided_by = ?6, decided_at = ?7, reason = ?8"
	" WHERE id = ?1",
    [STMT_EVENT_ADD] =
	"INSERT INTO events(application_id, time, action, actor, amount,"
	" detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [STMT_DISBURSEMENT_ADD] =
	"INSERT INTO disbursements(application_id, amount, method,"
	" payment_reference, date, recorded_by, recorded_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [STMT_ITEM_ADD] =
	"INSERT INTO equipment_items(disbursement_id, description, quantity,"
	" unit_value) VALUES (?1, ?2, ?3, ?4)",
    [STMT_REPAYMENT_ADD] =
	"INSERT INTO repayments(application_id, amount, date, recorded_by,"
	" recorded_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_OP_FIND] = "SELECT op_hash, result FROM operations"
		     " WHERE principal_id = ?1 AND idempotency_key = ?2",
    [STMT_OP_RECORD] =
	"INSERT INTO operations(principal_id, idempotency_key, op_hash,"
	" result, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_PRINCIPAL_REVOKE_ID] =
	"UPDATE principals SET status = 'revoked', revoked_at = ?2"
	" WHERE id = ?1 AND status = 'active'",
    [STMT_ADMIN_COUNT] = "SELECT count(*) FROM principals"
			 " WHERE role = 'admin' AND status = 'active'",
};

/* This file's statements. */
static sqlite3_stmt *domain_stmt(store *st, enum store_stmt id)
{
	return store_stmt(st, id, domain_sql[id]);
}

/* Runs a statement without parameters or rows: 0 or -1. */
static int domain_exec(store *st, enum store_stmt id, const char *what)
{
	sqlite3_stmt *s = domain_stmt(st, id);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_fail(st, what);
	store_done(s);
	return rc;
}

/*
 * Runs a statement that undoes work, keeping the error message of what
 * failed before: undoing is best effort and never the caller's news.
 */
static void domain_exec_quietly(store *st, enum store_stmt id)
{
	char saved[sizeof(st->err)];

	memcpy(saved, st->err, sizeof(saved));
	(void)domain_exec(st, id, "undo");
	memcpy(st->err, saved, sizeof(saved));
}

/*
 * Steps a bound statement that returns no row (INSERT, UPDATE): 0 with
 * *id set to the new row's id when id is not NULL; STORE_CONFLICT, with
 * conflict as the error sentence, on a UNIQUE or PRIMARY KEY violation
 * when conflict is not NULL; -1 otherwise. The caller resets s.
 */
static int domain_run(store *st, sqlite3_stmt *s, const char *what,
		      const char *conflict, int64_t *id)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE) {
		if (id != NULL)
			*id = sqlite3_last_insert_rowid(st->db);
		return 0;
	}
	if (conflict != NULL && (rc == SQLITE_CONSTRAINT_UNIQUE ||
				 rc == SQLITE_CONSTRAINT_PRIMARYKEY)) {
		snprintf(st->err, sizeof(st->err), "%s", conflict);
		return STORE_CONFLICT;
	}
	return store_fail(st, what);
}

/*
 * Steps a bound statement that finds one row holding one integer: 0 with
 * *v, STORE_NOT_FOUND, or -1. The caller resets s.
 */
static int domain_find_int(store *st, sqlite3_stmt *s, const char *what,
			   int64_t *v)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		return 0;
	}
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	return store_fail(st, what);
}

/* ---------------------------------------------------------------------
 * Transactions.
 */

/* Starts a write transaction, taking the write lock now: 0 or -1. */
int store_begin(store *st)
{
	/* A full disk is told of the transaction that met it alone. */
	st->full = 0;
	return domain_exec(st, STMT_BEGIN, "begin");
}

/*
 * Commits; with synchronous=FULL the transaction is durable on return.
 * On -1 the transaction is still open and the caller rolls it back.
 */
int store_commit(store *st)
{
	return domain_exec(st, STMT_COMMIT, "commit");
}

/*
 * Rolls back the open transaction, if any (SQLite may already have rolled
 * it back after an I/O error). Never fails and keeps the last error.
 */
void store_rollback(store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		domain_exec_quietly(st, STMT_ROLLBACK);
}

int store_in_transaction(store *st)
{
	return !sqlite3_get_autocommit(st->db);
}

#ifdef TAMWIL_TEST_HOOKS
/* A commit hook returning non-zero turns the COMMIT into a rollback. */
static int domain_refuse_commit(void *arg)
{
	store *st = arg;

	if (st->fail_commits <= 0)
		return 0;
	st->fail_commits--;
	return 1;
}

void store_test_fail_commits(store *st, int n)
{
	st->fail_commits = n;
	sqlite3_commit_hook(st->db, n > 0 ? domain_refuse_commit : NULL, st);
}
#endif

/* Opens the savepoint of one operation: 0 or -1. */
int store_savepoint(store *st)
{
	return domain_exec(st, STMT_SAVEPOINT, "savepoint");
}

/* Keeps the operation's work in the enclosing transaction: 0 or -1. */
int store_release(store *st)
{
	return domain_exec(st, STMT_RELEASE, "release savepoint");
}

/*
 * Undoes everything since store_savepoint() and closes the savepoint.
 * Never fails and keeps the last error.
 */
void store_rollback_to(store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return;
	domain_exec_quietly(st, STMT_ROLLBACK_TO);
	domain_exec_quietly(st, STMT_RELEASE);
}

/* ---------------------------------------------------------------------
 * Regions and programmes.
 */

/* Creates a region: 0 with *id, STORE_CONFLICT when the code is taken, or
 * -1 (a code or name the schema refuses). */
int store_region_add(store *st, const char *code, const char *name, int64_t *id)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_REGION_ADD);
	char conflict[96];
	int rc;

	if (s == NULL)
		return -1;
	snprintf(conflict, sizeof(conflict), "region %.40s already exists",
		 code);
	if (sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, (int64_t)time(NULL)) != SQLITE_OK) {
		rc = store_fail(st, "add region");
		goto out;
	}
	rc = domain_run(st, s, "add region", conflict, id);
out:
	store_done(s);
	return rc;
}

/* Looks a region up by code: 0 with *id, STORE_NOT_FOUND (with a sentence
 * naming the code) or -1. */
int store_region_find(store *st, const char *code, int64_t *id)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_REGION_FIND);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC) != SQLITE_OK) {
		rc = store_fail(st, "find region");
		goto out;
	}
	rc = domain_find_int(st, s, "find region", id);
	if (rc == STORE_NOT_FOUND)
		snprintf(st->err, sizeof(st->err), "unknown region %.200s",
			 code);
out:
	store_done(s);
	return rc;
}

/*
 * Creates a programme from p (its totals start at zero, and are zeroed in
 * p): 0 with p->id set, STORE_CONFLICT when the code is taken, or -1 when
 * the schema refuses a field (ceiling above the envelope, bad currency or
 * date). Empty period dates are stored as none.
 */
int store_programme_add(store *st, store_programme *p, int64_t created_by)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_PROGRAMME_ADD);
	char conflict[96];
	int rc;

	if (s == NULL)
		return -1;
	snprintf(conflict, sizeof(conflict), "programme %.40s already exists",
		 p->code);
	if (sqlite3_bind_text(s, 1, p->code, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, p->name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 3, p->currency, -1, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, p->envelope) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, p->ceiling) != SQLITE_OK ||
	    store_bind_text_or_null(s, 6, p->period_start) != SQLITE_OK ||
	    store_bind_text_or_null(s, 7, p->period_end) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 8, p->target) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 9, p->categories) != SQLITE_OK ||
	    store_bind_int64_or_null(s, 10, created_by) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 11, (int64_t)time(NULL)) != SQLITE_OK) {
		rc = store_fail(st, "add programme");
		goto out;
	}
	rc = domain_run(st, s, "add programme", conflict, &p->id);
	if (rc == 0) {
		p->granted = 0;
		p->disbursed = 0;
		p->beneficiaries = 0;
	}
out:
	store_done(s);
	return rc;
}

void store_programme_row(sqlite3_stmt *s, store_programme *p)
{
	p->id = sqlite3_column_int64(s, 0);
	store_column_text(s, 1, p->code, sizeof(p->code));
	store_column_text(s, 2, p->name, sizeof(p->name));
	store_column_text(s, 3, p->currency, sizeof(p->currency));
	p->envelope = sqlite3_column_int64(s, 4);
	p->ceiling = sqlite3_column_int64(s, 5);
	store_column_text(s, 6, p->period_start, sizeof(p->period_start));
	store_column_text(s, 7, p->period_end, sizeof(p->period_end));
	p->target = (uint32_t)sqlite3_column_int64(s, 8);
	p->categories = (uint32_t)sqlite3_column_int64(s, 9);
	p->granted = sqlite3_column_int64(s, 10);
	p->disbursed = sqlite3_column_int64(s, 11);
	p->beneficiaries = (uint64_t)sqlite3_column_int64(s, 12);
}

/*
 * Reads a programme by code with its totals and the number of its
 * applications approved (at any later stage): 0, STORE_NOT_FOUND or -1.
 */
int store_programme_get(store *st, const char *code, store_programme *p)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_PROGRAMME_GET);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC) != SQLITE_OK) {
		rc = store_fail(st, "read programme");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_programme_row(s, p);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(st->err, sizeof(st->err), "unknown programme %.200s",
			 code);
		rc = STORE_NOT_FOUND;
	} else {
		rc = store_fail(st, "read programme");
	}
out:
	store_done(s);
	return rc;
}

/*
 * Adds to a programme's running totals in one UPDATE, so a refusal
 * changes nothing: 0, STORE_CONFLICT when a CHECK refuses the result
 * (granted above the envelope, disbursed above granted, a total below
 * zero), or -1 (including an unknown programme).
 */
int store_programme_add_totals(store *st, int64_t programme_id,
			       int64_t delta_granted, int64_t delta_disbursed)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_PROGRAMME_TOTALS);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, programme_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, delta_granted) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, delta_disbursed) != SQLITE_OK) {
		rc = store_fail(st, "update programme totals");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT_CHECK) {
		snprintf(st->err, sizeof(st->err),
			 "the programme's envelope would be exceeded");
		rc = STORE_CONFLICT;
	} else if (rc != SQLITE_DONE) {
		rc = store_fail(st, "update programme totals");
	} else if (sqlite3_changes(st->db) != 1) {
		snprintf(st->err, sizeof(st->err), "no programme %lld",
			 (long long)programme_id);
		rc = -1;
	} else {
		rc = 0;
	}
out:
	store_done(s);
	return rc;
}

/* ---------------------------------------------------------------------
 * Beneficiaries.
 */

/* Finds a beneficiary by the 32-byte blind index of its national ID: 0
 * with *id, STORE_NOT_FOUND or -1. */
int store_beneficiary_find(store *st, const uint8_t *blind_index, int64_t *id)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_BENEFICIARY_FIND);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_blob(s, 1, blind_index, STORE_KEYLEN, SQLITE_STATIC) !=
	    SQLITE_OK) {
		rc = store_fail(st, "find beneficiary");
		goto out;
	}
	rc = domain_find_int(st, s, "find beneficiary", id);
out:
	store_done(s);
	return rc;
}

/*
 * Adds a beneficiary: its 32-byte blind index and its identity sealed
 * (sealed_len > 0 bytes) under at-rest key version key_version. 0 with
 * *id, STORE_CONFLICT when the blind index is taken, or -1.
 */
int store_beneficiary_add(store *st, const uint8_t *blind_index,
			  const uint8_t *sealed, size_t sealed_len,
			  unsigned key_version, int64_t region_id, int64_t *id)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_BENEFICIARY_ADD);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_blob(s, 1, blind_index, STORE_KEYLEN, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_blob64(s, 2, sealed, sealed_len, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, region_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, (int64_t)time(NULL)) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, key_version) != SQLITE_OK) {
		rc = store_fail(st, "add beneficiary");
		goto out;
	}
	rc = domain_run(st, s, "add beneficiary",
			"this beneficiary is already registered", id);
out:
	store_done(s);
	return rc;
}

/*
 * Reads a beneficiary's 32-byte blind index, sealed identity (into buf of
 * capacity cap) and key version: 0 with *len and *key_version,
 * STORE_NOT_FOUND, or -1 (including an identity larger than cap).
 */
int store_beneficiary_sealed(store *st, int64_t id, uint8_t *blind_index,
			     uint8_t *buf, size_t cap, size_t *len,
			     unsigned *key_version)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_BENEFICIARY_SEALED);
	size_t n;
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
		rc = store_fail(st, "read beneficiary");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		rc = STORE_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = store_fail(st, "read beneficiary");
		goto out;
	}
	rc = -1;
	n = (size_t)sqlite3_column_bytes(s, 1);
	if (store_column_key(s, 0, blind_index) != 0 || n > cap) {
		snprintf(st->err, sizeof(st->err),
			 "beneficiary %lld: blind index or sealed identity "
			 "of unexpected size",
			 (long long)id);
		goto out;
	}
	if (n > 0)
		memcpy(buf, sqlite3_column_blob(s, 1), n);
	*len = n;
	*key_version = (unsigned)sqlite3_column_int64(s, 2);
	rc = 0;
out:
	store_done(s);
	return rc;
}

/* ---------------------------------------------------------------------
 * Applications.
 */

/* Binds the fields store_application_add() reads: SQLITE_OK or an error. */
static int domain_bind_application(sqlite3_stmt *s, const store_application *a)
{
	if (sqlite3_bind_int64(s, 1, a->region_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, a->submitted_at) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, a->programme_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, a->beneficiary_id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 5, a->sex) != SQLITE_OK ||
	    sqlite3_bind_int(s, 6, a->birth_year) != SQLITE_OK ||
	    sqlite3_bind_int(s, 7, a->category) != SQLITE_OK ||
	    sqlite3_bind_text(s, 8, a->sector, -1, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_text(s, 9, a->activity, -1, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_int64(s, 10, a->requested) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 11, a->contribution) != SQLITE_OK ||
	    sqlite3_bind_text(s, 12, a->formula, -1, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_int64(s, 13, a->submitted_by) != SQLITE_OK)
		return SQLITE_ERROR;
	return SQLITE_OK;
}

/*
 * The reference of the next application of region_id in year, "CODE-YEAR-
 * NNNNNN", into a->reference with its number in *seq: 0, or -1 (an unknown
 * region).
 */
static int domain_next_reference(store *st, store_application *a, int year,
				 int64_t *seq)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_APPLICATION_NEXT);
	char code[STORE_CODE_MAX], ref[STORE_CODE_MAX + 32];
	int rc = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, a->region_id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, year) != SQLITE_OK) {
		store_fail(st, "number the application");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		snprintf(st->err, sizeof(st->err), "no region %lld",
			 (long long)a->region_id);
		rc = -1;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = store_fail(st, "number the application");
		goto out;
	}
	store_column_text(s, 0, code, sizeof(code));
	*seq = sqlite3_column_int64(s, 1);
	if (*seq > STORE_SEQ_MAX) {
		snprintf(st->err, sizeof(st->err),
			 "region %s has numbered its %d applications of %d",
			 code, STORE_SEQ_MAX, year);
		rc = -1;
		goto out;
	}
	/* The table's CHECKs refuse a year or code that does not fit. */
	if (snprintf(ref, sizeof(ref), "%s-%04d-%06lld", code, year,
		     (long long)*seq) >= (int)sizeof(a->reference)) {
		snprintf(st->err, sizeof(st->err), "reference %s too long",
			 ref);
		rc = -1;
		goto out;
	}
	memcpy(a->reference, ref, strlen(ref) + 1);
	rc = 0;
out:
	store_done(s);
	return rc;
}

/*
 * Inserts a submitted application numbered in its region and the UTC year
 * of submitted_at: 0 with id, reference and state set (the amounts and
 * decision are zeroed), STORE_CONFLICT when the beneficiary has an open
 * application in the programme, or -1 (an unknown region, or a field the
 * schema refuses). Inside the writer's transaction, so that no other
 * insert takes the number between the two statements.
 */
int store_application_add(store *st, store_application *a)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_APPLICATION_ADD);
	time_t at = (time_t)a->submitted_at;
	struct tm tm;
	int64_t seq = 0;
	int year, rc;

	if (s == NULL)
		return -1;
	if (gmtime_r(&at, &tm) == NULL) {
		snprintf(st->err, sizeof(st->err),
			 "submission time %lld out of range",
			 (long long)a->submitted_at);
		return -1;
	}
	year = tm.tm_year + 1900;
	if (domain_next_reference(st, a, year, &seq) != 0)
		return -1;
	if (domain_bind_application(s, a) != SQLITE_OK ||
	    sqlite3_bind_text(s, 14, a->reference, -1, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_int(s, 15, year) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 16, seq) != SQLITE_OK) {
		rc = store_fail(st, "add application");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		snprintf(st->err, sizeof(st->err),
			 "the beneficiary already has an open application in "
			 "this programme");
		rc = STORE_CONFLICT;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = store_fail(st, "add application");
		goto out;
	}
	a->id = sqlite3_last_insert_rowid(st->db);
	a->state = STORE_SUBMITTED;
	a->granted = a->disbursed = a->repaid = 0;
	a->decided_by = a->decided_at = 0;
	a->reason[0] = '\0';
	rc = 0;
out:
	store_done(s);
	return rc;
}

void store_application_row(sqlite3_stmt *s, store_application *a)
{
	a->id = sqlite3_column_int64(s, 0);
	store_column_text(s, 1, a->reference, sizeof(a->reference));
	a->programme_id = sqlite3_column_int64(s, 2);
	store_column_text(s, 3, a->programme, sizeof(a->programme));
	store_column_text(s, 4, a->currency, sizeof(a->currency));
	a->region_id = sqlite3_column_int64(s, 5);
	store_column_text(s, 6, a->region, sizeof(a->region));
	a->beneficiary_id = sqlite3_column_int64(s, 7);
	a->state = sqlite3_column_int(s, 8);
	a->sex = sqlite3_column_int(s, 9);
	a->birth_year = sqlite3_column_int(s, 10);
	a->category = sqlite3_column_int(s, 11);
	store_column_text(s, 12, a->sector, sizeof(a->sector));
	store_column_text(s, 13, a->activity, sizeof(a->activity));
	a->requested = sqlite3_column_int64(s, 14);
	a->contribution = sqlite3_column_int64(s, 15);
	store_column_text(s, 16, a->formula, sizeof(a->formula));
	a->granted = sqlite3_column_int64(s, 17);
	a->disbursed = sqlite3_column_int64(s, 18);
	a->repaid = sqlite3_column_int64(s, 19);
	a->submitted_by = sqlite3_column_int64(s, 20);
	a->decided_by = sqlite3_column_int64(s, 21);
	store_column_text(s, 22, a->submitted_by_name,
			  sizeof(a->submitted_by_name));
	store_column_text(s, 23, a->decided_by_name,
			  sizeof(a->decided_by_name));
	store_column_text(s, 24, a->reason, sizeof(a->reason));
	a->submitted_at = sqlite3_column_int64(s, 25);
	a->decided_at = sqlite3_column_int64(s, 26);
}

/*
 * Reads an application by reference, with its programme's code and
 * currency, its region's code and the names of who submitted and decided:
 * 0, STORE_NOT_FOUND or -1.
 */
int store_application_get(store *st, const char *reference,
			  store_application *a)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_APPLICATION_GET);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, reference, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		rc = store_fail(st, "read application");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_application_row(s, a);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(st->err, sizeof(st->err), "unknown application %.64s",
			 reference);
		rc = STORE_NOT_FOUND;
	} else {
		rc = store_fail(st, "read application");
	}
out:
	store_done(s);
	return rc;
}

/*
 * Writes back state, granted, disbursed, repaid, decided_by, decided_at
 * (0: none) and reason ("": none) of application a->id: 0, or -1 when the
 * schema refuses the new state (store_errmsg() names the CHECK) or there
 * is no such application.
 */
int store_application_update(store *st, const store_application *a)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_APPLICATION_UPDATE);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, a->id) != SQLITE_OK ||
	    sqlite3_bind_int(s, 2, a->state) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, a->granted) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, a->disbursed) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, a->repaid) != SQLITE_OK ||
	    store_bind_int64_or_null(s, 6, a->decided_by) != SQLITE_OK ||
	    store_bind_int64_or_null(s, 7, a->decided_at) != SQLITE_OK ||
	    store_bind_text_or_null(s, 8, a->reason) != SQLITE_OK) {
		rc = store_fail(st, "update application");
		goto out;
	}
	rc = domain_run(st, s, "update application", NULL, NULL);
	if (rc == 0 && sqlite3_changes(st->db) != 1) {
		snprintf(st->err, sizeof(st->err), "no application %lld",
			 (long long)a->id);
		rc = -1;
	}
out:
	store_done(s);
	return rc;
}

/*
 * Appends one line to an application's history: what happened (action,
 * e.g. "approved"), who did it, an amount (0: none) and a detail (NULL:
 * none). 0 or -1.
 */
int store_event_add(store *st, int64_t application_id, int64_t time,
		    const char *action, int64_t actor, int64_t amount,
		    const char *detail)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_EVENT_ADD);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, application_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, time) != SQLITE_OK ||
	    sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, actor) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, amount) != SQLITE_OK ||
	    sqlite3_bind_text(s, 6, detail ? detail : "", -1, SQLITE_STATIC) !=
		SQLITE_OK) {
		rc = store_fail(st, "add event");
		goto out;
	}
	rc = domain_run(st, s, "add event", NULL, NULL);
out:
	store_done(s);
	return rc;
}

/* Inserts the equipment items of tranche disbursement_id: 0 or -1. */
static int domain_items_add(store *st, int64_t disbursement_id,
			    const store_item *items, size_t nitems)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_ITEM_ADD);
	int rc = 0;

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < nitems && rc == 0; i++) {
		if (sqlite3_bind_int64(s, 1, disbursement_id) != SQLITE_OK ||
		    sqlite3_bind_text(s, 2, items[i].description, -1,
				      SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 3, items[i].quantity) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 4, items[i].unit_value) != SQLITE_OK)
			rc = store_fail(st, "add equipment item");
		else
			rc =
			    domain_run(st, s, "add equipment item", NULL, NULL);
		store_done(s);
	}
	return rc;
}

/*
 * Records a tranche (amount > 0, method 1..4 as DisbursementMethod, date
 * YYYY-MM-DD, payment_reference NULL for none) and its nitems equipment
 * items: 0 or -1. Several rows: on -1 the caller rolls back.
 */
int store_disbursement_add(store *st, int64_t application_id, int64_t amount,
			   int method, const char *payment_reference,
			   const char *date, const store_item *items,
			   size_t nitems, int64_t recorded_by, int64_t time)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_DISBURSEMENT_ADD);
	int64_t id = 0;
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, application_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, amount) != SQLITE_OK ||
	    sqlite3_bind_int(s, 3, method) != SQLITE_OK ||
	    sqlite3_bind_text(s, 4, payment_reference ? payment_reference : "",
			      -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 5, date, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 6, recorded_by) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 7, time) != SQLITE_OK) {
		rc = store_fail(st, "add disbursement");
		goto out;
	}
	rc = domain_run(st, s, "add disbursement", NULL, &id);
out:
	store_done(s);
	if (rc == 0)
		rc = domain_items_add(st, id, items, nitems);
	return rc;
}

/* Records a repayment (amount > 0, date YYYY-MM-DD): 0 or -1. */
int store_repayment_add(store *st, int64_t application_id, int64_t amount,
			const char *date, int64_t recorded_by, int64_t time)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_REPAYMENT_ADD);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, application_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, amount) != SQLITE_OK ||
	    sqlite3_bind_text(s, 3, date, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, recorded_by) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, time) != SQLITE_OK) {
		rc = store_fail(st, "add repayment");
		goto out;
	}
	rc = domain_run(st, s, "add repayment", NULL, NULL);
out:
	store_done(s);
	return rc;
}

/* ---------------------------------------------------------------------
 * Idempotency records and principals by id.
 */

/*
 * Finds the record of (principal, 16-byte key): 0 with the 32-byte
 * operation hash in op_hash and the result in buf (capacity cap, length
 * *len), STORE_NOT_FOUND, or -1 (including a result larger than cap).
 */
int store_op_find(store *st, int64_t principal_id, const uint8_t *key,
		  uint8_t *op_hash, uint8_t *buf, size_t cap, size_t *len)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_OP_FIND);
	size_t n;
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, principal_id) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, key, STORE_IDEM_KEYLEN, SQLITE_STATIC) !=
		SQLITE_OK) {
		rc = store_fail(st, "find operation");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		rc = STORE_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rc = store_fail(st, "find operation");
		goto out;
	}
	rc = -1;
	n = (size_t)sqlite3_column_bytes(s, 1);
	if (sqlite3_column_bytes(s, 0) != STORE_OP_HASHLEN || n > cap) {
		snprintf(st->err, sizeof(st->err),
			 "recorded operation of unexpected size");
		goto out;
	}
	memcpy(op_hash, sqlite3_column_blob(s, 0), STORE_OP_HASHLEN);
	if (n > 0)
		memcpy(buf, sqlite3_column_blob(s, 1), n);
	*len = n;
	rc = 0;
out:
	store_done(s);
	return rc;
}

/*
 * Records the result of an operation under (principal, 16-byte key) with
 * its 32-byte hash: 0, or -1 (including a key recorded before).
 */
int store_op_record(store *st, int64_t principal_id, const uint8_t *key,
		    const uint8_t *op_hash, const uint8_t *result,
		    size_t result_len, int64_t time)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_OP_RECORD);
	static const uint8_t empty[1];
	int rc;

	if (s == NULL)
		return -1;
	/* A zero-length result is an empty BLOB, never NULL. */
	if (sqlite3_bind_int64(s, 1, principal_id) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, key, STORE_IDEM_KEYLEN, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_blob(s, 3, op_hash, STORE_OP_HASHLEN, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_blob64(s, 4, result_len ? result : empty, result_len,
				SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, time) != SQLITE_OK) {
		rc = store_fail(st, "record operation");
		goto out;
	}
	rc = domain_run(st, s, "record operation", NULL, NULL);
out:
	store_done(s);
	return rc;
}

/* Revokes an active principal by id: 0, STORE_NOT_FOUND (unknown or
 * already revoked) or -1. */
int store_principal_revoke_id(store *st, int64_t id)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_PRINCIPAL_REVOKE_ID);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (int64_t)time(NULL)) != SQLITE_OK) {
		rc = store_fail(st, "revoke principal");
		goto out;
	}
	rc = domain_run(st, s, "revoke principal", NULL, NULL);
	if (rc == 0 && sqlite3_changes(st->db) != 1)
		rc = STORE_NOT_FOUND;
out:
	store_done(s);
	return rc;
}

/* Counts the active admins: 0 with *count, or -1. */
int store_admin_count(store *st, int64_t *count)
{
	sqlite3_stmt *s = domain_stmt(st, STMT_ADMIN_COUNT);
	int rc;

	if (s == NULL)
		return -1;
	rc = domain_find_int(st, s, "count admins", count);
	if (rc == STORE_NOT_FOUND)
		rc = store_fail(st, "count admins");
	store_done(s);
	return rc;
}
