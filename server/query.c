/*
 * Queries. Each handler reads through the store's callbacks into arrays
 * it owns, builds the protobuf answer over them and frees them before
 * returning: nothing of a query outlives its answer.
 */
#include "query.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "channel.h"
#include "log.h"
#include "pbuf.h"
#include "reply.h"
#include "text.h"

#define E(x)		   TAMWIL__V1__ERROR_CODE__ERROR_##x
#define QUERY_PAGE_DEFAULT 100
#define QUERY_PAGE_MAX	   500
/* Room kept in a frame for the page's own fields. */
#define QUERY_PAGE_SLACK 128
#define QUERY_SEALED_MAX 4200

/* An Application with the Money values it points to. */
typedef struct query_app {
	Tamwil__V1__Application msg;
	Tamwil__V1__Money requested, contribution, granted, disbursed, repaid;
	store_application row;
	char name[2 * STORE_NAME_MAX + 2];
} query_app;

typedef struct query_ctx {
	server *srv; /* read-only here: keys and settings */
	store *st;   /* the calling thread's read connection */
	const store_principal *who;
	uint64_t request_id;
	uint8_t *out;
	size_t cap, *len;
} query_ctx;

static int query_refuse(query_ctx *q, Tamwil__V1__ErrorCode code,
			const char *msg)
{
	return reply_error(q->request_id, code, msg, q->out, q->cap, q->len);
}

/* Packs a refusal for a helper that must say "answered": 1, or -1. */
static int query_refused(query_ctx *q, Tamwil__V1__ErrorCode code,
			 const char *msg)
{
	return query_refuse(q, code, msg) == 0 ? 1 : -1;
}

/*
 * 1 when every text is valid UTF-8 text of at most max bytes (texts ends
 * with NULL), 0 otherwise: filters are compared with what the store
 * holds, which is all such text.
 */
static int query_texts_valid(size_t max, const char *const *texts)
{
	for (; *texts != NULL; texts++) {
		size_t len = strlen(*texts);

		if (len > max || !text_valid(*texts, len))
			return 0;
	}
	return 1;
}

/* 1 if v is 0 (no filter) or a value of enum d. */
static int query_enum_valid(const ProtobufCEnumDescriptor *d, int v)
{
	return v == 0 || protobuf_c_enum_descriptor_get_value(d, v) != NULL;
}

static int query_internal(query_ctx *q, const char *what)
{
	log_error("%s: %s", what, store_errmsg(q->st));
	return query_refuse(q, E(INTERNAL), "the server could not read that");
}

static int query_is_coordinator(const query_ctx *q)
{
	return strcmp(q->who->role, "coordinator") == 0;
}

static void query_money(Tamwil__V1__Money *m, int64_t minor,
			const char *currency)
{
	tamwil__v1__money__init(m);
	m->minor = minor;
	m->currency = (char *)currency;
}

/* Opens the beneficiary's sealed identity into "first last"; "" on failure. */
static void query_name(query_ctx *q, int64_t beneficiary, char *out, size_t cap)
{
	uint8_t index[SEAL_INDEX_LEN], sealed[QUERY_SEALED_MAX];
	uint8_t plain[QUERY_SEALED_MAX];
	Tamwil__V1__Identity *id;
	unsigned version = 0;
	size_t n;

	out[0] = '\0';
	if (store_beneficiary_sealed(q->st, beneficiary, index, sealed,
				     sizeof(sealed), &n, &version) != 0 ||
	    n <= SEAL_REST_OVERHEAD ||
	    seal_rest_open(seal_ring_get(&q->srv->seal, version), sealed, n,
			   index, sizeof(index), plain) != 0) {
		log_error("beneficiary %lld: identity does not open (at-rest "
			  "key version %u)",
			  (long long)beneficiary, version);
		return;
	}
	id = (Tamwil__V1__Identity *)pbuf_unpack(
	    &tamwil__v1__identity__descriptor, n - SEAL_REST_OVERHEAD, plain,
	    PBUF_BUDGET_DEFAULT);
	sodium_memzero(plain, sizeof(plain));
	if (id == NULL)
		return;
	snprintf(out, cap, "%s %s", id->first_name, id->last_name);
	tamwil__v1__identity__free_unpacked(id, NULL);
}

