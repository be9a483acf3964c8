/*
 * test_http1.c: sb_http1_read, the reader of the sentc API's answers.
 * Each answer of the table is fed whole, a byte at a time, and cut in two
 * at every place, and must read the same each way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb_http1.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX		64	/* the longest body the table's reader takes */

enum { MORE = SB_HTTP1_MORE, DONE = SB_HTTP1_DONE, BAD = SB_HTTP1_BAD,
    BIG = SB_HTTP1_BIG };

static const struct row {
	const char	*in;
	bool		 eof;	/* the connection closes after in */
	int		 rc;
	int		 status;
	const char	*body;
	bool		 close;
} rows[] = {
	/* Read. */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, DONE,
	  200, "hello", false },
	{ "HTTP/1.1 200 OK\r\ncontent-length:5\r\n\r\nhello", false, DONE,
	  200, "hello", false },
	{ "HTTP/1.1 404 Not Found\r\nContent-Length:  2 \t\r\n"
	  "Content-Type: application/json\r\n\r\n{}", false, DONE, 404, "{}",
	  false },
	{ "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", false, DONE, 200, "",
	  false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n"
	  "{}", false, DONE, 200, "{}", false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "5\r\nhello\r\n6;ext=\"a b\"\r\n world\r\nA \r\n0123456789\r\n"
	  "0\r\nX-Trailer: 1\r\n\r\n", false, DONE, 200,
	  "hello world0123456789", false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
	  false, DONE, 200, "", false },
	{ "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n"
	  "{}", false, DONE, 200, "{}", true },
	{ "HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\n"
	  "Content-Length: 2\r\n\r\n{}", false, DONE, 200, "{}", true },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", false, DONE, 200,
	  "{}", true },
	{ "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n"
	  "\r\n{}", false, DONE, 200, "{}", false },
	{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
	  "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}", false, DONE,
	  201, "{}", false },
	{ "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", false, DONE,
	  204, "", false },
	{ "HTTP/1.1 304 Not Modified\r\n\r\n", false, DONE, 304, "", false },
	/* A body to the connection's end. */
	{ "HTTP/1.1 200 OK\r\n\r\nabc", true, DONE, 200, "abc", true },
	{ "HTTP/1.1 200 OK\r\n\r\n", true, DONE, 200, "", true },
	/* More than asked for: read, and the connection not kept. */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1", false,
	  DONE, 200, "{}", true },
	/* Not whole yet, or cut short. */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, MORE, 0,
	  NULL, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", true, BAD, 0,
	  NULL, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", true, BAD, 0, NULL,
	  false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
	  true, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", true,
	  BAD, 0, NULL, false },
	{ "", true, BAD, 0, NULL, false },
	/* Not HTTP/1.1 as this reader takes it. */
	{ "HTTP/1.1 200 OK\nContent-Length: 0\n\n", true, BAD, 0, NULL, false },
	{ "HTTP/2 200\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.2 200 OK\r\n\r\n", false, BAD, 0, NULL, false },
	{ "http/1.1 200 OK\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 99 OK\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 600 OK\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 2000 OK\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1  200 OK\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 O\x01K\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", false, BAD, 0, NULL,
	  false },
	{ "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", false,
	  BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", false, BAD, 0,
	  NULL, false },
	{ "HTTP/1.1 200 OK\r\n: x\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nX-A\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, BAD, 0,
	  NULL, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", false, BAD, 0,
	  NULL, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n", false, BAD, 0,
	  NULL, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", false, BAD, 0, NULL,
	  false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	  false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, BAD, 0, NULL,
	  false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, BAD, 0,
	  NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false,
	  BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	  false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false,
	  BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", false,
	  BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", false,
	  BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "000000000000000001\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "2\r\n{}XX0\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "2;\x01\r\n{}\r\n0\r\n\r\n", false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "0\r\nbad trailer\r\n\r\n", false, BAD, 0, NULL, false },
	/* Longer than the reader takes (MAX, 64). */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n", false, BIG, 0, NULL,
	  false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\n",
	  false, BIG, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999\r\n\r\n",
	  false, BAD, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "20\r\n0123456789abcdef0123456789abcdef\r\n"
	  "21\r\n", false, BIG, 0, NULL, false },
	{ "HTTP/1.1 200 OK\r\n\r\n"
	  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef!",
	  true, BIG, 0, NULL, false },
};

/*
 * Feeds in[0..len) step bytes at a time, then the end of the connection
 * if eof, as the client does; the first answer other than MORE ends it.
 */
