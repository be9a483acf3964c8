/*
 * driver_fcgi.c: sb_fcgi_in_feed(), the FastCGI records a web server
 * sends.
 *
 * The first byte picks the mode.
 *
 * Even: the rest is taken as raw bytes from the server, fed in pieces of
 * sizes the input also gives. Whatever they are, the reader takes only
 * whole records, within what it was given; a request it calls whole has
 * parameters of the form NAME=VALUE with a name, and a body within its
 * cap, NUL-terminated; a reply is a record of the specification's layout.
 *
 * Odd: the rest describes a request (parameters, a body, where records
 * split, padding), which an encoder written here from the specification
 * turns into records. The oracle is that description: the reader, fed the
 * records in any pieces, must give back exactly those parameters, in
 * order, and that body (or say it is past the cap, when it is).
 */
#include "fuzz.h"
#include "extern.h"

#define CAP	4096

/* The input, read from the front. */
struct in {
	const uint8_t	*p;
	size_t		 n;
};

static unsigned
take(struct in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* ---- the encoder -------------------------------------------------- */

struct out {
	uint8_t	 b[600000];
	size_t	 n;
};

static void
put_rec(struct out *o, int type, unsigned id, const uint8_t *c, size_t len,
    size_t pad)
{
	if (o->n + 8 + len + pad > sizeof(o->b))
		abort();
	o->b[o->n++] = 1;
	o->b[o->n++] = (uint8_t)type;
	o->b[o->n++] = (uint8_t)(id >> 8);
	o->b[o->n++] = (uint8_t)id;
	o->b[o->n++] = (uint8_t)(len >> 8);
	o->b[o->n++] = (uint8_t)len;
	o->b[o->n++] = (uint8_t)pad;
	o->b[o->n++] = 0;
	if (len > 0)
		memcpy(o->b + o->n, c, len);
	o->n += len;
	memset(o->b + o->n, 0xa5, pad);
	o->n += pad;
}

/* A stream's content as records of at most max bytes each, then empty. */
static void
put_stream(struct out *o, int type, unsigned id, const uint8_t *c,
    size_t len, size_t max, size_t pad)
{
	size_t	 at = 0, part;

	while (at < len) {
		part = len - at < max ? len - at : max;
		put_rec(o, type, id, c + at, part, pad);
		at += part;
	}
	put_rec(o, type, id, NULL, 0, 0);
}

static size_t
put_len(uint8_t *p, size_t v, int wide)
{
	if (!wide && v < 128) {
		p[0] = (uint8_t)v;
		return 1;
	}
	p[0] = (uint8_t)(0x80 | v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

/* ---- the two modes ------------------------------------------------ */

static void
check_result(struct sb_fcgi_in *r, enum sb_fcgi_rc rc)
{
	char	**e;

	if (rc == SB_FCGI_REQUEST) {
		FUZZ_CHECK(r->req.envp != NULL, "a request has parameters");
		for (e = r->req.envp; *e != NULL; e++)
			FUZZ_CHECK(strchr(*e, '=') != NULL && **e != '=',
			    "parameter %s", *e);
		FUZZ_CHECK(r->req.in != NULL && r->req.inlen <= CAP &&
		    r->req.in[r->req.inlen] == '\0', "body within the cap");
	}
	if (rc == SB_FCGI_REPLY) {
		FUZZ_CHECK(r->replylen >= 8 && r->replylen <= sizeof(r->reply),
		    "reply length");
		FUZZ_CHECK(r->reply[0] == 1 && 8 + ((size_t)r->reply[4] << 8 |
		    r->reply[5]) == r->replylen, "reply layout");
	}
}

static void
raw(struct in *in)
{
	struct sb_fcgi_in r;
	uint8_t		*buf;
	size_t		 have = 0, used, step, total = in->n;
	enum sb_fcgi_rc	 rc;

	if ((buf = malloc(total + 1)) == NULL)
		abort();
	sb_fcgi_in_init(&r, CAP);
	step = take(in) + 1;
	while (in->n > 0 || have > 0) {
		size_t n = in->n < step ? in->n : step;

		memcpy(buf + have, in->p, n);
		in->p += n;
		in->n -= n;
		have += n;
		rc = sb_fcgi_in_feed(&r, buf, have, &used);
		FUZZ_CHECK(used <= have, "took %zu of %zu", used, have);
		check_result(&r, rc);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (rc == SB_FCGI_BAD)
			break;
		if (rc == SB_FCGI_REQUEST)
			sb_fcgi_in_next(&r);
		else if (rc == SB_FCGI_MORE && n == 0)
			break;
	}
	sb_fcgi_in_free(&r);
	free(buf);
}

static void
described(struct in *in)
{
	static struct out o;
	static uint8_t	 params[70000], body[8000];
	struct sb_fcgi_in r;
	char		 names[32][16], values[32][300];
	size_t		 np, i, k, pl = 0, bl, vlen, pad, rmax, step, at, used;
	enum sb_fcgi_rc	 rc = SB_FCGI_MORE;
	unsigned	 id;

	o.n = 0;
	id = take(in) << 8 | take(in);
	if (id == 0)
		id = 1;
	np = take(in) % 32;
	for (i = 0; i < np; i++) {
		/* A name of 1..15 letters, a value of any bytes but NUL. */
		k = take(in) % 15 + 1;
		for (size_t j = 0; j < k; j++)
			names[i][j] = (char)('A' + take(in) % 26);
		names[i][k] = '\0';
		vlen = (take(in) << 1) % 300;
		for (size_t j = 0; j < vlen; j++) {
			unsigned c = take(in);

			values[i][j] = (char)(c == 0 ? 'v' : c);
		}
		values[i][vlen] = '\0';
		pl += put_len(params + pl, k, take(in) & 1);
		pl += put_len(params + pl, vlen, take(in) & 1);
		memcpy(params + pl, names[i], k);
		pl += k;
		memcpy(params + pl, values[i], vlen);
		pl += vlen;
	}
	bl = (take(in) << 5 | take(in)) % sizeof(body);
	for (i = 0; i < bl; i++)
		body[i] = (uint8_t)take(in);
	pad = take(in) % 8;
	rmax = take(in) % 200 + 1;
	step = take(in) % 64 + 1;

	{
		uint8_t b[8] = { 0, 1, 1 };

		put_rec(&o, 1, id, b, 8, 0);
	}
	put_stream(&o, 4, id, params, pl, rmax, pad);
	put_stream(&o, 5, id, body, bl, rmax, pad);

	sb_fcgi_in_init(&r, CAP);
	for (at = 0, used = 0; rc == SB_FCGI_MORE && at < o.n;) {
		size_t end = o.n - at < step ? o.n : at + step, took;

		/* The reader sees from the first byte it has not taken. */
		rc = sb_fcgi_in_feed(&r, o.b + used, end - used, &took);
		used += took;
		at = end;
	}
	FUZZ_CHECK(rc == SB_FCGI_REQUEST, "the request was read (rc %d)",
	    (int)rc);
	FUZZ_CHECK(used == o.n, "took %zu of %zu bytes", used, o.n);
	FUZZ_CHECK(r.req.id == id && r.req.keep, "id and keep");
	for (i = 0; i < np; i++) {
		FUZZ_CHECK(r.req.envp[i] != NULL, "parameter %zu missing", i);
		k = strlen(names[i]);
		FUZZ_CHECK(strncmp(r.req.envp[i], names[i], k) == 0 &&
		    r.req.envp[i][k] == '=' &&
		    strcmp(r.req.envp[i] + k + 1, values[i]) == 0,
		    "parameter %zu: %s", i, r.req.envp[i]);
	}
	FUZZ_CHECK(r.req.envp[np] == NULL, "no parameter more");
	if (bl > CAP)
		FUZZ_CHECK(r.req.in_big, "a body past the cap is said so");
	else
		FUZZ_CHECK(!r.req.in_big && r.req.inlen == bl &&
		    memcmp(r.req.in, body, bl) == 0, "the body back");
	sb_fcgi_in_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in	 in = { data, size };

	if (size == 0)
		return 0;
	if (take(&in) & 1)
		described(&in);
	else
		raw(&in);
	return 0;
}
