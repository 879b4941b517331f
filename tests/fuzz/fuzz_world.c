/*
 * The fuzzing head office: built once per process through the same calls
 * the daemon makes (state_init, server_load, ops_apply_local for the
 * first admin, a worker's and the writer's part of dispatch for everything
 * else), so that what the harness reaches is what a connection reaches.
 */
#include "fuzz_world.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "dispatch.h"
#include "log.h"
#include "seal.h"
#include "state.h"

#define MAD_MINOR(major) ((int64_t)(major)*100)

/* The people of the world: name, role, region. */
static const struct {
	const char *name;
	Tamwil__V1__Role role;
	const char *region;
} fuzz_cast[FUZZ_PEOPLE] = {
    [FUZZ_ADMIN] = {"Amina Benali", TAMWIL__V1__ROLE__ROLE_ADMIN, ""},
    [FUZZ_APPROVER] = {"Karim Haddad", TAMWIL__V1__ROLE__ROLE_APPROVER, ""},
    [FUZZ_TREASURER] = {"Nadia Ziani", TAMWIL__V1__ROLE__ROLE_TREASURER, ""},
    [FUZZ_AUDITOR] = {"Omar El Fassi", TAMWIL__V1__ROLE__ROLE_AUDITOR, ""},
    [FUZZ_COORD_LAG] = {"Yacine Mansouri", TAMWIL__V1__ROLE__ROLE_COORDINATOR,
			"LAG"},
    [FUZZ_COORD_CAS] = {"سلمى الإدريسي", TAMWIL__V1__ROLE__ROLE_COORDINATOR,
			"CAS"},
};

