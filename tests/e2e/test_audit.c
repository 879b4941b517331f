/*
 * End-to-end tests of the audit log seen from the client: receipts kept
 * by every operation, the export of the log (tamwil audit export), its
 * offline verification (tamwil audit verify) and the tampering it must
 * catch, a database copy that disagrees with the log, a rolled-back head
 * office that the client refuses, tamwil audit proof, and the backups of
 * tamwild (taken under load, restored, and refused when they do not
 * verify).
 *
 * Each test gets a world of its own: a fresh state folder, a daemon on
 * 127.0.0.1, a region, a programme, the principals, and a few
 * applications submitted, approved and disbursed through tamwil. Every
 * command runs with HOME in the test's folder, so the client's audit
 * state (~/.local/state/tamwil) is the world's.
 *
 * TAMWIL_E2E_KEEP=1 keeps the temporary folder for a look.
 */
#include <ftw.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "checkpoint.h"
#include "harness.h"
#include "harness_domain.h"
#include "keyfile.h"
#include "signop.h"
#include "tamwil-export.h"

#define RUN_MS 30000

enum who { ADMIN, COORD, APPROVER, TREASURER, AUDITOR, N_WHO };

static const struct {
	const char *file, *name, *role, *region;
} P[N_WHO] = {
    [ADMIN] = {"admin", "Amina El Idrissi", "admin", NULL},
    [COORD] = {"coord", "Fatima Zahra Bennani", "coordinator", "LAG"},
    [APPROVER] = {"approver", "Nadia Berrada", "approver", NULL},
    [TREASURER] = {"treasurer", "Karim Tazi", "treasurer", NULL},
    [AUDITOR] = {"auditor", "Omar Benjelloun", "auditor", NULL},
};

struct fixture {
	char dir[H_PATH_MAX];
	char home[H_PATH_MAX + 8];
	const char *env[4];
	char key[N_WHO][H_PATH_MAX];
	char pub[N_WHO][H_PATH_MAX];
	int n_world;
	char wdir[H_PATH_MAX];
	char state[H_PATH_MAX];
	char server_pub[H_PATH_MAX];
	char log[H_PATH_MAX];
	char server[64];
	h_daemon d;
	hd_result r;
	char last[4096];
	char refs[3][64]; /* the scenario's applications */
};

/* ---- running commands ---------------------------------------------------- */

static hd_result *run_cmd(struct fixture *f, const hd_cmd *c)
{
	hd_cmd_text(c, f->last, sizeof(f->last));
	if (c->overflow)
		H_FAIL("command line too long: %s", f->last);
	if (hd_run(&f->r, RUN_MS, f->env, c) != 0)
		H_FAIL("cannot run: %s", f->last);
	return &f->r;
}

/* Starts c as tamwil with the connection options of who. */
static void cli_init(struct fixture *f, hd_cmd *c, int who)
{
	hd_cmd_init(c, h_tamwil_path());
	hd_cmd_add(c, "--server");
	hd_cmd_add(c, f->server);
	hd_cmd_add(c, "--server-key");
	hd_cmd_add(c, f->server_pub);
	hd_cmd_add(c, "--key");
	hd_cmd_add(c, f->key[who]);
}

/* Adds the NULL-terminated arguments of ap to c and runs it. */
static hd_result *run_va(struct fixture *f, hd_cmd *c, va_list ap)
{
	hd_cmd_add_va(c, ap);
	return run_cmd(f, c);
}

/* Runs tamwil as who with the NULL-terminated arguments. */
static hd_result *cli(struct fixture *f, int who, ...)
{
	hd_result *r;
	va_list ap;
	hd_cmd c;

	cli_init(f, &c, who);
	va_start(ap, who);
	r = run_va(f, &c, ap);
	va_end(ap);
	return r;
}

/* Runs tamwil without connection options (audit verify). */
static hd_result *cli_bare(struct fixture *f, ...)
{
	hd_result *r;
	va_list ap;
	hd_cmd c;

	hd_cmd_init(&c, h_tamwil_path());
	va_start(ap, f);
	r = run_va(f, &c, ap);
	va_end(ap);
	return r;
}

/* Runs tamwild with the NULL-terminated arguments. */
static hd_result *tamwild_cmd(struct fixture *f, ...)
{
	hd_result *r;
	va_list ap;
	hd_cmd c;

	hd_cmd_init(&c, h_tamwild_path());
	va_start(ap, f);
	r = run_va(f, &c, ap);
	va_end(ap);
	return r;
}

static void expect_ok(struct fixture *f)
{
	if (!hd_ok(&f->r)) {
		hd_result_print(&f->r, f->last);
		H_FAIL("command failed: %s", f->last);
	}
}

/* The last command failed with status and said needle on stderr. */
static void expect_fail(struct fixture *f, int status, const char *needle)
{
	if (!f->r.exited || f->r.status != status ||
	    strstr(f->r.err, needle) == NULL) {
		hd_result_print(&f->r, f->last);
		H_FAIL("expected exit %d and \"%s\": %s", status, needle,
		       f->last);
	}
}

#define OK(f, who, ...)                                                        \
	do {                                                                   \
		cli((f), (who), __VA_ARGS__, NULL);                            \
		expect_ok(f);                                                  \
	} while (0)

