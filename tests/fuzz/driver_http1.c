/*
 * driver_http1.c: sb_http1_read(), the reader of the sentc API's answers.
 *
 * Input: one byte for how the answer arrives (a piece size, whether the
 * connection closes after it), one for the longest body taken, then the
 * bytes sentc sends. Read whole, and in pieces of that size, the answer
 * must read the same; a body read lies inside the buffer and is no longer
 * than asked; a status read is a final one; an unchunked body is the
 * input's own bytes; nothing is read past the buffer (ASan).
 */
#include <strings.h>

#include "fuzz.h"
#include "sb_http1.h"

/* Does "chunked", in any case, occur in s[0..len)? */
static bool
says_chunked(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i + 7 <= len; i++)
		if (strncasecmp(s + i, "chunked", 7) == 0)
			return true;
	return false;
}

struct reading {
	enum sb_http1_rc rc;
	struct sb_http1	 p;
	char		*buf;
};

/* Feeds in[0..len) step bytes at a time, then the close if eof. */
static void
feed(struct reading *r, const char *in, size_t len, size_t step, bool eof,
    size_t max)
{
	size_t	 n = 0, i = 0, k;

	/* Exactly the bytes given, so that ASan sees any read past them. */
	r->buf = malloc(len ? len : 1);
	sb_http1_begin(&r->p, max);
	r->rc = SB_HTTP1_MORE;
	while (i < len && r->rc == SB_HTTP1_MORE) {
		k = len - i < step ? len - i : step;
		memcpy(r->buf + n, in + i, k);
		n += k;
		i += k;
		r->rc = sb_http1_read(&r->p, r->buf, &n, false);
		FUZZ_CHECK(n <= i, "the buffer grew: %zu > %zu", n, i);
	}
	if (r->rc == SB_HTTP1_MORE && eof)
		r->rc = sb_http1_read(&r->p, r->buf, &n, true);
	FUZZ_CHECK(!(eof && r->rc == SB_HTTP1_MORE), "more after the close");
	if (r->rc == SB_HTTP1_DONE) {
		FUZZ_CHECK(r->p.body + r->p.len <= n, "body past the buffer");
		FUZZ_CHECK(r->p.len <= max, "body of %zu, max %zu", r->p.len,
		    max);
		FUZZ_CHECK(r->p.status >= 200 && r->p.status <= 599,
		    "status %d", r->p.status);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[] = { 0, 1, 16, 64, 1024, 1 << 20 };
	struct reading	 whole, pieces;
	const char	*in = (const char *)data + 2;
	size_t		 len, step, max;
	bool		 eof;

	if (size < 2)
		return 0;
	step = 1 + data[0] % 64;
	eof = data[1] & 1;
	max = maxes[(data[1] >> 1) % (sizeof(maxes) / sizeof(maxes[0]))];
	len = size - 2;

	feed(&whole, in, len, len ? len : 1, eof, max);
	feed(&pieces, in, len, step, eof, max);
	FUZZ_CHECK(whole.rc == pieces.rc, "whole %d, in pieces of %zu %d",
	    (int)whole.rc, step, (int)pieces.rc);
	if (whole.rc == SB_HTTP1_DONE) {
		FUZZ_CHECK(whole.p.status == pieces.p.status, "status %d, %d",
		    whole.p.status, pieces.p.status);
		FUZZ_CHECK(whole.p.len == pieces.p.len &&
		    memcmp(whole.buf + whole.p.body, pieces.buf +
		    pieces.p.body, whole.p.len) == 0, "bodies differ");
		/* Not chunked: the body is the input's bytes after the head. */
		if (!says_chunked(in, whole.p.body))
			FUZZ_CHECK(memcmp(whole.buf + whole.p.body,
			    in + whole.p.body, whole.p.len) == 0,
			    "an unchunked body changed");
	}
	free(whole.buf);
	free(pieces.buf);
	return 0;
}
