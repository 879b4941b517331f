/*
 * Rotation of the at-rest keys, below the daemon: the versions a state
 * folder's rest.keys gives, lookups by national ID across versions (a
 * duplicate stays one), the store's walk and re-seal, and tamwild rekey
 * run on a folder no daemon serves: every row sealed anew under the new
 * version and no longer under the old one, a stop half-way carried on by
 * the next run, and tamwild check opening every identity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "keyfile.h"
#include "ops.h"
#include "rekey.h"
#include "seal.h"
#include "state.h"
#include "store.h"

#include "server_world.h"

/* Enough rows for a rotation of more than one batch. */
#define ROWS 300

struct fixture {
	char dir[64], path[128], rest[160];
	server *srv;
	store *rd;
	struct world_who admin, coord;
	char report[8192]; /* what the last rekey_run() or check wrote */
};

/* One row as the store holds it, copied. */
struct row {
	int64_t id;
	unsigned version;
	uint8_t index[SEAL_INDEX_LEN];
	uint8_t sealed[512];
	size_t len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-rekey-XXXXXX");
	world_open(f->dir, f->path, &f->srv);
	snprintf(f->rest, sizeof(f->rest), "%s/%s", f->dir, STATE_REST_KEYS);
	assert_int_equal(store_open_reader(f->path, &f->rd, err, sizeof(err)),
			 0);
	world_region(f->srv, "LAG", "Laghouat");
	world_enrol(f->srv, &f->admin, "Administratrice",
		    TAMWIL__V1__ROLE__ROLE_ADMIN, "");
	world_enrol(f->srv, &f->coord, "Coordinatrice",
		    TAMWIL__V1__ROLE__ROLE_COORDINATOR, "LAG");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->rd);
	world_close(f->dir, f->srv);
	free(f);
	return 0;
}

/* Applies one signed operation; returns its answer (caller frees). */
static Tamwil__V1__Response *apply(struct fixture *f, Tamwil__V1__Operation *op,
				   struct world_who *by)
{
	Tamwil__V1__Response *resp;
	struct world_signed so;

	world_sign(by, op, 0, &so);
	(void)world_apply(f->srv, f->rd, &so, 1, &resp);
	world_signed_free(&so);
	return resp;
}

static void create_programme(struct fixture *f)
{
	struct world_programme p;
	Tamwil__V1__Response *r;

	world_programme(&p, "PROG-26", 500000000, 3500000);
	r = apply(f, &p.op, &f->admin);
	assert_int_equal(r->body_case, TAMWIL__V1__RESPONSE__BODY_OPERATION);
	tamwil__v1__response__free_unpacked(r, NULL);
}

/*
 * Submits an application for national_id; returns the answer's error code
 * (0 when it was accepted).
 */
static int submit(struct fixture *f, const char *national_id)
{
	struct world_submission sub;
	Tamwil__V1__Response *r;
	int code;

	world_submission(&sub, f->srv, &f->coord, "PROG-26", national_id,
			 3000000);
	r = apply(f, &sub.op, &f->coord);
	code = r->body_case == TAMWIL__V1__RESPONSE__BODY_OPERATION
		   ? 0
		   : (int)r->error->code;
	tamwil__v1__response__free_unpacked(r, NULL);
	return code;
}

/* Adds a fresh version to the server's ring; returns its number. */
static unsigned add_version(server *srv)
{
	uint8_t master[SEAL_KEYLEN];
	seal_keys k;

	randombytes_buf(master, sizeof(master));
	assert_int_equal(seal_derive_version(&k, master), 0);
	assert_int_equal(seal_ring_add(&srv->seal, &k), 0);
	return seal_ring_count(&srv->seal) - 1;
}

/* Reads beneficiary id into r. */
static void read_row(struct fixture *f, int64_t id, struct row *r)
{
	r->id = id;
	assert_int_equal(store_beneficiary_sealed(f->srv->st, id, r->index,
						  r->sealed, sizeof(r->sealed),
						  &r->len, &r->version),
			 0);
}

/* 1 if r's identity opens under k (with its stored blind index). */
static int opens_under(const struct row *r, const seal_keys *k)
{
	uint8_t plain[512];

	return k != NULL && r->len > SEAL_REST_OVERHEAD &&
	       seal_rest_open(k, r->sealed, r->len, r->index, SEAL_INDEX_LEN,
			      plain) == 0;
}

