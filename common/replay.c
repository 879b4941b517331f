/*
 * Offline verification of the audit log. The state it rebuilds is only
 * what the log decides (who may act, programmes' budgets, applications'
 * states and amounts); sealed personal fields are opened only when the
 * auditor gives head office's data key (replay_set_data_key). The
 * tree is kept as its frontier: the perfect subtrees of the current size,
 * at most 64 hashes, so memory does not grow with the log.
 */
#include "replay.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "merkle.h"
#include "money.h"
#include "pbuf.h"
#include "role.h"
#include "seal.h"
#include "signop.h"
#include "text.h"

#define REPLAY_KEYLEN	32
#define REPLAY_CODE_MAX 64
#define REPLAY_REF_MAX	32

typedef struct replay_principal {
	uint8_t sign_pk[REPLAY_KEYLEN];
	uint8_t noise_pk[REPLAY_KEYLEN];
	int role;
	char region[REPLAY_CODE_MAX];
	int active;
} replay_principal;

typedef struct replay_programme {
	char code[REPLAY_CODE_MAX];
	char currency[8];
	int64_t envelope, ceiling, granted, disbursed;
	int checked;
} replay_programme;

typedef struct replay_app {
	char reference[REPLAY_REF_MAX]; /* "" marks a free slot */
	size_t programme;
	char region[REPLAY_CODE_MAX];
	int state;
	int64_t requested, granted, disbursed, repaid;
	long submitter, approver; /* principal indexes; -1 for the server */
	int checked;
} replay_app;

struct replay {
	uint8_t server_pk[REPLAY_KEYLEN];
	uint64_t size;
	merkle_hash frontier[64];
	unsigned levels[64];
	int nfrontier;
	replay_principal *principals;
	size_t nprincipals, cap_principals;
	replay_programme *programmes;
	size_t nprogrammes, cap_programmes;
	replay_app *apps; /* open addressing on the reference */
	size_t napps, cap_apps;
	/* Head office's data secret key, to open sealed identities. */
	uint8_t data_sk[SEAL_KEYLEN];
	int has_data;
	uint64_t identities; /* sealed identities opened and checked */
	/* The entry being replayed, for messages. */
	uint64_t seq;
	long signer; /* principal index, -1 for the server */
	char *err;
	size_t err_len;
};

