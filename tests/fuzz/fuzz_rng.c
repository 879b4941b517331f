/*
 * The deterministic random source: ChaCha20 keyed by the seed, read as a
 * stream. libsodium's own stream cipher draws no randomness, so using it
 * inside a randombytes implementation cannot recurse.
 */
#include "fuzz_rng.h"

#include "fuzz_handshake.h"

#include <string.h>

#include <sodium.h>

/*
 * The one stream of the process. libsodium reaches its random source only
 * through these callbacks, which take no argument, so the state cannot be
 * passed in; harnesses are single-threaded.
 */
static struct {
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint64_t block; /* next 64-byte block of the stream */
} fuzz_rng;

static const char *fuzz_rng_name(void)
{
	return "tamwil-fuzz-deterministic";
}

static void fuzz_rng_buf(void *const buf, const size_t size)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	size_t blocks = (size + 63) / 64;

	memset(buf, 0, size);
	crypto_stream_chacha20_xor_ic(buf, buf, size, nonce, fuzz_rng.block,
				      fuzz_rng.key);
	fuzz_rng.block += blocks;
}

static uint32_t fuzz_rng_random(void)
{
	uint32_t v;

	fuzz_rng_buf(&v, sizeof(v));
	return v;
}

static void fuzz_rng_stir(void)
{
}

static struct randombytes_implementation fuzz_rng_impl = {
    .implementation_name = fuzz_rng_name,
    .random = fuzz_rng_random,
    .stir = fuzz_rng_stir,
    .uniform = NULL, /* libsodium derives it from random() */
    .buf = fuzz_rng_buf,
    .close = NULL,
};

void fuzz_rng_reset(uint64_t seed)
{
	memset(fuzz_rng.key, 0, sizeof(fuzz_rng.key));
	for (size_t i = 0; i < sizeof(seed); i++)
		fuzz_rng.key[i] = (uint8_t)(seed >> (8 * i));
	fuzz_rng.block = 0;
}

int fuzz_rng_install(void)
{
	fuzz_rng_reset(FUZZ_RNG_WORLD);
	if (randombytes_set_implementation(&fuzz_rng_impl) != 0)
		return -1;
	return sodium_init() < 0 ? -1 : 0;
}

int fuzz_static_key(uint64_t seed, uint8_t sk[NOISE_DHLEN],
		    uint8_t pk[NOISE_DHLEN])
{
	fuzz_rng_reset(seed);
	return crypto_box_keypair(pk, sk) == 0 ? 0 : -1;
}
