#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sb_cache.h"
#include "sb_json.h"
#include "sb_log.h"
#include "sb_response.h"
#include "sb_stats.h"
#include "sb_upstream.h"
#include "sb_util.h"

#define URL_MAX		1024
#define AUTH_MAX	(SB_JWT_MAX + 32)
/* libcurl asks for 100-continue only for bodies past this (1 MiB). */
#define EXPECT_MIN	(1024 * 1024)

static CURL		*curl;
static CURLU		*url;		/* the API's URL, parsed once */
static char		 prefix[URL_MAX];	/* its path, then /api/v1 */
static char		*token_hdr[SB_TOKEN__MAX];
static long		 connects;
static struct sb_cache	*probes;

/* A probe's answer, shared through the cache until until_ms. */
struct probe {
	int64_t		 until_ms;	/* CLOCK_MONOTONIC: the same for all */
	enum sb_err	 e;
};

struct buf {
	char	*p;
	size_t	 len, cap, max;
	bool	 over;
};

static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	struct buf	*b = arg;
	size_t		 len = size * n, ncap;
	char		*np;

	if (b->len + len > b->max) {
		b->over = true;
		return 0;	/* aborts the transfer */
	}
	if (b->len + len + 1 > b->cap) {
		for (ncap = b->cap ? b->cap : 4096; ncap < b->len + len + 1;)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return 0;
		b->p = np, b->cap = ncap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

/* Counts new connections: libcurl opens a socket only for those. */
static curl_socket_t
on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg;
	(void)purpose;
	connects++;
	return socket(a->family, a->socktype, a->protocol);
}

static char *
header_line(const char *name, const char *value)
{
	size_t	 len = strlen(name) + strlen(value) + 3;
	char	*s;

	if ((s = malloc(len)) != NULL)
		snprintf(s, len, "%s: %s", name, value);
	return s;
}

/*
 * A proxy from the environment, read once here: libcurl would otherwise
 * look (five getenv(3)s) on every request. Its rules: <scheme>_proxy
 * (for http only the lower-case one), then all_proxy, ALL_PROXY; hosts to
 * reach directly in no_proxy or NO_PROXY.
 */
