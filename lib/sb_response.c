#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

int
sb_reply_header(struct sb_req *req, const char *name, const char *value)
{
	size_t	 nlen = strlen(name), vlen = strlen(value);
	int	 n;

	if (!sb_printable(name, nlen) || !sb_printable(value, vlen) ||
	    memchr(name, ':', nlen) != NULL)
		return -1;
	n = snprintf(req->hdrs + req->hdrslen, sizeof(req->hdrs) -
	    req->hdrslen, "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= sizeof(req->hdrs) - req->hdrslen) {
		req->hdrs[req->hdrslen] = '\0';
		return -1;
	}
	req->hdrslen += (size_t)n;
	return 0;
}

void
sb_reply_raw(struct sb_req *req, int status, const char *ctype,
    const char *body, size_t len)
{
	char	 head[256 + SB_HDRS_MAX];
	size_t	 total;
	int	 n;

	if (req->status != 0)
		return;
	req->status = status;
	n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	    "%s\r\n", status, reason(status), ctype, len, req->hdrs);
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	if (req->head)
		len = 0;
	/* The answer is written whole once the route returns. */
	if (!sb_add_ok((size_t)n, len, &total) ||
	    (req->out = malloc(total > 0 ? total : 1)) == NULL)
		return;
	memcpy(req->out, head, (size_t)n);
	if (len > 0)
		memcpy(req->out + n, body, len);
	req->outlen = total;
}

static void
reply_json(struct sb_req *req, int status, json_object *obj)
{
	const char	*s;
	size_t		 len;

	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	sb_reply_raw(req, status, "application/json", s, len);
}

void
sb_reply_ok(struct sb_req *req, json_object *result)
{
	json_object	*env;

	if (req->status != 0)
		return;
	if ((env = json_object_new_object()) == NULL) {
		sb_reply_err(req, SB_ERR_INTERNAL, NULL);
		return;
	}
	json_object_object_add(env, "status", json_object_new_boolean(1));
	json_object_object_add(env, "result", result != NULL ?
	    json_object_get(result) : json_object_new_string("Success"));
	reply_json(req, 200, env);
	json_object_put(env);
}

void
sb_reply_ok_json(struct sb_req *req, const char *text, size_t len)
{
	static const char head[] = "{\"status\":true,\"result\":";
	char		*s;
	size_t		 n = sizeof(head) - 1, total;

	if (req->status != 0)
		return;
	if (!sb_add_ok(n + 1, len, &total) || (s = malloc(total)) == NULL) {
		sb_reply_err(req, SB_ERR_INTERNAL, NULL);
		return;
	}
	memcpy(s, head, n);
	memcpy(s + n, text, len);
	s[n + len] = '}';
	sb_reply_raw(req, 200, "application/json", s, total);
	free(s);
}

json_object *
sb_envelope_err(enum sb_err e, const char *msg)
{
	json_object	*env;

	if ((env = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(env, "status", json_object_new_boolean(0));
	json_object_object_add(env, "err_msg",
	    json_object_new_string(msg != NULL ? msg : sb_err_str(e)));
	json_object_object_add(env, "err_code",
	    json_object_new_int(sb_err_code(e)));
	return env;
}

void
sb_reply_sentc(struct sb_req *req, int status, int code, const char *msg)
{
	json_object	*env;

	if (req->status != 0)
		return;
	if ((env = json_object_new_object()) == NULL) {
		sb_reply_err(req, SB_ERR_INTERNAL, NULL);
		return;
	}
	json_object_object_add(env, "status", json_object_new_boolean(0));
	json_object_object_add(env, "err_msg", json_object_new_string(msg));
	json_object_object_add(env, "err_code", json_object_new_int(code));
	reply_json(req, status, env);
	json_object_put(env);
}

void
sb_reply_err(struct sb_req *req, enum sb_err e, const char *msg)
{
	static const char fallback[] = "{\"status\":false,\"err_msg\":"
	    "\"Internal error\",\"err_code\":20001}";
	json_object	*env;
	char		 allow[64];
	size_t		 i, n = 0;
	unsigned	 m;

	if (req->status != 0)
		return;
	req->err = e;
	if (e == SB_ERR_METHOD && req->route != NULL) {
		m = sb_route_methods(req->route, req->pattern);
		for (i = 0; i < SB_METHOD__MAX; i++)
			if (m & SB_M(i))
				n += (size_t)snprintf(allow + n, sizeof(allow) - n,
				    "%s%s", n ? ", " : "", sb_method_names[i]);
		sb_reply_header(req, "Allow", allow);
	}
	if ((env = sb_envelope_err(e, msg)) == NULL) {
		sb_reply_raw(req, 500, "application/json", fallback,
		    sizeof(fallback) - 1);
		return;
	}
	reply_json(req, sb_err_status(e), env);
	json_object_put(env);
}
