/*
 * tamwil import; see cli_import.h. Every row is checked before anything
 * is sent; then each good row is its own signed SubmitApplication, in the
 * outbox before it leaves (cli_ops_send()), all on one connection. A
 * refusal of one row does not stop the others; once head office cannot be
 * reached, the rows left only queue for tamwil sync.
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
#include "cli_ops.h"
#include "cli_opts.h"
#include "cli_out.h"
#include "cli_outbox.h"
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

/*
 * What became of a row once sending began: not sent (a failure stopped
 * the import first), applied, refused, or waiting in the outbox.
 */
enum outcome { ROW_UNSENT, ROW_APPLIED, ROW_REFUSED, ROW_QUEUED };

struct row_result {
	enum outcome what;
	char reference[REF_MAX];
	char code[TAMWIL_CODE_NAME_MAX]; /* a refusal's */
	char *message;			 /* a refusal's, malloc'd */
	int64_t entry;			 /* its outbox entry, or 0 */
};

/*
 * A programme and its currency, as head office listed it or, offline, as
 * this office learnt it ("" offline when it never did).
 */
struct programme {
	char code[REF_MAX];
	char currency[4];
};

struct import {
	enum cli_format format;
	const char *path, *region, *currency_arg;
	char currency[4]; /* --currency, or "" */
	int keep_going, dry_run;
	tamwil_import *im;
	size_t bad_rows;	     /* rows with a problem */
	struct row_result *results;  /* one per row */
	int sent;		     /* 1 once sending began */
	int offline;		     /* 1: head office out of reach: queue */
	int failed;		     /* 1: a failure stopped the import */
	char stop[TAMWIL_ERROR_MAX]; /* why sending stopped, or "" */
	struct programme *progs;
	size_t n_progs, cap_progs;
	int no_memory;		/* a programme could not be kept */
	char own_region[64];	/* the coordinator's */
	int region_unknown;	/* offline, and never learnt */
	tamwil_outbox *ob;	/* once a row is in it */
	struct cli_ops_sent *s; /* what became of the row just sent */
};

void cli_import_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil import FILE.csv [--continue | --dry-run] [--region "
	    "CODE]\n"
	    "                     [--currency CODE]\n"
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
	    "its own signed operation, written to the outbox before it\n"
	    "leaves; a row head office refuses is reported with its reason\n"
	    "and the others go on. When head office cannot be reached (or\n"
	    "the link drops), the rows left wait in the outbox and tamwil\n"
	    "sync sends them; offline, each programme's currency is the one\n"
	    "this office learnt when it last reached head office, or\n"
	    "--currency.\n"
	    "\n"
	    "Options:\n"
	    "  --continue       send the good rows even if some are bad\n"
	    "  --dry-run        only check the file (no connection needed)\n"
	    "  --region CODE    the region of rows that leave it empty\n"
	    "                   (default: your own, for coordinators)\n"
	    "  --currency CODE  the programmes' currency, for an import made\n"
	    "                   while head office cannot be reached\n"
	    "  --json, --csv    print the summary for scripts (with the\n"
	    "                   reference of each application made)\n"
	    "  -h, --help       show this help\n"
	    "\n"
	    "Exit status: 0 when every row was applied (or, with --dry-run,\n"
	    "is good), 75 when rows wait in the outbox for tamwil sync, 1\n"
	    "otherwise.\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil import --dry-run beneficiaires.csv\n"
	    "  tamwil import beneficiaires.csv\n"
	    "  tamwil import --currency MAD beneficiaires.csv   (offline)\n"
	    "  tamwil --csv import --continue beneficiaires.csv > "
	    "resultat.csv\n",
	    out);
}

/* ---- options ------------------------------------------------------------ */

enum { OPT_CONTINUE = 256, OPT_DRY_RUN, OPT_REGION, OPT_CURRENCY };

static int take(void *arg, int c, const char *v)
{
	struct import *x = arg;

	if (c == OPT_CONTINUE)
		x->keep_going = 1;
	else if (c == OPT_DRY_RUN)
		x->dry_run = 1;
	else if (c == OPT_REGION)
		x->region = v;
	else if (c == OPT_CURRENCY)
		x->currency_arg = v;
	return -1;
}

