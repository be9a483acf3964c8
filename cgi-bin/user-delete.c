/*
 * DELETE /api/v1/user: the user deletes their own account.
 *
 * Needs a fresh JWT (right after a login): a refreshed one is refused
 * before anything is sent. Relayed with the secret token; once sentc
 * deleted the user, the user's own data goes too.
 */
#include "sb.h"

static void
handle(struct sb_req *req)
{
	struct sb_upstream_res	 up;
	struct sb_db		*db;

	if (sb_auth_user(req, 0) == -1)
		return;
	if (!req->who.fresh) {
		sb_reply_err(req, SB_ERR_JWT_NOT_FRESH, NULL);
		return;
	}
	if (sb_relay(req, SB_DELETE, "/user", SB_TOKEN_SECRET, req->jwt, NULL,
	    0, &up) == -1)
		return;
	if (up.ok && ((db = sb_db()) == NULL ||
	    sb_db_user_delete(db, req->who.aud) != SB_OK))
		sb_log(SB_LOG_ERR, "user %s deleted at sentc; its own data is "
		    "left over", req->who.aud);
	sb_reply_upstream(req, &up);
	sb_upstream_res_free(&up);
}

static const struct sb_route route = {
	.name = "user-delete",
	.paths = {
		{ "/api/v1/user", SB_M(SB_DELETE) },
		{ NULL },
	},
	.flags = SB_ROUTE_DB,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
