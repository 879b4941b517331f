/*
 * The outbox for people: tamwil outbox (what waits, or the history), the
 * words every command uses for an entry and for what is queued, and
 * tamwil sync (cli_sync.c), which sends what waits.
 */
#ifndef TAMWIL_CLI_OUTBOX_H
#define TAMWIL_CLI_OUTBOX_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "cli_config.h"
#include "tamwil-outbox.h"

/*
 * One entry for people, into buf: "submit INDH-2026, LAG, crafts:
 * accepted, log entry 12, LAG-2026-000003", "approve LAG-2026-000001:
 * refused (bad_state): SENTENCE" or "... : waiting". Returns buf.
 */
const char *cli_outbox_text(const tamwil_outbox_entry *e, char *buf,
			    size_t cap);

/* One entry as a JSON object (its times in ISO 8601); NULL on failure. */
json_t *cli_outbox_json(const tamwil_outbox_entry *e);

/*
 * Prints on stderr "queued: N operations waiting for head office (tamwil
 * sync sends them)" and returns CLI_EXIT_QUEUED.
 */
int cli_outbox_queued(tamwil_outbox *ob);

void cli_outbox_usage(FILE *out);
int cli_outbox_main(const struct cli_globals *g, int argc, char **argv);
void cli_sync_usage(FILE *out);
int cli_sync_main(const struct cli_globals *g, int argc, char **argv);

#endif
