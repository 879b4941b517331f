/*
 * The store's lists and reports. Each call steps one prepared statement
 * and hands every row to the caller's function, which must not call back
 * into the same query nor write. A function that returns non-zero stops
 * the walk, and the call returns that value; otherwise a call returns 0,
 * or -1 with store_errmsg() set.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store_private.h"

/*
 * A report by group (?1 is the enum store_group; sex and category group by
 * their number as text and sort as numbers) and by month (the same
 * columns, counted from the events of each month), each in two halves
 * around the filters of query_report_sql().
 */
#define QUERY_REPORT_HEAD                                                      \
	"SELECT CASE ?1 WHEN 1 THEN r.code WHEN 2 THEN p.code"                 \
	"  WHEN 3 THEN a.sector WHEN 4 THEN CAST(a.sex AS TEXT)"               \
	"  ELSE CAST(a.category AS TEXT) END AS g,"                            \
	" p.currency, count(*), sum(a.state IN (2, 5, 6, 7, 8, 9)),"           \
	" sum(a.state = 3), sum(a.state = 4), sum(a.disbursed > 0),"           \
	" sum(a.sex = 1), sum(a.requested), sum(a.granted), sum(a.disbursed)," \
	" sum(a.repaid)"                                                       \
	" FROM applications a "
#define QUERY_REPORT_TAIL                                                      \
	" GROUP BY g, p.currency"                                              \
	" ORDER BY CASE WHEN ?1 IN (4, 5) THEN CAST(g AS INTEGER) END, g,"     \
	" p.currency"
#define QUERY_REPORT_MONTH_HEAD                                                \
	"SELECT strftime('%Y-%m', e.time, 'unixepoch') AS g, p.currency,"      \
	" sum(e.action = 'submitted'), sum(e.action = 'approved'),"            \
	" sum(e.action = 'rejected'), sum(e.action = 'withdrawn'),"            \
	" count(DISTINCT CASE WHEN e.action = 'disbursement'"                  \
	"  THEN e.application_id END),"                                        \
	" sum(e.action = 'submitted' AND a.sex = 1),"                          \
	" sum(CASE WHEN e.action = 'submitted' THEN a.requested ELSE 0 END),"  \
	" sum(CASE WHEN e.action = 'approved' THEN e.amount ELSE 0 END),"      \
	" sum(CASE WHEN e.action = 'disbursement' THEN e.amount ELSE 0 END),"  \
	" sum(CASE WHEN e.action = 'repayment' THEN e.amount ELSE 0 END)"      \
	" FROM applications a "
#define QUERY_REPORT_MONTH_JOIN " JOIN events e ON e.application_id = a.id"
#define QUERY_REPORT_MONTH_TAIL " GROUP BY g, p.currency ORDER BY g, p.currency"
#define QUERY_REPORT_JOINS                                                     \
	" JOIN programmes p ON p.id = a.programme_id"                          \
	" JOIN regions r ON r.id = a.region_id"

/* Entries are concatenated literals by design, not missing commas. */
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
static const char *const query_sql[STMT_COUNT] = {
    [STMT_READ_BEGIN] = "BEGIN",
    [STMT_READ_END] = "COMMIT",
    [STMT_EVENTS] = "SELECT e.time, e.action, p.name, e.amount, e.detail"
		    " FROM events e JOIN principals p ON p.id = e.actor"
		    " WHERE e.application_id = ?1 ORDER BY e.id",
    [STMT_PROGRAMMES] = STORE_PROGRAMME_SELECT "ORDER BY p.code",
    [STMT_REGIONS] = "SELECT code, name FROM regions ORDER BY code",
};
// NOLINTEND(bugprone-suspicious-missing-comma)

/* This file's statements. */
static sqlite3_stmt *query_stmt(store *st, enum store_stmt id)
{
	return store_stmt(st, id, query_sql[id]);
}

/* Turns the current row of s into a call of the caller's function. */
typedef int (*query_row_fn)(sqlite3_stmt *s, void *ctx);

/*
 * Steps a bound statement to its end, calling row for each row: 0, the
 * non-zero value row returned to stop, or -1. The caller resets s.
 */