static int
feed(struct sb_http1 *p, char *buf, const char *in, size_t len,
    size_t step, bool eof)
{
	size_t	 n = 0, i = 0, k;
	int	 rc = MORE;

	sb_http1_begin(p, MAX);
	while (i < len && rc == MORE) {
		k = len - i < step ? len - i : step;
		memcpy(buf + n, in + i, k);
		n += k;
		i += k;
		rc = sb_http1_read(p, buf, &n, false);
		assert_true(n <= i);
		assert_true(rc != DONE || p->body + p->len <= n);
	}
	if (rc == MORE && eof)
		rc = sb_http1_read(p, buf, &n, true);
	return rc;
}

static void
check(const struct row *r, size_t i, const char *how, int rc,
    const struct sb_http1 *p, const char *buf)
{
	if (rc != r->rc || (rc == DONE && (p->status != r->status ||
	    p->len != strlen(r->body) ||
	    memcmp(buf + p->body, r->body, p->len) != 0)))
		fail_msg("row %zu (%s): rc %d (want %d), status %d, body "
		    "\"%.*s\"", i, how, rc, r->rc, p->status, (int)p->len,
		    buf + p->body);
}

static void
test_table(void **state)
{
	static char		 buf[1024];
	struct sb_http1		 p;
	const struct row	*r;
	char			 how[32];
	size_t			 i, len, cut;
	int			 rc;

	(void)state;
	for (i = 0; i < NELEM(rows); i++) {
		r = &rows[i];
		len = strlen(r->in);
		rc = feed(&p, buf, r->in, len, len ? len : 1, r->eof);
		check(r, i, "whole", rc, &p, buf);
		if (rc == DONE && p.close != r->close)
			fail_msg("row %zu: close %d", i, p.close);
		rc = feed(&p, buf, r->in, len, 1, r->eof);
		check(r, i, "a byte at a time", rc, &p, buf);
		for (cut = 1; cut < len; cut++) {
			/* Two pieces: the cut, then the rest. */
			sb_http1_begin(&p, MAX);
			memcpy(buf, r->in, cut);
			len = cut;
			rc = sb_http1_read(&p, buf, &len, false);
			if (rc == MORE) {
				memcpy(buf + len, r->in + cut,
				    strlen(r->in) - cut);
				len += strlen(r->in) - cut;
				rc = sb_http1_read(&p, buf, &len, false);
			}
			if (rc == MORE && r->eof)
				rc = sb_http1_read(&p, buf, &len, true);
			snprintf(how, sizeof(how), "cut at %zu", cut);
			check(r, i, how, rc, &p, buf);
			len = strlen(r->in);
		}
	}
}

/* The head's bound: one byte more than SB_HTTP1_HEAD_MAX is refused. */
static void
test_head_max(void **state)
{
	static char	 in[SB_HTTP1_HEAD_MAX + 64], buf[sizeof(in)];
	struct sb_http1	 p;
	size_t		 pre, fill;
	int		 more;

	(void)state;
	for (more = 0; more <= 1; more++) {
		pre = (size_t)snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 0\r\nX: ");
		/* Head with X's value filled to exactly the bound (+ more). */
		fill = SB_HTTP1_HEAD_MAX - pre - 4 + (size_t)more;
		memset(in + pre, 'a', fill);
		memcpy(in + pre + fill, "\r\n\r\n", 4);
		assert_int_equal(feed(&p, buf, in, pre + fill + 4,
		    pre + fill + 4, false), more ? BAD : DONE);
		assert_int_equal(feed(&p, buf, in, pre + fill + 4, 4096,
		    false), more ? BAD : DONE);
	}
	/* Never ending: refused once past the bound, not read on. */
	memset(in, 'a', sizeof(in));
	assert_int_equal(feed(&p, buf, in, sizeof(in), 1000, false), BAD);
}

/* A chunked body of many small chunks takes no more room than its data. */
static void
test_chunks_joined(void **state)
{
	static char	 buf[256];
	struct sb_http1	 p;
	const char	*head = "HTTP/1.1 200 OK\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n";
	size_t		 n, i, hl = strlen(head);
	int		 rc = MORE;

	(void)state;
	sb_http1_begin(&p, MAX);
	memcpy(buf, head, hl);
	n = hl;
	for (i = 0; i < MAX && rc == MORE; i++) {
		/* "1;pad\r\nX\r\n": 10 bytes for one of the body's. */
		memcpy(buf + n, "1;pad\r\nX\r\n", 10);
		n += 10;
		rc = sb_http1_read(&p, buf, &n, false);
		assert_int_equal(rc, MORE);
		assert_true(n <= hl + i + 1 + 10);
	}
	memcpy(buf + n, "0\r\n\r\n", 5);
	n += 5;
	assert_int_equal(sb_http1_read(&p, buf, &n, false), DONE);
	assert_int_equal(p.len, MAX);
	for (i = 0; i < MAX; i++)
		assert_int_equal(buf[p.body + i], 'X');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_head_max),
		cmocka_unit_test(test_chunks_joined),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
