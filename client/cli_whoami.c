/*
 * tamwil whoami; see cli_whoami.h.
 */
#include "cli_whoami.h"

#include <getopt.h>

#include <jansson.h>

#include "cli_session.h"
#include "cli_util.h"
#include "tamwil-client.h"

void cli_whoami_usage(FILE *out)
{
	fputs("Usage: tamwil [OPTIONS] whoami [--json]\n"
	      "\n"
	      "Connects to head office and shows who it knows your key as:\n"
	      "name, role, region (coordinators only), fingerprint and the\n"
	      "server's version. A quick way to check the address, the server\n"
	      "key and your enrolment all at once.\n"
	      "\n"
	      "Options:\n"
	      "  --json       print one JSON object instead\n"
	      "  -h, --help   show this help\n"
	      "The connection options (--server, --server-key, --key,\n"
	      "--config, --timeout) go before the command; see tamwil --help.\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil whoami\n"
	      "  tamwil --server 10.0.0.5:7405 --server-key server.pub "
	      "--key fatima.key whoami\n"
	      "  tamwil --json whoami\n",
	      out);
}

/* Prints me as aligned "label  value" lines. */
static void print_text(const tamwil_whoami *me)
{
	const struct cli_field fields[] = {
	    {"name", me->name},
	    {"role", me->role},
	    {"region",
	     me->region[0] != '\0' ? me->region : "\xe2\x80\x94" /* em dash */},
	    {"fingerprint", me->fingerprint},
	    {"server version", me->server_version},
	};

	cli_print_fields(stdout, fields, sizeof(fields) / sizeof(fields[0]));
}

/* Prints me as one JSON object; returns an exit status. */
static int print_json(const tamwil_whoami *me)
{
	json_t *o = json_pack(
	    "{s:s, s:s, s:o, s:s, s:s, s:I}", "name", me->name, "role",
	    me->role, "region",
	    me->region[0] != '\0' ? json_string(me->region) : json_null(),
	    "fingerprint", me->fingerprint, "server_version",
	    me->server_version, "principal_id", (json_int_t)me->principal_id);
	int rc;

	if (o == NULL)
		return cli_fail("cannot format the answer as JSON");
	rc = json_dumpf(o, stdout, JSON_INDENT(2));
	json_decref(o);
	fputc('\n', stdout);
	return rc == 0 ? CLI_EXIT_OK : cli_fail("cannot write the answer");
}

int cli_whoami_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	tamwil_client *client = NULL;
	tamwil_whoami me;
	tamwil_error err;
	int json = g->json, c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'h')
			return cli_show_usage(cli_whoami_usage);
		else
			return cli_bad_option("whoami", c, argv);
	}
	if (optind < argc)
		return cli_usage_error("whoami", "unexpected argument '%s'",
				       argv[optind]);
	if (cli_session_open(g, &client) != 0)
		return CLI_EXIT_FAIL;
	rc = tamwil_client_whoami(client, &me, &err);
	tamwil_client_close(client);
	if (rc != TAMWIL_OK)
		return cli_fail_status(&err);
	if (json)
		return print_json(&me);
	print_text(&me);
	return CLI_EXIT_OK;
}
