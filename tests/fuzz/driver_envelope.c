/*
 * driver_envelope.c: sb_envelope_parse(), what the sentc API answers.
 *
 * Input: an upstream response body. An envelope is accepted exactly when
 * json-c reads the body as an object whose "status" is a boolean, with a
 * "result" if true, an integer "err_code" if false. res.ok is that status;
 * sb_upstream_result() builds a value equal to json-c's result; err_code
 * is json-c's. (json-c cuts a name at an escaped NUL, "status\u0000"
 * reads "status" there: such bodies are left out of the comparison.) A
 * refused body leaves nothing behind.
 */
#include "fuzz.h"
#include "extern.h"

/* What json-c's tree says of the body: -1 not an envelope, 0/1 its status. */
static int
want(json_object *env, json_object **result, int64_t *code)
{
	json_object	*st, *v;

	*result = NULL;
	*code = 0;
	if (!json_object_is_type(env, json_type_object) ||
	    !json_object_object_get_ex(env, "status", &st) ||
	    !json_object_is_type(st, json_type_boolean))
		return -1;
	if (json_object_get_boolean(st))
		return json_object_object_get_ex(env, "result", result) ? 1 : -1;
	if (!json_object_object_get_ex(env, "err_code", &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	*code = json_object_get_int64(v);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_upstream_res	 res;
	json_object		*env = NULL, *result;
	int64_t			 code;
	enum sb_err		 e;
	int			 w = -1;

	memset(&res, 0, sizeof(res));
	res.status = 299;
	e = sb_envelope_parse((const char *)data, size, &res);
	FUZZ_CHECK(res.status == 299, "status changed");
	if (memmem(data, size, "\\u0000", 6) != NULL) {
		sb_upstream_res_free(&res);
		return 0;
	}
	if (sb_json_parse((const char *)data, size, &env) == SB_OK)
		w = want(env, &result, &code);
	if (e != SB_OK) {
		FUZZ_CHECK(e == SB_ERR_UPSTREAM_BAD, "error %d", (int)e);
		FUZZ_CHECK(w == -1, "refused an envelope of status %d", w);
		FUZZ_CHECK(res.rtext == NULL && res.result == NULL &&
		    !res.ok && res.err_code == 0, "a refused body left state");
		json_object_put(env);
		return 0;
	}
	FUZZ_CHECK(w != -1, "accepted what is no envelope");
	FUZZ_CHECK(res.ok == (w == 1), "status %d, json-c %d", res.ok, w);
	if (res.ok) {
		FUZZ_CHECK(res.err_code == 0, "ok with err_code %ld",
		    res.err_code);
		FUZZ_CHECK(res.rtext >= (const char *)data &&
		    res.rtext + res.rlen <= (const char *)data + size,
		    "result outside the body");
		FUZZ_CHECK(json_object_equal(sb_upstream_result(&res), result),
		    "the result built is not json-c's");
	} else {
		FUZZ_CHECK(sb_upstream_result(&res) == NULL,
		    "an error with a result");
		FUZZ_CHECK(res.err_code == (long)code, "err_code %ld, json-c %lld",
		    res.err_code, (long long)code);
	}
	sb_upstream_res_free(&res);
	json_object_put(env);
	return 0;
}
