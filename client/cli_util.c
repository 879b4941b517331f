/*
 * Messages, exit statuses and output helpers shared by the tamwil
 * commands; see cli_util.h.
 */
#include "cli_util.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("tamwil: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("tamwil: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		fprintf(stderr, "\nRun 'tamwil %s --help' for its usage.\n",
			cmd);
	else
		fputs("\nRun 'tamwil --help' for usage.\n", stderr);
	return CLI_EXIT_USAGE;
}

int cli_bad_option(const char *cmd, int opt, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	const char *eq = strchr(arg, '=');

	if (opt == ':')
		return cli_usage_error(cmd, "option %s needs a value", arg);
	if (strncmp(arg, "--", 2) == 0 && eq != NULL)
		return cli_usage_error(cmd,
				       "option %.*s takes no value or "
				       "is unknown",
				       (int)(eq - arg), arg);
	if (strncmp(arg, "--", 2) == 0 || optopt == 0 ||
	    !isprint((unsigned char)optopt))
		return cli_usage_error(cmd, "unknown option %s", arg);
	return cli_usage_error(cmd, "unknown option -%c", optopt);
}

void cli_getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

int cli_show_usage(void (*usage)(FILE *out))
{
	usage(stdout);
	return CLI_EXIT_OK;
}

int cli_fail_status(const tamwil_error *err)
{
	if (err->status == TAMWIL_ERR_REFUSED) {
		char code[TAMWIL_CODE_NAME_MAX];

		return cli_fail(
		    "refused (%s): %s",
		    tamwil_error_code_name(err->code, code, sizeof(code)),
		    err->message);
	}
	if (err->status == TAMWIL_ERR_FORKED) {
		cli_fail("%s", err->message);
		return CLI_EXIT_FORKED;
	}
	return cli_fail("%s", err->message);
}

const char *cli_strerror(int e, char *buf, size_t cap)
{
	if (strerror_r(e, buf, cap) != 0)
		snprintf(buf, cap, "error %d", e);
	if (isupper((unsigned char)buf[0]) && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

const char *cli_display_path(const char *path, char *buf, size_t cap)
{
	const char *home = getenv("HOME");
	size_t len = home != NULL ? strlen(home) : 0;

	if (len > 1 && strncmp(path, home, len) == 0 && path[len] == '/')
		snprintf(buf, cap, "~%s", path + len);
	else
		snprintf(buf, cap, "%s", path);
	return buf;
}

int cli_parse_seconds(const char *text, int *ms)
{
	char *end = NULL;
	long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	v = strtol(text, &end, 10);
	if (*end != '\0' || v < 1 || v > 86400)
		return -1;
	*ms = (int)v * 1000;
	return 0;
}

/*
 * Writes text, showing C0 and C1 control characters (which a terminal
 * could take as commands) as '?'.
 */
static void put_text(FILE *out, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f) {
			fputc('?', out);
		} else if (*s == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
			fputc('?', out);
			s++;
		} else {
			fputc(*s, out);
		}
	}
}

void cli_print_fields(FILE *out, const struct cli_field *fields, size_t n)
{
	size_t width = 0, i;

	for (i = 0; i < n; i++)
		if (strlen(fields[i].label) > width)
			width = strlen(fields[i].label);
	for (i = 0; i < n; i++) {
		fprintf(out, "%-*s  ", (int)width, fields[i].label);
		put_text(out, fields[i].value);
		fputc('\n', out);
	}
}
