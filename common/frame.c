/*
 * Framing of the Tamwil channel. Only the two header bytes are inspected
 * before a decision, so an oversize or empty frame is refused before any
 * memory is set aside for it.
 */
#include "frame.h"

enum frame_status frame_check(const uint8_t *data, size_t avail,
			      size_t max_body, size_t *body_len)
{
	size_t len;

	if (avail < FRAME_HEADER_LEN)
		return FRAME_NEED_MORE;
	len = ((size_t)data[0] << 8) | data[1];
	*body_len = len;
	if (len == 0 || len > max_body || len > FRAME_MAX_BODY)
		return FRAME_BAD;
	if (avail - FRAME_HEADER_LEN < len)
		return FRAME_NEED_MORE;
	return FRAME_READY;
}

int frame_put_header(uint8_t *hdr, size_t body_len)
{
	if (body_len == 0 || body_len > FRAME_MAX_BODY)
		return -1;
	hdr[0] = (uint8_t)(body_len >> 8);
	hdr[1] = (uint8_t)(body_len & 0xff);
	return 0;
}
