/*
 * Unit tests of libtamwil-client's audit checks through a connection:
 * against a responder forked on loopback that plays head office with a
 * one-entry log, an operation succeeds only with a receipt that proves
 * it (TAMWIL_ERR_RECEIPT otherwise), the receipt and the checkpoint are
 * kept in the state folder, and a log that does not extend the saved
 * checkpoint stops the first request (TAMWIL_ERR_FORKED).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "channel.h"
#include "checkpoint.h"
#include "client_fake.h"
#include "keyfile.h"
#include "merkle.h"
#include "tamwil-client.h"
#include "tamwil.pb-c.h"

/* How the responder misbehaves. */
enum mode {
	GOOD,	     /* a true receipt */
	OTHER_ENTRY, /* the entry holds other bytes than those sent */
	FOREIGN_SIG, /* the checkpoint is signed by another key */
	NO_RECEIPT,  /* the result carries no receipt */
	ROLLED_BACK, /* the log is smaller than the saved checkpoint */
	OTHER_ROOT   /* same size as saved, another root */
};

struct fixture {
	keyfile_secret server, client, foreign;
	int listen_fd;
	char address[64];
	char dir[64];
	pid_t child;
	enum mode mode;
};

/* ---- the responder --------------------------------------------------------
 */

static void refuse(Tamwil__V1__Response *r, Tamwil__V1__Error *e, int code)
{
	e->code = (Tamwil__V1__ErrorCode)code;
	e->message = "refused";
	r->body_case = TAMWIL__V1__RESPONSE__BODY_ERROR;
	r->error = e;
}

/* cp as a message (borrowing its bytes). */
static void cp_message(checkpoint *cp, Tamwil__V1__Checkpoint *m)
{
	tamwil__v1__checkpoint__init(m);
	m->tree_size = cp->size;
	m->root.data = cp->root;
	m->root.len = MERKLE_HASHLEN;
	m->time = cp->time;
	m->signature.data = cp->sig;
	m->signature.len = CHECKPOINT_SIGLEN;
}

/* A checkpoint answer: the empty log, a smaller one, or another root. */
static int answer_checkpoint(int fd, channel *ch, const struct fixture *f,
			     uint64_t id)
{
	Tamwil__V1__Response r = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__Error e = TAMWIL__V1__ERROR__INIT;
	Tamwil__V1__CheckpointResponse body =
	    TAMWIL__V1__CHECKPOINT_RESPONSE__INIT;
	Tamwil__V1__Checkpoint m;
	checkpoint cp = {0};

	r.request_id = id;
	if (f->mode != OTHER_ROOT) {
		refuse(&r, &e,
		       f->mode == ROLLED_BACK
			   ? TAMWIL__V1__ERROR_CODE__ERROR_INVALID_ARGUMENT
			   : TAMWIL__V1__ERROR_CODE__ERROR_NOT_FOUND);
		return client_fake_send_response(fd, ch, &r);
	}
	cp.size = 5;
	memset(cp.root, 0x22, MERKLE_HASHLEN);
	if (checkpoint_sign(&cp, &f->server) != 0)
		return -1;
	cp_message(&cp, &m);
	body.checkpoint = &m;
	r.body_case = TAMWIL__V1__RESPONSE__BODY_CHECKPOINT;
	r.checkpoint = &body;
	return client_fake_send_response(fd, ch, &r);
}

/* The one entry of the log, recording sop (altered for OTHER_ENTRY). */
static size_t pack_entry(const struct fixture *f,
			 const Tamwil__V1__SignedOperation *sop, uint8_t *out)
{
	Tamwil__V1__LogEntry e = TAMWIL__V1__LOG_ENTRY__INIT;
	Tamwil__V1__SignedOperation copy = *sop;
	uint8_t other[4] = {1, 2, 3, 4};

	if (f->mode == OTHER_ENTRY) {
		copy.operation.data = other;
		copy.operation.len = sizeof(other);
	}
	e.time = 1700000000;
	e.operation = &copy;
	return tamwil__v1__log_entry__pack(&e, out);
}

