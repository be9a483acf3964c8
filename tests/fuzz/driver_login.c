/*
 * driver_login.c: sb_login_take() and sb_login_blank(), sentc's answer to
 * verify_login on its way to the browser (cgi-bin/verify-login.c).
 *
 * Input: an upstream response body. Held against json-c's reading of it
 * and a plain search of its bytes:
 *
 * - Taken: json-c reads an object whose "status" is true and whose
 *   "result" is an object with the strings "jwt" and "refresh_token" of
 *   the bytes found (1 to SB_JWT_MAX and 1 to SB_REFRESH_TOKEN_MAX of
 *   them, no backslash); the token's bytes occur once in the body.
 *   Blanked, the body is shorter by exactly the token, holds its bytes
 *   nowhere, is NULs after its end, and json-c reads the same tree but
 *   for "refresh_token", which is "".
 * - Refused: json-c reads no such envelope, or the strict JSON reading
 *   refuses the body, or the body holds a backslash (an escape, which the
 *   rule refuses in the two strings and could hide a name), the token's
 *   bytes more than once, or the text "jwt" or "refresh_token" as a
 *   quoted string more than once. Refused, nothing is pointed at.
 *
 * (json-c cuts a name at an escaped NUL, "jwt\u0000" reads "jwt" there:
 * such bodies are left out of the comparison.)
 */
#include "fuzz.h"
#include "extern.h"

/* How often s[0..slen) holds t[0..tlen) (tlen > 0). */
static size_t
count(const char *s, size_t slen, const char *t, size_t tlen)
{
	const char	*at = s, *end = s + slen;
	size_t		 n = 0;

	while ((at = memmem(at, (size_t)(end - at), t, tlen)) != NULL) {
		n++;
		at++;
	}
	return n;
}

/* The string member name of obj, 1 to max bytes: its value, else NULL. */
static const char *
string_member(json_object *obj, const char *name, size_t max, size_t *len)
{
	json_object	*v;

	if (!json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	return *len >= 1 && *len <= max ? json_object_get_string(v) : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_login	 lg;
	json_object	*env = NULL, *again = NULL, *st, *result = NULL, *v;
	const char	*jwt = NULL, *tok = NULL;
	size_t		 jwtlen = 0, toklen = 0, len = size, i;
	char		*body;
	enum sb_err	 e;
	bool		 jsonc;

	if (memmem(data, size, "\\u0000", 6) != NULL)
		return 0;
	body = fuzz_cstr(data, size);
	e = sb_login_take(body, size, &lg);

	/* json-c's reading: an envelope of status true, the two strings. */
	jsonc = sb_json_parse(body, size, &env) == SB_OK &&
	    json_object_is_type(env, json_type_object) &&
	    json_object_object_get_ex(env, "status", &st) &&
	    json_object_is_type(st, json_type_boolean) &&
	    json_object_get_boolean(st) &&
	    json_object_object_get_ex(env, "result", &result) &&
	    json_object_is_type(result, json_type_object) &&
	    (jwt = string_member(result, "jwt", SB_JWT_MAX, &jwtlen)) != NULL &&
	    (tok = string_member(result, "refresh_token",
	    SB_REFRESH_TOKEN_MAX, &toklen)) != NULL;

	if (e != SB_OK) {
		FUZZ_CHECK(e == SB_ERR_UPSTREAM_BAD, "error %d", (int)e);
		FUZZ_CHECK(lg.jwt == NULL && lg.token == NULL &&
		    lg.jwtlen == 0 && lg.toklen == 0, "a refusal points");
		FUZZ_CHECK(!jsonc ||
		    sb_json_check(body, size, SB_JSON_DEPTH, NULL) != SB_OK ||
		    memchr(body, '\\', size) != NULL ||
		    count(body, size, tok, toklen) != 1 ||
		    count(body, size, "\"jwt\"", 5) > 1 ||
		    count(body, size, "\"refresh_token\"", 15) > 1,
		    "refused an answer that holds one JWT and one token");
		goto out;
	}
	FUZZ_CHECK(jsonc, "took what json-c reads as no such answer");
	FUZZ_CHECK(lg.jwt > body && lg.jwt + lg.jwtlen < body + size &&
	    lg.token > body && lg.token + lg.toklen < body + size,
	    "outside the body");
	FUZZ_CHECK(lg.jwtlen == jwtlen && memcmp(lg.jwt, jwt, jwtlen) == 0,
	    "the JWT is not json-c's");
	FUZZ_CHECK(lg.toklen == toklen && memcmp(lg.token, tok, toklen) == 0,
	    "the token is not json-c's");
	FUZZ_CHECK(memchr(lg.jwt, '\\', lg.jwtlen) == NULL &&
	    memchr(lg.token, '\\', lg.toklen) == NULL, "an escape taken");
	FUZZ_CHECK(count(body, size, lg.token, lg.toklen) == 1,
	    "the token's bytes elsewhere too");

	sb_login_blank(body, &len, &lg);
	FUZZ_CHECK(len == size - toklen, "length %zu of %zu", len, size);
	for (i = len; i <= size; i++)
		FUZZ_CHECK(body[i] == '\0', "byte %zu after the end", i);
	FUZZ_CHECK(memmem(body, len, tok, toklen) == NULL,
	    "the token is still there");
	FUZZ_CHECK(sb_json_parse(body, len, &again) == SB_OK,
	    "blanked, json-c cannot read it");
	json_object_object_add(result, "refresh_token",
	    json_object_new_string(""));
	FUZZ_CHECK(json_object_equal(again, env),
	    "blanked, more than the token changed");
	FUZZ_CHECK(json_object_object_get_ex(again, "result", &v) &&
	    json_object_object_get_ex(v, "refresh_token", &v) &&
	    json_object_get_string_len(v) == 0, "not \"\"");
out:
	json_object_put(again);
	json_object_put(env);
	free(body);
	return 0;
}
