/*
 * Connecting a command to head office; see cli_session.h.
 */
#include "cli_session.h"

#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "cli_keys.h"
#include "cli_util.h"
#include "tamwil-outbox.h"

/*
 * Opens a handle with the resolved settings s and, when dial is 1,
 * connects it; same contract as the callers.
 */
static int connect_with(const struct cli_globals *g,
			const struct cli_settings *s, int dial,
			tamwil_client **out)
{
	tamwil_client_options opt = {0};
	char state[TAMWIL_CONFIG_PATH_MAX];
	keyfile_public server;
	keyfile_secret *key = NULL;
	tamwil_error err;
	int rc = -1;

	if (cli_load_public(s->server_key, &server) != 0)
		return -1;
	key = sodium_malloc(sizeof(*key));
	if (key == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	if (cli_load_secret(s->key, key) != 0)
		goto out;
	opt.server = s->server;
	opt.server_noise_pk = server.noise_pk;
	opt.server_data_pk = server.has_data ? server.data_pk : NULL;
	/* Receipts and the log's consistency (docs/AUDIT.md). */
	opt.server_sign_pk = server.sign_pk;
	opt.state_dir =
	    tamwil_state_dir(state, sizeof(state)) == 0 ? state : NULL;
	opt.key = key;
	opt.connect_timeout_ms = g->timeout_ms;
	opt.io_timeout_ms = g->timeout_ms;
	if (tamwil_client_open(&opt, out, &err) != TAMWIL_OK) {
		cli_fail_status(&err);
		goto out;
	}
	/*
	 * Head office out of reach is not a failure yet: operations queue in
	 * the outbox, and requests report it when they are made.
	 */
	if (dial && tamwil_client_dial(*out, &err) != TAMWIL_OK &&
	    !tamwil_outbox_link_down(err.status)) {
		cli_fail_status(&err);
		tamwil_client_close(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	sodium_free(key); /* wipes it */
	return rc;
}

/* cli_session_open() and cli_session_open_local(). */
static int open_session(const struct cli_globals *g, int dial,
			tamwil_client **out)
{
	struct cli_settings *s = malloc(sizeof(*s));
	int rc = -1;

	*out = NULL;
	if (s == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	if (cli_settings_resolve(g, CLI_NEED_ALL, s) == 0)
		rc = connect_with(g, s, dial, out);
	free(s);
	return rc;
}

int cli_session_open(const struct cli_globals *g, tamwil_client **out)
{
	return open_session(g, 1, out);
}

int cli_session_open_local(const struct cli_globals *g, tamwil_client **out)
{
	return open_session(g, 0, out);
}

int cli_session_run(const struct cli_globals *g,
		    int (*fn)(tamwil_client *c, void *arg), void *arg)
{
	tamwil_client *c = NULL;
	int rc;

	if (cli_session_open(g, &c) != 0)
		return CLI_EXIT_FAIL;
	rc = fn(c, arg);
	tamwil_client_close(c);
	return rc;
}
