/*
 * tamwil whoami: asks head office who the configured key belongs to, and
 * so checks the whole path there (address, server key, enrolment).
 */
#ifndef TAMWIL_CLI_WHOAMI_H
#define TAMWIL_CLI_WHOAMI_H

#include <stdio.h>

#include "cli_config.h"

/* tamwil whoami [--json]; returns an exit status. */
int cli_whoami_main(const struct cli_globals *g, int argc, char **argv);
void cli_whoami_usage(FILE *out);

#endif
