/*
 * Operations: how every command that changes something signs and sends
 * its operation and shows the result, the lookups that learn an amount's
 * currency, and the decisions on an application (withdraw, approve,
 * reject, repay).
 */
#ifndef TAMWIL_CLI_OPS_H
#define TAMWIL_CLI_OPS_H

#include <stdio.h>

#include "cli_config.h"
#include "cli_out.h"
#include "tamwil-client.h"

/* What to say of an applied operation. */
struct cli_op_print {
	const char *what;	 /* for people: "approved LAG-2026-000001" */
	const char *fingerprint; /* of the principal concerned, or NULL */
	int reference_last;	 /* 1: the reference alone on the last line */
};

/*
 * Signs op, sends it on c and prints the result in format f: for people
 * "WHAT: state STATE, log entry N" (and a note when head office had
 * applied it before: a retry changes nothing); for scripts the result as
 * one JSON object or CSV record. Returns an exit status; a refusal prints
 * "tamwil: refused (CODE): sentence".
 */
int cli_ops_apply(tamwil_client *c, Tamwil__V1__Operation *op,
		  enum cli_format f, const struct cli_op_print *p);

/*
 * The currency of programme code, from head office's list, into cur (4
 * bytes). A programme the list lacks is refused as unknown_programme.
 * Returns -1 when found, or an exit status (printed).
 */
int cli_ops_programme_currency(tamwil_client *c, const char *code, char cur[4]);

/*
 * The currency of the application ref, asked of head office, into cur.
 * Returns -1 when found, or an exit status (printed).
 */
int cli_ops_application_currency(tamwil_client *c, const char *ref,
				 char cur[4]);

void cli_withdraw_usage(FILE *out);
int cli_withdraw_main(const struct cli_globals *g, int argc, char **argv);
void cli_approve_usage(FILE *out);
int cli_approve_main(const struct cli_globals *g, int argc, char **argv);
void cli_reject_usage(FILE *out);
int cli_reject_main(const struct cli_globals *g, int argc, char **argv);
void cli_repay_usage(FILE *out);
int cli_repay_main(const struct cli_globals *g, int argc, char **argv);

#endif
