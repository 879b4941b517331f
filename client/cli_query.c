/*
 * tamwil budget, tamwil report and the list of regions; see cli_query.h.
 */
#include "cli_query.h"

#include <ctype.h>
#include <getopt.h>
#include <string.h>

#include "argparse.h"
#include "cli_args.h"
#include "cli_html.h"
#include "cli_json.h"
#include "cli_opts.h"
#include "cli_session.h"
#include "cli_table.h"
#include "cli_util.h"

/* Parses a command that takes only output options; -1 or an exit status. */
static int parse_plain(const char *cmd, void (*usage)(FILE *out),
		       const struct cli_globals *g, int argc, char **argv,
		       enum cli_format *f)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
					     CLI_OUTPUT_OPTIONS,
					     {NULL, 0, NULL, 0}};
	const struct cli_opts o = {cmd, usage, opts, NULL, NULL};
	struct cli_output out;
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_arg_positionals(cmd, argc, argv, 0, NULL, NULL)) >= 0)
		return rc;
	return cli_output_format(cmd, &out, f);
}

/* Sends a query of the body case body; -1 with *resp, or an exit status. */
static int query(tamwil_client *c, Tamwil__V1__Request *req,
		 Tamwil__V1__Response **resp)
{
	tamwil_error err;

	if (tamwil_client_call(c, req, resp, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	return -1;
}

/*
 * {"key": a} printed; ok 0 (some element could not be built) prints
 * nothing. Releases a; an exit status.
 */
static int print_json_list(const char *key, json_t *a, int ok,
			   const char *group_by)
{
	struct cli_json b;

	if (!ok || a == NULL) {
		json_decref(a);
		return cli_json_print(NULL);
	}
	cli_json_begin(&b);
	if (group_by != NULL)
		cli_json_text(&b, "group_by", group_by);
	cli_json_value(&b, key, a);
	return cli_json_print(cli_json_end(&b));
}

/* Prints t (for people or CSV) and frees it; an exit status. */
static int print_table(cli_table *t, int ok, enum cli_format f)
{
	int rc =
	    ok && t != NULL ? cli_table_print(t, f == CLI_CSV, stdout) : -1;

	cli_table_free(t);
	return rc == 0 ? CLI_EXIT_OK : cli_fail("cannot write the answer");
}

/* ---- budget ------------------------------------------------------------- */

void cli_budget_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil budget\n"
	    "       tamwil programme list\n"
	    "\n"
	    "Shows every programme and its budget use: the envelope, the\n"
	    "ceiling per project, what was granted (approved applications),\n"
	    "handed over and what remains of the envelope, the beneficiaries\n"
	    "approved against the target, and the period.\n"
	    "\n"
	    "Options:\n"
	    "  --json       {\"programmes\": [...]}, amounts in minor units\n"
	    "               next to \"currency\"\n"
	    "  --csv        a header, then one record per programme\n"
	    "  -h, --help   show this help\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil budget\n"
	    "  tamwil --json budget\n",
	    out);
}

/* "2020-01-01 – 2099-12-31", "from …", "until …" or "". */
static void period_text(const Tamwil__V1__Programme *p, char *buf, size_t cap)
{
	const char *s = p->period_start, *e = p->period_end;

	if (s[0] != '\0' && e[0] != '\0')
		snprintf(buf, cap, "%s \xe2\x80\x93 %s", s, e);
	else if (s[0] != '\0')
		snprintf(buf, cap, "from %s", s);
	else if (e[0] != '\0')
		snprintf(buf, cap, "until %s", e);
	else
		buf[0] = '\0';
}

/* The eligible categories, "rural_woman woman_at_home", or "". */
static void categories_text(const Tamwil__V1__Programme *p, char *buf,
			    size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n_eligible_categories; i++) {
		char name[64];
		int n;

		argparse_enum_name(&tamwil__v1__category__descriptor,
				   "CATEGORY_", (int)p->eligible_categories[i],
				   name, sizeof(name));
		n = snprintf(buf + used, cap - used, "%s%s", used ? " " : "",
			     name);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
}

static const struct cli_column budget_text_cols[] = {
    {"code", "Code", 0, 0},	      {"name", "Name", 0, 1},
    {"envelope", "Envelope", 1, 0},   {"ceiling", "Ceiling", 1, 0},
    {"granted", "Granted", 1, 0},     {"disbursed", "Disbursed", 1, 0},
    {"remaining", "Remaining", 1, 0}, {"beneficiaries", "Beneficiaries", 1, 0},
    {"period", "Period", 0, 1}};

