/*
 * tamwil outbox, and the words for outbox entries every command shares;
 * see cli_outbox.h.
 */
#include "cli_outbox.h"

#include <getopt.h>
#include <string.h>

#include "argparse.h"
#include "cli_args.h"
#include "cli_json.h"
#include "cli_opts.h"
#include "cli_out.h"
#include "cli_session.h"
#include "cli_table.h"
#include "cli_util.h"

const char *cli_outbox_text(const tamwil_outbox_entry *e, char *buf, size_t cap)
{
	char code[TAMWIL_CODE_NAME_MAX];

	if (e->status == TAMWIL_OUTBOX_ACCEPTED)
		snprintf(buf, cap, "%s %s: accepted, log entry %llu%s%s%s",
			 e->kind, e->label, (unsigned long long)e->sequence,
			 e->reference[0] != '\0' ? ", " : "", e->reference,
			 e->replayed ? " (applied before)" : "");
	else if (e->status == TAMWIL_OUTBOX_REFUSED)
		snprintf(buf, cap, "%s %s: refused (%s): %s", e->kind, e->label,
			 tamwil_error_code_name(e->code, code, sizeof(code)),
			 e->reason);
	else
		snprintf(buf, cap, "%s %s: waiting", e->kind, e->label);
	return buf;
}

json_t *cli_outbox_json(const tamwil_outbox_entry *e)
{
	char when[CLI_TIME_MAX], code[TAMWIL_CODE_NAME_MAX], state[64];
	char key[2 * SIGNOP_IDEMPOTENCY_LEN + 1];
	struct cli_json b;

	for (size_t i = 0; i < SIGNOP_IDEMPOTENCY_LEN; i++)
		snprintf(key + 2 * i, 3, "%02x", e->idempotency_key[i]);
	cli_json_begin(&b);
	cli_json_int(&b, "id", e->id);
	cli_json_text(&b, "kind", e->kind);
	cli_json_text(&b, "label", e->label);
	cli_json_text(&b, "status", tamwil_outbox_status_name(e->status));
	cli_json_text(&b, "queued_at",
		      cli_time_iso(e->queued_at, when, sizeof(when)));
	cli_json_text_or_null(&b, "done_at",
			      e->done_at != 0
				  ? cli_time_iso(e->done_at, when, sizeof(when))
				  : NULL);
	cli_json_text(&b, "idempotency_key", key);
	if (e->status == TAMWIL_OUTBOX_ACCEPTED) {
		cli_json_int(&b, "sequence", (int64_t)e->sequence);
		cli_json_text_or_null(&b, "reference", e->reference);
		if (e->state != 0)
			cli_json_text(
			    &b, "state",
			    argparse_enum_name(
				&tamwil__v1__application_state__descriptor,
				"STATE_", e->state, state, sizeof(state)));
		if (e->principal_id != 0)
			cli_json_int(&b, "principal_id",
				     (int64_t)e->principal_id);
		cli_json_bool(&b, "replayed", e->replayed);
	} else if (e->status == TAMWIL_OUTBOX_REFUSED) {
		cli_json_text(
		    &b, "code",
		    tamwil_error_code_name(e->code, code, sizeof(code)));
		cli_json_text(&b, "reason", e->reason);
	}
	return cli_json_end(&b);
}

int cli_outbox_queued(tamwil_outbox *ob)
{
	tamwil_error err;
	size_t n = 0;

	if (tamwil_outbox_count(ob, TAMWIL_OUTBOX_WAITING, &n, &err) !=
	    TAMWIL_OK)
		cli_fail_status(&err);
	fprintf(stderr,
		"queued: %zu operation%s waiting for head office (tamwil "
		"sync sends them)\n",
		n, n == 1 ? "" : "s");
	return CLI_EXIT_QUEUED;
}

void cli_outbox_usage(FILE *out)
{
	fputs("Usage: tamwil outbox [--all] [--json | --csv]\n"
	      "\n"
	      "Lists the operations this office signed that wait for head\n"
	      "office: those made while it could not be reached. tamwil sync\n"
	      "sends them, in the order they were made. Needs no connection.\n"
	      "\n"
	      "Options:\n"
	      "  --all           the whole history: also what head office\n"
	      "                  accepted (with its log entry) or refused\n"
	      "                  (with its reason)\n"
	      "  --json, --csv   print the list for scripts\n"
	      "  -h, --help      show this help\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil outbox\n"
	      "  tamwil outbox --all\n"
	      "  tamwil --csv outbox --all > outbox.csv\n",
	      out);
}

enum { OPT_ALL = 256 };