/* Writes "entry N: ..." into the caller's buffer; returns -1. */
static int replay_fail(replay *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int replay_fail(replay *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, r->err_len,
			 "entry %llu: ", (unsigned long long)r->seq);

	if (n < 0 || (size_t)n >= r->err_len)
		return -1;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

replay *replay_new(const uint8_t *server_sign_pk)
{
	replay *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	memcpy(r->server_pk, server_sign_pk, REPLAY_KEYLEN);
	r->cap_apps = 1024;
	r->apps = calloc(r->cap_apps, sizeof(*r->apps));
	if (r->apps == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void replay_free(replay *r)
{
	if (r == NULL)
		return;
	free(r->principals);
	free(r->programmes);
	free(r->apps);
	sodium_memzero(r->data_sk, sizeof(r->data_sk));
	free(r);
}

void replay_set_data_key(replay *r, const uint8_t *data_sk)
{
	memcpy(r->data_sk, data_sk, sizeof(r->data_sk));
	r->has_data = 1;
}

uint64_t replay_identities(const replay *r)
{
	return r->identities;
}

uint64_t replay_size(const replay *r)
{
	return r->size;
}

void replay_counts(const replay *r, uint64_t *applications,
		   uint64_t *programmes, uint64_t *principals)
{
	*applications = r->napps;
	*programmes = r->nprogrammes;
	*principals = r->nprincipals;
}

/* ------------------------------------------------------------------ */
/* The tree's frontier. */

/* Adds a leaf: push it, then merge equal levels from the right. */
static int replay_push_leaf(replay *r, const merkle_hash leaf)
{
	memcpy(r->frontier[r->nfrontier], leaf, MERKLE_HASHLEN);
	r->levels[r->nfrontier++] = 0;
	while (r->nfrontier >= 2 &&
	       r->levels[r->nfrontier - 1] == r->levels[r->nfrontier - 2]) {
		merkle_hash up;
		if (merkle_node_hash(r->frontier[r->nfrontier - 2],
				     r->frontier[r->nfrontier - 1], up) != 0)
			return -1;
		r->nfrontier--;
		memcpy(r->frontier[r->nfrontier - 1], up, MERKLE_HASHLEN);
		r->levels[r->nfrontier - 1]++;
	}
	return 0;
}

/* The root of the current tree: the frontier folded from the right. */
static int replay_root(const replay *r, merkle_hash root)
{
	if (r->nfrontier == 0)
		return -1; /* no checkpoint has an empty tree */
	memcpy(root, r->frontier[r->nfrontier - 1], MERKLE_HASHLEN);
	for (int i = r->nfrontier - 2; i >= 0; i--) {
		if (merkle_node_hash(r->frontier[i], root, root) != 0)
			return -1;
	}
	return 0;
}

int replay_checkpoint(replay *r, const checkpoint *cp, char *err,
		      size_t err_len)
{
	merkle_hash root;

	r->err = err;
	r->err_len = err_len;
	r->seq = cp->size == 0 ? 0 : cp->size - 1;
	if (checkpoint_verify(cp, r->server_pk) != 0)
		return replay_fail(r,
				   "the checkpoint of size %llu is not "
				   "signed by the server's key",
				   (unsigned long long)cp->size);
	if (cp->size != r->size)
		return replay_fail(r,
				   "a checkpoint of size %llu comes after "
				   "%llu entries",
				   (unsigned long long)cp->size,
				   (unsigned long long)r->size);
	if (replay_root(r, root) != 0 ||
	    memcmp(root, cp->root, MERKLE_HASHLEN) != 0)
		return replay_fail(r,
				   "the checkpoint of size %llu states "
				   "another root than its entries give",
				   (unsigned long long)cp->size);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The state the log decides. */

static long replay_principal_by_sign(const replay *r, const uint8_t *pk)
{
	for (size_t i = 0; i < r->nprincipals; i++) {
		if (memcmp(r->principals[i].sign_pk, pk, REPLAY_KEYLEN) == 0)
			return (long)i;
	}
	return -1;
}

static long replay_principal_by_noise(const replay *r, const uint8_t *pk)
{
	for (size_t i = 0; i < r->nprincipals; i++) {
		if (memcmp(r->principals[i].noise_pk, pk, REPLAY_KEYLEN) == 0)
			return (long)i;
	}
	return -1;
}

static long replay_programme_find(const replay *r, const char *code)
{
	for (size_t i = 0; i < r->nprogrammes; i++) {
		if (strcmp(r->programmes[i].code, code) == 0)
			return (long)i;
	}
	return -1;
}

/* FNV-1a of a reference, for the application table. */
static size_t replay_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (size_t)h;
}

/* The slot of reference: its own, or the free one where it would go. */
static replay_app *replay_slot(const replay *r, const char *reference)
{
	size_t i = replay_hash(reference) & (r->cap_apps - 1);

	while (r->apps[i].reference[0] != '\0' &&
	       strcmp(r->apps[i].reference, reference) != 0)
		i = (i + 1) & (r->cap_apps - 1);
	return &r->apps[i];
}

static replay_app *replay_app_find(const replay *r, const char *reference)
{
	replay_app *a = replay_slot(r, reference);

	return a->reference[0] != '\0' ? a : NULL;
}

/* Doubles the application table when it is half full. */
static int replay_grow_apps(replay *r)
{
	replay_app *old = r->apps;
	size_t old_cap = r->cap_apps;

	if (r->napps * 2 < r->cap_apps)
		return 0;
	r->apps = calloc(old_cap * 2, sizeof(*r->apps));
	if (r->apps == NULL) {
		r->apps = old;
		return -1;
	}
	r->cap_apps = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].reference[0] != '\0')
			*replay_slot(r, old[i].reference) = old[i];
	}
	free(old);
	return 0;
}

