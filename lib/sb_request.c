#include <sys/random.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

const char *const sb_method_names[SB_METHOD__MAX] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "OTHER",
};

const char *
sb_req_param(const struct sb_req *req, const char *name)
{
	return sb_fcgi_param(req->fcgi->envp, name);
}

const char *
sb_req_header(const struct sb_req *req, const char *name, enum sb_err *err)
{
	const char	*v = NULL;
	char		**p;
	size_t		 nlen = strlen(name), len;

	*err = SB_OK;
	for (p = req->fcgi->envp; p != NULL && *p != NULL; p++) {
		if (strncmp(*p, name, nlen) != 0 || (*p)[nlen] != '=')
			continue;
		/* Sent twice (nginx before 1.23 passes both): which counts? */
		if (v != NULL) {
			*err = SB_ERR_HEADER;
			return NULL;
		}
		v = *p + nlen + 1;
	}
	if (v == NULL)
		return NULL;
	len = strnlen(v, SB_HEADER_MAX + 1);
	if (len > SB_HEADER_MAX || !sb_printable(v, len)) {
		*err = SB_ERR_HEADER;
		return NULL;
	}
	return v;
}

static uint64_t	 rid_prefix, rid_count;

bool
sb_req_id_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > SB_RID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

void
sb_req_id_seed(void)
{
	if (getrandom(&rid_prefix, sizeof(rid_prefix), 0) !=
	    (ssize_t)sizeof(rid_prefix))
		rid_prefix = (uint64_t)getpid() << 32 ^ (uint64_t)sb_now_ms();
	rid_count = 0;
}

void
sb_req_id(struct sb_req *req)
{
	const char	*v;
	size_t		 len;
	enum sb_err	 e;

	/* Sent twice (nginx before 1.23 passes both): neither counts. */
	v = sb_req_header(req, "HTTP_X_REQUEST_ID", &e);
	if (v != NULL && sb_req_id_valid(v, len = strnlen(v, SB_RID_MAX + 1))) {
		memcpy(req->rid, v, len);
		req->rid[len] = '\0';
		return;
	}
	snprintf(req->rid, sizeof(req->rid), "%016llx%016llx",
	    (unsigned long long)rid_prefix, (unsigned long long)++rid_count);
}

/*
 * The piece of qs from p on that is name=value: its start, or NULL.
 * Pieces are split at '&'.
 */
static const char *
query_piece(const char *p, const char *name, size_t nlen)
{
	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=')
			return p;
		if ((p = strchr(p, '&')) != NULL)
			p++;
	}
	return NULL;
}

int
sb_query_get(const char *qs, const char *name, char *buf, size_t bufsz)
{
	size_t		 nlen = strlen(name), n;
	const char	*p, *v, *next;
	int		 hi, lo;

	if (bufsz == 0)
		return -1;
	if ((p = query_piece(qs, name, nlen)) == NULL)
		return 0;
	/* Given twice: which counts? Neither. */
	if ((next = strchr(p, '&')) != NULL &&
	    query_piece(next + 1, name, nlen) != NULL)
		return -1;
	for (v = p + nlen + 1, n = 0; *v != '\0' && *v != '&'; v++) {
		if (n + 1 >= bufsz)
			return -1;
		if (*v == '+')
			buf[n++] = ' ';
		else if (*v != '%')
			buf[n++] = *v;
		else if ((hi = sb_hexval(v[1])) < 0 ||
		    (lo = sb_hexval(v[2])) < 0)
			return -1;
		else {
			buf[n++] = (char)(hi << 4 | lo);
			v += 2;
		}
	}
	buf[n] = '\0';
	return sb_printable(buf, n) ? 1 : -1;
}

int
sb_req_query(const struct sb_req *req, const char *name, char *buf,
    size_t bufsz)
{
	const char	*qs = sb_req_param(req, "QUERY_STRING");

	if (qs == NULL || strnlen(qs, SB_HEADER_MAX + 1) > SB_HEADER_MAX)
		return qs == NULL ? 0 : -1;
	return sb_query_get(qs, name, buf, bufsz);
}

