/*
 * sb_upstream.h: the client for the sentc API.
 *
 * libcurl does the HTTP (DNS, TCP, a proxy's CONNECT, TLS, verified), its
 * multi interface in the worker's event loop: a call parks its request's
 * task until the answer is in, and the worker's requests share its kept
 * connections (outside a task, a call blocks). A kept connection is
 * checked before a request goes on it. If it closes with no answer all
 * the same, only a GET or HEAD goes once more, on a new one: any other
 * request may have been carried out by sentc, so it is a lost answer
 * (res.sent) for the caller.
 * Connect and total timeouts and the response cap come from the config.
 * An answer counts only if it is a sentc envelope: anything else is a
 * fault, mapped to 502 or 504.
 */
#ifndef SB_UPSTREAM_H
#define SB_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "sb_config.h"
#include "sb_error.h"
#include "sb_json.h"
#include "sb_request.h"

struct sb_upstream_res {
	long		 status;	/* HTTP status */
	char		*body;		/* as received, NUL-terminated */
	size_t		 len;
	bool		 ok;		/* envelope's "status" */
	struct sb_json_span rspan;	/* when ok: the result, within body */
	json_object	*result;	/* built by sb_upstream_result() */
	long		 err_code;	/* when !ok */
	bool		 sent;		/* the request reached sentc, which */
					/* may have acted on it, fault or not */
};

/* Sets up this worker's handle. Returns 0, or -1. */
int		 sb_upstream_init(void);
void		 sb_upstream_cleanup(void);

/*
 * Calls method path (below /api/v1, e.g. "/register") with the app token
 * of kind token, the user's jwt (NULL: none) and body (NULL: none).
 * Returns SB_OK with res filled whenever a sentc envelope came back with
 * a status below 500, success or not; otherwise
 * SB_ERR_UPSTREAM_{DOWN,BAD,TIMEOUT,ERROR}, with res.sent telling whether
 * the request got to sentc at all. req may be NULL; if not, its log
 * fields are updated. Free res with sb_upstream_res_free() in every case.
 */
enum sb_err	 sb_upstream(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt,
		    const char *body, size_t len, struct sb_upstream_res *res);

/*
 * As sb_upstream(), for a group route of sentc: access (NULL: none), a
 * group id (UUID, else SB_ERR_INTERNAL), goes as x-sentc-group-access-id,
 * the group through which the caller reaches the group of the path.
 */
enum sb_err	 sb_upstream_group(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt,
		    const char *access, const char *body, size_t len,
		    struct sb_upstream_res *res);

/*
 * As sb_upstream(), but answers the request itself on a fault. Returns
 * 0 with an envelope in res (to free), or -1 once answered, res empty.
 */
int		 sb_relay(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt,
		    const char *body, size_t len, struct sb_upstream_res *res);

/* As sb_relay(), for a group route, with access as sb_upstream_group(). */
int		 sb_relay_group(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt,
		    const char *access, const char *body, size_t len,
		    struct sb_upstream_res *res);

/*
 * Undoes at sentc what a route could not record in its own store (method
 * path with the given token and jwt), then answers SB_ERR_COMPENSATED, or
 * SB_ERR_INCONSISTENT (logged as an error) if the undo failed too.
 */
void		 sb_compensate(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt);

/* Answers with the upstream's status and envelope, byte for byte. */
void		 sb_reply_upstream(struct sb_req *req,
		    const struct sb_upstream_res *res);

/*
 * Reads body[0..len) as a sentc envelope into res (status untouched):
 * checked, its status and err_code read, its result spanned but not
 * built. Returns SB_OK or SB_ERR_UPSTREAM_BAD. Pure: the fuzzers call it.
 */
enum sb_err	 sb_envelope_parse(const char *body, size_t len,
		    struct sb_upstream_res *res);

/*
 * The envelope's result as a tree, built on the first call (NULL if not
 * ok, for a JSON null, or out of memory). Owned by res.
 */
json_object	*sb_upstream_result(struct sb_upstream_res *);

void		 sb_upstream_res_free(struct sb_upstream_res *);

/*
 * Makes the cache that sb_upstream_reachable() shares between the
 * program's workers, before they fork (again after a reload). Returns 0,
 * or -1 with no cache: every call then probes.
 */
int		 sb_upstream_probe_init(void);

/*
 * Can the sentc API be reached? A TCP connection to the host of
 * SENTC_API_URL, with the TLS handshake for https, within
 * SENTC_BACKEND_UPSTREAM_CONNECT_TIMEOUT_MS; no HTTP request is sent, so
 * no sentc call is spent. The answer is reused by every worker of the
 * program for SENTC_BACKEND_READY_TTL seconds. Returns SB_OK,
 * SB_ERR_UPSTREAM_DOWN or SB_ERR_UPSTREAM_TIMEOUT.
 */
enum sb_err	 sb_upstream_reachable(void);

/* Upstream TCP connections this worker opened, for tests and metrics. */
long		 sb_upstream_connects(void);

#endif
