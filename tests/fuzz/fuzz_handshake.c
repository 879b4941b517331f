/*
 * Fuzz target: the responder's side of the channel, as the daemon runs
 * it. The input is what a client sends, framed as on the wire (2-byte
 * big-endian length, then the message): message 1, message 3, then
 * transport messages. The responder answers message 1 with message 2 and
 * each transport message it can open with an echo. Its ephemeral key
 * comes from a deterministic stream restarted for every input, so a
 * transcript recorded by the seed generator completes here, and any
 * crash replays.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "frame.h"
#include "fuzz_handshake.h"
#include "fuzz_rng.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t server_sk[NOISE_DHLEN], server_pk[NOISE_DHLEN];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (fuzz_rng_install() != 0 ||
	    fuzz_static_key(FUZZ_RNG_SERVER_STATIC, server_sk, server_pk) != 0)
		abort();
	return 0;
}

/* Handles frame number index of the client's stream; 0 or -1 to close. */
static int fuzz_on_frame(channel *ch, size_t index, const uint8_t *msg,
			 size_t len)
{
	static uint8_t plain[FRAME_MAX_BODY], out[FRAME_MAX_BODY];
	size_t plain_len, out_len;

	if (index == 0) {
		if (channel_handshake_read(ch, msg, len, plain, sizeof(plain),
					   &plain_len) != 0)
			return -1;
		if (plain_len != 0 || ch->established)
			abort(); /* XK's message 1 carries nothing here */
		if (channel_handshake_write(ch,
					    (const uint8_t *)FUZZ_MSG2_PAYLOAD,
					    sizeof FUZZ_MSG2_PAYLOAD - 1, out,
					    sizeof(out), &out_len) != 0)
			abort(); /* message 1 was good: 2 must be written */
		return 0;
	}
	if (index == 1) {
		uint8_t rs[NOISE_DHLEN];

		if (channel_handshake_read(ch, msg, len, plain, sizeof(plain),
					   &plain_len) != 0)
			return -1;
		if (!ch->established || channel_remote_static(ch, rs) != 0 ||
		    plain_len + CHANNEL_MSG3_OVERHEAD != len)
			abort();
		return 0;
	}
	if (channel_open(ch, msg, len, plain, &plain_len) != 0)
		return -1;
	if (plain_len + NOISE_TAGLEN != len ||
	    channel_seal(ch, plain, plain_len, out, &out_len) != 0 ||
	    out_len != len)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	channel ch;
	size_t pos = 0, body, index = 0;

	fuzz_rng_reset(FUZZ_RNG_RESPONDER);
	if (channel_init_responder(&ch, server_sk) != 0)
		abort();
	while (frame_check(data + pos, size - pos, FRAME_MAX_BODY, &body) ==
	       FRAME_READY) {
		if (fuzz_on_frame(&ch, index++, data + pos + FRAME_HEADER_LEN,
				  body) != 0)
			break;
		pos += FRAME_HEADER_LEN + body;
	}
	channel_clear(&ch);
	return 0;
}
