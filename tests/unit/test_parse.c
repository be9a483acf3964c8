/*
 * test_parse.c: the pure parsers and validators of untrusted input:
 * paths, UUIDs, base64, numbers, JSON, the sentc envelope, sentc's
 * login answer, and the error table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb_access.h"
#include "sb_auth.h"
#include "sb_cookie.h"
#include "sb_error.h"
#include "sb_json.h"
#include "sb_login.h"
#include "sb_request.h"
#include "sb_upstream.h"
#include "sb_util.h"

#define UUID	"0f8fad5b-d9cb-469f-a165-70867728950e"
#define UUID_UC	"0F8FAD5B-D9CB-469F-A165-70867728950E"
#define UUID2	"7c9e6679-7425-40de-944b-e07fc1f90ae7"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* s with control and non-ASCII bytes escaped, for messages. */
static const char *
esc(const char *s)
{
	static char	 buf[256];
	size_t		 n = 0;

	for (; *s != '\0' && n + 5 < sizeof(buf); s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "\\x%02x", (unsigned char)*s);
		else
			buf[n++] = *s;
	buf[n] = '\0';
	return buf;
}

/* Reports a table row that went wrong; returns 1 if it did. */
static int
differs(const char *what, long got, long want)
{
	if (got == want)
		return 0;
	print_error("\"%s\": got %ld, want %ld\n", esc(what), got, want);
	return 1;
}

/* ---- sb_path_match ----------------------------------------------------- */

