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

static void
handle(struct sb_req *req)
{
	json_object	*body = NULL, *res = NULL, *data = NULL;
	const char	*tok;
	char		*text = NULL;
	size_t		 len;
	struct sb_db	*db;
	bool		 ended;
	enum sb_err	 e;

	if (sb_cookie_ready(req) == -1 || sb_auth_user(req, 0) == -1 ||
	    (body = sb_body_object(req)) == NULL)
		goto out;
	if (sb_cookie_token(body, &tok, &len) != SB_OK) {
		sb_reply_err(req, SB_ERR_FIELD, "refresh_token must be a "
		    "string of 1 to 1024 characters without control "
		    "characters");
		goto out;
	}
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
	json_object_put(body);
	/* The request body held the refresh token. */
	if (req->body != NULL)
		sb_wipe(req->body, req->bodylen);
}

static const struct sb_route route = {
	.name = "session",
	.paths = {
		{ "/backend/session", SB_M(SB_POST) },
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
