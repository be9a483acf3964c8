/*
 * driver_query.c: sb_query_get(), the query string of the item list.
 *
 * Input: a query string. Each name the routes read ("after", "limit")
 * and a few others are looked up with buffers of several sizes; an
 * independent reading says what the answer must be (a name given more
 * than once is refused; the value decoded by libcurl), and a value found
 * must come back unchanged from its own percent-encoding.
 */
#include <ctype.h>

#include <curl/curl.h>

#include "fuzz.h"
#include "extern.h"

static const char *const names[] = { "after", "limit", "a", "" };
static const size_t sizes[] = { 0, 1, 2, 16, 37, 256 };

/*
 * The answer by splitting on '&' and decoding in full. The value is
 * decoded by libcurl (curl_easy_unescape(), with '+' first written as
 * "%20"); the rule that every '%' is followed by two hex digits is
 * checked with isxdigit(3).
 */
static int
oracle(const char *qs, const char *name, size_t bufsz, char *out,
    size_t outsz)
{
	const char	*p = NULL, *q = qs, *amp, *v, *vend;
	size_t		 nlen = strlen(name), seen = 0, k = 0;
	char		*plus, *dec;
	int		 declen;

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
	v = p + nlen + 1;
	vend = v + strcspn(v, "&");
	if ((plus = malloc(3 * (size_t)(vend - v) + 1)) == NULL)
		abort();
	for (q = v; q < vend; q++) {
		if (*q == '%' && (vend - q < 3 ||
		    !isxdigit((unsigned char)q[1]) ||
		    !isxdigit((unsigned char)q[2]))) {
			free(plus);
			return -1;
		}
		if (*q == '+') {
			memcpy(plus + k, "%20", 3);
			k += 3;
		} else
			plus[k++] = *q;
	}
	plus[k] = '\0';
	dec = curl_easy_unescape(NULL, plus, (int)k, &declen);
	free(plus);
	if (dec == NULL)
		abort();
	if ((size_t)declen + 1 > outsz) {
		curl_free(dec);
		return -1;
	}
	memcpy(out, dec, (size_t)declen);
	out[declen] = '\0';
	curl_free(dec);
	if ((size_t)declen + 1 > bufsz || !fuzz_printable(out, (size_t)declen))
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
