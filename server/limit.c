/*
 * Per-source limits in a fixed table with linear probing: no allocation
 * per connection, and a bounded cost per accept. A slot whose source has
 * no connection and a full bucket holds nothing worth keeping, so it is
 * reused first.
 */
#include "limit.h"

#include <netinet/in.h>
#include <string.h>

#define LIMIT_PROBES 32

void limit_init(limiter *l, int max_conns, int rate, int burst)
{
	memset(l, 0, sizeof(*l));
	limit_set(l, max_conns, rate, burst);
}

void limit_set(limiter *l, int max_conns, int rate, int burst)
{
	l->max_conns = max_conns;
	l->rate = rate;
	l->burst = burst;
}

/* The 16-byte key of an address: IPv6, or IPv4 mapped into IPv6. */
static int limit_key(const struct sockaddr *sa, uint8_t *key)
{
	memset(key, 0, LIMIT_ADDR_LEN);
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	if (sa->sa_family == AF_INET) {
		key[10] = 0xff;
		key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr,
		       4);
		return 0;
	}
	return -1;
}

/* FNV-1a of the key: spreads addresses over the table. */
static uint32_t limit_hash(const uint8_t *key)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < LIMIT_ADDR_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/* Refills a slot's bucket up to the burst. */
static void limit_refill(const limiter *l, limit_slot *s, int64_t now_ms)
{
	int64_t full = (int64_t)l->burst * 1000;

	if (now_ms > s->last_ms)
		s->tokens_m += (now_ms - s->last_ms) * l->rate;
	if (s->tokens_m > full)
		s->tokens_m = full;
	s->last_ms = now_ms;
}

/*
 * Finds the slot of key, or takes a free or idle one for it. NULL when
 * every probed slot is busy.
 */
static limit_slot *limit_find(limiter *l, const uint8_t *key, int64_t now_ms)
{
	uint32_t h = limit_hash(key);
	limit_slot *spare = NULL;

	for (int i = 0; i < LIMIT_PROBES; i++) {
		limit_slot *s = &l->slots[(h + (uint32_t)i) % LIMIT_SLOTS];
		if (s->used && memcmp(s->addr, key, LIMIT_ADDR_LEN) == 0)
			return s;
		if (spare != NULL)
			continue;
		if (!s->used) {
			spare = s;
		} else if (s->conns == 0) {
			limit_refill(l, s, now_ms);
			if (s->tokens_m >= (int64_t)l->burst * 1000)
				spare = s;
		}
	}
	if (spare != NULL) {
		memcpy(spare->addr, key, LIMIT_ADDR_LEN);
		spare->used = 1;
		spare->conns = 0;
		spare->tokens_m = (int64_t)l->burst * 1000;
		spare->last_ms = now_ms;
	}
	return spare;
}

enum limit_verdict limit_admit(limiter *l, const struct sockaddr *sa,
			       int64_t now_ms)
{
	uint8_t key[LIMIT_ADDR_LEN];
	limit_slot *s;

	if (limit_key(sa, key) != 0)
		return LIMIT_OK; /* not an IP socket: nothing to count */
	s = limit_find(l, key, now_ms);
	if (s == NULL)
		return LIMIT_TABLE_FULL;
	if (s->conns >= l->max_conns)
		return LIMIT_TOO_MANY_CONNECTIONS;
	limit_refill(l, s, now_ms);
	if (s->tokens_m < 1000)
		return LIMIT_TOO_FAST;
	s->tokens_m -= 1000;
	s->conns++;
	return LIMIT_OK;
}

void limit_release(limiter *l, const struct sockaddr *sa)
{
	uint8_t key[LIMIT_ADDR_LEN];
	uint32_t h;

	if (limit_key(sa, key) != 0)
		return;
	h = limit_hash(key);
	for (int i = 0; i < LIMIT_PROBES; i++) {
		limit_slot *s = &l->slots[(h + (uint32_t)i) % LIMIT_SLOTS];
		if (s->used && memcmp(s->addr, key, LIMIT_ADDR_LEN) == 0) {
			if (s->conns > 0)
				s->conns--;
			return;
		}
	}
}

const char *limit_reason(enum limit_verdict v)
{
	switch (v) {
	case LIMIT_TOO_MANY_CONNECTIONS:
		return "too many connections from this address";
	case LIMIT_TOO_FAST:
		return "too many handshakes per second from this address";
	case LIMIT_TABLE_FULL:
		return "too many busy addresses";
	default:
		return "admitted";
	}
}
