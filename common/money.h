/*
 * Money: an int64 count of minor units (centimes) with an ISO 4217 code,
 * never a floating-point number. Parses what agency staff type
 * ("250000", "250000.00", "250 000,00", "1 121 215,07") and formats the
 * French way ("1 121 215,07 MAD"). Every currency Tamwil accepts is kept
 * with two decimals, whatever ISO 4217 says of its minor unit.
 */
#ifndef TAMWIL_MONEY_H
#define TAMWIL_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define MONEY_CURRENCY_LEN 3
/* Longest formatted amount: "-92 233 720 368 547 758,08 XXX" (30) and NUL. */
#define MONEY_TEXT_MAX 48

/* Why a parse failed; money_strerror() gives the sentence. */
enum money_error {
	MONEY_OK = 0,
	MONEY_ERR_EMPTY = -1,
	MONEY_ERR_SYNTAX = -2,	 /* not a number of the accepted shapes */
	MONEY_ERR_DECIMALS = -3, /* more than two decimals */
	MONEY_ERR_RANGE = -4,	 /* beyond int64 minor units */
	MONEY_ERR_NEGATIVE = -5	 /* a minus sign: amounts are positive */
};

const char *money_strerror(int err);

/*
 * 1 if code is a currency Tamwil accepts (MAD, DZD, TND, EUR, USD, XOF), 0
 * otherwise (NULL included). Tamwil keeps two decimals for all of them:
 * XOF, which has none in ISO 4217, is stored in hundredths too, so one
 * parser and one formatter serve every programme.
 */
int money_currency_valid(const char *code);

/*
 * Parses an amount in major units with up to two decimals into minor
 * units (minor must not be NULL). The decimal mark is the last '.' or ','
 * when it occurs only once and one or two digits end the text. The integer
 * part is either plain digits or a first group of one to three digits
 * followed by groups of exactly three, all separated by one kind of
 * separator: spaces (' ', no-break U+00A0 and U+202F in UTF-8, which count
 * as one kind), '.' or ',' (but not the decimal mark). So "250000,5",
 * "250 000,00", "1.121.215,07", "1,121,215.07" and "1 121 215" are read,
 * while "12 34", "1,2,3" and "1.234.5" are MONEY_ERR_SYNTAX. A single '.'
 * or ',' followed by exactly three digits after one to three digits
 * ("1.234") reads both as 1234 and as 1,234: it is refused as
 * MONEY_ERR_SYNTAX, whose sentence says to write 1234 or 1234,00. Other
 * amounts with three or more decimals are MONEY_ERR_DECIMALS; any sign is
 * refused ('-' MONEY_ERR_NEGATIVE, '+' MONEY_ERR_SYNTAX). Leading and
 * trailing blanks (the spaces above and tabs) are ignored; "" or blanks
 * alone are MONEY_ERR_EMPTY (so is NULL). Amounts above INT64_MAX minor
 * units are MONEY_ERR_RANGE. Returns 0 with *minor set, or a negative
 * money_error with *minor untouched.
 */
int money_parse(const char *text, int64_t *minor);

/*
 * Formats minor units as "1 121 215,07" (groups of three separated by an
 * ASCII space, ',' before the centimes, '-' in front of a negative amount;
 * every int64 value, INT64_MIN too) followed by " MAD" when currency is
 * not NULL. MONEY_TEXT_MAX bytes of buf always suffice. Returns the length
 * written (without the NUL), or -1, leaving "" in buf when cap allows it,
 * if buf is NULL, the text does not fit in cap bytes, or currency is not
 * three capital letters.
 */
int money_format(int64_t minor, const char *currency, char *buf, size_t cap);

/*
 * *sum = a + b and 0, or -1 with *sum untouched when it would overflow
 * int64 (the check every running total uses).
 */
int money_add(int64_t a, int64_t b, int64_t *sum);

#endif
