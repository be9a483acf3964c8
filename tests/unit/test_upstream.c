/*
 * test_upstream.c: lib/sb_upstream.c: sentc's envelope, as the upstream
 * client reads an answer.
 */
#include "unit.h"

#include "extern.h"

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
		bad += differs(cases[i], res.rtext == NULL &&
		    res.result == NULL && !res.ok && res.err_code == 0, 1);
		sb_upstream_res_free(&res);
	}
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope_ok),
		cmocka_unit_test(test_envelope_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
