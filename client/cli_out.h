/*
 * How a command prints its results: a table or lines for people, JSON
 * (--json) or CSV (--csv) for scripts. Either flag may stand before the
 * command (a global option) or after it. Also the texts of amounts and
 * times every output mode shares.
 */
#ifndef TAMWIL_CLI_OUT_H
#define TAMWIL_CLI_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "cli_config.h"
#include "money.h"

enum cli_format { CLI_TEXT, CLI_JSON, CLI_CSV };

/* getopt_long() values of --json and --csv, above any short option. */
enum { CLI_OPT_JSON = 1000, CLI_OPT_CSV };

/* Entries for a command's struct option table. */
#define CLI_OUTPUT_OPTIONS                                                     \
	{"json", no_argument, NULL, CLI_OPT_JSON},                             \
	{                                                                      \
		"csv", no_argument, NULL, CLI_OPT_CSV                          \
	}

/* The output flags seen so far, global ones included. */
struct cli_output {
	int json, csv;
};

/* Starts with the global flags of g. */
void cli_output_init(struct cli_output *o, const struct cli_globals *g);

/* Takes getopt_long()'s c if it is an output flag: 1, else 0. */
int cli_output_option(struct cli_output *o, int c);

/*
 * The format the flags ask for. Both flags together is a usage error of
 * the command cmd: prints it and returns CLI_EXIT_USAGE; else returns -1
 * with *f set.
 */
int cli_output_format(const char *cmd, const struct cli_output *o,
		      enum cli_format *f);

/* Room for cli_time_text() and cli_time_iso(). */
#define CLI_TIME_MAX 32

/*
 * A Unix time for people, in local time: "2026-03-21 14:05"; "" for 0.
 * Returns buf.
 */
const char *cli_time_text(int64_t t, char *buf, size_t cap);

/* A Unix time for scripts, ISO 8601 in UTC: "2026-03-21T13:05:00Z". */
const char *cli_time_iso(int64_t t, char *buf, size_t cap);

/*
 * An amount for people, "1 121 215,07 MAD" (just "1 121 215,07" when the
 * currency is not a code money_format() takes). Returns buf, which has
 * MONEY_TEXT_MAX bytes or more.
 */
const char *cli_money_text(int64_t minor, const char *currency, char *buf,
			   size_t cap);

/* Minor units as plain digits, "112121507", for CSV. Returns buf. */
const char *cli_minor_text(int64_t minor, char *buf, size_t cap);

#endif
