/*
 * sb_auth.h: who is calling. The questions a route asks before anything
 * else, answered from the request's Authorization header.
 */
#ifndef SB_AUTH_H
#define SB_AUTH_H

#include "sb_jwt.h"
#include "sb_request.h"

/*
 * The bearer token of the Authorization header: the scheme "Bearer" in
 * any case, one or more spaces, then the token. Returns SB_OK with *tok
 * and *len (pointing into the header), SB_ERR_JWT_MISSING, or
 * SB_ERR_HEADER. Pure: the fuzzers call it.
 */
enum sb_err	 sb_bearer(const char *header, const char **tok, size_t *len);

/*
 * Verifies the caller's JWT (through the JWT cache; flags as for
 * sb_jwt_verify). Returns 0 with out filled and req->user set, and, if
 * jwt is not NULL, *jwt pointing at the token (valid for the request).
 * Returns -1 once it has answered 401 (or 400 for a malformed header).
 */
int		 sb_auth_user(struct sb_req *req, unsigned flags,
		    struct sb_jwt_claims *out, const char **jwt);

#endif
