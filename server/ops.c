/*
 * Operations. ops_apply() runs the steps every operation shares (verify,
 * parse, idempotency, transaction) and hands the body to one handler per
 * kind. A handler checks everything before it writes, and on any refusal
 * the savepoint is rolled back, so a refused operation leaves no trace but
 * its log line.
 */
#include "ops.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "log.h"
#include "money.h"
#include "pbuf.h"
#include "role.h"
#include "signop.h"
#include "text.h"

#define OPS_NAME_MAX   200
#define OPS_TEXT_MAX   1000
#define OPS_ITEMS_MAX  100
#define OPS_SEALED_MAX 4096
/* The refusal of an operation that met a full disk: sent again later, the
 * same bytes are applied once. */
#define OPS_FULL_SENTENCE                                                      \
	"head office's disk is full: the operation was not stored and "        \
	"nothing was applied; send it again once head office has room"

typedef Tamwil__V1__ErrorCode ops_code;

#define E(x) TAMWIL__V1__ERROR_CODE__ERROR_##x

/* Everything a handler may use. */
typedef struct ops_ctx {
	server *srv; /* keys and settings, read only */
	store *st;   /* the calling thread's connection */
	ops_session *s;
	const store_principal *who;
	int64_t now;
	ops_result *res;
	reply_refusal *ref;
	ops_pending *p; /* the operation being applied */
} ops_ctx;

static int ops_role_is(const ops_ctx *c, const char *role)
{
	return strcmp(c->who->role, role) == 0;
}

/* Refuses unless the principal holds role. */
static int ops_need_role(ops_ctx *c, const char *role, const char *what)
{
	if (ops_role_is(c, role))
		return 0;
	return reply_refuse(
	    c->ref, E(PERMISSION_DENIED), "only %s %s may %s; you are %s",
	    strchr("aeiou", role[0]) ? "an" : "a", role, what, c->who->role);
}

/* Refuses a store failure as internal, logging the detail. */
static int ops_internal(ops_ctx *c, const char *what)
{
	if (store_full(c->st)) {
		log_error("%s: the disk is full: %s", what,
			  store_errmsg(c->st));
		return reply_refuse(c->ref, E(UNAVAILABLE), OPS_FULL_SENTENCE);
	}
	log_error("%s: %s", what, store_errmsg(c->st));
	return reply_refuse(c->ref, E(INTERNAL),
			    "the server could not %s; nothing was changed",
			    what);
}

/* "1 121 215,07 MAD": amounts in sentences people read. */
static const char *ops_amount(int64_t minor, const char *currency,
			      char buf[MONEY_TEXT_MAX])
{
	if (money_format(minor, currency, buf, MONEY_TEXT_MAX) < 0)
		snprintf(buf, MONEY_TEXT_MAX, "%lld", (long long)minor);
	return buf;
}

/* Checks a name-like text field: non-empty UTF-8 of at most max bytes. */
static int ops_check_name(ops_ctx *c, const char *field, const char *v,
			  size_t max)
{
	if (text_valid_name(v, max))
		return 0;
	return reply_refuse(c->ref, E(INVALID_ARGUMENT),
			    "%s must be 1 to %zu bytes of UTF-8 text without "
			    "control characters or surrounding spaces",
			    field, max);
}

/* Checks optional free text: valid UTF-8 of at most max bytes. */
static int ops_check_text(ops_ctx *c, const char *field, const char *v,
			  size_t max)
{
	size_t len = strlen(v);

	if (len <= max && text_valid(v, len))
		return 0;
	return reply_refuse(c->ref, E(INVALID_ARGUMENT),
			    "%s must be at most %zu bytes of UTF-8 text "
			    "without control characters",
			    field, max);
}

/* Checks a code: min..max of capital letters, digits and '-'. */
static int ops_check_code(ops_ctx *c, const char *field, const char *v,
			  size_t min, size_t max, int digits)
{
	size_t len = strlen(v);

	for (size_t i = 0; i < len; i++) {
		char ch = v[i];
		int ok = (ch >= 'A' && ch <= 'Z') ||
			 (digits && ((ch >= '0' && ch <= '9') || ch == '-'));
		if (!ok)
			len = 0;
	}
	if (len >= min && len <= max)
		return 0;
	return reply_refuse(c->ref, E(INVALID_ARGUMENT),
			    "%s must be %zu to %zu capital letters%s", field,
			    min, max, digits ? ", digits or '-'" : "");
}

/* Checks an amount: present, positive (or zero if allowed), right currency. */
static int ops_check_money(ops_ctx *c, const char *field,
			   const Tamwil__V1__Money *m, const char *currency,
			   int zero_ok)
{
	if (m == NULL)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "%s is missing", field);
	if (m->minor < 0 || (m->minor == 0 && !zero_ok))
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "%s must be a positive amount", field);
	if (!money_currency_valid(m->currency))
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "%s is not in a currency Tamwil keeps "
				    "(MAD, DZD, TND, EUR, USD, XOF)",
				    field);
	if (currency != NULL && strcmp(m->currency, currency) != 0)
		return reply_refuse(c->ref, E(CURRENCY_MISMATCH),
				    "%s is in %s but the programme counts in "
				    "%s",
				    field, m->currency, currency);
	return 0;
}

/* Checks a YYYY-MM-DD date, empty allowed when optional. */
static int ops_check_date(ops_ctx *c, const char *field, const char *v,
			  int optional)
{
	if ((optional && v[0] == '\0') || text_valid_date(v, NULL))
		return 0;
	return reply_refuse(c->ref, E(INVALID_ARGUMENT),
			    "%s must be a date written YYYY-MM-DD", field);
}

/* Today as YYYY-MM-DD (UTC). */
static void ops_today(const ops_ctx *c, char out[STORE_DATE_MAX])
{
	time_t t = (time_t)c->now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, STORE_DATE_MAX, "%Y-%m-%d", &tm);
}

/* ------------------------------------------------------------------ */

static int ops_create_region(ops_ctx *c, const Tamwil__V1__CreateRegion *m)
{
	int64_t id;
	int rc;

	if (ops_need_role(c, "admin", "create a region") ||
	    ops_check_code(c, "the region code", m->code, 2, 8, 0) ||
	    ops_check_name(c, "the region name", m->name, OPS_NAME_MAX))
		return -1;
	rc = store_region_add(c->st, m->code, m->name, &id);
	if (rc == STORE_CONFLICT)
		return reply_refuse(c->ref, E(ALREADY_EXISTS),
				    "region %s already exists", m->code);
	if (rc != 0)
		return ops_internal(c, "create the region");
	snprintf(c->res->reference, sizeof(c->res->reference), "%s", m->code);
	return 0;
}

