/*
 * Unit tests of the store's domain: the upgrade from schema version 1,
 * application references, the rules the schema enforces (one open
 * application, envelope, tranches within the grant, repayments within
 * the tranches), savepoints, idempotency records, the list filters and
 * paging, reports exact to the minor unit, and Arabic text.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "store_schema.h"

struct fixture {
	char dir[64];
	char path[128];
	store *st;
	int64_t admin, approver, treasurer, coord_lag, coord_cas;
	int64_t lag, cas;
	int64_t prog; /* "FEM-2026", MAD, envelope 1 000 000,00 */
	uint8_t next_key;
};

#define ENVELOPE 100000000 /* 1 000 000,00 MAD */
#define CEILING	 5000000   /* 50 000,00 MAD */

/* Unix time of a UTC date and time. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

static int64_t principal(struct fixture *f, const char *name, const char *role,
			 const char *region)
{
	uint8_t n[STORE_KEYLEN], s[STORE_KEYLEN];
	int64_t id;

	memset(n, ++f->next_key, sizeof(n));
	memset(s, ++f->next_key, sizeof(s));
	assert_int_equal(
	    store_principal_add(f->st, name, role, region, n, s, 0, &id), 0);
	return id;
}

static void programme_init(store_programme *p, const char *code,
			   const char *currency, int64_t envelope,
			   int64_t ceiling)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->code, sizeof(p->code), "%s", code);
	snprintf(p->name, sizeof(p->name), "Programme %s", code);
	snprintf(p->currency, sizeof(p->currency), "%s", currency);
	p->envelope = envelope;
	p->ceiling = ceiling;
}

static int64_t programme(struct fixture *f, const char *code,
			 const char *currency)
{
	store_programme p;

	programme_init(&p, code, currency, ENVELOPE, CEILING);
	assert_int_equal(store_programme_add(f->st, &p, f->admin), 0);
	return p.id;
}

/* A beneficiary whose blind index is filled with fill. */
static int64_t beneficiary(struct fixture *f, uint8_t fill, int64_t region)
{
	uint8_t blind[STORE_KEYLEN], sealed[48];
	int64_t id;

	memset(blind, fill, sizeof(blind));
	memset(sealed, fill ^ 0x5a, sizeof(sealed));
	assert_int_equal(store_beneficiary_add(f->st, blind, sealed,
					       sizeof(sealed), 0, region, &id),
			 0);
	return id;
}

static void application_init(struct fixture *f, store_application *a,
			     int64_t prog, int64_t region, int64_t ben,
			     int64_t when)
{
	memset(a, 0, sizeof(*a));
	a->programme_id = prog;
	a->region_id = region;
	a->beneficiary_id = ben;
	a->sex = 1;
	a->birth_year = 1990;
	a->category = 2;
	snprintf(a->sector, sizeof(a->sector), "crafts");
	snprintf(a->activity, sizeof(a->activity), "weaving workshop");
	a->requested = 3000000;
	a->contribution = 300000;
	snprintf(a->formula, sizeof(a->formula), "loan 70%% + grant 30%%");
	a->submitted_by = region == f->cas ? f->coord_cas : f->coord_lag;
	a->submitted_at = when;
}

/* Submits an application of a new beneficiary; returns its id. */
static int64_t submit(struct fixture *f, store_application *a, int64_t prog,
		      int64_t region, uint8_t fill, int64_t when)
{
	application_init(f, a, prog, region, beneficiary(f, fill, region),
			 when);
	assert_int_equal(store_application_add(f->st, a), 0);
	return a->id;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-domain-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	assert_int_equal(store_open(f->path, 1, &f->st, err, sizeof(err)), 0);
	assert_int_equal(store_region_add(f->st, "LAG", "Laghouat", &f->lag),
			 0);
	assert_int_equal(
	    store_region_add(f->st, "CAS", "Casablanca-Settat", &f->cas), 0);
	f->admin = principal(f, "Amina Benali", "admin", NULL);
	f->approver = principal(f, "Karim Haddad", "approver", NULL);
	f->treasurer = principal(f, "Nadia Ziani", "treasurer", NULL);
	f->coord_lag = principal(f, "Yacine Mansouri", "coordinator", "LAG");
	f->coord_cas = principal(f, "Salma Idrissi", "coordinator", "CAS");
	f->prog = programme(f, "FEM-2026", "MAD");
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

/* Moves an application to state with the given amounts, decided by the
 * approver; returns what store_application_update() returns. */
static int set_state(struct fixture *f, store_application *a, int state,
		     int64_t granted, int64_t disbursed, int64_t repaid)
{
	a->state = state;
	a->granted = granted;
	a->disbursed = disbursed;
	a->repaid = repaid;
	a->decided_by = f->approver;
	a->decided_at = a->submitted_at + 86400;
	return store_application_update(f->st, a);
}

/* ------------------------------------------------------------------ */

static void test_migration_from_version_1(void **state)
{
	struct fixture *f = *state;
	char path[160], err[256], pattern[192];
	uint8_t n[STORE_KEYLEN];
	glob_t g;
	store_principal p;
	store_programme prog;
	int64_t region;
	store *st = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, store_schema_migrations[0], NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
			 "INSERT INTO regions(code, name, created_at)"
			 " VALUES ('ORN', 'وهران', 1);"
			 "INSERT INTO principals(name, role, region_id,"
			 " noise_pk, sign_pk, enrolled_at) VALUES"
			 " ('Old admin', 'admin', NULL, zeroblob(32),"
			 " randomblob(32), 1);"
			 "PRAGMA user_version = 1;",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(path, 0, &st, err, sizeof(err)), 0);
	/* Upgraded through every later migration to the current version. */
	assert_int_equal(query_int(path, "PRAGMA user_version"),
			 store_schema_version());
	/* After a copy of the version 1 database was kept beside it. */
	snprintf(pattern, sizeof(pattern), "%s.before-upgrade-v1-*", path);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	assert_int_equal(query_int(g.gl_pathv[0], "PRAGMA user_version"), 1);
	assert_int_equal(
	    query_int(g.gl_pathv[0], "SELECT count(*) FROM principals"), 1);
	unlink(g.gl_pathv[0]);
	globfree(&g);
	assert_true(store_schema_version() >= 3);
	memset(n, 0, sizeof(n));
	assert_int_equal(store_principal_by_noise(st, n, &p), 0);
	assert_string_equal(p.name, "Old admin");
	assert_int_equal(store_region_find(st, "ORN", &region), 0);
	/* The new tables work on the upgraded database. */
	programme_init(&prog, "ORN-1", "DZD", 1000, 100);
	assert_int_equal(store_programme_add(st, &prog, p.id), 0);
	assert_int_equal(store_programme_get(st, "ORN-1", &prog), 0);
	assert_int_equal(prog.envelope, 1000);
	store_close(st);
	/* Opening again changes nothing. */
	assert_int_equal(store_open(path, 0, &st, err, sizeof(err)), 0);
	assert_int_equal(store_programme_get(st, "ORN-1", &prog), 0);
	store_close(st);
	unlink(path);
	snprintf(err, sizeof(err), "%s-wal", path);
	unlink(err);
	snprintf(err, sizeof(err), "%s-shm", path);
	unlink(err);
}

static void test_references_per_region_and_year(void **state)
{
	struct fixture *f = *state;
	store_application a;

	submit(f, &a, f->prog, f->lag, 1, utc(2026, 3, 1, 10, 0, 0));
	assert_string_equal(a.reference, "LAG-2026-000001");
	assert_int_equal(a.state, STORE_SUBMITTED);
	submit(f, &a, f->prog, f->lag, 2, utc(2026, 12, 31, 23, 59, 59));
	assert_string_equal(a.reference, "LAG-2026-000002");
	submit(f, &a, f->prog, f->cas, 3, utc(2026, 5, 1, 0, 0, 0));
	assert_string_equal(a.reference, "CAS-2026-000001");
	/* The year is the UTC year of submission. */
	submit(f, &a, f->prog, f->lag, 4, utc(2027, 1, 1, 0, 0, 0));
	assert_string_equal(a.reference, "LAG-2027-000001");
	submit(f, &a, f->prog, f->lag, 5, utc(2026, 6, 1, 0, 0, 0));
	assert_string_equal(a.reference, "LAG-2026-000003");
}

