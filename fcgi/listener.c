#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

/* sd_listen_fds(3): the first socket systemd passes */
#define LISTEN_FDS_START 3

static bool is_listening(int fd)
{
	int on = 0, type = 0;
	socklen_t n = sizeof on, m = sizeof type;
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &n) == 0 && on &&
	       getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &m) == 0 && type == SOCK_STREAM;
}

/* l->tcp and l->what of the inherited socket l->fd; from names who handed it */
static void describe(struct listener *l, const char *from)
{
	struct sockaddr_storage ss;
	socklen_t n = sizeof ss;
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	memset(&ss, 0, sizeof ss);
	getsockname(l->fd, (struct sockaddr *)&ss, &n);
	l->tcp = ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
	}
	if (l->tcp)
		snprintf(l->what, sizeof l->what, "%s:%d (%s)", host, port, from);
	else if (ss.ss_family == AF_UNIX && ((struct sockaddr_un *)&ss)->sun_path[0] != '\0')
		snprintf(l->what, sizeof l->what, "unix:%.107s (%s)",
			 ((struct sockaddr_un *)&ss)->sun_path, from);
	else
		snprintf(l->what, sizeof l->what, "a socket (%s)", from);
}

/* 1 with l->fd set when the service was handed a socket, 0 when not, -1
 * with err when what it was handed cannot be used */
static int inherited(struct listener *l, char *err, size_t errsz)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (pid != NULL && fds != NULL && strtol(pid, NULL, 10) == (long)getpid()) {
		long n = strtol(fds, NULL, 10);
		/* not for the processes this one starts (none today) */
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		if (n != 1) {
			snprintf(err, errsz,
				 "systemd passed %ld sockets (LISTEN_FDS); twotier-fcgi listens on "
				 "exactly one",
				 n);
			return -1;
		}
		if (!is_listening(LISTEN_FDS_START)) {
			snprintf(
			    err, errsz,
			    "the socket systemd passed (fd %d) is not a listening stream socket",
			    LISTEN_FDS_START);
			return -1;
		}
		l->fd = LISTEN_FDS_START;
		fcntl(l->fd, F_SETFD, FD_CLOEXEC);
		describe(l, "passed by systemd");
		return 1;
	}
	/* FastCGI's own convention: a web server or spawn-fcgi starts the
	 * application with the listening socket as its standard input */
	if (is_listening(0)) {
		l->fd = 0;
		describe(l, "inherited on fd 0");
		return 1;
	}
	return 0;
}

/* Makes the socket's directory when it alone is missing (/run/twotier on a
 * host without the unit's RuntimeDirectory). */
static int make_directory_of(const char *path, char *err, size_t errsz)
{
	char copy[CONFIG_STR];
	struct stat st;
	snprintf(copy, sizeof copy, "%s", path);
	const char *dir = dirname(copy);
	if (stat(dir, &st) == 0 || errno != ENOENT)
		return 0; /* there, or a failure bind will name */
	if (mkdir(dir, 0755) != 0) {
		snprintf(err, errsz, "cannot make the socket's directory %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* No live server must answer at path: binding unlinks what is there, and a
 * second start must not steal the socket of a running service. */
static bool answered_at(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;
	if (fd < 0)
		return false;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	close(fd);
	return rc == 0;
}

/* The owner and group a bound socket gets: (uid_t)-1 and (gid_t)-1 keep
 * the process's */
static int socket_owner(const struct config *cfg, uid_t *uid, gid_t *gid, char *err, size_t errsz)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (cfg->socket_user[0] != '\0') {
		const struct passwd *pw = getpwnam(cfg->socket_user);
		if (pw == NULL) {
			snprintf(err, errsz, "socket_user: no user '%s'", cfg->socket_user);
			return -1;
		}
		*uid = pw->pw_uid;
	}
	if (cfg->socket_group[0] != '\0') {
		const struct group *gr = getgrnam(cfg->socket_group);
		if (gr == NULL) {
			snprintf(err, errsz, "socket_group: no group '%s'", cfg->socket_group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

static int bind_unix(struct listener *l, const char *path, const struct config *cfg, char *err,
		     size_t errsz)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uid_t uid;
	gid_t gid;
	int fd = -1;
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errsz, "listen: the socket path is longer than %zu bytes",
			 sizeof sa.sun_path - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (socket_owner(cfg, &uid, &gid, err, errsz) != 0 ||
	    make_directory_of(path, err, errsz) != 0)
		return -1;
	if (answered_at(&sa)) {
		snprintf(err, errsz, "cannot listen on unix:%s: %s (a server answers there)", path,
			 strerror(EADDRINUSE));
		return -1;
	}
	/* bound, owned and given its mode before it listens: nobody connects
	 * in between (a socket that does not listen refuses) */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || (unlink(path) != 0 && errno != ENOENT) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		snprintf(err, errsz, "cannot bind unix:%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) != 0) {
		snprintf(err, errsz, "cannot give unix:%s to %s:%s: %s", path,
			 cfg->socket_user[0] ? cfg->socket_user : "-",
			 cfg->socket_group[0] ? cfg->socket_group : "-", strerror(errno));
		goto fail;
	}
	if (chmod(path, cfg->socket_mode) != 0 || listen(fd, cfg->backlog) != 0) {
		snprintf(err, errsz, "cannot listen on unix:%s: %s", path, strerror(errno));
		goto fail;
	}
	l->fd = fd;
	l->tcp = false;
	snprintf(l->path, sizeof l->path, "%s", path);
	snprintf(l->what, sizeof l->what, "unix:%s", path);
	return 0;
fail:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	return -1;
}

int listener_open(struct listener *l, const struct config *cfg, char *err, size_t errsz)
{
	int got;
	memset(l, 0, sizeof *l);
	l->fd = -1;
	got = inherited(l, err, errsz);
	if (got != 0)
		return got > 0 ? 0 : -1;
	if (strncmp(cfg->listen, "unix:", 5) == 0)
		return bind_unix(l, cfg->listen + 5, cfg, err, errsz);
	l->fd = FCGX_OpenSocket(cfg->listen, cfg->backlog);
	if (l->fd < 0) {
		snprintf(err, errsz, "cannot listen on %s: %s", cfg->listen, strerror(errno));
		return -1;
	}
	l->tcp = true;
	snprintf(l->what, sizeof l->what, "%s", cfg->listen);
	return 0;
}

void listener_unlink(const struct listener *l)
{
	if (l->path[0] != '\0')
		unlink(l->path);
}
