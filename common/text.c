/*
 * Text helpers. The UTF-8 check follows the well-formed byte sequences of
 * Unicode's table 3-7 directly, so no decoder state is carried around.
 */
#include "text.h"

#include <string.h>

/* Length of the well-formed sequence at s (at most avail bytes), or 0. */
static size_t text_sequence(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

int text_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n;

		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		n = text_sequence(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* 1 if s[0..avail) could still become a well-formed sequence. */
static int text_incomplete(const unsigned char *s, size_t avail)
{
	unsigned char seq[4] = {0, 0x80, 0x80, 0x80};

	if (avail == 0 || avail >= sizeof(seq))
		return 0;
	memcpy(seq, s, avail);
	/* Complete it with the smallest continuation the lead allows. */
	if (avail == 1 && s[0] == 0xe0)
		seq[1] = 0xa0;
	else if (avail == 1 && s[0] == 0xf0)
		seq[1] = 0x90;
	return text_sequence(seq, sizeof(seq)) > avail;
}

void text_repair(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t len = strlen(s), i = 0;

	while (i < len) {
		size_t n = p[i] < 0x20 || p[i] == 0x7f
			       ? 0
			       : text_sequence(p + i, len - i);

		if (n > 0) {
			i += n;
			continue;
		}
		if (text_incomplete(p + i, len - i)) {
			p[i] = '\0';
			return;
		}
		p[i++] = '?';
	}
}

int text_valid_name(const char *s, size_t max_bytes)
{
	size_t len = strlen(s);

	return len > 0 && len <= max_bytes && s[0] != ' ' &&
	       s[len - 1] != ' ' && text_valid(s, len);
}

/* Days in month m (1-12) of year y, Gregorian. */
static int text_month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

int text_valid_date(const char *s, int *year)
{
	int y = 0, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	}
	for (int i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 ||
	    d > text_month_days(y, m))
		return 0;
	if (year != NULL)
		*year = y;
	return 1;
}