/* An unknown region, and a region whose year has used every number. */
static void test_references_refused(void **state)
{
	struct fixture *f = *state;
	store_application a;
	sqlite3 *db;

	application_init(f, &a, f->prog, 999, beneficiary(f, 1, f->lag),
			 utc(2026, 3, 1, 10, 0, 0));
	assert_int_equal(store_application_add(f->st, &a), -1);
	assert_non_null(strstr(store_errmsg(f->st), "no region 999"));
	submit(f, &a, f->prog, f->lag, 2, utc(2026, 3, 1, 10, 0, 0));
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "UPDATE applications SET seq = 999999,"
				      " reference = 'LAG-2026-999999'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	application_init(f, &a, f->prog, f->lag, beneficiary(f, 3, f->lag),
			 utc(2026, 9, 1, 10, 0, 0));
	assert_int_equal(store_application_add(f->st, &a), -1);
	assert_non_null(strstr(store_errmsg(f->st),
			       "region LAG has numbered its 999999 "
			       "applications of 2026"));
	/* The next year starts again from 1. */
	a.submitted_at = utc(2027, 1, 2, 10, 0, 0);
	assert_int_equal(store_application_add(f->st, &a), 0);
	assert_string_equal(a.reference, "LAG-2027-000001");
}

static void test_application_read_back(void **state)
{
	struct fixture *f = *state;
	store_application a, b;

	submit(f, &a, f->prog, f->cas, 1, utc(2026, 2, 2, 9, 30, 0));
	memset(&b, 0x7f, sizeof(b));
	assert_int_equal(store_application_get(f->st, a.reference, &b), 0);
	assert_int_equal(b.id, a.id);
	assert_string_equal(b.reference, "CAS-2026-000001");
	assert_string_equal(b.programme, "FEM-2026");
	assert_string_equal(b.currency, "MAD");
	assert_string_equal(b.region, "CAS");
	assert_int_equal(b.region_id, f->cas);
	assert_int_equal(b.programme_id, f->prog);
	assert_int_equal(b.beneficiary_id, a.beneficiary_id);
	assert_int_equal(b.state, STORE_SUBMITTED);
	assert_int_equal(b.sex, 1);
	assert_int_equal(b.birth_year, 1990);
	assert_int_equal(b.category, 2);
	assert_string_equal(b.sector, "crafts");
	assert_string_equal(b.activity, "weaving workshop");
	assert_int_equal(b.requested, 3000000);
	assert_int_equal(b.contribution, 300000);
	assert_string_equal(b.formula, "loan 70% + grant 30%");
	assert_int_equal(b.granted, 0);
	assert_int_equal(b.submitted_by, f->coord_cas);
	assert_string_equal(b.submitted_by_name, "Salma Idrissi");
	assert_int_equal(b.decided_by, 0);
	assert_string_equal(b.decided_by_name, "");
	assert_string_equal(b.reason, "");
	assert_int_equal(b.submitted_at, utc(2026, 2, 2, 9, 30, 0));
	assert_int_equal(b.decided_at, 0);

	assert_int_equal(set_state(f, &b, STORE_APPROVED, 2500000, 0, 0), 0);
	assert_int_equal(store_application_get(f->st, a.reference, &b), 0);
	assert_int_equal(b.state, STORE_APPROVED);
	assert_int_equal(b.granted, 2500000);
	assert_string_equal(b.decided_by_name, "Karim Haddad");
	assert_int_equal(b.decided_at, utc(2026, 2, 3, 9, 30, 0));
	assert_int_equal(store_application_get(f->st, "LAG-2026-999999", &b),
			 STORE_NOT_FOUND);
}

static void test_one_open_application(void **state)
{
	struct fixture *f = *state;
	store_application a, b, c;
	int64_t ben = beneficiary(f, 9, f->lag);
	int64_t other = programme(f, "JEUNES", "MAD");
	int64_t when = utc(2026, 4, 1, 8, 0, 0);

	application_init(f, &a, f->prog, f->lag, ben, when);
	assert_int_equal(store_application_add(f->st, &a), 0);
	application_init(f, &b, f->prog, f->lag, ben, when + 1);
	assert_int_equal(store_application_add(f->st, &b), STORE_CONFLICT);
	assert_non_null(strstr(store_errmsg(f->st), "open application"));
	/* A refused submission takes no reference. */
	application_init(f, &c, other, f->lag, ben, when + 2);
	assert_int_equal(store_application_add(f->st, &c), 0);
	assert_string_equal(c.reference, "LAG-2026-000002");

	/* Approved is still open. */
	assert_int_equal(set_state(f, &a, STORE_APPROVED, 1000, 0, 0), 0);
	assert_int_equal(store_application_add(f->st, &b), STORE_CONFLICT);
	/* Withdrawn (by its submitter) closes it. */
	assert_int_equal(store_application_get(f->st, c.reference, &c), 0);
	c.state = STORE_WITHDRAWN;
	c.decided_by = c.submitted_by;
	c.decided_at = when + 3;
	snprintf(c.reason, sizeof(c.reason), "moved away");
	assert_int_equal(store_application_update(f->st, &c), 0);
	application_init(f, &c, other, f->lag, ben, when + 4);
	assert_int_equal(store_application_add(f->st, &c), 0);
	/* Rejected closes it too. */
	assert_int_equal(set_state(f, &c, STORE_REJECTED, 0, 0, 0), 0);
	application_init(f, &c, other, f->lag, ben, when + 5);
	assert_int_equal(store_application_add(f->st, &c), 0);
	assert_string_equal(c.reference, "LAG-2026-000004");
}

static void test_programme_totals_within_envelope(void **state)
{
	struct fixture *f = *state;
	store_programme p;

	assert_int_equal(
	    store_programme_add_totals(f->st, f->prog, ENVELOPE - 7, 0), 0);
	assert_int_equal(store_programme_add_totals(f->st, f->prog, 8, 0),
			 STORE_CONFLICT);
	assert_non_null(strstr(store_errmsg(f->st), "envelope"));
	assert_int_equal(store_programme_get(f->st, "FEM-2026", &p), 0);
	assert_int_equal(p.granted, ENVELOPE - 7);
	assert_int_equal(p.disbursed, 0);
	assert_int_equal(store_programme_add_totals(f->st, f->prog, 7, 0), 0);
	/* Disbursed never above granted, nothing below zero; both deltas are
	 * refused together. */
	assert_int_equal(
	    store_programme_add_totals(f->st, f->prog, 0, ENVELOPE + 1),
	    STORE_CONFLICT);
	assert_int_equal(
	    store_programme_add_totals(f->st, f->prog, -ENVELOPE - 1, 0),
	    STORE_CONFLICT);
	assert_int_equal(
	    store_programme_add_totals(f->st, f->prog, -10, ENVELOPE),
	    STORE_CONFLICT);
	assert_int_equal(store_programme_get(f->st, "FEM-2026", &p), 0);
	assert_int_equal(p.granted, ENVELOPE);
	assert_int_equal(p.disbursed, 0);
	assert_int_equal(store_programme_add_totals(f->st, f->prog, -100, 250),
			 0);
	assert_int_equal(store_programme_get(f->st, "FEM-2026", &p), 0);
	assert_int_equal(p.granted, ENVELOPE - 100);
	assert_int_equal(p.disbursed, 250);
	/* An unknown programme is an error, not a conflict. */
	assert_int_equal(store_programme_add_totals(f->st, 999, 1, 0), -1);
}

