/*
 * Sending operations and showing their results, currency lookups, and
 * tamwil withdraw, approve, reject and repay; see cli_ops.h.
 */
#include "cli_ops.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argparse.h"
#include "cli_args.h"
#include "cli_json.h"
#include "cli_opts.h"
#include "cli_outbox.h"
#include "cli_session.h"
#include "cli_table.h"
#include "cli_util.h"
#include "money.h"

#define WHAT_MAX 512

/* ---- results ------------------------------------------------------------ */

/* Prints res for people; returns an exit status. */
static int print_result_text(const Tamwil__V1__OperationResult *res,
			     const struct cli_op_print *p)
{
	char state[64];

	fputs(p->what, stdout);
	fputs(":", stdout);
	if (res->state != TAMWIL__V1__APPLICATION_STATE__STATE_UNSPECIFIED)
		printf(" state %s,",
		       argparse_enum_name(
			   &tamwil__v1__application_state__descriptor, "STATE_",
			   (int)res->state, state, sizeof(state)));
	if (res->principal_id != 0)
		printf(" principal %llu,",
		       (unsigned long long)res->principal_id);
	printf(" log entry %llu\n", (unsigned long long)res->sequence);
	if (res->replayed)
		puts("head office had applied this very operation before: "
		     "nothing changed");
	if (p->fingerprint != NULL)
		printf("fingerprint %s\n", p->fingerprint);
	if (p->reference_last && res->reference != NULL)
		printf("%s\n", res->reference);
	return CLI_EXIT_OK;
}

/* Prints res as one JSON object; returns an exit status. */
static int print_result_json(const Tamwil__V1__OperationResult *res,
			     const struct cli_op_print *p)
{
	json_t *o = cli_json_result(res);

	if (o != NULL && p->fingerprint != NULL &&
	    json_object_set_new(o, "fingerprint",
				json_string(p->fingerprint)) != 0) {
		json_decref(o);
		o = NULL;
	}
	return cli_json_print(o);
}

/* Prints res as a CSV header and record; returns an exit status. */
static int print_result_csv(const Tamwil__V1__OperationResult *res)
{
	static const struct cli_column cols[] = {
	    {"reference", "Reference", 0, 0},
	    {"state", "State", 0, 0},
	    {"principal_id", "Principal", 1, 0},
	    {"replayed", "Replayed", 0, 0},
	    {"sequence", "Log entry", 1, 0}};
	char state[64] = "", principal[32] = "", seq[32];
	const char *cells[5];
	cli_table *t = cli_table_new(cols, 5);
	int rc = -1;

	if (res->state != TAMWIL__V1__APPLICATION_STATE__STATE_UNSPECIFIED)
		argparse_enum_name(&tamwil__v1__application_state__descriptor,
				   "STATE_", (int)res->state, state,
				   sizeof(state));
	if (res->principal_id != 0)
		snprintf(principal, sizeof(principal), "%llu",
			 (unsigned long long)res->principal_id);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)res->sequence);
	cells[0] = res->reference;
	cells[1] = state;
	cells[2] = principal;
	cells[3] = res->replayed ? "true" : "false";
	cells[4] = seq;
	if (t != NULL && cli_table_add(t, cells) == 0)
		rc = cli_table_print(t, 1, stdout);
	cli_table_free(t);
	return rc == 0 ? CLI_EXIT_OK : cli_fail("cannot write the answer");
}

/* Prints an accepted entry like the result it was; an exit status. */
static int print_accepted(const tamwil_outbox_entry *e, enum cli_format f,
			  const struct cli_op_print *p)
{
	Tamwil__V1__OperationResult res = TAMWIL__V1__OPERATION_RESULT__INIT;

	res.replayed = e->replayed;
	res.reference = (char *)e->reference;
	res.state = (Tamwil__V1__ApplicationState)e->state;
	res.principal_id = e->principal_id;
	res.sequence = e->sequence;
	if (f == CLI_JSON)
		return print_result_json(&res, p);
	if (f == CLI_CSV)
		return print_result_csv(&res);
	return print_result_text(&res, p);
}

/* tamwil_outbox_fn of cli_ops_apply(): says what waited before it. */
static int sent_before(void *arg, const tamwil_outbox_entry *e, size_t done,
		       size_t total)
{
	const int64_t *mine = arg;
	char text[TAMWIL_OUTBOX_LABEL_MAX + TAMWIL_ERROR_MAX + 128];

	(void)done;
	(void)total;
	if (e->id != *mine)
		fprintf(stderr, "tamwil: sent first, as it waited: %s\n",
			cli_outbox_text(e, text, sizeof(text)));
	return 0;
}