static void run_tamwild(struct fixture *f, const char *const args[])
{
	hd_cmd c;

	hd_cmd_init(&c, h_tamwild_path());
	for (int i = 0; args[i] != NULL; i++)
		hd_cmd_add(&c, args[i]);
	run_cmd(f, &c);
	expect_ok(f);
}

/* The reference on the last line of a submission's output. */
static void take_ref(struct fixture *f, char *out, size_t cap)
{
	const char *p = strstr(f->r.out, "LAG-");
	size_t n = 0;

	if (p == NULL)
		H_FAIL("no reference in: %s", f->r.out);
	while (p[n] != '\0' && p[n] != ' ' && p[n] != '\n' && n + 1 < cap)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void submit(struct fixture *f, const char *id, const char *amount,
		   char *ref)
{
	OK(f, COORD, "submit", "--programme", "PAMP-2026", "--national-id", id,
	   "--name", "Khadija Alaoui", "--sex", "F", "--birth-date",
	   "1988-03-21", "--category", "rural_woman", "--sector", "crafts",
	   "--activity", "Atelier de tissage", "--amount", amount);
	take_ref(f, ref, 64);
}

/* ---- the world ------------------------------------------------------------
 */

static int start_daemon(struct fixture *f)
{
	if (h_daemon_start(&f->d, f->state, f->log, NULL, f->env) != 0)
		return -1;
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%d", f->d.port);
	return 0;
}

static void scenario(struct fixture *f)
{
	OK(f, ADMIN, "region", "add", "LAG", "Laayoune-Sakia El Hamra");
	for (int w = COORD; w < N_WHO; w++) {
		if (P[w].region != NULL)
			OK(f, ADMIN, "enrol", f->pub[w], "--name", P[w].name,
			   "--role", P[w].role, "--region", P[w].region);
		else
			OK(f, ADMIN, "enrol", f->pub[w], "--name", P[w].name,
			   "--role", P[w].role);
	}
	OK(f, ADMIN, "programme", "add", "PAMP-2026", "--name",
	   "Programme d'appui", "--currency", "MAD", "--envelope",
	   "1 000 000,00", "--ceiling", "100 000,00");
	submit(f, "JB000001", "50 000,00", f->refs[0]);
	submit(f, "JB000002", "40 000,00", f->refs[1]);
	submit(f, "JB000003", "30 000,00", f->refs[2]);
	OK(f, APPROVER, "approve", f->refs[0]);
	OK(f, APPROVER, "approve", f->refs[1], "--amount", "35 000,00");
	OK(f, TREASURER, "disburse", f->refs[0], "--amount", "20 000,00",
	   "--method", "cash", "--reference", "RECU-0001");
}

static int world_setup(void **state)
{
	struct fixture *f = *state;
	char name[32];

	h_daemon_kill(&f->d);
	snprintf(name, sizeof(name), "world-%02d", ++f->n_world);
	if (h_path(f->wdir, sizeof(f->wdir), f->dir, name) != 0 ||
	    mkdir(f->wdir, 0700) != 0 ||
	    h_path(f->state, sizeof(f->state), f->wdir, "state") != 0 ||
	    h_path(f->server_pub, sizeof(f->server_pub), f->wdir,
		   "server.pub") != 0 ||
	    h_path(f->log, sizeof(f->log), f->wdir, "tamwild.log") != 0)
		return -1;
	const char *init[] = {"init",	     "--state",	    f->state,
			      "--admin",     f->pub[ADMIN], "--admin-name",
			      P[ADMIN].name, NULL};
	run_tamwild(f, init);
	const char *pubkey[] = {"pubkey", "--state", f->state, NULL};
	run_tamwild(f, pubkey);
	if (h_write_file(f->server_pub, f->r.out) != 0 || start_daemon(f) != 0)
		return -1;
	scenario(f);
	return 0;
}

static int world_teardown(void **state)
{
	struct fixture *f = *state;

	h_daemon_kill(&f->d);
	if (f->wdir[0] != '\0' && getenv("TAMWIL_E2E_KEEP") == NULL)
		h_tmpdir_remove(f->wdir);
	f->wdir[0] = '\0';
	return 0;
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0) {
		free(f);
		return -1;
	}
	*state = f;
	if (h_tamwild_path() == NULL || h_tamwil_path() == NULL ||
	    h_tmpdir_create(f->dir, sizeof(f->dir)) != 0)
		return -1;
	snprintf(f->home, sizeof(f->home), "HOME=%s", f->dir);
	f->env[0] = f->home;
	f->env[1] = "TAMWIL_CONFIG";
	f->env[2] = "XDG_STATE_HOME";
	f->env[3] = NULL;
	for (int w = 0; w < N_WHO; w++)
		if (h_keygen(f->dir, P[w].file, f->env, f->key[w], f->pub[w]) !=
		    0)
			return -1;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	h_daemon_kill(&f->d);
	if (f->dir[0] != '\0' && getenv("TAMWIL_E2E_KEEP") == NULL)
		h_tmpdir_remove(f->dir);
	hd_result_free(&f->r);
	free(f);
	*state = NULL;
	return 0;
}

/* ---- export files, record by record ---------------------------------------
 */

/* One record of an export file, its serialized bytes. */
struct rec {
	uint8_t *b;
	size_t len;
	int kind; /* ExportRecord body case */
};

struct xfile {
	struct rec r[512];
	size_t n;
};

