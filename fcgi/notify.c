#include "notify.h"

#include "core/log.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void notify_systemd(const char *state)
{
	const char *where = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n;
	int fd;
	if (where == NULL || where[0] == '\0')
		return;
	n = strlen(where);
	/* a path, or '@' for an address in the abstract namespace */
	if ((where[0] != '/' && where[0] != '@') || n >= sizeof sa.sun_path) {
		log_msg(LOG_WARN, "NOTIFY_SOCKET is not a socket address: %s", where);
		return;
	}
	memcpy(sa.sun_path, where, n);
	if (where[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
			     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		log_msg(LOG_WARN, "cannot tell systemd %s: %s", state, strerror(errno));
	if (fd >= 0)
		close(fd);
}
