/*
 * The option loop of the commands that print results: getopt_long() over
 * a command's options, with the output flags (--json, --csv, global ones
 * included) and -h/--help handled the same way by every command, and the
 * command's own options handed to it one at a time.
 */
#ifndef TAMWIL_CLI_OPTS_H
#define TAMWIL_CLI_OPTS_H

#include <getopt.h>
#include <stdio.h>

#include "cli_config.h"
#include "cli_out.h"

/* A command's options and what to do with them. */
struct cli_opts {
	const char *cmd;	  /* the command, for messages: "approve" */
	void (*usage)(FILE *out); /* printed for -h and --help */
	const struct option
	    *opts; /* with "help" ('h') and CLI_OUTPUT_OPTIONS */
	/*
	 * Takes the command's own option c, of value value (NULL for a flag):
	 * -1 to go on, or an exit status to stop with. NULL when the command
	 * has no options of its own.
	 */
	int (*take)(void *arg, int c, const char *value);
	void *arg; /* handed to take */
};

/*
 * Reads the options of argv (optstring ":h") from the start: the output
 * flags into out, which starts with the global ones of g; the others to
 * p->take. Returns -1 with optind at the first positional argument, or
 * an exit status: CLI_EXIT_OK once --help printed the usage,
 * CLI_EXIT_USAGE for a bad option (printed), or what take returned.
 */
int cli_opts_read(const struct cli_opts *p, const struct cli_globals *g,
		  int argc, char **argv, struct cli_output *out);

#endif
