/*
 * Noise Protocol Framework, revision 34, suite 25519/ChaChaPoly/SHA256.
 *
 * Every primitive comes from libsodium: X25519 (crypto_scalarmult, which
 * refuses small-order points), ChaCha20-Poly1305 IETF, SHA-256 and
 * HMAC-SHA-256 for HKDF. The handshake engine knows no pattern by heart:
 * it walks the token lists of the pattern table below, so N, K, X and the
 * twelve interactive base patterns all run through the same few functions.
 *
 * Error discipline: every libsodium return value is checked; a failing
 * handshake step wipes the whole HandshakeState (noise_handshake_clear),
 * which leaves its action at NOISE_ACTION_FAILED. Temporary secrets are
 * wiped with sodium_memzero before the function that made them returns.
 */
#include "noise.h"

#include <string.h>

#include <sodium.h>

#define PROTOCOL_PREFIX "Noise_"
#define PROTOCOL_SUITE	"_25519_ChaChaPoly_SHA256"
#define NONCE_LEN	crypto_aead_chacha20poly1305_ietf_NPUBBYTES
#define MAX_PRE_TOKENS	2

/* The tokens of section 7.1; T_END ends a list shorter than its array. */
enum noise_token { T_END = 0, T_E, T_S, T_EE, T_ES, T_SE, T_SS };

/*
 * One handshake pattern (section 7). pre[0] and pre[1] are the initiator's
 * and the responder's pre-messages; msg[i] is the token list of message i,
 * sent by the initiator when i is even and by the responder when i is odd.
 */
struct noise_pattern {
	const char *name;
	int one_way;
	int n_messages;
	uint8_t pre[2][MAX_PRE_TOKENS];
	uint8_t msg[NOISE_MAX_MESSAGES][NOISE_MAX_TOKENS];
};

/*
 * The base patterns of sections 7.4 and 7.5, written as the specification
 * writes them: pre-messages of the initiator and the responder, then the
 * messages, "->" and "<-" alternating from the first.
 */
/* clang-format off */
static const struct noise_pattern patterns[] = {
	/* One-way: N, K, X. */
	{"N",  1, 1, {{T_END}, {T_S}},   {{T_E, T_ES}}},
	{"K",  1, 1, {{T_S},   {T_S}},   {{T_E, T_ES, T_SS}}},
	{"X",  1, 1, {{T_END}, {T_S}},   {{T_E, T_ES, T_S, T_SS}}},
	/* Interactive. */
	{"NN", 0, 2, {{T_END}, {T_END}}, {{T_E},
					  {T_E, T_EE}}},
	{"NK", 0, 2, {{T_END}, {T_S}},   {{T_E, T_ES},
					  {T_E, T_EE}}},
	{"NX", 0, 2, {{T_END}, {T_END}}, {{T_E},
					  {T_E, T_EE, T_S, T_ES}}},
	{"KN", 0, 2, {{T_S},   {T_END}}, {{T_E},
					  {T_E, T_EE, T_SE}}},
	{"KK", 0, 2, {{T_S},   {T_S}},   {{T_E, T_ES, T_SS},
					  {T_E, T_EE, T_SE}}},
	{"KX", 0, 2, {{T_S},   {T_END}}, {{T_E},
					  {T_E, T_EE, T_SE, T_S, T_ES}}},
	{"XN", 0, 3, {{T_END}, {T_END}}, {{T_E},
					  {T_E, T_EE},
					  {T_S, T_SE}}},
	{"XK", 0, 3, {{T_END}, {T_S}},   {{T_E, T_ES},
					  {T_E, T_EE},
					  {T_S, T_SE}}},
	{"XX", 0, 3, {{T_END}, {T_END}}, {{T_E},
					  {T_E, T_EE, T_S, T_ES},
					  {T_S, T_SE}}},
	{"IN", 0, 2, {{T_END}, {T_END}}, {{T_E, T_S},
					  {T_E, T_EE, T_SE}}},
	{"IK", 0, 2, {{T_END}, {T_S}},   {{T_E, T_ES, T_S, T_SS},
					  {T_E, T_EE, T_SE}}},
	{"IX", 0, 2, {{T_END}, {T_END}}, {{T_E, T_S},
					  {T_E, T_EE, T_SE, T_S, T_ES}}},
};
/* clang-format on */