static void
test_path_match(void **state)
{
	static const struct {
		const char	*pattern, *path;
		enum sb_err	 want;
		size_t		 nids;
		const char	*id0, *id1;
	} cases[] = {
	{ "/health", "/health", SB_OK, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID, SB_OK, 1, UUID, NULL },
	{ "/user/{id}", "/user/" UUID_UC, SB_OK, 1, UUID, NULL },
	{ "/group/{id}/member/{id}", "/group/" UUID "/member/" UUID2, SB_OK,
	    2, UUID, UUID2 },
	{ "/user/{id}", "/user/123", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID "0", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/%2e%2e", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/..%2f", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/..", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/%30f8fad5b-d9cb-469f-a165-70867728950e",
	    SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/{" UUID "}", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/group/{id}/member/{id}", "/group/" UUID "/member/x",
	    SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/users/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/User/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID "/x", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID "/", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user//" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "//user/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "user/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID "?x=1", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/health", "/health/", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/health", "/healthz", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/health", "/healt", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/a/b", "/a/b/../b", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/{id}/{id}/{id}/{id}/{id}", "/" UUID "/" UUID "/" UUID "/" UUID
	    "/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/17/true", SB_OK, 2, UUID,
	    "17" },
	{ "/part/{id}/{n}/true", "/part/" UUID "/0/true", SB_OK, 2, UUID,
	    "0" },
	{ "/part/{id}/{n}/true", "/part/" UUID "/999999999/true", SB_OK, 2,
	    UUID, "999999999" },
	{ "/part/{id}/{n}/true", "/part/" UUID "/1000000000/true",
	    SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/017/true", SB_ERR_BAD_ID, 0,
	    NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/-1/true", SB_ERR_BAD_ID, 0,
	    NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/1x/true", SB_ERR_BAD_ID, 0,
	    NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "//true", SB_ERR_BAD_ID, 0,
	    NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/1/false", SB_ERR_NOT_FOUND,
	    0, NULL, NULL },
	};
	char		 ids[SB_IDS_MAX][SB_ID_LEN + 1];
	size_t		 i, nids;
	enum sb_err	 e;
	int		 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		nids = 99;
		e = sb_path_match(cases[i].pattern, cases[i].path,
		    strlen(cases[i].path), ids, &nids);
		bad += differs(cases[i].path, e, cases[i].want);
		bad += differs(cases[i].path, (long)nids, (long)cases[i].nids);
		if (e != SB_OK)
			continue;
		if (cases[i].id0 != NULL && strcmp(ids[0], cases[i].id0)) {
			print_error("%s: id %s\n", cases[i].path, ids[0]);
			bad++;
		}
		if (cases[i].id1 != NULL && strcmp(ids[1], cases[i].id1)) {
			print_error("%s: id %s\n", cases[i].path, ids[1]);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Only path[0..pathlen) is the path. */
static void
test_path_match_len(void **state)
{
	static const char	 path[] = "/user/" UUID "/more";
	static const char	 nul[] = "/user/" UUID "\0/x";
	char			 ids[SB_IDS_MAX][SB_ID_LEN + 1];
	size_t			 nids;

	assert_int_equal(sb_path_match("/user/{id}", path,
	    strlen("/user/" UUID), ids, &nids), SB_OK);
	assert_int_equal(nids, 1);
	assert_string_equal(ids[0], UUID);
	assert_int_equal(sb_path_match("/user/{id}", path, strlen(path), ids,
	    &nids), SB_ERR_NOT_FOUND);
	assert_int_equal(sb_path_match("/user/{id}", nul, sizeof(nul) - 1,
	    ids, &nids), SB_ERR_NOT_FOUND);
}

/* ---- sb_is_uuid -------------------------------------------------------- */

static void
test_is_uuid(void **state)
{
	static const struct {
		const char	*s;
		bool		 want;
	} cases[] = {
		{ UUID, true },
		{ UUID_UC, true },
		{ "0f8FAD5b-d9cb-469f-A165-70867728950e", true },
		{ "00000000-0000-0000-0000-000000000000", true },
		{ "", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950", false },
		{ UUID "0", false },
		{ "0f8fad5bd9cb-469f-a165-70867728950e0", false },
		{ "0f8fad5b-d9cb-469f-a165_70867728950e", false },
		{ "0f8fad5g-d9cb-469f-a165-70867728950e", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950 ", false },
		{ " 0f8fad5b-d9cb-469f-a165-7086772895e", false },
		{ "{0f8fad5b-d9cb-469f-a165-7086772895}", false },
		{ "0f8fad5b0d9cb0469f0a165070867728950e", false },
		{ "--------------------------------------", false },
	};
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += differs(cases[i].s, sb_is_uuid(cases[i].s,
		    strlen(cases[i].s)), cases[i].want);
	/* A NUL where a digit belongs. */
	bad += differs("NUL inside", sb_is_uuid("0f8fad5b-d9cb-469f-a165-"
	    "7086772895\0e", SB_ID_LEN), false);
	assert_int_equal(bad, 0);
}

/* ---- base64 ------------------------------------------------------------ */

/* RFC 4648, section 10. */
static const struct {
	const char	*plain, *b64, *b64url;
} vectors[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void
test_b64_vectors(void **state)
{
	unsigned char	 out[16];
	char		 enc[16];
	size_t		 i, len;

	for (i = 0; i < NELEM(vectors); i++) {
		len = strlen(vectors[i].plain);
		memset(out, 0, sizeof(out));
		assert_int_equal(sb_b64_decode(vectors[i].b64,
		    strlen(vectors[i].b64), out, sizeof(out)), (long)len);
		assert_memory_equal(out, vectors[i].plain, len);

		memset(out, 0, sizeof(out));
		assert_int_equal(sb_b64url_decode(vectors[i].b64url,
		    strlen(vectors[i].b64url), out, sizeof(out)), (long)len);
		assert_memory_equal(out, vectors[i].plain, len);

		assert_int_equal(sb_b64url_encode((const unsigned char *)
		    vectors[i].plain, len, enc, sizeof(enc)),
		    (long)strlen(vectors[i].b64url));
		assert_string_equal(enc, vectors[i].b64url);
	}
}

/* Every length, and every byte value, survives a round trip. */
static void
test_b64url_round_trip(void **state)
{
	unsigned char	 in[300], out[300];
	char		 enc[410];
	size_t		 i, len;
	long		 n;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (len = 0; len <= sizeof(in); len++) {
		n = sb_b64url_encode(in, len, enc, sizeof(enc));
		assert_int_equal(n, (long)((len * 4 + 2) / 3));
		assert_int_equal(strlen(enc), (size_t)n);
		assert_null(strpbrk(enc, "+/="));
		assert_int_equal(sb_b64url_decode(enc, (size_t)n, out,
		    sizeof(out)), (long)len);
		assert_memory_equal(out, in, len);
	}
	/* The two alphabets differ at 62 and 63. */
	in[0] = 0xfb, in[1] = 0xff;
	assert_int_equal(sb_b64url_encode(in, 2, enc, sizeof(enc)), 3);
	assert_string_equal(enc, "-_8");
	assert_int_equal(sb_b64_decode("+/8=", 4, out, sizeof(out)), 2);
	assert_memory_equal(out, in, 2);
}

static void
test_b64_rejects(void **state)
{
	static const char *const std[] = {
		"Zg",		/* padding required */
		"Zg=",		/* length not a multiple of 4 */
		"Zg===",
		"Z===",		/* one character holds no byte */
		"====",
		"Zh==",		/* leftover bits not zero */
		"Zm9=",
		"Zg==Zg==",	/* padding inside */
		"Zg=A",
		"Zm9v\n",
		"Zm 9",
		"Zm9-",		/* base64url alphabet */
		"Zm9_",
		"Zm9\xff",
	};
	static const char *const url[] = {
		"Zg==",		/* no padding in base64url */
		"Zg=",
		"Z",
		"Zm9vY",
		"Zh",		/* leftover bits not zero */
		"Zm9",
		"Zm9+",		/* standard alphabet */
		"Zm9/",
		"Zm9v ",
		"Zm9\x80",
	};
	unsigned char	 out[16];
	size_t		 i;
	int		 bad = 0;

	for (i = 0; i < NELEM(std); i++)
		bad += differs(std[i], sb_b64_decode(std[i], strlen(std[i]),
		    out, sizeof(out)), -1);
	for (i = 0; i < NELEM(url); i++)
		bad += differs(url[i], sb_b64url_decode(url[i], strlen(url[i]),
		    out, sizeof(out)), -1);
	bad += differs("NUL inside", sb_b64url_decode("Zm\0v", 4, out,
	    sizeof(out)), -1);
	assert_int_equal(bad, 0);
}

static void
test_b64_output_too_small(void **state)
{
	unsigned char	 out[8];
	char		 enc[8];

	/* Nothing is written past outsz. */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(sb_b64_decode("Zm9vYmFy", 8, out, 5), -1);
	assert_int_equal(out[5], 0xee);
	assert_int_equal(sb_b64_decode("Zm9vYmFy", 8, out, 6), 6);
	assert_int_equal(sb_b64url_decode("Zm9vYg", 6, out, 3), -1);
	assert_int_equal(sb_b64url_decode("Zm9vYg", 6, out, 4), 4);
	assert_int_equal(sb_b64url_decode("Zg", 2, out, 0), -1);

	/* Encoding needs room for the NUL. */
	memset(enc, 0xee, sizeof(enc));
	assert_int_equal(sb_b64url_encode((const unsigned char *)"foo", 3,
	    enc, 4), -1);
	assert_int_equal((unsigned char)enc[4], 0xee);
	assert_int_equal(sb_b64url_encode((const unsigned char *)"foo", 3,
	    enc, 5), 4);
	assert_string_equal(enc, "Zm9v");
	assert_int_equal(sb_b64url_encode((const unsigned char *)"", 0,
	    enc, 0), -1);
}

/* ---- sb_parse_long ----------------------------------------------------- */

static void
test_parse_long(void **state)
{
	static const struct {
		const char	*s;
		long		 min, max;
		int		 rc;
		long		 want;
	} cases[] = {
		{ "0", 0, 10, 0, 0 },
		{ "7", 0, 10, 0, 7 },
		{ "10", 0, 10, 0, 10 },
		{ "-5", -10, 10, 0, -5 },
		{ "-10", -10, 10, 0, -10 },
		{ "0010", 0, 10, 0, 10 },
		{ "9223372036854775807", 0, LONG_MAX, 0, LONG_MAX },
		{ "11", 0, 10, -1, 0 },
		{ "-1", 0, 10, -1, 0 },
		{ "-11", -10, 10, -1, 0 },
		{ "", 0, 10, -1, 0 },
		{ "-", 0, 10, -1, 0 },
		{ "+1", 0, 10, -1, 0 },
		{ " 1", 0, 10, -1, 0 },
		{ "1 ", 0, 10, -1, 0 },
		{ "1x", 0, 10, -1, 0 },
		{ "x1", 0, 10, -1, 0 },
		{ "1.0", 0, 10, -1, 0 },
		{ "0x1", 0, 10, -1, 0 },
		{ "1e1", 0, 100, -1, 0 },
		{ "9223372036854775808", 0, LONG_MAX, -1, 0 },
		{ "-9223372036854775809", LONG_MIN, 0, -1, 0 },
		{ "99999999999999999999999", 0, LONG_MAX, -1, 0 },
		/* strtol(3) skips all leading white space, not only ' '. */
		{ "\t1", 0, 10, -1, 0 },
		{ "\n1", 0, 10, -1, 0 },
		{ "\r\n1", 0, 10, -1, 0 },
		{ "\v+1", 0, 10, -1, 0 },
	};
	size_t	 i;
	long	 n;
	int	 rc, bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		n = -12345;
		rc = sb_parse_long(cases[i].s, cases[i].min, cases[i].max, &n);
		bad += differs(cases[i].s, rc, cases[i].rc);
		if (rc == 0 && cases[i].rc == 0)
			bad += differs(cases[i].s, n, cases[i].want);
	}
	assert_int_equal(bad, 0);
}

/* ---- sb_json_parse ----------------------------------------------------- */

/* n nested arrays: "[[[...]]]". */
static char *
nested(size_t n)
{
	char	*s;

	assert_non_null(s = malloc(2 * n + 1));
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	return s;
}

static void
test_json_parse_ok(void **state)
{
	static const struct {
		const char	*s;
		json_type	 type;
	} cases[] = {
		{ "{}", json_type_object },
		{ "{\"a\":{\"b\":[1,2,{}]}}", json_type_object },
		{ " \n\t{\"a\":1} \r\n", json_type_object },
		{ "[1,2]", json_type_array },
		{ "[]", json_type_array },
		{ "4", json_type_int },
		{ "42", json_type_int },
		{ "-1", json_type_int },
		{ "42 ", json_type_int },
		{ "1.5e3", json_type_double },
		{ "\"str\"", json_type_string },
		{ "\"\\u00e9\\n\"", json_type_string },
		{ "true", json_type_boolean },
		{ "null", json_type_null },
		{ "9223372036854775807", json_type_int },
		{ "-9223372036854775808", json_type_int },
		{ "18446744073709551615", json_type_int },
		{ "[0,-0,1.5,-2e-3]", json_type_array },
		{ "1e999", json_type_double },
	};
	json_object	*o;
	char		*deep;
	size_t		 i;
	int		 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		o = (json_object *)1;
		if (differs(cases[i].s, sb_json_parse(cases[i].s,
		    strlen(cases[i].s), &o), SB_OK)) {
			bad++;
			continue;
		}
		bad += differs(cases[i].s, json_object_get_type(o),
		    cases[i].type);
		json_object_put(o);
	}
	assert_int_equal(bad, 0);

	/* SB_JSON_DEPTH levels are fine. */
	deep = nested(SB_JSON_DEPTH);
	assert_int_equal(sb_json_parse(deep, strlen(deep), &o), SB_OK);
	assert_non_null(o);
	json_object_put(o);
	free(deep);

	/* Only s[0..len) is read. */
	assert_int_equal(sb_json_parse("{}xyz", 2, &o), SB_OK);
	assert_true(json_object_is_type(o, json_type_object));
	json_object_put(o);
}

/* Reports a text that sb_json_parse() accepts; returns 1 if it does. */
static int
json_accepted(const char *what, const char *s, size_t len)
{
	json_object	*o = (json_object *)1;
	enum sb_err	 e;

	e = sb_json_parse(s, len, &o);
	if (e == SB_ERR_BODY_NOT_JSON && o == NULL)
		return 0;
	print_error("\"%s\": got %d, out %s\n", esc(what), (int)e,
	    o == NULL ? "NULL" : "set");
	if (e == SB_OK)
		json_object_put(o);
	return 1;
}

static void
test_json_parse_rejects(void **state)
{
	static const char *const cases[] = {
		"",
		" ",
		"{} x",
		"{}{}",
		"[1] [2]",
		"1 2",
		"/* c */ {}",
		"{} // c",
		"{'a':1}",
		"['a']",
		"[1,]",
		"{\"a\":1,}",
		"{\"a\"}",
		"{a:1}",
		"[1",
		"{",
		"\"abc",
		"tru",
		"True",
		"01",
		"00",
		"-01",
		"0.",
		"-.1",
		"1.e5",
		"1e",
		"1e+",
		"-",
		".5",
		"0x10",
		"undefined",
		/* json-c would clamp these: a body must not change. */
		"18446744073709551616",
		"-9223372036854775809",
		"{\"a\":123456789012345678901234567890}",
		"[1,-99999999999999999999]",
	};
	static const char	 nul[] = "{\"a\":1}\0";
	static const char	 nul_in[] = "{\"a\":\"x\0y\"}";
	char			*deep;
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += json_accepted(cases[i], cases[i], strlen(cases[i]));
	bad += json_accepted("trailing NUL", nul, sizeof(nul) - 1);
	bad += json_accepted("NUL in a string", nul_in, sizeof(nul_in) - 1);
	deep = nested(SB_JSON_DEPTH + 1);
	bad += json_accepted("depth 65", deep, strlen(deep));
	free(deep);
	deep = nested(10000);
	bad += json_accepted("depth 10000", deep, strlen(deep));
	free(deep);
	assert_int_equal(bad, 0);
}

/* RFC 8259 admits no NaN, no Infinity, no raw control characters in
 * strings, and only UTF-8. */
static void
test_json_parse_rfc8259(void **state)
{
	static const char *const cases[] = {
		"NaN",
		"[NaN]",
		"Infinity",
		"-Infinity",
		"{\"a\":-Infinity}",
		"\"a\tb\"",
		"\"a\nb\"",
		"{\"a\":\"\x01\"}",
		"\"\xff\"",
		"\"\xc3\"",
		"\"\xed\xa0\x80\"",
	};
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += json_accepted(cases[i], cases[i], strlen(cases[i]));
	assert_int_equal(bad, 0);
}

/* ---- sb_json_check, sb_json_get, sb_json_int ---------------------------- */

static void
test_json_check(void **state)
{
	static const struct {
		const char	*s;
		json_type	 type;
		const char	*span;
	} cases[] = {
		{ " {\"a\":[1,{}]} \n", json_type_object, "{\"a\":[1,{}]}" },
		{ "[]", json_type_array, "[]" },
		{ "\t\"x\\\"y\"", json_type_string, "\"x\\\"y\"" },
		{ "-0", json_type_int, "-0" },
		{ "18446744073709551615", json_type_int, "18446744073709551615" },
		{ "1.5", json_type_double, "1.5" },
		{ "2E+3 ", json_type_double, "2E+3" },
		{ "false", json_type_boolean, "false" },
		{ "null", json_type_null, "null" },
	};
	static const char *const cut[] = {
		"[1,2", "\"a\\u00", "\"a\\", "1.", "1e", "\"\\x\"", "nul",
	};
	struct sb_json_span	 v;
	char			*deep;
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		memset(&v, 0, sizeof(v));
		bad += differs(cases[i].s, sb_json_check(cases[i].s,
		    strlen(cases[i].s), SB_JSON_DEPTH, &v), SB_OK);
		bad += differs(cases[i].s, v.type, cases[i].type);
		bad += differs(cases[i].s, v.len == strlen(cases[i].span) &&
		    memcmp(v.p, cases[i].span, v.len) == 0, 1);
	}
	assert_int_equal(bad, 0);

	/* The depth is the caller's. */
	deep = nested(8);
	assert_int_equal(sb_json_check(deep, strlen(deep), 8, NULL), SB_OK);
	assert_int_equal(sb_json_check(deep, strlen(deep), 7, NULL),
	    SB_ERR_BODY_NOT_JSON);
	free(deep);
	/* Cut short inside a value, or a bad escape or word. */
	for (i = 0; i < NELEM(cut); i++)
		bad += differs(cut[i], sb_json_check(cut[i], strlen(cut[i]), 8,
		    NULL), SB_ERR_BODY_NOT_JSON);
	assert_int_equal(bad, 0);
}

static void
test_json_get(void **state)
{
	static const char	 text[] = "{ \"a\" : 1, \"b\":{\"a\":2}, "
	    "\"\\u0063\":\"C\", \"a\":3, \"\\u00e9\":4, \"d\\n\":5, \"e\":[] }";
	struct sb_json_span	 obj, v, inner;
	int64_t			 n;

	assert_int_equal(sb_json_check(text, strlen(text), 8, &obj), SB_OK);
	/* The last of a repeated name, as json-c keeps it. */
	assert_true(sb_json_get(&obj, "a", &v));
	assert_true(sb_json_int(&v, &n));
	assert_int_equal(n, 3);
	/* Nested objects are searched from their own span. */
	assert_true(sb_json_get(&obj, "b", &inner));
	assert_int_equal(inner.type, json_type_object);
	assert_true(sb_json_get(&inner, "a", &v));
	assert_true(sb_json_int(&v, &n));
	assert_int_equal(n, 2);
	/* Escaped names read as what they say. */
	assert_true(sb_json_get(&obj, "c", &v));
	assert_int_equal(v.type, json_type_string);
	assert_true(sb_json_get(&obj, "d\n", &v));
	assert_false(sb_json_get(&obj, "d", &v));
	assert_false(sb_json_get(&obj, "\xc3\xa9", &v));
	assert_true(sb_json_get(&obj, "e", &v));
	assert_int_equal(v.type, json_type_array);
	assert_false(sb_json_int(&v, &n));
	assert_false(sb_json_get(&obj, "z", &v));
	assert_false(sb_json_get(&obj, "", &v));
	/* How many there are of a name: repeats counted, escapes read. */
	assert_int_equal(sb_json_count(&obj, "a"), 2);
	assert_int_equal(sb_json_count(&obj, "c"), 1);
	assert_int_equal(sb_json_count(&obj, "b"), 1);
	assert_int_equal(sb_json_count(&obj, "z"), 0);
	assert_int_equal(sb_json_count(&inner, "a"), 1);
	/* Not an object, an empty one. */
	assert_false(sb_json_get(&v, "a", &inner));
	assert_int_equal(sb_json_check("{}", 2, 8, &obj), SB_OK);
	assert_false(sb_json_get(&obj, "a", &v));

	/* Integers read as json_object_get_int64() reads them. */
	assert_int_equal(sb_json_check("-9223372036854775808", 20, 8, &v),
	    SB_OK);
	assert_true(sb_json_int(&v, &n));
	assert_true(n == INT64_MIN);
	assert_int_equal(sb_json_check("18446744073709551615", 20, 8, &v),
	    SB_OK);
	assert_true(sb_json_int(&v, &n));
	assert_true(n == INT64_MAX);
	assert_int_equal(sb_json_check("1.0", 3, 8, &v), SB_OK);
	assert_false(sb_json_int(&v, &n));
}

/* ---- sb_json_take_object ----------------------------------------------- */

static json_object *
json(const char *s)
{
	json_object	*o;

	assert_int_equal(sb_json_parse(s, strlen(s), &o), SB_OK);
	return o;
}

static void
test_json_take_object(void **state)
{
	json_object	*obj, *out;
	size_t		 len;

	obj = json("{\"a\":{\"x\":1},\"b\":2}");

	/* Absent. */
	out = (json_object *)1;
	assert_int_equal(sb_json_take_object(obj, "c", 100, &out), SB_OK);
	assert_null(out);
	assert_int_equal(json_object_object_length(obj), 2);

	/* Present: removed from obj, now the caller's. */
	assert_int_equal(sb_json_take_object(obj, "a", 100, &out), SB_OK);
	assert_non_null(out);
	assert_string_equal(sb_json_text(out, &len), "{\"x\":1}");
	assert_false(json_object_object_get_ex(obj, "a", NULL));
	assert_true(json_object_object_get_ex(obj, "b", NULL));
	json_object_put(obj);
	assert_int_equal(json_object_get_int(json_object_object_get(out,
	    "x")), 1);
	json_object_put(out);
}

static void
test_json_take_object_shape(void **state)
{
	static const char *const cases[] = {
		"{\"a\":[1]}",
		"{\"a\":\"{}\"}",
		"{\"a\":1}",
		"{\"a\":true}",
		"{\"a\":null}",
	};
	json_object	*obj, *out;
	size_t		 i;
	int		 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		obj = json(cases[i]);
		out = (json_object *)1;
		bad += differs(cases[i], sb_json_take_object(obj, "a", 100,
		    &out), SB_ERR_BODY_SHAPE);
		bad += differs(cases[i], out == NULL, 1);
		bad += differs(cases[i], json_object_object_get_ex(obj, "a",
		    NULL), 1);
		json_object_put(obj);
	}
	assert_int_equal(bad, 0);
}

static void
test_json_take_object_cap(void **state)
{
	json_object	*obj, *out;

	/* The member's compact text, {"x":"0123456789"}, is 18 bytes. */
	obj = json("{\"a\": { \"x\" : \"0123456789\" }}");
	out = (json_object *)1;
	assert_int_equal(sb_json_take_object(obj, "a", 17, &out),
	    SB_ERR_FIELD_TOO_LARGE);
	assert_null(out);
	assert_true(json_object_object_get_ex(obj, "a", NULL));

	assert_int_equal(sb_json_take_object(obj, "a", 18, &out), SB_OK);
	assert_non_null(out);
	assert_false(json_object_object_get_ex(obj, "a", NULL));
	json_object_put(out);
	json_object_put(obj);
}

/* ---- sb_json_member_string ---------------------------------------------- */

static void
test_json_member_string(void **state)
{
	static const struct {
		const char	*body;
		size_t		 cap;
		enum sb_err	 want;
		size_t		 len;
	} cases[] = {
		{ "{\"data\":\"abc\"}", 3, SB_OK, 3 },
		{ "{\"data\":\"\\u00e9\"}", 2, SB_OK, 2 },
		{ "{\"data\":\"abcd\"}", 3, SB_ERR_FIELD_TOO_LARGE, 0 },
		{ "{\"data\":\"\"}", 3, SB_ERR_BODY_SHAPE, 0 },
		{ "{\"data\":\"a\\u0000b\"}", 3, SB_ERR_BODY_SHAPE, 0 },
		{ "{\"data\":\"a\\u0000bcd\"}", 3, SB_ERR_FIELD_TOO_LARGE, 0 },
		{ "{\"data\":5}", 3, SB_ERR_BODY_SHAPE, 0 },
		{ "{\"data\":null}", 3, SB_ERR_BODY_SHAPE, 0 },
		{ "{\"data\":[\"a\"]}", 3, SB_ERR_BODY_SHAPE, 0 },
		{ "{\"Data\":\"a\"}", 3, SB_ERR_BODY_SHAPE, 0 },
		{ "{}", 3, SB_ERR_BODY_SHAPE, 0 },
	};
	json_object	*obj;
	const char	*v;
	size_t		 i, len;
	enum sb_err	 e;
	int		 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		obj = json(cases[i].body);
		e = sb_json_member_string(obj, "data", cases[i].cap, &v, &len);
		bad += differs(cases[i].body, e, cases[i].want);
		bad += differs(cases[i].body, (long)len, (long)cases[i].len);
		bad += differs(cases[i].body, e == SB_OK ? v != NULL &&
		    strlen(v) == len : v == NULL, 1);
		json_object_put(obj);
	}
	assert_int_equal(bad, 0);
}

