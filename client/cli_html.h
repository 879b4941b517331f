/*
 * tamwil report --html: head office's figures as one self-contained web
 * page (no script, no network resource): tables, and SVG charts of the
 * applications by region and stage, the budget use of each programme,
 * the share of women and of each category, and disbursements over time.
 */
#ifndef TAMWIL_CLI_HTML_H
#define TAMWIL_CLI_HTML_H

#include "tamwil-client.h"

/*
 * Asks head office, on c, for the figures of one programme and/or region
 * (each "" for all) and writes the page to path, replacing it whole or
 * not at all. Prints what went wrong; returns an exit status.
 */
int cli_html_report(tamwil_client *c, const char *programme, const char *region,
		    const char *path);

#endif
