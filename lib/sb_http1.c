#include <string.h>
#include <strings.h>

#include "sb_http1.h"
#include "sb_util.h"

enum st {
	ST_HEAD,	/* looking for the end of the head, from line */
	ST_LENGTH,	/* left bytes of a Content-Length body */
	ST_EOF,		/* a body that ends when the connection does */
	ST_SIZE,	/* a chunk's size line, from line */
	ST_DATA,	/* left bytes of a chunk */
	ST_CRLF,	/* the end of a chunk's data */
	ST_TRAILER,	/* trailer lines, from line, up to an empty one */
	ST_DONE,
};

/* What the head says, besides the status. */
struct head {
	bool	 http10, keep_alive, close, chunked;
	bool	 has_length;
	uint64_t length;
};

void
sb_http1_begin(struct sb_http1 *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
	p->st = ST_HEAD;
}

/*
 * The CRLF that ends the line starting at buf[from], within buf[..n), or
 * NULL. A bare LF stays in the line, which the checks then refuse.
 */
static const char *
crlf(const char *buf, size_t from, size_t n)
{
	const char	*p = buf + from, *lf;

	while ((lf = memchr(p, '\n', n - (size_t)(p - buf))) != NULL) {
		if (lf > buf + from && lf[-1] == '\r')
			return lf - 1;
		p = lf + 1;
	}
	return NULL;
}

/* Header values and reasons: anything but controls (tab aside) and DEL. */
static bool
is_text(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return false;
	return true;
}

