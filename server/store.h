/*
 * The store: the only module that speaks SQL. It owns the SQLite database
 * (WAL, synchronous=FULL, foreign keys on), applies the versioned schema
 * migrations when it opens one, and offers narrow typed calls so that the
 * rest of the daemon never sees a statement. Keeping it narrow is what lets
 * the store move to dqlite later.
 */
#ifndef TAMWIL_STORE_H
#define TAMWIL_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX 256
#define STORE_CODE_MAX 64
#define STORE_KEYLEN   32

/* Results besides 0 (done) and -1 (failure: store_errmsg() says why). */
#define STORE_NOT_FOUND 1
#define STORE_CONFLICT	2

typedef struct store store;

typedef struct store_principal {
	int64_t id;
	char name[STORE_NAME_MAX];
	char role[16];		     /* "coordinator", "approver", ... */
	char region[STORE_CODE_MAX]; /* region code, "" if none */
	uint8_t noise_pk[STORE_KEYLEN];
	uint8_t sign_pk[STORE_KEYLEN];
	int revoked;
} store_principal;

/*
 * Sets SQLite up for this process, before any database is opened: no
 * memory statistics, which SQLite keeps under one lock that every thread's
 * every allocation would take. 0, or -1 when SQLite was already started.
 */
int store_library_init(void);

/* The schema version this build writes; store_open() upgrades to it. */
int store_schema_version(void);

/*
 * Opens (creating it when create is set) the database at path and brings
 * its schema up to date, each migration in its own transaction. Refuses a
 * database written by a newer version. On failure returns -1 and, when
 * err is not NULL, a sentence in err (capacity err_len).
 */
int store_open(const char *path, int create, store **out, char *err,
	       size_t err_len);

/*
 * Opens a read-only connection to an existing database at path, for the
 * threads that answer queries: in WAL mode it reads the last committed
 * state and never waits for the writer. The schema must be current (the
 * writing connection opened first). Each connection serves one thread at
 * a time. 0, or -1 with a sentence in err.
 */
int store_open_reader(const char *path, store **out, char *err, size_t err_len);

/* Closes the database; NULL is fine. */
void store_close(store *st);

/*
 * Lets the connection keep up to mib MiB of the database's pages in its
 * own cache (SQLite's default is 2 MiB), for bulk work on a large
 * database: 0, or -1 with store_errmsg() set.
 */
int store_cache(store *st, int mib);

/*
 * Copies the database at src_path, as one consistent snapshot, into a new
 * file dst_path (mode 0600; refused when it exists) in rollback-journal
 * mode, so the copy is one self-contained file; the copy is flushed to
 * disk with its folder. Safe while the daemon writes to src_path. Returns
 * 0, or -1 with a sentence in err and no dst_path left behind.
 */
int store_copy(const char *src_path, const char *dst_path, char *err,
	       size_t err_len);

/* The last error's sentence. */
const char *store_errmsg(const store *st);

/*
 * 1 when the last error was the disk or the user's quota being full
 * (SQLite's SQLITE_FULL, or a write or a file's growth refused with
 * ENOSPC or EDQUOT): nothing is wrong with the request, and the same
 * work succeeds once there is room again.
 */
int store_full(const store *st);

/*
 * Enrols a principal. role must be a known role name; region is a region
 * code for coordinators and NULL or "" otherwise; enrolled_by is a principal
 * id or 0 for the first admin. Returns 0 with *id set, STORE_CONFLICT when
 * either key is already enrolled, STORE_NOT_FOUND for an unknown region, or
 * -1.
 */
int store_principal_add(store *st, const char *name, const char *role,
			const char *region, const uint8_t *noise_pk,
			const uint8_t *sign_pk, int64_t enrolled_by,
			int64_t *id);

/* Finds a principal (active or revoked) by its Noise key: 0, STORE_NOT_FOUND or
 * -1. */
int store_principal_by_noise(store *st, const uint8_t *noise_pk,
			     store_principal *out);

/* Marks the principal with this Noise key revoked: 0, STORE_NOT_FOUND or -1. */
int store_principal_revoke(store *st, const uint8_t *noise_pk);

