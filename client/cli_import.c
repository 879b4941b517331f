/*
 * tamwil import; see cli_import.h. Every row is checked before anything
 * is sent; then each good row is its own signed SubmitApplication, all on
 * one connection, and a refusal of one row does not stop the others.
 */
#include "cli_import.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli_args.h"
#include "cli_json.h"
#include "cli_opts.h"
#include "cli_out.h"
#include "cli_session.h"
#include "cli_table.h"
#include "cli_util.h"
#include "money.h"
#include "tamwil-import.h"

#define CMD "import"
/* Longest application reference kept per row. */
#define REF_MAX 64
/* The progress bar is redrawn at most this often. */
#define PROGRESS_MS 100
#define BAR_WIDTH   30

/* What became of a row once sending began. */
enum outcome { ROW_UNSENT, ROW_APPLIED, ROW_REFUSED };

struct row_result {
	enum outcome what;
	char reference[REF_MAX];
	char code[TAMWIL_CODE_NAME_MAX]; /* a refusal's */
	char *message;			 /* a refusal's, malloc'd */
};

/* A programme head office has, and its currency. */
struct programme {
	char code[REF_MAX];
	char currency[4];
};

struct import {
	enum cli_format format;
	const char *path, *region;
	int keep_going, dry_run;
	tamwil_import *im;
	size_t bad_rows;	     /* rows with a problem */
	struct row_result *results;  /* one per row */
	int sent;		     /* 1 once sending began */
	char stop[TAMWIL_ERROR_MAX]; /* why sending stopped, or "" */
	struct programme *progs;
	size_t n_progs;
	char own_region[64];
};

void cli_import_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil import FILE.csv [--continue | --dry-run]\n"
	    "\n"
	    "Submits one application per row of a spreadsheet saved as CSV\n"
	    "(UTF-8, ';' or ',' between fields, \"35 000,00\" or 35000.50 for\n"
	    "amounts). The first line names the columns, in any order:\n"
	    "  programme, region, national_id, name (or first_name and\n"
	    "  last_name), sex, birth_date, category, sector, activity,\n"
	    "  amount, contribution, formula, phone, address\n"
	    "or their French names (programme, cin, nom, prénom, sexe,\n"
	    "date_naissance, catégorie, secteur, activité, montant, apport,\n"
	    "formule, téléphone, adresse); docs/IMPORT.md lists them all.\n"
	    "\n"
	    "Every row is checked first, and every bad row is reported with\n"
	    "its line and column (\"line 17: birth_date: 31/02/1990 is not a\n"
	    "date\"), as are rows repeating a national ID for the same\n"
	    "programme. If any row is bad nothing is sent. Then each row is\n"
	    "its own signed operation; a row head office refuses is reported\n"
	    "with its reason and the others go on.\n"
	    "\n"
	    "Options:\n"
	    "  --continue       send the good rows even if some are bad\n"
	    "  --dry-run        only check the file (no connection needed)\n"
	    "  --region CODE    the region of rows that leave it empty\n"
	    "                   (default: your own, for coordinators)\n"
	    "  --json, --csv    print the summary for scripts (with the\n"
	    "                   reference of each application made)\n"
	    "  -h, --help       show this help\n"
	    "\n"
	    "Exit status: 0 when every row was applied (or, with --dry-run,\n"
	    "is good), 1 otherwise.\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil import --dry-run beneficiaires.csv\n"
	    "  tamwil import beneficiaires.csv\n"
	    "  tamwil --csv import --continue beneficiaires.csv > "
	    "resultat.csv\n",
	    out);
}

/* ---- options ------------------------------------------------------------ */

enum { OPT_CONTINUE = 256, OPT_DRY_RUN, OPT_REGION };

static int take(void *arg, int c, const char *v)
{
	struct import *x = arg;

	if (c == OPT_CONTINUE)
		x->keep_going = 1;
	else if (c == OPT_DRY_RUN)
		x->dry_run = 1;
	else if (c == OPT_REGION)
		x->region = v;
	return -1;
}

