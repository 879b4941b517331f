/*
 * tamwil disburse: records a tranche handed over to a beneficiary, with
 * the equipment items when the tranche is equipment; see cli_disburse.h.
 */
#include "cli_disburse.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "argparse.h"
#include "cli_args.h"
#include "cli_ops.h"
#include "cli_opts.h"
#include "cli_out.h"
#include "cli_session.h"
#include "cli_util.h"
#include "money.h"

#define CMD "disburse"
/* As many items as head office takes in one tranche. */
#define ITEMS_MAX 100
#define DESC_MAX  1024

struct item {
	char desc[DESC_MAX];
	uint32_t quantity;
	int64_t unit_value;
};

struct disburse {
	enum cli_format format;
	const char *ref;
	const char *payment_reference;
	const char *date;
	int method;
	int64_t amount;
	char currency[4];
	size_t n_items;
	struct item *items; /* ITEMS_MAX of them */
};

void cli_disburse_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil disburse REF --amount AMOUNT --method METHOD\n"
	    "                       --reference TEXT [--date YYYY-MM-DD]\n"
	    "                       [--item DESCRIPTION:QTY:UNIT_VALUE]...\n"
	    "\n"
	    "Records a tranche handed over on an approved application\n"
	    "(treasurers). The tranches never exceed the amount granted;\n"
	    "when they reach it the application is disbursed. Nobody records\n"
	    "tranches on an application they approved.\n"
	    "\n"
	    "Options:\n"
	    "  --amount AMOUNT    the tranche (required), in the programme's\n"
	    "                     currency: 35000, 35000.00 or \"35 000,00\"\n"
	    "  --method METHOD    cash, cheque, transfer or equipment\n"
	    "                     (required)\n"
	    "  --reference TEXT   the cheque number, transfer id or receipt\n"
	    "                     (required)\n"
	    "  --date DATE        when it was handed over (default: today)\n"
	    "  --item ITEM        an equipment item, "
	    "DESCRIPTION:QTY:UNIT_VALUE;\n"
	    "                     repeat it for each item. With --method\n"
	    "                     equipment the items must add up to the\n"
	    "                     amount.\n"
	    "  --currency CODE    the programme's currency, when known (else\n"
	    "                     it is asked of head office)\n"
	    "  --json, --csv      print the result for scripts\n"
	    "  -h, --help         show this help\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil disburse LAG-2026-000123 --amount \"20 000,00\" "
	    "--method transfer \\\n"
	    "      --reference VIR-778812\n"
	    "  tamwil disburse LAG-2026-000123 --amount \"35 000,00\" "
	    "--method equipment \\\n"
	    "      --reference PV-2026-01 --item \"Machine à coudre:2:12 "
	    "500,00\" \\\n"
	    "      --item \"Table de coupe:1:10 000,00\"\n",
	    out);
}

/* Reads one --item into d; -1 or an exit status. */
static int add_item(struct disburse *d, const char *text)
{
	char why[ARGPARSE_WHY_MAX];
	struct item *it;

	if (d->n_items == ITEMS_MAX)
		return cli_usage_error(
		    CMD, "--item: at most %d items a tranche", ITEMS_MAX);
	it = &d->items[d->n_items];
	if (argparse_item(text, it->desc, sizeof(it->desc), &it->quantity,
			  &it->unit_value, why, sizeof(why)) != 0)
		return cli_usage_error(CMD, "--item: %s", why);
	if (!argparse_text(it->desc, why, sizeof(why)))
		return cli_usage_error(CMD, "--item: \"%s\": %s", text, why);
	d->n_items++;
	return -1;
}

/* Checks equipment items add up to the tranche; -1 or an exit status. */
static int check_items(const struct disburse *d)
{
	char sum_text[MONEY_TEXT_MAX], amount_text[MONEY_TEXT_MAX];
	int64_t sum = 0, line;

	if (d->method != TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_EQUIPMENT)
		return -1;
	if (d->n_items == 0)
		return cli_usage_error(CMD,
				       "--method equipment needs the items "
				       "handed over: --item "
				       "\"DESCRIPTION:QTY:UNIT_VALUE\"");
	for (size_t i = 0; i < d->n_items; i++) {
		if (__builtin_mul_overflow(d->items[i].unit_value,
					   (int64_t)d->items[i].quantity,
					   &line) ||
		    money_add(sum, line, &sum) != 0)
			return cli_usage_error(CMD, "--item: the items add up "
						    "to too much");
	}
	if (sum == d->amount)
		return -1;
	return cli_usage_error(
	    CMD, "--item: the items add up to %s, not the tranche's %s",
	    cli_money_text(sum, NULL, sum_text, sizeof(sum_text)),
	    cli_money_text(d->amount, NULL, amount_text, sizeof(amount_text)));
}

enum {
	OPT_AMOUNT = 256,
	OPT_METHOD,
	OPT_REFERENCE,
	OPT_DATE,
	OPT_ITEM,
	OPT_CURRENCY
};

