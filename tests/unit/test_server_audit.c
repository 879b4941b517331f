/*
 * Unit tests of the audit log writer on a real store: every append yields
 * a signed checkpoint, every entry's receipt verifies against it, every
 * pair of sizes is consistent, and tampering with a stored entry or node
 * is caught by the verifiers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "keyfile.h"
#include "store.h"

#define ENTRIES 40

struct fixture {
	char dir[64];
	char path[128];
	server *srv;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-audit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	f->srv = calloc(1, sizeof(*f->srv));
	assert_non_null(f->srv);
	assert_int_equal(keyfile_generate(&f->srv->key), 0);
	assert_int_equal(store_open(f->path, 1, &f->srv->st, err, sizeof(err)),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	store_close(f->srv->st);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
	free(f->srv);
	free(f);
	return 0;
}

/*
 * Appends one entry whose operation bytes are "op <i>" in a transaction
 * of its own, which signs the checkpoint of the new size.
 */
static void append(server *srv, int i, uint64_t *seq)
{
	Tamwil__V1__SignedOperation sop = TAMWIL__V1__SIGNED_OPERATION__INIT;
	Tamwil__V1__OperationResult out = TAMWIL__V1__OPERATION_RESULT__INIT;
	char op[32], ref[32];
	uint8_t key[32] = {7}, sig[64] = {9};

	snprintf(op, sizeof(op), "op %d", i);
	snprintf(ref, sizeof(ref), "REF-%d", i);
	sop.operation.data = (uint8_t *)op;
	sop.operation.len = strlen(op);
	sop.signer_key.data = key;
	sop.signer_key.len = sizeof(key);
	sop.signature.data = sig;
	sop.signature.len = sizeof(sig);
	out.reference = ref;
	assert_int_equal(store_begin(srv->st), 0);
	assert_int_equal(audit_append(srv, &sop, &out, 1700000000 + i, seq), 0);
	assert_int_equal(audit_checkpoint(srv, 1700000000 + i), 0);
	assert_int_equal(store_commit(srv->st), 0);
}

/* Checks entry seq's receipt in the checkpoint of tree_size. */
static int receipt_holds(server *srv, uint64_t seq, uint64_t tree_size)
{
	audit_receipt *r = malloc(sizeof(*r));
	merkle_hash leaf;
	int ok;

	assert_non_null(r);
	ok = audit_receipt_build(srv->st, seq, tree_size, r) == 0 &&
	     checkpoint_verify(&r->cp, srv->key.sign_pk) == 0 &&
	     merkle_leaf_hash(r->entry, r->entry_len, leaf) == 0 &&
	     merkle_verify_inclusion(seq, r->cp.size, leaf,
				     (const merkle_hash *)r->proof, r->nproof,
				     r->cp.root) == 0;
	free(r);
	return ok;
}

static void test_receipts_and_entries(void **state)
{
	struct fixture *f = *state;
	Tamwil__V1__LogEntry *e;
	audit_receipt *r = malloc(sizeof(*r));
	uint64_t seq;

	assert_non_null(r);
	for (int i = 0; i < ENTRIES; i++) {
		append(f->srv, i, &seq);
		assert_int_equal(seq, (uint64_t)i);
		/* The newest entry verifies in the newest checkpoint. */
		assert_true(receipt_holds(f->srv, seq, 0));
	}
	/* Every entry verifies in every checkpoint that includes it. */
	for (uint64_t size = 1; size <= ENTRIES; size++) {
		for (uint64_t s = 0; s < size; s++)
			assert_true(receipt_holds(f->srv, s, size));
	}
	/* The stored entry holds what was appended, exactly. */
	assert_int_equal(audit_receipt_build(f->srv->st, 5, 0, r), 0);
	e = tamwil__v1__log_entry__unpack(NULL, r->entry_len, r->entry);
	assert_non_null(e);
	assert_int_equal(e->sequence, 5);
	assert_int_equal(e->time, 1700000005);
	assert_memory_equal(e->operation->operation.data, "op 5", 4);
	assert_string_equal(e->outcome->reference, "REF-5");
	assert_null(e->outcome->receipt);
	tamwil__v1__log_entry__free_unpacked(e, NULL);
	/* No receipt for an entry that does not exist. */
	assert_int_equal(audit_receipt_build(f->srv->st, ENTRIES, 0, r), -1);
	free(r);
}

