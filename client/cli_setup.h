/*
 * tamwil setup: writes the client's configuration file (server, server
 * key, private key), making the private key when there is none.
 */
#ifndef TAMWIL_CLI_SETUP_H
#define TAMWIL_CLI_SETUP_H

#include <stdio.h>

#include "cli_config.h"

void cli_setup_usage(FILE *out);
int cli_setup_main(const struct cli_globals *g, int argc, char **argv);

#endif
