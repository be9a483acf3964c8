/*
 * DELETE /api/v1/user: the user deletes their own account.
 *
 * Needs a fresh JWT (right after a login): a refreshed one gets sentc's
 * own answer, 401 with code 113, before anything is sent. The store must answer before anything is sent
 * too. Relayed with the token of the app option user_delete (the secret
 * one, unless configured otherwise); once sentc deleted the user, the
 * user's own data goes. If it cannot, nothing brings the user back at
 * sentc: the answer is 500 (SB_ERR_LEFT_OVER, logged as INCONSISTENT),
 * and repeating the call finishes the job: sentc's "user not found" for
 * the JWT's user removes that user's own data. If sentc's answer is lost
 * on the way, the delete is finished by id (sb_unsure.h).
 */
#include "sb.h"

#define SENTC_NOT_FRESH	113	/* sentc: the JWT is not fresh enough */

static void
handle(struct sb_req *req)
{
	/* As sentc answers it, so that the SDK sees the same. */
	if (!req->who.fresh) {
		sb_reply_sentc(req, 401, SENTC_NOT_FRESH,
		    "The jwt is not valid for this action");
		return;
	}
	sb_user_delete(req, SB_DELETE, "/user", sb_token_of(SB_OPT_USER_DELETE),
	    req->jwt, NULL, req->who.aud, true, "DELETE /api/v1/user");
}

static const struct sb_route route = {
	.name = "user-delete",
	.paths = {
		{ "/api/v1/user", SB_M(SB_DELETE) },
		{ NULL },
	},
	.flags = SB_ROUTE_DB | SB_ROUTE_SETTLE,
	.caller = SB_USER,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
