/*
 * Personal data under seal, all of it libsodium: crypto_box (X25519,
 * XSalsa20-Poly1305) in transit, XChaCha20-Poly1305 at rest, keyed BLAKE2b
 * for the blind index, crypto_kdf to derive the server's keys. Nonces are
 * random (24 bytes, safe to draw at random) and travel in front of the
 * ciphertext.
 */
#include "seal.h"

#include <sodium.h>
#include <string.h>

/* crypto_kdf context: exactly crypto_kdf_CONTEXTBYTES (8) characters. */
#define SEAL_KDF_CONTEXT "tamwilDK"
/* Context of the versions kept in rest.keys (1 and later). */
#define SEAL_KDF_CONTEXT_V "tamwilRK"
#define SEAL_KDF_ID_REST   1
#define SEAL_KDF_ID_INDEX  2
#define SEAL_REST_NONCELEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

_Static_assert(SEAL_KEYLEN == crypto_box_BEFORENMBYTES, "box key length");
_Static_assert(SEAL_BOX_NONCELEN == crypto_box_NONCEBYTES, "box nonce");
_Static_assert(SEAL_BOX_OVERHEAD == crypto_box_NONCEBYTES + crypto_box_MACBYTES,
	       "box overhead");
_Static_assert(SEAL_REST_OVERHEAD ==
		   SEAL_REST_NONCELEN +
		       crypto_aead_xchacha20poly1305_ietf_ABYTES,
	       "rest overhead");
_Static_assert(SEAL_KEYLEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	       "rest key length");
_Static_assert(SEAL_KEYLEN == crypto_kdf_KEYBYTES, "kdf master key length");
_Static_assert(sizeof SEAL_KDF_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES,
	       "kdf context length");
_Static_assert(sizeof SEAL_KDF_CONTEXT_V - 1 == crypto_kdf_CONTEXTBYTES,
	       "kdf context length");
_Static_assert(SEAL_INDEX_LEN >= crypto_generichash_BYTES_MIN &&
		   SEAL_INDEX_LEN <= crypto_generichash_BYTES_MAX,
	       "index length");

int seal_box_key(uint8_t key[SEAL_KEYLEN], const uint8_t *their_pk,
		 const uint8_t *my_sk)
{
	if (key == NULL)
		return -1;
	if (their_pk == NULL || my_sk == NULL || sodium_init() < 0 ||
	    crypto_box_beforenm(key, their_pk, my_sk) != 0) {
		sodium_memzero(key, SEAL_KEYLEN);
		return -1;
	}
	return 0;
}

int seal_box(const uint8_t key[SEAL_KEYLEN], const uint8_t *pt, size_t pt_len,
	     uint8_t *out)
{
	if (key == NULL || out == NULL || (pt == NULL && pt_len > 0) ||
	    pt_len > crypto_box_MESSAGEBYTES_MAX - SEAL_BOX_NONCELEN ||
	    sodium_init() < 0)
		return -1;
	randombytes_buf(out, SEAL_BOX_NONCELEN);
	if (crypto_box_easy_afternm(out + SEAL_BOX_NONCELEN, pt,
				    (unsigned long long)pt_len, out, key) != 0)
		return -1;
	return 0;
}

int seal_box_open(const uint8_t key[SEAL_KEYLEN], const uint8_t *box,
		  size_t box_len, uint8_t *out)
{
	if (key == NULL || box == NULL || box_len < SEAL_BOX_OVERHEAD ||
	    (out == NULL && box_len > SEAL_BOX_OVERHEAD) || sodium_init() < 0)
		return -1;
	if (crypto_box_open_easy_afternm(
		out, box + SEAL_BOX_NONCELEN,
		(unsigned long long)(box_len - SEAL_BOX_NONCELEN), box,
		key) != 0)
		return -1;
	return 0;
}

/*
 * Derives both keys from master (32 bytes) under the crypto_kdf context
 * ctx. 0, or -1 with *k zeroed.
 */
static int seal_kdf(seal_keys *k, const uint8_t *master, const char *ctx)
{
	if (k == NULL)
		return -1;
	if (master == NULL || sodium_init() < 0 ||
	    crypto_kdf_derive_from_key(k->rest, sizeof k->rest,
				       SEAL_KDF_ID_REST, ctx, master) != 0 ||
	    crypto_kdf_derive_from_key(k->index, sizeof k->index,
				       SEAL_KDF_ID_INDEX, ctx, master) != 0) {
		sodium_memzero(k, sizeof *k);
		return -1;
	}
	return 0;
}