static int query_each(store *st, sqlite3_stmt *s, const char *what,
		      query_row_fn row, void *ctx)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int stop = row(s, ctx);

		if (stop != 0)
			return stop;
	}
	if (rc != SQLITE_DONE)
		return store_fail(st, what);
	return 0;
}

/* Runs a statement without parameters or rows: 0 or -1. */
static int query_exec(store *st, enum store_stmt id, const char *what)
{
	sqlite3_stmt *s = query_stmt(st, id);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_fail(st, what);
	store_done(s);
	return rc;
}

/* ---------------------------------------------------------------------
 * Events.
 */

struct query_events {
	store_event_fn fn;
	void *arg;
};

static int query_event_row(sqlite3_stmt *s, void *ctx)
{
	const struct query_events *q = ctx;

	return q->fn(q->arg, sqlite3_column_int64(s, 0),
		     (const char *)sqlite3_column_text(s, 1),
		     (const char *)sqlite3_column_text(s, 2),
		     sqlite3_column_int64(s, 3),
		     (const char *)sqlite3_column_text(s, 4));
}

/*
 * Calls fn for each event of an application in the order they were
 * recorded, with the actor's name; detail is "" when there is none.
 */
int store_events(store *st, int64_t application_id, store_event_fn fn,
		 void *arg)
{
	sqlite3_stmt *s = query_stmt(st, STMT_EVENTS);
	struct query_events q = {fn, arg};
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, application_id) != SQLITE_OK) {
		rc = store_fail(st, "list events");
		goto out;
	}
	rc = query_each(st, s, "list events", query_event_row, &q);
out:
	store_done(s);
	return rc;
}

/* ---------------------------------------------------------------------
 * Applications.
 */

/*
 * Lists are written for the filters actually given, so that SQLite starts
 * from the index of the most selective one (a programme, then a region,
 * each with the state when it is given, then the state, sector,
 * category, sex, submission date) and walks its entries in id order:
 * a page costs the entries read up to its last row, never a pass over
 * every application. Each filter has a fixed parameter number, whether
 * or not the statement uses it. A code names its row through a
 * subquery, so an unknown code matches nothing.
 */
static const char *const query_terms[] = {
    "a.region_id = (SELECT id FROM regions WHERE code = ?1)",
    "a.programme_id = (SELECT id FROM programmes WHERE code = ?2)",
    "a.state = ?4",
    "a.sector = ?3",
    "a.category = ?5",
    "a.sex = ?6",
    "a.submitted_at >= ?7",
    "a.submitted_at < ?8",
};

/* The filters region, programme and state alone are counted from the
 * running counts of schema 6, a row per region, programme and state. */
#define QUERY_COUNTED (STORE_F_REGION | STORE_F_PROGRAMME | STORE_F_STATE)

/* The filter set of f (STORE_F_*). */
static unsigned query_set(const store_filter *f)
{
	unsigned set = 0;

	if (f->region != NULL && f->region[0] != '\0')
		set |= STORE_F_REGION;
	if (f->programme != NULL && f->programme[0] != '\0')
		set |= STORE_F_PROGRAMME;
	if (f->state != 0)
		set |= STORE_F_STATE;
	if (f->sector != NULL && f->sector[0] != '\0')
		set |= STORE_F_SECTOR;
	if (f->category != 0)
		set |= STORE_F_CATEGORY;
	if (f->sex != 0)
		set |= STORE_F_SEX;
	if (f->from != 0)
		set |= STORE_F_FROM;
	if (f->to != 0)
		set |= STORE_F_TO;
	return set;
}

/* The index a list of filter set `set` walks; NULL: the table by id. */
static const char *query_index(unsigned set)
{
	if (set & STORE_F_PROGRAMME)
		return set & STORE_F_STATE ? "applications_programme_state"
					   : "applications_programme";
	if (set & STORE_F_REGION)
		return set & STORE_F_STATE ? "applications_region_state"
					   : "applications_region";
	if (set & STORE_F_STATE)
		return "applications_state";
	if (set & STORE_F_SECTOR)
		return "applications_sector";
	if (set & STORE_F_CATEGORY)
		return "applications_category";
	if (set & STORE_F_SEX)
		return "applications_sex";
	if (set & (STORE_F_FROM | STORE_F_TO))
		return "applications_submitted";
	return NULL;
}

