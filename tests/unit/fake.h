/*
 * fake.h: what the unit tests of request-level library code share: a
 * request without a server (its FastCGI parameters, its buffered answer
 * read back), a temporary directory, a config read from text, and a
 * stand-in for the sentc API on a loopback port.
 *
 * The stand-in is a child process that answers one request per
 * connection from a file of rules, and writes a line per request into a
 * log file before it answers; the library's upstream calls block outside
 * a task, so the log is complete when a call returns. A rule is a line
 *
 *	METHOD PATH MATCH STATUS BODY
 *
 * PATH below /api/v1, MATCH a text the request's body must hold ("-":
 * any), STATUS 0 to close the connection without an answer (a lost
 * answer). The last rule that matches answers; none: 404, a sentc error.
 * A log line is
 *
 *	METHOD PATH token=APP-TOKEN access=GROUP-ACCESS-ID body=BODY
 *
 * with "-" for a header that was not sent.
 */
#ifndef SB_TEST_FAKE_H
#define SB_TEST_FAKE_H

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ftw.h>
#include <signal.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "unit.h"

#include "extern.h"

/* ---- a request --------------------------------------------------------- */

/* A request whose FastCGI parameters are params (NULL-terminated). */
static inline void
fake_req(struct sb_req *req, struct sb_fcgi_req *fr, char **params)
{
	memset(req, 0, sizeof(*req));
	memset(fr, 0, sizeof(*fr));
	fr->envp = params;
	req->fcgi = fr;
}

/* Forgets the answer a request was given, so that it can be answered anew. */
static inline void
fake_req_again(struct sb_req *req)
{
	free(req->out);
	req->out = NULL;
	req->outlen = 0;
	req->status = 0;
	req->hdrslen = 0;
	req->hdrs[0] = '\0';
	req->err = SB_OK;
}

/* The body of the request's answer, as a JSON tree (the caller's). */
static inline json_object *
reply_json(const struct sb_req *req)
{
	const char	*p, *end;
	char		*text;
	json_object	*o;

	assert_non_null(req->out);
	end = req->out + req->outlen;
	p = memmem(req->out, req->outlen, "\r\n\r\n", 4);
	assert_non_null(p);
	p += 4;
	assert_non_null(text = strndup(p, (size_t)(end - p)));
	o = json_tokener_parse(text);
	free(text);
	assert_non_null(o);
	return o;
}

/* The member name of the answer's envelope, as an integer. */
static inline int64_t
reply_int(const struct sb_req *req, const char *name)
{
	json_object	*o, *v;
	int64_t		 n;

	o = reply_json(req);
	assert_true(json_object_object_get_ex(o, name, &v));
	n = json_object_get_int64(v);
	json_object_put(o);
	return n;
}

/*
 * The value of header name in the answer's head into buf ("" if the
 * head has none). Returns whether it has one.
 */
static inline bool
reply_header(const struct sb_req *req, const char *name, char *buf,
    size_t bufsz)
{
	const char	*p, *head_end, *eol;
	size_t		 nlen = strlen(name), vlen;

	buf[0] = '\0';
	if (req->out == NULL || (head_end = memmem(req->out, req->outlen,
	    "\r\n\r\n", 4)) == NULL)
		return false;
	for (p = req->out; p < head_end; p = eol + 2) {
		eol = memmem(p, (size_t)(head_end + 2 - p), "\r\n", 2);
		if ((size_t)(eol - p) > nlen + 1 &&
		    strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			p += nlen + 1;
			while (*p == ' ')
				p++;
			vlen = (size_t)(eol - p);
			assert_true(vlen < bufsz);
			memcpy(buf, p, vlen);
			buf[vlen] = '\0';
			return true;
		}
	}
	return false;
}

/* ---- a temporary directory -------------------------------------------- */