/* Fills qa's message from its row. */
static void query_fill(query_ctx *q, query_app *qa)
{
	Tamwil__V1__Application *m = &qa->msg;
	const store_application *a = &qa->row;

	tamwil__v1__application__init(m);
	/* Names are for head office; a region sees references and figures. */
	qa->name[0] = '\0';
	if (!query_is_coordinator(q))
		query_name(q, a->beneficiary_id, qa->name, sizeof(qa->name));
	m->reference = (char *)a->reference;
	m->programme = (char *)a->programme;
	m->region = (char *)a->region;
	m->state = (Tamwil__V1__ApplicationState)a->state;
	m->sex = (Tamwil__V1__Sex)a->sex;
	m->birth_year = (uint32_t)a->birth_year;
	m->category = (Tamwil__V1__Category)a->category;
	m->sector = (char *)a->sector;
	m->activity = (char *)a->activity;
	m->financing_formula = (char *)a->formula;
	query_money(&qa->requested, a->requested, a->currency);
	query_money(&qa->contribution, a->contribution, a->currency);
	query_money(&qa->granted, a->granted, a->currency);
	query_money(&qa->disbursed, a->disbursed, a->currency);
	query_money(&qa->repaid, a->repaid, a->currency);
	m->amount_requested = &qa->requested;
	m->own_contribution = &qa->contribution;
	m->amount_granted = &qa->granted;
	m->amount_disbursed = &qa->disbursed;
	m->amount_repaid = &qa->repaid;
	m->submitted_by = (char *)a->submitted_by_name;
	m->decided_by = (char *)a->decided_by_name;
	m->reason = (char *)a->reason;
	m->submitted_at = a->submitted_at;
	m->decided_at = a->decided_at;
	m->beneficiary_name = qa->name;
}

/* ------------------------------------------------------------------ */

/* History of one application, gathered into growing arrays. */
typedef struct query_events {
	Tamwil__V1__ApplicationEvent **ptrs;
	Tamwil__V1__ApplicationEvent *ev;
	Tamwil__V1__Money *amounts;
	struct query_event_text {
		char action[64];
		char actor[STORE_NAME_MAX];
		char detail[STORE_TEXT_MAX];
	} * text;
	size_t n, cap;
	const char *currency;
} query_events;

static int query_on_event(void *arg, int64_t time, const char *action,
			  const char *actor, int64_t amount, const char *detail)
{
	query_events *e = arg;
	struct query_event_text *t;

	if (e->n == e->cap)
		return -1; /* more history than one answer holds */
	t = &e->text[e->n];
	snprintf(t->action, sizeof(t->action), "%s", action);
	snprintf(t->actor, sizeof(t->actor), "%s", actor);
	snprintf(t->detail, sizeof(t->detail), "%s", detail);
	tamwil__v1__application_event__init(&e->ev[e->n]);
	query_money(&e->amounts[e->n], amount, e->currency);
	e->ev[e->n].time = time;
	e->ev[e->n].action = t->action;
	e->ev[e->n].actor = t->actor;
	e->ev[e->n].detail = t->detail;
	e->ev[e->n].amount = &e->amounts[e->n];
	e->ptrs[e->n] = &e->ev[e->n];
	e->n++;
	return 0;
}

static int query_get(query_ctx *q, const Tamwil__V1__GetApplicationRequest *m)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__ApplicationDetail detail =
	    TAMWIL__V1__APPLICATION_DETAIL__INIT;
	query_events ev = {0};
	query_app *qa = calloc(1, sizeof(*qa));
	int rc;

	ev.cap = 40;
	ev.ptrs = calloc(ev.cap, sizeof(Tamwil__V1__ApplicationEvent *));
	ev.ev = calloc(ev.cap, sizeof(*ev.ev));
	ev.amounts = calloc(ev.cap, sizeof(*ev.amounts));
	ev.text = calloc(ev.cap, sizeof(*ev.text));
	if (qa == NULL || ev.ptrs == NULL || ev.ev == NULL ||
	    ev.amounts == NULL || ev.text == NULL) {
		rc = query_refuse(q, E(INTERNAL), "out of memory");
		goto out;
	}
	if (!query_texts_valid(STORE_REF_MAX - 1,
			       (const char *const[]){m->reference, NULL})) {
		rc = query_refuse(q, E(INVALID_ARGUMENT),
				  "an application reference is at most 31 "
				  "bytes of text, like LAG-2026-000123");
		goto out;
	}
	rc = store_application_get(q->st, m->reference, &qa->row);
	if (rc == STORE_NOT_FOUND ||
	    (rc == 0 && query_is_coordinator(q) &&
	     strcmp(qa->row.region, q->who->region) != 0)) {
		/* Another region's application is as unknown as a missing one.
		 */
		rc = query_refuse(q, E(UNKNOWN_APPLICATION),
				  "no such application in your view");
		goto out;
	}
	if (rc != 0) {
		rc = query_internal(q, "read application");
		goto out;
	}
	ev.currency = qa->row.currency;
	if (store_events(q->st, qa->row.id, query_on_event, &ev) != 0)
		log_warn("%s: history truncated", qa->row.reference);
	query_fill(q, qa);
	detail.application = &qa->msg;
	detail.n_events = ev.n;
	detail.events = ev.ptrs;
	resp.request_id = q->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_APPLICATION;
	resp.application = &detail;
	rc = reply_pack(&resp, q->out, q->cap, q->len);
