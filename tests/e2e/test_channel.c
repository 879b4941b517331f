/*
 * End-to-end tests of the channel: a real tamwild on 127.0.0.1 and the
 * real tamwil, plus a raw Noise client for what a well-behaved client never
 * sends. The group shares one state directory (one server key, the admin
 * enrolled by "tamwild init"); each test starts its own daemon with the
 * options it needs and the teardown kills whatever is left.
 *
 * Every refusal test ends by checking that the daemon still serves the
 * admin's "tamwil whoami": a refusal must never cost the others service.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "frame.h"
#include "harness.h"
#include "harness_domain.h"
#include "signop.h"

#define ADMIN_NAME     "Amina El Idrissi"
#define APPROVER_NAME  "Saïd Ouahbi"
#define TREASURER_NAME "Nadia Berrada"
#define AUDITOR_NAME   "Youssef Amrani"
#define N_CLIENTS      200
#define N_CLIENTS_SLOW 8
#define IO_MS	       5000
/* A refusal that needs no deadline must come well before this. */
#define PROMPT_MS 2000
/* The handshake deadline given to daemons that test "at once" refusals. */
#define LONG_HS "10"
#define LOG_MS	3000

struct fixture {
	char dir[H_PATH_MAX];
	char home[H_PATH_MAX + 8];
	const char *env[3]; /* HOME in the temp dir, no TAMWIL_CONFIG */
	char state[H_PATH_MAX];
	char admin_key[H_PATH_MAX];
	char admin_pub[H_PATH_MAX];
	char server_pub[H_PATH_MAX];
	char admin_fp[KEYFILE_FINGERPRINT_LEN];
	h_daemon d;
	int n_logs;
	h_result r; /* scratch */
};

/* ---- checks ------------------------------------------------------------- */

/* Fails unless hay contains needle. */
static void check_contains(const char *hay, const char *needle,
			   const char *what)
{
	if (strstr(hay, needle) == NULL)
		H_FAIL("%s: expected \"%s\" in:\n%s", what, needle, hay);
}

/* Fails unless r is a clean exit 0. */
static void check_ok(const h_result *r, const char *what)
{
	if (!h_ok(r)) {
		h_result_print(r, what);
		H_FAIL("%s failed", what);
	}
}

/*
 * Fails unless r exited by itself with a non-zero status and said, in one
 * line on stderr, something containing needle.
 */
static void check_refused(const h_result *r, const char *needle,
			  const char *what)
{
	if (!r->exited || r->status == 0 || r->timed_out ||
	    strstr(r->err, needle) == NULL || !h_one_line(r->err)) {
		h_result_print(r, what);
		H_FAIL("%s: expected a non-zero exit and one line on stderr "
		       "containing \"%s\"",
		       what, needle);
	}
}

/* Fails unless a log line from offset from has both strings (b may be NULL). */
static void check_log(struct fixture *f, long from, const char *a,
		      const char *b)
{
	const char *needles[] = {a, b, NULL};

	if (h_log_wait(f->d.log, from, needles, LOG_MS) != 0) {
		h_log_dump(f->d.log, from);
		H_FAIL("no log line with \"%s\"%s%s%s", a, b ? " and \"" : "",
		       b ? b : "", b ? "\"" : "");
	}
}

/* Fails unless fd is closed by the peer, without data, within max_ms. */
static void check_closed_within(int fd, int64_t t0, int max_ms,
				const char *what)
{
	int rc = h_wait_closed(fd, max_ms + 1000);
	int64_t took = h_now_ms() - t0;

	if (rc == H_CLOSE_DATA)
		H_FAIL("%s: the server answered instead of closing", what);
	if (rc != H_CLOSE_CLOSED)
		H_FAIL("%s: still open after %lld ms", what, (long long)took);
	if (took > max_ms)
		H_FAIL("%s: closed only after %lld ms", what, (long long)took);
}

/* ---- fixture ----------------------------------------------------------- */

/* Runs a tamwild maintenance command (argv after the program name). */
static void run_tamwild(struct fixture *f, const char *const args[],
			const char *what)
{
	const char *argv[H_MAX_ARGS];
	int n = 0;

	argv[n++] = h_tamwild_path();
	for (int i = 0; args[i] != NULL && n < H_MAX_ARGS - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(h_run(&f->r, H_RUN_TIMEOUT_MS, f->env, argv), 0);
	check_ok(&f->r, what);
}

/* Computes the fingerprint of the public key file at path. */
static void pub_fingerprint(const char *path, char fp[KEYFILE_FINGERPRINT_LEN])
{
	keyfile_public pub;

	assert_int_equal(keyfile_read_public(path, &pub), KEYFILE_OK);
	keyfile_fingerprint(pub.noise_pk, pub.sign_pk, fp);
}

/* Creates the keys and the server state every test uses. */
static void make_state(struct fixture *f)
{
	assert_int_equal(
	    h_keygen(f->dir, "admin", f->env, f->admin_key, f->admin_pub), 0);
	pub_fingerprint(f->admin_pub, f->admin_fp);
	assert_int_equal(h_path(f->state, sizeof(f->state), f->dir, "state"),
			 0);
	const char *init[] = {"init",	  "--state",	f->state,
			      "--admin",  f->admin_pub, "--admin-name",
			      ADMIN_NAME, NULL};
	run_tamwild(f, init, "tamwild init");
	const char *pubkey[] = {"pubkey", "--state", f->state, NULL};
	run_tamwild(f, pubkey, "tamwild pubkey");
	assert_int_equal(
	    h_path(f->server_pub, sizeof(f->server_pub), f->dir, "server.pub"),
	    0);
	assert_int_equal(h_write_file(f->server_pub, f->r.out), 0);
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0) {
		free(f);
		return -1;
	}
	*state = f;
	if (h_tamwild_path() == NULL || h_tamwil_path() == NULL) {
		fprintf(stderr, "set TAMWILD and TAMWIL to the binaries\n");
		return -1;
	}
	if (h_tmpdir_create(f->dir, sizeof(f->dir)) != 0)
		return -1;
	snprintf(f->home, sizeof(f->home), "HOME=%s", f->dir);
	f->env[0] = f->home;
	f->env[1] = "TAMWIL_CONFIG";
	f->env[2] = NULL;
	make_state(f);
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
	free(f);
	*state = NULL;
	return 0;
}