static int parse(const struct cli_globals *g, int argc, char **argv,
		 struct import *x)
{
	static const struct option opts[] = {
	    {"continue", no_argument, NULL, OPT_CONTINUE},
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"region", required_argument, NULL, OPT_REGION},
	    {"currency", required_argument, NULL, OPT_CURRENCY},
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
	if (x->currency_arg != NULL &&
	    (rc = cli_arg_currency(CMD, "--currency", x->currency_arg,
				   x->currency)) >= 0)
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

/* A refusal's sentence ("" when memory ran out keeping it). */
static const char *message_of(const struct row_result *r)
{
	return r->message != NULL ? r->message : "";
}

/* Why rows wait or were not sent, for the summaries. */
static const char *stop_of(const struct import *x)
{
	return x->stop[0] != '\0' ? x->stop : "head office cannot be reached";
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
	size_t queued = count(x, ROW_QUEUED), unsent = count(x, ROW_UNSENT);

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
			       row_at(x, i)->line, r->code, message_of(r));
	}
	if (refused > 0)
		printf("head office refused %zu row%s\n", refused,
		       refused == 1 ? "" : "s");
	if (queued > 0)
		printf("queued %zu row%s in the outbox: %s\n"
		       "tamwil sync sends them once head office can be "
		       "reached (tamwil outbox lists them)\n",
		       queued, queued == 1 ? "" : "s", stop_of(x));
	if (unsent > 0)
		printf("%zu good row%s not sent: %s; import again a file of "
		       "the rows from line %lu on\n",
		       unsent, unsent == 1 ? "" : "s", stop_of(x),
		       first_unsent(x));
	if (applied > 0)
		puts("tamwil list shows them (with --json or --csv, import "
		     "prints each row's reference)");
	return status;
}

/* The outcomes' names in the CSV summary. */
static const char *const OUTCOME_NAME[] = {"not_sent", "applied", "refused",
					   "queued"};

/*
 * One "line,status,column,reference,code,message,outbox_entry" record
 * per fact.
 */
static int summary_csv(const struct import *x, int status)
{
	static const struct cli_column cols[] = {
	    {"line", "Line", 1, 0},
	    {"status", "Status", 0, 0},
	    {"column", "Column", 0, 0},
	    {"reference", "Reference", 0, 0},
	    {"code", "Code", 0, 0},
	    {"message", "Message", 0, 1},
	    {"outbox_entry", "Outbox entry", 1, 0}};
	cli_table *t = cli_table_new(cols, 7);
	int rc = t != NULL ? 0 : -1;
	char line[24], entry[24];

	for (size_t i = 0; rc == 0 && i < tamwil_import_problems(x->im); i++) {
		const tamwil_import_problem *p =
		    tamwil_import_problem_at(x->im, i);
		const char *cells[7] = {line, "bad",  p->column, "",
					"",   p->why, ""};

		snprintf(line, sizeof(line), "%lu", p->line);
		rc = cli_table_add(t, cells);
	}
	for (size_t i = 0; rc == 0 && x->sent && i < tamwil_import_rows(x->im);
	     i++) {
		const struct row_result *r = &x->results[i];
		const char *cells[7] = {
		    line,    OUTCOME_NAME[r->what], "",	  r->reference,
		    r->code, message_of(r),	    entry};

		if (!row_at(x, i)->ok)
			continue;
		if (r->what == ROW_UNSENT || r->what == ROW_QUEUED)
			cells[5] = stop_of(x);
		snprintf(line, sizeof(line), "%lu", row_at(x, i)->line);
		entry[0] = '\0';
		if (r->entry != 0)
			snprintf(entry, sizeof(entry), "%lld",
				 (long long)r->entry);
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
			cli_json_text(&b, "message", message_of(r));
		}
		if (r->entry != 0)
			cli_json_int(&b, "outbox_entry", r->entry);
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
	cli_json_value(&b, "queued", outcome_json(x, ROW_QUEUED));
	cli_json_value(&b, "not_sent", outcome_json(x, ROW_UNSENT));
	cli_json_text_or_null(&b, "stopped", x->stop);
	return cli_json_print(cli_json_end(&b)) == CLI_EXIT_OK ? status
							       : CLI_EXIT_FAIL;
}

