/*
 * tamwild check: an offline health check of a state folder. SQLite's own
 * integrity check, then the whole audit log verified and replayed with
 * the offline verifier (common/replay.c), and the database's applications
 * and programmes compared with the replay. Prints a report; the daemon
 * may be running meanwhile (WAL readers do not block it).
 */
#ifndef TAMWIL_CHECK_H
#define TAMWIL_CHECK_H

#include <stdio.h>

#include "server.h"

/*
 * Checks the loaded state srv, writing progress and the report to out.
 * Returns 0 when everything holds, 1 when a check failed (the report
 * says which and where), -1 when the check could not run.
 */
int check_state(server *srv, FILE *out);

#endif
