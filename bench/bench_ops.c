/*
 * The benchmark's operations; see bench_ops.h. Only fills messages:
 * signing and sending belong to the callers.
 */
#include "bench_ops.h"

#include <stdio.h>
#include <string.h>

/* Clears b and points its operation at the body of kind `body_case`. */
static void bench_op_init(bench_opbuf *b, Tamwil__V1__Operation__BodyCase kind)
{
	memset(b, 0, sizeof(*b));
	tamwil__v1__operation__init(&b->op);
	tamwil__v1__money__init(&b->money[0]);
	tamwil__v1__money__init(&b->money[1]);
	b->op.body_case = kind;
}

/* Sets b's amount i to minor units of the benchmark's currency. */
static Tamwil__V1__Money *bench_op_money(bench_opbuf *b, int i, int64_t minor)
{
	b->money[i].minor = minor;
	b->money[i].currency = BENCH_CURRENCY;
	return &b->money[i];
}

void bench_op_region(bench_opbuf *b, const char *code)
{
	bench_op_init(b, TAMWIL__V1__OPERATION__BODY_CREATE_REGION);
	tamwil__v1__create_region__init(&b->body.region);
	snprintf(b->name, sizeof(b->name), "Bench region %s", code);
	b->body.region.code = (char *)code;
	b->body.region.name = b->name;
	b->op.create_region = &b->body.region;
}

void bench_op_enrol(bench_opbuf *b, const keyfile_secret *key, const char *name,
		    Tamwil__V1__Role role, const char *region)
{
	Tamwil__V1__EnrolPrincipal *m = &b->body.enrol;

	bench_op_init(b, TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL);
	tamwil__v1__enrol_principal__init(m);
	m->name = (char *)name;
	m->role = role;
	m->region = (char *)region;
	m->noise_key.data = (uint8_t *)key->noise_pk;
	m->noise_key.len = sizeof(key->noise_pk);
	m->sign_key.data = (uint8_t *)key->sign_pk;
	m->sign_key.len = sizeof(key->sign_pk);
	b->op.enrol_principal = m;
}

void bench_op_programme(bench_opbuf *b, const char *code)
{
	Tamwil__V1__CreateProgramme *m = &b->body.programme;

	bench_op_init(b, TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME);
	tamwil__v1__create_programme__init(m);
	m->code = (char *)code;
	m->name = "Programme de mesure";
	m->envelope = bench_op_money(b, 0, BENCH_ENVELOPE);
	m->ceiling = bench_op_money(b, 1, BENCH_CEILING);
	b->op.create_programme = m;
}

void bench_op_submit(bench_opbuf *b, const char *programme, const char *region,
		     uint8_t *box, size_t len)
{
	Tamwil__V1__SubmitApplication *m = &b->body.submit;

	bench_op_init(b, TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION);
	tamwil__v1__submit_application__init(m);
	m->programme = (char *)programme;
	m->region = (char *)region;
	m->identity_box.data = box;
	m->identity_box.len = len;
	m->sex = TAMWIL__V1__SEX__SEX_FEMALE;
	m->birth_year = 1990;
	m->category = TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN;
	m->sector = "crafts";
	m->activity = "Atelier de tissage de tapis";
	m->amount_requested = bench_op_money(b, 0, BENCH_REQUESTED);
	m->own_contribution = bench_op_money(b, 1, 0);
	m->financing_formula = "";
	b->op.submit_application = m;
}

void bench_op_decision(bench_opbuf *b, const char *ref, int reject)
{
	if (reject) {
		bench_op_init(b,
			      TAMWIL__V1__OPERATION__BODY_REJECT_APPLICATION);
		tamwil__v1__reject_application__init(&b->body.reject);
		b->body.reject.reference = (char *)ref;
		b->body.reject.reason = "Projet non viable en l'état";
		b->op.reject_application = &b->body.reject;
	} else {
		bench_op_init(b,
			      TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION);
		tamwil__v1__approve_application__init(&b->body.approve);
		b->body.approve.reference = (char *)ref;
		b->op.approve_application = &b->body.approve;
	}
}

void bench_op_disbursement(bench_opbuf *b, const char *ref)
{
	Tamwil__V1__RecordDisbursement *m = &b->body.disburse;

	bench_op_init(b, TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT);
	tamwil__v1__record_disbursement__init(m);
	m->reference = (char *)ref;
	m->amount = bench_op_money(b, 0, BENCH_REQUESTED);
	m->method = TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_CASH;
	m->payment_reference = "RECU-1";
	m->date = "";
	b->op.record_disbursement = m;
}