/*
 * Finds the pattern of a full protocol name "Noise_<PATTERN>_25519_
 * ChaChaPoly_SHA256". Returns NULL for anything else: other suites, pattern
 * modifiers (psk, fallback), unknown patterns, trailing bytes.
 */
static const struct noise_pattern *find_pattern(const char *name)
{
	size_t prefix_len = strlen(PROTOCOL_PREFIX);
	const char *start;
	const char *end;
	size_t len;
	size_t i;

	if (name == NULL || strncmp(name, PROTOCOL_PREFIX, prefix_len) != 0)
		return NULL;
	start = name + prefix_len;
	end = strchr(start, '_');
	if (end == NULL || strcmp(end, PROTOCOL_SUITE) != 0)
		return NULL;
	len = (size_t)(end - start);
	for (i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		if (strlen(patterns[i].name) == len &&
		    memcmp(patterns[i].name, start, len) == 0)
			return &patterns[i];
	}
	return NULL;
}

int noise_protocol_supported(const char *protocol_name)
{
	return find_pattern(protocol_name) != NULL ? 0 : -1;
}

/* True when the token list toks (of capacity cap) holds tok. */
static int has_token(const uint8_t *toks, size_t cap, uint8_t tok)
{
	size_t i;

	for (i = 0; i < cap && toks[i] != T_END; i++) {
		if (toks[i] == tok)
			return 1;
	}
	return 0;
}

/*
 * True when the side playing role needs its own static key: its pre-message
 * holds s, or one of the messages it sends transmits s.
 */
static int needs_static(const struct noise_pattern *p, enum noise_role role)
{
	int i;

	if (has_token(p->pre[role], MAX_PRE_TOKENS, T_S))
		return 1;
	for (i = (int)role; i < p->n_messages; i += 2) {
		if (has_token(p->msg[i], NOISE_MAX_TOKENS, T_S))
			return 1;
	}
	return 0;
}

/*
 * Writes SHA-256(a || b) into out, which may alias a or b: the digest is
 * only written once both inputs have been read.
 */
