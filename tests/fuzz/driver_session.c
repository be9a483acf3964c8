/*
 * driver_session.c: the refresh_token member of POST /backend/session's
 * body, as the route's input table declares it and the serve loop's
 * reader checks it (sb_input_take()), and what the refresh route makes
 * of it.
 *
 * Input: the request body. Once sb_json_parse() took it, the member
 * check answers what an independent reading of the rule says (a string
 * of 1 to SB_REFRESH_TOKEN_MAX bytes without a C0 or C1 control, DEL or
 * NUL).
 * A token it takes must go through the whole cookie mode unchanged: it
 * seals (with a test key, for a test aud and sub), opens again to the
 * very same bytes, and the body the refresh route sends sentc,
 * {"refresh_token": ...}, parses back to it.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "extern.h"

#define NOW	1800000000LL
#define AUD	"0f8fad5b-d9cb-469f-a165-70867728950e"
#define SUB	"7c9e6679-7425-40de-944b-e07fc1f90ae7"

static struct sb_cookie_keys	*keys;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[256];

	/* A test key for this driver, nothing else. */
	if ((keys = sb_cookie_keys_parse(
	    "7q8hh5FTo7xpmZ4NoPEUSw/EzEVpj5WPzVM54pl1Wbo=", err,
	    sizeof(err))) == NULL)
		abort();
	return 0;
}

static bool
oracle(json_object *body, const char **s, size_t *len)
{
	json_object	*v;
	size_t		 i;

	if (!json_object_object_get_ex(body, "refresh_token", &v) ||
	    json_object_get_type(v) != json_type_string)
		return false;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (*len < 1 || *len > SB_REFRESH_TOKEN_MAX)
		return false;
	for (i = 0; i < *len; i++)
		if ((unsigned char)(*s)[i] < 0x20 || (*s)[i] == 0x7f ||
		    ((unsigned char)(*s)[i] == 0xc2 && i + 1 < *len &&
		    (unsigned char)(*s)[i + 1] >= 0x80 &&
		    (unsigned char)(*s)[i + 1] <= 0x9f))
			return false;
	return true;
}

/* POST /backend/session's table, as cgi-bin/session.c declares it. */
static const struct sb_input in[] = {
	{ "refresh_token", SB_BODY, SB_TEXT, SB_REQUIRED,
	    .max = SB_REFRESH_TOKEN_MAX },
	{ .name = NULL },
};
static const struct sb_path path = { "/", SB_M(SB_POST), SB_M(SB_POST), in };
static const struct sb_route route = { .name = "session" };

/* The member as the serve loop reads it: SB_OK, or the error answered. */
static enum sb_err
take(struct sb_req *req, const uint8_t *data, size_t size,
    const char **tok, size_t *len)
{
	memset(req, 0, sizeof(*req));
	req->route = &route;
	req->method = SB_POST;
	req->body = fuzz_cstr(data, size);
	req->bodylen = size;
	*tok = NULL;
	*len = 0;
	if (sb_input_take(req, &path) == -1)
		return req->err;
	*tok = req->in[0].s;
	*len = req->in[0].len;
	return SB_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_req	 req;
	json_object	*body, *up, *back;
	const char	*tok = (const char *)1, *want = NULL, *text, *again;
	char		 value[SB_COOKIE_VALUE_MAX + 1];
	char		 opened[SB_REFRESH_TOKEN_MAX + 1];
	size_t		 len = 99, wlen = 0, tlen;
	long		 vlen;
	enum sb_err	 e;
	bool		 ok;

	if (sb_json_parse((const char *)data, size, &body) != SB_OK)
		return 0;
	if (!json_object_is_type(body, json_type_object)) {
		json_object_put(body);	/* the route refuses it before */
		return 0;
	}
	e = take(&req, data, size, &tok, &len);
	ok = oracle(body, &want, &wlen);
	FUZZ_CHECK((e == SB_OK) == ok, "got %d, want %d", (int)e, ok);
	if (e != SB_OK) {
		FUZZ_CHECK(e == SB_ERR_FIELD && req.status == 400,
		    "a refusal: %d, status %d", (int)e, req.status);
		goto out;
	}
	FUZZ_CHECK(len == wlen && memcmp(tok, want, len) == 0,
	    "not the member's string");

	/* /backend/session seals it ... */
	vlen = sb_cookie_seal(keys, NOW, AUD, SUB, tok, len, value,
	    sizeof(value));
	FUZZ_CHECK(vlen > 0, "a token taken does not seal");
	/* ... /backend/refresh opens it ... */
	FUZZ_CHECK(sb_cookie_open(keys, NOW + 60, 3600, value, (size_t)vlen,
	    AUD, SUB, opened, sizeof(opened), NULL) == SB_OK,
	    "a sealed token does not open");
	FUZZ_CHECK(strlen(opened) == len && memcmp(opened, tok, len) == 0,
	    "opened to other bytes");
	/* ... and sends {"refresh_token": ...} to sentc. */
	up = json_object_new_object();
	json_object_object_add(up, "refresh_token",
	    json_object_new_string(opened));
	text = sb_json_text(up, &tlen);
	FUZZ_CHECK(sb_json_parse(text, tlen, &back) == SB_OK,
	    "the upstream body is not JSON: %.100s", text);
	again = sb_json_string(back, "refresh_token");
	FUZZ_CHECK(again != NULL && strlen(again) == len &&
	    memcmp(again, tok, len) == 0, "sentc would get another token");
	json_object_put(back);
	json_object_put(up);
out:
	sb_input_free(&req, &path);
	free(req.out);
	free(req.body);
	json_object_put(body);
	return 0;
}
