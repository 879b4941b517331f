/*
 * Small helpers every tamwil command uses: the one-line failure messages
 * and exit statuses, library errors shown the same way everywhere,
 * "label  value" output, paths shown with ~, and getopt restarts.
 */
#ifndef TAMWIL_CLI_UTIL_H
#define TAMWIL_CLI_UTIL_H

#include <stddef.h>
#include <stdio.h>

#include "tamwil-client.h"

/* Exit statuses of the program. */
#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2
/* Head office's log does not extend what this office saw. */
#define CLI_EXIT_FORKED 3
/*
 * Head office could not be reached: the operations wait in the outbox for
 * tamwil sync (EX_TEMPFAIL of sysexits.h: try again later).
 */
#define CLI_EXIT_QUEUED 75

/* Prints "tamwil: MESSAGE" on stderr; returns CLI_EXIT_FAIL. */
__attribute__((format(printf, 1, 2))) int cli_fail(const char *fmt, ...);

/*
 * Prints "tamwil: MESSAGE" and where to find help (for the command cmd,
 * or the program when cmd is NULL); returns CLI_EXIT_USAGE.
 */
__attribute__((format(printf, 2, 3))) int cli_usage_error(const char *cmd,
							  const char *fmt, ...);

/*
 * Reports what getopt_long() returned for a bad option (opt is '?' or
 * ':') in argv; returns CLI_EXIT_USAGE. The optstring must start with ':'
 * (after a '+', if any) so that a missing value returns ':'.
 */
int cli_bad_option(const char *cmd, int opt, char **argv);

/*
 * Restarts getopt_long() for a new argument vector whose first element
 * is the command name (glibc and musl take optind 0 as a full reset).
 */
void cli_getopt_reset(void);

/* Prints a usage text on stdout (for --help); returns CLI_EXIT_OK. */
int cli_show_usage(void (*usage)(FILE *out));

/*
 * Shows a library failure: "tamwil: refused (CODE): sentence" for a
 * refusal, "tamwil: sentence" otherwise. Returns CLI_EXIT_FAIL, or
 * CLI_EXIT_FORKED for TAMWIL_ERR_FORKED.
 */
int cli_fail_status(const tamwil_error *err);

/* The sentence for an errno value, starting in lower case, in buf. */
const char *cli_strerror(int e, char *buf, size_t cap);

/* path with a leading $HOME shown as "~", in buf (for messages). */
const char *cli_display_path(const char *path, char *buf, size_t cap);

/* Parses a whole number of seconds (1..86400) into *ms; 0 or -1. */
int cli_parse_seconds(const char *text, int *ms);

/* One line of "label  value" output. */
struct cli_field {
	const char *label; /* ASCII */
	const char *value; /* UTF-8; control characters are shown as '?' */
};

/* Prints the fields with their values aligned two spaces after the
 * longest label. */
void cli_print_fields(FILE *out, const struct cli_field *fields, size_t n);

#endif