/* Turns the repeated categories into a bit mask, refusing unknown ones. */
static int ops_categories(ops_ctx *c, const Tamwil__V1__CreateProgramme *m,
			  uint32_t *mask)
{
	*mask = 0;
	for (size_t i = 0; i < m->n_eligible_categories; i++) {
		int cat = (int)m->eligible_categories[i];
		if (cat <= 0 || cat > 30 ||
		    protobuf_c_enum_descriptor_get_value(
			&tamwil__v1__category__descriptor, cat) == NULL)
			return reply_refuse(c->ref, E(INVALID_ARGUMENT),
					    "unknown category %d", cat);
		*mask |= 1u << cat;
	}
	return 0;
}

static int ops_create_programme(ops_ctx *c,
				const Tamwil__V1__CreateProgramme *m)
{
	store_programme p = {0};
	const char *cur = m->envelope ? m->envelope->currency : "";
	int rc;

	if (ops_need_role(c, "admin", "create a programme") ||
	    ops_check_code(c, "the programme code", m->code, 2, 16, 1) ||
	    ops_check_name(c, "the programme name", m->name, OPS_NAME_MAX))
		return -1;
	if (m->envelope == NULL || m->ceiling == NULL)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "a programme needs an envelope and a "
				    "ceiling per project");
	if (!money_currency_valid(cur))
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the envelope's currency '%s' is not one "
				    "Tamwil keeps (MAD, DZD, ...)",
				    cur);
	if (ops_check_money(c, "the envelope", m->envelope, cur, 0) ||
	    ops_check_money(c, "the ceiling", m->ceiling, cur, 0) ||
	    ops_check_date(c, "the period start", m->period_start, 1) ||
	    ops_check_date(c, "the period end", m->period_end, 1) ||
	    ops_categories(c, m, &p.categories))
		return -1;
	if (m->ceiling->minor > m->envelope->minor)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the ceiling per project cannot exceed the "
				    "envelope");
	if (m->period_start[0] && m->period_end[0] &&
	    strcmp(m->period_start, m->period_end) > 0)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the period ends before it starts");
	snprintf(p.code, sizeof(p.code), "%s", m->code);
	snprintf(p.name, sizeof(p.name), "%s", m->name);
	snprintf(p.currency, sizeof(p.currency), "%s", cur);
	snprintf(p.period_start, sizeof(p.period_start), "%s", m->period_start);
	snprintf(p.period_end, sizeof(p.period_end), "%s", m->period_end);
	p.envelope = m->envelope->minor;
	p.ceiling = m->ceiling->minor;
	p.target = m->target_beneficiaries;
	rc = store_programme_add(c->st, &p, c->who->id);
	if (rc == STORE_CONFLICT)
		return reply_refuse(c->ref, E(ALREADY_EXISTS),
				    "programme %s already exists", m->code);
	if (rc != 0)
		return ops_internal(c, "create the programme");
	snprintf(c->res->reference, sizeof(c->res->reference), "%s", m->code);
	return 0;
}

static int ops_enrol(ops_ctx *c, const Tamwil__V1__EnrolPrincipal *m)
{
	const char *role = role_name((int)m->role);
	int coordinator = m->role == TAMWIL__V1__ROLE__ROLE_COORDINATOR;
	int64_t id;
	int rc;

	if (ops_need_role(c, "admin", "enrol a principal") ||
	    ops_check_name(c, "the name", m->name, OPS_NAME_MAX))
		return -1;
	if (role == NULL)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "unknown role");
	if (coordinator != (m->region[0] != '\0'))
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "a coordinator needs a region, and only a "
				    "coordinator has one");
	if (coordinator &&
	    ops_check_code(c, "the region code", m->region, 2, 8, 0))
		return -1;
	if (m->noise_key.len != STORE_KEYLEN || m->sign_key.len != STORE_KEYLEN)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the public keys must be 32 bytes each");
	rc = store_principal_add(
	    c->st, m->name, role, coordinator ? m->region : NULL,
	    m->noise_key.data, m->sign_key.data, c->who->id, &id);
	if (rc == STORE_CONFLICT)
		return reply_refuse(c->ref, E(ALREADY_EXISTS),
				    "this key is already enrolled");
	if (rc == STORE_NOT_FOUND)
		return reply_refuse(c->ref, E(UNKNOWN_REGION),
				    "unknown region %s", m->region);
	if (rc != 0)
		return ops_internal(c, "enrol the principal");
	c->res->principal_id = id;
	return 0;
}

static int ops_revoke(ops_ctx *c, const Tamwil__V1__RevokePrincipal *m)
{
	store_principal p;
	int64_t admins;
	int rc;

	if (ops_need_role(c, "admin", "revoke a principal"))
		return -1;
	if (m->noise_key.len != STORE_KEYLEN)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the public key must be 32 bytes");
	rc = store_principal_by_noise(c->st, m->noise_key.data, &p);
	if (rc == STORE_NOT_FOUND || (rc == 0 && p.revoked))
		return reply_refuse(c->ref, E(UNKNOWN_PRINCIPAL),
				    "no active principal has this key");
	if (rc != 0)
		return ops_internal(c, "find the principal");
	if (p.id == c->who->id)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "you cannot revoke your own key; ask "
				    "another admin");
	if (strcmp(p.role, "admin") == 0 &&
	    (store_admin_count(c->st, &admins) != 0 || admins <= 1))
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the last admin cannot be revoked");
	if (store_principal_revoke_id(c->st, p.id) != 0)
		return ops_internal(c, "revoke the principal");
	c->res->principal_id = p.id;
	return 0;
}

/* ------------------------------------------------------------------ */

/* Refuses a coordinator acting outside its region. */
static int ops_need_region(ops_ctx *c, const char *region)
{
	if (!ops_role_is(c, "coordinator") ||
	    strcmp(c->who->region, region) == 0)
		return 0;
	return reply_refuse(c->ref, E(NOT_YOUR_REGION),
			    "you coordinate region %s, not %s", c->who->region,
			    region);
}

/* Opens the sealed identity with the session's box key, computed once. */
static Tamwil__V1__Identity *ops_open_identity(ops_ctx *c,
					       const ProtobufCBinaryData *box)
{
	uint8_t plain[OPS_SEALED_MAX];
	Tamwil__V1__Identity *id = NULL;

	if (!c->s->has_box_key) {
		if (seal_box_key(c->s->box_key, c->who->noise_pk,
				 c->srv->data.sk) != 0) {
			reply_refuse(c->ref, E(SEALED_FIELDS),
				     "your key cannot seal to head office");
			return NULL;
		}
		c->s->has_box_key = 1;
	}
	if (box->len <= SEAL_BOX_OVERHEAD || box->len > sizeof(plain) ||
	    seal_box_open(c->s->box_key, box->data, box->len, plain) != 0) {
		reply_refuse(c->ref, E(SEALED_FIELDS),
			     "the sealed identity does not open with head "
			     "office's data key: was it sealed to this "
			     "server's key?");
		return NULL;
	}
	id = (Tamwil__V1__Identity *)pbuf_unpack(
	    &tamwil__v1__identity__descriptor, box->len - SEAL_BOX_OVERHEAD,
	    plain, PBUF_BUDGET_DEFAULT);
	sodium_memzero(plain, sizeof(plain));
	if (id == NULL)
		reply_refuse(c->ref, E(SEALED_FIELDS),
			     "the sealed identity is not a well-formed "
			     "Identity");
	return id;
}

