/*
 * Request dispatch. Each request kind has one handler that fills the
 * Response; protobuf-c structures live on the handler's stack, so nothing
 * here allocates beyond what unpacking needs.
 */
#include "dispatch.h"

#include <stdio.h>
#include <string.h>

#include "keyfile.h"
#include "log.h"
#include "pbuf.h"
#include "query.h"
#include "reply.h"
#include "role.h"
#include "text.h"
#include "tamwil.pb-c.h"

#define DISPATCH_PING_MAX	1024
#define DISPATCH_VERSION_MAX	128
#define DISPATCH_SERVER_VERSION "tamwild " TAMWIL_VERSION

static int dispatch_whoami(server *srv, const store_principal *who,
			   uint64_t request_id, uint8_t *out, size_t out_cap,
			   size_t *out_len)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__WhoamiResponse body = TAMWIL__V1__WHOAMI_RESPONSE__INIT;
	char fingerprint[KEYFILE_FINGERPRINT_LEN];

	(void)srv;
	keyfile_fingerprint(who->noise_pk, who->sign_pk, fingerprint);
	body.name = (char *)who->name;
	body.role = (Tamwil__V1__Role)role_from_name(who->role);
	body.region = (char *)who->region;
	body.fingerprint = fingerprint;
	body.server_version = DISPATCH_SERVER_VERSION;
	body.principal_id = (uint64_t)who->id;
	resp.request_id = request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_WHOAMI;
	resp.whoami = &body;
	return reply_pack(&resp, out, out_cap, out_len);
}

static int dispatch_ping(const Tamwil__V1__Request *req, uint8_t *out,
			 size_t out_cap, size_t *out_len)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__PingResponse body = TAMWIL__V1__PING_RESPONSE__INIT;

	if (req->ping->data.len > DISPATCH_PING_MAX)
		return reply_error(req->request_id,
				   TAMWIL__V1__ERROR_CODE__ERROR_BAD_REQUEST,
				   "ping data is limited to 1024 bytes", out,
				   out_cap, out_len);
	body.data = req->ping->data;
	resp.request_id = req->request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_PING;
	resp.ping = &body;
	return reply_pack(&resp, out, out_cap, out_len);
}

/* Routes an unpacked request to its handler. */
static int dispatch_route(server *srv, ops_session *s,
			  const Tamwil__V1__Request *req, uint8_t *out,
			  size_t out_cap, size_t *out_len)
{
	switch (req->body_case) {
	case TAMWIL__V1__REQUEST__BODY_WHOAMI:
		return dispatch_whoami(srv, s->who, req->request_id, out,
				       out_cap, out_len);
	case TAMWIL__V1__REQUEST__BODY_OPERATION:
		return ops_apply(srv, s, req->operation, req->request_id, out,
				 out_cap, out_len);
	case TAMWIL__V1__REQUEST__BODY_GET_APPLICATION:
	case TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS:
	case TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES:
	case TAMWIL__V1__REQUEST__BODY_LIST_REGIONS:
	case TAMWIL__V1__REQUEST__BODY_REPORT:
	case TAMWIL__V1__REQUEST__BODY_CHECKPOINT:
	case TAMWIL__V1__REQUEST__BODY_INCLUSION:
	case TAMWIL__V1__REQUEST__BODY_LOG_ENTRIES:
	case TAMWIL__V1__REQUEST__BODY_SECURITY_EVENTS:
		return query_answer(srv, s->who, req, out, out_cap, out_len);
	case TAMWIL__V1__REQUEST__BODY_PING:
		return dispatch_ping(req, out, out_cap, out_len);
	default:
		return reply_error(
		    req->request_id, TAMWIL__V1__ERROR_CODE__ERROR_BAD_REQUEST,
		    "unknown request: this server does not offer it", out,
		    out_cap, out_len);
	}
}

int dispatch_server_hello(uint8_t *out, size_t out_cap, size_t *out_len)
{
	Tamwil__V1__ServerHello hello = TAMWIL__V1__SERVER_HELLO__INIT;

	hello.server_version = DISPATCH_SERVER_VERSION;
	hello.protocol_version = 1;
	if (tamwil__v1__server_hello__get_packed_size(&hello) > out_cap)
		return -1;
	*out_len = tamwil__v1__server_hello__pack(&hello, out);
	return 0;
}

int dispatch_client_hello(server *srv, ops_session *s, const uint8_t *in,
			  size_t in_len, uint8_t *out, size_t out_cap,
			  size_t *out_len, int *answered)
{
	Tamwil__V1__ClientHello *hello;
	pbuf_budget budget;
	int rc = 0;

	*answered = 0;
	pbuf_budget_init(&budget, PBUF_BUDGET_DEFAULT);
	hello = tamwil__v1__client_hello__unpack(&budget.alloc, in_len, in);
	if (hello == NULL)
		return -1;
	/* The version goes to the log: text, and short. */
	if (strlen(hello->client_version) > DISPATCH_VERSION_MAX ||
	    !text_valid(hello->client_version, strlen(hello->client_version))) {
		tamwil__v1__client_hello__free_unpacked(hello, &budget.alloc);
		return -1;
	}
	log_debug("%s uses %s", s->who->name,
		  hello->client_version[0] ? hello->client_version : "?");
	if (hello->first_request != NULL) {
		rc = dispatch_route(srv, s, hello->first_request, out, out_cap,
				    out_len);
		*answered = rc == 0;
	}
	tamwil__v1__client_hello__free_unpacked(hello, &budget.alloc);
	return rc;
}

int dispatch_request(server *srv, ops_session *s, const uint8_t *in,
		     size_t in_len, uint8_t *out, size_t out_cap,
		     size_t *out_len)
{
	Tamwil__V1__Request *req;
	pbuf_budget budget;
	int rc;

	pbuf_budget_init(&budget, PBUF_BUDGET_DEFAULT);
	req = tamwil__v1__request__unpack(&budget.alloc, in_len, in);
	if (req == NULL)
		return reply_error(0, TAMWIL__V1__ERROR_CODE__ERROR_BAD_REQUEST,
				   "the request could not be parsed", out,
				   out_cap, out_len);
	rc = dispatch_route(srv, s, req, out, out_cap, out_len);
	tamwil__v1__request__free_unpacked(req, &budget.alloc);
	return rc;
}