/* What tamwil outbox was asked. */
struct outbox_args {
	enum cli_format format;
	int all;
};

/* Takes --all; -1. */
static int outbox_take(void *arg, int c, const char *v)
{
	struct outbox_args *a = arg;

	(void)v;
	if (c == OPT_ALL)
		a->all = 1;
	return -1;
}

/* The entries as {"entries": [...]}; an exit status. */
static int print_json(const tamwil_outbox_entry *v, size_t n)
{
	json_t *a = json_array();
	struct cli_json b;

	for (size_t i = 0; a != NULL && i < n; i++) {
		json_t *o = cli_outbox_json(&v[i]);

		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	if (a == NULL)
		return cli_json_print(NULL);
	cli_json_begin(&b);
	cli_json_value(&b, "entries", a);
	return cli_json_print(cli_json_end(&b));
}

/*
 * The entries as a table (all: with head office's answers) or CSV
 * (always every column); an exit status.
 */
static int print_table(const tamwil_outbox_entry *v, size_t n, int all,
		       enum cli_format f)
{
	static const struct cli_column cols[] = {
	    {"id", "#", 1, 0},
	    {"queued_at", "Queued", 0, 0},
	    {"kind", "Kind", 0, 0},
	    {"label", "What", 0, 1},
	    {"status", "Status", 0, 0},
	    {"sequence", "Log entry", 1, 0},
	    {"reference", "Reference", 0, 0},
	    {"code", "Code", 0, 0},
	    {"reason", "Reason", 0, 1}};
	char id[32], when[CLI_TIME_MAX], seq[32], code[TAMWIL_CODE_NAME_MAX];
	/* What waits has no answer yet: people see the first five. */
	cli_table *t = cli_table_new(
	    cols, all || f == CLI_CSV ? sizeof(cols) / sizeof(cols[0]) : 5);
	int rc = t != NULL ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		const tamwil_outbox_entry *e = &v[i];
		const char *cells[9];
		int done = e->status == TAMWIL_OUTBOX_ACCEPTED;
		int refused = e->status == TAMWIL_OUTBOX_REFUSED;

		snprintf(id, sizeof(id), "%lld", (long long)e->id);
		snprintf(seq, sizeof(seq), "%llu",
			 (unsigned long long)e->sequence);
		cells[0] = id;
		cells[1] =
		    f == CLI_CSV
			? cli_time_iso(e->queued_at, when, sizeof(when))
			: cli_time_text(e->queued_at, when, sizeof(when));
		cells[2] = e->kind;
		cells[3] = e->label;
		cells[4] = tamwil_outbox_status_name(e->status);
		cells[5] = done ? seq : "";
		cells[6] = e->reference;
		cells[7] = refused ? tamwil_error_code_name(e->code, code,
							    sizeof(code))
				   : "";
		cells[8] = e->reason;
		rc = cli_table_add(t, cells);
	}
	if (rc == 0)
		rc = cli_table_print(t, f == CLI_CSV, stdout);
	cli_table_free(t);
	return rc == 0 ? CLI_EXIT_OK : cli_fail("cannot write the list");
}

/* Lists the outbox of c's principal; an exit status. */
static int outbox_run(tamwil_client *c, const struct outbox_args *a)
{
	tamwil_outbox_entry *v = NULL;
	tamwil_outbox *ob;
	tamwil_error err;
	size_t n = 0;
	int rc;

	if (tamwil_client_outbox(c, &ob, &err) != TAMWIL_OK ||
	    tamwil_outbox_list(ob, a->all, &v, &n, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	if (a->format == CLI_JSON)
		rc = print_json(v, n);
	else if (a->format == CLI_CSV || n > 0)
		rc = print_table(v, n, a->all, a->format);
	else
		rc = puts(a->all ? "the outbox is empty"
				 : "nothing waits for head office") < 0
			 ? cli_fail("cannot write the list")
			 : CLI_EXIT_OK;
	free(v);
	return rc;
}

int cli_outbox_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, OPT_ALL},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	struct outbox_args a = {CLI_TEXT, 0};
	const struct cli_opts o = {"outbox", cli_outbox_usage, opts,
				   outbox_take, &a};
	struct cli_output out;
	tamwil_client *c = NULL;
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format("outbox", &out, &a.format)) >= 0 ||
	    (rc = cli_arg_positionals("outbox", argc, argv, 0, NULL, NULL)) >=
		0)
		return rc;
	if (cli_session_open_local(g, &c) != 0)
		return CLI_EXIT_FAIL;
	rc = outbox_run(c, &a);
	tamwil_client_close(c);
	return rc;
}