static void test_programme_schema_refusals(void **state)
{
	struct fixture *f = *state;
	store_programme p;

	programme_init(&p, "FEM-2026", "MAD", 10, 5);
	assert_int_equal(store_programme_add(f->st, &p, f->admin),
			 STORE_CONFLICT);
	programme_init(&p, "BIG", "MAD", 10, 11); /* ceiling above envelope */
	assert_int_equal(store_programme_add(f->st, &p, f->admin), -1);
	programme_init(&p, "BIG", "mad", 10, 5);
	assert_int_equal(store_programme_add(f->st, &p, f->admin), -1);
	programme_init(&p, "BIG", "MAD", 0, 0);
	assert_int_equal(store_programme_add(f->st, &p, f->admin), -1);
	programme_init(&p, "BIG", "MAD", 10, 5);
	snprintf(p.period_start, sizeof(p.period_start), "2026-02-30");
	assert_int_equal(store_programme_add(f->st, &p, f->admin), -1);
	snprintf(p.period_start, sizeof(p.period_start), "2026-07-01");
	snprintf(p.period_end, sizeof(p.period_end), "2026-06-30");
	assert_int_equal(store_programme_add(f->st, &p, f->admin), -1);
	snprintf(p.period_end, sizeof(p.period_end), "2027-06-30");
	p.target = 478;
	p.categories = 1u << 2 | 1u << 3;
	assert_int_equal(store_programme_add(f->st, &p, f->admin), 0);
	memset(&p, 0, sizeof(p));
	assert_int_equal(store_programme_get(f->st, "BIG", &p), 0);
	assert_string_equal(p.period_start, "2026-07-01");
	assert_string_equal(p.period_end, "2027-06-30");
	assert_int_equal(p.target, 478);
	assert_int_equal(p.categories, 12);
	assert_int_equal(store_programme_get(f->st, "NONE", &p),
			 STORE_NOT_FOUND);
	assert_int_equal(store_region_add(f->st, "LAG", "Autre", &p.id),
			 STORE_CONFLICT);
}

static void test_tranches_and_repayments_bounded(void **state)
{
	struct fixture *f = *state;
	store_application a;

	submit(f, &a, f->prog, f->lag, 1, utc(2026, 1, 5, 0, 0, 0));
	assert_int_equal(set_state(f, &a, STORE_APPROVED, 1000, 0, 0), 0);
	/* Disbursed above granted. */
	assert_int_equal(set_state(f, &a, STORE_DISBURSING, 1000, 1001, 0), -1);
	assert_non_null(strstr(store_errmsg(f->st), "CHECK"));
	/* Granted above requested. */
	assert_int_equal(
	    set_state(f, &a, STORE_APPROVED, a.requested + 1, 0, 0), -1);
	assert_int_equal(set_state(f, &a, STORE_DISBURSING, 1000, 400, 0), 0);
	assert_int_equal(set_state(f, &a, STORE_DISBURSED, 1000, 1000, 0), 0);
	/* Repaid above disbursed. */
	assert_int_equal(set_state(f, &a, STORE_REPAYING, 1000, 1000, 1001),
			 -1);
	assert_non_null(strstr(store_errmsg(f->st), "CHECK"));
	assert_int_equal(set_state(f, &a, STORE_REPAYING, 1000, 1000, 999), 0);
	/* Closed means repaid in full. */
	assert_int_equal(set_state(f, &a, STORE_CLOSED, 1000, 1000, 999), -1);
	assert_int_equal(set_state(f, &a, STORE_CLOSED, 1000, 1000, 1000), 0);
	assert_int_equal(store_application_get(f->st, a.reference, &a), 0);
	assert_int_equal(a.state, STORE_CLOSED);
	assert_int_equal(a.disbursed, 1000);
	assert_int_equal(a.repaid, 1000);
}

static void test_state_invariants(void **state)
{
	struct fixture *f = *state;
	store_application a;

	submit(f, &a, f->prog, f->lag, 1, utc(2026, 1, 5, 0, 0, 0));
	/* Approved without a grant, a grant while submitted. */
	assert_int_equal(set_state(f, &a, STORE_APPROVED, 0, 0, 0), -1);
	a.granted = 10;
	a.state = STORE_SUBMITTED;
	assert_int_equal(store_application_update(f->st, &a), -1);
	/* Approving what one submitted (maker-checker). */
	a.state = STORE_APPROVED;
	a.decided_by = a.submitted_by;
	a.decided_at = a.submitted_at;
	assert_int_equal(store_application_update(f->st, &a), -1);
	/* A decision without its decider. */
	a.decided_by = 0;
	assert_int_equal(store_application_update(f->st, &a), -1);
	/* A state that does not exist. */
	assert_int_equal(set_state(f, &a, 10, 10, 0, 0), -1);
	/* Disbursing needs a partial tranche; disbursed the whole grant. */
	assert_int_equal(set_state(f, &a, STORE_DISBURSING, 10, 10, 0), -1);
	assert_int_equal(set_state(f, &a, STORE_DISBURSED, 10, 5, 0), -1);
	assert_int_equal(store_application_get(f->st, a.reference, &a), 0);
	assert_int_equal(a.state, STORE_SUBMITTED);
	assert_int_equal(a.granted, 0);
	a.id = 12345;
	assert_int_equal(store_application_update(f->st, &a), -1);
}

static void test_savepoint_rollback_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	store_application a;
	int64_t id;

	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_savepoint(f->st), 0);
	assert_int_equal(store_region_add(f->st, "ORN", "Oran", &id), 0);
	application_init(f, &a, f->prog, id, beneficiary(f, 1, id),
			 utc(2026, 1, 1, 0, 0, 0));
	a.submitted_by = f->admin;
	assert_int_equal(store_application_add(f->st, &a), 0);
	assert_int_equal(store_programme_add_totals(f->st, f->prog, 5, 0), 0);
	store_rollback_to(f->st);
	/* The next operation in the same transaction is kept. */
	assert_int_equal(store_savepoint(f->st), 0);
	assert_int_equal(store_region_add(f->st, "TLM", "Tlemcen", &id), 0);
	assert_int_equal(store_release(f->st), 0);
	assert_int_equal(store_commit(f->st), 0);

	assert_int_equal(store_region_find(f->st, "ORN", &id), STORE_NOT_FOUND);
	assert_int_equal(store_region_find(f->st, "TLM", &id), 0);
	assert_int_equal(store_application_get(f->st, "ORN-2026-000001", &a),
			 STORE_NOT_FOUND);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
					    "beneficiaries"),
			 0);
	assert_int_equal(query_int(f->path, "SELECT granted FROM programmes"),
			 0);

	/* A rolled back transaction leaves nothing either. */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_region_add(f->st, "BJA", "Béjaïa", &id), 0);
	store_rollback(f->st);
	assert_int_equal(store_region_find(f->st, "BJA", &id), STORE_NOT_FOUND);
	/* Rolling back with nothing open is harmless. */
	store_rollback(f->st);
	store_rollback_to(f->st);
}

static void test_commit_is_visible_to_others(void **state)
{
	struct fixture *f = *state;
	int64_t id;

	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_region_add(f->st, "ORN", "Oran", &id), 0);
	assert_int_equal(
	    query_int(f->path, "SELECT count(*) FROM regions WHERE code='ORN'"),
	    0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(
	    query_int(f->path, "SELECT count(*) FROM regions WHERE code='ORN'"),
	    1);
}

static void test_idempotency_round_trip(void **state)
{
	struct fixture *f = *state;
	uint8_t key[16], hash[32], got[32], result[300], buf[300];
	size_t len = 0;

	memset(key, 0xa1, sizeof(key));
	memset(hash, 0xb2, sizeof(hash));
	for (size_t i = 0; i < sizeof(result); i++)
		result[i] = (uint8_t)i;
	assert_int_equal(
	    store_op_find(f->st, f->admin, key, got, buf, sizeof(buf), &len),
	    STORE_NOT_FOUND);
	assert_int_equal(store_op_record(f->st, f->admin, key, hash, result,
					 sizeof(result), 1700000000),
			 0);
	assert_int_equal(
	    store_op_find(f->st, f->admin, key, got, buf, sizeof(buf), &len),
	    0);
	assert_int_equal(len, sizeof(result));
	assert_memory_equal(got, hash, sizeof(hash));
	assert_memory_equal(buf, result, sizeof(result));
	/* A key belongs to its principal. */
	assert_int_equal(
	    store_op_find(f->st, f->approver, key, got, buf, sizeof(buf), &len),
	    STORE_NOT_FOUND);
	/* Recorded once only. */
	assert_int_equal(store_op_record(f->st, f->admin, key, hash, result,
					 sizeof(result), 1700000001),
			 -1);
	/* A result larger than the buffer is an error. */
	assert_int_equal(
	    store_op_find(f->st, f->admin, key, got, buf, 299, &len), -1);
	/* An empty result is kept as empty. */
	key[0] = 0;
	assert_int_equal(
	    store_op_record(f->st, f->admin, key, hash, NULL, 0, 1700000002),
	    0);
	assert_int_equal(
	    store_op_find(f->st, f->admin, key, got, buf, sizeof(buf), &len),
	    0);
	assert_int_equal(len, 0);
}

