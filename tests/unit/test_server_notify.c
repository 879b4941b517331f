/*
 * The readiness notification: what systemd's socket receives, for a path
 * and for an abstract name, and that nothing is sent outside systemd.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "notify.h"

/* Binds a datagram socket at name (a path, or "@name"); returns its fd. */
static int bind_dgram(const char *name)
{
	struct sockaddr_un sa;
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(
	    bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
	    0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[128];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
}

static void test_path_socket(void **state)
{
	char dir[] = "/tmp/tamwil-notify-XXXXXX", path[64];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = bind_dgram(path);
	assert_int_equal(notify_send(path, "READY=1"), 0);
	expect_datagram(fd, "READY=1");
	assert_int_equal(notify_send(path, "STOPPING=1"), 0);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void test_abstract_socket(void **state)
{
	char name[64];
	uint32_t r = randombytes_random();
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@tamwil-notify-test-%08x", r);
	fd = bind_dgram(name);
	assert_int_equal(notify_send(name, "READY=1"), 0);
	expect_datagram(fd, "READY=1");
	close(fd);
}

static void test_not_under_systemd(void **state)
{
	(void)state;
	assert_int_equal(notify_send(NULL, "READY=1"), 1);
	assert_int_equal(notify_send("", "READY=1"), 1);
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_env("READY=1"), 1);
}

static void test_refusals(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(notify_send("relative/path", "READY=1"), -1);
	assert_int_equal(errno, EINVAL);
	/* A socket nobody listens on: the failure is reported, not hidden. */
	assert_int_equal(notify_send("/nonexistent/tamwil/notify", "READY=1"),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_socket),
	    cmocka_unit_test(test_abstract_socket),
	    cmocka_unit_test(test_not_under_systemd),
	    cmocka_unit_test(test_refusals),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
