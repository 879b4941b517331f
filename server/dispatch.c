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

/*
 * Routes an unpacked request: answers it into j->out, or prepares an
 * operation for the writer. Returns the status.
 */
static enum dispatch_status dispatch_route(server *srv, store *rd,
					   dispatch_job *j)
{
	const Tamwil__V1__Request *req = j->req;
	int rc;

	switch (req->body_case) {
	case TAMWIL__V1__REQUEST__BODY_WHOAMI:
		rc = dispatch_whoami(srv, j->s->who, req->request_id, j->out,
				     j->out_cap, &j->out_len);
		break;
	case TAMWIL__V1__REQUEST__BODY_OPERATION:
		/* Refusals that are security events are written by the writer.
		 */
		if (ops_prepare(srv, j->s, req->operation, req->request_id,
				&j->op) == 0 ||
		    ops_security_kind(&j->op) != NULL)
			return DISPATCH_WRITE;
		rc = ops_answer(srv, rd, &j->op, j->out, j->out_cap,
				&j->out_len);
		break;
	case TAMWIL__V1__REQUEST__BODY_GET_APPLICATION:
	case TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS:
	case TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES:
	case TAMWIL__V1__REQUEST__BODY_LIST_REGIONS:
	case TAMWIL__V1__REQUEST__BODY_REPORT:
	case TAMWIL__V1__REQUEST__BODY_CHECKPOINT:
	case TAMWIL__V1__REQUEST__BODY_INCLUSION:
	case TAMWIL__V1__REQUEST__BODY_LOG_ENTRIES:
	case TAMWIL__V1__REQUEST__BODY_SECURITY_EVENTS:
		rc = query_answer(srv, rd, j->s->who, req, j->out, j->out_cap,
				  &j->out_len);
		break;
	case TAMWIL__V1__REQUEST__BODY_PING:
		rc = dispatch_ping(req, j->out, j->out_cap, &j->out_len);
		break;
	default:
		rc = reply_error(
		    req->request_id, TAMWIL__V1__ERROR_CODE__ERROR_BAD_REQUEST,
		    "unknown request: this server does not offer it", j->out,
		    j->out_cap, &j->out_len);
	}
	return rc == 0 ? DISPATCH_ANSWER : DISPATCH_CLOSE;
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

/*
 * Who the client of handshake message 3 is, then its ClientHello and
 * first request.
 */
static enum dispatch_status dispatch_hello(server *srv, store *rd,
					   dispatch_job *j)
{
	int rc = store_principal_by_noise(rd, j->peer_key, j->who);

	if (rc == STORE_NOT_FOUND)
		return DISPATCH_UNKNOWN_KEY;
	if (rc != 0) {
		log_error("principal lookup: %s", store_errmsg(rd));
		j->why = "internal error looking the key up";
		return DISPATCH_CLOSE;
	}
	if (j->who->revoked)
		return DISPATCH_REVOKED_KEY;
	j->ch = tamwil__v1__client_hello__unpack(&j->budget.alloc, j->in_len,
						 j->in);
	if (j->ch == NULL) {
		j->why = "malformed ClientHello";
		return DISPATCH_CLOSE;
	}
	/* The version goes to the log: text, and short. */
	if (strlen(j->ch->client_version) > DISPATCH_VERSION_MAX ||
	    !text_valid(j->ch->client_version, strlen(j->ch->client_version))) {
		j->why = "ClientHello's client_version is not short text";
		return DISPATCH_CLOSE;
	}
	log_debug("%s uses %s", j->s->who->name,
		  j->ch->client_version[0] ? j->ch->client_version : "?");
	if (j->ch->first_request == NULL)
		return DISPATCH_SILENT;
	j->req = j->ch->first_request;
	return dispatch_route(srv, rd, j);
}

enum dispatch_status dispatch_begin(server *srv, store *rd, dispatch_job *j)
{
	pbuf_budget_init(&j->budget, PBUF_BUDGET_DEFAULT);
	j->ch = NULL;
	j->req = NULL;
	j->out_len = 0;
	j->why = NULL;
	memset(&j->op, 0, sizeof(j->op));
	if (j->hello) {
		j->status = dispatch_hello(srv, rd, j);
		return j->status;
	}
	j->req =
	    tamwil__v1__request__unpack(&j->budget.alloc, j->in_len, j->in);
	if (j->req == NULL)
		j->status =
		    reply_error(0, TAMWIL__V1__ERROR_CODE__ERROR_BAD_REQUEST,
				"the request could not be parsed", j->out,
				j->out_cap, &j->out_len) == 0
			? DISPATCH_ANSWER
			: DISPATCH_CLOSE;
	else
		j->status = dispatch_route(srv, rd, j);
	return j->status;
}

void dispatch_finish(server *srv, store *rd, dispatch_job *j)
{
	const Tamwil__V1__Operation *op = j->op.op;

	j->status =
	    ops_answer(srv, rd, &j->op, j->out, j->out_cap, &j->out_len) == 0
		? DISPATCH_ANSWER
		: DISPATCH_CLOSE;
	/* The loop closes the revoked principal's channels once told. */
	j->revoked = 0;
	if (j->op.outcome == OPS_APPLIED && op != NULL &&
	    op->body_case == TAMWIL__V1__OPERATION__BODY_REVOKE_PRINCIPAL)
		j->revoked = j->op.res.principal_id;
}

void dispatch_job_clear(dispatch_job *j)
{
	ops_pending_clear(&j->op);
	if (j->ch != NULL)
		tamwil__v1__client_hello__free_unpacked(j->ch,
							&j->budget.alloc);
	else if (j->req != NULL)
		tamwil__v1__request__free_unpacked(j->req, &j->budget.alloc);
	j->ch = NULL;
	j->req = NULL;
}