static int fuzz_world_unlink(const char *path, const struct stat *sb, int flag,
			     struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fuzz_world_close(fuzz_world *w)
{
	if (w == NULL)
		return;
	store_close(w->rd);
	if (w->srv != NULL) {
		server_close(w->srv);
		free(w->srv);
	}
	for (int i = 0; i < FUZZ_PEOPLE; i++)
		ops_session_clear(&w->people[i].sess);
	if (w->dir[0] != '\0')
		nftw(w->dir, fuzz_world_unlink, 16, FTW_DEPTH | FTW_PHYS);
	free(w);
}

int fuzz_world_sign(const fuzz_world *w, int who, Tamwil__V1__Operation *op,
		    fuzz_signed *s)
{
	size_t len;

	if (op->idempotency_key.len == 0) {
		signop_new_idempotency_key(s->idempotency_key);
		op->idempotency_key.data = s->idempotency_key;
		op->idempotency_key.len = sizeof(s->idempotency_key);
	}
	len = tamwil__v1__operation__get_packed_size(op);
	if (len > sizeof(s->bytes))
		return -1;
	tamwil__v1__operation__pack(op, s->bytes);
	tamwil__v1__signed_operation__init(&s->sop);
	s->sop.operation.data = s->bytes;
	s->sop.operation.len = len;
	return fuzz_world_resign(w, who, &s->sop, s);
}

int fuzz_world_resign(const fuzz_world *w, int who,
		      Tamwil__V1__SignedOperation *sop, fuzz_signed *s)
{
	const keyfile_secret *key = &w->people[who].key;

	if (signop_sign(sop->operation.data, sop->operation.len, key, s->sig) !=
	    0)
		return -1;
	sop->signer_key.data = (uint8_t *)key->sign_pk;
	sop->signer_key.len = sizeof(key->sign_pk);
	sop->signature.data = s->sig;
	sop->signature.len = sizeof(s->sig);
	return 0;
}

enum dispatch_status fuzz_world_dispatch(fuzz_world *w, int who, int hello,
					 const uint8_t *in, size_t len,
					 uint8_t *out, size_t cap,
					 size_t *out_len)
{
	fuzz_person *p = &w->people[who];
	dispatch_job j;
	ops_pending *batch[1] = {&j.op};

	memset(&j, 0, sizeof(j));
	j.s = &p->sess;
	j.hello = hello;
	memcpy(j.peer_key, p->key.noise_pk, sizeof(j.peer_key));
	j.who = &p->row;
	j.in = in;
	j.in_len = len;
	j.out = out;
	j.out_cap = cap;
	if (dispatch_begin(w->srv, w->rd, &j) == DISPATCH_WRITE) {
		/* Durable or lost, the batch's operation is answered. */
		(void)ops_apply_batch(w->srv, batch, 1);
		dispatch_finish(w->srv, w->rd, &j);
	}
	dispatch_job_clear(&j);
	*out_len = j.out_len;
	return j.status;
}

int fuzz_world_send(fuzz_world *w, int who, Tamwil__V1__Request *req,
		    Tamwil__V1__Response **resp)
{
	static uint8_t in[FRAME_MAX_BODY], out[FRAME_MAX_BODY];
	size_t len, out_len;

	*resp = NULL;
	req->request_id = ++w->next_request_id;
	len = tamwil__v1__request__get_packed_size(req);
	if (len > CHANNEL_MAX_PLAINTEXT)
		return -1;
	tamwil__v1__request__pack(req, in);
	if (w->record != NULL &&
	    req->body_case != TAMWIL__V1__REQUEST__BODY_OPERATION)
		w->record(w->record_arg, who, 0, in, len);
	if (fuzz_world_dispatch(w, who, 0, in, len, out, CHANNEL_MAX_PLAINTEXT,
				&out_len) != DISPATCH_ANSWER)
		return -1;
	*resp = tamwil__v1__response__unpack(NULL, out_len, out);
	return *resp == NULL ? -1 : 0;
}

/*
 * Hands the recorder op signed under an idempotency key of its own, which
 * the world never sends: replayed as a seed it reaches the rules, not the
 * record of an operation already applied.
 */
static int fuzz_world_keep(fuzz_world *w, int who, Tamwil__V1__Operation *op)
{
	static fuzz_signed k;
	static uint8_t buf[FRAME_MAX_BODY];
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	size_t len;

	op->idempotency_key.len = 0;
	if (fuzz_world_sign(w, who, op, &k) != 0)
		return -1;
	req.request_id = w->next_request_id + 1000;
	req.body_case = TAMWIL__V1__REQUEST__BODY_OPERATION;
	req.operation = &k.sop;
	len = tamwil__v1__request__get_packed_size(&req);
	if (len > sizeof(buf))
		return -1;
	tamwil__v1__request__pack(&req, buf);
	w->record(w->record_arg, who, 1, buf, len);
	return 0;
}

/* Signs and sends op as who; 0 when it was applied, -1 (said) otherwise. */
static int fuzz_world_apply(fuzz_world *w, int who, Tamwil__V1__Operation *op,
			    char *ref)
{
	static fuzz_signed s;
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__Response *resp;
	int rc = -1;

	if (w->record != NULL && fuzz_world_keep(w, who, op) != 0)
		return -1;
	req.body_case = TAMWIL__V1__REQUEST__BODY_OPERATION;
	req.operation = &s.sop;
	op->idempotency_key.len = 0;
	if (fuzz_world_sign(w, who, op, &s) != 0)
		return -1;
	if (fuzz_world_send(w, who, &req, &resp) != 0) {
		fprintf(stderr, "fuzz world: operation %d not answered\n",
			op->body_case);
		return -1;
	}
	if (resp->body_case == TAMWIL__V1__RESPONSE__BODY_OPERATION) {
		if (ref != NULL)
			snprintf(ref, STORE_REF_MAX, "%s",
				 resp->operation->reference);
		rc = 0;
	} else {
		fprintf(stderr, "fuzz world: operation %d refused: %s\n",
			op->body_case,
			resp->error != NULL ? resp->error->message : "?");
	}
	tamwil__v1__response__free_unpacked(resp, NULL);
	return rc;
}

static Tamwil__V1__Money *fuzz_mad(Tamwil__V1__Money *m, int64_t minor)
{
	tamwil__v1__money__init(m);
	m->minor = minor;
	m->currency = "MAD";
	return m;
}

/* Makes op the enrolment of k's public keys under name, role and region. */
static void fuzz_world_enrol_op(Tamwil__V1__Operation *op,
				Tamwil__V1__EnrolPrincipal *body,
				const keyfile_secret *k, const char *name,
				Tamwil__V1__Role role, const char *region)
{
	body->name = (char *)name;
	body->role = role;
	body->region = (char *)region;
	body->noise_key.data = (uint8_t *)k->noise_pk;
	body->noise_key.len = sizeof(k->noise_pk);
	body->sign_key.data = (uint8_t *)k->sign_pk;
	body->sign_key.len = sizeof(k->sign_pk);
	op->body_case = TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL;
	op->enrol_principal = body;
}

/* The first admin, enrolled by the server's own key as tamwild init does. */
static int fuzz_world_first_admin(fuzz_world *w)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__EnrolPrincipal body = TAMWIL__V1__ENROL_PRINCIPAL__INIT;
	char err[REPLY_MESSAGE_MAX];
	uint64_t seq;

	fuzz_world_enrol_op(&op, &body, &w->people[FUZZ_ADMIN].key,
			    fuzz_cast[FUZZ_ADMIN].name,
			    fuzz_cast[FUZZ_ADMIN].role, "");
	if (ops_apply_local(w->srv, &op, &seq, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz world: first admin: %s\n", err);
		return -1;
	}
	return 0;
}

/* Enrols k under a name, role and region, signed by the admin. */
static int fuzz_world_enrol(fuzz_world *w, const keyfile_secret *k,
			    const char *name, Tamwil__V1__Role role,
			    const char *region)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__EnrolPrincipal body = TAMWIL__V1__ENROL_PRINCIPAL__INIT;

	fuzz_world_enrol_op(&op, &body, k, name, role, region);
	return fuzz_world_apply(w, FUZZ_ADMIN, &op, NULL);
}

