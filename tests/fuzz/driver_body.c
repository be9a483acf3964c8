/*
 * driver_body.c: the JSON body checks of every route.
 *
 * Input: byte 0 picks the route, byte 1 the caps (the defaults, or small
 * ones to reach the edges), the rest is the request body. sb_json_parse()
 * accepts only strict JSON (UTF-8, no NUL, nesting bounded) that
 * serializes and parses back to itself; then each route's own check runs:
 * register's user_data and group create's group_data
 * (sb_json_take_object), me's and group data's object (its compact
 * text), items' data (sb_json_member_string), the admin routes'
 * user_identifier (sb_valid_text), register-device's object.
 */
#include "fuzz.h"
#include "sb_json.h"
#include "sb_util.h"

enum route {
	REGISTER, GROUP_CREATE, ME, ITEMS, REGISTER_DEVICE, GROUP_DATA, ADMIN,
	NROUTES
};

#define IDENTIFIER_MAX	512	/* cgi-bin/admin.c */

/* Parses text that the library wrote; it must be accepted. */
static json_object *
reparse(json_object *obj, const char *what)
{
	json_object	*again;
	const char	*text;
	size_t		 len;

	text = sb_json_text(obj, &len);
	FUZZ_CHECK(strlen(text) == len, "%s: a NUL in serialized JSON", what);
	FUZZ_CHECK(sb_json_parse(text, len, &again) == SB_OK,
	    "%s: serialized JSON refused: %.200s", what, text);
	return again;
}

/* register's user_data, group create's group_data. */
static void
take(json_object *body, const char *name, size_t cap)
{
	json_object	*orig, *before, *out = (json_object *)1, *v, *relay;
	const char	*text;
	size_t		 len = 0;
	bool		 had;
	enum sb_err	 e;

	had = json_object_object_get_ex(body, name, &orig);
	if (had && json_object_is_type(orig, json_type_object))
		sb_json_text(orig, &len);
	before = reparse(body, "body");
	e = sb_json_take_object(body, name, cap, &out);
	if (!had) {
		FUZZ_CHECK(e == SB_OK && out == NULL, "%s absent: %d", name,
		    (int)e);
	} else if (!json_object_is_type(orig, json_type_object)) {
		FUZZ_CHECK(e == SB_ERR_BODY_SHAPE && out == NULL,
		    "%s not an object: %d", name, (int)e);
	} else if (len > cap) {
		FUZZ_CHECK(e == SB_ERR_FIELD_TOO_LARGE && out == NULL,
		    "%s of %zu bytes over %zu: %d", name, len, cap, (int)e);
	} else {
		FUZZ_CHECK(e == SB_OK && out != NULL &&
		    json_object_is_type(out, json_type_object),
		    "%s of %zu bytes: %d", name, len, (int)e);
		text = sb_json_text(out, &len);
		FUZZ_CHECK(len <= cap, "%s taken is %zu bytes", name, len);
		FUZZ_CHECK(!json_object_object_get_ex(body, name, NULL),
		    "%s still in the body", name);
		/* What is relayed: the body without it, nothing else lost. */
		relay = reparse(body, "relayed body");
		FUZZ_CHECK(!json_object_object_get_ex(relay, name, NULL),
		    "%s in the relayed text", name);
		json_object_object_add(relay, name, json_object_get(out));
		FUZZ_CHECK(json_object_equal(relay, before),
		    "relayed body + %s differs from the body", name);
		json_object_put(relay);
		(void)text;
	}
	if (e != SB_OK || !had)
		FUZZ_CHECK(json_object_object_get_ex(body, name, &v) == had,
		    "%s removed on a refusal", name);
	if (out != (json_object *)1)
		json_object_put(out);
	json_object_put(before);
}

/*
 * The admin routes' user_identifier, through sb_valid_text(): what an
 * independent reading says (1 to max bytes, no NUL, no C0 or DEL, no C1
 * written as UTF-8).
 */
static void
identifier(json_object *body, size_t max)
{
	json_object	*v;
	const unsigned char *s;
	size_t		 len, i;
	bool		 want = true;

	if (!json_object_object_get_ex(body, "user_identifier", &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	s = (const unsigned char *)json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > max)
		want = false;
	for (i = 0; i < len && want; i++)
		if (s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 &&
		    i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f))
			want = false;
	FUZZ_CHECK(sb_valid_text((const char *)s, len, max) == want,
	    "identifier of %zu bytes: want %d", len, want);
}

