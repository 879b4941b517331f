/*
 * Command-line values into protocol values; see argparse.h.
 */
#include "argparse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "money.h"
#include "text.h"

/* Copies s[0..len) into dst (capacity cap); 0, or -1 if it does not fit. */
static int take(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* s without surrounding ASCII blanks: its start, and its length in *len. */
static const char *trim(const char *s, size_t *len)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = n;
	return s;
}

/*
 * 1 for "12,345" and "1.234": one to three digits, one '.' or ',', three
 * digits. Thousands or decimals? The reader cannot tell.
 */
static int ambiguous(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && isdigit((unsigned char)s[i]))
		i++;
	if (i < 1 || i > 3 || i + 4 != len || (s[i] != '.' && s[i] != ','))
		return 0;
	return isdigit((unsigned char)s[i + 1]) &&
	       isdigit((unsigned char)s[i + 2]) &&
	       isdigit((unsigned char)s[i + 3]);
}

/*
 * Writes the sentence for an ambiguous s[0..len): the digits without
 * their separator, as the two ways to write what was meant.
 */
static void ambiguous_why(const char *text, const char *s, size_t len,
			  char *why, size_t cap)
{
	char digits[8];
	size_t n = len - 4; /* digits before the separator: 1 to 3 */

	memcpy(digits, s, n);
	memcpy(digits + n, s + n + 1, 3);
	digits[n + 3] = '\0';
	snprintf(why, cap,
		 "\"%s\" is ambiguous: write %s or %s,00 (thousands are "
		 "grouped with spaces: 1 234 567,89)",
		 text, digits, digits);
}

int argparse_amount(const char *text, int zero_ok, int64_t *minor, char *why,
		    size_t cap)
{
	size_t len;
	const char *s = trim(text, &len);
	int rc = money_parse(text, minor);

	if (rc == MONEY_OK && (*minor > 0 || zero_ok))
		return 0;
	if (rc == MONEY_OK)
		snprintf(why, cap, "\"%s\" is zero: give a positive amount",
			 text);
	else if (ambiguous(s, len))
		ambiguous_why(text, s, len, why, cap);
	else if (rc == MONEY_ERR_EMPTY)
		snprintf(why, cap, "no amount given");
	else
		snprintf(why, cap, "\"%s\": %s", text, money_strerror(rc));
	return -1;
}

int argparse_name(const char *full, char *first, size_t first_cap, char *last,
		  size_t last_cap, char *why, size_t cap)
{
	size_t len, cut, first_len;
	const char *s = trim(full, &len);

	cut = len;
	while (cut > 0 && s[cut - 1] != ' ')
		cut--;
	if (len == 0 || cut == 0) {
		snprintf(why, cap,
			 "\"%s\" is one word: give the first and last names "
			 "(\"Khadija Alaoui\"), or --first-name and "
			 "--last-name",
			 full);
		return -1;
	}
	first_len = cut - 1;
	while (first_len > 0 && s[first_len - 1] == ' ')
		first_len--;
	if (take(first, first_cap, s, first_len) != 0 ||
	    take(last, last_cap, s + cut, len - cut) != 0) {
		snprintf(why, cap, "the name is too long");
		return -1;
	}
	return 0;
}

/* Parses the quantity s[0..len): 0, or -1. */
static int quantity_of(const char *s, size_t len, uint32_t *q)
{
	unsigned long v = 0;

	if (len == 0 || len > 7)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > ARGPARSE_QUANTITY_MAX)
		return -1;
	*q = (uint32_t)v;
	return 0;
}

int argparse_item(const char *text, char *desc, size_t desc_cap,
		  uint32_t *quantity, int64_t *unit_value, char *why,
		  size_t cap)
{
	const char *value = strrchr(text, ':'), *qty;
	char amount_why[ARGPARSE_WHY_MAX];
	size_t qlen;

	qty = value;
	while (qty != NULL && qty > text && qty[-1] != ':')
		qty--;
	if (value == NULL || qty == NULL || qty == text) {
		snprintf(why, cap,
			 "\"%s\" is not DESCRIPTION:QUANTITY:UNIT_VALUE (say "
			 "\"Machine à coudre:2:12 500,00\")",
			 text);
		return -1;
	}
	/* qty is just past the second-to-last ':'. */
	qlen = (size_t)(value - qty);
	if (qty - 1 == text) {
		snprintf(why, cap, "\"%s\": the description is empty", text);
		return -1;
	}
	if (take(desc, desc_cap, text, (size_t)(qty - 1 - text)) != 0) {
		snprintf(why, cap, "\"%s\": the description is too long", text);
		return -1;
	}
	if (quantity_of(qty, qlen, quantity) != 0) {
		snprintf(why, cap,
			 "\"%s\": the quantity must be a whole number from 1 "
			 "to %u",
			 text, ARGPARSE_QUANTITY_MAX);
		return -1;
	}
	if (argparse_amount(value + 1, 1, unit_value, amount_why,
			    sizeof(amount_why)) != 0) {
		snprintf(why, cap, "\"%s\": the unit value %s", text,
			 amount_why);
		return -1;
	}
	return 0;
}