/*
 * Prints the summary in the chosen format, then, when rows wait in the
 * outbox, the "queued:" line every command ends with; returns the exit
 * status: 1 when a failure stopped the import, else 75 when rows wait,
 * else 0 when every row was applied (or, --dry-run, is good), else 1.
 */
static int summary(const struct import *x)
{
	int all = x->bad_rows == 0 && count(x, ROW_REFUSED) == 0 &&
		  count(x, ROW_UNSENT) == 0 && (x->sent || x->dry_run);
	int queued = count(x, ROW_QUEUED) > 0;
	int status;

	if (x->failed)
		status = CLI_EXIT_FAIL;
	else if (queued)
		status = CLI_EXIT_QUEUED;
	else
		status = all && tamwil_import_rows(x->im) > 0 ? CLI_EXIT_OK
							      : CLI_EXIT_FAIL;
	if (x->format == CLI_JSON)
		status = summary_json(x, status);
	else if (x->format == CLI_CSV)
		status = summary_csv(x, status);
	else
		status = summary_text(x, status);
	if (queued && x->ob != NULL)
		(void)cli_outbox_queued(x->ob);
	return status;
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

/*
 * Head office cannot be reached (why): from now on rows only queue, and
 * what is checked comes from what this office learnt.
 */
static void go_offline(struct import *x, const tamwil_error *why)
{
	x->offline = 1;
	snprintf(x->stop, sizeof(x->stop), "%s", why->message);
}

/* The programme code, or NULL. */
static const struct programme *find_programme(const struct import *x,
					      const char *code)
{
	for (size_t i = 0; i < x->n_progs; i++)
		if (strcmp(x->progs[i].code, code) == 0)
			return &x->progs[i];
	return NULL;
}

/*
 * Keeps programme code with currency (a valid one, or "" for one never
 * learnt); codes longer than head office keeps are left out, as absent.
 * 0, or -1 when memory runs out.
 */
static int keep_programme(struct import *x, const char *code,
			  const char *currency)
{
	struct programme *p;

	if (strlen(code) >= sizeof(p->code) ||
	    (currency[0] != '\0' && !money_currency_valid(currency)))
		return 0;
	if (x->n_progs == x->cap_progs) {
		size_t cap = x->cap_progs == 0 ? 16 : 2 * x->cap_progs;

		p = realloc(x->progs, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		x->progs = p;
		x->cap_progs = cap;
	}
	p = &x->progs[x->n_progs++];
	snprintf(p->code, sizeof(p->code), "%s", code);
	snprintf(p->currency, sizeof(p->currency), "%s", currency);
	return 0;
}

/*
 * cli_ops_programmes() callback: keeps each programme listed with a
 * currency this tamwil knows (the others are as good as absent).
 */
static int listed(void *arg, const char *code, const char *currency)
{
	struct import *x = arg;

	if (!money_currency_valid(currency) ||
	    keep_programme(x, code, currency) == 0)
		return 0;
	x->no_memory = 1;
	return 1;
}

/*
 * The programmes and their currencies: head office's list (every
 * currency learnt for later), or, when it cannot be reached, what this
 * office learnt of the programmes the good rows name. -1 or an exit
 * status.
 */
static int load_programmes(tamwil_client *c, struct import *x)
{
	char cur[4];
	tamwil_error err;
	int rc;

	/* An offline handle answers at once, with the reason. */
	if (!x->offline) {
		rc = cli_ops_programmes(c, listed, x, &err);
		if (x->no_memory)
			return cli_fail("out of memory");
		if (rc == TAMWIL_OK)
			return -1;
		if (!tamwil_outbox_link_down(rc))
			return cli_fail_status(&err);
		go_offline(x, &err);
	}
	for (size_t i = 0; i < tamwil_import_rows(x->im); i++) {
		const tamwil_import_row *r = row_at(x, i);

		if (!r->ok || find_programme(x, r->programme) != NULL)
			continue;
		if (cli_ops_recall_currency(c, "programme", r->programme,
					    cur) != 0)
			cur[0] = '\0';
		if (keep_programme(x, r->programme, cur) != 0)
			return cli_fail("out of memory");
	}
	return -1;
}

/*
 * The region of rows that leave it empty: --region, else the
 * coordinator's own, asked of head office (and learnt) or, offline, as
 * learnt before. -1 or an exit status.
 */
static int pick_region(tamwil_client *c, struct import *x)
{
	tamwil_whoami me;
	tamwil_error err;

	if (x->region != NULL)
		return -1;
	x->region = x->own_region;
	if (!x->offline) {
		if (tamwil_client_whoami(c, &me, &err) == TAMWIL_OK) {
			snprintf(x->own_region, sizeof(x->own_region), "%s",
				 me.region);
			if (me.region[0] != '\0')
				cli_ops_learn(c, "whoami", "region", me.region);
			return -1;
		}
		if (!tamwil_outbox_link_down(err.status))
			return cli_fail_status(&err);
		go_offline(x, &err);
	}
	if (cli_ops_recall(c, "whoami", "region", x->own_region,
			   sizeof(x->own_region)) != 0) {
		x->own_region[0] = '\0';
		x->region_unknown = 1;
	}
	return -1;
}

/* The currency row r goes in: its programme's, else --currency, or "". */
static const char *currency_of(const struct import *x,
			       const tamwil_import_row *r)
{
	const struct programme *p = find_programme(x, r->programme);

	return p != NULL && p->currency[0] != '\0' ? p->currency : x->currency;
}

/*
 * Offline, and some programme's currency was never learnt nor given:
 * says which and what to do; an exit status.
 */
static int currency_unknown(const struct import *x)
{
	char codes[256] = "";
	size_t rows = 0, used = 0;

	for (size_t i = 0; i < tamwil_import_rows(x->im); i++)
		if (row_at(x, i)->ok && currency_of(x, row_at(x, i))[0] == '\0')
			rows++;
	for (size_t i = 0; i < x->n_progs && used < sizeof(codes); i++) {
		if (x->progs[i].currency[0] != '\0')
			continue;
		used +=
		    (size_t)snprintf(codes + used, sizeof(codes) - used, "%s%s",
				     used > 0 ? ", " : "", x->progs[i].code);
	}
	return cli_fail("%s, and this office has not learnt the currency of "
			"programme %s (%zu row%s): give it with --currency "
			"CODE (MAD, DZD, ...) and the rows will wait in the "
			"outbox for tamwil sync, or run the import once head "
			"office can be reached",
			stop_of(x), codes, rows, rows == 1 ? "" : "s");
}

/*
 * Checks what only head office knows, or offline what this office
 * learnt of it: that each good row's programme exists (online), that its
 * currency is known and agrees with --currency, and that a row without a
 * region has one to go to (--region, or the coordinator's own). Rows
 * failing it become bad rows; a currency nobody knows stops the import.
 */
static int check_rows(tamwil_client *c, struct import *x)
{
	char why[TAMWIL_IMPORT_WHY_MAX];
	int rc, unknown = 0;

	if ((rc = load_programmes(c, x)) >= 0 || (rc = pick_region(c, x)) >= 0)
		return rc;
	for (size_t i = 0; i < tamwil_import_rows(x->im); i++) {
		const tamwil_import_row *r = row_at(x, i);
		const struct programme *p;
		int col = -1;

		if (!r->ok)
			continue;
		p = find_programme(x, r->programme);
		if (p == NULL && !x->offline) {
			snprintf(why, sizeof(why),
				 "head office has no programme '%s'",
				 r->programme);
			col = TAMWIL_IMPORT_PROGRAMME;
		} else if (p != NULL && p->currency[0] != '\0' &&
			   x->currency[0] != '\0' &&
			   strcmp(p->currency, x->currency) != 0) {
			snprintf(why, sizeof(why),
				 "programme %s is in %s, not %s as --currency "
				 "says",
				 r->programme, p->currency, x->currency);
			col = TAMWIL_IMPORT_PROGRAMME;
		} else if (currency_of(x, r)[0] == '\0') {
			unknown = 1;
		} else if (r->region[0] == '\0' && x->region[0] == '\0') {
			snprintf(why, sizeof(why), "%s",
				 x->region_unknown
				     ? "empty, and this office has not "
				       "learnt your region (head office "
				       "cannot be reached): fill it in, or "
				       "pass --region CODE"
				     : "empty, and you have no region of "
				       "your own: fill it in, or pass "
				       "--region CODE");
			col = TAMWIL_IMPORT_REGION;
		}
		if (col >= 0) {
			if (tamwil_import_reject(x->im, i, col, why) != 0)
				return cli_fail("out of memory");
			x->bad_rows++;
		}
	}
	return unknown ? currency_unknown(x) : -1;
}

/*
 * Notes in out what became of the row cli_ops_send() just queued
 * (x->s): applied, refused, or waiting, in which case the import goes
 * offline when head office is out of reach or failing. Returns 0, or -1
 * when the import must stop (x->stop says why).
 */
static int note_sent(struct import *x, struct row_result *out)
{
	const struct cli_ops_sent *s = x->s;

	out->entry = s->id;
	x->ob = s->ob;
	if (s->e.status == TAMWIL_OUTBOX_ACCEPTED) {
		out->what = ROW_APPLIED;
		snprintf(out->reference, sizeof(out->reference), "%s",
			 s->e.reference);
		return 0;
	}
	if (s->e.status == TAMWIL_OUTBOX_REFUSED) {
		out->what = ROW_REFUSED;
		tamwil_error_code_name(s->e.code, out->code, sizeof(out->code));
		out->message = strdup(s->e.reason);
		if (out->message != NULL)
			return 0;
		snprintf(x->stop, sizeof(x->stop), "out of memory");
		return -1;
	}
	out->what = ROW_QUEUED;
	if (x->offline || s->sync == TAMWIL_OK)
		return 0;
	snprintf(x->stop, sizeof(x->stop), "%s", s->why.message);
	if (cli_ops_waits(s)) {
		x->offline = 1;
		return 0;
	}
	return -1; /* a receipt, the log, the file: tell, do not go on */
}

/*
 * Seals row r's identity, signs its SubmitApplication and writes it to
 * the outbox, then, unless offline, sends what waits; notes the outcome
 * in out. Returns 0, or -1 when the import must stop (x->stop says why;
 * the row is queued if it reached the outbox, else not sent).
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
	char currency[4];
	uint8_t *box = NULL;
	size_t len = 0;
	tamwil_error err;
	int rc = -1;

	memcpy(currency, currency_of(x, r), 4);
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
	if (cli_ops_send(c, &op, !x->offline, cli_ops_tell_first, NULL, x->s,
			 &err) == TAMWIL_OK) {
		rc = note_sent(x, out);
		goto done;
	}
	if (x->s->id != 0) { /* queued, then its entry could not be read */
		out->what = ROW_QUEUED;
		out->entry = x->s->id;
		x->ob = x->s->ob;
	}
failed:
	snprintf(x->stop, sizeof(x->stop), "%s", err.message);
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

	if ((rc = check_rows(c, x)) >= 0)
		return rc;
	if (x->bad_rows > 0 && !x->keep_going)
		return summary(x);
	x->s = malloc(sizeof(*x->s));
	if (x->s == NULL)
		return cli_fail("out of memory");
	p.total = rows - x->bad_rows;
	x->sent = 1;
	for (size_t i = 0; i < rows; i++) {
		if (!row_at(x, i)->ok)
			continue;
		if (send_row(c, x, row_at(x, i), &x->results[i]) != 0) {
			x->failed = 1;
			break;
		}
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
	free(x.s);
	tamwil_import_free(x.im);
	return rc;
}