/* Number of principals, for start-up checks: 0 or -1. */
int store_principal_count(store *st, int64_t *count);

/* ---------------------------------------------------------------------
 * Transactions. An operation runs inside store_begin()/store_commit(); the
 * apply path wraps each operation in a savepoint so that many operations
 * can share one commit (group commit) and a refused one leaves nothing.
 * store_commit() returns only once the transaction is durable.
 */
int store_begin(store *st);	   /* BEGIN IMMEDIATE */
int store_commit(store *st);	   /* COMMIT */
void store_rollback(store *st);	   /* ROLLBACK; never fails the caller */
int store_savepoint(store *st);	   /* SAVEPOINT op */
int store_release(store *st);	   /* RELEASE op */
void store_rollback_to(store *st); /* ROLLBACK TO op; RELEASE op */

/*
 * A read transaction, so that the reads between store_read_begin() and
 * store_read_end() see one snapshot and take it once instead of once per
 * statement. store_read_begin() returns 1 when it began one, 0 when a
 * transaction was open already (the reads join it), -1 on error.
 * store_read_end() takes what it returned and the outcome rc of the reads:
 * it ends a transaction it began and returns rc, or -1 when rc was 0 and
 * the end failed; an earlier error message is kept.
 */
int store_read_begin(store *st);
int store_read_end(store *st, int began, int rc);

/*
 * 1 while a transaction begun by store_begin() is open. Some failures
 * (disk full, I/O error) make SQLite roll the whole transaction back on
 * its own: a batch checks this after each operation so that it never
 * carries on outside its transaction.
 */
int store_in_transaction(store *st);

#ifdef TAMWIL_TEST_HOOKS
/*
 * Test builds only: the next n commits fail as a full disk would make
 * them fail (SQLite rolls the transaction back and COMMIT returns an
 * error). n = 0 lets commits through again.
 */
void store_test_fail_commits(store *st, int n);
#endif

/* Codes of the application states, as in the protocol's ApplicationState. */
enum store_state {
	STORE_SUBMITTED = 1,
	STORE_APPROVED = 2,
	STORE_REJECTED = 3,
	STORE_WITHDRAWN = 4,
	STORE_DISBURSING = 5,
	STORE_DISBURSED = 6,
	STORE_REPAYING = 7,
	STORE_CLOSED = 8,
	STORE_WRITTEN_OFF = 9
};

#define STORE_REF_MAX	   32
#define STORE_SEQ_MAX	   999999 /* a region's numbers a year, as the schema */
#define STORE_TEXT_MAX	   1024
#define STORE_DATE_MAX	   11 /* YYYY-MM-DD and NUL */
#define STORE_CURRENCY_MAX 4

/* Regions: 0 / STORE_CONFLICT (code taken) / -1. */
int store_region_add(store *st, const char *code, const char *name,
		     int64_t *id);

/* Looks a region up by code: 0 with *id, STORE_NOT_FOUND or -1. */
int store_region_find(store *st, const char *code, int64_t *id);

typedef struct store_programme {
	int64_t id;
	char code[STORE_CODE_MAX];
	char name[STORE_NAME_MAX];
	char currency[STORE_CURRENCY_MAX];
	int64_t envelope, ceiling;
	char period_start[STORE_DATE_MAX], period_end[STORE_DATE_MAX];
	uint32_t target;
	uint32_t categories;	    /* bit (1 << Category); 0: every category */
	int64_t granted, disbursed; /* running totals over its applications */
	uint64_t beneficiaries; /* applications approved, at any later stage */
} store_programme;

/* Creates a programme (totals zero): 0 with p->id set / STORE_CONFLICT / -1. */
int store_programme_add(store *st, store_programme *p, int64_t created_by);

/* Reads a programme with its totals: 0 / STORE_NOT_FOUND / -1. */
int store_programme_get(store *st, const char *code, store_programme *p);

/*
 * Adds delta_granted and delta_disbursed (either may be negative) to a
 * programme's totals. The schema refuses granted above the envelope:
 * that returns STORE_CONFLICT and changes nothing. 0 / STORE_CONFLICT / -1.
 */
