/*
 * Unit tests of libtamwil-client's requests and operations, against a
 * responder forked on loopback that checks what head office checks: the
 * signature covers the exact bytes sent, by the channel's key; the
 * idempotency key is 16 bytes; the same bytes again are a replay; a
 * sealed identity opens with head office's data key. Also any request
 * through tamwil_client_call(), its refusals and answers of the wrong
 * kind, and sealing without a data key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "channel.h"
#include "client_fake.h"
#include "frame.h"
#include "keyfile.h"
#include "seal.h"
#include "signop.h"
#include "tamwil-client.h"
#include "tamwil.pb-c.h"

struct fixture {
	keyfile_secret server; /* the responder's keys */
	keyfile_secret client; /* the principal's keys */
	keyfile_data data;     /* head office's data key */
	int listen_fd;
	char address[64];
	pid_t child;
};

/* ---- the responder ------------------------------------------------------ */

/* What the responder remembers between requests. */
struct served {
	const struct fixture *f;
	uint8_t seen[8][SIGNOP_DIGEST_LEN]; /* digests of applied operations */
	char refs[8][64];		    /* and their references */
	size_t n_seen;
	uint64_t sequence;
};

static void refuse(Tamwil__V1__Response *r, Tamwil__V1__Error *e, int code,
		   char *message)
{
	e->code = (Tamwil__V1__ErrorCode)code;
	e->message = message;
	r->body_case = TAMWIL__V1__RESPONSE__BODY_ERROR;
	r->error = e;
}

/*
 * The reference an operation gets: the sealed national ID for a
 * submission (so the test sees the box opened), the region code for a
 * region; "" when the operation does not hold together.
 */
static void reference_of(const struct served *s,
			 const Tamwil__V1__Operation *op, char *ref, size_t cap)
{
	uint8_t key[SEAL_KEYLEN], plain[1024];
	const ProtobufCBinaryData *box;
	Tamwil__V1__Identity *id;

	ref[0] = '\0';
	if (op->body_case == TAMWIL__V1__OPERATION__BODY_CREATE_REGION) {
		snprintf(ref, cap, "%s", op->create_region->code);
		return;
	}
	if (op->body_case != TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION)
		return;
	box = &op->submit_application->identity_box;
	if (box->len <= SEAL_BOX_OVERHEAD ||
	    box->len - SEAL_BOX_OVERHEAD > sizeof(plain) ||
	    seal_box_key(key, s->f->client.noise_pk, s->f->data.sk) != 0 ||
	    seal_box_open(key, box->data, box->len, plain) != 0)
		return;
	id = tamwil__v1__identity__unpack(NULL, box->len - SEAL_BOX_OVERHEAD,
					  plain);
	if (id != NULL)
		snprintf(ref, cap, "%s/%s/%s", id->national_id, id->first_name,
			 id->last_name);
	tamwil__v1__identity__free_unpacked(id, NULL);
}

