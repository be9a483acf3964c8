#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sb_config.h"
#include "sb_json.h"
#include "sb_response.h"

/*
 * What json-c's strict mode still lets through: single quotes, NaN and
 * Infinity, raw control characters inside strings, and integers past 64
 * bits (clamped). Outside strings only JSON's punctuation, numbers and
 * the letters of true, false and null may stand; json-c checks their
 * order.
 */
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

/*
 * Length of the number token at s[i] (a '-' or a digit, outside strings),
 * or 0 for an integer outside the 64 bits json-c holds: it would clamp
 * one silently, and a relayed or stored body would change.
 */
static size_t
number_len(const char *s, size_t i, size_t len)
{
	static const char	 max_neg[] = "9223372036854775808";
	static const char	 max_pos[] = "18446744073709551615";
	const char		*max;
	size_t			 n, digits, mlen;
	bool			 integer = true, neg = s[i] == '-';

	for (n = i; n < len && strchr("-+.0123456789eE", s[n]) != NULL; n++)
		if (s[n] == '.' || s[n] == 'e' || s[n] == 'E')
			integer = false;
	if (!integer)
		return n - i;
	digits = n - i - neg;
	max = neg ? max_neg : max_pos;
	mlen = strlen(max);
	/* JSON has no leading zeros, so more digits is a larger number. */
	if (digits > mlen || (digits == mlen &&
	    memcmp(s + i + neg, max, mlen) > 0))
		return 0;
	return n - i;
}

static bool
syntax_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	bool		 instr = false;
	size_t		 i, n;

	for (i = 0; i < len; i++) {
		unsigned char c = u[i];

		if (instr) {
			if (c < 0x20)
				return false;
			if (c >= 0x80) {
				if ((n = utf8_len(u, i, len)) == 0)
					return false;
				i += n - 1;
				continue;
			}
			if (c == '\\')
				i++;
			else if (c == '"')
				instr = false;
		} else if (c == '"')
			instr = true;
		else if (c == '-' || (c >= '0' && c <= '9')) {
			if ((n = number_len(s, i, len)) == 0)
				return false;
			i += n - 1;
		} else if (strchr(" \t\r\n{}[]:,-+.0123456789eEtrufalsn", c) ==
		    NULL)
			return false;
	}
	return true;
}

enum sb_err
sb_json_parse(const char *s, size_t len, json_object **out)
{
	return sb_json_parse_depth(s, len, SB_JSON_DEPTH, out);
}

enum sb_err
sb_json_parse_depth(const char *s, size_t len, int depth, json_object **out)
{
	json_tokener	*tok;
	json_object	*obj;
	size_t		 end;

	*out = NULL;
	if (len == 0 || len > (size_t)INT32_MAX || memchr(s, '\0', len) ||
	    !syntax_ok(s, len))
		return SB_ERR_BODY_NOT_JSON;
	if ((tok = json_tokener_new_ex(depth)) == NULL)
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

json_object *
sb_body_object(struct sb_req *req)
{
	json_object	*obj;
	enum sb_err	 e;

	if ((e = sb_req_read_body(req, (size_t)sb_cfg->max_body)) != SB_OK ||
	    (e = sb_json_parse(req->body, req->bodylen, &obj)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return NULL;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		sb_reply_err(req, SB_ERR_BODY_SHAPE,
		    "Request body must be a JSON object");
		return NULL;
	}
	return obj;
}