int store_programme_add_totals(store *st, int64_t programme_id,
			       int64_t delta_granted, int64_t delta_disbursed);

/*
 * Finds a beneficiary by the blind index of its national ID: 0 with *id,
 * STORE_NOT_FOUND or -1.
 */
int store_beneficiary_find(store *st, const uint8_t *blind_index, int64_t *id);

/*
 * Adds a beneficiary with its identity sealed at rest under at-rest key
 * version key_version: 0 / STORE_CONFLICT / -1.
 */
int store_beneficiary_add(store *st, const uint8_t *blind_index,
			  const uint8_t *sealed, size_t sealed_len,
			  unsigned key_version, int64_t region_id, int64_t *id);

/*
 * Reads a beneficiary's sealed identity into buf (capacity cap): 0 with
 * *len, STORE_NOT_FOUND or -1. The blind index (the seal's associated
 * data) goes to blind_index, the at-rest key version it is sealed under
 * to *key_version.
 */
int store_beneficiary_sealed(store *st, int64_t id, uint8_t *blind_index,
			     uint8_t *buf, size_t cap, size_t *len,
			     unsigned *key_version);

/* One beneficiary's sealed identity, as a rotation or a check reads it. */
typedef struct store_sealed {
	int64_t id;
	unsigned key_version;
	uint8_t blind_index[STORE_KEYLEN];
	const uint8_t *identity; /* valid during the callback only */
	size_t identity_len;
} store_sealed;

/* Called once per beneficiary; a non-zero return stops the walk. */
typedef int (*store_sealed_fn)(void *arg, const store_sealed *b);

/*
 * Walks, in id order, the beneficiaries with id above after_id (all of
 * them when below_version is -1, else those sealed under a key version
 * below below_version), at most limit of them. Returns 0 (the callback's
 * non-zero return also counts as 0 and stops the walk) or -1. The
 * callback must not write to the store while the walk runs.
 */
int store_beneficiaries_sealed(store *st, long below_version, int64_t after_id,
			       uint32_t limit, store_sealed_fn fn, void *arg);

/*
 * Seals beneficiary id anew: its blind index, identity and key version,
 * as long as it is still under from_version. 0, STORE_NOT_FOUND when the
 * row is gone or already under another version, STORE_CONFLICT when
 * another row holds the blind index, or -1.
 */
int store_beneficiary_reseal(store *st, int64_t id, unsigned from_version,
			     const uint8_t *blind_index, const uint8_t *sealed,
			     size_t sealed_len, unsigned key_version);

/*
 * How many beneficiaries are sealed under each at-rest key version:
 * counts[v] for v below n (the rest ignored), *max_version the highest
 * version any row uses (-1 when there is no row). 0 or -1.
 */
int store_key_versions(store *st, uint64_t *counts, unsigned n,
		       long *max_version);

typedef struct store_application {
	int64_t id;
	char reference[STORE_REF_MAX];
	int64_t programme_id;
	char programme[STORE_CODE_MAX];
	char currency[STORE_CURRENCY_MAX];
	int64_t region_id;
	char region[STORE_CODE_MAX];
	int64_t beneficiary_id;
	int state; /* enum store_state */
	int sex, birth_year, category;
	char sector[STORE_NAME_MAX];
	char activity[STORE_TEXT_MAX];
	int64_t requested, contribution;
	char formula[STORE_NAME_MAX];
	int64_t granted, disbursed, repaid;
	int64_t submitted_by, decided_by; /* principal ids; 0 if none */
	char submitted_by_name[STORE_NAME_MAX], decided_by_name[STORE_NAME_MAX];
	char reason[STORE_TEXT_MAX];
	int64_t submitted_at, decided_at;
} store_application;

/*
 * Inserts a submitted application and gives it the next reference of its
 * region and year, "LAG-2026-000123". Fields used: programme_id,
 * region_id, beneficiary_id, sex, birth_year, category, sector, activity,
 * requested, contribution, formula, submitted_by, submitted_at. Sets id,
 * reference and state. Returns STORE_CONFLICT when the beneficiary already
 * has an open application (submitted, approved, disbursing, disbursed or
 * repaying) in the programme. 0 / STORE_CONFLICT / -1.
 */
