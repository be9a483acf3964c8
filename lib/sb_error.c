#include "extern.h"

/*
 * One switch, so that the compiler (-Wswitch) flags an error without a
 * status or a message.
 */
static void
describe(enum sb_err e, int *status, const char **msg)
{
	switch (e) {
	case SB_OK:
		*status = 200, *msg = "Success";
		return;
	case SB_ERR_INTERNAL:
		*status = 500, *msg = "Internal error";
		return;
	case SB_ERR_METHOD:
		*status = 405, *msg = "Method not allowed on this route";
		return;
	case SB_ERR_NOT_FOUND:
		*status = 404, *msg = "Page not found";
		return;
	case SB_ERR_BAD_ID:
		*status = 400, *msg = "An id in the path is not a valid id";
		return;
	case SB_ERR_BODY_TOO_LARGE:
		*status = 413, *msg = "Request body too large";
		return;
	case SB_ERR_BODY_NOT_JSON:
		*status = 400, *msg = "Request body is not valid JSON";
		return;
	case SB_ERR_BODY_SHAPE:
		*status = 400, *msg = "Request body has the wrong shape";
		return;
	case SB_ERR_FIELD_TOO_LARGE:
		*status = 413, *msg = "A member of the request body is too large";
		return;
	case SB_ERR_UPSTREAM_DOWN:
		*status = 502, *msg = "The sentc API could not be reached";
		return;
	case SB_ERR_UPSTREAM_BAD:
		*status = 502, *msg = "The sentc API gave an invalid answer";
		return;
	case SB_ERR_UPSTREAM_TIMEOUT:
		*status = 504, *msg = "The sentc API did not answer in time";
		return;
	case SB_ERR_JWT_MISSING:
		*status = 401, *msg = "No jwt: send Authorization: Bearer <jwt>";
		return;
	case SB_ERR_JWT_FORMAT:
		*status = 401, *msg = "The jwt is malformed";
		return;
	case SB_ERR_JWT_ALG:
		*status = 401, *msg = "The jwt is not signed with ES384";
		return;
	case SB_ERR_JWT_KEY:
		*status = 401, *msg = "The jwt's key id is unknown";
		return;
	case SB_ERR_JWT_SIGNATURE:
		*status = 401, *msg = "The jwt's signature is invalid";
		return;
	case SB_ERR_JWT_EXPIRED:
		*status = 401, *msg = "The jwt is expired or not yet valid";
		return;
	case SB_ERR_JWT_CLAIMS:
		*status = 401, *msg = "The jwt lacks a valid aud, sub or exp";
		return;
	case SB_ERR_JWT_NOT_FRESH:
		*status = 401, *msg = "This action needs a fresh login: "
		    "the jwt was refreshed, log in again";
		return;
	case SB_ERR_STORAGE:
		*status = 503, *msg = "The backend's database is unavailable";
		return;
	case SB_ERR_NO_USER_DATA:
		*status = 404, *msg = "No user data stored for this user";
		return;
	case SB_ERR_COMPENSATED:
		*status = 503, *msg = "The backend could not store the result; "
		    "the action was undone at sentc, try again";
		return;
	case SB_ERR_INCONSISTENT:
		*status = 500, *msg = "The backend could not store the result "
		    "and could not undo it at sentc";
		return;
	case SB_ERR_HEADER:
		*status = 400, *msg = "A request header is malformed";
		return;
	case SB_ERR_UPSTREAM_ERROR:
		*status = 502, *msg = "The sentc API failed to handle the request";
		return;
	case SB_ERR_NOT_READY:
		*status = 503, *msg = "The backend is not ready";
		return;
	case SB_ERR_NO_ITEM:
		*status = 404, *msg = "No such item in this group";
		return;
	case SB_ERR_QUERY:
		*status = 400, *msg = "A query parameter is malformed";
		return;
	case SB_ERR_BAD_REQUEST:
		*status = 400, *msg = "The request is malformed";
		return;
	case SB_ERR_ORIGIN:
		*status = 403, *msg = "This origin may not use this route";
		return;
	case SB_ERR_COOKIE:
		*status = 401, *msg = "No valid session cookie: log in again";
		return;
	case SB_ERR_ADMIN_AUTH:
		*status = 401, *msg = "The admin credential is missing or wrong";
		return;
	case SB_ERR_ADMIN_CLOSED:
		*status = 403, *msg = "The admin routes are closed: no admin "
		    "credential is configured";
		return;
	case SB_ERR_FIELD:
		*status = 400, *msg = "A member of the request body is missing "
		    "or invalid";
		return;
	case SB_ERR_NO_GROUP_DATA:
		*status = 404, *msg = "No data stored for this group";
		return;
	case SB_ERR_ADMIN_NETWORK:
		*status = 403, *msg = "The admin routes are not served to this "
		    "address";
		return;
	case SB_ERR_LEFT_OVER:
		*status = 500, *msg = "Done at sentc, but the backend could not "
		    "remove its own data";
		return;
	case SB_ERR_COOKIE_CLOSED:
		*status = 503, *msg = "The cookie routes are closed: no "
		    "SENTC_BACKEND_COOKIE_KEY is configured";
		return;
	case SB_ERR_SETTLING:
		*status = 503, *msg = "An earlier registration of this name "
		    "lost its answer and is being settled: try again in a few "
		    "seconds";
		return;
	case SB_ERR_JWT_UNCHECKED:
		*status = 503, *msg = "The jwt's key id is not configured here "
		    "and sentc cannot check the jwt now: try again shortly";
		return;
	case SB_ERR_BUSY:
		*status = 503, *msg = "The backend carries as many requests as "
		    "it is set to: try again shortly";
		return;
	case SB_ERR_NO_FILE_PART:
		*status = 404, *msg = "No such file part";
		return;
	case SB_ERR_FILE_TOKEN:
		*status = 401, *msg = "The delete callback's token is missing "
		    "or wrong";
		return;
	case SB_ERR_FILE_CLOSED:
		*status = 403, *msg = "The delete callback is closed: no "
		    "SENTC_BACKEND_FILE_AUTH_TOKEN is configured";
		return;
	case SB_ERR__MAX:
		break;
	}
	*status = 500, *msg = "Internal error";
}

int
sb_err_status(enum sb_err e)
{
	int		 status;
	const char	*msg;

	describe(e, &status, &msg);
	return status;
}

int
sb_err_code(enum sb_err e)
{
	return e == SB_OK ? 0 : SB_ERR_BASE + (int)e;
}

const char *
sb_err_str(enum sb_err e)
{
	int		 status;
	const char	*msg;

	describe(e, &status, &msg);
	return msg;
}
