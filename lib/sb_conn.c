#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_conn.h"
#include "sb_log.h"

#define SLOTS		256	/* connections one worker holds at most */
#define LISTENER	SLOTS	/* the listening socket's tag in epoll */

struct sb_conns {
	int		 lfd;		/* the listening socket */
	int		 ep;
	bool		 unix_sock;
	bool		 listening;	/* lfd is in ep */
	bool		 last;		/* stopping: the last sweep is made */
	int		 nev, iev;	/* events of the last wait, the next one */
	int		 nfree;
	int		 free[SLOTS];	/* slots without a connection */
	struct epoll_event ev[SLOTS + 1];
	FCGX_Request	 slot[SLOTS];
};

/* True if fd is a Unix socket. */
static bool
is_unix(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_UNIX;
}

/* Waits on the listening socket (again): one worker wakes per connection. */
static void
listen_on(struct sb_conns *c)
{
	struct epoll_event	 e;

	if (c->listening || c->last)
		return;
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN | EPOLLEXCLUSIVE;
	e.data.u32 = LISTENER;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->lfd, &e) == 0)
		c->listening = true;
	else
		sb_log(SB_LOG_ERR, "epoll: %s", strerror(errno));
}

/* A slot whose connection is gone can hold the next one. */
static void
release(struct sb_conns *c, int i)
{
	c->free[c->nfree++] = i;
	listen_on(c);
}

struct sb_conns *
sb_conns_new(int fd)
{
	struct sb_conns	*c;
	int		 i, fl;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->lfd = fd;
	c->unix_sock = is_unix(fd);
	if ((c->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		sb_log(SB_LOG_ERR, "worker set-up: %s", strerror(errno));
		if (c->ep != -1)
			close(c->ep);
		free(c);
		return NULL;
	}
	/*
	 * No listening socket for libfcgi (-1): the worker accepts, libfcgi
	 * only reads requests on connections it is given.
	 */
	for (i = SLOTS - 1; i >= 0; i--) {
		FCGX_InitRequest(&c->slot[i], -1, 0);
		c->free[c->nfree++] = i;
	}
	listen_on(c);
	if (!c->listening) {
		close(c->ep);
		free(c);
		return NULL;
	}
	return c;
}

/* Accepts one connection into a free slot; returns the slot or -1. */
static int
accept_one(struct sb_conns *c)
{
	struct epoll_event	 e;
	int			 fd, i, on = 1;

	if (c->nfree == 0)
		return -1;
	if ((fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		/* Another worker took it, or the client gave up. */
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED && errno != EINTR) {
			/* Out of descriptors or memory: do not spin. */
			sb_log(SB_LOG_ERR, "accept: %s", strerror(errno));
			sleep(1);
		}
		return -1;
	}
	if (!c->unix_sock)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	i = c->free[--c->nfree];
	e.data.u32 = (uint32_t)i;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &e) == -1) {
		sb_log(SB_LOG_ERR, "epoll: %s", strerror(errno));
		close(fd);
		c->free[c->nfree++] = i;
		return -1;
	}
	c->slot[i].ipcFd = fd;
	/* Full: the other workers take new connections meanwhile. */
	if (c->nfree == 0 && epoll_ctl(c->ep, EPOLL_CTL_DEL, c->lfd, NULL) == 0)
		c->listening = false;
	return i;
}

/*
 * Reads the request on slot i's connection, which has something to read.
 * Returns it, or NULL if the server closed the connection or sent no
 * FastCGI request: libfcgi has then closed it, and the slot is free.
 */
static FCGX_Request *
take(struct sb_conns *c, int i)
{
	FCGX_Request	*r = &c->slot[i];

	if (r->ipcFd < 0)
		return NULL;
	/* Kept, so that libfcgi's Finish before the read does not close it. */
	r->keepConnection = 1;
	if (FCGX_Accept_r(r) == 0)
		return r;
	r->ipcFd = -1;
	release(c, i);
	return NULL;
}

/* True if fd has something to read now (a request, or the end). */
static bool
readable(int fd)
{
	char	 b;

	return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != -1 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

FCGX_Request *
sb_conns_next(struct sb_conns *c, volatile sig_atomic_t *stop,
    const sigset_t *wait_mask)
{
	FCGX_Request	*r;
	uint32_t	 tag;
	int		 n, i;

	for (;;) {
		while (c->iev < c->nev) {
			tag = c->ev[c->iev++].data.u32;
			if (tag != LISTENER)
				r = take(c, (int)tag);
			else if (c->last || (i = accept_one(c)) == -1)
				r = NULL;
			else if (readable(c->slot[i].ipcFd))
				r = take(c, i);	/* nginx writes at once */
			else
				r = NULL;	/* epoll tells when it has */
			if (r != NULL)
				return r;
		}
		if (c->last)
			return NULL;
		if (*stop) {
			/* What nginx already sent is answered; no new ones. */
			c->last = true;
			if (c->listening &&
			    epoll_ctl(c->ep, EPOLL_CTL_DEL, c->lfd, NULL) == 0)
				c->listening = false;
		}
		n = epoll_pwait(c->ep, c->ev, SLOTS + 1, c->last ? 0 : -1,
		    wait_mask);
		if (n == -1) {
			if (errno != EINTR) {
				sb_log(SB_LOG_ERR, "epoll: %s", strerror(errno));
				sleep(1);
			}
			n = 0;
		}
		c->nev = n;
		c->iev = 0;
	}
}

void
sb_conns_done(struct sb_conns *c, FCGX_Request *r)
{
	char	 buf[4096];

	if (r->keepConnection) {
		/* The next request follows on this connection. */
		while (FCGX_GetStr(buf, sizeof(buf), r->in) > 0)
			continue;
	} else if (c->unix_sock && FCGX_GetChar(r->in) == EOF &&
	    FCGX_GetError(r->in) == 0) {
		/*
		 * libfcgi's close shuts the socket down and waits for the
		 * server to close first, so that unread input cannot make TCP
		 * reset the answer. On a Unix socket whose input was read to
		 * the end nothing can be reset: it closes at once.
		 */
		FCGX_Detach(r);
	}
	FCGX_Finish_r(r);
	if (r->ipcFd < 0)
		release(c, (int)(r - c->slot));
}

void
sb_conns_free(struct sb_conns *c)
{
	int	 i;

	if (c == NULL)
		return;
	for (i = 0; i < SLOTS; i++)
		if (c->slot[i].ipcFd >= 0) {
			FCGX_Detach(&c->slot[i]);
			FCGX_Free(&c->slot[i], 1);
		}
	close(c->ep);
	free(c);
}