static void
proxy_from_env(CURL *c, const char *api_url)
{
	const char	*p = NULL, *np;
	bool		 https = strncasecmp(api_url, "https:", 6) == 0;

	if (https && (p = getenv("https_proxy")) == NULL)
		p = getenv("HTTPS_PROXY");
	else if (!https)
		p = getenv("http_proxy");
	if (p == NULL && (p = getenv("all_proxy")) == NULL)
		p = getenv("ALL_PROXY");
	if ((np = getenv("no_proxy")) == NULL)
		np = getenv("NO_PROXY");
	curl_easy_setopt(c, CURLOPT_PROXY, p != NULL ? p : "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, np != NULL ? np : "");
}

int
sb_upstream_init(void)
{
	char	*path = NULL;
	int	 n;

	if (curl != NULL)
		return 0;
	/* Parsed once; a request sets only its path (see sb_upstream()). */
	if ((url = curl_url()) == NULL ||
	    curl_url_set(url, CURLUPART_URL, sb_cfg->api_url, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto fail;
	n = snprintf(prefix, sizeof(prefix), "%s/api/v1",
	    strcmp(path, "/") == 0 ? "" : path);
	curl_free(path);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		goto fail;
	if ((token_hdr[SB_TOKEN_PUBLIC] = header_line("x-sentc-app-token",
	    sb_cfg->public_token)) == NULL ||
	    (token_hdr[SB_TOKEN_SECRET] = header_line("x-sentc-app-token",
	    sb_cfg->secret_token)) == NULL ||
	    (curl = curl_easy_init()) == NULL)
		goto fail;

	/* Everything that is the same for every call is set once here. */
	curl_easy_setopt(curl, CURLOPT_CURLU, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (sb_cfg->ca_file[0] != '\0')
		curl_easy_setopt(curl, CURLOPT_CAINFO, sb_cfg->ca_file);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, sb_cfg->upstream_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	    sb_cfg->upstream_connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)sb_cfg->upstream_max_response);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXCONNECTS, 4L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "sentc-backend");
	proxy_from_env(curl, sb_cfg->api_url);
	return 0;
fail:
	sb_upstream_cleanup();
	return -1;
}

void
sb_upstream_cleanup(void)
{
	size_t	 i;

	if (curl != NULL)
		curl_easy_cleanup(curl);
	curl = NULL;
	curl_url_cleanup(url);
	url = NULL;
	for (i = 0; i < SB_TOKEN__MAX; i++) {
		if (token_hdr[i] != NULL)
			sb_wipe(token_hdr[i], strlen(token_hdr[i]));
		free(token_hdr[i]);
		token_hdr[i] = NULL;
	}
}

int
sb_upstream_probe_init(void)
{
	sb_cache_free(probes);
	probes = sb_cache_new(1, sizeof(struct probe));
	return probes == NULL ? -1 : 0;
}

enum sb_err
sb_upstream_reachable(void)
{
	const char	*parts[1] = { sb_cfg->api_url };
	unsigned char	 key[SB_CACHE_KEY];
	struct probe	 p;
	CURL		*c;
	CURLcode	 cc;
	int64_t		 now = sb_now_ms();

	sb_cache_key(key, parts, 1);
	if (sb_cache_get(probes, key, sb_now(), &p, sizeof(p)) ==
	    (long)sizeof(p) && p.until_ms > now)
		return p.e;
	if ((c = curl_easy_init()) == NULL)
		return SB_ERR_UPSTREAM_DOWN;
	curl_easy_setopt(c, CURLOPT_URL, sb_cfg->api_url);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (sb_cfg->ca_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, sb_cfg->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    sb_cfg->upstream_connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	    sb_cfg->upstream_connect_timeout_ms);
	cc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	p.e = cc == CURLE_OK ? SB_OK : cc == CURLE_OPERATION_TIMEDOUT ?
	    SB_ERR_UPSTREAM_TIMEOUT : SB_ERR_UPSTREAM_DOWN;
	if (p.e != SB_OK)
		sb_log(SB_LOG_WARN, "ready: the sentc API cannot be reached: "
		    "%s", curl_easy_strerror(cc));
	p.until_ms = sb_now_ms() + sb_cfg->ready_ttl * 1000;
	sb_cache_put(probes, key, 0, &p, sizeof(p),
	    sb_now() + sb_cfg->ready_ttl + 1);
	return p.e;
}

long
sb_upstream_connects(void)
{
	return connects;
}

void
sb_upstream_res_free(struct sb_upstream_res *res)
{
	json_object_put(res->result);
	free(res->body);
	memset(res, 0, sizeof(*res));
}

enum sb_err
sb_envelope_parse(const char *body, size_t len, struct sb_upstream_res *res)
{
	struct sb_json_span	 env, v, result = { 0 };
	int64_t			 code = 0;

	res->result = NULL;
	memset(&res->rspan, 0, sizeof(res->rspan));
	res->ok = false;
	res->err_code = 0;
	if (sb_json_check(body, len, SB_JSON_DEPTH, &env) != SB_OK ||
	    !sb_json_get(&env, "status", &v) ||
	    v.type != json_type_boolean)
		return SB_ERR_UPSTREAM_BAD;
	if (v.p[0] == 't') {
		if (!sb_json_get(&env, "result", &result))
			return SB_ERR_UPSTREAM_BAD;
	} else if (!sb_json_get(&env, "err_code", &v) ||
	    !sb_json_int(&v, &code))
		return SB_ERR_UPSTREAM_BAD;
	res->ok = result.p != NULL;
	res->rspan = result;
	res->err_code = (long)code;
	return SB_OK;
}

json_object *
sb_upstream_result(struct sb_upstream_res *res)
{
	if (res->ok && res->result == NULL && res->rspan.p != NULL)
		(void)sb_json_parse(res->rspan.p, res->rspan.len, &res->result);
	return res->result;
}

static enum sb_err
map_curl(CURLcode cc, const struct buf *b)
{
	switch (cc) {
	case CURLE_OK:
		return SB_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return SB_ERR_UPSTREAM_TIMEOUT;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return b->over || cc == CURLE_FILESIZE_EXCEEDED ?
		    SB_ERR_UPSTREAM_BAD : SB_ERR_INTERNAL;
	case CURLE_OUT_OF_MEMORY:
		return SB_ERR_INTERNAL;
	default:
		return SB_ERR_UPSTREAM_DOWN;
	}
}

/* Appends a header line to the list of n nodes in h (on the caller's stack). */
static void
header_add(struct curl_slist *h, size_t *n, const char *line)
{
	h[*n].data = (char *)line;
	h[*n].next = NULL;
	if (*n > 0)
		h[*n - 1].next = &h[*n];
	(*n)++;
}

enum sb_err
sb_upstream(struct sb_req *req, enum sb_method method, const char *path,
    enum sb_token token, const char *jwt, const char *body, size_t len,
    struct sb_upstream_res *res)
{
	/* Built here, not with curl_slist_append(): nothing to allocate. */
	struct curl_slist	 hdrs[5];
	struct buf		 b = { .max = (size_t)sb_cfg->upstream_max_response };
	char			 full[URL_MAX], auth[AUTH_MAX];
	long			 sent = 0;
	char			 rid[SB_RID_MAX + 16];
	size_t			 authlen = 0, nh = 0;
	int64_t			 t0;
	CURLcode		 cc;
	enum sb_err		 rc;
	int			 n;

	memset(res, 0, sizeof(*res));
	if (curl == NULL && sb_upstream_init() == -1)
		return SB_ERR_INTERNAL;
	n = snprintf(full, sizeof(full), "%s%s", prefix, path);
	if (n < 0 || (size_t)n >= sizeof(full) || path[0] != '/' ||
	    !sb_printable(full, (size_t)n) || strpbrk(path, "?#") != NULL ||
	    curl_url_set(url, CURLUPART_PATH, full, 0) != CURLUE_OK)
		return SB_ERR_INTERNAL;

	header_add(hdrs, &nh, token_hdr[token]);
	if (jwt != NULL) {
		n = snprintf(auth, sizeof(auth), "Authorization: Bearer %s", jwt);
		authlen = sizeof(auth);
		if (n < 0 || (size_t)n >= sizeof(auth) ||
		    !sb_printable(auth, (size_t)n)) {
			sb_wipe(auth, authlen);
			return SB_ERR_INTERNAL;
		}
		authlen = (size_t)n;
		header_add(hdrs, &nh, auth);
	}
	if (body != NULL)
		header_add(hdrs, &nh, "Content-Type: application/json");
	/* The request id, so that sentc's side of a request can be found. */
	if (req != NULL && req->rid[0] != '\0') {
		snprintf(rid, sizeof(rid), "X-Request-Id: %s", req->rid);
		header_add(hdrs, &nh, rid);
	}
	/* No 100-continue round trip: the body is sent whole at once. */
	if (body != NULL && len > EXPECT_MIN)
		header_add(hdrs, &nh, "Expect:");

	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	} else
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method == SB_GET ||
	    (method == SB_POST && body != NULL) ? NULL :
	    sb_method_names[method]);

	t0 = sb_now_ms();
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
	/* Bytes of the request written: zero if it never left. */
	curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
	res->sent = sent > 0;
	/* What held the JWT, not the whole 8 KiB on every call. */
	sb_wipe(auth, authlen);
	/* The handle keeps pointers to these; they die with this frame. */
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, NULL);

	if (req != NULL) {
		req->upstream_ms += sb_now_ms() - t0;
		req->upstream_status = res->status;
	}
	res->body = b.p;
	res->len = b.len;
	if ((rc = map_curl(cc, &b)) != SB_OK)
		sb_log(SB_LOG_WARN, "upstream %s %s: %s",
		    sb_method_names[method], path, curl_easy_strerror(cc));
	else if (res->body == NULL ||
	    sb_envelope_parse(res->body, res->len, res) != SB_OK) {
		sb_log(SB_LOG_WARN, "upstream %s %s: HTTP %ld without a sentc "
		    "envelope", sb_method_names[method], path, res->status);
		rc = SB_ERR_UPSTREAM_BAD;
	} else if (res->status >= 500) {
		/* A server error is a fault of the gateway's peer. */
		sb_log(SB_LOG_WARN, "upstream %s %s: HTTP %ld, err_code %ld",
		    sb_method_names[method], path, res->status, res->err_code);
		rc = SB_ERR_UPSTREAM_ERROR;
	}
	sb_stats_upstream(rc, sb_now_ms() - t0);
	return rc;
}

