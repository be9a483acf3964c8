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

static void
handle(struct sb_req *req)
{
	struct sb_upstream_res	 up = { 0 };
	json_object		*body, *group_data = NULL;
	const char		*relay, *gid, *access;
	char			 undo[64];
	size_t			 len, dlen;
	struct sb_db		*db;
	enum sb_err		 e;

	if (sb_auth_user(req, 0) == -1 ||
	    sb_group_access_id(req, &access) == -1 ||
	    (body = sb_body_object(req)) == NULL)
		return;
	if ((e = sb_json_take_object(body, "group_data",
	    (size_t)sb_cfg->max_group_data, &group_data)) != SB_OK) {
		sb_reply_err(req, e, e == SB_ERR_BODY_SHAPE ?
		    "group_data must be a JSON object" :
		    "group_data is larger than SENTC_BACKEND_MAX_GROUP_DATA");
		goto out;
	}
	if (group_data == NULL)
		relay = req->body, len = req->bodylen;
	else
		relay = sb_json_text(body, &len);
	if (sb_relay_group(req, SB_POST, "/group",
	    sb_cfg->token[SB_OPT_GROUP_CREATE], req->jwt, access, relay, len,
	    &up) == -1)
		goto out;
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
		    sb_cfg->token[SB_OPT_GROUP_DELETE], req->jwt);
		goto out;
	}
	sb_reply_upstream(req, &up);
out:
	sb_upstream_res_free(&up);
	json_object_put(group_data);
	json_object_put(body);
}

static const struct sb_route route = {
	.name = "group-create",
	.paths = {
		{ "/api/v1/group", SB_M(SB_POST) },
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
