/*
 * Unit tests of tamwild's settings: defaults, the INI file, flags over
 * the file, and a clear refusal of every bad value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* Writes text to a fresh temporary file whose path goes to path. */
static void write_temp(char *path, size_t cap, const char *text)
{
	int fd;

	snprintf(path, cap, "/tmp/tamwild-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_defaults(void **state)
{
	config c;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:7405");
	assert_int_equal(c.handshake_timeout_ms, 5000);
	assert_int_equal(c.max_frame, 65535);
	assert_int_equal(c.workers, 0); /* one per core */
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
}

static void test_file_sets_values(void **state)
{
	char path[64], err[CONFIG_ERR_MAX];
	config c;

	(void)state;
	write_temp(path, sizeof(path),
		   "; head office\n[tamwild]\nlisten = 0.0.0.0:7500\n"
		   "handshake_timeout = 1.5\nmax_connections = 10\n"
		   "workers = 3\nlog_level = debug\n");
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, 1, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "0.0.0.0:7500");
	assert_int_equal(c.handshake_timeout_ms, 1500);
	assert_int_equal(c.max_connections, 10);
	assert_int_equal(c.workers, 3);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	unlink(path);
}

static void test_file_errors_name_line_and_setting(void **state)
{
	char path[64], err[CONFIG_ERR_MAX];
	config c;

	(void)state;
	write_temp(path, sizeof(path),
		   "listen = 127.0.0.1:1\nmax_frame = 12\nlisten = x:y\n");
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: "));
	assert_non_null(strstr(err, "max_frame"));
	unlink(path);

	write_temp(path, sizeof(path), "colour = blue\n");
	assert_int_equal(config_load_file(&c, path, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown setting 'colour'"));
	unlink(path);

	write_temp(path, sizeof(path), "[other]\nlisten = 1.2.3.4:5\n");
	assert_int_equal(config_load_file(&c, path, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown section [other]"));
	unlink(path);
}

static void test_missing_file(void **state)
{
	char err[CONFIG_ERR_MAX];
	config c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(
	    config_load_file(&c, "/nonexistent/t.conf", 0, err, sizeof(err)),
	    0);
	assert_int_equal(
	    config_load_file(&c, "/nonexistent/t.conf", 1, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/t.conf"));
}

/* The example shipped in dist/ and installed in /etc reads cleanly. */
static void test_shipped_example(void **state)
{
	char err[CONFIG_ERR_MAX];
	config c;

	(void)state;
	config_defaults(&c);
	if (config_load_file(&c, TAMWIL_SOURCE_DIR "/dist/tamwild.conf", 1, err,
			     sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.listen, "127.0.0.1:7405");
}

static void test_bad_values_refused(void **state)
{
	static const char *const bad[][2] = {
	    {"listen", "a:b:c"},
	    {"listen", "host:70000"},
	    {"listen", ""},
	    {"handshake_timeout", "0"},
	    {"handshake_timeout", "-1"},
	    {"handshake_timeout", "1000"},
	    {"idle_timeout", "0"},
	    {"max_connections", "0"},
	    {"max_connections", "1x"},
	    {"max_frame", "65536"},
	    {"max_frame", "100"},
	    {"workers", "65"},
	    {"workers", "-1"},
	    {"workers", "two"},
	    {"log_level", "loud"},
	};
	char err[CONFIG_ERR_MAX];
	config c;

	(void)state;
	config_defaults(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    config_set(&c, bad[i][0], bad[i][1], err, sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i][0]));
	}
	/* Nothing of the refused values was kept. */
	assert_string_equal(c.listen, "127.0.0.1:7405");
	assert_int_equal(c.max_frame, 65535);
	assert_int_equal(c.workers, 0);
}

static void test_split_hostport(void **state)
{
	char host[64];
	int port;

	(void)state;
	assert_int_equal(config_split_hostport("127.0.0.1:7405", host,
					       sizeof(host), &port, 1),
			 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 7405);
	assert_int_equal(
	    config_split_hostport("example.org", host, sizeof(host), &port, 9),
	    0);
	assert_string_equal(host, "example.org");
	assert_int_equal(port, 9);
	assert_int_equal(
	    config_split_hostport("[::1]:80", host, sizeof(host), &port, 9), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_equal(
	    config_split_hostport("::1", host, sizeof(host), &port, 9), -1);
	assert_int_equal(
	    config_split_hostport(":80", host, sizeof(host), &port, 9), -1);
	assert_int_equal(
	    config_split_hostport("[::1", host, sizeof(host), &port, 9), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_file_sets_values),
	    cmocka_unit_test(test_file_errors_name_line_and_setting),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_shipped_example),
	    cmocka_unit_test(test_bad_values_refused),
	    cmocka_unit_test(test_split_hostport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
