/*
 * Submissions made the way a regional office's client makes them (see
 * harness_office.h).
 */
#include "harness_office.h"

#include <stdlib.h>

int ho_submission_make(ho_submission *s, tamwil_client *c,
		       const Tamwil__V1__Identity *id, const char *programme,
		       const char *region, int64_t amount_minor,
		       tamwil_error *err)
{
	size_t box_len = 0;
	const char *d = id->birth_date;
	int st;

	tamwil__v1__operation__init(&s->op);
	tamwil__v1__submit_application__init(&s->sub);
	tamwil__v1__money__init(&s->amount);
	tamwil__v1__money__init(&s->own);
	s->box = NULL;
	st = tamwil_client_seal_identity(c, id, &s->box, &box_len, err);
	if (st != TAMWIL_OK)
		return st;
	s->amount.minor = amount_minor;
	s->amount.currency = "MAD";
	s->own.currency = "MAD";
	s->sub.programme = (char *)programme;
	s->sub.region = (char *)region;
	s->sub.identity_box.data = s->box;
	s->sub.identity_box.len = box_len;
	s->sub.sex = TAMWIL__V1__SEX__SEX_FEMALE;
	/* A date the test wrote itself: four digits first. */
	s->sub.birth_year =
	    (uint32_t)((d[0] - '0') * 1000 + (d[1] - '0') * 100 +
		       (d[2] - '0') * 10 + (d[3] - '0'));
	s->sub.category = TAMWIL__V1__CATEGORY__CATEGORY_YOUTH;
	s->sub.sector = "services";
	s->sub.activity = "Atelier";
	s->sub.amount_requested = &s->amount;
	s->sub.own_contribution = &s->own;
	s->op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	s->op.submit_application = &s->sub;
	return TAMWIL_OK;
}

void ho_submission_free(ho_submission *s)
{
	free(s->box);
	s->box = NULL;
}