/* Regions, the programme, the people, and one enrolled then revoked. */
static int fuzz_world_admin(fuzz_world *w)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion reg = TAMWIL__V1__CREATE_REGION__INIT;
	Tamwil__V1__CreateProgramme prog = TAMWIL__V1__CREATE_PROGRAMME__INIT;
	Tamwil__V1__RevokePrincipal rev = TAMWIL__V1__REVOKE_PRINCIPAL__INIT;
	Tamwil__V1__Category cats[2] = {
	    TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN,
	    TAMWIL__V1__CATEGORY__CATEGORY_FORMER_DETAINEE};
	Tamwil__V1__Money env, ceil;
	keyfile_secret gone;

	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &reg;
	reg.code = "LAG";
	reg.name = "Laghouat";
	if (fuzz_world_apply(w, FUZZ_ADMIN, &op, NULL) != 0)
		return -1;
	reg.code = "CAS";
	reg.name = "Casablanca-Settat";
	if (fuzz_world_apply(w, FUZZ_ADMIN, &op, NULL) != 0)
		return -1;
	prog.code = "FEM-2026";
	prog.name = "Femmes rurales 2026";
	prog.envelope = fuzz_mad(&env, MAD_MINOR(1000000));
	prog.ceiling = fuzz_mad(&ceil, MAD_MINOR(50000));
	prog.period_start = "2026-01-01";
	prog.period_end = "2099-12-31";
	prog.target_beneficiaries = 200;
	prog.n_eligible_categories = 2;
	prog.eligible_categories = cats;
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME;
	op.create_programme = &prog;
	if (fuzz_world_apply(w, FUZZ_ADMIN, &op, NULL) != 0)
		return -1;
	for (int i = FUZZ_ADMIN + 1; i < FUZZ_PEOPLE; i++)
		if (fuzz_world_enrol(w, &w->people[i].key, fuzz_cast[i].name,
				     fuzz_cast[i].role,
				     fuzz_cast[i].region) != 0)
			return -1;
	if (keyfile_generate(&gone) != 0 ||
	    fuzz_world_enrol(w, &gone, "Ancien agent",
			     TAMWIL__V1__ROLE__ROLE_TREASURER, "") != 0)
		return -1;
	rev.noise_key.data = gone.noise_pk;
	rev.noise_key.len = sizeof(gone.noise_pk);
	op.body_case = TAMWIL__V1__OPERATION__BODY_REVOKE_PRINCIPAL;
	op.revoke_principal = &rev;
	return fuzz_world_apply(w, FUZZ_ADMIN, &op, NULL);
}

