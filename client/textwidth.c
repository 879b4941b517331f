/*
 * Display widths of UTF-8 text; see textwidth.h.
 */
/* wcwidth() needs _XOPEN_SOURCE, which CMakeLists.txt sets for this file. */
#include "textwidth.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/*
 * Decodes the character at s (n bytes left, n > 0): its length, or 0 when
 * the bytes do not make one, with *wc set.
 */
static size_t decode(const char *s, size_t n, wchar_t *wc)
{
	mbstate_t st;
	size_t len;

	memset(&st, 0, sizeof(st));
	len = mbrtowc(wc, s, n, &st);
	if (len == (size_t)-1 || len == (size_t)-2)
		return 0;
	return len == 0 ? 1 : len;
}

/* 1 for characters a terminal must not be handed as they are. */
static int unsafe(wchar_t wc)
{
	return wc < 0x20 || (wc >= 0x7f && wc < 0xa0) ||
	       (wc >= 0x202a && wc <= 0x202e) || (wc >= 0x2066 && wc <= 0x2069);
}

char *textwidth_clean(const char *s)
{
	size_t n, i = 0, k = 0;
	char *out;

	if (s == NULL)
		s = "";
	n = strlen(s);
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	while (i < n) {
		wchar_t wc = 0;
		size_t len = decode(s + i, n - i, &wc);

		if (len == 0 || unsafe(wc)) {
			out[k++] = '?';
			i += len == 0 ? 1 : len;
			continue;
		}
		memcpy(out + k, s + i, len);
		k += len;
		i += len;
	}
	out[k] = '\0';
	return out;
}

/* Columns of the character at s; *len gets its length in bytes. */
static size_t char_width(const char *s, size_t n, size_t *len)
{
	wchar_t wc = 0;
	int w;

	*len = decode(s, n, &wc);
	if (*len == 0) {
		*len = 1;
		return 1;
	}
	w = wcwidth(wc);
	return w < 0 ? 1 : (size_t)w;
}

size_t textwidth(const char *s)
{
	size_t n = strlen(s), i = 0, width = 0;

	while (i < n) {
		size_t len;

		width += char_width(s + i, n - i, &len);
		i += len;
	}
	return width;
}

/*
 * Copies the start of s (n bytes) that fits in limit columns and cap - 1
 * bytes into out; returns its columns and the bytes copied in *used.
 */
static size_t copy_start(const char *s, size_t n, size_t limit, char *out,
			 size_t cap, size_t *used)
{
	size_t i = 0, width = 0;

	while (i < n) {
		size_t len, w = char_width(s + i, n - i, &len);

		if (width + w > limit || i + len >= cap)
			break;
		memcpy(out + i, s + i, len);
		width += w;
		i += len;
	}
	out[i] = '\0';
	*used = i;
	return width;
}

size_t textwidth_fit(const char *s, size_t width, char *out, size_t cap)
{
	size_t n = strlen(s), used = 0, w;

	if (cap == 0)
		return 0;
	w = copy_start(s, n, width, out, cap, &used);
	if (used == n || width == 0)
		return w;
	/* Cut: keep room for the ellipsis, one column and three bytes. */
	if (cap < sizeof(TEXTWIDTH_ELLIPSIS))
		return copy_start(s, n, 0, out, cap, &used);
	w = copy_start(s, n, width - 1, out,
		       cap - (sizeof(TEXTWIDTH_ELLIPSIS) - 1), &used);
	memcpy(out + used, TEXTWIDTH_ELLIPSIS, sizeof(TEXTWIDTH_ELLIPSIS));
	return w + 1;
}
