/*
 * tamwil, the regional client of Tamwil: parses the global options,
 * then hands the rest of the command line to the command's module.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli_admin.h"
#include "cli_audit.h"
#include "cli_config.h"
#include "cli_disburse.h"
#include "cli_import.h"
#include "cli_keys.h"
#include "cli_ops.h"
#include "cli_outbox.h"
#include "cli_query.h"
#include "cli_setup.h"
#include "cli_show.h"
#include "cli_submit.h"
#include "cli_util.h"
#include "cli_whoami.h"

#ifndef TAMWIL_VERSION
#define TAMWIL_VERSION "unknown"
#endif

struct command {
	const char *name;
	int (*run)(const struct cli_globals *g, int argc, char **argv);
	void (*usage)(FILE *out);
};

static const struct command commands[] = {
    {"setup", cli_setup_main, cli_setup_usage},
    {"keygen", cli_keygen_main, cli_keygen_usage},
    {"key", cli_key_main, cli_key_usage},
    {"whoami", cli_whoami_main, cli_whoami_usage},
    {"region", cli_region_main, cli_region_usage},
    {"programme", cli_programme_main, cli_programme_usage},
    {"enrol", cli_enrol_main, cli_enrol_usage},
    {"revoke", cli_revoke_main, cli_revoke_usage},
    {"submit", cli_submit_main, cli_submit_usage},
    {"import", cli_import_main, cli_import_usage},
    {"withdraw", cli_withdraw_main, cli_withdraw_usage},
    {"approve", cli_approve_main, cli_approve_usage},
    {"reject", cli_reject_main, cli_reject_usage},
    {"disburse", cli_disburse_main, cli_disburse_usage},
    {"repay", cli_repay_main, cli_repay_usage},
    {"show", cli_application_main, cli_application_usage},
    {"list", cli_list_main, cli_list_usage},
    {"budget", cli_budget_main, cli_budget_usage},
    {"report", cli_report_main, cli_report_usage},
    {"audit", cli_audit_main, cli_audit_usage},
    {"sync", cli_sync_main, cli_sync_usage},
    {"outbox", cli_outbox_main, cli_outbox_usage},
};

static void usage(FILE *out)
{
	fputs(
	    "Usage: tamwil [OPTIONS] COMMAND [ARGS]\n"
	    "\n"
	    "The regional client of Tamwil: talks to head office over an\n"
	    "encrypted channel, as the principal of your key file.\n"
	    "\n"
	    "Your key:\n"
	    "  setup                          write your configuration file "
	    "and\n"
	    "                                 make your key (start here)\n"
	    "  keygen --out FILE [--protect]  make a new private key file\n"
	    "  key public [FILE]              print your public key file, to\n"
	    "                                 send to head office\n"
	    "  whoami                         ask head office who your key "
	    "is\n"
	    "\n"
	    "Applications:\n"
	    "  submit --programme CODE ...    submit a beneficiary's "
	    "application\n"
	    "  import FILE.csv [--dry-run]    submit one application per row\n"
	    "                                 of a spreadsheet\n"
	    "  withdraw REF                   withdraw it before a decision\n"
	    "  approve REF [--amount AMOUNT]  approve it (approvers)\n"
	    "  reject REF --reason TEXT       reject it (approvers)\n"
	    "  disburse REF --amount AMOUNT   record a tranche handed over\n"
	    "                                 (treasurers)\n"
	    "  repay REF --amount AMOUNT      record a repayment (treasurers)\n"
	    "  show REF                       an application and its history\n"
	    "  list [FILTERS] [--all]         applications, filtered\n"
	    "\n"
	    "When head office cannot be reached, these wait in this office's\n"
	    "outbox (exit status 75, \"queued\"):\n"
	    "  sync                           send what waits, in order\n"
	    "  outbox [--all]                 what waits (--all: the history)\n"
	    "\n"
	    "Figures:\n"
	    "  budget                         programmes and their budget use\n"
	    "  report --by GROUP              counts and amounts by region,\n"
	    "                                 programme, sector, sex,\n"
	    "                                 category or month\n"
	    "  report --html FILE             all of it as a web page with\n"
	    "                                 charts\n"
	    "\n"
	    "Audit (auditors and admins):\n"
	    "  audit export --out FILE        the whole log, for an audit\n"
	    "  audit verify FILE --server-key PUBFILE [--db COPY]\n"
	    "               [--data-key DATAKEY]\n"
	    "                                 check an export offline\n"
	    "  audit proof REF                an application's log entries,\n"
	    "                                 each proven\n"
	    "  audit events                   security events\n"
	    "\n"
	    "Set-up (admins):\n"
	    "  region add CODE NAME           create a region (region list:\n"
	    "                                 the regions)\n"
	    "  programme add CODE ...         create a programme (programme\n"
	    "                                 list: as budget)\n"
	    "  enrol PUBFILE --role ROLE ...  enrol a principal's key\n"
	    "  revoke PUBFILE                 revoke it\n"
	    "\n"
	    "  help [COMMAND]                 show help (also: COMMAND "
	    "--help)\n"
	    "\n"
	    "Options (before the command; --json and --csv also after it):\n"
	    "  --server HOST[:PORT]   head office's address (port 7405 by\n"
	    "                         default)\n"
	    "  --server-key PUBFILE   head office's public key file\n"
	    "  --key FILE             your private key file\n"
	    "  --config FILE          the configuration file to read\n"
	    "  --json                 print results as JSON (amounts in minor\n"
	    "                         units, next to \"currency\")\n"
	    "  --csv                  print tables as CSV (RFC 4180)\n"
	    "  --timeout SECONDS      wait this long for head office "
	    "(default 30)\n"
	    "  -h, --help             show this help\n"
	    "  -V, --version          show the version\n"
	    "\n"
	    "Settings left out come from the configuration file,\n"
	    "$TAMWIL_CONFIG, else $XDG_CONFIG_HOME/tamwil/client.conf\n"
	    "(~/.config/tamwil/client.conf):\n"
	    "  server = tamwil.example.org:7405\n"
	    "  server_key = server.pub   ; relative to the file's folder\n"
	    "  key = fatima.key\n"
	    "\n"
	    "A protected key file takes its passphrase from\n"
	    "$TAMWIL_PASSPHRASE, else from a prompt on the terminal.\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil setup --server 10.0.0.5 --server-key server.pub\n"
	    "  tamwil keygen --out ~/.config/tamwil/fatima.key --protect\n"
	    "  tamwil key public ~/.config/tamwil/fatima.key > fatima.pub\n"
	    "  tamwil --server 10.0.0.5 --server-key server.pub --key "
	    "fatima.key whoami\n"
	    "  tamwil --json whoami\n"
	    "  tamwil approve LAG-2026-000123 --amount \"35 000,00\"\n"
	    "  tamwil --csv list --state approved --all > approved.csv\n"
	    "  tamwil import --dry-run beneficiaires.csv\n"
	    "\n"
	    "Exit status: 0 done, 1 failed, 2 wrong usage, 3 head office's "
	    "log\n"
	    "does not extend what this office saw, 75 queued in the outbox.\n",
	    out);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* tamwil help [COMMAND] */