static void xfile_read(const char *path, struct xfile *x)
{
	Tamwil__V1__ExportRecord *rec;
	tamwil_export_reader rd;
	char why[256];
	uint64_t off;
	int rc;

	memset(x, 0, sizeof(*x));
	if (tamwil_export_open(&rd, path, why, sizeof(why)) != 0)
		H_FAIL("%s", why);
	while ((rc = tamwil_export_next(&rd, &rec, &off, why, sizeof(why))) ==
	       1) {
		struct rec *r = &x->r[x->n++];

		assert_true(x->n < 512);
		r->kind = (int)rec->body_case;
		r->len = tamwil__v1__export_record__get_packed_size(rec);
		r->b = malloc(r->len);
		assert_non_null(r->b);
		/* Repacking a record keeps an entry's bytes as they were. */
		tamwil__v1__export_record__pack(rec, r->b);
		tamwil__v1__export_record__free_unpacked(rec, NULL);
	}
	tamwil_export_close(&rd);
	assert_int_equal(rc, 0);
}

static void xfile_write(const char *path, const struct xfile *x)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(TAMWIL_EXPORT_MAGIC, 1, 8, f), 8);
	for (size_t i = 0; i < x->n; i++) {
		uint8_t h[4] = {
		    (uint8_t)(x->r[i].len >> 24), (uint8_t)(x->r[i].len >> 16),
		    (uint8_t)(x->r[i].len >> 8), (uint8_t)x->r[i].len};

		assert_int_equal(fwrite(h, 1, 4, f), 4);
		assert_int_equal(fwrite(x->r[i].b, 1, x->r[i].len, f),
				 x->r[i].len);
	}
	assert_int_equal(fclose(f), 0);
}

static void xfile_free(struct xfile *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->r[i].b);
	x->n = 0;
}

/* The index of the record of entry seq (the header is record 0). */
static size_t entry_index(uint64_t seq)
{
	return 1 + 2 * (size_t)seq;
}

/* Replaces record i by rec. */
static void xfile_set(struct xfile *x, size_t i,
		      const Tamwil__V1__ExportRecord *rec)
{
	free(x->r[i].b);
	x->r[i].len = tamwil__v1__export_record__get_packed_size(rec);
	x->r[i].b = malloc(x->r[i].len);
	assert_non_null(x->r[i].b);
	tamwil__v1__export_record__pack(rec, x->r[i].b);
}

/* Removes n records from i. */
static void xfile_drop(struct xfile *x, size_t i, size_t n)
{
	for (size_t k = i; k < i + n; k++)
		free(x->r[k].b);
	memmove(&x->r[i], &x->r[i + n], (x->n - i - n) * sizeof(x->r[0]));
	x->n -= n;
}

/* Writes x as a copy and verifies it: the failure must name needle. */
static void verify_copy_fails(struct fixture *f, const struct xfile *x,
			      const char *name, const char *needle)
{
	char path[H_PATH_MAX];

	assert_int_equal(h_path(path, sizeof(path), f->wdir, name), 0);
	xfile_write(path, x);
	cli_bare(f, "audit", "verify", path, "--server-key", f->server_pub,
		 NULL);
	expect_fail(f, 1, needle);
}

/* Exports the log as the auditor to wdir/name, into path. */
static void export_log(struct fixture *f, const char *name, char *path)
{
	assert_int_equal(h_path(path, H_PATH_MAX, f->wdir, name), 0);
	OK(f, AUDITOR, "audit", "export", "--out", path);
}

/* ---- tests ------------------------------------------------------------------
 */

/* An operation says "log entry N" and the receipts file holds entry N. */
static void test_receipt_kept(void **state)
{
	struct fixture *f = *state;
	char path[2 * H_PATH_MAX], want[64];
	Tamwil__V1__Receipt *last = NULL;
	Tamwil__V1__LogEntry *e;
	uint8_t *buf;
	long size, off = 0;
	size_t len = 0;

	OK(f, APPROVER, "reject", f->refs[2], "--reason", "dossier incomplet");
	assert_non_null(strstr(f->r.out, "log entry "));
	snprintf(want, sizeof(want), "log entry %s",
		 strstr(f->r.out, "log entry ") + 10);
	snprintf(path, sizeof(path), "%s/.local/state/tamwil/receipts", f->dir);
	size = h_file_size(path);
	assert_true(size > 4);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(
	    h_read_file(path, 0, (char *)buf, (size_t)size + 1, &len), 0);
	while (off + 4 <= size) {
		size_t n = (size_t)buf[off] << 24 | (size_t)buf[off + 1] << 16 |
			   (size_t)buf[off + 2] << 8 | buf[off + 3];

		assert_true(off + 4 + (long)n <= size);
		if (last != NULL)
			tamwil__v1__receipt__free_unpacked(last, NULL);
		last = tamwil__v1__receipt__unpack(NULL, n, buf + off + 4);
		assert_non_null(last);
		off += 4 + (long)n;
	}
	assert_int_equal(off, size);
	if (last == NULL)
		H_FAIL("no receipt in %s", path);
	e = tamwil__v1__log_entry__unpack(NULL, last->entry.len,
					  last->entry.data);
	assert_non_null(e);
	snprintf(path, sizeof(path), "log entry %llu",
		 (unsigned long long)e->sequence);
	assert_non_null(strstr(want, path));
	tamwil__v1__log_entry__free_unpacked(e, NULL);
	tamwil__v1__receipt__free_unpacked(last, NULL);
	free(buf);
}