/* 1 if name spells the enum value's name v after prefix. */
static int enum_matches(const char *v, const char *prefix, const char *name)
{
	size_t plen = strlen(prefix);

	if (strncmp(v, prefix, plen) != 0)
		return 0;
	v += plen;
	for (; *v != '\0' && *name != '\0'; v++, name++) {
		char c = *name;

		if (c == '-')
			c = '_';

		if (toupper((unsigned char)c) != *v)
			return 0;
	}
	return *v == '\0' && *name == '\0';
}

int argparse_enum(const ProtobufCEnumDescriptor *d, const char *prefix,
		  const char *name)
{
	if (name == NULL || name[0] == '\0')
		return 0;
	for (unsigned i = 0; i < d->n_values; i++) {
		if (d->values[i].value != 0 &&
		    enum_matches(d->values[i].name, prefix, name))
			return d->values[i].value;
	}
	return 0;
}

/* Writes the lower-case name of v after prefix into buf. */
static void lower_name(const char *v, const char *prefix, char *buf, size_t cap)
{
	size_t plen = strlen(prefix), i;

	if (strncmp(v, prefix, plen) == 0)
		v += plen;
	for (i = 0; v[i] != '\0' && i + 1 < cap; i++)
		buf[i] = (char)tolower((unsigned char)v[i]);
	buf[i] = '\0';
}

const char *argparse_enum_name(const ProtobufCEnumDescriptor *d,
			       const char *prefix, int value, char *buf,
			       size_t cap)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(d, value);

	if (cap == 0)
		return buf;
	if (v == NULL || value == 0)
		snprintf(buf, cap, "unknown");
	else
		lower_name(v->name, prefix, buf, cap);
	return buf;
}

const char *argparse_enum_list(const ProtobufCEnumDescriptor *d,
			       const char *prefix, char *buf, size_t cap)
{
	size_t used = 0;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; i < d->n_values; i++) {
		char one[64];
		int n;

		if (d->values[i].value == 0)
			continue;
		lower_name(d->values[i].name, prefix, one, sizeof(one));
		n = snprintf(buf + used, cap - used, "%s%s",
			     used > 0 ? ", " : "", one);
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

int argparse_sex(const char *text)
{
	if (strcasecmp(text, "F") == 0)
		return 1;
	if (strcasecmp(text, "M") == 0)
		return 2;
	return 0;
}

const char *argparse_sex_name(int sex)
{
	return sex == 1 ? "F" : sex == 2 ? "M" : "";
}

int argparse_day(const char *text, int64_t *start, char *why, size_t cap)
{
	struct tm tm;
	int y, m, d;

	if (!text_valid_date(text, NULL) ||
	    sscanf(text, "%4d-%2d-%2d", &y, &m, &d) != 3) {
		snprintf(why, cap,
			 "\"%s\" is not a date written YYYY-MM-DD (say "
			 "2026-03-21)",
			 text);
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*start = (int64_t)timegm(&tm);
	return 0;
}

int argparse_count(const char *text, unsigned long min, unsigned long max,
		   unsigned long *value, char *why, size_t cap)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < 12 && text[i] != '\0'; i++) {
		if (!isdigit((unsigned char)text[i]))
			break;
		v = v * 10 + (unsigned long)(text[i] - '0');
	}
	if (i == 0 || text[i] != '\0' || v < min || v > max) {
		snprintf(why, cap,
			 "\"%s\" is not a whole number from %lu to %lu", text,
			 min, max);
		return -1;
	}
	*value = v;
	return 0;
}

int argparse_text(const char *text, char *why, size_t cap)
{
	if (text_valid(text, strlen(text)))
		return 1;
	snprintf(why, cap,
		 "not valid UTF-8 text, or it holds control characters (is "
		 "the terminal set to UTF-8?)");
	return 0;
}