/* Checks the identity's fields and that the clear birth year agrees. */
static int ops_check_identity(ops_ctx *c, const Tamwil__V1__Identity *id,
			      uint32_t birth_year)
{
	int year;

	if (ops_check_name(c, "the national ID", id->national_id, 64) ||
	    ops_check_name(c, "the first name", id->first_name, OPS_NAME_MAX) ||
	    ops_check_name(c, "the last name", id->last_name, OPS_NAME_MAX) ||
	    ops_check_text(c, "the phone", id->phone, 64) ||
	    ops_check_text(c, "the address", id->address, OPS_NAME_MAX))
		return -1;
	if (!text_valid_date(id->birth_date, &year))
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the birth date must be written "
				    "YYYY-MM-DD");
	if ((uint32_t)year != birth_year)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the birth year %u does not match the "
				    "sealed birth date",
				    birth_year);
	return 0;
}

/*
 * Seals a submission's identity at rest ahead of the writer, under the
 * newest at-rest key version held: its blind index and the sealed bytes,
 * into p (ops_beneficiary() uses them). A failure is kept in p->index_ref
 * or p->sealed_ref, not told here. May run again on the writer, which
 * frees what an earlier run made.
 */
static void ops_seal_identity(ops_ctx *c, ops_pending *p)
{
	uint8_t plain[OPS_SEALED_MAX];
	size_t len = tamwil__v1__identity__get_packed_size(p->ident);
	unsigned newest = seal_ring_count(&c->srv->seal) - 1;
	const seal_keys *k = seal_ring_get(&c->srv->seal, newest);

	free(p->sealed);
	p->sealed = NULL;
	p->key_version = newest;
	if (k == NULL || seal_index(k, p->ident->national_id, p->index) != 0) {
		reply_refuse(&p->index_ref, E(INVALID_ARGUMENT),
			     "the national ID must be letters and "
			     "digits (spaces and '-' are ignored)");
		return;
	}
	if (len > sizeof(plain)) {
		reply_refuse(&p->sealed_ref, E(INVALID_ARGUMENT),
			     "the identity is too long");
		return;
	}
	p->sealed = malloc(len + SEAL_REST_OVERHEAD);
	tamwil__v1__identity__pack(p->ident, plain);
	if (p->sealed == NULL || seal_rest(k, plain, len, p->index,
					   sizeof(p->index), p->sealed) != 0) {
		free(p->sealed);
		p->sealed = NULL;
		reply_refuse(&p->sealed_ref, E(INTERNAL),
			     "the identity could not be sealed");
	} else {
		p->sealed_len = len + SEAL_REST_OVERHEAD;
	}
	sodium_memzero(plain, sizeof(plain));
}

/*
 * Finds the beneficiary by the blind index of the national ID under every
 * at-rest key version held but the retired ones, newest first (during a
 * rotation a row may be under the old version or the new one), or adds it
 * with its identity sealed at rest as made ahead (ops_seal_identity()),
 * sealed again here when a newer version arrived meanwhile, so that no row
 * is added under a version a rotation has already left. 0 with *id, or -1
 * refused.
 */
static int ops_beneficiary(ops_ctx *c, int64_t region_id, int64_t *id)
{
	ops_pending *p = c->p;
	uint8_t index[SEAL_INDEX_LEN];
	unsigned newest = seal_ring_count(&c->srv->seal) - 1;
	int rc;

	if (p->index_ref.code != 0) {
		*c->ref = p->index_ref;
		return -1;
	}
	for (unsigned v = newest + 1; v-- > 0;) {
		const seal_keys *kv = seal_ring_get(&c->srv->seal, v);

		/* A retired version has no row left to find. */
		if (kv == NULL)
			continue;
		if (v == p->key_version)
			memcpy(index, p->index, sizeof(index));
		else if (seal_index(kv, p->ident->national_id, index) != 0)
			return ops_internal(c, "index the national ID");
		rc = store_beneficiary_find(c->st, index, id);
		if (rc != STORE_NOT_FOUND)
			return rc == 0
				   ? 0
				   : ops_internal(c, "find the beneficiary");
	}
	if (p->key_version != newest) {
		ops_seal_identity(c, p);
		if (p->index_ref.code != 0) {
			*c->ref = p->index_ref;
			return -1;
		}
	}
	if (p->sealed == NULL) {
		*c->ref = p->sealed_ref;
		return -1;
	}
	if (store_beneficiary_add(c->st, p->index, p->sealed, p->sealed_len,
				  p->key_version, region_id, id) != 0)
		return ops_internal(c, "record the beneficiary");
	return 0;
}

/* Checks the programme accepts this category today and this amount. */
static int ops_check_programme(ops_ctx *c, const store_programme *p,
			       const Tamwil__V1__SubmitApplication *m)
{
	char today[STORE_DATE_MAX];

	if (m->category <= 0 ||
	    protobuf_c_enum_descriptor_get_value(
		&tamwil__v1__category__descriptor, (int)m->category) == NULL)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the category is missing or unknown");
	if (p->categories != 0 && !(p->categories & (1u << m->category)))
		return reply_refuse(c->ref, E(NOT_ELIGIBLE),
				    "programme %s does not finance this "
				    "category",
				    p->code);
	ops_today(c, today);
	if ((p->period_start[0] && strcmp(today, p->period_start) < 0) ||
	    (p->period_end[0] && strcmp(today, p->period_end) > 0))
		return reply_refuse(
		    c->ref, E(NOT_ELIGIBLE),
		    "programme %s takes applications from %s "
		    "to %s",
		    p->code, p->period_start[0] ? p->period_start : "its start",
		    p->period_end[0] ? p->period_end : "its end");
	if (ops_check_money(c, "the amount requested", m->amount_requested,
			    p->currency, 0) ||
	    ops_check_money(c, "the own contribution", m->own_contribution,
			    p->currency, 1))
		return -1;
	if (m->amount_requested->minor > p->ceiling)
		return reply_refuse(c->ref, E(CEILING_EXCEEDED),
				    "the amount requested is above programme "
				    "%s's ceiling per project",
				    p->code);
	return 0;
}

