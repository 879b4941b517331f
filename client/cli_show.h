/*
 * Reading applications: tamwil show REF (one application and its
 * history) and tamwil list (filtered, page by page or all of them).
 */
#ifndef TAMWIL_CLI_SHOW_H
#define TAMWIL_CLI_SHOW_H

#include <stdio.h>

#include "cli_config.h"

void cli_application_usage(FILE *out);
int cli_application_main(const struct cli_globals *g, int argc, char **argv);
void cli_list_usage(FILE *out);
int cli_list_main(const struct cli_globals *g, int argc, char **argv);

#endif
