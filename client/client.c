/*
 * libtamwil-client: the connection to head office. Opens TCP, runs the
 * Noise_XK handshake up to message 2, lets message 3 carry the first
 * request, and then exchanges one sealed Request and one Response per
 * call. Every failure becomes a tamwil_status and a sentence naming the
 * server and what the person can do about it.
 */
#include "tamwil-client.h"

#include <ctype.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client_net.h"
#include "client_private.h"
#include "client_text.h"
#include "pbuf.h"
#include "tamwil-outbox.h"

#ifndef TAMWIL_VERSION
#define TAMWIL_VERSION "unknown"
#endif

#define PROTOCOL_VERSION 1
#define SERVER_KEY_HINT                                                        \
	"(check server_key in client.conf, or ask head office for its "        \
	"public key)"

/* Where a network failure happened, which decides what it means. */
enum phase {
	PHASE_HELLO,  /* waiting for handshake message 2 */
	PHASE_FIRST,  /* message 3 sent with the first request, no answer yet */
	PHASE_REQUEST /* any other exchange */
};

void client_describe(tamwil_error *err, enum tamwil_status status,
		     const char *fmt, ...)
{
	char text[2 * TAMWIL_ERROR_MAX];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	err->status = status;
	err->code = 0;
	client_text_copy(err->message, sizeof(err->message), text);
}

/* "30 s", "2.5 s" or "500 ms". */
static void duration_text(int ms, char *buf, size_t cap)
{
	if (ms < 1000)
		snprintf(buf, cap, "%d ms", ms);
	else if (ms % 1000 == 0)
		snprintf(buf, cap, "%d s", ms / 1000);
	else
		snprintf(buf, cap, "%.1f s", ms / 1000.0);
}

/* Turns a failed network call into a status and a sentence. */
static int net_failure(const tamwil_client *c, int rc, int why,
		       enum phase phase, tamwil_error *err)
{
	char text[128];

	if (rc == NET_TIMEOUT) {
		duration_text(c->io_timeout_ms, text, sizeof(text));
		return SET_ERROR(err, TAMWIL_ERR_TIMEOUT,
				 "no answer from %s within %s", c->where, text);
	}
	if (rc == NET_BAD_FRAME)
		return SET_ERROR(err, TAMWIL_ERR_PROTOCOL,
				 "the server at %s sent a malformed frame; the "
				 "connection was dropped",
				 c->where);
	if (rc == NET_EOF && phase == PHASE_HELLO)
		return SET_ERROR(err, TAMWIL_ERR_SERVER_KEY,
				 "server key mismatch: the server at %s ended "
				 "the handshake, which it does when it does "
				 "not hold the key in the server key "
				 "file " SERVER_KEY_HINT
				 " (or, for a moment, when it is refusing "
				 "more connections from this address)",
				 c->where);
	if (rc == NET_EOF && phase == PHASE_FIRST)
		return SET_ERROR(err, TAMWIL_ERR_NOT_ENROLLED,
				 "this key is not enrolled at head office, or "
				 "it has been revoked (fingerprint %s): send "
				 "your public key file to head office",
				 c->fingerprint);
	if (rc == NET_EOF)
		return SET_ERROR(err, TAMWIL_ERR_CLOSED,
				 "the server at %s closed the connection "
				 "before answering",
				 c->where);
	client_text_errno(why, text, sizeof(text));
	return SET_ERROR(err, TAMWIL_ERR_CLOSED,
			 "lost the connection to %s: %s", c->where, text);
}

/* Reports a failed net_connect(). */
static int connect_failure(const tamwil_client *c, const char *host, int rc,
			   int why, int timeout_ms, tamwil_error *err)
{
	char text[128];

	if (rc == NET_RESOLVE) {
		snprintf(text, sizeof(text), "%s", gai_strerror(why));
		client_text_lower_first(text);
		return SET_ERROR(err, TAMWIL_ERR_UNREACHABLE,
				 "cannot resolve %s: %s", host, text);
	}
	if (rc == NET_TIMEOUT) {
		duration_text(timeout_ms, text, sizeof(text));
		return SET_ERROR(err, TAMWIL_ERR_TIMEOUT,
				 "no answer from %s within %s", c->where, text);
	}
	client_text_errno(why, text, sizeof(text));
	return SET_ERROR(err, TAMWIL_ERR_UNREACHABLE, "cannot reach %s: %s",
			 c->where, text);
}

