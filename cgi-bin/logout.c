/*
 * POST /backend/logout
 *
 * Clears the refresh cookie (Max-Age=0) and answers 200, whether or not
 * there was one and whether or not a cookie key is configured. Like the
 * other cookie routes it refuses an Origin that is not listed.
 */
#include "sb.h"

static void
handle(struct sb_req *req)
{
	sb_cookie_clear(req);
	sb_reply_ok(req, NULL);
}

static const struct sb_route route = {
	.name = "logout",
	.paths = {
		{ "/backend/logout", SB_M(SB_POST) },
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
