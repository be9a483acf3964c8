/*
 * GET /backend/me: the caller's own data.
 * PUT /backend/me: replaces it with the body, a JSON object.
 *
 * A user without a row (registered elsewhere) gets 404.
 */
#include "sb.h"

static void
get(struct sb_req *req, struct sb_db *db)
{
	json_object	*data;
	char		*text;
	enum sb_err	 e;

	if ((e = sb_db_user_data(db, req->who.aud, &text)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	if (sb_json_parse(text, strlen(text), &data) != SB_OK)
		sb_reply_err(req, SB_ERR_STORAGE, NULL);
	else
		sb_reply_ok(req, data);
	json_object_put(data);
	free(text);
}

static void
put(struct sb_req *req, struct sb_db *db)
{
	json_object	*data;
	const char	*text;
	size_t		 len;
	enum sb_err	 e;

	if ((data = sb_body_object(req)) == NULL)
		return;
	text = sb_json_text(data, &len);
	if (len > (size_t)sb_cfg->max_user_data)
		sb_reply_err(req, SB_ERR_FIELD_TOO_LARGE,
		    "user_data is larger than SENTC_BACKEND_MAX_USER_DATA");
	else if ((e = sb_db_user_set_data(db, req->who.aud, text)) != SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, data);
	json_object_put(data);
}

static void
handle(struct sb_req *req)
{
	struct sb_db	*db;

	if (sb_auth_user(req, 0) == -1 || (db = sb_db_for(req)) == NULL)
		return;
	if (req->method == SB_GET)
		get(req, db);
	else
		put(req, db);
}

static const struct sb_route route = {
	.name = "me",
	.paths = {
		{ "/backend/me", SB_M(SB_GET) | SB_M(SB_PUT) },
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