/*
 * Sends what waits in ob, entry id (just queued) last, and shows id's
 * fate; an exit status.
 */
static int send_queued(tamwil_client *c, tamwil_outbox *ob, int64_t id,
		       enum cli_format f, const struct cli_op_print *p)
{
	tamwil_outbox_entry *e = malloc(sizeof(*e));
	tamwil_error err, why;
	int rc, sync;

	if (e == NULL)
		return cli_fail("out of memory");
	sync = tamwil_outbox_sync(ob, c, sent_before, &id, NULL, &why);
	if (tamwil_outbox_get(ob, id, e, &err) != TAMWIL_OK) {
		rc = cli_fail_status(&err);
	} else if (e->status == TAMWIL_OUTBOX_ACCEPTED) {
		rc = print_accepted(e, f, p);
	} else if (e->status == TAMWIL_OUTBOX_REFUSED) {
		err.status = TAMWIL_ERR_REFUSED;
		err.code = e->code;
		snprintf(err.message, sizeof(err.message), "%s", e->reason);
		rc = cli_fail_status(&err);
	} else {
		rc = cli_fail_status(sync != TAMWIL_OK ? &why : &err);
		if (sync == TAMWIL_OK || tamwil_outbox_link_down(sync) ||
		    sync == TAMWIL_ERR_REFUSED) {
			/* Scripts learn which entry waits. */
			if (f == CLI_JSON)
				cli_json_print(cli_outbox_json(e));
			rc = cli_outbox_queued(ob);
		} else
			fputs("tamwil: the operation stays in the outbox: "
			      "tamwil sync sends it again\n",
			      stderr);
	}
	free(e);
	return rc;
}

int cli_ops_apply(tamwil_client *c, Tamwil__V1__Operation *op,
		  enum cli_format f, const struct cli_op_print *p)
{
	uint8_t sig[SIGNOP_SIGLEN];
	uint8_t *bytes = NULL;
	tamwil_outbox *ob;
	tamwil_error err;
	size_t len = 0;
	int64_t id = 0;
	int rc;

	/* Write-ahead: on disk before it first leaves. */
	if (tamwil_client_outbox(c, &ob, &err) != TAMWIL_OK ||
	    tamwil_client_sign(c, op, &bytes, &len, sig, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	rc = tamwil_outbox_add(ob, bytes, len, sig, &id, &err);
	free(bytes);
	if (rc != TAMWIL_OK)
		return cli_fail_status(&err);
	return send_queued(c, ob, id, f, p);
}

/* ---- currencies --------------------------------------------------------- */

/* Copies a currency code of the server's into cur; -1 or an exit status. */
static int take_currency(const char *code, const char *what, char cur[4])
{
	if (!money_currency_valid(code))
		return cli_fail("head office gave %s the currency '%s', which "
				"this tamwil does not know",
				what, code);
	memcpy(cur, code, 4);
	return -1;
}

void cli_ops_learn(tamwil_client *c, const char *topic, const char *key,
		   const char *value)
{
	tamwil_outbox *ob;

	/* Best effort: not knowing only means asking head office again. */
	if (tamwil_client_outbox(c, &ob, NULL) == TAMWIL_OK)
		(void)tamwil_outbox_remember(ob, topic, key, value, NULL);
}

int cli_ops_recall(tamwil_client *c, const char *topic, const char *key,
		   char *buf, size_t cap)
{
	tamwil_outbox *ob;

	if (tamwil_client_outbox(c, &ob, NULL) != TAMWIL_OK)
		return 1;
	return tamwil_outbox_recall(ob, topic, key, buf, cap, NULL) == TAMWIL_OK
		   ? 0
		   : 1;
}

/*
 * Offline: the currency of `what` (topic "programme" or "application",
 * key) as this office learnt it, into cur. -1 when known, else an exit
 * status after saying what to do.
 */
static int offline_currency(tamwil_client *c, const char *topic,
			    const char *key, char cur[4])
{
	char v[TAMWIL_OUTBOX_VALUE_MAX];

	if (cli_ops_recall(c, topic, key, v, sizeof(v)) == 0 &&
	    money_currency_valid(v)) {
		memcpy(cur, v, 4);
		return -1;
	}
	return cli_fail("head office cannot be reached, and this office has "
			"not yet learnt the currency of %s %s: give it with "
			"--currency (MAD, DZD, ...) and the operation will "
			"wait in the outbox",
			topic, key);
}

int cli_ops_programme_currency(tamwil_client *c, const char *code, char cur[4])
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListProgrammesRequest body =
	    TAMWIL__V1__LIST_PROGRAMMES_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	const Tamwil__V1__ProgrammeList *list;
	tamwil_error err;
	int rc = -2;

	if (!tamwil_client_online(c))
		return offline_currency(c, "programme", code, cur);
	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES;
	req.list_programmes = &body;
	if (tamwil_client_call(c, &req, &resp, &err) != TAMWIL_OK)
		return tamwil_outbox_link_down(err.status)
			   ? offline_currency(c, "programme", code, cur)
			   : cli_fail_status(&err);
	list = resp->programmes;
	for (size_t i = 0; list != NULL && i < list->n_programmes; i++) {
		const Tamwil__V1__Programme *p = list->programmes[i];
		const char *currency = cli_money_currency(p->envelope);

		if (money_currency_valid(currency))
			cli_ops_learn(c, "programme", p->code, currency);
		if (rc == -2 && strcmp(p->code, code) == 0)
			rc = take_currency(currency, "the programme", cur);
	}
	tamwil__v1__response__free_unpacked(resp, NULL);
	if (rc != -2)
		return rc;
	/* Head office's own list says so: the refusal it would give. */
	err.status = TAMWIL_ERR_REFUSED;
	err.code = TAMWIL__V1__ERROR_CODE__ERROR_UNKNOWN_PROGRAMME;
	snprintf(err.message, sizeof(err.message),
		 "head office has no programme '%s'", code);
	return cli_fail_status(&err);
}

int cli_ops_application_currency(tamwil_client *c, const char *ref, char cur[4])
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__GetApplicationRequest body =
	    TAMWIL__V1__GET_APPLICATION_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	const Tamwil__V1__ApplicationDetail *d;
	tamwil_error err;
	int rc;

