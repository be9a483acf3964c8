/*
 * driver_body.c: the JSON body checks of every route.
 *
 * Input: byte 0 picks the route, byte 1 the caps (the defaults, or small
 * ones to reach the edges), the rest is the request body. sb_json_parse()
 * accepts only strict JSON (UTF-8, no NUL, nesting bounded) that
 * serializes and parses back to itself; then the inputs each route
 * declares are checked by the serve loop's own reader (sb_input_take())
 * and held against an oracle that reads the body with json-c alone:
 * register's user_data (kept, not relayed) and device identifier, group
 * create's group_data, me's and group data's whole object, items' data,
 * hashes and sortable values (a hash decoded by OpenSSL's base64), the
 * admin routes' user_identifier, register-device's object.
 */
#include <openssl/evp.h>

#include "fuzz.h"
#include "extern.h"

enum route {
	REGISTER, GROUP_CREATE, ME, ITEMS, REGISTER_DEVICE, GROUP_DATA, ADMIN,
	NROUTES
};

/* The routes' tables, as cgi-bin/ declares them. */
static const struct sb_input in_register[] = {
	{ "user_data", SB_BODY, SB_OBJECT, SB_TAKE,
	    .limit = SB_LIMIT_USER_DATA, .err = SB_ERR_BODY_SHAPE },
	{ "device.device_identifier", SB_BODY, SB_TEXT, .max = 512 },
	{ .name = NULL },
}, in_group_create[] = {
	{ "group_data", SB_BODY, SB_OBJECT, SB_TAKE,
	    .limit = SB_LIMIT_GROUP_DATA, .err = SB_ERR_BODY_SHAPE },
	{ .name = NULL },
}, in_me[] = {
	{ "", SB_BODY, SB_OBJECT, SB_REQUIRED, .limit = SB_LIMIT_USER_DATA },
	{ .name = NULL },
}, in_group_data[] = {
	{ "", SB_BODY, SB_OBJECT, SB_REQUIRED, .limit = SB_LIMIT_GROUP_DATA },
	{ .name = NULL },
}, in_items[] = {
	{ "data", SB_BODY, SB_TEXT, SB_REQUIRED, .limit = SB_LIMIT_ITEM,
	    .err = SB_ERR_BODY_SHAPE },
	{ "hashes", SB_BODY, SB_HASHES, .flags = 0 },
	{ "sortable", SB_BODY, SB_SORTABLE, .flags = 0 },
	{ .name = NULL },
}, in_admin[] = {
	{ "user_identifier", SB_BODY, SB_TEXT, SB_REQUIRED, .max = 512 },
	{ .name = NULL },
};

static const struct sb_path paths[NROUTES] = {
	[REGISTER] = { "/", SB_M(SB_POST), SB_M(SB_POST), in_register },
	[GROUP_CREATE] = { "/", SB_M(SB_POST), SB_M(SB_POST), in_group_create },
	[ME] = { "/", SB_M(SB_POST), SB_M(SB_POST), in_me },
	[ITEMS] = { "/", SB_M(SB_POST), SB_M(SB_POST), in_items },
	[REGISTER_DEVICE] = { "/", SB_M(SB_POST), SB_M(SB_POST), NULL },
	[GROUP_DATA] = { "/", SB_M(SB_POST), SB_M(SB_POST), in_group_data },
	[ADMIN] = { "/", SB_M(SB_POST), SB_M(SB_POST), in_admin },
};

static const struct sb_route route = { .name = "fuzz" };
static struct sb_config cfg;

/* Parses text that the library wrote; it must be accepted. */
static json_object *
reparse(json_object *obj, const char *what)
{
	json_object	*again;
	const char	*text;
	size_t		 len;

	text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	FUZZ_CHECK(strlen(text) == len, "%s: a NUL in serialized JSON", what);
	FUZZ_CHECK(sb_json_parse(text, len, &again) == SB_OK,
	    "%s: serialized JSON refused: %.200s", what, text);
	return again;
}

/* What the oracle expects of one input. */
enum want { OK, BAD, BIG, BAD_OR_BIG };

static json_object *
find(json_object *body, const char *name)
{
	char		 buf[64], *part, *save = NULL;
	json_object	*o = body;

	if (*name == '\0')
		return body;
	snprintf(buf, sizeof(buf), "%s", name);
	for (part = strtok_r(buf, ".", &save); part != NULL;
	    part = strtok_r(NULL, ".", &save))
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, part, &o))
			return NULL;
	return o;
}

