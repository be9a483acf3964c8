#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "extern.h"

#define URL_MAX		1024
#define EASY_KEPT	64	/* idle easy handles kept for reuse */

/*
 * libcurl does all of HTTP: the connections (DNS, TCP, a proxy's CONNECT,
 * TLS, all of it verified), keeping them and checking a kept one before
 * reuse, HTTP/1.1 and HTTP/2. Its multi interface runs in the worker's
 * event loop: a request that waits for sentc parks its task (sb_task.h),
 * and the worker goes on with others. One multi handle per worker holds
 * the kept connections, which every request of the worker shares.
 */
static CURLM		*multi;
static CURLSH		*share;		/* DNS and TLS sessions */
static struct sb_timer	 timer;		/* libcurl's timeout */
static char		 base[URL_MAX];	/* SENTC_API_URL/api/v1 */
static char		*token_hdr[SB_TOKEN__MAX];
static const char	*proxy, *noproxy;
static long		 connects;
static struct sb_cache	*probes;
static CURL		*kept[EASY_KEPT];
static size_t		 nkept;
static bool		 tls;		/* https: sentc's side speaks TLS */

/*
 * The sockets libcurl opened, by fd: whether a request went on one
 * already, so that one being reused can be checked (stale()).
 */
struct usock {
	bool		 open;
	bool		 used;
};
static struct usock	*socks;
static size_t		 nsocks;

/* One transfer: a request and its answer. */
struct xfer {
	CURL		*easy;
	struct sb_task	*task;		/* waits for it */
	bool		 done;
	CURLcode	 cc;
	char		*buf;		/* the answer's body */
	size_t		 n, cap, max;
	bool		 big;		/* longer than max: cut */
	bool		 may_resend;	/* GET, HEAD */
	bool		 resend_refused;
	bool		 stale;		/* a kept connection was found closed */
	bool		 sent;		/* it may have reached sentc */
	unsigned	 prereqs;
};

/* A probe's answer, shared through the cache until until_ms. */
struct probe {
	int64_t		 until_ms;	/* CLOCK_MONOTONIC: the same for all */
	enum sb_err	 e;
};

/* Counts new connections: libcurl opens a socket only for those. */
static curl_socket_t
on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct usock	*p;
	curl_socket_t	 fd;
	size_t		 n;

	(void)arg;
	(void)purpose;
	connects++;
	sb_stats_add(SB_STAT_UP_CONNECTS, 1);
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd >= 0 && (size_t)fd >= nsocks && fd < 65536) {
		for (n = nsocks ? nsocks : 64; n <= (size_t)fd;)
			n *= 2;
		if ((p = realloc(socks, n * sizeof(*p))) != NULL) {
			memset(p + nsocks, 0, (n - nsocks) * sizeof(*p));
			socks = p;
			nsocks = n;
		}
	}
	if (fd >= 0 && (size_t)fd < nsocks) {
		socks[fd].open = true;
		socks[fd].used = false;
	}
	return fd;
}

/* The loop forgets a socket before libcurl's is closed. */
static int
on_close(void *arg, curl_socket_t fd)
{
	(void)arg;
	if (fd >= 0 && (size_t)fd < nsocks)
		socks[fd].open = false;
	sb_loop_forget(fd);
	return close(fd);
}

/* The open socket whose local port is port; -1 if none. */
static int
sock_by_port(int port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	size_t			 fd;
	int			 p;

	for (fd = 0; fd < nsocks; fd++) {
		if (!socks[fd].open)
			continue;
		len = sizeof(ss);
		if (getsockname((int)fd, (struct sockaddr *)&ss, &len) == -1)
			continue;
		if (ss.ss_family == AF_INET)
			p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			p = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		else
			continue;
		if (p == port)
			return (int)fd;
	}
	return -1;
}

/*
 * Has sentc closed the kept connection fd while it was idle? libcurl
 * checks before reuse, but takes a TLS connection with bytes waiting (a
 * session ticket it has not read, say) for alive even when sentc's end of
 * stream follows them. The kernel knows: the peer's shutdown
 * (POLLRDHUP) shows whatever is queued before it. For plain HTTP any
 * byte between answers means the same: a request sent there is lost.
 */
