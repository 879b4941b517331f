/*
 * tamwil show and tamwil list; see cli_show.h.
 */
#include "cli_show.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "argparse.h"
#include "cli_args.h"
#include "cli_json.h"
#include "cli_opts.h"
#include "cli_out.h"
#include "cli_session.h"
#include "cli_table.h"
#include "cli_util.h"

/* Longest page token this client keeps (the server's are short). */
#define TOKEN_MAX 128

/* The texts of one application's cells, for a table or for CSV. */
struct app_texts {
	char state[32], category[64], birth_year[16];
	char requested[MONEY_TEXT_MAX], contribution[MONEY_TEXT_MAX];
	char granted[MONEY_TEXT_MAX], disbursed[MONEY_TEXT_MAX];
	char repaid[MONEY_TEXT_MAX];
	char submitted_at[CLI_TIME_MAX], decided_at[CLI_TIME_MAX];
};

/* One amount of a, "30 000,00 MAD" for people or minor units for CSV. */
static void amount_text(const Tamwil__V1__Money *m, int csv, char *buf,
			size_t cap)
{
	if (csv)
		cli_minor_text(cli_money_minor(m), buf, cap);
	else
		cli_money_text(cli_money_minor(m), cli_money_currency(m), buf,
			       cap);
}

static void app_texts(const Tamwil__V1__Application *a, int csv,
		      struct app_texts *t)
{
	argparse_enum_name(&tamwil__v1__application_state__descriptor, "STATE_",
			   (int)a->state, t->state, sizeof(t->state));
	argparse_enum_name(&tamwil__v1__category__descriptor, "CATEGORY_",
			   (int)a->category, t->category, sizeof(t->category));
	snprintf(t->birth_year, sizeof(t->birth_year), "%u",
		 (unsigned)a->birth_year);
	amount_text(a->amount_requested, csv, t->requested,
		    sizeof(t->requested));
	amount_text(a->own_contribution, csv, t->contribution,
		    sizeof(t->contribution));
	amount_text(a->amount_granted, csv, t->granted, sizeof(t->granted));
	amount_text(a->amount_disbursed, csv, t->disbursed,
		    sizeof(t->disbursed));
	amount_text(a->amount_repaid, csv, t->repaid, sizeof(t->repaid));
	if (csv) {
		cli_time_iso(a->submitted_at, t->submitted_at,
			     sizeof(t->submitted_at));
		if (a->decided_at != 0)
			cli_time_iso(a->decided_at, t->decided_at,
				     sizeof(t->decided_at));
		else
			t->decided_at[0] = '\0';
	} else {
		cli_time_text(a->submitted_at, t->submitted_at,
			      sizeof(t->submitted_at));
		cli_time_text(a->decided_at, t->decided_at,
			      sizeof(t->decided_at));
	}
}

/* Every field of an application, for CSV: the JSON keys. */
static const struct cli_column csv_cols[] = {{"reference", "", 0, 0},
					     {"programme", "", 0, 0},
					     {"region", "", 0, 0},
					     {"state", "", 0, 0},
					     {"beneficiary_name", "", 0, 0},
					     {"sex", "", 0, 0},
					     {"birth_year", "", 0, 0},
					     {"category", "", 0, 0},
					     {"sector", "", 0, 0},
					     {"activity", "", 0, 0},
					     {"currency", "", 0, 0},
					     {"amount_requested", "", 0, 0},
					     {"own_contribution", "", 0, 0},
					     {"amount_granted", "", 0, 0},
					     {"amount_disbursed", "", 0, 0},
					     {"amount_repaid", "", 0, 0},
					     {"financing_formula", "", 0, 0},
					     {"submitted_by", "", 0, 0},
					     {"submitted_at", "", 0, 0},
					     {"decided_by", "", 0, 0},
					     {"decided_at", "", 0, 0},
					     {"reason", "", 0, 0}};
#define N_CSV (sizeof(csv_cols) / sizeof(csv_cols[0]))