/* Answers an operation with entry 0 and a receipt as the mode says. */
static int answer_operation(int fd, channel *ch, const struct fixture *f,
			    uint64_t id, const Tamwil__V1__SignedOperation *sop)
{
	static uint8_t entry[FRAME_MAX_BODY];
	Tamwil__V1__Response r = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__OperationResult res = TAMWIL__V1__OPERATION_RESULT__INIT;
	Tamwil__V1__Receipt rc = TAMWIL__V1__RECEIPT__INIT;
	Tamwil__V1__Checkpoint m;
	checkpoint cp = {0};
	size_t len = pack_entry(f, sop, entry);

	cp.size = 1;
	cp.time = 1700000000;
	if (merkle_leaf_hash(entry, len, cp.root) != 0 ||
	    checkpoint_sign(&cp, f->mode == FOREIGN_SIG ? &f->foreign
							: &f->server) != 0)
		return -1;
	cp_message(&cp, &m);
	rc.entry.data = entry;
	rc.entry.len = len;
	rc.checkpoint = &m;
	res.reference = "SM";
	res.receipt = f->mode == NO_RECEIPT ? NULL : &rc;
	r.request_id = id;
	r.body_case = TAMWIL__V1__RESPONSE__BODY_OPERATION;
	r.operation = &res;
	return client_fake_send_response(fd, ch, &r);
}

static int answer(int fd, channel *ch, const struct fixture *f,
		  const Tamwil__V1__Request *req)
{
	Tamwil__V1__Response r = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__WhoamiResponse w = TAMWIL__V1__WHOAMI_RESPONSE__INIT;

	if (req->body_case == TAMWIL__V1__REQUEST__BODY_CHECKPOINT)
		return answer_checkpoint(fd, ch, f, req->request_id);
	if (req->body_case == TAMWIL__V1__REQUEST__BODY_OPERATION)
		return answer_operation(fd, ch, f, req->request_id,
					req->operation);
	w.name = "x";
	r.request_id = req->request_id;
	r.body_case = TAMWIL__V1__RESPONSE__BODY_WHOAMI;
	r.whoami = &w;
	return client_fake_send_response(fd, ch, &r);
}

static void serve(int fd, channel *ch, const struct fixture *f)
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
		rc = answer(fd, ch, f, hello->first_request);
	tamwil__v1__client_hello__free_unpacked(hello, NULL);
	while (rc == 0 && client_fake_read_frame(fd, buf, &len) == 0 &&
	       channel_open(ch, buf, len, plain, &plen) == 0) {
		req = tamwil__v1__request__unpack(NULL, plen, plain);
		rc = req != NULL ? answer(fd, ch, f, req) : -1;
		tamwil__v1__request__free_unpacked(req, NULL);
	}
}

static void responder(const struct fixture *f)
{
	channel ch;
	int fd = accept(f->listen_fd, NULL, NULL);

	signal(SIGPIPE, SIG_IGN);
	if (fd < 0 || channel_init_responder(&ch, f->server.noise_sk) != 0 ||
	    client_fake_serve_hello(fd, &ch, 1) != 0)
		_exit(1);
	serve(fd, &ch, f);
	close(fd);
	_exit(0);
}

/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tamwil-receipt-XXXXXX");
	if (sodium_init() < 0 || keyfile_generate(&f->server) != 0 ||
	    keyfile_generate(&f->client) != 0 ||
	    keyfile_generate(&f->foreign) != 0 || mkdtemp(f->dir) == NULL ||
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
	char cmd[128];

	client_fake_stop(f->child, f->listen_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Starts the responder in mode and connects, keeping state in f->dir. */
static tamwil_client *start(struct fixture *f, enum mode mode)
{
	tamwil_client_options opt = {0};
	tamwil_client *c = NULL;
	tamwil_error err;

	f->mode = mode;
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0)
		responder(f);
	opt.server = f->address;
	opt.server_noise_pk = f->server.noise_pk;
	opt.server_sign_pk = f->server.sign_pk;
	opt.state_dir = f->dir;
	opt.key = &f->client;
	opt.io_timeout_ms = 3000;
	assert_int_equal(tamwil_client_connect(&opt, &c, &err), TAMWIL_OK);
	return c;
}

/* Applies a CreateRegion; the status. */
static int operate(tamwil_client *c, tamwil_error *err)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion cr = TAMWIL__V1__CREATE_REGION__INIT;
	Tamwil__V1__OperationResult *res = NULL;
	int rc;

	cr.code = "SM";
	cr.name = "Souss-Massa";
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &cr;
	rc = tamwil_client_operate(c, &op, &res, err);
	if (rc == TAMWIL_OK) {
		assert_non_null(res->receipt);
		tamwil__v1__operation_result__free_unpacked(res, NULL);
	} else {
		assert_null(res);
	}
	return rc;
}