/* The export verifies; tampered copies fail, each naming what is wrong. */
static void test_export_and_tampering(void **state)
{
	struct fixture *f = *state;
	char path[H_PATH_MAX];
	struct xfile x;

	export_log(f, "log.tamwil", path);
	cli(f, AUDITOR, "audit", "export", "--out", path, NULL);
	expect_fail(f, 1, "--force");
	cli_bare(f, "audit", "verify", path, "--server-key", f->server_pub,
		 NULL);
	expect_ok(f);
	assert_non_null(strstr(f->r.out, "the log is intact and replays to "
					 "the stated state"));
	assert_non_null(strstr(f->r.out, "3 applications, 1 programme"));

	/* One byte changed inside entry 8's signature. */
	xfile_read(path, &x);
	x.r[entry_index(8)].b[x.r[entry_index(8)].len - 1] ^= 0x01;
	verify_copy_fails(f, &x, "byte.tamwil", "entry 8");
	xfile_free(&x);

	/* One byte changed in the middle of entry 8 (its signed bytes). */
	xfile_read(path, &x);
	x.r[entry_index(8)].b[x.r[entry_index(8)].len / 2] ^= 0x01;
	verify_copy_fails(f, &x, "middle.tamwil", "entry 8");
	xfile_free(&x);

	/* Entry 8 and its checkpoint removed. */
	xfile_read(path, &x);
	xfile_drop(&x, entry_index(8), 2);
	verify_copy_fails(f, &x, "removed.tamwil", "entry 8");
	xfile_free(&x);

	/* Entries 8 and 9 swapped. */
	xfile_read(path, &x);
	{
		struct rec t = x.r[entry_index(8)];

		x.r[entry_index(8)] = x.r[entry_index(9)];
		x.r[entry_index(9)] = t;
	}
	verify_copy_fails(f, &x, "swapped.tamwil", "entry 8");
	xfile_free(&x);
}

/* Entry seq's SignedOperation re-signed by a fresh key. */
static void resign_entry(struct xfile *x, uint64_t seq)
{
	Tamwil__V1__ExportRecord *rec, out = TAMWIL__V1__EXPORT_RECORD__INIT;
	struct rec *r = &x->r[entry_index(seq)];
	Tamwil__V1__LogEntry *e;
	keyfile_secret k;
	uint8_t sig[64], *bytes;
	size_t len;

	rec = tamwil__v1__export_record__unpack(NULL, r->len, r->b);
	assert_non_null(rec);
	e = tamwil__v1__log_entry__unpack(NULL, rec->entry.len,
					  rec->entry.data);
	assert_non_null(e);
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(signop_sign(e->operation->operation.data,
				     e->operation->operation.len, &k, sig),
			 0);
	memcpy(e->operation->signer_key.data, k.sign_pk, 32);
	memcpy(e->operation->signature.data, sig, 64);
	len = tamwil__v1__log_entry__get_packed_size(e);
	bytes = malloc(len);
	assert_non_null(bytes);
	tamwil__v1__log_entry__pack(e, bytes);
	out.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_ENTRY;
	out.entry.data = bytes;
	out.entry.len = len;
	xfile_set(x, entry_index(seq), &out);
	free(bytes);
	tamwil__v1__log_entry__free_unpacked(e, NULL);
	tamwil__v1__export_record__free_unpacked(rec, NULL);
	sodium_memzero(&k, sizeof(k));
}

/* Checkpoint of entry seq with its root changed, re-signed or not. */
static void forge_checkpoint(struct xfile *x, uint64_t seq, int resign)
{
	Tamwil__V1__ExportRecord *rec;
	struct rec *r = &x->r[entry_index(seq) + 1];
	keyfile_secret k;
	checkpoint cp = {0};

	rec = tamwil__v1__export_record__unpack(NULL, r->len, r->b);
	assert_non_null(rec);
	assert_int_equal(rec->body_case,
			 TAMWIL__V1__EXPORT_RECORD__BODY_CHECKPOINT);
	rec->checkpoint->root.data[0] ^= 0x80;
	if (resign) {
		assert_int_equal(keyfile_generate(&k), 0);
		cp.size = rec->checkpoint->tree_size;
		memcpy(cp.root, rec->checkpoint->root.data, 32);
		cp.time = rec->checkpoint->time;
		assert_int_equal(checkpoint_sign(&cp, &k), 0);
		memcpy(rec->checkpoint->signature.data, cp.sig, 64);
	}
	xfile_set(x, entry_index(seq) + 1, rec);
	tamwil__v1__export_record__free_unpacked(rec, NULL);
}

/* The first stated application with its granted amount changed. */
static void change_stated(struct xfile *x)
{
	for (size_t i = 0; i < x->n; i++) {
		Tamwil__V1__ExportRecord *rec;

		if (x->r[i].kind != TAMWIL__V1__EXPORT_RECORD__BODY_APPLICATION)
			continue;
		rec = tamwil__v1__export_record__unpack(NULL, x->r[i].len,
							x->r[i].b);
		assert_non_null(rec);
		rec->application->granted += 100;
		xfile_set(x, i, rec);
		tamwil__v1__export_record__free_unpacked(rec, NULL);
		return;
	}
	H_FAIL("no stated application");
}

