#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"

#define LINE_MAX_LEN	4096	/* one write(2) to a pipe stays whole */
#define MSG_MAX		900

static const char *const level_names[SB_LOG__MAX] = {
	"error", "warn", "info",
};

static char		 prog[64] = "sentc-backend";
static bool		 json;

void
sb_log_init(const char *name)
{
	const char	*v = getenv("SENTC_BACKEND_LOG");

	snprintf(prog, sizeof(prog), "%s", name);
	json = v != NULL && strcmp(v, "json") == 0;
}

void
sb_log_json(bool on)
{
	json = on;
}

/* Each task (a request) carries its own: see sb_task.h. */
void
sb_log_request_id(const char *rid)
{
	sb_task_set_label(rid);
}

/* Writes one line with a single write(2), so lines never interleave. */
static void
emit(const char *line, int len)
{
	if (len < 0)
		return;
	if ((size_t)len >= LINE_MAX_LEN)
		len = LINE_MAX_LEN - 1;
	(void)!write(STDERR_FILENO, line, (size_t)len);
}

/*
 * s as a JSON string, quotes included, into out (at most outsz bytes,
 * NUL-terminated; cut short at a character if there is no room). Bytes
 * past ASCII become '?', so that the line is always valid UTF-8; NULL is
 * null.
 */
static const char *
jstr(char *out, size_t outsz, const char *s)
{
	size_t	 n = 0;
	char	 esc[8];
	int	 k;

	if (s == NULL) {
		snprintf(out, outsz, "null");
		return out;
	}
	out[n++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			k = snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			k = snprintf(esc, sizeof(esc), "\\u%04x", c);
		else
			k = snprintf(esc, sizeof(esc), "%c", c < 0x80 ? c : '?');
		if (n + (size_t)k + 2 > outsz)
			break;
		memcpy(out + n, esc, (size_t)k);
		n += (size_t)k;
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

/* RFC 3339 UTC time with milliseconds into out (at least 32 bytes). */
static const char *
timestamp(char *out, size_t outsz)
{
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outsz - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return out;
}

void
sb_log(enum sb_log_level level, const char *fmt, ...)
{
	char	 msg[MSG_MAX], line[LINE_MAX_LEN], t[40];
	char	 jmsg[2 * MSG_MAX], jrid[2 * SB_RID_MAX + 8];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	if (json)
		n = snprintf(line, sizeof(line), "{\"time\":\"%s\",\"program\":"
		    "\"%s\",\"pid\":%d,\"level\":\"%s\",\"request_id\":%s,"
		    "\"msg\":%s}\n", timestamp(t, sizeof(t)), prog,
		    (int)getpid(), level_names[level],
		    jstr(jrid, sizeof(jrid), sb_task_label()),
		    jstr(jmsg, sizeof(jmsg), msg));
	else if (sb_task_label() != NULL)
		n = snprintf(line, sizeof(line), "%s[%d] %s: %s rid=%s\n", prog,
		    (int)getpid(), level_names[level], msg, sb_task_label());
	else
		n = snprintf(line, sizeof(line), "%s[%d] %s: %s\n", prog,
		    (int)getpid(), level_names[level], msg);
	emit(line, n);
}

void
sb_log_request(const struct sb_req *req)
{
	const char	*route = req->matched ?
			    req->route->paths[req->pattern].pattern : NULL;
	const char	*user = req->user[0] != '\0' ? req->user : NULL;
	char		 line[LINE_MAX_LEN], t[40], up[24];
	char		 jrid[2 * SB_RID_MAX + 8], juser[8 * SB_CLAIM_MAX];
	char		 jroute[1024];
	long long	 ms = (long long)(sb_now_ms() - req->start_ms);
	int		 n;

	if (json) {
		if (req->upstream_status > 0)
			snprintf(up, sizeof(up), "%ld", req->upstream_status);
		else
			snprintf(up, sizeof(up), "null");
		n = snprintf(line, sizeof(line), "{\"time\":\"%s\",\"program\":"
		    "\"%s\",\"pid\":%d,\"level\":\"info\",\"request_id\":%s,"
		    "\"msg\":\"request\",\"route\":%s,\"method\":\"%s\","
		    "\"status\":%d,\"err_code\":%d,\"ms\":%lld,"
		    "\"upstream_status\":%s,\"upstream_ms\":%lld,\"user\":%s}\n",
		    timestamp(t, sizeof(t)), prog, (int)getpid(),
		    jstr(jrid, sizeof(jrid), req->rid),
		    jstr(jroute, sizeof(jroute), route),
		    sb_method_names[req->method], req->status,
		    sb_err_code(req->err), ms, up, (long long)req->upstream_ms,
		    jstr(juser, sizeof(juser), user));
	} else
		n = snprintf(line, sizeof(line), "%s[%d] request: method=%s "
		    "status=%d err=%d ms=%lld upstream_status=%ld "
		    "upstream_ms=%lld user=%s route=%s rid=%s\n", prog,
		    (int)getpid(), sb_method_names[req->method], req->status,
		    sb_err_code(req->err), ms, req->upstream_status,
		    (long long)req->upstream_ms, user != NULL ? user : "-",
		    route != NULL ? route : "-", req->rid);
	emit(line, n);
}
