/*
 * Connecting a command to head office; see cli_session.h.
 */
#include "cli_session.h"

#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "cli_keys.h"
#include "cli_util.h"

/* Reads the server's public key file; prints and returns -1 on failure. */
static int load_server_key(const char *path, keyfile_public *pub)
{
	int rc;

	errno = 0;
	rc = keyfile_read_public(path, pub);
	if (rc == KEYFILE_OK)
		return 0;
	if (rc == KEYFILE_ERR_IO && errno != 0) {
		char text[128];

		cli_fail("cannot read the server key %s: %s", path,
			 cli_strerror(errno, text, sizeof(text)));
	} else {
		cli_fail("cannot read the server key %s: %s", path,
			 keyfile_strerror(rc));
	}
	return -1;
}

/* Connects with the resolved settings s; same contract as the caller. */
static int connect_with(const struct cli_globals *g,
			const struct cli_settings *s, tamwil_client **out)
{
	tamwil_client_options opt = {0};
	keyfile_public server;
	keyfile_secret *key = NULL;
	tamwil_error err;
	int rc = -1;

	if (load_server_key(s->server_key, &server) != 0)
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
	opt.key = key;
	opt.connect_timeout_ms = g->timeout_ms;
	opt.io_timeout_ms = g->timeout_ms;
	if (tamwil_client_connect(&opt, out, &err) != TAMWIL_OK) {
		cli_fail_status(&err);
		goto out;
	}
	rc = 0;
out:
	sodium_free(key); /* wipes it */
	return rc;
}

int cli_session_open(const struct cli_globals *g, tamwil_client **out)
{
	struct cli_settings *s = malloc(sizeof(*s));
	int rc = -1;

	*out = NULL;
	if (s == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	if (cli_settings_resolve(g, CLI_NEED_ALL, s) == 0)
		rc = connect_with(g, s, out);
	free(s);
	return rc;
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