static void test_beneficiaries(void **state)
{
	struct fixture *f = *state;
	uint8_t blind[STORE_KEYLEN], got[STORE_KEYLEN], sealed[64], buf[64];
	int64_t id, found;
	unsigned version = 0;
	size_t len;

	memset(blind, 0x42, sizeof(blind));
	for (size_t i = 0; i < sizeof(sealed); i++)
		sealed[i] = (uint8_t)(200 - i);
	assert_int_equal(store_beneficiary_find(f->st, blind, &found),
			 STORE_NOT_FOUND);
	assert_int_equal(store_beneficiary_add(f->st, blind, sealed,
					       sizeof(sealed), 3, f->lag, &id),
			 0);
	assert_int_equal(store_beneficiary_find(f->st, blind, &found), 0);
	assert_int_equal(found, id);
	assert_int_equal(store_beneficiary_add(f->st, blind, sealed,
					       sizeof(sealed), 0, f->cas,
					       &found),
			 STORE_CONFLICT);
	assert_int_equal(store_beneficiary_sealed(f->st, id, got, buf,
						  sizeof(buf), &len, &version),
			 0);
	assert_int_equal(len, sizeof(sealed));
	assert_int_equal(version, 3);
	assert_memory_equal(buf, sealed, sizeof(sealed));
	assert_memory_equal(got, blind, sizeof(blind));
	assert_int_equal(
	    store_beneficiary_sealed(f->st, id, got, buf, 63, &len, &version),
	    -1);
	assert_int_equal(store_beneficiary_sealed(f->st, id + 1, got, buf,
						  sizeof(buf), &len, &version),
			 STORE_NOT_FOUND);
	/* An unknown region is refused by its foreign key. */
	blind[0] = 0;
	assert_int_equal(store_beneficiary_add(f->st, blind, sealed,
					       sizeof(sealed), 0, 999, &found),
			 -1);
}

struct event_log {
	int n;
	char lines[8][160];
};

static int collect_event(void *arg, int64_t time, const char *action,
			 const char *actor, int64_t amount, const char *detail)
{
	struct event_log *log = arg;

	if (log->n < 8)
		snprintf(log->lines[log->n++], sizeof(log->lines[0]),
			 "%lld %s %s %lld %s", (long long)time, action, actor,
			 (long long)amount, detail);
	return 0;
}

static void test_events_tranches_repayments(void **state)
{
	struct fixture *f = *state;
	store_application a;
	struct event_log log;
	store_item items[2];

	memset(&log, 0, sizeof(log));
	memset(items, 0, sizeof(items));
	submit(f, &a, f->prog, f->lag, 1, utc(2026, 1, 5, 0, 0, 0));
	assert_int_equal(store_event_add(f->st, a.id, 100, "submitted",
					 f->coord_lag, 0, NULL),
			 0);
	assert_int_equal(store_event_add(f->st, a.id, 200, "approved",
					 f->approver, 2500000, ""),
			 0);
	snprintf(items[0].description, sizeof(items[0].description),
		 "métier à tisser");
	items[0].quantity = 2;
	items[0].unit_value = 1000000;
	snprintf(items[1].description, sizeof(items[1].description),
		 "fils de laine");
	items[1].quantity = 50;
	items[1].unit_value = 1000;
	assert_int_equal(store_disbursement_add(f->st, a.id, 2050000, 4,
						"BR-0042", "2026-02-01", items,
						2, f->treasurer, 300),
			 0);
	assert_int_equal(store_event_add(f->st, a.id, 300, "disbursement",
					 f->treasurer, 2050000,
					 "equipment BR-0042"),
			 0);
	assert_int_equal(store_repayment_add(f->st, a.id, 10000, "2026-03-01",
					     f->treasurer, 400),
			 0);
	assert_int_equal(query_int(f->path, "SELECT sum(quantity * unit_value)"
					    " FROM equipment_items"),
			 2050000);
	/* The schema refuses a bad method, date or amount, and a missing
	 * application. */
	assert_int_equal(store_disbursement_add(f->st, a.id, 100, 5, NULL,
						"2026-02-01", NULL, 0,
						f->treasurer, 300),
			 -1);
	assert_int_equal(store_disbursement_add(f->st, a.id, 100, 1, NULL,
						"01/02/2026", NULL, 0,
						f->treasurer, 300),
			 -1);
	assert_int_equal(store_repayment_add(f->st, a.id, 10, "2026-02-30",
					     f->treasurer, 400),
			 -1);
	assert_int_equal(store_repayment_add(f->st, a.id, 0, "2026-03-01",
					     f->treasurer, 400),
			 -1);
	assert_int_equal(store_repayment_add(f->st, 999, 10, "2026-03-01",
					     f->treasurer, 400),
			 -1);
	assert_int_equal(query_int(f->path, "SELECT count(*) FROM "
					    "disbursements"),
			 1);

	assert_int_equal(store_events(f->st, a.id, collect_event, &log), 0);
	assert_int_equal(log.n, 3);
	assert_string_equal(log.lines[0], "100 submitted Yacine Mansouri 0 ");
	assert_string_equal(log.lines[1], "200 approved Karim Haddad 2500000 ");
	assert_string_equal(log.lines[2], "300 disbursement Nadia Ziani "
					  "2050000 equipment BR-0042");
}

static int stop_at_first(void *arg, int64_t time, const char *action,
			 const char *actor, int64_t amount, const char *detail)
{
	(void)time;
	(void)action;
	(void)actor;
	(void)amount;
	(void)detail;
	++*(int *)arg;
	return 42;
}

static void test_walk_stops_when_asked(void **state)
{
	struct fixture *f = *state;
	store_application a;
	int calls = 0;

	submit(f, &a, f->prog, f->lag, 1, utc(2026, 1, 5, 0, 0, 0));
	assert_int_equal(
	    store_event_add(f->st, a.id, 1, "a", f->coord_lag, 0, NULL), 0);
	assert_int_equal(
	    store_event_add(f->st, a.id, 2, "b", f->coord_lag, 0, NULL), 0);
	assert_int_equal(store_events(f->st, a.id, stop_at_first, &calls), 42);
	assert_int_equal(calls, 1);
	/* The statement was reset: a write transaction can start. */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_commit(f->st), 0);
}

struct page {
	int n;
	int64_t last_id;
	char refs[32][STORE_REF_MAX];
	int64_t ids[32];
};

static int collect_id(void *arg, const store_application *a)
{
	struct page *p = arg;

	if (p->n < 32)
		p->ids[p->n] = a->id;
	p->n++;
	p->last_id = a->id;
	return 0;
}

static int collect_application(void *arg, const store_application *a)
{
	struct page *p = arg;

	if (p->n < 32)
		snprintf(p->refs[p->n], STORE_REF_MAX, "%s", a->reference);
	p->n++;
	p->last_id = a->id;
	return 0;
}

/* Lists with f and returns how many came back; *total is the count. */
static int list(struct fixture *fx, store_filter *f, struct page *p,
		uint64_t *total)
{
	memset(p, 0, sizeof(*p));
	*total = 12345;
	assert_int_equal(
	    store_applications(fx->st, f, collect_application, p, total), 0);
	return p->n;
}