/* ---- sb_query_get ------------------------------------------------------- */

static void
test_query_get(void **state)
{
	static const struct {
		const char	*qs, *name;
		size_t		 bufsz;
		int		 want;
		const char	*value;
	} cases[] = {
		{ "after=abc&limit=5", "limit", 16, 1, "5" },
		{ "after=abc&limit=5", "after", 16, 1, "abc" },
		{ "after=a%2Fb+c", "after", 16, 1, "a/b c" },
		{ "xafter=1&after=2", "after", 16, 1, "2" },
		{ "after&after=2", "after", 16, 1, "2" },
		/* Given twice: no value counts. */
		{ "after=1&after=2", "after", 16, -1, NULL },
		{ "after=1&after=1", "after", 16, -1, NULL },
		{ "limit=5&after=1&x=2&after=", "after", 16, -1, NULL },
		{ "after=1&after", "after", 16, 1, "1" },
		{ "after=1&xafter=2&after_=3", "after", 16, 1, "1" },
		{ "after=", "after", 16, 1, "" },
		{ "limit=5", "after", 16, 0, NULL },
		{ "", "after", 16, 0, NULL },
		{ "after=%0d%0a", "after", 16, -1, NULL },
		{ "after=%00", "after", 16, -1, NULL },
		{ "after=%7f", "after", 16, -1, NULL },
		{ "after=%zz", "after", 16, -1, NULL },
		{ "after=%a", "after", 16, -1, NULL },
		{ "after=%", "after", 16, -1, NULL },
		{ "after=abcd", "after", 5, 1, "abcd" },
		{ "after=abcde", "after", 5, -1, NULL },
		{ "after=", "after", 1, 1, "" },
		{ "after=a", "after", 1, -1, NULL },
		{ "after=", "after", 0, -1, NULL },
	};
	char	 buf[16];
	size_t	 i;
	int	 rc, bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		memset(buf, 'X', sizeof(buf));
		rc = sb_query_get(cases[i].qs, cases[i].name, buf,
		    cases[i].bufsz);
		bad += differs(cases[i].qs, rc, cases[i].want);
		if (rc == 1 && strcmp(buf, cases[i].value) != 0) {
			print_error("%s: %s\n", cases[i].qs, esc(buf));
			bad++;
		}
		if (cases[i].bufsz < sizeof(buf))
			bad += differs(cases[i].qs, buf[cases[i].bufsz], 'X');
	}
	assert_int_equal(bad, 0);
}