static void test_forgeries(void **state)
{
	struct fixture *f = *state;
	char path[H_PATH_MAX];
	struct xfile x;

	export_log(f, "log.tamwil", path);
	/* Entry 9 (an approval) signed by a key never enrolled. */
	xfile_read(path, &x);
	resign_entry(&x, 9);
	verify_copy_fails(f, &x, "resigned.tamwil", "entry 9: signed by a key");
	xfile_free(&x);

	/* Checkpoint of entry 7: a root forged and signed by another key. */
	xfile_read(path, &x);
	forge_checkpoint(&x, 7, 1);
	verify_copy_fails(f, &x, "forged.tamwil", "entry 7");
	xfile_free(&x);

	/* Same, the signature left as it was. */
	xfile_read(path, &x);
	forge_checkpoint(&x, 7, 0);
	verify_copy_fails(f, &x, "root.tamwil", "entry 7");
	xfile_free(&x);

	/* A stated application whose figures differ from the log. */
	xfile_read(path, &x);
	change_stated(&x);
	verify_copy_fails(f, &x, "stated.tamwil", "differ from the log");
	xfile_free(&x);

	/* A truncated file. */
	xfile_read(path, &x);
	xfile_drop(&x, x.n - 1, 1);
	verify_copy_fails(f, &x, "short.tamwil", "without its end record");
	xfile_free(&x);
}

/* Removes the checkpoint records after entries from..to, and counts them. */
static void drop_checkpoints(struct xfile *x, uint64_t from, uint64_t to)
{
	Tamwil__V1__ExportRecord *end;
	size_t last = x->n - 1;

	assert_int_equal(x->r[last].kind, TAMWIL__V1__EXPORT_RECORD__BODY_END);
	end = tamwil__v1__export_record__unpack(NULL, x->r[last].len,
						x->r[last].b);
	assert_non_null(end);
	end->end->checkpoints -= to - from + 1;
	xfile_set(x, last, end);
	tamwil__v1__export_record__free_unpacked(end, NULL);
	/* From the end, so that entry_index() still holds for the others. */
	for (uint64_t seq = to + 1; seq-- > from;) {
		assert_int_equal(x->r[entry_index(seq) + 1].kind,
				 TAMWIL__V1__EXPORT_RECORD__BODY_CHECKPOINT);
		xfile_drop(x, entry_index(seq) + 1, 1);
	}
}

/*
 * Head office signs one checkpoint per transaction: entries without one
 * of their own verify under the next, but the log's last entry needs its
 * own.
 */
static void test_batch_checkpoints(void **state)
{
	struct fixture *f = *state;
	char path[H_PATH_MAX], copy[H_PATH_MAX];
	struct xfile x;

	export_log(f, "log.tamwil", path);
	xfile_read(path, &x);
	/* Entries 3 to 7 as one transaction, whose checkpoint is entry 7's. */
	drop_checkpoints(&x, 3, 6);
	assert_int_equal(h_path(copy, sizeof(copy), f->wdir, "batch.tamwil"),
			 0);
	xfile_write(copy, &x);
	cli_bare(f, "audit", "verify", copy, "--server-key", f->server_pub,
		 NULL);
	expect_ok(f);
	assert_non_null(strstr(f->r.out, "the log is intact"));
	/* A forged entry inside that transaction is still caught: entry 5,
	 * two records after entry 3 now. */
	x.r[entry_index(3) + 2].b[x.r[entry_index(3) + 2].len / 2] ^= 0x01;
	verify_copy_fails(f, &x, "batch-byte.tamwil", "entry 5");
	xfile_free(&x);
}

/* The log's last entry without its checkpoint: refused, named. */
static void test_last_checkpoint_needed(void **state)
{
	struct fixture *f = *state;
	char path[H_PATH_MAX];
	struct xfile x;
	size_t last = 0;

	export_log(f, "log.tamwil", path);
	xfile_read(path, &x);
	for (size_t i = 0; i < x.n; i++) {
		if (x.r[i].kind == TAMWIL__V1__EXPORT_RECORD__BODY_CHECKPOINT)
			last = i;
	}
	assert_true(last > 0);
	drop_checkpoints(&x, (last - 2) / 2, (last - 2) / 2);
	verify_copy_fails(f, &x, "nolast.tamwil",
			  "the log's last entry is not followed by a "
			  "checkpoint");
	xfile_free(&x);
}

/* Copies a file; 0 or -1. */
static int copy_file(const char *from, const char *to)
{
	char cmd[3 * H_PATH_MAX];

	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", from, to);
	return system(cmd) == 0 ? 0 : -1;
}

