/*
 * GET (and POST, for apps that use cookie_fn) /backend/refresh
 *
 * What the SDK calls in its cookie mode, with the old JWT in
 * Authorization: its signature must hold, its expiry does not count. The
 * refresh cookie must open for the JWT's user and device. Then sentc's
 * PUT /refresh, and the new JWT is the whole answer, text/plain, because
 * the SDK takes the whole response text as the JWT.
 *
 * A cookie that is missing, tampered with, another user's or too old,
 * and a refresh token that sentc no longer knows (114), or a user it no
 * longer knows (100): 401, and the cookie is cleared. Any other refusal
 * by sentc: its envelope, and the cookie is kept; with sentc's status, or
 * 401 where that is below 400 (sentc answers an unknown key id, 35, with
 * 200): the SDK takes the whole text of any answer as its JWT, so only a
 * new JWT is ever a 200. An upstream fault: 502 or 504, and the cookie is
 * kept. The cookie is not sealed again: the
 * refresh token does not change, and the session ends Max-Age after the
 * login.
 */
#include "sb.h"

/* True if s looks like a JWT: three base64url parts, bounded. */
static bool
jwt_shaped(const char *s)
{
	size_t	 len = strnlen(s, SB_JWT_MAX + 1), i, dots = 0;

	if (len == 0 || len > SB_JWT_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == '.')
			dots++;
		else if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return dots == 2;
}

/* A rejection: the session cannot go on, so the cookie goes. */
static void
reject(struct sb_req *req, enum sb_err e, const char *msg)
{
	sb_cookie_clear(req);
	sb_reply_err(req, e, msg);
}

static void
handle(struct sb_req *req)
{
	struct sb_upstream_res	 up = { 0 };
	json_object		*body, *tok = NULL;
	char			 token[SB_REFRESH_TOKEN_MAX + 1];
	const char		*jwt, *text;
	size_t			 len;
	enum sb_err		 e;

	if (sb_cookie_ready(req) == -1 ||
	    sb_auth_user(req, SB_JWT_ALLOW_EXPIRED) == -1)
		return;
	if ((e = sb_cookie_get(req, &req->who, token, sizeof(token))) !=
	    SB_OK) {
		reject(req, e, NULL);
		return;
	}
	e = SB_ERR_INTERNAL;
	if ((body = json_object_new_object()) != NULL &&
	    (tok = json_object_new_string(token)) != NULL &&
	    json_object_object_add(body, "refresh_token", tok) == 0 &&
	    (text = sb_json_text(body, &len)) != NULL) {
		e = sb_upstream(req, SB_PUT, "/refresh", SB_TOKEN_SECRET,
		    req->jwt, text, len, &up);
		sb_wipe((char *)text, len);
	}
	sb_wipe(token, sizeof(token));
	json_object_put(body);

	if (e != SB_OK)
		sb_reply_err(req, e, NULL);
	else if (!up.ok && (up.err_code == 114 || up.err_code == 100))
		reject(req, SB_ERR_COOKIE, "The session has ended at sentc "
		    "(the refresh token or the user is gone): log in again");
	else if (!up.ok)
		sb_reply_raw(req, up.status >= 400 ? (int)up.status : 401,
		    "application/json", up.body, up.len);
	else if ((jwt = sb_json_string(sb_upstream_result(&up), "jwt")) == NULL ||
	    !jwt_shaped(jwt))
		sb_reply_err(req, SB_ERR_UPSTREAM_BAD, NULL);
	else
		sb_reply_raw(req, 200, "text/plain", jwt, strlen(jwt));
	sb_upstream_res_free(&up);
}

static const struct sb_route route = {
	.name = "refresh",
	.paths = {
		{ "/backend/refresh", SB_M(SB_GET) | SB_M(SB_POST) },
		{ NULL },
	},
	.flags = SB_ROUTE_ORIGIN,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
