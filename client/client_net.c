/*
 * TCP with deadlines for libtamwil-client; see client_net.h.
 */
#include "client_net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

int64_t net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, for poll(): never negative. */
static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - net_now_ms();

	if (left <= 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/*
 * Waits until fd is ready for events or deadline passes. Returns NET_OK,
 * NET_TIMEOUT or NET_ERROR (errno in *why). Readiness includes errors and
 * hang-ups: the next read or write reports them.
 */
static int wait_for(int fd, short events, int64_t deadline, int *why)
{
	struct pollfd p;

	for (;;) {
		int n;

		p.fd = fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, remaining_ms(deadline));
		if (n > 0)
			return NET_OK;
		if (n == 0)
			return NET_TIMEOUT;
		if (errno != EINTR) {
			*why = errno;
			return NET_ERROR;
		}
	}
}

/* Makes fd non-blocking and close-on-exec; returns 0 or -1. */
static int set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -1;
	return 0;
}

/* One connection attempt to one address; same contract as net_connect. */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *fd,
		       int *why)
{
	int s, rc, soerr = 0, one = 1;
	socklen_t len = sizeof(soerr);

	s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (s < 0 || set_flags(s) != 0)
		goto fail;
	if (connect(s, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			goto fail;
		rc = wait_for(s, POLLOUT, deadline, why);
		if (rc != NET_OK) {
			close(s);
			return rc;
		}
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	/* Requests are small and answered: do not let Nagle delay them. */
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd = s;
	return NET_OK;
fail:
	*why = errno;
	if (s >= 0)
		close(s);
	return NET_ERROR;
}

int net_connect(const char *host, const char *port, int timeout_ms, int *fd,
		int *why)
{
	struct addrinfo hints, *res = NULL, *ai;
	int64_t deadline = net_now_ms() + timeout_ms;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		*why = rc;
		return NET_RESOLVE;
	}
	rc = NET_ERROR;
	*why = ECONNREFUSED;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		rc = connect_one(ai, deadline, fd, why);
		if (rc == NET_OK || rc == NET_TIMEOUT)
			break;
	}
	freeaddrinfo(res);
	return rc;
}

/* Sends len bytes before deadline; NET_EOF when the peer has gone. */
static int send_all(int fd, const uint8_t *buf, size_t len, int64_t deadline,
		    int *why)
{
	int rc;

	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			*why = errno;
			return errno == EPIPE || errno == ECONNRESET
				   ? NET_EOF
				   : NET_ERROR;
		}
		rc = wait_for(fd, POLLOUT, deadline, why);
		if (rc != NET_OK)
			return rc;
	}
	return NET_OK;
}

/* Receives exactly len bytes before deadline; NET_EOF if the peer closes. */
static int recv_all(int fd, uint8_t *buf, size_t len, int64_t deadline,
		    int *why)
{
	int rc;

	while (len > 0) {
		ssize_t n = recv(fd, buf, len, 0);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0) {
			*why = 0;
			return NET_EOF;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			*why = errno;
			return errno == ECONNRESET ? NET_EOF : NET_ERROR;
		}
		rc = wait_for(fd, POLLIN, deadline, why);
		if (rc != NET_OK)
			return rc;
	}
	return NET_OK;
}

int net_send_frame(int fd, uint8_t *frame, size_t body_len, int64_t deadline,
		   int *why)
{
	*why = 0;
	if (frame_put_header(frame, body_len) != 0) {
		*why = EMSGSIZE;
		return NET_ERROR;
	}
	return send_all(fd, frame, FRAME_HEADER_LEN + body_len, deadline, why);
}

int net_recv_frame(int fd, uint8_t *body, size_t cap, size_t *body_len,
		   int64_t deadline, int *why)
{
	uint8_t hdr[FRAME_HEADER_LEN];
	size_t len = 0;
	int rc;

	*why = 0;
	rc = recv_all(fd, hdr, sizeof(hdr), deadline, why);
	if (rc != NET_OK)
		return rc;
	if (frame_check(hdr, sizeof(hdr), cap, &len) == FRAME_BAD)
		return NET_BAD_FRAME;
	rc = recv_all(fd, body, len, deadline, why);
	if (rc == NET_OK)
		*body_len = len;
	return rc;
}
