/*
 * FastCGI 1.0 (fastcgi-archives' specification), the responder role.
 */
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

/* Record types and constants of the specification. */
#define BEGIN_REQUEST		1
#define ABORT_REQUEST		2
#define END_REQUEST		3
#define PARAMS			4
#define STDIN			5
#define STDOUT			6
#define DATA			8
#define GET_VALUES		9
#define GET_VALUES_RESULT	10
#define UNKNOWN_TYPE		11
#define RESPONDER		1
#define KEEP_CONN		1
#define REQUEST_COMPLETE	0
#define CANT_MPX_CONN		1
#define UNKNOWN_ROLE		3

#define CHUNK		65528	/* a STDOUT record's content, 8-aligned */
#define READ_BUF	(2 * SB_FCGI_RECORD_MAX)
#define IOV_BATCH	64
/* A request begun must arrive whole within this; nginx sends at once. */
#define PARTIAL_MS	60000
#define WRITE_MS	60000

enum { ST_IDLE, ST_PARAMS, ST_STDIN, ST_READY };

void
sb_fcgi_in_init(struct sb_fcgi_in *r, size_t in_max)
{
	memset(r, 0, sizeof(*r));
	r->in_max = in_max;
}

void
sb_fcgi_in_next(struct sb_fcgi_in *r)
{
	free(r->req.envp);
	free(r->req.in);
	free(r->params);
	memset(&r->req, 0, sizeof(r->req));
	r->params = NULL;
	r->plen = r->incap = 0;
	r->state = ST_IDLE;
}

void
sb_fcgi_in_free(struct sb_fcgi_in *r)
{
	sb_fcgi_in_next(r);
}

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
header(unsigned char *h, int type, unsigned id, size_t len)
{
	h[0] = 1;
	h[1] = (unsigned char)type;
	put16(h + 2, id);
	put16(h + 4, (unsigned)len);
	h[6] = 0;
	h[7] = 0;
}

/* An END_REQUEST of id with protocol status st, into r->reply. */
static enum sb_fcgi_rc
end_reply(struct sb_fcgi_in *r, unsigned id, int st)
{
	header(r->reply, END_REQUEST, id, 8);
	memset(r->reply + 8, 0, 8);
	r->reply[12] = (unsigned char)st;
	r->replylen = 16;
	return SB_FCGI_REPLY;
}

static enum sb_fcgi_rc
bad(struct sb_fcgi_in *r, const char *why)
{
	r->why = why;
	return SB_FCGI_BAD;
}

/* One name-value length: 1 byte, or 4 with the top bit set. */
static bool
nv_len(const unsigned char **p, const unsigned char *end, size_t *len)
{
	if (*p >= end)
		return false;
	if (**p < 0x80) {
		*len = *(*p)++;
		return true;
	}
	if (end - *p < 4)
		return false;
	*len = ((size_t)((*p)[0] & 0x7f) << 24) | ((size_t)(*p)[1] << 16) |
	    ((size_t)(*p)[2] << 8) | (*p)[3];
	*p += 4;
	return true;
}

/*
 * The parameters (name-value pairs, in r->params) into envp, each
 * "NAME=VALUE" in place: a pair's bytes are copied to one block.
 */
