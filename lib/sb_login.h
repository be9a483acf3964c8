/*
 * sb_login.h: the refresh token taken out of sentc's answer to
 * POST /api/v1/verify_login, the one login step whose answer carries it,
 * on its way to the browser (cgi-bin/verify-login.c).
 *
 * The answer is {"status":true,"result":{"user_keys":[…],"hmac_keys":[…],
 * "jwt":"…","refresh_token":"…"}}. The SDK needs the refresh_token member
 * but not its value: the token's string becomes "", every other byte of
 * the answer stays as sentc sent it.
 */
#ifndef SB_LOGIN_H
#define SB_LOGIN_H

#include <stddef.h>

#include "sb_error.h"

/* Within the answer read: not NUL-terminated. */
struct sb_login {
	const char	*jwt;		/* the new JWT */
	size_t		 jwtlen;
	const char	*token;		/* the refresh token */
	size_t		 toklen;
};

/*
 * Reads body[0..len), sentc's answer to verify_login: a sentc envelope
 * whose status is true and whose result is an object with exactly one
 * member "jwt", a string of 1 to SB_JWT_MAX bytes, and exactly one member
 * "refresh_token", a string of 1 to SB_REFRESH_TOKEN_MAX bytes; neither
 * holds a backslash (so their text is their value). The token's text
 * appears nowhere else in the body. Returns SB_OK with out pointing into
 * body, or SB_ERR_UPSTREAM_BAD (out zeroed). Pure: the fuzzers call it.
 */
enum sb_err	 sb_login_take(const char *body, size_t len,
		    struct sb_login *out);

/*
 * Blanks the token that sb_login_take() found in this very body[0..*len)
 * (NUL-terminated): the bytes after it move up over it, so that its
 * string reads "", *len shrinks by its length, and the bytes freed at the
 * end, the old NUL among them, are wiped to NULs. login's pointers then
 * no longer hold. Pure.
 */
void		 sb_login_blank(char *body, size_t *len,
		    const struct sb_login *login);

#endif