/* ---- sb_envelope_parse ------------------------------------------------- */

static void
test_envelope_ok(void **state)
{
	static const char	 ok[] = "{\"status\":true,\"result\":"
	    "{\"user_id\":\"" UUID "\"}}";
	static const char	 err[] = "{\"status\":false,\"err_code\":101,"
	    "\"err_msg\":\"User not found\"}";
	static const char	 arr[] = "{\"status\":true,\"result\":[1]}";
	static const char	 esc[] = "{\"status\":true,\"st\\u0061tus\":"
	    "false,\"err_code\":1,\"err_\\u0063ode\":7}";
	struct sb_upstream_res	 res;

	memset(&res, 0, sizeof(res));
	res.status = 200;
	assert_int_equal(sb_envelope_parse(ok, strlen(ok), &res), SB_OK);
	assert_true(res.ok);
	assert_int_equal(res.status, 200);
	assert_null(res.result);	/* built only when asked for */
	assert_true(json_object_is_type(sb_upstream_result(&res),
	    json_type_object));
	assert_ptr_equal(sb_upstream_result(&res), res.result);
	assert_string_equal(sb_json_string(res.result, "user_id"), UUID);
	sb_upstream_res_free(&res);

	memset(&res, 0, sizeof(res));
	assert_int_equal(sb_envelope_parse(err, strlen(err), &res), SB_OK);
	assert_false(res.ok);
	assert_int_equal(res.err_code, 101);
	assert_null(sb_upstream_result(&res));
	sb_upstream_res_free(&res);

	/* A result need not be an object. */
	memset(&res, 0, sizeof(res));
	assert_int_equal(sb_envelope_parse(arr, strlen(arr), &res), SB_OK);
	assert_true(json_object_is_type(sb_upstream_result(&res),
	    json_type_array));
	sb_upstream_res_free(&res);

	/* Names are read as json-c reads them: escapes, the last repeat. */
	memset(&res, 0, sizeof(res));
	assert_int_equal(sb_envelope_parse(esc, strlen(esc), &res), SB_OK);
	assert_false(res.ok);
	assert_int_equal(res.err_code, 7);
	sb_upstream_res_free(&res);
}

