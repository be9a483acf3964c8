/*
 * POST /api/v1/verify_login
 *
 * The last step of the SDK's login (and of its mfa_login), the only one
 * whose answer carries the refresh token, served on sentc's own method
 * and path: with base_url at the app's origin the SDK calls it unchanged.
 * The body, once known to be a JSON object, is relayed with the token
 * kind SENTC_BACKEND_TOKEN_USER_DONE_LOGIN names. On sentc's success, the
 * refresh token is sealed into the refresh cookie for the new JWT's user
 * and device (as POST /backend/session does), and the answer goes back
 * as sentc sent it but for the token, whose string is "": the SDK needs
 * the member, browser code never gets the token. A refusal by sentc (a
 * wrong password, a used challenge) passes through unchanged and sets
 * nothing. An answer that does not hold the token as expected, or whose
 * JWT does not verify here (its key not configured, sentc is asked, as
 * for any JWT: sb_auth_token()), is answered with an error and sets
 * nothing.
 */
#include "sb.h"

static void
handle(struct sb_req *req)
{
	struct sb_upstream_res	 up = { 0 };
	struct sb_login		 login;
	struct sb_jwt_claims	 who;
	enum sb_err		 e;

	if (sb_relay(req, SB_POST, "/verify_login",
	    sb_token_of(SB_OPT_USER_DONE_LOGIN), NULL, req->relay,
	    req->relaylen, &up) == -1)
		goto out;
	if (!up.ok) {
		sb_reply_upstream(req, &up);
		goto out;
	}
	if (sb_login_take(up.body, up.len, &login) != SB_OK) {
		sb_log(SB_LOG_ERR, "verify_login: sentc's answer does not "
		    "hold one JWT and one refresh token");
		sb_reply_err(req, SB_ERR_UPSTREAM_BAD, NULL);
		goto out;
	}
	if ((e = sb_auth_token(req, login.jwt, login.jwtlen, 0, &who)) !=
	    SB_OK) {
		sb_log(SB_LOG_ERR, "verify_login: the JWT sentc issued "
		    "does not verify (%s): is its key in "
		    "SENTC_JWT_VERIFY_KEY?", sb_err_str(e));
		sb_reply_err(req, e, "The login's JWT does not verify "
		    "here: its key is not configured");
		goto out;
	}
	memcpy(req->user, who.aud, sizeof(req->user));
	if (sb_cookie_set(req, &who, login.token, login.toklen) == -1)
		goto out;
	sb_login_blank(up.body, &up.len, &login);
	sb_reply_upstream(req, &up);
out:
	/* The answer held the refresh token. */
	if (up.body != NULL)
		sb_wipe(up.body, up.len);
	sb_upstream_res_free(&up);
}

static const struct sb_route route = {
	.name = "verify-login",
	.paths = {
		{ "/api/v1/verify_login", SB_M(SB_POST), SB_M(SB_POST) },
		{ NULL },
	},
	/* The request holds the auth key. */
	.flags = SB_ROUTE_ORIGIN | SB_ROUTE_COOKIE | SB_ROUTE_SECRET,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