/* Application i of the LAG coordinator, its identity sealed. */
static int fuzz_world_submit(fuzz_world *w, int i)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__SubmitApplication m = TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__Money req, own;
	uint8_t key[SEAL_KEYLEN], plain[512], box[512 + SEAL_BOX_OVERHEAD];
	char nid[32];
	size_t n;

	snprintf(nid, sizeof(nid), "K%08d", 1000 + i);
	id.national_id = nid;
	id.first_name = i % 2 ? "Khadija" : "فاطمة";
	id.last_name = "Alaoui";
	id.birth_date = "1990-05-01";
	id.phone = "+213 661 00 00 00";
	id.address = "Douar Ouled Ali";
	n = tamwil__v1__identity__get_packed_size(&id);
	if (n > sizeof(plain))
		return -1;
	tamwil__v1__identity__pack(&id, plain);
	if (seal_box_key(key, w->srv->data.pk,
			 w->people[FUZZ_COORD_LAG].key.noise_sk) != 0 ||
	    seal_box(key, plain, n, box) != 0)
		return -1;
	m.programme = "FEM-2026";
	m.region = "LAG";
	m.identity_box.data = box;
	m.identity_box.len = n + SEAL_BOX_OVERHEAD;
	m.sex = TAMWIL__V1__SEX__SEX_FEMALE;
	m.birth_year = 1990;
	m.category = TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN;
	m.sector = "crafts";
	m.activity = "tissage de tapis";
	m.financing_formula = "prêt 70% + don 30%";
	m.amount_requested = fuzz_mad(&req, MAD_MINOR(35000) + i);
	m.own_contribution = fuzz_mad(&own, MAD_MINOR(1500));
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &m;
	return fuzz_world_apply(w, FUZZ_COORD_LAG, &op, w->refs[i]);
}

/* Decisions: approve 0 and 1 (1 for less), reject 2, withdraw 3. */
static int fuzz_world_decide(fuzz_world *w)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__ApproveApplication ap =
	    TAMWIL__V1__APPROVE_APPLICATION__INIT;
	Tamwil__V1__RejectApplication rj = TAMWIL__V1__REJECT_APPLICATION__INIT;
	Tamwil__V1__WithdrawApplication wd =
	    TAMWIL__V1__WITHDRAW_APPLICATION__INIT;
	Tamwil__V1__Money granted;

	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &ap;
	ap.reference = w->refs[0];
	if (fuzz_world_apply(w, FUZZ_APPROVER, &op, NULL) != 0)
		return -1;
	ap.reference = w->refs[1];
	ap.amount = fuzz_mad(&granted, MAD_MINOR(30000));
	if (fuzz_world_apply(w, FUZZ_APPROVER, &op, NULL) != 0)
		return -1;
	rj.reference = w->refs[2];
	rj.reason = "activité hors secteur éligible";
	op.body_case = TAMWIL__V1__OPERATION__BODY_REJECT_APPLICATION;
	op.reject_application = &rj;
	if (fuzz_world_apply(w, FUZZ_APPROVER, &op, NULL) != 0)
		return -1;
	wd.reference = w->refs[3];
	wd.reason = "la bénéficiaire a trouvé un emploi";
	op.body_case = TAMWIL__V1__OPERATION__BODY_WITHDRAW_APPLICATION;
	op.withdraw_application = &wd;
	return fuzz_world_apply(w, FUZZ_COORD_LAG, &op, NULL);
}

/* Records a tranche of amount for application i, as the treasurer. */
static int fuzz_world_tranche(fuzz_world *w, int i, int64_t amount,
			      Tamwil__V1__DisbursementMethod method,
			      const char *payment, const char *date,
			      Tamwil__V1__EquipmentItem **items, size_t n)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RecordDisbursement d =
	    TAMWIL__V1__RECORD_DISBURSEMENT__INIT;
	Tamwil__V1__Money m;

	d.reference = w->refs[i];
	d.amount = fuzz_mad(&m, amount);
	d.method = method;
	d.payment_reference = (char *)payment;
	d.date = (char *)date;
	d.n_items = n;
	d.items = items;
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT;
	op.record_disbursement = &d;
	return fuzz_world_apply(w, FUZZ_TREASURER, &op, NULL);
}

