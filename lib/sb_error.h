/*
 * sb_error.h: the library's one error enum, and its mapping to an HTTP
 * status and to the err_code of the sentc envelope.
 *
 * The backend's own err_codes are SB_ERR_BASE + the enum value. Values are
 * only ever appended, never renumbered: clients may match on them.
 */
#ifndef SB_ERROR_H
#define SB_ERROR_H

#define SB_ERR_BASE 20000

enum sb_err {
	SB_OK = 0,
	SB_ERR_INTERNAL,	/* 20001 500 a bug or out of memory */
	SB_ERR_METHOD,		/* 20002 405 method not served by the route */
	SB_ERR_NOT_FOUND,	/* 20003 404 path not served by the program */
	SB_ERR_BAD_ID,		/* 20004 400 an id in the path is not a UUID */
	SB_ERR_BODY_TOO_LARGE,	/* 20005 413 body over SENTC_BACKEND_MAX_BODY */
	SB_ERR_BODY_NOT_JSON,	/* 20006 400 body is empty or not JSON */
	SB_ERR_BODY_SHAPE,	/* 20007 400 JSON, but not what the route takes */
	SB_ERR_FIELD_TOO_LARGE,	/* 20008 413 a member over its own cap */
	SB_ERR_UPSTREAM_DOWN,	/* 20009 502 sentc API unreachable or closed */
	SB_ERR_UPSTREAM_BAD,	/* 20010 502 sentc API answered no envelope */
	SB_ERR_UPSTREAM_TIMEOUT,/* 20011 504 sentc API slower than the timeout */
	SB_ERR_JWT_MISSING,	/* 20012 401 no Authorization: Bearer */
	SB_ERR_JWT_FORMAT,	/* 20013 401 not three base64url JSON parts */
	SB_ERR_JWT_ALG,		/* 20014 401 alg is not ES384 */
	SB_ERR_JWT_KEY,		/* 20015 401 kid missing or not configured */
	SB_ERR_JWT_SIGNATURE,	/* 20016 401 signature does not verify */
	SB_ERR_JWT_EXPIRED,	/* 20017 401 exp passed, or iat in the future */
	SB_ERR_JWT_CLAIMS,	/* 20018 401 aud, sub or exp missing or bad */
	SB_ERR_JWT_NOT_FRESH,	/* 20019 401 not answered: sentc's 113 is */
	SB_ERR_STORAGE,		/* 20020 503 own database unavailable */
	SB_ERR_NO_USER_DATA,	/* 20021 404 no own row for this user */
	SB_ERR_COMPENSATED,	/* 20022 503 stored nothing, undone at sentc */
	SB_ERR_INCONSISTENT,	/* 20023 500 could not undo at sentc */
	SB_ERR_HEADER,		/* 20024 400 a header is malformed or too long */
	SB_ERR_UPSTREAM_ERROR,	/* 20025 502 sentc API answered a 5xx */
	SB_ERR_NOT_READY,	/* 20026 503 a program or the store is down */
	SB_ERR_NO_ITEM,		/* 20027 404 no such item in the group */
	SB_ERR_QUERY,		/* 20028 400 a query parameter is malformed */
	SB_ERR_BAD_REQUEST,	/* 20029 400 nginx found the request malformed */
	SB_ERR_ORIGIN,		/* 20030 403 Origin not in ALLOWED_ORIGINS */
	SB_ERR_COOKIE,		/* 20031 401 session cookie missing or bad */
	SB_ERR_ADMIN_AUTH,	/* 20032 401 admin credential missing/wrong */
	SB_ERR_ADMIN_CLOSED,	/* 20033 403 no admin credential configured */
	SB_ERR_FIELD,		/* 20034 400 a body member missing or invalid */
	SB_ERR_NO_GROUP_DATA,	/* 20035 404 no own row for this group */
	SB_ERR_ADMIN_NETWORK,	/* 20036 403 admin route from a refused address */
	SB_ERR_LEFT_OVER,	/* 20037 500 done at sentc, own data not removed */
	SB_ERR_COOKIE_CLOSED,	/* 20038 503 no SENTC_BACKEND_COOKIE_KEY */
	SB_ERR_SETTLING,	/* 20039 503 a lost answer on this name settling */
	SB_ERR_JWT_UNCHECKED,	/* 20040 503 kid not configured, sentc not asked */
	SB_ERR_BUSY,		/* 20041 503 SENTC_BACKEND_MAX_IN_FLIGHT reached */
	SB_ERR_NO_FILE_PART,	/* 20042 404 no such file part stored here */
	SB_ERR_FILE_TOKEN,	/* 20043 401 delete callback token missing/wrong */
	SB_ERR_FILE_CLOSED,	/* 20044 403 no SENTC_BACKEND_FILE_AUTH_TOKEN */
	SB_ERR__MAX
};

/* HTTP status for an error (200 for SB_OK). */
int		 sb_err_status(enum sb_err);

/* Envelope err_code for an error: SB_ERR_BASE + e. */
int		 sb_err_code(enum sb_err);

/* Default, client-safe message for an error. Never NULL. */
const char	*sb_err_str(enum sb_err);

#endif