static int hash_two(const uint8_t *a, size_t a_len, const uint8_t *b,
		    size_t b_len, uint8_t *out)
{
	crypto_hash_sha256_state st;
	int rc = -1;

	if (crypto_hash_sha256_init(&st) != 0)
		goto out;
	if (a_len > 0 && crypto_hash_sha256_update(&st, a, a_len) != 0)
		goto out;
	if (b_len > 0 && crypto_hash_sha256_update(&st, b, b_len) != 0)
		goto out;
	if (crypto_hash_sha256_final(&st, out) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(&st, sizeof st);
	return rc;
}

/*
 * HMAC-SHA-256 under key (any length) of the concatenation a || b; out may
 * not alias the key. Used only by hkdf().
 */
static int hmac_two(const uint8_t *key, size_t key_len, const uint8_t *a,
		    size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out)
{
	crypto_auth_hmacsha256_state st;
	int rc = -1;

	if (crypto_auth_hmacsha256_init(&st, key, key_len) != 0)
		goto out;
	if (a_len > 0 && crypto_auth_hmacsha256_update(&st, a, a_len) != 0)
		goto out;
	if (b_len > 0 && crypto_auth_hmacsha256_update(&st, b, b_len) != 0)
		goto out;
	if (crypto_auth_hmacsha256_final(&st, out) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(&st, sizeof st);
	return rc;
}

/*
 * HKDF(chaining_key, input_key_material, 2) of section 4.3: out1 and out2
 * receive HASHLEN bytes each. Both outputs may alias ck.
 */
static int hkdf(const uint8_t *ck, const uint8_t *ikm, size_t ikm_len,
		uint8_t *out1, uint8_t *out2)
{
	static const uint8_t one = 0x01, two = 0x02;
	uint8_t temp_key[NOISE_HASHLEN];
	uint8_t o1[NOISE_HASHLEN];
	uint8_t o2[NOISE_HASHLEN];
	int rc = -1;

	if (hmac_two(ck, NOISE_HASHLEN, ikm, ikm_len, NULL, 0, temp_key) != 0)
		goto out;
	if (hmac_two(temp_key, sizeof temp_key, &one, 1, NULL, 0, o1) != 0)
		goto out;
	if (hmac_two(temp_key, sizeof temp_key, o1, sizeof o1, &two, 1, o2) !=
	    0)
		goto out;
	memcpy(out1, o1, NOISE_HASHLEN);
	memcpy(out2, o2, NOISE_HASHLEN);
	rc = 0;
out:
	sodium_memzero(temp_key, sizeof temp_key);
	sodium_memzero(o1, sizeof o1);
	sodium_memzero(o2, sizeof o2);
	return rc;
}

/* The 96-bit nonce of section 12.3: 32 zero bits, then n little-endian. */
static void make_nonce(uint8_t nonce[NONCE_LEN], uint64_t n)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/* Loads key k into cs with n = 0 (InitializeKey(), section 5.1). */
static void cipher_set_key(noise_cipher *cs, const uint8_t *k)
{
	memcpy(cs->k, k, NOISE_KEYLEN);
	cs->n = 0;
	cs->has_key = 1;
}

int noise_cipher_encrypt(noise_cipher *cs, const uint8_t *ad, size_t ad_len,
			 const uint8_t *pt, size_t pt_len, uint8_t *out,
			 size_t *out_len)
{
	static const uint8_t empty[1];
	uint8_t nonce[NONCE_LEN];
	unsigned long long clen = 0;

	if (!cs->has_key || cs->n == UINT64_MAX)
		return -1;
	if (pt_len > NOISE_MAX_MSGLEN - NOISE_TAGLEN || (pt == NULL && pt_len))
		return -1;
	make_nonce(nonce, cs->n);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(
		out, &clen, pt != NULL ? pt : empty, pt_len, ad, ad_len, NULL,
		nonce, cs->k) != 0)
		return -1;
	cs->n++;
	*out_len = (size_t)clen;
	return 0;
}

int noise_cipher_decrypt(noise_cipher *cs, const uint8_t *ad, size_t ad_len,
			 const uint8_t *ct, size_t ct_len, uint8_t *out,
			 size_t *out_len)
{
	uint8_t scratch[1] = {0};
	uint8_t nonce[NONCE_LEN];
	unsigned long long mlen = 0;

	if (!cs->has_key || cs->n == UINT64_MAX)
		return -1;
	if (ct == NULL || ct_len < NOISE_TAGLEN || ct_len > NOISE_MAX_MSGLEN)
		return -1;
	make_nonce(nonce, cs->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(
		out != NULL ? out : scratch, &mlen, NULL, ct, ct_len, ad,
		ad_len, nonce, cs->k) != 0)
		return -1;
	cs->n++;
	*out_len = (size_t)mlen;
	return 0;
}

int noise_cipher_rekey(noise_cipher *cs)
{
	static const uint8_t zeros[NOISE_KEYLEN];
	uint8_t nonce[NONCE_LEN];
	uint8_t buf[NOISE_KEYLEN + NOISE_TAGLEN];
	int rc = -1;

	if (!cs->has_key)
		return -1;
	make_nonce(nonce, UINT64_MAX);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(buf, NULL, zeros,
						      sizeof zeros, NULL, 0,
						      NULL, nonce, cs->k) != 0)
		goto out;
	memcpy(cs->k, buf, NOISE_KEYLEN);
	rc = 0;
out:
	sodium_memzero(buf, sizeof buf);
	return rc;
}

void noise_cipher_clear(noise_cipher *cs)
{
	sodium_memzero(cs, sizeof *cs);
}

void noise_handshake_clear(noise_handshake *hs)
{
	sodium_memzero(hs, sizeof *hs);
	hs->pattern = NULL;
	hs->action = NOISE_ACTION_FAILED;
}

/* MixHash(): h = HASH(h || data). */
static int mix_hash(noise_handshake *hs, const uint8_t *data, size_t len)
{
	return hash_two(hs->h, sizeof hs->h, data, len, hs->h);
}