static int test_teardown(void **state)
{
	struct fixture *f = *state;

	h_daemon_kill(&f->d);
	return 0;
}

/*
 * Starts a daemon on the group's state with the NULL-terminated extra
 * options, logging to a file of its own in the temp dir.
 */
static void start_daemon_env(struct fixture *f, const char *const extra[],
			     const char *const env[])
{
	char name[64], log[H_PATH_MAX];

	snprintf(name, sizeof(name), "tamwild-%02d.log", ++f->n_logs);
	assert_int_equal(h_path(log, sizeof(log), f->dir, name), 0);
	if (h_daemon_start(&f->d, f->state, log, extra, env) != 0)
		H_FAIL("tamwild did not start");
}

static void start_daemon(struct fixture *f, const char *const extra[])
{
	start_daemon_env(f, extra, f->env);
}

/* "tamwil whoami" with key must succeed and name the principal. */
static void check_whoami(struct fixture *f, const char *key, const char *name)
{
	assert_int_equal(
	    h_whoami(&f->r, f->d.port, f->server_pub, key, 0, f->env), 0);
	check_ok(&f->r, "tamwil whoami");
	check_contains(f->r.out, name, "whoami output");
}

/* The admin is still served: the end of every refusal test. */
static void check_still_serves(struct fixture *f)
{
	if (!h_daemon_alive(&f->d)) {
		h_log_dump(f->d.log, 0);
		H_FAIL("tamwild is gone");
	}
	check_whoami(f, f->admin_key, ADMIN_NAME);
}

/* Generates a key pair named name in the temp dir. */
static void keygen(struct fixture *f, const char *name, char *key, char *pub)
{
	assert_int_equal(h_keygen(f->dir, name, f->env, key, pub), 0);
}

/* ---- the client program ------------------------------------------------- */

/* keygen writes a 0600 file, refuses to overwrite it, shows its public half. */
static void test_keygen_private_file(void **state)
{
	struct fixture *f = *state;
	char key[H_PATH_MAX], pub[H_PATH_MAX], fp[KEYFILE_FINGERPRINT_LEN];
	char before[4096], after[4096];
	size_t lb, la;
	keyfile_secret k;
	struct stat st;

	keygen(f, "fresh", key, pub);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(h_read_file(key, 0, before, sizeof(before), &lb), 0);
	const char *again[] = {h_tamwil_path(), "keygen", "--out", key, NULL};
	assert_int_equal(h_run(&f->r, H_RUN_TIMEOUT_MS, f->env, again), 0);
	check_refused(&f->r, "", "second tamwil keygen on the same file");
	assert_int_equal(h_read_file(key, 0, after, sizeof(after), &la), 0);
	assert_true(la == lb && memcmp(before, after, lb) == 0);
	assert_int_equal(keyfile_read_secret(key, NULL, &k), KEYFILE_OK);
	keyfile_fingerprint(k.noise_pk, k.sign_pk, fp);
	sodium_memzero(&k, sizeof(k));
	assert_int_equal(h_read_file(pub, 0, after, sizeof(after), &la), 0);
	check_contains(after, fp, "tamwil key public output");
}

/* The admin enrolled by init is known by name, role and fingerprint. */
static void test_whoami_admin(void **state)
{
	struct fixture *f = *state;
	char pub_text[KEYFILE_PUBLIC_TEXT_MAX * 2];
	size_t len;

	start_daemon(f, NULL);
	assert_int_equal(
	    h_whoami(&f->r, f->d.port, f->server_pub, f->admin_key, 0, f->env),
	    0);
	check_ok(&f->r, "tamwil whoami");
	check_contains(f->r.out, ADMIN_NAME, "whoami output");
	check_contains(f->r.out, "admin", "whoami output");
	check_contains(f->r.out, f->admin_fp, "whoami output");
	check_contains(f->r.out, TAMWIL_VERSION, "whoami output");
	/* The fingerprint is the one "tamwil key public" shows. */
	assert_int_equal(
	    h_read_file(f->admin_pub, 0, pub_text, sizeof(pub_text), &len), 0);
	check_contains(pub_text, f->admin_fp, "tamwil key public output");
}

/* --json prints one object with the five documented keys. */
static void test_whoami_json(void **state)
{
	struct fixture *f = *state;
	char v[256];
	size_t len;
	const char *out;

	start_daemon(f, NULL);
	assert_int_equal(
	    h_whoami(&f->r, f->d.port, f->server_pub, f->admin_key, 1, f->env),
	    0);
	check_ok(&f->r, "tamwil --json whoami");
	out = f->r.out + strspn(f->r.out, " \t\r\n");
	len = strlen(out);
	while (len > 0 && strchr(" \t\r\n", out[len - 1]) != NULL)
		len--;
	if (len < 2 || out[0] != '{' || out[len - 1] != '}')
		H_FAIL("not one JSON object:\n%s", f->r.out);
	assert_int_equal(h_json_string(out, "name", v, sizeof(v)), 0);
	assert_string_equal(v, ADMIN_NAME);
	assert_int_equal(h_json_string(out, "role", v, sizeof(v)), 0);
	assert_string_equal(v, "admin");
	/* An admin has no region: an empty string or null. */
	if (!h_json_null(out, "region")) {
		assert_int_equal(h_json_string(out, "region", v, sizeof(v)), 0);
		assert_string_equal(v, "");
	}
	assert_int_equal(h_json_string(out, "fingerprint", v, sizeof(v)), 0);
	assert_string_equal(v, f->admin_fp);
	assert_int_equal(h_json_string(out, "server_version", v, sizeof(v)), 0);
	check_contains(v, TAMWIL_VERSION, "server_version");
}

