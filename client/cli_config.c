/*
 * Resolving the settings of a run from the global options and the
 * configuration file; see cli_config.h.
 */
#include "cli_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"

/* Copies src into dst (capacity cap); 0, or -1 (printed) if too long. */
static int take(char *dst, size_t cap, const char *src, const char *what)
{
	if (strlen(src) >= cap) {
		cli_fail("%s is too long: %s", what, src);
		return -1;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/*
 * Loads the configuration file into cfg when the options leave a needed
 * setting out, or when one was named with --config. Missing default file:
 * cfg stays empty. Prints and returns -1 on a failure.
 */
static int load_config(const struct cli_globals *g, unsigned need,
		       tamwil_config *cfg, char *path, size_t path_cap)
{
	const char *env = getenv("TAMWIL_CONFIG");
	int required = 0;
	tamwil_error err;

	memset(cfg, 0, sizeof(*cfg));
	path[0] = '\0';
	if (g->config != NULL) {
		snprintf(path, path_cap, "%s", g->config);
		required = 1;
	} else if (((need & CLI_NEED_SERVER) && g->server == NULL) ||
		   ((need & CLI_NEED_SERVER_KEY) && g->server_key == NULL) ||
		   ((need & CLI_NEED_KEY) && g->key == NULL)) {
		required = env != NULL && env[0] != '\0';
		if (tamwil_config_default_path(path, path_cap) != 0)
			path[0] = '\0';
	}
	if (path[0] == '\0')
		return 0;
	if (tamwil_config_load(path, required, cfg, &err) != 0) {
		cli_fail("%s", err.message);
		return -1;
	}
	return 0;
}

/*
 * Chooses one setting: the option if given, else the file's value. When
 * it is needed and neither has it, prints how to give it and returns -1.
 */
static int pick(char *dst, size_t cap, const char *option, const char *file,
		int needed, const char *missing, const char *config_path)
{
	if (option != NULL)
		return take(dst, cap, option, "an option value");
	if (file[0] != '\0')
		return take(dst, cap, file, "a configuration value");
	dst[0] = '\0';
	if (!needed)
		return 0;
	if (config_path[0] == '\0') {
		cli_fail("%s in a configuration file named by $TAMWIL_CONFIG",
			 missing);
	} else if (access(config_path, F_OK) != 0) {
		char shown[TAMWIL_CONFIG_PATH_MAX];

		/* Nothing is set up yet: the one step that does it all. */
		cli_fail("no configuration: run `tamwil setup` to write %s, "
			 "or give --server, --server-key and --key",
			 cli_display_path(config_path, shown, sizeof(shown)));
	} else {
		char shown[TAMWIL_CONFIG_PATH_MAX];

		cli_fail("%s in %s", missing,
			 cli_display_path(config_path, shown, sizeof(shown)));
	}
	return -1;
}

/* Checks the server address and says where a wrong one came from. */
static int check_server(const struct cli_globals *g, const char *server,
			const char *config_path)
{
	char host[TAMWIL_CONFIG_SERVER_MAX], port[8];
	tamwil_error err;

	if (tamwil_server_parse(server, host, sizeof(host), port, sizeof(port),
				&err) == 0)
		return 0;
	if (g->server != NULL)
		cli_fail("%s (from --server)", err.message);
	else
		cli_fail("%s (server in %s)", err.message, config_path);
	return -1;
}

int cli_settings_resolve(const struct cli_globals *g, unsigned need,
			 struct cli_settings *s)
{
	static const char no_server[] =
	    "no server: pass --server HOST:PORT or set server";
	static const char no_server_key[] =
	    "no server key: pass --server-key PUBFILE or set server_key";
	static const char no_key[] =
	    "no key: pass --key FILE (made with `tamwil keygen --out "
	    "FILE`) or set key";
	char path[TAMWIL_CONFIG_PATH_MAX];
	tamwil_config *cfg = malloc(sizeof(*cfg));
	int rc = -1;

	if (cfg == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	if (load_config(g, need, cfg, path, sizeof(path)) != 0)
		goto out;
	if (pick(s->server, sizeof(s->server), g->server, cfg->server,
		 (need & CLI_NEED_SERVER) != 0, no_server, path) != 0 ||
	    pick(s->server_key, sizeof(s->server_key), g->server_key,
		 cfg->server_key, (need & CLI_NEED_SERVER_KEY) != 0,
		 no_server_key, path) != 0 ||
	    pick(s->key, sizeof(s->key), g->key, cfg->key,
		 (need & CLI_NEED_KEY) != 0, no_key, path) != 0)
		goto out;
	if (s->server[0] != '\0' && check_server(g, s->server, path) != 0)
		goto out;
	rc = 0;
out:
	free(cfg);
	return rc;
}
