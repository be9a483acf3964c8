#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sb_cache.h"
#include "sb_http1.h"
#include "sb_json.h"
#include "sb_log.h"
#include "sb_response.h"
#include "sb_stats.h"
#include "sb_upstream.h"
#include "sb_util.h"

#define URL_MAX		1024
/* A request's head: its line, Host, the app token, the JWT, the id. */
#define HEAD_MAX	(SB_JWT_MAX + 8192)
#define READ_MIN	16384	/* room asked of each read */

/*
 * libcurl makes the connection (DNS, TCP, a proxy's CONNECT, TLS, all of
 * it verified) and keeps it; the requests on it are written and their
 * answers read here (sb_http1.h), without libcurl's per-request work.
 */
static CURLU		*url;		/* the API's URL, parsed once */
static CURLSH		*share;		/* DNS and TLS sessions */
static CURL		*conn;		/* the connection, NULL if none */
static curl_socket_t	 conn_fd;
static bool		 conn_used;	/* an answer came on it already */
static char		 prefix[URL_MAX];	/* its path, then /api/v1 */
static char		 fixed_hdr[URL_MAX];	/* Host, User-Agent */
static char		*token_hdr[SB_TOKEN__MAX];
static const char	*proxy, *noproxy;
static long		 connects;
static struct sb_cache	*probes;

/* A probe's answer, shared through the cache until until_ms. */
struct probe {
	int64_t		 until_ms;	/* CLOCK_MONOTONIC: the same for all */
	enum sb_err	 e;
};

/* Counts new connections: libcurl opens a socket only for those. */
static curl_socket_t
on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg;
	(void)purpose;
	connects++;
	return socket(a->family, a->socktype, a->protocol);
}

/* "name: value\r\n", allocated; NULL if out of memory. */
static char *
header_line(const char *name, const char *value)
{
	size_t	 len = strlen(name) + strlen(value) + 5;
	char	*s;

	if ((s = malloc(len)) != NULL)
		snprintf(s, len, "%s: %s\r\n", name, value);
	return s;
}

/*
 * A proxy from the environment, read once, by libcurl's rules:
 * <scheme>_proxy (for http only the lower-case one), then all_proxy,
 * ALL_PROXY; hosts to reach directly in no_proxy or NO_PROXY.
 */
static void
proxy_from_env(const char *api_url)
{
	bool	 https = strncasecmp(api_url, "https:", 6) == 0;

	proxy = NULL;
	if (https && (proxy = getenv("https_proxy")) == NULL)
		proxy = getenv("HTTPS_PROXY");
	else if (!https)
		proxy = getenv("http_proxy");
	if (proxy == NULL && (proxy = getenv("all_proxy")) == NULL)
		proxy = getenv("ALL_PROXY");
	if ((noproxy = getenv("no_proxy")) == NULL)
		noproxy = getenv("NO_PROXY");
}

/*
 * A handle that connects to the API (through the proxy's CONNECT if one
 * applies) within timeout_ms, then leaves the connection to its caller.
 */
