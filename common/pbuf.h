/*
 * Bounded decoding: a protobuf-c allocator that hands out at most a fixed
 * number of bytes in all, so that no message a peer sends can make its
 * reader allocate without bound while unpacking (a frame of tiny repeated
 * elements expands many times over in memory).
 */
#ifndef TAMWIL_PBUF_H
#define TAMWIL_PBUF_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* What one unpacked message may hold in memory. */
#define PBUF_BUDGET_DEFAULT (1u << 20)

typedef struct pbuf_budget {
	ProtobufCAllocator alloc; /* pass &b->alloc to unpack and free */
	size_t used;		  /* bytes handed out and not yet freed */
	size_t limit;
	int exhausted; /* an allocation was refused */
} pbuf_budget;

/* Prepares b to hand out at most limit bytes. */
void pbuf_budget_init(pbuf_budget *b, size_t limit);

#endif