int
sb_relay(struct sb_req *req, enum sb_method method, const char *path,
    enum sb_token token, const char *jwt, const char *body, size_t len,
    struct sb_upstream_res *res)
{
	enum sb_err	 e;

	if ((e = sb_upstream(req, method, path, token, jwt, body, len, res)) !=
	    SB_OK) {
		sb_upstream_res_free(res);
		sb_reply_err(req, e, NULL);
		return -1;
	}
	return 0;
}

void
sb_compensate(struct sb_req *req, enum sb_method method, const char *path,
    enum sb_token token, const char *jwt)
{
	struct sb_upstream_res	 res;
	enum sb_err		 e;

	e = sb_upstream(req, method, path, token, jwt, NULL, 0, &res);
	if (e == SB_OK && res.ok) {
		sb_log(SB_LOG_WARN, "undone at sentc: %s %s",
		    sb_method_names[method], path);
		sb_reply_err(req, SB_ERR_COMPENSATED, NULL);
	} else {
		sb_log(SB_LOG_ERR, "INCONSISTENT: could not undo %s %s at "
		    "sentc (%s, err_code %ld)", sb_method_names[method], path,
		    sb_err_str(e), res.err_code);
		sb_reply_err(req, SB_ERR_INCONSISTENT, NULL);
	}
	sb_upstream_res_free(&res);
}

void
sb_reply_upstream(struct sb_req *req, const struct sb_upstream_res *res)
{
	sb_reply_raw(req, (int)res->status, "application/json", res->body,
	    res->len);
}
