/*
 * A deterministic random source for the fuzz harnesses and the seed
 * generator, installed with randombytes_set_implementation() before
 * sodium_init(), so that keys, ephemerals and nonces, and therefore every
 * crash, come out the same on every run. Never linked into a program.
 */
#ifndef TAMWIL_FUZZ_RNG_H
#define TAMWIL_FUZZ_RNG_H

#include <stdint.h>

/* Streams the harnesses restart at known points. */
#define FUZZ_RNG_WORLD	   1 /* the server world: its keys, then its people */
#define FUZZ_RNG_INITIATOR 2 /* the client side of a handshake */
#define FUZZ_RNG_RESPONDER 3 /* the server side of a handshake */

/*
 * Installs the deterministic source and runs sodium_init(). Must come
 * before any other libsodium call of the process. Returns 0 or -1.
 */
int fuzz_rng_install(void);

/* Restarts the stream at seed: the same bytes follow every time. */
void fuzz_rng_reset(uint64_t seed);

#endif