/* A copy of the database with one application changed is reported. */
static void test_database_copy(void **state)
{
	struct fixture *f = *state;
	char path[H_PATH_MAX], db[H_PATH_MAX], copy[H_PATH_MAX], sql[256];
	sqlite3 *h = NULL;
	int ws;

	export_log(f, "log.tamwil", path);
	assert_int_equal(h_daemon_stop(&f->d, 10000, &ws), 0);
	assert_int_equal(h_path(db, sizeof(db), f->state, "tamwil.db"), 0);
	assert_int_equal(h_path(copy, sizeof(copy), f->wdir, "copy.db"), 0);
	assert_int_equal(copy_file(db, copy), 0);
	cli_bare(f, "audit", "verify", path, "--server-key", f->server_pub,
		 "--db", copy, NULL);
	expect_ok(f);
	assert_non_null(strstr(f->r.out, "database copy matches"));
	assert_int_equal(sqlite3_open(copy, &h), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "UPDATE applications SET requested = requested + 100 "
		 "WHERE reference = '%s'",
		 f->refs[2]);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_changes(h), 1);
	sqlite3_close(h);
	cli_bare(f, "audit", "verify", path, "--server-key", f->server_pub,
		 "--db", copy, NULL);
	expect_fail(f, 1, f->refs[2]);
	assert_non_null(strstr(f->r.err, "the database says requested"));
}

/* Head office restored from an older copy: the client refuses, exit 3. */
static void test_rollback(void **state)
{
	struct fixture *f = *state;
	char old[H_PATH_MAX], cmd[4 * H_PATH_MAX];
	int ws;

	assert_int_equal(h_daemon_stop(&f->d, 10000, &ws), 0);
	assert_int_equal(h_path(old, sizeof(old), f->wdir, "state-old"), 0);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", f->state, old);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(start_daemon(f), 0);
	OK(f, APPROVER, "reject", f->refs[2], "--reason", "hors délai");
	OK(f, AUDITOR, "whoami");
	assert_int_equal(h_daemon_stop(&f->d, 10000, &ws), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mv '%s' '%s'", f->state, old,
		 f->state);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(start_daemon(f), 0);
	cli(f, AUDITOR, "whoami", NULL);
	expect_fail(f, 3, "does not extend the one this office saw");
	assert_non_null(strstr(f->r.err, "tell the auditors"));
	assert_null(strstr(f->r.out, P[AUDITOR].name));
}

/* audit proof shows and verifies every entry of an application. */
static void test_proof(void **state)
{
	struct fixture *f = *state;

	OK(f, AUDITOR, "audit", "proof", f->refs[0]);
	/* submitted, approved, one disbursement */
	assert_non_null(strstr(f->r.out, "submitted"));
	assert_non_null(strstr(f->r.out, "approved"));
	assert_non_null(strstr(f->r.out, "disbursement"));
	assert_non_null(strstr(f->r.out, ": verified"));
	cli(f, AUDITOR, "audit", "proof", "LAG-2026-999999", NULL);
	expect_fail(f, 1, "no log entry names");
}

/* ---- backups ---------------------------------------------------------------
 */

/* The last command failed with status and said needle on stdout. */
static void expect_fail_out(struct fixture *f, int status, const char *needle)
{
	if (!f->r.exited || f->r.status != status ||
	    strstr(f->r.out, needle) == NULL) {
		hd_result_print(&f->r, f->last);
		H_FAIL("expected exit %d and \"%s\": %s", status, needle,
		       f->last);
	}
}

/* How many applications `tamwild check` or `restore` said it replayed. */
static long replayed_applications(const char *report)
{
	const char *p = strstr(report, "database: ");

	while (p != NULL) {
		char *end;
		long n = strtol(p + 10, &end, 10);

		if (end != p + 10 && strncmp(end, " applications", 13) == 0)
			return n;
		p = strstr(p + 1, "database: ");
	}
	return -1;
}

/* Applications head office lists, as the auditor sees them. */
static long listed_applications(struct fixture *f)
{
	json_t *root;
	long n;

	OK(f, AUDITOR, "--json", "list", "--all");
	root = hd_json_parse(f->r.out);
	if (root == NULL)
		H_FAIL("list --json is not JSON: %s", f->r.out);
	n = (long)hd_json_count(root, "reference");
	json_decref(root);
	return n;
}

/* Starts a submission as the coordinator without waiting for it. */
static void submit_start(struct fixture *f, h_proc *p, int i)
{
	hd_cmd c;

	cli_init(f, &c, COORD);
	hd_cmd_add(&c, "submit");
	hd_cmd_add(&c, "--programme");
	hd_cmd_add(&c, "PAMP-2026");
	hd_cmd_add(&c, "--national-id");
	hd_cmd_addf(&c, "JL%06d", i);
	hd_cmd_add(&c, "--name");
	hd_cmd_add(&c, "Rachida Ouazzani");
	hd_cmd_add(&c, "--sex");
	hd_cmd_add(&c, "F");
	hd_cmd_add(&c, "--birth-date");
	hd_cmd_add(&c, "1990-05-02");
	hd_cmd_add(&c, "--category");
	hd_cmd_add(&c, "youth");
	hd_cmd_add(&c, "--sector");
	hd_cmd_add(&c, "services");
	hd_cmd_add(&c, "--activity");
	hd_cmd_add(&c, "Salon de coiffure");
	hd_cmd_add(&c, "--amount");
	hd_cmd_add(&c, "12 000,00");
	if (h_spawn(p, c.argv, f->env) != 0)
		H_FAIL("cannot start a submission");
}

/*
 * A backup taken while submissions keep arriving restores to a state that
 * checks out and that head office then serves: the applications the
 * backup held, no more, no fewer. Offices that saw later entries refuse
 * the rolled-back head office until told otherwise.
 */
