/*
 * Fuzz target: the spreadsheet importer of `tamwil import`
 * (client/import.c). The input is a CSV file, fed in two pieces split in
 * its middle as a reader's buffers would cut it. Every problem must name
 * a line of the file (0 for the file as a whole) and say why; every row a
 * line of the file; every good row must fill an Identity and a
 * SubmitApplication that pack, its texts UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tamwil-import.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The physical lines of the file, as the importer counts them. */
static unsigned long fuzz_lines(const uint8_t *data, size_t size)
{
	unsigned long n = 0;

	if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		size -= 3;
	}
	/* LF, CRLF or a CR alone ends a line. */
	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n' ||
		    (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n')))
			n++;
	if (size > 0 && data[size - 1] != '\n' && data[size - 1] != '\r')
		n++;
	return n;
}

/* 1 if every string of the NULL-terminated list is UTF-8 text. */
static int fuzz_texts(const char *const *v)
{
	for (; *v != NULL; v++)
		if (!text_valid(*v, strlen(*v)))
			return 0;
	return 1;
}

/* A good row fills a submission that packs, as tamwil import sends it. */
static void fuzz_fill(const tamwil_import_row *r)
{
	static uint8_t buf[65536];
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__SubmitApplication body =
	    TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__Money requested = TAMWIL__V1__MONEY__INIT,
			  contribution = TAMWIL__V1__MONEY__INIT;
	size_t n;

	tamwil_import_fill(r, &id, &body, &requested, &contribution);
	requested.currency = "MAD";
	contribution.currency = "MAD";
	if (!fuzz_texts((const char *const[]){
		id.national_id, id.first_name, id.last_name, id.birth_date,
		id.phone, id.address, body.programme, body.region, body.sector,
		body.activity, body.financing_formula, NULL}))
		abort();
	if (body.amount_requested != &requested ||
	    body.own_contribution != &contribution || requested.minor <= 0 ||
	    contribution.minor < 0 ||
	    body.birth_year != (uint32_t)r->birth_year)
		abort();
	n = tamwil__v1__identity__get_packed_size(&id);
	if (n > sizeof(buf) || tamwil__v1__identity__pack(&id, buf) != n)
		abort();
	n = tamwil__v1__submit_application__get_packed_size(&body);
	if (n > sizeof(buf) ||
	    tamwil__v1__submit_application__pack(&body, buf) != n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long lines = fuzz_lines(data, size), last = 0;
	tamwil_import *im = tamwil_import_new();
	size_t half = size / 2;

	if (im == NULL)
		abort();
	if (tamwil_import_feed(im, data, half) != 0 ||
	    tamwil_import_feed(im, data + half, size - half) != 0 ||
	    tamwil_import_finish(im) != 0)
		abort(); /* far below 64 MiB: only memory could fail */
	for (size_t i = 0; i < tamwil_import_problems(im); i++) {
		const tamwil_import_problem *p =
		    tamwil_import_problem_at(im, i);

		/* An empty file's problem is on line 0 or 1. */
		if (p->line > (lines > 0 ? lines : 1) || p->line < last ||
		    p->why[0] == '\0' || !text_valid(p->why, strlen(p->why)))
			abort();
		if ((p->column == NULL) != (p->column_id < 0))
			abort();
		last = p->line;
	}
	for (size_t i = 0; i < tamwil_import_rows(im); i++) {
		const tamwil_import_row *r = tamwil_import_row_at(im, i);

		/* Line 1 is the header's, or before it. */
		if (r->line < 2 || r->line > lines)
			abort();
		if (r->ok)
			fuzz_fill(r);
	}
	tamwil_import_free(im);
	return 0;
}