/* Grows an array of n elements of size sz to hold one more. */
static int replay_reserve(void **v, size_t n, size_t *cap, size_t sz)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, (*cap ? *cap * 2 : 16) * sz);
	if (p == NULL)
		return -1;
	*v = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Who may sign what. */

static int replay_signer_role(const replay *r)
{
	return r->signer < 0 ? TAMWIL__V1__ROLE__ROLE_ADMIN
			     : r->principals[r->signer].role;
}

/* Refuses unless the signer holds one of two roles (0: none). */
static int replay_need_role(replay *r, int role1, int role2, const char *what)
{
	int role = replay_signer_role(r);

	if (role == role1 || (role2 != 0 && role == role2))
		return 0;
	return replay_fail(r, "signed by a %s, who may not %s",
			   role_name(role) ? role_name(role) : "?", what);
}

/* Refuses a coordinator acting outside its region. */
static int replay_need_region(replay *r, const char *region)
{
	const replay_principal *p;

	if (r->signer < 0)
		return 0;
	p = &r->principals[r->signer];
	if (p->role != TAMWIL__V1__ROLE__ROLE_COORDINATOR ||
	    strcmp(p->region, region) == 0)
		return 0;
	return replay_fail(r, "a coordinator of %s acted in region %s",
			   p->region, region);
}

/* Refuses operations the server's own key may not sign. */
static int replay_need_person(replay *r)
{
	if (r->signer >= 0)
		return 0;
	return replay_fail(r, "the server's key signed an operation on a "
			      "programme or an application, which only people "
			      "may do");
}

/* The application an operation names; NULL after failing. */
static replay_app *replay_need_app(replay *r, const char *reference)
{
	replay_app *a = replay_app_find(r, reference);

	if (a == NULL)
		replay_fail(r,
			    "names application %s, which no earlier entry "
			    "submitted",
			    reference);
	return a;
}

static int64_t replay_money(const Tamwil__V1__Money *m)
{
	return m != NULL ? m->minor : 0;
}

/* ------------------------------------------------------------------ */
/* Operations, as the daemon applies them (server/ops.c). */

static int replay_region(replay *r, const Tamwil__V1__CreateRegion *m)
{
	(void)m;
	return replay_need_role(r, TAMWIL__V1__ROLE__ROLE_ADMIN, 0,
				"create a region");
}

static int replay_create_programme(replay *r,
				   const Tamwil__V1__CreateProgramme *m)
{
	replay_programme *p;

	if (replay_need_person(r) ||
	    replay_need_role(r, TAMWIL__V1__ROLE__ROLE_ADMIN, 0,
			     "create a programme"))
		return -1;
	if (m->envelope == NULL || m->ceiling == NULL)
		return replay_fail(r,
				   "a programme without envelope or ceiling");
	if (replay_programme_find(r, m->code) >= 0)
		return replay_fail(r, "programme %s created twice", m->code);
	if (replay_reserve((void **)&r->programmes, r->nprogrammes,
			   &r->cap_programmes, sizeof(*r->programmes)) != 0)
		return replay_fail(r, "out of memory");
	p = &r->programmes[r->nprogrammes++];
	memset(p, 0, sizeof(*p));
	snprintf(p->code, sizeof(p->code), "%s", m->code);
	snprintf(p->currency, sizeof(p->currency), "%s", m->envelope->currency);
	p->envelope = m->envelope->minor;
	p->ceiling = m->ceiling->minor;
	return 0;
}