	if (!tamwil_client_online(c))
		return offline_currency(c, "application", ref, cur);
	body.reference = (char *)ref;
	req.body_case = TAMWIL__V1__REQUEST__BODY_GET_APPLICATION;
	req.get_application = &body;
	if (tamwil_client_call(c, &req, &resp, &err) != TAMWIL_OK)
		return tamwil_outbox_link_down(err.status)
			   ? offline_currency(c, "application", ref, cur)
			   : cli_fail_status(&err);
	d = resp->application;
	rc = take_currency(
	    d != NULL && d->application != NULL
		? cli_money_currency(d->application->amount_requested)
		: "",
	    "the application", cur);
	tamwil__v1__response__free_unpacked(resp, NULL);
	if (rc < 0)
		cli_ops_learn(c, "application", ref, cur);
	return rc;
}

/* ---- decisions ---------------------------------------------------------- */

enum {
	OPT_AMOUNT = 256,
	OPT_CURRENCY,
	OPT_REASON,
	OPT_DATE,
};

/* What a decision command was given. */
struct decision {
	enum cli_format format;
	const char *ref;
	const char *reason;
	const char *date;
	int has_amount;
	int64_t amount;
	char currency[4]; /* "" until known */
};

/* What parse_decision() reads: the decision and the raw values. */
struct decision_args {
	struct decision *d;
	const char *amount, *currency;
};

/* Takes one option of a decision command; -1. */
static int decision_take(void *arg, int c, const char *v)
{
	struct decision_args *a = arg;

	if (c == OPT_AMOUNT)
		a->amount = v;
	else if (c == OPT_CURRENCY)
		a->currency = v;
	else if (c == OPT_REASON)
		a->d->reason = v;
	else if (c == OPT_DATE)
		a->d->date = v;
	return -1;
}

/*
 * Parses the options of a decision command; which says which of
 * --amount, --reason and --date it takes. Returns -1 to go on, or an exit
 * status.
 */
static int parse_decision(const char *cmd, void (*usage)(FILE *out),
			  const struct option *opts,
			  const struct cli_globals *g, int argc, char **argv,
			  struct decision *d)
{
	static const char *const names[] = {"an application reference"};
	struct decision_args a = {d, NULL, NULL};
	const struct cli_opts o = {cmd, usage, opts, decision_take, &a};
	struct cli_output out;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format(cmd, &out, &d->format)) >= 0 ||
	    (rc = cli_arg_positionals(cmd, argc, argv, 1, names, &d->ref)) >=
		0 ||
	    (rc = cli_arg_text(cmd, "the reference", d->ref)) >= 0 ||
	    (rc = cli_arg_text(cmd, "--reason", d->reason)) >= 0)
		return rc;
	if (a.amount != NULL && (rc = cli_arg_amount(cmd, "--amount", a.amount,
						     0, &d->amount)) >= 0)
		return rc;
	d->has_amount = a.amount != NULL;
	if (a.currency != NULL &&
	    (rc = cli_arg_currency(cmd, "--currency", a.currency,
				   d->currency)) >= 0)
		return rc;
	if (d->date != NULL &&
	    (rc = cli_arg_date(cmd, "--date", d->date, NULL)) >= 0)
		return rc;
	return -1;
}