out:
	free(ev.ptrs);
	free(ev.ev);
	free(ev.amounts);
	free(ev.text);
	if (qa != NULL)
		sodium_memzero(qa->name, sizeof(qa->name));
	free(qa);
	return rc;
}

/* ------------------------------------------------------------------ */

/* A page of applications under construction. */
typedef struct query_page {
	query_ctx *q;
	query_app *apps;
	Tamwil__V1__Application **ptrs;
	size_t n, cap;
	size_t bytes; /* packed size so far */
	int full;     /* the frame is full: stop here */
} query_page;

static int query_on_application(void *arg, const store_application *a)
{
	query_page *p = arg;
	query_app *qa;
	size_t sz;

	if (p->full || p->n == p->cap)
		return 0;
	qa = &p->apps[p->n];
	qa->row = *a;
	query_fill(p->q, qa);
	/* Each element costs its size plus a tag and a length prefix. */
	sz = tamwil__v1__application__get_packed_size(&qa->msg) + 4;
	if (p->bytes + sz > CHANNEL_MAX_PLAINTEXT - QUERY_PAGE_SLACK) {
		p->full = 1;
		return 0;
	}
	p->bytes += sz;
	p->ptrs[p->n] = &qa->msg;
	p->n++;
	return 0;
}

/*
 * Builds the store filter from the request: 0, or 1 once a refusal is
 * packed, or -1 when not even that was possible.
 */
static int query_filter(query_ctx *q,
			const Tamwil__V1__ListApplicationsRequest *m,
			store_filter *f)
{
	char *end = NULL;

	memset(f, 0, sizeof(*f));
	if (!query_texts_valid(STORE_NAME_MAX - 1,
			       (const char *const[]){m->region, m->programme,
						     m->sector, m->page_token,
						     NULL}))
		return query_refused(q, E(INVALID_ARGUMENT),
				     "the region, programme, sector and page "
				     "token filters are at most 255 bytes of "
				     "text each");
	if (!query_enum_valid(&tamwil__v1__application_state__descriptor,
			      (int)m->state) ||
	    !query_enum_valid(&tamwil__v1__category__descriptor,
			      (int)m->category) ||
	    !query_enum_valid(&tamwil__v1__sex__descriptor, (int)m->sex))
		return query_refused(q, E(INVALID_ARGUMENT),
				     "unknown state, category or sex in the "
				     "filter");
	f->region = m->region;
	if (query_is_coordinator(q)) {
		if (m->region[0] && strcmp(m->region, q->who->region) != 0)
			return query_refused(q, E(NOT_YOUR_REGION),
					     "you see your own region only");
		f->region = q->who->region;
	}
	f->programme = m->programme;
	f->sector = m->sector;
	f->state = (int)m->state;
	f->category = (int)m->category;
	f->sex = (int)m->sex;
	f->from = m->submitted_from;
	f->to = m->submitted_to;
	if (m->page_token[0] != '\0') {
		f->after_id = strtoll(m->page_token, &end, 10);
		if (*end != '\0' || f->after_id < 0)
			return query_refused(q, E(INVALID_ARGUMENT),
					     "the page token is not one this "
					     "server gave");
	}
	f->limit = m->page_size == 0 ? QUERY_PAGE_DEFAULT : m->page_size;
	if (f->limit > QUERY_PAGE_MAX)
		f->limit = QUERY_PAGE_MAX;
	return 0;
}