/* The same settings may come from the file named by TAMWIL_CONFIG. */
static void test_whoami_config_file(void **state)
{
	struct fixture *f = *state;
	char conf[H_PATH_MAX], text[4 * H_PATH_MAX], env_conf[H_PATH_MAX + 16];

	start_daemon(f, NULL);
	assert_int_equal(h_path(conf, sizeof(conf), f->dir, "client.conf"), 0);
	snprintf(text, sizeof(text),
		 "# tamwil client settings\n"
		 "server = 127.0.0.1:%d\nserver_key = %s\nkey = %s\n",
		 f->d.port, f->server_pub, f->admin_key);
	assert_int_equal(h_write_file(conf, text), 0);
	snprintf(env_conf, sizeof(env_conf), "TAMWIL_CONFIG=%s", conf);
	const char *env[] = {f->home, env_conf, NULL};
	const char *argv[] = {h_tamwil_path(), "whoami", NULL};
	assert_int_equal(h_run(&f->r, H_RUN_TIMEOUT_MS, env, argv), 0);
	check_ok(&f->r, "tamwil whoami with TAMWIL_CONFIG");
	check_contains(f->r.out, ADMIN_NAME, "whoami output");
	check_contains(f->r.out, "admin", "whoami output");
	check_contains(f->r.out, f->admin_fp, "whoami output");
}

/* ---- refusals the client reports --------------------------------------- */

/* A key nobody enrolled: "not enrolled", and the raw server says nothing. */
static void test_unenrolled_key_refused(void **state)
{
	struct fixture *f = *state;
	char key[H_PATH_MAX], pub[H_PATH_MAX];
	Tamwil__V1__WhoamiRequest body;
	Tamwil__V1__Request req;
	h_noise c;
	long from;
	int64_t t0;

	keygen(f, "stranger", key, pub);
	start_daemon(f, NULL);
	from = h_file_size(f->d.log);
	assert_int_equal(
	    h_whoami(&f->r, f->d.port, f->server_pub, key, 0, f->env), 0);
	check_refused(&f->r, "not enrolled", "whoami with an unenrolled key");
	check_log(f, from, "refused", "unknown key");
	/* On the wire: message 3 with a request, then a close, no answer. */
	assert_int_equal(
	    h_noise_start(&c, f->d.port, key, f->server_pub, IO_MS), 0);
	h_whoami_request(&req, &body, 1);
	t0 = h_now_ms();
	assert_int_equal(h_noise_finish(&c, &req, IO_MS), H_IO_OK);
	check_closed_within(c.fd, t0, PROMPT_MS, "message 3 of an unknown key");
	h_noise_close(&c);
	check_still_serves(f);
}

/* Another key's public file given as the server's: "server key mismatch". */
static void test_wrong_server_key(void **state)
{
	struct fixture *f = *state;
	char key[H_PATH_MAX], pub[H_PATH_MAX];

	keygen(f, "not-the-server", key, pub);
	start_daemon(f, NULL);
	assert_int_equal(
	    h_whoami(&f->r, f->d.port, pub, f->admin_key, 0, f->env), 0);
	check_refused(&f->r, "server key mismatch",
		      "whoami with the wrong server key");
	check_still_serves(f);
}

/* A principal revoked while the daemon runs is refused from then on. */
static void test_revoked_key_refused(void **state)
{
	struct fixture *f = *state;
	char key[H_PATH_MAX], pub[H_PATH_MAX];
	long from;

	keygen(f, "approver", key, pub);
	start_daemon(f, NULL);
	const char *enrol[] = {"enrol",	 "--state",  f->state,
			       pub,	 "--name",   APPROVER_NAME,
			       "--role", "approver", NULL};
	run_tamwild(f, enrol, "tamwild enrol");
	check_whoami(f, key, APPROVER_NAME);
	check_contains(f->r.out, "approver", "whoami output");
	const char *revoke[] = {"revoke", "--state", f->state, pub, NULL};
	run_tamwild(f, revoke, "tamwild revoke");
	from = h_file_size(f->d.log);
	assert_int_equal(
	    h_whoami(&f->r, f->d.port, f->server_pub, key, 0, f->env), 0);
	check_refused(&f->r, "not enrolled", "whoami with a revoked key");
	check_log(f, from, "refused", "revoked key");
	check_still_serves(f);
}

/* Opens a channel as the principal of key and gets one answer on it. */
static void open_channel(struct fixture *f, h_noise *c, const char *key)
{
	Tamwil__V1__WhoamiRequest body;
	Tamwil__V1__Request req;
	Tamwil__V1__Response *resp;

	assert_int_equal(h_noise_start(c, f->d.port, key, f->server_pub, IO_MS),
			 0);
	h_whoami_request(&req, &body, 1);
	assert_int_equal(h_noise_finish(c, &req, IO_MS), H_IO_OK);
	assert_int_equal(h_noise_recv(c, &resp, IO_MS), H_IO_OK);
	assert_int_equal(resp->body_case, TAMWIL__V1__RESPONSE__BODY_WHOAMI);
	tamwil__v1__response__free_unpacked(resp, NULL);
}

/*
 * A key revoked by the local command, another process than the daemon:
 * its open channel is closed within a second, a new one is refused, and
 * other principals' channels go on. A pending edit of the daemon's
 * settings is not applied by it: that waits for the administrator's
 * reload.
 */