int store_application_add(store *st, store_application *a);

/* Reads an application by reference: 0 / STORE_NOT_FOUND / -1. */
int store_application_get(store *st, const char *reference,
			  store_application *a);

/*
 * Writes back the mutable fields of an application read before: state,
 * granted, disbursed, repaid, decided_by, decided_at, reason. The schema
 * refuses disbursed above granted and repaid above disbursed. 0 / -1.
 */
int store_application_update(store *st, const store_application *a);

/* One line of an application's history. */
int store_event_add(store *st, int64_t application_id, int64_t time,
		    const char *action, int64_t actor, int64_t amount,
		    const char *detail);

typedef struct store_item {
	char description[STORE_NAME_MAX];
	uint32_t quantity;
	int64_t unit_value;
} store_item;

/* Records a tranche and its equipment items: 0 / -1. */
int store_disbursement_add(store *st, int64_t application_id, int64_t amount,
			   int method, const char *payment_reference,
			   const char *date, const store_item *items,
			   size_t nitems, int64_t recorded_by, int64_t time);

/* Records a repayment: 0 / -1. */
int store_repayment_add(store *st, int64_t application_id, int64_t amount,
			const char *date, int64_t recorded_by, int64_t time);

/*
 * Idempotency. Looks up the result recorded for (principal, key): 0 with
 * the operation's SHA-256 in op_hash and the packed result in buf
 * (capacity cap, length *len), STORE_NOT_FOUND, or -1.
 */
int store_op_find(store *st, int64_t principal_id, const uint8_t *key,
		  uint8_t *op_hash, uint8_t *buf, size_t cap, size_t *len);

/* Records the result of an applied operation: 0 / -1. */
int store_op_record(store *st, int64_t principal_id, const uint8_t *key,
		    const uint8_t *op_hash, const uint8_t *result,
		    size_t result_len, int64_t time);

/* Enrols through an operation: like store_principal_add(). */
/* Revokes by principal id: 0 / STORE_NOT_FOUND / -1. */
int store_principal_revoke_id(store *st, int64_t id);

/* Number of active admins: 0 / -1. */
int store_admin_count(store *st, int64_t *count);

/* ---------------------------------------------------------------------
 * Queries. They read committed data only.
 */

/* Calls fn for each event of an application, oldest first. */
typedef int (*store_event_fn)(void *arg, int64_t time, const char *action,
			      const char *actor, int64_t amount,
			      const char *detail);
int store_events(store *st, int64_t application_id, store_event_fn fn,
		 void *arg);

typedef struct store_filter {
	const char *region; /* codes; NULL or "": any */
	const char *programme;
	const char *sector;
	int state, category, sex; /* 0: any */
	int64_t from, to;	  /* submitted_at in [from, to); 0: open */
	int64_t after_id;	  /* paging: ids above this one */
	uint32_t limit;
} store_filter;

/*
 * Calls fn for each matching application in id order, at most f->limit of
 * them, and counts all matches (ignoring after_id and limit) into *total.
 */
typedef int (*store_application_fn)(void *arg, const store_application *a);
int store_applications(store *st, const store_filter *f,
		       store_application_fn fn, void *arg, uint64_t *total);

/* Calls fn for each programme, by code. */
/*
 * Calls fn with each line of SQLite's plan (EXPLAIN QUERY PLAN) of the
 * page (count 0) or the count (count 1) that store_applications() runs
 * for f, e.g. "SEARCH a USING INDEX applications_region (region_id=? AND
 * rowid>?)": how a list finds its rows, for tests and diagnosis. 0, fn's
 * non-zero value, or -1.
 */
typedef int (*store_plan_fn)(void *arg, const char *detail);
int store_applications_plan(store *st, const store_filter *f, int count,
			    store_plan_fn fn, void *arg);

typedef int (*store_programme_fn)(void *arg, const store_programme *p);
int store_programmes(store *st, store_programme_fn fn, void *arg);

