/*
 * Fuzz target: the request dispatcher on decrypted plaintext, from each
 * kind of principal, against a real head office (fuzz_world.c) built once
 * per process. The input is
 *
 *   byte 0    bits 0-6: the principal (modulo FUZZ_PEOPLE, fuzz_world.h)
 *             bit 6 set: the rest is a ClientHello (handshake message 3)
 *             bit 7 set: an operation inside is signed again with the
 *             principal's key, so that mutated operations reach the rules
 *             behind the signature check
 *   the rest  the packed Request (or ClientHello)
 *
 * Each input goes through fuzz_world_dispatch(): dispatch_begin() as a
 * worker, and for an operation the writer's batch and dispatch_finish().
 * Every request must get an answer that unpacks as a Response echoing the
 * request's id, or close the channel cleanly; a hello without a first
 * request ends silent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "dispatch.h"
#include "fuzz_rng.h"
#include "fuzz_world.h"
#include "pbuf.h"
#include "text.h"

#define FUZZ_HELLO  0x40
#define FUZZ_RESIGN 0x80

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The head office, built once: reached by every input of the process. */
static fuzz_world *world;

static void fuzz_world_done(void)
{
	fuzz_world_close(world);
	world = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (fuzz_rng_install() != 0)
		abort();
	world = fuzz_world_open(NULL, NULL);
	if (world == NULL)
		abort();
	atexit(fuzz_world_done);
	return 0;
}

/*
 * Re-signs the operation of req (inside hello when it is one) as who and
 * packs the result into buf; returns its length, or 0 to leave the input
 * as it is (it does not parse, or holds no operation).
 */
static size_t fuzz_resign(int who, int hello, const uint8_t *in, size_t len,
			  uint8_t *buf, size_t cap)
{
	static fuzz_signed s;
	Tamwil__V1__ClientHello *h = NULL;
	Tamwil__V1__Request *req;
	Tamwil__V1__SignedOperation *sop;
	ProtobufCBinaryData key, sig;
	size_t n = 0;

	if (hello) {
		h = tamwil__v1__client_hello__unpack(NULL, len, in);
		req = h != NULL ? h->first_request : NULL;
	} else {
		req = tamwil__v1__request__unpack(NULL, len, in);
	}
	if (req == NULL ||
	    req->body_case != TAMWIL__V1__REQUEST__BODY_OPERATION ||
	    req->operation == NULL)
		goto out;
	/* Unpacked fields are freed by protobuf-c: put them back after. */
	sop = req->operation;
	key = sop->signer_key;
	sig = sop->signature;
	if (fuzz_world_resign(world, who, sop, &s) == 0) {
		n = hello ? tamwil__v1__client_hello__get_packed_size(h)
			  : tamwil__v1__request__get_packed_size(req);
		if (n > cap)
			n = 0;
		else if (hello)
			tamwil__v1__client_hello__pack(h, buf);
		else
			tamwil__v1__request__pack(req, buf);
	}
	sop->signer_key = key;
	sop->signature = sig;
out:
	if (hello)
		tamwil__v1__client_hello__free_unpacked(h, NULL);
	else if (req != NULL)
		tamwil__v1__request__free_unpacked(req, NULL);
	return n;
}

/*
 * The id the request carries when it parses within the budget dispatch
 * gives it; 0 otherwise.
 */
static uint64_t fuzz_request_id(int hello, const uint8_t *in, size_t len)
{
	pbuf_budget b;
	uint64_t id = 0;

	pbuf_budget_init(&b, PBUF_BUDGET_DEFAULT);
	if (hello) {
		Tamwil__V1__ClientHello *h =
		    tamwil__v1__client_hello__unpack(&b.alloc, len, in);

		if (h != NULL && h->first_request != NULL)
			id = h->first_request->request_id;
		if (h != NULL)
			tamwil__v1__client_hello__free_unpacked(h, &b.alloc);
	} else {
		Tamwil__V1__Request *r =
		    tamwil__v1__request__unpack(&b.alloc, len, in);

		if (r != NULL)
			id = r->request_id;
		if (r != NULL)
			tamwil__v1__request__free_unpacked(r, &b.alloc);
	}
	return id;
}

/*
 * 1 if every string of m, in its sub-messages too, is text by
 * text_valid(): what clients of other languages need to parse it.
 */
static int fuzz_text_everywhere(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *member = base + f->offset;
		size_t n = 1;

		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + f->quantifier_offset);
			member = *(void *const *)member;
		}
		for (size_t k = 0; k < n; k++) {
			const void *v = ((void *const *)member)[k];

			if (v == NULL)
				continue;
			if (f->type == PROTOBUF_C_TYPE_STRING
				? !text_valid(v, strlen(v))
				: !fuzz_text_everywhere(v))
				return 0;
		}
	}
	return 1;
}

/* An answer must unpack as a Response with a body for request id. */
static void fuzz_check_answer(const uint8_t *out, size_t len, uint64_t id)
{
	Tamwil__V1__Response *resp;

	if (len > CHANNEL_MAX_PLAINTEXT)
		abort();
	resp = tamwil__v1__response__unpack(NULL, len, out);
	if (resp == NULL ||
	    resp->body_case == TAMWIL__V1__RESPONSE__BODY__NOT_SET ||
	    resp->request_id != id)
		abort();
	if (resp->body_case == TAMWIL__V1__RESPONSE__BODY_ERROR &&
	    (resp->error == NULL || resp->error->message == NULL ||
	     resp->error->message[0] == '\0'))
		abort(); /* every refusal names its reason */
	if (!fuzz_text_everywhere(&resp->base))
		abort(); /* an answer's strings are all UTF-8 text */
	tamwil__v1__response__free_unpacked(resp, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[FRAME_MAX_BODY], out[FRAME_MAX_BODY];
	enum dispatch_status st;
	int who, hello;
	const uint8_t *in;
	size_t len, out_len = 0, n;

	if (size < 1 || size - 1 > CHANNEL_MAX_PLAINTEXT)
		return 0;
	who = (data[0] & 0x3f) % FUZZ_PEOPLE;
	hello = (data[0] & FUZZ_HELLO) != 0;
	in = data + 1;
	len = size - 1;
	if ((data[0] & FUZZ_RESIGN) != 0 &&
	    (n = fuzz_resign(who, hello, in, len, buf, sizeof(buf))) > 0) {
		in = buf;
		len = n;
	}
	st = fuzz_world_dispatch(world, who, hello, in, len, out,
				 CHANNEL_MAX_PLAINTEXT, &out_len);
	switch (st) {
	case DISPATCH_ANSWER:
		fuzz_check_answer(out, out_len,
				  fuzz_request_id(hello, in, len));
		break;
	case DISPATCH_SILENT:
		/* Only a hello without a first request goes unanswered. */
		if (!hello)
			abort();
		break;
	case DISPATCH_CLOSE:
		/* A malformed hello, or no answer fits: the channel closes. */
		break;
	default:
		/* Every person of the world is enrolled and not revoked. */
		abort();
	}
	return 0;
}
