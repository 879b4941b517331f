/*
 * Unit tests of libtamwil-client's settings: where the configuration file
 * is, what it may say, how its paths resolve, how server addresses split,
 * and the names the client shows for roles and error codes.
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

#include "tamwil-client.h"
#include "tamwil-config.h"

static void test_path_prefers_env(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(tamwil_config_path("/etc/t.conf", "/x", "/home/a", buf,
					    sizeof(buf)),
			 0);
	assert_string_equal(buf, "/etc/t.conf");
	assert_int_equal(
	    tamwil_config_path("", "/x", "/home/a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x/tamwil/client.conf");
	assert_int_equal(
	    tamwil_config_path(NULL, NULL, "/home/a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/a/.config/tamwil/client.conf");
}

static void test_path_ignores_relative_xdg(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(
	    tamwil_config_path(NULL, "rel", "/home/a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/a/.config/tamwil/client.conf");
	assert_int_equal(tamwil_config_path(NULL, NULL, NULL, buf, sizeof(buf)),
			 -1);
	assert_int_equal(tamwil_config_path(NULL, NULL, "/home/a", buf, 8), -1);
}

static void test_parse_default_section(void **state)
{
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	assert_int_equal(tamwil_config_parse("server = ho.example:7000\n"
					     "server_key = server.pub\n"
					     "key = /abs/me.key\n",
					     "/etc/tamwil/client.conf", &cfg,
					     &err),
			 0);
	assert_string_equal(cfg.server, "ho.example:7000");
	assert_string_equal(cfg.server_key, "/etc/tamwil/server.pub");
	assert_string_equal(cfg.key, "/abs/me.key");
	assert_string_equal(cfg.path, "/etc/tamwil/client.conf");
}

static void test_parse_section_quotes_comments(void **state)
{
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	assert_int_equal(
	    tamwil_config_parse("# regional office of Souss\n"
				"[tamwil]\n"
				"server = \"10.0.0.5\" ; head office\n"
				"key = \"my key.key\"\n",
				"client.conf", &cfg, &err),
	    0);
	assert_string_equal(cfg.server, "10.0.0.5");
	assert_string_equal(cfg.key, "./my key.key");
	assert_string_equal(cfg.server_key, "");
}

static void test_parse_home_paths(void **state)
{
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	assert_int_equal(setenv("HOME", "/home/fatima", 1), 0);
	assert_int_equal(tamwil_config_parse("key = ~/keys/f.key\n",
					     "/etc/c.conf", &cfg, &err),
			 0);
	assert_string_equal(cfg.key, "/home/fatima/keys/f.key");
}

static void test_parse_unknown_setting(void **state)
{
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	assert_int_equal(tamwil_config_parse("server = x\n\nsrever_key = y\n",
					     "c.conf", &cfg, &err),
			 -1);
	assert_int_equal(err.status, TAMWIL_ERR_LOCAL);
	assert_non_null(strstr(err.message, "c.conf:3: unknown setting "
					    "\"srever_key\""));
}

static void test_parse_unknown_section(void **state)
{
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	assert_int_equal(
	    tamwil_config_parse("[server]\nkey = y\n", "c.conf", &cfg, &err),
	    -1);
	assert_non_null(strstr(err.message, "c.conf:2: unknown section"));
}

static void test_parse_syntax_error_line(void **state)
{
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	assert_int_equal(tamwil_config_parse("server = x\nnot a setting\n"
					     "bogus = 1\n",
					     "c.conf", &cfg, &err),
			 -1);
	assert_non_null(strstr(err.message, "c.conf:2: cannot parse"));
}

static void test_parse_empty_value(void **state)
{
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	assert_int_equal(tamwil_config_parse("key =\n", "c.conf", &cfg, &err),
			 -1);
	assert_non_null(strstr(err.message, "c.conf:1: key has no value"));
}

static void test_parse_long_line(void **state)
{
	char text[600];
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	memset(text, 'a', sizeof(text));
	memcpy(text, "key = ", 6);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(tamwil_config_parse(text, "c.conf", &cfg, &err), -1);
	assert_non_null(strstr(err.message, "c.conf:1: line too long"));
}

static void test_load_missing_file(void **state)
{
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	assert_int_equal(tamwil_config_load("/nonexistent/tamwil/client.conf",
					    0, &cfg, &err),
			 0);
	assert_string_equal(cfg.path, "");
	assert_int_equal(tamwil_config_load("/nonexistent/tamwil/client.conf",
					    1, &cfg, &err),
			 -1);
	assert_string_equal(err.message, "cannot read /nonexistent/tamwil/"
					 "client.conf: no such file or "
					 "directory");
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/tamwil-config-XXXXXX";
	const char text[] = "server = 127.0.0.1\n";
	tamwil_config cfg;
	tamwil_error err;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
			 (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(tamwil_config_load(path, 1, &cfg, &err), 0);
	assert_string_equal(cfg.server, "127.0.0.1");
	assert_string_equal(cfg.path, path);
	unlink(path);
}

/* Parses server and checks host and port. */
static void check_server(const char *server, const char *host, const char *port)
{
	char h[64], p[8];
	tamwil_error err;

	assert_int_equal(
	    tamwil_server_parse(server, h, sizeof(h), p, sizeof(p), &err), 0);
	assert_string_equal(h, host);
	assert_string_equal(p, port);
}