/* Checks the clear fields of a submission. */
static int ops_check_submission(ops_ctx *c,
				const Tamwil__V1__SubmitApplication *m)
{
	int year;
	char today[STORE_DATE_MAX];

	ops_today(c, today);
	year = (today[0] - '0') * 1000 + (today[1] - '0') * 100 +
	       (today[2] - '0') * 10 + (today[3] - '0');
	if (m->sex != TAMWIL__V1__SEX__SEX_FEMALE &&
	    m->sex != TAMWIL__V1__SEX__SEX_MALE)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the sex must be F or M");
	if (m->birth_year < 1900 || (int)m->birth_year > year - 15)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the birth year %u is not plausible for "
				    "an applicant",
				    m->birth_year);
	if (ops_check_name(c, "the sector", m->sector, 100) ||
	    ops_check_name(c, "the activity", m->activity, OPS_TEXT_MAX) ||
	    ops_check_text(c, "the financing formula", m->financing_formula,
			   100))
		return -1;
	return 0;
}

static int ops_submit(ops_ctx *c, const Tamwil__V1__SubmitApplication *m)
{
	store_application a = {0};
	store_programme p;
	int e;

	if (!ops_role_is(c, "coordinator") && !ops_role_is(c, "admin"))
		return reply_refuse(c->ref, E(PERMISSION_DENIED),
				    "only a coordinator or an admin may submit "
				    "an application");
	if (ops_check_code(c, "the region code", m->region, 2, 8, 0) ||
	    ops_check_code(c, "the programme code", m->programme, 2, 16, 1) ||
	    ops_need_region(c, m->region) || ops_check_submission(c, m))
		return -1;
	e = store_region_find(c->st, m->region, &a.region_id);
	if (e == STORE_NOT_FOUND)
		return reply_refuse(c->ref, E(UNKNOWN_REGION),
				    "unknown region '%s'", m->region);
	if (e != 0)
		return ops_internal(c, "find the region");
	e = store_programme_get(c->st, m->programme, &p);
	if (e == STORE_NOT_FOUND)
		return reply_refuse(c->ref, E(UNKNOWN_PROGRAMME),
				    "unknown programme '%s'", m->programme);
	if (e != 0)
		return ops_internal(c, "find the programme");
	if (ops_check_programme(c, &p, m))
		return -1;
	/* The identity was opened and sealed ahead, off the writer. */
	if (c->p->ident == NULL) {
		*c->ref = c->p->ident_ref;
		return -1;
	}
	if (ops_beneficiary(c, a.region_id, &a.beneficiary_id))
		return -1;
	a.programme_id = p.id;
	a.sex = (int)m->sex;
	a.birth_year = (int)m->birth_year;
	a.category = (int)m->category;
	snprintf(a.sector, sizeof(a.sector), "%s", m->sector);
	snprintf(a.activity, sizeof(a.activity), "%s", m->activity);
	snprintf(a.formula, sizeof(a.formula), "%s", m->financing_formula);
	a.requested = m->amount_requested->minor;
	a.contribution = m->own_contribution->minor;
	a.submitted_by = c->who->id;
	a.submitted_at = c->now;
	e = store_application_add(c->st, &a);
	if (e == STORE_CONFLICT)
		return reply_refuse(c->ref, E(DUPLICATE_APPLICATION),
				    "this beneficiary already has an open "
				    "application in programme %s",
				    p.code);
	if (e != 0 || store_event_add(c->st, a.id, c->now, "submitted",
				      c->who->id, a.requested, "") != 0)
		return ops_internal(c, "record the application");
	snprintf(c->res->reference, sizeof(c->res->reference), "%s",
		 a.reference);
	c->res->state = a.state;
	return 0;
}

/* ------------------------------------------------------------------ */

/* Reads the application an operation names; 0 or -1 refused. */
static int ops_application(ops_ctx *c, const char *reference,
			   store_application *a)
{
	int rc;

	if (ops_check_code(c, "the application reference", reference, 1,
			   STORE_REF_MAX - 1, 1))
		return -1;
	rc = store_application_get(c->st, reference, a);
	if (rc == STORE_NOT_FOUND)
		return reply_refuse(c->ref, E(UNKNOWN_APPLICATION),
				    "no application %s", reference);
	if (rc != 0)
		return ops_internal(c, "read the application");
	return 0;
}

static const char *ops_state_name(int state)
{
	static const char *const names[] = {
	    "?",	  "submitted", "approved", "rejected", "withdrawn",
	    "disbursing", "disbursed", "repaying", "closed",   "written off"};

	return state >= 1 && state <= 9 ? names[state] : "?";
}

/* Refuses unless the application is in one of the two states given. */
static int ops_need_state(ops_ctx *c, const store_application *a, int s1,
			  int s2, const char *what)
{
	if (a->state == s1 || a->state == s2)
		return 0;
	return reply_refuse(c->ref, E(BAD_STATE),
			    "application %s is %s: it cannot be %s",
			    a->reference, ops_state_name(a->state), what);
}

/* Writes the application back with an event of its history. */
static int ops_save(ops_ctx *c, store_application *a, const char *action,
		    int64_t amount, const char *detail)
{
	if (store_application_update(c->st, a) != 0 ||
	    store_event_add(c->st, a->id, c->now, action, c->who->id, amount,
			    detail) != 0)
		return ops_internal(c, "update the application");
	snprintf(c->res->reference, sizeof(c->res->reference), "%s",
		 a->reference);
	c->res->state = a->state;
	return 0;
}

static int ops_withdraw(ops_ctx *c, const Tamwil__V1__WithdrawApplication *m)
{
	store_application a;

	if (!ops_role_is(c, "coordinator") && !ops_role_is(c, "admin"))
		return reply_refuse(c->ref, E(PERMISSION_DENIED),
				    "only a coordinator or an admin may "
				    "withdraw an application");
	if (ops_check_text(c, "the reason", m->reason, OPS_TEXT_MAX) ||
	    ops_application(c, m->reference, &a) ||
	    ops_need_region(c, a.region) ||
	    ops_need_state(c, &a, STORE_SUBMITTED, STORE_SUBMITTED,
			   "withdrawn"))
		return -1;
	a.state = STORE_WITHDRAWN;
	snprintf(a.reason, sizeof(a.reason), "%s", m->reason);
	return ops_save(c, &a, "withdrawn", 0, m->reason);
}