/* Appends text to buf (capacity cap, *len used): 0, or -1 when full. */
static int query_cat(char *buf, size_t cap, size_t *len, const char *text)
{
	size_t n = strlen(text);

	if (*len + n >= cap)
		return -1;
	memcpy(buf + *len, text, n + 1);
	*len += n;
	return 0;
}

/*
 * Writes into buf the WHERE clause of the filters of set, each term
 * rewritten for table alias `alias` ("a." or "c."), then `tail`. 0 or -1.
 */
static int query_where(char *buf, size_t cap, size_t *len, unsigned set,
		       const char *alias, const char *tail)
{
	const char *sep = " WHERE ";

	for (unsigned i = 0; i < sizeof(query_terms) / sizeof(*query_terms);
	     i++) {
		if (!(set & (1u << i)))
			continue;
		if (query_cat(buf, cap, len, sep) != 0 ||
		    query_cat(buf, cap, len, alias) != 0 ||
		    query_cat(buf, cap, len, query_terms[i] + 2) != 0)
			return -1;
		sep = " AND ";
	}
	if (set == 0 && strncmp(tail, " AND ", 5) == 0)
		return query_cat(buf, cap, len, " WHERE ") ||
		       query_cat(buf, cap, len, tail + 5);
	return query_cat(buf, cap, len, tail);
}

/*
 * The text of the page (count 0) or count (count 1) statement of filter
 * set `set` into buf. 0, or -1 when it does not fit.
 */
static int query_list_sql(unsigned set, int count, char *buf, size_t cap)
{
	const char *index = query_index(set);
	size_t len = 0;

	buf[0] = '\0';
	if (count && (set & ~QUERY_COUNTED) == 0) {
		/* Without region, the programme's index of the counts. */
		const char *from =
		    set & STORE_F_REGION || !(set & STORE_F_PROGRAMME)
			? "SELECT coalesce(sum(c.n), 0)"
			  " FROM application_counts c"
			: "SELECT coalesce(sum(c.n), 0)"
			  " FROM application_counts c INDEXED BY"
			  " application_counts_programme";

		return query_cat(buf, cap, &len, from) ||
		       query_where(buf, cap, &len, set, "c.", "");
	}
	if (query_cat(buf, cap, &len,
		      count ? "SELECT count(*) FROM applications a "
			    : STORE_APPLICATION_COLUMNS) != 0)
		return -1;
	if (index != NULL && (query_cat(buf, cap, &len, "INDEXED BY ") != 0 ||
			      query_cat(buf, cap, &len, index) != 0))
		return -1;
	if (count)
		return query_where(buf, cap, &len, set, "a.", "");
	return query_cat(buf, cap, &len, STORE_APPLICATION_JOINS) ||
	       query_where(buf, cap, &len, set, "a.",
			   " AND a.id > ?9 ORDER BY a.id LIMIT ?10");
}

/*
 * The page (count 0) or count statement of filter set `set`, prepared on
 * first use and kept with the connection; NULL with the error recorded.
 */
static sqlite3_stmt *query_list_stmt(store *st, unsigned set, int count)
{
	sqlite3_stmt **slot = &st->list[(count ? STORE_F_SETS : 0) + set];
	char sql[2048];

	if (*slot != NULL)
		return *slot;
	if (query_list_sql(set, count, sql, sizeof(sql)) != 0) {
		snprintf(st->err, sizeof(st->err), "list statement %u too long",
			 set);
		return NULL;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot,
			       NULL) != SQLITE_OK) {
		store_fail(st, "prepare a list");
		*slot = NULL;
	}
	return *slot;
}