static const struct cli_column budget_csv_cols[] = {
    {"code", "", 0, 0},
    {"name", "", 0, 0},
    {"currency", "", 0, 0},
    {"envelope", "", 0, 0},
    {"ceiling", "", 0, 0},
    {"granted", "", 0, 0},
    {"disbursed", "", 0, 0},
    {"remaining", "", 0, 0},
    {"beneficiaries", "", 0, 0},
    {"target_beneficiaries", "", 0, 0},
    {"period_start", "", 0, 0},
    {"period_end", "", 0, 0},
    {"eligible_categories", "", 0, 0}};

/* Adds programme p as a row for people; 0 or -1. */
static int budget_text_row(cli_table *t, const Tamwil__V1__Programme *p)
{
	const char *cur = cli_money_currency(p->envelope);
	char m[5][MONEY_TEXT_MAX], who[48], period[64];
	const char *cells[9];

	if (p->target_beneficiaries != 0)
		snprintf(who, sizeof(who), "%llu / %u",
			 (unsigned long long)p->beneficiaries,
			 (unsigned)p->target_beneficiaries);
	else
		snprintf(who, sizeof(who), "%llu",
			 (unsigned long long)p->beneficiaries);
	period_text(p, period, sizeof(period));
	cells[0] = p->code;
	cells[1] = p->name;
	cells[2] = cli_money_text(cli_money_minor(p->envelope), cur, m[0],
				  sizeof(m[0]));
	cells[3] = cli_money_text(cli_money_minor(p->ceiling), cur, m[1],
				  sizeof(m[1]));
	cells[4] = cli_money_text(cli_money_minor(p->granted), cur, m[2],
				  sizeof(m[2]));
	cells[5] = cli_money_text(cli_money_minor(p->disbursed), cur, m[3],
				  sizeof(m[3]));
	cells[6] = cli_money_text(cli_money_minor(p->remaining), cur, m[4],
				  sizeof(m[4]));
	cells[7] = who;
	cells[8] = period;
	return cli_table_add(t, cells);
}

/* Adds programme p as a CSV record; 0 or -1. */
static int budget_csv_row(cli_table *t, const Tamwil__V1__Programme *p)
{
	char m[5][24], n[2][24], cats[256];
	const char *cells[13];

	categories_text(p, cats, sizeof(cats));
	cells[0] = p->code;
	cells[1] = p->name;
	cells[2] = cli_money_currency(p->envelope);
	cells[3] = cli_minor_text(cli_money_minor(p->envelope), m[0], 24);
	cells[4] = cli_minor_text(cli_money_minor(p->ceiling), m[1], 24);
	cells[5] = cli_minor_text(cli_money_minor(p->granted), m[2], 24);
	cells[6] = cli_minor_text(cli_money_minor(p->disbursed), m[3], 24);
	cells[7] = cli_minor_text(cli_money_minor(p->remaining), m[4], 24);
	cells[8] = cli_minor_text((int64_t)p->beneficiaries, n[0], 24);
	cells[9] = cli_minor_text(p->target_beneficiaries, n[1], 24);
	cells[10] = p->period_start;
	cells[11] = p->period_end;
	cells[12] = cats;
	return cli_table_add(t, cells);
}

/* Prints the programme list l in format f; an exit status. */
static int print_budget(const Tamwil__V1__ProgrammeList *l, enum cli_format f)
{
	cli_table *t;
	int ok = 1;

	if (f == CLI_JSON) {
		json_t *a = json_array();

		for (size_t i = 0; a != NULL && i < l->n_programmes; i++)
			if (json_array_append_new(
				a, cli_json_programme(l->programmes[i])) != 0)
				ok = 0;
		return print_json_list("programmes", a, ok, NULL);
	}
	if (f == CLI_TEXT && l->n_programmes == 0) {
		puts("no programmes yet");
		return CLI_EXIT_OK;
	}
	t = f == CLI_CSV ? cli_table_new(budget_csv_cols, 13)
			 : cli_table_new(budget_text_cols, 9);
	for (size_t i = 0; t != NULL && ok && i < l->n_programmes; i++)
		ok = (f == CLI_CSV ? budget_csv_row(t, l->programmes[i])
				   : budget_text_row(t, l->programmes[i])) == 0;
	return print_table(t, ok, f);
}

static int budget_run(tamwil_client *c, void *arg)
{
	const enum cli_format *f = arg;
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListProgrammesRequest body =
	    TAMWIL__V1__LIST_PROGRAMMES_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	int rc;

	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES;
	req.list_programmes = &body;
	if ((rc = query(c, &req, &resp)) >= 0)
		return rc;
	rc = resp->programmes != NULL
		 ? print_budget(resp->programmes, *f)
		 : cli_fail("head office sent an empty programme list");
	tamwil__v1__response__free_unpacked(resp, NULL);
	return rc;
}

int cli_budget_main(const struct cli_globals *g, int argc, char **argv)
{
	enum cli_format f;
	int rc = parse_plain("budget", cli_budget_usage, g, argc, argv, &f);

	return rc >= 0 ? rc : cli_session_run(g, budget_run, &f);
}

