/*
 * POST /backend/session
 *
 * Called once after the client logged in, with its JWT (valid, not
 * expired) and the body {"refresh_token": "..."}. Sets the refresh
 * cookie, sealed for the JWT's user and device, and answers with the
 * user's ids and own data: {user_id, device_id, user_data}, where
 * user_data is null for a user without an own row (registered
 * elsewhere). A refresh token whose session has ended (logged out), or
 * a JWT issued before all of the user's sessions were ended, makes no
 * cookie: 401. Nothing is set unless the whole answer is a success.
 */
#include "sb.h"

enum { IN_TOKEN };

static const struct sb_input in[] = {
	[IN_TOKEN] = { "refresh_token", SB_BODY, SB_TEXT, SB_REQUIRED,
	    .max = SB_REFRESH_TOKEN_MAX, .msg = "refresh_token must be a "
	    "string of 1 to 1024 characters without control characters" },
	{ NULL },
};

static void
handle(struct sb_req *req)
{
	json_object	*res = NULL, *data = NULL;
	const char	*tok = req->in[IN_TOKEN].s;
	char		*text = NULL;
	size_t		 len = req->in[IN_TOKEN].len;
	struct sb_db	*db;
	bool		 ended;
	enum sb_err	 e;

	if ((db = sb_db_for(req)) == NULL)
		goto out;
	if ((e = sb_session_ended(db, tok, len, req->who.aud, req->who.iat,
	    &ended)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		goto out;
	}
	if (ended) {
		sb_reply_err(req, SB_ERR_COOKIE, "This session has ended "
		    "(logged out, or all of the user's sessions were ended): "
		    "log in again");
		goto out;
	}
	e = sb_db_user_data(db, req->who.aud, &text);
	if (e == SB_OK && sb_json_parse(text, strlen(text), &data) != SB_OK)
		e = SB_ERR_STORAGE;
	if (e != SB_OK && e != SB_ERR_NO_USER_DATA) {
		sb_reply_err(req, e, NULL);
		goto out;
	}
	if (sb_cookie_set(req, &req->who, tok, len) == -1)
		goto out;
	res = json_object_new_object();
	json_object_object_add(res, "user_id",
	    json_object_new_string(req->who.aud));
	json_object_object_add(res, "device_id",
	    json_object_new_string(req->who.sub));
	json_object_object_add(res, "user_data", json_object_get(data));
	sb_reply_ok(req, res);
out:
	json_object_put(res);
	json_object_put(data);
	free(text);
}

static const struct sb_route route = {
	.name = "session",
	.paths = {
		{ "/backend/session", SB_M(SB_POST), SB_M(SB_POST), in },
		{ NULL },
	},
	/* The body holds the refresh token. */
	.flags = SB_ROUTE_DB | SB_ROUTE_ORIGIN | SB_ROUTE_COOKIE |
	    SB_ROUTE_SECRET,
	.caller = SB_USER,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
