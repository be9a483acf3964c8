/*
 * sb_session.h: the cookie sessions of the SDK's cookie mode: which of a
 * request's refresh cookies a refresh may use, and their end.
 *
 * A session ends for good, on every host and across restarts:
 * - when its cookie is logged out (POST /backend/logout): its refresh
 *   token ends, for every copy of the cookie;
 * - when the user's sessions are ended (DELETE
 *   /api/v1/user/forced/sessions) or the user is deleted: every cookie of
 *   that user sealed until then ends.
 * sentc has no call that ends one refresh token, and its own answers may
 * come late or cached, so each end is recorded in the store
 * (sb_db_session_*), a token's by a digest of it, never the token. A
 * record is kept until every cookie it ends has expired anyway
 * (SENTC_BACKEND_COOKIE_MAX_AGE and SB_COOKIE_SKEW after it was made);
 * each new one purges those past that. Nothing of it is cached: every
 * refresh asks the store, so an end recorded through one host holds on
 * every other at once, and no cache has anything of it to drop.
 */
#ifndef SB_SESSION_H
#define SB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_cookie.h"
#include "sb_db.h"
#include "sb_error.h"
#include "sb_jwt.h"
#include "sb_request.h"

#define SB_SESSION_MAX	4	/* cookies that open, of one request, checked */

/* One cookie of the request, opened. */
struct sb_session {
	char			 token[SB_REFRESH_TOKEN_MAX + 1];
	size_t			 toklen;
	struct sb_cookie_info	 info;
};

/* The cookies of a request that a refresh may use. */
struct sb_sessions {
	struct sb_session	 s[SB_SESSION_MAX];
	size_t			 n;	/* usable, the current version first */
	size_t			 ended;	/* opened, but their session ended */
	bool			 whole;	/* no cookie that opens was left out */
};

/*
 * Finds the cookies of the request that who may refresh with: every
 * value of the configured name in the Cookie header is opened for who's
 * aud and sub; of those that open (the first SB_SESSION_MAX of them; any
 * more make whole false), the ones whose session has not ended are
 * usable, version SB_COOKIE_VERSION first, each in the header's order.
 * Returns SB_OK (out->n may be 0), SB_ERR_HEADER (a malformed Cookie
 * header: nothing opened) or SB_ERR_STORAGE. The caller wipes out.
 */
enum sb_err	 sb_session_find(struct sb_req *, const struct sb_jwt_claims *who,
		    struct sb_sessions *out);

/*
 * Ends the sessions of the request's cookie (logout): the token of every
 * value of the configured name that opens, whoever it was sealed for
 * (version 1 cookies never reach the logout route). Sets req->user to
 * the user of the last one. Returns SB_OK, also when there is none or no
 * cookie key is configured, SB_ERR_HEADER (a malformed Cookie header:
 * nothing ended) or SB_ERR_STORAGE (maybe none ended).
 */
enum sb_err	 sb_session_logout(struct sb_req *);

/*
 * Ends every cookie session of user_id sealed until now. Returns SB_OK
 * or SB_ERR_STORAGE.
 */
enum sb_err	 sb_session_end_user(struct sb_db *, const char *user_id);

/*
 * Is a session of user_id with token[0..len), begun at since, ended?
 * For a cookie about to be made (POST /backend/session, since the JWT's
 * iat). Returns SB_OK with *ended, or SB_ERR_STORAGE.
 */
enum sb_err	 sb_session_ended(struct sb_db *, const char *token,
		    size_t len, const char *user_id, int64_t since,
		    bool *ended);

#endif