static int parse(const struct cli_globals *g, int argc, char **argv,
		 struct import *x)
{
	static const struct option opts[] = {
	    {"continue", no_argument, NULL, OPT_CONTINUE},
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"region", required_argument, NULL, OPT_REGION},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	static const char *const names[] = {"the file to import, FILE.csv"};
	const struct cli_opts o = {CMD, cli_import_usage, opts, take, x};
	struct cli_output out;
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format(CMD, &out, &x->format)) >= 0 ||
	    (rc = cli_arg_positionals(CMD, argc, argv, 1, names, &x->path)) >=
		0 ||
	    (rc = cli_arg_text(CMD, "--region", x->region)) >= 0)
		return rc;
	if (x->keep_going && x->dry_run)
		return cli_usage_error(CMD, "--continue sends rows and "
					    "--dry-run sends none: choose one");
	return -1;
}

/* ---- the summary -------------------------------------------------------- */

static const tamwil_import_row *row_at(const struct import *x, size_t i)
{
	return tamwil_import_row_at(x->im, i);
}

/* How many rows came to outcome what. */
static size_t count(const struct import *x, enum outcome what)
{
	size_t n = 0;

	for (size_t i = 0; x->sent && i < tamwil_import_rows(x->im); i++)
		if (row_at(x, i)->ok && x->results[i].what == what)
			n++;
	return n;
}

/* The line of the first good row left unsent, or 0. */
static unsigned long first_unsent(const struct import *x)
{
	for (size_t i = 0; i < tamwil_import_rows(x->im); i++)
		if (row_at(x, i)->ok && x->results[i].what == ROW_UNSENT)
			return row_at(x, i)->line;
	return 0;
}

/* The problems as "line N: COLUMN: why" lines on stderr. */
static void print_problems(const struct import *x)
{
	size_t n = tamwil_import_problems(x->im);

	for (size_t i = 0; i < n; i++) {
		const tamwil_import_problem *p =
		    tamwil_import_problem_at(x->im, i);

		if (p->line != 0)
			fprintf(stderr, "line %lu: ", p->line);
		if (p->column != NULL)
			fprintf(stderr, "%s: ", p->column);
		fprintf(stderr, "%s\n", p->why);
	}
}

/* The summary for people; returns the exit status. */
static int summary_text(const struct import *x, int status)
{
	size_t rows = tamwil_import_rows(x->im);
	size_t applied = count(x, ROW_APPLIED), refused = count(x, ROW_REFUSED);
	size_t unsent = count(x, ROW_UNSENT);

	print_problems(x);
	printf("%s: %zu row%s, %zu good, %zu bad\n", x->path, rows,
	       rows == 1 ? "" : "s", rows - x->bad_rows, x->bad_rows);
	if (!x->sent) {
		if (x->dry_run)
			puts("nothing sent (--dry-run)");
		else if (x->bad_rows > 0)
			printf("nothing sent: correct the lines above, or "
			       "pass --continue to send the %zu good rows\n",
			       rows - x->bad_rows);
		return status;
	}
	printf("applied %zu application%s\n", applied, applied == 1 ? "" : "s");
	for (size_t i = 0; i < rows; i++) {
		const struct row_result *r = &x->results[i];

		if (row_at(x, i)->ok && r->what == ROW_REFUSED)
			printf("line %lu: refused (%s): %s\n",
			       row_at(x, i)->line, r->code, r->message);
	}
	if (refused > 0)
		printf("head office refused %zu row%s\n", refused,
		       refused == 1 ? "" : "s");
	if (unsent > 0)
		printf("%zu good row%s not sent: %s; import again a file of "
		       "the rows from line %lu on\n",
		       unsent, unsent == 1 ? "" : "s", x->stop,
		       first_unsent(x));
	if (applied > 0)
		puts("tamwil list shows them (with --json or --csv, import "
		     "prints each row's reference)");
	return status;
}

