/*
 * JSON output of the protocol's answers; see cli_json.h.
 */
#include "cli_json.h"

#include <stdio.h>
#include <stdlib.h>

#include "argparse.h"
#include "cli_out.h"
#include "cli_util.h"
#include "textwidth.h"

void cli_json_begin(struct cli_json *b)
{
	b->o = json_object();
	b->bad = b->o == NULL;
}

json_t *cli_json_string(const char *s)
{
	json_t *v = json_string(s != NULL ? s : "");
	char *clean;

	if (v != NULL)
		return v;
	clean = textwidth_clean(s);
	if (clean == NULL)
		return NULL;
	v = json_string(clean);
	free(clean);
	return v;
}

void cli_json_value(struct cli_json *b, const char *key, json_t *v)
{
	if (v == NULL) {
		b->bad = 1;
		return;
	}
	if (b->bad) {
		json_decref(v);
		return;
	}
	/* json_object_set_new() releases v when it fails. */
	if (json_object_set_new(b->o, key, v) != 0)
		b->bad = 1;
}

void cli_json_text(struct cli_json *b, const char *key, const char *v)
{
	cli_json_value(b, key, cli_json_string(v));
}

void cli_json_text_or_null(struct cli_json *b, const char *key, const char *v)
{
	if (v == NULL || v[0] == '\0')
		cli_json_value(b, key, json_null());
	else
		cli_json_text(b, key, v);
}

void cli_json_int(struct cli_json *b, const char *key, int64_t v)
{
	cli_json_value(b, key, json_integer((json_int_t)v));
}

void cli_json_bool(struct cli_json *b, const char *key, int v)
{
	cli_json_value(b, key, json_boolean(v));
}

json_t *cli_json_end(struct cli_json *b)
{
	if (!b->bad)
		return b->o;
	json_decref(b->o);
	b->o = NULL;
	return NULL;
}

int cli_json_print(json_t *v)
{
	int rc;

	if (v == NULL)
		return cli_fail("cannot format the answer as JSON");
	rc = json_dumpf(v, stdout, JSON_INDENT(2));
	json_decref(v);
	fputc('\n', stdout);
	return rc == 0 ? CLI_EXIT_OK : cli_fail("cannot write the answer");
}

int64_t cli_money_minor(const Tamwil__V1__Money *m)
{
	return m != NULL ? m->minor : 0;
}

const char *cli_money_currency(const Tamwil__V1__Money *m)
{
	return m != NULL && m->currency != NULL ? m->currency : "";
}

/* Sets key to an ISO 8601 time, or null for 0. */
static void json_time(struct cli_json *b, const char *key, int64_t t)
{
	char text[CLI_TIME_MAX];

	if (t == 0)
		cli_json_value(b, key, json_null());
	else
		cli_json_text(b, key, cli_time_iso(t, text, sizeof(text)));
}

/* Sets key to the command-line name of an enum value. */
static void json_enum(struct cli_json *b, const char *key,
		      const ProtobufCEnumDescriptor *d, const char *prefix,
		      int value)
{
	char name[64];

	cli_json_text(b, key,
		      argparse_enum_name(d, prefix, value, name, sizeof(name)));
}

json_t *cli_json_application(const Tamwil__V1__Application *a)
{
	struct cli_json b;

	cli_json_begin(&b);
	cli_json_text(&b, "reference", a->reference);
	cli_json_text(&b, "programme", a->programme);
	cli_json_text(&b, "region", a->region);
	json_enum(&b, "state", &tamwil__v1__application_state__descriptor,
		  "STATE_", (int)a->state);
	cli_json_text_or_null(&b, "beneficiary_name", a->beneficiary_name);
	cli_json_text(&b, "sex", argparse_sex_name((int)a->sex));
	cli_json_int(&b, "birth_year", a->birth_year);
	json_enum(&b, "category", &tamwil__v1__category__descriptor,
		  "CATEGORY_", (int)a->category);
	cli_json_text(&b, "sector", a->sector);
	cli_json_text(&b, "activity", a->activity);
	cli_json_text(&b, "currency", cli_money_currency(a->amount_requested));
	cli_json_int(&b, "amount_requested",
		     cli_money_minor(a->amount_requested));
	cli_json_int(&b, "own_contribution",
		     cli_money_minor(a->own_contribution));
	cli_json_int(&b, "amount_granted", cli_money_minor(a->amount_granted));
	cli_json_int(&b, "amount_disbursed",
		     cli_money_minor(a->amount_disbursed));
	cli_json_int(&b, "amount_repaid", cli_money_minor(a->amount_repaid));
	cli_json_text(&b, "financing_formula", a->financing_formula);
	cli_json_text(&b, "submitted_by", a->submitted_by);
	json_time(&b, "submitted_at", a->submitted_at);
	cli_json_text_or_null(&b, "decided_by", a->decided_by);
	json_time(&b, "decided_at", a->decided_at);
	cli_json_text(&b, "reason", a->reason);
	return cli_json_end(&b);
}