static enum sb_fcgi_rc
make_env(struct sb_fcgi_in *r)
{
	static const unsigned char none[1];
	const unsigned char	*p = r->params != NULL ?
				    (const unsigned char *)r->params : none;
	const unsigned char	*end = p + r->plen, *first = p;
	size_t			 n = 0, nl, vl, need, at;
	char			*block, **env;

	/* First count, and check that every pair fits. */
	while (p < end) {
		if (!nv_len(&p, end, &nl) || !nv_len(&p, end, &vl) ||
		    nl > (size_t)(end - p) || vl > (size_t)(end - p) - nl ||
		    nl == 0)
			return bad(r, "a malformed parameter");
		if (memchr(p, '\0', nl + vl) != NULL ||
		    memchr(p, '=', nl) != NULL)
			return bad(r, "a parameter with a NUL or '=' in its "
			    "name");
		p += nl + vl;
		if (++n > SB_FCGI_NPARAMS_MAX)
			return bad(r, "too many parameters");
	}
	/* n pointers and a NULL, then at most plen + n bytes of text. */
	need = (n + 1) * sizeof(char *) + r->plen + n + 1;
	if ((env = malloc(need)) == NULL)
		return bad(r, "out of memory");
	block = (char *)(env + n + 1);
	p = first;
	for (at = 0, n = 0; p < end; n++) {
		(void)nv_len(&p, end, &nl);
		(void)nv_len(&p, end, &vl);
		env[n] = block + at;
		memcpy(block + at, p, nl);
		block[at + nl] = '=';
		memcpy(block + at + nl + 1, p + nl, vl);
		block[at + nl + 1 + vl] = '\0';
		at += nl + vl + 2;
		p += nl + vl;
	}
	env[n] = NULL;
	r->req.envp = env;
	return SB_FCGI_MORE;
}

/* GET_VALUES: what this side takes, for the names asked. */
static enum sb_fcgi_rc
values_reply(struct sb_fcgi_in *r, const unsigned char *c, size_t len)
{
	static const struct { const char *name, *value; } known[] = {
		{ "FCGI_MPXS_CONNS", "0" },
		{ "FCGI_MAX_CONNS", "1024" },
		{ "FCGI_MAX_REQS", "1024" },
	};
	const unsigned char	*p = c, *end = c + len;
	size_t			 nl, vl, i, at = 8, k;

	while (p < end) {
		if (!nv_len(&p, end, &nl) || !nv_len(&p, end, &vl) ||
		    nl > (size_t)(end - p) || vl > (size_t)(end - p) - nl)
			return bad(r, "a malformed GET_VALUES");
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			k = strlen(known[i].name);
			if (nl != k || memcmp(p, known[i].name, k) != 0)
				continue;
			if (at + 2 + k + strlen(known[i].value) >
			    sizeof(r->reply))
				break;
			r->reply[at++] = (unsigned char)k;
			r->reply[at++] = (unsigned char)strlen(known[i].value);
			memcpy(r->reply + at, known[i].name, k);
			at += k;
			memcpy(r->reply + at, known[i].value,
			    strlen(known[i].value));
			at += strlen(known[i].value);
		}
		p += nl + vl;
	}
	header(r->reply, GET_VALUES_RESULT, 0, at - 8);
	r->replylen = at;
	return SB_FCGI_REPLY;
}

static enum sb_fcgi_rc
stdin_take(struct sb_fcgi_in *r, const unsigned char *c, size_t len)
{
	size_t	 want, ncap;
	char	*np;

	if (r->req.in_big)
		return SB_FCGI_MORE;
	if (len > r->in_max - r->req.inlen) {
		/* Past the cap: the rest is read and dropped. */
		r->req.in_big = true;
		return SB_FCGI_MORE;
	}
	want = r->req.inlen + len + 1;
	if (want > r->incap) {
		ncap = r->incap ? r->incap : 1024;
		while (ncap < want)
			ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
		if ((np = realloc(r->req.in, ncap)) == NULL)
			return bad(r, "out of memory");
		r->req.in = np;
		r->incap = ncap;
	}
	memcpy(r->req.in + r->req.inlen, c, len);
	r->req.inlen += len;
	r->req.in[r->req.inlen] = '\0';
	return SB_FCGI_MORE;
}