/* Money handed over (equipment for 0, a cheque for 1), one repayment. */
static int fuzz_world_money(fuzz_world *w)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RecordRepayment r = TAMWIL__V1__RECORD_REPAYMENT__INIT;
	Tamwil__V1__EquipmentItem loom = TAMWIL__V1__EQUIPMENT_ITEM__INIT;
	Tamwil__V1__EquipmentItem *items[1] = {&loom};
	Tamwil__V1__Money amount, unit;

	loom.description = "métier à tisser";
	loom.quantity = 2;
	loom.unit_value = fuzz_mad(&unit, MAD_MINOR(17500));
	if (fuzz_world_tranche(
		w, 0, MAD_MINOR(35000),
		TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_EQUIPMENT,
		"BL-2026-0042", "2026-03-02", items, 1) != 0 ||
	    fuzz_world_tranche(w, 1, MAD_MINOR(30000),
			       TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_CHEQUE,
			       "CHQ 0012345", "", NULL, 0) != 0)
		return -1;
	r.reference = w->refs[0];
	r.amount = fuzz_mad(&amount, 250007);
	r.date = "2026-06-30";
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT;
	op.record_repayment = &r;
	return fuzz_world_apply(w, FUZZ_TREASURER, &op, NULL);
}

/* Loads the store rows of people [from, to) and binds their sessions. */
static int fuzz_world_sessions(fuzz_world *w, int from, int to)
{
	for (int i = from; i < to; i++) {
		fuzz_person *p = &w->people[i];

		if (store_principal_by_noise(w->srv->st, p->key.noise_pk,
					     &p->row) != 0)
			return -1;
		memset(&p->sess, 0, sizeof(p->sess));
		p->sess.who = &p->row;
		p->sess.peer = "127.0.0.1:40000";
	}
	return 0;
}

fuzz_world *fuzz_world_open(fuzz_world_record_fn record, void *arg)
{
	fuzz_world *w = calloc(1, sizeof(*w));
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char err[STATE_ERR_MAX], path[sizeof(w->dir) + 64];
	config cfg;

	if (w == NULL)
		return NULL;
	w->record = record;
	w->record_arg = arg;
	snprintf(w->dir, sizeof(w->dir), "%s/tamwil-fuzz-XXXXXX", base);
	if (mkdtemp(w->dir) == NULL) {
		w->dir[0] = '\0';
		goto fail;
	}
	config_defaults(&cfg);
	cfg.log_level = LOG_LEVEL_ERROR;
	log_set_level(cfg.log_level);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", w->dir);
	if (state_init(cfg.state_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz world: %s\n", err);
		goto fail;
	}
	w->srv = malloc(sizeof(*w->srv));
	if (w->srv == NULL || server_load(w->srv, &cfg) != 0 ||
	    state_path(path, sizeof(path), cfg.state_dir, STATE_DB) != 0 ||
	    store_open_reader(path, &w->rd, err, sizeof(err)) != 0)
		goto fail;
	for (int i = 0; i < FUZZ_PEOPLE; i++)
		if (keyfile_generate(&w->people[i].key) != 0)
			goto fail;
	if (fuzz_world_first_admin(w) != 0 ||
	    fuzz_world_sessions(w, FUZZ_ADMIN, FUZZ_ADMIN + 1) != 0)
		goto fail;
	if (fuzz_world_admin(w) != 0 ||
	    fuzz_world_sessions(w, FUZZ_ADMIN + 1, FUZZ_PEOPLE) != 0)
		goto fail;
	for (int i = 0; i < FUZZ_WORLD_APPS; i++)
		if (fuzz_world_submit(w, i) != 0)
			goto fail;
	if (fuzz_world_decide(w) != 0 || fuzz_world_money(w) != 0)
		goto fail;
	return w;
fail:
	fprintf(stderr, "fuzz world: cannot build the head office\n");
	fuzz_world_close(w);
	return NULL;
}
