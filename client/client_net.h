/*
 * Private to libtamwil-client: TCP with deadlines. Sockets are
 * non-blocking and every wait goes through poll(), so no call outlives its
 * deadline; EINTR is retried, partial writes are resumed, and sends never
 * raise SIGPIPE. Deadlines are absolute times on net_now_ms()'s clock.
 */
#ifndef TAMWIL_CLIENT_NET_H
#define TAMWIL_CLIENT_NET_H

#include <stddef.h>
#include <stdint.h>

/* What a network call came to. */
enum net_result {
	NET_OK = 0,
	NET_EOF = -1,	   /* the peer closed or reset the connection */
	NET_TIMEOUT = -2,  /* the deadline passed */
	NET_ERROR = -3,	   /* a system call failed: *why is its errno */
	NET_RESOLVE = -4,  /* the name did not resolve: *why is an EAI_ code */
	NET_BAD_FRAME = -5 /* a frame header announced 0 or too many bytes */
};

/* Milliseconds on a monotonic clock. */
int64_t net_now_ms(void);

/*
 * Connects to host:port (port as digits), trying each address in turn
 * until timeout_ms has passed overall. On NET_OK *fd is a connected,
 * non-blocking, close-on-exec socket with TCP_NODELAY. Otherwise *why
 * holds the errno (NET_ERROR) or EAI_ code (NET_RESOLVE) of the last try.
 */
int net_connect(const char *host, const char *port, int timeout_ms, int *fd,
		int *why);

/*
 * Sends one frame whose body_len bytes of body already sit in
 * frame[FRAME_HEADER_LEN..]: writes the header in front and sends both
 * before deadline. *why is an errno (0 for a clean close).
 */
int net_send_frame(int fd, uint8_t *frame, size_t body_len, int64_t deadline,
		   int *why);

/*
 * Receives one frame: checks its header with frame_check() against cap
 * (at most FRAME_MAX_BODY), then reads the body into body and its length
 * into *body_len. *why is an errno (0 for a clean close).
 */
int net_recv_frame(int fd, uint8_t *body, size_t cap, size_t *body_len,
		   int64_t deadline, int *why);

#endif