static void
test_envelope_bad(void **state)
{
	static const char *const cases[] = {
		"{\"result\":{}}",
		"{\"status\":\"true\",\"result\":{}}",
		"{\"status\":1,\"result\":{}}",
		"{\"status\":null,\"result\":{}}",
		"{\"status\":true}",
		"{\"status\":false}",
		"{\"status\":false,\"err_code\":\"101\"}",
		"{\"status\":false,\"err_code\":1.5}",
		"{\"status\":false,\"err_code\":null}",
		"{\"status\":false,\"err_msg\":\"x\"}",
		"<html>Bad Gateway</html>",
		"",
		"{\"status\":true,\"result\":{}} x",
		"[{\"status\":true,\"result\":{}}]",
		"true",
		"{\"status\":true,\"result\":{},\"status\":\"x\"}",
		"{\"status\":false,\"err_code\":1e2}",
		"{\"Status\":true,\"result\":{}}",
		"{\"status\":true,\"result\":{'a':1}}",
	};
	struct sb_upstream_res	 res;
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		memset(&res, 0, sizeof(res));
		bad += differs(cases[i], sb_envelope_parse(cases[i],
		    strlen(cases[i]), &res), SB_ERR_UPSTREAM_BAD);
		bad += differs(cases[i], res.rspan.p == NULL &&
		    res.result == NULL && !res.ok && res.err_code == 0, 1);
		sb_upstream_res_free(&res);
	}
	assert_int_equal(bad, 0);
}

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

