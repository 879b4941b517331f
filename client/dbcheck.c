/*
 * A copy of head office's database compared with a verified export: the
 * one place the client reads SQL (tables of server/store_schema.c). The
 * copy is opened read-only: nothing is written to its tables.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tamwil-export.h"

struct tamwil_dbcheck {
	sqlite3 *db;
	sqlite3_stmt *app;  /* one application by reference */
	sqlite3_stmt *prog; /* one programme by code */
};

static const char APP_SQL[] =
    "SELECT a.state, p.code, r.code, p.currency, a.requested, a.granted,"
    "       a.disbursed, a.repaid"
    "  FROM applications a"
    "  JOIN programmes p ON p.id = a.programme_id"
    "  JOIN regions r ON r.id = a.region_id"
    " WHERE a.reference = ?1";

static const char PROG_SQL[] =
    "SELECT currency, envelope, granted, disbursed FROM programmes"
    " WHERE code = ?1";

void tamwil_dbcheck_close(tamwil_dbcheck *d)
{
	if (d == NULL)
		return;
	sqlite3_finalize(d->app);
	sqlite3_finalize(d->prog);
	sqlite3_close(d->db);
	free(d);
}

tamwil_dbcheck *tamwil_dbcheck_open(const char *path, char *why, size_t cap)
{
	tamwil_dbcheck *d = calloc(1, sizeof(*d));
	char *uri = sqlite3_mprintf("file:%s?mode=ro", path);
	int rc = SQLITE_NOMEM;

	if (d != NULL && uri != NULL)
		rc = sqlite3_open_v2(
		    uri, &d->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	sqlite3_free(uri);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(d->db, APP_SQL, -1, &d->app, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(d->db, PROG_SQL, -1, &d->prog, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, cap,
			 "cannot read %s as a copy of head office's database: "
			 "%s",
			 path,
			 d != NULL && d->db != NULL ? sqlite3_errmsg(d->db)
						    : "out of memory");
		tamwil_dbcheck_close(d);
		return NULL;
	}
	return d;
}

/* The text of column i, "" for NULL. */
static const char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? (const char *)t : "";
}

/* Compares one figure; 0, or -1 with why. */
static int same_figure(const char *ref, const char *what, int64_t db,
		       int64_t stated, char *why, size_t cap)
{
	if (db == stated)
		return 0;
	snprintf(why, cap,
		 "%s: the database says %s %" PRId64 ", the log %" PRId64, ref,
		 what, db, stated);
	return -1;
}

/* Compares one text; 0, or -1 with why. */
static int same_text(const char *ref, const char *what, const char *db,
		     const char *stated, char *why, size_t cap)
{
	if (strcmp(db, stated != NULL ? stated : "") == 0)
		return 0;
	snprintf(why, cap, "%s: the database says %s %s, the log %s", ref, what,
		 db, stated != NULL ? stated : "");
	return -1;
}

/* The row of a's reference against a. */
static int compare_application(sqlite3_stmt *s,
			       const Tamwil__V1__ExportApplication *a,
			       const char *ref, char *why, size_t cap)
{
	if (same_figure(ref, "state", sqlite3_column_int64(s, 0), a->state, why,
			cap) ||
	    same_text(ref, "programme", col_text(s, 1), a->programme, why,
		      cap) ||
	    same_text(ref, "region", col_text(s, 2), a->region, why, cap) ||
	    same_text(ref, "currency", col_text(s, 3), a->currency, why, cap) ||
	    same_figure(ref, "requested", sqlite3_column_int64(s, 4),
			a->requested, why, cap) ||
	    same_figure(ref, "granted", sqlite3_column_int64(s, 5), a->granted,
			why, cap) ||
	    same_figure(ref, "disbursed", sqlite3_column_int64(s, 6),
			a->disbursed, why, cap) ||
	    same_figure(ref, "repaid", sqlite3_column_int64(s, 7), a->repaid,
			why, cap))
		return -1;
	return 0;
}

int tamwil_dbcheck_application(tamwil_dbcheck *d,
			       const Tamwil__V1__ExportApplication *a,
			       char *why, size_t cap)
{
	char ref[128];
	int rc = -1;

	snprintf(ref, sizeof(ref), "application %s",
		 a->reference != NULL ? a->reference : "");
	sqlite3_reset(d->app);
	sqlite3_bind_text(d->app, 1, a->reference != NULL ? a->reference : "",
			  -1, SQLITE_TRANSIENT);
	if (sqlite3_step(d->app) != SQLITE_ROW)
		snprintf(why, cap, "%s: not in the database", ref);
	else
		rc = compare_application(d->app, a, ref, why, cap);
	sqlite3_reset(d->app);
	return rc;
}

int tamwil_dbcheck_programme(tamwil_dbcheck *d,
			     const Tamwil__V1__ExportProgramme *p, char *why,
			     size_t cap)
{
	sqlite3_stmt *s = d->prog;
	char ref[64];
	int rc = -1;

	snprintf(ref, sizeof(ref), "programme %s",
		 p->code != NULL ? p->code : "");
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, p->code != NULL ? p->code : "", -1,
			  SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_ROW)
		snprintf(why, cap, "%s: not in the database", ref);
	else if (same_text(ref, "currency", col_text(s, 0), p->currency, why,
			   cap) == 0 &&
		 same_figure(ref, "envelope", sqlite3_column_int64(s, 1),
			     p->envelope, why, cap) == 0 &&
		 same_figure(ref, "granted", sqlite3_column_int64(s, 2),
			     p->granted, why, cap) == 0 &&
		 same_figure(ref, "disbursed", sqlite3_column_int64(s, 3),
			     p->disbursed, why, cap) == 0)
		rc = 0;
	sqlite3_reset(s);
	return rc;
}

/* SELECT count(*) of a fixed query into *n; 0 or -1. */
static int count_rows(sqlite3 *db, const char *sql, int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*n = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

int tamwil_dbcheck_counts(tamwil_dbcheck *d, uint64_t applications,
			  uint64_t programmes, char *why, size_t cap)
{
	int64_t na = 0, np = 0;

	if (count_rows(d->db, "SELECT count(*) FROM applications", &na) ||
	    count_rows(d->db, "SELECT count(*) FROM programmes", &np)) {
		snprintf(why, cap, "cannot count the database's rows: %s",
			 sqlite3_errmsg(d->db));
		return -1;
	}
	if ((uint64_t)na != applications || (uint64_t)np != programmes) {
		snprintf(why, cap,
			 "the database holds %" PRId64 " applications and "
			 "%" PRId64 " programmes, the log %" PRIu64 " and "
			 "%" PRIu64,
			 na, np, applications, programmes);
		return -1;
	}
	return 0;
}
