/*
 * test_json_members.c: what lib/sb_json.c's checking pass reads of a
 * text: the spans sb_json_check() gives, the members of the top object
 * that sb_json_check_members() reads, and sb_json_int().
 */
#include "unit.h"

#include "extern.h"

/* ---- sb_json_check's spans and members, sb_json_int ------------------- */

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
test_json_members(void **state)
{
	static const char	 text[] = "{ \"a\" : 1, \"b\":{\"a\":2}, "
	    "\"\\u0063\":\"C\", \"a\":3, \"\\u00e9\":4, \"d\\n\":5, \"e\":[] }";
	struct sb_json_member	 m[] = { { .name = "a" }, { .name = "b" },
				    { .name = "c" }, { .name = "d\n" },
				    { .name = "d" }, { .name = "\xc3\xa9" },
				    { .name = "e" }, { .name = "z" },
				    { .name = "" } }, in[] = { { .name = "a" } };
	struct sb_json_span	 obj, v;
	int64_t			 n;

	assert_int_equal(sb_json_check_members(text, strlen(text), 8, &obj,
	    m, NELEM(m)), SB_OK);
	assert_int_equal(obj.type, json_type_object);
	/* The last of a repeated name, as json-c keeps it; and how many. */
	assert_int_equal(m[0].n, 2);
	assert_true(sb_json_int(&m[0].v, &n));
	assert_int_equal(n, 3);
	/* Only the top object's members: a nested one from its own text. */
	assert_int_equal(m[1].n, 1);
	assert_int_equal(m[1].v.type, json_type_object);
	assert_int_equal(sb_json_check_members(m[1].v.p, m[1].v.len, 8, NULL,
	    in, 1), SB_OK);
	assert_int_equal(in[0].n, 1);
	assert_true(sb_json_int(&in[0].v, &n));
	assert_int_equal(n, 2);
	/* Escaped names read as what they say. */
	assert_int_equal(m[2].n, 1);
	assert_int_equal(m[2].v.type, json_type_string);
	assert_int_equal(m[3].n, 1);
	assert_int_equal(m[4].n, 0);
	assert_int_equal(m[5].n, 0);
	assert_int_equal(m[6].n, 1);
	assert_int_equal(m[6].v.type, json_type_array);
	assert_false(sb_json_int(&m[6].v, &n));
	assert_int_equal(m[7].n, 0);
	assert_int_equal(m[8].n, 0);
	/* Not an object: nothing read; a text that fails: nothing either. */
	assert_int_equal(sb_json_check_members("[{\"a\":1}]", 9, 8, NULL, in,
	    1), SB_OK);
	assert_int_equal(in[0].n, 0);
	assert_int_equal(sb_json_check_members("{\"a\":1,}", 8, 8, NULL, in,
	    1), SB_ERR_BODY_NOT_JSON);
	assert_int_equal(sb_json_check_members("{}", 2, 8, NULL, in, 1),
	    SB_OK);
	assert_int_equal(in[0].n, 0);

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
		cmocka_unit_test(test_json_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