static bool
stale(int fd)
{
	struct pollfd	 p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	unsigned char	 b;

	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
		return true;
	return !tls && recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
}

/* "name: value", allocated; NULL if out of memory. */
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

/* ---- libcurl in the event loop ------------------------------------- */

static void	reap(void);

static void
on_event(int fd, unsigned ev, void *arg)
{
	int	 running, flags = 0;

	(void)arg;
	if (ev & SB_EV_IN)
		flags |= CURL_CSELECT_IN;
	if (ev & SB_EV_OUT)
		flags |= CURL_CSELECT_OUT;
	if (ev & (SB_EV_ERR | SB_EV_HUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(multi, fd, flags, &running);
	reap();
}

static int
on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
	unsigned	 ev = 0;

	(void)e;
	(void)userp;
	(void)sockp;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= SB_EV_IN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= SB_EV_OUT;
	if (sb_loop_watch(fd, ev, on_event, NULL) == -1 && ev != 0)
		sb_log(SB_LOG_ERR, "upstream: cannot watch a socket");
	return 0;
}

static void
on_timeout(void *arg)
{
	int	 running;

	(void)arg;
	curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
	reap();
}

static int
on_timer(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	if (ms < 0)
		sb_loop_timer_stop(&timer);
	else
		sb_loop_timer(&timer, sb_add_sat(sb_now_ms(), ms), on_timeout,
		    NULL);
	return 0;
}

/* Wakes the tasks whose transfers ended. */
static void
reap(void)
{
	struct xfer	*x;
	CURLMsg		*m;
	int		 left;

	while ((m = curl_multi_info_read(multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(multi, m->easy_handle);
		if (x == NULL)
			continue;
		x->cc = m->data.result;
		x->done = true;
		sb_task_wake(x->task);
	}
}

/*
 * Runs x to its end: in a task, through the worker's multi handle while
 * other tasks run; outside one (start-up, the tests), blocking.
 */
static CURLcode
perform(struct xfer *x)
{
	CURLMcode	 mc;

	if ((x->task = sb_task_self()) == NULL || multi == NULL)
		return curl_easy_perform(x->easy);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)x);
	if ((mc = curl_multi_add_handle(multi, x->easy)) != CURLM_OK) {
		sb_log(SB_LOG_ERR, "upstream: %s", curl_multi_strerror(mc));
		return CURLE_OUT_OF_MEMORY;
	}
	while (!x->done)
		sb_task_park();
	return x->cc;
}

static CURL *
easy_take(void)
{
	return nkept > 0 ? kept[--nkept] : curl_easy_init();
}

static void
easy_put(CURL *c)
{
	if (c == NULL)
		return;
	if (nkept < EASY_KEPT) {
		curl_easy_reset(c);
		kept[nkept++] = c;
	} else
		curl_easy_cleanup(c);
}

/* What every handle to the API sets: TLS, timeouts, the proxy. */
static void
common(CURL *c, long timeout_ms)
{
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
	/* A proxy only ever tunnels: it never reads the tokens. */
	curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, on_close);
	/*
	 * No CURLOPT_PIPEWAIT: it holds a request back for a connection
	 * whose protocol is not known yet, and over plain HTTP/1.1 that
	 * queued every request behind the one in flight. An HTTP/2
	 * connection, once up, is shared by the requests anyway.
	 */
}

