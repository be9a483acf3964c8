/*
 * POST /backend/logout
 *
 * Ends the session of the refresh cookie the request carries: its
 * refresh token is recorded as ended in the store (lib/sb_session.h), so
 * that no copy of the cookie refreshes again, on any host. Then clears
 * the cookie (Max-Age=0, under the current and the old path) and answers
 * 200, whether or not there was one and whether or not a cookie key is
 * configured. If the store cannot record the end, the answer is 503 and
 * the cookie is kept, so that the logout can be repeated; a malformed
 * Cookie header is a 400 that changes nothing. Like the other cookie
 * routes it refuses an Origin that is not listed.
 */
#include "sb.h"

static void
handle(struct sb_req *req)
{
	enum sb_err	 e;

	if ((e = sb_session_logout(req)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	sb_cookie_clear(req);
	sb_reply_ok(req, NULL);
}

static const struct sb_route route = {
	.name = "logout",
	.paths = {
		{ "/backend/logout", SB_M(SB_POST) },
		{ NULL },
	},
	.flags = SB_ROUTE_DB | SB_ROUTE_ORIGIN,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
