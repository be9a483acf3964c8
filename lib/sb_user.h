/*
 * sb_user.h: deleting a user, as the routes that do it share it: at sentc
 * first, then the user's own data, so that a sentc failure leaves the
 * data here. The user's cookie sessions end before sentc is asked, on
 * the safe side: a delete that fails has still logged the user out.
 */
#ifndef SB_USER_H
#define SB_USER_H

#include <stdbool.h>

#include <json-c/json.h>

#include "sb_config.h"
#include "sb_request.h"

/*
 * Deletes a user: asks the store first, which reads the own row of
 * user_id and ends every cookie session of user_id
 * (sb_session_end_user(); 503 if it cannot, and nothing is sent), calls
 * method path at sentc with token, jwt (NULL: none) and body (NULL:
 * none), and once sentc succeeded, or answered
 * that it has no such user when gone is set, removes the own row of
 * user_id ("" for none). If that fails, the user is gone at sentc and
 * nothing brings it back: the answer is 500 (SB_ERR_LEFT_OVER, logged as
 * INCONSISTENT) and tells the caller to repeat retry, which finishes the
 * job. If sentc's answer is lost after the call reached it, the delete
 * of user_id is finished as sb_unsure_delete() says. Answers the request
 * in every case.
 */
void	 sb_user_delete(struct sb_req *req, enum sb_method method,
	    const char *path, enum sb_token token, const char *jwt,
	    json_object *body, const char *user_id, bool gone,
	    const char *retry);

#endif
