/*
 * test_json_span.c: lib/sb_json.c's span reader over checked text: the
 * spans sb_json_check() gives, sb_json_get(), sb_json_count() and
 * sb_json_int().
 */
#include "unit.h"

#include "sb_error.h"
#include "sb_json.h"

/* ---- sb_json_check's spans, sb_json_get, sb_json_count, sb_json_int ----- */

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
	struct sb_json_span	 v;
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_check),
		cmocka_unit_test(test_json_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
