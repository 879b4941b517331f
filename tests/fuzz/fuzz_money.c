/*
 * Fuzz target: amounts as staff type them. The input is the text
 * (without NUL). money_parse() must not crash; an amount it accepts,
 * formatted by money_format() and parsed again, must come back equal.
 * The first eight bytes are also read as an int64 of minor units: its
 * formatted text must parse back to it (to its refusal as negative when
 * it is below zero).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Formats minor (with and without a currency) and parses it back. */
static void fuzz_round_trip(int64_t minor)
{
	char text[MONEY_TEXT_MAX], with[MONEY_TEXT_MAX];
	int64_t back = 0;
	int len;

	len = money_format(minor, NULL, text, sizeof(text));
	if (len <= 0 || (size_t)len != strlen(text))
		abort();
	if (money_format(minor, "MAD", with, sizeof(with)) != len + 4 ||
	    strncmp(with, text, (size_t)len) != 0 ||
	    strcmp(with + len, " MAD") != 0)
		abort();
	if (minor < 0) {
		if (money_parse(text, &back) != MONEY_ERR_NEGATIVE)
			abort();
		return;
	}
	if (money_parse(text, &back) != MONEY_OK || back != minor)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	int64_t minor = -1, before;
	uint64_t raw = 0;
	int rc;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	before = minor;
	rc = money_parse(text, &minor);
	if (rc == MONEY_OK) {
		if (minor < 0)
			abort();
		fuzz_round_trip(minor);
	} else if (rc > 0 || minor != before || money_strerror(rc) == NULL) {
		abort(); /* a refusal names itself and leaves *minor alone */
	}
	free(text);
	for (size_t i = 0; i < size && i < sizeof(raw); i++)
		raw = raw << 8 | data[i];
	fuzz_round_trip((int64_t)raw);
	return 0;
}
