/*
 * Checkpoints of the audit log: plain Ed25519 (crypto_sign_detached) over
 * the fixed 68-byte body of checkpoint.h and docs/AUDIT.md, whose domain
 * string keeps a checkpoint signature from passing for anything else the
 * server key signs.
 */
#include "checkpoint.h"

#include <sodium.h>
#include <string.h>

_Static_assert(sizeof(CHECKPOINT_DOMAIN) == CHECKPOINT_DOMAIN_LEN,
	       "the domain is its text and one zero byte");
_Static_assert(CHECKPOINT_BODY_LEN == 68, "the body is 68 bytes");
_Static_assert(CHECKPOINT_SIGLEN == crypto_sign_BYTES,
	       "a checkpoint signature is an Ed25519 signature");

/* Writes v into out[0..7], most significant byte first. */
static void put_be64(uint8_t *out, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* domain || size || root || time, 68 bytes: see checkpoint.h. */
void checkpoint_body(const checkpoint *cp, uint8_t body[CHECKPOINT_BODY_LEN])
{
	uint8_t *p = body;

	memcpy(p, CHECKPOINT_DOMAIN, CHECKPOINT_DOMAIN_LEN);
	p += CHECKPOINT_DOMAIN_LEN;
	put_be64(p, cp->size);
	p += 8;
	memcpy(p, cp->root, MERKLE_HASHLEN);
	p += MERKLE_HASHLEN;
	/* Two's complement, as the conversion to uint64_t defines it. */
	put_be64(p, (uint64_t)cp->time);
}

/* Ed25519 over the body with sign_sk; sig zeroed on failure. */
int checkpoint_sign(checkpoint *cp, const keyfile_secret *server_key)
{
	uint8_t body[CHECKPOINT_BODY_LEN];

	if (cp == NULL)
		return -1;
	memset(cp->sig, 0, sizeof(cp->sig));
	if (server_key == NULL || sodium_init() < 0)
		return -1;
	checkpoint_body(cp, body);
	if (crypto_sign_detached(cp->sig, NULL, body, sizeof(body),
				 server_key->sign_sk) != 0) {
		memset(cp->sig, 0, sizeof(cp->sig));
		return -1;
	}
	return 0;
}

/* Ed25519 verification of the body under a sign pk. */
int checkpoint_verify(const checkpoint *cp, const uint8_t *server_sign_pk)
{
	uint8_t body[CHECKPOINT_BODY_LEN];

	if (cp == NULL || server_sign_pk == NULL || sodium_init() < 0)
		return -1;
	checkpoint_body(cp, body);
	if (crypto_sign_verify_detached(cp->sig, body, sizeof(body),
					server_sign_pk) != 0)
		return -1;
	return 0;
}
