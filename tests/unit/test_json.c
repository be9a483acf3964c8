/*
 * test_json.c: lib/sb_json.c: the strict parser and checker of untrusted
 * JSON (RFC 8259, the depth, what json-c would let through), and the
 * readers of json-c trees. The span reader is test_json_span.c's.
 */
#include "unit.h"

#include "extern.h"

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

/* ---- sb_json_check ------------------------------------------------------ */

/* The checker alone: the depth is the caller's; a text cut short inside a
 * value, a bad escape or a bad word is refused. */
static void
test_json_check_rejects(void **state)
{
	static const char *const cut[] = {
		"[1,2", "\"a\\u00", "\"a\\", "1.", "1e", "\"\\x\"", "nul",
	};
	char	*deep;
	size_t	 i;
	int	 bad = 0;

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


/* ---- sb_json_take_object ----------------------------------------------- */

/* ---- sb_json_member_string ---------------------------------------------- */

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_parse_ok),
		cmocka_unit_test(test_json_parse_rejects),
		cmocka_unit_test(test_json_parse_rfc8259),
		cmocka_unit_test(test_json_check_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
