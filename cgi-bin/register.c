/*
 * POST /api/v1/register
 *
 * The register input from prepareRegister, relayed with the token of the
 * app option user_register (the secret one, unless configured otherwise).
 * Its optional top-level user_data object stays here, stored with the new
 * user. If it cannot be stored, the user is deleted at sentc again.
 *
 * If sentc's answer is lost on the way (the call reached sentc, the
 * answer did not come back), sentc may have made the user, or may make
 * it later: it is deleted by identifier, but only if sentc did not have
 * the identifier before (asked first, POST /exists), so that nobody
 * else's account is ever deleted; unless that found the user, the
 * register is recorded and settled later (sb_unsure.h). A register of a
 * name with such a record holds it while it runs. There is to be no
 * sentc user without its own row.
 */
#include "sb.h"

/*
 * Does sentc have a user with identifier already? Returns 1 or 0, or -1
 * once it has answered a fault.
 */
static int
taken(struct sb_req *req, const char *id)
{
	struct sb_upstream_res	 up;
	json_object		*q, *avail;
	const char		*text;
	size_t			 len;
	int			 rc;

	q = json_object_new_object();
	json_object_object_add(q, "user_identifier",
	    json_object_new_string(id));
	text = sb_json_text(q, &len);
	rc = sb_relay(req, SB_POST, "/exists", sb_cfg->token[SB_OPT_USER_EXISTS],
	    NULL, text, len, &up);
	json_object_put(q);
	if (rc == -1)
		return -1;
	rc = !(up.ok && json_object_object_get_ex(sb_upstream_result(&up), "available",
	    &avail) && json_object_is_type(avail, json_type_boolean) &&
	    json_object_get_boolean(avail));
	sb_upstream_res_free(&up);
	return rc;
}

static void
handle(struct sb_req *req)
{
	struct sb_upstream_res	 up = { 0 };
	json_object		*body, *user_data = NULL, *dev;
	const char		*relay, *user_id, *identifier, *id = NULL;
	char			 undo[128];
	size_t			 len, dlen;
	struct sb_db		*db;
	enum sb_err		 e;
	int			 was_taken = 1, held = 0;
	bool			 stored = false;

	sb_unsure_pass();
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
	/* Without an identifier, sentc makes no user. */
	if (json_object_object_get_ex(body, "device", &dev) &&
	    (id = sb_json_string(dev, "device_identifier")) != NULL &&
	    ((held = sb_unsure_hold_register(req, id)) == -1 ||
	    (was_taken = taken(req, id)) == -1))
		goto out;
	if ((e = sb_upstream(req, SB_POST, "/register",
	    sb_cfg->token[SB_OPT_USER_REGISTER], NULL, relay, len, &up)) !=
	    SB_OK) {
		/* sentc's own envelope of a server error says it failed. */
		if (up.sent && !was_taken && e != SB_ERR_UPSTREAM_ERROR)
			sb_unsure_register(req, e, id);
		else
			sb_reply_err(req, e, NULL);
		goto out;
	}
	if (!up.ok) {
		sb_reply_upstream(req, &up);
		goto out;
	}

	user_id = sb_json_string(sb_upstream_result(&up), "user_id");
	identifier = sb_json_string(sb_upstream_result(&up), "device_identifier");
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
	stored = true;
	sb_reply_upstream(req, &up);
out:
	if (held == 1)
		sb_unsure_registered(id, stored);
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
