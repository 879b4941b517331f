/*
 * tamwil sync: sends what waits in the outbox, oldest first, and says
 * what head office made of each; see cli_outbox.h. The work is the
 * library's (tamwil_outbox_sync()); this file prints.
 */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli_args.h"
#include "cli_json.h"
#include "cli_opts.h"
#include "cli_out.h"
#include "cli_outbox.h"
#include "cli_session.h"
#include "cli_util.h"

#define BAR_WIDTH 30

void cli_sync_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil sync [--json]\n"
	    "\n"
	    "Sends head office the operations that wait in this office's\n"
	    "outbox (tamwil outbox lists them), in the order they were\n"
	    "made, and says for each what head office did: accepted, with\n"
	    "its log entry and reference, or refused, with the reason. Each\n"
	    "is applied once, however often it is sent. If the link drops,\n"
	    "sync stops and says how many still wait: run it again later.\n"
	    "\n"
	    "Options:\n"
	    "  --json          print the results for scripts\n"
	    "  -h, --help      show this help\n"
	    "\n"
	    "Exit status: 0 all sent were accepted and nothing waits, 1 head\n"
	    "office refused some (or another failure), 75 some still wait\n"
	    "(head office out of reach).\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil sync\n"
	    "  tamwil outbox && tamwil sync\n"
	    "  tamwil --json sync > sync.json\n",
	    out);
}

/* What the per-entry callback needs. */
struct sync_run {
	enum cli_format format;
	int bar;     /* 1: a progress bar on stderr (a terminal) */
	json_t *all; /* the entries handled, for --json */
	int bad;     /* a JSON element could not be built */
};

/* Draws "[#####.....] done/total" over the current stderr line. */
static void draw_bar(size_t done, size_t total)
{
	char bar[BAR_WIDTH + 1];
	size_t fill = total > 0 ? done * BAR_WIDTH / total : BAR_WIDTH;

	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\rsync [%s] %zu/%zu", bar, done, total);
	fflush(stderr);
}

/* Clears the progress bar's line. */
static void clear_bar(const struct sync_run *r)
{
	if (r->bar)
		fputs("\r\033[K", stderr);
}

/* tamwil_outbox_fn: one entry answered. */
static int one(void *arg, const tamwil_outbox_entry *e, size_t done,
	       size_t total)
{
	struct sync_run *r = arg;
	char text[TAMWIL_OUTBOX_LABEL_MAX + TAMWIL_ERROR_MAX + 128];

	if (r->format == CLI_JSON) {
		json_t *o = cli_outbox_json(e);

		if (o == NULL || json_array_append_new(r->all, o) != 0)
			r->bad = 1;
	} else {
		clear_bar(r);
		printf("#%lld %s\n", (long long)e->id,
		       cli_outbox_text(e, text, sizeof(text)));
		fflush(stdout);
	}
	if (r->bar)
		draw_bar(done, total);
	return 0;
}

/* The closing words for people. */
static void print_summary(const tamwil_outbox_summary *s)
{
	size_t sent = s->accepted + s->refused;

	if (sent == 0 && s->waiting == 0) {
		puts("nothing waits for head office");
		return;
	}
	if (sent == 0)
		return; /* the reason and the "queued:" line say it all */
	printf("sent %zu: %zu accepted, %zu refused; ", sent, s->accepted,
	       s->refused);
	if (s->waiting == 0)
		puts("nothing waits any more");
	else
		printf("%zu still wait%s\n", s->waiting,
		       s->waiting == 1 ? "s" : "");
}

/* The whole result for --json; an exit status (the JSON's own). */
static int print_json(struct sync_run *r, const tamwil_outbox_summary *s,
		      const tamwil_error *stopped)
{
	struct cli_json b;

	if (r->bad) {
		json_decref(r->all);
		return cli_json_print(NULL);
	}
	cli_json_begin(&b);
	cli_json_int(&b, "accepted", (int64_t)s->accepted);
	cli_json_int(&b, "refused", (int64_t)s->refused);
	cli_json_int(&b, "waiting", (int64_t)s->waiting);
	cli_json_text_or_null(&b, "stopped",
			      stopped != NULL ? stopped->message : NULL);
	cli_json_value(&b, "entries", r->all);
	return cli_json_print(cli_json_end(&b));
}

/* Syncs c's outbox; an exit status. */
static int sync_run(tamwil_client *c, void *arg)
{
	struct sync_run *r = arg;
	tamwil_outbox_summary sum = {0, 0, 0};
	tamwil_outbox *ob;
	tamwil_error err;
	int rc, status;

	if (tamwil_client_outbox(c, &ob, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	if (r->format == CLI_JSON && (r->all = json_array()) == NULL)
		return cli_fail("out of memory");
	rc = tamwil_outbox_sync(ob, c, one, r, &sum, &err);
	clear_bar(r);
	if (r->format == CLI_JSON)
		status = print_json(r, &sum, rc == TAMWIL_OK ? NULL : &err);
	else {
		print_summary(&sum);
		status = CLI_EXIT_OK;
	}
	if (rc == TAMWIL_OK && sum.refused > 0 && status == CLI_EXIT_OK)
		return cli_fail("%zu operation%s refused by head office "
				"(tamwil outbox --all keeps the reasons)",
				sum.refused,
				sum.refused == 1 ? " was" : "s were");
	if (rc == TAMWIL_OK)
		return status;
	/* Says why it stopped, then what waits: the sentence people need. */
	status = cli_fail_status(&err);
	if (tamwil_outbox_link_down(rc) || rc == TAMWIL_ERR_REFUSED)
		return cli_outbox_queued(ob);
	return status;
}

int cli_sync_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
					     CLI_OUTPUT_OPTIONS,
					     {NULL, 0, NULL, 0}};
	const struct cli_opts o = {"sync", cli_sync_usage, opts, NULL, NULL};
	struct sync_run r = {CLI_TEXT, 0, NULL, 0};
	struct cli_output out;
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format("sync", &out, &r.format)) >= 0 ||
	    (rc = cli_arg_positionals("sync", argc, argv, 0, NULL, NULL)) >= 0)
		return rc;
	if (r.format == CLI_CSV)
		return cli_usage_error("sync",
				       "sync prints --json, not --csv: "
				       "tamwil --csv outbox --all lists "
				       "the results");
	r.bar = isatty(STDERR_FILENO);
	return cli_session_run(g, sync_run, &r);
}
