/*
 * GET (and POST, for apps that use cookie_fn) /backend/refresh
 *
 * What the SDK calls in its cookie mode, with the old JWT in
 * Authorization: its signature must hold, its expiry does not count.
 * Every refresh cookie the request carries is opened for the JWT's user
 * and device (another site of the domain may have planted some of the
 * same name, before the real one); of those that open, the ones whose
 * session has not ended (logged out, or all of the user's ended:
 * lib/sb_session.h) are offered to sentc's PUT /refresh in turn, until
 * one gives a new JWT, which is the whole answer, text/plain, because
 * the SDK takes the whole response text as the JWT.
 *
 * No cookie that opens, or only ended ones, or only refresh tokens that
 * sentc no longer knows (114), or a user it no longer knows (100): 401,
 * and the cookie is cleared, since every cookie of the request was tried
 * and failed. If some cookie that opens was left untried (more than
 * SB_SESSION_MAX), nothing is cleared. A malformed Cookie header (400),
 * the store (503) or sentc (502, 504) failing: the cookie is kept. Any
 * other refusal by sentc: its envelope, and the cookie is kept; with
 * sentc's status, or 401 where that is below 400 (sentc answers an
 * unknown key id, 35, with 200): the SDK takes the whole text of any
 * answer as its JWT, so only a new JWT is ever a 200. A cookie of the old
 * format is sealed again in the current one, with its first sealing time;
 * otherwise the cookie is not sealed again: the refresh token does not
 * change, and the session ends Max-Age after the login.
 */
#include "sb.h"

/* True if s looks like a JWT: three base64url parts, bounded. */
static void
reject(struct sb_req *req, const char *msg)
{
	sb_cookie_clear(req);
	sb_reply_err(req, SB_ERR_COOKIE, msg);
}

/*
 * Asks sentc for a new JWT with the old one and the refresh token of
 * sess. Returns the fault, or SB_OK with up filled (to free).
 */
static enum sb_err
ask(struct sb_req *req, const struct sb_session *sess,
    struct sb_upstream_res *up)
{
	json_object	*body, *tok = NULL;
	const char	*text;
	size_t		 len;
	enum sb_err	 e = SB_ERR_INTERNAL;

	memset(up, 0, sizeof(*up));
	if ((body = json_object_new_object()) != NULL &&
	    (tok = json_object_new_string_len(sess->token,
	    (int)sess->toklen)) != NULL &&
	    json_object_object_add(body, "refresh_token", tok) == 0 &&
	    (text = sb_json_text(body, &len)) != NULL) {
		e = sb_upstream(req, SB_PUT, "/refresh",
		    sb_token_of(SB_OPT_USER_JWT_REFRESH), req->jwt, text,
		    len, up);
		sb_wipe((char *)text, len);
	}
	json_object_put(body);
	return e;
}

/* Answers with the new JWT that up holds, for the cookie sess. */
static void
answer(struct sb_req *req, const struct sb_session *sess,
    struct sb_upstream_res *up)
{
	const char	*jwt;

	if ((jwt = sb_json_string(sb_upstream_result(up), "jwt")) == NULL ||
	    !sb_jwt_shaped(jwt, strlen(jwt))) {
		sb_reply_err(req, SB_ERR_UPSTREAM_BAD, NULL);
		return;
	}
	if (sess->info.version != SB_COOKIE_VERSION &&
	    sb_cookie_move(req, &req->who, sess->token, sess->toklen,
	    sess->info.sealed_at) == -1)
		sb_log(SB_LOG_WARN, "a cookie of version %d could not be "
		    "sealed again; it stays as it was", sess->info.version);
	sb_reply_raw(req, 200, "text/plain", jwt, strlen(jwt));
}

static void
handle(struct sb_req *req)
{
	struct sb_sessions	 ss;
	struct sb_upstream_res	 up;
	size_t			 i, gone = 0, ended;
	bool			 whole;
	enum sb_err		 e;

	if ((e = sb_session_find(req, &req->who, &ss)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	for (i = 0; i < ss.n; i++) {
		if ((e = ask(req, &ss.s[i], &up)) != SB_OK)
			sb_reply_err(req, e, NULL);
		else if (up.ok)
			answer(req, &ss.s[i], &up);
		else if (up.err_code == 114 || up.err_code == 100)
			gone++;		/* ended at sentc: the next one */
		else	/* never a 200 that the SDK would take for a JWT */
			sb_reply_raw(req, up.status >= 400 ? (int)up.status :
			    401, "application/json", up.body, up.len);
		sb_upstream_res_free(&up);
		if (req->status != 0)
			break;
	}
	whole = ss.whole;
	ended = ss.ended;
	sb_wipe(&ss, sizeof(ss));
	if (req->status != 0)
		return;
	if (!whole)
		sb_reply_err(req, SB_ERR_COOKIE, "None of the session cookies "
		    "that were tried can go on: log in again");
	else if (gone > 0)
		reject(req, "The session has ended at sentc (the refresh "
		    "token or the user is gone): log in again");
	else if (ended > 0)
		reject(req, "The session has ended (logged out, or all of "
		    "the user's sessions were ended): log in again");
	else
		reject(req, NULL);
}

static const struct sb_route route = {
	.name = "refresh",
	.paths = {
		{ "/backend/refresh", SB_M(SB_GET) | SB_M(SB_POST) },
		{ NULL },
	},
	.flags = SB_ROUTE_DB | SB_ROUTE_ORIGIN | SB_ROUTE_COOKIE,
	.caller = SB_USER_EXPIRED,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
