/*
 * Private to libtamwil-client: the text rules of its sentences and
 * fields. Everything handed back is valid UTF-8, and system error texts
 * read as the middle of a sentence ("connection refused").
 */
#ifndef TAMWIL_CLIENT_TEXT_H
#define TAMWIL_CLIENT_TEXT_H

#include <stddef.h>

/*
 * Copies src (NULL reads as "") into dst (capacity cap > 0) as valid
 * UTF-8: a byte that does not start a well-formed character becomes '?',
 * and the copy stops before a character that would not fit.
 */
void client_text_copy(char *dst, size_t cap, const char *src);

/* Lower-cases a leading capital unless it starts an acronym ("DNS"). */
void client_text_lower_first(char *s);

/* The sentence of an errno value, starting in lower case, in buf. */
const char *client_text_errno(int e, char *buf, size_t cap);

#endif
