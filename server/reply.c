/*
 * Building answers. A response that would not fit one frame is a bug of
 * the handler (pages exist for large results), so it is logged loudly.
 */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "text.h"

int reply_refuse(reply_refusal *r, Tamwil__V1__ErrorCode code, const char *fmt,
		 ...)
{
	va_list ap;

	r->code = code;
	va_start(ap, fmt);
	/* clang-tidy 14 loses ap's va_start here: a known false positive. */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	/* Sentences quote what the client sent, and may be cut short. */
	text_repair(r->message);
	return -1;
}

int reply_pack(const Tamwil__V1__Response *resp, uint8_t *out, size_t out_cap,
	       size_t *out_len)
{
	size_t n = tamwil__v1__response__get_packed_size(resp);

	if (n > out_cap) {
		log_error("response of %zu bytes does not fit a frame", n);
		return -1;
	}
	*out_len = tamwil__v1__response__pack(resp, out);
	return 0;
}

int reply_error(uint64_t request_id, Tamwil__V1__ErrorCode code,
		const char *message, uint8_t *out, size_t out_cap,
		size_t *out_len)
{
	Tamwil__V1__Response resp = TAMWIL__V1__RESPONSE__INIT;
	Tamwil__V1__Error err = TAMWIL__V1__ERROR__INIT;

	err.code = code;
	err.message = (char *)message;
	resp.request_id = request_id;
	resp.body_case = TAMWIL__V1__RESPONSE__BODY_ERROR;
	resp.error = &err;
	return reply_pack(&resp, out, out_cap, out_len);
}
