/*
 * Unit tests of common/channel.c (and, through it, common/noise.c): the
 * XK handshake in memory, transport both ways, tampering, a wrong server
 * key, the rekey schedule, truncated and small-order handshake messages,
 * and the size limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "channel.h"

#define MSG_CAP (NOISE_MAX_MSGLEN + 1)

/* Key pairs of a client and of the server. */
struct keys {
	uint8_t client_pk[NOISE_DHLEN], client_sk[NOISE_DHLEN];
	uint8_t server_pk[NOISE_DHLEN], server_sk[NOISE_DHLEN];
};

/* Both ends of one channel, plus their keys. */
struct pair {
	struct keys k;
	channel cli;
	channel srv;
};

static void make_keypair(uint8_t *pk, uint8_t *sk)
{
	assert_int_equal(crypto_box_keypair(pk, sk), 0);
}

static int setup_pair(void **state)
{
	struct pair *p = calloc(1, sizeof *p);

	assert_non_null(p);
	assert_int_equal(sodium_init() < 0, 0);
	make_keypair(p->k.client_pk, p->k.client_sk);
	make_keypair(p->k.server_pk, p->k.server_sk);
	assert_int_equal(
	    channel_init_initiator(&p->cli, p->k.client_sk, p->k.server_pk), 0);
	assert_int_equal(channel_init_responder(&p->srv, p->k.server_sk), 0);
	*state = p;
	return 0;
}

static int teardown_pair(void **state)
{
	struct pair *p = *state;

	channel_clear(&p->cli);
	channel_clear(&p->srv);
	free(p);
	return 0;
}

/* Sends one handshake message from a to b and checks b gets the payload. */
static void hs_step(channel *a, channel *b, const char *payload)
{
	uint8_t msg[MSG_CAP], got[MSG_CAP];
	size_t len = strlen(payload);
	size_t n = 0, m = 0;

	assert_int_equal(channel_handshake_write(a, (const uint8_t *)payload,
						 len, msg, sizeof msg, &n),
			 0);
	assert_int_equal(channel_handshake_read(b, msg, n, got, sizeof got, &m),
			 0);
	assert_int_equal(m, len);
	assert_memory_equal(got, payload, len);
}

static void handshake(struct pair *p)
{
	hs_step(&p->cli, &p->srv, "");
	hs_step(&p->srv, &p->cli, "ServerHello");
	hs_step(&p->cli, &p->srv, "ClientHello + first request");
	assert_true(p->cli.established);
	assert_true(p->srv.established);
}

/* Seals pt on a and opens it on b. */
static void transfer(channel *a, channel *b, const uint8_t *pt, size_t len)
{
	uint8_t ct[MSG_CAP], back[MSG_CAP];
	size_t n = 0, m = 0;

	assert_int_equal(channel_seal(a, pt, len, ct, &n), 0);
	assert_int_equal(n, len + NOISE_TAGLEN);
	assert_int_equal(channel_open(b, ct, n, back, &m), 0);
	assert_int_equal(m, len);
	if (len > 0)
		assert_memory_equal(back, pt, len);
}

