/*
 * tamwil submit: a beneficiary's application, the identifying fields
 * sealed to head office's data key before they leave.
 */
#ifndef TAMWIL_CLI_SUBMIT_H
#define TAMWIL_CLI_SUBMIT_H

#include <stdio.h>

#include "cli_config.h"

void cli_submit_usage(FILE *out);
int cli_submit_main(const struct cli_globals *g, int argc, char **argv);

#endif