/* One "line,status,column,reference,code,message" record per fact. */
static int summary_csv(const struct import *x, int status)
{
	static const struct cli_column cols[] = {
	    {"line", "Line", 1, 0},	{"status", "Status", 0, 0},
	    {"column", "Column", 0, 0}, {"reference", "Reference", 0, 0},
	    {"code", "Code", 0, 0},	{"message", "Message", 0, 1}};
	cli_table *t = cli_table_new(cols, 6);
	int rc = t != NULL ? 0 : -1;
	char line[24];

	for (size_t i = 0; rc == 0 && i < tamwil_import_problems(x->im); i++) {
		const tamwil_import_problem *p =
		    tamwil_import_problem_at(x->im, i);
		const char *cells[6] = {line, "bad", p->column, "", "", p->why};

		snprintf(line, sizeof(line), "%lu", p->line);
		rc = cli_table_add(t, cells);
	}
	for (size_t i = 0; rc == 0 && x->sent && i < tamwil_import_rows(x->im);
	     i++) {
		const struct row_result *r = &x->results[i];
		static const char *const what[] = {"not_sent", "applied",
						   "refused"};
		const char *cells[6] = {
		    line, what[r->what], "", r->reference, r->code, r->message};

		if (!row_at(x, i)->ok)
			continue;
		if (r->what == ROW_UNSENT)
			cells[5] = x->stop;
		snprintf(line, sizeof(line), "%lu", row_at(x, i)->line);
		rc = cli_table_add(t, cells);
	}
	if (rc == 0)
		rc = cli_table_print(t, 1, stdout);
	cli_table_free(t);
	return rc == 0 ? status : cli_fail("cannot write the summary");
}

