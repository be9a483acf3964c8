#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_config.h"
#include "sb_json.h"
#include "sb_response.h"
#include "sb_util.h"

/*
 * The grammar is checked here, by one pass that builds nothing: json-c's
 * strict mode still lets through single quotes, NaN and Infinity, raw
 * control characters inside strings, and integers past 64 bits (clamped),
 * and a route that only relays a body or reads an envelope's status needs
 * no tree. json-c builds the tree only of a text this pass accepted.
 */
struct scan {
	const unsigned char	*s;
	size_t			 len, i;
	int			 depth;		/* levels left */
};

/*
 * Length of the UTF-8 sequence at s[i], or 0 if it is not one:
 * overlong forms, surrogates and code points past U+10FFFF fail.
 */
static size_t
utf8_len(const unsigned char *s, size_t i, size_t len)
{
	unsigned char	 c = s[i], lo = 0x80, hi = 0xbf;
	size_t		 n, k;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (i + n > len || s[i + 1] < lo || s[i + 1] > hi)
		return 0;
	for (k = 2; k < n; k++)
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* The value of four hex digits at s, or -1. */
static long
hex4(const unsigned char *s)
{
	long	 v = 0;
	int	 k, d;

	for (k = 0; k < 4; k++) {
		if ((d = sb_hexval(s[k])) < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static bool
digit(const struct scan *sc)
{
	return sc->i < sc->len && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9';
}

static void
skip_ws(struct scan *sc)
{
	while (sc->i < sc->len && (sc->s[sc->i] == ' ' ||
	    sc->s[sc->i] == '\t' || sc->s[sc->i] == '\n' ||
	    sc->s[sc->i] == '\r'))
		sc->i++;
}

/*
 * A string, at its opening quote: escapes, no raw control, UTF-8. The
 * text is read through locals: a store to sc could alias it, and the
 * compiler would load sc's members again for every byte.
 */
static bool
scan_string(struct scan *sc)
{
	const unsigned char	*s = sc->s;
	size_t			 i = sc->i + 1, len = sc->len, n;
	unsigned char		 c;

	while (i < len) {
		c = s[i++];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
			continue;
		if (c == '"') {
			sc->i = i;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			if ((n = utf8_len(s, i - 1, len)) == 0)
				return false;
			i += n - 1;
			continue;
		}
		/* A backslash. */
		if (i >= len)
			return false;
		c = s[i++];
		if (c == 'u') {
			if (len - i < 4 || hex4(s + i) < 0)
				return false;
			i += 4;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
			return false;
	}
	return false;
}

/*
 * A number by RFC 8259's grammar. An integer must fit the 64 bits json-c
 * holds (signed if negative): it would clamp a larger one silently, and a
 * relayed or stored body would change.
 */
static bool
scan_number(struct scan *sc, json_type *type)
{
	static const char	 max_neg[] = "9223372036854775808";
	static const char	 max_pos[] = "18446744073709551615";
	const char		*max;
	size_t			 start, digits, mlen;
	bool			 neg;

	*type = json_type_int;
	if ((neg = sc->s[sc->i] == '-'))
		sc->i++;
	start = sc->i;
	if (!digit(sc))
		return false;
	if (sc->s[sc->i++] != '0')
		while (digit(sc))
			sc->i++;
	digits = sc->i - start;
	if (sc->i < sc->len && sc->s[sc->i] == '.') {
		sc->i++;
		if (!digit(sc))
			return false;
		while (digit(sc))
			sc->i++;
		*type = json_type_double;
	}
	if (sc->i < sc->len && (sc->s[sc->i] | 0x20) == 'e') {
		sc->i++;
		if (sc->i < sc->len && (sc->s[sc->i] == '+' ||
		    sc->s[sc->i] == '-'))
			sc->i++;
		if (!digit(sc))
			return false;
		while (digit(sc))
			sc->i++;
		*type = json_type_double;
	}
	if (*type == json_type_double)
		return true;
	max = neg ? max_neg : max_pos;
	mlen = strlen(max);
	/* No leading zeros: more digits is a larger number. */
	return digits < mlen || (digits == mlen &&
	    memcmp(sc->s + start, max, mlen) <= 0);
}

static bool
scan_word(struct scan *sc, const char *w)
{
	size_t	 n = strlen(w);

	if (sc->len - sc->i < n || memcmp(sc->s + sc->i, w, n) != 0)
		return false;
	sc->i += n;
	return true;
}

static bool	 scan_value(struct scan *, json_type *);

/* An object or array, at its bracket: members or elements. */
static bool
scan_nested(struct scan *sc, bool object)
{
	json_type	 t;
	unsigned char	 close = object ? '}' : ']';

	if (sc->depth-- == 0)
		return false;
	sc->i++;
	skip_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == close) {
		sc->i++;
		sc->depth++;
		return true;
	}
	for (;;) {
		if (object) {
			if (sc->i >= sc->len || sc->s[sc->i] != '"' ||
			    !scan_string(sc))
				return false;
			skip_ws(sc);
			if (sc->i >= sc->len || sc->s[sc->i++] != ':')
				return false;
			skip_ws(sc);
		}
		if (!scan_value(sc, &t))
			return false;
		skip_ws(sc);
		if (sc->i >= sc->len)
			return false;
		if (sc->s[sc->i] == close) {
			sc->i++;
			sc->depth++;
			return true;
		}
		if (sc->s[sc->i++] != ',')
			return false;
		skip_ws(sc);
	}
}

static bool
scan_value(struct scan *sc, json_type *type)
{
	if (sc->i >= sc->len)
		return false;
	switch (sc->s[sc->i]) {
	case '{':
		*type = json_type_object;
		return scan_nested(sc, true);
	case '[':
		*type = json_type_array;
		return scan_nested(sc, false);
	case '"':
		*type = json_type_string;
		return scan_string(sc);
	case 't':
		*type = json_type_boolean;
		return scan_word(sc, "true");
	case 'f':
		*type = json_type_boolean;
		return scan_word(sc, "false");
	case 'n':
		*type = json_type_null;
		return scan_word(sc, "null");
	default:
		return scan_number(sc, type);
	}
}

/* The type of a checked value, from its text. */
static json_type
type_of(const char *p, size_t len)
{
	switch (p[0]) {
	case '{':
		return json_type_object;
	case '[':
		return json_type_array;
	case '"':
		return json_type_string;
	case 't':
	case 'f':
		return json_type_boolean;
	case 'n':
		return json_type_null;
	default:
		return memchr(p, '.', len) || memchr(p, 'e', len) ||
		    memchr(p, 'E', len) ? json_type_double : json_type_int;
	}
}

enum sb_err
sb_json_check(const char *s, size_t len, int depth, struct sb_json_span *v)
{
	struct scan	 sc = { (const unsigned char *)s, len, 0, depth };
	json_type	 type;
	size_t		 start;

	skip_ws(&sc);
	start = sc.i;
	if (!scan_value(&sc, &type))
		return SB_ERR_BODY_NOT_JSON;
	if (v != NULL) {
		v->p = s + start;
		v->len = sc.i - start;
		v->type = type;
	}
	skip_ws(&sc);
	return sc.i == len ? SB_OK : SB_ERR_BODY_NOT_JSON;
}

/* Past the string at sc->i of a checked text: to its closing quote. */
static void
skip_checked_string(struct scan *sc)
{
	const unsigned char	*q;
	size_t			 k;

	for (sc->i++; (q = memchr(sc->s + sc->i, '"', sc->len - sc->i)) !=
	    NULL;) {
		sc->i = (size_t)(q - sc->s) + 1;
		/* Closing, unless an odd run of backslashes stands before. */
		for (k = 0; q[-1 - (long)k] == '\\'; k++)
			;
		if (k % 2 == 0)
			return;
	}
}

/*
 * Past the value at sc->i of a text sb_json_check() accepted: no grammar
 * to check again, only strings to step over and brackets to count.
 */
static void
skip_checked(struct scan *sc)
{
	size_t	 depth = 0;

	do {
		switch (sc->s[sc->i]) {
		case '"':
			skip_checked_string(sc);
			break;
		case '{':
		case '[':
			depth++;
			sc->i++;
			break;
		case '}':
		case ']':
			depth--;
			sc->i++;
			break;
		default:
			/* A number or a word; inside, also space, , and :. */
			while (++sc->i < sc->len &&
			    strchr("\"{}[]", sc->s[sc->i]) == NULL &&
			    (depth > 0 || strchr(" \t\r\n,", sc->s[sc->i]) == NULL))
				;
		}
	} while (depth > 0 && sc->i < sc->len);
}

/* Does the string body k[0..len) (a checked one) read name (ASCII)? */
static bool
key_is(const unsigned char *k, size_t len, const char *name)
{
	static const char	 esc[] = "b\bf\fn\nr\rt\t";
	const char		*e;
	size_t			 i = 0, j = 0;
	long			 c;

	while (i < len) {
		c = k[i++];
		if (c == '\\') {
			c = k[i++];
			if (c == 'u')
				c = hex4(k + i), i += 4;
			else if ((e = strchr(esc, (int)c)) != NULL && c != '\0')
				c = (unsigned char)e[1];
		}
		if (name[j] == '\0' || (unsigned char)name[j] != c)
			return false;
		j++;
	}
	return name[j] == '\0';
}

/*
 * The members of obj named name: how many, and in *v (if not NULL) the
 * last one's span.
 */
static size_t
members(const struct sb_json_span *obj, const char *name,
    struct sb_json_span *v)
{
	struct scan	 sc = { (const unsigned char *)obj->p, obj->len, 0, 0 };
	size_t		 key, keylen, start, n = 0;

	if (obj->type != json_type_object || obj->len < 2)
		return 0;
	sc.i = 1;
	skip_ws(&sc);
	while (sc.i < sc.len && sc.s[sc.i] == '"') {
		key = sc.i;
		skip_checked(&sc);
		keylen = sc.i - key - 2;
		skip_ws(&sc);
		sc.i++;			/* ':' */
		skip_ws(&sc);
		start = sc.i;
		skip_checked(&sc);
		/* The last of a repeated name counts, as in json-c. */
		if (key_is(sc.s + key + 1, keylen, name)) {
			if (v != NULL) {
				v->p = obj->p + start;
				v->len = sc.i - start;
				v->type = type_of(v->p, v->len);
			}
			n++;
		}
		skip_ws(&sc);
		if (sc.i < sc.len && sc.s[sc.i] == ',')
			sc.i++;
		skip_ws(&sc);
	}
	return n;
}

bool
sb_json_get(const struct sb_json_span *obj, const char *name,
    struct sb_json_span *v)
{
	return members(obj, name, v) > 0;
}

size_t
sb_json_count(const struct sb_json_span *obj, const char *name)
{
	return members(obj, name, NULL);
}

bool
sb_json_int(const struct sb_json_span *v, int64_t *out)
{
	char		 buf[24];
	long long	 n;

	if (v->type != json_type_int || v->len >= sizeof(buf))
		return false;
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	n = strtoll(buf, NULL, 10);
	/* Past INT64_MAX json-c's get_int64 gives INT64_MAX too. */
	*out = (int64_t)n;
	return true;
}

enum sb_err
sb_json_parse(const char *s, size_t len, json_object **out)
{
	return sb_json_parse_depth(s, len, SB_JSON_DEPTH, out);
}

/*
 * The tree of s[0..len), a text sb_json_check() accepted. A tokener per
 * text: json_tokener_reset() leaves a half-read \u escape behind, which
 * the next text would inherit.
 */
static enum sb_err
build(const char *s, size_t len, int depth, json_object **out)
{
	json_tokener	*tok;
	json_object	*obj;
	size_t		 end;

	if (len > (size_t)INT32_MAX)
		return SB_ERR_BODY_NOT_JSON;
	/* json-c counts a scalar inside the deepest container as a level. */
	if ((tok = json_tokener_new_ex(depth + 1)) == NULL)
		return SB_ERR_INTERNAL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	end = json_tokener_get_parse_end(tok);
	/* A bare number needs the end of input to be known complete. */
	if (obj == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		obj = json_tokener_parse_ex(tok, "", 1), end = len;
	if (json_tokener_get_error(tok) != json_tokener_success)
		goto bad;
	while (end < len && (s[end] == ' ' || s[end] == '\t' ||
	    s[end] == '\r' || s[end] == '\n'))
		end++;
	if (end != len)
		goto bad;
	json_tokener_free(tok);
	*out = obj;
	return SB_OK;
bad:
	json_object_put(obj);
	json_tokener_free(tok);
	return SB_ERR_BODY_NOT_JSON;
}

enum sb_err
sb_json_parse_depth(const char *s, size_t len, int depth, json_object **out)
{
	*out = NULL;
	if (sb_json_check(s, len, depth, NULL) != SB_OK)
		return SB_ERR_BODY_NOT_JSON;
	return build(s, len, depth, out);
}

const char *
sb_json_text(json_object *obj, size_t *len)
{
	return json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

enum sb_err
sb_json_take_object(json_object *obj, const char *name, size_t cap,
    json_object **out)
{
	json_object	*v;
	size_t		 len;

	*out = NULL;
	if (!json_object_object_get_ex(obj, name, &v))
		return SB_OK;
	if (!json_object_is_type(v, json_type_object))
		return SB_ERR_BODY_SHAPE;
	sb_json_text(v, &len);
	if (len > cap)
		return SB_ERR_FIELD_TOO_LARGE;
	*out = json_object_get(v);
	json_object_object_del(obj, name);
	return SB_OK;
}

enum sb_err
sb_json_member_string(json_object *obj, const char *name, size_t cap,
    const char **s, size_t *len)
{
	json_object	*v;

	*s = NULL;
	*len = 0;
	if (!json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) <= 0)
		return SB_ERR_BODY_SHAPE;
	if ((size_t)json_object_get_string_len(v) > cap)
		return SB_ERR_FIELD_TOO_LARGE;
	if (strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v))
		return SB_ERR_BODY_SHAPE;
	*s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return SB_OK;
}

const char *
sb_json_string(json_object *obj, const char *name)
{
	json_object	*v;

	if (obj == NULL || !json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

json_object *
sb_body_data(struct sb_req *req, size_t cap, const char *key)
{
	json_object	*obj;
	char		 msg[128];
	size_t		 len;

	if ((obj = sb_body_object(req)) == NULL)
		return NULL;
	sb_json_text(obj, &len);
	if (len > cap) {
		snprintf(msg, sizeof(msg), "The data is larger than %s", key);
		sb_reply_err(req, SB_ERR_FIELD_TOO_LARGE, msg);
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

int
sb_body_check_object(struct sb_req *req)
{
	struct sb_json_span	 v;
	enum sb_err		 e;

	if ((e = sb_req_read_body(req, (size_t)sb_cfg->max_body)) != SB_OK ||
	    (e = sb_json_check(req->body, req->bodylen, SB_JSON_DEPTH, &v)) !=
	    SB_OK) {
		sb_reply_err(req, e, NULL);
		return -1;
	}
	if (v.type != json_type_object) {
		sb_reply_err(req, SB_ERR_BODY_SHAPE,
		    "Request body must be a JSON object");
		return -1;
	}
	return 0;
}

json_object *
sb_body_object(struct sb_req *req)
{
	json_object	*obj;
	enum sb_err	 e;

	if (sb_body_check_object(req) == -1)
		return NULL;
	if ((e = build(req->body, req->bodylen, SB_JSON_DEPTH, &obj)) !=
	    SB_OK) {
		sb_reply_err(req, e, NULL);
		return NULL;
	}
	return obj;
}