static int help(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (cmd == NULL)
		return cli_usage_error(NULL, "no command named '%s'", argv[1]);
	return cli_show_usage(cmd->usage);
}

/*
 * Parses the global options into g; returns -1 to go on with the command
 * at argv[optind], or an exit status to stop with.
 */
static int parse_globals(int argc, char **argv, struct cli_globals *g)
{
	enum {
		OPT_SERVER = 256,
		OPT_SERVER_KEY,
		OPT_KEY,
		OPT_CONFIG,
		OPT_JSON,
		OPT_CSV,
		OPT_TIMEOUT
	};
	static const struct option opts[] = {
	    {"server", required_argument, NULL, OPT_SERVER},
	    {"server-key", required_argument, NULL, OPT_SERVER_KEY},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"csv", no_argument, NULL, OPT_CSV},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SERVER:
			g->server = optarg;
			break;
		case OPT_SERVER_KEY:
			g->server_key = optarg;
			break;
		case OPT_KEY:
			g->key = optarg;
			break;
		case OPT_CONFIG:
			g->config = optarg;
			break;
		case OPT_JSON:
			g->json = 1;
			break;
		case OPT_CSV:
			g->csv = 1;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_seconds(optarg, &g->timeout_ms) != 0)
				return cli_usage_error(
				    NULL,
				    "--timeout wants whole seconds from 1 "
				    "to 86400, not '%s'",
				    optarg);
			break;
		case 'h':
			return cli_show_usage(usage);
		case 'V':
			printf("tamwil %s\n", TAMWIL_VERSION);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(NULL, c, argv);
		}
	}
	return -1;
}

/* Runs the command at argv[0]; returns an exit status. */
static int run(const struct cli_globals *g, int argc, char **argv)
{
	const struct command *cmd;

	if (strcmp(argv[0], "help") == 0)
		return help(argc, argv);
	cmd = find_command(argv[0]);
	if (cmd == NULL)
		return cli_usage_error(NULL, "unknown command '%s'", argv[0]);
	return cmd->run(g, argc, argv);
}

int main(int argc, char **argv)
{
	struct cli_globals g = {0};
	int status;

	/* Tables measure UTF-8 text whatever the user's locale. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
	status = parse_globals(argc, argv, &g);
	if (status >= 0)
		return status;
	if (optind >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (sodium_init() < 0)
		return cli_fail("libsodium failed to initialise");
	status = run(&g, argc - optind, argv + optind);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		char why[128];

		return cli_fail("cannot write the output: %s",
				cli_strerror(errno, why, sizeof(why)));
	}
	return status;
}