static int query_list(query_ctx *q,
		      const Tamwil__V1__ListApplicationsRequest *m)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__ApplicationPage page = TAMWIL__V1__APPLICATION_PAGE__INIT;
	query_page p = {q, NULL, NULL, 0, 0, 0, 0};
	char token[24] = "";
	store_filter f;
	uint64_t total = 0;
	int rc;

	rc = query_filter(q, m, &f);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	p.cap = f.limit;
	p.apps = calloc(p.cap, sizeof(*p.apps));
	p.ptrs = calloc(p.cap, sizeof(Tamwil__V1__Application *));
	if (p.apps == NULL || p.ptrs == NULL) {
		rc = query_refuse(q, E(INTERNAL), "out of memory");
		goto out;
	}
	if (store_applications(q->st, &f, query_on_application, &p, &total) !=
	    0) {
		rc = query_internal(q, "list applications");
		goto out;
	}
	/* More follow when the page is full or the frame was. */
	if (p.n > 0 && (p.full || p.n == p.cap))
		snprintf(token, sizeof(token), "%lld",
			 (long long)p.apps[p.n - 1].row.id);
	page.n_applications = p.n;
	page.applications = p.ptrs;
	page.next_page_token = token;
	page.total = total;
	resp.request_id = q->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_APPLICATIONS;
	resp.applications = &page;
	rc = reply_pack(&resp, q->out, q->cap, q->len);
out:
	if (p.apps != NULL)
		sodium_memzero(p.apps, p.cap * sizeof(*p.apps));
	free(p.apps);
	free(p.ptrs);
	return rc;
}

/* ------------------------------------------------------------------ */

/* Programmes with the Money values and category lists they point to. */
typedef struct query_prog {
	Tamwil__V1__Programme msg;
	Tamwil__V1__Money envelope, ceiling, granted, disbursed, remaining;
	Tamwil__V1__Category cats[32];
	store_programme row;
} query_prog;

typedef struct query_progs {
	query_prog *v;
	Tamwil__V1__Programme **ptrs;
	size_t n, cap;
} query_progs;

static int query_on_programme(void *arg, const store_programme *p)
{
	query_progs *ps = arg;
	query_prog *qp;
	Tamwil__V1__Programme *m;

	if (ps->n == ps->cap)
		return -1;
	qp = &ps->v[ps->n];
	qp->row = *p;
	m = &qp->msg;
	tamwil__v1__programme__init(m);
	m->code = qp->row.code;
	m->name = qp->row.name;
	query_money(&qp->envelope, p->envelope, qp->row.currency);
	query_money(&qp->ceiling, p->ceiling, qp->row.currency);
	query_money(&qp->granted, p->granted, qp->row.currency);
	query_money(&qp->disbursed, p->disbursed, qp->row.currency);
	query_money(&qp->remaining, p->envelope - p->granted, qp->row.currency);
	m->envelope = &qp->envelope;
	m->ceiling = &qp->ceiling;
	m->granted = &qp->granted;
	m->disbursed = &qp->disbursed;
	m->remaining = &qp->remaining;
	m->period_start = qp->row.period_start;
	m->period_end = qp->row.period_end;
	m->target_beneficiaries = p->target;
	m->beneficiaries = p->beneficiaries;
	for (int c = 1; c < 32; c++) {
		if (p->categories & (1u << c))
			qp->cats[m->n_eligible_categories++] =
			    (Tamwil__V1__Category)c;
	}
	m->eligible_categories = qp->cats;
	ps->ptrs[ps->n++] = m;
	return 0;
}

static int query_programmes(query_ctx *q)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__ProgrammeList list = TAMWIL__V1__PROGRAMME_LIST__INIT;
	query_progs ps = {NULL, NULL, 0, 200};
	int rc;

	ps.v = calloc(ps.cap, sizeof(*ps.v));
	ps.ptrs = calloc(ps.cap, sizeof(Tamwil__V1__Programme *));
	if (ps.v == NULL || ps.ptrs == NULL) {
		rc = query_refuse(q, E(INTERNAL), "out of memory");
		goto out;
	}
	if (store_programmes(q->st, query_on_programme, &ps) != 0) {
		rc = query_internal(q, "list programmes");
		goto out;
	}
	list.n_programmes = ps.n;
	list.programmes = ps.ptrs;
	resp.request_id = q->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_PROGRAMMES;
	resp.programmes = &list;
	rc = reply_pack(&resp, q->out, q->cap, q->len);
out:
	free(ps.v);
	free(ps.ptrs);
	return rc;
}

/* Regions, copied out of the store's rows. */
typedef struct query_regions {
	Tamwil__V1__Region *v;
	Tamwil__V1__Region **ptrs;
	char (*text)[2][STORE_NAME_MAX];
	size_t n, cap;
} query_regions;