static inline int
fake_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Makes dir (PATH_MAX bytes) a fresh directory under /tmp. */
static inline void
fake_dir(char *dir)
{
	snprintf(dir, PATH_MAX, "/tmp/sb-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static inline void
fake_dir_remove(const char *dir)
{
	nftw(dir, fake_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- a config ---------------------------------------------------------- */

#define FAKE_PUBLIC	"pub-unit-4f1a"
#define FAKE_SECRET	"sec-unit-9c2e"
/* Base64 of the P-384 generator: a valid public point. */
#define FAKE_KEY_B64	"BKqHyiK+iwU3jrHHHvMgrXRuHTtii6ebmFn3QeCC" \
			"VCo4VQLyXb9VKWw6VF44cnYKtzYX3kqWJixvXZ6Y" \
			"v5KS3Cn49B29KJoUfOnaMRO18LjACmCxzh1+gZ16" \
			"Qx18kOoOXw=="

static inline char *
fake_no_env(const char *name)
{
	(void)name;
	return NULL;
}

/*
 * cfg from the tokens above, sentc at port (0: none), the store in dir
 * (NULL: none), and the lines of extra; then sb_cfg points at it.
 */
static inline void
fake_config(struct sb_config *cfg, int port, const char *dir,
    const char *extra)
{
	char	 text[4096], err[512];
	int	 n;

	n = snprintf(text, sizeof(text),
	    "SENTC_PUBLIC_TOKEN=" FAKE_PUBLIC "\n"
	    "SENTC_SECRET_TOKEN=" FAKE_SECRET "\n"
	    "SENTC_JWT_KEY_ID=k1\n"
	    "SENTC_JWT_VERIFY_KEY=" FAKE_KEY_B64 "\n"
	    "SENTC_API_URL=http://127.0.0.1:%d\n"
	    "SENTC_BACKEND_DB=%s%s\n"
	    "%s", port > 0 ? port : 9, dir != NULL ? dir : "/nonexistent",
	    "/sb.db", extra != NULL ? extra : "");
	assert_true(n > 0 && (size_t)n < sizeof(text));
	memset(cfg, 0, sizeof(*cfg));
	if (sb_config_parse(cfg, text, (size_t)n, fake_no_env, err,
	    sizeof(err)) != 0) {
		print_error("config: %s\n", err);
		fail();
	}
	sb_cfg = cfg;
}

/* ---- the sentc API, faked --------------------------------------------- */

struct fake_sentc {
	pid_t	 pid;
	int	 port;
	char	 rules[PATH_MAX];
	char	 log[PATH_MAX];
};

#define FAKE_BUF	16384

/* The value of header name in the head (NUL-terminated lines), or "-". */
static inline void
fake_header(const char *head, const char *name, char *out, size_t outsz)
{
	const char	*p;
	size_t		 nlen = strlen(name), len;

	snprintf(out, outsz, "-");
	for (p = head; (p = strstr(p, "\r\n")) != NULL; ) {
		p += 2;
		if (strncasecmp(p, name, nlen) != 0 || p[nlen] != ':')
			continue;
		p += nlen + 1;
		while (*p == ' ')
			p++;
		len = strcspn(p, "\r\n");
		if (len >= outsz)
			len = outsz - 1;
		memcpy(out, p, len);
		out[len] = '\0';
		return;
	}
}

/* Answers one request on connection fd (the child's side). */
static inline void
fake_serve_one(const struct fake_sentc *f, int fd)
{
	static char	 buf[FAKE_BUF + 1], line[FAKE_BUF], answer[FAKE_BUF];
	char		 method[16], target[512], token[128], access[64];
	char		 clen[32], rm[16], rp[512], match[256];
	const char	*path, *body = "";
	char		*rbody = NULL;
	size_t		 have = 0, want, blen;
	ssize_t		 n;
	char		*end;
	int		 status = 404, rstatus, off, len;
	FILE		*fp;

	for (;;) {
		if (have == FAKE_BUF)
			return;
		if ((n = read(fd, buf + have, FAKE_BUF - have)) <= 0)
			return;
		have += (size_t)n;
		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	*end = '\0';
	fake_header(buf, "content-length", clen, sizeof(clen));
	want = strcmp(clen, "-") == 0 ? 0 : (size_t)strtoul(clen, NULL, 10);
	blen = have - (size_t)(end + 4 - buf);
	while (blen < want && have < FAKE_BUF) {
		if ((n = read(fd, buf + have, FAKE_BUF - have)) <= 0)
			return;
		have += (size_t)n;
		blen += (size_t)n;
	}
	buf[have] = '\0';
	body = end + 4;
	if (sscanf(buf, "%15s %511s", method, target) != 2)
		return;
	path = strncmp(target, "/api/v1", 7) == 0 ? target + 7 : target;
	fake_header(buf, "x-sentc-app-token", token, sizeof(token));
	fake_header(buf, "x-sentc-group-access-id", access, sizeof(access));

	if ((fp = fopen(f->log, "a")) != NULL) {
		fprintf(fp, "%s %s token=%s access=%s body=%s\n", method, path,
		    token, access, body);
		fclose(fp);
	}
	if ((fp = fopen(f->rules, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (sscanf(line, "%15s %511s %255s %d %n", rm, rp, match,
			    &rstatus, &off) != 4 || strcmp(rm, method) != 0 ||
			    strcmp(rp, path) != 0 || (strcmp(match, "-") != 0 &&
			    strstr(body, match) == NULL))
				continue;
			status = rstatus;
			free(rbody);
			rbody = strdup(line + off);
		}
		fclose(fp);
	}
	if (status == 0) {
		free(rbody);
		return;		/* the answer is lost */
	}
	if (rbody == NULL)
		rbody = strdup("{\"status\":false,\"err_msg\":\"no rule\","
		    "\"err_code\":404}");
	len = snprintf(answer, sizeof(answer), "HTTP/1.1 %d X\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", status, strlen(rbody), rbody);
	free(rbody);
	if (len > 0 && (size_t)len < sizeof(answer) &&
	    write(fd, answer, (size_t)len) != len)
		return;	/* the client went: nothing more to do */
}

/* Starts the stand-in, its files in dir; no rules yet. */
static inline void
fake_sentc_start(struct fake_sentc *f, const char *dir)
{
	struct sockaddr_in	 sa;
	socklen_t		 salen = sizeof(sa);
	int			 lfd, fd, one = 1;
	FILE			*fp;

	memset(f, 0, sizeof(*f));
	assert_true((size_t)snprintf(f->rules, sizeof(f->rules),
	    "%s/sentc.rules", dir) < sizeof(f->rules));
	assert_true((size_t)snprintf(f->log, sizeof(f->log), "%s/sentc.log",
	    dir) < sizeof(f->log));
	assert_non_null(fp = fopen(f->rules, "w"));
	fclose(fp);
	assert_non_null(fp = fopen(f->log, "w"));
	fclose(fp);

	assert_true((lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	f->port = ntohs(sa.sin_port);

	assert_true((f->pid = fork()) >= 0);
	if (f->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			if ((fd = accept(lfd, NULL, NULL)) < 0)
				continue;
			fake_serve_one(f, fd);
			shutdown(fd, SHUT_RDWR);
			close(fd);
		}
	}
	close(lfd);
	/* The library's own proxy settings must not catch the loopback. */
	unsetenv("http_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	setenv("no_proxy", "127.0.0.1", 1);
}

static inline void
fake_sentc_stop(struct fake_sentc *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	f->pid = 0;
}

/* Adds a rule (see above); later rules win. */
static inline void
fake_rule(const struct fake_sentc *f, const char *method, const char *path,
    const char *match, int status, const char *body)
{
	FILE	*fp;

	assert_non_null(fp = fopen(f->rules, "a"));
	fprintf(fp, "%s %s %s %d %s\n", method, path, match, status, body);
	fclose(fp);
}

/* Forgets every rule, and the log. */
static inline void
fake_clear(const struct fake_sentc *f)
{
	FILE	*fp;

	assert_non_null(fp = fopen(f->rules, "w"));
	fclose(fp);
	assert_non_null(fp = fopen(f->log, "w"));
	fclose(fp);
}

/*
 * How many requests the log holds whose line starts with "METHOD PATH "
 * and holds has (NULL: anything); the last one's line into last (may be
 * NULL, FAKE_BUF bytes).
 */
static inline int
fake_seen(const struct fake_sentc *f, const char *method, const char *path,
    const char *has, char *last)
{
	static char	 line[FAKE_BUF];
	char		 start[600];
	FILE		*fp;
	int		 n = 0;

	snprintf(start, sizeof(start), "%s %s ", method, path);
	assert_non_null(fp = fopen(f->log, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, start, strlen(start)) != 0 ||
		    (has != NULL && strstr(line, has) == NULL))
			continue;
		n++;
		if (last != NULL)
			snprintf(last, FAKE_BUF, "%s", line);
	}
	fclose(fp);
	return n;
}

/* How many requests the log holds in all. */
static inline int
fake_requests(const struct fake_sentc *f)
{
	static char	 line[FAKE_BUF];
	FILE		*fp;
	int		 n = 0;

	assert_non_null(fp = fopen(f->log, "r"));
	while (fgets(line, sizeof(line), fp) != NULL)
		n++;
	fclose(fp);
	return n;
}

/* ---- all of it --------------------------------------------------------- */

/* A temporary directory, the stand-in for sentc, a config for both. */
struct fake_world {
	char			 dir[PATH_MAX];
	struct fake_sentc	 sentc;
	struct sb_config	 cfg;
};

/* Starts w; extra: more config lines (NULL: none). */
static inline void
fake_world_start(struct fake_world *w, const char *extra)
{
	fake_dir(w->dir);
	fake_sentc_start(&w->sentc, w->dir);
	fake_config(&w->cfg, w->sentc.port, w->dir, extra);
}

/* Closes what the library opened for w, and removes w. */
static inline void
fake_world_stop(struct fake_world *w)
{
	sb_db_release();
	sb_upstream_cleanup();
	fake_sentc_stop(&w->sentc);
	fake_dir_remove(w->dir);
	sb_config_free(&w->cfg);
	sb_cfg = NULL;
}

/* A cmocka group teardown, for a group whose setup set *state to a world. */
static inline int
fake_world_teardown(void **state)
{
	fake_world_stop(*state);
	return 0;
}

#endif