/* How many rows are under version v. */
static uint64_t under(struct fixture *f, unsigned v)
{
	uint64_t counts[SEAL_VERSIONS_MAX];
	long max;

	assert_int_equal(
	    store_key_versions(f->srv->st, counts, SEAL_VERSIONS_MAX, &max), 0);
	return counts[v];
}

/* Fills ROWS beneficiaries straight into the store, under version 0. */
static void fill(struct fixture *f)
{
	const seal_keys *k = seal_ring_get(&f->srv->seal, 0);
	uint8_t index[SEAL_INDEX_LEN], sealed[64 + SEAL_REST_OVERHEAD];
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	char nid[32], name[32];
	uint8_t plain[64];
	int64_t row;

	assert_int_equal(store_begin(f->srv->st), 0);
	for (int i = 0; i < ROWS; i++) {
		size_t n;

		snprintf(nid, sizeof(nid), "RK%06d", i);
		snprintf(name, sizeof(name), "Nom%d", i);
		id.national_id = nid;
		id.first_name = "Samira";
		id.last_name = name;
		n = tamwil__v1__identity__get_packed_size(&id);
		assert_true(n <= sizeof(plain));
		tamwil__v1__identity__pack(&id, plain);
		assert_int_equal(seal_index(k, nid, index), 0);
		assert_int_equal(
		    seal_rest(k, plain, n, index, sizeof(index), sealed), 0);
		assert_int_equal(
		    store_beneficiary_add(f->srv->st, index, sealed,
					  n + SEAL_REST_OVERHEAD, 0, 1, &row),
		    0);
	}
	assert_int_equal(store_commit(f->srv->st), 0);
}

/* rekey_run() on the fixture's folder; its report into f->report. */
static int rekey(struct fixture *f)
{
	FILE *out = fmemopen(f->report, sizeof(f->report), "w");
	int rc;

	assert_non_null(out);
	rc = rekey_run(f->srv, f->dir, out);
	fclose(out);
	return rc;
}

/* check_state() on the fixture's server; its report into f->report. */
static int check(struct fixture *f)
{
	FILE *out = fmemopen(f->report, sizeof(f->report), "w");
	int rc;

	assert_non_null(out);
	rc = check_state(f->srv, out);
	fclose(out);
	return rc;
}

static void report_has(struct fixture *f, const char *needle)
{
	if (strstr(f->report, needle) == NULL)
		fail_msg("'%s' is not in:\n%s", needle, f->report);
}

/* Writes rest.keys with n random keys (into r). */
static void write_rest(struct fixture *f, keyfile_rest *r, unsigned n)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(keyfile_rest_add(r), 0);
	assert_int_equal(keyfile_write_rest(f->rest, r), 0);
}

static void test_load_versions(void **state)
{
	struct fixture *f = *state;
	keyfile_rest *r = calloc(1, sizeof(*r));
	seal_keys k;
	char err[STATE_ERR_MAX];
	seal_ring *ring = &f->srv->seal;

	assert_non_null(r);
	/* No rest.keys: version 0 alone, as from the data key. */
	memset(ring, 0, sizeof(*ring));
	assert_int_equal(
	    state_load_rest(f->dir, f->srv->data.sk, ring, err, sizeof(err)),
	    0);
	assert_int_equal(seal_ring_count(ring), 1);
	assert_int_equal(seal_derive(&k, f->srv->data.sk), 0);
	assert_memory_equal(seal_ring_get(ring, 0), &k, sizeof(k));
	/* Two versions written: both added, each from its own key. */
	write_rest(f, r, 2);
	assert_int_equal(
	    state_load_rest(f->dir, f->srv->data.sk, ring, err, sizeof(err)),
	    0);
	assert_int_equal(seal_ring_count(ring), 3);
	assert_int_equal(seal_derive_version(&k, r->key[1]), 0);
	assert_memory_equal(seal_ring_get(ring, 2), &k, sizeof(k));
	/* Read again, as on a SIGHUP with nothing new: nothing changes. */
	assert_int_equal(
	    state_load_rest(f->dir, f->srv->data.sk, ring, err, sizeof(err)),
	    0);
	assert_int_equal(seal_ring_count(ring), 3);
	/* A third written: added after the others. */
	assert_int_equal(keyfile_rest_add(r), 0);
	assert_int_equal(keyfile_write_rest(f->rest, r), 0);
	assert_int_equal(
	    state_load_rest(f->dir, f->srv->data.sk, ring, err, sizeof(err)),
	    0);
	assert_int_equal(seal_ring_count(ring), 4);
	/* An older file in its place, or other keys: refused, ring kept. */
	r->count = 2;
	assert_int_equal(keyfile_write_rest(f->rest, r), 0);
	assert_int_equal(
	    state_load_rest(f->dir, f->srv->data.sk, ring, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "replaced by an older one"));
	write_rest(f, r, 3);
	assert_int_equal(
	    state_load_rest(f->dir, f->srv->data.sk, ring, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "version 1 is not the key in use"));
	assert_int_equal(seal_ring_count(ring), 4);
	/* Open to others: refused, naming the file. */
	assert_int_equal(chmod(f->rest, 0644), 0);
	assert_int_equal(
	    state_load_rest(f->dir, f->srv->data.sk, ring, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, STATE_REST_KEYS));
	assert_non_null(strstr(err, "readable or writable by other users"));
	sodium_memzero(r, sizeof(*r));
	free(r);
}