/*
 * Splits c->server, fills c->where ("host:port", IPv6 in brackets) and
 * connects c->fd. Returns TAMWIL_OK or a status with err filled in.
 */
static int open_socket(tamwil_client *c, tamwil_error *err)
{
	char host[TAMWIL_CONFIG_SERVER_MAX], port[8];
	int timeout_ms = c->connect_timeout_ms;
	int rc, why = 0;

	if (tamwil_server_parse(c->server, host, sizeof(host), port,
				sizeof(port), err) != 0)
		return TAMWIL_ERR_LOCAL;
	snprintf(c->where, sizeof(c->where),
		 strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s", host, port);
	rc = net_connect(host, port, timeout_ms, &c->fd, &why);
	if (rc != NET_OK)
		return connect_failure(c, host, rc, why, timeout_ms, err);
	return TAMWIL_OK;
}

/* Checks the ServerHello in c->plain (len bytes) and keeps its version. */
static int read_server_hello(tamwil_client *c, size_t len, tamwil_error *err)
{
	Tamwil__V1__ServerHello *hello;
	uint32_t version;

	hello = (Tamwil__V1__ServerHello *)pbuf_unpack(
	    &tamwil__v1__server_hello__descriptor, len, c->plain,
	    PBUF_BUDGET_DEFAULT);
	if (hello == NULL)
		return SET_ERROR(err, TAMWIL_ERR_PROTOCOL,
				 "the server at %s sent a malformed hello",
				 c->where);
	version = hello->protocol_version;
	client_text_copy(c->server_version, sizeof(c->server_version),
			 hello->server_version);
	tamwil__v1__server_hello__free_unpacked(hello, NULL);
	if (version != PROTOCOL_VERSION)
		return SET_ERROR(err, TAMWIL_ERR_PROTOCOL,
				 "the server at %s speaks protocol version %u; "
				 "this tamwil speaks version %d",
				 c->where, (unsigned)version, PROTOCOL_VERSION);
	return TAMWIL_OK;
}

/*
 * Handshake messages 1 and 2: sends e, es with an empty payload, reads
 * e, ee with the ServerHello. Message 3 waits for the first request.
 */
static int handshake_start(tamwil_client *c, tamwil_error *err)
{
	int64_t deadline = net_now_ms() + c->io_timeout_ms;
	const uint8_t none = 0;
	size_t len = 0, plen = 0;
	int rc, why = 0;

	if (channel_init_initiator(&c->ch, c->secrets->key.noise_sk,
				   c->server_noise_pk) != 0 ||
	    channel_handshake_write(&c->ch, &none, 0,
				    c->frame + FRAME_HEADER_LEN, FRAME_MAX_BODY,
				    &len) != 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "cannot start the handshake: the key or the "
				 "server key is not usable");
	rc = net_send_frame(c->fd, c->frame, len, deadline, &why);
	if (rc != NET_OK)
		return net_failure(c, rc, why, PHASE_REQUEST, err);
	rc = net_recv_frame(c->fd, c->frame, FRAME_MAX_BODY, &len, deadline,
			    &why);
	if (rc != NET_OK)
		return net_failure(c, rc, why, PHASE_HELLO, err);
	if (channel_handshake_read(&c->ch, c->frame, len, c->plain,
				   sizeof(c->plain), &plen) != 0)
		return SET_ERROR(err, TAMWIL_ERR_SERVER_KEY,
				 "server key mismatch: the server at %s does "
				 "not hold the key in the server key "
				 "file " SERVER_KEY_HINT,
				 c->where);
	return read_server_hello(c, plen, err);
}

/*
 * Copies the principal's keys into locked memory (operations are signed
 * and identities sealed long after the options are gone) and the data
 * key, if any.
 */
static int keep_keys(tamwil_client *c, const tamwil_client_options *opt,
		     tamwil_error *err)
{
	c->secrets = sodium_malloc(sizeof(*c->secrets));
	if (c->secrets == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL, "out of memory");
	memset(c->secrets, 0, sizeof(*c->secrets));
	memcpy(&c->secrets->key, opt->key, sizeof(c->secrets->key));
	if (opt->server_data_pk != NULL) {
		memcpy(c->data_pk, opt->server_data_pk, sizeof(c->data_pk));
		c->has_data_pk = 1;
	}
	return TAMWIL_OK;
}

int tamwil_client_open(const tamwil_client_options *opt, tamwil_client **out,
		       tamwil_error *err)
{
	tamwil_client *c = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (opt == NULL || out == NULL || opt->server == NULL ||
	    opt->server_noise_pk == NULL || opt->key == NULL)
		return SET_ERROR(
		    err, TAMWIL_ERR_LOCAL,
		    "tamwil_client_connect: missing server, server "
		    "key or key");
	if (strlen(opt->server) >= TAMWIL_CONFIG_SERVER_MAX)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the server address is too long");
	if (sodium_init() < 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "libsodium failed to initialise");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL, "out of memory");
	c->fd = -1;
	c->next_id = 1;
	c->io_timeout_ms =
	    opt->io_timeout_ms > 0 ? opt->io_timeout_ms : TAMWIL_IO_TIMEOUT_MS;
	c->connect_timeout_ms = opt->connect_timeout_ms > 0
				    ? opt->connect_timeout_ms
				    : TAMWIL_CONNECT_TIMEOUT_MS;
	memcpy(c->server, opt->server, strlen(opt->server) + 1);
	memcpy(c->server_noise_pk, opt->server_noise_pk,
	       sizeof(c->server_noise_pk));
	snprintf(c->where, sizeof(c->where), "%s", c->server);
	client_describe(&c->dial_error, TAMWIL_ERR_CLOSED,
			"not connected to %s", c->where);
	keyfile_fingerprint(opt->key->noise_pk, opt->key->sign_pk,
			    c->fingerprint);
	rc = keep_keys(c, opt, err);
	if (rc == TAMWIL_OK)
		rc = client_audit_setup(c, opt, err);
	if (rc != TAMWIL_OK) {
		tamwil_client_close(c);
		return rc;
	}
	*out = c;
	return TAMWIL_OK;
}