/* MixKey(): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k). */
static int mix_key(noise_handshake *hs, const uint8_t *ikm, size_t ikm_len)
{
	uint8_t temp_k[NOISE_HASHLEN];
	int rc = -1;

	if (hkdf(hs->ck, ikm, ikm_len, hs->ck, temp_k) != 0)
		goto out;
	cipher_set_key(&hs->cipher, temp_k);
	rc = 0;
out:
	sodium_memzero(temp_k, sizeof temp_k);
	return rc;
}

/*
 * EncryptAndHash(): writes pt (encrypted once a key exists) into out and its
 * length into *out_len, then mixes what was written into h.
 */
static int encrypt_and_hash(noise_handshake *hs, const uint8_t *pt,
			    size_t pt_len, uint8_t *out, size_t *out_len)
{
	if (hs->cipher.has_key) {
		if (noise_cipher_encrypt(&hs->cipher, hs->h, sizeof hs->h, pt,
					 pt_len, out, out_len) != 0)
			return -1;
	} else {
		if (pt_len > 0)
			memmove(out, pt, pt_len);
		*out_len = pt_len;
	}
	return mix_hash(hs, out, *out_len);
}

/*
 * DecryptAndHash(): the inverse of encrypt_and_hash(). The next h is hashed
 * from ct before decryption, so out may alias ct; h changes only when the
 * whole step succeeds.
 */
static int decrypt_and_hash(noise_handshake *hs, const uint8_t *ct,
			    size_t ct_len, uint8_t *out, size_t *out_len)
{
	uint8_t h_next[NOISE_HASHLEN];

	if (hash_two(hs->h, sizeof hs->h, ct, ct_len, h_next) != 0)
		return -1;
	if (hs->cipher.has_key) {
		if (noise_cipher_decrypt(&hs->cipher, hs->h, sizeof hs->h, ct,
					 ct_len, out, out_len) != 0)
			return -1;
	} else {
		if (ct_len > 0)
			memmove(out, ct, ct_len);
		*out_len = ct_len;
	}
	memcpy(hs->h, h_next, sizeof h_next);
	return 0;
}

/*
 * Picks the operands of DH token tok from this side's point of view: "es"
 * is the initiator's e with the responder's s, "se" the initiator's s with
 * the responder's e. Fails when a key the token needs is not there.
 */
static int dh_operands(const noise_handshake *hs, uint8_t tok,
		       const uint8_t **sk, const uint8_t **pk)
{
	int initiator = hs->role == NOISE_INITIATOR;
	int local_e;
	int remote_e;

	switch (tok) {
	case T_EE:
		local_e = 1;
		remote_e = 1;
		break;
	case T_ES:
		local_e = initiator;
		remote_e = !initiator;
		break;
	case T_SE:
		local_e = !initiator;
		remote_e = initiator;
		break;
	case T_SS:
		local_e = 0;
		remote_e = 0;
		break;
	default:
		return -1;
	}
	if (!(local_e ? hs->has_e : hs->has_s))
		return -1;
	if (!(remote_e ? hs->has_re : hs->has_rs))
		return -1;
	*sk = local_e ? hs->e_sk : hs->s_sk;
	*pk = remote_e ? hs->re : hs->rs;
	return 0;
}

/*
 * Runs DH token tok and mixes the shared secret into the chaining key.
 * crypto_scalarmult() fails on a small-order public key, and so does this.
 */
static int mix_dh(noise_handshake *hs, uint8_t tok)
{
	const uint8_t *sk = NULL;
	const uint8_t *pk = NULL;
	uint8_t shared[NOISE_DHLEN];
	int rc = -1;

	if (dh_operands(hs, tok, &sk, &pk) != 0)
		goto out;
	if (crypto_scalarmult(shared, sk, pk) != 0)
		goto out;
	rc = mix_key(hs, shared, sizeof shared);
out:
	sodium_memzero(shared, sizeof shared);
	return rc;
}

/*
 * Mixes the public keys of the pre-messages into h, the initiator's first
 * (section 7.1). Base patterns only carry s in pre-messages.
 */
