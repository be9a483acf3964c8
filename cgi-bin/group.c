/*
 * GET /api/v1/group/{id}/light: may the caller access the group? sentc's
 * answer, a member's rank or 310, cached for SENTC_BACKEND_ACCESS_CACHE_TTL.
 *
 * DELETE /api/v1/group/{id}: relayed; once sentc deleted the group, its
 * own data and every cached answer about it go too.
 *
 * Both relay the caller's x-sentc-group-access-id, the group through
 * which the caller reaches this one (a connected group's member group).
 *
 * Both live in one program, so that a delete drops the cache that the
 * access checks read.
 */
#include "sb.h"

enum { PATH_LIGHT, PATH_GROUP };

static void
light(struct sb_req *req, const char *gid)
{
	struct sb_light	 l;

	if (sb_group_light(req, gid, &l) == 0)
		sb_reply_raw(req, (int)l.status, "application/json", l.body,
		    l.len);
}

static void
delete(struct sb_req *req, const char *gid)
{
	struct sb_upstream_res	 up;
	struct sb_db		*db;
	const char		*access;
	char			 path[64];

	snprintf(path, sizeof(path), "/group/%s", gid);
	if (sb_group_access_id(req, &access) == -1 ||
	    sb_relay_group(req, SB_DELETE, path,
	    sb_token_of(SB_OPT_GROUP_DELETE), req->jwt, access, NULL, 0,
	    &up) == -1)
		return;
	if (up.ok) {
		sb_access_revoke(gid);	/* in every program, on every host */
		/* Gone at sentc: our rows are left over, never wrong. */
		if ((db = sb_db()) == NULL ||
		    sb_db_group_delete(db, gid) != SB_OK)
			sb_log(SB_LOG_ERR, "group %s deleted at sentc; its own "
			    "data is left over", gid);
	}
	sb_reply_upstream(req, &up);
	sb_upstream_res_free(&up);
}

static void
handle(struct sb_req *req)
{
	if (req->pattern == PATH_LIGHT)
		light(req, req->id[0]);
	else
		delete(req, req->id[0]);
}

static const struct sb_route route = {
	.name = "group",
	.paths = {
		[PATH_LIGHT] = { "/api/v1/group/{id}/light", SB_M(SB_GET) },
		[PATH_GROUP] = { "/api/v1/group/{id}", SB_M(SB_DELETE) },
		{ NULL },
	},
	.flags = SB_ROUTE_DB | SB_ROUTE_ACCESS,
	.caller = SB_USER,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
