/*
 * The Tamwil channel: Noise_XK_25519_ChaChaPoly_SHA256 with the prologue
 * "tamwil/1" (see noise.c for the protocol), and transport cipher states
 * that call Rekey() right after every CHANNEL_REKEY_EVERY-th message.
 *
 * Noise's n keeps counting across a rekey, so "after the k-th message" is
 * simply "n is a non-zero multiple of CHANNEL_REKEY_EVERY once the message
 * is through". A message that fails to open moves neither n nor the key.
 */
#include "channel.h"

#include <string.h>

#include <sodium.h>

#define PROLOGUE_LEN (sizeof CHANNEL_PROLOGUE - 1)

/* Starts either side; on failure the channel is wiped. */
static int channel_init(channel *ch, enum noise_role role, const uint8_t *s_sk,
			const uint8_t *rs)
{
	sodium_memzero(ch, sizeof *ch);
	if (s_sk == NULL)
		goto fail;
	if (noise_handshake_init(&ch->hs, CHANNEL_PROTOCOL, role,
				 (const uint8_t *)CHANNEL_PROLOGUE,
				 PROLOGUE_LEN, s_sk, rs) != 0)
		goto fail;
	return 0;
fail:
	channel_clear(ch);
	return -1;
}

int channel_init_initiator(channel *ch, const uint8_t *s_sk,
			   const uint8_t *server_pk)
{
	if (server_pk == NULL) {
		channel_clear(ch);
		return -1;
	}
	return channel_init(ch, NOISE_INITIATOR, s_sk, server_pk);
}

int channel_init_responder(channel *ch, const uint8_t *s_sk)
{
	return channel_init(ch, NOISE_RESPONDER, s_sk, NULL);
}

/*
 * Called after each successful handshake step: when the pattern is done,
 * splits into the transport states and marks the channel established.
 */
static int channel_after_step(channel *ch)
{
	if (noise_handshake_action(&ch->hs) != NOISE_ACTION_SPLIT)
		return 0;
	if (noise_handshake_split(&ch->hs, &ch->tx, &ch->rx) != 0)
		return -1;
	ch->established = 1;
	return 0;
}

int channel_handshake_write(channel *ch, const uint8_t *payload,
			    size_t payload_len, uint8_t *out, size_t out_cap,
			    size_t *out_len)
{
	if (ch->established)
		goto fail;
	if (noise_handshake_write(&ch->hs, payload, payload_len, out, out_cap,
				  out_len) != 0)
		goto fail;
	if (channel_after_step(ch) != 0)
		goto fail;
	return 0;
fail:
	channel_clear(ch);
	return -1;
}

int channel_handshake_read(channel *ch, const uint8_t *msg, size_t msg_len,
			   uint8_t *payload, size_t payload_cap,
			   size_t *payload_len)
{
	if (ch->established)
		goto fail;
	if (noise_handshake_read(&ch->hs, msg, msg_len, payload, payload_cap,
				 payload_len) != 0)
		goto fail;
	if (channel_after_step(ch) != 0)
		goto fail;
	return 0;
fail:
	channel_clear(ch);
	return -1;
}

int channel_remote_static(const channel *ch, uint8_t *pk)
{
	return noise_handshake_remote_static(&ch->hs, pk);
}

/*
 * Rekeys cs when the message just processed was its CHANNEL_REKEY_EVERY-th,
 * 2*CHANNEL_REKEY_EVERY-th, ... one.
 */
static int rekey_if_due(noise_cipher *cs)
{
	if (cs->n % CHANNEL_REKEY_EVERY != 0)
		return 0;
	return noise_cipher_rekey(cs);
}

/*
 * A rekey failure leaves a cipher state that no longer agrees with the
 * peer's; the channel is wiped rather than left half-usable.
 */
int channel_seal(channel *ch, const uint8_t *pt, size_t pt_len, uint8_t *out,
		 size_t *out_len)
{
	if (!ch->established || pt_len > CHANNEL_MAX_PLAINTEXT)
		return -1;
	if (noise_cipher_encrypt(&ch->tx, NULL, 0, pt, pt_len, out, out_len) !=
	    0)
		return -1;
	if (rekey_if_due(&ch->tx) != 0) {
		channel_clear(ch);
		return -1;
	}
	return 0;
}

int channel_open(channel *ch, const uint8_t *ct, size_t ct_len, uint8_t *out,
		 size_t *out_len)
{
	if (!ch->established)
		return -1;
	if (noise_cipher_decrypt(&ch->rx, NULL, 0, ct, ct_len, out, out_len) !=
	    0)
		return -1;
	if (rekey_if_due(&ch->rx) != 0) {
		channel_clear(ch);
		return -1;
	}
	return 0;
}

void channel_clear(channel *ch)
{
	noise_handshake_clear(&ch->hs);
	noise_cipher_clear(&ch->tx);
	noise_cipher_clear(&ch->rx);
	ch->established = 0;
}