int seal_derive(seal_keys *k, const uint8_t *data_sk)
{
	return seal_kdf(k, data_sk, SEAL_KDF_CONTEXT);
}

int seal_derive_version(seal_keys *k, const uint8_t *master)
{
	return seal_kdf(k, master, SEAL_KDF_CONTEXT_V);
}

unsigned seal_ring_count(const seal_ring *ring)
{
	return __atomic_load_n(&ring->count, __ATOMIC_ACQUIRE);
}

const seal_keys *seal_ring_get(const seal_ring *ring, unsigned version)
{
	if (ring == NULL || version >= seal_ring_count(ring) ||
	    ring->retired[version])
		return NULL;
	return &ring->v[version];
}

int seal_ring_add(seal_ring *ring, const seal_keys *k)
{
	unsigned n;

	if (ring == NULL)
		return -1;
	n = __atomic_load_n(&ring->count, __ATOMIC_RELAXED);
	if (n >= SEAL_VERSIONS_MAX)
		return -1;
	if (k != NULL)
		memcpy(&ring->v[n], k, sizeof *k);
	else
		sodium_memzero(&ring->v[n], sizeof ring->v[n]);
	ring->retired[n] = k == NULL;
	__atomic_store_n(&ring->count, n + 1, __ATOMIC_RELEASE);
	return 0;
}

int seal_rest(const seal_keys *k, const uint8_t *pt, size_t pt_len,
	      const uint8_t *ad, size_t ad_len, uint8_t *out)
{
	if (k == NULL || out == NULL || (pt == NULL && pt_len > 0) ||
	    (ad == NULL && ad_len > 0) ||
	    pt_len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX ||
	    sodium_init() < 0)
		return -1;
	randombytes_buf(out, SEAL_REST_NONCELEN);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(
		out + SEAL_REST_NONCELEN, NULL, pt, (unsigned long long)pt_len,
		ad, (unsigned long long)ad_len, NULL, out, k->rest) != 0)
		return -1;
	return 0;
}

int seal_rest_open(const seal_keys *k, const uint8_t *ct, size_t ct_len,
		   const uint8_t *ad, size_t ad_len, uint8_t *out)
{
	if (k == NULL || ct == NULL || ct_len < SEAL_REST_OVERHEAD ||
	    (out == NULL && ct_len > SEAL_REST_OVERHEAD) ||
	    (ad == NULL && ad_len > 0) || sodium_init() < 0)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		out, NULL, NULL, ct + SEAL_REST_NONCELEN,
		(unsigned long long)(ct_len - SEAL_REST_NONCELEN), ad,
		(unsigned long long)ad_len, ct, k->rest) != 0)
		return -1;
	return 0;
}

/*
 * Normalises a national ID into out (SEAL_INDEX_ID_MAX bytes): drops ASCII
 * spaces and '-', upper-cases ASCII letters. Returns the length, or 0 if
 * nothing is left, a byte is not [A-Za-z0-9], or more than
 * SEAL_INDEX_ID_MAX characters remain.
 */
static size_t seal_normalise_id(const char *id, char out[SEAL_INDEX_ID_MAX])
{
	size_t n = 0;

	for (const char *p = id; *p != '\0'; p++) {
		char c = *p;

		if (c == ' ' || c == '-')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
		if (n == SEAL_INDEX_ID_MAX)
			return 0;
		out[n++] = c;
	}
	return n;
}

int seal_index(const seal_keys *k, const char *national_id,
	       uint8_t out[SEAL_INDEX_LEN])
{
	char norm[SEAL_INDEX_ID_MAX];
	size_t n;
	int rc = -1;

	if (out == NULL)
		return -1;
	sodium_memzero(out, SEAL_INDEX_LEN);
	if (k == NULL || national_id == NULL || sodium_init() < 0)
		return -1;
	n = seal_normalise_id(national_id, norm);
	if (n == 0)
		goto out;
	if (crypto_generichash(out, SEAL_INDEX_LEN, (const uint8_t *)norm, n,
			       k->index, sizeof k->index) != 0) {
		sodium_memzero(out, SEAL_INDEX_LEN);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(norm, sizeof norm);
	return rc;
}