/* Answers a SignedOperation as head office would, in outline. */
static int answer_operation(int fd, channel *ch, struct served *s, uint64_t id,
			    const Tamwil__V1__SignedOperation *sop)
{
	Tamwil__V1__Response r = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__OperationResult res = TAMWIL__V1__OPERATION_RESULT__INIT;
	Tamwil__V1__Error e = TAMWIL__V1__ERROR__INIT;
	Tamwil__V1__Operation *op = NULL;
	uint8_t digest[SIGNOP_DIGEST_LEN];
	char ref[64] = "";
	int rc;

	r.request_id = id;
	if (sop->signer_key.len != KEYFILE_KEYLEN ||
	    memcmp(sop->signer_key.data, s->f->client.sign_pk,
		   KEYFILE_KEYLEN) != 0 ||
	    sop->signature.len != SIGNOP_SIGLEN ||
	    signop_verify(sop->operation.data, sop->operation.len,
			  sop->signer_key.data, sop->signature.data) != 0) {
		refuse(&r, &e, TAMWIL__V1__ERROR_CODE__ERROR_BAD_SIGNATURE,
		       "bad signature");
		return client_fake_send_response(fd, ch, &r);
	}
	op = tamwil__v1__operation__unpack(NULL, sop->operation.len,
					   sop->operation.data);
	if (op == NULL || op->idempotency_key.len != SIGNOP_IDEMPOTENCY_LEN ||
	    op->client_time == 0) {
		refuse(&r, &e, TAMWIL__V1__ERROR_CODE__ERROR_INVALID_ARGUMENT,
		       "bad operation");
		rc = client_fake_send_response(fd, ch, &r);
		tamwil__v1__operation__free_unpacked(op, NULL);
		return rc;
	}
	signop_digest(sop->operation.data, sop->operation.len, digest);
	for (size_t i = 0; i < s->n_seen; i++) {
		if (memcmp(s->seen[i], digest, sizeof(digest)) == 0) {
			res.replayed = 1;
			snprintf(ref, sizeof(ref), "%s", s->refs[i]);
		}
	}
	if (!res.replayed) {
		reference_of(s, op, ref, sizeof(ref));
		if (s->n_seen < 8) {
			memcpy(s->seen[s->n_seen], digest, sizeof(digest));
			snprintf(s->refs[s->n_seen], sizeof(s->refs[0]), "%s",
				 ref);
			s->n_seen++;
		}
		res.sequence = ++s->sequence;
	}
	tamwil__v1__operation__free_unpacked(op, NULL);
	res.reference = ref;
	res.state = TAMWIL__V1__APPLICATION_STATE__STATE_SUBMITTED;
	r.body_case = TAMWIL__V1__RESPONSE__BODY_OPERATION;
	r.operation = &res;
	return client_fake_send_response(fd, ch, &r);
}

/* Answers one request: operations, regions, a refusal, or a wrong kind. */
static int answer(int fd, channel *ch, struct served *s,
		  const Tamwil__V1__Request *req)
{
	Tamwil__V1__Response r = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__Error e = TAMWIL__V1__ERROR__INIT;
	Tamwil__V1__RegionList list = TAMWIL__V1__REGION_LIST__INIT;
	Tamwil__V1__Region region = TAMWIL__V1__REGION__INIT;
	Tamwil__V1__Region *regions[1] = {&region};
	Tamwil__V1__WhoamiResponse w = TAMWIL__V1__WHOAMI_RESPONSE__INIT;

	r.request_id = req->request_id;
	switch (req->body_case) {
	case TAMWIL__V1__REQUEST__BODY_OPERATION:
		return answer_operation(fd, ch, s, req->request_id,
					req->operation);
	case TAMWIL__V1__REQUEST__BODY_LIST_REGIONS:
		region.code = "LAG";
		region.name = "Laâyoune-Sakia El Hamra";
		list.n_regions = 1;
		list.regions = regions;
		r.body_case = TAMWIL__V1__RESPONSE__BODY_REGIONS;
		r.regions = &list;
		break;
	case TAMWIL__V1__REQUEST__BODY_GET_APPLICATION:
		refuse(&r, &e,
		       TAMWIL__V1__ERROR_CODE__ERROR_UNKNOWN_APPLICATION,
		       "no such application in your view");
		break;
	default: /* a whoami answer to anything else */
		w.name = "x";
		r.body_case = TAMWIL__V1__RESPONSE__BODY_WHOAMI;
		r.whoami = &w;
		break;
	}
	return client_fake_send_response(fd, ch, &r);
}

