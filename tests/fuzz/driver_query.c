/*
 * driver_query.c: sb_query_get(), the query string of the item list.
 *
 * Input: a query string. Each name the routes read ("after", "limit")
 * and a few others are looked up with buffers of several sizes; an
 * independent decoder says what the answer must be (a name given more
 * than once is refused), and a value found must come back unchanged from
 * its own percent-encoding.
 */
#include "fuzz.h"
#include "extern.h"

static const char *const names[] = { "after", "limit", "a", "" };
static const size_t sizes[] = { 0, 1, 2, 16, 37, 256 };

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The answer by splitting on '&' and decoding in full. */
static int
oracle(const char *qs, const char *name, size_t bufsz, char *out,
    size_t outsz)
{
	const char	*p = NULL, *q = qs, *amp, *v;
	size_t		 nlen = strlen(name), n = 0, seen = 0;
	int		 hi, lo;

	if (bufsz == 0)		/* a caller's mistake, whatever the query */
		return -1;
	/* Every piece: how many are name=, and the first of them. */
	for (;;) {
		amp = strchr(q, '&');
		if (strncmp(q, name, nlen) == 0 && q[nlen] == '=' &&
		    seen++ == 0)
			p = q;
		if (amp == NULL)
			break;
		q = amp + 1;
	}
	if (seen == 0)
		return 0;
	if (seen > 1)
		return -1;
	for (v = p + nlen + 1; *v != '\0' && *v != '&'; v++) {
		if (n + 1 >= outsz)
			return -1;
		if (*v == '+')
			out[n++] = ' ';
		else if (*v != '%')
			out[n++] = *v;
		else if ((hi = hexval(v[1])) < 0 || (lo = hexval(v[2])) < 0)
			return -1;
		else {
			out[n++] = (char)(hi << 4 | lo);
			v += 2;
		}
	}
	out[n] = '\0';
	if (n + 1 > bufsz || !fuzz_printable(out, n))
		return -1;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	char		*qs = fuzz_cstr(data, size), *buf, *want, *enc, *again;
	size_t		 i, j, k, n, vlen;
	int		 rc, wrc;

	want = malloc(size + 2);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			buf = malloc(sizes[j] + 1);
			buf[sizes[j]] = 'Z';
			rc = sb_query_get(qs, names[i], buf, sizes[j]);
			wrc = oracle(qs, names[i], sizes[j], want, size + 2);
			FUZZ_CHECK(rc == wrc, "%s, %zu bytes: got %d, want %d",
			    names[i], sizes[j], rc, wrc);
			FUZZ_CHECK(buf[sizes[j]] == 'Z',
			    "wrote past a %zu-byte buffer", sizes[j]);
			if (rc != 1) {
				free(buf);
				continue;
			}
			vlen = strlen(buf);
			FUZZ_CHECK(vlen < sizes[j] && strcmp(buf, want) == 0,
			    "%s: value differs from the decoder's", names[i]);
			FUZZ_CHECK(fuzz_printable(buf, vlen),
			    "%s: a control character", names[i]);

			/* Round trip: every byte percent-encoded. */
			n = strlen(names[i]);
			enc = malloc(n + 1 + 3 * vlen + 1);
			memcpy(enc, names[i], n);
			enc[n++] = '=';
			for (k = 0; k < vlen; k++) {
				enc[n++] = '%';
				enc[n++] = hex[(unsigned char)buf[k] >> 4];
				enc[n++] = hex[(unsigned char)buf[k] & 15];
			}
			enc[n] = '\0';
			again = malloc(sizes[j]);
			FUZZ_CHECK(sb_query_get(enc, names[i], again,
			    sizes[j]) == 1 && strcmp(again, buf) == 0,
			    "%s: no round trip", names[i]);
			free(again);
			free(enc);
			free(buf);
		}
	free(want);
	free(qs);
	return 0;
}
