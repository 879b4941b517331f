/*
 * tamwil, the regional client of Tamwil: parses the global options,
 * then hands the rest of the command line to the command's module.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli_config.h"
#include "cli_keys.h"
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
    {"keygen", cli_keygen_main, cli_keygen_usage},
    {"key", cli_key_main, cli_key_usage},
    {"whoami", cli_whoami_main, cli_whoami_usage},
};

static void usage(FILE *out)
{
	fputs(
	    "Usage: tamwil [OPTIONS] COMMAND [ARGS]\n"
	    "\n"
	    "The regional client of Tamwil: talks to head office over an\n"
	    "encrypted channel, as the principal of your key file.\n"
	    "\n"
	    "Commands:\n"
	    "  keygen --out FILE [--protect]  make a new private key file\n"
	    "  key public [FILE]              print your public key file, to\n"
	    "                                 send to head office\n"
	    "  whoami                         ask head office who your key "
	    "is\n"
	    "  help [COMMAND]                 show help (also: COMMAND "
	    "--help)\n"
	    "\n"
	    "Options (before the command):\n"
	    "  --server HOST[:PORT]   head office's address (port 7405 by\n"
	    "                         default)\n"
	    "  --server-key PUBFILE   head office's public key file\n"
	    "  --key FILE             your private key file\n"
	    "  --config FILE          the configuration file to read\n"
	    "  --json                 print results as JSON\n"
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
	    "  tamwil keygen --out ~/.config/tamwil/fatima.key --protect\n"
	    "  tamwil key public ~/.config/tamwil/fatima.key > fatima.pub\n"
	    "  tamwil --server 10.0.0.5 --server-key server.pub --key "
	    "fatima.key whoami\n"
	    "  tamwil --json whoami\n"
	    "\n"
	    "Exit status: 0 done, 1 failed, 2 wrong usage.\n",
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
		OPT_TIMEOUT
	};
	static const struct option opts[] = {
	    {"server", required_argument, NULL, OPT_SERVER},
	    {"server-key", required_argument, NULL, OPT_SERVER_KEY},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"json", no_argument, NULL, OPT_JSON},
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
