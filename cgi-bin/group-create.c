/*
 * POST /api/v1/group
 *
 * The input from prepareGroupCreate, relayed with the caller's JWT and
 * the token of the app option group_create. Its optional top-level
 * group_data object stays here, stored with the new group id and its
 * creator. If it cannot be stored, the group is deleted at sentc again,
 * with the token of group_delete. A x-sentc-group-access-id goes along
 * (sentc reads it on a group's own routes only); the undo goes without,
 * as the creator is the new group's member itself.
 */
#include "sb.h"

enum { IN_GROUP_DATA };

static const struct sb_input in[] = {
	[IN_GROUP_DATA] = { "group_data", SB_BODY, SB_OBJECT, SB_TAKE,
	    .limit = SB_LIMIT_GROUP_DATA, .err = SB_ERR_BODY_SHAPE,
	    .msg = "group_data must be a JSON object" },
	{ NULL },
};

static void
handle(struct sb_req *req)
{
	struct sb_upstream_res	 up;
	json_object		*group_data = req->in[IN_GROUP_DATA].obj;
	const char		*gid, *access;
	char			 undo[64];
	size_t			 dlen;
	struct sb_db		*db;

	if (sb_group_access_id(req, &access) == -1 ||
	    sb_relay_group(req, SB_POST, "/group",
	    sb_token_of(SB_OPT_GROUP_CREATE), req->jwt, access, req->relay,
	    req->relaylen, &up) == -1)
		return;
	if (!up.ok) {
		sb_reply_upstream(req, &up);
		goto out;
	}

	if ((gid = sb_json_string(sb_upstream_result(&up), "group_id")) == NULL ||
	    !sb_is_uuid(gid, strlen(gid))) {
		sb_reply_err(req, SB_ERR_UPSTREAM_BAD, NULL);
		goto out;
	}
	if ((db = sb_db()) == NULL || sb_db_group_create(db, gid,
	    req->who.aud, group_data != NULL ?
	    sb_json_text(group_data, &dlen) : NULL) != SB_OK) {
		snprintf(undo, sizeof(undo), "/group/%s", gid);
		sb_compensate(req, SB_DELETE, undo,
		    sb_token_of(SB_OPT_GROUP_DELETE), req->jwt);
		goto out;
	}
	sb_reply_upstream(req, &up);
out:
	sb_upstream_res_free(&up);
}

static const struct sb_route route = {
	.name = "group-create",
	.paths = {
		{ "/api/v1/group", SB_M(SB_POST), SB_M(SB_POST), in },
		{ NULL },
	},
	.flags = SB_ROUTE_DB,
	.caller = SB_USER,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
