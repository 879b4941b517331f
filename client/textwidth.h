/*
 * Display widths of UTF-8 text, for tables a terminal shows: how many
 * columns a text takes (a wide CJK character 2, a combining mark such as
 * an accent or an Arabic vowel sign 0), measured with mbrtowc() and
 * wcwidth() under the caller's LC_CTYPE, which must be a UTF-8 locale
 * (the program calls setlocale(LC_CTYPE, "C.UTF-8") first). Under another
 * locale every non-ASCII byte reads as '?'. Part of libtamwil-client so
 * that it can be tested; it never prints.
 */
#ifndef TAMWIL_TEXTWIDTH_H
#define TAMWIL_TEXTWIDTH_H

#include <stddef.h>

/* The mark put where text was cut: U+2026 HORIZONTAL ELLIPSIS. */
#define TEXTWIDTH_ELLIPSIS "\xe2\x80\xa6"

/*
 * A copy of s (NULL reads as "") fit to show on a terminal: each byte
 * that does not start a well-formed character, each control character
 * (C0, DEL, C1) and each bidirectional embedding, override or isolate
 * (U+202A..U+202E, U+2066..U+2069, which could reorder the rest of a
 * line) becomes '?'. Returns a string to free(), or NULL when memory runs
 * out.
 */
char *textwidth_clean(const char *s);

/*
 * The columns s takes. s should come from textwidth_clean(); a byte that
 * does not decode counts 1, and so does a character wcwidth() calls
 * unprintable.
 */
size_t textwidth(const char *s);

/*
 * Copies into out (capacity cap > 0) as much of s as fits in width
 * columns: s itself when it fits, else its longest start of at most
 * width - 1 columns followed by TEXTWIDTH_ELLIPSIS (a combining mark stays
 * with the character it follows). The copy also stops before a character
 * that would not fit in cap bytes. Returns the columns of what was
 * written.
 */
size_t textwidth_fit(const char *s, size_t width, char *out, size_t cap);

#endif