enum sb_err
sb_req_read_body(struct sb_req *req, size_t cap)
{
	const char	*cl;
	long		 declared = -1;

	if (req->body != NULL)
		return SB_OK;
	if ((cl = sb_req_param(req, "CONTENT_LENGTH")) != NULL && *cl != '\0'
	    && sb_parse_long(cl, 0, 1L << 40, &declared) == -1)
		return SB_ERR_HEADER;
	/* The serve loop read it, up to SENTC_BACKEND_MAX_BODY. */
	if (declared > (long)cap || req->fcgi->in_big ||
	    req->fcgi->inlen > cap)
		return SB_ERR_BODY_TOO_LARGE;
	/* The body is the request's: taken over, freed with it. */
	req->body = req->fcgi->in;
	req->bodylen = req->fcgi->inlen;
	req->fcgi->in = NULL;
	req->fcgi->inlen = 0;
	return SB_OK;
}

enum sb_err
sb_path_match(const char *pattern, const char *path, size_t pathlen,
    char ids[][SB_ID_LEN + 1], size_t *nids)
{
	const char	*p = path, *end = path + pathlen, *seg;
	const char	*pat = pattern, *patseg;
	size_t		 seglen, patlen, i, n = 0;
	int		 badid = 0;

	*nids = 0;
	while (*pat != '\0') {
		if (*pat != '/' || p == end || *p != '/')
			return SB_ERR_NOT_FOUND;
		pat++, p++;
		patseg = pat;
		while (*pat != '\0' && *pat != '/')
			pat++;
		patlen = (size_t)(pat - patseg);
		seg = p;
		while (p < end && *p != '/')
			p++;
		seglen = (size_t)(p - seg);

		if (patlen == 4 && memcmp(patseg, "{id}", 4) == 0) {
			if (n == SB_IDS_MAX)
				return SB_ERR_NOT_FOUND;
			if (!sb_is_uuid(seg, seglen)) {
				badid = 1;
				ids[n++][0] = '\0';
				continue;
			}
			for (i = 0; i < seglen; i++)
				ids[n][i] = (char)tolower((unsigned char)seg[i]);
			ids[n++][seglen] = '\0';
		} else if (patlen == 3 && memcmp(patseg, "{n}", 3) == 0) {
			/* A whole number, 0 to 999999999, kept as written. */
			if (n == SB_IDS_MAX)
				return SB_ERR_NOT_FOUND;
			if (seglen == 0 || seglen > 9 ||
			    (seglen > 1 && seg[0] == '0')) {
				badid = 1;
				ids[n++][0] = '\0';
				continue;
			}
			for (i = 0; i < seglen; i++)
				if (!isdigit((unsigned char)seg[i]))
					badid = 1;
			memcpy(ids[n], seg, seglen);
			ids[n++][seglen] = '\0';
		} else if (patlen != seglen || memcmp(patseg, seg, seglen) != 0)
			return SB_ERR_NOT_FOUND;
	}
	if (p != end)
		return SB_ERR_NOT_FOUND;
	if (badid)
		return SB_ERR_BAD_ID;
	*nids = n;
	return SB_OK;
}

struct sb_defer {
	struct sb_defer	*next;
	void		(*fn)(struct sb_req *, void *);
	void		*arg;
};

int
sb_req_defer(struct sb_req *req, void (*fn)(struct sb_req *, void *),
    void *arg)
{
	struct sb_defer	*d;

	if ((d = malloc(sizeof(*d))) == NULL)
		return -1;
	d->fn = fn;
	d->arg = arg;
	d->next = req->defer;
	req->defer = d;
	return 0;
}

void
sb_req_end(struct sb_req *req)
{
	struct sb_defer	*d;

	while ((d = req->defer) != NULL) {
		req->defer = d->next;
		d->fn(req, d->arg);
		free(d);
	}
}