/* One whole record: type, request id, content. */
static enum sb_fcgi_rc
record(struct sb_fcgi_in *r, int type, unsigned id, const unsigned char *c,
    size_t len)
{
	char	*np;

	if (type == GET_VALUES && id == 0)
		return values_reply(r, c, len);
	if (id == 0) {
		/* A management record this side does not know. */
		header(r->reply, UNKNOWN_TYPE, 0, 8);
		memset(r->reply + 8, 0, 8);
		r->reply[8] = (unsigned char)type;
		r->replylen = 16;
		return SB_FCGI_REPLY;
	}
	if (type == BEGIN_REQUEST) {
		if (len != 8)
			return bad(r, "a BEGIN_REQUEST of the wrong length");
		if (r->state != ST_IDLE)
			return end_reply(r, id, CANT_MPX_CONN);
		if (((unsigned)c[0] << 8 | c[1]) != RESPONDER) {
			r->req.keep = c[2] & KEEP_CONN;
			return end_reply(r, id, UNKNOWN_ROLE);
		}
		r->req.id = (uint16_t)id;
		r->req.keep = c[2] & KEEP_CONN;
		r->state = ST_PARAMS;
		return SB_FCGI_MORE;
	}
	/* Records of a request not under way are ignored, as specified. */
	if (r->state == ST_IDLE || id != r->req.id)
		return SB_FCGI_MORE;
	switch (type) {
	case ABORT_REQUEST:
		/* Not begun yet: it ends here, answered as complete. */
		sb_fcgi_in_next(r);
		return end_reply(r, id, REQUEST_COMPLETE);
	case PARAMS:
		if (r->state != ST_PARAMS)
			return bad(r, "PARAMS after their end");
		if (len == 0) {
			r->state = ST_STDIN;
			return make_env(r);
		}
		if (len > SB_FCGI_PARAMS_MAX - r->plen)
			return bad(r, "parameters too long");
		if ((np = realloc(r->params, r->plen + len)) == NULL)
			return bad(r, "out of memory");
		memcpy(np + r->plen, c, len);
		r->params = np;
		r->plen += len;
		return SB_FCGI_MORE;
	case STDIN:
		if (r->state != ST_STDIN)
			return bad(r, r->state == ST_PARAMS ? "STDIN before "
			    "the end of PARAMS" : "STDIN after its end");
		if (len > 0)
			return stdin_take(r, c, len);
		if (r->req.in == NULL && (r->req.in = calloc(1, 1)) == NULL)
			return bad(r, "out of memory");
		r->state = ST_READY;
		return SB_FCGI_REQUEST;
	case DATA:
		return SB_FCGI_MORE;	/* the filter role's: not ours */
	default:
		return bad(r, "an unexpected record type");
	}
}

enum sb_fcgi_rc
sb_fcgi_in_feed(struct sb_fcgi_in *r, const unsigned char *buf, size_t len,
    size_t *used)
{
	enum sb_fcgi_rc	 rc;
	size_t		 clen, plen, at = 0;

	*used = 0;
	if (r->state == ST_READY)
		return SB_FCGI_REQUEST;
	while (len - at >= 8) {
		if (buf[at] != 1)
			return bad(r, "not FastCGI version 1");
		clen = (size_t)buf[at + 4] << 8 | buf[at + 5];
		plen = buf[at + 6];
		if (len - at < 8 + clen + plen)
			break;
		rc = record(r, buf[at + 1], (unsigned)buf[at + 2] << 8 |
		    buf[at + 3], buf + at + 8, clen);
		at += 8 + clen + plen;
		*used = at;
		if (rc != SB_FCGI_MORE)
			return rc;
	}
	return SB_FCGI_MORE;
}

size_t
sb_fcgi_frame(uint16_t id, const char *out, size_t len,
    unsigned char (*hdrs)[8], size_t nhdr, struct iovec *iov)
{
	size_t	 n = 0, h = 0, at = 0, part;
	static unsigned char end_body[8];	/* all zero: complete */

	while (at < len) {
		if (h + 3 > nhdr)
			return 0;
		part = len - at > CHUNK ? CHUNK : len - at;
		header(hdrs[h], STDOUT, id, part);
		iov[n].iov_base = hdrs[h++];
		iov[n++].iov_len = 8;
		iov[n].iov_base = (char *)out + at;
		iov[n++].iov_len = part;
		at += part;
	}
	if (h + 2 > nhdr)
		return 0;
	header(hdrs[h], STDOUT, id, 0);
	iov[n].iov_base = hdrs[h++];
	iov[n++].iov_len = 8;
	header(hdrs[h], END_REQUEST, id, 8);
	iov[n].iov_base = hdrs[h++];
	iov[n++].iov_len = 8;
	iov[n].iov_base = end_body;
	iov[n++].iov_len = 8;
	return n;
}

