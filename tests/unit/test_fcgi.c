/*
 * test_fcgi.c: the FastCGI reader (sb_fcgi_in_feed) and writer
 * (sb_fcgi_frame), against records built here byte by byte from the
 * specification's layout.
 */
#include <sys/uio.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "extern.h"

/* A byte stream being built. */
struct stream {
	unsigned char	 b[300000];
	size_t		 n;
};

static void
rec(struct stream *s, int type, unsigned id, const void *c, size_t len,
    size_t pad)
{
	unsigned char	*h = s->b + s->n;

	assert_true(s->n + 8 + len + pad <= sizeof(s->b));
	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = (unsigned char)pad;
	h[7] = 0;
	memcpy(h + 8, c, len);
	memset(h + 8 + len, 0xee, pad);
	s->n += 8 + len + pad;
}

static void
begin(struct stream *s, unsigned id, int role, int flags)
{
	unsigned char	 b[8] = { (unsigned char)(role >> 8),
			    (unsigned char)role, (unsigned char)flags };

	rec(s, 1, id, b, 8, 0);
}

/* One name-value pair, with 4-byte lengths where long4 says. */
static size_t
pair(unsigned char *p, const char *n, const char *v, bool long4)
{
	size_t	 nl = strlen(n), vl = strlen(v), at = 0;

	if (long4) {
		p[at++] = (unsigned char)(0x80 | nl >> 24);
		p[at++] = (unsigned char)(nl >> 16);
		p[at++] = (unsigned char)(nl >> 8);
		p[at++] = (unsigned char)nl;
	} else
		p[at++] = (unsigned char)nl;
	if (long4 || vl > 127) {
		p[at++] = (unsigned char)(0x80 | vl >> 24);
		p[at++] = (unsigned char)(vl >> 16);
		p[at++] = (unsigned char)(vl >> 8);
		p[at++] = (unsigned char)vl;
	} else
		p[at++] = (unsigned char)vl;
	memcpy(p + at, n, nl);
	memcpy(p + at + nl, v, vl);
	return at + nl + vl;
}

/* A request as nginx sends it: params split across two records. */
static void
request(struct stream *s, unsigned id, const char *body, size_t pad)
{
	unsigned char	 p[4096];
	size_t		 n = 0, half;

	begin(s, id, 1, 1);
	n += pair(p + n, "REQUEST_METHOD", "POST", false);
	n += pair(p + n, "REQUEST_URI", "/api/v1/register?x=1", true);
	n += pair(p + n, "HTTP_EMPTY", "", false);
	half = n / 2;
	rec(s, 4, id, p, half, pad);
	rec(s, 4, id, p + half, n - half, 0);
	rec(s, 4, id, "", 0, 0);
	if (body != NULL && *body != '\0') {
		half = strlen(body) / 2;
		rec(s, 5, id, body, half, pad);
		rec(s, 5, id, body + half, strlen(body) - half, 0);
	}
	rec(s, 5, id, "", 0, 0);
}

/* Feeds in[0..len) in pieces of step bytes; the result of the last. */
static enum sb_fcgi_rc
feed_steps(struct sb_fcgi_in *r, const unsigned char *in, size_t len,
    size_t step, size_t *taken)
{
	static unsigned char buf[300000];
	size_t		 have = 0, at = 0, used;
	enum sb_fcgi_rc	 rc = SB_FCGI_MORE;

	*taken = 0;
	while (at < len || have > 0) {
		size_t n = len - at < step ? len - at : step;

		memcpy(buf + have, in + at, n);
		have += n;
		at += n;
		rc = sb_fcgi_in_feed(r, buf, have, &used);
		memmove(buf, buf + used, have - used);
		have -= used;
		*taken += used;
		if (rc != SB_FCGI_MORE || (n == 0 && have > 0))
			break;
	}
	return rc;
}

