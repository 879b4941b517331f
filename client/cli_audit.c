/*
 * tamwil audit, its dispatch and tamwil audit export; see cli_audit.h.
 * The export file's layout is proto/tamwil.proto's ("Export files").
 */
#include "cli_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_keys.h"
#include "cli_session.h"
#include "cli_util.h"
#include "tamwil-export.h"

#define PATH_MAX_AUDIT 4096

void cli_audit_usage(FILE *out)
{
	fputs("Usage: tamwil audit export --out FILE [--force]\n"
	      "       tamwil audit verify FILE --server-key PUBFILE "
	      "[--db COPY.db]\n"
	      "                           [--data-key DATAKEY]\n"
	      "       tamwil audit proof REF\n"
	      "       tamwil audit events [--since SECONDS] [--limit N] "
	      "[--json|--csv]\n"
	      "\n"
	      "The audit log, for auditors and admins.\n"
	      "\n"
	      "  export   writes every log entry with its checkpoint, then\n"
	      "           every application and programme as head office\n"
	      "           states them, to FILE (refuses to overwrite it\n"
	      "           unless --force)\n"
	      "  verify   checks such a file OFFLINE, under head office's\n"
	      "           public key file: every signature, every\n"
	      "           checkpoint, the replay of every operation against\n"
	      "           the stated applications and programmes and, with\n"
	      "           --db, against a copy of head office's database;\n"
	      "           with --data-key (head office's data.key) every\n"
	      "           sealed identity is opened and checked too.\n"
	      "           Exits 1 at the first failure, naming the entry\n"
	      "  proof    the log entries of application REF, each with its\n"
	      "           receipt verified\n"
	      "  events   refusals that matter to security, newest first\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil audit export --out log-2026-03.tamwil\n"
	      "  tamwil audit verify log-2026-03.tamwil --server-key "
	      "server.pub --db tamwil-copy.db\n"
	      "  tamwil audit proof LAG-2026-000123\n",
	      out);
}

int cli_audit_main(const struct cli_globals *g, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL)
		return cli_usage_error("audit", "audit needs a subcommand: "
						"export, verify, proof or "
						"events");
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
		return cli_show_usage(cli_audit_usage);
	if (strcmp(sub, "export") == 0)
		return cli_audit_export(g, argc - 1, argv + 1);
	if (strcmp(sub, "verify") == 0)
		return cli_audit_verify(g, argc - 1, argv + 1);
	if (strcmp(sub, "proof") == 0)
		return cli_audit_proof(g, argc - 1, argv + 1);
	if (strcmp(sub, "events") == 0)
		return cli_audit_events(g, argc - 1, argv + 1);
	return cli_usage_error("audit", "unknown audit subcommand '%s'", sub);
}

const char *cli_audit_count(uint64_t n, char *buf, size_t cap)
{
	char digits[24];
	size_t len, k = 0;

	len = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, n);
	for (size_t i = 0; i < len && k + 2 < cap; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[k++] = ' ';
		buf[k++] = digits[i];
	}
	buf[k] = '\0';
	return buf;
}

