/*
 * Opening a connection to head office for a command: resolves the
 * settings, reads the server's public key file and the private key file,
 * and connects with libtamwil-client.
 */
#ifndef TAMWIL_CLI_SESSION_H
#define TAMWIL_CLI_SESSION_H

#include "cli_config.h"
#include "tamwil-client.h"

/*
 * Connects as the principal of the configured key. Prints why it failed
 * and returns -1, or returns 0 with *out for tamwil_client_close(). The
 * private key is wiped before returning. When head office cannot be
 * reached (tamwil_outbox_link_down()), *out is still returned, offline:
 * it signs and queues operations, and its requests fail with the reason.
 */
int cli_session_open(const struct cli_globals *g, tamwil_client **out);

/*
 * Like cli_session_open() without connecting: for what this office keeps
 * (the outbox).
 */
int cli_session_open_local(const struct cli_globals *g, tamwil_client **out);

/*
 * Opens a session (cli_session_open(): perhaps offline), runs
 * fn(client, arg) on it, and closes it. Returns
 * fn's exit status, or CLI_EXIT_FAIL when the session did not open.
 */
int cli_session_run(const struct cli_globals *g,
		    int (*fn)(tamwil_client *c, void *arg), void *arg);

#endif
