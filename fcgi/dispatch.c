#include "dispatch.h"

#include "core/log.h"
#include "core/metrics.h"
#include "core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int epfd = -1, wake_fd = -1, listen_fd = -1, idle_fd = -1;
static bool tcp_listen;
static int max_open;

/* Which descriptors are connections of ours, and how many: guarded by
 * lock, since accepting, finishing and stopping run on different threads. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *is_conn; /* indexed by descriptor */
static unsigned *gen;	       /* indexed by descriptor: connections accepted on it */
static int n_fds;	       /* size of is_conn */
static int n_open;
static bool listening; /* the listening socket is armed in the set */
static bool stopping;

static int arm(int op, int fd)
{
	struct epoll_event ev;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.fd = fd;
	return epoll_ctl(epfd, op, fd, &ev);
}

int dispatch_open(int fd, int max_connections, bool tcp)
{
	struct rlimit rl;
	struct epoll_event ev;
	listen_fd = fd;
	tcp_listen = tcp;
	max_open = max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	n_fds = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576 ? 1048576 : (int)rl.rlim_cur;
	is_conn = xcalloc((size_t)n_fds, 1);
	gen = xcalloc((size_t)n_fds, sizeof *gen);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
		return -1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	idle_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (epfd < 0 || wake_fd < 0 || idle_fd < 0)
		return -1;
	/* level-triggered: once written, every waiting thread sees it */
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.fd = wake_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, wake_fd, &ev) != 0 || arm(EPOLL_CTL_ADD, fd) != 0)
		return -1;
	listening = true;
	return 0;
}

int dispatch_idle_listener(void)
{
	return idle_fd;
}

/* Re-arms the listening socket if it may accept again (lock held). */
static void listen_resume(void)
{
	if (!listening && !stopping && n_open < max_open && arm(EPOLL_CTL_MOD, listen_fd) == 0)
		listening = true;
}

/* Accepts what is waiting, up to the limit, and watches each new
 * connection for its first request. */
static void accept_pending(void)
{
	pthread_mutex_lock(&lock);
	listening = false;
	while (!stopping && n_open < max_open) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* no descriptor to spare: wait for a connection to
				 * close, or a moment when none is open */
				log_msg(LOG_WARN, "cannot accept a connection: %s",
					strerror(errno));
				if (n_open > 0)
					goto out;
				struct timespec pause = {0, 50 * 1000000L};
				nanosleep(&pause, NULL);
			}
			break; /* EAGAIN: nothing more waits */
		}
		if (fd >= n_fds) {
			close(fd);
			continue;
		}
		/* before it is armed: the worker that gets its event reads it */
		__atomic_store_n(&gen[fd], gen[fd] + 1, __ATOMIC_RELEASE);
		if (tcp_listen) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		}
		is_conn[fd] = 1;
		if (arm(EPOLL_CTL_ADD, fd) != 0) {
			is_conn[fd] = 0;
			close(fd);
			continue;
		}
		n_open++;
	}
	listen_resume();
	metrics_connections(n_open);
out:
	pthread_mutex_unlock(&lock);
}

int dispatch_next(struct dispatch_conn *conn)
{
	for (;;) {
		struct epoll_event ev;
		int n = epoll_wait(epfd, &ev, 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_msg(LOG_ERROR, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			continue;
		if (ev.data.fd == wake_fd)
			return -1;
		if (ev.data.fd == listen_fd) {
			accept_pending();
			continue;
		}
		conn->fd = ev.data.fd;
		conn->gen = __atomic_load_n(&gen[ev.data.fd], __ATOMIC_ACQUIRE);
		return 0;
	}
}

void dispatch_done(const struct dispatch_conn *conn, bool open)
{
	int fd = conn->fd;
	/* the common case, a kept connection, takes no lock; one that races
	 * with dispatch_stop stays in the set and dispatch_close closes it */
	if (open && !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE) && arm(EPOLL_CTL_MOD, fd) == 0)
		return;
	pthread_mutex_lock(&lock);
	if (open) /* stopping, or it cannot be watched again */
		close(fd);
	/* libfcgi closed it outside the lock: a new connection may have the
	 * descriptor already, and then only the count is this one's */
	if (gen[fd] == conn->gen)
		is_conn[fd] = 0;
	n_open--;
	metrics_connections(n_open);
	listen_resume();
	pthread_mutex_unlock(&lock);
}

void dispatch_stop(void)
{
	uint64_t one = 1;
	pthread_mutex_lock(&lock);
	__atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
	if (listening)
		epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, NULL);
	listening = false;
	pthread_mutex_unlock(&lock);
	if (write(wake_fd, &one, sizeof one) != sizeof one)
		log_msg(LOG_ERROR, "cannot wake the workers: %s", strerror(errno));
}

void dispatch_close(void)
{
	for (int fd = 0; fd < n_fds; fd++)
		if (is_conn[fd])
			close(fd);
	free(is_conn);
	free(gen);
	is_conn = NULL;
	gen = NULL;
	n_fds = n_open = 0;
	if (listen_fd >= 0)
		close(listen_fd);
	if (epfd >= 0)
		close(epfd);
	if (wake_fd >= 0)
		close(wake_fd);
	if (idle_fd >= 0)
		close(idle_fd);
	listen_fd = epfd = wake_fd = idle_fd = -1;
}