static void test_backup_under_load(void **state)
{
	enum { LOAD = 12 };
	struct fixture *f = *state;
	char backup[H_PATH_MAX], cmd[2 * H_PATH_MAX], path[H_PATH_MAX];
	h_proc load[LOAD];
	hd_result r = {0};
	long held;
	int ws;

	assert_int_equal(h_path(backup, sizeof(backup), f->wdir, "backup.db"),
			 0);
	for (int i = 0; i < LOAD; i++)
		submit_start(f, &load[i], i);
	tamwild_cmd(f, "backup", "--state", f->state, "--out", backup, NULL);
	expect_ok(f);
	assert_non_null(strstr(f->r.out, "backup of"));
	for (int i = 0; i < LOAD; i++) {
		assert_int_equal(hd_collect(&load[i], h_now_ms() + RUN_MS, &r),
				 0);
		if (!hd_ok(&r)) {
			hd_result_print(&r, "a submission under load");
			H_FAIL("a submission failed during the backup");
		}
	}
	hd_result_free(&r);
	assert_int_equal(listed_applications(f), 3 + LOAD);

	assert_int_equal(h_daemon_stop(&f->d, 10000, &ws), 0);
	tamwild_cmd(f, "restore", "--state", f->state, "--from", backup, NULL);
	expect_ok(f);
	assert_non_null(strstr(f->r.out, "all checks passed"));
	assert_non_null(strstr(f->r.out, "is kept as"));
	held = replayed_applications(f->r.out);
	assert_true(held >= 3 && held <= 3 + LOAD);
	tamwild_cmd(f, "check", "--state", f->state, NULL);
	expect_ok(f);
	assert_int_equal(replayed_applications(f->r.out), held);

	assert_int_equal(start_daemon(f), 0);
	if (held < 3 + LOAD) {
		/* This office saw entries the backup lacks: a rewrite. */
		cli(f, AUDITOR, "whoami", NULL);
		expect_fail(f, 3, "does not extend the one this office saw");
		snprintf(cmd, sizeof(cmd),
			 "rm -f '%s'/.local/state/tamwil/checkpoint-*", f->dir);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(listed_applications(f), held);
	export_log(f, "restored.tamwil", path);
	cli_bare(f, "audit", "verify", path, "--server-key", f->server_pub,
		 NULL);
	expect_ok(f);
}

/* Copies path into the world's folder as name; the copy's path to out. */
static void copy_into_world(struct fixture *f, const char *path,
			    const char *name, char *out)
{
	assert_int_equal(h_path(out, H_PATH_MAX, f->wdir, name), 0);
	assert_int_equal(copy_file(path, out), 0);
}

/* Runs one SQL statement that must change one row of the database db. */
static void tamper(const char *db, const char *sql)
{
	sqlite3 *h = NULL;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_changes(h), 1);
	sqlite3_close(h);
}

/*
 * Refusals: a backup never overwrites, a restore never runs under a
 * serving daemon, and a copy whose tables or log were changed is refused
 * with the state left as it was.
 */
static void test_restore_refusals(void **state)
{
	struct fixture *f = *state;
	char backup[H_PATH_MAX], bad[H_PATH_MAX], sql[256], aside[H_PATH_MAX];
	glob_t g;
	int ws;

	assert_int_equal(h_path(backup, sizeof(backup), f->wdir, "backup.db"),
			 0);
	tamwild_cmd(f, "backup", "--state", f->state, "--out", backup, NULL);
	expect_ok(f);
	tamwild_cmd(f, "backup", "--state", f->state, "--out", backup, NULL);
	expect_fail_out(f, 1, "already exists");
	tamwild_cmd(f, "restore", "--state", f->state, "--from", backup, NULL);
	expect_fail_out(f, 1, "tamwild is running on this state folder");
	assert_non_null(strstr(f->r.out, "stop it first"));
	assert_int_equal(h_daemon_stop(&f->d, 10000, &ws), 0);

	copy_into_world(f, backup, "bad-table.db", bad);
	snprintf(sql, sizeof(sql),
		 "UPDATE applications SET requested = requested + 100 "
		 "WHERE reference = '%s'",
		 f->refs[2]);
	tamper(bad, sql);
	tamwild_cmd(f, "restore", "--state", f->state, "--from", bad, NULL);
	expect_fail_out(f, 1, "does not verify; the state is unchanged");
	assert_non_null(strstr(f->r.out, f->refs[2]));

	copy_into_world(f, backup, "bad-log.db", bad);
	/* Entry 2 replaced by a copy of entry 3: history rewritten. */
	tamper(bad, "UPDATE log_entries SET entry = (SELECT entry FROM "
		    "log_entries WHERE seq = 3) WHERE seq = 2");
	tamwild_cmd(f, "restore", "--state", f->state, "--from", bad, NULL);
	expect_fail_out(f, 1, "does not verify; the state is unchanged");

	tamwild_cmd(f, "restore", "--state", f->state, "--from",
		    "/nonexistent/backup.db", NULL);
	expect_fail_out(f, 1, "cannot restore");

	/* Nothing was moved aside, and the state still checks out whole. */
	assert_int_equal(
	    h_path(aside, sizeof(aside), f->state, "tamwil.db.restoring"), 0);
	assert_int_not_equal(access(aside, F_OK), 0);
	tamwild_cmd(f, "check", "--state", f->state, NULL);
	expect_ok(f);
	assert_int_equal(replayed_applications(f->r.out), 3);
	assert_int_equal(h_path(aside, sizeof(aside), f->state,
				"tamwil.db.before-restore-*"),
			 0);
	assert_int_equal(glob(aside, 0, NULL, &g), GLOB_NOMATCH);
	tamwild_cmd(f, "restore", "--state", f->state, "--from", backup, NULL);
	expect_ok(f);
}

