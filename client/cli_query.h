/*
 * Figures: tamwil budget (the programmes and their budget use), tamwil
 * report (counts and amounts by region, programme, sector, sex or
 * category) and the list of regions.
 */
#ifndef TAMWIL_CLI_QUERY_H
#define TAMWIL_CLI_QUERY_H

#include <stdio.h>

#include "cli_config.h"
#include "cli_out.h"
#include "tamwil-client.h"

void cli_budget_usage(FILE *out);
int cli_budget_main(const struct cli_globals *g, int argc, char **argv);
void cli_report_usage(FILE *out);
int cli_report_main(const struct cli_globals *g, int argc, char **argv);

/* Prints head office's regions in format f; returns an exit status. */
int cli_regions_print(tamwil_client *c, enum cli_format f);

#endif