/*
 * The only checkpoint file of the state folder, its path into path
 * (capacity 256), loaded into cp: 0, 1 when there is none, or -1.
 */
static int saved_checkpoint(const struct fixture *f, checkpoint *cp, char *path)
{
	char cmd[256];
	FILE *p;
	int rc = 1;

	snprintf(cmd, sizeof(cmd), "ls %s/checkpoint-* 2>/dev/null", f->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(path, 256, p) != NULL) {
		path[strcspn(path, "\n")] = '\0';
		rc = tamwil_checkpoint_load(path, cp);
	}
	pclose(p);
	return rc;
}

/* ---- tests -------------------------------------------------------------- */

static void test_good_receipt_is_kept(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = start(f, GOOD);
	char path[256];
	tamwil_error err;
	struct stat st;
	checkpoint cp = {0};

	assert_int_equal(operate(c, &err), TAMWIL_OK);
	tamwil_client_close(c);
	assert_int_equal(saved_checkpoint(f, &cp, path), 0);
	assert_int_equal(cp.size, 1);
	snprintf(path, sizeof(path), "%s/receipts", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 4);
	assert_int_equal(st.st_mode & 077, 0);
}

/* A receipt that does not prove the operation: no success. */
static void expect_bad_receipt(struct fixture *f, enum mode mode,
			       const char *why)
{
	tamwil_client *c = start(f, mode);
	tamwil_error err;

	assert_int_equal(operate(c, &err), TAMWIL_ERR_RECEIPT);
	assert_int_equal(err.status, TAMWIL_ERR_RECEIPT);
	assert_non_null(strstr(err.message, "head office's answer does not "
					    "prove the operation is in its "
					    "log: "));
	if (strstr(err.message, why) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err.message, why);
	tamwil_client_close(c);
}

static void test_other_entry(void **state)
{
	expect_bad_receipt(*state, OTHER_ENTRY, "does not hold the operation");
}

static void test_foreign_signature(void **state)
{
	expect_bad_receipt(*state, FOREIGN_SIG, "signature does not verify");
}

static void test_no_receipt(void **state)
{
	expect_bad_receipt(*state, NO_RECEIPT, "there is no receipt");
}

/* Saves a checkpoint of size 5 signed by the server, as if seen before. */
static void save_seen(struct fixture *f)
{
	tamwil_client *c = start(f, GOOD);
	tamwil_error err;
	char path[256];
	checkpoint cp = {0};

	/* One good run names the file; then make it a larger log's. */
	assert_int_equal(operate(c, &err), TAMWIL_OK);
	tamwil_client_close(c);
	client_fake_stop(f->child, -1);
	f->child = 0;
	assert_int_equal(saved_checkpoint(f, &cp, path), 0);
	cp.size = 5;
	memset(cp.root, 0x11, MERKLE_HASHLEN);
	assert_int_equal(checkpoint_sign(&cp, &f->server), 0);
	assert_int_equal(tamwil_checkpoint_save(path, &cp), 0);
}

/* The first request stops with TAMWIL_ERR_FORKED. */
static void expect_forked(struct fixture *f, enum mode mode, const char *why)
{
	tamwil_client *c;
	tamwil_whoami me;
	tamwil_error err;

	save_seen(f);
	c = start(f, mode);
	assert_int_equal(tamwil_client_whoami(c, &me, &err), TAMWIL_ERR_FORKED);
	assert_non_null(strstr(err.message, "does not extend the one this "
					    "office saw (size 5, root "
					    "1111111111111111...)"));
	assert_non_null(strstr(err.message, "tell the auditors"));
	if (strstr(err.message, why) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err.message, why);
	/* The handle is unusable after that. */
	assert_int_equal(tamwil_client_whoami(c, &me, &err), TAMWIL_ERR_CLOSED);
	tamwil_client_close(c);
}

static void test_rolled_back(void **state)
{
	expect_forked(*state, ROLLED_BACK, "fewer entries");
}

static void test_other_root(void **state)
{
	expect_forked(*state, OTHER_ROOT, "another root at the same size");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_good_receipt_is_kept), T(test_other_entry),
	    T(test_foreign_signature),	  T(test_no_receipt),
	    T(test_rolled_back),	  T(test_other_root),
	};
#undef T

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
