/*
 * Per-source limits: how many connections one address may hold at once,
 * and how fast it may start handshakes (a token bucket). A regional
 * office's staff share one address behind its router, so the defaults are
 * generous; they stop one machine from exhausting the daemon.
 */
#ifndef TAMWIL_LIMIT_H
#define TAMWIL_LIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#define LIMIT_SLOTS    4096
#define LIMIT_ADDR_LEN 16

typedef struct limit_slot {
	uint8_t addr[LIMIT_ADDR_LEN]; /* IPv4 as v4-mapped IPv6 */
	int used;
	int conns;	  /* connections open now */
	int64_t tokens_m; /* handshake tokens, in thousandths */
	int64_t last_ms;  /* when tokens were last refilled */
} limit_slot;

typedef struct limiter {
	limit_slot slots[LIMIT_SLOTS];
	int max_conns; /* per source */
	int rate;      /* handshakes per second per source */
	int burst;     /* handshakes a source may start at once */
} limiter;

enum limit_verdict {
	LIMIT_OK = 0,
	LIMIT_TOO_MANY_CONNECTIONS = 1,
	LIMIT_TOO_FAST = 2,
	LIMIT_TABLE_FULL = 3 /* too many busy sources at once */
};

void limit_init(limiter *l, int max_conns, int rate, int burst);

/*
 * Changes the limits (a reload), keeping what each source holds now: a
 * source over a lower limit keeps its connections and may open no more.
 */
void limit_set(limiter *l, int max_conns, int rate, int burst);

/*
 * Decides on a new connection from sa at now_ms. On LIMIT_OK the source
 * holds one more connection and one handshake token less; the caller
 * calls limit_release() when the connection ends.
 */
enum limit_verdict limit_admit(limiter *l, const struct sockaddr *sa,
			       int64_t now_ms);

/* Gives back the connection that limit_admit() granted. */
void limit_release(limiter *l, const struct sockaddr *sa);

const char *limit_reason(enum limit_verdict v);

#endif
