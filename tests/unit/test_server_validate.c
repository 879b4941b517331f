/*
 * Unit tests of what the dispatcher checks after unpacking, against a
 * real head office (tests/fuzz/fuzz_world.c): codes and references of
 * operations, enum and text filters of queries, the ClientHello's
 * version, and refusals that quote a client's bytes yet stay UTF-8 text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "channel.h"
#include "dispatch.h"
#include "fuzz_world.h"
#include "reply.h"
#include "text.h"

#define E(x) TAMWIL__V1__ERROR_CODE__ERROR_##x

static int setup(void **state)
{
	fuzz_world *w;

	if (sodium_init() < 0)
		return -1;
	w = fuzz_world_open(NULL, NULL);
	if (w == NULL)
		return -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	fuzz_world_close(*state);
	return 0;
}

/*
 * Sends req as who and expects a refusal with code whose message holds
 * want; every refusal's message must be text.
 */
static void expect_refusal(fuzz_world *w, int who, Tamwil__V1__Request *req,
			   Tamwil__V1__ErrorCode code, const char *want)
{
	Tamwil__V1__Response *resp;

	assert_int_equal(fuzz_world_send(w, who, req, &resp), 0);
	assert_int_equal(resp->body_case, TAMWIL__V1__RESPONSE__BODY_ERROR);
	assert_int_equal(resp->error->code, code);
	if (strstr(resp->error->message, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", resp->error->message,
			 want);
	assert_true(
	    text_valid(resp->error->message, strlen(resp->error->message)));
	tamwil__v1__response__free_unpacked(resp, NULL);
}

/* Signs op as who and expects the refusal of expect_refusal(). */
static void expect_op_refusal(fuzz_world *w, int who, Tamwil__V1__Operation *op,
			      Tamwil__V1__ErrorCode code, const char *want)
{
	static fuzz_signed s;
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;

	op->idempotency_key.len = 0;
	assert_int_equal(fuzz_world_sign(w, who, op, &s), 0);
	req.body_case = TAMWIL__V1__REQUEST__BODY_OPERATION;
	req.operation = &s.sop;
	expect_refusal(w, who, &req, code, want);
}

static void test_refusal_stays_text(void **state)
{
	reply_refusal r;
	char arabic[401];

	(void)state;
	assert_int_equal(reply_refuse(&r, E(UNKNOWN_APPLICATION),
				      "no application %s", "\xff\xfe\x1b"),
			 -1);
	assert_string_equal(r.message, "no application ???");
	/* 200 two-byte letters, cut by the message's size mid-letter. */
	for (size_t i = 0; i < 200; i++)
		memcpy(arabic + 2 * i, "\xd8\xa8", 2);
	arabic[400] = '\0';
	reply_refuse(&r, E(INVALID_ARGUMENT), "%s", arabic);
	assert_int_equal(strlen(r.message), REPLY_MESSAGE_MAX - 2);
	assert_true(text_valid(r.message, strlen(r.message)));
}

static void test_operation_codes_checked(void **state)
{
	fuzz_world *w = *state;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__SubmitApplication sub =
	    TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__ApproveApplication ap =
	    TAMWIL__V1__APPROVE_APPLICATION__INIT;
	Tamwil__V1__EnrolPrincipal en = TAMWIL__V1__ENROL_PRINCIPAL__INIT;
	Tamwil__V1__RecordRepayment rp = TAMWIL__V1__RECORD_REPAYMENT__INIT;
	Tamwil__V1__Money amount = TAMWIL__V1__MONEY__INIT;
	uint8_t key[32] = {1};

	sub.programme = "FEM-2026";
	sub.region = "lag";
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &sub;
	expect_op_refusal(w, FUZZ_COORD_LAG, &op, E(INVALID_ARGUMENT),
			  "the region code must be 2 to 8 capital letters");
	sub.region = "LAG";
	sub.programme = "FEM 2026\xff";
	expect_op_refusal(w, FUZZ_COORD_LAG, &op, E(INVALID_ARGUMENT),
			  "the programme code must be 2 to 16 capital "
			  "letters, digits or '-'");
	ap.reference = "LAG-2026-000001\n";
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &ap;
	expect_op_refusal(w, FUZZ_APPROVER, &op, E(INVALID_ARGUMENT),
			  "the application reference must be 1 to 31");
	/* A well-formed reference still gets the refusal of its state. */
	ap.reference = w->refs[0];
	expect_op_refusal(w, FUZZ_APPROVER, &op, E(BAD_STATE), "cannot be");
	/* An amount's currency is a code, not bytes to quote back. */
	rp.reference = w->refs[0];
	rp.amount = &amount;
	amount.minor = 100;
	amount.currency = "MA\xc6";
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT;
	op.record_repayment = &rp;
	expect_op_refusal(w, FUZZ_TREASURER, &op, E(INVALID_ARGUMENT),
			  "the repayment is not in a currency Tamwil keeps");
	amount.currency = "DZD";
	expect_op_refusal(w, FUZZ_TREASURER, &op, E(CURRENCY_MISMATCH),
			  "the repayment is in DZD but the programme counts "
			  "in MAD");
	en.name = "Nouvelle coordinatrice";
	en.role = TAMWIL__V1__ROLE__ROLE_COORDINATOR;
	en.region = "L\xc3";
	en.noise_key.data = key;
	en.noise_key.len = sizeof(key);
	en.sign_key.data = key;
	en.sign_key.len = sizeof(key);
	op.body_case = TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL;
	op.enrol_principal = &en;
	expect_op_refusal(w, FUZZ_ADMIN, &op, E(INVALID_ARGUMENT),
			  "the region code must be 2 to 8 capital letters");
}

static void test_query_filters_checked(void **state)
{
	fuzz_world *w = *state;
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ListApplicationsRequest list =
	    TAMWIL__V1__LIST_APPLICATIONS_REQUEST__INIT;
	Tamwil__V1__GetApplicationRequest get =
	    TAMWIL__V1__GET_APPLICATION_REQUEST__INIT;
	Tamwil__V1__ReportRequest rep = TAMWIL__V1__REPORT_REQUEST__INIT;
	char sector[300];

	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS;
	req.list_applications = &list;
	list.state = (Tamwil__V1__ApplicationState)42;
	expect_refusal(w, FUZZ_AUDITOR, &req, E(INVALID_ARGUMENT),
		       "unknown state, category or sex");
	list.state = TAMWIL__V1__APPLICATION_STATE__STATE_APPROVED;
	list.sex = (Tamwil__V1__Sex)3;
	expect_refusal(w, FUZZ_AUDITOR, &req, E(INVALID_ARGUMENT),
		       "unknown state, category or sex");
	list.sex = TAMWIL__V1__SEX__SEX_FEMALE;
	list.category = (Tamwil__V1__Category)99;
	expect_refusal(w, FUZZ_AUDITOR, &req, E(INVALID_ARGUMENT),
		       "unknown state, category or sex");
	list.category = TAMWIL__V1__CATEGORY__CATEGORY_RURAL_WOMAN;
	list.region = "LAG\xff";
	expect_refusal(w, FUZZ_AUDITOR, &req, E(INVALID_ARGUMENT),
		       "at most 255 bytes of text");
	list.region = "LAG";
	memset(sector, 'a', sizeof(sector) - 1);
	sector[sizeof(sector) - 1] = '\0';
	list.sector = sector;
	expect_refusal(w, FUZZ_AUDITOR, &req, E(INVALID_ARGUMENT),
		       "at most 255 bytes of text");
	req.body_case = TAMWIL__V1__REQUEST__BODY_GET_APPLICATION;
	req.get_application = &get;
	get.reference = "LAG-2026-000001-LAG-2026-000001-X";
	expect_refusal(w, FUZZ_AUDITOR, &req, E(INVALID_ARGUMENT),
		       "at most 31 bytes");
	get.reference = "LAG-2026-999999";
	expect_refusal(w, FUZZ_AUDITOR, &req, E(UNKNOWN_APPLICATION),
		       "no such application");
	req.body_case = TAMWIL__V1__REQUEST__BODY_REPORT;
	req.report = &rep;
	rep.group_by = TAMWIL__V1__REPORT_GROUP__GROUP_SEX;
	rep.programme = "\x01";
	expect_refusal(w, FUZZ_ADMIN, &req, E(INVALID_ARGUMENT),
		       "the programme and region filters");
}

/*
 * Packs a ClientHello with version and passes it to dispatch as the
 * auditor's handshake message 3; returns the status.
 */
static enum dispatch_status hello(fuzz_world *w, const char *version)
{
	Tamwil__V1__ClientHello h = TAMWIL__V1__CLIENT_HELLO__INIT;
	uint8_t in[512], out[CHANNEL_MAX_PLAINTEXT];
	size_t len, out_len;

	h.client_version = (char *)version;
	assert_true(tamwil__v1__client_hello__get_packed_size(&h) <=
		    sizeof(in));
	len = tamwil__v1__client_hello__pack(&h, in);
	return fuzz_world_dispatch(w, FUZZ_AUDITOR, 1, in, len, out,
				   sizeof(out), &out_len);
}

static void test_hello_version_checked(void **state)
{
	fuzz_world *w = *state;
	char longer[200];

	assert_int_equal(hello(w, "tamwil 0.1.0"), DISPATCH_SILENT);
	assert_int_equal(hello(w, "tamwil\x1b[2J"), DISPATCH_CLOSE);
	assert_int_equal(hello(w, "tamwil \xc3\x28"), DISPATCH_CLOSE);
	memset(longer, 'v', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(hello(w, longer), DISPATCH_CLOSE);
	longer[128] = '\0';
	assert_int_equal(hello(w, longer), DISPATCH_SILENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refusal_stays_text),
	    cmocka_unit_test(test_operation_codes_checked),
	    cmocka_unit_test(test_query_filters_checked),
	    cmocka_unit_test(test_hello_version_checked),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
