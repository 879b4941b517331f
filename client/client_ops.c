/*
 * libtamwil-client: any request, signed operations and sealed identities;
 * see tamwil-client.h. Operations are packed once and those exact bytes
 * are signed and sent, so a retry can send them again unchanged.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "client_private.h"

int tamwil_client_call(tamwil_client *c, const Tamwil__V1__Request *req,
		       Tamwil__V1__Response **resp, tamwil_error *err)
{
	Tamwil__V1__Request copy;

	if (resp != NULL)
		*resp = NULL;
	if (c == NULL || req == NULL || resp == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_client_call: no connection, request "
				 "or answer");
	if (req->body_case == TAMWIL__V1__REQUEST__BODY__NOT_SET)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_client_call: the request is empty");
	copy = *req;
	/* The schema numbers each answer like the request it answers. */
	return client_call(c, &copy, (int)req->body_case, resp, err);
}

/* Gives op a fresh idempotency key if it has none; checks a given one. */
static int take_idempotency_key(tamwil_client *c, Tamwil__V1__Operation *op,
				tamwil_error *err)
{
	if (op->idempotency_key.len == 0) {
		signop_new_idempotency_key(c->idempotency_key);
		op->idempotency_key.data = c->idempotency_key;
		op->idempotency_key.len = sizeof(c->idempotency_key);
		return TAMWIL_OK;
	}
	if (op->idempotency_key.len != SIGNOP_IDEMPOTENCY_LEN ||
	    op->idempotency_key.data == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "an idempotency key is %d bytes, not %zu",
				 SIGNOP_IDEMPOTENCY_LEN,
				 op->idempotency_key.len);
	return TAMWIL_OK;
}

int tamwil_client_sign(tamwil_client *c, Tamwil__V1__Operation *op,
		       uint8_t **bytes, size_t *len, uint8_t sig[SIGNOP_SIGLEN],
		       tamwil_error *err)
{
	uint8_t *buf;
	size_t size;
	int rc;

	if (bytes != NULL)
		*bytes = NULL;
	if (c == NULL || op == NULL || bytes == NULL || len == NULL ||
	    sig == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_client_sign: missing argument");
	rc = take_idempotency_key(c, op, err);
	if (rc != TAMWIL_OK)
		return rc;
	if (op->client_time == 0)
		op->client_time = (int64_t)time(NULL);
	size = tamwil__v1__operation__get_packed_size(op);
	if (size == 0 || size > SIGNOP_OP_MAX)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the operation is too large to send (%zu "
				 "bytes)",
				 size);
	buf = malloc(size);
	if (buf == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL, "out of memory");
	tamwil__v1__operation__pack(op, buf);
	if (signop_sign(buf, size, &c->secrets->key, sig) != 0) {
		free(buf);
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "cannot sign the operation");
	}
	*bytes = buf;
	*len = size;
	return TAMWIL_OK;
}

int tamwil_client_send_signed(tamwil_client *c, const uint8_t *op, size_t len,
			      const uint8_t sig[SIGNOP_SIGLEN],
			      Tamwil__V1__OperationResult **res,
			      tamwil_error *err)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__SignedOperation sop = TAMWIL__V1__SIGNED_OPERATION__INIT;
	Tamwil__V1__Response *resp = NULL;
	int rc;

	if (res != NULL)
		*res = NULL;
	if (c == NULL || op == NULL || len == 0 || sig == NULL || res == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_client_send_signed: missing "
				 "argument");
	/* protobuf-c only reads through these pointers when packing. */
	sop.operation.data = (uint8_t *)op;
	sop.operation.len = len;
	sop.signer_key.data = c->secrets->key.sign_pk;
	sop.signer_key.len = sizeof(c->secrets->key.sign_pk);
	sop.signature.data = (uint8_t *)sig;
	sop.signature.len = SIGNOP_SIGLEN;
	req.body_case = TAMWIL__V1__REQUEST__BODY_OPERATION;
	req.operation = &sop;
	rc = client_call(c, &req, TAMWIL__V1__RESPONSE__BODY_OPERATION, &resp,
			 err);
	if (rc != TAMWIL_OK)
		return rc;
	if (resp->operation == NULL) {
		tamwil__v1__response__free_unpacked(resp, NULL);
		return SET_ERROR(err, TAMWIL_ERR_PROTOCOL,
				 "the server at %s sent an empty result",
				 c->where);
	}
	rc = client_audit_result(c, &sop, resp->operation, err);
	if (rc != TAMWIL_OK) {
		tamwil__v1__response__free_unpacked(resp, NULL);
		return rc;
	}
	/* Unpacked messages are allocated one by one: detach the result. */
	*res = resp->operation;
	resp->operation = NULL;
	resp->body_case = TAMWIL__V1__RESPONSE__BODY__NOT_SET;
	tamwil__v1__response__free_unpacked(resp, NULL);
	return TAMWIL_OK;
}

int tamwil_client_operate(tamwil_client *c, Tamwil__V1__Operation *op,
			  Tamwil__V1__OperationResult **res, tamwil_error *err)
{
	uint8_t sig[SIGNOP_SIGLEN];
	uint8_t *bytes = NULL;
	size_t len = 0;
	int rc;

	if (res != NULL)
		*res = NULL;
	rc = tamwil_client_sign(c, op, &bytes, &len, sig, err);
	if (rc != TAMWIL_OK)
		return rc;
	rc = tamwil_client_send_signed(c, bytes, len, sig, res, err);
	free(bytes);
	return rc;
}

/* Computes the box key to head office's data key, once per handle. */
static int box_key(tamwil_client *c, tamwil_error *err)
{
	struct client_secrets *s = c->secrets;

	if (s->has_box_key)
		return TAMWIL_OK;
	if (!c->has_data_pk)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the server's public key file has no data "
				 "key, so personal data cannot be sealed to "
				 "head office: ask head office for its "
				 "current public key file (tamwild pubkey)");
	if (seal_box_key(s->box_key, c->data_pk, s->key.noise_sk) != 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "head office's data key in the server's "
				 "public key file is not usable");
	s->has_box_key = 1;
	return TAMWIL_OK;
}

int tamwil_client_seal_identity(tamwil_client *c,
				const Tamwil__V1__Identity *id, uint8_t **box,
				size_t *box_len, tamwil_error *err)
{
	uint8_t *plain = NULL, *out = NULL;
	size_t n;
	int rc;

	if (box != NULL)
		*box = NULL;
	if (c == NULL || id == NULL || box == NULL || box_len == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_client_seal_identity: missing "
				 "argument");
	rc = box_key(c, err);
	if (rc != TAMWIL_OK)
		return rc;
	n = tamwil__v1__identity__get_packed_size(id);
	if (n > SIGNOP_OP_MAX)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the identity is too long to send");
	plain = sodium_malloc(n + 1);
	out = malloc(n + SEAL_BOX_OVERHEAD);
	if (plain == NULL || out == NULL) {
		rc = SET_ERROR(err, TAMWIL_ERR_LOCAL, "out of memory");
		goto out;
	}
	tamwil__v1__identity__pack(id, plain);
	if (seal_box(c->secrets->box_key, plain, n, out) != 0) {
		rc = SET_ERROR(err, TAMWIL_ERR_LOCAL,
			       "cannot seal the identity");
		goto out;
	}
	*box = out;
	*box_len = n + SEAL_BOX_OVERHEAD;
	out = NULL;
	rc = TAMWIL_OK;
out:
	if (plain != NULL)
		sodium_free(plain); /* wipes it */
	free(out);
	return rc;
}