/* What a list shows people, with the beneficiary's name (head office). */
static const struct cli_column named_cols[] = {
    {"reference", "Reference", 0, 0},
    {"state", "State", 0, 0},
    {"programme", "Programme", 0, 0},
    {"region", "Region", 0, 0},
    {"beneficiary_name", "Beneficiary", 0, 1},
    {"sex", "Sex", 0, 0},
    {"category", "Category", 0, 1},
    {"sector", "Sector", 0, 1},
    {"amount_requested", "Requested", 1, 0},
    {"amount_granted", "Granted", 1, 0},
    {"activity", "Activity", 0, 1}};
#define N_NAMED	 (sizeof(named_cols) / sizeof(named_cols[0]))
#define NAME_COL 4

/* The same without the name (coordinators are not given it). */
static const struct cli_column plain_cols[] = {
    {"reference", "Reference", 0, 0},
    {"state", "State", 0, 0},
    {"programme", "Programme", 0, 0},
    {"region", "Region", 0, 0},
    {"sex", "Sex", 0, 0},
    {"category", "Category", 0, 1},
    {"sector", "Sector", 0, 1},
    {"amount_requested", "Requested", 1, 0},
    {"amount_granted", "Granted", 1, 0},
    {"activity", "Activity", 0, 1}};

/* Adds a as one CSV record to t; 0 or -1. */
static int add_csv_row(cli_table *t, const Tamwil__V1__Application *a)
{
	struct app_texts x;
	const char *cells[N_CSV];

	app_texts(a, 1, &x);
	cells[0] = a->reference;
	cells[1] = a->programme;
	cells[2] = a->region;
	cells[3] = x.state;
	cells[4] = a->beneficiary_name;
	cells[5] = argparse_sex_name((int)a->sex);
	cells[6] = x.birth_year;
	cells[7] = x.category;
	cells[8] = a->sector;
	cells[9] = a->activity;
	cells[10] = cli_money_currency(a->amount_requested);
	cells[11] = x.requested;
	cells[12] = x.contribution;
	cells[13] = x.granted;
	cells[14] = x.disbursed;
	cells[15] = x.repaid;
	cells[16] = a->financing_formula;
	cells[17] = a->submitted_by;
	cells[18] = x.submitted_at;
	cells[19] = a->decided_by;
	cells[20] = x.decided_at;
	cells[21] = a->reason;
	return cli_table_add(t, cells);
}

/* Adds a as one table row to t, with its name when named; 0 or -1. */
static int add_text_row(cli_table *t, const Tamwil__V1__Application *a,
			int named)
{
	struct app_texts x;
	const char *cells[N_NAMED];
	size_t k = 0;

	app_texts(a, 0, &x);
	cells[k++] = a->reference;
	cells[k++] = x.state;
	cells[k++] = a->programme;
	cells[k++] = a->region;
	if (named)
		cells[k++] = a->beneficiary_name;
	cells[k++] = argparse_sex_name((int)a->sex);
	cells[k++] = x.category;
	cells[k++] = a->sector;
	cells[k++] = x.requested;
	cells[k++] = x.granted;
	cells[k] = a->activity;
	return cli_table_add(t, cells);
}

/* ---- show --------------------------------------------------------------- */

void cli_application_usage(FILE *out)
{
	fputs("Usage: tamwil show REF\n"
	      "\n"
	      "Shows an application: the beneficiary's project, amounts\n"
	      "requested, granted, handed over and repaid, who submitted and\n"
	      "decided it, and its history. Head office roles also see the\n"
	      "beneficiary's name. A coordinator sees the applications of its\n"
	      "own region only.\n"
	      "\n"
	      "Options:\n"
	      "  --json   the application and its history as one object\n"
	      "           (amounts in minor units, next to \"currency\")\n"
	      "  --csv    the application as one record, with the columns of\n"
	      "           tamwil list --csv\n"
	      "  -h, --help   show this help\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil show LAG-2026-000123\n"
	      "  tamwil --json show LAG-2026-000123\n",
	      out);
}

/* "TIME by NAME", or "" when t is 0. */
static const char *when_by(int64_t t, const char *who, char *buf, size_t cap)
{
	char when[CLI_TIME_MAX];

	if (t == 0) {
		buf[0] = '\0';
		return buf;
	}
	snprintf(buf, cap, "%s by %s", cli_time_text(t, when, sizeof(when)),
		 who != NULL ? who : "");
	return buf;
}

