/*
 * tamwil audit: the audit log for auditors and admins. export writes the
 * whole log and the state head office states to a file; verify checks
 * such a file offline; proof shows and verifies the log entries of one
 * application; events lists the security events.
 */
#ifndef TAMWIL_CLI_AUDIT_H
#define TAMWIL_CLI_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include "cli_config.h"
#include "keyfile.h"
#include "tamwil-client.h"

void cli_audit_usage(FILE *out);
int cli_audit_main(const struct cli_globals *g, int argc, char **argv);

/* The subcommands, argv[0] being the subcommand's name. */
int cli_audit_export(const struct cli_globals *g, int argc, char **argv);
int cli_audit_verify(const struct cli_globals *g, int argc, char **argv);
int cli_audit_proof(const struct cli_globals *g, int argc, char **argv);
int cli_audit_events(const struct cli_globals *g, int argc, char **argv);

/*
 * Reads the server's public key file of the settings (the global
 * --server-key or the configuration). Prints why and returns -1, or 0.
 */
int cli_audit_server_key(const struct cli_globals *g, keyfile_public *pub);

/* n with a space every three digits ("12 345"), in buf. Returns buf. */
const char *cli_audit_count(uint64_t n, char *buf, size_t cap);

/*
 * Fetches one page of log entries from start: -1 with *resp (its
 * log_entries set, entries and checkpoints as many), or an exit status.
 */
int cli_audit_page(tamwil_client *c, uint64_t start,
		   Tamwil__V1__Response **resp);

#endif
