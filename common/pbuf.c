/*
 * Bounded decoding. Blocks are plain malloc() blocks, counted by their
 * usable size both ways, so that free can give the bytes back to the
 * budget and a message may also be freed by protobuf-c's default
 * allocator; protobuf-c frees everything it allocated through the same
 * allocator, also after a failed unpack.
 */
#include "pbuf.h"

#include <malloc.h>
#include <stdlib.h>

static void *pbuf_alloc(void *data, size_t size)
{
	pbuf_budget *b = data;
	void *p;
	size_t got;

	if (size > b->limit - b->used) {
		b->exhausted = 1;
		return NULL;
	}
	p = malloc(size);
	if (p == NULL)
		return NULL;
	got = malloc_usable_size(p);
	if (got > b->limit - b->used) {
		free(p);
		b->exhausted = 1;
		return NULL;
	}
	b->used += got;
	return p;
}

static void pbuf_free(void *data, void *ptr)
{
	pbuf_budget *b = data;

	if (ptr == NULL)
		return;
	b->used -= malloc_usable_size(ptr);
	free(ptr);
}

void pbuf_budget_init(pbuf_budget *b, size_t limit)
{
	b->alloc.alloc = pbuf_alloc;
	b->alloc.free = pbuf_free;
	b->alloc.allocator_data = b;
	b->used = 0;
	b->limit = limit;
	b->exhausted = 0;
}

ProtobufCMessage *pbuf_unpack(const ProtobufCMessageDescriptor *d, size_t len,
			      const uint8_t *data, size_t limit)
{
	pbuf_budget b;

	pbuf_budget_init(&b, limit);
	return protobuf_c_message_unpack(d, &b.alloc, len, data);
}
