/*
 * Smoke test of tamwil-bench, so the benchmark keeps working between the
 * times someone measures with it: a run of a few seconds with tiny counts
 * against the daemon it starts, one against a daemon it is given, and
 * the refusals of its command line. It checks the JSON parses and every
 * count is what was asked; it measures nothing.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "harness_domain.h"

#define SMOKE_TIMEOUT_MS 120000
#define SMOKE_OPS	 20

/* The benchmark's path, from env TAMWIL_BENCH. */
static const char *smoke_bench(void)
{
	const char *p = getenv("TAMWIL_BENCH");

	if (p == NULL || p[0] == '\0')
		H_FAIL("set TAMWIL_BENCH to the tamwil-bench program");
	return p;
}

/* Runs c; the JSON on its stdout, parsed (the caller frees), or fails. */
static json_t *smoke_json(const hd_cmd *c)
{
	hd_result r = {0};
	json_t *root;

	assert_int_equal(hd_run(&r, SMOKE_TIMEOUT_MS, NULL, c), 0);
	if (!hd_ok(&r)) {
		hd_result_print(&r, "tamwil-bench");
		hd_result_free(&r);
		H_FAIL("tamwil-bench failed");
	}
	root = json_loads(r.out, 0, NULL);
	if (root == NULL) {
		hd_result_print(&r, "tamwil-bench");
		hd_result_free(&r);
		H_FAIL("tamwil-bench --json did not print one JSON object");
	}
	hd_result_free(&r);
	return root;
}

/* Checks one result row: the counts asked for, sane figures. */
static void smoke_row(json_t *row, long want_ops)
{
	int64_t ops, errors;
	json_t *lat = json_object_get(row, "latency_ms"), *share;
	double p50, p99, max, rate;

	assert_int_equal(hd_json_int(row, "ops", &ops), 0);
	assert_int_equal(hd_json_int(row, "errors", &errors), 0);
	assert_int_equal(ops, want_ops);
	assert_int_equal(errors, 0);
	assert_true(json_is_null(json_object_get(row, "first_error")));
	assert_true(json_is_false(json_object_get(row, "pool_exhausted")));
	rate = json_real_value(json_object_get(row, "ops_per_s"));
	assert_true(rate > 0);
	assert_non_null(lat);
	p50 = json_real_value(json_object_get(lat, "p50"));
	p99 = json_real_value(json_object_get(lat, "p99"));
	max = json_real_value(json_object_get(lat, "max"));
	assert_true(p50 > 0 && p50 <= p99 && p99 <= max);
	/* The server's process is known in both tests: its own, or given. */
	assert_true(json_is_real(json_object_get(row, "server_cpu_us_per_op")));
	assert_true(
	    json_real_value(json_object_get(row, "server_cpu_us_per_op")) >= 0);
	assert_true(
	    json_real_value(json_object_get(row, "client_cpu_us_per_op")) > 0);
	/*
	 * The writer thread is found by its name: one thread, so at most one
	 * CPU, give or take the clock ticks /proc counts in over a short run.
	 */
	share = json_object_get(row, "writer_cpu_share");
	assert_true(json_is_real(share));
	assert_true(json_real_value(share) >= 0 &&
		    json_real_value(share) <= 1.5);
}

/* How many rows of root are workload `kind` signed `signing`. */
static size_t smoke_rows(json_t *root, const char *kind, const char *signing,
			 long want_ops)
{
	json_t *rows = json_object_get(root, "results"), *row;
	size_t i, n = 0;

	json_array_foreach(rows, i, row)
	{
		const char *k = json_string_value(
			       json_object_get(row, "workload")),
			   *s = json_string_value(
			       json_object_get(row, "signing"));

		if (k == NULL || s == NULL || strcmp(k, kind) != 0 ||
		    strcmp(s, signing) != 0)
			continue;
		smoke_row(row, want_ops);
		n++;
	}
	return n;
}

