/*
 * Request dispatch: turns the plaintext of one frame from an authenticated
 * principal into the plaintext of its answer. It unpacks, checks, routes
 * to the handler of the request's kind and packs the Response; it does no
 * I/O and knows nothing of Noise.
 */
#ifndef TAMWIL_DISPATCH_H
#define TAMWIL_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"
#include "server.h"

/* Packs the ServerHello of handshake message 2; 0 or -1. */
int dispatch_server_hello(uint8_t *out, size_t out_cap, size_t *out_len);

/*
 * Reads the ClientHello of handshake message 3. When it carries a first
 * request, answers it into out and sets *answered; otherwise *answered is
 * 0. Returns -1 when the hello is malformed (it does not parse, or its
 * client_version is not text of at most 128 bytes): the caller closes.
 */
int dispatch_client_hello(server *srv, ops_session *s, const uint8_t *in,
			  size_t in_len, uint8_t *out, size_t out_cap,
			  size_t *out_len, int *answered);

/*
 * Answers one packed Request into out. A request that cannot be parsed or
 * is not allowed gets an Error response, not a failure: returns -1 only
 * when no answer can be produced at all.
 */
int dispatch_request(server *srv, ops_session *s, const uint8_t *in,
		     size_t in_len, uint8_t *out, size_t out_cap,
		     size_t *out_len);

#endif