static int query_on_region(void *arg, const char *code, const char *name)
{
	query_regions *rs = arg;

	if (rs->n == rs->cap)
		return -1;
	snprintf(rs->text[rs->n][0], STORE_NAME_MAX, "%s", code);
	snprintf(rs->text[rs->n][1], STORE_NAME_MAX, "%s", name);
	tamwil__v1__region__init(&rs->v[rs->n]);
	rs->v[rs->n].code = rs->text[rs->n][0];
	rs->v[rs->n].name = rs->text[rs->n][1];
	rs->ptrs[rs->n] = &rs->v[rs->n];
	rs->n++;
	return 0;
}

static int query_regions_list(query_ctx *q)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__RegionList list = TAMWIL__V1__REGION_LIST__INIT;
	query_regions rs = {NULL, NULL, NULL, 0, 100};
	int rc;

	rs.v = calloc(rs.cap, sizeof(*rs.v));
	rs.ptrs = calloc(rs.cap, sizeof(Tamwil__V1__Region *));
	rs.text = calloc(rs.cap, sizeof(*rs.text));
	if (rs.v == NULL || rs.ptrs == NULL || rs.text == NULL) {
		rc = query_refuse(q, E(INTERNAL), "out of memory");
		goto out;
	}
	if (store_regions(q->st, query_on_region, &rs) != 0) {
		rc = query_internal(q, "list regions");
		goto out;
	}
	list.n_regions = rs.n;
	list.regions = rs.ptrs;
	resp.request_id = q->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_REGIONS;
	resp.regions = &list;
	rc = reply_pack(&resp, q->out, q->cap, q->len);
out:
	free(rs.v);
	free(rs.ptrs);
	free(rs.text);
	return rc;
}

/* ------------------------------------------------------------------ */

typedef struct query_rows {
	Tamwil__V1__ReportRow *v;
	Tamwil__V1__ReportRow **ptrs;
	char (*text)[2][STORE_NAME_MAX];
	size_t n, cap;
	enum store_group by;
} query_rows;

/* The label of a group: codes and sectors as they are, enums by name. */
static void query_group_label(enum store_group by, const char *group, char *out,
			      size_t cap)
{
	const ProtobufCEnumValue *v;
	const char *name;
	int n = atoi(group);

	if (by == STORE_GROUP_SEX) {
		snprintf(out, cap, "%s", n == 1 ? "F" : n == 2 ? "M" : "?");
		return;
	}
	if (by != STORE_GROUP_CATEGORY) {
		snprintf(out, cap, "%s", group);
		return;
	}
	v = protobuf_c_enum_descriptor_get_value(
	    &tamwil__v1__category__descriptor, n);
	name = v != NULL ? v->name + strlen("CATEGORY_") : "UNKNOWN";
	snprintf(out, cap, "%s", name);
	for (char *p = out; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
}

static int query_on_row(void *arg, const store_report_row *r)
{
	query_rows *rs = arg;
	Tamwil__V1__ReportRow *m;

	if (rs->n == rs->cap)
		return -1;
	m = &rs->v[rs->n];
	tamwil__v1__report_row__init(m);
	query_group_label(rs->by, r->group, rs->text[rs->n][0], STORE_NAME_MAX);
	snprintf(rs->text[rs->n][1], STORE_NAME_MAX, "%s", r->currency);
	m->group = rs->text[rs->n][0];
	m->currency = rs->text[rs->n][1];
	m->submitted = r->submitted;
	m->approved = r->approved;
	m->rejected = r->rejected;
	m->withdrawn = r->withdrawn;
	m->disbursed = r->disbursed;
	m->women = r->women;
	m->amount_requested = r->requested;
	m->amount_granted = r->granted;
	m->amount_disbursed = r->disbursed_amount;
	m->amount_repaid = r->repaid;
	rs->ptrs[rs->n++] = m;
	return 0;
}

static int query_report(query_ctx *q, const Tamwil__V1__ReportRequest *m)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__ReportResponse rep = TAMWIL__V1__REPORT_RESPONSE__INIT;
	query_rows rs = {NULL, NULL, NULL, 0, 200, STORE_GROUP_REGION};
	const char *region = m->region;
	int rc;

	if (m->group_by < TAMWIL__V1__REPORT_GROUP__GROUP_REGION ||
	    m->group_by > TAMWIL__V1__REPORT_GROUP__GROUP_MONTH)
		return query_refuse(q, E(INVALID_ARGUMENT),
				    "group by region, programme, sector, sex, "
				    "category or month");
	if (!query_texts_valid(
		STORE_NAME_MAX - 1,
		(const char *const[]){m->programme, m->region, NULL}))
		return query_refuse(q, E(INVALID_ARGUMENT),
				    "the programme and region filters are at "
				    "most 255 bytes of text each");
	if (query_is_coordinator(q)) {
		if (region[0] && strcmp(region, q->who->region) != 0)
			return query_refuse(q, E(NOT_YOUR_REGION),
					    "you see your own region only");
		region = q->who->region;
	}
	rs.by = (enum store_group)m->group_by;
	rs.v = calloc(rs.cap, sizeof(*rs.v));
	rs.ptrs = calloc(rs.cap, sizeof(Tamwil__V1__ReportRow *));
	rs.text = calloc(rs.cap, sizeof(*rs.text));
	if (rs.v == NULL || rs.ptrs == NULL || rs.text == NULL) {
		rc = query_refuse(q, E(INTERNAL), "out of memory");
		goto out;
	}
	if (store_report(q->st, rs.by, m->programme, region, query_on_row,
			 &rs) != 0) {
		rc = query_internal(q, "build the report");
		goto out;
	}
	rep.group_by = m->group_by;
	rep.n_rows = rs.n;
	rep.rows = rs.ptrs;
	resp.request_id = q->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_REPORT;
	resp.report = &rep;
	rc = reply_pack(&resp, q->out, q->cap, q->len);
out:
	free(rs.v);
	free(rs.ptrs);
	free(rs.text);
	return rc;
}