static int replay_enrol(replay *r, const Tamwil__V1__EnrolPrincipal *m)
{
	replay_principal *p;

	if (replay_need_role(r, TAMWIL__V1__ROLE__ROLE_ADMIN, 0,
			     "enrol a principal"))
		return -1;
	if (m->sign_key.len != REPLAY_KEYLEN ||
	    m->noise_key.len != REPLAY_KEYLEN ||
	    role_name((int)m->role) == NULL)
		return replay_fail(r,
				   "an enrolment with malformed keys or role");
	if (replay_principal_by_sign(r, m->sign_key.data) >= 0 ||
	    replay_principal_by_noise(r, m->noise_key.data) >= 0)
		return replay_fail(r, "a key enrolled twice");
	if (replay_reserve((void **)&r->principals, r->nprincipals,
			   &r->cap_principals, sizeof(*r->principals)) != 0)
		return replay_fail(r, "out of memory");
	p = &r->principals[r->nprincipals++];
	memset(p, 0, sizeof(*p));
	memcpy(p->sign_pk, m->sign_key.data, REPLAY_KEYLEN);
	memcpy(p->noise_pk, m->noise_key.data, REPLAY_KEYLEN);
	p->role = (int)m->role;
	snprintf(p->region, sizeof(p->region), "%s", m->region);
	p->active = 1;
	return 0;
}

static int replay_revoke(replay *r, const Tamwil__V1__RevokePrincipal *m)
{
	long i;

	if (replay_need_role(r, TAMWIL__V1__ROLE__ROLE_ADMIN, 0,
			     "revoke a principal"))
		return -1;
	i = m->noise_key.len == REPLAY_KEYLEN
		? replay_principal_by_noise(r, m->noise_key.data)
		: -1;
	if (i < 0 || !r->principals[i].active)
		return replay_fail(r, "revokes a key that is not enrolled");
	if (i == r->signer)
		return replay_fail(r, "a principal revoked itself");
	r->principals[i].active = 0;
	return 0;
}

/* A sealed identity's fields, as head office checks them on submission. */
static int replay_identity_fields(replay *r, const Tamwil__V1__Identity *id,
				  uint32_t birth_year)
{
	int year;

	if (!text_valid_name(id->national_id, 64) ||
	    !text_valid_name(id->first_name, 200) ||
	    !text_valid_name(id->last_name, 200) ||
	    !text_valid(id->phone, strlen(id->phone)) ||
	    !text_valid(id->address, strlen(id->address)))
		return replay_fail(r, "the sealed identity's ID, names or "
				      "contact are missing or not text");
	if (!text_valid_date(id->birth_date, &year) ||
	    (uint32_t)year != birth_year)
		return replay_fail(r,
				   "the sealed birth date does not agree with "
				   "the birth year %u in clear",
				   birth_year);
	return 0;
}

/*
 * With head office's data key: opens the identity the submitter sealed
 * and checks it as head office did when it accepted it.
 */
