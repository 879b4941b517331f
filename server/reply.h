/*
 * Building answers: packs a Response into the plaintext of one frame, and
 * builds the Error answer of a refusal. Shared by dispatch, the operation
 * rules and the queries so every refusal has the same shape.
 */
#ifndef TAMWIL_REPLY_H
#define TAMWIL_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "tamwil.pb-c.h"

#define REPLY_MESSAGE_MAX 300

/* A refusal on its way to the client: a code and a sentence. */
typedef struct reply_refusal {
	Tamwil__V1__ErrorCode code;
	char message[REPLY_MESSAGE_MAX];
} reply_refusal;

/* Fills r and returns -1, so handlers can `return reply_refuse(...)`. */
int reply_refuse(reply_refusal *r, Tamwil__V1__ErrorCode code, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

/* Packs resp into out; -1 if it does not fit (logged). */
int reply_pack(const Tamwil__V1__Response *resp, uint8_t *out, size_t out_cap,
	       size_t *out_len);

/* Packs an Error answer. */
int reply_error(uint64_t request_id, Tamwil__V1__ErrorCode code,
		const char *message, uint8_t *out, size_t out_cap,
		size_t *out_len);

#endif