/* ------------------------------------------------------------------ */

static int query_may_read_log(const query_ctx *q)
{
	return strcmp(q->who->role, "auditor") == 0 ||
	       strcmp(q->who->role, "admin") == 0;
}

/* The newest checkpoint, with a consistency proof from since_size. */
static int query_checkpoint(query_ctx *q,
			    const Tamwil__V1__CheckpointRequest *m)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__CheckpointResponse body =
	    TAMWIL__V1__CHECKPOINT_RESPONSE__INIT;
	Tamwil__V1__Checkpoint cp_msg;
	ProtobufCBinaryData proof_msg[MERKLE_MAX_PROOF];
	merkle_hash proof[MERKLE_MAX_PROOF];
	checkpoint cp;
	size_t n = 0;
	int rc = audit_latest(q->st, &cp);

	if (rc < 0)
		return query_internal(q, "read the newest checkpoint");
	if (rc == 1)
		return query_refuse(
		    q, E(NOT_FOUND),
		    "the log is still empty: no checkpoint yet");
	if (m->since_size > cp.size)
		return query_refuse(q, E(INVALID_ARGUMENT),
				    "you saw a larger log than the server "
				    "has now: it may have been rolled back");
	if (m->since_size > 0 && m->since_size < cp.size &&
	    audit_consistency(q->st, m->since_size, cp.size, proof, &n) != 0)
		return query_internal(q, "build the consistency proof");
	for (size_t i = 0; i < n; i++) {
		proof_msg[i].data = proof[i];
		proof_msg[i].len = MERKLE_HASHLEN;
	}
	audit_checkpoint_message(&cp, &cp_msg);
	body.checkpoint = &cp_msg;
	body.n_consistency_proof = n;
	body.consistency_proof = proof_msg;
	resp.request_id = q->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_CHECKPOINT;
	resp.checkpoint = &body;
	return reply_pack(&resp, q->out, q->cap, q->len);
}

/* 1 if the entry was signed by the asking principal. */
static int query_entry_is_mine(const query_ctx *q, const audit_receipt *r)
{
	Tamwil__V1__LogEntry *e;
	int mine;

	e = (Tamwil__V1__LogEntry *)pbuf_unpack(
	    &tamwil__v1__log_entry__descriptor, r->entry_len, r->entry,
	    PBUF_BUDGET_DEFAULT);
	if (e == NULL)
		return 0;
	mine = e->operation != NULL &&
	       e->operation->signer_key.len == STORE_KEYLEN &&
	       memcmp(e->operation->signer_key.data, q->who->sign_pk,
		      STORE_KEYLEN) == 0;
	tamwil__v1__log_entry__free_unpacked(e, NULL);
	return mine;
}