/* ---- sb_valid_text ----------------------------------------------------- */

static void
test_valid_text(void **state)
{
	static const struct {
		const char	*s;
		size_t		 max;
		bool		 want;
	} cases[] = {
		{ "alice", 16, true },
		{ "alice@example.com", 64, true },
		{ "Zoë Å 名前 \xf0\x9f\x94\x91", 64, true },	/* UTF-8 */
		{ "a b", 16, true },
		{ "exactly8", 8, true },
		{ "nine char", 8, false },
		{ "", 16, false },
		{ "tab\there", 16, false },
		{ "new\nline", 16, false },
		{ "cr\r", 16, false },
		{ "esc\x1b[2J", 16, false },
		{ "del\x7f", 16, false },
		{ "nel\xc2\x85", 16, false },		/* U+0085 */
		{ "c1\xc2\x80", 16, false },		/* U+0080 */
		{ "c1\xc2\x9f", 16, false },		/* U+009F */
		{ "nbsp\xc2\xa0", 16, true },		/* U+00A0: not a control */
		{ "\xc2", 16, true },			/* alone: the parser's */
	};
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += differs(cases[i].s, sb_valid_text(cases[i].s,
		    strlen(cases[i].s), cases[i].max), cases[i].want);
	/* A NUL inside, as "\u0000" in JSON gives it. */
	bad += differs("NUL inside", sb_valid_text("ab\0cd", 5, 16), false);
	assert_int_equal(bad, 0);
}

/* ---- sb_bearer ---------------------------------------------------------- */