/* Checks the idle figures for the counts asked, in order. */
static void smoke_idle(json_t *root, const long *counts, size_t n)
{
	json_t *idle = json_object_get(root, "idle");

	assert_int_equal(json_array_size(idle), n);
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_array_get(idle, i);
		int64_t conns, after;

		assert_int_equal(hd_json_int(d, "connections", &conns), 0);
		assert_int_equal(hd_json_int(d, "rss_after", &after), 0);
		assert_int_equal(conns, counts[i]);
		assert_true(after > 0);
	}
}

/*
 * Every workload, both ways of signing, two client counts, against the
 * daemon the benchmark starts: every row answered SMOKE_OPS operations
 * without an error, and the mix did all three kinds of operation.
 */
static void test_every_workload(void **state)
{
	const long idle[] = {10, 30};
	json_t *root, *row, *verify, *sync;
	int64_t n;
	hd_cmd c;
	size_t i;

	(void)state;
	hd_cmd_init(&c, smoke_bench());
	hd_cmd_add(&c, "-w");
	hd_cmd_add(&c, "submit,mix,list,handshake,idle");
	hd_cmd_add(&c, "-c");
	hd_cmd_add(&c, "1,2");
	hd_cmd_addf(&c, "-n%d", SMOKE_OPS);
	hd_cmd_add(&c, "--sign-inline");
	hd_cmd_add(&c, "--idle");
	hd_cmd_add(&c, "10,30");
	hd_cmd_add(&c, "--json");
	root = smoke_json(&c);
	assert_true(json_is_true(json_object_get(root, "started_daemon")));
	assert_int_equal(json_array_size(json_object_get(root, "results")), 12);
	assert_int_equal(smoke_rows(root, "submit", "before", SMOKE_OPS), 2);
	assert_int_equal(smoke_rows(root, "submit", "inline", SMOKE_OPS), 2);
	assert_int_equal(smoke_rows(root, "mix", "before", SMOKE_OPS), 2);
	assert_int_equal(smoke_rows(root, "mix", "inline", SMOKE_OPS), 2);
	assert_int_equal(smoke_rows(root, "list", "-", SMOKE_OPS), 2);
	assert_int_equal(smoke_rows(root, "handshake", "-", SMOKE_OPS), 2);
	json_array_foreach(json_object_get(root, "results"), i, row)
	{
		json_t *k = json_object_get(row, "by_kind");
		int64_t s, d, t;

		if (k == NULL)
			continue;
		assert_int_equal(hd_json_int(k, "submissions", &s), 0);
		assert_int_equal(hd_json_int(k, "decisions", &d), 0);
		assert_int_equal(hd_json_int(k, "disbursements", &t), 0);
		assert_true(s > 0 && d > 0 && t > 0);
		assert_int_equal(s + d + t, SMOKE_OPS);
	}
	assert_true(strstr(json_string_value(json_object_get(root, "signing")),
			   "before the clock starts") != NULL);
	verify = json_object_get(root, "ed25519_verify");
	assert_int_equal(hd_json_int(verify, "count", &n), 0);
	assert_int_equal(n, 3000);
	assert_true(json_real_value(json_object_get(verify, "us_each")) > 0);
	sync = json_object_get(root, "fdatasync");
	assert_int_equal(hd_json_int(sync, "count", &n), 0);
	assert_int_equal(n, 200);
	assert_true(json_real_value(json_object_get(sync, "us_median")) > 0);
	assert_non_null(
	    strstr(json_string_value(json_object_get(sync, "dir")), "/state"));
	smoke_idle(root, idle, 2);
	json_decref(root);
}

/*
 * A state folder kept with --state and --prefill, then a daemon started
 * on it by hand and measured with --server: the prefill reached its
 * count, and the given server's idle figures came from --server-pid.
 */