static void test_local_revoke_closes_channel(void **state)
{
	struct fixture *f = *state;
	char key[H_PATH_MAX], pub[H_PATH_MAX], conf[H_PATH_MAX];
	char text[8192];
	const char *const extra[] = {"--config", conf, NULL};
	size_t len;
	Tamwil__V1__WhoamiRequest body;
	Tamwil__V1__Request req;
	Tamwil__V1__Response *resp;
	h_noise mine, admin;
	int64_t t0;
	long from;

	keygen(f, "treasurer", key, pub);
	assert_int_equal(h_path(conf, sizeof(conf), f->dir, "revoke.conf"), 0);
	assert_int_equal(h_write_file(conf, "[tamwild]\nmax_connections = "
					    "50\n"),
			 0);
	start_daemon(f, extra);
	const char *enrol[] = {"enrol",	 "--state",   f->state,
			       pub,	 "--name",    TREASURER_NAME,
			       "--role", "treasurer", NULL};
	run_tamwild(f, enrol, "tamwild enrol");
	open_channel(f, &mine, key);
	open_channel(f, &admin, f->admin_key);
	from = h_file_size(f->d.log);
	assert_int_equal(h_write_file(conf, "[tamwild]\nmax_connections = "
					    "lots\n"),
			 0);
	const char *revoke[] = {"revoke", "--state", f->state, pub, NULL};
	run_tamwild(f, revoke, "tamwild revoke");
	check_contains(f->r.out, "told tamwild (pid", "tamwild revoke");
	t0 = h_now_ms();
	check_closed_within(mine.fd, t0, 1000, "the revoked key's channel");
	check_log(f, from, TREASURER_NAME, "closed: its key was revoked");
	check_log(f, from, "reload", "1 channel of revoked keys closed");
	assert_int_equal(h_read_file(f->d.log, from, text, sizeof(text), &len),
			 0);
	if (strstr(text, "settings") != NULL)
		H_FAIL("tamwild revoke made the daemon read its settings:\n%s",
		       text);
	assert_int_equal(
	    h_whoami(&f->r, f->d.port, f->server_pub, key, 0, f->env), 0);
	check_refused(&f->r, "not enrolled", "whoami with a revoked key");
	h_whoami_request(&req, &body, 2);
	assert_int_equal(h_noise_send(&admin, &req, IO_MS), H_IO_OK);
	assert_int_equal(h_noise_recv(&admin, &resp, IO_MS), H_IO_OK);
	assert_int_equal(resp->body_case, TAMWIL__V1__RESPONSE__BODY_WHOAMI);
	tamwil__v1__response__free_unpacked(resp, NULL);
	h_noise_close(&mine);
	h_noise_close(&admin);
	check_still_serves(f);
}

/* Sends on c an operation signed by key: op's body set, the rest filled. */
static void send_signed(h_noise *c, Tamwil__V1__Operation *op, int first,
			uint64_t id)
{
	uint8_t ikey[SIGNOP_IDEMPOTENCY_LEN], sig[SIGNOP_SIGLEN], *bytes;
	Tamwil__V1__SignedOperation sop;
	Tamwil__V1__Request req;
	size_t len;

	signop_new_idempotency_key(ikey);
	op->idempotency_key.data = ikey;
	op->idempotency_key.len = sizeof(ikey);
	assert_int_equal(hd_op_sign(op, &c->key, &bytes, &len, sig), 0);
	op->idempotency_key.data = NULL; /* packed: ikey is not needed */
	op->idempotency_key.len = 0;
	hd_signed_request(&req, &sop, id, bytes, len, c->key.sign_pk, sig);
	if (first)
		assert_int_equal(h_noise_finish(c, &req, IO_MS), H_IO_OK);
	else
		assert_int_equal(h_noise_send(c, &req, IO_MS), H_IO_OK);
	free(bytes);
}

/*
 * A handshake crossing a revocation: the key is looked up (and found
 * valid) while the revocation's commit is still under way, and the
 * handshake's first request, an operation, waits behind it. The channel
 * must not open once the revocation is durable: the connection is closed
 * without an answer. The disk is slowed (enospc.c) to hold the commit.
 */
static void test_revoke_crossing_handshake(void **state)
{
	struct fixture *f = *state;
	char key[H_PATH_MAX], pub[H_PATH_MAX], held[H_PATH_MAX + 8];
	char slow[32];
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RevokePrincipal rv = TAMWIL__V1__REVOKE_PRINCIPAL__INIT;
	Tamwil__V1__CreateRegion cr = TAMWIL__V1__CREATE_REGION__INIT;
	Tamwil__V1__Response *resp;
	h_noise admin, late;
	h_disk disk;
	int64_t t0;
	long from;

	keygen(f, "second-admin", key, pub);
	const char *enrol[] = {"enrol",	 "--state", f->state,
			       pub,	 "--name",  APPROVER_NAME,
			       "--role", "admin",   NULL};
	run_tamwild(f, enrol, "tamwild enrol");
	if (h_disk_env(&disk, TAMWIL_ENOSPC_SHIM, f->state, f->dir, "slow-disk",
		       f->env) != 0)
		H_FAIL("temp folder path too long");
	snprintf(held, sizeof(held), "%s.held", disk.flag);
	start_daemon_env(f, NULL, disk.env);
	open_channel(f, &admin, f->admin_key);
	assert_int_equal(
	    h_noise_start(&late, f->d.port, key, f->server_pub, IO_MS), 0);
	from = h_file_size(f->d.log);

	/* The revocation's commit waits on the disk... */
	snprintf(slow, sizeof(slow), "slow %d\n", h_wait_ms(800));
	assert_int_equal(h_write_file(disk.flag, slow), 0);
	op.body_case = TAMWIL__V1__OPERATION__BODY_REVOKE_PRINCIPAL;
	op.revoke_principal = &rv;
	rv.noise_key.data = late.key.noise_pk;
	rv.noise_key.len = sizeof(late.key.noise_pk);
	send_signed(&admin, &op, 0, 2);
	t0 = h_now_ms();
	while (access(held, F_OK) != 0) {
		if (h_now_ms() - t0 > h_wait_ms(IO_MS))
			H_FAIL(
			    "the revocation's commit never reached the disk");
		h_sleep_ms(2);
	}
	/* ... while the key's handshake ends with an operation of its own. */
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &cr;
	cr.code = "RAC";
	cr.name = "Région de la course";
	send_signed(&late, &op, 1, 1);
	assert_int_equal(h_noise_recv(&admin, &resp, h_wait_ms(IO_MS)),
			 H_IO_OK);
	assert_int_equal(resp->body_case, TAMWIL__V1__RESPONSE__BODY_OPERATION);
	tamwil__v1__response__free_unpacked(resp, NULL);
	assert_int_equal(unlink(disk.flag), 0);
	t0 = h_now_ms();
	check_closed_within(
	    late.fd, t0, h_wait_ms(3000),
	    "the channel of a key revoked during its handshake");
	check_log(f, from, APPROVER_NAME, "revoked during the handshake");
	h_noise_close(&late);
	h_noise_close(&admin);
	check_still_serves(f);
}