/* Calls fn for each region, by code. */
typedef int (*store_region_fn)(void *arg, const char *code, const char *name);
int store_regions(store *st, store_region_fn fn, void *arg);

enum store_group {
	STORE_GROUP_REGION = 1,
	STORE_GROUP_PROGRAMME = 2,
	STORE_GROUP_SECTOR = 3,
	STORE_GROUP_SEX = 4,
	STORE_GROUP_CATEGORY = 5,
	STORE_GROUP_MONTH = 6 /* the work of each month: see tamwil.proto */
};

typedef struct store_report_row {
	char
	    group[STORE_NAME_MAX]; /* code, sector, or the number of the enum */
	char currency[STORE_CURRENCY_MAX];
	uint64_t submitted, approved, rejected, withdrawn, disbursed, women;
	int64_t requested, granted, disbursed_amount, repaid;
} store_report_row;

/*
 * Groups applications (optionally of one programme and/or region) and
 * calls fn with one row per group and currency, ordered by group.
 */
typedef int (*store_report_fn)(void *arg, const store_report_row *row);
int store_report(store *st, enum store_group by, const char *programme,
		 const char *region, store_report_fn fn, void *arg);

/* ---------------------------------------------------------------------
 * The audit log: entries, the hashes of its perfect subtrees (level 0 are
 * the leaf hashes; see common/merkle.h), and signed checkpoints. Appends
 * run inside the operation's transaction.
 */

#define STORE_HASHLEN 32
#define STORE_SIGLEN  64

/*
 * Runs SQLite's integrity_check: 0 when the database is sound, 1 with the
 * first problem in msg (capacity cap) when not, -1 when it cannot run.
 */
int store_integrity(store *st, char *msg, size_t cap);

/* Number of entries in the log: 0 or -1. */
int store_log_size(store *st, uint64_t *size);

/* Appends entry number seq (which must be the log's size): 0 or -1. */
int store_log_add(store *st, uint64_t seq, int64_t time, const uint8_t *entry,
		  size_t len);

/* Reads entry seq into buf (capacity cap): 0 with *len, STORE_NOT_FOUND or -1.
 */
int store_log_entry(store *st, uint64_t seq, uint8_t *buf, size_t cap,
		    size_t *len);

/* The hash of perfect subtree (level, index): 0, STORE_NOT_FOUND or -1. */
int store_log_node(store *st, unsigned level, uint64_t index, uint8_t *hash);

/* Stores the hash of perfect subtree (level, index): 0 or -1. */
int store_log_node_put(store *st, unsigned level, uint64_t index,
		       const uint8_t *hash);

typedef struct store_checkpoint {
	uint64_t size;
	uint8_t root[STORE_HASHLEN];
	int64_t time;
	uint8_t sig[STORE_SIGLEN];
} store_checkpoint;

/* Records a signed checkpoint: 0 or -1. */
int store_checkpoint_add(store *st, const store_checkpoint *cp);

/* The checkpoint of the largest size: 0, STORE_NOT_FOUND (none yet) or -1. */
int store_checkpoint_latest(store *st, store_checkpoint *cp);

/* The checkpoint of exactly this size: 0, STORE_NOT_FOUND or -1. */
int store_checkpoint_at(store *st, uint64_t size, store_checkpoint *cp);

/*
 * Records a refusal that matters to security (unknown or revoked key, bad
 * signature, wrong signer, wrong role): principal_id 0 when unknown. These
 * are never log leaves. 0 or -1.
 */
int store_security_event(store *st, int64_t time, int64_t principal_id,
			 const char *peer, const char *kind,
			 const char *reason);

/*
 * Calls fn for the security events since `since` (Unix seconds), newest
 * first, at most limit of them; principal is "" for an unknown key.
 * Returns 0, fn's non-zero value, or -1.
 */
typedef int (*store_security_fn)(void *arg, int64_t time, const char *principal,
				 const char *peer, const char *kind,
				 const char *reason);
int store_security_events(store *st, int64_t since, uint32_t limit,
			  store_security_fn fn, void *arg);

#endif