const char *
sb_fcgi_param(char *const *envp, const char *name)
{
	size_t	 len = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

/* ---- the connection ------------------------------------------------ */

/* Writes iov[0..n) whole. Returns 0, or -1 if the peer went. */
static int
write_all(int fd, struct iovec *iov, size_t n)
{
	int64_t	 deadline = sb_add_sat(sb_now_ms(), WRITE_MS);
	ssize_t	 w;
	size_t	 left;

	while (n > 0) {
		w = writev(fd, iov, n > IOV_BATCH ? IOV_BATCH : (int)n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			if (sb_loop_wait_fd(fd, SB_EV_OUT, deadline) <= 0)
				return -1;
			continue;
		}
		for (left = (size_t)w; n > 0 && left >= iov->iov_len; n--)
			left -= (iov++)->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

static int
answer(int fd, uint16_t id, const char *out, size_t len)
{
	unsigned char	(*hdrs)[8];
	struct iovec	*iov;
	size_t		 nhdr = len / CHUNK + 4, n;
	int		 rc = -1;

	hdrs = calloc(nhdr, sizeof(*hdrs));
	iov = calloc(2 * nhdr, sizeof(*iov));
	if (hdrs != NULL && iov != NULL &&
	    (n = sb_fcgi_frame(id, out, len, hdrs, nhdr, iov)) > 0)
		rc = write_all(fd, iov, n);
	free(hdrs);
	free(iov);
	return rc;
}

void
sb_fcgi_serve(int fd, size_t in_max,
    void (*handle)(struct sb_fcgi_req *, char **, size_t *, void *),
    void *arg, const volatile bool *stop)
{
	struct sb_fcgi_in r;
	struct iovec	 iov;
	unsigned char	*buf;
	size_t		 have = 0, used;
	ssize_t		 n;
	int64_t		 deadline;
	enum sb_fcgi_rc	 rc;
	char		*out;
	size_t		 outlen;
	int		 ev;

	sb_fcgi_in_init(&r, in_max);
	if ((buf = malloc(READ_BUF)) == NULL)
		goto done;
	for (;;) {
		/* Whatever is whole in the buffer first. */
		rc = sb_fcgi_in_feed(&r, buf, have, &used);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (rc == SB_FCGI_BAD) {
			sb_log(SB_LOG_WARN, "FastCGI: %s: closing the "
			    "connection", r.why);
			break;
		}
		if (rc == SB_FCGI_REPLY) {
			iov.iov_base = r.reply;
			iov.iov_len = r.replylen;
			if (write_all(fd, &iov, 1) == -1)
				break;
			continue;
		}
		if (rc == SB_FCGI_REQUEST) {
			out = NULL;
			outlen = 0;
			handle(&r.req, &out, &outlen, arg);
			n = answer(fd, r.req.id, out, outlen);
			free(out);
			if (n == -1 || !r.req.keep)
				break;
			sb_fcgi_in_next(&r);
			continue;
		}
		/* More bytes are needed. */
		if (have == READ_BUF)
			break;	/* cannot happen: a record fits */
		n = read(fd, buf + have, READ_BUF - have);
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
		if (errno == EINTR)
			continue;
		/* Idle between requests: until the server sends, or a stop. */
		if (r.state == ST_IDLE && have == 0) {
			if (*stop)
				break;
			deadline = INT64_MAX;
		} else
			deadline = sb_add_sat(sb_now_ms(), PARTIAL_MS);
		ev = sb_loop_wait_fd(fd, SB_EV_IN, deadline);
		if (ev == 0) {
			sb_log(SB_LOG_WARN, "FastCGI: a request did not "
			    "arrive whole within %d s: closing the "
			    "connection", PARTIAL_MS / 1000);
			break;
		}
	}
done:
	free(buf);
	sb_fcgi_in_free(&r);
	sb_loop_forget(fd);
	close(fd);
}
