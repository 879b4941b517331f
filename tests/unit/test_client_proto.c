/*
 * Unit tests of libtamwil-client's side of the wire protocol, against a
 * scripted responder forked on loopback: the first request riding in
 * handshake message 3, later requests in sealed frames, refusals that
 * leave the connection usable, and each failure the library must turn
 * into its own status (not enrolled, server key, timeout, malformed
 * frames, wrong request ids, unreachable).
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
#include "tamwil-client.h"
#include "tamwil.pb-c.h"

/* What the scripted responder does. */
enum script {
	SCRIPT_SERVE,	      /* answers whoami, refuses the 2nd request */
	SCRIPT_CLOSE_AFTER_3, /* reads message 3 and hangs up */
	SCRIPT_WRONG_ID,      /* answers with another request_id */
	SCRIPT_SILENT,	      /* reads message 1 and says nothing */
	SCRIPT_EMPTY_FRAME,   /* sends a frame header announcing 0 bytes */
	SCRIPT_VERSION_2      /* announces protocol version 2 */
};

struct fixture {
	keyfile_secret server; /* the responder's keys */
	keyfile_secret client; /* the principal's keys */
	int listen_fd;
	char address[64];
	pid_t child;
};

static int send_whoami(int fd, channel *ch, uint64_t id)
{
	Tamwil__V1__Response r = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__WhoamiResponse w = TAMWIL__V1__WHOAMI_RESPONSE__INIT;

	w.name = "Khadija Ait Ouahmane";
	w.role = TAMWIL__V1__ROLE__ROLE_COORDINATOR;
	w.region = "SOUSS";
	w.fingerprint = "0000 1111 2222 3333 4444";
	w.server_version = "tamwild test";
	w.principal_id = 7;
	r.request_id = id;
	r.body_case = TAMWIL__V1__RESPONSE__BODY_WHOAMI;
	r.whoami = &w;
	return client_fake_send_response(fd, ch, &r);
}

static int send_refusal(int fd, channel *ch, uint64_t id)
{
	Tamwil__V1__Response r = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__Error e = TAMWIL__V1__ERROR__INIT;

	e.code = TAMWIL__V1__ERROR_CODE__ERROR_PERMISSION_DENIED;
	e.message = "an auditor cannot do this";
	r.request_id = id;
	r.body_case = TAMWIL__V1__RESPONSE__BODY_ERROR;
	r.error = &e;
	return client_fake_send_response(fd, ch, &r);
}

/* Reads message 3; returns the id of the first request, or 0. */
static uint64_t read_hello(int fd, channel *ch)
{
	static uint8_t buf[FRAME_MAX_BODY], payload[FRAME_MAX_BODY];
	Tamwil__V1__ClientHello *hello;
	size_t len = 0, plen = 0;
	uint64_t id = 0;

	if (client_fake_read_frame(fd, buf, &len) != 0 ||
	    channel_handshake_read(ch, buf, len, payload, sizeof(payload),
				   &plen) != 0 ||
	    !ch->established)
		return 0;
	hello = tamwil__v1__client_hello__unpack(NULL, plen, payload);
	if (hello != NULL && hello->first_request != NULL &&
	    hello->first_request->body_case ==
		TAMWIL__V1__REQUEST__BODY_WHOAMI &&
	    strncmp(hello->client_version, "tamwil ", 7) == 0)
		id = hello->first_request->request_id;
	tamwil__v1__client_hello__free_unpacked(hello, NULL);
	return id;
}

/* Reads one sealed Request; returns its id, or 0. */
static uint64_t read_request(int fd, channel *ch)
{
	static uint8_t buf[FRAME_MAX_BODY], plain[FRAME_MAX_BODY];
	Tamwil__V1__Request *req;
	size_t len = 0, plen = 0;
	uint64_t id = 0;

	if (client_fake_read_frame(fd, buf, &len) != 0 ||
	    channel_open(ch, buf, len, plain, &plen) != 0)
		return 0;
	req = tamwil__v1__request__unpack(NULL, plen, plain);
	if (req != NULL)
		id = req->request_id;
	tamwil__v1__request__free_unpacked(req, NULL);
	return id;
}