static int mix_pre_messages(noise_handshake *hs)
{
	int side;
	int i;

	for (side = 0; side < 2; side++) {
		const uint8_t *toks = hs->pattern->pre[side];

		for (i = 0; i < MAX_PRE_TOKENS && toks[i] != T_END; i++) {
			const uint8_t *key =
			    side == (int)hs->role ? hs->s_pk : hs->rs;

			if (toks[i] != T_S || mix_hash(hs, key, NOISE_DHLEN))
				return -1;
		}
	}
	return 0;
}

/*
 * InitializeSymmetric(): h is the protocol name zero-padded to HASHLEN, or
 * its hash when longer; ck = h; no cipher key yet.
 */
static int init_symmetric(noise_handshake *hs, const char *name)
{
	size_t len = strlen(name);

	if (len <= NOISE_HASHLEN) {
		memset(hs->h, 0, sizeof hs->h);
		memcpy(hs->h, name, len);
	} else if (hash_two((const uint8_t *)name, len, NULL, 0, hs->h) != 0) {
		return -1;
	}
	memcpy(hs->ck, hs->h, sizeof hs->ck);
	return 0;
}

/*
 * Initialize() (section 5.3). The static key is taken exactly when this
 * side needs one, the remote static key exactly when the remote side's
 * pre-message holds it: a key supplied for a pattern that would not use it
 * (an rs pinned for XX, say) is refused rather than silently ignored.
 */
int noise_handshake_init(noise_handshake *hs, const char *protocol_name,
			 enum noise_role role, const uint8_t *prologue,
			 size_t prologue_len, const uint8_t *s_sk,
			 const uint8_t *rs)
{
	const struct noise_pattern *p = find_pattern(protocol_name);

	noise_handshake_clear(hs);
	if (p == NULL || (role != NOISE_INITIATOR && role != NOISE_RESPONDER))
		goto fail;
	if (prologue == NULL && prologue_len > 0)
		goto fail;
	if ((s_sk != NULL) != needs_static(p, role))
		goto fail;
	if ((rs != NULL) != has_token(p->pre[!role], MAX_PRE_TOKENS, T_S))
		goto fail;
	hs->pattern = p;
	hs->role = role;
	if (init_symmetric(hs, protocol_name) != 0)
		goto fail;
	if (mix_hash(hs, prologue, prologue_len) != 0)
		goto fail;
	if (s_sk != NULL) {
		memcpy(hs->s_sk, s_sk, NOISE_DHLEN);
		if (crypto_scalarmult_base(hs->s_pk, hs->s_sk) != 0)
			goto fail;
		hs->has_s = 1;
	}
	if (rs != NULL) {
		memcpy(hs->rs, rs, NOISE_DHLEN);
		hs->has_rs = 1;
	}
	if (mix_pre_messages(hs) != 0)
		goto fail;
	hs->action =
	    role == NOISE_INITIATOR ? NOISE_ACTION_WRITE : NOISE_ACTION_READ;
	return 0;
fail:
	noise_handshake_clear(hs);
	return -1;
}

int noise_handshake_set_ephemeral(noise_handshake *hs, const uint8_t *e_sk)
{
	if (e_sk == NULL || hs->pattern == NULL || hs->msg_index != 0 ||
	    hs->has_e || hs->action == NOISE_ACTION_FAILED)
		goto fail;
	memcpy(hs->e_sk, e_sk, NOISE_DHLEN);
	if (crypto_scalarmult_base(hs->e_pk, hs->e_sk) != 0)
		goto fail;
	hs->fixed_e = 1;
	return 0;
fail:
	noise_handshake_clear(hs);
	return -1;
}

enum noise_action noise_handshake_action(const noise_handshake *hs)
{
	return hs->action;
}

/*
 * Moves past the message just processed: the next one is the initiator's
 * when its index is even, and after the last one the handshake splits.
 */
static void advance(noise_handshake *hs)
{
	hs->msg_index++;
	if (hs->msg_index >= hs->pattern->n_messages)
		hs->action = NOISE_ACTION_SPLIT;
	else if (hs->msg_index % 2 == (int)hs->role)
		hs->action = NOISE_ACTION_WRITE;
	else
		hs->action = NOISE_ACTION_READ;
}

