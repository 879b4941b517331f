/*
 * tamwil disburse REF --amount AMOUNT --method METHOD --reference TEXT
 * [--date YYYY-MM-DD] [--item DESCRIPTION:QTY:UNIT_VALUE]...
 */
#ifndef TAMWIL_CLI_DISBURSE_H
#define TAMWIL_CLI_DISBURSE_H

#include <stdio.h>

#include "cli_config.h"

void cli_disburse_usage(FILE *out);
int cli_disburse_main(const struct cli_globals *g, int argc, char **argv);

#endif