/*
 * Fills m with d's amount in the application's currency, asking head
 * office for it unless --currency gave it. -1 or an exit status.
 */
static int decision_money(tamwil_client *c, struct decision *d,
			  Tamwil__V1__Money *m)
{
	int rc;

	if (d->currency[0] == '\0' &&
	    (rc = cli_ops_application_currency(c, d->ref, d->currency)) >= 0)
		return rc;
	m->minor = d->amount;
	m->currency = d->currency;
	return -1;
}

/* "VERB REF" with " (AMOUNT WORDS)" when an amount is given. */
static void decision_what(const struct decision *d, const char *verb,
			  const char *words, char *what, size_t cap)
{
	char money[MONEY_TEXT_MAX];

	if (d->has_amount)
		snprintf(what, cap, "%s %s (%s %s)", verb, d->ref,
			 cli_money_text(d->amount, d->currency, money,
					sizeof(money)),
			 words);
	else
		snprintf(what, cap, "%s %s", verb, d->ref);
}

/* ---- withdraw ----------------------------------------------------------- */

void cli_withdraw_usage(FILE *out)
{
	fputs("Usage: tamwil withdraw REF [--reason TEXT]\n"
	      "\n"
	      "Withdraws an application that is still waiting for a decision,\n"
	      "at the beneficiary's request (coordinators of its region and\n"
	      "admins). Withdrawn is final; the beneficiary may apply again.\n"
	      "\n"
	      "Options:\n"
	      "  --reason TEXT   why, for the application's history\n"
	      "  --json, --csv   print the result for scripts\n"
	      "  -h, --help      show this help\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil withdraw LAG-2026-000123\n"
	      "  tamwil withdraw LAG-2026-000123 --reason \"projet "
	      "abandonné\"\n",
	      out);
}

static int withdraw_run(tamwil_client *c, void *arg)
{
	struct decision *d = arg;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__WithdrawApplication body =
	    TAMWIL__V1__WITHDRAW_APPLICATION__INIT;
	char what[WHAT_MAX];
	struct cli_op_print p = {what, NULL, 0};

	body.reference = (char *)d->ref;
	body.reason = (char *)(d->reason != NULL ? d->reason : "");
	op.body_case = TAMWIL__V1__OPERATION__BODY_WITHDRAW_APPLICATION;
	op.withdraw_application = &body;
	decision_what(d, "withdrew", "", what, sizeof(what));
	return cli_ops_apply(c, &op, d->format, &p);
}

int cli_withdraw_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, OPT_REASON},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	struct decision d;
	int rc = parse_decision("withdraw", cli_withdraw_usage, opts, g, argc,
				argv, &d);

	return rc >= 0 ? rc : cli_session_run(g, withdraw_run, &d);
}

/* ---- approve ------------------------------------------------------------ */

void cli_approve_usage(FILE *out)
{
	fputs("Usage: tamwil approve REF [--amount AMOUNT]\n"
	      "\n"
	      "Approves an application (approvers), granting the amount\n"
	      "requested or, with --amount, less. The grant is taken from the\n"
	      "programme's envelope at once: head office refuses it when the\n"
	      "envelope or the ceiling per project would be exceeded. Nobody\n"
	      "approves an application they submitted.\n"
	      "\n"
	      "Options:\n"
	      "  --amount AMOUNT   the amount granted, in the programme's\n"
	      "                    currency: 40000, 40000.00 or \"40 000,00\"\n"
	      "  --currency CODE   the programme's currency, when known (else\n"
	      "                    it is asked of head office)\n"
	      "  --json, --csv     print the result for scripts\n"
	      "  -h, --help        show this help\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil approve LAG-2026-000123\n"
	      "  tamwil approve LAG-2026-000123 --amount \"35 000,00\"\n",
	      out);
}

static int approve_run(tamwil_client *c, void *arg)
{
	struct decision *d = arg;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__ApproveApplication body =
	    TAMWIL__V1__APPROVE_APPLICATION__INIT;
	Tamwil__V1__Money m = TAMWIL__V1__MONEY__INIT;
	char what[WHAT_MAX];
	struct cli_op_print p = {what, NULL, 0};
	int rc;

	body.reference = (char *)d->ref;
	if (d->has_amount) {
		if ((rc = decision_money(c, d, &m)) >= 0)
			return rc;
		body.amount = &m;
	}
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &body;
	decision_what(d, "approved", "granted", what, sizeof(what));
	return cli_ops_apply(c, &op, d->format, &p);
}