/* With no daemon serving the folder, tamwild revoke revokes and says no more.
 */
static void test_local_revoke_no_daemon(void **state)
{
	struct fixture *f = *state;
	char key[H_PATH_MAX], pub[H_PATH_MAX];

	if (f == NULL)
		H_FAIL("no fixture");
	keygen(f, "auditor", key, pub);
	const char *enrol[] = {"enrol",	 "--state", f->state,
			       pub,	 "--name",  AUDITOR_NAME,
			       "--role", "auditor", NULL};
	run_tamwild(f, enrol, "tamwild enrol");
	const char *revoke[] = {"revoke", "--state", f->state, pub, NULL};
	run_tamwild(f, revoke, "tamwild revoke");
	check_contains(f->r.out, "revoked the key", "tamwild revoke");
	if (strstr(f->r.out, "told tamwild") != NULL ||
	    strstr(f->r.err, "not told") != NULL)
		H_FAIL("tamwild revoke, with no daemon running:\n%s%s",
		       f->r.out, f->r.err);
}

/* Nobody listening: one line naming the address, quickly. */
static void test_daemon_down(void **state)
{
	struct fixture *f = *state;
	char expect[128];
	int wstatus, port;

	start_daemon(f, NULL);
	port = f->d.port;
	assert_int_equal(h_daemon_stop(&f->d, IO_MS, &wstatus), 0);
	assert_int_equal(
	    h_whoami(&f->r, port, f->server_pub, f->admin_key, 0, f->env), 0);
	snprintf(expect, sizeof(expect),
		 "cannot reach 127.0.0.1:%d: connection refused", port);
	check_refused(&f->r, expect, "whoami with the daemon down");
	if (f->r.elapsed_ms >= h_wait_ms(PROMPT_MS))
		H_FAIL("took %lld ms to give up", (long long)f->r.elapsed_ms);
	/* Started again on the same state, it serves as before. */
	start_daemon(f, NULL);
	check_still_serves(f);
}

/* ---- raw sockets --------------------------------------------------------- */

/*
 * Connects and sends bytes (len may be 0) to the daemon; checks it closes
 * the connection at once and logs "refused" with reason (NULL: any).
 */
static void check_raw_refused(struct fixture *f, const uint8_t *bytes,
			      size_t len, const char *reason, const char *what)
{
	long from = h_file_size(f->d.log);
	int64_t t0 = h_now_ms();
	int fd = h_tcp_connect(f->d.port, IO_MS);
	int rc;

	assert_true(fd >= 0);
	rc = h_send_all(fd, bytes, len, IO_MS);
	if (rc != H_IO_OK && rc != H_IO_CLOSED) {
		close(fd);
		H_FAIL("%s: cannot send", what);
	}
	check_closed_within(fd, t0, PROMPT_MS, what);
	close(fd);
	check_log(f, from, "refused", reason);
}

/* The raw client is right: requests in message 3 and after are answered. */
static void test_raw_valid_requests(void **state)
{
	struct fixture *f = *state;
	const uint64_t id1 = UINT64_C(0x0123456789abcdef);
	Tamwil__V1__WhoamiRequest body;
	Tamwil__V1__Request req;
	Tamwil__V1__Response *resp;
	h_noise c;

	start_daemon(f, NULL);
	assert_int_equal(
	    h_noise_start(&c, f->d.port, f->admin_key, f->server_pub, IO_MS),
	    0);
	assert_int_equal(c.protocol_version, 1);
	check_contains(c.server_version, TAMWIL_VERSION, "ServerHello");
	h_whoami_request(&req, &body, id1);
	assert_int_equal(h_noise_finish(&c, &req, IO_MS), H_IO_OK);
	assert_int_equal(h_noise_recv(&c, &resp, IO_MS), H_IO_OK);
	assert_true(resp->request_id == id1);
	assert_int_equal(resp->body_case, TAMWIL__V1__RESPONSE__BODY_WHOAMI);
	assert_string_equal(resp->whoami->name, ADMIN_NAME);
	assert_int_equal(resp->whoami->role, TAMWIL__V1__ROLE__ROLE_ADMIN);
	assert_string_equal(resp->whoami->fingerprint, f->admin_fp);
	check_contains(resp->whoami->server_version, TAMWIL_VERSION,
		       "WhoamiResponse");
	tamwil__v1__response__free_unpacked(resp, NULL);
	h_whoami_request(&req, &body, 2);
	assert_int_equal(h_noise_send(&c, &req, IO_MS), H_IO_OK);
	assert_int_equal(h_noise_recv(&c, &resp, IO_MS), H_IO_OK);
	assert_true(resp->request_id == 2);
	assert_int_equal(resp->body_case, TAMWIL__V1__RESPONSE__BODY_WHOAMI);
	tamwil__v1__response__free_unpacked(resp, NULL);
	h_noise_close(&c);
	/* Message 3 without a request, then the first request on its own. */
	assert_int_equal(
	    h_noise_start(&c, f->d.port, f->admin_key, f->server_pub, IO_MS),
	    0);
	assert_int_equal(h_noise_finish(&c, NULL, IO_MS), H_IO_OK);
	h_whoami_request(&req, &body, 77);
	assert_int_equal(h_noise_send(&c, &req, IO_MS), H_IO_OK);
	assert_int_equal(h_noise_recv(&c, &resp, IO_MS), H_IO_OK);
	assert_true(resp->request_id == 77);
	assert_int_equal(resp->body_case, TAMWIL__V1__RESPONSE__BODY_WHOAMI);
	assert_string_equal(resp->whoami->name, ADMIN_NAME);
	tamwil__v1__response__free_unpacked(resp, NULL);
	h_noise_close(&c);
	check_still_serves(f);
}