static bool
is_token(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* The status line, "HTTP/1.x NNN[ reason]", in s[0..len). */
static int
status_line(const char *s, size_t len, struct head *h)
{
	int	 status;

	if (len < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
	    s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' ||
	    s[11] < '0' || s[11] > '9' ||
	    (len > 12 && s[12] != ' ') || !is_text(s + 12, len - 12))
		return -1;
	h->http10 = s[7] == '0';
	status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return status;
}

/* Connection: a comma-separated list of options. */
static void
connection(const char *v, size_t len, struct head *h)
{
	size_t	 i, j;

	for (i = 0; i < len; i = j + 1) {
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		for (j = i; j < len && v[j] != ','; j++)
			continue;
		while (j > i && (v[j - 1] == ' ' || v[j - 1] == '\t'))
			j--;
		if (is_token(v + i, j - i, "close"))
			h->close = true;
		else if (is_token(v + i, j - i, "keep-alive"))
			h->keep_alive = true;
		while (j < len && v[j] != ',')
			j++;
	}
}

/* One header line, s[0..len) without its CRLF. */
static int
header(const char *s, size_t len, struct head *h)
{
	const char	*v;
	size_t		 n, vlen, i;
	uint64_t	 cl = 0;

	for (n = 0; n < len && sb_is_tchar((unsigned char)s[n]); n++)
		continue;
	/* A name, its colon right after it: no folding, no space before. */
	if (n == 0 || n == len || s[n] != ':')
		return -1;
	v = s + n + 1;
	vlen = len - n - 1;
	if (!is_text(v, vlen))
		return -1;
	while (vlen > 0 && (v[0] == ' ' || v[0] == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;

	if (is_token(s, n, "content-length")) {
		/* At most 18 digits: the sum below stays under 10^18. */
		if (vlen == 0 || vlen > 18)
			return -1;
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			cl = cl * 10 + (uint64_t)(v[i] - '0');
		}
		/* Repeated, it must say the same. */
		if (h->has_length && h->length != cl)
			return -1;
		h->has_length = true;
		h->length = cl;
	} else if (is_token(s, n, "transfer-encoding")) {
		/* No coding is asked for, so chunked is all there can be. */
		if (!is_token(v, vlen, "chunked") || h->chunked)
			return -1;
		h->chunked = true;
	} else if (is_token(s, n, "connection"))
		connection(v, vlen, h);
	return 0;
}

/*
 * The head in buf[s..e), each line ending in CRLF, the empty last one
 * left out. Sets up the body's reading; returns the status, or -1.
 */
static int
head(struct sb_http1 *p, const char *buf, size_t s, size_t e)
{
	struct head	 h = { 0 };
	const char	*eol;
	int		 status = -1;
	size_t		 i;

	for (i = s; i < e; i = (size_t)(eol - buf) + 2) {
		if ((eol = crlf(buf, i, e)) == NULL)
			return -1;
		if (i == s)
			status = status_line(buf + i, (size_t)(eol - buf) - i,
			    &h);
		else if (header(buf + i, (size_t)(eol - buf) - i, &h) == -1)
			return -1;
		if (status == -1)
			return -1;
	}
	/* Both would let a server smuggle; chunked is HTTP/1.1's. */
	if ((h.chunked && h.has_length) || (h.chunked && h.http10))
		return -1;
	p->close = h.close || (h.http10 && !h.keep_alive);
	if (status < 200)
		return status;
	if (status == 204 || status == 304) {
		p->st = ST_DONE;
		/* These have no body, whatever their head says. */
	} else if (h.chunked) {
		p->st = ST_SIZE;
		p->line = p->at;
	} else if (h.has_length) {
		p->st = ST_LENGTH;
		p->left = h.length;
		if (h.length > p->max)
			return -2;
	} else {
		p->st = ST_EOF;
		p->close = true;
	}
	return status;
}

/* A chunk's size line, s[0..len): hex digits, maybe extensions. */
static int
chunk_size(const char *s, size_t len, uint64_t *size)
{
	size_t	 i;
	int	 d;

	*size = 0;
	for (i = 0; i < len && (d = sb_hexval(s[i])) != -1; i++) {
		/* At most 15 digits: the sum below stays under 2^60. */
		if (i == 15)
			return -1;
		*size = *size * 16 + (uint64_t)d;
	}
	if (i == 0)
		return -1;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && s[i] != ';')
		return -1;
	return is_text(s + i, len - i) ? 0 : -1;
}

/* Moves the unread bytes down onto the end of the body read so far. */
static void
join(struct sb_http1 *p, char *buf, size_t *n)
{
	size_t	 gap = p->at - (p->body + p->len);

	if (gap == 0)
		return;
	memmove(buf + p->body + p->len, buf + p->at, *n - p->at);
	*n -= gap;
	p->at -= gap;
	p->line -= gap;
}

enum sb_http1_rc
sb_http1_read(struct sb_http1 *p, char *buf, size_t *n, bool eof)
{
	const char	*e;
	size_t		 from, take;
	uint64_t	 size;
	int		 status;

	for (;;) {
		switch (p->st) {
		case ST_HEAD:
			/* Line by line, at the start of one, to an empty one. */
			while ((e = crlf(buf, p->at, *n)) != NULL &&
			    e != buf + p->at)
				p->at = (size_t)(e - buf) + 2;
			if (e == NULL) {
				if (*n - p->line > SB_HTTP1_HEAD_MAX)
					return SB_HTTP1_BAD;
				return eof ? SB_HTTP1_BAD : SB_HTTP1_MORE;
			}
			if (p->at + 2 - p->line > SB_HTTP1_HEAD_MAX)
				return SB_HTTP1_BAD;
			p->at = p->body = (size_t)(e - buf) + 2;
			status = head(p, buf, p->line, (size_t)(e - buf));
			if (status == -2)
				return SB_HTTP1_BIG;
			/* 101 would switch protocols: nothing asked for it. */
			if (status == -1 || status == 101)
				return SB_HTTP1_BAD;
			/* An interim answer: the real one follows. */
			if (status < 200) {
				p->line = p->at;
				continue;
			}
			p->status = status;
			continue;
		case ST_LENGTH:
			take = *n - p->at < p->left ? *n - p->at :
			    (size_t)p->left;
			p->at += take;
			p->len += take;
			p->left -= take;
			if (p->left > 0)
				return eof ? SB_HTTP1_BAD : SB_HTTP1_MORE;
			p->st = ST_DONE;
			continue;
		case ST_EOF:
			p->len = *n - p->body;
			p->at = *n;
			if (p->len > p->max)
				return SB_HTTP1_BIG;
			if (!eof)
				return SB_HTTP1_MORE;
			p->st = ST_DONE;
			continue;
		case ST_SIZE:
		case ST_TRAILER:
			if ((e = crlf(buf, p->line, *n)) == NULL) {
				if (*n - p->line > SB_HTTP1_LINE_MAX)
					return SB_HTTP1_BAD;
				join(p, buf, n);
				return eof ? SB_HTTP1_BAD : SB_HTTP1_MORE;
			}
			from = p->line;
			p->at = p->line = (size_t)(e - buf) + 2;
			if ((size_t)(e - buf) - from > SB_HTTP1_LINE_MAX)
				return SB_HTTP1_BAD;
			if (p->st == ST_TRAILER) {
				/* Trailers are read past, not used. */
				if ((size_t)(e - buf) == from)
					p->st = ST_DONE;
				else if (header(buf + from, (size_t)(e - buf) -
				    from, &(struct head){ 0 }) == -1)
					return SB_HTTP1_BAD;
				continue;
			}
			if (chunk_size(buf + from, (size_t)(e - buf) - from,
			    &size) == -1)
				return SB_HTTP1_BAD;
			if (size > p->max - p->len)
				return SB_HTTP1_BIG;
			p->left = size;
			p->st = size == 0 ? ST_TRAILER : ST_DATA;
			continue;
		case ST_DATA:
			join(p, buf, n);
			take = *n - p->at < p->left ? *n - p->at :
			    (size_t)p->left;
			p->at += take;
			p->line = p->at;
			p->len += take;
			p->left -= take;
			if (p->left > 0)
				return eof ? SB_HTTP1_BAD : SB_HTTP1_MORE;
			p->st = ST_CRLF;
			continue;
		case ST_CRLF:
			if (*n - p->at < 2) {
				join(p, buf, n);
				return eof ? SB_HTTP1_BAD : SB_HTTP1_MORE;
			}
			if (buf[p->at] != '\r' || buf[p->at + 1] != '\n')
				return SB_HTTP1_BAD;
			p->at += 2;
			p->line = p->at;
			p->st = ST_SIZE;
			continue;
		default:
			join(p, buf, n);
			if (*n > p->at)
				p->close = true;
			return SB_HTTP1_DONE;
		}
	}
}