static CURL *
connector(long timeout_ms)
{
	CURL	*c;

	if ((c = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_CURLU, url);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (sb_cfg->ca_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, sb_cfg->ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms <
	    sb_cfg->upstream_connect_timeout_ms ? timeout_ms :
	    sb_cfg->upstream_connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_SHARE, share);
	curl_easy_setopt(c, CURLOPT_PROXY, proxy != NULL ? proxy : "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, noproxy != NULL ? noproxy : "");
	/* The requests are ours, so a proxy only ever tunnels them. */
	curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
	return c;
}

int
sb_upstream_init(void)
{
	char	*path = NULL, *host = NULL, *port = NULL;
	int	 n, m;

	if (url != NULL)
		return 0;
	if ((url = curl_url()) == NULL ||
	    curl_url_set(url, CURLUPART_URL, sb_cfg->api_url, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto fail;
	/* The port only if the URL names one, as the Host header has it. */
	(void)curl_url_get(url, CURLUPART_PORT, &port, 0);
	n = snprintf(prefix, sizeof(prefix), "%s/api/v1",
	    strcmp(path, "/") == 0 ? "" : path);
	m = snprintf(fixed_hdr, sizeof(fixed_hdr), "Host: %s%s%s\r\n"
	    "User-Agent: sentc-backend\r\n", host, port != NULL ? ":" : "",
	    port != NULL ? port : "");
	curl_free(path);
	curl_free(host);
	curl_free(port);
	if (n < 0 || (size_t)n >= sizeof(prefix) ||
	    m < 0 || (size_t)m >= sizeof(fixed_hdr) ||
	    !sb_printable(prefix, (size_t)n) || strchr(prefix, ' ') != NULL)
		goto fail;
	if ((token_hdr[SB_TOKEN_PUBLIC] = header_line("x-sentc-app-token",
	    sb_cfg->public_token)) == NULL ||
	    (token_hdr[SB_TOKEN_SECRET] = header_line("x-sentc-app-token",
	    sb_cfg->secret_token)) == NULL ||
	    (share = curl_share_init()) == NULL)
		goto fail;
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	proxy_from_env(sb_cfg->api_url);
	return 0;
fail:
	sb_upstream_cleanup();
	return -1;
}

static void
conn_close(void)
{
	if (conn != NULL)
		curl_easy_cleanup(conn);
	conn = NULL;
	conn_used = false;
}

void
sb_upstream_cleanup(void)
{
	size_t	 i;

	conn_close();
	if (share != NULL)
		curl_share_cleanup(share);
	share = NULL;
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
	int64_t		 now = sb_now_ms(), ttl_ms;

	sb_cache_key(key, parts, 1);
	if (sb_cache_get(probes, key, sb_now(), &p, sizeof(p)) ==
	    (long)sizeof(p) && p.until_ms > now)
		return p.e;
	if ((url == NULL && sb_upstream_init() == -1) ||
	    (c = connector(sb_cfg->upstream_connect_timeout_ms)) == NULL)
		return SB_ERR_UPSTREAM_DOWN;
	cc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	p.e = cc == CURLE_OK ? SB_OK : cc == CURLE_OPERATION_TIMEDOUT ?
	    SB_ERR_UPSTREAM_TIMEOUT : SB_ERR_UPSTREAM_DOWN;
	if (p.e != SB_OK)
		sb_log(SB_LOG_WARN, "ready: the sentc API cannot be reached: "
		    "%s", curl_easy_strerror(cc));
	p.until_ms = sb_add_sat(sb_now_ms(), sb_mul_ok(sb_cfg->ready_ttl,
	    1000, &ttl_ms) ? ttl_ms : INT64_MAX);
	sb_cache_put(probes, key, 0, &p, sizeof(p),
	    sb_add_sat(sb_add_sat(sb_now(), sb_cfg->ready_ttl), 1));
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

/* Waits until the connection is ready for events, or deadline (ms). */
static enum sb_err
wait_conn(short events, int64_t deadline)
{
	struct pollfd	 pfd = { .fd = conn_fd, .events = events };
	int64_t		 left;
	int		 n;

	for (;;) {
		if ((left = deadline - sb_now_ms()) <= 0)
			return SB_ERR_UPSTREAM_TIMEOUT;
		/* An error or hang-up too: the next call says which. */
		if ((n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left)) > 0)
			return SB_OK;
		if (n == -1 && errno != EINTR)
			return SB_ERR_UPSTREAM_DOWN;
	}
}

/*
 * Is the kept connection still fit to send on? Nothing may be readable on
 * it between answers: readable means sentc closed it (or sent what no
 * request asked for), and a request written there would be lost.
 */
static bool
conn_alive(void)
{
	struct pollfd	 pfd = { .fd = conn_fd, .events = POLLIN | POLLRDHUP };

	return poll(&pfd, 1, 0) == 0;
}

/*
 * May a request be sent once more after its first try may have reached
 * sentc? Only if doing it twice is doing it once: GET and HEAD.
 */
static bool
idempotent(enum sb_method method)
{
	return method == SB_GET || method == SB_HEAD;
}

static enum sb_err
conn_open(int64_t deadline, const char **why)
{
	int64_t		 left = deadline - sb_now_ms();
	CURLcode	 cc;

	if (left <= 0)
		return SB_ERR_UPSTREAM_TIMEOUT;
	if ((conn = connector(left)) == NULL)
		return SB_ERR_INTERNAL;
	curl_easy_setopt(conn, CURLOPT_OPENSOCKETFUNCTION, on_open);
	if ((cc = curl_easy_perform(conn)) != CURLE_OK ||
	    (cc = curl_easy_getinfo(conn, CURLINFO_ACTIVESOCKET,
	    &conn_fd)) != CURLE_OK || conn_fd == CURL_SOCKET_BAD) {
		*why = cc != CURLE_OK ? curl_easy_strerror(cc) : "no socket";
		conn_close();
		return cc == CURLE_OPERATION_TIMEDOUT ?
		    SB_ERR_UPSTREAM_TIMEOUT : cc == CURLE_OUT_OF_MEMORY ?
		    SB_ERR_INTERNAL : SB_ERR_UPSTREAM_DOWN;
	}
	return SB_OK;
}

static enum sb_err
send_all(const char *p, size_t len, int64_t deadline, bool *sent)
{
	enum sb_err	 e;
	CURLcode	 cc;
	size_t		 n;

	while (len > 0) {
		if ((cc = curl_easy_send(conn, p, len, &n)) == CURLE_AGAIN) {
			if ((e = wait_conn(POLLOUT, deadline)) != SB_OK)
				return e;
			continue;
		}
		if (cc != CURLE_OK)
			return SB_ERR_UPSTREAM_DOWN;
		*sent = true;
		p += n;
		len -= n;
	}
	return SB_OK;
}

/* The buffer an answer is read into. */
struct buf {
	char	*p;
	size_t	 n, cap;
};

/*
 * Reads one answer into b, until deadline. got: bytes of it arrived.
 * Room is bounded: the body's max, and at most a head and a line more.
 */
static enum sb_err
receive(struct sb_http1 *h, struct buf *b, int64_t deadline, size_t *got,
    const char **why)
{
	size_t		 limit, room, ncap, n;
	enum sb_http1_rc rc = SB_HTTP1_MORE;
	enum sb_err	 e;
	CURLcode	 cc;
	bool		 ready = false;
	char		*np;

	/* h->max is SENTC_BACKEND_UPSTREAM_MAX_RESPONSE: a checked sum. */
	if (!sb_add_ok(h->max, 2 * SB_HTTP1_HEAD_MAX + 2 * SB_HTTP1_LINE_MAX,
	    &limit))
		limit = SIZE_MAX;
	while (rc == SB_HTTP1_MORE) {
		if ((room = limit - b->n) == 0) {
			*why = "answer too long";
			return SB_ERR_UPSTREAM_BAD;
		}
		if (room > READ_MIN)
			room = READ_MIN;
		if (b->n + room + 1 > b->cap) {
			/* Doubled, or just what is needed once that would wrap. */
			for (ncap = b->cap ? b->cap : READ_MIN + 1;
			    ncap < b->n + room + 1;)
				if (!sb_mul_ok(ncap, 2, &ncap))
					ncap = b->n + room + 1;
			if ((np = realloc(b->p, ncap)) == NULL)
				return SB_ERR_INTERNAL;
			b->p = np, b->cap = ncap;
		}
		/* After a send: nothing can be there before the poll says. */
		if (!ready && (e = wait_conn(POLLIN, deadline)) != SB_OK)
			return e;
		cc = curl_easy_recv(conn, b->p + b->n, room, &n);
		if ((ready = cc != CURLE_AGAIN) && cc != CURLE_OK) {
			*why = curl_easy_strerror(cc);
			return SB_ERR_UPSTREAM_DOWN;
		}
		if (!ready)
			continue;
		b->n += n;
		*got += n;
		rc = sb_http1_read(h, b->p, &b->n, n == 0);
		if (n == 0 && rc != SB_HTTP1_DONE) {
			*why = *got == 0 ? "closed with no answer" :
			    "closed in the middle of the answer";
			return SB_ERR_UPSTREAM_DOWN;
		}
	}
	if (rc != SB_HTTP1_DONE) {
		*why = rc == SB_HTTP1_BIG ? "answer too long" :
		    "not an HTTP/1.1 answer";
		return SB_ERR_UPSTREAM_BAD;
	}
	return SB_OK;
}

/* Appends s[0..len) to buf[*at..cap); false once it does not fit. */
static bool
put(char *buf, size_t cap, size_t *at, const char *s, size_t len)
{
	if (len > cap - *at)
		return false;
	memcpy(buf + *at, s, len);
	*at += len;
	return true;
}

static bool
puts_(char *buf, size_t cap, size_t *at, const char *s)
{
	return put(buf, cap, at, s, strlen(s));
}

/*
 * The request head into buf, and the body after it if it fits (*inline).
 * Returns its length, or 0 if a part is not fit for a head.
 */
static size_t
request(char *buf, size_t cap, const struct sb_req *req,
    enum sb_method method, const char *path, enum sb_token token,
    const char *jwt, const char *access, const char *body, size_t len,
    bool *inline_body)
{
	char	 num[32];
	size_t	 at = 0, i;
	bool	 ok;

	/* The target: visible ASCII, no query, no fragment. */
	for (i = 0; path[i] != '\0'; i++)
		if ((unsigned char)path[i] <= ' ' ||
		    (unsigned char)path[i] >= 0x7f ||
		    path[i] == '?' || path[i] == '#')
			return 0;
	if (path[0] != '/' || (jwt != NULL &&
	    !sb_printable(jwt, strlen(jwt))) || (access != NULL &&
	    !sb_is_uuid(access, strlen(access))))
		return 0;
	ok = puts_(buf, cap, &at, sb_method_names[method]) &&
	    put(buf, cap, &at, " ", 1) &&
	    puts_(buf, cap, &at, prefix) && puts_(buf, cap, &at, path) &&
	    puts_(buf, cap, &at, " HTTP/1.1\r\n") &&
	    puts_(buf, cap, &at, fixed_hdr) &&
	    puts_(buf, cap, &at, token_hdr[token]);
	if (ok && jwt != NULL)
		ok = puts_(buf, cap, &at, "Authorization: Bearer ") &&
		    puts_(buf, cap, &at, jwt) && put(buf, cap, &at, "\r\n", 2);
	if (ok && access != NULL)
		ok = puts_(buf, cap, &at, "x-sentc-group-access-id: ") &&
		    puts_(buf, cap, &at, access) &&
		    put(buf, cap, &at, "\r\n", 2);
	/* The request id, so that sentc's side of a request can be found. */
	if (ok && req != NULL && req->rid[0] != '\0')
		ok = puts_(buf, cap, &at, "X-Request-Id: ") &&
		    puts_(buf, cap, &at, req->rid) &&
		    put(buf, cap, &at, "\r\n", 2);
	if (ok && body != NULL)
		ok = puts_(buf, cap, &at, "Content-Type: application/json\r\n");
	/* A POST, PUT or PATCH says its length, even when it is 0. */
	if (ok && (body != NULL || method == SB_POST || method == SB_PUT ||
	    method == SB_PATCH)) {
		snprintf(num, sizeof(num), "%zu", body != NULL ? len : 0);
		ok = puts_(buf, cap, &at, "Content-Length: ") &&
		    puts_(buf, cap, &at, num) && put(buf, cap, &at, "\r\n", 2);
	}
	if (!ok || !put(buf, cap, &at, "\r\n", 2))
		return 0;
	*inline_body = body != NULL && put(buf, cap, &at, body, len);
	return at;
}

/*
 * One try: on the kept connection, or a new one. got: bytes of an answer
 * that arrived.
 */
static enum sb_err
exchange(const char *head, size_t hlen, const char *rest, size_t restlen,
    struct sb_http1 *h, struct buf *b, int64_t deadline, bool *sent,
    size_t *got, const char **why)
{
	enum sb_err	 e;

	*got = 0;
	b->n = 0;
	if (conn == NULL && (e = conn_open(deadline, why)) != SB_OK)
		return e;
	if ((e = send_all(head, hlen, deadline, sent)) != SB_OK ||
	    (rest != NULL &&
	    (e = send_all(rest, restlen, deadline, sent)) != SB_OK)) {
		*why = e == SB_ERR_UPSTREAM_TIMEOUT ? "timed out sending" :
		    "connection lost sending";
		return e;
	}
	sb_http1_begin(h, (size_t)sb_cfg->upstream_max_response);
	if ((e = receive(h, b, deadline, got, why)) == SB_ERR_UPSTREAM_TIMEOUT)
		*why = "timed out";
	return e;
}

enum sb_err
sb_upstream_group(struct sb_req *req, enum sb_method method,
    const char *path, enum sb_token token, const char *jwt,
    const char *access, const char *body, size_t len,
    struct sb_upstream_res *res)
{
	char		 head[HEAD_MAX];
	struct sb_http1	 h = { 0 };
	struct buf	 b = { 0 };
	const char	*why = "";
	size_t		 hlen, got;
	int64_t		 t0;
	enum sb_err	 rc;
	bool		 whole = false, kept;
	int		 try;

	memset(res, 0, sizeof(*res));
	if ((url == NULL && sb_upstream_init() == -1) ||
	    (hlen = request(head, sizeof(head), req, method, path, token, jwt,
	    access, body, len, &whole)) == 0)
		return SB_ERR_INTERNAL;

	t0 = sb_now_ms();
	for (try = 0;; try++) {
		if (conn != NULL && !conn_alive())
			conn_close();
		kept = conn != NULL;
		rc = exchange(head, hlen, whole ? NULL : body, len, &h, &b,
		    sb_add_sat(t0, sb_cfg->upstream_timeout_ms), &res->sent,
		    &got, &why);
		if (rc != SB_OK || h.close)
			conn_close();
		/*
		 * A kept connection that closed with no answer: sentc may
		 * have closed it idle just as the request went, or after it
		 * acted on the request. Only a request that may be done twice
		 * goes once more, on a new connection; any other is an answer
		 * lost (res->sent), for the caller to settle.
		 */
		if (rc != SB_ERR_UPSTREAM_DOWN || !kept || got > 0 || try > 0 ||
		    !idempotent(method))
			break;
	}
	/* It held the app token and the JWT, maybe a refresh token too. */
	sb_wipe(head, hlen);

	if (req != NULL) {
		req->upstream_ms += sb_now_ms() - t0;
		req->upstream_status = h.status;	/* 0: no head came */
	}
	if (rc == SB_OK) {
		/* The body to the start of its own buffer, as res keeps it. */
		memmove(b.p, b.p + h.body, h.len);
		b.p[h.len] = '\0';
		res->status = h.status;
		res->body = b.p;
		res->len = h.len;
	} else
		free(b.p);
	if (rc != SB_OK)
		sb_log(SB_LOG_WARN, "upstream %s %s: %s",
		    sb_method_names[method], path, why);
	else if (sb_envelope_parse(res->body, res->len, res) != SB_OK) {
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

enum sb_err
sb_upstream(struct sb_req *req, enum sb_method method, const char *path,
    enum sb_token token, const char *jwt, const char *body, size_t len,
    struct sb_upstream_res *res)
{
	return sb_upstream_group(req, method, path, token, jwt, NULL, body,
	    len, res);
}

int
sb_relay_group(struct sb_req *req, enum sb_method method, const char *path,
    enum sb_token token, const char *jwt, const char *access,
    const char *body, size_t len, struct sb_upstream_res *res)
{
	enum sb_err	 e;

	if ((e = sb_upstream_group(req, method, path, token, jwt, access, body,
	    len, res)) != SB_OK) {
		sb_upstream_res_free(res);
		sb_reply_err(req, e, NULL);
		return -1;
	}
	return 0;
}

int
sb_relay(struct sb_req *req, enum sb_method method, const char *path,
    enum sb_token token, const char *jwt, const char *body, size_t len,
    struct sb_upstream_res *res)
{
	return sb_relay_group(req, method, path, token, jwt, NULL, body, len,
	    res);
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