static void test_consistency_between_all_sizes(void **state)
{
	struct fixture *f = *state;
	merkle_hash proof[MERKLE_MAX_PROOF];
	store_checkpoint a, b;
	uint64_t seq;
	size_t n;

	for (int i = 0; i < 33; i++)
		append(f->srv, i, &seq);
	for (uint64_t old = 1; old <= 33; old++) {
		for (uint64_t cur = old; cur <= 33; cur++) {
			assert_int_equal(
			    store_checkpoint_at(f->srv->st, old, &a), 0);
			assert_int_equal(
			    store_checkpoint_at(f->srv->st, cur, &b), 0);
			n = 0;
			if (old < cur)
				assert_int_equal(audit_consistency(f->srv->st,
								   old, cur,
								   proof, &n),
						 0);
			assert_int_equal(merkle_verify_consistency(
					     old, cur, a.root, b.root,
					     (const merkle_hash *)proof, n),
					 0);
		}
	}
}

static void test_tampering_detected(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	uint64_t seq;

	for (int i = 0; i < 8; i++)
		append(f->srv, i, &seq);
	assert_true(receipt_holds(f->srv, 3, 8));
	/* One changed byte of a stored entry breaks its receipt. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
			 "UPDATE log_entries SET entry = CAST("
			 "substr(entry, 1, 5) || x'ff' || substr(entry, 7)"
			 " AS BLOB) WHERE seq = 3",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	assert_false(receipt_holds(f->srv, 3, 8));
	/* A forged node hash breaks the proofs that use it. */
	assert_int_equal(sqlite3_exec(db,
				      "UPDATE log_nodes SET hash = zeroblob(32)"
				      " WHERE level = 0 AND idx = 6",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_false(receipt_holds(f->srv, 7, 8));
	sqlite3_close(db);
}

static void test_append_is_logarithmic(void **state)
{
	struct fixture *f = *state;
	long long nodes;
	sqlite3 *db;
	sqlite3_stmt *s;
	uint64_t seq;

	for (int i = 0; i < 64; i++)
		append(f->srv, i, &seq);
	/* 64 leaves store 64 + 32 + ... + 1 = 127 perfect subtrees. */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM log_nodes",
					    -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	nodes = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	assert_int_equal(nodes, 127);
}

struct seen {
	int n;
	char kinds[4][32];
};

static int on_event(void *arg, int64_t time, const char *principal,
		    const char *peer, const char *kind, const char *reason)
{
	struct seen *s = arg;

	(void)time;
	(void)principal;
	(void)peer;
	(void)reason;
	if (s->n == 4)
		return 1;
	snprintf(s->kinds[s->n++], sizeof(s->kinds[0]), "%s", kind);
	return 0;
}

static void test_security_events(void **state)
{
	struct fixture *f = *state;
	struct seen s = {0};

	assert_int_equal(store_security_event(f->srv->st, 100, 0, "1.2.3.4:5",
					      "unknown key", "ab12"),
			 0);
	assert_int_equal(store_security_event(f->srv->st, 200, 0, "1.2.3.4:6",
					      "bad signature", "x"),
			 0);
	assert_int_equal(store_security_event(f->srv->st, 300, 0, "1.2.3.4:7",
					      "wrong role", "y"),
			 0);
	/* Newest first, and `since` leaves older ones out. */
	assert_int_equal(
	    store_security_events(f->srv->st, 150, 10, on_event, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.kinds[0], "wrong role");
	assert_string_equal(s.kinds[1], "bad signature");
	/* The limit holds. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_security_events(f->srv->st, 0, 1, on_event, &s),
			 0);
	assert_int_equal(s.n, 1);
	/* Security events are never log entries. */
	uint64_t size;
	assert_int_equal(store_log_size(f->srv->st, &size), 0);
	assert_int_equal(size, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_receipts_and_entries, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_consistency_between_all_sizes,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tampering_detected, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_append_is_logarithmic, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_security_events, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