/*
 * Token "e" on the write side: makes an ephemeral key pair (unless one was
 * fixed), writes its public half at out[*off] and mixes it into h.
 */
static int write_e(noise_handshake *hs, uint8_t *out, size_t limit, size_t *off)
{
	if (hs->has_e || limit - *off < NOISE_DHLEN)
		return -1;
	if (!hs->fixed_e) {
		randombytes_buf(hs->e_sk, sizeof hs->e_sk);
		if (crypto_scalarmult_base(hs->e_pk, hs->e_sk) != 0)
			return -1;
	}
	hs->has_e = 1;
	memcpy(out + *off, hs->e_pk, NOISE_DHLEN);
	*off += NOISE_DHLEN;
	return mix_hash(hs, hs->e_pk, NOISE_DHLEN);
}

/* Token "s" on the write side: EncryptAndHash(s.public_key) at out[*off]. */
static int write_s(noise_handshake *hs, uint8_t *out, size_t limit, size_t *off)
{
	size_t need = NOISE_DHLEN + (hs->cipher.has_key ? NOISE_TAGLEN : 0);
	size_t n = 0;

	if (!hs->has_s || limit - *off < need)
		return -1;
	if (encrypt_and_hash(hs, hs->s_pk, NOISE_DHLEN, out + *off, &n) != 0)
		return -1;
	*off += n;
	return 0;
}

/* Token "e" on the read side: takes re from msg[*off] and mixes it in. */
static int read_e(noise_handshake *hs, const uint8_t *msg, size_t msg_len,
		  size_t *off)
{
	if (hs->has_re || msg_len - *off < NOISE_DHLEN)
		return -1;
	memcpy(hs->re, msg + *off, NOISE_DHLEN);
	hs->has_re = 1;
	*off += NOISE_DHLEN;
	return mix_hash(hs, hs->re, NOISE_DHLEN);
}

/* Token "s" on the read side: rs = DecryptAndHash(msg[*off..]). */
static int read_s(noise_handshake *hs, const uint8_t *msg, size_t msg_len,
		  size_t *off)
{
	size_t need = NOISE_DHLEN + (hs->cipher.has_key ? NOISE_TAGLEN : 0);
	size_t n = 0;

	if (hs->has_rs || msg_len - *off < need)
		return -1;
	if (decrypt_and_hash(hs, msg + *off, need, hs->rs, &n) != 0)
		return -1;
	hs->has_rs = 1;
	*off += need;
	return 0;
}

/* Processes one token of an outgoing message. */
static int write_token(noise_handshake *hs, uint8_t tok, uint8_t *out,
		       size_t limit, size_t *off)
{
	switch (tok) {
	case T_E:
		return write_e(hs, out, limit, off);
	case T_S:
		return write_s(hs, out, limit, off);
	default:
		return mix_dh(hs, tok);
	}
}

/* Processes one token of an incoming message. */
static int read_token(noise_handshake *hs, uint8_t tok, const uint8_t *msg,
		      size_t msg_len, size_t *off)
{
	switch (tok) {
	case T_E:
		return read_e(hs, msg, msg_len, off);
	case T_S:
		return read_s(hs, msg, msg_len, off);
	default:
		return mix_dh(hs, tok);
	}
}

/*
 * WriteMessage() (section 5.3): the tokens of the current message, then the
 * payload through EncryptAndHash. Nothing is written past
 * min(out_cap, NOISE_MAX_MSGLEN).
 */