/* Prints the application's fields as "label  value" lines. */
static void print_fields(const Tamwil__V1__Application *a)
{
	struct cli_field f[20];
	struct app_texts x;
	char submitted[512], decided[512];
	size_t n = 0;

	app_texts(a, 0, &x);
	f[n++] = (struct cli_field){"reference", a->reference};
	f[n++] = (struct cli_field){"state", x.state};
	f[n++] = (struct cli_field){"programme", a->programme};
	f[n++] = (struct cli_field){"region", a->region};
	if (a->beneficiary_name != NULL && a->beneficiary_name[0] != '\0')
		f[n++] = (struct cli_field){"beneficiary", a->beneficiary_name};
	f[n++] = (struct cli_field){"sex", argparse_sex_name((int)a->sex)};
	f[n++] = (struct cli_field){"birth year", x.birth_year};
	f[n++] = (struct cli_field){"category", x.category};
	f[n++] = (struct cli_field){"sector", a->sector};
	f[n++] = (struct cli_field){"activity", a->activity};
	f[n++] = (struct cli_field){"requested", x.requested};
	f[n++] = (struct cli_field){"own contribution", x.contribution};
	if (a->financing_formula != NULL && a->financing_formula[0] != '\0')
		f[n++] = (struct cli_field){"financing formula",
					    a->financing_formula};
	f[n++] = (struct cli_field){"granted", x.granted};
	f[n++] = (struct cli_field){"disbursed", x.disbursed};
	f[n++] = (struct cli_field){"repaid", x.repaid};
	f[n++] = (struct cli_field){"submitted",
				    when_by(a->submitted_at, a->submitted_by,
					    submitted, sizeof(submitted))};
	if (a->decided_at != 0)
		f[n++] = (struct cli_field){
		    "decided", when_by(a->decided_at, a->decided_by, decided,
				       sizeof(decided))};
	if (a->reason != NULL && a->reason[0] != '\0')
		f[n++] = (struct cli_field){"reason", a->reason};
	cli_print_fields(stdout, f, n);
}

/* Prints the history as a table; 0 or -1. */
static int print_history(const Tamwil__V1__ApplicationDetail *d)
{
	static const struct cli_column cols[] = {{"time", "Time", 0, 0},
						 {"action", "Action", 0, 0},
						 {"actor", "By", 0, 1},
						 {"amount", "Amount", 1, 0},
						 {"detail", "Detail", 0, 1}};
	cli_table *t = cli_table_new(cols, 5);
	int rc = t != NULL ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < d->n_events; i++) {
		const Tamwil__V1__ApplicationEvent *e = d->events[i];
		char when[CLI_TIME_MAX], amount[MONEY_TEXT_MAX] = "";
		const char *cells[5];

		if (cli_money_minor(e->amount) != 0)
			cli_money_text(cli_money_minor(e->amount),
				       cli_money_currency(e->amount), amount,
				       sizeof(amount));
		cells[0] = cli_time_text(e->time, when, sizeof(when));
		cells[1] = e->action;
		cells[2] = e->actor;
		cells[3] = amount;
		cells[4] = e->detail;
		rc = cli_table_add(t, cells);
	}
	if (rc == 0) {
		fputs("\nhistory\n", stdout);
		rc = cli_table_print(t, 0, stdout);
	}
	cli_table_free(t);
	return rc;
}

/* The application and its history as one JSON object. */
static json_t *detail_json(const Tamwil__V1__ApplicationDetail *d)
{
	struct cli_json b;
	json_t *events = json_array();

	for (size_t i = 0; events != NULL && i < d->n_events; i++) {
		if (json_array_append_new(events,
					  cli_json_event(d->events[i])) != 0) {
			json_decref(events);
			events = NULL;
		}
	}
	cli_json_begin(&b);
	cli_json_value(&b, "application", cli_json_application(d->application));
	cli_json_value(&b, "history", events);
	return cli_json_end(&b);
}

/* Prints d in format f; returns an exit status. */
static int print_detail(const Tamwil__V1__ApplicationDetail *d,
			enum cli_format f)
{
	cli_table *t;
	int rc = -1;