/* A receipt for one entry: one's own, or any for auditors and admins. */
static int query_inclusion(query_ctx *q, const Tamwil__V1__InclusionRequest *m)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__InclusionResponse body =
	    TAMWIL__V1__INCLUSION_RESPONSE__INIT;
	Tamwil__V1__Receipt receipt;
	audit_receipt *r = malloc(sizeof(*r));
	int rc;

	if (r == NULL)
		return query_refuse(q, E(INTERNAL), "out of memory");
	if (audit_receipt_build(q->st, m->sequence, m->tree_size, r) != 0) {
		rc = query_refuse(q, E(NOT_FOUND), "no such log entry");
		goto out;
	}
	if (!query_may_read_log(q) && !query_entry_is_mine(q, r)) {
		rc = query_refuse(q, E(PERMISSION_DENIED),
				  "only auditors and admins read others' "
				  "log entries");
		goto out;
	}
	audit_receipt_message(r, &receipt);
	body.receipt = &receipt;
	resp.request_id = q->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_INCLUSION;
	resp.inclusion = &body;
	rc = reply_pack(&resp, q->out, q->cap, q->len);
out:
	free(r);
	return rc;
}

/* A page of entries and their checkpoints, bounded by a frame. */
typedef struct query_log_page {
	ProtobufCBinaryData *entries;
	Tamwil__V1__Checkpoint *cps;
	Tamwil__V1__Checkpoint **cp_ptrs;
	checkpoint *cp_rows;
	uint8_t *buf;
	size_t n, ncp, max, used;
} query_log_page;

/*
 * Adds entry seq and, when it completed one (the last entry of its
 * transaction), the checkpoint of size seq + 1 to the page; 1 when the
 * frame is full, 0 when added, -1 on failure.
 */
static int query_log_add(query_ctx *q, query_log_page *p, uint64_t seq)
{
	/* An entry costs its bytes, a checkpoint ~120; each ~4 of framing. */
	size_t room = CHANNEL_MAX_PLAINTEXT - QUERY_PAGE_SLACK - p->used, len;
	store_checkpoint row;
	checkpoint *cp = &p->cp_rows[p->ncp];
	int rc;

	if (room < 256 || store_log_entry(q->st, seq, p->buf + p->used,
					  room - 256, &len) != 0)
		return 1;
	rc = store_checkpoint_at(q->st, seq + 1, &row);
	if (rc != 0 && rc != STORE_NOT_FOUND)
		return -1;
	p->entries[p->n].data = p->buf + p->used;
	p->entries[p->n].len = len;
	p->used += len + 4;
	p->n++;
	if (rc == STORE_NOT_FOUND)
		return 0;
	cp->size = row.size;
	memcpy(cp->root, row.root, sizeof(row.root));
	cp->time = row.time;
	memcpy(cp->sig, row.sig, sizeof(row.sig));
	audit_checkpoint_message(cp, &p->cps[p->ncp]);
	p->cp_ptrs[p->ncp] = &p->cps[p->ncp];
	p->used += 128;
	p->ncp++;
	return 0;
}

/* A page of serialized entries from start, as many as fit one frame. */
static int query_log_entries(query_ctx *q,
			     const Tamwil__V1__LogEntriesRequest *m)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__LogEntriesPage page = TAMWIL__V1__LOG_ENTRIES_PAGE__INIT;
	enum { QUERY_LOG_PAGE = 500 };
	query_log_page p = {0};
	uint64_t size;
	int rc;

	if (!query_may_read_log(q))
		return query_refuse(q, E(PERMISSION_DENIED),
				    "only auditors and admins read the log");
	p.max =
	    m->max == 0 || m->max > QUERY_LOG_PAGE ? QUERY_LOG_PAGE : m->max;
	p.entries = calloc(p.max, sizeof(*p.entries));
	p.cps = calloc(p.max, sizeof(*p.cps));
	p.cp_ptrs = calloc(p.max, sizeof(Tamwil__V1__Checkpoint *));
	p.cp_rows = calloc(p.max, sizeof(*p.cp_rows));
	p.buf = malloc(CHANNEL_MAX_PLAINTEXT);
	if (p.entries == NULL || p.cps == NULL || p.cp_ptrs == NULL ||
	    p.cp_rows == NULL || p.buf == NULL ||
	    store_log_size(q->st, &size) != 0) {
		rc = query_internal(q, "read the log");
		goto out;
	}
	for (uint64_t seq = m->start; seq < size && p.n < p.max; seq++) {
		rc = query_log_add(q, &p, seq);
		if (rc < 0) {
			rc = query_internal(q, "read the log");
			goto out;
		}
		if (rc > 0)
			break;
	}
	page.n_entries = p.n;
	page.entries = p.entries;
	page.n_checkpoints = p.ncp;
	page.checkpoints = p.cp_ptrs;
	page.tree_size = size;
	resp.request_id = q->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_LOG_ENTRIES;
	resp.log_entries = &page;
	rc = reply_pack(&resp, q->out, q->cap, q->len);
