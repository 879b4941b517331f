/*
 * Signed operations: a plain Ed25519 signature (crypto_sign_detached) over
 * SIGNOP_DOMAIN, its terminating NUL included, followed by the exact
 * serialized bytes of an Operation. The verifier checks the bytes it was
 * given and never re-serializes (protobuf serialization is not canonical).
 * Callers have run sodium_init(); these functions call it again, which is
 * cheap.
 */
#ifndef TAMWIL_SIGNOP_H
#define TAMWIL_SIGNOP_H

#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"

/* "tamwil/1 signed operation" and its terminating NUL: 26 bytes. */
#define SIGNOP_DOMAIN	       "tamwil/1 signed operation"
#define SIGNOP_DOMAIN_LEN      26
#define SIGNOP_SIGLEN	       64
#define SIGNOP_IDEMPOTENCY_LEN 16
/* Longest operation signed or verified: one frame's worth. */
#define SIGNOP_OP_MAX 65535

/*
 * Signs op (op_len bytes, at most SIGNOP_OP_MAX; op may be NULL when
 * op_len is 0) with key's Ed25519 secret key into sig. 0, or -1 with sig
 * zeroed (op too long, out of memory, libsodium failure).
 */
int signop_sign(const uint8_t *op, size_t op_len, const keyfile_secret *key,
		uint8_t sig[SIGNOP_SIGLEN]);

/*
 * 0 if sig (SIGNOP_SIGLEN bytes) is the Ed25519 public key pk's
 * (KEYFILE_KEYLEN bytes) signature of op, -1 otherwise, including for an op
 * longer than SIGNOP_OP_MAX or when memory runs out.
 */
int signop_verify(const uint8_t *op, size_t op_len, const uint8_t *pk,
		  const uint8_t *sig);

#define SIGNOP_DIGEST_LEN 32

/*
 * The SHA-256 of an operation's bytes: what the idempotency record keeps
 * to tell a retry from a different operation under the same key.
 */
int signop_digest(const uint8_t *op, size_t op_len,
		  uint8_t digest[SIGNOP_DIGEST_LEN]);

/* A fresh random idempotency key (randombytes_buf). */
void signop_new_idempotency_key(uint8_t key[SIGNOP_IDEMPOTENCY_LEN]);

#endif
