/*
 * Submissions made the way a regional office's client makes them: the
 * identity sealed to head office's data key through libtamwil-client,
 * the clear fields a report groups by filled with plain defaults. For the
 * end-to-end tests that drive the client library themselves.
 */
#ifndef TAMWIL_E2E_HARNESS_OFFICE_H
#define TAMWIL_E2E_HARNESS_OFFICE_H

#include <stddef.h>
#include <stdint.h>

#include "tamwil-client.h"
#include "tamwil.pb-c.h"

/* A submission with the storage its operation points into. */
typedef struct ho_submission {
	Tamwil__V1__Operation op;
	Tamwil__V1__SubmitApplication sub;
	Tamwil__V1__Money amount, own;
	uint8_t *box; /* the sealed identity, owned */
} ho_submission;

/*
 * Makes in s a submission to programme in region for the beneficiary id,
 * whose identity is sealed on c: amount_minor MAD requested, nothing
 * contributed, a woman of the youth category in services, the birth year
 * that of id->birth_date ("YYYY-MM-DD"). Callers may change s->sub before
 * sending s->op. TAMWIL_OK, or the sealing's status with err; free s with
 * ho_submission_free() either way.
 */
int ho_submission_make(ho_submission *s, tamwil_client *c,
		       const Tamwil__V1__Identity *id, const char *programme,
		       const char *region, int64_t amount_minor,
		       tamwil_error *err);

/* Frees what ho_submission_make() allocated. */
void ho_submission_free(ho_submission *s);

#endif