/* Bytes that are no frame at all (an HTTP request) close at once. */
static void test_raw_garbage(void **state)
{
	struct fixture *f = *state;
	static const char http[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	const char *const extra[] = {"--handshake-timeout", LONG_HS, NULL};

	start_daemon(f, extra);
	check_raw_refused(f, (const uint8_t *)http, sizeof(http) - 1,
			  "bad frame", "HTTP request");
	check_still_serves(f);
}

/* A well-framed message 1 of random bytes does not decrypt: closed. */
static void test_raw_random_msg1(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"--handshake-timeout", LONG_HS, NULL};
	uint8_t msg[FRAME_HEADER_LEN + CHANNEL_MSG1_LEN];

	start_daemon(f, extra);
	assert_int_equal(frame_put_header(msg, CHANNEL_MSG1_LEN), 0);
	randombytes_buf(msg + FRAME_HEADER_LEN, CHANNEL_MSG1_LEN);
	check_raw_refused(f, msg, sizeof(msg), NULL, "random message 1");
	check_still_serves(f);
}

/* Message 1 announced above its 48 bytes (0xFFFF, then 49) closes at once. */
static void test_raw_oversize_msg1(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"--handshake-timeout", LONG_HS, NULL};
	uint8_t msg[FRAME_HEADER_LEN + 128];

	start_daemon(f, extra);
	memset(msg, 0x5a, sizeof(msg));
	msg[0] = 0xff;
	msg[1] = 0xff;
	check_raw_refused(f, msg, sizeof(msg), "bad frame",
			  "0xFFFF-byte message 1");
	assert_int_equal(frame_put_header(msg, CHANNEL_MSG1_LEN + 1), 0);
	check_raw_refused(f, msg, FRAME_HEADER_LEN + CHANNEL_MSG1_LEN + 1,
			  "bad frame", "49-byte message 1");
	check_still_serves(f);
}

/* A zero-length frame closes at once. */
static void test_raw_zero_length_frame(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"--handshake-timeout", LONG_HS, NULL};
	static const uint8_t zero[FRAME_HEADER_LEN] = {0, 0};

	start_daemon(f, extra);
	check_raw_refused(f, zero, sizeof(zero), "bad frame",
			  "zero-length frame");
	check_still_serves(f);
}

/*
 * Connects, sends bytes (len may be 0) and checks the daemon, started with
 * --handshake-timeout 1, closes the connection at its handshake deadline:
 * not before about a second, within 5 s, logging "handshake timeout".
 */
static void check_deadline_close(struct fixture *f, const uint8_t *bytes,
				 size_t len, const char *what)
{
	long from = h_file_size(f->d.log);
	int64_t t0 = h_now_ms();
	int fd = h_tcp_connect(f->d.port, IO_MS);

	assert_true(fd >= 0);
	assert_int_equal(h_send_all(fd, bytes, len, IO_MS), H_IO_OK);
	check_closed_within(fd, t0, 5000, what);
	close(fd);
	if (h_now_ms() - t0 < 900)
		H_FAIL("%s: closed after %lld ms, before the deadline", what,
		       (long long)(h_now_ms() - t0));
	check_log(f, from, "refused", "handshake timeout");
}

/* Header says 48, 10 bytes come, then nothing: the deadline closes it. */
static void test_raw_truncated_frame(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"--handshake-timeout", "1", NULL};
	uint8_t msg[FRAME_HEADER_LEN + 10];

	start_daemon(f, extra);
	assert_int_equal(frame_put_header(msg, CHANNEL_MSG1_LEN), 0);
	randombytes_buf(msg + FRAME_HEADER_LEN, 10);
	check_deadline_close(f, msg, sizeof(msg), "truncated message 1");
	check_still_serves(f);
}

/* A client that connects and says nothing is closed at the deadline. */
static void test_raw_silent_client(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"--handshake-timeout", "1", NULL};

	start_daemon(f, extra);
	check_deadline_close(f, NULL, 0, "silent client");
	check_still_serves(f);
}

/*
 * With --max-connections 2, two silent clients fill the daemon: a third
 * connection is closed at once and logged, and once the two leave, a
 * well-behaved client is served again.
 */
/*
 * With a limit of two connections, two silent ones are held and a third
 * is closed at once and logged; then the two are closed.
 */
