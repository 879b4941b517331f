/*
 * The sd_notify datagram, as systemd documents it: the state text, sent
 * without its NUL to a unix datagram socket. A leading '@' names an
 * abstract socket, whose address begins with a NUL byte instead.
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_send(const char *socket_path, const char *state)
{
	struct sockaddr_un sa;
	size_t path_len, state_len = strlen(state);
	socklen_t sa_len;
	ssize_t n;
	int fd, saved, rc = -1;

	if (socket_path == NULL || socket_path[0] == '\0')
		return 1;
	path_len = strlen(socket_path);
	if ((socket_path[0] != '/' && socket_path[0] != '@') ||
	    path_len >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, socket_path, path_len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, state, state_len, MSG_NOSIGNAL,
		   (const struct sockaddr *)&sa, sa_len);
	if (n == (ssize_t)state_len)
		rc = 0;
	else if (n >= 0)
		errno = EMSGSIZE;
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int notify_env(const char *state)
{
	return notify_send(getenv("NOTIFY_SOCKET"), state);
}
