/*
 * Framing of the Tamwil channel: a 2-byte big-endian length, then that many
 * bytes of Noise message. The length is judged before the body is read, so
 * a peer cannot make either side allocate or decrypt an oversize frame.
 */
#ifndef TAMWIL_FRAME_H
#define TAMWIL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER_LEN 2
#define FRAME_MAX_BODY	 65535

enum frame_status {
	FRAME_BAD = -1,	     /* length zero or above the limit: close */
	FRAME_NEED_MORE = 0, /* not all of the frame has arrived */
	FRAME_READY = 1	     /* a whole frame is there */
};

/*
 * Judges the bytes at the head of a receive buffer. avail is how many bytes
 * are buffered; max_body (at most FRAME_MAX_BODY) is the largest body the
 * caller accepts in its current state. On FRAME_READY and on FRAME_NEED_MORE
 * with a complete header, *body_len is the announced body length.
 */
enum frame_status frame_check(const uint8_t *data, size_t avail,
			      size_t max_body, size_t *body_len);

/* Writes the header announcing body_len (1..FRAME_MAX_BODY); returns 0 or -1.
 */
int frame_put_header(uint8_t *hdr, size_t body_len);

#endif
