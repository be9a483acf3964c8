#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

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
	int			 level;		/* 1 within the top value */
	struct sb_json_member	*want;		/* its members to read */
	size_t			 nwant;
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
static bool	 key_is(const unsigned char *, size_t, const char *);

/* A member of the top object: is it one asked for? The last one counts. */
static void
take_member(struct scan *sc, size_t key, size_t keyend, size_t start,
    json_type t)
{
	struct sb_json_member	*m;
	size_t			 k;

	for (k = 0; k < sc->nwant; k++) {
		m = &sc->want[k];
		if (!key_is(sc->s + key, keyend - key, m->name))
			continue;
		m->v.p = (const char *)sc->s + start;
		m->v.len = sc->i - start;
		m->v.type = t;
		m->n++;
	}
}

static bool
scan_nested(struct scan *sc, bool object)
{
	json_type	 t;
	unsigned char	 close = object ? '}' : ']';
	size_t		 key = 0, keyend = 0, start;

	if (sc->depth-- == 0)
		return false;
	sc->level++;
	sc->i++;
	skip_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == close)
		goto closed;
	for (;;) {
		if (object) {
			key = sc->i + 1;
			if (sc->i >= sc->len || sc->s[sc->i] != '"' ||
			    !scan_string(sc))
				return false;
			keyend = sc->i - 1;
			skip_ws(sc);
			if (sc->i >= sc->len || sc->s[sc->i++] != ':')
				return false;
			skip_ws(sc);
		}
		start = sc->i;
		if (!scan_value(sc, &t))
			return false;
		if (object && sc->level == 1 && sc->nwant > 0)
			take_member(sc, key, keyend, start, t);
		skip_ws(sc);
		if (sc->i >= sc->len)
			return false;
		if (sc->s[sc->i] == close)
			goto closed;
		if (sc->s[sc->i++] != ',')
			return false;
		skip_ws(sc);
	}
closed:
	sc->i++;
	sc->depth++;
	sc->level--;
	return true;
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

enum sb_err
sb_json_check_members(const char *s, size_t len, int depth,
    struct sb_json_span *v, struct sb_json_member *want, size_t nwant)
{
	struct scan	 sc = { (const unsigned char *)s, len, 0, depth, 0,
			    want, nwant };
	json_type	 type;
	size_t		 start, k;

	for (k = 0; k < nwant; k++) {
		memset(&want[k].v, 0, sizeof(want[k].v));
		want[k].n = 0;
	}
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

enum sb_err
sb_json_check(const char *s, size_t len, int depth, struct sb_json_span *v)
{
	return sb_json_check_members(s, len, depth, v, NULL, 0);
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
enum sb_err
sb_json_build(const char *s, size_t len, int depth, json_object **out)
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
	return sb_json_build(s, len, depth, out);
}

const char *
sb_json_text(json_object *obj, size_t *len)
{
	return json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, len);
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
