/* FastCGI connections shared by the worker threads, so that a connection
 * nginx keeps open between requests (fastcgi_keep_conn on) costs a file
 * descriptor, not a thread.
 *
 * libfcgi's own loop (FCGX_Accept_r on the listening socket) gives a kept
 * connection to one thread until nginx closes it: once nginx keeps as many
 * idle connections as there are threads, every new request waits. Here one
 * epoll set holds the listening socket and every open connection, each
 * armed for one event at a time (EPOLLONESHOT): a worker takes the next
 * connection that has a request to read, hands it to libfcgi for that one
 * request, and gives it back to the set afterwards. Idle connections sit in
 * the set, served by whichever thread is free.
 *
 * One dispatcher per process; dispatch_open before the threads start. */
#ifndef TWOTIER_DISPATCH_H
#define TWOTIER_DISPATCH_H

#include <stdbool.h>

/* Takes over listen_fd (made non-blocking). At most max_connections are
 * open at once: beyond that the listening socket is not watched until one
 * closes. tcp: the socket is TCP (accepted ones get TCP_NODELAY). Returns 0,
 * or -1 with errno. */
int dispatch_open(int listen_fd, int max_connections, bool tcp);

/* A socket that accepts nothing, for FCGX_InitRequest: libfcgi falls back
 * to accepting on it when the connection it was given has closed, and so
 * returns an error at once instead of taking a connection itself. */
int dispatch_idle_listener(void);

/* A connection lent to a worker. libfcgi closes a connection itself, so
 * its descriptor may be reused by a new connection before the worker gives
 * it back: the generation tells the two apart. */
struct dispatch_conn {
	int fd;
	unsigned gen;
};

/* Blocks until a connection has a request to read and fills *conn, which
 * the caller owns until dispatch_done. Returns 0, or -1 once stopping. */
int dispatch_next(struct dispatch_conn *conn);

/* Gives back the connection of dispatch_next after its request: open (nginx
 * keeps it) goes back to the set, unless stopping, when it is closed; not
 * open (libfcgi closed it) is forgotten. */
void dispatch_done(const struct dispatch_conn *conn, bool open);

/* Stops accepting and wakes every thread waiting in dispatch_next. Safe
 * from the thread that handles signals. */
void dispatch_stop(void);

/* After the worker threads have ended: closes the idle connections, the
 * listening socket and the set. */
void dispatch_close(void);

#endif