static void test_given_server(void **state)
{
	char dir[H_PATH_MAX], st[H_PATH_MAX], log[H_PATH_MAX];
	char pub[H_PATH_MAX], key[H_PATH_MAX];
	const long idle[] = {10};
	int64_t n;
	h_daemon d = {0};
	json_t *root;
	hd_cmd c;
	int ws;

	(void)state;
	assert_int_equal(h_tmpdir_create(dir, sizeof(dir)), 0);
	assert_int_equal(h_path(st, sizeof(st), dir, "state"), 0);
	hd_cmd_init(&c, smoke_bench());
	hd_cmd_add(&c, "-w");
	hd_cmd_add(&c, "list");
	hd_cmd_add(&c, "-c");
	hd_cmd_add(&c, "1");
	hd_cmd_add(&c, "-n5");
	hd_cmd_add(&c, "--state");
	hd_cmd_add(&c, st);
	hd_cmd_add(&c, "--prefill");
	hd_cmd_add(&c, "40");
	hd_cmd_add(&c, "--json");
	root = smoke_json(&c);
	assert_int_equal(hd_json_int(root, "applications_at_start", &n), 0);
	assert_int_equal(n, 40);
	json_decref(root);

	assert_int_equal(h_path(log, sizeof(log), dir, "tamwild.log"), 0);
	assert_int_equal(h_path(pub, sizeof(pub), st, "server.pub"), 0);
	assert_int_equal(h_path(key, sizeof(key), st, "bench-admin.key"), 0);
	assert_int_equal(h_daemon_start(&d, st, log, NULL, NULL), 0);
	hd_cmd_init(&c, smoke_bench());
	hd_cmd_add(&c, "-w");
	hd_cmd_add(&c, "submit,idle");
	hd_cmd_add(&c, "-c");
	hd_cmd_add(&c, "2");
	hd_cmd_addf(&c, "-n%d", SMOKE_OPS);
	hd_cmd_add(&c, "--idle");
	hd_cmd_add(&c, "10");
	hd_cmd_add(&c, "--server");
	hd_cmd_addf(&c, "127.0.0.1:%d", d.port);
	hd_cmd_add(&c, "--server-key");
	hd_cmd_add(&c, pub);
	hd_cmd_add(&c, "--admin-key");
	hd_cmd_add(&c, key);
	hd_cmd_add(&c, "--server-pid");
	hd_cmd_addf(&c, "%ld", (long)d.pid);
	hd_cmd_add(&c, "--json");
	root = smoke_json(&c);
	h_daemon_stop(&d, 10000, &ws);
	assert_true(json_is_false(json_object_get(root, "started_daemon")));
	assert_int_equal(hd_json_int(root, "applications_at_start", &n), 0);
	assert_true(n >= 40);
	assert_int_equal(smoke_rows(root, "submit", "before", SMOKE_OPS), 1);
	smoke_idle(root, idle, 1);
	json_decref(root);
	assert_int_equal(h_tmpdir_remove(dir), 0);
}

/*
 * The log of the daemon a benchmark started under TMPDIR dir, once it
 * says it listens, into log; 0, or -1 when there is none (yet).
 */
static int smoke_daemon_log(const char *dir, char *log, size_t cap)
{
	char text[4096];
	struct dirent *e;
	DIR *d = opendir(dir);
	size_t len;
	int rc = -1;

	if (d == NULL)
		return -1;
	while (rc != 0 && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "tamwil-bench.", 13) != 0 ||
		    snprintf(log, cap, "%s/%s/tamwild.log", dir, e->d_name) >=
			(int)cap)
			continue;
		if (h_read_file(log, 0, text, sizeof(text), &len) == 0 &&
		    strstr(text, "listening on") != NULL)
			rc = 0;
	}
	closedir(d);
	return rc;
}

