/*
 * A small head office for the unit tests that drive the operation path:
 * a server context with fresh keys over a database in a temporary folder,
 * principals enrolled through the server's own signed operations, signed
 * operations as a client sends them, and sealed submissions.
 *
 * Each unit test is its own program, so this header defines its
 * functions (static inline): include it once, in the test's file, after
 * cmocka.h.
 */
#ifndef TAMWIL_TEST_SERVER_WORLD_H
#define TAMWIL_TEST_SERVER_WORLD_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "ops.h"
#include "seal.h"
#include "signop.h"
#include "store.h"

#define WORLD_BOX_MAX 512

/* A principal: its keys, its row and its channel's session. */
struct world_who {
	keyfile_secret key;
	store_principal row;
	ops_session sess;
};

/* An operation signed by one principal, as a client sends it. */
struct world_signed {
	struct world_who *by;
	uint8_t key[SIGNOP_IDEMPOTENCY_LEN];
	uint8_t *bytes; /* malloc'd: world_signed_free() */
	uint8_t sig[SIGNOP_SIGLEN];
	Tamwil__V1__SignedOperation sop;
};

/* A submission with everything it points to. */
struct world_submission {
	Tamwil__V1__Operation op;
	Tamwil__V1__SubmitApplication m;
	Tamwil__V1__Identity id;
	Tamwil__V1__Money requested, own;
	char national_id[32];
	uint8_t box[WORLD_BOX_MAX + SEAL_BOX_OVERHEAD];
};

/*
 * Makes dir (a mkdtemp template, capacity 64), a server with fresh keys in
 * *srv and its database dir/t.db in path (capacity 128).
 */
static inline void world_open(char *dir, char *path, server **srv)
{
	char err[256];

	assert_true(sodium_init() >= 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, 128, "%s/t.db", dir);
	*srv = calloc(1, sizeof(**srv));
	assert_non_null(*srv);
	assert_int_equal(keyfile_generate(&(*srv)->key), 0);
	assert_int_equal(keyfile_data_generate(&(*srv)->data), 0);
	{
		seal_keys k;

		assert_int_equal(seal_derive(&k, (*srv)->data.sk), 0);
		assert_int_equal(seal_ring_add(&(*srv)->seal, &k), 0);
	}
	assert_int_equal(store_open(path, 1, &(*srv)->st, err, sizeof(err)), 0);
}

/* Closes the server's store, frees it and removes dir. */
static inline void world_close(const char *dir, server *srv)
{
	char cmd[160];

	store_close(srv->st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(srv);
}

/* Enrols w through the server's own signed operation; loads its row. */
static inline void world_enrol(server *srv, struct world_who *w,
			       const char *name, Tamwil__V1__Role role,
			       const char *region)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__EnrolPrincipal body = TAMWIL__V1__ENROL_PRINCIPAL__INIT;
	char err[300];
	uint64_t seq;

	assert_int_equal(keyfile_generate(&w->key), 0);
	body.name = (char *)name;
	body.role = role;
	body.region = (char *)region;
	body.noise_key.data = w->key.noise_pk;
	body.noise_key.len = 32;
	body.sign_key.data = w->key.sign_pk;
	body.sign_key.len = 32;
	op.body_case = TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL;
	op.enrol_principal = &body;
	assert_int_equal(ops_apply_local(srv, &op, &seq, err, sizeof(err)), 0);
	assert_int_equal(
	    store_principal_by_noise(srv->st, w->key.noise_pk, &w->row), 0);
	memset(&w->sess, 0, sizeof(w->sess));
	w->sess.who = &w->row;
	w->sess.peer = "test";
}

/* Creates a region through the server's own signed operation. */
static inline void world_region(server *srv, const char *code, const char *name)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion reg = TAMWIL__V1__CREATE_REGION__INIT;
	char err[300];
	uint64_t seq;

	reg.code = (char *)code;
	reg.name = (char *)name;
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &reg;
	assert_int_equal(ops_apply_local(srv, &op, &seq, err, sizeof(err)), 0);
}

/*
 * Signs op as w into so, under a fresh idempotency key, or under so->key
 * as it is when keep_key is set. op keeps no pointer into so.
 */
static inline void world_sign(struct world_who *w, Tamwil__V1__Operation *op,
			      int keep_key, struct world_signed *so)
{
	size_t len;

	if (!keep_key)
		signop_new_idempotency_key(so->key);
	so->by = w;
	op->idempotency_key.data = so->key;
	op->idempotency_key.len = sizeof(so->key);
	len = tamwil__v1__operation__get_packed_size(op);
	so->bytes = malloc(len);
	assert_non_null(so->bytes);
	tamwil__v1__operation__pack(op, so->bytes);
	assert_int_equal(signop_sign(so->bytes, len, &w->key, so->sig), 0);
	tamwil__v1__signed_operation__init(&so->sop);
	so->sop.operation.data = so->bytes;
	so->sop.operation.len = len;
	so->sop.signer_key.data = w->key.sign_pk;
	so->sop.signer_key.len = 32;
	so->sop.signature.data = so->sig;
	so->sop.signature.len = SIGNOP_SIGLEN;
	op->idempotency_key.data = NULL;
	op->idempotency_key.len = 0;
}