static int ops_approve(ops_ctx *c, const Tamwil__V1__ApproveApplication *m)
{
	store_application a;
	int64_t amount;
	store_programme p;
	char left[MONEY_TEXT_MAX];
	int rc;

	if (ops_need_role(c, "approver", "approve an application") ||
	    ops_application(c, m->reference, &a) ||
	    ops_need_state(c, &a, STORE_SUBMITTED, STORE_SUBMITTED, "approved"))
		return -1;
	if (a.submitted_by == c->who->id)
		return reply_refuse(c->ref, E(MAKER_CHECKER),
				    "you submitted %s: another approver must "
				    "decide it",
				    a.reference);
	if (m->amount != NULL &&
	    ops_check_money(c, "the amount granted", m->amount, a.currency, 0))
		return -1;
	amount = m->amount != NULL ? m->amount->minor : a.requested;
	if (amount > a.requested)
		return reply_refuse(c->ref, E(GRANT_ABOVE_REQUEST),
				    "the amount granted is above the amount "
				    "requested");
	if (store_programme_get(c->st, a.programme, &p) != 0)
		return ops_internal(c, "read the programme");
	if (amount > p.ceiling)
		return reply_refuse(c->ref, E(CEILING_EXCEEDED),
				    "the amount granted is above programme "
				    "%s's ceiling per project",
				    p.code);
	rc = store_programme_add_totals(c->st, p.id, amount, 0);
	if (rc == STORE_CONFLICT)
		return reply_refuse(
		    c->ref, E(BUDGET_EXCEEDED),
		    "programme %s's envelope would be "
		    "exceeded: it has %s left",
		    p.code,
		    ops_amount(p.envelope - p.granted, p.currency, left));
	if (rc != 0)
		return ops_internal(c, "update the programme's budget");
	a.state = STORE_APPROVED;
	a.granted = amount;
	a.decided_by = c->who->id;
	a.decided_at = c->now;
	return ops_save(c, &a, "approved", amount, "");
}

static int ops_reject(ops_ctx *c, const Tamwil__V1__RejectApplication *m)
{
	store_application a;

	if (ops_need_role(c, "approver", "reject an application") ||
	    ops_check_name(c, "the reason", m->reason, OPS_TEXT_MAX) ||
	    ops_application(c, m->reference, &a) ||
	    ops_need_state(c, &a, STORE_SUBMITTED, STORE_SUBMITTED, "rejected"))
		return -1;
	a.state = STORE_REJECTED;
	a.decided_by = c->who->id;
	a.decided_at = c->now;
	snprintf(a.reason, sizeof(a.reason), "%s", m->reason);
	return ops_save(c, &a, "rejected", 0, m->reason);
}

/* Checks the equipment items and that they add up to the tranche. */
static int ops_items(ops_ctx *c, const Tamwil__V1__RecordDisbursement *m,
		     const char *currency, store_item *items)
{
	int64_t sum = 0, line;
	char a1[MONEY_TEXT_MAX], a2[MONEY_TEXT_MAX];

	if (m->n_items > OPS_ITEMS_MAX)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "at most %d equipment items a tranche",
				    OPS_ITEMS_MAX);
	for (size_t i = 0; i < m->n_items; i++) {
		const Tamwil__V1__EquipmentItem *it = m->items[i];
		if (ops_check_name(c, "an item's description", it->description,
				   OPS_NAME_MAX) ||
		    ops_check_money(c, "an item's value", it->unit_value,
				    currency, 1))
			return -1;
		if (it->quantity == 0 ||
		    __builtin_mul_overflow(it->unit_value->minor,
					   (int64_t)it->quantity, &line) ||
		    money_add(sum, line, &sum) != 0)
			return reply_refuse(c->ref, E(INVALID_ARGUMENT),
					    "an item's quantity or value is "
					    "out of range");
		snprintf(items[i].description, sizeof(items[i].description),
			 "%s", it->description);
		items[i].quantity = it->quantity;
		items[i].unit_value = it->unit_value->minor;
	}
	if (m->method == TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_EQUIPMENT &&
	    sum != m->amount->minor)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the equipment items add up to %s, not the "
				    "tranche's %s",
				    ops_amount(sum, currency, a1),
				    ops_amount(m->amount->minor, currency, a2));
	return 0;
}

/* "cash", "cheque", "transfer" or "equipment", as people write them. */
static const char *ops_method_name(int method)
{
	static const char *const names[] = {"?", "cash", "cheque", "transfer",
					    "equipment"};

	return method >= 1 && method <= 4 ? names[method] : "?";
}

static int ops_disburse(ops_ctx *c, const Tamwil__V1__RecordDisbursement *m)
{
	store_item items[OPS_ITEMS_MAX];
	store_application a;
	char date[STORE_DATE_MAX], detail[STORE_TEXT_MAX];
	char a1[MONEY_TEXT_MAX], a2[MONEY_TEXT_MAX];
	int64_t total;

	if (ops_need_role(c, "treasurer", "record a disbursement") ||
	    ops_application(c, m->reference, &a) ||
	    ops_need_state(c, &a, STORE_APPROVED, STORE_DISBURSING,
			   "disbursed") ||
	    ops_check_money(c, "the tranche", m->amount, a.currency, 0) ||
	    ops_check_text(c, "the payment reference", m->payment_reference,
			   100) ||
	    ops_check_date(c, "the date", m->date, 1))
		return -1;
	if (a.decided_by == c->who->id)
		return reply_refuse(c->ref, E(MAKER_CHECKER),
				    "you approved %s: another treasurer must "
				    "record its tranches",
				    a.reference);
	if (m->method < TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_CASH ||
	    m->method > TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_EQUIPMENT)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "the method must be cash, cheque, "
				    "transfer or equipment");
	if (ops_items(c, m, a.currency, items) != 0)
		return -1;
	if (money_add(a.disbursed, m->amount->minor, &total) != 0 ||
	    total > a.granted)
		return reply_refuse(c->ref, E(TRANCHE_ABOVE_GRANT),
				    "tranches would exceed the %s granted (%s "
				    "already handed over)",
				    ops_amount(a.granted, a.currency, a1),
				    ops_amount(a.disbursed, a.currency, a2));
	if (m->date[0] != '\0')
		snprintf(date, sizeof(date), "%s", m->date);
	else
		ops_today(c, date);
	if (store_disbursement_add(c->st, a.id, m->amount->minor,
				   (int)m->method, m->payment_reference, date,
				   items, m->n_items, c->who->id,
				   c->now) != 0 ||
	    store_programme_add_totals(c->st, a.programme_id, 0,
				       m->amount->minor) != 0)
		return ops_internal(c, "record the tranche");
	a.disbursed = total;
	a.state = total == a.granted ? STORE_DISBURSED : STORE_DISBURSING;
	snprintf(detail, sizeof(detail), "%s %s",
		 ops_method_name((int)m->method), m->payment_reference);
	return ops_save(c, &a, "disbursement", m->amount->minor, detail);
}

