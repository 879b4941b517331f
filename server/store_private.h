/*
 * Private to the store's own files (store.c, store_domain.c,
 * store_query.c): the connection structure, the statement cache and small
 * helpers. Not part of the store's interface; nothing outside the store
 * includes it.
 */
#ifndef TAMWIL_STORE_PRIVATE_H
#define TAMWIL_STORE_PRIVATE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Every prepared statement of the connection, grouped by the file whose
 * SQL table holds its text.
 */
enum store_stmt {
	/* store.c */
	STMT_PRINCIPAL_ADD,
	STMT_PRINCIPAL_BY_NOISE,
	STMT_PRINCIPAL_REVOKE,
	STMT_PRINCIPAL_COUNT,
	/* store_domain.c */
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_REGION_ADD,
	STMT_REGION_FIND,
	STMT_PROGRAMME_ADD,
	STMT_PROGRAMME_GET,
	STMT_PROGRAMME_TOTALS,
	STMT_BENEFICIARY_FIND,
	STMT_BENEFICIARY_ADD,
	STMT_BENEFICIARY_SEALED,
	STMT_APPLICATION_NEXT,
	STMT_APPLICATION_ADD,
	STMT_APPLICATION_GET,
	STMT_APPLICATION_UPDATE,
	STMT_EVENT_ADD,
	STMT_DISBURSEMENT_ADD,
	STMT_ITEM_ADD,
	STMT_REPAYMENT_ADD,
	STMT_OP_FIND,
	STMT_OP_RECORD,
	STMT_PRINCIPAL_REVOKE_ID,
	STMT_ADMIN_COUNT,
	/* store_query.c */
	STMT_READ_BEGIN,
	STMT_READ_END,
	STMT_EVENTS,
	STMT_PROGRAMMES,
	STMT_REGIONS,
	/* store_log.c */
	STMT_LOG_SIZE,
	STMT_LOG_ADD,
	STMT_LOG_ENTRY,
	STMT_LOG_NODE_GET,
	STMT_LOG_NODE_PUT,
	STMT_CHECKPOINT_ADD,
	STMT_CHECKPOINT_LATEST,
	STMT_CHECKPOINT_AT,
	STMT_SECURITY_ADD,
	STMT_SECURITY_LIST,
	STMT_INTEGRITY,
	/* store_rekey.c */
	STMT_SEALED_ALL,
	STMT_SEALED_BELOW,
	STMT_RESEAL,
	STMT_KEY_VERSIONS,
	STMT_COUNT
};

/* Lengths of an idempotency key and of an operation's SHA-256. */
#define STORE_IDEM_KEYLEN 16
#define STORE_OP_HASHLEN  32

/*
 * A list's filters, one bit each (store_query.c); a filter set is their
 * union. Each set has its own page and count statements, written for the
 * filters it holds and prepared on first use.
 */
enum {
	STORE_F_REGION = 1 << 0,
	STORE_F_PROGRAMME = 1 << 1,
	STORE_F_STATE = 1 << 2,
	STORE_F_SECTOR = 1 << 3,
	STORE_F_CATEGORY = 1 << 4,
	STORE_F_SEX = 1 << 5,
	STORE_F_FROM = 1 << 6,
	STORE_F_TO = 1 << 7,
	STORE_F_SETS = 1 << 8
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	/* List statements: the page of set i at i, its count at SETS + i. */
	sqlite3_stmt *list[2 * STORE_F_SETS];
	/* Reports by group then by month, each without filter, by
	 * region, by programme, by both (store_query.c). */
	sqlite3_stmt *report[8];
	char err[256];
	int full; /* the last store_fail() was a full disk */
#ifdef TAMWIL_TEST_HOOKS
	int fail_commits; /* store_test_fail_commits() */
#endif
};

/* Records the database's error message, prefixed by what was being done;
 * returns -1. */
int store_fail(store *st, const char *what);

/*
 * Returns statement id, preparing it from sql on first use; NULL (with
 * the error recorded) on failure. sql is the calling file's text for id.
 */
sqlite3_stmt *store_stmt(store *st, enum store_stmt id, const char *sql);

/* Resets a statement after use and clears its bindings, so that it holds
 * no read transaction open and no pointer into the caller's memory. */
void store_done(sqlite3_stmt *s);

/* Binds text, or NULL when text is NULL or empty: SQLITE_OK or an error. */
int store_bind_text_or_null(sqlite3_stmt *s, int col, const char *text);

/* Binds an integer, or NULL when it is 0: SQLITE_OK or an error. */
int store_bind_int64_or_null(sqlite3_stmt *s, int col, int64_t v);

/* Copies a text column into a fixed buffer ("" for NULL); a text too long
 * is cut at a UTF-8 character boundary. */
void store_column_text(sqlite3_stmt *s, int col, char *dst, size_t cap);

/* Copies a key column; -1 if it is not exactly STORE_KEYLEN bytes. */
int store_column_key(sqlite3_stmt *s, int col, uint8_t *dst);

/*
 * The columns and joins that read an application (store_application_get()
 * and store_applications()); store_application_row() reads them back.
 */
#define STORE_APPLICATION_COLUMNS                                              \
	"SELECT a.id, a.reference, a.programme_id, p.code, p.currency,"        \
	" a.region_id, r.code, a.beneficiary_id, a.state, a.sex,"              \
	" a.birth_year, a.category, a.sector, a.activity, a.requested,"        \
	" a.contribution, a.formula, a.granted, a.disbursed, a.repaid,"        \
	" a.submitted_by, coalesce(a.decided_by, 0), s.name,"                  \
	" coalesce(d.name, ''), coalesce(a.reason, ''), a.submitted_at,"       \
	" coalesce(a.decided_at, 0)"                                           \
	" FROM applications a "
#define STORE_APPLICATION_JOINS                                                \
	" JOIN programmes p ON p.id = a.programme_id"                          \
	" JOIN regions r ON r.id = a.region_id"                                \
	" JOIN principals s ON s.id = a.submitted_by"                          \
	" LEFT JOIN principals d ON d.id = a.decided_by "
#define STORE_APPLICATION_SELECT                                               \
	STORE_APPLICATION_COLUMNS STORE_APPLICATION_JOINS

/* Fills a from the current row of a STORE_APPLICATION_SELECT statement. */
void store_application_row(sqlite3_stmt *s, store_application *a);

/*
 * The columns that read a programme with its totals and its number of
 * approved applications (store_programme_get() and store_programmes());
 * store_programme_row() reads them back. The number comes from the
 * running counts (schema 5): a row per region and state, however many
 * applications the programme holds. The approved states (2 and 5 to 9) are
 * written as comparisons: SQLite builds a table for a list of more than
 * two constants each time the statement runs, on every submission.
 */
#define STORE_PROGRAMME_SELECT                                                 \
	"SELECT p.id, p.code, p.name, p.currency, p.envelope, p.ceiling,"      \
	" coalesce(p.period_start, ''), coalesce(p.period_end, ''),"           \
	" p.target_beneficiaries, p.categories, p.granted, p.disbursed,"       \
	" (SELECT coalesce(sum(c.n), 0) FROM application_counts c"             \
	"  INDEXED BY application_counts_programme"                            \
	"  WHERE c.programme_id = p.id"                                        \
	"  AND c.state >= 2 AND c.state NOT IN (3, 4))"                        \
	" FROM programmes p "

/* Fills p from the current row of a STORE_PROGRAMME_SELECT statement. */
void store_programme_row(sqlite3_stmt *s, store_programme *p);

#endif
