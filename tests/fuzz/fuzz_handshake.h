/*
 * What the handshake harness and the seed generator must agree on for a
 * recorded transcript to replay: the two static keys, drawn from their
 * own streams of the deterministic source, and the payload of message 2.
 */
#ifndef TAMWIL_FUZZ_HANDSHAKE_H
#define TAMWIL_FUZZ_HANDSHAKE_H

#include <stdint.h>

#include "noise.h"

#define FUZZ_RNG_SERVER_STATIC 4
#define FUZZ_RNG_CLIENT_STATIC 5

/* Stands for the ServerHello the daemon puts in message 2. */
#define FUZZ_MSG2_PAYLOAD "tamwild fuzz"

/* The static X25519 key pair drawn from stream seed. 0 or -1. */
int fuzz_static_key(uint64_t seed, uint8_t sk[NOISE_DHLEN],
		    uint8_t pk[NOISE_DHLEN]);

#endif