/* Binds the filters of f that set holds: SQLITE_OK or an error. */
static int query_bind_filter(sqlite3_stmt *s, unsigned set,
			     const store_filter *f)
{
	int rc = SQLITE_OK;

	if (set & STORE_F_REGION)
		rc |= sqlite3_bind_text(s, 1, f->region, -1, SQLITE_STATIC);
	if (set & STORE_F_PROGRAMME)
		rc |= sqlite3_bind_text(s, 2, f->programme, -1, SQLITE_STATIC);
	if (set & STORE_F_SECTOR)
		rc |= sqlite3_bind_text(s, 3, f->sector, -1, SQLITE_STATIC);
	if (set & STORE_F_STATE)
		rc |= sqlite3_bind_int(s, 4, f->state);
	if (set & STORE_F_CATEGORY)
		rc |= sqlite3_bind_int(s, 5, f->category);
	if (set & STORE_F_SEX)
		rc |= sqlite3_bind_int(s, 6, f->sex);
	if (set & STORE_F_FROM)
		rc |= sqlite3_bind_int64(s, 7, f->from);
	if (set & STORE_F_TO)
		rc |= sqlite3_bind_int64(s, 8, f->to);
	return rc == SQLITE_OK ? SQLITE_OK : SQLITE_ERROR;
}

/* Counts the applications matching f, ignoring paging: 0 or -1. */
static int query_count(store *st, const store_filter *f, uint64_t *total)
{
	unsigned set = query_set(f);
	sqlite3_stmt *s = query_list_stmt(st, set, 1);
	int rc = -1;

	if (s == NULL)
		return -1;
	if (query_bind_filter(s, set, f) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		store_fail(st, "count applications");
		goto out;
	}
	*total = (uint64_t)sqlite3_column_int64(s, 0);
	rc = 0;
out:
	store_done(s);
	return rc;
}

struct query_applications {
	store_application_fn fn;
	void *arg;
	store_application a;
};

static int query_application_row(sqlite3_stmt *s, void *ctx)
{
	struct query_applications *q = ctx;

	store_application_row(s, &q->a);
	return q->fn(q->arg, &q->a);
}

/* Calls fn for the page of f: 0, fn's non-zero value, or -1. */
static int query_page(store *st, const store_filter *f, store_application_fn fn,
		      void *arg)
{
	unsigned set = query_set(f);
	sqlite3_stmt *s = query_list_stmt(st, set, 0);
	struct query_applications q;
	int rc;

	if (s == NULL)
		return -1;
	memset(&q, 0, sizeof(q));
	q.fn = fn;
	q.arg = arg;
	if (query_bind_filter(s, set, f) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 9, f->after_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 10, f->limit) != SQLITE_OK) {
		rc = store_fail(st, "list applications");
		goto out;
	}
	rc = query_each(st, s, "list applications", query_application_row, &q);
out:
	store_done(s);
	return rc;
}

int store_read_begin(store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		return 0;
	return query_exec(st, STMT_READ_BEGIN, "begin read") != 0 ? -1 : 1;
}

int store_read_end(store *st, int began, int rc)
{
	char saved[sizeof(st->err)];

	if (began != 1)
		return rc;
	if (rc == 0)
		return query_exec(st, STMT_READ_END, "end read");
	memcpy(saved, st->err, sizeof(saved));
	(void)query_exec(st, STMT_READ_END, "end read");
	memcpy(st->err, saved, sizeof(saved));
	return rc;
}

/*
 * Counts the applications matching f into *total, then calls fn for those
 * with an id above f->after_id, in id order, at most f->limit of them
 * (0: none, a count only). Text filters NULL or "" and numbers 0 match
 * anything; from and to bound submitted_at to [from, to). Outside a
 * transaction both read one snapshot, so the count agrees with the page.
 */
int store_applications(store *st, const store_filter *f,
		       store_application_fn fn, void *arg, uint64_t *total)
{
	int began = store_read_begin(st), rc;

	if (began < 0)
		return -1;
	rc = query_count(st, f, total);
	if (rc == 0)
		rc = query_page(st, f, fn, arg);
	return store_read_end(st, began, rc);
}