/* Message 3 and its first request, then every later request. */
static void serve(int fd, channel *ch, struct served *s)
{
	static uint8_t buf[FRAME_MAX_BODY], plain[FRAME_MAX_BODY];
	Tamwil__V1__ClientHello *hello;
	Tamwil__V1__Request *req;
	size_t len = 0, plen = 0;
	int rc = -1;

	if (client_fake_read_frame(fd, buf, &len) != 0 ||
	    channel_handshake_read(ch, buf, len, plain, sizeof(plain), &plen) !=
		0)
		return;
	hello = tamwil__v1__client_hello__unpack(NULL, plen, plain);
	if (hello != NULL && hello->first_request != NULL)
		rc = answer(fd, ch, s, hello->first_request);
	tamwil__v1__client_hello__free_unpacked(hello, NULL);
	while (rc == 0 && client_fake_read_frame(fd, buf, &len) == 0 &&
	       channel_open(ch, buf, len, plain, &plen) == 0) {
		req = tamwil__v1__request__unpack(NULL, plen, plain);
		rc = req != NULL ? answer(fd, ch, s, req) : -1;
		tamwil__v1__request__free_unpacked(req, NULL);
	}
}

/* The forked responder: one connection, then exit. */
static void responder(const struct fixture *f)
{
	static struct served s;
	channel ch;
	int fd = accept(f->listen_fd, NULL, NULL);

	signal(SIGPIPE, SIG_IGN);
	s.f = f;
	if (fd < 0 || channel_init_responder(&ch, f->server.noise_sk) != 0 ||
	    client_fake_serve_hello(fd, &ch, 1) != 0)
		_exit(1);
	serve(fd, &ch, &s);
	close(fd);
	_exit(0);
}

/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (sodium_init() < 0 || keyfile_generate(&f->server) != 0 ||
	    keyfile_generate(&f->client) != 0 ||
	    keyfile_data_generate(&f->data) != 0 ||
	    client_fake_listen(&f->listen_fd, f->address, sizeof(f->address)) !=
		0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	client_fake_stop(f->child, f->listen_fd);
	free(f);
	return 0;
}

/* Starts the responder and connects, with the data key when data is 1. */
static tamwil_client *start(struct fixture *f, int data)
{
	tamwil_client_options opt = {0};
	tamwil_client *c = NULL;
	keyfile_secret copy = f->client;
	tamwil_error err;

	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0)
		responder(f);
	opt.server = f->address;
	opt.server_noise_pk = f->server.noise_pk;
	opt.server_data_pk = data ? f->data.pk : NULL;
	opt.key = &copy;
	opt.io_timeout_ms = 3000;
	assert_int_equal(tamwil_client_connect(&opt, &c, &err), TAMWIL_OK);
	/* The handle keeps its own copy: the caller's may go at once. */
	sodium_memzero(&copy, sizeof(copy));
	return c;
}

/* ---- tests -------------------------------------------------------------- */

/* A CreateRegion operation for code. */
static void region_op(Tamwil__V1__Operation *op, Tamwil__V1__CreateRegion *cr,
		      char *code)
{
	tamwil__v1__operation__init(op);
	tamwil__v1__create_region__init(cr);
	cr->code = code;
	cr->name = "Souss-Massa";
	op->body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op->create_region = cr;
}

static void test_operate_fills_key_and_time(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = start(f, 0);
	Tamwil__V1__Operation op;
	Tamwil__V1__CreateRegion cr;
	Tamwil__V1__OperationResult *res = NULL;
	tamwil_error err;
	uint8_t first[SIGNOP_IDEMPOTENCY_LEN];

	region_op(&op, &cr, "SOU");
	assert_int_equal(tamwil_client_operate(c, &op, &res, &err), TAMWIL_OK);
	assert_non_null(res);
	assert_string_equal(res->reference, "SOU");
	assert_false(res->replayed);
	assert_int_equal(res->sequence, 1);
	assert_int_equal(op.idempotency_key.len, SIGNOP_IDEMPOTENCY_LEN);
	assert_true(op.client_time > 0);
	memcpy(first, op.idempotency_key.data, sizeof(first));
	tamwil__v1__operation_result__free_unpacked(res, NULL);

	/* Another operation gets another key: not a replay. */
	region_op(&op, &cr, "SOU");
	assert_int_equal(tamwil_client_operate(c, &op, &res, &err), TAMWIL_OK);
	assert_false(res->replayed);
	assert_int_equal(res->sequence, 2);
	assert_memory_not_equal(first, op.idempotency_key.data, sizeof(first));
	tamwil__v1__operation_result__free_unpacked(res, NULL);
	tamwil_client_close(c);
}

