/*
 * sb_fcgi.h: the FastCGI responder side, for the event loop.
 *
 * A web server sends requests on connections it may keep (nginx's
 * fastcgi_keep_conn); each connection is served by a task of its own,
 * which reads a request whole (its parameters, then its body up to a
 * cap), has it answered, writes the answer, and reads the next. The
 * reading is a pure state machine over bytes (struct sb_fcgi_in), so the
 * unit tests and the fuzzer drive it without a socket.
 *
 * One request at a time per connection: the program says so
 * (FCGI_MPXS_CONNS 0), and a second request on a busy connection is
 * refused with FCGI_CANT_MPX_CONN, as the protocol has it.
 */
#ifndef SB_FCGI_H
#define SB_FCGI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_FCGI_PARAMS_MAX	(256 * 1024)	/* all parameters' bytes */
#define SB_FCGI_NPARAMS_MAX	1024
#define SB_FCGI_RECORD_MAX	(8 + 65535 + 255)

/* What sb_fcgi_in_feed() says of the bytes it read. */
enum sb_fcgi_rc {
	SB_FCGI_MORE,		/* read on */
	SB_FCGI_REQUEST,	/* a request is whole: serve it */
	SB_FCGI_REPLY,		/* a record to send back is in reply */
	SB_FCGI_BAD,		/* not FastCGI as this side takes it: close */
};

/* A request, as read. */
struct sb_fcgi_req {
	uint16_t	 id;
	bool		 keep;		/* the server keeps the connection */
	char		**envp;		/* "NAME=VALUE", NULL-terminated */
	char		*in;		/* the body, NUL-terminated */
	size_t		 inlen;
	bool		 in_big;	/* longer than the cap: cut */
};

struct sb_fcgi_in {
	size_t			 in_max;	/* the body's cap */
	int			 state;
	struct sb_fcgi_req	 req;
	char			*params;
	size_t			 plen;
	size_t			 incap;
	unsigned char		 reply[64];	/* a record to send */
	size_t			 replylen;
	const char		*why;		/* of SB_FCGI_BAD */
};

/* Readies r to read requests whose body is capped at in_max bytes. */
void		 sb_fcgi_in_init(struct sb_fcgi_in *r, size_t in_max);

/*
 * Reads the records in buf[0..len), as far as one result: *used says how
 * many bytes it took (a record only whole). SB_FCGI_MORE: all it could
 * take is taken. SB_FCGI_REQUEST: r->req is the request, which the caller
 * answers and then passes to sb_fcgi_in_next(). SB_FCGI_REPLY: r->reply
 * holds r->replylen bytes to send; reading goes on after them.
 */
enum sb_fcgi_rc	 sb_fcgi_in_feed(struct sb_fcgi_in *r, const unsigned char *buf,
		    size_t len, size_t *used);

/* Frees the request read, ready for the next one on the connection. */
void		 sb_fcgi_in_next(struct sb_fcgi_in *r);
void		 sb_fcgi_in_free(struct sb_fcgi_in *r);

/*
 * Frames out[0..len) as request id's standard output and its end into
 * records: the header of each is written to hdrs (8 bytes each, nhdr of
 * them at most) and the pieces to iov (an iovec array of 2 * nhdr).
 * Returns how many iovecs, or 0 if hdrs is too small.
 */
struct iovec;
size_t		 sb_fcgi_frame(uint16_t id, const char *out, size_t len,
		    unsigned char (*hdrs)[8], size_t nhdr, struct iovec *iov);

/* The value of name in envp, or NULL. */
const char	*sb_fcgi_param(char *const *envp, const char *name);

/*
 * Serves the FastCGI connection fd (non-blocking) in the calling task:
 * reads each request, calls handle(req, out, arg), which sets *out and
 * *outlen to the answer (a CGI head and body; malloc'd or NULL), and
 * writes it back. Returns when the server closes, on a protocol error,
 * when the server does not keep the connection, or, once *stop is set,
 * at the first moment no request is under way. Closes fd.
 */
void		 sb_fcgi_serve(int fd, size_t in_max,
		    void (*handle)(struct sb_fcgi_req *, char **, size_t *,
		    void *), void *arg, const volatile bool *stop);

#endif