/*
 * 25 applications: i = 0..24, region LAG for even i and CAS for odd i,
 * sex 1 (women) when i % 3 == 0, category 1 + i % 4, sector "crafts" or
 * "commerce" (i % 5 == 0), submitted on day i + 1 of January 2026. The
 * first 10 are approved, 2 of those rejected instead (i = 3, 7).
 */
static void seed_25(struct fixture *f)
{
	store_application a;

	for (int i = 0; i < 25; i++) {
		int64_t region = i % 2 ? f->cas : f->lag;

		application_init(f, &a, f->prog, region,
				 beneficiary(f, (uint8_t)(i + 1), region),
				 utc(2026, 1, i + 1, 12, 0, 0));
		a.sex = i % 3 == 0 ? 1 : 2;
		a.category = 1 + i % 4;
		if (i % 5 == 0)
			snprintf(a.sector, sizeof(a.sector), "commerce");
		assert_int_equal(store_application_add(f->st, &a), 0);
		if (i == 3 || i == 7)
			assert_int_equal(
			    set_state(f, &a, STORE_REJECTED, 0, 0, 0), 0);
		else if (i < 10)
			assert_int_equal(
			    set_state(f, &a, STORE_APPROVED, 1000, 0, 0), 0);
	}
}

static void test_list_paging_and_total(void **state)
{
	struct fixture *fx = *state;
	store_filter f;
	struct page p;
	uint64_t total;

	seed_25(fx);
	memset(&f, 0, sizeof(f));
	f.limit = 10;
	assert_int_equal(list(fx, &f, &p, &total), 10);
	assert_int_equal(total, 25);
	assert_string_equal(p.refs[0], "LAG-2026-000001");
	assert_string_equal(p.refs[1], "CAS-2026-000001");
	f.after_id = p.last_id;
	assert_int_equal(list(fx, &f, &p, &total), 10);
	assert_int_equal(total, 25);
	assert_string_equal(p.refs[0], "LAG-2026-000006");
	f.after_id = p.last_id;
	assert_int_equal(list(fx, &f, &p, &total), 5);
	assert_int_equal(total, 25);
	assert_string_equal(p.refs[4], "LAG-2026-000013");
	f.after_id = p.last_id;
	assert_int_equal(list(fx, &f, &p, &total), 0);
	assert_int_equal(total, 25);
	/* A limit of 0 counts only. */
	f.after_id = 0;
	f.limit = 0;
	assert_int_equal(list(fx, &f, &p, &total), 0);
	assert_int_equal(total, 25);
}

static void test_list_filters(void **state)
{
	struct fixture *fx = *state;
	store_filter f;
	struct page p;
	uint64_t total;

	seed_25(fx);
	memset(&f, 0, sizeof(f));
	f.limit = 100;
	f.sex = 1; /* i = 0, 3, ..., 24 */
	assert_int_equal(list(fx, &f, &p, &total), 9);
	assert_int_equal(total, 9);
	f.sex = 0;
	f.state = STORE_APPROVED;
	assert_int_equal(list(fx, &f, &p, &total), 8);
	f.state = STORE_REJECTED;
	assert_int_equal(list(fx, &f, &p, &total), 2);
	assert_string_equal(p.refs[0], "CAS-2026-000002");
	assert_string_equal(p.refs[1], "CAS-2026-000004");
	f.state = STORE_SUBMITTED;
	assert_int_equal(list(fx, &f, &p, &total), 15);
	f.state = 0;
	f.region = "LAG";
	assert_int_equal(list(fx, &f, &p, &total), 13);
	f.region = "CAS";
	f.sex = 1; /* i = 3, 9, 15, 21 */
	assert_int_equal(list(fx, &f, &p, &total), 4);
	f.sex = 0;
	f.region = "";
	f.sector = "commerce"; /* i = 0, 5, 10, 15, 20 */
	assert_int_equal(list(fx, &f, &p, &total), 5);
	f.sector = NULL;
	f.category = 4; /* i = 3, 7, 11, 15, 19, 23 */
	assert_int_equal(list(fx, &f, &p, &total), 6);
	f.category = 0;
	f.programme = "FEM-2026";
	assert_int_equal(list(fx, &f, &p, &total), 25);
	f.programme = "NONE";
	assert_int_equal(list(fx, &f, &p, &total), 0);
	assert_int_equal(total, 0);
	f.programme = NULL;
	f.region = "XXX";
	assert_int_equal(list(fx, &f, &p, &total), 0);
	f.region = NULL;
	/* [from, to): days 5 to 9 of January. */
	f.from = utc(2026, 1, 5, 12, 0, 0);
	f.to = utc(2026, 1, 10, 12, 0, 0);
	assert_int_equal(list(fx, &f, &p, &total), 5);
	f.to = 0;
	assert_int_equal(list(fx, &f, &p, &total), 21);
	/* Filters combine with paging. */
	f.from = 0;
	f.region = "LAG";
	f.limit = 5;
	assert_int_equal(list(fx, &f, &p, &total), 5);
	assert_int_equal(total, 13);
	assert_string_equal(p.refs[4], "LAG-2026-000005");
	f.after_id = p.last_id;
	assert_int_equal(list(fx, &f, &p, &total), 5);
	assert_string_equal(p.refs[0], "LAG-2026-000006");
	assert_int_equal(total, 13);
}

/*
 * 40 applications whose every filtered attribute varies on its own
 * cycle, over two regions and two programmes, some approved or rejected
 * after submission (the counts follow updates): the attributes are kept
 * in `seeded` so that a test can compute each list's answer by hand.
 */
#define SEEDED 40

struct seeded {
	int64_t id;
	const char *region, *programme, *sector;
	int state, category, sex;
	int64_t when;
};

static void seed_varied(struct fixture *f, struct seeded *v)
{
	int64_t prog2 = programme(f, "SEC-2026", "MAD");
	store_application a;

	for (int i = 0; i < SEEDED; i++) {
		int cas = i % 2, second = (i / 3) % 2;

		application_init(
		    f, &a, second ? prog2 : f->prog, cas ? f->cas : f->lag,
		    beneficiary(f, (uint8_t)(i + 1), cas ? f->cas : f->lag),
		    utc(2026, 1, 1, 12, 0, 0) + (int64_t)i * 86400);
		a.sex = i % 3 == 0 ? 1 : 2;
		a.category = 1 + i % 4;
		if (i % 5 == 0)
			snprintf(a.sector, sizeof(a.sector), "commerce");
		assert_int_equal(store_application_add(f->st, &a), 0);
		if (i % 7 == 1)
			assert_int_equal(
			    set_state(f, &a, STORE_APPROVED, 1000, 0, 0), 0);
		else if (i % 7 == 3)
			assert_int_equal(
			    set_state(f, &a, STORE_REJECTED, 0, 0, 0), 0);
		v[i].id = a.id;
		v[i].region = cas ? "CAS" : "LAG";
		v[i].programme = second ? "SEC-2026" : "FEM-2026";
		v[i].sector = a.sector[0] == 'c' && a.sector[1] == 'o'
				  ? "commerce"
				  : "crafts";
		v[i].state = a.state;
		v[i].category = a.category;
		v[i].sex = a.sex;
		v[i].when = a.submitted_at;
	}
}

/* The filter of set `set` (STORE_F_* bits of store_private.h, in the
 * order region, programme, state, sector, category, sex, from, to) with
 * the values of choice 0 or 1. */
static void filter_of(store_filter *f, unsigned set, int choice)
{
	memset(f, 0, sizeof(*f));
	if (set & 1)
		f->region = choice ? "LAG" : "CAS";
	if (set & 2)
		f->programme = choice ? "SEC-2026" : "FEM-2026";
	if (set & 4)
		f->state = choice ? STORE_APPROVED : STORE_SUBMITTED;
	if (set & 8)
		f->sector = choice ? "commerce" : "crafts";
	if (set & 16)
		f->category = choice ? 1 : 2;
	if (set & 32)
		f->sex = choice ? 1 : 2;
	if (set & 64)
		f->from = utc(2026, 1, choice ? 1 : 5, 0, 0, 0);
	if (set & 128)
		f->to = utc(2026, 1, choice ? 12 : 30, 0, 0, 0);
}