static void
test_bearer(void **state)
{
	static const struct {
		const char	*header;
		enum sb_err	 want;
		const char	*tok;
	} cases[] = {
		{ "Bearer abc.def.ghi", SB_OK, "abc.def.ghi" },
		{ "bearer abc", SB_OK, "abc" },
		{ "BEARER abc", SB_OK, "abc" },
		{ "bEaReR abc", SB_OK, "abc" },
		{ "Bearer   abc", SB_OK, "abc" },
		{ "Bearer abc ", SB_ERR_JWT_FORMAT, NULL },
		{ "Bearer abc def", SB_ERR_JWT_FORMAT, NULL },
		{ "Bearer abc\tdef", SB_ERR_JWT_FORMAT, NULL },
		{ "Bearer\tabc", SB_ERR_JWT_MISSING, NULL },
		{ "Bearerabc", SB_ERR_JWT_MISSING, NULL },
		{ "Bearer", SB_ERR_JWT_MISSING, NULL },
		{ "Bearer ", SB_ERR_JWT_MISSING, NULL },
		{ "Bearer    ", SB_ERR_JWT_MISSING, NULL },
		{ "Basic YWxhZGRpbjpvcGVuc2VzYW1l", SB_ERR_JWT_MISSING, NULL },
		{ " Bearer abc", SB_ERR_JWT_MISSING, NULL },
		{ "Beare abc", SB_ERR_JWT_MISSING, NULL },
		{ "", SB_ERR_JWT_MISSING, NULL },
	};
	const char	*tok;
	size_t		 i, len;
	enum sb_err	 e;
	int		 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		tok = NULL;
		len = 0;
		e = sb_bearer(cases[i].header, &tok, &len);
		bad += differs(cases[i].header, e, cases[i].want);
		if (e != SB_OK || cases[i].tok == NULL)
			continue;
		if (len != strlen(cases[i].tok) || strcmp(tok, cases[i].tok)) {
			print_error("%s: token %s\n", esc(cases[i].header),
			    esc(tok));
			bad++;
		}
	}
	assert_int_equal(sb_bearer(NULL, &tok, &len), SB_ERR_JWT_MISSING);
	assert_int_equal(bad, 0);
}

/* ---- sb_req_header ------------------------------------------------------ */

/* A request whose FastCGI parameters are params (NULL-terminated). */
static void
fake_req(struct sb_req *req, struct sb_fcgi_req *fr, char **params)
{
	memset(req, 0, sizeof(*req));
	memset(fr, 0, sizeof(*fr));
	fr->envp = params;
	req->fcgi = fr;
}

static void
test_req_header(void **state)
{
	static char	 ok[] = "HTTP_AUTHORIZATION=Bearer abc";
	static char	 other[] = "HTTP_AUTHORIZATION_X=1";
	static char	 ctl[] = "HTTP_COOKIE=a=1\x01";
	static char	 del[] = "HTTP_COOKIE=a=1\x7f";
	static char	 c1[] = "HTTP_COOKIE=a=1";
	static char	 c2[] = "HTTP_COOKIE=b=2";
	static char	 empty[] = "HTTP_X=";
	static char	 big[SB_HEADER_MAX + 16], max[SB_HEADER_MAX + 16];
	char		*one[] = { other, ok, NULL };
	char		*twice[] = { c1, ok, c2, NULL };
	char		*ctls[] = { ctl, NULL };
	char		*dels[] = { del, NULL };
	char		*sizes[] = { big, max, empty, NULL };
	struct sb_fcgi_req fr;
	struct sb_req	 req;
	enum sb_err	 e;
	const char	*v;

	fake_req(&req, &fr, one);
	v = sb_req_header(&req, "HTTP_AUTHORIZATION", &e);
	assert_int_equal(e, SB_OK);
	assert_non_null(v);
	assert_string_equal(v, "Bearer abc");
	assert_null(sb_req_header(&req, "HTTP_COOKIE", &e));
	assert_int_equal(e, SB_OK);
	assert_null(sb_req_header(&req, "HTTP_AUTH", &e));
	assert_int_equal(e, SB_OK);

	/* A header sent twice is refused, whichever comes first. */
	fake_req(&req, &fr, twice);
	assert_null(sb_req_header(&req, "HTTP_COOKIE", &e));
	assert_int_equal(e, SB_ERR_HEADER);
	assert_non_null(sb_req_header(&req, "HTTP_AUTHORIZATION", &e));
	assert_int_equal(e, SB_OK);

	fake_req(&req, &fr, ctls);
	assert_null(sb_req_header(&req, "HTTP_COOKIE", &e));
	assert_int_equal(e, SB_ERR_HEADER);
	fake_req(&req, &fr, dels);
	assert_null(sb_req_header(&req, "HTTP_COOKIE", &e));
	assert_int_equal(e, SB_ERR_HEADER);

	/* SB_HEADER_MAX bytes pass, one more does not. */
	snprintf(big, sizeof(big), "HTTP_BIG=");
	memset(big + 9, 'a', SB_HEADER_MAX + 1);
	big[9 + SB_HEADER_MAX + 1] = '\0';
	snprintf(max, sizeof(max), "HTTP_MAX=");
	memset(max + 9, 'a', SB_HEADER_MAX);
	max[9 + SB_HEADER_MAX] = '\0';
	fake_req(&req, &fr, sizes);
	assert_null(sb_req_header(&req, "HTTP_BIG", &e));
	assert_int_equal(e, SB_ERR_HEADER);
	v = sb_req_header(&req, "HTTP_MAX", &e);
	assert_int_equal(e, SB_OK);
	assert_int_equal(strlen(v), SB_HEADER_MAX);
	v = sb_req_header(&req, "HTTP_X", &e);
	assert_int_equal(e, SB_OK);
	assert_string_equal(v, "");
}

/* ---- sb_req_id_valid --------------------------------------------------- */