static void
test_request_whole_or_in_pieces(void **state)
{
	static struct stream s;
	static const size_t steps[] = { 1, 3, 7, 8, 9, 64, 300000 };
	struct sb_fcgi_in r;
	size_t		 i, taken;

	s.n = 0;
	request(&s, 1, "{\"a\":1}", 5);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		sb_fcgi_in_init(&r, 1024);
		assert_int_equal(feed_steps(&r, s.b, s.n, steps[i], &taken),
		    SB_FCGI_REQUEST);
		assert_int_equal(taken, s.n);
		assert_int_equal(r.req.id, 1);
		assert_true(r.req.keep);
		assert_string_equal(sb_fcgi_param(r.req.envp,
		    "REQUEST_METHOD"), "POST");
		assert_string_equal(sb_fcgi_param(r.req.envp, "REQUEST_URI"),
		    "/api/v1/register?x=1");
		assert_string_equal(sb_fcgi_param(r.req.envp, "HTTP_EMPTY"), "");
		assert_null(sb_fcgi_param(r.req.envp, "REQUEST"));
		assert_null(sb_fcgi_param(r.req.envp, "HTTP"));
		assert_int_equal(r.req.inlen, 7);
		assert_string_equal(r.req.in, "{\"a\":1}");
		assert_false(r.req.in_big);
		sb_fcgi_in_free(&r);
	}
}

/* Two requests one after the other on a kept connection. */
static void
test_kept_connection(void **state)
{
	static struct stream s;
	struct sb_fcgi_in r;
	size_t		 used;

	s.n = 0;
	request(&s, 1, "first", 0);
	request(&s, 2, NULL, 0);
	sb_fcgi_in_init(&r, 1024);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used),
	    SB_FCGI_REQUEST);
	assert_string_equal(r.req.in, "first");
	/* Until it is answered, nothing more is read. */
	{
		size_t more;

		assert_int_equal(sb_fcgi_in_feed(&r, s.b + used, s.n - used,
		    &more), SB_FCGI_REQUEST);
		assert_int_equal(more, 0);
	}
	sb_fcgi_in_next(&r);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b + used, s.n - used, &used),
	    SB_FCGI_REQUEST);
	assert_int_equal(r.req.id, 2);
	assert_int_equal(r.req.inlen, 0);
	assert_string_equal(r.req.in, "");
	sb_fcgi_in_free(&r);
}

/* A body past the cap: read to its end, dropped, and said so. */
static void
test_body_cap(void **state)
{
	static struct stream s;
	static char	 body[5000];
	struct sb_fcgi_in r;
	size_t		 used;

	memset(body, 'x', sizeof(body) - 1);
	s.n = 0;
	request(&s, 7, body, 0);
	sb_fcgi_in_init(&r, 4999);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used),
	    SB_FCGI_REQUEST);
	assert_false(r.req.in_big);
	assert_int_equal(r.req.inlen, 4999);
	sb_fcgi_in_free(&r);

	sb_fcgi_in_init(&r, 4998);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used),
	    SB_FCGI_REQUEST);
	assert_int_equal(used, s.n);
	assert_true(r.req.in_big);
	assert_true(r.req.inlen <= 4998);
	sb_fcgi_in_free(&r);
}

/* The management record and the refusals the specification names. */
static void
test_replies(void **state)
{
	static struct stream s;
	struct sb_fcgi_in r;
	unsigned char	 p[256];
	size_t		 n = 0, used;

	/* GET_VALUES: FCGI_MPXS_CONNS is 0, an unknown name is left out. */
	n += pair(p + n, "FCGI_MPXS_CONNS", "", false);
	n += pair(p + n, "FCGI_NOPE", "", false);
	s.n = 0;
	rec(&s, 9, 0, p, n, 0);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_REPLY);
	assert_int_equal(r.reply[1], 10);
	assert_int_equal(r.replylen, 8 + 2 + 15 + 1);
	assert_memory_equal(r.reply + 10, "FCGI_MPXS_CONNS0", 16);
	sb_fcgi_in_free(&r);

	/* A management record of a type unknown: UNKNOWN_TYPE. */
	s.n = 0;
	rec(&s, 42, 0, "", 0, 0);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_REPLY);
	assert_int_equal(r.reply[1], 11);
	assert_int_equal(r.reply[8], 42);
	sb_fcgi_in_free(&r);

	/* Another role: END_REQUEST, FCGI_UNKNOWN_ROLE. */
	s.n = 0;
	begin(&s, 3, 2, 0);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_REPLY);
	assert_int_equal(r.reply[1], 3);
	assert_int_equal(r.reply[3], 3);
	assert_int_equal(r.reply[12], 3);
	sb_fcgi_in_free(&r);

	/* A second request while one is being read: FCGI_CANT_MPX_CONN. */
	s.n = 0;
	begin(&s, 1, 1, 1);
	begin(&s, 2, 1, 1);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_REPLY);
	assert_int_equal(r.reply[3], 2);
	assert_int_equal(r.reply[12], 1);
	sb_fcgi_in_free(&r);

	/* ABORT_REQUEST of the request being read: it ends, answered. */
	s.n = 0;
	begin(&s, 5, 1, 1);
	rec(&s, 2, 5, "", 0, 0);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_REPLY);
	assert_int_equal(r.reply[1], 3);
	assert_int_equal(r.reply[3], 5);
	assert_int_equal(r.reply[12], 0);
	sb_fcgi_in_free(&r);
}

