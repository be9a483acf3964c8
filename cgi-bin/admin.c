/*
 * The admin routes: sentc's forced calls, which only the app's own
 * servers make. The caller shows the backend's admin credential
 * (SENTC_BACKEND_ADMIN_TOKEN); the call goes upstream with the secret
 * token and never with the caller's Authorization.
 *
 *   PUT, DELETE /api/v1/user/forced/disable_otp	{"user_identifier"}
 *   DELETE /api/v1/user/forced/sessions		{"user_identifier"}
 *   PUT /api/v1/user/forced/delete			{"user_identifier"}
 *   DELETE /api/v1/user/forced/delete/{user_id}
 *   GET /api/v1/group/forced/{group_id}/user/{user_id}
 *   DELETE /api/v1/group/forced/{group_id}
 *   DELETE /api/v1/group/forced/{user_id}/{group_id}/kick/{user_to_kick}
 *
 * DELETE on disable_otp is what the seed documents; sentc routes PUT.
 *
 * Ending a user's sessions, and deleting a user, first ends every cookie
 * session of that user in the store (lib/sb_session.h), before sentc is
 * asked: no cookie of the user refreshes again, on any host, whatever
 * sentc answers and however late. A user known by identifier only needs
 * an own row (registered through the backend) for that; without one,
 * the cookies end when sentc refuses their refresh tokens.
 *
 * The deletes go to sentc first and then remove the user's own data, so
 * that a sentc failure changes nothing; the store must answer before
 * anything is sent. If it fails once sentc has deleted the user, nothing
 * can bring the user back: the answer is 500 (SB_ERR_LEFT_OVER, logged as
 * INCONSISTENT) and names the delete by id, which finishes the job when
 * repeated: sentc's "user not found" for an id removes that id's own data.
 * If sentc's answer is lost on the way, the delete of the user with an
 * own row is finished by id (sb_unsure.h).
 *
 * A forced group delete, and a forced kick, end every cached answer
 * about the group (about the kicked member) in every program and on
 * every host (sb_access_revoke()): once before sentc is asked, so that a
 * store that cannot record it changes nothing (503), and once more after
 * sentc's success, for answers cached meanwhile. The delete then removes
 * the group's own data and items. Either failing after sentc's success
 * is SB_ERR_LEFT_OVER (500, logged).
 */
#include "sb.h"

#define IDENTIFIER_MAX		512	/* bytes of a user_identifier */
#define SENTC_USER_NOT_FOUND	100

enum { P_DISABLE_OTP, P_SESSIONS, P_DELETE, P_DELETE_ID, P_MEMBER,
    P_GROUP_DELETE, P_KICK };

/*
 * The body sentc takes, {"user_identifier": "..."}, from the request's.
 * Returns it with *ident pointing into it (the caller puts it), or NULL
 * once it has answered 400 or 413.
 */
enum { IN_IDENTIFIER };

static const struct sb_input ident_in[] = {
	[IN_IDENTIFIER] = { "user_identifier", SB_BODY, SB_TEXT, SB_REQUIRED,
	    .max = IDENTIFIER_MAX, .msg = "user_identifier must be a non-empty "
	    "string of at most 512 bytes without control characters" },
	{ NULL },
};

/* The body sentc takes: {"user_identifier": ...} and nothing else. */
static json_object *
identifier_body(struct sb_req *req, const char **ident)
{
	json_object	*out = json_object_new_object();

	*ident = req->in[IN_IDENTIFIER].s;
	json_object_object_add(out, "user_identifier", json_object_new_string_len(
	    *ident, (int)req->in[IN_IDENTIFIER].len));
	return out;
}

static void
relay(struct sb_req *req, enum sb_method m, const char *path,
    json_object *body)
{
	struct sb_upstream_res	 up;
	const char		*text = NULL;
	size_t			 len = 0;

	if (body != NULL)
		text = sb_json_text(body, &len);
	if (sb_relay(req, m, path, SB_TOKEN_SECRET, NULL, text, len,
	    &up) == -1)
		return;
	sb_reply_upstream(req, &up);
	sb_upstream_res_free(&up);
}

/*
 * The forced group delete (kicked NULL) or kick at sentc, with the cached
 * answers ended around it (above).
 */