static int replay_identity(replay *r, const Tamwil__V1__SubmitApplication *m)
{
	uint8_t key[SEAL_KEYLEN], plain[4096];
	Tamwil__V1__Identity *id;
	pbuf_budget budget;
	const ProtobufCBinaryData *box = &m->identity_box;
	int rc = -1;

	if (!r->has_data)
		return 0;
	if (seal_box_key(key, r->principals[r->signer].noise_pk, r->data_sk) !=
	    0)
		return replay_fail(r, "the submitter's key cannot have sealed "
				      "to head office");
	if (box->len <= SEAL_BOX_OVERHEAD || box->len > sizeof(plain) ||
	    seal_box_open(key, box->data, box->len, plain) != 0) {
		rc = replay_fail(r, "the sealed identity does not open with "
				    "the data key given");
		goto out;
	}
	pbuf_budget_init(&budget, PBUF_BUDGET_DEFAULT);
	id = tamwil__v1__identity__unpack(&budget.alloc,
					  box->len - SEAL_BOX_OVERHEAD, plain);
	if (id == NULL) {
		rc = replay_fail(r, "the sealed identity is not a well-formed "
				    "Identity");
		goto out;
	}
	rc = replay_identity_fields(r, id, m->birth_year);
	tamwil__v1__identity__free_unpacked(id, &budget.alloc);
	if (rc == 0)
		r->identities++;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

static int replay_submit(replay *r, const Tamwil__V1__SubmitApplication *m,
			 const Tamwil__V1__OperationResult *out)
{
	replay_app *a;
	long prog;

	if (replay_need_person(r) ||
	    replay_need_role(r, TAMWIL__V1__ROLE__ROLE_COORDINATOR,
			     TAMWIL__V1__ROLE__ROLE_ADMIN,
			     "submit an application") ||
	    replay_need_region(r, m->region) || replay_identity(r, m) != 0)
		return -1;
	prog = replay_programme_find(r, m->programme);
	if (prog < 0)
		return replay_fail(r,
				   "submits to programme %s, which no "
				   "earlier entry created",
				   m->programme);
	if (out->reference[0] == '\0' ||
	    strlen(out->reference) >= REPLAY_REF_MAX ||
	    replay_app_find(r, out->reference) != NULL)
		return replay_fail(r,
				   "the new application's reference '%s' "
				   "is missing or taken",
				   out->reference);
	if (m->amount_requested == NULL || m->amount_requested->minor <= 0 ||
	    strcmp(m->amount_requested->currency,
		   r->programmes[prog].currency) != 0)
		return replay_fail(r, "an amount requested that is not "
				      "positive in the programme's currency");
	if (replay_grow_apps(r) != 0)
		return replay_fail(r, "out of memory");
	a = replay_slot(r, out->reference);
	memset(a, 0, sizeof(*a));
	snprintf(a->reference, sizeof(a->reference), "%s", out->reference);
	snprintf(a->region, sizeof(a->region), "%s", m->region);
	a->programme = (size_t)prog;
	a->state = TAMWIL__V1__APPLICATION_STATE__STATE_SUBMITTED;
	a->requested = m->amount_requested->minor;
	a->submitter = r->signer;
	a->approver = -1;
	r->napps++;
	return 0;
}

static int replay_withdraw(replay *r, const Tamwil__V1__WithdrawApplication *m)
{
	replay_app *a;

	if (replay_need_person(r) ||
	    replay_need_role(r, TAMWIL__V1__ROLE__ROLE_COORDINATOR,
			     TAMWIL__V1__ROLE__ROLE_ADMIN,
			     "withdraw an application") ||
	    (a = replay_need_app(r, m->reference)) == NULL ||
	    replay_need_region(r, a->region))
		return -1;
	if (a->state != TAMWIL__V1__APPLICATION_STATE__STATE_SUBMITTED)
		return replay_fail(r,
				   "withdraws %s, which is no longer "
				   "submitted",
				   a->reference);
	a->state = TAMWIL__V1__APPLICATION_STATE__STATE_WITHDRAWN;
	return 0;
}

static int replay_decide(replay *r, const char *reference, int approve,
			 const Tamwil__V1__Money *amount)
{
	replay_programme *p;
	replay_app *a;
	int64_t granted;

	if (replay_need_person(r) ||
	    replay_need_role(r, TAMWIL__V1__ROLE__ROLE_APPROVER, 0,
			     "decide an application") ||
	    (a = replay_need_app(r, reference)) == NULL)
		return -1;
	if (a->state != TAMWIL__V1__APPLICATION_STATE__STATE_SUBMITTED)
		return replay_fail(r,
				   "decides %s, which is no longer "
				   "submitted",
				   a->reference);
	if (!approve) {
		a->state = TAMWIL__V1__APPLICATION_STATE__STATE_REJECTED;
		return 0;
	}
	if (a->submitter == r->signer)
		return replay_fail(r, "%s approved by its own submitter",
				   a->reference);
	p = &r->programmes[a->programme];
	granted = amount != NULL ? amount->minor : a->requested;
	if (granted <= 0 || granted > a->requested || granted > p->ceiling ||
	    granted > p->envelope - p->granted)
		return replay_fail(r,
				   "grants %s an amount beyond its request, "
				   "the ceiling or the envelope",
				   a->reference);
	p->granted += granted;
	a->granted = granted;
	a->approver = r->signer;
	a->state = TAMWIL__V1__APPLICATION_STATE__STATE_APPROVED;
	return 0;
}

static int replay_disburse(replay *r, const Tamwil__V1__RecordDisbursement *m)
{
	replay_app *a;
	int64_t amount = replay_money(m->amount);

	if (replay_need_person(r) ||
	    replay_need_role(r, TAMWIL__V1__ROLE__ROLE_TREASURER, 0,
			     "record a disbursement") ||
	    (a = replay_need_app(r, m->reference)) == NULL)
		return -1;
	if (a->state != TAMWIL__V1__APPLICATION_STATE__STATE_APPROVED &&
	    a->state != TAMWIL__V1__APPLICATION_STATE__STATE_DISBURSING)
		return replay_fail(r, "disburses on %s, which is not approved",
				   a->reference);
	if (a->approver == r->signer)
		return replay_fail(r, "%s disbursed by its approver",
				   a->reference);
	if (amount <= 0 || amount > a->granted - a->disbursed)
		return replay_fail(r, "a tranche on %s beyond its grant",
				   a->reference);
	a->disbursed += amount;
	r->programmes[a->programme].disbursed += amount;
	a->state = a->disbursed == a->granted
		       ? TAMWIL__V1__APPLICATION_STATE__STATE_DISBURSED
		       : TAMWIL__V1__APPLICATION_STATE__STATE_DISBURSING;
	return 0;
}

static int replay_repay(replay *r, const Tamwil__V1__RecordRepayment *m)
{
	replay_app *a;
	int64_t amount = replay_money(m->amount);

	if (replay_need_person(r) ||
	    replay_need_role(r, TAMWIL__V1__ROLE__ROLE_TREASURER, 0,
			     "record a repayment") ||
	    (a = replay_need_app(r, m->reference)) == NULL)
		return -1;
	if (a->state != TAMWIL__V1__APPLICATION_STATE__STATE_DISBURSED &&
	    a->state != TAMWIL__V1__APPLICATION_STATE__STATE_REPAYING)
		return replay_fail(r,
				   "a repayment on %s before its grant was "
				   "handed over in full",
				   a->reference);
	if (amount <= 0 || amount > a->disbursed - a->repaid)
		return replay_fail(r,
				   "a repayment on %s beyond what was "
				   "handed over",
				   a->reference);
	a->repaid += amount;
	a->state = a->repaid == a->granted
		       ? TAMWIL__V1__APPLICATION_STATE__STATE_CLOSED
		       : TAMWIL__V1__APPLICATION_STATE__STATE_REPAYING;
	return 0;
}

/* Applies one parsed operation to the rebuilt state. */
static int replay_apply(replay *r, const Tamwil__V1__Operation *op,
			const Tamwil__V1__OperationResult *out)
{
	switch (op->body_case) {
	case TAMWIL__V1__OPERATION__BODY_CREATE_REGION:
		return replay_region(r, op->create_region);
	case TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME:
		return replay_create_programme(r, op->create_programme);
	case TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL:
		return replay_enrol(r, op->enrol_principal);
	case TAMWIL__V1__OPERATION__BODY_REVOKE_PRINCIPAL:
		return replay_revoke(r, op->revoke_principal);
	case TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION:
		return replay_submit(r, op->submit_application, out);
	case TAMWIL__V1__OPERATION__BODY_WITHDRAW_APPLICATION:
		return replay_withdraw(r, op->withdraw_application);
	case TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION:
		return replay_decide(r, op->approve_application->reference, 1,
				     op->approve_application->amount);
	case TAMWIL__V1__OPERATION__BODY_REJECT_APPLICATION:
		return replay_decide(r, op->reject_application->reference, 0,
				     NULL);
	case TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT:
		return replay_disburse(r, op->record_disbursement);
	case TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT:
		return replay_repay(r, op->record_repayment);
	default:
		return replay_fail(r, "an operation of an unknown kind");
	}
}

const char *replay_op_reference(const Tamwil__V1__Operation *op,
				const Tamwil__V1__OperationResult *out)
{
	switch (op->body_case) {
	case TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION:
		return out != NULL ? out->reference : NULL;
	case TAMWIL__V1__OPERATION__BODY_WITHDRAW_APPLICATION:
		return op->withdraw_application->reference;
	case TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION:
		return op->approve_application->reference;
	case TAMWIL__V1__OPERATION__BODY_REJECT_APPLICATION:
		return op->reject_application->reference;
	case TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT:
		return op->record_disbursement->reference;
	case TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT:
		return op->record_repayment->reference;
	default:
		return NULL;
	}
}

/* The stated outcome must be what the replay gives. */
static int replay_check_outcome(replay *r, const Tamwil__V1__Operation *op,
				const Tamwil__V1__OperationResult *out)
{
	const char *ref = replay_op_reference(op, out);
	const replay_app *a;

	if (ref == NULL)
		return 0;
	a = replay_app_find(r, ref);
	if (a == NULL || strcmp(out->reference, ref) != 0)
		return replay_fail(r, "the outcome names %s, not %s",
				   out->reference, ref);
	if ((int)out->state != a->state)
		return replay_fail(r,
				   "the outcome says state %d for %s, the "
				   "replay gives %d",
				   (int)out->state, ref, a->state);
	return 0;
}

/* Finds who signed: the server, or an active principal. */
static int replay_signer(replay *r, const Tamwil__V1__SignedOperation *sop)
{
	if (sop->signer_key.len != REPLAY_KEYLEN ||
	    sop->signature.len != SIGNOP_SIGLEN)
		return replay_fail(r, "a malformed signer key or signature");
	if (signop_verify(sop->operation.data, sop->operation.len,
			  sop->signer_key.data, sop->signature.data) != 0)
		return replay_fail(r, "the signature does not verify");
	if (memcmp(sop->signer_key.data, r->server_pk, REPLAY_KEYLEN) == 0) {
		r->signer = -1;
		return 0;
	}
	r->signer = replay_principal_by_sign(r, sop->signer_key.data);
	if (r->signer < 0)
		return replay_fail(r, "signed by a key no earlier entry "
				      "enrolled");
	if (!r->principals[r->signer].active)
		return replay_fail(r, "signed by a revoked key");
	return 0;
}

/* Checks and applies a parsed entry. */
static int replay_parsed(replay *r, const Tamwil__V1__LogEntry *e)
{
	Tamwil__V1__Operation *op;
	pbuf_budget budget;
	int rc;

	if (e->sequence != r->size)
		return replay_fail(r, "numbered %llu where %llu was due",
				   (unsigned long long)e->sequence,
				   (unsigned long long)r->size);
	if (e->operation == NULL || e->outcome == NULL)
		return replay_fail(r, "lacks its operation or its outcome");
	if (replay_signer(r, e->operation) != 0)
		return -1;
	pbuf_budget_init(&budget, PBUF_BUDGET_DEFAULT);
	op = tamwil__v1__operation__unpack(&budget.alloc,
					   e->operation->operation.len,
					   e->operation->operation.data);
	if (op == NULL)
		return replay_fail(r, "the signed bytes are not an Operation");
	rc = replay_apply(r, op, e->outcome);
	if (rc == 0)
		rc = replay_check_outcome(r, op, e->outcome);
	tamwil__v1__operation__free_unpacked(op, &budget.alloc);
	return rc;
}

int replay_entry(replay *r, const uint8_t *entry, size_t len, char *err,
		 size_t err_len)
{
	Tamwil__V1__LogEntry *e;
	merkle_hash leaf;
	pbuf_budget budget;
	int rc;

	r->err = err;
	r->err_len = err_len;
	r->seq = r->size;
	pbuf_budget_init(&budget, PBUF_BUDGET_DEFAULT);
	e = tamwil__v1__log_entry__unpack(&budget.alloc, len, entry);
	if (e == NULL)
		return replay_fail(r, "not a well-formed LogEntry");
	rc = replay_parsed(r, e);
	tamwil__v1__log_entry__free_unpacked(e, &budget.alloc);
	if (rc != 0)
		return -1;
	if (merkle_leaf_hash(entry, len, leaf) != 0 ||
	    replay_push_leaf(r, leaf) != 0)
		return replay_fail(r, "cannot hash the entry");
	r->size++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The state the export states, against the replay's. */

int replay_check_application(replay *r, const Tamwil__V1__ExportApplication *a,
			     char *err, size_t err_len)
{
	replay_app *mine = replay_app_find(r, a->reference);
	const replay_programme *p;

	r->err = err;
	r->err_len = err_len;
	if (mine == NULL) {
		snprintf(err, err_len,
			 "application %s is stated but no entry submitted it",
			 a->reference);
		return -1;
	}
	p = &r->programmes[mine->programme];
	if ((int)a->state != mine->state ||
	    strcmp(a->programme, p->code) != 0 ||
	    strcmp(a->region, mine->region) != 0 ||
	    strcmp(a->currency, p->currency) != 0 ||
	    a->requested != mine->requested || a->granted != mine->granted ||
	    a->disbursed != mine->disbursed || a->repaid != mine->repaid) {
		char g[MONEY_TEXT_MAX], d[MONEY_TEXT_MAX], rp[MONEY_TEXT_MAX];

		money_format(mine->granted, p->currency, g, sizeof(g));
		money_format(mine->disbursed, p->currency, d, sizeof(d));
		money_format(mine->repaid, p->currency, rp, sizeof(rp));
		snprintf(err, err_len,
			 "application %s: the stated state or amounts differ "
			 "from the log's (by the log: state %d, granted %s, "
			 "disbursed %s, repaid %s)",
			 a->reference, mine->state, g, d, rp);
		return -1;
	}
	mine->checked = 1;
	return 0;
}

int replay_check_programme(replay *r, const Tamwil__V1__ExportProgramme *p,
			   char *err, size_t err_len)
{
	long i = replay_programme_find(r, p->code);
	replay_programme *mine;

	if (i < 0) {
		snprintf(err, err_len,
			 "programme %s is stated but no entry created it",
			 p->code);
		return -1;
	}
	mine = &r->programmes[i];
	if (strcmp(p->currency, mine->currency) != 0 ||
	    p->envelope != mine->envelope || p->granted != mine->granted ||
	    p->disbursed != mine->disbursed) {
		char e[MONEY_TEXT_MAX], g[MONEY_TEXT_MAX], d[MONEY_TEXT_MAX];

		money_format(mine->envelope, mine->currency, e, sizeof(e));
		money_format(mine->granted, mine->currency, g, sizeof(g));
		money_format(mine->disbursed, mine->currency, d, sizeof(d));
		snprintf(err, err_len,
			 "programme %s: the stated budget differs from the "
			 "log's (by the log: envelope %s, granted %s, "
			 "disbursed %s)",
			 p->code, e, g, d);
		return -1;
	}
	mine->checked = 1;
	return 0;
}

int replay_finish(replay *r, char *err, size_t err_len)
{
	for (size_t i = 0; i < r->nprogrammes; i++) {
		if (!r->programmes[i].checked) {
			snprintf(err, err_len,
				 "programme %s is in the log but not stated",
				 r->programmes[i].code);
			return -1;
		}
	}
	for (size_t i = 0; i < r->cap_apps; i++) {
		if (r->apps[i].reference[0] != '\0' && !r->apps[i].checked) {
			snprintf(err, err_len,
				 "application %s is in the log but not stated",
				 r->apps[i].reference);
			return -1;
		}
	}
	return 0;
}
