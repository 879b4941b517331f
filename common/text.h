/*
 * Text helpers shared by both sides: everything Tamwil stores or shows is
 * UTF-8, and names come in French and Arabic.
 */
#ifndef TAMWIL_TEXT_H
#define TAMWIL_TEXT_H

#include <stddef.h>

/*
 * 1 if s[0..len) is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) with no control characters below U+0020 or
 * U+007F; 0 otherwise.
 */
int text_valid(const char *s, size_t len);

/*
 * Makes the NUL-terminated s valid text by text_valid(), in place: every
 * byte that is a control character or not part of a well-formed sequence
 * becomes '?', except that an incomplete sequence at the very end (what
 * cutting text to a buffer's size leaves) is removed. For sentences that
 * quote what a peer sent, which must still reach it as UTF-8.
 */
void text_repair(char *s);

/*
 * 1 if s is a NUL-terminated name fit to store: valid text by text_valid(),
 * 1 to max_bytes bytes long, not starting or ending with a space.
 */
int text_valid_name(const char *s, size_t max_bytes);

/*
 * 1 if s is a calendar date "YYYY-MM-DD" between 1900-01-01 and
 * 2199-12-31, with *year set when year is not NULL; 0 otherwise.
 */
int text_valid_date(const char *s, int *year);

#endif
