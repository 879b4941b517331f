/*
 * tamwil import FILE.csv: submits one application per row of an office's
 * spreadsheet, after checking every row (tamwil-import.h reads the file).
 */
#ifndef TAMWIL_CLI_IMPORT_H
#define TAMWIL_CLI_IMPORT_H

#include <stdio.h>

#include "cli_config.h"

void cli_import_usage(FILE *out);
int cli_import_main(const struct cli_globals *g, int argc, char **argv);

#endif
