/*
 * End-to-end tests of the regional outbox: operations made while head
 * office is stopped wait in the client's outbox (exit status 75 and the
 * "queued:" sentence), tamwil outbox lists them, and tamwil sync applies
 * each exactly once when head office is back, receipts verified; a
 * refused one is reported with its reason while the others apply; an
 * online command sends what waited first; and a sync of 500 operations
 * killed with SIGKILL halfway loses nothing and applies nothing twice.
 *
 * Each test gets a world of its own (a fresh state folder, a daemon on
 * 127.0.0.1, the region LAG, a programme, the principals). Every command
 * runs with HOME in the test's folder, so the outboxes
 * (~/.local/state/tamwil/outbox-*.db) are the world's.
 *
 * TAMWIL_E2E_KEEP=1 keeps the temporary folder for a look.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"
#include "harness_domain.h"
#include "harness_office.h"
#include "keyfile.h"
#include "tamwil-client.h"
#include "tamwil-outbox.h"

#define RUN_MS	    60000
#define EXIT_QUEUED 75
#define PROGRAMME   "INDH-2026"
#define BULK	    500
#define NAME	    "Khadija Alaoui"

enum who { ADMIN, COORD, APPROVER, N_WHO };

static const struct {
	const char *file, *name, *role, *region;
} P[N_WHO] = {
    [ADMIN] = {"admin", "Amina El Idrissi", "admin", NULL},
    [COORD] = {"coord", "Fatima Zahra Bennani", "coordinator", "LAG"},
    [APPROVER] = {"approver", "Nadia Berrada", "approver", NULL},
};

struct fixture {
	hd_home h;
	char key[N_WHO][H_PATH_MAX];
	char pub[N_WHO][H_PATH_MAX];
	int n_world;
	hd_world w;
	char server[64];
	h_daemon d;
	hd_result r;
	char last[4096];
};

/* ---- running commands ---------------------------------------------------- */

static hd_result *run_cmd(struct fixture *f, const hd_cmd *c)
{
	hd_cmd_text(c, f->last, sizeof(f->last));
	if (c->overflow)
		H_FAIL("command line too long: %s", f->last);
	if (hd_run(&f->r, RUN_MS, f->h.env, c) != 0)
		H_FAIL("cannot run: %s", f->last);
	return &f->r;
}

/* Starts "tamwil --server ... --key KEY-OF-WHO" into c. */
static void base_cmd(struct fixture *f, hd_cmd *c, int who)
{
	hd_cmd_init(c, h_tamwil_path());
	hd_cmd_add(c, "--server");
	hd_cmd_add(c, f->server);
	hd_cmd_add(c, "--server-key");
	hd_cmd_add(c, f->w.server_pub);
	hd_cmd_add(c, "--key");
	hd_cmd_add(c, f->key[who]);
}

/* Runs tamwil as who with the NULL-terminated arguments. */
static hd_result *cli(struct fixture *f, int who, ...)
{
	va_list ap;
	hd_cmd c;

	base_cmd(f, &c, who);
	va_start(ap, who);
	hd_cmd_add_va(&c, ap);
	va_end(ap);
	return run_cmd(f, &c);
}

static void fail_last(struct fixture *f, const char *what)
{
	hd_result_print(&f->r, f->last);
	H_FAIL("%s: %s", what, f->last);
}

/* The last command exited with status. */
static void expect_status(struct fixture *f, int status)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "expected exit status %d", status);
	if (!f->r.exited || f->r.timed_out || f->r.status != status)
		fail_last(f, msg);
}

/* text holds needle. */
static void expect_in(struct fixture *f, const char *text, const char *needle)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "expected \"%s\"", needle);
	if (strstr(text, needle) == NULL)
		fail_last(f, msg);
}

#define OK(f, who, ...)                                                        \
	do {                                                                   \
		cli((f), (who), __VA_ARGS__, NULL);                            \
		expect_status((f), 0);                                         \
	} while (0)