/* items: {"data": "<ciphertext>"}. */
static void
item(json_object *body, size_t cap)
{
	json_object	*v;
	const char	*s = (const char *)1;
	size_t		 len = 99, vlen;
	enum sb_err	 e;

	e = sb_json_member_string(body, "data", cap, &s, &len);
	if (!json_object_object_get_ex(body, "data", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (vlen = (size_t)json_object_get_string_len(v)) == 0) {
		FUZZ_CHECK(e == SB_ERR_BODY_SHAPE, "data absent or empty: %d",
		    (int)e);
	} else if (vlen > cap) {
		FUZZ_CHECK(e == SB_ERR_FIELD_TOO_LARGE, "data of %zu: %d", vlen,
		    (int)e);
	} else if (memchr(json_object_get_string(v), '\0', vlen) != NULL) {
		FUZZ_CHECK(e == SB_ERR_BODY_SHAPE, "data with a NUL: %d", (int)e);
	} else {
		FUZZ_CHECK(e == SB_OK && s == json_object_get_string(v) &&
		    len == vlen && strlen(s) == len, "data of %zu: %d", vlen,
		    (int)e);
		return;
	}
	FUZZ_CHECK(s == NULL && len == 0, "a refusal returned data");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object	*body, *again;
	const char	*text, *text2;
	size_t		 cap_user, cap_group, cap_item, len, len2;
	enum route	 route;
	enum sb_err	 e;

	if (size < 2)
		return 0;
	route = (enum route)(data[0] % NROUTES);
	if (data[1] & 1)
		cap_user = cap_group = cap_item = (size_t)(data[1] >> 1);
	else
		cap_user = cap_group = 16384, cap_item = 65536;
	data += 2, size -= 2;

	e = sb_json_parse((const char *)data, size, &body);
	if (e != SB_OK) {
		FUZZ_CHECK(e == SB_ERR_BODY_NOT_JSON && body == NULL,
		    "refused with %d", (int)e);
		return 0;
	}
	FUZZ_CHECK(memchr(data, '\0', size) == NULL, "accepted a NUL");
	FUZZ_CHECK(fuzz_utf8_ok(data, size), "accepted bad UTF-8");
	FUZZ_CHECK(fuzz_nesting((const char *)data, size) <= SB_JSON_DEPTH,
	    "accepted nesting deeper than %d", SB_JSON_DEPTH);
	FUZZ_CHECK(fuzz_ints_fit((const char *)data, size),
	    "accepted an integer that json-c clamps");

	if (body == NULL) {	/* JSON null */
		FUZZ_CHECK(memmem(data, size, "null", 4) != NULL,
		    "no value for accepted JSON");
		return 0;
	}

	/* Serialized, parsed again, serialized again: a fixed point. */
	text = sb_json_text(body, &len);
	again = reparse(body, "value");
	FUZZ_CHECK(json_object_equal(body, again), "round trip differs");
	text2 = sb_json_text(again, &len2);
	FUZZ_CHECK(len == len2 && memcmp(text, text2, len) == 0,
	    "serialization is not stable");
	json_object_put(again);

	if (json_object_is_type(body, json_type_object))
		switch (route) {
		case REGISTER:
			take(body, "user_data", cap_user);
			break;
		case GROUP_CREATE:
			take(body, "group_data", cap_group);
			break;
		case ME:
			text = sb_json_text(body, &len);
			FUZZ_CHECK(strlen(text) == len, "a NUL in user data");
			(void)cap_user;
			break;
		case ITEMS:
			item(body, cap_item);
			break;
		case GROUP_DATA:
			text = sb_json_text(body, &len);
			FUZZ_CHECK(strlen(text) == len, "a NUL in group data");
			break;
		case ADMIN:
			identifier(body, cap_item < IDENTIFIER_MAX ? cap_item :
			    IDENTIFIER_MAX);
			break;
		case REGISTER_DEVICE:
		case NROUTES:
			break;
		}
	json_object_put(body);
	return 0;
}