/* What closes the connection: a protocol this side does not follow. */
static void
test_bad(void **state)
{
	static struct stream s;
	struct sb_fcgi_in r;
	unsigned char	 p[64];
	size_t		 used, n;

	/* Version 2. */
	s.n = 0;
	begin(&s, 1, 1, 0);
	s.b[0] = 2;
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_BAD);
	sb_fcgi_in_free(&r);

	/* PARAMS after their end. */
	s.n = 0;
	begin(&s, 1, 1, 0);
	rec(&s, 4, 1, "", 0, 0);
	n = pair(p, "A", "b", false);
	rec(&s, 4, 1, p, n, 0);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_BAD);
	sb_fcgi_in_free(&r);

	/* STDIN before the end of PARAMS. */
	s.n = 0;
	begin(&s, 1, 1, 0);
	rec(&s, 5, 1, "x", 1, 0);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_BAD);
	sb_fcgi_in_free(&r);

	/* A pair whose lengths run past the parameters. */
	s.n = 0;
	begin(&s, 1, 1, 0);
	p[0] = 5;
	p[1] = 100;
	memcpy(p + 2, "ABCDEfgh", 8);
	rec(&s, 4, 1, p, 10, 0);
	rec(&s, 4, 1, "", 0, 0);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_BAD);
	sb_fcgi_in_free(&r);

	/* A name with an '=' (it would read as another parameter). */
	s.n = 0;
	begin(&s, 1, 1, 0);
	n = pair(p, "A=B", "c", false);
	rec(&s, 4, 1, p, n, 0);
	rec(&s, 4, 1, "", 0, 0);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used), SB_FCGI_BAD);
	sb_fcgi_in_free(&r);

	/* Records of another request id are ignored, as specified. */
	s.n = 0;
	begin(&s, 1, 1, 0);
	rec(&s, 5, 9, "zz", 2, 0);
	rec(&s, 4, 1, "", 0, 0);
	rec(&s, 5, 1, "", 0, 0);
	sb_fcgi_in_init(&r, 16);
	assert_int_equal(sb_fcgi_in_feed(&r, s.b, s.n, &used),
	    SB_FCGI_REQUEST);
	assert_int_equal(r.req.inlen, 0);
	sb_fcgi_in_free(&r);
}

/* The answer in STDOUT records of at most 65535 bytes, then the end. */
static void
test_frame(void **state)
{
	static char	 out[140000];
	unsigned char	 hdrs[16][8];
	struct iovec	 iov[32];
	size_t		 n, i, total = 0, content = 0;

	memset(out, 'o', sizeof(out));
	n = sb_fcgi_frame(0x1234, out, sizeof(out), hdrs, 16, iov);
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	/* Three records of content, the empty one, END_REQUEST and body. */
	assert_int_equal(n, 3 * 2 + 1 + 2);
	for (i = 0; i + 1 < 6; i += 2) {
		const unsigned char *h = iov[i].iov_base;
		size_t len = (size_t)h[4] << 8 | h[5];

		assert_int_equal(h[0], 1);
		assert_int_equal(h[1], 6);
		assert_int_equal(h[2], 0x12);
		assert_int_equal(h[3], 0x34);
		assert_int_equal(len, iov[i + 1].iov_len);
		assert_true(len <= 65535);
		content += len;
	}
	assert_int_equal(content, sizeof(out));
	assert_int_equal(total, sizeof(out) + 5 * 8 + 8);
	assert_int_equal(((const unsigned char *)iov[7].iov_base)[1], 3);

	/* No room for the headers: nothing. */
	assert_int_equal(sb_fcgi_frame(1, out, sizeof(out), hdrs, 3, iov), 0);
	/* An empty answer: the empty STDOUT and the end. */
	assert_int_equal(sb_fcgi_frame(1, out, 0, hdrs, 16, iov), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_whole_or_in_pieces),
		cmocka_unit_test(test_kept_connection),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
