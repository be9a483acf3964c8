/*
 * driver_envelope.c: sb_envelope_parse(), what the sentc API answers.
 *
 * Input: an upstream response body. A parsed envelope is a JSON object
 * whose boolean "status" is res.ok, and which has either a result (ok)
 * or an integer err_code (not ok), never both readings; it serializes
 * and parses back to the same envelope. A refused body leaves nothing
 * behind.
 */
#include "fuzz.h"
#include "sb_json.h"
#include "sb_upstream.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_upstream_res	 res, again;
	json_object		*v;
	const char		*text;
	char			*copy;
	size_t			 len;
	enum sb_err		 e;

	memset(&res, 0, sizeof(res));
	res.status = 299;
	e = sb_envelope_parse((const char *)data, size, &res);
	FUZZ_CHECK(res.status == 299, "status changed");
	if (e != SB_OK) {
		FUZZ_CHECK(e == SB_ERR_UPSTREAM_BAD, "error %d", (int)e);
		FUZZ_CHECK(res.envelope == NULL && res.result == NULL &&
		    !res.ok && res.err_code == 0, "a refused body left state");
		return 0;
	}

	FUZZ_CHECK(json_object_is_type(res.envelope, json_type_object),
	    "envelope is not an object");
	FUZZ_CHECK(json_object_object_get_ex(res.envelope, "status", &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v) == res.ok, "status is not res.ok");
	if (res.ok) {
		FUZZ_CHECK(json_object_object_get_ex(res.envelope, "result",
		    &v) && v == res.result, "ok without its result");
		FUZZ_CHECK(res.err_code == 0, "ok with err_code %ld",
		    res.err_code);
	} else {
		FUZZ_CHECK(res.result == NULL, "an error with a result");
		FUZZ_CHECK(json_object_object_get_ex(res.envelope, "err_code",
		    &v) && json_object_is_type(v, json_type_int) &&
		    json_object_get_int64(v) == res.err_code,
		    "err_code is not the envelope's");
	}

	/* Serialized and parsed again: the same envelope. */
	text = sb_json_text(res.envelope, &len);
	FUZZ_CHECK(strlen(text) == len, "a NUL in serialized JSON");
	copy = fuzz_cstr((const uint8_t *)text, len);
	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(sb_envelope_parse(copy, len, &again) == SB_OK,
	    "serialized envelope refused: %s", copy);
	FUZZ_CHECK(again.ok == res.ok && again.err_code == res.err_code &&
	    json_object_equal(again.envelope, res.envelope),
	    "serialized envelope differs");
	sb_upstream_res_free(&again);
	free(copy);
	sb_upstream_res_free(&res);
	return 0;
}
