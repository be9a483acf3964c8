/*
 * GET /backend/me: the caller's own data.
 * PUT /backend/me: replaces it with the body, a JSON object of at most
 * SENTC_BACKEND_MAX_USER_DATA bytes.
 *
 * A user without a row (registered elsewhere) gets 404.
 */
#include "sb.h"

enum { IN_DATA };

static const struct sb_input in[] = {
	[IN_DATA] = { "", SB_BODY, SB_OBJECT, SB_REQUIRED,
	    .limit = SB_LIMIT_USER_DATA },
	{ NULL },
};

static void
handle(struct sb_req *req)
{
	json_object	*data;
	struct sb_db	*db;
	char		*text;
	size_t		 len;
	enum sb_err	 e;

	if ((db = sb_db_for(req)) == NULL)
		return;
	if (req->method == SB_GET) {
		if ((e = sb_db_user_data(db, req->who.aud, &text)) != SB_OK)
			sb_reply_err(req, e, NULL);
		else
			sb_reply_ok_json(req, text, strlen(text));
		free(text);
		return;
	}
	data = req->in[IN_DATA].obj;
	if ((e = sb_db_user_set_data(db, req->who.aud,
	    sb_json_text(data, &len))) != SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, data);
}

static const struct sb_route route = {
	.name = "me",
	.paths = {
		{ "/backend/me", SB_M(SB_GET) | SB_M(SB_PUT), SB_M(SB_PUT),
		    in },
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