/* ---- report ------------------------------------------------------------- */

void cli_report_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil report --by GROUP [--programme CODE] "
	    "[--region CODE]\n"
	    "       tamwil report --html FILE [--programme CODE] "
	    "[--region CODE]\n"
	    "\n"
	    "Counts and amounts at each stage, by group: applications\n"
	    "submitted (and of women), approved, rejected, withdrawn, with\n"
	    "at least one tranche; amounts requested, granted, handed over\n"
	    "and repaid. A group spanning programmes of two currencies has\n"
	    "one row per currency. A coordinator's report covers its own\n"
	    "region. By month, the rows count the work recorded each month.\n"
	    "--html writes all of it as one web page with charts, to open\n"
	    "in any browser, mail or archive.\n"
	    "\n"
	    "Options:\n"
	    "  --by GROUP        region, programme, sector, sex, category or\n"
	    "                    month\n"
	    "  --html FILE       the whole report as a web page\n"
	    "  --programme CODE  only this programme\n"
	    "  --region CODE     only this region\n"
	    "  --json            {\"group_by\", \"rows\": [...]}, amounts in\n"
	    "                    minor units next to \"currency\"\n"
	    "  --csv             a header, then one record per row\n"
	    "  -h, --help        show this help\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil report --by region\n"
	    "  tamwil report --by sex --programme INDH-2026\n"
	    "  tamwil --csv report --by sector > sectors.csv\n"
	    "  tamwil report --html rapport-2026-03.html\n",
	    out);
}

/* Adds row r for people (amounts in r's currency) or CSV; 0 or -1. */
static int report_row(cli_table *t, const Tamwil__V1__ReportRow *r, int csv)
{
	const uint64_t counts[] = {r->submitted, r->women,     r->approved,
				   r->rejected,	 r->withdrawn, r->disbursed};
	const int64_t amounts[] = {r->amount_requested, r->amount_granted,
				   r->amount_disbursed, r->amount_repaid};
	char n[6][24], m[4][MONEY_TEXT_MAX];
	const char *cells[12];
	size_t k = 0;

	cells[k++] = r->group;
	if (csv)
		cells[k++] = r->currency;
	for (size_t i = 0; i < 6; i++)
		cells[k++] = cli_minor_text((int64_t)counts[i], n[i], 24);
	for (size_t i = 0; i < 4; i++)
		cells[k++] =
		    csv ? cli_minor_text(amounts[i], m[i], sizeof(m[i]))
			: cli_money_text(amounts[i], r->currency, m[i],
					 sizeof(m[i]));
	return cli_table_add(t, cells);
}

/* Prints the report in format f; an exit status. */
static int print_report(const Tamwil__V1__ReportResponse *rep, const char *by,
			enum cli_format f)
{
	char title[32];
	struct cli_column cols[] = {{"group", title, 0, 1},
				    {"currency", "Currency", 0, 0},
				    {"submitted", "Submitted", 1, 0},
				    {"women", "Women", 1, 0},
				    {"approved", "Approved", 1, 0},
				    {"rejected", "Rejected", 1, 0},
				    {"withdrawn", "Withdrawn", 1, 0},
				    {"disbursed", "Disbursed", 1, 0},
				    {"amount_requested", "Requested", 1, 0},
				    {"amount_granted", "Granted", 1, 0},
				    {"amount_disbursed", "Handed over", 1, 0},
				    {"amount_repaid", "Repaid", 1, 0}};
	int csv = f == CLI_CSV, ok = 1;
	cli_table *t;

	snprintf(title, sizeof(title), "%s", by);
	title[0] = (char)toupper((unsigned char)title[0]);

	if (f == CLI_JSON) {
		json_t *a = json_array();

		for (size_t i = 0; a != NULL && i < rep->n_rows; i++)
			if (json_array_append_new(
				a, cli_json_report_row(rep->rows[i])) != 0)
				ok = 0;
		return print_json_list("rows", a, ok, by);
	}
	if (!csv) /* for people the currency goes with each amount */
		memmove(&cols[1], &cols[2], sizeof(cols) - 2 * sizeof(cols[0]));
	t = cli_table_new(cols, csv ? 12 : 11);
	if (t == NULL)
		return cli_fail("out of memory");
	for (size_t i = 0; ok && i < rep->n_rows; i++)
		ok = report_row(t, rep->rows[i], csv) == 0;
	if (!csv && rep->n_rows == 0) {
		cli_table_free(t);
		puts("no applications to report on");
		return CLI_EXIT_OK;
	}
	return print_table(t, ok, f); /* t points at cols: print it now */
}

struct report {
	enum cli_format format;
	int by;
	char by_name[32];
	const char *html; /* --html FILE, or NULL */
	Tamwil__V1__ReportRequest req;
};