/* Checks the values gathered by parse(); -1 or an exit status. */
static int check(struct disburse *d, const char *amount, const char *method,
		 const char *currency)
{
	const struct cli_required req[] = {
	    {amount, "--amount AMOUNT"},
	    {method, "--method cash|cheque|transfer|equipment"},
	    {d->payment_reference, "--reference TEXT"}};
	int rc;

	if ((rc = cli_arg_required(CMD, req, 3)) >= 0 ||
	    (rc = cli_arg_text(CMD, "the reference", d->ref)) >= 0 ||
	    (rc = cli_arg_amount(CMD, "--amount", amount, 0, &d->amount)) >=
		0 ||
	    (rc = cli_arg_enum(CMD, "--method", method,
			       &tamwil__v1__disbursement_method__descriptor,
			       "METHOD_", &d->method)) >= 0 ||
	    (rc = cli_arg_text(CMD, "--reference", d->payment_reference)) >= 0)
		return rc;
	if (d->date != NULL &&
	    (rc = cli_arg_date(CMD, "--date", d->date, NULL)) >= 0)
		return rc;
	if (currency != NULL &&
	    (rc = cli_arg_currency(CMD, "--currency", currency, d->currency)) >=
		0)
		return rc;
	return check_items(d);
}

/* What parse() reads: the tranche and the raw values. */
struct disburse_args {
	struct disburse *d;
	const char *amount, *method, *currency;
};

/* Takes one option of disburse; -1 or an exit status. */
static int take(void *arg, int c, const char *v)
{
	struct disburse_args *a = arg;

	switch (c) {
	case OPT_AMOUNT:
		a->amount = v;
		break;
	case OPT_METHOD:
		a->method = v;
		break;
	case OPT_REFERENCE:
		a->d->payment_reference = v;
		break;
	case OPT_DATE:
		a->d->date = v;
		break;
	case OPT_ITEM:
		return add_item(a->d, v);
	case OPT_CURRENCY:
		a->currency = v;
		break;
	default:
		break;
	}
	return -1;
}

/* Parses the command line into d; -1 or an exit status. */
static int parse(const struct cli_globals *g, int argc, char **argv,
		 struct disburse *d)
{
	static const struct option opts[] = {
	    {"amount", required_argument, NULL, OPT_AMOUNT},
	    {"method", required_argument, NULL, OPT_METHOD},
	    {"reference", required_argument, NULL, OPT_REFERENCE},
	    {"date", required_argument, NULL, OPT_DATE},
	    {"item", required_argument, NULL, OPT_ITEM},
	    {"currency", required_argument, NULL, OPT_CURRENCY},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	static const char *const names[] = {"an application reference"};
	struct disburse_args a = {d, NULL, NULL, NULL};
	const struct cli_opts o = {CMD, cli_disburse_usage, opts, take, &a};
	struct cli_output out;
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format(CMD, &out, &d->format)) >= 0 ||
	    (rc = cli_arg_positionals(CMD, argc, argv, 1, names, &d->ref)) >= 0)
		return rc;
	return check(d, a.amount, a.method, a.currency);
}

/* Sends the tranche on c; an exit status. */
static int disburse_run(tamwil_client *c, void *arg)
{
	struct disburse *d = arg;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RecordDisbursement body =
	    TAMWIL__V1__RECORD_DISBURSEMENT__INIT;
	Tamwil__V1__Money amount = TAMWIL__V1__MONEY__INIT;
	Tamwil__V1__EquipmentItem items[ITEMS_MAX];
	Tamwil__V1__EquipmentItem *ptrs[ITEMS_MAX];
	Tamwil__V1__Money values[ITEMS_MAX];
	char what[512], money[MONEY_TEXT_MAX];
	struct cli_op_print p = {what, NULL, 0};
	int rc;

	if (d->currency[0] == '\0' &&
	    (rc = cli_ops_application_currency(c, d->ref, d->currency)) >= 0)
		return rc;
	for (size_t i = 0; i < d->n_items; i++) {
		tamwil__v1__equipment_item__init(&items[i]);
		tamwil__v1__money__init(&values[i]);
		values[i].minor = d->items[i].unit_value;
		values[i].currency = d->currency;
		items[i].description = d->items[i].desc;
		items[i].quantity = d->items[i].quantity;
		items[i].unit_value = &values[i];
		ptrs[i] = &items[i];
	}
	amount.minor = d->amount;
	amount.currency = d->currency;
	body.reference = (char *)d->ref;
	body.amount = &amount;
	body.method = (Tamwil__V1__DisbursementMethod)d->method;
	body.payment_reference = (char *)d->payment_reference;
	body.date = (char *)(d->date != NULL ? d->date : "");
	body.n_items = d->n_items;
	body.items = ptrs;
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT;
	op.record_disbursement = &body;
	snprintf(what, sizeof(what), "recorded a tranche of %s on %s",
		 cli_money_text(d->amount, d->currency, money, sizeof(money)),
		 d->ref);
	return cli_ops_apply(c, &op, d->format, &p);
}

int cli_disburse_main(const struct cli_globals *g, int argc, char **argv)
{
	struct disburse d;
	int rc;

	memset(&d, 0, sizeof(d));
	d.items = calloc(ITEMS_MAX, sizeof(*d.items));
	if (d.items == NULL)
		return cli_fail("out of memory");
	rc = parse(g, argc, argv, &d);
	if (rc < 0)
		rc = cli_session_run(g, disburse_run, &d);
	free(d.items);
	return rc;
}