json_t *cli_json_event(const Tamwil__V1__ApplicationEvent *e)
{
	struct cli_json b;

	cli_json_begin(&b);
	json_time(&b, "time", e->time);
	cli_json_text(&b, "action", e->action);
	cli_json_text(&b, "actor", e->actor);
	cli_json_int(&b, "amount", cli_money_minor(e->amount));
	cli_json_text(&b, "currency", cli_money_currency(e->amount));
	cli_json_text(&b, "detail", e->detail);
	return cli_json_end(&b);
}

/* The programme's eligible categories as an array of names. */
static json_t *json_categories(const Tamwil__V1__Programme *p)
{
	json_t *a = json_array();
	char name[64];

	for (size_t i = 0; a != NULL && i < p->n_eligible_categories; i++) {
		argparse_enum_name(&tamwil__v1__category__descriptor,
				   "CATEGORY_", (int)p->eligible_categories[i],
				   name, sizeof(name));
		if (json_array_append_new(a, json_string(name)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *cli_json_programme(const Tamwil__V1__Programme *p)
{
	struct cli_json b;

	cli_json_begin(&b);
	cli_json_text(&b, "code", p->code);
	cli_json_text(&b, "name", p->name);
	cli_json_text(&b, "currency", cli_money_currency(p->envelope));
	cli_json_int(&b, "envelope", cli_money_minor(p->envelope));
	cli_json_int(&b, "ceiling", cli_money_minor(p->ceiling));
	cli_json_int(&b, "granted", cli_money_minor(p->granted));
	cli_json_int(&b, "disbursed", cli_money_minor(p->disbursed));
	cli_json_int(&b, "remaining", cli_money_minor(p->remaining));
	cli_json_int(&b, "beneficiaries", (int64_t)p->beneficiaries);
	cli_json_int(&b, "target_beneficiaries", p->target_beneficiaries);
	cli_json_text_or_null(&b, "period_start", p->period_start);
	cli_json_text_or_null(&b, "period_end", p->period_end);
	cli_json_value(&b, "eligible_categories", json_categories(p));
	return cli_json_end(&b);
}

json_t *cli_json_report_row(const Tamwil__V1__ReportRow *r)
{
	struct cli_json b;

	cli_json_begin(&b);
	cli_json_text(&b, "group", r->group);
	cli_json_text(&b, "currency", r->currency);
	cli_json_int(&b, "submitted", (int64_t)r->submitted);
	cli_json_int(&b, "women", (int64_t)r->women);
	cli_json_int(&b, "approved", (int64_t)r->approved);
	cli_json_int(&b, "rejected", (int64_t)r->rejected);
	cli_json_int(&b, "withdrawn", (int64_t)r->withdrawn);
	cli_json_int(&b, "disbursed", (int64_t)r->disbursed);
	cli_json_int(&b, "amount_requested", r->amount_requested);
	cli_json_int(&b, "amount_granted", r->amount_granted);
	cli_json_int(&b, "amount_disbursed", r->amount_disbursed);
	cli_json_int(&b, "amount_repaid", r->amount_repaid);
	return cli_json_end(&b);
}

json_t *cli_json_region(const Tamwil__V1__Region *r)
{
	struct cli_json b;

	cli_json_begin(&b);
	cli_json_text(&b, "code", r->code);
	cli_json_text(&b, "name", r->name);
	return cli_json_end(&b);
}

json_t *cli_json_result(const Tamwil__V1__OperationResult *r)
{
	struct cli_json b;

	cli_json_begin(&b);
	cli_json_text_or_null(&b, "reference", r->reference);
	if (r->state != TAMWIL__V1__APPLICATION_STATE__STATE_UNSPECIFIED)
		json_enum(&b, "state",
			  &tamwil__v1__application_state__descriptor, "STATE_",
			  (int)r->state);
	if (r->principal_id != 0)
		cli_json_int(&b, "principal_id", (int64_t)r->principal_id);
	cli_json_bool(&b, "replayed", r->replayed);
	cli_json_int(&b, "sequence", (int64_t)r->sequence);
	return cli_json_end(&b);
}