int tamwil_client_dial(tamwil_client *c, tamwil_error *err)
{
	int rc;

	if (c == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_client_dial: no handle");
	if (c->dialled || c->fd >= 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_client_dial: dialled already");
	/* The failure is kept: every later call reports it. */
	rc = open_socket(c, &c->dial_error);
	if (rc == TAMWIL_OK)
		rc = handshake_start(c, &c->dial_error);
	if (rc == TAMWIL_OK) {
		c->dialled = 1;
		return TAMWIL_OK;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	channel_clear(&c->ch);
	if (err != NULL)
		*err = c->dial_error;
	return rc;
}

int tamwil_client_online(const tamwil_client *c)
{
	return c != NULL && c->dialled && !c->broken;
}

int tamwil_client_connect(const tamwil_client_options *opt, tamwil_client **out,
			  tamwil_error *err)
{
	tamwil_client *c = NULL;
	int rc;

	rc = tamwil_client_open(opt, &c, err);
	if (rc != TAMWIL_OK)
		return rc;
	rc = tamwil_client_dial(c, err);
	if (rc != TAMWIL_OK) {
		tamwil_client_close(c);
		return rc;
	}
	*out = c;
	return TAMWIL_OK;
}

/*
 * Handshake message 3: a ClientHello carrying the first request. The
 * channel is established once it is written.
 */
static int send_hello(tamwil_client *c, Tamwil__V1__Request *req,
		      int64_t deadline, tamwil_error *err)
{
	Tamwil__V1__ClientHello hello = TAMWIL__V1__CLIENT_HELLO__INIT;
	char version[] = "tamwil " TAMWIL_VERSION;
	size_t size, len = 0;
	int rc, why = 0;

	hello.client_version = version;
	hello.first_request = req;
	size = tamwil__v1__client_hello__get_packed_size(&hello);
	if (size > NOISE_MAX_MSGLEN - CHANNEL_MSG3_OVERHEAD)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the request is too large for one message");
	tamwil__v1__client_hello__pack(&hello, c->plain);
	if (channel_handshake_write(&c->ch, c->plain, size,
				    c->frame + FRAME_HEADER_LEN, FRAME_MAX_BODY,
				    &len) != 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "cannot write the last handshake message");
	c->hello_sent = 1;
	rc = net_send_frame(c->fd, c->frame, len, deadline, &why);
	if (rc != NET_OK)
		return net_failure(c, rc, why, PHASE_FIRST, err);
	return TAMWIL_OK;
}

/* Sends req: inside message 3 the first time, as one sealed frame after. */
static int send_request(tamwil_client *c, Tamwil__V1__Request *req,
			int64_t deadline, tamwil_error *err)
{
	size_t size, len = 0;
	int rc, why = 0;

	if (!c->hello_sent)
		return send_hello(c, req, deadline, err);
	size = tamwil__v1__request__get_packed_size(req);
	if (size > CHANNEL_MAX_PLAINTEXT)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the request is too large for one message");
	tamwil__v1__request__pack(req, c->plain);
	if (channel_seal(&c->ch, c->plain, size, c->frame + FRAME_HEADER_LEN,
			 &len) != 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "cannot encrypt the request");
	rc = net_send_frame(c->fd, c->frame, len, deadline, &why);
	if (rc != NET_OK)
		return net_failure(c, rc, why, PHASE_REQUEST, err);
	return TAMWIL_OK;
}

/* Reads, decrypts and parses one Response; the caller frees *out. */
static int recv_response(tamwil_client *c, int64_t deadline,
			 Tamwil__V1__Response **out, tamwil_error *err)
{
	enum phase phase = c->answered ? PHASE_REQUEST : PHASE_FIRST;
	size_t len = 0, plen = 0;
	int rc, why = 0;

	rc = net_recv_frame(c->fd, c->frame, FRAME_MAX_BODY, &len, deadline,
			    &why);
	if (rc != NET_OK)
		return net_failure(c, rc, why, phase, err);
	if (len < NOISE_TAGLEN ||
	    channel_open(&c->ch, c->frame, len, c->plain, &plen) != 0)
		return SET_ERROR(err, TAMWIL_ERR_PROTOCOL,
				 "an answer from %s did not decrypt; the "
				 "connection was dropped",
				 c->where);
	c->answered = 1;
	*out = (Tamwil__V1__Response *)pbuf_unpack(
	    &tamwil__v1__response__descriptor, plen, c->plain,
	    PBUF_BUDGET_DEFAULT);
	if (*out == NULL)
		return SET_ERROR(err, TAMWIL_ERR_PROTOCOL,
				 "the server at %s sent an answer that does "
				 "not parse",
				 c->where);
	return TAMWIL_OK;
}

/* Judges a Response to request id: the expected body, an Error, or junk. */
static int check_response(const tamwil_client *c, uint64_t id,
			  const Tamwil__V1__Response *resp, int expected,
			  tamwil_error *err)
{
	const Tamwil__V1__Error *e = resp->error;

	if (resp->request_id != id)
		return SET_ERROR(err, TAMWIL_ERR_PROTOCOL,
				 "the server at %s answered request %llu "
				 "instead of %llu",
				 c->where, (unsigned long long)resp->request_id,
				 (unsigned long long)id);
	if (resp->body_case == TAMWIL__V1__RESPONSE__BODY_ERROR) {
		client_describe(err, TAMWIL_ERR_REFUSED, "%s",
				e != NULL && e->message != NULL &&
					e->message[0] != '\0'
				    ? e->message
				    : "the server gave no reason");
		if (err != NULL)
			err->code = e != NULL ? (int)e->code : 0;
		return TAMWIL_ERR_REFUSED;
	}
	if ((int)resp->body_case != expected)
		return SET_ERROR(err, TAMWIL_ERR_PROTOCOL,
				 "the server at %s sent an answer of the wrong "
				 "kind (%d)",
				 c->where, (int)resp->body_case);
	return TAMWIL_OK;
}

int client_call(tamwil_client *c, Tamwil__V1__Request *req, int expected,
		Tamwil__V1__Response **out, tamwil_error *err)
{
	int64_t deadline = net_now_ms() + c->io_timeout_ms;
	Tamwil__V1__Response *resp = NULL;
	int rc;

	*out = NULL;
	if (!c->dialled) {
		if (err != NULL)
			*err = c->dial_error;
		return c->dial_error.status != TAMWIL_OK ? c->dial_error.status
							 : TAMWIL_ERR_CLOSED;
	}
	if (c->broken)
		return SET_ERROR(err, TAMWIL_ERR_CLOSED,
				 "the connection to %s is no longer usable: "
				 "connect again",
				 c->where);
	/* The log's consistency is proven before anything else is asked. */
	rc = client_audit_consistency(c, err);
	if (rc != TAMWIL_OK)
		return rc;
	req->request_id = c->next_id++;
	rc = send_request(c, req, deadline, err);
	if (rc == TAMWIL_OK)
		rc = recv_response(c, deadline, &resp, err);
	if (rc == TAMWIL_OK)
		rc = check_response(c, req->request_id, resp, expected, err);
	if (rc == TAMWIL_OK) {
		*out = resp;
		return TAMWIL_OK;
	}
	if (resp != NULL)
		tamwil__v1__response__free_unpacked(resp, NULL);
	if (rc != TAMWIL_ERR_REFUSED)
		c->broken = 1;
	return rc;
}

int tamwil_client_whoami(tamwil_client *c, tamwil_whoami *out,
			 tamwil_error *err)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__WhoamiRequest body = TAMWIL__V1__WHOAMI_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	const Tamwil__V1__WhoamiResponse *w;
	int rc;

	if (c == NULL || out == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_client_whoami: no connection");
	memset(out, 0, sizeof(*out));
	req.body_case = TAMWIL__V1__REQUEST__BODY_WHOAMI;
	req.whoami = &body;
	rc =
	    client_call(c, &req, TAMWIL__V1__RESPONSE__BODY_WHOAMI, &resp, err);
	if (rc != TAMWIL_OK)
		return rc;
	w = resp->whoami;
	client_text_copy(out->name, sizeof(out->name), w->name);
	client_text_copy(out->role, sizeof(out->role),
			 tamwil_role_name(w->role));
	client_text_copy(out->region, sizeof(out->region), w->region);
	client_text_copy(out->fingerprint, sizeof(out->fingerprint),
			 w->fingerprint != NULL && w->fingerprint[0] != '\0'
			     ? w->fingerprint
			     : c->fingerprint);
	client_text_copy(out->server_version, sizeof(out->server_version),
			 w->server_version != NULL &&
				 w->server_version[0] != '\0'
			     ? w->server_version
			     : c->server_version);
	out->principal_id = w->principal_id;
	tamwil__v1__response__free_unpacked(resp, NULL);
	return TAMWIL_OK;
}

const char *tamwil_client_server_version(const tamwil_client *c)
{
	return c != NULL ? c->server_version : "";
}

void tamwil_client_close(tamwil_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	channel_clear(&c->ch);
	tamwil_outbox_close(c->outbox);
	if (c->secrets != NULL)
		sodium_free(c->secrets); /* wipes the keys and the box key */
	client_audit_clear(c);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

const char *tamwil_role_name(int role)
{
	switch (role) {
	case TAMWIL__V1__ROLE__ROLE_COORDINATOR:
		return "coordinator";
	case TAMWIL__V1__ROLE__ROLE_APPROVER:
		return "approver";
	case TAMWIL__V1__ROLE__ROLE_TREASURER:
		return "treasurer";
	case TAMWIL__V1__ROLE__ROLE_AUDITOR:
		return "auditor";
	case TAMWIL__V1__ROLE__ROLE_ADMIN:
		return "admin";
	default:
		return "unknown";
	}
}

char *tamwil_error_code_name(int code, char *buf, size_t cap)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &tamwil__v1__error_code__descriptor, code);
	const char *name;
	size_t i;

	if (cap == 0)
		return buf;
	if (v == NULL) {
		snprintf(buf, cap, "code_%d", code);
		return buf;
	}
	name = v->name;
	if (strncmp(name, "ERROR_", 6) == 0)
		name += 6;
	for (i = 0; name[i] != '\0' && i + 1 < cap; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return buf;
}
