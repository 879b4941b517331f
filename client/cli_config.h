/*
 * The settings of a tamwil run: the global options given on the command
 * line, and what they resolve to once the configuration file fills the
 * gaps (options win over the file).
 */
#ifndef TAMWIL_CLI_CONFIG_H
#define TAMWIL_CLI_CONFIG_H

#include "tamwil-config.h"

/* The global options, before the command; NULL or 0 when not given. */
struct cli_globals {
	const char *server;	/* --server HOST[:PORT] */
	const char *server_key; /* --server-key PUBFILE */
	const char *key;	/* --key FILE */
	const char *config;	/* --config FILE */
	int json;		/* --json */
	int csv;		/* --csv */
	int timeout_ms;		/* --timeout SECONDS, in ms; 0: defaults */
};

/* Which settings a command needs. */
enum cli_need {
	CLI_NEED_SERVER = 1,
	CLI_NEED_SERVER_KEY = 2,
	CLI_NEED_KEY = 4,
	CLI_NEED_ALL = 7
};

/* The resolved settings; "" for those not needed and not given. */
struct cli_settings {
	char server[TAMWIL_CONFIG_SERVER_MAX];
	char server_key[TAMWIL_CONFIG_PATH_MAX];
	char key[TAMWIL_CONFIG_PATH_MAX];
};

/*
 * Fills s from the options in g and, for what they leave out, from the
 * configuration file (--config FILE, else $TAMWIL_CONFIG, else
 * ~/.config/tamwil/client.conf; only the default may be missing). Checks
 * the server address. Prints one line naming the missing or wrong setting
 * and how to give it, and returns -1; or returns 0.
 */
int cli_settings_resolve(const struct cli_globals *g, unsigned need,
			 struct cli_settings *s);

#endif
