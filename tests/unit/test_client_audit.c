/*
 * Unit tests of the client's audit pieces: receipts, consistency of
 * checkpoints, the saved checkpoint file, the receipts file, the state
 * folder and the export file's framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "checkpoint.h"
#include "merkle.h"
#include "tamwil-client.h"
#include "tamwil-export.h"

#define N_LEAVES 5

/* A small log: entries, their leaf hashes, and the server's key. */
struct log {
	keyfile_secret server;
	uint8_t *entry[N_LEAVES];
	size_t len[N_LEAVES];
	merkle_hash leaf[N_LEAVES];
	Tamwil__V1__SignedOperation sop[N_LEAVES];
	uint8_t op[N_LEAVES][8], signer[32], sig[64];
	char dir[64];
};

/* Perfect subtree hashes, computed from the leaves. */
static int fetch(void *arg, unsigned level, uint64_t index, merkle_hash out)
{
	const struct log *l = arg;
	merkle_hash a, b;

	if (level == 0) {
		memcpy(out, l->leaf[index], MERKLE_HASHLEN);
		return 0;
	}
	if (fetch(arg, level - 1, 2 * index, a) != 0 ||
	    fetch(arg, level - 1, 2 * index + 1, b) != 0)
		return -1;
	return merkle_node_hash(a, b, out);
}

