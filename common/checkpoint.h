/*
 * Checkpoints of the audit log: (tree size, root hash, time) signed by the
 * server's Ed25519 key over a fixed byte layout, never over a protobuf
 * re-serialization. docs/AUDIT.md documents the layout:
 *
 *   "tamwil/1 checkpoint" and one zero byte   20 bytes
 *   tree size, unsigned, big-endian             8 bytes
 *   root hash                                  32 bytes
 *   time, Unix seconds, signed, big-endian      8 bytes
 */
#ifndef TAMWIL_CHECKPOINT_H
#define TAMWIL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"
#include "merkle.h"

#define CHECKPOINT_DOMAIN     "tamwil/1 checkpoint"
#define CHECKPOINT_DOMAIN_LEN 20
#define CHECKPOINT_BODY_LEN   (CHECKPOINT_DOMAIN_LEN + 8 + MERKLE_HASHLEN + 8)
#define CHECKPOINT_SIGLEN     64

typedef struct checkpoint {
	uint64_t size;
	merkle_hash root;
	int64_t time;
	uint8_t sig[CHECKPOINT_SIGLEN];
} checkpoint;

/*
 * The signed bytes of cp (without its signature) into body; neither may be
 * NULL. The time is written as its two's complement.
 */
void checkpoint_body(const checkpoint *cp, uint8_t body[CHECKPOINT_BODY_LEN]);

/*
 * Signs cp with the server's key (Ed25519, server_key->sign_sk), filling
 * cp->sig. 0 or -1; on failure cp->sig is all zeros.
 */
int checkpoint_sign(checkpoint *cp, const keyfile_secret *server_key);

/*
 * 0 if cp->sig is server_sign_pk's (32-byte Ed25519 public key) signature
 * of cp, -1 otherwise (also for NULL arguments).
 */
int checkpoint_verify(const checkpoint *cp, const uint8_t *server_sign_pk);

#endif