int store_applications_plan(store *st, const store_filter *f, int count,
			    store_plan_fn fn, void *arg)
{
	static const char explain[] = "EXPLAIN QUERY PLAN ";
	unsigned set = query_set(f);
	sqlite3_stmt *s = NULL;
	char sql[2048 + sizeof(explain)];
	int rc = -1;

	memcpy(sql, explain, sizeof(explain));
	if (query_list_sql(set, count, sql + sizeof(explain) - 1,
			   sizeof(sql) - sizeof(explain) + 1) != 0) {
		snprintf(st->err, sizeof(st->err), "list statement %u too long",
			 set);
		return -1;
	}
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK ||
	    query_bind_filter(s, set, f) != SQLITE_OK) {
		store_fail(st, "explain a list");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int stop = fn(arg, (const char *)sqlite3_column_text(s, 3));

		if (stop != 0) {
			rc = stop;
			goto out;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : store_fail(st, "explain a list");
out:
	sqlite3_finalize(s);
	return rc;
}

/* ---------------------------------------------------------------------
 * Programmes and regions.
 */

struct query_programmes {
	store_programme_fn fn;
	void *arg;
	store_programme p;
};

static int query_programme_row(sqlite3_stmt *s, void *ctx)
{
	struct query_programmes *q = ctx;

	store_programme_row(s, &q->p);
	return q->fn(q->arg, &q->p);
}

/* Calls fn for each programme, by code, with its totals and the number
 * of its approved applications. */
int store_programmes(store *st, store_programme_fn fn, void *arg)
{
	sqlite3_stmt *s = query_stmt(st, STMT_PROGRAMMES);
	struct query_programmes q;
	int rc;

	if (s == NULL)
		return -1;
	memset(&q, 0, sizeof(q));
	q.fn = fn;
	q.arg = arg;
	rc = query_each(st, s, "list programmes", query_programme_row, &q);
	store_done(s);
	return rc;
}

struct query_regions {
	store_region_fn fn;
	void *arg;
};

static int query_region_row(sqlite3_stmt *s, void *ctx)
{
	const struct query_regions *q = ctx;

	return q->fn(q->arg, (const char *)sqlite3_column_text(s, 0),
		     (const char *)sqlite3_column_text(s, 1));
}

/* Calls fn for each region, by code. */
int store_regions(store *st, store_region_fn fn, void *arg)
{
	sqlite3_stmt *s = query_stmt(st, STMT_REGIONS);
	struct query_regions q = {fn, arg};
	int rc;

	if (s == NULL)
		return -1;
	rc = query_each(st, s, "list regions", query_region_row, &q);
	store_done(s);
	return rc;
}

/* ---------------------------------------------------------------------
 * Reports.
 */

struct query_report {
	store_report_fn fn;
	void *arg;
	store_report_row row;
};

static int query_report_row(sqlite3_stmt *s, void *ctx)
{
	struct query_report *q = ctx;
	store_report_row *r = &q->row;

	store_column_text(s, 0, r->group, sizeof(r->group));
	store_column_text(s, 1, r->currency, sizeof(r->currency));
	r->submitted = (uint64_t)sqlite3_column_int64(s, 2);
	r->approved = (uint64_t)sqlite3_column_int64(s, 3);
	r->rejected = (uint64_t)sqlite3_column_int64(s, 4);
	r->withdrawn = (uint64_t)sqlite3_column_int64(s, 5);
	r->disbursed = (uint64_t)sqlite3_column_int64(s, 6);
	r->women = (uint64_t)sqlite3_column_int64(s, 7);
	r->requested = sqlite3_column_int64(s, 8);
	r->granted = sqlite3_column_int64(s, 9);
	r->disbursed_amount = sqlite3_column_int64(s, 10);
	r->repaid = sqlite3_column_int64(s, 11);
	return q->fn(q->arg, r);
}

/*
 * Calls fn with one row per group and currency, ordered by group (sex and
 * category by their number), over the applications of one programme
 * and/or region when those codes are neither NULL nor "". By month, the
 * rows count the events of each month instead (see tamwil.proto). Counts:
 * submitted is every application; approved, every one in the approved
 * state or a later one; disbursed, those with a tranche; women, those
 * with sex 1. Amounts are exact sums in minor units; a sum that overflows
 * 64 bits is -1.
 */
/*
 * The text of the report (month 0: by group, 1: by month) over the
 * applications of programme ?2 when set has STORE_F_PROGRAMME and region
 * ?3 when it has STORE_F_REGION, walking the index of the filter given
 * (all applications without one) into buf. 0, or -1 when it does not
 * fit.
 */
static int query_report_sql(unsigned set, int month, char *buf, size_t cap)
{
	size_t len = 0;
	int rc;

	buf[0] = '\0';
	rc = query_cat(buf, cap, &len,
		       month ? QUERY_REPORT_MONTH_HEAD : QUERY_REPORT_HEAD);
	if (set & STORE_F_PROGRAMME)
		rc |= query_cat(buf, cap, &len,
				"INDEXED BY applications_programme");
	else if (set & STORE_F_REGION)
		rc |=
		    query_cat(buf, cap, &len, "INDEXED BY applications_region");
	if (month)
		rc |= query_cat(buf, cap, &len, QUERY_REPORT_MONTH_JOIN);
	rc |= query_cat(buf, cap, &len, QUERY_REPORT_JOINS);
	if (set & STORE_F_PROGRAMME)
		rc |= query_cat(buf, cap, &len,
				" WHERE a.programme_id ="
				" (SELECT id FROM programmes WHERE code = ?2)");
	if (set & STORE_F_REGION)
		rc |= query_cat(buf, cap, &len,
				set & STORE_F_PROGRAMME ? " AND" : " WHERE") ||
		      query_cat(buf, cap, &len,
				" a.region_id ="
				" (SELECT id FROM regions WHERE code = ?3)");
	rc |= query_cat(buf, cap, &len,
			month ? QUERY_REPORT_MONTH_TAIL : QUERY_REPORT_TAIL);
	return rc != 0 ? -1 : 0;
}

/* The report statement of query_report_sql(), prepared on first use. */
static sqlite3_stmt *query_report_stmt(store *st, unsigned set, int month)
{
	sqlite3_stmt **slot = &st->report[month * 4 + set];
	char sql[2048];

	if (*slot != NULL)
		return *slot;
	if (query_report_sql(set, month, sql, sizeof(sql)) != 0) {
		snprintf(st->err, sizeof(st->err), "report %u too long", set);
		return NULL;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot,
			       NULL) != SQLITE_OK) {
		store_fail(st, "prepare a report");
		*slot = NULL;
	}
	return *slot;
}