/* 1 when v matches f, computed without the store. */
static int seeded_matches(const struct seeded *v, const store_filter *f)
{
	return (f->region == NULL || strcmp(f->region, v->region) == 0) &&
	       (f->programme == NULL ||
		strcmp(f->programme, v->programme) == 0) &&
	       (f->sector == NULL || strcmp(f->sector, v->sector) == 0) &&
	       (f->state == 0 || f->state == v->state) &&
	       (f->category == 0 || f->category == v->category) &&
	       (f->sex == 0 || f->sex == v->sex) &&
	       (f->from == 0 || v->when >= f->from) &&
	       (f->to == 0 || v->when < f->to);
}

static void test_list_every_filter_set(void **state)
{
	struct fixture *fx = *state;
	struct seeded v[SEEDED];
	int empty = 0, crossing = 0;

	seed_varied(fx, v);
	for (unsigned set = 0; set < 256; set++) {
		for (int choice = 0; choice < 2; choice++) {
			int64_t want[SEEDED];
			uint64_t nwant = 0, total;
			size_t got = 0, pages = 0;
			store_filter f;
			struct page p;

			filter_of(&f, set, choice);
			for (int i = 0; i < SEEDED; i++) {
				if (seeded_matches(&v[i], &f))
					want[nwant++] = v[i].id;
			}
			/* Pages of 3 up to the first one that is not full. */
			f.limit = 3;
			do {
				memset(&p, 0, sizeof(p));
				assert_int_equal(store_applications(fx->st, &f,
								    collect_id,
								    &p, &total),
						 0);
				assert_int_equal(total, nwant);
				for (int i = 0; i < p.n; i++) {
					assert_true(got < nwant);
					assert_int_equal(p.ids[i], want[got]);
					got++;
				}
				f.after_id = p.last_id;
				pages++;
			} while (p.n == 3);
			assert_int_equal(got, nwant);
			empty += nwant == 0;
			crossing += pages > 2;
		}
	}
	/* The sets above cover empty answers and answers over many pages. */
	assert_true(empty > 100);
	assert_true(crossing > 50);
}

struct plan {
	int scans_applications, sorts, searches;
};

static int collect_plan(void *arg, const char *detail)
{
	struct plan *p = arg;

	/* "SCAN a", "SCAN a USING INDEX ...": every application read. */
	if (strncmp(detail, "SCAN a", 6) == 0 &&
	    (detail[6] == '\0' || detail[6] == ' '))
		p->scans_applications++;
	if (strstr(detail, "TEMP B-TREE") != NULL)
		p->sorts++;
	if (strncmp(detail, "SEARCH a ", 9) == 0 ||
	    strncmp(detail, "SEARCH c ", 9) == 0 ||
	    strncmp(detail, "SCAN c", 6) == 0)
		p->searches++;
	return 0;
}

static void test_list_plans_use_an_index(void **state)
{
	struct fixture *fx = *state;

	for (unsigned set = 0; set < 256; set++) {
		for (int count = 0; count < 2; count++) {
			struct plan p = {0, 0, 0};
			store_filter f;

			filter_of(&f, set, 0);
			assert_int_equal(
			    store_applications_plan(fx->st, &f, count,
						    collect_plan, &p),
			    0);
			if (p.scans_applications != 0)
				fail_msg("filter set %u (%s) scans the "
					 "applications",
					 set, count ? "count" : "page");
			assert_int_equal(p.searches, 1);
			/* Pages come in id order from the index, except
			 * when only dates filter: their index is by date. */
			if (!count && (set & 0x3f) != 0)
				assert_int_equal(p.sorts, 0);
		}
	}
}

static void test_list_counts_kept_through_upgrade(void **state)
{
	struct fixture *fx = *state;
	struct seeded v[SEEDED];
	store_application a;
	char err[256], pattern[192];
	uint64_t total, before;
	glob_t g;
	store_filter f;
	struct page p;
	sqlite3 *db;

	seed_varied(fx, v);
	store_close(fx->st);
	fx->st = NULL;
	/* Back to schema 5: the counts are rebuilt from the applications. */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "DROP TRIGGER application_counts_insert;"
				      "DROP TRIGGER application_counts_update;"
				      "DROP TRIGGER application_counts_delete;"
				      "DROP TABLE application_counts;"
				      "DROP INDEX applications_region_state;"
				      "DROP INDEX applications_sector;"
				      "DROP INDEX applications_category;"
				      "DROP INDEX applications_sex;"
				      "PRAGMA user_version = 5;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(fx->path, 0, &fx->st, err, sizeof(err)), 0);
	snprintf(pattern, sizeof(pattern), "%s.before-upgrade-v5-*", fx->path);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	unlink(g.gl_pathv[0]);
	globfree(&g);
	for (unsigned set = 0; set < 8; set++) {
		uint64_t want = 0;

		filter_of(&f, set, 1);
		for (int i = 0; i < SEEDED; i++)
			want += (uint64_t)seeded_matches(&v[i], &f);
		f.limit = 0;
		assert_int_equal(list(fx, &f, &p, &total), 0);
		assert_int_equal(total, want);
	}
	/* And kept by the triggers afterwards, through a decision. */
	memset(&f, 0, sizeof(f));
	f.region = "LAG";
	f.state = STORE_SUBMITTED;
	assert_int_equal(list(fx, &f, &p, &before), 0);
	submit(fx, &a, fx->prog, fx->lag, 200, utc(2026, 6, 1, 0, 0, 0));
	assert_int_equal(list(fx, &f, &p, &total), 0);
	assert_int_equal(total, before + 1);
	assert_int_equal(set_state(fx, &a, STORE_APPROVED, 1000, 0, 0), 0);
	assert_int_equal(list(fx, &f, &p, &total), 0);
	assert_int_equal(total, before);
	f.state = STORE_APPROVED;
	assert_int_equal(list(fx, &f, &p, &total), 0);
	assert_int_equal(total, 4);
}

struct report {
	int n;
	store_report_row rows[16];
};

static int collect_row(void *arg, const store_report_row *row)
{
	struct report *r = arg;

	if (r->n < 16)
		r->rows[r->n] = *row;
	r->n++;
	return 0;
}

static void expect_row(const store_report_row *r, const char *group,
		       const char *currency, uint64_t submitted,
		       uint64_t approved, uint64_t rejected, uint64_t withdrawn,
		       uint64_t disbursed, uint64_t women)
{
	assert_string_equal(r->group, group);
	assert_string_equal(r->currency, currency);
	assert_int_equal(r->submitted, submitted);
	assert_int_equal(r->approved, approved);
	assert_int_equal(r->rejected, rejected);
	assert_int_equal(r->withdrawn, withdrawn);
	assert_int_equal(r->disbursed, disbursed);
	assert_int_equal(r->women, women);
}

static void expect_sums(const store_report_row *r, int64_t requested,
			int64_t granted, int64_t disbursed, int64_t repaid)
{
	assert_int_equal(r->requested, requested);
	assert_int_equal(r->granted, granted);
	assert_int_equal(r->disbursed_amount, disbursed);
	assert_int_equal(r->repaid, repaid);
}

/*
 * Amounts in centimes with odd last digits, so that a rounding anywhere
 * would show: the 1 121 215,07 MAD of equipment of one ceremony.
 */
