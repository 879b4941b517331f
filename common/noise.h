/*
 * Noise Protocol Framework, revision 34, for the one suite Tamwil uses:
 * 25519 / ChaChaPoly / SHA256, on libsodium primitives only. The handshake
 * engine interprets a pattern table, so every base pattern (one-way N, K, X
 * and the twelve interactive ones) runs through the same code.
 */
#ifndef TAMWIL_NOISE_H
#define TAMWIL_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define NOISE_DHLEN	   32
#define NOISE_HASHLEN	   32
#define NOISE_KEYLEN	   32
#define NOISE_TAGLEN	   16
#define NOISE_MAX_MSGLEN   65535
#define NOISE_MAX_TOKENS   8
#define NOISE_MAX_MESSAGES 4

enum noise_role { NOISE_INITIATOR = 0, NOISE_RESPONDER = 1 };

/* What the handshake expects next from its caller. */
enum noise_action {
	NOISE_ACTION_WRITE = 1, /* call noise_handshake_write() */
	NOISE_ACTION_READ = 2,	/* call noise_handshake_read() */
	NOISE_ACTION_SPLIT = 3, /* finished: call noise_handshake_split() */
	NOISE_ACTION_FAILED = 4 /* a step failed; the state is wiped */
};

/* A CipherState (section 5.1). n is the nonce of the next message. */
typedef struct noise_cipher {
	uint8_t k[NOISE_KEYLEN];
	uint64_t n;
	int has_key;
} noise_cipher;

/*
 * A HandshakeState with its SymmetricState (sections 5.2, 5.3). Keep it on
 * the stack or inside a connection; noise_handshake_clear() wipes it.
 * Fields are private to noise.c.
 */
typedef struct noise_handshake {
	const struct noise_pattern *pattern;
	enum noise_role role;
	int msg_index; /* index of the next message of the pattern */
	enum noise_action action;
	noise_cipher cipher; /* of the SymmetricState */
	uint8_t ck[NOISE_HASHLEN];
	uint8_t h[NOISE_HASHLEN];
	uint8_t s_sk[NOISE_DHLEN], s_pk[NOISE_DHLEN];
	uint8_t e_sk[NOISE_DHLEN], e_pk[NOISE_DHLEN];
	uint8_t rs[NOISE_DHLEN], re[NOISE_DHLEN];
	int has_s, has_e, has_rs, has_re;
	int fixed_e; /* e_sk was set by noise_handshake_set_ephemeral */
} noise_handshake;

/*
 * Parses a full protocol name such as "Noise_XK_25519_ChaChaPoly_SHA256".
 * Returns 0 when the pattern is known and the suite is 25519/ChaChaPoly/
 * SHA256, -1 otherwise (unsupported suites, modifiers such as psk).
 */
int noise_protocol_supported(const char *protocol_name);

/*
 * Starts a handshake (Initialize(), section 5.3). s_sk is this side's static
 * private key or NULL; rs is the remote static public key known in advance
 * or NULL. Either is required exactly when the pattern's pre-messages or
 * tokens need it; otherwise returns -1 (a key the pattern would not use,
 * such as an rs pinned for XX, is refused rather than ignored). The
 * prologue is mixed into h. Returns 0 on success.
 */
int noise_handshake_init(noise_handshake *hs, const char *protocol_name,
			 enum noise_role role, const uint8_t *prologue,
			 size_t prologue_len, const uint8_t *s_sk,
			 const uint8_t *rs);

/*
 * Fixes the ephemeral private key instead of generating one: test vectors
 * only. Must be called after init and before the first message. Returns 0
 * or -1.
 */
int noise_handshake_set_ephemeral(noise_handshake *hs, const uint8_t *e_sk);

enum noise_action noise_handshake_action(const noise_handshake *hs);

/*
 * WriteMessage(): writes the next handshake message carrying payload into
 * out (capacity out_cap) and its length into *out_len. Returns 0, or -1 on
 * any failure (wrong turn, too small a buffer, message above
 * NOISE_MAX_MSGLEN, a DH failing on a small-order point); after -1 the
 * handshake is wiped and its action is NOISE_ACTION_FAILED.
 */
int noise_handshake_write(noise_handshake *hs, const uint8_t *payload,
			  size_t payload_len, uint8_t *out, size_t out_cap,
			  size_t *out_len);

/*
 * ReadMessage(): reads one handshake message, writes its payload into
 * payload (capacity payload_cap) and its length into *payload_len. Returns
 * 0, or -1 on any failure (wrong length, failed decryption, bad DH); after
 * -1 the handshake is wiped and its action is NOISE_ACTION_FAILED.
 */
int noise_handshake_read(noise_handshake *hs, const uint8_t *msg,
			 size_t msg_len, uint8_t *payload, size_t payload_cap,
			 size_t *payload_len);

/*
 * Split(): once the action is NOISE_ACTION_SPLIT, derives the two transport
 * cipher states seen from this side: send encrypts what this side sends,
 * recv decrypts what it receives. For one-way patterns the responder's send
 * state is left without a key (and so is the initiator's recv state). Wipes
 * the handshake keys; the handshake hash and the remote static key stay
 * readable. Works once: a second call fails. Returns 0 or -1.
 */
int noise_handshake_split(noise_handshake *hs, noise_cipher *send,
			  noise_cipher *recv);

/* Copies the remote static public key; returns -1 if not yet known. */
int noise_handshake_remote_static(const noise_handshake *hs, uint8_t *rs);

/* Copies the handshake hash h (channel binding). */
void noise_handshake_hash(const noise_handshake *hs, uint8_t *h);

/* Wipes every secret in hs. */
void noise_handshake_clear(noise_handshake *hs);

/*
 * EncryptWithAd() of a transport CipherState: out must hold pt_len +
 * NOISE_TAGLEN bytes. Fails (-1) without a key, when the nonce would reach
 * 2^64-1, or when pt_len + NOISE_TAGLEN exceeds NOISE_MAX_MSGLEN.
 */
int noise_cipher_encrypt(noise_cipher *cs, const uint8_t *ad, size_t ad_len,
			 const uint8_t *pt, size_t pt_len, uint8_t *out,
			 size_t *out_len);

/*
 * DecryptWithAd(): out must hold ct_len - NOISE_TAGLEN bytes. Returns -1 on
 * authentication failure; the nonce then does not advance.
 */
int noise_cipher_decrypt(noise_cipher *cs, const uint8_t *ad, size_t ad_len,
			 const uint8_t *ct, size_t ct_len, uint8_t *out,
			 size_t *out_len);

/* Rekey() (section 4.2): k = first 32 bytes of ENCRYPT(k, 2^64-1, "", 0^32). */
int noise_cipher_rekey(noise_cipher *cs);

void noise_cipher_clear(noise_cipher *cs);

#endif