static int ops_repay(ops_ctx *c, const Tamwil__V1__RecordRepayment *m)
{
	store_application a;
	char date[STORE_DATE_MAX];
	char a1[MONEY_TEXT_MAX], a2[MONEY_TEXT_MAX];
	int64_t total;

	if (ops_need_role(c, "treasurer", "record a repayment") ||
	    ops_application(c, m->reference, &a) ||
	    ops_check_money(c, "the repayment", m->amount, a.currency, 0) ||
	    ops_check_date(c, "the date", m->date, 1))
		return -1;
	/* Repayments start once the whole grant is handed over. */
	if (a.state != STORE_DISBURSED && a.state != STORE_REPAYING)
		return reply_refuse(c->ref, E(BAD_STATE),
				    "application %s is %s: repayments start "
				    "once the whole grant is handed over",
				    a.reference, ops_state_name(a.state));
	if (money_add(a.repaid, m->amount->minor, &total) != 0 ||
	    total > a.disbursed)
		return reply_refuse(c->ref, E(REPAYMENT_ABOVE_DUE),
				    "repayments would exceed the %s handed "
				    "over (%s already repaid)",
				    ops_amount(a.disbursed, a.currency, a1),
				    ops_amount(a.repaid, a.currency, a2));
	if (m->date[0] != '\0')
		snprintf(date, sizeof(date), "%s", m->date);
	else
		ops_today(c, date);
	if (store_repayment_add(c->st, a.id, m->amount->minor, date, c->who->id,
				c->now) != 0)
		return ops_internal(c, "record the repayment");
	a.repaid = total;
	a.state = total == a.granted ? STORE_CLOSED : STORE_REPAYING;
	return ops_save(c, &a, "repayment", m->amount->minor, date);
}

/* ------------------------------------------------------------------ */

/* Routes a parsed operation to its handler. */
static int ops_route(ops_ctx *c, const Tamwil__V1__Operation *op)
{
	switch (op->body_case) {
	case TAMWIL__V1__OPERATION__BODY_CREATE_REGION:
		return ops_create_region(c, op->create_region);
	case TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME:
		return ops_create_programme(c, op->create_programme);
	case TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL:
		return ops_enrol(c, op->enrol_principal);
	case TAMWIL__V1__OPERATION__BODY_REVOKE_PRINCIPAL:
		return ops_revoke(c, op->revoke_principal);
	case TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION:
		return ops_submit(c, op->submit_application);
	case TAMWIL__V1__OPERATION__BODY_WITHDRAW_APPLICATION:
		return ops_withdraw(c, op->withdraw_application);
	case TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION:
		return ops_approve(c, op->approve_application);
	case TAMWIL__V1__OPERATION__BODY_REJECT_APPLICATION:
		return ops_reject(c, op->reject_application);
	case TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT:
		return ops_disburse(c, op->record_disbursement);
	case TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT:
		return ops_repay(c, op->record_repayment);
	default:
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "unknown operation: this server does not "
				    "offer it");
	}
}

/* The outcome of r as the log and the idempotency record keep it. */
static void ops_outcome(const ops_result *r, Tamwil__V1__OperationResult *m)
{
	tamwil__v1__operation_result__init(m);
	m->reference = (char *)r->reference;
	m->state = (Tamwil__V1__ApplicationState)r->state;
	m->principal_id = (uint64_t)r->principal_id;
}

/*
 * Packs an OperationResult answer with its receipt, read through st. A
 * receipt that cannot be built (the operation is durable all the same) is
 * logged and left out: the client then says it could not check the
 * answer.
 */
static int ops_pack_result(store *st, uint64_t request_id, const ops_result *r,
			   int replayed, uint8_t *out, size_t cap, size_t *len)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__OperationResult body;
	Tamwil__V1__Receipt receipt;
	audit_receipt *ar = malloc(sizeof(*ar));
	int rc;

	ops_outcome(r, &body);
	body.replayed = replayed;
	body.sequence = r->seq;
	if (ar != NULL && audit_receipt_build(st, r->seq, 0, ar) == 0) {
		audit_receipt_message(ar, &receipt);
		body.receipt = &receipt;
	} else {
		log_error("no receipt for log entry %llu: %s",
			  (unsigned long long)r->seq, store_errmsg(st));
	}
	resp.request_id = request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_OPERATION;
	resp.operation = &body;
	rc = reply_pack(&resp, out, cap, len);
	free(ar);
	return rc;
}

/* Refuses the operation of a principal revoked since the channel opened. */
static int ops_check_active(ops_ctx *c)
{
	store_principal now;
	int rc;

	/* The server's own operations have no principal row. */
	if (c->who->id == 0)
		return 0;
	rc = store_principal_by_noise(c->st, c->who->noise_pk, &now);
	if (rc != 0 && rc != STORE_NOT_FOUND)
		return ops_internal(c, "check your key");
	if (rc != 0 || now.revoked)
		return reply_refuse(c->ref, E(PERMISSION_DENIED),
				    "your key has been revoked");
	return 0;
}

/*
 * Verifies the envelope: the signer is the channel's principal and the
 * signature covers the bytes. 0 or -1 refused. Whether the key is still
 * active is asked by the writer (ops_apply_one()), inside the operation's
 * transaction where the answer holds until the commit; asking here too
 * would make a worker reload pages on its read connection for nothing.
 */
static int ops_verify(ops_ctx *c, const Tamwil__V1__SignedOperation *sop)
{
	if (sop->signer_key.len != STORE_KEYLEN ||
	    sop->signature.len != SIGNOP_SIGLEN || sop->operation.len == 0)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "a signed operation needs the operation, "
				    "a 32-byte key and a 64-byte signature");
	if (sop->operation.len > AUDIT_OPERATION_MAX)
		return reply_refuse(c->ref, E(INVALID_ARGUMENT),
				    "an operation is limited to %d bytes",
				    AUDIT_OPERATION_MAX);
	if (sodium_memcmp(sop->signer_key.data, c->who->sign_pk,
			  STORE_KEYLEN) != 0)
		return reply_refuse(c->ref, E(WRONG_SIGNER),
				    "the operation is signed by another key "
				    "than yours");
	if (signop_verify(sop->operation.data, sop->operation.len,
			  sop->signer_key.data, sop->signature.data) != 0)
		return reply_refuse(c->ref, E(BAD_SIGNATURE),
				    "the operation's signature does not "
				    "verify");
	return 0;
}

/*
 * Looks the idempotency key up, inside the batch's transaction so that a
 * key used earlier in the same batch is seen. Returns 1 for a replay (the
 * first result in c->res), 0 when the operation is new, -1 refused.
 */
static int ops_replay(ops_ctx *c, const Tamwil__V1__Operation *op,
		      const uint8_t *digest)
{
	uint8_t seen[SIGNOP_DIGEST_LEN], buf[512];
	Tamwil__V1__OperationResult *prev;
	size_t n;
	int rc;

	rc = store_op_find(c->st, c->who->id, op->idempotency_key.data, seen,
			   buf, sizeof(buf), &n);
	if (rc == STORE_NOT_FOUND)
		return 0;
	if (rc != 0)
		return ops_internal(c, "look the operation up");
	if (sodium_memcmp(seen, digest, sizeof(seen)) != 0)
		return reply_refuse(c->ref, E(IDEMPOTENCY_CONFLICT),
				    "this idempotency key was used for another "
				    "operation");
	prev = (Tamwil__V1__OperationResult *)pbuf_unpack(
	    &tamwil__v1__operation_result__descriptor, n, buf,
	    PBUF_BUDGET_DEFAULT);
	if (prev == NULL)
		return reply_refuse(c->ref, E(INTERNAL),
				    "a stored result is damaged");
	snprintf(c->res->reference, sizeof(c->res->reference), "%s",
		 prev->reference);
	c->res->state = (int)prev->state;
	c->res->principal_id = (int64_t)prev->principal_id;
	c->res->seq = prev->sequence;
	tamwil__v1__operation_result__free_unpacked(prev, NULL);
	return 1;
}