/* Runs "tamwil submit" as the coordinator for national ID id. */
static hd_result *submit(struct fixture *f, const char *id,
			 const char *programme)
{
	return cli(f, COORD, "submit", "--programme", programme,
		   "--national-id", id, "--name", NAME, "--sex", "F",
		   "--birth-date", "1988-03-21", "--category", "rural_woman",
		   "--sector", "crafts", "--activity", "Atelier de tissage",
		   "--amount", "45 000,00", NULL);
}

/* The reference on the last line of a submission's output, into ref. */
static void take_ref(struct fixture *f, char *ref, size_t cap)
{
	const char *p = strstr(f->r.out, "LAG-");
	size_t n = 0;

	if (p == NULL)
		fail_last(f, "no reference in the output");
	while (p[n] != '\0' && p[n] != '\n' && n + 1 < cap)
		n++;
	memcpy(ref, p, n);
	ref[n] = '\0';
}

/* ---- the world ------------------------------------------------------------
 */

/* Starts head office with the extra flags (NULL-terminated, or NULL). */
static void start_daemon_with(struct fixture *f, const char *const extra[])
{
	if (h_daemon_start(&f->d, f->w.state, f->w.log, extra, f->h.env) != 0)
		H_FAIL("tamwild did not start");
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%d", f->d.port);
}

static void start_daemon(struct fixture *f)
{
	start_daemon_with(f, NULL);
}

/* Stops head office; the address stays, so the client finds no one. */
static void stop_daemon(struct fixture *f)
{
	int ws;

	if (h_daemon_stop(&f->d, 10000, &ws) != 0)
		H_FAIL("tamwild did not stop");
}

static int world_setup(void **state)
{
	struct fixture *f = *state;

	h_daemon_kill(&f->d);
	if (hd_world_create(&f->w, &f->h, ++f->n_world, f->pub[ADMIN],
			    P[ADMIN].name) != 0)
		return -1;
	start_daemon(f);
	OK(f, ADMIN, "region", "add", "LAG", "Laayoune-Sakia El Hamra");
	OK(f, ADMIN, "enrol", f->pub[COORD], "--name", P[COORD].name, "--role",
	   "coordinator", "--region", "LAG");
	OK(f, ADMIN, "enrol", f->pub[APPROVER], "--name", P[APPROVER].name,
	   "--role", "approver");
	OK(f, ADMIN, "programme", "add", PROGRAMME, "--name",
	   "Programme d'appui", "--currency", "MAD", "--envelope",
	   "100 000 000,00", "--ceiling", "100 000,00");
	return 0;
}

/* Outboxes are per head office key: each world has its own. */
static int world_teardown(void **state)
{
	struct fixture *f = *state;

	h_daemon_kill(&f->d);
	hd_world_remove(&f->w);
	return 0;
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	*state = f;
	if (sodium_init() < 0 || hd_home_create(&f->h) != 0)
		return -1;
	for (int w = 0; w < N_WHO; w++)
		if (h_keygen(f->h.dir, P[w].file, f->h.env, f->key[w],
			     f->pub[w]) != 0)
			return -1;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	h_daemon_kill(&f->d);
	hd_home_remove(&f->h);
	hd_result_free(&f->r);
	free(f);
	*state = NULL;
	return 0;
}

/* ---- the outbox through the library ------------------------------------- */

/* A handle for who, offline (never dialled), and the server's keys. */
static tamwil_client *open_local(struct fixture *f, int who,
				 keyfile_public *server)
{
	tamwil_client_options opt = {0};
	char state_dir[H_PATH_MAX + 32];
	keyfile_secret key;
	tamwil_client *c = NULL;
	tamwil_error err;

	snprintf(state_dir, sizeof(state_dir), "%s/.local/state/tamwil",
		 f->h.dir);
	if (keyfile_read_public(f->w.server_pub, server) != 0 ||
	    keyfile_read_secret(f->key[who], NULL, &key) != 0)
		H_FAIL("cannot read the keys");
	opt.server = f->server;
	opt.server_noise_pk = server->noise_pk;
	opt.server_data_pk = server->data_pk;
	opt.server_sign_pk = server->sign_pk;
	opt.state_dir = state_dir;
	opt.key = &key;
	if (tamwil_client_open(&opt, &c, &err) != TAMWIL_OK)
		H_FAIL("tamwil_client_open: %s", err.message);
	sodium_memzero(&key, sizeof(key));
	return c;
}

