/*
 * POST /api/v1/register
 *
 * The register input from prepareRegister, relayed with the token of the
 * app option user_register (the secret one, unless configured otherwise).
 * Its optional top-level user_data object stays here, stored with the new
 * user. If it cannot be stored, the user is deleted at sentc again. A
 * lost answer is the library's to settle (docs/FAILURES.md).
 */
#include "sb.h"

enum { IN_USER_DATA, IN_IDENTIFIER };

static const struct sb_input in[] = {
	[IN_USER_DATA] = { "user_data", SB_BODY, SB_OBJECT, SB_TAKE,
	    .limit = SB_LIMIT_USER_DATA, .err = SB_ERR_BODY_SHAPE,
	    .msg = "user_data must be a JSON object" },
	[IN_IDENTIFIER] = { "device.device_identifier", SB_BODY, SB_TEXT,
	    .max = 512, .msg = "device.device_identifier must be a non-empty "
	    "string of at most 512 bytes without control characters" },
	{ NULL },
};

static void
handle(struct sb_req *req)
{
	struct sb_upstream_res	 up;
	json_object		*user_data = req->in[IN_USER_DATA].obj;
	const char		*user_id, *identifier;
	char			 undo[128];
	size_t			 dlen;
	struct sb_db		*db;

	if (sb_relay_register(req, req->in[IN_IDENTIFIER].s, req->relay,
	    req->relaylen, &up) == -1)
		return;
	if (!up.ok) {
		sb_reply_upstream(req, &up);
		goto out;
	}
	user_id = sb_json_string(sb_upstream_result(&up), "user_id");
	identifier = sb_json_string(sb_upstream_result(&up),
	    "device_identifier");
	if (user_id == NULL || !sb_is_uuid(user_id, strlen(user_id)) ||
	    identifier == NULL) {
		sb_reply_err(req, SB_ERR_UPSTREAM_BAD, NULL);
		goto out;
	}
	snprintf(req->user, sizeof(req->user), "%s", user_id);
	if ((db = sb_db()) == NULL || sb_db_user_create(db, user_id,
	    identifier, user_data != NULL ? sb_json_text(user_data, &dlen) :
	    NULL) != SB_OK) {
		snprintf(undo, sizeof(undo), "/user/forced/delete/%s", user_id);
		sb_compensate(req, SB_DELETE, undo, SB_TOKEN_SECRET, NULL);
		goto out;
	}
	sb_reply_upstream(req, &up);
out:
	sb_upstream_res_free(&up);
}

static const struct sb_route route = {
	.name = "register",
	.paths = {
		{ "/api/v1/register", SB_M(SB_POST), SB_M(SB_POST), in },
		{ NULL },
	},
	.flags = SB_ROUTE_DB | SB_ROUTE_SETTLE,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
