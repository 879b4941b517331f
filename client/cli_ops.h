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
 * Signs op and writes it to this principal's outbox (durably) before it
 * first leaves; then, on c (perhaps offline), sends what waits in the
 * outbox, oldest first and op last, and prints op's result in format f:
 * for people
 * "WHAT: state STATE, log entry N" (and a note when head office had
 * applied it before: a retry changes nothing); for scripts the result as
 * one JSON object or CSV record. Returns an exit status; a refusal prints
 * "tamwil: refused (CODE): sentence". When head office cannot be reached
 * it says why and "queued: N operations waiting for head office (tamwil
 * sync sends them)", and returns CLI_EXIT_QUEUED (with --json, the
 * outbox entry, "status": "waiting", is printed on stdout). What waited and was
 * sent first is told on stderr, one line each.
 */
int cli_ops_apply(tamwil_client *c, Tamwil__V1__Operation *op,
		  enum cli_format f, const struct cli_op_print *p);

/*
 * What this office learnt from head office, kept in the outbox's file
 * (tamwil_outbox_remember()), for commands prepared offline. Learn is
 * best effort; recall returns 0 with the value in buf, or 1.
 */
void cli_ops_learn(tamwil_client *c, const char *topic, const char *key,
		   const char *value);
int cli_ops_recall(tamwil_client *c, const char *topic, const char *key,
		   char *buf, size_t cap);

/*
 * The currency of programme code, from head office's list, into cur (4
 * bytes), learning those of every programme listed. A programme the list
 * lacks is refused as unknown_programme. Offline, the currency learnt
 * before, or a failure that says to give --currency. Returns -1 when
 * found, or an exit status (printed).
 */
int cli_ops_programme_currency(tamwil_client *c, const char *code, char cur[4]);

/*
 * The currency of the application ref, asked of head office (and
 * learnt), into cur; offline as for cli_ops_programme_currency(). Returns
 * -1 when found, or an exit status (printed).
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
