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
#include "tamwil-outbox.h"

/* What to say of an applied operation. */
struct cli_op_print {
	const char *what;	 /* for people: "approved LAG-2026-000001" */
	const char *fingerprint; /* of the principal concerned, or NULL */
	int reference_last;	 /* 1: the reference alone on the last line */
};

/* What became of an operation sent through the outbox (cli_ops_send()). */
struct cli_ops_sent {
	tamwil_outbox *ob;     /* c's outbox */
	int64_t id;	       /* op's entry; 0 until it is in the outbox */
	tamwil_outbox_entry e; /* op's entry as recorded after the sync */
	int sync;	       /* TAMWIL_OK, or the status that stopped it */
	tamwil_error why;      /* what stopped the sync */
};

/*
 * Signs op and writes it to c's outbox, durably, before it first leaves
 * (write-ahead); then, when send is 1, sends what waits, oldest first and
 * op last (tamwil_outbox_sync(); c may be offline: it fails at once),
 * calling told(arg, ...) for each entry answered before op (told may be
 * NULL). Prints nothing. Returns TAMWIL_OK with s filled in (s->e as
 * recorded: accepted, refused, or waiting when the sync stopped with
 * s->sync and s->why; with send 0, waiting and s->sync TAMWIL_OK), or
 * the status of what failed with err; s->id says whether op was queued
 * all the same.
 */
int cli_ops_send(tamwil_client *c, Tamwil__V1__Operation *op, int send,
		 tamwil_outbox_fn told, void *arg, struct cli_ops_sent *s,
		 tamwil_error *err);

/*
 * 1 when s's entry waits because head office could not be reached, the
 * link dropped or head office said it is failing: tamwil sync sends it
 * later. 0 when it was answered, or a failure of another kind stopped
 * the sync (a receipt, a forked log, the local file).
 */
int cli_ops_waits(const struct cli_ops_sent *s);

/*
 * A tamwil_outbox_fn for cli_ops_send(): says on stderr "tamwil: sent
 * first, as it waited: ENTRY". arg is unused.
 */
int cli_ops_tell_first(void *arg, const tamwil_outbox_entry *e, size_t done,
		       size_t total);

/*
 * Signs op and writes it to this principal's outbox (durably) before it
 * first leaves; then, on c (perhaps offline), sends what waits in the
 * outbox, oldest first and op last (cli_ops_send()), and prints op's
 * result in format f:
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
 * Lists head office's programmes, learns the currency of each (valid
 * ones), and calls each(arg, programme, its currency: "" when absent)
 * for every one; a non-zero return stops the walk. TAMWIL_OK, or the
 * status of the failed request with err (head office's answer is all
 * or nothing: nothing was called).
 */
int cli_ops_programmes(tamwil_client *c,
		       int (*each)(void *arg, const char *code,
				   const char *currency),
		       void *arg, tamwil_error *err);

/*
 * The currency this office learnt for topic ("programme", "application")
 * and key, into cur (4 bytes): 0, or 1 when it never learnt a valid one.
 */
int cli_ops_recall_currency(tamwil_client *c, const char *topic,
			    const char *key, char cur[4]);

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
