/*
 * The loopback plumbing of the client library's unit tests that fork a
 * responder playing head office: a listening socket on 127.0.0.1, whole
 * reads and writes, the channel's frames, sealed responses, the
 * responder's side of handshake messages 1 and 2, and stopping it.
 *
 * Each unit test is its own program, so this header defines its
 * functions (static inline): include it once, in the test's file.
 */
#ifndef TAMWIL_TEST_CLIENT_FAKE_H
#define TAMWIL_TEST_CLIENT_FAKE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "frame.h"
#include "tamwil.pb-c.h"

/* Reads exactly len bytes of fd; 0, or -1 at end of stream or error. */
static inline int client_fake_read_full(int fd, uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = read(fd, buf, len);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes the len bytes of buf to fd; 0 or -1. */
static inline int client_fake_write_full(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one frame's body (FRAME_MAX_BODY bytes of room) of fd; 0 or -1. */
static inline int client_fake_read_frame(int fd, uint8_t *body, size_t *len)
{
	uint8_t hdr[FRAME_HEADER_LEN];

	if (client_fake_read_full(fd, hdr, sizeof(hdr)) != 0 ||
	    frame_check(hdr, sizeof(hdr), FRAME_MAX_BODY, len) == FRAME_BAD)
		return -1;
	return client_fake_read_full(fd, body, *len);
}

/* Sends the len bytes after frame's header room as a frame; 0 or -1. */
static inline int client_fake_write_frame(int fd, uint8_t *frame, size_t len)
{
	if (frame_put_header(frame, len) != 0)
		return -1;
	return client_fake_write_full(fd, frame, FRAME_HEADER_LEN + len);
}

/* Seals and sends a Response; 0 or -1. */
static inline int client_fake_send_response(int fd, channel *ch,
					    const Tamwil__V1__Response *r)
{
	static uint8_t plain[FRAME_MAX_BODY],
	    frame[FRAME_HEADER_LEN + FRAME_MAX_BODY];
	size_t size = tamwil__v1__response__pack(r, plain), len = 0;

	if (channel_seal(ch, plain, size, frame + FRAME_HEADER_LEN, &len) != 0)
		return -1;
	return client_fake_write_frame(fd, frame, len);
}

/*
 * Messages 1 and 2 of the handshake, as the responder announcing the
 * protocol version version; 0 or -1.
 */
static inline int client_fake_serve_hello(int fd, channel *ch, uint32_t version)
{
	static uint8_t buf[FRAME_MAX_BODY],
	    frame[FRAME_HEADER_LEN + FRAME_MAX_BODY];
	Tamwil__V1__ServerHello hello = TAMWIL__V1__SERVER_HELLO__INIT;
	uint8_t payload[256];
	size_t len = 0, plen = 0, size;

	if (client_fake_read_frame(fd, buf, &len) != 0 ||
	    channel_handshake_read(ch, buf, len, payload, sizeof(payload),
				   &plen) != 0)
		return -1;
	hello.server_version = "tamwild test";
	hello.protocol_version = version;
	size = tamwil__v1__server_hello__pack(&hello, payload);
	if (channel_handshake_write(ch, payload, size, frame + FRAME_HEADER_LEN,
				    FRAME_MAX_BODY, &len) != 0)
		return -1;
	return client_fake_write_frame(fd, frame, len);
}

/*
 * Listens on a free port of 127.0.0.1: *fd, and "127.0.0.1:PORT" in
 * address. Returns 0, or -1 with nothing left open.
 */
static inline int client_fake_listen(int *fd, char *address, size_t cap)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(*fd, 4) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&sa, &len) != 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -1;
	}
	snprintf(address, cap, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	return 0;
}

/* Kills and reaps the responder child (when started), closes listen_fd. */
static inline void client_fake_stop(pid_t child, int listen_fd)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	close(listen_fd);
}

#endif