static inline void world_signed_free(struct world_signed *so)
{
	free(so->bytes);
	so->bytes = NULL;
}

static inline Tamwil__V1__Money *world_mad(Tamwil__V1__Money *m, int64_t minor)
{
	tamwil__v1__money__init(m);
	m->minor = minor;
	m->currency = "MAD";
	return m;
}

/* A programme's creation: its operation and what the operation points to. */
struct world_programme {
	Tamwil__V1__Operation op;
	Tamwil__V1__CreateProgramme m;
	Tamwil__V1__Money envelope, ceiling;
};

/*
 * Fills p with the creation of programme code ("Programme 2026", no
 * period), its envelope and ceiling in minor units of MAD. p->op is the
 * operation to sign.
 */
static inline void world_programme(struct world_programme *p, const char *code,
				   int64_t envelope, int64_t ceiling)
{
	tamwil__v1__operation__init(&p->op);
	tamwil__v1__create_programme__init(&p->m);
	p->m.code = (char *)code;
	p->m.name = "Programme 2026";
	p->m.envelope = world_mad(&p->envelope, envelope);
	p->m.ceiling = world_mad(&p->ceiling, ceiling);
	p->m.period_start = "";
	p->m.period_end = "";
	p->op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME;
	p->op.create_programme = &p->m;
}

/*
 * Fills s with a submission to programme in region LAG by coordinator
 * coord, for the beneficiary national_id, its identity sealed to head
 * office's data key. s->op is the operation to sign.
 */
static inline void world_submission(struct world_submission *s,
				    const server *srv,
				    const struct world_who *coord,
				    const char *programme,
				    const char *national_id, int64_t amount)
{
	uint8_t boxkey[32], plain[WORLD_BOX_MAX];
	size_t n;

	memset(s, 0, sizeof(*s));
	tamwil__v1__operation__init(&s->op);
	tamwil__v1__submit_application__init(&s->m);
	tamwil__v1__identity__init(&s->id);
	snprintf(s->national_id, sizeof(s->national_id), "%s", national_id);
	s->id.national_id = s->national_id;
	s->id.first_name = "Khadija";
	s->id.last_name = "Alaoui";
	s->id.birth_date = "1990-05-01";
	s->id.phone = "";
	s->id.address = "";
	n = tamwil__v1__identity__get_packed_size(&s->id);
	assert_true(n <= sizeof(plain));
	tamwil__v1__identity__pack(&s->id, plain);
	assert_int_equal(
	    seal_box_key(boxkey, srv->data.pk, coord->key.noise_sk), 0);
	assert_int_equal(seal_box(boxkey, plain, n, s->box), 0);
	s->m.programme = (char *)programme;
	s->m.region = "LAG";
	s->m.identity_box.data = s->box;
	s->m.identity_box.len = n + SEAL_BOX_OVERHEAD;
	s->m.sex = TAMWIL__V1__SEX__SEX_FEMALE;
	s->m.birth_year = 1990;
	s->m.category = TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN;
	s->m.sector = "crafts";
	s->m.activity = "weaving";
	s->m.financing_formula = "";
	s->m.amount_requested = world_mad(&s->requested, amount);
	s->m.own_contribution = world_mad(&s->own, 0);
	s->op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	s->op.submit_application = &s->m;
}

/*
 * Applies n signed operations as the writer does one batch: each prepared
 * on the read connection rd, all applied together, answers packed after
 * the commit. Returns ops_apply_batch()'s result; resp[i] are the unpacked
 * answers (the caller frees them).
 */
static inline int world_apply(server *srv, store *rd, struct world_signed *so,
			      size_t n, Tamwil__V1__Response **resp)
{
	ops_pending *p = calloc(n, sizeof(*p));
	ops_pending **v = calloc(n, sizeof(ops_pending *));
	uint8_t *out = malloc(65536);
	size_t len;
	int rc;

	assert_non_null(p);
	assert_non_null(v);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		(void)ops_prepare(srv, &so[i].by->sess, &so[i].sop, i + 1,
				  &p[i]);
		v[i] = &p[i];
	}
	rc = ops_apply_batch(srv, v, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ops_answer(srv, rd, &p[i], out, 65536, &len),
				 0);
		resp[i] = tamwil__v1__response__unpack(NULL, len, out);
		assert_non_null(resp[i]);
		assert_int_equal(resp[i]->request_id, i + 1);
		ops_pending_clear(&p[i]);
	}
	free(out);
	free(v);
	free(p);
	return rc;
}

#endif
