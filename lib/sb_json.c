#include <string.h>

#include "sb_config.h"
#include "sb_json.h"
#include "sb_response.h"

enum sb_err
sb_json_parse(const char *s, size_t len, json_object **out)
{
	json_tokener	*tok;
	json_object	*obj;
	size_t		 end;

	*out = NULL;
	if (len == 0 || len > (size_t)INT32_MAX || memchr(s, '\0', len))
		return SB_ERR_BODY_NOT_JSON;
	if ((tok = json_tokener_new_ex(SB_JSON_DEPTH)) == NULL)
		return SB_ERR_INTERNAL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
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
