/*
 * sb_http1.h: reads an HTTP/1.1 response, one piece at a time.
 *
 * The upstream client writes its requests itself and reads the answers
 * with this, on a connection libcurl made (DNS, TCP, a proxy's CONNECT,
 * TLS). It is strict: CRLF line ends, no line folding, a Content-Length
 * of digits only, chunked as the only transfer coding, never both, a head
 * of at most SB_HTTP1_HEAD_MAX bytes. Pure, for the fuzzers.
 *
 * The caller appends what arrives to one buffer and calls sb_http1_read()
 * after each piece, with the length so far; a chunked body is joined up in
 * place, so the length may shrink. Once done, the body is
 * buf[body..body + len), and bytes past the answer (the server sent more
 * than it was asked for) set close.
 */
#ifndef SB_HTTP1_H
#define SB_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_HTTP1_HEAD_MAX	16384	/* the status line and headers */
#define SB_HTTP1_LINE_MAX	1024	/* a chunk's size line, a trailer */

enum sb_http1_rc {
	SB_HTTP1_MORE,		/* read on */
	SB_HTTP1_DONE,
	SB_HTTP1_BAD,		/* not an answer this reader takes */
	SB_HTTP1_BIG,		/* the body is longer than max */
};

struct sb_http1 {
	size_t	 max;		/* the longest body taken */
	int	 status;
	bool	 close;		/* the connection ends with this answer */
	size_t	 body, len;
	/* Where the reading stands. */
	int	 st;
	size_t	 at;		/* the first byte not read yet */
	size_t	 line;		/* where the line being looked for starts */
	uint64_t left;		/* bytes still to come of the body or chunk */
};

/* Readies p for an answer at the start of the buffer. */
void		 sb_http1_begin(struct sb_http1 *p, size_t max);

/*
 * Reads on in buf[0..*n); eof: the connection closed after those bytes.
 * Returns SB_HTTP1_MORE until the answer is whole (never once eof).
 */
enum sb_http1_rc sb_http1_read(struct sb_http1 *p, char *buf, size_t *n,
		    bool eof);

#endif
