/*
 * The command-line values of the tamwil commands, read with argparse and
 * turned into usage errors that name the option and the value:
 *
 *     tamwil: --amount: "12,345" is ambiguous: write 12345 or 12345,00
 *
 * Each function returns -1 when the value is good (the caller goes on),
 * or, having printed the error, CLI_EXIT_USAGE for the command to return.
 */
#ifndef TAMWIL_CLI_ARGS_H
#define TAMWIL_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* A required option of a command and how its usage names it. */
struct cli_required {
	const char *value; /* NULL when not given */
	const char *usage; /* "--programme CODE" */
};

/* Says which of the n required options is missing first. */
int cli_arg_required(const char *cmd, const struct cli_required *req, size_t n);

/*
 * Takes the n positional arguments left after the options (argv[optind]
 * on) into out; names[i] says what the i-th is ("REF"). Too few or too
 * many is a usage error.
 */
int cli_arg_positionals(const char *cmd, int argc, char **argv, size_t n,
			const char *const *names, const char **out);

/* An amount (see argparse_amount()); zero only when zero_ok. */
int cli_arg_amount(const char *cmd, const char *option, const char *text,
		   int zero_ok, int64_t *minor);

/* Text that must be valid UTF-8 without control characters; NULL is fine. */
int cli_arg_text(const char *cmd, const char *option, const char *text);

/* An enum name (see argparse_enum()), listing the accepted ones if bad. */
int cli_arg_enum(const char *cmd, const char *option, const char *text,
		 const ProtobufCEnumDescriptor *d, const char *prefix,
		 int *value);

/* A date YYYY-MM-DD; *start (may be NULL) gets its start in UTC. */
int cli_arg_date(const char *cmd, const char *option, const char *text,
		 int64_t *start);

/* A whole number from min to max. */
int cli_arg_count(const char *cmd, const char *option, const char *text,
		  unsigned long min, unsigned long max, unsigned long *value);

/* A currency code Tamwil keeps, upper-cased into cur (4 bytes). */
int cli_arg_currency(const char *cmd, const char *option, const char *text,
		     char cur[4]);

#endif
