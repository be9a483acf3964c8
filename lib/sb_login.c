#include <stdbool.h>
#include <string.h>

#include "extern.h"

/*
 * The member name of obj, when it is the only one of that name and a
 * string of 1 to max bytes without a backslash: its text, quotes left
 * out, in *p and *len. Returns false otherwise.
 */
static bool
one_string(const struct sb_json_member *m, size_t max, const char **p,
    size_t *len)
{
	const struct sb_json_span *v = &m->v;

	if (m->n != 1 || v->type != json_type_string || v->len < 3 ||
	    v->len - 2 > max || memchr(v->p + 1, '\\', v->len - 2) != NULL)
		return false;
	*p = v->p + 1;
	*len = v->len - 2;
	return true;
}

/* How often s[0..slen) holds t[0..tlen) (tlen > 0), counted up to 2. */
static int
occurrences(const char *s, size_t slen, const char *t, size_t tlen)
{
	const char	*at, *end = s + slen;
	int		 n = 0;

	for (at = s; n < 2 && (at = memmem(at, (size_t)(end - at), t,
	    tlen)) != NULL; at++)
		n++;
	return n;
}

enum sb_err
sb_login_take(const char *body, size_t len, struct sb_login *out)
{
	struct sb_upstream_res	 res;
	struct sb_json_member	 m[] = { { .name = "jwt" },
				    { .name = "refresh_token" } };

	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	if (sb_envelope_parse(body, len, &res) != SB_OK || !res.ok ||
	    res.rtype != json_type_object ||
	    sb_json_check_members(res.rtext, res.rlen, SB_JSON_DEPTH, NULL, m,
	    2) != SB_OK ||
	    !one_string(&m[0], SB_JWT_MAX, &out->jwt, &out->jwtlen) ||
	    !one_string(&m[1], SB_REFRESH_TOKEN_MAX, &out->token,
	    &out->toklen) ||
	    occurrences(body, len, out->token, out->toklen) != 1) {
		memset(out, 0, sizeof(*out));
		return SB_ERR_UPSTREAM_BAD;
	}
	return SB_OK;
}

void
sb_login_blank(char *body, size_t *len, const struct sb_login *login)
{
	size_t	 off = (size_t)(login->token - body);

	memmove(body + off, body + off + login->toklen,
	    *len - off - login->toklen);
	*len -= login->toklen;
	/* The freed bytes and the old NUL: the token's last bytes among them. */
	sb_wipe(body + *len, login->toklen + 1);
}