static void test_send_signed_twice_is_a_replay(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = start(f, 0);
	Tamwil__V1__Operation op;
	Tamwil__V1__CreateRegion cr;
	Tamwil__V1__OperationResult *res = NULL;
	uint8_t key[SIGNOP_IDEMPOTENCY_LEN], sig[SIGNOP_SIGLEN], *bytes = NULL;
	size_t len = 0;
	tamwil_error err;

	/* A key given by the caller (an outbox's) is kept as it is. */
	memset(key, 0x5a, sizeof(key));
	region_op(&op, &cr, "DRA");
	op.idempotency_key.data = key;
	op.idempotency_key.len = sizeof(key);
	op.client_time = 1700000000;
	assert_int_equal(tamwil_client_sign(c, &op, &bytes, &len, sig, &err),
			 TAMWIL_OK);
	assert_ptr_equal(op.idempotency_key.data, key);
	assert_int_equal(op.client_time, 1700000000);
	assert_int_equal(signop_verify(bytes, len, f->client.sign_pk, sig), 0);

	assert_int_equal(
	    tamwil_client_send_signed(c, bytes, len, sig, &res, &err),
	    TAMWIL_OK);
	assert_false(res->replayed);
	assert_string_equal(res->reference, "DRA");
	tamwil__v1__operation_result__free_unpacked(res, NULL);
	assert_int_equal(
	    tamwil_client_send_signed(c, bytes, len, sig, &res, &err),
	    TAMWIL_OK);
	assert_true(res->replayed);
	assert_string_equal(res->reference, "DRA");
	tamwil__v1__operation_result__free_unpacked(res, NULL);

	/* Bytes changed after signing: refused, and the connection lives. */
	bytes[len - 1] ^= 1;
	assert_int_equal(
	    tamwil_client_send_signed(c, bytes, len, sig, &res, &err),
	    TAMWIL_ERR_REFUSED);
	assert_null(res);
	assert_int_equal(err.code, TAMWIL__V1__ERROR_CODE__ERROR_BAD_SIGNATURE);
	free(bytes);

	/* A caller's key of the wrong length is refused before sending. */
	op.idempotency_key.len = 8;
	assert_int_equal(tamwil_client_sign(c, &op, &bytes, &len, sig, &err),
			 TAMWIL_ERR_LOCAL);
	assert_null(bytes);
	tamwil_client_close(c);
}

/* 1 if the text needle occurs in buf[0..len). */
static int contains(const uint8_t *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(buf + i, needle, n) == 0)
			return 1;
	return 0;
}

static void test_sealed_identity_opens_at_head_office(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = start(f, 1);
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__SubmitApplication sub =
	    TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__OperationResult *res = NULL;
	uint8_t *box = NULL, *box2 = NULL;
	size_t len = 0, len2 = 0;
	tamwil_error err;

	id.national_id = "JB123456";
	id.first_name = "خديجة";
	id.last_name = "Aït Benhaddou";
	id.birth_date = "1988-03-21";
	assert_int_equal(tamwil_client_seal_identity(c, &id, &box, &len, &err),
			 TAMWIL_OK);
	assert_true(len > SEAL_BOX_OVERHEAD);
	/* Nothing of the identity shows in the box. */
	assert_false(contains(box, len, "JB123456"));
	/* A fresh nonce each time: the same identity seals differently. */
	assert_int_equal(
	    tamwil_client_seal_identity(c, &id, &box2, &len2, &err), TAMWIL_OK);
	assert_int_equal(len, len2);
	assert_memory_not_equal(box, box2, len);
	free(box2);

	sub.programme = "INDH-2026";
	sub.region = "LAG";
	sub.identity_box.data = box;
	sub.identity_box.len = len;
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &sub;
	assert_int_equal(tamwil_client_operate(c, &op, &res, &err), TAMWIL_OK);
	assert_string_equal(res->reference, "JB123456/خديجة/Aït Benhaddou");
	tamwil__v1__operation_result__free_unpacked(res, NULL);
	free(box);
	tamwil_client_close(c);
}