static void test_lookup_across_versions(void **state)
{
	struct fixture *f = *state;
	struct row first, second;
	int64_t id;
	unsigned v1;
	uint8_t index[SEAL_INDEX_LEN];

	create_programme(f);
	assert_int_equal(submit(f, "AB123456"), 0);
	v1 = add_version(f->srv);
	assert_int_equal(v1, 1);
	/* Under version 0 still, found: the same person is a duplicate. */
	assert_int_equal(submit(f, "ab-123456"),
			 TAMWIL__V1__ERROR_CODE__ERROR_DUPLICATE_APPLICATION);
	assert_int_equal(under(f, 0), 1);
	/* A new one goes under the newest version, and opens only there. */
	assert_int_equal(submit(f, "CD654321"), 0);
	assert_int_equal(under(f, 1), 1);
	read_row(f, 1, &first);
	read_row(f, 2, &second);
	assert_int_equal(first.version, 0);
	assert_int_equal(second.version, 1);
	assert_true(opens_under(&first, seal_ring_get(&f->srv->seal, 0)));
	assert_false(opens_under(&first, seal_ring_get(&f->srv->seal, 1)));
	assert_true(opens_under(&second, seal_ring_get(&f->srv->seal, 1)));
	assert_false(opens_under(&second, seal_ring_get(&f->srv->seal, 0)));
	assert_int_equal(
	    seal_index(seal_ring_get(&f->srv->seal, 1), "CD654321", index), 0);
	assert_int_equal(store_beneficiary_find(f->srv->st, index, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(submit(f, "CD 654321"),
			 TAMWIL__V1__ERROR_CODE__ERROR_DUPLICATE_APPLICATION);
	/* A database with a version the keys lack is refused by check. */
	memset(&f->srv->seal, 0, sizeof(f->srv->seal));
	(void)add_version(f->srv);
	assert_int_equal(check(f), 1);
	report_has(f, "under at-rest key version 0");
}

/*
 * A version that arrives between the worker's sealing and the writer (a
 * rotation starting meanwhile): the row is sealed again under it, so that
 * a rotation that has begun never sees a row added under the old version.
 */
static void test_version_between_workers_and_writer(void **state)
{
	struct fixture *f = *state;
	struct world_submission sub;
	struct world_signed so;
	ops_pending p, *v = &p;
	struct row r;

	create_programme(f);
	world_submission(&sub, f->srv, &f->coord, "PROG-26", "EF112233",
			 3000000);
	world_sign(&f->coord, &sub.op, 0, &so);
	memset(&p, 0, sizeof(p));
	assert_int_equal(ops_prepare(f->srv, &f->coord.sess, &so.sop, 1, &p),
			 0);
	assert_int_equal(p.key_version, 0);
	assert_int_equal(add_version(f->srv), 1);
	assert_int_equal(ops_apply_batch(f->srv, &v, 1), 0);
	assert_int_equal(p.outcome, OPS_APPLIED);
	ops_pending_clear(&p);
	world_signed_free(&so);
	read_row(f, 1, &r);
	assert_int_equal(r.version, 1);
	assert_true(opens_under(&r, seal_ring_get(&f->srv->seal, 1)));
	assert_false(opens_under(&r, seal_ring_get(&f->srv->seal, 0)));
	assert_int_equal(submit(f, "EF-112233"),
			 TAMWIL__V1__ERROR_CODE__ERROR_DUPLICATE_APPLICATION);
}

static void test_reseal_refusals(void **state)
{
	struct fixture *f = *state;
	struct row a, b;

	fill(f);
	read_row(f, 1, &a);
	read_row(f, 2, &b);
	/* Only while it is under the version the caller read. */
	assert_int_equal(store_beneficiary_reseal(f->srv->st, 1, 3, a.index,
						  a.sealed, a.len, 4),
			 STORE_NOT_FOUND);
	assert_int_equal(store_beneficiary_reseal(f->srv->st, ROWS + 1, 0,
						  a.index, a.sealed, a.len, 1),
			 STORE_NOT_FOUND);
	/* Another row's blind index: the unique rule holds. */
	assert_int_equal(store_beneficiary_reseal(f->srv->st, 1, 0, b.index,
						  a.sealed, a.len, 1),
			 STORE_CONFLICT);
	read_row(f, 1, &b);
	assert_int_equal(b.version, 0);
	assert_memory_equal(b.sealed, a.sealed, a.len);
}

static void test_rekey_alone(void **state)
{
	struct fixture *f = *state;
	struct row *before = calloc(ROWS, sizeof(*before));
	struct row now, keep;
	uint8_t plain0[REKEY_SEALED_MAX], plain1[REKEY_SEALED_MAX];
	keyfile_rest *r = calloc(1, sizeof(*r));
	Tamwil__V1__Identity *id;
	store_sealed b;
	char err[256];
	struct stat st;

	assert_non_null(before);
	assert_non_null(r);
	fill(f);
	for (int i = 0; i < ROWS; i++)
		read_row(f, i + 1, &before[i]);

	assert_int_equal(rekey(f), 0);
	report_has(f, "at-rest key version 1 added");
	report_has(f, "tamwild is not running");
	report_has(f, "rekey done: all 300 identities are sealed under "
		      "at-rest key version 1");
	assert_int_equal(stat(f->rest, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keyfile_read_rest(f->rest, r), 0);
	assert_int_equal(r->count, 1);
	assert_int_equal(under(f, 0), 0);
	assert_int_equal(under(f, 1), ROWS);
	for (int i = 0; i < ROWS; i++) {
		read_row(f, i + 1, &now);
		assert_int_equal(now.version, 1);
		assert_memory_not_equal(now.index, before[i].index,
					SEAL_INDEX_LEN);
		assert_false(
		    opens_under(&now, seal_ring_get(&f->srv->seal, 0)));
		assert_false(
		    opens_under(&before[i], seal_ring_get(&f->srv->seal, 1)));
		/* The same identity, byte for byte. */
		b = (store_sealed){
		    now.id, now.version, {0}, now.sealed, now.len};
		memcpy(b.blind_index, now.index, SEAL_INDEX_LEN);
		assert_int_equal(rekey_open_identity(&f->srv->seal, &b, plain1,
						     &id, err, sizeof(err)),
				 0);
		tamwil__v1__identity__free_unpacked(id, NULL);
		assert_true(seal_rest_open(seal_ring_get(&f->srv->seal, 0),
					   before[i].sealed, before[i].len,
					   before[i].index, SEAL_INDEX_LEN,
					   plain0) == 0);
		assert_memory_equal(plain0, plain1,
				    now.len - SEAL_REST_OVERHEAD);
	}
	assert_int_equal(check(f), 0);
	report_has(f, "identities: 300 open under their at-rest keys "
		      "(version 1: 300)");

	/* Again: a second version, every row moved on to it. */
	assert_int_equal(rekey(f), 0);
	report_has(f, "at-rest key version 2 added");
	assert_int_equal(under(f, 2), ROWS);

	/*
	 * Stopped half-way: a row in the second batch does not open. The
	 * first batch stays done, the second is rolled back whole.
	 */
	read_row(f, 280, &keep);
	now = keep;
	now.sealed[SEAL_REST_OVERHEAD] ^= 1;
	assert_int_equal(store_beneficiary_reseal(f->srv->st, 280, 2, now.index,
						  now.sealed, now.len, 2),
			 0);
	assert_int_equal(check(f), 1);
	report_has(f, "FAILED: beneficiary 280: the identity does not open "
		      "under at-rest key version 2");
	assert_int_equal(rekey(f), 1);
	report_has(f, "at-rest key version 3 added");
	report_has(f, "rekey stopped after 256 identities: beneficiary 280");
	report_has(f, "run it again to carry on");
	assert_int_equal(under(f, 3), 256);
	assert_int_equal(under(f, 2), ROWS - 256);
	/* Mended, run again: it carries on, without a fourth version. */
	assert_int_equal(store_beneficiary_reseal(f->srv->st, 280, 2,
						  keep.index, keep.sealed,
						  keep.len, 2),
			 0);
	assert_int_equal(rekey(f), 0);
	report_has(f, "carrying on to version 3");
	report_has(f, "rekey done: all 300 identities are sealed under "
		      "at-rest key version 3");
	assert_int_equal(under(f, 3), ROWS);
	assert_int_equal(keyfile_read_rest(f->rest, r), 0);
	assert_int_equal(r->count, 3);
	assert_int_equal(check(f), 0);
	report_has(f, "(version 3: 300)");

	/* One rotation at a time. */
	{
		int lock;

		assert_int_equal(
		    state_lock_rekey(f->dir, &lock, err, sizeof(err)), 0);
		assert_int_equal(rekey(f), 1);
		report_has(f, "another tamwild rekey is running");
		close(lock);
	}
	sodium_memzero(r, sizeof(*r));
	free(r);
	free(before);
}

/* retire() on the fixture's folder; its report into f->report. */
static int retire(struct fixture *f, unsigned version)
{
	FILE *out = fmemopen(f->report, sizeof(f->report), "w");
	int rc;

	assert_non_null(out);
	rc = rekey_retire(f->srv, f->dir, version, out);
	fclose(out);
	return rc;
}

/* Seals row id anew under version to, as an older rotation would have. */
static void reseal_under(struct fixture *f, int64_t id, unsigned to)
{
	const seal_keys *k = seal_ring_get(&f->srv->seal, to);
	uint8_t plain[REKEY_SEALED_MAX], index[SEAL_INDEX_LEN];
	uint8_t sealed[sizeof(((struct row *)0)->sealed)];
	Tamwil__V1__Identity *ident;
	struct row now;
	store_sealed b;
	char err[256];

	read_row(f, id, &now);
	b = (store_sealed){now.id, now.version, {0}, now.sealed, now.len};
	memcpy(b.blind_index, now.index, SEAL_INDEX_LEN);
	assert_int_equal(rekey_open_identity(&f->srv->seal, &b, plain, &ident,
					     err, sizeof(err)),
			 0);
	assert_int_equal(seal_index(k, ident->national_id, index), 0);
	assert_int_equal(seal_rest(k, plain, now.len - SEAL_REST_OVERHEAD,
				   index, sizeof(index), sealed),
			 0);
	tamwil__v1__identity__free_unpacked(ident, NULL);
	assert_int_equal(store_beneficiary_reseal(f->srv->st, id, now.version,
						  index, sealed, now.len, to),
			 0);
}

static void test_retire(void **state)
{
	struct fixture *f = *state;
	keyfile_rest *r = calloc(1, sizeof(*r));
	char err[STATE_ERR_MAX];

	assert_non_null(r);
	fill(f);
	assert_int_equal(rekey(f), 0);
	assert_int_equal(retire(f, 0), 1);
	report_has(f, "version 0 is derived from the data key");
	assert_int_equal(retire(f, 1), 1);
	report_has(f, "version 1 is the newest");
	assert_int_equal(retire(f, 7), 1);
	report_has(f, "there is no at-rest key version 7 (the newest is 1)");
	assert_int_equal(rekey(f), 0);
	/* A row left under version 1: it may not be retired yet. */
	reseal_under(f, 9, 1);
	assert_int_equal(retire(f, 1), 1);
	report_has(f, "1 identities are still sealed under version 1: run "
		      "tamwild rekey first");
	assert_int_equal(keyfile_read_rest(f->rest, r), 0);
	assert_int_equal(r->retired[0], 0);
	assert_int_equal(rekey(f), 0);
	report_has(f, "carrying on to version 2");
	assert_int_equal(retire(f, 1), 0);
	report_has(f, "at-rest key version 1 retired from");
	assert_int_equal(retire(f, 1), 1);
	report_has(f, "version 1 is retired already");
	assert_int_equal(keyfile_read_rest(f->rest, r), 0);
	assert_int_equal(r->count, 2);
	assert_int_equal(r->retired[0], 1);
	assert_true(sodium_is_zero(r->key[0], KEYFILE_KEYLEN));
	assert_int_equal(r->retired[1], 0);

	/* Loaded afresh: version 1 holds no key, the others do. */
	memset(&f->srv->seal, 0, sizeof(f->srv->seal));
	assert_int_equal(state_load_rest(f->dir, f->srv->data.sk, &f->srv->seal,
					 err, sizeof(err)),
			 0);
	assert_int_equal(seal_ring_count(&f->srv->seal), 3);
	assert_non_null(seal_ring_get(&f->srv->seal, 0));
	assert_null(seal_ring_get(&f->srv->seal, 1));
	assert_non_null(seal_ring_get(&f->srv->seal, 2));
	assert_int_equal(check(f), 0);
	/* Lookups pass over the retired version and still find people. */
	create_programme(f);
	assert_int_equal(submit(f, "RK000009"), 0);
	assert_int_equal(submit(f, "rk-000009"),
			 TAMWIL__V1__ERROR_CODE__ERROR_DUPLICATE_APPLICATION);
	assert_int_equal(under(f, 2), ROWS);
	/* Rotations go on past it; it stays retired. */
	assert_int_equal(rekey(f), 0);
	report_has(f, "sealed under at-rest key version 3");
	assert_int_equal(keyfile_read_rest(f->rest, r), 0);
	assert_int_equal(r->count, 3);
	assert_int_equal(r->retired[0], 1);
	sodium_memzero(r, sizeof(*r));
	free(r);
}

/* The daemon's note in its lock file, as tamwild rekey reads it. */
static void test_versions_note(void **state)
{
	struct fixture *f = *state;
	char err[STATE_ERR_MAX], path[160];
	unsigned versions = 0;
	long pid = 0;
	int fd, other;
	FILE *fp;

	assert_int_equal(state_lock(f->dir, &fd, err, sizeof(err)), 0);
	/* Nothing noted yet: ask again later. */
	assert_int_equal(
	    state_read_versions(f->dir, &pid, &versions, err, sizeof(err)), 1);
	assert_int_equal(state_note_versions(fd, 4242, 2), 0);
	assert_int_equal(
	    state_read_versions(f->dir, &pid, &versions, err, sizeof(err)), 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(versions, 2);
	assert_int_equal(state_note_versions(fd, 4242, 11), 0);
	assert_int_equal(
	    state_read_versions(f->dir, &pid, &versions, err, sizeof(err)), 0);
	assert_int_equal(versions, 11);
	/* Held: a second taker is told a daemon runs. */
	assert_int_equal(state_lock(f->dir, &other, err, sizeof(err)), 1);
	assert_string_equal(err, "tamwild is running on this state folder");
	close(fd);
	/* The next holder starts with no note of the last one. */
	assert_int_equal(state_lock(f->dir, &fd, err, sizeof(err)), 0);
	assert_int_equal(
	    state_read_versions(f->dir, &pid, &versions, err, sizeof(err)), 1);
	/* A note cut short, or not a note, reads as none. */
	snprintf(path, sizeof(path), "%s/%s", f->dir, STATE_LOCK);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("4242 1", fp);
	fclose(fp);
	assert_int_equal(
	    state_read_versions(f->dir, &pid, &versions, err, sizeof(err)), 1);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("-1 3\n", fp);
	fclose(fp);
	assert_int_equal(
	    state_read_versions(f->dir, &pid, &versions, err, sizeof(err)), 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_load_versions, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_lookup_across_versions, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_version_between_workers_and_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reseal_refusals, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rekey_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_versions_note, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
