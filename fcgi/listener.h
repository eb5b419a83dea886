/* The listening FastCGI socket: the one the service is handed (systemd's
 * socket activation, or a web server's or spawn-fcgi's on fd 0), else one
 * it binds itself from the configuration's `listen`. */
#ifndef TWOTIER_LISTENER_H
#define TWOTIER_LISTENER_H

#include "core/config.h"

#include <stdbool.h>
#include <stddef.h>

struct listener {
	int fd;		/* listening; owned by the caller (dispatch_open takes it) */
	bool tcp;	/* an IP socket (connections get TCP_NODELAY) */
	char path[108]; /* a unix socket bound here, unlinked by listener_unlink; else "" */
	char what[CONFIG_STR + 32]; /* where it listens, for the log */
};

/* Fills l. An inherited socket wins over `listen`: systemd's when
 * LISTEN_PID is this process (exactly one socket, else an error), or fd 0
 * when it is a listening socket; the LISTEN_* variables are then unset.
 * Else it binds `listen`; a unix socket's directory is made if only its
 * last part is missing, and the socket gets socket_user, socket_group and
 * socket_mode before it listens. Returns 0, or -1 with err set. */
int listener_open(struct listener *l, const struct config *cfg, char *err, size_t errsz);

/* Removes a unix socket that listener_open bound (none it inherited). */
void listener_unlink(const struct listener *l);

#endif
