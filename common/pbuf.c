/*
 * Bounded decoding. Each block carries its size in a header so that free
 * can give the bytes back to the budget; protobuf-c frees everything it
 * allocated through the same allocator, also after a failed unpack.
 */
#include "pbuf.h"

#include <stdint.h>
#include <stdlib.h>

/*
 * The header keeps the block's size; the union's other member is never
 * read, it only gives the payload after the header malloc's alignment.
 */
typedef union pbuf_header {
	size_t size;
	max_align_t align; // cppcheck-suppress unusedStructMember
} pbuf_header;

static void *pbuf_alloc(void *data, size_t size)
{
	pbuf_budget *b = data;
	pbuf_header *h;

	if (size > b->limit - b->used) {
		b->exhausted = 1;
		return NULL;
	}
	h = malloc(sizeof(*h) + size);
	if (h == NULL)
		return NULL;
	h->size = size;
	b->used += size;
	return h + 1;
}

static void pbuf_free(void *data, void *ptr)
{
	pbuf_budget *b = data;
	pbuf_header *h;

	if (ptr == NULL)
		return;
	h = (pbuf_header *)ptr - 1;
	b->used -= h->size;
	free(h);
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