int cli_approve_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"amount", required_argument, NULL, OPT_AMOUNT},
	    {"currency", required_argument, NULL, OPT_CURRENCY},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	struct decision d;
	int rc = parse_decision("approve", cli_approve_usage, opts, g, argc,
				argv, &d);

	return rc >= 0 ? rc : cli_session_run(g, approve_run, &d);
}

/* ---- reject ------------------------------------------------------------- */

void cli_reject_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil reject REF --reason TEXT\n"
	    "\n"
	    "Rejects an application waiting for a decision (approvers). The\n"
	    "reason is kept in its history and shown to the region. Rejected\n"
	    "is final; the beneficiary may apply again.\n"
	    "\n"
	    "Options:\n"
	    "  --reason TEXT   why (required)\n"
	    "  --json, --csv   print the result for scripts\n"
	    "  -h, --help      show this help\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil reject LAG-2026-000123 --reason \"dossier "
	    "incomplet\"\n",
	    out);
}

static int reject_run(tamwil_client *c, void *arg)
{
	struct decision *d = arg;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RejectApplication body =
	    TAMWIL__V1__REJECT_APPLICATION__INIT;
	char what[WHAT_MAX];
	struct cli_op_print p = {what, NULL, 0};

	body.reference = (char *)d->ref;
	body.reason = (char *)d->reason;
	op.body_case = TAMWIL__V1__OPERATION__BODY_REJECT_APPLICATION;
	op.reject_application = &body;
	decision_what(d, "rejected", "", what, sizeof(what));
	return cli_ops_apply(c, &op, d->format, &p);
}

int cli_reject_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, OPT_REASON},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	struct decision d;
	int rc =
	    parse_decision("reject", cli_reject_usage, opts, g, argc, argv, &d);

	if (rc >= 0)
		return rc;
	if (d.reason == NULL || d.reason[0] == '\0')
		return cli_usage_error("reject", "reject needs --reason TEXT");
	return cli_session_run(g, reject_run, &d);
}

/* ---- repay -------------------------------------------------------------- */

void cli_repay_usage(FILE *out)
{
	fputs("Usage: tamwil repay REF --amount AMOUNT [--date YYYY-MM-DD]\n"
	      "\n"
	      "Records a repayment on an application something was handed\n"
	      "over for (treasurers). Repayments never exceed what was handed\n"
	      "over; once the amount granted is repaid the application is\n"
	      "closed.\n"
	      "\n"
	      "Options:\n"
	      "  --amount AMOUNT   the amount repaid (required), in the\n"
	      "                    programme's currency: \"2 500,00\"\n"
	      "  --date DATE       when it was repaid (default: today)\n"
	      "  --currency CODE   the programme's currency, when known (else\n"
	      "                    it is asked of head office)\n"
	      "  --json, --csv     print the result for scripts\n"
	      "  -h, --help        show this help\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil repay LAG-2026-000123 --amount \"2 500,00\"\n"
	      "  tamwil repay LAG-2026-000123 --amount 2500 --date "
	      "2026-04-30\n",
	      out);
}

static int repay_run(tamwil_client *c, void *arg)
{
	struct decision *d = arg;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RecordRepayment body = TAMWIL__V1__RECORD_REPAYMENT__INIT;
	Tamwil__V1__Money m = TAMWIL__V1__MONEY__INIT;
	char what[WHAT_MAX];
	struct cli_op_print p = {what, NULL, 0};
	int rc;

	if ((rc = decision_money(c, d, &m)) >= 0)
		return rc;
	body.reference = (char *)d->ref;
	body.amount = &m;
	body.date = (char *)(d->date != NULL ? d->date : "");
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT;
	op.record_repayment = &body;
	decision_what(d, "recorded a repayment on", "repaid", what,
		      sizeof(what));
	return cli_ops_apply(c, &op, d->format, &p);
}

int cli_repay_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"amount", required_argument, NULL, OPT_AMOUNT},
	    {"date", required_argument, NULL, OPT_DATE},
	    {"currency", required_argument, NULL, OPT_CURRENCY},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	struct decision d;
	int rc =
	    parse_decision("repay", cli_repay_usage, opts, g, argc, argv, &d);

	if (rc >= 0)
		return rc;
	if (!d.has_amount)
		return cli_usage_error("repay", "repay needs --amount AMOUNT");
	return cli_session_run(g, repay_run, &d);
}
