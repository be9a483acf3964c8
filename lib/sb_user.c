#include <stdio.h>
#include <stdlib.h>

#include "extern.h"

#define SENTC_USER_NOT_FOUND	100

void
sb_user_delete(struct sb_req *req, enum sb_method method, const char *path,
    enum sb_token token, const char *jwt, json_object *body,
    const char *user_id, bool gone, const char *retry)
{
	struct sb_upstream_res	 up;
	struct sb_db		*db;
	const char		*text = NULL;
	char			*data = NULL, msg[256];
	size_t			 len = 0;
	enum sb_err		 e;

	if ((db = sb_db_for(req)) == NULL)
		return;
	/*
	 * The store must answer before sentc is asked: it reads the user's
	 * row, and ends the user's cookie sessions, whatever sentc then
	 * answers.
	 */
	if (user_id[0] != '\0' &&
	    (((e = sb_db_user_data(db, user_id, &data)) != SB_OK &&
	    e != SB_ERR_NO_USER_DATA) ||
	    (e = sb_session_end_user(db, user_id)) != SB_OK)) {
		free(data);
		sb_reply_err(req, e, NULL);
		return;
	}
	free(data);
	if (body != NULL)
		text = sb_json_text(body, &len);
	if ((e = sb_upstream(req, method, path, token, jwt, text, len, &up)) !=
	    SB_OK) {
		/*
		 * The answer is lost (not sentc's own envelope of a server
		 * error, which says it failed): sentc may have deleted the
		 * user.
		 */
		if (up.sent && e != SB_ERR_UPSTREAM_ERROR &&
		    user_id[0] != '\0')
			sb_unsure_delete(req, e, user_id);
		else
			sb_reply_err(req, e, NULL);
		sb_upstream_res_free(&up);
		return;
	}
	if (user_id[0] != '\0' && (up.ok ||
	    (gone && up.err_code == SENTC_USER_NOT_FOUND)) &&
	    sb_db_user_delete(db, user_id) != SB_OK) {
		sb_log(SB_LOG_ERR, "INCONSISTENT: user %s is gone at sentc; "
		    "its own data is left over until %s is repeated",
		    user_id, retry);
		snprintf(msg, sizeof(msg), "The user is deleted at sentc, but "
		    "the backend could not remove its own data: repeat %s",
		    retry);
		sb_reply_err(req, SB_ERR_LEFT_OVER, msg);
	} else
		sb_reply_upstream(req, &up);
	sb_upstream_res_free(&up);
}
