#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

struct sb_origins {
	size_t	 n;
	char	 origin[SB_ORIGINS_MAX][SB_ORIGIN_MAX + 1];
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
sb_origin_valid(const char *s, size_t len)
{
	const char	*p, *end = s + len, *host;
	long		 port = 0;
	int		 https;

	if (len > SB_ORIGIN_MAX)
		return 0;
	if (len > 8 && memcmp(s, "https://", 8) == 0)
		https = 1, p = s + 8;
	else if (len > 7 && memcmp(s, "http://", 7) == 0)
		https = 0, p = s + 7;
	else
		return 0;

	host = p;
	if (*p == '[') {
		/* An IPv6 literal, as browsers write it: lower-case hex. */
		for (p++; p < end && (is_digit(*p) || (*p >= 'a' &&
		    *p <= 'f') || *p == ':' || *p == '.'); p++)
			continue;
		if (p == end || *p != ']' || p - host < 3)
			return 0;
		p++;
	} else {
		for (; p < end && (is_digit(*p) || (*p >= 'a' && *p <= 'z') ||
		    *p == '-' || *p == '.'); p++)
			continue;
		if (p == host || *host == '.' || *host == '-' || p[-1] == '.')
			return 0;
	}
	if (p == end)
		return 1;
	/* A port: digits without a leading zero, never the default one. */
	if (*p++ != ':' || p == end || *p == '0' || end - p > 5)
		return 0;
	for (; p < end; p++) {
		if (!is_digit(*p))
			return 0;
		if (!sb_mul_ok(port, 10, &port) ||
		    !sb_add_ok(port, *p - '0', &port))
			return 0;
	}
	return port <= 65535 && port != (https ? 443 : 80);
}

void
sb_origins_free(struct sb_origins *os)
{
	free(os);
}

size_t
sb_origins_count(const struct sb_origins *os)
{
	return os == NULL ? 0 : os->n;
}

struct sb_origins *
sb_origins_parse(const char *spec, char *err, size_t errlen)
{
	struct sb_origins	*os;
	const char		*p = spec, *start, *end;
	size_t			 len;

	err[0] = '\0';
	while (is_space(*p))
		p++;
	if (*p == '\0')
		return NULL;
	if ((os = calloc(1, sizeof(*os))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (;;) {
		while (is_space(*p))
			p++;
		for (start = p; *p != '\0' && *p != ','; p++)
			continue;
		for (end = p; end > start && is_space(end[-1]); end--)
			continue;
		len = (size_t)(end - start);
		if (os->n == SB_ORIGINS_MAX) {
			snprintf(err, errlen, "SENTC_BACKEND_ALLOWED_ORIGINS: "
			    "more than %d origins", SB_ORIGINS_MAX);
			goto fail;
		}
		if (!sb_origin_valid(start, len)) {
			snprintf(err, errlen, "SENTC_BACKEND_ALLOWED_ORIGINS: "
			    "\"%.*s\" is not an origin: write "
			    "scheme://host[:port] in lower case, without a path, "
			    "a trailing slash or the default port",
			    (int)(len > 80 ? 80 : len), start);
			goto fail;
		}
		memcpy(os->origin[os->n], start, len);
		os->origin[os->n++][len] = '\0';
		if (*p == '\0')
			break;
		p++;
	}
	return os;
fail:
	free(os);
	return NULL;
}

const char *
sb_origin_find(const struct sb_origins *os, const char *origin)
{
	size_t	 i;

	if (os == NULL || origin == NULL)
		return NULL;
	for (i = 0; i < os->n; i++)
		if (strcmp(os->origin[i], origin) == 0)
			return os->origin[i];
	return NULL;
}

/* The request's Origin header (NULL if absent), and whether it is bad. */
static const char *
request_origin(const struct sb_req *req, int *bad)
{
	const char	*o;
	enum sb_err	 e;

	o = sb_req_header(req, "HTTP_ORIGIN", &e);
	*bad = e != SB_OK;
	return o;
}

void
sb_origin_cors(struct sb_req *req)
{
	const char	*o;
	int		 bad;

	sb_reply_header(req, "Vary", "Origin");
	o = sb_origin_find(sb_cfg->allowed_origins, request_origin(req, &bad));
	if (o == NULL)
		return;
	sb_reply_header(req, "Access-Control-Allow-Origin", o);
	sb_reply_header(req, "Access-Control-Allow-Credentials", "true");
}

void
sb_origin_preflight(struct sb_req *req)
{
	const char	*o;
	char		 methods[64];
	size_t		 i, n = 0;
	unsigned	 m = sb_route_methods(req->route, req->pattern);
	int		 bad;

	for (i = 0; i < SB_METHOD__MAX; i++)
		if (m & SB_M(i))
			n += (size_t)snprintf(methods + n, sizeof(methods) - n,
			    "%s%s", n ? ", " : "", sb_method_names[i]);
	o = request_origin(req, &bad);
	if (o == NULL && !bad) {
		/* Not a CORS preflight: what the route allows. */
		sb_reply_header(req, "Allow", methods);
		sb_reply_raw(req, 204, "text/plain", "", 0);
		return;
	}
	if (sb_origin_find(sb_cfg->allowed_origins, o) == NULL) {
		sb_reply_err(req, SB_ERR_ORIGIN, NULL);
		return;
	}
	sb_reply_header(req, "Access-Control-Allow-Methods", methods);
	sb_reply_header(req, "Access-Control-Allow-Headers", SB_CORS_HEADERS);
	sb_reply_header(req, "Access-Control-Max-Age", SB_CORS_MAX_AGE);
	sb_reply_raw(req, 204, "text/plain", "", 0);
}

int
sb_origin_check(struct sb_req *req)
{
	const char	*o;
	int		 bad;

	o = request_origin(req, &bad);
	if (o == NULL && !bad)
		return 0;
	if (sb_origin_find(sb_cfg->allowed_origins, o) != NULL)
		return 0;
	sb_reply_err(req, SB_ERR_ORIGIN, NULL);
	return -1;
}