int store_report(store *st, enum store_group by, const char *programme,
		 const char *region, store_report_fn fn, void *arg)
{
	unsigned set = 0;
	int month = by == STORE_GROUP_MONTH;
	sqlite3_stmt *s;
	struct query_report q;
	int rc;

	if (by < STORE_GROUP_REGION || by > STORE_GROUP_MONTH) {
		snprintf(st->err, sizeof(st->err), "unknown report grouping %d",
			 (int)by);
		return -1;
	}
	if (programme != NULL && programme[0] != '\0')
		set |= STORE_F_PROGRAMME;
	if (region != NULL && region[0] != '\0')
		set |= STORE_F_REGION;
	s = query_report_stmt(st, set, month);
	if (s == NULL)
		return -1;
	memset(&q, 0, sizeof(q));
	q.fn = fn;
	q.arg = arg;
	if ((!month && sqlite3_bind_int(s, 1, (int)by) != SQLITE_OK) ||
	    ((set & STORE_F_PROGRAMME) &&
	     sqlite3_bind_text(s, 2, programme, -1, SQLITE_STATIC) !=
		 SQLITE_OK) ||
	    ((set & STORE_F_REGION) &&
	     sqlite3_bind_text(s, 3, region, -1, SQLITE_STATIC) != SQLITE_OK)) {
		rc = store_fail(st, "report");
		goto out;
	}
	rc = query_each(st, s, "report", query_report_row, &q);
out:
	store_done(s);
	return rc;
}
