/*
 * Personal data under seal. In transit: the client boxes a beneficiary's
 * identity to head office's data key (crypto_box_beforenm once per
 * principal, crypto_box_easy_afternm per operation). At rest: the server
 * derives, from the data secret key, an AEAD key for the stored fields and
 * a key for the blind index that finds a national ID without storing it.
 *
 * Wire and storage layouts: a box is a random 24-byte nonce followed by
 * crypto_box_easy_afternm's output (MAC, then ciphertext); a sealed stored
 * field is a random 24-byte nonce followed by
 * crypto_aead_xchacha20poly1305_ietf_encrypt's output (ciphertext, then
 * tag). Keys: crypto_kdf_derive_from_key with context "tamwilDK" and the
 * 32-byte data secret key as master key, subkey 1 for rest, 2 for index.
 * Output buffers must not overlap inputs. Callers have run sodium_init();
 * these functions call it again, which is cheap.
 */
#ifndef TAMWIL_SEAL_H
#define TAMWIL_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEYLEN	   32
#define SEAL_BOX_NONCELEN  24
#define SEAL_BOX_OVERHEAD  (SEAL_BOX_NONCELEN + 16) /* nonce + MAC */
#define SEAL_REST_OVERHEAD (24 + 16)		    /* nonce + tag */
#define SEAL_INDEX_LEN	   32
#define SEAL_INDEX_ID_MAX  64 /* longest normalised national ID, see below */

/*
 * The shared box key between my_sk and their_pk (X25519, 32 bytes each):
 * the same from either side. 0, or -1 with key zeroed (a small-order or
 * otherwise unusable their_pk).
 */
int seal_box_key(uint8_t key[SEAL_KEYLEN], const uint8_t *their_pk,
		 const uint8_t *my_sk);

/*
 * Boxes pt into out (pt_len + SEAL_BOX_OVERHEAD bytes): a random nonce
 * followed by crypto_box_easy_afternm. pt may be NULL when pt_len is 0.
 * 0 or -1.
 */
int seal_box(const uint8_t key[SEAL_KEYLEN], const uint8_t *pt, size_t pt_len,
	     uint8_t *out);

/*
 * Opens a box into out (box_len - SEAL_BOX_OVERHEAD bytes). 0, or -1 if
 * the box is shorter than SEAL_BOX_OVERHEAD, was tampered with or was made
 * under another key.
 */
int seal_box_open(const uint8_t key[SEAL_KEYLEN], const uint8_t *box,
		  size_t box_len, uint8_t *out);

/* The server's at-rest and blind-index keys, derived from the data key. */
typedef struct seal_keys {
	uint8_t rest[SEAL_KEYLEN];
	uint8_t index[SEAL_KEYLEN];
} seal_keys;

/*
 * Derives both keys from the data secret key (crypto_kdf, see above).
 * 0, or -1 with *k zeroed.
 */
int seal_derive(seal_keys *k, const uint8_t *data_sk);

/*
 * Derives both keys of at-rest key version 1 or later from its random
 * 32-byte master key (kept in the state folder's rest.keys): crypto_kdf
 * with context "tamwilRK", subkey 1 for rest, 2 for index, so that no
 * version's keys equal version 0's even were a master key to equal the
 * data secret key. 0, or -1 with *k zeroed.
 */
int seal_derive_version(seal_keys *k, const uint8_t *master);

/*
 * The at-rest key versions a process holds: version 0 (derived from the
 * data key) up to count - 1. One thread adds versions (seal_ring_add), any
 * number read them at the same time: a slot is written before count is
 * raised (release) and never changes once published, and readers load
 * count with acquire, so a reader never sees a slot half written.
 */
#define SEAL_VERSIONS_MAX 64
typedef struct seal_ring {
	seal_keys v[SEAL_VERSIONS_MAX];
	unsigned char retired[SEAL_VERSIONS_MAX]; /* no keys in that slot */
	unsigned count; /* read and written through __atomic builtins */
} seal_ring;

/* How many versions ring holds (0 before the first seal_ring_add). */
unsigned seal_ring_count(const seal_ring *ring);

/*
 * The keys of version, or NULL when ring does not hold it (a row sealed
 * under a version this process has not loaded, or one retired).
 */
const seal_keys *seal_ring_get(const seal_ring *ring, unsigned version);

/*
 * Publishes k as the next version (the one numbered seal_ring_count()),
 * or, with k NULL, that version's place as retired: counted, without
 * keys. One writer at a time. 0, or -1 when the ring is full.
 */
int seal_ring_add(seal_ring *ring, const seal_keys *k);

/*
 * Encrypts pt for storage into out (pt_len + SEAL_REST_OVERHEAD bytes)
 * with XChaCha20-Poly1305; ad (e.g. the row's identity, may be NULL when
 * ad_len is 0) is bound to it but not stored. 0 or -1.
 */
int seal_rest(const seal_keys *k, const uint8_t *pt, size_t pt_len,
	      const uint8_t *ad, size_t ad_len, uint8_t *out);

/*
 * Decrypts what seal_rest() wrote into out (ct_len - SEAL_REST_OVERHEAD
 * bytes), given the same ad. 0, or -1 if ct is too short, was tampered
 * with, or the key or ad differ.
 */
int seal_rest_open(const seal_keys *k, const uint8_t *ct, size_t ct_len,
		   const uint8_t *ad, size_t ad_len, uint8_t *out);

/*
 * The blind index of a national ID: BLAKE2b-256 (crypto_generichash) keyed
 * with k->index over the ID with ASCII spaces and '-' removed and letters
 * upper-cased, so "ab 123456", "AB-123456" and "AB123456" meet. National
 * IDs (Moroccan CIN such as "AB123456", Algerian 18-digit NIN) are ASCII
 * letters and digits: anything else is refused. 0, or -1 with out zeroed
 * when nothing is left, another character occurs, or more than
 * SEAL_INDEX_ID_MAX characters remain.
 */
int seal_index(const seal_keys *k, const char *national_id,
	       uint8_t out[SEAL_INDEX_LEN]);

#endif