int noise_handshake_write(noise_handshake *hs, const uint8_t *payload,
			  size_t payload_len, uint8_t *out, size_t out_cap,
			  size_t *out_len)
{
	size_t limit = out_cap < NOISE_MAX_MSGLEN ? out_cap : NOISE_MAX_MSGLEN;
	size_t off = 0;
	size_t n = 0;
	size_t tag;
	const uint8_t *toks;
	int i;

	if (hs->action != NOISE_ACTION_WRITE || out == NULL ||
	    (payload == NULL && payload_len > 0))
		goto fail;
	toks = hs->pattern->msg[hs->msg_index];
	for (i = 0; i < NOISE_MAX_TOKENS && toks[i] != T_END; i++) {
		if (write_token(hs, toks[i], out, limit, &off) != 0)
			goto fail;
	}
	tag = hs->cipher.has_key ? NOISE_TAGLEN : 0;
	if (limit - off < tag || limit - off - tag < payload_len)
		goto fail;
	if (encrypt_and_hash(hs, payload, payload_len, out + off, &n) != 0)
		goto fail;
	*out_len = off + n;
	advance(hs);
	return 0;
fail:
	noise_handshake_clear(hs);
	return -1;
}

/*
 * ReadMessage() (section 5.3): the tokens of the current message, then
 * what remains through DecryptAndHash into payload. A message of the wrong
 * length, a failed tag or a refused DH fails the handshake.
 */
int noise_handshake_read(noise_handshake *hs, const uint8_t *msg,
			 size_t msg_len, uint8_t *payload, size_t payload_cap,
			 size_t *payload_len)
{
	uint8_t scratch[1] = {0};
	size_t off = 0;
	size_t rest;
	size_t tag;
	const uint8_t *toks;
	int i;

	if (hs->action != NOISE_ACTION_READ || msg == NULL ||
	    msg_len > NOISE_MAX_MSGLEN)
		goto fail;
	toks = hs->pattern->msg[hs->msg_index];
	for (i = 0; i < NOISE_MAX_TOKENS && toks[i] != T_END; i++) {
		if (read_token(hs, toks[i], msg, msg_len, &off) != 0)
			goto fail;
	}
	rest = msg_len - off;
	tag = hs->cipher.has_key ? NOISE_TAGLEN : 0;
	if (rest < tag || rest - tag > payload_cap)
		goto fail;
	if (decrypt_and_hash(hs, msg + off, rest,
			     payload != NULL ? payload : scratch,
			     payload_len) != 0)
		goto fail;
	advance(hs);
	return 0;
fail:
	noise_handshake_clear(hs);
	return -1;
}

/*
 * Split() (section 5.2): the first HKDF output keys initiator-to-responder
 * traffic, the second responder-to-initiator (absent for one-way
 * patterns). Afterwards ck, the handshake cipher and both private keys are
 * wiped; h and the public keys stay. Split works once: the pattern pointer
 * is dropped, so a second call fails.
 */
int noise_handshake_split(noise_handshake *hs, noise_cipher *send,
			  noise_cipher *recv)
{
	uint8_t k1[NOISE_HASHLEN];
	uint8_t k2[NOISE_HASHLEN];
	int initiator = hs->role == NOISE_INITIATOR;
	int rc = -1;

	noise_cipher_clear(send);
	noise_cipher_clear(recv);
	if (hs->action != NOISE_ACTION_SPLIT || hs->pattern == NULL)
		goto out;
	if (hkdf(hs->ck, NULL, 0, k1, k2) != 0)
		goto out;
	cipher_set_key(send, initiator ? k1 : k2);
	cipher_set_key(recv, initiator ? k2 : k1);
	if (hs->pattern->one_way)
		noise_cipher_clear(initiator ? recv : send);
	sodium_memzero(hs->ck, sizeof hs->ck);
	noise_cipher_clear(&hs->cipher);
	sodium_memzero(hs->s_sk, sizeof hs->s_sk);
	sodium_memzero(hs->e_sk, sizeof hs->e_sk);
	hs->pattern = NULL;
	rc = 0;
out:
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
	if (rc != 0) {
		noise_cipher_clear(send);
		noise_cipher_clear(recv);
		noise_handshake_clear(hs);
	}
	return rc;
}

int noise_handshake_remote_static(const noise_handshake *hs, uint8_t *rs)
{
	if (!hs->has_rs || hs->action == NOISE_ACTION_FAILED)
		return -1;
	memcpy(rs, hs->rs, NOISE_DHLEN);
	return 0;
}

void noise_handshake_hash(const noise_handshake *hs, uint8_t *h)
{
	memcpy(h, hs->h, NOISE_HASHLEN);
}
