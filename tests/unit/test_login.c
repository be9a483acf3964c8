/*
 * test_login.c: lib/sb_login.c: the refresh token and the JWT taken out of
 * sentc's login answer, and the token blanked in it.
 */
#include "unit.h"

#include "extern.h"

/* ---- sb_login_take, sb_login_blank ------------------------------------- */

#define LOGIN_HEAD	"{\"status\":true,\"result\":{\"user_keys\":[{\"k\":1}]," \
			"\"hmac_keys\":[],"
#define LOGIN_JWT	"eyJ0.eyJh.c2ln"
#define LOGIN_RT	"0123456789_-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01"

static void
test_login_take(void **state)
{
	static const char	 ok[] = LOGIN_HEAD "\"jwt\":\"" LOGIN_JWT
	    "\", \"refresh_token\" : \"" LOGIN_RT "\"}}";
	static const char	 blanked[] = LOGIN_HEAD "\"jwt\":\"" LOGIN_JWT
	    "\", \"refresh_token\" : \"\"}}";
	/* The member's name escaped: it is the token all the same. */
	static const char	 escaped[] = "{\"status\":true,\"result\":{"
	    "\"refresh\\u005ftoken\":\"" LOGIN_RT "\",\"jwt\":\"" LOGIN_JWT
	    "\"}}";
	struct sb_login		 lg;
	char			 body[sizeof(ok)];
	size_t			 len = strlen(ok), i;

	memcpy(body, ok, sizeof(ok));
	assert_int_equal(sb_login_take(body, len, &lg), SB_OK);
	assert_int_equal(lg.jwtlen, strlen(LOGIN_JWT));
	assert_memory_equal(lg.jwt, LOGIN_JWT, lg.jwtlen);
	assert_int_equal(lg.toklen, strlen(LOGIN_RT));
	assert_memory_equal(lg.token, LOGIN_RT, lg.toklen);
	assert_true(lg.token > body && lg.token + lg.toklen < body + len);

	/* "" in its place, every other byte as it was; the tail wiped. */
	sb_login_blank(body, &len, &lg);
	assert_int_equal(len, strlen(blanked));
	assert_string_equal(body, blanked);
	for (i = len; i < sizeof(body); i++)
		assert_int_equal(body[i], '\0');
	assert_null(memmem(body, sizeof(body), "0123456789", 10));

	assert_int_equal(sb_login_take(escaped, strlen(escaped), &lg), SB_OK);
	assert_memory_equal(lg.token, LOGIN_RT, lg.toklen);
}

static void
test_login_take_bad(void **state)
{
	static const char *const cases[] = {
		/* sentc's refusal, no envelope, a result of another shape */
		"{\"status\":false,\"err_msg\":\"Wrong\",\"err_code\":112}",
		"<html>Bad Gateway</html>",
		"{\"status\":true,\"result\":[]}",
		"{\"status\":true,\"result\":\"Success\"}",
		/* the token missing, empty, of another type, twice */
		"{\"status\":true,\"result\":{\"jwt\":\"" LOGIN_JWT "\"}}",
		"{\"status\":true,\"result\":{\"jwt\":\"" LOGIN_JWT "\","
		    "\"refresh_token\":\"\"}}",
		"{\"status\":true,\"result\":{\"jwt\":\"" LOGIN_JWT "\","
		    "\"refresh_token\":null}}",
		"{\"status\":true,\"result\":{\"jwt\":\"" LOGIN_JWT "\","
		    "\"refresh_token\":[\"" LOGIN_RT "\"]}}",
		"{\"status\":true,\"result\":{\"jwt\":\"" LOGIN_JWT "\","
		    "\"refresh_token\":\"" LOGIN_RT "\",\"refresh_token\":"
		    "\"other\"}}",
		"{\"status\":true,\"result\":{\"jwt\":\"" LOGIN_JWT "\","
		    "\"refresh_token\":\"" LOGIN_RT "\",\"refresh\\u005ftoken\":"
		    "\"other\"}}",
		/* an escape in the token: its text would not be the token */
		"{\"status\":true,\"result\":{\"jwt\":\"" LOGIN_JWT "\","
		    "\"refresh_token\":\"a\\/b\"}}",
		/* the token's text elsewhere in the answer too */
		"{\"status\":true,\"result\":{\"jwt\":\"" LOGIN_JWT "\","
		    "\"refresh_token\":\"" LOGIN_RT "\",\"x\":\"" LOGIN_RT
		    "\"}}",
		"{\"status\":true,\"result\":{\"jwt\":\"" LOGIN_JWT "\","
		    "\"refresh_token\":\"eyJ0\"}}",
		/* the JWT missing, empty, twice, escaped */
		"{\"status\":true,\"result\":{\"refresh_token\":\"" LOGIN_RT
		    "\"}}",
		"{\"status\":true,\"result\":{\"jwt\":\"\",\"refresh_token\":\""
		    LOGIN_RT "\"}}",
		"{\"status\":true,\"result\":{\"jwt\":\"a\",\"jwt\":\"b\","
		    "\"refresh_token\":\"" LOGIN_RT "\"}}",
		"{\"status\":true,\"result\":{\"jwt\":\"a\\u002eb\","
		    "\"refresh_token\":\"" LOGIN_RT "\"}}",
		/* only nested: not the result's own members */
		"{\"status\":true,\"result\":{\"v\":{\"jwt\":\"" LOGIN_JWT "\","
		    "\"refresh_token\":\"" LOGIN_RT "\"}}}",
	};
	static const char	 head[] = "{\"status\":true,\"result\":{"
	    "\"jwt\":\"a.b.c\",\"refresh_token\":\"";
	struct sb_login		 lg;
	size_t			 i, h = strlen(head);
	int			 bad = 0;
	char			*big;

	for (i = 0; i < NELEM(cases); i++) {
		memset(&lg, 0xa5, sizeof(lg));
		bad += differs(cases[i], sb_login_take(cases[i],
		    strlen(cases[i]), &lg), SB_ERR_UPSTREAM_BAD);
		bad += differs(cases[i], lg.jwt == NULL && lg.token == NULL &&
		    lg.jwtlen == 0 && lg.toklen == 0, 1);
	}
	assert_int_equal(bad, 0);

	/* A token one byte longer than the cookie takes. */
	big = malloc(h + SB_REFRESH_TOKEN_MAX + 8);
	assert_non_null(big);
	memcpy(big, head, h);
	memset(big + h, 'x', SB_REFRESH_TOKEN_MAX + 1);
	memcpy(big + h + SB_REFRESH_TOKEN_MAX + 1, "\"}}", 4);
	assert_int_equal(sb_login_take(big, strlen(big), &lg),
	    SB_ERR_UPSTREAM_BAD);
	/* One byte shorter: taken. */
	memcpy(big + h + SB_REFRESH_TOKEN_MAX, "\"}}", 4);
	assert_int_equal(sb_login_take(big, strlen(big), &lg), SB_OK);
	assert_int_equal(lg.toklen, SB_REFRESH_TOKEN_MAX);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login_take),
		cmocka_unit_test(test_login_take_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