/* The outbox of c, which keeps it. */
static tamwil_outbox *outbox_of(tamwil_client *c)
{
	tamwil_outbox *ob;
	tamwil_error err;

	if (tamwil_client_outbox(c, &ob, &err) != TAMWIL_OK)
		H_FAIL("tamwil_client_outbox: %s", err.message);
	return ob;
}

static size_t count(tamwil_outbox *ob, int status)
{
	tamwil_error err;
	size_t n;

	if (tamwil_outbox_count(ob, status, &n, &err) != TAMWIL_OK)
		H_FAIL("tamwil_outbox_count: %s", err.message);
	return n;
}

/*
 * Every accepted entry of who's outbox has a receipt that proves, under
 * head office's signing key, that its very bytes are in the log at its
 * sequence. Returns how many were checked.
 */
static size_t verify_receipts(struct fixture *f, int who)
{
	keyfile_public server;
	tamwil_client *c = open_local(f, who, &server);
	tamwil_outbox *ob = outbox_of(c);
	tamwil_outbox_entry *v = NULL;
	keyfile_secret key;
	tamwil_error err;
	size_t n = 0, checked = 0;

	if (keyfile_read_secret(f->key[who], NULL, &key) != 0 ||
	    tamwil_outbox_list(ob, 1, &v, &n, &err) != TAMWIL_OK)
		H_FAIL("cannot list the outbox");
	for (size_t i = 0; i < n; i++) {
		Tamwil__V1__SignedOperation sop =
		    TAMWIL__V1__SIGNED_OPERATION__INIT;
		Tamwil__V1__Receipt *r = NULL;
		uint8_t sig[SIGNOP_SIGLEN], *bytes = NULL;
		size_t len = 0;
		char why[256];

		if (v[i].status != TAMWIL_OUTBOX_ACCEPTED)
			continue;
		if (tamwil_outbox_receipt(ob, v[i].id, &r, &err) != TAMWIL_OK ||
		    r == NULL ||
		    tamwil_outbox_bytes(ob, v[i].id, &bytes, &len, sig, &err) !=
			TAMWIL_OK)
			H_FAIL("entry %lld has no receipt or bytes",
			       (long long)v[i].id);
		sop.operation.data = bytes;
		sop.operation.len = len;
		sop.signer_key.data = key.sign_pk;
		sop.signer_key.len = sizeof(key.sign_pk);
		sop.signature.data = sig;
		sop.signature.len = sizeof(sig);
		if (tamwil_receipt_verify(server.sign_pk, r, v[i].sequence,
					  &sop, NULL, why, sizeof(why)) != 0)
			H_FAIL("entry %lld's receipt: %s", (long long)v[i].id,
			       why);
		tamwil__v1__receipt__free_unpacked(r, NULL);
		free(bytes);
		checked++;
	}
	sodium_memzero(&key, sizeof(key));
	free(v);
	tamwil_client_close(c);
	return checked;
}

/* The path of the single outbox file of who's principal into out. */
static void outbox_file(struct fixture *f, int who, char *out, size_t cap)
{
	keyfile_public server;
	keyfile_secret key;
	char sfp[KEYFILE_FINGERPRINT_LEN], pfp[KEYFILE_FINGERPRINT_LEN];
	char state_dir[H_PATH_MAX + 32];

	snprintf(state_dir, sizeof(state_dir), "%s/.local/state/tamwil",
		 f->h.dir);
	if (keyfile_read_public(f->w.server_pub, &server) != 0 ||
	    keyfile_read_secret(f->key[who], NULL, &key) != 0)
		H_FAIL("cannot read the keys");
	keyfile_fingerprint(server.noise_pk, server.sign_pk, sfp);
	keyfile_fingerprint(key.noise_pk, key.sign_pk, pfp);
	sodium_memzero(&key, sizeof(key));
	if (tamwil_outbox_path(state_dir, sfp, pfp, out, cap) != 0)
		H_FAIL("outbox path too long");
}