int
sb_upstream_init(void)
{
	long	 per;
	int	 n;

	if (share != NULL)
		return 0;
	n = snprintf(base, sizeof(base), "%s/api/v1", sb_cfg->api_url);
	if (n < 0 || (size_t)n >= sizeof(base) ||
	    (token_hdr[SB_TOKEN_PUBLIC] = header_line("x-sentc-app-token",
	    sb_cfg->public_token)) == NULL ||
	    (token_hdr[SB_TOKEN_SECRET] = header_line("x-sentc-app-token",
	    sb_cfg->secret_token)) == NULL ||
	    (share = curl_share_init()) == NULL)
		goto fail;
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	proxy_from_env(sb_cfg->api_url);
	tls = strncasecmp(sb_cfg->api_url, "https:", 6) == 0;
	/* In a worker's loop: the multi handle, its share of connections. */
	if (sb_loop_init() == 0 && (multi = curl_multi_init()) != NULL) {
		per = sb_cfg->upstream_connections / sb_cfg->workers;
		if (per < 1)
			per = 1;
		curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
		curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, per);
		curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, per);
		curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, per);
		curl_multi_setopt(multi, CURLMOPT_PIPELINING,
		    CURLPIPE_MULTIPLEX);
	}
	return 0;
fail:
	sb_upstream_cleanup();
	return -1;
}

void
sb_upstream_cleanup(void)
{
	size_t	 i;

	if (multi != NULL)
		curl_multi_cleanup(multi);
	multi = NULL;
	sb_loop_timer_stop(&timer);
	while (nkept > 0)
		curl_easy_cleanup(kept[--nkept]);
	free(socks);
	socks = NULL;
	nsocks = 0;
	if (share != NULL)
		curl_share_cleanup(share);
	share = NULL;
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
	struct xfer	 x;
	CURLcode	 cc;
	int64_t		 now = sb_now_ms(), ttl_ms;

	sb_cache_key(key, parts, 1);
	if (sb_cache_get(probes, key, sb_now(), &p, sizeof(p)) ==
	    (long)sizeof(p) && p.until_ms > now)
		return p.e;
	memset(&x, 0, sizeof(x));
	if ((share == NULL && sb_upstream_init() == -1) ||
	    (x.easy = easy_take()) == NULL)
		return SB_ERR_UPSTREAM_DOWN;
	/* A connection, TLS and all, and no request: no sentc call spent. */
	common(x.easy, sb_cfg->upstream_connect_timeout_ms);
	curl_easy_setopt(x.easy, CURLOPT_URL, sb_cfg->api_url);
	curl_easy_setopt(x.easy, CURLOPT_CONNECT_ONLY, 1L);
	cc = perform(&x);
	/* A connect-only handle keeps its connection: not for reuse. */
	curl_easy_cleanup(x.easy);
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
	struct sb_json_member	 m[] = { { .name = "status" },
				    { .name = "result" }, { .name = "err_code" } };
	struct sb_json_span	 env;
	int64_t			 code = 0;

	res->result = NULL;
	res->rtext = NULL;
	res->rlen = 0;
	res->rtype = json_type_null;
	res->ok = false;
	res->err_code = 0;
	/* One pass checks the text and reads the envelope's members. */
	if (sb_json_check_members(body, len, SB_JSON_DEPTH, &env, m, 3) !=
	    SB_OK || env.type != json_type_object || m[0].n == 0 ||
	    m[0].v.type != json_type_boolean)
		return SB_ERR_UPSTREAM_BAD;
	if (m[0].v.p[0] == 't') {
		if (m[1].n == 0)
			return SB_ERR_UPSTREAM_BAD;
		res->ok = true;
		res->rtext = m[1].v.p;
		res->rlen = m[1].v.len;
		res->rtype = m[1].v.type;
	} else if (m[2].n == 0 || !sb_json_int(&m[2].v, &code))
		return SB_ERR_UPSTREAM_BAD;
	res->err_code = (long)code;
	return SB_OK;
}

json_object *
sb_upstream_result(struct sb_upstream_res *res)
{
	if (res->ok && res->result == NULL && res->rtext != NULL)
		(void)sb_json_parse(res->rtext, res->rlen, &res->result);
	return res->result;
}

/* The answer's body into x->buf, up to x->max bytes. */
static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * nmemb, want, ncap;
	char		*np;

	if (len > x->max - x->n) {
		x->big = true;
		return 0;	/* libcurl stops: CURLE_WRITE_ERROR */
	}
	want = x->n + len + 1;
	if (want > x->cap) {
		for (ncap = x->cap ? x->cap : 4096; ncap < want;)
			ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
		if ((np = realloc(x->buf, ncap)) == NULL)
			return 0;
		x->buf = np;
		x->cap = ncap;
	}
	memcpy(x->buf + x->n, p, len);
	x->n += len;
	x->buf[x->n] = '\0';
	return len;
}

