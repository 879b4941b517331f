/*
 * tamwil audit verify: an export file checked offline, with no
 * connection; see cli_audit.h and docs/AUDIT.md ("Verifying offline").
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "cli_audit.h"
#include "cli_keys.h"
#include "cli_util.h"
#include "tamwil-export.h"

/* What verify was asked. */
struct verify_args {
	const char *file, *server_key, *db, *data_key;
};

/* Shows "verifying: 12 345 / 100 000 entries" every 1 000 entries. */
static void verify_progress(void *arg, uint64_t done, uint64_t total)
{
	char a[32], b[32];

	(void)arg;
	if (done % 1000 != 0 && done != total)
		return;
	fprintf(stderr, "\rverifying: %s / %s entries",
		cli_audit_count(done, a, sizeof(a)),
		cli_audit_count(total, b, sizeof(b)));
}

/* Reads verify's options; -1 to go on, or an exit status. */
static int verify_options(struct verify_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server-key", required_argument, NULL, 'k'},
	    {"db", required_argument, NULL, 'd'},
	    {"data-key", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'k')
			a->server_key = optarg;
		else if (c == 'd')
			a->db = optarg;
		else if (c == 'D')
			a->data_key = optarg;
		else if (c == 'h')
			return cli_show_usage(cli_audit_usage);
		else
			return cli_bad_option("audit verify", c, argv);
	}
	if (optind + 1 != argc)
		return cli_usage_error("audit", "audit verify needs one FILE");
	a->file = argv[optind];
	if (a->server_key == NULL)
		return cli_usage_error("audit", "audit verify needs "
						"--server-key PUBFILE, head "
						"office's public key file");
	return -1;
}

/* The summary line of a successful verification. */
static void verify_summary(const tamwil_export_summary *s)
{
	printf("verified %" PRIu64 " entr%s, %" PRIu64 " checkpoint%s, "
	       "%" PRIu64 " application%s, %" PRIu64 " programme%s: the log "
	       "is intact and replays to the stated state%s\n",
	       s->entries, s->entries == 1 ? "y" : "ies", s->checkpoints,
	       s->checkpoints == 1 ? "" : "s", s->applications,
	       s->applications == 1 ? "" : "s", s->programmes,
	       s->programmes == 1 ? "" : "s",
	       s->db_checked ? ", which the database copy matches" : "");
	if (s->identities > 0)
		printf("opened and checked %" PRIu64 " sealed identit%s with "
		       "the data key\n",
		       s->identities, s->identities == 1 ? "y" : "ies");
}

/*
 * Reads head office's data key file (a protected one takes its
 * passphrase from $TAMWIL_PASSPHRASE). Prints why and returns -1, or 0.
 */
static int verify_data_key(const char *path, keyfile_data *d)
{
	int e = keyfile_read_data(path, getenv("TAMWIL_PASSPHRASE"), d);

	if (e == KEYFILE_OK)
		return 0;
	cli_fail("cannot read the data key %s: %s", path, keyfile_strerror(e));
	return -1;
}

int cli_audit_verify(const struct cli_globals *g, int argc, char **argv)
{
	struct verify_args a = {NULL, NULL, NULL, NULL};
	tamwil_export_summary sum;
	char why[TAMWIL_ERROR_MAX];
	keyfile_public pub;
	keyfile_data data;
	int tty = isatty(STDERR_FILENO), rc;

	(void)g;
	if ((rc = verify_options(&a, argc, argv)) >= 0)
		return rc;
	if (cli_load_public(a.server_key, &pub) != 0)
		return CLI_EXIT_USAGE;
	if (a.data_key != NULL && verify_data_key(a.data_key, &data) != 0)
		return CLI_EXIT_USAGE;
	rc = tamwil_export_verify(
	    a.file, pub.sign_pk, a.db, a.data_key != NULL ? data.sk : NULL,
	    tty ? verify_progress : NULL, NULL, &sum, why, sizeof(why));
	sodium_memzero(&data, sizeof(data));
	if (tty)
		fputc('\n', stderr);
	if (rc != 0)
		return cli_fail("%s: %s", a.file, why);
	verify_summary(&sum);
	return CLI_EXIT_OK;
}
