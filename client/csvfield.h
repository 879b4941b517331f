/*
 * CSV output as RFC 4180 writes it: fields separated by ',', records
 * ended by CRLF, and a field holding ',', '"', CR or LF enclosed in double
 * quotes with each '"' inside doubled (libcsv's csv_write() does the
 * quoting). Other fields are written as they are. Part of
 * libtamwil-client so that it can be tested.
 */
#ifndef TAMWIL_CSVFIELD_H
#define TAMWIL_CSVFIELD_H

#include <stddef.h>
#include <stdio.h>

/* 1 if RFC 4180 wants s (NULL reads as "") enclosed in quotes. */
int csvfield_needs_quotes(const char *s);

/*
 * Writes s (NULL reads as "") as one field into buf (capacity cap; buf may
 * be NULL when cap is 0), NUL-terminated when cap > 0, like snprintf().
 * Returns the length the field needs, without the NUL: the field was
 * written whole if that is less than cap.
 */
size_t csvfield_format(const char *s, char *buf, size_t cap);

/*
 * Writes one record of n fields (NULL fields read as "") and its CRLF to
 * out. Returns 0, or -1 when writing failed.
 */
int csvfield_row(FILE *out, const char *const *fields, size_t n);

#endif
