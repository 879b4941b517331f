/*
 * RFC 4180 records, quoted by libcsv; see csvfield.h.
 */
#include "csvfield.h"

#include <string.h>

#include <csv.h>

int csvfield_needs_quotes(const char *s)
{
	return s != NULL && strpbrk(s, ",\"\r\n") != NULL;
}

size_t csvfield_format(const char *s, char *buf, size_t cap)
{
	size_t len, need;

	if (s == NULL)
		s = "";
	len = strlen(s);
	if (!csvfield_needs_quotes(s)) {
		if (cap > 0) {
			size_t n = len < cap ? len : cap - 1;

			memcpy(buf, s, n);
			buf[n] = '\0';
		}
		return len;
	}
	need = csv_write(NULL, 0, s, len);
	if (cap > 0) {
		size_t n = csv_write(buf, cap - 1, s, len);

		buf[n < cap ? n : cap - 1] = '\0';
	}
	return need;
}

int csvfield_row(FILE *out, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = fields[i] != NULL ? fields[i] : "";

		if (i > 0 && fputc(',', out) == EOF)
			return -1;
		if (csvfield_needs_quotes(s)) {
			if (csv_fwrite(out, s, strlen(s)) != 0)
				return -1;
		} else if (fputs(s, out) == EOF) {
			return -1;
		}
	}
	return fputs("\r\n", out) == EOF ? -1 : 0;
}