/*
 * With head office's data key the verifier opens every sealed identity;
 * with another data key it names the first submission that does not open.
 */
static void test_verify_data_key(void **state)
{
	struct fixture *f = *state;
	char path[H_PATH_MAX], data[H_PATH_MAX], other[H_PATH_MAX];
	keyfile_data d;

	export_log(f, "log.tamwil", path);
	assert_int_equal(h_path(data, sizeof(data), f->state, "data.key"), 0);
	cli_bare(f, "audit", "verify", path, "--server-key", f->server_pub,
		 "--data-key", data, NULL);
	expect_ok(f);
	assert_non_null(
	    strstr(f->r.out, "opened and checked 3 sealed identities"));

	assert_int_equal(h_path(other, sizeof(other), f->wdir, "other.key"), 0);
	assert_int_equal(keyfile_data_generate(&d), 0);
	assert_int_equal(keyfile_write_data(other, &d, NULL), KEYFILE_OK);
	sodium_memzero(&d, sizeof(d));
	cli_bare(f, "audit", "verify", path, "--server-key", f->server_pub,
		 "--data-key", other, NULL);
	expect_fail(f, 1,
		    "the sealed identity does not open with the data "
		    "key given");
	assert_non_null(strstr(f->r.err, "entry "));

	cli_bare(f, "audit", "verify", path, "--server-key", f->server_pub,
		 "--data-key", "/nonexistent/data.key", NULL);
	expect_fail(f, 2, "cannot read the data key");
}

/* ---- personal data at rest ------------------------------------------------
 */

/* The identities the scenario submitted, that no file may show. */
static const char *const identity_texts[] = {"Khadija", "Alaoui", "JB000001",
					     "JB000002", "1988-03-21"};

/* The file being scanned's findings, for nftw's callback. */
static char scan_found[4 * H_PATH_MAX];

/* nftw callback: records the first file holding an identity text. */
static int scan_file(const char *path, const struct stat *sb, int type,
		     struct FTW *ftw)
{
	char *buf;
	FILE *fp;
	size_t n;

	(void)ftw;
	if (type != FTW_F || sb->st_size == 0 || scan_found[0] != '\0')
		return 0;
	buf = malloc((size_t)sb->st_size);
	fp = fopen(path, "rb");
	if (buf == NULL || fp == NULL) {
		free(buf);
		if (fp != NULL)
			fclose(fp);
		snprintf(scan_found, sizeof(scan_found), "%s: unreadable",
			 path);
		return 1;
	}
	n = fread(buf, 1, (size_t)sb->st_size, fp);
	fclose(fp);
	for (size_t i = 0; i < sizeof(identity_texts) / sizeof(char *); i++)
		if (memmem(buf, n, identity_texts[i],
			   strlen(identity_texts[i])) != NULL)
			snprintf(scan_found, sizeof(scan_found), "%s: %s", path,
				 identity_texts[i]);
	free(buf);
	return scan_found[0] != '\0';
}

/* The first file under dir holding an identity text, or "". */
static const char *scan_tree(const char *dir)
{
	scan_found[0] = '\0';
	if (nftw(dir, scan_file, 16, FTW_PHYS) < 0)
		snprintf(scan_found, sizeof(scan_found), "%s: cannot walk",
			 dir);
	return scan_found;
}

/*
 * No file of head office's state (database, its write-ahead log, a
 * backup, the daemon's log), of an export, or of the office's audit state
 * shows a beneficiary's name, national ID or birth date: they travel and
 * rest sealed. The daemon is killed first so the WAL keeps its pages.
 */
static void test_no_identity_at_rest(void **state)
{
	struct fixture *f = *state;
	char backup[H_PATH_MAX], path[H_PATH_MAX], office[2 * H_PATH_MAX];
	const char *found;

	/* The scenario's names are really in the database, sealed. */
	OK(f, AUDITOR, "show", f->refs[0]);
	assert_int_equal(h_path(backup, sizeof(backup), f->wdir, "backup.db"),
			 0);
	tamwild_cmd(f, "backup", "--state", f->state, "--out", backup, NULL);
	expect_ok(f);
	export_log(f, "log.tamwil", path);
	h_daemon_kill(&f->d);
	found = scan_tree(f->wdir);
	if (found[0] != '\0')
		H_FAIL("an identity in clear: %s", found);
	snprintf(office, sizeof(office), "%s/.local/state/tamwil", f->dir);
	found = scan_tree(office);
	if (found[0] != '\0')
		H_FAIL("an identity in clear: %s", found);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, world_setup, world_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_receipt_kept),
	    T(test_export_and_tampering),
	    T(test_forgeries),
	    T(test_batch_checkpoints),
	    T(test_last_checkpoint_needed),
	    T(test_database_copy),
	    T(test_rollback),
	    T(test_proof),
	    T(test_backup_under_load),
	    T(test_restore_refusals),
	    T(test_no_identity_at_rest),
	    T(test_verify_data_key),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
