/*
 * Signed operations. The signed message is SIGNOP_DOMAIN with its NUL
 * followed by the operation's bytes, signed with plain Ed25519
 * (crypto_sign_detached), so a signature made for anything else, or over
 * the bare operation, never verifies here.
 */
#include "signop.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/*
 * A fresh buffer holding the domain and op (op_len bytes); *len its size.
 * NULL if op_len is beyond SIGNOP_OP_MAX, op is NULL with op_len > 0, or
 * memory runs out. The caller frees it.
 */
static uint8_t *signop_message(const uint8_t *op, size_t op_len, size_t *len)
{
	uint8_t *m;

	if (op_len > SIGNOP_OP_MAX || (op == NULL && op_len > 0))
		return NULL;
	m = malloc(SIGNOP_DOMAIN_LEN + op_len);
	if (m == NULL)
		return NULL;
	memcpy(m, SIGNOP_DOMAIN, SIGNOP_DOMAIN_LEN);
	if (op_len > 0)
		memcpy(m + SIGNOP_DOMAIN_LEN, op, op_len);
	*len = SIGNOP_DOMAIN_LEN + op_len;
	return m;
}

int signop_sign(const uint8_t *op, size_t op_len, const keyfile_secret *key,
		uint8_t sig[SIGNOP_SIGLEN])
{
	uint8_t *m = NULL;
	size_t len = 0;
	int rc = -1;

	if (sig == NULL)
		return -1;
	memset(sig, 0, SIGNOP_SIGLEN);
	if (key == NULL || sodium_init() < 0)
		return -1;
	m = signop_message(op, op_len, &len);
	if (m == NULL)
		goto out;
	if (crypto_sign_detached(sig, NULL, m, len, key->sign_sk) != 0) {
		memset(sig, 0, SIGNOP_SIGLEN);
		goto out;
	}
	rc = 0;
out:
	free(m);
	return rc;
}

int signop_verify(const uint8_t *op, size_t op_len, const uint8_t *pk,
		  const uint8_t *sig)
{
	uint8_t *m = NULL;
	size_t len = 0;
	int rc = -1;

	if (pk == NULL || sig == NULL || sodium_init() < 0)
		return -1;
	m = signop_message(op, op_len, &len);
	if (m == NULL)
		goto out;
	if (crypto_sign_verify_detached(sig, m, len, pk) != 0)
		goto out;
	rc = 0;
out:
	free(m);
	return rc;
}

void signop_new_idempotency_key(uint8_t key[SIGNOP_IDEMPOTENCY_LEN])
{
	/* randombytes_buf() initialises its generator itself if need be. */
	randombytes_buf(key, SIGNOP_IDEMPOTENCY_LEN);
}

int signop_digest(const uint8_t *op, size_t op_len,
		  uint8_t digest[SIGNOP_DIGEST_LEN])
{
	if (op == NULL || op_len > SIGNOP_OP_MAX ||
	    crypto_hash_sha256(digest, op, op_len) != 0)
		return -1;
	return 0;
}