static void test_server_forms(void **state)
{
	(void)state;
	check_server("ho.example.org", "ho.example.org", "7405");
	check_server("ho.example.org:9000", "ho.example.org", "9000");
	check_server("127.0.0.1:1", "127.0.0.1", "1");
	check_server("[::1]:65535", "::1", "65535");
	check_server("[fe80::1]", "fe80::1", "7405");
	check_server("::1", "::1", "7405");
}

static void test_server_errors(void **state)
{
	static const char *const bad[] = {
	    "",	      ":7405", "host:", "host:0", "host:65536",
	    "host:x", "[::1",  "[]:80", "[::1]x", "host:123456",
	};
	char h[64], p[8];
	tamwil_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tamwil_server_parse(bad[i], h, sizeof(h), p,
						     sizeof(p), &err),
				 -1);
		assert_int_equal(err.status, TAMWIL_ERR_LOCAL);
		assert_non_null(strstr(err.message, "server address"));
	}
	assert_int_equal(
	    tamwil_server_parse(NULL, h, sizeof(h), p, sizeof(p), &err), -1);
}

static void test_names(void **state)
{
	char buf[TAMWIL_CODE_NAME_MAX];

	(void)state;
	assert_string_equal(tamwil_role_name(1), "coordinator");
	assert_string_equal(tamwil_role_name(5), "admin");
	assert_string_equal(tamwil_role_name(99), "unknown");
	assert_string_equal(tamwil_error_code_name(4, buf, sizeof(buf)),
			    "permission_denied");
	assert_string_equal(tamwil_error_code_name(5, buf, sizeof(buf)),
			    "not_found");
	assert_string_equal(tamwil_error_code_name(9999, buf, sizeof(buf)),
			    "code_9999");
}

/* The example shipped in dist/ reads cleanly. */
static void test_shipped_example(void **state)
{
	tamwil_config cfg;
	tamwil_error err;

	(void)state;
	if (tamwil_config_load(TAMWIL_SOURCE_DIR "/dist/client.conf", 1, &cfg,
			       &err) != 0)
		fail_msg("%s", err.message);
	assert_string_equal(cfg.server, "tamwil.example.org:7405");
	assert_non_null(strstr(cfg.server_key, "/dist/server.pub"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_prefers_env),
	    cmocka_unit_test(test_path_ignores_relative_xdg),
	    cmocka_unit_test(test_parse_default_section),
	    cmocka_unit_test(test_parse_section_quotes_comments),
	    cmocka_unit_test(test_parse_home_paths),
	    cmocka_unit_test(test_parse_unknown_setting),
	    cmocka_unit_test(test_parse_unknown_section),
	    cmocka_unit_test(test_parse_syntax_error_line),
	    cmocka_unit_test(test_parse_empty_value),
	    cmocka_unit_test(test_parse_long_line),
	    cmocka_unit_test(test_load_missing_file),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_server_forms),
	    cmocka_unit_test(test_server_errors),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_shipped_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
