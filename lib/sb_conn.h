/*
 * sb_conn.h: a worker's FastCGI connections.
 *
 * A web server that keeps its connections to a program (nginx's
 * fastcgi_keep_conn with an upstream keepalive) sends request after
 * request on each, and opens another only when all it keeps are busy.
 * libfcgi's own loop waits for the next request on a kept connection
 * before it accepts again, so once the server opened more connections than
 * the program has workers, a new one waits, unserved, for as long as the
 * server leaves the kept ones idle. Here a worker holds up to 256
 * connections and waits on all of them and on the listening socket at
 * once: every connection the server opened is served by some worker, and
 * requests on kept connections cost neither an accept nor a close. (A
 * worker that holds 256 leaves new ones to the others until one closes.)
 * The price: a request on a kept connection waits for the worker that
 * holds it, even when another is idle.
 */
#ifndef SB_CONN_H
#define SB_CONN_H

#include <signal.h>

#include <fcgiapp.h>

struct sb_conns;

/*
 * A worker's connections on the listening socket fd, which is made
 * non-blocking. Returns NULL if memory or epoll fail.
 */
struct sb_conns	*sb_conns_new(int fd);

/*
 * Waits for the next request on any held connection or a new one and
 * returns it, read up to its input. Once *stop is set (by a signal
 * handler), it returns the requests already sent on held connections,
 * then NULL. The signals that set *stop should be blocked while the
 * worker runs; wait_mask is the mask to wait with (epoll_pwait), so that
 * they can only arrive while it waits and none is missed; NULL waits with
 * the current mask. The request belongs to c: end it with sb_conns_done.
 */
FCGX_Request	*sb_conns_next(struct sb_conns *c, volatile sig_atomic_t *stop,
		    const sigset_t *wait_mask);

/*
 * Ends a request answered in full. Its connection is kept when the server
 * asked for that (what is left of the request's input is read first), else
 * closed.
 */
void		 sb_conns_done(struct sb_conns *c, FCGX_Request *r);

/* Closes every held connection and frees c. */
void		 sb_conns_free(struct sb_conns *c);

#endif