	if (d->application == NULL)
		return cli_fail("head office sent an empty application");
	if (f == CLI_JSON)
		return cli_json_print(detail_json(d));
	if (f == CLI_TEXT) {
		print_fields(d->application);
		rc = print_history(d);
	} else {
		t = cli_table_new(csv_cols, N_CSV);
		if (t != NULL && add_csv_row(t, d->application) == 0)
			rc = cli_table_print(t, 1, stdout);
		cli_table_free(t);
	}
	return rc == 0 ? CLI_EXIT_OK : cli_fail("cannot write the answer");
}

struct show {
	enum cli_format format;
	const char *ref;
};

static int show_run(tamwil_client *c, void *arg)
{
	const struct show *s = arg;
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__GetApplicationRequest body =
	    TAMWIL__V1__GET_APPLICATION_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	tamwil_error err;
	int rc;

	body.reference = (char *)s->ref;
	req.body_case = TAMWIL__V1__REQUEST__BODY_GET_APPLICATION;
	req.get_application = &body;
	if (tamwil_client_call(c, &req, &resp, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	rc = print_detail(resp->application, s->format);
	tamwil__v1__response__free_unpacked(resp, NULL);
	return rc;
}

int cli_application_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
					     CLI_OUTPUT_OPTIONS,
					     {NULL, 0, NULL, 0}};
	static const char *const names[] = {"an application reference"};
	const struct cli_opts o = {"show", cli_application_usage, opts, NULL,
				   NULL};
	struct cli_output out;
	struct show s = {CLI_TEXT, NULL};
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format("show", &out, &s.format)) >= 0 ||
	    (rc = cli_arg_positionals("show", argc, argv, 1, names, &s.ref)) >=
		0 ||
	    (rc = cli_arg_text("show", "the reference", s.ref)) >= 0)
		return rc;
	return cli_session_run(g, show_run, &s);
}

/* ---- list --------------------------------------------------------------- */

void cli_list_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil list [FILTERS] [--page-size N] [--all]\n"
	    "\n"
	    "Lists applications, oldest first, one page at a time (100 by\n"
	    "default); --all follows the pages to the end. A coordinator\n"
	    "sees its own region only.\n"
	    "\n"
	    "Filters:\n"
	    "  --region CODE        --programme CODE      --sector SECTOR\n"
	    "  --state STATE        submitted, approved, rejected, "
	    "withdrawn,\n"
	    "                       disbursing, disbursed, repaying, closed,\n"
	    "                       written_off\n"
	    "  --category CATEGORY  former_detainee, rural_woman, "
	    "woman_at_home,\n"
	    "                       youth, person_with_disability, other\n"
	    "  --sex F|M\n"
	    "  --from DATE          submitted on or after DATE (YYYY-MM-DD, "
	    "UTC)\n"
	    "  --to DATE            submitted on or before DATE\n"
	    "\n"
	    "Options:\n"
	    "  --page-size N   applications a page, 1 to 500\n"
	    "  --all           every page, not just the first\n"
	    "  --json          {\"total\", \"applications\": [...]}, amounts "
	    "in\n"
	    "                  minor units next to \"currency\"\n"
	    "  --csv           a header, then one record per application\n"
	    "                  (amounts in minor units)\n"
	    "  -h, --help      show this help\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil list --state submitted\n"
	    "  tamwil list --region LAG --sex F --from 2026-01-01 --all\n"
	    "  tamwil --csv list --programme INDH-2026 --all > "
	    "applications.csv\n",
	    out);
}

/* What list was asked, and what it has gathered so far. */
struct list {
	enum cli_format format;
	int all;
	Tamwil__V1__ListApplicationsRequest req;
	cli_table *table; /* text and CSV, made with the first page */
	int named;	  /* the table has the beneficiary column */
	json_t *apps;	  /* JSON */
	size_t shown;
	uint64_t total;
	char token[TOKEN_MAX]; /* the next page's; "" on the last */
};

/* Makes the table for the first page: named if the page has names. */
static int list_table(struct list *l, const Tamwil__V1__ApplicationPage *p)
{
	int csv = l->format == CLI_CSV;

	for (size_t i = 0; !csv && i < p->n_applications; i++)
		l->named |= p->applications[i]->beneficiary_name != NULL &&
			    p->applications[i]->beneficiary_name[0] != '\0';
	if (csv)
		l->table = cli_table_new(csv_cols, N_CSV);
	else if (l->named)
		l->table = cli_table_new(named_cols, N_NAMED);
	else
		l->table = cli_table_new(plain_cols, N_NAMED - 1);
	return l->table != NULL ? 0 : -1;
}

