#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sb_log.h"
#include "sb_serve.h"

static const char *const level_names[SB_LOG__MAX] = {
	"error", "warn", "info",
};

static char	 prog[64] = "sentc-backend";

void
sb_log_init(const char *name)
{
	snprintf(prog, sizeof(prog), "%s", name);
}

/* Writes one line with a single write(2), so lines never interleave. */
static void
emit(const char *line, int len)
{
	if (len < 0)
		return;
	if ((size_t)len >= 1024)
		len = 1023;
	(void)!write(STDERR_FILENO, line, (size_t)len);
}

void
sb_log(enum sb_log_level level, const char *fmt, ...)
{
	char	 msg[900], line[1024];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	n = snprintf(line, sizeof(line), "%s[%d] %s: %s\n", prog, (int)getpid(),
	    level_names[level], msg);
	emit(line, n);
}

void
sb_log_request(const struct sb_req *req)
{
	char	 line[1024];
	int	 n;

	n = snprintf(line, sizeof(line), "%s[%d] request: method=%s status=%d "
	    "err=%d ms=%lld upstream_status=%ld upstream_ms=%lld user=%s\n",
	    prog, (int)getpid(), sb_method_names[req->method], req->status,
	    sb_err_code(req->err), (long long)(sb_now_ms() - req->start_ms),
	    req->upstream_status, (long long)req->upstream_ms,
	    req->user[0] != '\0' ? req->user : "-");
	emit(line, n);
}