/*
 * Called before the request goes out on a connection, new or kept. A
 * second call for one transfer is libcurl sending it again, after a kept
 * connection closed with no answer: sentc may have acted on the first,
 * so only a request that may be done twice (GET, HEAD) goes again; any
 * other is an answer lost (res->sent), for its caller to settle.
 */
static int
on_prereq(void *arg, char *rip, char *lip, int rport, int lport)
{
	struct xfer	*x = arg;

	int		 fd;

	(void)rip;
	(void)lip;
	(void)rport;
	if (x->prereqs++ > 0 && !x->may_resend) {
		x->resend_refused = true;
		return CURL_PREREQFUNC_ABORT;
	}
	/* A kept connection that closed: nothing sent yet, a new one. */
	if ((fd = sock_by_port(lport)) != -1) {
		if (socks[fd].used && stale(fd)) {
			x->stale = true;
			return CURL_PREREQFUNC_ABORT;
		}
		socks[fd].used = true;
	}
	x->sent = true;
	return CURL_PREREQFUNC_OK;
}

/* Is s fit for a header value: visible ASCII and spaces only? */
static bool
header_safe(const char *s)
{
	return sb_printable(s, strlen(s));
}

/* The request's headers; NULL if a part is unfit or out of memory. */
static struct curl_slist *
headers(const struct sb_req *req, enum sb_token token, const char *jwt,
    const char *access, bool json)
{
	struct curl_slist *h = NULL, *n;
	char		   line[SB_JWT_MAX + 64];
	const char	  *fixed[] = { token_hdr[token], "Accept:", "Expect:",
			    json ? "Content-Type: application/json" : NULL };
	size_t		   i;

	if ((jwt != NULL && (!header_safe(jwt) || strlen(jwt) > SB_JWT_MAX)) ||
	    (access != NULL && !sb_is_uuid(access, strlen(access))))
		return NULL;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (fixed[i] == NULL)
			continue;
		if ((n = curl_slist_append(h, fixed[i])) == NULL)
			goto fail;
		h = n;
	}
	if (jwt != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", jwt);
		n = curl_slist_append(h, line);
		sb_wipe(line, sizeof(line));
		if (n == NULL)
			goto fail;
		h = n;
	}
	if (access != NULL) {
		snprintf(line, sizeof(line), "x-sentc-group-access-id: %s",
		    access);
		if ((n = curl_slist_append(h, line)) == NULL)
			goto fail;
		h = n;
	}
	/* The request id, so that sentc's side of a request can be found. */
	if (req != NULL && req->rid[0] != '\0') {
		snprintf(line, sizeof(line), "X-Request-Id: %s", req->rid);
		if ((n = curl_slist_append(h, line)) == NULL)
			goto fail;
		h = n;
	}
	return h;
fail:
	curl_slist_free_all(h);
	return NULL;
}