static void test_seal_without_data_key(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = start(f, 0);
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	uint8_t *box = (uint8_t *)"x";
	size_t len = 0;
	tamwil_error err;

	id.national_id = "JB123456";
	assert_int_equal(tamwil_client_seal_identity(c, &id, &box, &len, &err),
			 TAMWIL_ERR_LOCAL);
	assert_null(box);
	assert_non_null(strstr(err.message, "no data key"));
	tamwil_client_close(c);
}

static void test_call_answers_refusals_and_wrong_kinds(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = start(f, 0);
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListRegionsRequest regions =
	    TAMWIL__V1__LIST_REGIONS_REQUEST__INIT;
	Tamwil__V1__GetApplicationRequest get =
	    TAMWIL__V1__GET_APPLICATION_REQUEST__INIT;
	Tamwil__V1__PingRequest ping = TAMWIL__V1__PING_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	tamwil_error err;

	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &regions;
	assert_int_equal(tamwil_client_call(c, &req, &resp, &err), TAMWIL_OK);
	assert_int_equal(resp->body_case, TAMWIL__V1__RESPONSE__BODY_REGIONS);
	assert_int_equal(resp->regions->n_regions, 1);
	assert_string_equal(resp->regions->regions[0]->name,
			    "Laâyoune-Sakia El Hamra");
	/* The caller's request is left as it was. */
	assert_int_equal(req.request_id, 0);
	tamwil__v1__response__free_unpacked(resp, NULL);

	req.body_case = TAMWIL__V1__REQUEST__BODY_GET_APPLICATION;
	get.reference = "LAG-2026-999999";
	req.get_application = &get;
	assert_int_equal(tamwil_client_call(c, &req, &resp, &err),
			 TAMWIL_ERR_REFUSED);
	assert_null(resp);
	assert_int_equal(err.code,
			 TAMWIL__V1__ERROR_CODE__ERROR_UNKNOWN_APPLICATION);
	assert_string_equal(err.message, "no such application in your view");

	/* A refusal leaves the connection usable. */
	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_REGIONS;
	req.list_regions = &regions;
	assert_int_equal(tamwil_client_call(c, &req, &resp, &err), TAMWIL_OK);
	tamwil__v1__response__free_unpacked(resp, NULL);

	/* A whoami answer to a ping is not the answer to a ping. */
	req.body_case = TAMWIL__V1__REQUEST__BODY_PING;
	req.ping = &ping;
	assert_int_equal(tamwil_client_call(c, &req, &resp, &err),
			 TAMWIL_ERR_PROTOCOL);
	assert_null(resp);

	/* An empty request never leaves. */
	req.body_case = TAMWIL__V1__REQUEST__BODY__NOT_SET;
	assert_int_equal(tamwil_client_call(c, &req, &resp, &err),
			 TAMWIL_ERR_LOCAL);
	tamwil_client_close(c);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_operate_fills_key_and_time),
	    T(test_send_signed_twice_is_a_replay),
	    T(test_sealed_identity_opens_at_head_office),
	    T(test_seal_without_data_key),
	    T(test_call_answers_refusals_and_wrong_kinds),
	};

	return cmocka_run_group_tests_name("client_ops", tests, NULL, NULL);
}