/* The problems as a JSON array, or NULL. */
static json_t *problems_json(const struct import *x)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < tamwil_import_problems(x->im);
	     i++) {
		const tamwil_import_problem *p =
		    tamwil_import_problem_at(x->im, i);
		struct cli_json b;

		cli_json_begin(&b);
		cli_json_int(&b, "line", (int64_t)p->line);
		cli_json_text_or_null(&b, "column", p->column);
		cli_json_text(&b, "message", p->why);
		if (json_array_append_new(a, cli_json_end(&b)) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

/* The rows that came to outcome what, as a JSON array, or NULL. */
static json_t *outcome_json(const struct import *x, enum outcome what)
{
	json_t *a = json_array();

	for (size_t i = 0;
	     a != NULL && x->sent && i < tamwil_import_rows(x->im); i++) {
		const struct row_result *r = &x->results[i];
		struct cli_json b;

		if (!row_at(x, i)->ok || r->what != what)
			continue;
		cli_json_begin(&b);
		cli_json_int(&b, "line", (int64_t)row_at(x, i)->line);
		if (what == ROW_APPLIED)
			cli_json_text(&b, "reference", r->reference);
		if (what == ROW_REFUSED) {
			cli_json_text(&b, "code", r->code);
			cli_json_text(&b, "message", r->message);
		}
		if (json_array_append_new(a, cli_json_end(&b)) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

static int summary_json(const struct import *x, int status)
{
	size_t rows = tamwil_import_rows(x->im);
	struct cli_json b;

	cli_json_begin(&b);
	cli_json_text(&b, "file", x->path);
	cli_json_int(&b, "rows", (int64_t)rows);
	cli_json_int(&b, "good", (int64_t)(rows - x->bad_rows));
	cli_json_int(&b, "bad", (int64_t)x->bad_rows);
	cli_json_bool(&b, "dry_run", x->dry_run);
	cli_json_bool(&b, "sent", x->sent);
	cli_json_value(&b, "problems", problems_json(x));
	cli_json_value(&b, "applied", outcome_json(x, ROW_APPLIED));
	cli_json_value(&b, "refused", outcome_json(x, ROW_REFUSED));
	cli_json_value(&b, "not_sent", outcome_json(x, ROW_UNSENT));
	cli_json_text_or_null(&b, "stopped", x->stop);
	return cli_json_print(cli_json_end(&b)) == CLI_EXIT_OK ? status
							       : CLI_EXIT_FAIL;
}

/* Prints the summary in the chosen format; returns the exit status. */
static int summary(const struct import *x)
{
	int all = x->bad_rows == 0 && count(x, ROW_REFUSED) == 0 &&
		  count(x, ROW_UNSENT) == 0 && (x->sent || x->dry_run);
	int status =
	    all && tamwil_import_rows(x->im) > 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;

	if (x->format == CLI_JSON)
		return summary_json(x, status);
	if (x->format == CLI_CSV)
		return summary_csv(x, status);
	return summary_text(x, status);
}

/* ---- progress ----------------------------------------------------------- */

struct progress {
	int on;		     /* stderr is a terminal */
	int64_t start, last; /* milliseconds */
	size_t total;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Draws "[####----]  done/total  pc%  rate/s" unless drawn just now. */
static void progress_draw(struct progress *p, size_t done)
{
	int64_t t = now_ms();
	char bar[BAR_WIDTH + 1];
	size_t fill;
	double rate;

	if (!p->on || p->total == 0 ||
	    (done < p->total && t - p->last < PROGRESS_MS))
		return;
	p->last = t;
	fill = done * BAR_WIDTH / p->total;
	memset(bar, '#', fill);
	memset(bar + fill, '-', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	rate =
	    t > p->start ? (double)done * 1000.0 / (double)(t - p->start) : 0.0;
	fprintf(stderr, "\r[%s] %zu/%zu %3zu%% %.0f/s", bar, done, p->total,
		done * 100 / p->total, rate);
	if (done == p->total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* ---- head office -------------------------------------------------------- */

/* Learns head office's programmes and their currencies. */
static int load_programmes(tamwil_client *c, struct import *x)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListProgrammesRequest body =
	    TAMWIL__V1__LIST_PROGRAMMES_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	const Tamwil__V1__ProgrammeList *list;
	tamwil_error err;
	int rc = -1;

	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES;
	req.list_programmes = &body;
	if (tamwil_client_call(c, &req, &resp, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	list = resp->programmes;
	if (list != NULL && list->n_programmes > 0) {
		x->progs = calloc(list->n_programmes, sizeof(*x->progs));
		if (x->progs == NULL) {
			rc = cli_fail("out of memory");
			goto out;
		}
	}
	for (size_t i = 0; list != NULL && i < list->n_programmes; i++) {
		const Tamwil__V1__Programme *p = list->programmes[i];
		const char *cur = cli_money_currency(p->envelope);

		if (!money_currency_valid(cur) ||
		    strlen(p->code) >= sizeof(x->progs[0].code))
			continue;
		snprintf(x->progs[x->n_progs].code, REF_MAX, "%s", p->code);
		memcpy(x->progs[x->n_progs++].currency, cur, 4);
	}
out:
	tamwil__v1__response__free_unpacked(resp, NULL);
	return rc;
}

static const char *currency_of(const struct import *x, const char *code)
{
	for (size_t i = 0; i < x->n_progs; i++)
		if (strcmp(x->progs[i].code, code) == 0)
			return x->progs[i].currency;
	return NULL;
}

/*
 * Checks what only head office knows: that each good row's programme
 * exists, and that a row without a region has one to go to (--region,
 * or the coordinator's own). Rows failing it become bad rows.
 */
static int check_online(tamwil_client *c, struct import *x)
{
	tamwil_whoami me;
	tamwil_error err;
	char why[TAMWIL_IMPORT_WHY_MAX];
	int rc;

	if ((rc = load_programmes(c, x)) >= 0)
		return rc;
	if (x->region == NULL) {
		if (tamwil_client_whoami(c, &me, &err) != TAMWIL_OK)
			return cli_fail_status(&err);
		snprintf(x->own_region, sizeof(x->own_region), "%s", me.region);
		x->region = x->own_region;
	}
	for (size_t i = 0; i < tamwil_import_rows(x->im); i++) {
		const tamwil_import_row *r = row_at(x, i);
		int col = -1;

		if (!r->ok)
			continue;
		if (currency_of(x, r->programme) == NULL) {
			snprintf(why, sizeof(why),
				 "head office has no programme '%s'",
				 r->programme);
			col = TAMWIL_IMPORT_PROGRAMME;
		} else if (r->region[0] == '\0' && x->region[0] == '\0') {
			snprintf(why, sizeof(why),
				 "empty, and you have no region of your own: "
				 "fill it in, or pass --region CODE");
			col = TAMWIL_IMPORT_REGION;
		}
		if (col >= 0) {
			if (tamwil_import_reject(x->im, i, col, why) != 0)
				return cli_fail("out of memory");
			x->bad_rows++;
		}
	}
	return -1;
}

/*
 * Seals row r's identity, signs and sends its SubmitApplication, and
 * notes the outcome. Returns 0, or -1 when the connection failed (the
 * row and those after it are left unsent, with why in x->stop).
 */
static int send_row(tamwil_client *c, struct import *x,
		    const tamwil_import_row *r, struct row_result *out)
{
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__SubmitApplication body =
	    TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__Money requested = TAMWIL__V1__MONEY__INIT;
	Tamwil__V1__Money contribution = TAMWIL__V1__MONEY__INIT;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__OperationResult *res = NULL;
	char currency[4];
	uint8_t *box = NULL;
	size_t len = 0;
	tamwil_error err;
	int rc = -1;

	memcpy(currency, currency_of(x, r->programme), 4);
	tamwil_import_fill(r, &id, &body, &requested, &contribution);
	requested.currency = currency;
	contribution.currency = currency;
	if (body.region[0] == '\0')
		body.region = (char *)x->region;
	if (tamwil_client_seal_identity(c, &id, &box, &len, &err) != TAMWIL_OK)
		goto failed;
	body.identity_box.data = box;
	body.identity_box.len = len;
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &body;
	if (tamwil_client_operate(c, &op, &res, &err) != TAMWIL_OK)
		goto failed;
	out->what = ROW_APPLIED;
	snprintf(out->reference, sizeof(out->reference), "%s",
		 res->reference != NULL ? res->reference : "");
	tamwil__v1__operation_result__free_unpacked(res, NULL);
	rc = 0;
	goto done;
failed:
	if (err.status == TAMWIL_ERR_REFUSED) {
		out->what = ROW_REFUSED;
		tamwil_error_code_name(err.code, out->code, sizeof(out->code));
		out->message = strdup(err.message);
		rc = out->message != NULL ? 0 : -1;
		if (rc != 0)
			snprintf(x->stop, sizeof(x->stop), "out of memory");
	} else {
		snprintf(x->stop, sizeof(x->stop), "%s", err.message);
	}
done:
	free(box);
	return rc;
}

static int import_run(tamwil_client *c, void *arg)
{
	struct import *x = arg;
	struct progress p = {isatty(STDERR_FILENO), now_ms(), 0, 0};
	size_t rows = tamwil_import_rows(x->im), done = 0;
	int rc;

	if ((rc = check_online(c, x)) >= 0)
		return rc;
	if (x->bad_rows > 0 && !x->keep_going)
		return summary(x);
	p.total = rows - x->bad_rows;
	x->sent = 1;
	for (size_t i = 0; i < rows; i++) {
		if (!row_at(x, i)->ok)
			continue;
		if (send_row(c, x, row_at(x, i), &x->results[i]) != 0)
			break;
		progress_draw(&p, ++done);
	}
	if (p.on && done < p.total && done > 0)
		fputc('\n', stderr);
	return summary(x);
}

/* Reads and checks the file; -1 to go on, or an exit status. */
static int read_file(struct import *x)
{
	int e;

	x->im = tamwil_import_new();
	if (x->im == NULL)
		return cli_fail("out of memory");
	if (tamwil_import_read_file(x->im, x->path, &e) != 0) {
		char why[128];

		if (e == 0)
			return cli_fail("out of memory reading %s", x->path);
		return cli_fail("cannot read %s: %s", x->path,
				cli_strerror(e, why, sizeof(why)));
	}
	for (size_t i = 0; i < tamwil_import_rows(x->im); i++)
		if (!row_at(x, i)->ok)
			x->bad_rows++;
	x->results = calloc(tamwil_import_rows(x->im) + 1, sizeof(*x->results));
	if (x->results == NULL)
		return cli_fail("out of memory");
	/* A file with no rows to read says why, and that is all. */
	if (tamwil_import_rows(x->im) == 0 || x->dry_run ||
	    (x->bad_rows > 0 && !x->keep_going))
		return summary(x);
	return -1;
}

int cli_import_main(const struct cli_globals *g, int argc, char **argv)
{
	struct import x;
	int rc;

	memset(&x, 0, sizeof(x));
	rc = parse(g, argc, argv, &x);
	if (rc < 0)
		rc = read_file(&x);
	if (rc < 0)
		rc = cli_session_run(g, import_run, &x);
	for (size_t i = 0; x.results != NULL && i < tamwil_import_rows(x.im);
	     i++)
		free(x.results[i].message);
	free(x.results);
	free(x.progs);
	tamwil_import_free(x.im);
	return rc;
}