/* 1 when dir holds nothing but "." and "..". */
static int smoke_empty(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int empty = 1;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/*
 * SIGTERM in the middle of a run: the benchmark stops its daemon, removes
 * its temporary folder, says it was interrupted and exits 128 + 15.
 */
static void test_interrupted(void **state)
{
	char dir[H_PATH_MAX], env[H_PATH_MAX + 8], log[H_PATH_MAX];
	const char *argv[] = {smoke_bench(), "-w", "submit", "-c",
			      "1",	     "-d", "60",     NULL};
	const char *envv[] = {env, NULL};
	int64_t deadline = h_now_ms() + 20000;
	h_result *r = calloc(1, sizeof(*r));
	h_proc p;

	(void)state;
	assert_non_null(r);
	assert_int_equal(h_tmpdir_create(dir, sizeof(dir)), 0);
	snprintf(env, sizeof(env), "TMPDIR=%s", dir);
	assert_int_equal(h_spawn(&p, argv, envv), 0);
	while (smoke_daemon_log(dir, log, sizeof(log)) != 0 &&
	       h_now_ms() < deadline)
		h_sleep_ms(50);
	h_sleep_ms(500);
	assert_int_equal(kill(p.pid, SIGTERM), 0);
	assert_int_equal(h_collect(&p, h_now_ms() + 20000, r), 0);
	if (!r->exited || r->status != 128 + SIGTERM ||
	    strstr(r->err, "tamwil-bench: interrupted") == NULL ||
	    !smoke_empty(dir)) {
		h_result_print(r, "tamwil-bench");
		free(r);
		H_FAIL("SIGTERM did not stop the benchmark cleanly");
	}
	free(r);
	assert_int_equal(h_tmpdir_remove(dir), 0);
}

/* Runs the benchmark with args; checks exit status and a stderr line. */
static void smoke_refused(int status, const char *message, ...)
{
	const char *argv[16];
	va_list ap;
	h_result *r = calloc(1, sizeof(*r));
	int n = 0;

	assert_non_null(r);
	argv[n++] = smoke_bench();
	va_start(ap, message);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(h_run(r, 20000, NULL, argv), 0);
	if (!r->exited || r->status != status ||
	    strstr(r->err, message) == NULL || r->out_len != 0) {
		h_result_print(r, "tamwil-bench");
		free(r);
		H_FAIL("expected exit %d and \"%s\"", status, message);
	}
	free(r);
}

/* Every refusal of the command line names what was wrong. */
static void test_refusals(void **state)
{
	(void)state;
	smoke_refused(2,
		      "tamwil-bench: -c: '0' is not a whole number from 1 "
		      "to 512",
		      "-c", "1,0", NULL);
	smoke_refused(2, "tamwil-bench: -c: ',' is not a list of numbers", "-c",
		      ",", NULL);
	smoke_refused(2, "tamwil-bench: -d: 'soon' is not a whole number", "-d",
		      "soon", NULL);
	smoke_refused(2, "tamwil-bench: -n: '0' is not a whole number", "-n",
		      "0", NULL);
	smoke_refused(2,
		      "tamwil-bench: -w: unknown workload 'upload' (submit, "
		      "mix, list, handshake or idle)",
		      "-w", "submit,upload", NULL);
	smoke_refused(2,
		      "tamwil-bench: --sign: 'later' is not before, inline "
		      "or both",
		      "--sign", "later", NULL);
	smoke_refused(2,
		      "tamwil-bench: --server, --server-key and --admin-key "
		      "go together",
		      "--server", "127.0.0.1:7405", NULL);
	smoke_refused(2, "tamwil-bench: --server-pid goes with --server",
		      "--server-pid", "1", NULL);
	smoke_refused(2,
		      "tamwil-bench: --tamwild and --state are for a daemon "
		      "the benchmark starts",
		      "--server", "127.0.0.1:7405", "--server-key", "s.pub",
		      "--admin-key", "a.key", "--state", "/tmp/x", NULL);
	smoke_refused(2, "tamwil-bench: unexpected argument 'now'", "now",
		      NULL);
	smoke_refused(
	    1, "tamwil-bench: --server-key /nonexistent/s.pub: ", "-w",
	    "submit", "--server", "127.0.0.1:7405", "--server-key",
	    "/nonexistent/s.pub", "--admin-key", "/nonexistent/a.key", NULL);
	smoke_refused(1,
		      "tamwil-bench: --idle needs 900256 descriptors but "
		      "the limit is",
		      "-w", "idle", "--idle", "900000", NULL);
	smoke_refused(1,
		      "tamwil-bench: --tamwild /nonexistent/tamwild: No such "
		      "file or directory",
		      "-w", "submit", "--tamwild", "/nonexistent/tamwild",
		      NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_every_workload),
	    cmocka_unit_test(test_given_server),
	    cmocka_unit_test(test_interrupted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
