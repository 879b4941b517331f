/*
 * What admins set up: regions and programmes (tamwil region add|list,
 * tamwil programme add|list) and principals (tamwil enrol, tamwil
 * revoke).
 */
#ifndef TAMWIL_CLI_ADMIN_H
#define TAMWIL_CLI_ADMIN_H

#include <stdio.h>

#include "cli_config.h"

void cli_region_usage(FILE *out);
int cli_region_main(const struct cli_globals *g, int argc, char **argv);
void cli_programme_usage(FILE *out);
int cli_programme_main(const struct cli_globals *g, int argc, char **argv);
void cli_enrol_usage(FILE *out);
int cli_enrol_main(const struct cli_globals *g, int argc, char **argv);
void cli_revoke_usage(FILE *out);
int cli_revoke_main(const struct cli_globals *g, int argc, char **argv);

#endif