/* 1 if the file at path holds needle's bytes anywhere. */
static int file_holds(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	size_t n = strlen(needle), len = 0;
	char *buf = NULL;
	long size;
	int found = 0;

	if (fp == NULL)
		return 0;
	if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) > 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size)) != NULL)
		len = fread(buf, 1, (size_t)size, fp);
	fclose(fp);
	for (size_t i = 0; i + n <= len && !found; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

/* The applications an admin's --json list --all shows. */
static size_t listed(struct fixture *f)
{
	json_t *j;
	size_t n;

	OK(f, ADMIN, "--json", "list", "--all");
	j = hd_json_parse(f->r.out);
	if (j == NULL)
		fail_last(f, "stdout is not JSON");
	n = hd_json_count(j, "reference");
	json_decref(j);
	return n;
}

/* How many entries of a --json outbox say "replayed": true. */
static size_t replayed(json_t *j)
{
	json_t *a = json_object_get(j, "entries");
	size_t n = 0;

	assert_true(json_is_array(a));
	for (size_t i = 0; i < json_array_size(a); i++)
		n += json_is_true(
		    json_object_get(json_array_get(a, i), "replayed"));
	return n;
}

/* ---- tests ----------------------------------------------------------------
 */

/*
 * Submissions and an approval made with head office stopped wait, say so
 * and exit 75; the outbox lists them without revealing identities; sync
 * applies each once, with verified receipts; a second sync has nothing
 * to send.
 */
static void test_queue_then_sync(void **state)
{
	struct fixture *f = *state;
	char ref[64], path[H_PATH_MAX + 128], wal[H_PATH_MAX + 160];
	json_t *j;

	OK(f, COORD, "--help");
	expect_in(f, f->r.out, "  sync ");
	expect_in(f, f->r.out, "  outbox [--all] ");
	expect_in(f, f->r.out, "75 queued in the outbox");
	OK(f, COORD, "sync", "--help");
	expect_in(f, f->r.out, "Examples:\n  tamwil sync\n");
	OK(f, COORD, "outbox", "--help");
	expect_in(f, f->r.out, "Examples:\n  tamwil outbox\n");

	/* Online first: the office learns its region and the currency. */
	submit(f, "JB100001", PROGRAMME);
	expect_status(f, 0);
	take_ref(f, ref, sizeof(ref));
	stop_daemon(f);

	submit(f, "JB100002", PROGRAMME);
	expect_status(f, EXIT_QUEUED);
	expect_in(f, f->r.err, "cannot reach ");
	expect_in(f, f->r.err,
		  "queued: 1 operation waiting for head office "
		  "(tamwil sync sends them)");
	if (f->r.out_len != 0)
		fail_last(f, "a queued operation prints no result");
	submit(f, "JB100003", PROGRAMME);
	expect_status(f, EXIT_QUEUED);
	expect_in(f, f->r.err, "queued: 2 operations waiting");
	cli(f, APPROVER, "--json", "approve", ref, NULL);
	expect_status(f, EXIT_QUEUED);
	expect_in(f, f->r.err, "queued: 1 operation waiting");
	j = hd_json_parse(f->r.out);
	assert_non_null(j);
	assert_non_null(hd_json_find(j, "status", "waiting"));
	assert_non_null(hd_json_find(j, "label", ref));
	json_decref(j);

	/* Offline and never learnt: says what to do, queues nothing. */
	submit(f, "JB100004", "OTHER-2026");
	expect_status(f, 1);
	expect_in(f, f->r.err, "--currency");
	cli(f, APPROVER, "approve", ref, "--amount", "40 000,00", NULL);
	expect_status(f, 1);
	expect_in(f, f->r.err, "give it with --currency");

	OK(f, COORD, "outbox");
	expect_in(f, f->r.out, "waiting");
	expect_in(f, f->r.out, "INDH-2026, LAG, crafts, 45 000,00 MAD");
	OK(f, COORD, "--json", "outbox");
	j = hd_json_parse(f->r.out);
	assert_non_null(j);
	assert_int_equal(hd_json_count_value(j, "status", "waiting"), 2);
	assert_int_equal(hd_json_count_value(j, "kind", "submit"), 2);
	json_decref(j);
	OK(f, COORD, "outbox", "--csv");
	expect_in(f, f->r.out,
		  "id,queued_at,kind,label,status,sequence,"
		  "reference,code,reason\r\n");

	/* The file keeps no identity in clear, its WAL neither. */
	outbox_file(f, COORD, path, sizeof(path));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	assert_false(file_holds(path, "JB100002"));
	assert_false(file_holds(wal, "JB100002"));
	assert_false(file_holds(path, "Khadija"));
	assert_false(file_holds(wal, "Khadija"));
	assert_false(file_holds(wal, "Alaoui"));
	assert_false(file_holds(wal, "1988-03-21"));

	start_daemon(f);
	OK(f, COORD, "sync");
	expect_in(f, f->r.out,
		  "#2 submit INDH-2026, LAG, crafts, 45 000,00 "
		  "MAD: accepted, log entry");
	expect_in(f, f->r.out, "#3 submit");
	expect_in(f, f->r.out,
		  "sent 2: 2 accepted, 0 refused; nothing waits any more");
	OK(f, APPROVER, "--json", "sync");
	j = hd_json_parse(f->r.out);
	assert_non_null(j);
	assert_non_null(hd_json_find(j, "state", "approved"));
	json_decref(j);
	OK(f, ADMIN, "--json", "show", ref);
	expect_in(f, f->r.out, "\"approved\"");
	assert_int_equal(listed(f), 3);
	/* 1 online + 2 synced, and the approval. */
	assert_int_equal(verify_receipts(f, COORD), 3);
	assert_int_equal(verify_receipts(f, APPROVER), 1);

	OK(f, COORD, "sync");
	expect_in(f, f->r.out, "nothing waits for head office");
	OK(f, COORD, "outbox");
	expect_in(f, f->r.out, "nothing waits for head office");
	OK(f, COORD, "--json", "outbox", "--all");
	j = hd_json_parse(f->r.out);
	assert_non_null(j);
	assert_int_equal(hd_json_count_value(j, "status", "accepted"), 3);
	assert_int_equal(replayed(j), 0);
	json_decref(j);
	assert_int_equal(listed(f), 3);
}

/*
 * A queued operation head office refuses is reported with its code and
 * reason, kept as refused, and does not stop those after it.
 */
static void test_refused_in_queue(void **state)
{
	struct fixture *f = *state;
	char ref[64];

	submit(f, "JB200001", PROGRAMME);
	expect_status(f, 0);
	take_ref(f, ref, sizeof(ref));
	stop_daemon(f);
	cli(f, APPROVER, "approve", "LAG-2026-999999", NULL);
	expect_status(f, EXIT_QUEUED);
	cli(f, APPROVER, "approve", ref, NULL);
	expect_status(f, EXIT_QUEUED);
	expect_in(f, f->r.err, "queued: 2 operations waiting");

	start_daemon(f);
	cli(f, APPROVER, "sync", NULL);
	expect_status(f, 1);
	expect_in(f, f->r.out,
		  "#1 approve LAG-2026-999999: refused "
		  "(unknown_application): ");
	expect_in(f, f->r.out, "#2 approve LAG-");
	expect_in(f, f->r.out, ": accepted, log entry");
	expect_in(f, f->r.out,
		  "sent 2: 1 accepted, 1 refused; nothing waits any more");
	expect_in(f, f->r.err, "1 operation was refused");
	OK(f, ADMIN, "--json", "show", ref);
	expect_in(f, f->r.out, "\"approved\"");
	OK(f, APPROVER, "outbox", "--all");
	expect_in(f, f->r.out, "unknown_application");
	expect_in(f, f->r.out, "accepted");
	OK(f, APPROVER, "sync");
	expect_in(f, f->r.out, "nothing waits for head office");
}

/*
 * Once head office is back, the next command sends what waited first,
 * in order, and then its own operation.
 */
static void test_waiting_go_first(void **state)
{
	struct fixture *f = *state;
	char first[64], later[64];
	json_t *j;
	int64_t s1 = 0, s2 = 0, s3 = 0;

	submit(f, "JB300001", PROGRAMME);
	expect_status(f, 0);
	stop_daemon(f);
	submit(f, "JB300002", PROGRAMME);
	expect_status(f, EXIT_QUEUED);
	start_daemon(f);
	submit(f, "JB300003", PROGRAMME);
	expect_status(f, 0);
	expect_in(f, f->r.err,
		  "tamwil: sent first, as it waited: submit "
		  "INDH-2026, LAG, crafts, 45 000,00 MAD: "
		  "accepted, log entry");
	take_ref(f, later, sizeof(later));
	OK(f, COORD, "--json", "outbox", "--all");
	j = hd_json_parse(f->r.out);
	assert_non_null(j);
	{
		json_t *a = json_object_get(j, "entries");

		assert_int_equal(json_array_size(a), 3);
		assert_int_equal(
		    hd_json_int(json_array_get(a, 0), "sequence", &s1), 0);
		assert_int_equal(
		    hd_json_int(json_array_get(a, 1), "sequence", &s2), 0);
		assert_int_equal(
		    hd_json_int(json_array_get(a, 2), "sequence", &s3), 0);
		snprintf(first, sizeof(first), "%s",
			 json_string_value(json_object_get(json_array_get(a, 2),
							   "reference")));
	}
	json_decref(j);
	assert_true(s1 < s2 && s2 < s3);
	assert_string_equal(first, later);
}

/*
 * A command that must wait for another run's sync (the outbox's lock)
 * finishes its handshake first, so that head office, which drops
 * handshakes left unfinished, keeps its channel; then it goes on.
 */
static void test_waits_for_another_sync(void **state)
{
	struct fixture *f = *state;
	/* Under a checker a handshake takes longer than a second. */
	const int limit_s = h_count(1, 10);
	char limit[8];
	const char *const quick[] = {"--handshake-timeout", limit, NULL};
	char ref[64], path[H_PATH_MAX + 128], lock[H_PATH_MAX + 160];
	hd_result r = {0};
	h_proc p;
	hd_cmd cmd;
	int fd;

	snprintf(limit, sizeof(limit), "%d", limit_s);
	stop_daemon(f);
	start_daemon_with(f, quick);
	submit(f, "JB400001", PROGRAMME);
	expect_status(f, 0);
	take_ref(f, ref, sizeof(ref));
	outbox_file(f, APPROVER, path, sizeof(path));
	snprintf(lock, sizeof(lock), "%s.lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	base_cmd(f, &cmd, APPROVER);
	hd_cmd_add(&cmd, "approve");
	hd_cmd_add(&cmd, ref);
	if (h_spawn(&p, cmd.argv, f->h.env) != 0)
		H_FAIL("cannot start tamwil approve");
	h_sleep_ms(limit_s * 2500); /* over twice head office's limit */
	close(fd);
	if (hd_collect(&p, h_now_ms() + RUN_MS, &r) != 0)
		H_FAIL("cannot collect tamwil approve");
	if (!hd_ok(&r) ||
	    strstr(r.out, ": state approved, log entry") == NULL) {
		hd_result_print(&r, "tamwil approve, after the lock");
		H_FAIL(
		    "the approval did not go through once the lock was free");
	}
	hd_result_free(&r);
}

/* Queues BULK submissions for the coordinator, through the library. */
static void queue_bulk(struct fixture *f)
{
	keyfile_public server;
	tamwil_client *c = open_local(f, COORD, &server);
	tamwil_outbox *ob = outbox_of(c);
	tamwil_error err;

	for (int i = 0; i < BULK; i++) {
		Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
		uint8_t *bytes = NULL, sig[SIGNOP_SIGLEN];
		size_t len = 0;
		ho_submission s;
		char nid[32];

		snprintf(nid, sizeof(nid), "JK%06d", i);
		id.national_id = nid;
		id.first_name = "Khadija";
		id.last_name = "Alaoui";
		id.birth_date = "1990-01-01";
		if (ho_submission_make(&s, c, &id, PROGRAMME, "LAG", 1000000,
				       &err) != TAMWIL_OK)
			H_FAIL("seal: %s", err.message);
		s.sub.category = TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN;
		s.sub.sector = "crafts";
		if (tamwil_client_sign(c, &s.op, &bytes, &len, sig, &err) !=
			TAMWIL_OK ||
		    tamwil_outbox_add(ob, bytes, len, sig, NULL, &err) !=
			TAMWIL_OK)
			H_FAIL("queue: %s", err.message);
		free(bytes);
		ho_submission_free(&s);
	}
	tamwil_client_close(c);
}

/*
 * Starts "tamwil sync" as the coordinator and, once at least `at` entries
 * of ob are accepted, kills with SIGKILL the sync itself (client 1) or
 * head office (client 0). Returns the sync's result.
 */
static void sync_and_kill(struct fixture *f, tamwil_outbox *ob, size_t at,
			  int client, hd_result *r)
{
	int64_t deadline = h_now_ms() + RUN_MS;
	h_proc p;
	hd_cmd cmd;

	base_cmd(f, &cmd, COORD);
	hd_cmd_add(&cmd, "sync");
	if (h_spawn(&p, cmd.argv, f->h.env) != 0)
		H_FAIL("cannot start tamwil sync");
	while (h_now_ms() < deadline && count(ob, TAMWIL_OUTBOX_REFUSED) == 0 &&
	       count(ob, TAMWIL_OUTBOX_ACCEPTED) < at)
		h_sleep_ms(5);
	if (client)
		kill(p.pid, SIGKILL);
	else
		h_daemon_kill(&f->d);
	if (hd_collect(&p, h_now_ms() + RUN_MS, r) != 0)
		H_FAIL("cannot collect tamwil sync");
}

/*
 * A sync of BULK operations whose link drops (head office killed) stops
 * and says what still waits; one killed itself with SIGKILL halfway
 * loses nothing; the next sync sends the rest, and head office holds
 * each exactly once.
 */
static void test_sigkill_mid_sync(void **state)
{
	struct fixture *f = *state;
	keyfile_public server;
	hd_result r = {0};
	tamwil_client *c;
	tamwil_outbox *ob;
	size_t done;
	char want[128];

	stop_daemon(f);
	queue_bulk(f);
	start_daemon(f);
	/* Watches the outbox as the syncs fill it. */
	c = open_local(f, COORD, &server);
	ob = outbox_of(c);

	sync_and_kill(f, ob, BULK / 5, 0, &r);
	done = count(ob, TAMWIL_OUTBOX_ACCEPTED);
	snprintf(want, sizeof(want),
		 "queued: %zu operations waiting for head office", BULK - done);
	if (!r.exited || r.status != EXIT_QUEUED ||
	    strstr(r.err, want) == NULL) {
		hd_result_print(&r, "tamwil sync, head office killed");
		H_FAIL("expected exit 75 and \"%s\"", want);
	}
	assert_true(done >= BULK / 5 && done < BULK);

	start_daemon(f);
	sync_and_kill(f, ob, done + BULK / 5, 1, &r);
	assert_int_equal(r.exited, 0);
	assert_int_equal(r.status, SIGKILL);
	done = count(ob, TAMWIL_OUTBOX_ACCEPTED);
	assert_true(done < BULK);
	assert_int_equal(count(ob, TAMWIL_OUTBOX_WAITING), BULK - done);
	hd_result_free(&r);

	OK(f, COORD, "sync");
	expect_in(f, f->r.out, "nothing waits any more");
	assert_int_equal(count(ob, TAMWIL_OUTBOX_ACCEPTED), BULK);
	assert_int_equal(count(ob, TAMWIL_OUTBOX_REFUSED), 0);
	assert_int_equal(count(ob, TAMWIL_OUTBOX_WAITING), 0);
	tamwil_client_close(c);
	/* Head office: each once (a second would be a duplicate, refused). */
	assert_int_equal(listed(f), BULK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_queue_then_sync, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_refused_in_queue, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_waiting_go_first, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_waits_for_another_sync,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_sigkill_mid_sync, world_setup,
					    world_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
