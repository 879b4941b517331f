/*
 * The Tamwil channel: Noise_XK_25519_ChaChaPoly_SHA256 with the prologue
 * "tamwil/1", and transport cipher states rekeyed every CHANNEL_REKEY_EVERY
 * messages. Byte-oriented and I/O-free: the daemon drives it from libevent,
 * the client from blocking sockets, the tests from memory.
 */
#ifndef TAMWIL_CHANNEL_H
#define TAMWIL_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "noise.h"

#define CHANNEL_PROTOCOL    "Noise_XK_25519_ChaChaPoly_SHA256"
#define CHANNEL_PROLOGUE    "tamwil/1"
#define CHANNEL_REKEY_EVERY 65536u
/* Largest plaintext one transport frame can carry. */
#define CHANNEL_MAX_PLAINTEXT (NOISE_MAX_MSGLEN - NOISE_TAGLEN)
/* Sizes of the XK handshake messages around their payloads. */
#define CHANNEL_MSG1_LEN      (NOISE_DHLEN + NOISE_TAGLEN)
#define CHANNEL_MSG2_OVERHEAD (NOISE_DHLEN + NOISE_TAGLEN)
#define CHANNEL_MSG3_OVERHEAD (NOISE_DHLEN + 2 * NOISE_TAGLEN)

typedef struct channel {
	noise_handshake hs;
	noise_cipher tx; /* what this side sends */
	noise_cipher rx; /* what this side receives */
	int established; /* 1 once the handshake is split */
} channel;

/*
 * Starts the initiator side: s_sk is the client's X25519 private key,
 * server_pk the server's Noise public key it was provisioned with.
 * Returns 0 or -1.
 */
int channel_init_initiator(channel *ch, const uint8_t *s_sk,
			   const uint8_t *server_pk);

/* Starts the responder side with the server's X25519 private key. */
int channel_init_responder(channel *ch, const uint8_t *s_sk);

/*
 * Writes the next handshake message with payload (may be empty). When the
 * handshake completes, the channel is split and becomes established.
 * Returns 0 or -1 (the channel is then unusable).
 */
int channel_handshake_write(channel *ch, const uint8_t *payload,
			    size_t payload_len, uint8_t *out, size_t out_cap,
			    size_t *out_len);

/* Reads the next handshake message; same contract as the write side. */
int channel_handshake_read(channel *ch, const uint8_t *msg, size_t msg_len,
			   uint8_t *payload, size_t payload_cap,
			   size_t *payload_len);

/* The peer's static public key: for the responder, known after message 3. */
int channel_remote_static(const channel *ch, uint8_t *pk);

/*
 * Encrypts one transport message (pt_len <= CHANNEL_MAX_PLAINTEXT) into out,
 * which holds pt_len + NOISE_TAGLEN bytes; rekeys the send state after every
 * CHANNEL_REKEY_EVERY-th message. Returns 0 or -1.
 */
int channel_seal(channel *ch, const uint8_t *pt, size_t pt_len, uint8_t *out,
		 size_t *out_len);

/*
 * Decrypts one transport message into out (ct_len - NOISE_TAGLEN bytes);
 * rekeys the receive state on the same schedule. Returns -1 when the message
 * does not authenticate: the caller must then drop the connection.
 */
int channel_open(channel *ch, const uint8_t *ct, size_t ct_len, uint8_t *out,
		 size_t *out_len);

/* Wipes every key. */
void channel_clear(channel *ch);

#endif