out:
	free(p.entries);
	free(p.cps);
	free(p.cp_ptrs);
	free(p.cp_rows);
	free(p.buf);
	return rc;
}

/* Security events, copied out of the store's rows. */
typedef struct query_events_sec {
	Tamwil__V1__SecurityEvent *v;
	Tamwil__V1__SecurityEvent **ptrs;
	struct query_sec_text {
		char principal[STORE_NAME_MAX];
		char peer[96];
		char kind[32];
		char reason[REPLY_MESSAGE_MAX];
	} * text;
	size_t n, cap;
} query_events_sec;

static int query_on_security(void *arg, int64_t time, const char *principal,
			     const char *peer, const char *kind,
			     const char *reason)
{
	query_events_sec *e = arg;
	struct query_sec_text *t;

	if (e->n == e->cap)
		return 1;
	t = &e->text[e->n];
	snprintf(t->principal, sizeof(t->principal), "%s", principal);
	snprintf(t->peer, sizeof(t->peer), "%s", peer);
	snprintf(t->kind, sizeof(t->kind), "%s", kind);
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
	tamwil__v1__security_event__init(&e->v[e->n]);
	e->v[e->n].time = time;
	e->v[e->n].principal = t->principal;
	e->v[e->n].peer = t->peer;
	e->v[e->n].kind = t->kind;
	e->v[e->n].reason = t->reason;
	e->ptrs[e->n] = &e->v[e->n];
	e->n++;
	return 0;
}

/* The newest security events, for auditors and admins. */
static int query_security(query_ctx *q,
			  const Tamwil__V1__SecurityEventsRequest *m)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__SecurityEventList list =
	    TAMWIL__V1__SECURITY_EVENT_LIST__INIT;
	query_events_sec e = {0};
	int rc;

	if (!query_may_read_log(q))
		return query_refuse(q, E(PERMISSION_DENIED),
				    "only auditors and admins read the "
				    "security events");
	e.cap = m->limit == 0 ? 200 : m->limit > 1000 ? 1000 : m->limit;
	e.v = calloc(e.cap, sizeof(*e.v));
	e.ptrs = calloc(e.cap, sizeof(Tamwil__V1__SecurityEvent *));
	e.text = calloc(e.cap, sizeof(*e.text));
	if (e.v == NULL || e.ptrs == NULL || e.text == NULL) {
		rc = query_refuse(q, E(INTERNAL), "out of memory");
		goto out;
	}
	if (store_security_events(q->st, m->since, (uint32_t)e.cap,
				  query_on_security, &e) < 0) {
		rc = query_internal(q, "list security events");
		goto out;
	}
	list.n_events = e.n;
	list.events = e.ptrs;
	resp.request_id = q->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_SECURITY_EVENTS;
	resp.security_events = &list;
	rc = reply_pack(&resp, q->out, q->cap, q->len);
out:
	free(e.v);
	free(e.ptrs);
	free(e.text);
	return rc;
}

int query_answer(server *srv, store *st, const store_principal *who,
		 const Tamwil__V1__Request *req, uint8_t *out, size_t out_cap,
		 size_t *out_len)
{
	query_ctx q = {srv, st, who, req->request_id, out, out_cap, out_len};

	switch (req->body_case) {
	case TAMWIL__V1__REQUEST__BODY_GET_APPLICATION:
		return query_get(&q, req->get_application);
	case TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS:
		return query_list(&q, req->list_applications);
	case TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES:
		return query_programmes(&q);
	case TAMWIL__V1__REQUEST__BODY_LIST_REGIONS:
		return query_regions_list(&q);
	case TAMWIL__V1__REQUEST__BODY_REPORT:
		return query_report(&q, req->report);
	case TAMWIL__V1__REQUEST__BODY_CHECKPOINT:
		return query_checkpoint(&q, req->checkpoint);
	case TAMWIL__V1__REQUEST__BODY_INCLUSION:
		return query_inclusion(&q, req->inclusion);
	case TAMWIL__V1__REQUEST__BODY_LOG_ENTRIES:
		return query_log_entries(&q, req->log_entries);
	case TAMWIL__V1__REQUEST__BODY_SECURITY_EVENTS:
		return query_security(&q, req->security_events);
	default:
		return query_refuse(&q, E(BAD_REQUEST), "not a query");
	}
}