static void
group_forced(struct sb_req *req, const char *gid, const char *kicked)
{
	struct sb_upstream_res	 up;
	struct sb_db		*db;
	const char		*access = NULL, *gone = kicked != NULL ?
				    kicked : gid;
	char			 path[192];
	enum sb_err		 e;

	if (kicked != NULL) {
		snprintf(req->user, sizeof(req->user), "%s", kicked);
		snprintf(path, sizeof(path), "/group/forced/%s/%s/kick/%s",
		    req->id[0], gid, kicked);
		if (sb_group_access_id(req, &access) == -1)
			return;
	} else
		snprintf(path, sizeof(path), "/group/forced/%s", gid);
	if ((db = sb_db_for(req)) == NULL)
		return;
	if ((e = sb_access_revoke(gone)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	if (sb_relay_group(req, SB_DELETE, path, SB_TOKEN_SECRET, NULL,
	    access, NULL, 0, &up) == -1)
		return;
	if (up.ok && ((e = sb_access_revoke(gone)) != SB_OK ||
	    (kicked == NULL && (e = sb_db_group_delete(db, gid)) != SB_OK))) {
		sb_log(SB_LOG_ERR, "INCONSISTENT: %s at sentc; %s", kicked !=
		    NULL ? "member kicked" : "group deleted", kicked != NULL ?
		    "its cached access answers may last their TTL" :
		    "its own data is left over");
		sb_reply_err(req, SB_ERR_LEFT_OVER, kicked != NULL ?
		    "The member was kicked at sentc, but the end of its "
		    "cached access could not be recorded" : "The group was "
		    "deleted at sentc, but its own data was not removed");
	} else
		sb_reply_upstream(req, &up);
	sb_upstream_res_free(&up);
}

static void
handle(struct sb_req *req)
{
	json_object	*body = NULL;
	const char	*ident;
	char		 path[128], retry[160], uid[SB_ID_LEN + 1] = "";
	struct sb_db	*db;
	enum sb_err	 e;

	switch (req->pattern) {
	case P_DISABLE_OTP:
		if ((body = identifier_body(req, &ident)) == NULL)
			return;
		relay(req, SB_PUT, "/user/forced/disable_otp", body);
		break;
	case P_SESSIONS:
		if ((body = identifier_body(req, &ident)) == NULL ||
		    (db = sb_db_for(req)) == NULL)
			break;
		e = sb_db_user_by_identifier(db, ident, uid, sizeof(uid));
		if (e == SB_OK) {
			snprintf(req->user, sizeof(req->user), "%s", uid);
			e = sb_session_end_user(db, uid);
		}
		if (e != SB_OK && e != SB_ERR_NO_USER_DATA) {
			sb_reply_err(req, e, NULL);
			break;
		}
		relay(req, SB_DELETE, "/user/forced/sessions", body);
		break;
	case P_DELETE:
		if ((body = identifier_body(req, &ident)) == NULL ||
		    (db = sb_db_for(req)) == NULL)
			break;
		e = sb_db_user_by_identifier(db, ident, uid, sizeof(uid));
		if (e != SB_OK && e != SB_ERR_NO_USER_DATA) {
			sb_reply_err(req, e, NULL);
			break;
		}
		snprintf(req->user, sizeof(req->user), "%s", uid);
		snprintf(retry, sizeof(retry), "DELETE "
		    "/api/v1/user/forced/delete/%s", uid);
		sb_user_delete(req, SB_PUT, "/user/forced/delete",
		    SB_TOKEN_SECRET, NULL, body, uid, false, retry);
		break;
	case P_DELETE_ID:
		snprintf(req->user, sizeof(req->user), "%s", req->id[0]);
		snprintf(path, sizeof(path), "/user/forced/delete/%s",
		    req->id[0]);
		snprintf(retry, sizeof(retry), "DELETE /api/v1%s", path);
		sb_user_delete(req, SB_DELETE, path, SB_TOKEN_SECRET, NULL,
		    NULL, req->id[0], true, retry);
		break;
	case P_MEMBER:
		snprintf(req->user, sizeof(req->user), "%s", req->id[1]);
		snprintf(path, sizeof(path), "/group/forced/%s/user/%s",
		    req->id[0], req->id[1]);
		relay(req, SB_GET, path, NULL);
		break;
	case P_GROUP_DELETE:
		group_forced(req, req->id[0], NULL);
		break;
	case P_KICK:
		group_forced(req, req->id[1], req->id[2]);
		break;
	}
	json_object_put(body);
}

static const struct sb_route route = {
	.name = "admin",
	.paths = {
		[P_DISABLE_OTP] = { "/api/v1/user/forced/disable_otp",
		    SB_M(SB_PUT) | SB_M(SB_DELETE), SB_M(SB_PUT) |
		    SB_M(SB_DELETE), ident_in },
		[P_SESSIONS] = { "/api/v1/user/forced/sessions",
		    SB_M(SB_DELETE), SB_M(SB_DELETE), ident_in },
		[P_DELETE] = { "/api/v1/user/forced/delete", SB_M(SB_PUT),
		    SB_M(SB_PUT), ident_in },
		[P_DELETE_ID] = { "/api/v1/user/forced/delete/{id}",
		    SB_M(SB_DELETE) },
		[P_MEMBER] = { "/api/v1/group/forced/{id}/user/{id}",
		    SB_M(SB_GET) },
		[P_GROUP_DELETE] = { "/api/v1/group/forced/{id}",
		    SB_M(SB_DELETE) },
		[P_KICK] = { "/api/v1/group/forced/{id}/{id}/kick/{id}",
		    SB_M(SB_DELETE) },
		{ NULL },
	},
	.flags = SB_ROUTE_DB | SB_ROUTE_NO_CORS | SB_ROUTE_SETTLE,
	.caller = SB_ADMIN,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
