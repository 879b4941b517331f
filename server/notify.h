/*
 * Readiness for the service manager: the sd_notify protocol of systemd,
 * spoken directly (one datagram to the socket named by $NOTIFY_SOCKET) so
 * the daemon needs no libsystemd. Outside systemd it does nothing.
 */
#ifndef TAMWIL_NOTIFY_H
#define TAMWIL_NOTIFY_H

/*
 * Sends state ("READY=1", "STOPPING=1", "RELOADING=1", "STATUS=...") to
 * the notification socket at socket_path, the value of $NOTIFY_SOCKET: an
 * absolute path, or "@name" for an abstract socket. Returns 0 when sent,
 * 1 when socket_path is NULL or empty (not run by a service manager), -1
 * on failure with errno set.
 */
int notify_send(const char *socket_path, const char *state);

/* notify_send() to the socket of $NOTIFY_SOCKET. */
int notify_env(const char *state);

#endif