/*
 * Appends the operation to the audit log and records its result, with the
 * log's sequence number, under the idempotency key: both in the
 * operation's transaction.
 */
static int ops_record(ops_ctx *c, const Tamwil__V1__SignedOperation *sop,
		      const Tamwil__V1__Operation *op, const uint8_t *digest)
{
	Tamwil__V1__OperationResult body;
	uint8_t buf[512];
	size_t n;

	ops_outcome(c->res, &body);
	if (audit_append(c->srv, sop, &body, c->now, &c->res->seq) != 0)
		return ops_internal(c, "append to the audit log");
	/* The server's own operations are local commands, never retried. */
	if (c->who->id == 0)
		return 0;
	body.sequence = c->res->seq;
	n = tamwil__v1__operation_result__get_packed_size(&body);
	if (n > sizeof(buf))
		return ops_internal(c, "record the result");
	tamwil__v1__operation_result__pack(&body, buf);
	if (store_op_record(c->st, c->who->id, op->idempotency_key.data, digest,
			    buf, n, c->now) != 0)
		return ops_internal(c, "record the result");
	return 0;
}

const char *ops_security_kind(const ops_pending *p)
{
	if (p->outcome != OPS_REFUSED)
		return NULL;
	switch (p->ref.code) {
	case E(BAD_SIGNATURE):
		return "bad signature";
	case E(WRONG_SIGNER):
		return "wrong signer";
	case E(PERMISSION_DENIED):
		return "wrong role";
	case E(NOT_YOUR_REGION):
		return "wrong region";
	default:
		return NULL;
	}
}

/*
 * Refusals that say someone tried what they may not (a signature that
 * does not verify, another's key, a role or region not theirs) go to the
 * security events that auditors read; rule refusals (budget, state) do
 * not. Best effort: the refusal stands even if it cannot be recorded.
 */
static void ops_security_event(store *st, const ops_pending *p, int64_t now)
{
	const char *kind = ops_security_kind(p);

	if (kind != NULL &&
	    store_security_event(st, now, p->s->who->id, p->s->peer, kind,
				 p->ref.message) != 0)
		log_error("security event: %s", store_errmsg(st));
}

/* Logs a refusal for the operator. */
static void ops_log_refusal(const ops_pending *p)
{
	log_info("%s (%s) refused: %s", p->s->who->name, p->s->who->role,
		 p->ref.message);
}

/*
 * Opens, checks and seals at rest a submission's identity ahead of the
 * writer (see ops_submit()).
 */
static void ops_prepare_identity(ops_ctx *c, ops_pending *p)
{
	const Tamwil__V1__SubmitApplication *m;
	reply_refusal *ref = c->ref;

	if (p->op->body_case != TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION)
		return;
	m = p->op->submit_application;
	/* Its refusals are told where ops_submit() reaches the identity. */
	c->ref = &p->ident_ref;
	p->ident = ops_open_identity(c, &m->identity_box);
	if (p->ident != NULL &&
	    ops_check_identity(c, p->ident, m->birth_year) != 0) {
		tamwil__v1__identity__free_unpacked(p->ident, NULL);
		p->ident = NULL;
	}
	c->ref = ref;
	if (p->ident != NULL)
		ops_seal_identity(c, p);
}

int ops_prepare(server *srv, ops_session *s,
		const Tamwil__V1__SignedOperation *sop, uint64_t request_id,
		ops_pending *p)
{
	ops_ctx c = {srv,     NULL,    s, s->who, (int64_t)time(NULL),
		     &p->res, &p->ref, p};

	memset(p, 0, sizeof(*p));
	p->s = s;
	p->sop = sop;
	p->request_id = request_id;
	if (ops_verify(&c, sop) != 0)
		goto refused;
	pbuf_budget_init(&p->budget, PBUF_BUDGET_DEFAULT);
	p->op = tamwil__v1__operation__unpack(
	    &p->budget.alloc, sop->operation.len, sop->operation.data);
	if (p->op == NULL) {
		reply_refuse(&p->ref, E(INVALID_ARGUMENT),
			     "the signed bytes are not an Operation");
		goto refused;
	}
	p->owns_op = 1;
	if (p->op->idempotency_key.len != SIGNOP_IDEMPOTENCY_LEN) {
		reply_refuse(&p->ref, E(INVALID_ARGUMENT),
			     "the idempotency key must be 16 bytes");
		goto refused;
	}
	if (signop_digest(sop->operation.data, sop->operation.len, p->digest) !=
	    0) {
		reply_refuse(&p->ref, E(INTERNAL), "cannot hash the operation");
		goto refused;
	}
	ops_prepare_identity(&c, p);
	p->outcome = OPS_PENDING;
	return 0;
refused:
	p->outcome = OPS_REFUSED;
	ops_log_refusal(p);
	return -1;
}

/*
 * One operation of the batch, under its savepoint: revocation, replay,
 * handler, log entry and idempotency record. Sets p->outcome.
 */
static void ops_apply_one(server *srv, ops_pending *p, int64_t now)
{
	ops_ctx c = {srv, srv->st, p->s, p->s->who, now, &p->res, &p->ref, p};
	int rc;

	if (store_savepoint(srv->st) != 0) {
		ops_internal(&c, "start a savepoint");
		p->outcome = OPS_REFUSED;
		return;
	}
	rc = ops_check_active(&c);
	if (rc == 0)
		rc = ops_replay(&c, p->op, p->digest);
	if (rc == 0 && (ops_route(&c, p->op) != 0 ||
			ops_record(&c, p->sop, p->op, p->digest) != 0))
		rc = -1;
	if (rc >= 0 && store_release(srv->st) != 0)
		rc = ops_internal(&c, "keep the operation");
	if (rc < 0) {
		store_rollback_to(srv->st);
		p->outcome = OPS_REFUSED;
		ops_log_refusal(p);
		/* Never outside the batch: SQLite may have ended it. */
		if (store_in_transaction(srv->st))
			ops_security_event(srv->st, p, now);
		return;
	}
	p->outcome = rc == 1 ? OPS_REPLAYED : OPS_APPLIED;
}