/* Text a person could type: no control byte (C0, DEL, C1), no NUL. */
static bool
clean(const unsigned char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 &&
		    i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f))
			return false;
	return true;
}

/* One search hash: OpenSSL decodes it to 32 bytes that encode back to it. */
static bool
hash_ok(json_object *h)
{
	unsigned char	 b64[45], raw[36], again[48];
	const char	*s;
	size_t		 i;

	if (!json_object_is_type(h, json_type_string) ||
	    json_object_get_string_len(h) != 43)
		return false;
	s = json_object_get_string(h);
	for (i = 0; i < 43; i++) {
		if (s[i] == '+' || s[i] == '/' || s[i] == '=' || s[i] == '\0')
			return false;
		b64[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	b64[43] = '=';
	b64[44] = '\0';
	if (EVP_DecodeBlock(raw, b64, 44) != 33)	/* 32 and a pad byte */
		return false;
	EVP_EncodeBlock(again, raw, 32);
	return memcmp(again, b64, 44) == 0;
}

static enum want
hashes_want(json_object *o)
{
	size_t	 i, j, n, k, total = 0;
	bool	 bad = false, big = false;

	if (!json_object_is_type(o, json_type_array))
		return BAD;
	if ((n = json_object_array_length(o)) > SB_HASH_LISTS_MAX)
		big = true;
	for (i = 0; i < n && i < SB_HASH_LISTS_MAX; i++) {
		json_object *l = json_object_array_get_idx(o, i);

		if (!json_object_is_type(l, json_type_array) ||
		    (k = json_object_array_length(l)) == 0) {
			bad = true;
			continue;
		}
		total += k;
		if (k > SB_HASHES_PER_LIST || total > SB_HASHES_MAX)
			big = true;
		for (j = 0; j < k; j++)
			bad |= !hash_ok(json_object_array_get_idx(l, j));
	}
	return bad && big ? BAD_OR_BIG : bad ? BAD : big ? BIG : OK;
}

/* A name of 1..32 of [A-Za-z0-9_-]; a value 0..4294967294. */
static enum want
sortable_want(json_object *o)
{
	const char	*s;
	size_t		 len;
	bool		 bad = false;

	if (!json_object_is_type(o, json_type_object))
		return BAD;
	json_object_object_foreach(o, name, val) {
		len = strlen(name);
		bad |= len == 0 || len > 32 ||
		    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
		    "tuvwxyz0123456789_-") != len;
		if (json_object_is_type(val, json_type_int)) {
			errno = 0;
			bad |= json_object_get_int64(val) < 0 ||
			    json_object_get_int64(val) > SB_SORTABLE_MAX ||
			    errno != 0;
		} else if (json_object_is_type(val, json_type_string)) {
			s = json_object_get_string(val);
			len = (size_t)json_object_get_string_len(val);
			bad |= len == 0 || len > 19 ||
			    strspn(s, "0123456789") != len ||
			    strtoull(s, NULL, 10) > SB_SORTABLE_MAX;
		} else
			bad = true;
	}
	if (json_object_object_length(o) > SB_SORTABLES_MAX)
		return bad ? BAD_OR_BIG : BIG;
	return bad ? BAD : OK;
}

static enum want
input_want(const struct sb_input *in, json_object *body)
{
	json_object	*o = find(body, in->name);
	size_t		 len, cap;

	if (o == NULL)
		return in->flags & SB_REQUIRED ? BAD : OK;
	cap = in->limit == SB_LIMIT_USER_DATA ? (size_t)cfg.max_user_data :
	    in->limit == SB_LIMIT_GROUP_DATA ? (size_t)cfg.max_group_data :
	    in->limit == SB_LIMIT_ITEM ? (size_t)cfg.max_item :
	    (size_t)in->max;
	switch (in->kind) {
	case SB_OBJECT:
		if (!json_object_is_type(o, json_type_object))
			return BAD;
		json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		return len > cap ? BIG : OK;
	case SB_TEXT:
		if (!json_object_is_type(o, json_type_string))
			return BAD;
		len = (size_t)json_object_get_string_len(o);
		if (len == 0 || !clean((const unsigned char *)
		    json_object_get_string(o), len))
			return BAD;
		return len <= cap ? OK : in->limit != SB_LIMIT_NONE ? BIG : BAD;
	case SB_HASHES:
		return hashes_want(o);
	case SB_SORTABLE:
		return sortable_want(o);
	default:
		FUZZ_CHECK(0, "a kind the oracle does not know");
	}
	return BAD;
}

/* A value the reader gave, held against the member it read. */
static void
value_check(const struct sb_input *in, const struct sb_value *v,
    json_object *o)
{
	size_t	 i, j;

	FUZZ_CHECK(v->set == (o != NULL), "%s: set %d", in->name, v->set);
	if (o == NULL)
		return;
	switch (in->kind) {
	case SB_OBJECT:
		FUZZ_CHECK(json_object_equal(v->obj, o), "%s: another object",
		    in->name);
		break;
	case SB_TEXT:
		FUZZ_CHECK(v->len == (size_t)json_object_get_string_len(o) &&
		    memcmp(v->s, json_object_get_string(o), v->len) == 0,
		    "%s: another text", in->name);
		break;
	case SB_HASHES:
		FUZZ_CHECK(v->n == json_object_array_length(o), "lists");
		for (i = 0; i < v->n; i++)
			for (j = 0; j < v->count[i]; j++)
				FUZZ_CHECK(strcmp(v->lists[i][j],
				    json_object_get_string(json_object_array_get_idx(
				    json_object_array_get_idx(o, i), j))) == 0,
				    "hash %zu.%zu", i, j);
		break;
	case SB_SORTABLE:
		FUZZ_CHECK(v->n == (size_t)json_object_object_length(o),
		    "sortable count");
		for (i = 0; i < v->n; i++) {
			json_object *x = json_object_object_get(o,
			    v->names[i]);

			FUZZ_CHECK(x != NULL && (uint64_t)v->values[i] ==
			    (json_object_is_type(x, json_type_int) ?
			    (uint64_t)json_object_get_int64(x) :
			    strtoull(json_object_get_string(x), NULL, 10)),
			    "sortable %s", v->names[i]);
		}
		break;
	default:
		break;
	}
}

static void
inputs(enum route r, const char *data, size_t size, json_object *body)
{
	const struct sb_path	*p = &paths[r];
	struct sb_req		 req;
	enum want		 w, all = OK;
	json_object		*relayed, *want;
	size_t			 i;
	int			 rc;

	for (i = 0; p->in != NULL && p->in[i].name != NULL && all == OK; i++)
		all = input_want(&p->in[i], body);
	memset(&req, 0, sizeof(req));
	req.route = &route;
	req.method = SB_POST;
	req.body = fuzz_cstr((const uint8_t *)data, size);
	req.bodylen = size;
	rc = sb_input_take(&req, p);
	w = all;
	if (rc == -1) {
		FUZZ_CHECK(w != OK, "refused (%d) what the oracle takes",
		    (int)req.err);
		FUZZ_CHECK(req.status == 400 || req.status == 413,
		    "status %d", req.status);
		if (req.status == 413)
			FUZZ_CHECK(w == BIG || w == BAD_OR_BIG, "413 for a bad one");
		else
			FUZZ_CHECK(w == BAD || w == BAD_OR_BIG, "400 for a big one");
	} else {
		FUZZ_CHECK(w == OK, "took what the oracle refuses (%d)", (int)w);
		for (i = 0; p->in != NULL && p->in[i].name != NULL; i++)
			value_check(&p->in[i], &req.in[i],
			    find(body, p->in[i].name));
		/* Relayed: the body, less what the route keeps. */
		FUZZ_CHECK(sb_json_parse(req.relay, req.relaylen, &relayed) ==
		    SB_OK, "the relayed body does not parse");
		want = reparse(body, "relay");
		for (i = 0; p->in != NULL && p->in[i].name != NULL; i++)
			if (p->in[i].flags & SB_TAKE)
				json_object_object_del(want, p->in[i].name);
		FUZZ_CHECK(json_object_equal(relayed, want),
		    "the relayed body is not the body less what is kept");
		json_object_put(relayed);
		json_object_put(want);
	}
	sb_input_free(&req, p);
	free(req.out);
	free(req.body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object	*body, *again;
	const char	*text, *text2;
	size_t		 len, len2;
	enum route	 r;
	enum sb_err	 e;

	if (size < 2)
		return 0;
	r = (enum route)(data[0] % NROUTES);
	if (data[1] & 1)
		cfg.max_user_data = cfg.max_group_data = cfg.max_item =
		    data[1] >> 1;
	else
		cfg.max_user_data = cfg.max_group_data = 16384,
		    cfg.max_item = 65536;
	sb_cfg = &cfg;
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
		inputs(r, (const char *)data, size, body);
	json_object_put(body);
	return 0;
}