static void seed_report(struct fixture *f, int64_t dzd)
{
	store_application a;

	/* LAG, MAD: approved and partly disbursed, a woman. */
	submit(f, &a, f->prog, f->lag, 1, utc(2026, 1, 1, 0, 0, 0));
	assert_int_equal(
	    set_state(f, &a, STORE_DISBURSING, 2500001, 1121507, 0), 0);
	/* LAG, MAD: repaying, a man, category 10. */
	application_init(f, &a, f->prog, f->lag, beneficiary(f, 2, f->lag),
			 utc(2026, 1, 2, 0, 0, 0));
	a.sex = 2;
	a.category = 10;
	a.requested = 4999999;
	assert_int_equal(store_application_add(f->st, &a), 0);
	assert_int_equal(set_state(f, &a, STORE_REPAYING, 4999999, 4999999, 33),
			 0);
	/* LAG, MAD: rejected woman; CAS, MAD: withdrawn man. */
	submit(f, &a, f->prog, f->lag, 3, utc(2026, 1, 3, 0, 0, 0));
	assert_int_equal(set_state(f, &a, STORE_REJECTED, 0, 0, 0), 0);
	application_init(f, &a, f->prog, f->cas, beneficiary(f, 4, f->cas),
			 utc(2026, 1, 4, 0, 0, 0));
	a.sex = 2;
	a.requested = 77;
	assert_int_equal(store_application_add(f->st, &a), 0);
	a.state = STORE_WITHDRAWN;
	assert_int_equal(store_application_update(f->st, &a), 0);
	/* LAG, DZD: submitted woman. */
	submit(f, &a, dzd, f->lag, 5, utc(2026, 1, 5, 0, 0, 0));
}

/*
 * Reports over one region, one programme or both read only their
 * applications (by group and by month) and agree with counting by hand.
 */
static void test_report_filters(void **state)
{
	static const char *const regions[] = {NULL, "LAG", NULL, "CAS"};
	static const char *const progs[] = {NULL, NULL, "SEC-2026", "FEM-2026"};
	struct fixture *f = *state;
	struct seeded v[SEEDED];

	seed_varied(f, v);
	for (int i = 0; i < SEEDED; i++)
		assert_int_equal(store_event_add(f->st, v[i].id, v[i].when,
						 "submitted", f->coord_lag, 0,
						 NULL),
				 0);
	for (int k = 0; k < 4; k++) {
		uint64_t jan = 0, feb = 0, women = 0;
		store_filter flt;
		struct report r;

		memset(&flt, 0, sizeof(flt));
		flt.region = regions[k];
		flt.programme = progs[k];
		for (int i = 0; i < SEEDED; i++) {
			if (!seeded_matches(&v[i], &flt))
				continue;
			/* Days 1 to 31 of January, then February. */
			if (i < 31)
				jan++;
			else
				feb++;
			women += v[i].sex == 1;
		}
		memset(&r, 0, sizeof(r));
		assert_int_equal(store_report(f->st, STORE_GROUP_MONTH,
					      progs[k], regions[k], collect_row,
					      &r),
				 0);
		assert_int_equal(r.n, 2);
		assert_string_equal(r.rows[0].group, "2026-01");
		assert_int_equal(r.rows[0].submitted, jan);
		assert_string_equal(r.rows[1].group, "2026-02");
		assert_int_equal(r.rows[1].submitted, feb);
		memset(&r, 0, sizeof(r));
		assert_int_equal(store_report(f->st, STORE_GROUP_SEX, progs[k],
					      regions[k], collect_row, &r),
				 0);
		/* Region CAS in FEM-2026 happens to hold no woman. */
		assert_int_equal(r.n, women > 0 ? 2 : 1);
		assert_string_equal(r.rows[r.n - 1].group, "2");
		assert_int_equal(r.rows[r.n - 1].submitted, jan + feb - women);
		if (women > 0)
			assert_int_equal(r.rows[0].submitted, women);
	}
}

static void test_report_by_region(void **state)
{
	struct fixture *f = *state;
	int64_t dzd = programme(f, "ANGEM", "DZD");
	struct report r;

	seed_report(f, dzd);
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_report(f->st, STORE_GROUP_REGION, NULL, NULL,
				      collect_row, &r),
			 0);
	assert_int_equal(r.n, 3);
	expect_row(&r.rows[0], "CAS", "MAD", 1, 0, 0, 1, 0, 0);
	expect_sums(&r.rows[0], 77, 0, 0, 0);
	expect_row(&r.rows[1], "LAG", "DZD", 1, 0, 0, 0, 0, 1);
	expect_sums(&r.rows[1], 3000000, 0, 0, 0);
	expect_row(&r.rows[2], "LAG", "MAD", 3, 2, 1, 0, 2, 2);
	expect_sums(&r.rows[2], 3000000 + 4999999 + 3000000, 2500001 + 4999999,
		    1121507 + 4999999, 33);

	/* Filtered by programme and region. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_report(f->st, STORE_GROUP_PROGRAMME, "FEM-2026",
				      "LAG", collect_row, &r),
			 0);
	assert_int_equal(r.n, 1);
	expect_row(&r.rows[0], "FEM-2026", "MAD", 3, 2, 1, 0, 2, 2);
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    store_report(f->st, STORE_GROUP_PROGRAMME, "", "", collect_row, &r),
	    0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.rows[0].group, "ANGEM");
	assert_string_equal(r.rows[1].group, "FEM-2026");
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_report(f->st, STORE_GROUP_REGION, "NONE", NULL,
				      collect_row, &r),
			 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(store_report(f->st, (enum store_group)9, NULL, NULL,
				      collect_row, &r),
			 -1);
}

static void test_report_by_sex_category_sector(void **state)
{
	struct fixture *f = *state;
	int64_t dzd = programme(f, "ANGEM", "DZD");
	struct report r;

	seed_report(f, dzd);
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    store_report(f->st, STORE_GROUP_SEX, NULL, NULL, collect_row, &r),
	    0);
	assert_int_equal(r.n, 3);
	expect_row(&r.rows[0], "1", "DZD", 1, 0, 0, 0, 0, 1);
	expect_row(&r.rows[1], "1", "MAD", 2, 1, 1, 0, 1, 2);
	expect_sums(&r.rows[1], 6000000, 2500001, 1121507, 0);
	expect_row(&r.rows[2], "2", "MAD", 2, 1, 0, 1, 1, 0);
	expect_sums(&r.rows[2], 4999999 + 77, 4999999, 4999999, 33);

	/* Categories sort as numbers: 2 before 10. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(store_report(f->st, STORE_GROUP_CATEGORY, "FEM-2026",
				      NULL, collect_row, &r),
			 0);
	assert_int_equal(r.n, 2);
	expect_row(&r.rows[0], "2", "MAD", 3, 1, 1, 1, 1, 2);
	expect_row(&r.rows[1], "10", "MAD", 1, 1, 0, 0, 1, 0);
	expect_sums(&r.rows[1], 4999999, 4999999, 4999999, 33);

	memset(&r, 0, sizeof(r));
	assert_int_equal(store_report(f->st, STORE_GROUP_SECTOR, NULL, "CAS",
				      collect_row, &r),
			 0);
	assert_int_equal(r.n, 1);
	expect_row(&r.rows[0], "crafts", "MAD", 1, 0, 0, 1, 0, 0);
}

struct names {
	int n;
	char codes[8][STORE_CODE_MAX];
	char names[8][STORE_NAME_MAX];
};

static int collect_region(void *arg, const char *code, const char *name)
{
	struct names *n = arg;

	if (n->n < 8) {
		snprintf(n->codes[n->n], STORE_CODE_MAX, "%s", code);
		snprintf(n->names[n->n], STORE_NAME_MAX, "%s", name);
	}
	n->n++;
	return 0;
}

static int collect_programme(void *arg, const store_programme *p)
{
	struct names *n = arg;

	if (n->n < 8) {
		snprintf(n->codes[n->n], STORE_CODE_MAX, "%s", p->code);
		snprintf(n->names[n->n], STORE_NAME_MAX, "%llu %lld %lld",
			 (unsigned long long)p->beneficiaries,
			 (long long)p->granted, (long long)p->disbursed);
	}
	n->n++;
	return 0;
}

static void test_programmes_and_regions(void **state)
{
	struct fixture *f = *state;
	store_programme p;
	struct names n;
	store_application a;

	programme(f, "ANGEM", "DZD");
	/* Approved at any later stage counts as a beneficiary. */
	submit(f, &a, f->prog, f->lag, 1, utc(2026, 1, 1, 0, 0, 0));
	assert_int_equal(set_state(f, &a, STORE_APPROVED, 10, 0, 0), 0);
	submit(f, &a, f->prog, f->lag, 2, utc(2026, 1, 1, 0, 0, 0));
	assert_int_equal(set_state(f, &a, STORE_DISBURSED, 10, 10, 0), 0);
	submit(f, &a, f->prog, f->lag, 3, utc(2026, 1, 1, 0, 0, 0));
	assert_int_equal(set_state(f, &a, STORE_REJECTED, 0, 0, 0), 0);
	submit(f, &a, f->prog, f->lag, 4, utc(2026, 1, 1, 0, 0, 0));
	assert_int_equal(store_programme_add_totals(f->st, f->prog, 20, 10), 0);

	assert_int_equal(store_programme_get(f->st, "FEM-2026", &p), 0);
	assert_int_equal(p.beneficiaries, 2);
	assert_string_equal(p.name, "Programme FEM-2026");
	assert_string_equal(p.currency, "MAD");
	assert_int_equal(p.envelope, ENVELOPE);
	assert_int_equal(p.ceiling, CEILING);
	assert_string_equal(p.period_start, "");

	memset(&n, 0, sizeof(n));
	assert_int_equal(store_programmes(f->st, collect_programme, &n), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.codes[0], "ANGEM");
	assert_string_equal(n.names[0], "0 0 0");
	assert_string_equal(n.codes[1], "FEM-2026");
	assert_string_equal(n.names[1], "2 20 10");

	memset(&n, 0, sizeof(n));
	assert_int_equal(store_regions(f->st, collect_region, &n), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.codes[0], "CAS");
	assert_string_equal(n.names[0], "Casablanca-Settat");
	assert_string_equal(n.codes[1], "LAG");
}

