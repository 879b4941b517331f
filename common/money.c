/*
 * Money in minor units, with integers only. The parser trims blanks, finds
 * the decimal mark from the end of the text (the last '.' or ',' that
 * occurs once, followed by digits), checks the grouping of the integer
 * part, then adds it all up with overflow-checked arithmetic. The
 * formatter works on the unsigned magnitude, so INT64_MIN needs no special
 * case.
 */
#include "money.h"

#include <string.h>

/* Kinds of separator; the three Unicode spaces count as one kind. */
enum money_sep { SEP_NONE = 0, SEP_SPACE, SEP_DOT, SEP_COMMA };

/* The integer part of an amount, as money_integer() read it. */
struct money_int {
	int64_t value;
	int lone_group; /* one to three digits, ungrouped, not led by '0' */
};

const char *money_strerror(int err)
{
	switch (err) {
	case MONEY_OK:
		return "valid amount";
	case MONEY_ERR_EMPTY:
		return "no amount given";
	case MONEY_ERR_SYNTAX:
		return "not an amount: write digits with at most two "
		       "decimals after ',' or '.', and thousands in groups of "
		       "three (a single '.' or ',' before three digits is "
		       "ambiguous: write 1234 or 1234,00)";
	case MONEY_ERR_DECIMALS:
		return "an amount has at most two decimals (centimes)";
	case MONEY_ERR_RANGE:
		return "amount too large";
	case MONEY_ERR_NEGATIVE:
		return "amounts are positive: no sign";
	default:
		return "unknown money error";
	}
}

int money_currency_valid(const char *code)
{
	static const char *const accepted[] = {"MAD", "DZD", "TND",
					       "EUR", "USD", "XOF"};

	if (code == NULL)
		return 0;
	for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
		if (strcmp(code, accepted[i]) == 0)
			return 1;
	}
	return 0;
}

/* 1 if c is an ASCII digit. */
static int money_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Byte length of the separator starting at s (s < end), 0 if there is
 * none; *kind says which.
 */
static size_t money_sep_at(const unsigned char *s, const unsigned char *end,
			   int *kind)
{
	size_t avail = (size_t)(end - s);

	*kind = SEP_NONE;
	if (avail == 0)
		return 0;
	if (s[0] == ' ' || s[0] == '.' || s[0] == ',') {
		*kind = s[0] == ' '   ? SEP_SPACE
			: s[0] == '.' ? SEP_DOT
				      : SEP_COMMA;
		return 1;
	}
	if (avail >= 2 && s[0] == 0xc2 && s[1] == 0xa0) { /* U+00A0 */
		*kind = SEP_SPACE;
		return 2;
	}
	if (avail >= 3 && s[0] == 0xe2 && s[1] == 0x80 && s[2] == 0xaf) {
		*kind = SEP_SPACE; /* U+202F */
		return 3;
	}
	return 0;
}

/* Byte length of the blank (a space kind or a tab) at s, 0 if none. */
static size_t money_blank_at(const unsigned char *s, const unsigned char *end)
{
	int kind;
	size_t n;

	if (s < end && *s == '\t')
		return 1;
	n = money_sep_at(s, end, &kind);
	return kind == SEP_SPACE ? n : 0;
}

/* Byte length of the blank ending just before end (start < end), or 0. */
static size_t money_blank_before(const unsigned char *start,
				 const unsigned char *end)
{
	size_t avail = (size_t)(end - start);

	if (end[-1] == ' ' || end[-1] == '\t')
		return 1;
	if (avail >= 2 && end[-2] == 0xc2 && end[-1] == 0xa0)
		return 2;
	if (avail >= 3 && end[-3] == 0xe2 && end[-2] == 0x80 && end[-1] == 0xaf)
		return 3;
	return 0;
}

/* *v = *v * 10 + d; returns 1 on overflow (then *v is meaningless). */
static int money_push_digit(int64_t *v, unsigned char d)
{
	return __builtin_mul_overflow(*v, 10, v) ||
	       __builtin_add_overflow(*v, (int64_t)(d - '0'), v);
}

/*
 * Reads the integer part [p, end): digits, either all together or as a
 * first group of one to three digits (not starting with '0') and groups of
 * exactly three, all separated by the same kind of separator. Returns
 * MONEY_OK, MONEY_ERR_SYNTAX, or MONEY_ERR_RANGE once the text is known to
 * be well-formed.
 */
static int money_integer(const unsigned char *p, const unsigned char *end,
			 struct money_int *out)
{
	const unsigned char *first = p;
	size_t first_len = 0, groups = 0;
	int overflow = 0, group_kind = SEP_NONE;

	for (;;) {
		const unsigned char *run = p;
		int kind;
		size_t n;

		while (p < end && money_digit(*p))
			overflow |= money_push_digit(&out->value, *p++);
		if (p == run || (groups > 0 && p - run != 3))
			return MONEY_ERR_SYNTAX;
		if (groups++ == 0)
			first_len = (size_t)(p - run);
		if (p == end)
			break;
		n = money_sep_at(p, end, &kind);
		if (n == 0 || (group_kind != SEP_NONE && kind != group_kind))
			return MONEY_ERR_SYNTAX;
		group_kind = kind;
		p += n;
	}
	if (groups > 1 && (first_len > 3 || *first == '0'))
		return MONEY_ERR_SYNTAX;
	out->lone_group = groups == 1 && first_len <= 3 && *first != '0';
	return overflow ? MONEY_ERR_RANGE : MONEY_OK;
}

