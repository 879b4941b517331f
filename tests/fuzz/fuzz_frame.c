/*
 * Fuzz target: the frame decoder, fed the way the daemon reads, in
 * pieces. The input is
 *
 *   byte 0          k - 1 in its low 3 bits: k chunk sizes follow
 *   bytes 1..k      chunk sizes, each byte b meaning b + 1 bytes
 *   2 bytes         the configured max_frame (big-endian; 0: 65535)
 *   the rest        the byte stream a client sends
 *
 * Like server/conn.c the first frame may be at most a message 1, the
 * second at most FRAME_MAX_BODY, the others at most max_frame. The frames
 * cut from the stream in those chunks must be exactly the frames cut from
 * the whole stream at once, and every header must be the one
 * frame_put_header() writes for its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "frame.h"

#define FUZZ_MAX_FRAMES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The largest body accepted as frame number index, as conn.c judges. */
static size_t fuzz_max_body(size_t index, size_t max_frame)
{
	if (index == 0)
		return CHANNEL_MSG1_LEN;
	if (index == 1)
		return FRAME_MAX_BODY;
	return max_frame;
}

/* Where frames start and how long they are, and how the stream ended. */
struct fuzz_cut {
	size_t n;
	size_t start[FUZZ_MAX_FRAMES];
	size_t len[FUZZ_MAX_FRAMES];
	enum frame_status last;
};

/*
 * Cuts stream[0..len) into frames, making bytes available chunk by chunk
 * (chunks NULL: all at once), and records them in cut.
 */
static void fuzz_cut_stream(const uint8_t *stream, size_t len,
			    const uint8_t *chunks, size_t nchunks,
			    size_t max_frame, struct fuzz_cut *cut)
{
	size_t avail = 0, pos = 0, c = 0, body;

	cut->n = 0;
	cut->last = FRAME_NEED_MORE;
	while (cut->n < FUZZ_MAX_FRAMES) {
		enum frame_status fs;
		size_t max = fuzz_max_body(cut->n, max_frame);

		body = 0;
		fs = frame_check(stream + pos, avail - pos, max, &body);
		cut->last = fs;
		if (fs == FRAME_BAD) {
			if (avail - pos < FRAME_HEADER_LEN)
				abort(); /* judged without a header */
			return;
		}
		if (fs == FRAME_READY) {
			uint8_t hdr[FRAME_HEADER_LEN];

			if (body == 0 || body > max ||
			    avail - pos < FRAME_HEADER_LEN + body)
				abort();
			if (frame_put_header(hdr, body) != 0 ||
			    memcmp(hdr, stream + pos, sizeof(hdr)) != 0)
				abort();
			cut->start[cut->n] = pos + FRAME_HEADER_LEN;
			cut->len[cut->n] = body;
			cut->n++;
			pos += FRAME_HEADER_LEN + body;
			continue;
		}
		/* Need more: a complete header's length must be acceptable. */
		if (avail - pos >= FRAME_HEADER_LEN &&
		    (body == 0 || body > max))
			abort();
		if (avail == len)
			return;
		if (chunks == NULL)
			avail = len;
		else {
			size_t step = (size_t)chunks[c++ % nchunks] + 1;

			avail = step > len - avail ? len : avail + step;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_cut whole, chunked;
	size_t nchunks, max_frame, head;

	if (size < 1)
		return 0;
	nchunks = (size_t)(data[0] & 7) + 1;
	head = 1 + nchunks + 2;
	if (size < head)
		return 0;
	max_frame = (size_t)data[1 + nchunks] << 8 | data[2 + nchunks];
	if (max_frame == 0)
		max_frame = FRAME_MAX_BODY;
	fuzz_cut_stream(data + head, size - head, NULL, 0, max_frame, &whole);
	fuzz_cut_stream(data + head, size - head, data + 1, nchunks, max_frame,
			&chunked);
	if (whole.n != chunked.n || whole.last != chunked.last ||
	    memcmp(whole.start, chunked.start, whole.n * sizeof(size_t)) != 0 ||
	    memcmp(whole.len, chunked.len, whole.n * sizeof(size_t)) != 0)
		abort();
	return 0;
}