/* The conversation after the hello, per script. */
static int serve_requests(int fd, channel *ch, enum script script)
{
	uint64_t id = read_hello(fd, ch);

	if (id != 1 || script == SCRIPT_CLOSE_AFTER_3)
		return -1;
	if (script == SCRIPT_WRONG_ID)
		return send_whoami(fd, ch, id + 41);
	if (send_whoami(fd, ch, id) != 0)
		return -1;
	id = read_request(fd, ch);
	if (id != 2 || send_refusal(fd, ch, id) != 0)
		return -1;
	id = read_request(fd, ch);
	if (id != 3 || send_whoami(fd, ch, id) != 0)
		return -1;
	return 0;
}

/* The forked responder: one connection, then exit. */
static void responder(const struct fixture *f, enum script script)
{
	channel ch;
	int fd = accept(f->listen_fd, NULL, NULL);

	signal(SIGPIPE, SIG_IGN);
	if (fd < 0 || channel_init_responder(&ch, f->server.noise_sk) != 0)
		_exit(1);
	if (script == SCRIPT_SILENT) {
		sleep(5);
		_exit(0);
	}
	if (client_fake_serve_hello(fd, &ch,
				    script == SCRIPT_VERSION_2 ? 2 : 1) != 0)
		_exit(1);
	if (script == SCRIPT_EMPTY_FRAME) {
		const uint8_t hdr[FRAME_HEADER_LEN] = {0, 0};

		(void)read_hello(fd, &ch);
		(void)client_fake_write_full(fd, hdr, sizeof(hdr));
		sleep(5);
		_exit(0);
	}
	(void)serve_requests(fd, &ch, script);
	close(fd);
	_exit(0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (sodium_init() < 0 || keyfile_generate(&f->server) != 0 ||
	    keyfile_generate(&f->client) != 0 ||
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

/* Starts the responder and connects; returns the connect status. */
static int start(struct fixture *f, enum script script,
		 const uint8_t *server_pk, tamwil_client **c, tamwil_error *err)
{
	tamwil_client_options opt = {0};

	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0)
		responder(f, script);
	opt.server = f->address;
	opt.server_noise_pk =
	    server_pk != NULL ? server_pk : f->server.noise_pk;
	opt.key = &f->client;
	opt.io_timeout_ms = 1500;
	return tamwil_client_connect(&opt, c, err);
}

static void test_whoami_refusal_and_reuse(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = NULL;
	tamwil_whoami me;
	tamwil_error err;

	assert_int_equal(start(f, SCRIPT_SERVE, NULL, &c, &err), TAMWIL_OK);
	assert_string_equal(tamwil_client_server_version(c), "tamwild test");
	assert_int_equal(tamwil_client_whoami(c, &me, &err), TAMWIL_OK);
	assert_string_equal(me.name, "Khadija Ait Ouahmane");
	assert_string_equal(me.role, "coordinator");
	assert_string_equal(me.region, "SOUSS");
	assert_int_equal(me.principal_id, 7);
	assert_int_equal(tamwil_client_whoami(c, &me, &err),
			 TAMWIL_ERR_REFUSED);
	assert_int_equal(err.code,
			 TAMWIL__V1__ERROR_CODE__ERROR_PERMISSION_DENIED);
	assert_string_equal(err.message, "an auditor cannot do this");
	assert_int_equal(tamwil_client_whoami(c, &me, &err), TAMWIL_OK);
	tamwil_client_close(c);
}

static void test_not_enrolled(void **state)
{
	struct fixture *f = *state;
	char expect[128];
	char fp[KEYFILE_FINGERPRINT_LEN];
	tamwil_client *c = NULL;
	tamwil_whoami me;
	tamwil_error err;

	assert_int_equal(start(f, SCRIPT_CLOSE_AFTER_3, NULL, &c, &err),
			 TAMWIL_OK);
	assert_int_equal(tamwil_client_whoami(c, &me, &err),
			 TAMWIL_ERR_NOT_ENROLLED);
	keyfile_fingerprint(f->client.noise_pk, f->client.sign_pk, fp);
	snprintf(expect, sizeof(expect), "(fingerprint %s)", fp);
	assert_non_null(strstr(err.message, expect));
	assert_int_equal(tamwil_client_whoami(c, &me, &err), TAMWIL_ERR_CLOSED);
	tamwil_client_close(c);
}

static void test_server_key_mismatch(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = NULL;
	tamwil_error err;

	/* The responder cannot read message 1 made for another key. */
	assert_int_equal(start(f, SCRIPT_SERVE, f->client.noise_pk, &c, &err),
			 TAMWIL_ERR_SERVER_KEY);
	assert_null(c);
	assert_non_null(strstr(err.message, "server key mismatch"));
	assert_non_null(strstr(err.message, f->address));
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = NULL;
	tamwil_error err;
	char expect[160];

	assert_int_equal(start(f, SCRIPT_SILENT, NULL, &c, &err),
			 TAMWIL_ERR_TIMEOUT);
	snprintf(expect, sizeof(expect), "no answer from %s within 1.5 s",
		 f->address);
	assert_string_equal(err.message, expect);
}

static void test_wrong_request_id(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = NULL;
	tamwil_whoami me;
	tamwil_error err;

	assert_int_equal(start(f, SCRIPT_WRONG_ID, NULL, &c, &err), TAMWIL_OK);
	assert_int_equal(tamwil_client_whoami(c, &me, &err),
			 TAMWIL_ERR_PROTOCOL);
	assert_non_null(
	    strstr(err.message, "answered request 42 instead of 1"));
	tamwil_client_close(c);
}

static void test_empty_frame(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = NULL;
	tamwil_whoami me;
	tamwil_error err;

	assert_int_equal(start(f, SCRIPT_EMPTY_FRAME, NULL, &c, &err),
			 TAMWIL_OK);
	assert_int_equal(tamwil_client_whoami(c, &me, &err),
			 TAMWIL_ERR_PROTOCOL);
	assert_non_null(strstr(err.message, "malformed frame"));
	tamwil_client_close(c);
}

static void test_protocol_version(void **state)
{
	struct fixture *f = *state;
	tamwil_client *c = NULL;
	tamwil_error err;

	assert_int_equal(start(f, SCRIPT_VERSION_2, NULL, &c, &err),
			 TAMWIL_ERR_PROTOCOL);
	assert_non_null(strstr(err.message, "protocol version 2"));
}

static void test_unreachable(void **state)
{
	struct fixture *f = *state;
	tamwil_client_options opt = {0};
	tamwil_client *c = NULL;
	tamwil_error err;
	char expect[160];

	/* Nobody accepts on the fixture's port once it is closed. */
	close(f->listen_fd);
	f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	opt.server = f->address;
	opt.server_noise_pk = f->server.noise_pk;
	opt.key = &f->client;
	assert_int_equal(tamwil_client_connect(&opt, &c, &err),
			 TAMWIL_ERR_UNREACHABLE);
	snprintf(expect, sizeof(expect), "cannot reach %s: connection refused",
		 f->address);
	assert_string_equal(err.message, expect);
	opt.server = "host:0";
	assert_int_equal(tamwil_client_connect(&opt, &c, &err),
			 TAMWIL_ERR_LOCAL);
	tamwil_client_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_whoami_refusal_and_reuse,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_enrolled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_key_mismatch, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_request_id, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_empty_frame, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_protocol_version, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_unreachable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