static void check_limit_of_two(struct fixture *f)
{
	int a, b, c;
	int64_t t0;
	long from;

	a = h_tcp_connect(f->d.port, IO_MS);
	b = h_tcp_connect(f->d.port, IO_MS);
	assert_true(a >= 0 && b >= 0);
	/* Let the daemon accept both before the third arrives. */
	h_sleep_ms(200);
	from = h_file_size(f->d.log);
	t0 = h_now_ms();
	c = h_tcp_connect(f->d.port, IO_MS);
	assert_true(c >= 0);
	check_closed_within(c, t0, PROMPT_MS, "connection over the limit");
	close(c);
	check_log(f, from, "refused", "connection limit reached");
	close(a);
	close(b);
	h_sleep_ms(200);
}

static void test_connection_limit(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"--handshake-timeout", LONG_HS,
				     "--max-connections", "2", NULL};

	start_daemon(f, extra);
	check_limit_of_two(f);
	check_still_serves(f);
}

/*
 * With a burst of 2 handshakes and one more per second, a third
 * connection at once is closed and logged; a client that waits its turn
 * is served.
 */
static void test_handshake_rate_limit(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"--handshake-timeout",
				     LONG_HS,
				     "--handshake-burst",
				     "2",
				     "--handshake-rate",
				     "1",
				     NULL};
	int a, b, c;
	int64_t t0;
	long from;

	start_daemon(f, extra);
	a = h_tcp_connect(f->d.port, IO_MS);
	b = h_tcp_connect(f->d.port, IO_MS);
	assert_true(a >= 0 && b >= 0);
	h_sleep_ms(100);
	from = h_file_size(f->d.log);
	t0 = h_now_ms();
	c = h_tcp_connect(f->d.port, IO_MS);
	assert_true(c >= 0);
	check_closed_within(c, t0, PROMPT_MS, "handshake over the rate");
	close(c);
	check_log(f, from, "refused", "too many handshakes");
	close(a);
	close(b);
	h_sleep_ms(1200);
	check_still_serves(f);
}

/*
 * SIGHUP reads the settings again: a lower connection limit holds at
 * once, a change that needs a restart is named, and a file that does not
 * read leaves everything as it was, the daemon still serving.
 */
static void test_reload(void **state)
{
	struct fixture *f = *state;
	char conf[H_PATH_MAX];
	const char *const extra[] = {"--config", conf, "--handshake-timeout",
				     LONG_HS, NULL};
	long from;

	assert_int_equal(h_path(conf, sizeof(conf), f->dir, "reload.conf"), 0);
	assert_int_equal(h_write_file(conf, "[tamwild]\nmax_connections = 50\n"
					    "workers = 2\n"),
			 0);
	start_daemon(f, extra);
	check_still_serves(f);

	from = h_file_size(f->d.log);
	assert_int_equal(h_write_file(conf, "[tamwild]\nmax_connections = 2\n"
					    "workers = 3\n"),
			 0);
	assert_int_equal(kill(f->d.pid, SIGHUP), 0);
	check_log(f, from, "reload: settings read again", "max 2 connections");
	check_log(f, from, "workers changed", "restarts");
	check_limit_of_two(f);

	from = h_file_size(f->d.log);
	assert_int_equal(h_write_file(conf, "[tamwild]\nmax_connections = "
					    "lots\n"),
			 0);
	assert_int_equal(kill(f->d.pid, SIGHUP), 0);
	check_log(f, from, "reload:", "the settings stay as they were");
	check_still_serves(f);
}

/* One flipped bit in message 3 (the encrypted static key): closed, no answer.
 */
static void test_raw_flipped_msg3(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"--handshake-timeout", LONG_HS, NULL};
	uint8_t msg[FRAME_MAX_BODY];
	Tamwil__V1__WhoamiRequest body;
	Tamwil__V1__Request req;
	size_t len;
	h_noise c;
	long from;
	int64_t t0;

	start_daemon(f, extra);
	assert_int_equal(
	    h_noise_start(&c, f->d.port, f->admin_key, f->server_pub, IO_MS),
	    0);
	h_whoami_request(&req, &body, 3);
	assert_int_equal(h_noise_msg3(&c, &req, msg, sizeof(msg), &len), 0);
	msg[5] ^= 0x04;
	from = h_file_size(f->d.log);
	t0 = h_now_ms();
	assert_int_equal(h_frame_send(c.fd, msg, len, IO_MS), H_IO_OK);
	check_closed_within(c.fd, t0, PROMPT_MS, "flipped message 3");
	h_noise_close(&c);
	check_log(f, from, "refused", NULL);
	check_still_serves(f);
}

/* After a good handshake, a frame with one flipped bit: closed, no answer. */
static void test_raw_flipped_transport(void **state)
{
	struct fixture *f = *state;
	uint8_t msg[FRAME_MAX_BODY];
	Tamwil__V1__WhoamiRequest body;
	Tamwil__V1__Request req;
	Tamwil__V1__Response *resp;
	size_t len;
	h_noise c;
	long from;
	int64_t t0;

	start_daemon(f, NULL);
	assert_int_equal(
	    h_noise_start(&c, f->d.port, f->admin_key, f->server_pub, IO_MS),
	    0);
	h_whoami_request(&req, &body, 1);
	assert_int_equal(h_noise_finish(&c, &req, IO_MS), H_IO_OK);
	assert_int_equal(h_noise_recv(&c, &resp, IO_MS), H_IO_OK);
	assert_true(resp->request_id == 1);
	tamwil__v1__response__free_unpacked(resp, NULL);
	h_whoami_request(&req, &body, 2);
	assert_int_equal(h_noise_seal(&c, &req, msg, sizeof(msg), &len), 0);
	msg[len / 2] ^= 0x01;
	from = h_file_size(f->d.log);
	t0 = h_now_ms();
	assert_int_equal(h_frame_send(c.fd, msg, len, IO_MS), H_IO_OK);
	check_closed_within(c.fd, t0, PROMPT_MS, "flipped transport frame");
	h_noise_close(&c);
	check_log(f, from, "decryption failed", NULL);
	check_still_serves(f);
}

/* ---- load and shutdown -------------------------------------------------- */

