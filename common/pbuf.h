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
#include <stdint.h>

/* What one unpacked message may hold in memory. */
#define PBUF_BUDGET_DEFAULT (1u << 20)

typedef struct pbuf_budget {
	ProtobufCAllocator alloc; /* pass &b->alloc to unpack and free */
	size_t used;		  /* bytes handed out and not yet freed */
	size_t limit;
	int exhausted; /* an allocation was refused */
} pbuf_budget;

/*
 * Prepares b to hand out at most limit bytes. Unpack with &b->alloc;
 * free with &b->alloc while b lives, which gives the bytes back, or with
 * NULL (protobuf-c's default allocator) once the message outlives b: its
 * blocks are plain malloc() blocks.
 */
void pbuf_budget_init(pbuf_budget *b, size_t limit);

/*
 * Unpacks len bytes at data as a message of d under a budget of limit
 * bytes of its own: NULL when they do not parse or would need more. The
 * message is freed with protobuf-c's default allocator (NULL), so readers
 * whose message outlives the call use this.
 */
ProtobufCMessage *pbuf_unpack(const ProtobufCMessageDescriptor *d, size_t len,
			      const uint8_t *data, size_t limit);

#endif
