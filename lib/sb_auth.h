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
 * and *len (pointing into the header); SB_ERR_JWT_MISSING for no header,
 * another scheme, or no token; SB_ERR_JWT_FORMAT for a token with white
 * space inside. Pure: the fuzzers call it.
 */
enum sb_err	 sb_bearer(const char *header, const char **tok, size_t *len);

/*
 * Verifies the JWT tok[0..len) (flags as for sb_jwt_verify): through the
 * JWT cache, and asking sentc when its kid names no configured key
 * (sb_keycheck.h). Returns SB_OK with *who, or the SB_ERR_* that says why
 * not; answers nothing.
 */
enum sb_err	 sb_auth_token(struct sb_req *req, const char *tok,
		    size_t len, unsigned flags, struct sb_jwt_claims *who);

/*
 * "Who is this?" Verifies the caller's JWT (through the JWT cache; flags
 * as for sb_jwt_verify), or has sentc check one whose kid names no key
 * configured (sb_keycheck.h). Returns 0 with req->who (aud is the sentc
 * user id, sub the device id) and req->jwt (the token, to relay) set, or
 * -1 once it has answered 401 (400 for a malformed header; 502, 503 or
 * 504 where sentc could not be asked).
 */
int		 sb_auth_user(struct sb_req *req, unsigned flags);

/*
 * Is header (the Authorization header's value, NULL if absent) the
 * backend's admin credential, "Bearer <SENTC_BACKEND_ADMIN_TOKEN>"?
 * Compares SHA-256 digests in constant time. Returns SB_OK,
 * SB_ERR_ADMIN_CLOSED if no admin token is configured, or
 * SB_ERR_ADMIN_AUTH. Pure but for sb_cfg: the unit tests call it.
 */
enum sb_err	 sb_admin_check(const char *header);

/*
 * "Is this the app's own server?" For the admin routes: returns 0 if the
 * request carries the admin credential, or -1 once it has answered 401
 * (missing, malformed or wrong, a user's JWT included) or 403 (closed).
 */
int		 sb_auth_admin(struct sb_req *req);

#endif