int cli_audit_server_key(const struct cli_globals *g, keyfile_public *pub)
{
	struct cli_settings *s = malloc(sizeof(*s));
	int rc = -1;

	if (s == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	if (cli_settings_resolve(g, CLI_NEED_SERVER_KEY, s) == 0)
		rc = cli_load_public(s->server_key, pub);
	free(s);
	return rc;
}

/*
 * 1 when page p, asked from start, is well formed: entries unless the log
 * ends before start, and its checkpoints each of a size one of its
 * entries completes, in increasing order.
 */
static int cli_audit_page_ok(const Tamwil__V1__LogEntriesPage *p,
			     uint64_t start)
{
	uint64_t last = start;

	if (p->n_entries == 0 && start < p->tree_size)
		return 0;
	if (p->n_checkpoints > p->n_entries)
		return 0;
	for (size_t i = 0; i < p->n_checkpoints; i++) {
		const Tamwil__V1__Checkpoint *cp = p->checkpoints[i];

		if (cp == NULL || cp->tree_size <= last ||
		    cp->tree_size > start + p->n_entries)
			return 0;
		last = cp->tree_size;
	}
	return 1;
}

int cli_audit_page(tamwil_client *c, uint64_t start,
		   Tamwil__V1__Response **resp)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__LogEntriesRequest body =
	    TAMWIL__V1__LOG_ENTRIES_REQUEST__INIT;
	const Tamwil__V1__LogEntriesPage *p;
	tamwil_error err;

	body.start = start;
	req.body_case = TAMWIL__V1__REQUEST__BODY_LOG_ENTRIES;
	req.log_entries = &body;
	if (tamwil_client_call(c, &req, resp, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	p = (*resp)->log_entries;
	if (p == NULL || !cli_audit_page_ok(p, start)) {
		tamwil__v1__response__free_unpacked(*resp, NULL);
		*resp = NULL;
		return cli_fail("head office sent a malformed page of log "
				"entries");
	}
	return -1;
}

/* What an export run needs. */
struct export_run {
	const char *out;
	char tmp[PATH_MAX_AUDIT];
	FILE *f;
	uint8_t sign_pk[KEYFILE_KEYLEN];
	int progress; /* stderr is a terminal */
	Tamwil__V1__ExportEnd end;
};

/* Writes one record; -1, or an exit status when writing failed. */
static int put(struct export_run *x, Tamwil__V1__ExportRecord *rec)
{
	if (tamwil_export_write(x->f, rec) != 0)
		return cli_fail("cannot write %s: %s", x->tmp, strerror(errno));
	return -1;
}

/* The header, once the first page told the log's size. */
static int put_header(struct export_run *x, tamwil_client *c, uint64_t size)
{
	Tamwil__V1__ExportRecord rec = TAMWIL__V1__EXPORT_RECORD__INIT;
	Tamwil__V1__ExportHeader h = TAMWIL__V1__EXPORT_HEADER__INIT;
	tamwil_whoami me;
	tamwil_error err;

	if (tamwil_client_whoami(c, &me, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	h.format = TAMWIL_EXPORT_FORMAT;
	h.server_sign_key.data = x->sign_pk;
	h.server_sign_key.len = sizeof(x->sign_pk);
	h.tree_size = size;
	h.exported_at = (int64_t)time(NULL);
	h.server_version = me.server_version;
	h.exported_by = me.name;
	rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_HEADER;
	rec.header = &h;
	return put(x, &rec);
}

/* Shows "exporting: 12 345 / 100 000 entries" on a terminal. */
static void show_progress(const struct export_run *x, uint64_t done,
			  uint64_t total)
{
	char a[32], b[32];

	if (x->progress)
		fprintf(stderr, "\rexporting: %s / %s entries",
			cli_audit_count(done, a, sizeof(a)),
			cli_audit_count(total, b, sizeof(b)));
}

/* Writes the entries and checkpoints of one page, up to size. */
static int put_page(struct export_run *x, const Tamwil__V1__LogEntriesPage *p,
		    uint64_t size)
{
	Tamwil__V1__ExportRecord rec = TAMWIL__V1__EXPORT_RECORD__INIT;
	size_t k = 0;
	int rc;

	for (size_t i = 0; i < p->n_entries && x->end.entries < size; i++) {
		rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_ENTRY;
		rec.entry = p->entries[i];
		if ((rc = put(x, &rec)) >= 0)
			return rc;
		x->end.entries++;
		/* The checkpoint this entry completed, if it was the last of
		 * its transaction (cli_audit_page() checked the order). */
		if (k == p->n_checkpoints ||
		    p->checkpoints[k]->tree_size != x->end.entries)
			continue;
		rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_CHECKPOINT;
		rec.checkpoint = p->checkpoints[k++];
		if ((rc = put(x, &rec)) >= 0)
			return rc;
		x->end.checkpoints++;
	}
	show_progress(x, x->end.entries, size);
	return -1;
}

/* The header and every entry, each checkpoint after the entry it completed. */
static int put_log(struct export_run *x, tamwil_client *c)
{
	Tamwil__V1__Response *resp = NULL;
	uint64_t size = 0;
	int rc = -1;

	do {
		if ((rc = cli_audit_page(c, x->end.entries, &resp)) >= 0)
			return rc;
		if (x->end.entries == 0) {
			size = resp->log_entries->tree_size;
			rc = put_header(x, c, size);
		}
		if (rc < 0)
			rc = put_page(x, resp->log_entries, size);
		tamwil__v1__response__free_unpacked(resp, NULL);
	} while (rc < 0 && x->end.entries < size);
	if (x->progress)
		fputc('\n', stderr);
	return rc;
}

/* One stated application as an ExportApplication record. */
static int put_application(struct export_run *x,
			   const Tamwil__V1__Application *a)
{
	Tamwil__V1__ExportRecord rec = TAMWIL__V1__EXPORT_RECORD__INIT;
	Tamwil__V1__ExportApplication e = TAMWIL__V1__EXPORT_APPLICATION__INIT;
	const Tamwil__V1__Money *req = a->amount_requested;

	e.reference = a->reference;
	e.state = a->state;
	e.programme = a->programme;
	e.region = a->region;
	e.currency = req != NULL ? req->currency : "";
	e.requested = req != NULL ? req->minor : 0;
	e.granted = a->amount_granted != NULL ? a->amount_granted->minor : 0;
	e.disbursed =
	    a->amount_disbursed != NULL ? a->amount_disbursed->minor : 0;
	e.repaid = a->amount_repaid != NULL ? a->amount_repaid->minor : 0;
	rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_APPLICATION;
	rec.application = &e;
	x->end.applications++;
	return put(x, &rec);
}

/* Every application, page by page. */
static int put_applications(struct export_run *x, tamwil_client *c)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListApplicationsRequest body =
	    TAMWIL__V1__LIST_APPLICATIONS_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	char *token = NULL;
	tamwil_error err;
	int rc = -1;

	body.page_size = 500;
	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS;
	req.list_applications = &body;
	do {
		body.page_token = token != NULL ? token : "";
		if (tamwil_client_call(c, &req, &resp, &err) != TAMWIL_OK) {
			rc = cli_fail_status(&err);
			break;
		}
		for (size_t i = 0;
		     rc < 0 && i < resp->applications->n_applications; i++)
			rc = put_application(
			    x, resp->applications->applications[i]);
		free(token);
		token = strdup(resp->applications->next_page_token != NULL
				   ? resp->applications->next_page_token
				   : "");
		tamwil__v1__response__free_unpacked(resp, NULL);
		if (token == NULL)
			rc = cli_fail("out of memory");
	} while (rc < 0 && token != NULL && token[0] != '\0');
	free(token);
	return rc;
}

/* Every programme, then the end record. */
static int put_programmes(struct export_run *x, tamwil_client *c)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListProgrammesRequest body =
	    TAMWIL__V1__LIST_PROGRAMMES_REQUEST__INIT;
	Tamwil__V1__ExportRecord rec = TAMWIL__V1__EXPORT_RECORD__INIT;
	Tamwil__V1__ExportProgramme e = TAMWIL__V1__EXPORT_PROGRAMME__INIT;
	Tamwil__V1__Response *resp = NULL;
	tamwil_error err;
	int rc = -1;

	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES;
	req.list_programmes = &body;
	if (tamwil_client_call(c, &req, &resp, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_PROGRAMME;
	rec.programme = &e;
	for (size_t i = 0; rc < 0 && i < resp->programmes->n_programmes; i++) {
		const Tamwil__V1__Programme *p =
		    resp->programmes->programmes[i];

		e.code = p->code;
		e.currency = p->envelope != NULL ? p->envelope->currency : "";
		e.envelope = p->envelope != NULL ? p->envelope->minor : 0;
		e.granted = p->granted != NULL ? p->granted->minor : 0;
		e.disbursed = p->disbursed != NULL ? p->disbursed->minor : 0;
		x->end.programmes++;
		rc = put(x, &rec);
	}
	tamwil__v1__response__free_unpacked(resp, NULL);
	if (rc >= 0)
		return rc;
	rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_END;
	rec.end = &x->end;
	return put(x, &rec);
}

/* The whole export into x->f; an exit status or -1. */
static int export_all(struct export_run *x, tamwil_client *c)
{
	int rc;

	if (fwrite(TAMWIL_EXPORT_MAGIC, 1, TAMWIL_EXPORT_MAGIC_LEN, x->f) !=
	    TAMWIL_EXPORT_MAGIC_LEN)
		return cli_fail("cannot write %s: %s", x->tmp, strerror(errno));
	if ((rc = put_log(x, c)) >= 0 || (rc = put_applications(x, c)) >= 0 ||
	    (rc = put_programmes(x, c)) >= 0)
		return rc;
	return -1;
}

/* Flushes, fsyncs and closes x->f, then renames it to x->out. */
static int export_commit(struct export_run *x)
{
	int bad = fflush(x->f) != 0 || fsync(fileno(x->f)) != 0;

	bad |= fclose(x->f) != 0;
	x->f = NULL;
	if (bad || rename(x->tmp, x->out) != 0)
		return cli_fail("cannot write %s: %s", x->out, strerror(errno));
	return CLI_EXIT_OK;
}

/* Opens x->tmp, runs the export and commits it; an exit status. */
static int export_to_file(struct export_run *x, tamwil_client *c)
{
	int fd, rc;

	fd = open(x->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	x->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (x->f == NULL) {
		if (fd >= 0)
			close(fd);
		return cli_fail("cannot create %s: %s", x->tmp,
				strerror(errno));
	}
	rc = export_all(x, c);
	if (rc < 0)
		rc = export_commit(x);
	if (x->f != NULL)
		fclose(x->f);
	if (rc != CLI_EXIT_OK)
		unlink(x->tmp);
	else
		fprintf(stderr,
			"exported %" PRIu64 " entries, %" PRIu64
			" applications, %" PRIu64 " programmes to %s\n",
			x->end.entries, x->end.applications, x->end.programmes,
			x->out);
	return rc;
}

/* Reads export's options into x; -1 to go on, or an exit status. */
static int export_options(struct export_run *x, int *force, int argc,
			  char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'o')
			x->out = optarg;
		else if (c == 'f')
			*force = 1;
		else if (c == 'h')
			return cli_show_usage(cli_audit_usage);
		else
			return cli_bad_option("audit export", c, argv);
	}
	if (optind < argc)
		return cli_usage_error("audit", "unexpected argument '%s'",
				       argv[optind]);
	if (x->out == NULL)
		return cli_usage_error("audit", "audit export needs --out "
						"FILE");
	return -1;
}

int cli_audit_export(const struct cli_globals *g, int argc, char **argv)
{
	struct export_run *x = calloc(1, sizeof(*x));
	tamwil_client *c = NULL;
	keyfile_public pub;
	struct stat st;
	int force = 0, rc;

	if (x == NULL)
		return cli_fail("out of memory");
	tamwil__v1__export_end__init(&x->end);
	rc = export_options(x, &force, argc, argv);
	if (rc < 0 && x->out == NULL)
		rc = CLI_EXIT_USAGE;
	if (rc < 0 && !force && stat(x->out, &st) == 0)
		rc =
		    cli_fail("%s exists: give --force to overwrite it", x->out);
	if (rc < 0 && (size_t)snprintf(x->tmp, sizeof(x->tmp), "%s.tmp",
				       x->out) >= sizeof(x->tmp))
		rc = cli_fail("the file name is too long");
	if (rc < 0 && cli_audit_server_key(g, &pub) != 0)
		rc = CLI_EXIT_FAIL;
	if (rc < 0 && cli_session_open(g, &c) != 0)
		rc = CLI_EXIT_FAIL;
	if (rc < 0) {
		memcpy(x->sign_pk, pub.sign_pk, sizeof(x->sign_pk));
		x->progress = isatty(STDERR_FILENO);
		rc = export_to_file(x, c);
	}
	tamwil_client_close(c);
	free(x);
	return rc;
}