/*
 * Finds the decimal part of the trimmed text [p, end): the digits after
 * the last separator when that is a '.' or ',' occurring nowhere else.
 * Sets *int_end to the end of the integer part and *frac and *frac_len to the
 * decimals (length 0 when there are none). MONEY_OK or MONEY_ERR_SYNTAX
 * (the text does not end in a digit).
 */
static int money_split(const unsigned char *p, const unsigned char *end,
		       const unsigned char **int_end,
		       const unsigned char **frac, size_t *frac_len)
{
	const unsigned char *q = end;
	const unsigned char *mark;

	*int_end = end;
	*frac = end;
	*frac_len = 0;
	while (q > p && money_digit(q[-1]))
		q--;
	if (q == end)
		return MONEY_ERR_SYNTAX;
	if (q == p || (q[-1] != '.' && q[-1] != ','))
		return MONEY_OK;
	mark = q - 1;
	if (memchr(p, *mark, (size_t)(mark - p)) != NULL)
		return MONEY_OK; /* the same character groups thousands */
	*int_end = mark;
	*frac = q;
	*frac_len = (size_t)(end - q);
	return MONEY_OK;
}

/*
 * Centimes from the decimals (frac_len of them, all digits). Three digits
 * after a lone thousands-like group ("1.234") could be either reading, so
 * they are a syntax error; otherwise more than two is MONEY_ERR_DECIMALS.
 */
static int money_cents(const unsigned char *frac, size_t frac_len,
		       const struct money_int *ip, int64_t *cents)
{
	*cents = 0;
	if (frac_len == 3 && ip->lone_group)
		return MONEY_ERR_SYNTAX;
	if (frac_len > 2)
		return MONEY_ERR_DECIMALS;
	if (frac_len >= 1)
		*cents = (int64_t)(frac[0] - '0') * 10;
	if (frac_len == 2)
		*cents += frac[1] - '0';
	return MONEY_OK;
}

int money_parse(const char *text, int64_t *minor)
{
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *end, *int_end, *frac;
	struct money_int ip = {0, 0};
	size_t frac_len, n;
	int64_t cents, total;
	int rc, int_rc;

	if (text == NULL)
		return MONEY_ERR_EMPTY;
	end = p + strlen(text);
	while ((n = money_blank_at(p, end)) > 0)
		p += n;
	while (end > p && (n = money_blank_before(p, end)) > 0)
		end -= n;
	if (p == end)
		return MONEY_ERR_EMPTY;
	if (*p == '-')
		return MONEY_ERR_NEGATIVE;
	rc = money_split(p, end, &int_end, &frac, &frac_len);
	if (rc != MONEY_OK)
		return rc;
	int_rc = money_integer(p, int_end, &ip);
	if (int_rc == MONEY_ERR_SYNTAX)
		return int_rc;
	rc = money_cents(frac, frac_len, &ip, &cents);
	if (rc != MONEY_OK)
		return rc;
	if (int_rc != MONEY_OK ||
	    __builtin_mul_overflow(ip.value, 100, &total) ||
	    __builtin_add_overflow(total, cents, &total))
		return MONEY_ERR_RANGE;
	*minor = total;
	return MONEY_OK;
}

/* 1 if code is three ASCII capital letters and nothing more. */
static int money_code_shape(const char *code)
{
	for (int i = 0; i < MONEY_CURRENCY_LEN; i++) {
		if (code[i] < 'A' || code[i] > 'Z')
			return 0;
	}
	return code[MONEY_CURRENCY_LEN] == '\0';
}

/*
 * Writes the digits of major into out, groups of three separated by a
 * space. Returns the number of bytes written (at most 26, no NUL).
 */
static size_t money_group_digits(uint64_t major, char *out)
{
	char rev[20];
	size_t nd = 0, o = 0;

	do {
		rev[nd++] = (char)('0' + major % 10);
		major /= 10;
	} while (major != 0);
	while (nd-- > 0) {
		out[o++] = rev[nd];
		if (nd > 0 && nd % 3 == 0)
			out[o++] = ' ';
	}
	return o;
}

int money_format(int64_t minor, const char *currency, char *buf, size_t cap)
{
	/* Converting to uint64_t is defined for every value, INT64_MIN too. */
	uint64_t mag = minor < 0 ? 0 - (uint64_t)minor : (uint64_t)minor;
	char tmp[MONEY_TEXT_MAX];
	size_t o = 0;

	if (buf != NULL && cap > 0)
		buf[0] = '\0';
	if (buf == NULL || (currency != NULL && !money_code_shape(currency)))
		return -1;
	if (minor < 0)
		tmp[o++] = '-';
	o += money_group_digits(mag / 100, tmp + o);
	tmp[o++] = ',';
	tmp[o++] = (char)('0' + mag % 100 / 10);
	tmp[o++] = (char)('0' + mag % 10);
	if (currency != NULL) {
		tmp[o++] = ' ';
		memcpy(tmp + o, currency, MONEY_CURRENCY_LEN);
		o += MONEY_CURRENCY_LEN;
	}
	if (o >= cap)
		return -1;
	memcpy(buf, tmp, o);
	buf[o] = '\0';
	return (int)o;
}

int money_add(int64_t a, int64_t b, int64_t *sum)
{
	int64_t s;

	if (__builtin_add_overflow(a, b, &s))
		return -1;
	*sum = s;
	return 0;
}