static int setup(void **state)
{
	struct log *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	assert_int_equal(sodium_init() >= 0, 1);
	assert_int_equal(keyfile_generate(&l->server), 0);
	randombytes_buf(l->signer, sizeof(l->signer));
	randombytes_buf(l->sig, sizeof(l->sig));
	for (int i = 0; i < N_LEAVES; i++) {
		Tamwil__V1__LogEntry e = TAMWIL__V1__LOG_ENTRY__INIT;
		Tamwil__V1__SignedOperation *s = &l->sop[i];

		tamwil__v1__signed_operation__init(s);
		memset(l->op[i], 'a' + i, sizeof(l->op[i]));
		s->operation.data = l->op[i];
		s->operation.len = sizeof(l->op[i]);
		s->signer_key.data = l->signer;
		s->signer_key.len = sizeof(l->signer);
		s->signature.data = l->sig;
		s->signature.len = sizeof(l->sig);
		e.sequence = (uint64_t)i;
		e.time = 1700000000 + i;
		e.operation = s;
		l->len[i] = tamwil__v1__log_entry__get_packed_size(&e);
		l->entry[i] = malloc(l->len[i]);
		assert_non_null(l->entry[i]);
		tamwil__v1__log_entry__pack(&e, l->entry[i]);
		assert_int_equal(
		    merkle_leaf_hash(l->entry[i], l->len[i], l->leaf[i]), 0);
	}
	snprintf(l->dir, sizeof(l->dir), "/tmp/tamwil-audit-XXXXXX");
	assert_non_null(mkdtemp(l->dir));
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	struct log *l = *state;
	char cmd[128];

	for (int i = 0; i < N_LEAVES; i++)
		free(l->entry[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", l->dir);
	assert_int_equal(system(cmd), 0);
	free(l);
	return 0;
}

/* The signed checkpoint of the first size leaves. */
static void make_checkpoint(struct log *l, uint64_t size, checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->size = size;
	cp->time = 1700000100;
	assert_int_equal(merkle_root(size, fetch, l, cp->root), 0);
	assert_int_equal(checkpoint_sign(cp, &l->server), 0);
}

/* Storage of a receipt message. */
struct receipt_msg {
	Tamwil__V1__Receipt r;
	Tamwil__V1__Checkpoint cp;
	checkpoint c;
	merkle_hash proof[MERKLE_MAX_PROOF];
	ProtobufCBinaryData pb[MERKLE_MAX_PROOF];
};

/* A receipt of entry seq in the tree of size leaves. */
static void make_receipt(struct log *l, uint64_t seq, uint64_t size,
			 struct receipt_msg *m)
{
	size_t n = 0;

	make_checkpoint(l, size, &m->c);
	tamwil__v1__receipt__init(&m->r);
	tamwil__v1__checkpoint__init(&m->cp);
	m->cp.tree_size = m->c.size;
	m->cp.root.data = m->c.root;
	m->cp.root.len = MERKLE_HASHLEN;
	m->cp.time = m->c.time;
	m->cp.signature.data = m->c.sig;
	m->cp.signature.len = CHECKPOINT_SIGLEN;
	assert_int_equal(merkle_inclusion_proof(seq, size, fetch, l, m->proof,
						MERKLE_MAX_PROOF, &n),
			 0);
	for (size_t i = 0; i < n; i++) {
		m->pb[i].data = m->proof[i];
		m->pb[i].len = MERKLE_HASHLEN;
	}
	m->r.entry.data = l->entry[seq];
	m->r.entry.len = l->len[seq];
	m->r.checkpoint = &m->cp;
	m->r.inclusion_proof = m->pb;
	m->r.n_inclusion_proof = n;
}

static void test_receipt_good(void **state)
{
	struct log *l = *state;
	struct receipt_msg m;
	char why[256];
	checkpoint cp;

	for (uint64_t seq = 0; seq < N_LEAVES; seq++) {
		make_receipt(l, seq, N_LEAVES, &m);
		assert_int_equal(tamwil_receipt_verify(l->server.sign_pk, &m.r,
						       seq, &l->sop[seq], &cp,
						       why, sizeof(why)),
				 0);
		assert_int_equal(cp.size, N_LEAVES);
	}
}

static void test_receipt_refusals(void **state)
{
	struct log *l = *state;
	keyfile_secret other;
	struct receipt_msg m;
	char why[256];

	make_receipt(l, 2, N_LEAVES, &m);
	/* Another sequence number than the result's. */
	assert_int_equal(tamwil_receipt_verify(l->server.sign_pk, &m.r, 3, NULL,
					       NULL, why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "not 3"));
	/* Not the operation sent. */
	assert_int_equal(tamwil_receipt_verify(l->server.sign_pk, &m.r, 2,
					       &l->sop[1], NULL, why,
					       sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "does not hold the operation"));
	/* A checkpoint signed by another key. */
	assert_int_equal(keyfile_generate(&other), 0);
	assert_int_equal(tamwil_receipt_verify(other.sign_pk, &m.r, 2, NULL,
					       NULL, why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "signature"));
	/* A proof that does not lead to the root. */
	m.proof[0][0] ^= 1;
	assert_int_equal(tamwil_receipt_verify(l->server.sign_pk, &m.r, 2, NULL,
					       NULL, why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "inclusion proof"));
	/* No receipt at all. */
	assert_int_equal(tamwil_receipt_verify(l->server.sign_pk, NULL, 2, NULL,
					       NULL, why, sizeof(why)),
			 -1);
}

static void test_checkpoint_extends(void **state)
{
	struct log *l = *state;
	checkpoint old, now, forged;
	merkle_hash proof[MERKLE_MAX_PROOF];
	char why[256];
	size_t n = 0;

	make_checkpoint(l, 3, &old);
	make_checkpoint(l, N_LEAVES, &now);
	assert_int_equal(merkle_consistency_proof(3, N_LEAVES, fetch, l, proof,
						  MERKLE_MAX_PROOF, &n),
			 0);
	assert_int_equal(tamwil_checkpoint_extends(l->server.sign_pk, &old,
						   &now, proof, n, why,
						   sizeof(why)),
			 0);
	assert_int_equal(tamwil_checkpoint_extends(l->server.sign_pk, NULL,
						   &now, NULL, 0, why,
						   sizeof(why)),
			 0);
	/* Rolled back: smaller than what was seen. */
	assert_int_equal(tamwil_checkpoint_extends(l->server.sign_pk, &now,
						   &old, NULL, 0, why,
						   sizeof(why)),
			 -1);
	/* Same size, another root (signed all the same). */
	forged = now;
	forged.root[0] ^= 1;
	assert_int_equal(checkpoint_sign(&forged, &l->server), 0);
	assert_int_equal(tamwil_checkpoint_extends(l->server.sign_pk, &now,
						   &forged, NULL, 0, why,
						   sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "another root"));
	/* A proof that fails. */
	proof[0][5] ^= 1;
	assert_int_equal(tamwil_checkpoint_extends(l->server.sign_pk, &old,
						   &now, proof, n, why,
						   sizeof(why)),
			 -1);
	/* A signature that fails. */
	now.sig[0] ^= 1;
	assert_int_equal(tamwil_checkpoint_extends(l->server.sign_pk, NULL,
						   &now, NULL, 0, why,
						   sizeof(why)),
			 -1);
}

static void test_checkpoint_file(void **state)
{
	struct log *l = *state;
	checkpoint cp, back;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/checkpoint-x", l->dir);
	assert_int_equal(tamwil_checkpoint_load(path, &back), 1);
	make_checkpoint(l, 4, &cp);
	assert_int_equal(tamwil_checkpoint_save(path, &cp), 0);
	assert_int_equal(tamwil_checkpoint_load(path, &back), 0);
	assert_memory_equal(&cp, &back, sizeof(cp));
	assert_int_equal(checkpoint_verify(&back, l->server.sign_pk), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("tamwil-checkpoint/1\nsize 4\nroot zz\n", f);
	fclose(f);
	assert_int_equal(tamwil_checkpoint_load(path, &back), -1);
}

static void test_receipts_file(void **state)
{
	struct log *l = *state;
	struct receipt_msg m;
	Tamwil__V1__Receipt *back;
	uint8_t buf[4096];
	char path[128];
	size_t got, len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/receipts", l->dir);
	make_receipt(l, 1, N_LEAVES, &m);
	assert_int_equal(tamwil_receipt_append(path, &m.r), 0);
	assert_int_equal(tamwil_receipt_append(path, &m.r), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	got = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	len = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
	      (size_t)buf[2] << 8 | buf[3];
	assert_int_equal(got, 2 * (len + 4));
	back = tamwil__v1__receipt__unpack(NULL, len, buf + 4);
	assert_non_null(back);
	assert_int_equal(back->checkpoint->tree_size, N_LEAVES);
	tamwil__v1__receipt__free_unpacked(back, NULL);
}

static void test_state_dir(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(setenv("XDG_STATE_HOME", "/x/state", 1), 0);
	assert_int_equal(tamwil_state_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x/state/tamwil");
	assert_int_equal(setenv("XDG_STATE_HOME", "relative", 1), 0);
	assert_int_equal(setenv("HOME", "/home/u", 1), 0);
	assert_int_equal(tamwil_state_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.local/state/tamwil");
	assert_int_equal(tamwil_state_dir(buf, 8), -1);
}

/* Writes an export file of the records given; returns its size. */
static long write_export(const char *path, const uint8_t *extra, size_t n)
{
	Tamwil__V1__ExportRecord rec = TAMWIL__V1__EXPORT_RECORD__INIT;
	Tamwil__V1__ExportEnd end = TAMWIL__V1__EXPORT_END__INIT;
	FILE *f = fopen(path, "wb");
	long size;

	assert_non_null(f);
	assert_int_equal(fwrite(TAMWIL_EXPORT_MAGIC, 1, 8, f), 8);
	rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_END;
	rec.end = &end;
	assert_int_equal(tamwil_export_write(f, &rec), 0);
	if (n > 0)
		assert_int_equal(fwrite(extra, 1, n, f), n);
	size = ftell(f);
	fclose(f);
	return size;
}

static void test_export_framing(void **state)
{
	struct log *l = *state;
	const uint8_t huge[] = {0x00, 0x20, 0x00, 0x00};
	const uint8_t cut[] = {0x00, 0x00, 0x00, 0x09, 0x32};
	Tamwil__V1__ExportRecord *rec;
	tamwil_export_reader rd;
	char path[128], why[256];
	uint64_t off;
	FILE *f;

	snprintf(path, sizeof(path), "%s/export", l->dir);
	write_export(path, NULL, 0);
	assert_int_equal(tamwil_export_open(&rd, path, why, sizeof(why)), 0);
	assert_int_equal(tamwil_export_next(&rd, &rec, &off, why, sizeof(why)),
			 1);
	assert_int_equal(off, 8);
	assert_int_equal(rec->body_case, TAMWIL__V1__EXPORT_RECORD__BODY_END);
	tamwil__v1__export_record__free_unpacked(rec, NULL);
	assert_int_equal(tamwil_export_next(&rd, &rec, &off, why, sizeof(why)),
			 0);
	tamwil_export_close(&rd);

	/* A length above 1 MiB, at the offset after the first record. */
	off = (uint64_t)write_export(path, huge, sizeof(huge)) - 4;
	assert_int_equal(tamwil_export_open(&rd, path, why, sizeof(why)), 0);
	assert_int_equal(tamwil_export_next(&rd, &rec, &off, why, sizeof(why)),
			 1);
	tamwil__v1__export_record__free_unpacked(rec, NULL);
	assert_int_equal(tamwil_export_next(&rd, &rec, &off, why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "above the limit"));
	tamwil_export_close(&rd);

	/* A truncated record. */
	write_export(path, cut, sizeof(cut));
	assert_int_equal(tamwil_export_open(&rd, path, why, sizeof(why)), 0);
	assert_int_equal(tamwil_export_next(&rd, &rec, &off, why, sizeof(why)),
			 1);
	tamwil__v1__export_record__free_unpacked(rec, NULL);
	assert_int_equal(tamwil_export_next(&rd, &rec, &off, why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "truncated"));
	assert_non_null(strstr(why, "record at byte"));
	tamwil_export_close(&rd);

	/* Not an export at all. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not an export\n", f);
	fclose(f);
	assert_int_equal(tamwil_export_open(&rd, path, why, sizeof(why)), -1);
	tamwil_export_close(&rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_receipt_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_receipt_refusals, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_extends, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_receipts_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_state_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_framing, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
