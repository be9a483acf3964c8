/*
 * sb_origin.h: the origins that browsers may call the backend from
 * (SENTC_BACKEND_ALLOWED_ORIGINS), CORS for the browser-facing routes,
 * and the Origin check of the cookie routes.
 *
 * Origins are compared exactly, byte for byte, with the Origin header a
 * browser sends ("https://app.example.com", no path, no trailing slash).
 * An allowed origin gets itself back in Access-Control-Allow-Origin,
 * with Access-Control-Allow-Credentials: true: never a wildcard.
 */
#ifndef SB_ORIGIN_H
#define SB_ORIGIN_H

#include <stddef.h>

#include "sb_request.h"

#define SB_ORIGIN_MAX		256	/* longest origin */
#define SB_ORIGINS_MAX		32	/* origins one config may list */

/* The request headers that the SDK sends, for preflights. */
#define SB_CORS_HEADERS		"Authorization, Content-Type, x-sentc-app-token, " \
				"x-sentc-group-access-id"
#define SB_CORS_MAX_AGE		"600"

struct sb_origins;

/*
 * Parses SENTC_BACKEND_ALLOWED_ORIGINS: origins separated by commas
 * (white space around them is ignored), each scheme://host[:port] with
 * scheme http or https, in lower case, without a path. Returns the list,
 * NULL with *err empty for an empty spec, or NULL with a message in err.
 * Free with sb_origins_free().
 */
struct sb_origins *sb_origins_parse(const char *spec, char *err,
	    size_t errlen);
void	 sb_origins_free(struct sb_origins *);
size_t	 sb_origins_count(const struct sb_origins *);

/* True if s[0..len) is an origin in the form above. Pure. */
int	 sb_origin_valid(const char *s, size_t len);

/*
 * The listed origin equal to origin (NULL: none, or no list), for
 * answers: a configured string, never the request's own bytes.
 */
const char *sb_origin_find(const struct sb_origins *, const char *origin);

/*
 * For the serve loop, with the list of sb_cfg:
 *
 * sb_origin_cors() adds Vary: Origin and, when the request's Origin is
 * listed, Access-Control-Allow-Origin and -Credentials to the answer to
 * come.
 *
 * sb_origin_preflight() answers an OPTIONS request to a matched route:
 * 204 with the route's methods and SB_CORS_HEADERS for a listed origin
 * (or a plain 204 with Allow when there is no Origin), 403 otherwise.
 *
 * sb_origin_check() is 0 if the request carries no Origin or a listed
 * one; otherwise it answers 403 (SB_ERR_ORIGIN) and returns -1.
 */
void	 sb_origin_cors(struct sb_req *);
void	 sb_origin_preflight(struct sb_req *);
int	 sb_origin_check(struct sb_req *);

#endif