/* Adds a page to what l gathered; 0 or -1. */
static int list_add(struct list *l, const Tamwil__V1__ApplicationPage *p)
{
	int rc = 0;

	if (l->format != CLI_JSON && l->table == NULL)
		rc = list_table(l, p);
	for (size_t i = 0; rc == 0 && i < p->n_applications; i++) {
		const Tamwil__V1__Application *a = p->applications[i];

		if (l->format == CLI_JSON)
			rc = json_array_append_new(l->apps,
						   cli_json_application(a));
		else if (l->format == CLI_CSV)
			rc = add_csv_row(l->table, a);
		else
			rc = add_text_row(l->table, a, l->named);
		l->shown += rc == 0;
	}
	l->total = p->total;
	if (p->next_page_token == NULL ||
	    strlen(p->next_page_token) >= sizeof(l->token))
		l->token[0] = '\0';
	else
		memcpy(l->token, p->next_page_token,
		       strlen(p->next_page_token) + 1);
	return rc == 0 ? 0 : -1;
}

/* Asks for one page and adds it; -1 or an exit status. */
static int list_page(tamwil_client *c, struct list *l)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	tamwil_error err;
	int rc;

	l->req.page_token = l->token;
	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS;
	req.list_applications = &l->req;
	if (tamwil_client_call(c, &req, &resp, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	rc = resp->applications != NULL ? list_add(l, resp->applications) : -1;
	tamwil__v1__response__free_unpacked(resp, NULL);
	return rc == 0 ? -1 : cli_fail("cannot hold the list: out of memory");
}

/* Prints what l gathered; returns an exit status. */
static int list_print(struct list *l)
{
	struct cli_json b;

	if (l->format == CLI_JSON) {
		cli_json_begin(&b);
		cli_json_int(&b, "total", (int64_t)l->total);
		cli_json_value(&b, "applications", json_incref(l->apps));
		if (l->token[0] != '\0')
			cli_json_text(&b, "next_page_token", l->token);
		return cli_json_print(cli_json_end(&b));
	}
	if (l->format == CLI_TEXT && l->shown == 0) {
		puts("no applications match");
		return CLI_EXIT_OK;
	}
	if (cli_table_print(l->table, l->format == CLI_CSV, stdout) != 0)
		return cli_fail("cannot write the answer");
	if (l->format == CLI_TEXT && l->token[0] != '\0')
		fprintf(stderr,
			"tamwil: %zu of %llu applications shown: --all shows "
			"them all\n",
			l->shown, (unsigned long long)l->total);
	return CLI_EXIT_OK;
}

static int list_run(tamwil_client *c, void *arg)
{
	struct list *l = arg;
	char last[TOKEN_MAX];
	int rc;

	do {
		memcpy(last, l->token, sizeof(last));
		if ((rc = list_page(c, l)) >= 0)
			return rc;
		/* A server repeating its token would never end. */
	} while (l->all && l->token[0] != '\0' && strcmp(last, l->token) != 0);
	return list_print(l);
}

enum {
	OPT_REGION = 256,
	OPT_PROGRAMME,
	OPT_STATE,
	OPT_SECTOR,
	OPT_CATEGORY,
	OPT_SEX,
	OPT_FROM,
	OPT_TO,
	OPT_PAGE_SIZE,
	OPT_ALL
};

/* The raw filter values, read after the loop. */
struct list_raw {
	const char *state, *category, *sex, *from, *to, *page_size;
};

/* Reads the raw filters into l->req; -1 or an exit status. */
static int list_filters(struct list *l, const struct list_raw *r)
{
	Tamwil__V1__ListApplicationsRequest *q = &l->req;
	unsigned long size = 0;
	int64_t t;
	int v, rc;

	if (r->state != NULL) {
		if ((rc = cli_arg_enum(
			 "list", "--state", r->state,
			 &tamwil__v1__application_state__descriptor, "STATE_",
			 &v)) >= 0)
			return rc;
		q->state = (Tamwil__V1__ApplicationState)v;
	}
	if (r->category != NULL) {
		if ((rc = cli_arg_enum("list", "--category", r->category,
				       &tamwil__v1__category__descriptor,
				       "CATEGORY_", &v)) >= 0)
			return rc;
		q->category = (Tamwil__V1__Category)v;
	}
	if (r->sex != NULL) {
		q->sex = (Tamwil__V1__Sex)argparse_sex(r->sex);
		if (q->sex == TAMWIL__V1__SEX__SEX_UNSPECIFIED)
			return cli_usage_error(
			    "list", "--sex: '%s' is not F or M", r->sex);
	}
	if (r->from != NULL) {
		if ((rc = cli_arg_date("list", "--from", r->from, &t)) >= 0)
			return rc;
		q->submitted_from = t;
	}
	if (r->to != NULL) {
		if ((rc = cli_arg_date("list", "--to", r->to, &t)) >= 0)
			return rc;
		q->submitted_to = t + 86400; /* the whole day, exclusive */
	}
	if (r->page_size != NULL) {
		if ((rc = cli_arg_count("list", "--page-size", r->page_size, 1,
					500, &size)) >= 0)
			return rc;
		q->page_size = (uint32_t)size;
	}
	return -1;
}

/* What list_parse() reads: the list and the raw filters. */
struct list_args {
	struct list *l;
	struct list_raw r;
};

/* Takes one option of list; -1. */
static int list_take(void *arg, int c, const char *v)
{
	struct list_args *a = arg;

	switch (c) {
	case OPT_REGION:
		a->l->req.region = (char *)v;
		break;
	case OPT_PROGRAMME:
		a->l->req.programme = (char *)v;
		break;
	case OPT_SECTOR:
		a->l->req.sector = (char *)v;
		break;
	case OPT_STATE:
		a->r.state = v;
		break;
	case OPT_CATEGORY:
		a->r.category = v;
		break;
	case OPT_SEX:
		a->r.sex = v;
		break;
	case OPT_FROM:
		a->r.from = v;
		break;
	case OPT_TO:
		a->r.to = v;
		break;
	case OPT_PAGE_SIZE:
		a->r.page_size = v;
		break;
	case OPT_ALL:
		a->l->all = 1;
		break;
	default:
		break;
	}
	return -1;
}

/* Parses the command line into l; -1 or an exit status. */
static int list_parse(const struct cli_globals *g, int argc, char **argv,
		      struct list *l)
{
	static const struct option opts[] = {
	    {"region", required_argument, NULL, OPT_REGION},
	    {"programme", required_argument, NULL, OPT_PROGRAMME},
	    {"state", required_argument, NULL, OPT_STATE},
	    {"sector", required_argument, NULL, OPT_SECTOR},
	    {"category", required_argument, NULL, OPT_CATEGORY},
	    {"sex", required_argument, NULL, OPT_SEX},
	    {"from", required_argument, NULL, OPT_FROM},
	    {"to", required_argument, NULL, OPT_TO},
	    {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	struct list_args a = {l, {0}};
	const struct cli_opts o = {"list", cli_list_usage, opts, list_take, &a};
	struct cli_output out;
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format("list", &out, &l->format)) >= 0 ||
	    (rc = cli_arg_positionals("list", argc, argv, 0, NULL, NULL)) >= 0)
		return rc;
	if ((rc = cli_arg_text("list", "--region", l->req.region)) >= 0 ||
	    (rc = cli_arg_text("list", "--programme", l->req.programme)) >= 0 ||
	    (rc = cli_arg_text("list", "--sector", l->req.sector)) >= 0)
		return rc;
	return list_filters(l, &a.r);
}

int cli_list_main(const struct cli_globals *g, int argc, char **argv)
{
	struct list *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return cli_fail("out of memory");
	tamwil__v1__list_applications_request__init(&l->req);
	rc = list_parse(g, argc, argv, l);
	if (rc < 0) {
		l->apps = json_array();
		rc = l->apps != NULL ? cli_session_run(g, list_run, l)
				     : cli_fail("out of memory");
	}
	json_decref(l->apps);
	cli_table_free(l->table);
	free(l);
	return rc;
}
