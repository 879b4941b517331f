/*
 * Passphrases from the environment or the terminal; see cli_passphrase.h.
 */
#include "cli_passphrase.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli_util.h"

int cli_passphrase_can_prompt(void)
{
	return isatty(STDIN_FILENO);
}

int cli_passphrase_from_env(char *buf, size_t cap)
{
	const char *v = getenv(CLI_PASSPHRASE_ENV);
	size_t len = v != NULL ? strlen(v) : 0;

	if (len == 0 || len >= cap)
		return -1;
	memcpy(buf, v, len + 1);
	return 0;
}

/* Writes all of text to fd, ignoring failures (it is only a prompt). */
static void put(int fd, const char *text)
{
	size_t len = strlen(text);

	while (len > 0) {
		ssize_t n = write(fd, text, len);
		if (n <= 0)
			return;
		text += n;
		len -= (size_t)n;
	}
}

/*
 * Reads one line from fd into buf; returns 0, or -1 on end of input or
 * when the line does not fit (the rest of it is consumed).
 */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	int fits = 1;
	char ch;

	for (;;) {
		ssize_t n = read(fd, &ch, 1);
		if (n <= 0)
			return -1;
		if (ch == '\n' || ch == '\r')
			break;
		if (len + 1 < cap)
			buf[len++] = ch;
		else
			fits = 0;
	}
	buf[len] = '\0';
	return fits ? 0 : -1;
}

int cli_passphrase_prompt(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	int fd, rc;

	if (cap == 0 || !cli_passphrase_can_prompt())
		return -1;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	put(fd, prompt);
	(void)tcsetattr(fd, TCSAFLUSH, &quiet);
	rc = read_line(fd, buf, cap);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	if (rc != 0)
		sodium_memzero(buf, cap);
	return rc;
}

int cli_passphrase_new(const char *path, char *buf, size_t cap)
{
	char again[CLI_PASSPHRASE_MAX];
	char prompt[256];
	int rc = -1;

	if (cli_passphrase_from_env(buf, cap) == 0)
		return 0;
	if (!cli_passphrase_can_prompt()) {
		cli_fail("--protect needs a passphrase: set %s or run on a "
			 "terminal",
			 CLI_PASSPHRASE_ENV);
		return -1;
	}
	snprintf(prompt, sizeof(prompt), "New passphrase for %s: ", path);
	if (cli_passphrase_prompt(prompt, buf, cap) != 0) {
		cli_fail("no passphrase was read");
		goto out;
	}
	if (buf[0] == '\0') {
		cli_fail("an empty passphrase protects nothing: type one, or "
			 "leave out --protect");
		goto out;
	}
	if (cli_passphrase_prompt("Repeat it: ", again, sizeof(again)) != 0 ||
	    strcmp(buf, again) != 0) {
		cli_fail("the two passphrases differ; nothing was written");
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(again, sizeof(again));
	if (rc != 0)
		sodium_memzero(buf, cap);
	return rc;
}
