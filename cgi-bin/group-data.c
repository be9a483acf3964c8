/*
 * GET /backend/groups/{gid}/data: the group's own data, for its members.
 * PUT /backend/groups/{gid}/data: replaces it with the body, a JSON
 * object of at most SENTC_BACKEND_MAX_GROUP_DATA bytes; only for the
 * group's admins and its creator (rank 1 or 0).
 *
 * The data is what POST /api/v1/group stored with the new group; a group
 * created elsewhere has none (404).
 */
#include "sb.h"

enum { IN_DATA };

static const struct sb_input in[] = {
	[IN_DATA] = { "", SB_BODY, SB_OBJECT, SB_REQUIRED,
	    .limit = SB_LIMIT_GROUP_DATA },
	{ NULL },
};

static void
handle(struct sb_req *req)
{
	const char	*gid = req->id[0];
	json_object	*data;
	struct sb_db	*db;
	char		*text;
	size_t		 len;
	enum sb_err	 e;

	/* May they touch the group with this rank? */
	if (sb_group_member(req, gid, req->method == SB_PUT ?
	    SB_RANK_ADMIN : SB_RANK_ANY, NULL) == -1 ||
	    (db = sb_db_for(req)) == NULL)
		return;

	if (req->method == SB_GET) {
		if ((e = sb_db_group_data(db, gid, &text)) != SB_OK)
			sb_reply_err(req, e, NULL);
		else
			sb_reply_ok_json(req, text, strlen(text));
		free(text);
		return;
	}
	data = req->in[IN_DATA].obj;
	if ((e = sb_db_group_set_data(db, gid, sb_json_text(data, &len))) !=
	    SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, data);
}

static const struct sb_route route = {
	.name = "group-data",
	.paths = {
		{ "/backend/groups/{id}/data", SB_M(SB_GET) | SB_M(SB_PUT),
		    SB_M(SB_PUT), in },
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