static void test_principals_by_id(void **state)
{
	struct fixture *f = *state;
	int64_t count, second;

	assert_int_equal(store_admin_count(f->st, &count), 0);
	assert_int_equal(count, 1);
	second = principal(f, "Deuxième admin", "admin", NULL);
	assert_int_equal(store_admin_count(f->st, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(store_principal_revoke_id(f->st, second), 0);
	assert_int_equal(store_principal_revoke_id(f->st, second),
			 STORE_NOT_FOUND);
	assert_int_equal(store_principal_revoke_id(f->st, 999),
			 STORE_NOT_FOUND);
	assert_int_equal(store_admin_count(f->st, &count), 0);
	assert_int_equal(count, 1);
}

static void test_arabic_text_round_trip(void **state)
{
	struct fixture *f = *state;
	const char *region = "الدار البيضاء - سطات";
	const char *sector = "الصناعة التقليدية";
	const char *activity = "ورشة نسيج الزرابي للنساء القرويات";
	const char *formula = "قرض بدون فائدة";
	const char *reason = "انتقلت المستفيدة إلى ولاية أخرى";
	const char *prog_name = "برنامج دعم المرأة الريفية";
	store_application a, b;
	store_programme p;
	struct names n;
	struct event_log log;
	store_filter filter;
	struct page page;
	uint64_t total;
	int64_t id;

	assert_int_equal(store_region_add(f->st, "RBT", region, &id), 0);
	programme_init(&p, "RURAL", "MAD", 1000, 100);
	snprintf(p.name, sizeof(p.name), "%s", prog_name);
	assert_int_equal(store_programme_add(f->st, &p, f->admin), 0);
	application_init(f, &a, p.id, id, beneficiary(f, 1, id),
			 utc(2026, 3, 8, 0, 0, 0));
	a.submitted_by = f->admin;
	snprintf(a.sector, sizeof(a.sector), "%s", sector);
	snprintf(a.activity, sizeof(a.activity), "%s", activity);
	snprintf(a.formula, sizeof(a.formula), "%s", formula);
	assert_int_equal(store_application_add(f->st, &a), 0);
	a.state = STORE_WITHDRAWN;
	snprintf(a.reason, sizeof(a.reason), "%s", reason);
	assert_int_equal(store_application_update(f->st, &a), 0);
	assert_int_equal(
	    store_event_add(f->st, a.id, 5, "withdrawn", f->admin, 0, reason),
	    0);

	assert_int_equal(store_application_get(f->st, "RBT-2026-000001", &b),
			 0);
	assert_string_equal(b.sector, sector);
	assert_string_equal(b.activity, activity);
	assert_string_equal(b.formula, formula);
	assert_string_equal(b.reason, reason);
	assert_int_equal(store_programme_get(f->st, "RURAL", &p), 0);
	assert_string_equal(p.name, prog_name);
	memset(&n, 0, sizeof(n));
	assert_int_equal(store_regions(f->st, collect_region, &n), 0);
	assert_string_equal(n.names[2], region);
	memset(&log, 0, sizeof(log));
	assert_int_equal(store_events(f->st, a.id, collect_event, &log), 0);
	assert_non_null(strstr(log.lines[0], reason));
	/* The Arabic sector is a filter like any other. */
	memset(&filter, 0, sizeof(filter));
	filter.sector = sector;
	filter.limit = 10;
	assert_int_equal(list(f, &filter, &page, &total), 1);
	assert_string_equal(page.refs[0], "RBT-2026-000001");
}

static void test_text_limits_in_bytes(void **state)
{
	struct fixture *f = *state;
	store_application a;
	char sector[STORE_NAME_MAX];

	/* 127 two-byte letters (254 bytes) fill the buffer and come back
	 * whole. */
	application_init(f, &a, f->prog, f->lag, beneficiary(f, 1, f->lag),
			 utc(2026, 1, 1, 0, 0, 0));
	sector[0] = '\0';
	for (size_t n = 0; n < 254; n += 2)
		snprintf(sector + n, sizeof(sector) - n, "%s", "ع");
	assert_int_equal(strlen(sector), 254);
	snprintf(a.sector, sizeof(a.sector), "%s", sector);
	assert_int_equal(store_application_add(f->st, &a), 0);
	assert_int_equal(store_application_get(f->st, a.reference, &a), 0);
	assert_string_equal(a.sector, sector);
}

static void test_long_text_cut_at_character(void **state)
{
	struct fixture *f = *state;
	uint8_t n[STORE_KEYLEN], k[STORE_KEYLEN];
	char name[300];
	store_principal p;
	int64_t id;

	/* 130 two-byte letters: within the schema's 200 characters, beyond
	 * the 255 bytes a name buffer holds. */
	name[0] = '\0';
	for (size_t i = 0; i < 260; i += 2)
		snprintf(name + i, sizeof(name) - i, "%s", "ب");
	memset(n, 0xee, sizeof(n));
	memset(k, 0xef, sizeof(k));
	assert_int_equal(
	    store_principal_add(f->st, name, "auditor", NULL, n, k, 0, &id), 0);
	assert_int_equal(store_principal_by_noise(f->st, n, &p), 0);
	assert_int_equal(strlen(p.name), 254);
	assert_memory_equal(p.name, name, 254);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_migration_from_version_1),
	    T(test_references_per_region_and_year),
	    T(test_references_refused),
	    T(test_application_read_back),
	    T(test_one_open_application),
	    T(test_programme_totals_within_envelope),
	    T(test_programme_schema_refusals),
	    T(test_tranches_and_repayments_bounded),
	    T(test_state_invariants),
	    T(test_savepoint_rollback_leaves_nothing),
	    T(test_commit_is_visible_to_others),
	    T(test_idempotency_round_trip),
	    T(test_beneficiaries),
	    T(test_events_tranches_repayments),
	    T(test_walk_stops_when_asked),
	    T(test_list_paging_and_total),
	    T(test_list_filters),
	    T(test_list_every_filter_set),
	    T(test_list_plans_use_an_index),
	    T(test_list_counts_kept_through_upgrade),
	    T(test_report_by_region),
	    T(test_report_filters),
	    T(test_report_by_sex_category_sector),
	    T(test_programmes_and_regions),
	    T(test_principals_by_id),
	    T(test_arabic_text_round_trip),
	    T(test_text_limits_in_bytes),
	    T(test_long_text_cut_at_character),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
