/*
 * Text rules of libtamwil-client; see client_text.h.
 */
#include "client_text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * Length of the well-formed UTF-8 sequence starting at s (1 to 4), or 0
 * when it is not one (bad lead, bad or missing continuation, overlong
 * form, surrogate, above U+10FFFF). Stops at a NUL.
 */
static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void client_text_copy(char *dst, size_t cap, const char *src)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t out = 0;

	while (*s != '\0') {
		size_t n = utf8_len(s);
		if (out + (n ? n : 1) >= cap)
			break;
		if (n == 0) {
			dst[out++] = '?';
			s++;
			continue;
		}
		memcpy(dst + out, s, n);
		out += n;
		s += n;
	}
	dst[out] = '\0';
}

void client_text_lower_first(char *s)
{
	if (isupper((unsigned char)s[0]) && islower((unsigned char)s[1]))
		s[0] = (char)tolower((unsigned char)s[0]);
}

const char *client_text_errno(int e, char *buf, size_t cap)
{
	if (strerror_r(e, buf, cap) != 0)
		snprintf(buf, cap, "error %d", e);
	client_text_lower_first(buf);
	return buf;
}
