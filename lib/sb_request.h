/*
 * sb_request.h: one FastCGI request as a route program sees it.
 *
 * The serve loop fills it in: the method, the path ids (validated against
 * the route's patterns), and the timing for the log. Headers and the body
 * are read on demand, each through a validator with a cap.
 */
#ifndef SB_REQUEST_H
#define SB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"
#include "sb_fcgi.h"
#include "sb_jwt.h"
#include "sb_util.h"

enum sb_method {
	SB_GET,
	SB_HEAD,
	SB_POST,
	SB_PUT,
	SB_DELETE,
	SB_OPTIONS,
	SB_PATCH,
	SB_OTHER,	/* any method not listed */
	SB_METHOD__MAX
};

/* A set of methods, for struct sb_route. */
#define SB_M(m)		(1u << (m))

#define SB_IDS_MAX	4	/* ids one path may hold */
#define SB_HDRS_MAX	4096	/* extra response header bytes */
#define SB_HEADER_MAX	8192	/* longest request header value read */
#define SB_RID_MAX	128	/* longest X-Request-Id taken from a client */

struct sb_route;

struct sb_req {
	struct sb_fcgi_req	*fcgi;
	const struct sb_route	*route;
	enum sb_method		 method;	/* HEAD is GET while routed */
	bool			 head;		/* a HEAD: no body is sent */
	bool			 matched;	/* a route pattern matched: */
	size_t			 pattern;	/* which one */
	char			 id[SB_IDS_MAX][SB_ID_LEN + 1];
	size_t			 nids;
	char			*body;		/* NUL-terminated, or NULL */
	size_t			 bodylen;

	/* The caller, once sb_auth_user() has verified the JWT. */
	const char		*jwt;		/* NULL before */
	struct sb_jwt_claims	 who;

	/* The answer, once given (status 0 before). */
	int			 status;
	char			 hdrs[SB_HDRS_MAX];
	size_t			 hdrslen;
	char			*out;		/* the CGI answer, head and body */
	size_t			 outlen;

	/* For the request's log line. */
	char			 rid[SB_RID_MAX + 1];	/* request id */
	int64_t			 start_ms;
	long			 upstream_status;
	int64_t			 upstream_ms;
	enum sb_err		 err;
	char			 user[SB_CLAIM_MAX + 1];
};

/* Method names, indexed by enum sb_method. */
extern const char *const sb_method_names[SB_METHOD__MAX];

/* A FastCGI parameter (HTTP_* for headers), or NULL if absent. */
const char	*sb_req_param(const struct sb_req *, const char *name);

/*
 * A request header by its FastCGI name (e.g. "HTTP_AUTHORIZATION"),
 * checked: NULL if absent, SB_ERR_HEADER in *err if longer than
 * SB_HEADER_MAX, holding a control character, or sent twice.
 */
const char	*sb_req_header(const struct sb_req *, const char *name,
		    enum sb_err *err);

/*
 * The query parameter name, percent-decoded into buf (bufsz bytes).
 * Returns 1 if present, 0 if absent, or -1 if malformed, too long,
 * holding a control character once decoded, or given more than once.
 */
int		 sb_req_query(const struct sb_req *, const char *name,
		    char *buf, size_t bufsz);

/*
 * Decodes the query parameter name out of the query string qs: the pure
 * part of sb_req_query(), for the fuzzers.
 */
int		 sb_query_get(const char *qs, const char *name, char *buf,
		    size_t bufsz);

/*
 * True if s[0..len) may serve as a request id: 1 to SB_RID_MAX visible
 * ASCII characters, none of them a quote or a backslash. Pure.
 */
bool		 sb_req_id_valid(const char *s, size_t len);

/*
 * Sets req->rid: the client's X-Request-Id if it is valid and sent once,
 * else a fresh id (32 hex digits: this worker's random prefix and a
 * counter).
 */
void		 sb_req_id(struct sb_req *);

/* Draws this worker's random prefix for sb_req_id(): once per worker. */
void		 sb_req_id_seed(void);

/*
 * Reads the body, at most cap bytes, into req->body. Returns SB_OK or
 * SB_ERR_BODY_TOO_LARGE (the rest is not read).
 */
enum sb_err	 sb_req_read_body(struct sb_req *, size_t cap);

/*
 * Matches a path against a pattern whose "{id}" segments stand for
 * UUIDs, which are copied (lower-cased) into ids, and whose "{n}"
 * segments stand for whole numbers (0 to 999999999, no leading zero),
 * copied as they are. Returns SB_OK,
 * SB_ERR_NOT_FOUND if the literal segments differ, or SB_ERR_BAD_ID if
 * only an id is malformed. Pure: used by the serve loop and the fuzzer.
 */
enum sb_err	 sb_path_match(const char *pattern, const char *path,
		    size_t pathlen, char ids[][SB_ID_LEN + 1], size_t *nids);

#endif