/* Kills and reaps the first n children of procs. */
static void kill_all(h_proc *procs, int n, h_result *r)
{
	for (int i = 0; i < n; i++)
		h_collect(&procs[i], h_now_ms(), r);
}

/*
 * N_CLIENTS whoami processes at once (N_CLIENTS_SLOW under a checker,
 * TAMWIL_E2E_WRAP): all answered, by name.
 */
static void test_concurrent_clients(void **state)
{
	struct fixture *f = *state;
	h_proc *procs;
	h_result *r;
	char server[64];
	int64_t deadline;
	int ok = 0, first_bad = -1;
	int n = h_count(N_CLIENTS, N_CLIENTS_SLOW);

	start_daemon(f, NULL);
	procs = calloc((size_t)n, sizeof(*procs));
	r = calloc(1, sizeof(*r));
	if (procs == NULL || r == NULL) {
		free(procs);
		free(r);
		H_FAIL("out of memory");
	}
	snprintf(server, sizeof(server), "127.0.0.1:%d", f->d.port);
	const char *argv[] = {h_tamwil_path(), "--server",    server,
			      "--server-key",  f->server_pub, "--key",
			      f->admin_key,    "whoami",      NULL};
	for (int i = 0; i < n; i++) {
		if (h_spawn(&procs[i], argv, f->env) != 0) {
			kill_all(procs, i, r);
			free(procs);
			free(r);
			H_FAIL("cannot start client %d", i);
		}
	}
	deadline = h_now_ms() + h_wait_ms(30000);
	for (int i = 0; i < n; i++) {
		if (h_collect(&procs[i], deadline, r) == 0 && h_ok(r) &&
		    strstr(r->out, ADMIN_NAME) != NULL) {
			ok++;
		} else if (first_bad < 0) {
			first_bad = i;
			h_result_print(r, "the first failing client");
		}
	}
	free(procs);
	free(r);
	if (ok != n)
		H_FAIL("%d of %d simultaneous clients succeeded", ok, n);
	check_still_serves(f);
}

/* SIGTERM: exit status 0, "stopped" in the log, idle clients let go. */
static void test_sigterm(void **state)
{
	struct fixture *f = *state;
	Tamwil__V1__WhoamiRequest body;
	Tamwil__V1__Request req;
	Tamwil__V1__Response *resp;
	int wstatus, port, fd;
	h_noise c;
	long from;

	start_daemon(f, NULL);
	check_whoami(f, f->admin_key, ADMIN_NAME);
	/* An established, idle connection must not hold the daemon up. */
	assert_int_equal(
	    h_noise_start(&c, f->d.port, f->admin_key, f->server_pub, IO_MS),
	    0);
	h_whoami_request(&req, &body, 9);
	assert_int_equal(h_noise_finish(&c, &req, IO_MS), H_IO_OK);
	assert_int_equal(h_noise_recv(&c, &resp, IO_MS), H_IO_OK);
	tamwil__v1__response__free_unpacked(resp, NULL);
	port = f->d.port;
	from = h_file_size(f->d.log);
	if (h_daemon_stop(&f->d, 5000, &wstatus) != 0) {
		h_noise_close(&c);
		h_log_dump(f->d.log, from);
		H_FAIL("tamwild did not stop within 5 s of SIGTERM");
	}
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
	assert_int_not_equal(h_wait_closed(c.fd, 1000), H_CLOSE_OPEN);
	h_noise_close(&c);
	check_log(f, from, "stopped", NULL);
	fd = h_tcp_connect(port, 1000);
	if (fd >= 0)
		close(fd);
	assert_true(fd < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_keygen_private_file, test_teardown),
	    cmocka_unit_test_teardown(test_whoami_admin, test_teardown),
	    cmocka_unit_test_teardown(test_whoami_json, test_teardown),
	    cmocka_unit_test_teardown(test_whoami_config_file, test_teardown),
	    cmocka_unit_test_teardown(test_unenrolled_key_refused,
				      test_teardown),
	    cmocka_unit_test_teardown(test_wrong_server_key, test_teardown),
	    cmocka_unit_test_teardown(test_revoked_key_refused, test_teardown),
	    cmocka_unit_test_teardown(test_local_revoke_closes_channel,
				      test_teardown),
	    cmocka_unit_test_teardown(test_local_revoke_no_daemon,
				      test_teardown),
	    cmocka_unit_test_teardown(test_revoke_crossing_handshake,
				      test_teardown),
	    cmocka_unit_test_teardown(test_daemon_down, test_teardown),
	    cmocka_unit_test_teardown(test_raw_valid_requests, test_teardown),
	    cmocka_unit_test_teardown(test_raw_garbage, test_teardown),
	    cmocka_unit_test_teardown(test_raw_random_msg1, test_teardown),
	    cmocka_unit_test_teardown(test_raw_oversize_msg1, test_teardown),
	    cmocka_unit_test_teardown(test_raw_zero_length_frame,
				      test_teardown),
	    cmocka_unit_test_teardown(test_raw_truncated_frame, test_teardown),
	    cmocka_unit_test_teardown(test_connection_limit, test_teardown),
	    cmocka_unit_test_teardown(test_handshake_rate_limit, test_teardown),
	    cmocka_unit_test_teardown(test_reload, test_teardown),
	    cmocka_unit_test_teardown(test_raw_silent_client, test_teardown),
	    cmocka_unit_test_teardown(test_raw_flipped_msg3, test_teardown),
	    cmocka_unit_test_teardown(test_raw_flipped_transport,
				      test_teardown),
	    cmocka_unit_test_teardown(test_concurrent_clients, test_teardown),
	    cmocka_unit_test_teardown(test_sigterm, test_teardown),
	};

	return cmocka_run_group_tests_name("channel", tests, group_setup,
					   group_teardown);
}
