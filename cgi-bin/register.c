/*
 * POST /api/v1/register
 *
 * The register input from prepareRegister, relayed with the secret token.
 * Its optional top-level user_data object stays here, stored with the new
 * user. If it cannot be stored, the user is deleted at sentc again; if
 * sentc's answer is lost on the way, the user it may have made is deleted
 * by identifier: there is to be no sentc user without its own row.
 */
#include "sb.h"

#define CODE_USER_NOT_FOUND	100	/* sentc: no such user */

/*
 * The register call reached sentc but its answer was lost (fault e):
 * sentc may have made the user. Unless the identifier is already ours
 * (sentc then refused it as taken), deletes it by identifier. Answers.
 */
static void
undo_unsure(struct sb_req *req, json_object *body, enum sb_err e)
{
	json_object	*dev, *undo;
	const char	*id, *text;
	char		 uid[SB_ID_LEN + 1];
	struct sb_db	*db;
	size_t		 len;
	enum sb_err	 de = SB_ERR_STORAGE;

	if (!json_object_object_get_ex(body, "device", &dev) ||
	    (id = sb_json_string(dev, "device_identifier")) == NULL) {
		sb_reply_err(req, e, NULL);	/* sentc makes no user then */
		return;
	}
	if ((db = sb_db()) != NULL)
		de = sb_db_user_by_identifier(db, id, uid, sizeof(uid));
	if (de == SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	if (de != SB_ERR_NO_USER_DATA) {
		/* Not knowing whose it is, leave it rather than delete it. */
		sb_log(SB_LOG_ERR, "INCONSISTENT: a register answer was lost "
		    "and the database is unavailable: not undone");
		sb_reply_err(req, SB_ERR_INCONSISTENT, NULL);
		return;
	}
	undo = json_object_new_object();
	json_object_object_add(undo, "user_identifier",
	    json_object_new_string(id));
	text = sb_json_text(undo, &len);
	sb_undo_unsure(req, e, SB_PUT, "/user/forced/delete", SB_TOKEN_SECRET,
	    text, len, CODE_USER_NOT_FOUND);
	json_object_put(undo);
}

static void
handle(struct sb_req *req)
{
	struct sb_upstream_res	 up = { 0 };
	json_object		*body, *user_data = NULL;
	const char		*relay, *user_id, *identifier;
	char			 undo[128];
	size_t			 len, dlen;
	struct sb_db		*db;
	enum sb_err		 e;

	if ((body = sb_body_object(req)) == NULL)
		return;
	if ((e = sb_json_take_object(body, "user_data",
	    (size_t)sb_cfg->max_user_data, &user_data)) != SB_OK) {
		sb_reply_err(req, e, e == SB_ERR_BODY_SHAPE ?
		    "user_data must be a JSON object" :
		    "user_data is larger than SENTC_BACKEND_MAX_USER_DATA");
		goto out;
	}
	/* Without user_data, the body goes on byte for byte. */
	if (user_data == NULL)
		relay = req->body, len = req->bodylen;
	else
		relay = sb_json_text(body, &len);
	if ((e = sb_upstream(req, SB_POST, "/register", SB_TOKEN_SECRET, NULL,
	    relay, len, &up)) != SB_OK) {
		if (up.sent)
			undo_unsure(req, body, e);
		else
			sb_reply_err(req, e, NULL);
		goto out;
	}
	if (!up.ok) {
		sb_reply_upstream(req, &up);
		goto out;
	}

	user_id = sb_json_string(up.result, "user_id");
	identifier = sb_json_string(up.result, "device_identifier");
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
	json_object_put(user_data);
	json_object_put(body);
}

static const struct sb_route route = {
	.name = "register",
	.paths = {
		{ "/api/v1/register", SB_M(SB_POST) },
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
