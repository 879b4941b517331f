/*
 * Command-line values as usage errors; see cli_args.h.
 */
#include "cli_args.h"

#include <ctype.h>
#include <getopt.h>
#include <string.h>

#include "argparse.h"
#include "cli_util.h"
#include "money.h"
#include "text.h"

int cli_arg_required(const char *cmd, const struct cli_required *req, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (req[i].value == NULL)
			return cli_usage_error(cmd, "%s needs %s", cmd,
					       req[i].usage);
	}
	return -1;
}

int cli_arg_positionals(const char *cmd, int argc, char **argv, size_t n,
			const char *const *names, const char **out)
{
	size_t left = optind < argc ? (size_t)(argc - optind) : 0;

	if (left < n)
		return cli_usage_error(cmd, "%s needs %s", cmd, names[left]);
	if (left > n)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind + (int)n]);
	for (size_t i = 0; i < n; i++)
		out[i] = argv[optind + (int)i];
	return -1;
}

int cli_arg_amount(const char *cmd, const char *option, const char *text,
		   int zero_ok, int64_t *minor)
{
	char why[ARGPARSE_WHY_MAX];

	if (argparse_amount(text, zero_ok, minor, why, sizeof(why)) == 0)
		return -1;
	return cli_usage_error(cmd, "%s: %s", option, why);
}

int cli_arg_text(const char *cmd, const char *option, const char *text)
{
	char why[ARGPARSE_WHY_MAX];

	if (text == NULL || argparse_text(text, why, sizeof(why)))
		return -1;
	return cli_usage_error(cmd, "%s: %s", option, why);
}

int cli_arg_enum(const char *cmd, const char *option, const char *text,
		 const ProtobufCEnumDescriptor *d, const char *prefix,
		 int *value)
{
	char names[512];

	*value = argparse_enum(d, prefix, text);
	if (*value != 0)
		return -1;
	return cli_usage_error(
	    cmd, "%s: unknown value '%s' (known: %s)", option, text,
	    argparse_enum_list(d, prefix, names, sizeof(names)));
}

int cli_arg_date(const char *cmd, const char *option, const char *text,
		 int64_t *start)
{
	char why[ARGPARSE_WHY_MAX];
	int64_t t;

	if (argparse_day(text, &t, why, sizeof(why)) != 0)
		return cli_usage_error(cmd, "%s: %s", option, why);
	if (start != NULL)
		*start = t;
	return -1;
}

int cli_arg_count(const char *cmd, const char *option, const char *text,
		  unsigned long min, unsigned long max, unsigned long *value)
{
	char why[ARGPARSE_WHY_MAX];

	if (argparse_count(text, min, max, value, why, sizeof(why)) == 0)
		return -1;
	return cli_usage_error(cmd, "%s: %s", option, why);
}

int cli_arg_currency(const char *cmd, const char *option, const char *text,
		     char cur[4])
{
	size_t i;

	for (i = 0; i < 3 && text[i] != '\0'; i++)
		cur[i] = (char)toupper((unsigned char)text[i]);
	cur[i] = '\0';
	if (text[i] == '\0' && money_currency_valid(cur))
		return -1;
	cur[0] = '\0';
	return cli_usage_error(cmd,
			       "%s: '%s' is not a currency Tamwil keeps "
			       "(MAD, DZD, TND, EUR, USD, XOF)",
			       option, text);
}
