/*
 * The option loop of the commands that print results; see cli_opts.h.
 */
#include "cli_opts.h"

#include "cli_util.h"

int cli_opts_read(const struct cli_opts *p, const struct cli_globals *g,
		  int argc, char **argv, struct cli_output *out)
{
	int c, rc;

	cli_output_init(out, g);
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", p->opts, NULL)) != -1) {
		if (cli_output_option(out, c))
			continue;
		if (c == 'h')
			return cli_show_usage(p->usage);
		if (c == '?' || c == ':' || p->take == NULL)
			return cli_bad_option(p->cmd, c, argv);
		if ((rc = p->take(p->arg, c, optarg)) >= 0)
			return rc;
	}
	return -1;
}