/* Refuses every operation of a batch that could not be kept. */
static void ops_batch_lost(server *srv, ops_pending *const *v, size_t n)
{
	int full = store_full(srv->st);

	log_error("a batch of %zu operations was not stored%s: %s", n,
		  full ? " (the disk is full)" : "", store_errmsg(srv->st));
	for (size_t i = 0; i < n; i++) {
		if (!v[i]->batched)
			continue; /* refused before the batch */
		v[i]->outcome = OPS_REFUSED;
		reply_refuse(&v[i]->ref, E(UNAVAILABLE), "%s",
			     full ? OPS_FULL_SENTENCE
				  : "head office could not store the "
				    "operation; nothing was applied, try "
				    "again");
	}
}

int ops_apply_batch(server *srv, ops_pending *const *v, size_t n)
{
	int64_t now = (int64_t)time(NULL);
	size_t i;

	for (i = 0; i < n; i++)
		v[i]->batched = v[i]->outcome == OPS_PENDING;
	if (store_begin(srv->st) != 0) {
		ops_batch_lost(srv, v, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!v[i]->batched) {
			/* Refused by ops_prepare(), where nothing is written.
			 */
			ops_security_event(srv->st, v[i], now);
			continue;
		}
		ops_apply_one(srv, v[i], now);
		/* A full disk or an I/O error may have ended the transaction.
		 */
		if (!store_in_transaction(srv->st))
			goto lost;
	}
	/* One signed checkpoint covers every entry the batch appended. */
	if (audit_checkpoint(srv, now) != 0) {
		log_error("the batch's checkpoint could not be signed: %s",
			  store_errmsg(srv->st));
		goto lost;
	}
	if (store_commit(srv->st) != 0)
		goto lost;
	for (i = 0; i < n; i++) {
		if (v[i]->outcome == OPS_APPLIED)
			log_info("%s (%s) applied %s%s%s", v[i]->s->who->name,
				 v[i]->s->who->role,
				 protobuf_c_message_descriptor_get_field(
				     &tamwil__v1__operation__descriptor,
				     (unsigned)v[i]->op->body_case)
				     ->name,
				 v[i]->res.reference[0] ? " " : "",
				 v[i]->res.reference);
	}
	return 0;
lost:
	store_rollback(srv->st);
	ops_batch_lost(srv, v, n);
	return -1;
}

int ops_answer(server *srv, store *st, const ops_pending *p, uint8_t *out,
	       size_t out_cap, size_t *out_len)
{
	(void)srv;
	if (p->outcome == OPS_APPLIED || p->outcome == OPS_REPLAYED)
		return ops_pack_result(st, p->request_id, &p->res,
				       p->outcome == OPS_REPLAYED, out, out_cap,
				       out_len);
	if (p->outcome == OPS_REFUSED)
		return reply_error(p->request_id, p->ref.code, p->ref.message,
				   out, out_cap, out_len);
	return -1;
}

void ops_pending_clear(ops_pending *p)
{
	if (p->ident != NULL)
		tamwil__v1__identity__free_unpacked(p->ident, NULL);
	if (p->op != NULL && p->owns_op)
		tamwil__v1__operation__free_unpacked(p->op, &p->budget.alloc);
	free(p->sealed);
	p->ident = NULL;
	p->op = NULL;
	p->sealed = NULL;
}

int ops_apply(server *srv, ops_session *s,
	      const Tamwil__V1__SignedOperation *sop, uint64_t request_id,
	      uint8_t *out, size_t out_cap, size_t *out_len)
{
	ops_pending *p = malloc(sizeof(*p));
	int rc;

	if (p == NULL)
		return -1;
	if (ops_prepare(srv, s, sop, request_id, p) == 0)
		(void)ops_apply_batch(srv, &p, 1);
	else
		ops_security_event(srv->st, p, (int64_t)time(NULL));
	rc = ops_answer(srv, srv->st, p, out, out_cap, out_len);
	ops_pending_clear(p);
	free(p);
	return rc;
}

/* 1 for the operations the server's own key may sign. */
static int ops_local_kind(const Tamwil__V1__Operation *op)
{
	switch (op->body_case) {
	case TAMWIL__V1__OPERATION__BODY_CREATE_REGION:
	case TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL:
	case TAMWIL__V1__OPERATION__BODY_REVOKE_PRINCIPAL:
		return 1;
	default:
		return 0;
	}
}

int ops_apply_local(server *srv, Tamwil__V1__Operation *op, uint64_t *seq,
		    char *err, size_t err_len)
{
	Tamwil__V1__SignedOperation sop = TAMWIL__V1__SIGNED_OPERATION__INIT;
	store_principal self = {0};
	ops_session s = {&self, "local", {0}, 0};
	ops_pending *p = calloc(1, sizeof(*p));
	uint8_t key[SIGNOP_IDEMPOTENCY_LEN], sig[SIGNOP_SIGLEN];
	uint8_t *bytes = NULL;
	size_t len;
	int rc = -1;

	/* The server acts as an admin of id 0, which no principal has. */
	snprintf(self.name, sizeof(self.name), "head office (tamwild)");
	snprintf(self.role, sizeof(self.role), "admin");
	memcpy(self.sign_pk, srv->key.sign_pk, sizeof(self.sign_pk));
	signop_new_idempotency_key(key);
	op->idempotency_key.data = key;
	op->idempotency_key.len = sizeof(key);
	op->client_time = (int64_t)time(NULL);
	len = tamwil__v1__operation__get_packed_size(op);
	if (p == NULL || !ops_local_kind(op) || len > AUDIT_OPERATION_MAX ||
	    (bytes = malloc(len)) == NULL) {
		snprintf(err, err_len, "not an operation tamwild signs itself");
		goto out;
	}
	tamwil__v1__operation__pack(op, bytes);
	if (signop_sign(bytes, len, &srv->key, sig) != 0 ||
	    signop_digest(bytes, len, p->digest) != 0) {
		snprintf(err, err_len, "cannot sign the operation");
		goto out;
	}
	sop.operation.data = bytes;
	sop.operation.len = len;
	sop.signer_key.data = srv->key.sign_pk;
	sop.signer_key.len = sizeof(srv->key.sign_pk);
	sop.signature.data = sig;
	sop.signature.len = sizeof(sig);
	p->s = &s;
	p->sop = &sop;
	p->op = op; /* the caller's: not freed here */
	p->outcome = OPS_PENDING;
	if (ops_apply_batch(srv, &p, 1) != 0 || p->outcome != OPS_APPLIED) {
		snprintf(err, err_len, "%s", p->ref.message);
		goto out;
	}
	*seq = p->res.seq;
	rc = 0;
out:
	op->idempotency_key.data = NULL;
	op->idempotency_key.len = 0;
	free(bytes);
	free(p);
	return rc;
}

void ops_session_clear(ops_session *s)
{
	sodium_memzero(s, sizeof(*s));
}