static void test_handshake_and_transport(void **state)
{
	struct pair *p = *state;
	uint8_t rs[NOISE_DHLEN];
	uint8_t h1[NOISE_HASHLEN], h2[NOISE_HASHLEN];
	uint8_t msg[MSG_CAP], got[MSG_CAP];
	size_t n = 0, m = 0;

	/* Message 1: the server does not know the client yet. */
	assert_int_equal(
	    channel_handshake_write(&p->cli, NULL, 0, msg, sizeof msg, &n), 0);
	assert_int_equal(n, CHANNEL_MSG1_LEN);
	assert_int_equal(
	    channel_handshake_read(&p->srv, msg, n, got, sizeof got, &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(channel_remote_static(&p->srv, rs), -1);

	/* Message 2 carries the ServerHello. */
	assert_int_equal(channel_handshake_write(&p->srv,
						 (const uint8_t *)"hello", 5,
						 msg, sizeof msg, &n),
			 0);
	assert_int_equal(n, CHANNEL_MSG2_OVERHEAD + 5);
	assert_int_equal(
	    channel_handshake_read(&p->cli, msg, n, got, sizeof got, &m), 0);
	assert_memory_equal(got, "hello", 5);

	/* Message 3 carries the ClientHello and the first request. */
	assert_int_equal(channel_handshake_write(&p->cli,
						 (const uint8_t *)"request", 7,
						 msg, sizeof msg, &n),
			 0);
	assert_int_equal(n, CHANNEL_MSG3_OVERHEAD + 7);
	assert_true(p->cli.established);
	assert_false(p->srv.established);
	assert_int_equal(
	    channel_handshake_read(&p->srv, msg, n, got, sizeof got, &m), 0);
	assert_memory_equal(got, "request", 7);
	assert_true(p->srv.established);

	/* Each side knows the other's static key; both share h. */
	assert_int_equal(channel_remote_static(&p->srv, rs), 0);
	assert_memory_equal(rs, p->k.client_pk, NOISE_DHLEN);
	assert_int_equal(channel_remote_static(&p->cli, rs), 0);
	assert_memory_equal(rs, p->k.server_pk, NOISE_DHLEN);
	noise_handshake_hash(&p->cli.hs, h1);
	noise_handshake_hash(&p->srv.hs, h2);
	assert_memory_equal(h1, h2, NOISE_HASHLEN);

	transfer(&p->cli, &p->srv, (const uint8_t *)"to server", 9);
	transfer(&p->srv, &p->cli, (const uint8_t *)"to client", 9);
	transfer(&p->srv, &p->cli, (const uint8_t *)"again", 5);
	transfer(&p->cli, &p->srv, NULL, 0);

	/* The handshake is over: no more handshake messages. */
	assert_int_equal(
	    channel_handshake_write(&p->cli, NULL, 0, msg, sizeof msg, &n), -1);
}

static void test_wrong_turn(void **state)
{
	struct pair *p = *state;
	uint8_t msg[MSG_CAP];
	uint8_t pt[1] = {0};
	size_t n = 0;

	/* Nothing seals before the handshake is done. */
	assert_int_equal(channel_seal(&p->cli, pt, 1, msg, &n), -1);
	/* The responder does not speak first. */
	assert_int_equal(
	    channel_handshake_write(&p->srv, NULL, 0, msg, sizeof msg, &n), -1);
}

static void test_tampered_transport(void **state)
{
	struct pair *p = *state;
	uint8_t ct[64], back[64];
	size_t n = 0, m = 0;
	size_t bit;

	handshake(p);
	for (bit = 0; bit < (size_t)(5 + NOISE_TAGLEN) * 8; bit += 13) {
		assert_int_equal(
		    channel_seal(&p->cli, (const uint8_t *)"12345", 5, ct, &n),
		    0);
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(channel_open(&p->srv, ct, n, back, &m), -1);
		/* Nothing advanced: the next genuine message... */
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		/* ...which is this very one, still opens. */
		assert_int_equal(channel_open(&p->srv, ct, n, back, &m), 0);
		assert_memory_equal(back, "12345", 5);
	}
	/* A fresh genuine message after a rejected one opens too. */
	assert_int_equal(
	    channel_seal(&p->cli, (const uint8_t *)"abcde", 5, ct, &n), 0);
	assert_int_equal(channel_open(&p->srv, ct, n - 1, back, &m), -1);
	assert_int_equal(channel_open(&p->srv, ct, 3, back, &m), -1);
	assert_int_equal(channel_open(&p->srv, ct, n, back, &m), 0);
	transfer(&p->cli, &p->srv, (const uint8_t *)"next", 4);
	/* A replay fails. */
	assert_int_equal(channel_open(&p->srv, ct, n, back, &m), -1);
}

/*
 * The client was provisioned with a key that is not the server's. The
 * server cannot read message 1 (its payload is sealed under es); and a
 * message 2 from anyone holding another key does not read on the client.
 */
static void test_wrong_server_key(void **state)
{
	struct pair *p = *state;
	struct keys other;
	channel cli, imp_cli, imp_srv;
	uint8_t msg[MSG_CAP], got[MSG_CAP];
	size_t n = 0, m = 0;

	make_keypair(other.server_pk, other.server_sk);
	/* The client believes the server is p->k.server_pk; the impostor
	 * holds other.server_sk. */
	assert_int_equal(
	    channel_init_initiator(&cli, p->k.client_sk, p->k.server_pk), 0);
	assert_int_equal(channel_init_responder(&imp_srv, other.server_sk), 0);
	assert_int_equal(
	    channel_handshake_write(&cli, NULL, 0, msg, sizeof msg, &n), 0);
	assert_int_equal(
	    channel_handshake_read(&imp_srv, msg, n, got, sizeof got, &m), -1);
	assert_int_equal(noise_handshake_action(&imp_srv.hs),
			 NOISE_ACTION_FAILED);

	/* The impostor answers with a message 2 of a handshake it can run. */
	assert_int_equal(
	    channel_init_initiator(&imp_cli, p->k.client_sk, other.server_pk),
	    0);
	assert_int_equal(channel_init_responder(&imp_srv, other.server_sk), 0);
	hs_step(&imp_cli, &imp_srv, "");
	assert_int_equal(channel_handshake_write(&imp_srv,
						 (const uint8_t *)"hello", 5,
						 msg, sizeof msg, &n),
			 0);
	assert_int_equal(
	    channel_handshake_read(&cli, msg, n, got, sizeof got, &m), -1);
	assert_int_equal(noise_handshake_action(&cli.hs), NOISE_ACTION_FAILED);
	assert_false(cli.established);

	channel_clear(&cli);
	channel_clear(&imp_cli);
	channel_clear(&imp_srv);
}

/* Sends count messages from a to b, each carrying its index. */
static void send_many(channel *a, channel *b, uint32_t count)
{
	uint8_t pt[4], ct[4 + NOISE_TAGLEN], back[4];
	size_t n = 0, m = 0;
	uint32_t i;

	for (i = 0; i < count; i++) {
		memcpy(pt, &i, sizeof pt);
		if (channel_seal(a, pt, sizeof pt, ct, &n) != 0)
			fail_msg("seal %u failed", (unsigned)i);
		if (channel_open(b, ct, n, back, &m) != 0)
			fail_msg("open %u failed", (unsigned)i);
		if (m != sizeof pt || memcmp(back, pt, sizeof pt) != 0)
			fail_msg("message %u garbled", (unsigned)i);
	}
}

#define REKEY_COUNT (2u * CHANNEL_REKEY_EVERY + 10u)

static void test_rekey_one_way(void **state)
{
	struct pair *p = *state;

	handshake(p);
	send_many(&p->cli, &p->srv, REKEY_COUNT);
	assert_int_equal(p->cli.tx.n, REKEY_COUNT);
	assert_int_equal(p->srv.rx.n, REKEY_COUNT);
	assert_memory_equal(p->cli.tx.k, p->srv.rx.k, NOISE_KEYLEN);
	/* The other direction still works, unaffected. */
	transfer(&p->srv, &p->cli, (const uint8_t *)"ok", 2);
	transfer(&p->cli, &p->srv, (const uint8_t *)"ok", 2);
}

static void test_rekey_both_ways(void **state)
{
	struct pair *p = *state;
	uint32_t i;

	handshake(p);
	for (i = 0; i < REKEY_COUNT; i += 1024) {
		uint32_t chunk =
		    REKEY_COUNT - i < 1024 ? REKEY_COUNT - i : 1024;

		send_many(&p->cli, &p->srv, chunk);
		send_many(&p->srv, &p->cli, chunk);
	}
	assert_int_equal(p->cli.tx.n, REKEY_COUNT);
	assert_int_equal(p->srv.tx.n, REKEY_COUNT);
	assert_memory_equal(p->cli.tx.k, p->srv.rx.k, NOISE_KEYLEN);
	assert_memory_equal(p->srv.tx.k, p->cli.rx.k, NOISE_KEYLEN);
}

/*
 * Proves the rekey happens exactly after message 65 536: a message sealed
 * with the key of the handshake at n = 65 536 is refused, one sealed with
 * Rekey() of that key at the same n opens, and traffic goes on.
 */
static void test_rekey_really_rekeys(void **state)
{
	struct pair *p = *state;
	noise_cipher old, rekeyed;
	channel srv_copy;
	uint8_t ct[8 + NOISE_TAGLEN], back[8];
	size_t n = 0, m = 0;

	handshake(p);
	old = p->cli.tx;
	send_many(&p->cli, &p->srv, CHANNEL_REKEY_EVERY - 1);
	/* Before the 65 536th message the old key still holds. */
	assert_memory_equal(p->cli.tx.k, old.k, NOISE_KEYLEN);
	send_many(&p->cli, &p->srv, 1);
	assert_memory_not_equal(p->cli.tx.k, old.k, NOISE_KEYLEN);

	old.n = CHANNEL_REKEY_EVERY;
	rekeyed = old;
	assert_int_equal(noise_cipher_rekey(&rekeyed), 0);
	assert_memory_equal(rekeyed.k, p->cli.tx.k, NOISE_KEYLEN);

	assert_int_equal(noise_cipher_encrypt(&old, NULL, 0,
					      (const uint8_t *)"un-keyed", 8,
					      ct, &n),
			 0);
	assert_int_equal(channel_open(&p->srv, ct, n, back, &m), -1);
	assert_int_equal(p->srv.rx.n, CHANNEL_REKEY_EVERY);

	/* On a copy of the server, so the real one stays in step. */
	assert_int_equal(noise_cipher_encrypt(&rekeyed, NULL, 0,
					      (const uint8_t *)"re-keyed", 8,
					      ct, &n),
			 0);
	srv_copy = p->srv;
	assert_int_equal(channel_open(&srv_copy, ct, n, back, &m), 0);
	assert_memory_equal(back, "re-keyed", 8);
	channel_clear(&srv_copy);

	/* The client's own next message is in step with the server. */
	assert_int_equal(
	    channel_seal(&p->cli, (const uint8_t *)"genuine", 7, ct, &n), 0);
	assert_int_equal(channel_open(&p->srv, ct, n, back, &m), 0);
	assert_memory_equal(back, "genuine", 7);
	noise_cipher_clear(&old);
	noise_cipher_clear(&rekeyed);
}

/* Truncating message k (0-based) of the handshake makes its reader fail. */
static void truncated_at(int k, size_t cut)
{
	struct pair *p;
	channel *from = NULL, *to = NULL;
	uint8_t msg[MSG_CAP], got[MSG_CAP];
	size_t n = 0, m = 0;
	int i;

	setup_pair((void **)&p);
	for (i = 0; i <= k; i++) {
		from = i % 2 == 0 ? &p->cli : &p->srv;
		to = i % 2 == 0 ? &p->srv : &p->cli;
		assert_int_equal(
		    channel_handshake_write(from, (const uint8_t *)"pl", 2, msg,
					    sizeof msg, &n),
		    0);
		if (i == k)
			n = cut < n ? cut : n - 1;
		assert_int_equal(
		    channel_handshake_read(to, msg, n, got, sizeof got, &m),
		    i == k ? -1 : 0);
	}
	assert_int_equal(noise_handshake_action(&to->hs), NOISE_ACTION_FAILED);
	teardown_pair((void **)&p);
}

static void test_truncated_handshake(void **state)
{
	(void)state;
	truncated_at(0, 0);
	truncated_at(0, 31);
	truncated_at(0, 40);
	truncated_at(0, SIZE_MAX); /* one byte short */
	truncated_at(1, 31);
	truncated_at(1, SIZE_MAX);
	truncated_at(2, 47);
	truncated_at(2, SIZE_MAX);
}

/*
 * A message 1 whose ephemeral key is a small-order point is refused: the
 * es DH yields the all-zero value and crypto_scalarmult() reports it.
 */
static void test_small_order_ephemeral(void **state)
{
	static const uint8_t points[][NOISE_DHLEN] = {
	    {0}, /* 0 */
	    {1}, /* 1 */
	    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	};
	struct pair *p = *state;
	uint8_t msg[CHANNEL_MSG1_LEN], got[16];
	size_t m = 0;
	size_t i;

	for (i = 0; i < sizeof points / sizeof points[0]; i++) {
		memset(msg, 0, sizeof msg);
		memcpy(msg, points[i], NOISE_DHLEN);
		assert_int_equal(
		    channel_init_responder(&p->srv, p->k.server_sk), 0);
		assert_int_equal(channel_handshake_read(&p->srv, msg,
							sizeof msg, got,
							sizeof got, &m),
				 -1);
		assert_int_equal(noise_handshake_action(&p->srv.hs),
				 NOISE_ACTION_FAILED);
	}
}

/*
 * The refusal comes from the DH itself, not from a tag: in NN, message 1
 * is a bare e, and the responder fails writing message 2 (ee) when that e
 * has small order, with no decryption involved.
 */
static void test_small_order_refused_by_dh(void **state)
{
	static const uint8_t zero[NOISE_DHLEN];
	noise_handshake hs;
	uint8_t msg[128];
	size_t n = 0;

	(void)state;
	assert_int_equal(
	    noise_handshake_init(&hs, "Noise_NN_25519_ChaChaPoly_SHA256",
				 NOISE_RESPONDER, NULL, 0, NULL, NULL),
	    0);
	assert_int_equal(
	    noise_handshake_read(&hs, zero, sizeof zero, msg, sizeof msg, &n),
	    0);
	assert_int_equal(n, 0);
	assert_int_equal(noise_handshake_action(&hs), NOISE_ACTION_WRITE);
	assert_int_equal(
	    noise_handshake_write(&hs, NULL, 0, msg, sizeof msg, &n), -1);
	assert_int_equal(noise_handshake_action(&hs), NOISE_ACTION_FAILED);
}

static void test_protocol_names(void **state)
{
	static const char *const good[] = {
	    "Noise_N_25519_ChaChaPoly_SHA256",
	    "Noise_K_25519_ChaChaPoly_SHA256",
	    "Noise_X_25519_ChaChaPoly_SHA256",
	    "Noise_NN_25519_ChaChaPoly_SHA256",
	    "Noise_NK_25519_ChaChaPoly_SHA256",
	    "Noise_NX_25519_ChaChaPoly_SHA256",
	    "Noise_KN_25519_ChaChaPoly_SHA256",
	    "Noise_KK_25519_ChaChaPoly_SHA256",
	    "Noise_KX_25519_ChaChaPoly_SHA256",
	    "Noise_XN_25519_ChaChaPoly_SHA256",
	    "Noise_XK_25519_ChaChaPoly_SHA256",
	    "Noise_XX_25519_ChaChaPoly_SHA256",
	    "Noise_IN_25519_ChaChaPoly_SHA256",
	    "Noise_IK_25519_ChaChaPoly_SHA256",
	    "Noise_IX_25519_ChaChaPoly_SHA256",
	    CHANNEL_PROTOCOL,
	};
	static const char *const bad[] = {
	    "",
	    "Noise",
	    "Noise_",
	    "Noise_XK",
	    "Noise_XK_",
	    "Noise__25519_ChaChaPoly_SHA256",
	    "Noise_XKpsk3_25519_ChaChaPoly_SHA256",
	    "Noise_XXfallback_25519_ChaChaPoly_SHA256",
	    "Noise_NNhfs_25519+Kyber1024_ChaChaPoly_SHA256",
	    "Noise_XK_448_ChaChaPoly_SHA256",
	    "Noise_XK_25519_AESGCM_SHA256",
	    "Noise_XK_25519_ChaChaPoly_SHA512",
	    "Noise_XK_25519_ChaChaPoly_BLAKE2s",
	    "Noise_XK_25519_ChaChaPoly_SHA256 ",
	    "Noise_XK_25519_ChaChaPoly_SHA2566",
	    "Noise_xk_25519_ChaChaPoly_SHA256",
	    "Noise_XY_25519_ChaChaPoly_SHA256",
	    "Noise_XKK_25519_ChaChaPoly_SHA256",
	    "noise_XK_25519_ChaChaPoly_SHA256",
	    "Noise_XK_25519_ChaChaPoly",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (noise_protocol_supported(good[i]) != 0)
			fail_msg("refused %s", good[i]);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (noise_protocol_supported(bad[i]) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(noise_protocol_supported(NULL), -1);
}

/*
 * Keys are taken exactly when the pattern uses them: XK needs the
 * initiator's static key and the server key, XX refuses a pinned one.
 */
static void test_init_keys(void **state)
{
	struct pair *p = *state;
	noise_handshake hs;
	channel ch;

	assert_int_equal(channel_init_initiator(&ch, p->k.client_sk, NULL), -1);
	assert_int_equal(channel_init_initiator(&ch, NULL, p->k.server_pk), -1);
	assert_int_equal(channel_init_responder(&ch, NULL), -1);
	assert_int_equal(noise_handshake_init(&hs, CHANNEL_PROTOCOL,
					      NOISE_RESPONDER, NULL, 0,
					      p->k.server_sk, p->k.client_pk),
			 -1);
	assert_int_equal(
	    noise_handshake_init(&hs, "Noise_XX_25519_ChaChaPoly_SHA256",
				 NOISE_INITIATOR, NULL, 0, p->k.client_sk,
				 p->k.server_pk),
	    -1);
	assert_int_equal(noise_handshake_action(&hs), NOISE_ACTION_FAILED);
	assert_int_equal(
	    noise_handshake_init(&hs, "Noise_NN_25519_ChaChaPoly_SHA256",
				 NOISE_INITIATOR, NULL, 0, NULL, NULL),
	    0);
	assert_int_equal(noise_handshake_action(&hs), NOISE_ACTION_WRITE);
	noise_handshake_clear(&hs);
}

static void test_plaintext_limit(void **state)
{
	struct pair *p = *state;
	uint8_t *pt = calloc(1, CHANNEL_MAX_PLAINTEXT + 1);
	uint8_t *ct = calloc(1, CHANNEL_MAX_PLAINTEXT + 1 + NOISE_TAGLEN);
	uint8_t *back = calloc(1, CHANNEL_MAX_PLAINTEXT + 1);
	size_t n = 0, m = 0;

	assert_non_null(pt);
	assert_non_null(ct);
	assert_non_null(back);
	handshake(p);
	randombytes_buf(pt, CHANNEL_MAX_PLAINTEXT + 1);
	assert_int_equal(
	    channel_seal(&p->cli, pt, CHANNEL_MAX_PLAINTEXT + 1, ct, &n), -1);
	assert_int_equal(p->cli.tx.n, 0);
	assert_int_equal(
	    channel_seal(&p->cli, pt, CHANNEL_MAX_PLAINTEXT, ct, &n), 0);
	assert_int_equal(n, NOISE_MAX_MSGLEN);
	assert_int_equal(channel_open(&p->srv, ct, n, back, &m), 0);
	assert_int_equal(m, CHANNEL_MAX_PLAINTEXT);
	assert_memory_equal(back, pt, m);
	free(pt);
	free(ct);
	free(back);
}

/* A handshake message does not grow past NOISE_MAX_MSGLEN either. */
static void test_handshake_payload_limit(void **state)
{
	struct pair *p = *state;
	uint8_t *pl = calloc(1, MSG_CAP);
	uint8_t *buf = calloc(1, MSG_CAP);
	size_t n = 0;
	size_t max1 = NOISE_MAX_MSGLEN - CHANNEL_MSG1_LEN;

	assert_non_null(pl);
	assert_non_null(buf);
	assert_int_equal(
	    channel_handshake_write(&p->cli, pl, max1 + 1, buf, MSG_CAP, &n),
	    -1);
	assert_false(p->cli.established);
	assert_int_equal(
	    channel_init_initiator(&p->cli, p->k.client_sk, p->k.server_pk), 0);
	/* Too small an output buffer fails too. */
	assert_int_equal(channel_handshake_write(&p->cli, NULL, 0, buf,
						 CHANNEL_MSG1_LEN - 1, &n),
			 -1);
	assert_int_equal(
	    channel_init_initiator(&p->cli, p->k.client_sk, p->k.server_pk), 0);
	memset(pl, 'x', max1);
	assert_int_equal(
	    channel_handshake_write(&p->cli, pl, max1, buf, MSG_CAP, &n), 0);
	assert_int_equal(n, NOISE_MAX_MSGLEN);
	free(pl);
	free(buf);
}

#define PAIR_TEST(f)                                                           \
	cmocka_unit_test_setup_teardown(f, setup_pair, teardown_pair)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    PAIR_TEST(test_handshake_and_transport),
	    PAIR_TEST(test_wrong_turn),
	    PAIR_TEST(test_tampered_transport),
	    PAIR_TEST(test_wrong_server_key),
	    PAIR_TEST(test_rekey_one_way),
	    PAIR_TEST(test_rekey_both_ways),
	    PAIR_TEST(test_rekey_really_rekeys),
	    cmocka_unit_test(test_truncated_handshake),
	    PAIR_TEST(test_small_order_ephemeral),
	    cmocka_unit_test(test_small_order_refused_by_dh),
	    cmocka_unit_test(test_protocol_names),
	    PAIR_TEST(test_init_keys),
	    PAIR_TEST(test_plaintext_limit),
	    PAIR_TEST(test_handshake_payload_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