/* Frees headers, wiping what they held (the app token, the JWT). */
static void
headers_free(struct curl_slist *h)
{
	struct curl_slist *p;

	for (p = h; p != NULL; p = p->next)
		sb_wipe(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

/* A transfer's libcurl code as the fault it is, and why, for the log. */
static enum sb_err
fault(const struct xfer *x, CURLcode cc, const char **why)
{
	*why = curl_easy_strerror(cc);
	switch (cc) {
	case CURLE_OK:
		return SB_OK;
	case CURLE_OPERATION_TIMEDOUT:
		*why = "timed out";
		return SB_ERR_UPSTREAM_TIMEOUT;
	case CURLE_OUT_OF_MEMORY:
		return SB_ERR_INTERNAL;
	case CURLE_WRITE_ERROR:
		if (x->big) {
			*why = "answer too long";
			return SB_ERR_UPSTREAM_BAD;
		}
		return SB_ERR_INTERNAL;
	case CURLE_ABORTED_BY_CALLBACK:
		*why = "a kept connection closed with no answer: not sent "
		    "again";
		return SB_ERR_UPSTREAM_DOWN;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_FILESIZE_EXCEEDED:
		return SB_ERR_UPSTREAM_BAD;
	default:
		return SB_ERR_UPSTREAM_DOWN;
	}
}

enum sb_err
sb_upstream_group(struct sb_req *req, enum sb_method method,
    const char *path, enum sb_token token, const char *jwt,
    const char *access, const char *body, size_t len,
    struct sb_upstream_res *res)
{
	struct curl_slist *hdrs = NULL;
	struct xfer	 x;
	char		 url[2 * URL_MAX];
	const char	*why = "";
	size_t		 i;
	int64_t		 t0;
	enum sb_err	 rc;
	CURLcode	 cc;
	int		 n;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	/* The target: visible ASCII, no query, no fragment. */
	for (i = 0; path[i] != '\0'; i++)
		if ((unsigned char)path[i] <= ' ' ||
		    (unsigned char)path[i] >= 0x7f ||
		    path[i] == '?' || path[i] == '#')
			return SB_ERR_INTERNAL;
	/* The base URL is set up on the first call (outside the serve loop). */
	if (share == NULL && sb_upstream_init() == -1)
		return SB_ERR_INTERNAL;
	n = snprintf(url, sizeof(url), "%s%s", base, path);
	if (path[0] != '/' || n < 0 || (size_t)n >= sizeof(url) ||
	    (hdrs = headers(req, token, jwt, access, body != NULL)) == NULL ||
	    (x.easy = easy_take()) == NULL) {
		headers_free(hdrs);
		return SB_ERR_INTERNAL;
	}
	x.max = (size_t)sb_cfg->upstream_max_response;
	x.may_resend = method == SB_GET || method == SB_HEAD;

	common(x.easy, sb_cfg->upstream_timeout_ms);
	curl_easy_setopt(x.easy, CURLOPT_URL, url);
	curl_easy_setopt(x.easy, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(x.easy, CURLOPT_USERAGENT, "sentc-backend");
	curl_easy_setopt(x.easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(x.easy, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(x.easy, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(x.easy, CURLOPT_PREREQDATA, &x);
	switch (method) {
	case SB_GET:
		break;
	case SB_HEAD:
		curl_easy_setopt(x.easy, CURLOPT_NOBODY, 1L);
		break;
	default:
		if (method != SB_POST)
			curl_easy_setopt(x.easy, CURLOPT_CUSTOMREQUEST,
			    sb_method_names[method]);
		/* A POST, PUT or PATCH says its length, even when it is 0. */
		if (body != NULL || method == SB_POST || method == SB_PUT ||
		    method == SB_PATCH) {
			curl_easy_setopt(x.easy, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)(body != NULL ? len : 0));
			curl_easy_setopt(x.easy, CURLOPT_POSTFIELDS,
			    body != NULL ? body : "");
		}
		break;
	}

	t0 = sb_now_ms();
	cc = perform(&x);
	if (cc == CURLE_ABORTED_BY_CALLBACK && x.stale && !x.sent) {
		/* Found closed before anything went: on a new connection. */
		x.stale = false;
		x.done = false;
		x.prereqs = 0;
		x.n = 0;
		curl_easy_setopt(x.easy, CURLOPT_FRESH_CONNECT, 1L);
		cc = perform(&x);
	}
	rc = fault(&x, cc, &why);
	res->sent = x.sent;
	if (cc == CURLE_OK || x.prereqs > 0)
		curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE,
		    &res->status);
	easy_put(x.easy);
	headers_free(hdrs);

	if (req != NULL) {
		req->upstream_ms += sb_now_ms() - t0;
		req->upstream_status = res->status;	/* 0: no head came */
	}
	if (rc == SB_OK) {
		res->body = x.buf != NULL ? x.buf : strdup("");
		res->len = x.n;
		x.buf = NULL;
		if (res->body == NULL)
			rc = SB_ERR_INTERNAL;
	}
	free(x.buf);
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