static void
test_req_id_valid(void **state)
{
	static const struct {
		const char	*s;
		bool		 want;
	} cases[] = {
		{ "0123456789abcdef0123456789abcdef", true },
		{ "6f1c0a52-0a4b-4d47-9d3a-0b5f3e1a2c44", true },
		{ "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", true },
		{ "a", true },
		{ "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", true },
		{ "", false },
		{ "has space", false },
		{ "quo\"te", false },
		{ "back\\slash", false },
		{ "tab\there", false },
		{ "cr\r", false },
		{ "lf\n", false },
		{ "del\x7f", false },
		{ "caf\xc3\xa9", false },
	};
	char	 long_id[SB_RID_MAX + 2];
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += differs(cases[i].s, sb_req_id_valid(cases[i].s,
		    strlen(cases[i].s)), cases[i].want);
	memset(long_id, 'x', sizeof(long_id));
	bad += differs("SB_RID_MAX", sb_req_id_valid(long_id, SB_RID_MAX),
	    true);
	bad += differs("SB_RID_MAX + 1", sb_req_id_valid(long_id,
	    SB_RID_MAX + 1), false);
	bad += differs("NUL inside", sb_req_id_valid("ab\0cd", 5), false);
	assert_int_equal(bad, 0);
}

/* ---- sb_group_access_valid --------------------------------------------- */

/* x-sentc-group-access-id: a UUID of version 4 or 7, as sentc checks it. */
static void
test_group_access_valid(void **state)
{
	static const struct {
		const char	*s;
		bool		 want;
	} cases[] = {
		{ UUID, true },
		{ UUID_UC, true },
		{ "01890a5d-ac96-774b-bcce-b302099a8057", true },	/* v7 */
		{ "0f8fad5b-d9cb-169f-a165-70867728950e", false },	/* v1 */
		{ "0f8fad5b-d9cb-569f-a165-70867728950e", false },	/* v5 */
		{ "00000000-0000-0000-0000-000000000000", false },
		{ "0f8fad5bd9cb469fa16570867728950e", false },
		{ "{0f8fad5b-d9cb-469f-a165-70867728950e}", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950e0", false },
		{ "0f8fad5b-d9cb-469f-a165_70867728950e", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950g", false },
		{ " 0f8fad5b-d9cb-469f-a165-70867728950e", false },
		{ "not-a-uuid", false },
		{ "", false },
	};
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += differs(cases[i].s, sb_group_access_valid(cases[i].s,
		    strlen(cases[i].s)), cases[i].want);
	bad += differs("NUL inside", sb_group_access_valid(
	    "0f8fad5b-d9cb-469f-a165-7086772\0950e", 36), false);
	assert_int_equal(bad, 0);
}

/* ---- the error table --------------------------------------------------- */

static void
test_err_table(void **state)
{
	static const struct {
		enum sb_err	 e;
		int		 status, code;
	} cases[] = {
		{ SB_OK, 200, 0 },
		{ SB_ERR_INTERNAL, 500, 20001 },
		{ SB_ERR_NOT_FOUND, 404, 20003 },
		{ SB_ERR_BAD_ID, 400, 20004 },
		{ SB_ERR_BODY_TOO_LARGE, 413, 20005 },
		{ SB_ERR_UPSTREAM_TIMEOUT, 504, 20011 },
		{ SB_ERR_JWT_EXPIRED, 401, 20017 },
		{ SB_ERR_STORAGE, 503, 20020 },
		{ SB_ERR_NOT_READY, 503, 20026 },
		{ SB_ERR_ADMIN_AUTH, 401, 20032 },
		{ SB_ERR_ADMIN_CLOSED, 403, 20033 },
		{ SB_ERR_FIELD, 400, 20034 },
		{ SB_ERR_NO_GROUP_DATA, 404, 20035 },
		{ SB_ERR_ADMIN_NETWORK, 403, 20036 },
		{ SB_ERR_LEFT_OVER, 500, 20037 },
		{ SB_ERR_ORIGIN, 403, 20030 },
		{ SB_ERR_COOKIE, 401, 20031 },
		{ SB_ERR_COOKIE_CLOSED, 503, 20038 },
	};
	size_t	 i;
	int	 e, bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		bad += differs(sb_err_str(cases[i].e),
		    sb_err_status(cases[i].e), cases[i].status);
		bad += differs(sb_err_str(cases[i].e),
		    sb_err_code(cases[i].e), cases[i].code);
	}
	assert_int_equal(bad, 0);

	for (e = SB_OK; e < SB_ERR__MAX; e++) {
		assert_non_null(sb_err_str(e));
		assert_true(strlen(sb_err_str(e)) > 0);
		assert_in_range(sb_err_status(e), 200, 599);
		if (e != SB_OK)
			assert_in_range(sb_err_status(e), 400, 599);
		assert_int_equal(sb_err_code(e), e == SB_OK ? 0 :
		    SB_ERR_BASE + e);
	}
	/* Out of the table: an internal error, never NULL. */
	assert_non_null(sb_err_str(SB_ERR__MAX));
	assert_int_equal(sb_err_status(SB_ERR__MAX), 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_match),
		cmocka_unit_test(test_path_match_len),
		cmocka_unit_test(test_is_uuid),
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64url_round_trip),
		cmocka_unit_test(test_b64_rejects),
		cmocka_unit_test(test_b64_output_too_small),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_json_parse_ok),
		cmocka_unit_test(test_json_parse_rejects),
		cmocka_unit_test(test_json_parse_rfc8259),
		cmocka_unit_test(test_json_check),
		cmocka_unit_test(test_json_get),
		cmocka_unit_test(test_json_take_object),
		cmocka_unit_test(test_json_take_object_shape),
		cmocka_unit_test(test_json_take_object_cap),
		cmocka_unit_test(test_json_member_string),
		cmocka_unit_test(test_query_get),
		cmocka_unit_test(test_envelope_ok),
		cmocka_unit_test(test_envelope_bad),
		cmocka_unit_test(test_login_take),
		cmocka_unit_test(test_login_take_bad),
		cmocka_unit_test(test_valid_text),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_req_header),
		cmocka_unit_test(test_req_id_valid),
		cmocka_unit_test(test_group_access_valid),
		cmocka_unit_test(test_err_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