static int report_run(tamwil_client *c, void *arg)
{
	struct report *r = arg;
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	int rc;

	if (r->html != NULL)
		return cli_html_report(c, r->req.programme, r->req.region,
				       r->html);
	req.body_case = TAMWIL__V1__REQUEST__BODY_REPORT;
	req.report = &r->req;
	if ((rc = query(c, &req, &resp)) >= 0)
		return rc;
	rc = resp->report != NULL
		 ? print_report(resp->report, r->by_name, r->format)
		 : cli_fail("head office sent an empty report");
	tamwil__v1__response__free_unpacked(resp, NULL);
	return rc;
}

enum { OPT_BY = 256, OPT_PROGRAMME, OPT_REGION, OPT_HTML };

/* What report_parse() reads: the report and the raw --by. */
struct report_args {
	struct report *r;
	const char *by;
};

/* Takes one option of report; -1. */
static int report_take(void *arg, int c, const char *v)
{
	struct report_args *a = arg;

	if (c == OPT_BY)
		a->by = v;
	else if (c == OPT_PROGRAMME)
		a->r->req.programme = (char *)v;
	else if (c == OPT_REGION)
		a->r->req.region = (char *)v;
	else if (c == OPT_HTML)
		a->r->html = v;
	return -1;
}

/* Parses the command line into r; -1 or an exit status. */
static int report_parse(const struct cli_globals *g, int argc, char **argv,
			struct report *r)
{
	static const struct option opts[] = {
	    {"by", required_argument, NULL, OPT_BY},
	    {"programme", required_argument, NULL, OPT_PROGRAMME},
	    {"region", required_argument, NULL, OPT_REGION},
	    {"html", required_argument, NULL, OPT_HTML},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	struct report_args a = {r, NULL};
	const struct cli_opts o = {"report", cli_report_usage, opts,
				   report_take, &a};
	struct cli_output out;
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format("report", &out, &r->format)) >= 0 ||
	    (rc = cli_arg_positionals("report", argc, argv, 0, NULL, NULL)) >=
		0)
		return rc;
	if (r->html != NULL && (a.by != NULL || r->format != CLI_TEXT))
		return cli_usage_error("report", "--html draws every grouping "
						 "itself: leave out --by, "
						 "--json and --csv");
	if ((rc = cli_arg_text("report", "--programme", r->req.programme)) >=
		0 ||
	    (rc = cli_arg_text("report", "--region", r->req.region)) >= 0)
		return rc;
	if (r->html != NULL)
		return -1;
	if (a.by == NULL)
		return cli_usage_error("report", "report needs --by "
						 "region|programme|sector|"
						 "sex|category|month, or "
						 "--html FILE");
	if ((rc = cli_arg_enum("report", "--by", a.by,
			       &tamwil__v1__report_group__descriptor, "GROUP_",
			       &r->by)) >= 0)
		return rc;
	r->req.group_by = (Tamwil__V1__ReportGroup)r->by;
	argparse_enum_name(&tamwil__v1__report_group__descriptor, "GROUP_",
			   r->by, r->by_name, sizeof(r->by_name));
	return -1;
}

int cli_report_main(const struct cli_globals *g, int argc, char **argv)
{
	struct report r;
	int rc;

	memset(&r, 0, sizeof(r));
	tamwil__v1__report_request__init(&r.req);
	rc = report_parse(g, argc, argv, &r);
	return rc >= 0 ? rc : cli_session_run(g, report_run, &r);
}

/* ---- regions ------------------------------------------------------------ */

int cli_regions_print(tamwil_client *c, enum cli_format f)
{
	static const struct cli_column cols[] = {{"code", "Code", 0, 0},
						 {"name", "Name", 0, 1}};
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListRegionsRequest body =
	    TAMWIL__V1__LIST_REGIONS_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	const Tamwil__V1__RegionList *l;
	cli_table *t = NULL;
	json_t *a = NULL;
	int rc, ok = 1;

	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &body;
	if ((rc = query(c, &req, &resp)) >= 0)
		return rc;
	l = resp->regions;
	if (f == CLI_JSON)
		a = json_array();
	else
		t = cli_table_new(cols, 2);
	for (size_t i = 0; l != NULL && i < l->n_regions; i++) {
		const char *cells[2] = {l->regions[i]->code,
					l->regions[i]->name};

		if (f == CLI_JSON)
			ok &= a != NULL &&
			      json_array_append_new(
				  a, cli_json_region(l->regions[i])) == 0;
		else
			ok &= t != NULL && cli_table_add(t, cells) == 0;
	}
	tamwil__v1__response__free_unpacked(resp, NULL);
	if (f != CLI_JSON)
		return print_table(t, ok, f);
	return print_json_list("regions", a, ok, NULL);
}
