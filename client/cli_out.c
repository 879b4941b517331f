/*
 * Output formats and the texts of amounts and times; see cli_out.h.
 */
#include "cli_out.h"

#include <stdio.h>
#include <time.h>

#include "cli_util.h"

void cli_output_init(struct cli_output *o, const struct cli_globals *g)
{
	o->json = g->json;
	o->csv = g->csv;
}

int cli_output_option(struct cli_output *o, int c)
{
	if (c == CLI_OPT_JSON)
		o->json = 1;
	else if (c == CLI_OPT_CSV)
		o->csv = 1;
	else
		return 0;
	return 1;
}

int cli_output_format(const char *cmd, const struct cli_output *o,
		      enum cli_format *f)
{
	if (o->json && o->csv)
		return cli_usage_error(cmd, "--json and --csv: choose one");
	*f = o->json ? CLI_JSON : o->csv ? CLI_CSV : CLI_TEXT;
	return -1;
}

const char *cli_time_text(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	if (t != 0 && localtime_r(&tt, &tm) != NULL)
		strftime(buf, cap, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

const char *cli_time_iso(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	if (gmtime_r(&tt, &tm) != NULL)
		strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

const char *cli_money_text(int64_t minor, const char *currency, char *buf,
			   size_t cap)
{
	if (money_format(minor, currency, buf, cap) < 0)
		money_format(minor, NULL, buf, cap);
	return buf;
}

const char *cli_minor_text(int64_t minor, char *buf, size_t cap)
{
	snprintf(buf, cap, "%lld", (long long)minor);
	return buf;
}
