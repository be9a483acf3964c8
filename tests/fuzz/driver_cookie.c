/*
 * driver_cookie.c: sb_cookie_find(), the Cookie header, and
 * sb_cookie_name_valid(), the cookie's configured name.
 *
 * Input: byte 0 picks the name looked for (the default, a short one,
 * one that ends like another, or, with bit 7 set, the text up to the
 * first newline, if it is a valid name) and how many values may be
 * taken; the rest is the header, in a buffer of exactly its length, so
 * that a read past it is caught.
 *
 * An independent reading of the rule (pieces split at ';', white space
 * around them and around the '=' dropped, one pair of double quotes
 * around the value removed, a value of anything but RFC 6265
 * cookie-octets skipped) says which values must come back, in order,
 * from sb_cookie_find() (at most as many as asked) and from
 * sb_cookie_next() called until it finds no more (every one);
 * each lies inside the header, holds no separator (';', ',', '"', '\\'),
 * white space or control, and is preceded by its name and an '='. A
 * name is valid exactly when it is an RFC 6265 token of 1 to 64 bytes.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "extern.h"

#define VALS_MAX	8

static const char *const names[] = {
	"sentc_refresh", "a", "sentc_refresh_x", "refresh", "__Host-s",
};

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 2616's token: a CHAR that is neither a CTL nor a separator. */
static bool
name_oracle(const char *s, size_t len)
{
	static const char	 seps[] = "()<>@,;:\\\"/[]?={} \t";
	size_t			 i;

	if (len == 0 || len > SB_COOKIE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    memchr(seps, s[i], sizeof(seps) - 1) != NULL)
			return false;
	return true;
}

/* RFC 6265's cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E. */
static bool
octets(const char *s, size_t len)
{
	unsigned char	 c;
	size_t		 i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!(c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
		    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
		    (c >= 0x5d && c <= 0x7e)))
			return false;
	}
	return true;
}

/* The values of name in h[0..len), at most max, into want. */
static size_t
oracle(const char *h, size_t len, const char *name, struct sb_span *want,
    size_t max)
{
	size_t	 a = 0, b, e, eq, ne, vs, ve, n = 0;

	while (a < len && n < max) {
		for (b = a; b < len && h[b] != ';'; b++)
			continue;
		/* The piece is h[a..b); the next starts after the ';'. */
		for (e = b; e > a && is_ws(h[e - 1]); e--)
			continue;
		for (; a < e && is_ws(h[a]); a++)
			continue;
		for (eq = a; eq < e && h[eq] != '='; eq++)
			continue;
		if (eq < e) {
			for (ne = eq; ne > a && is_ws(h[ne - 1]); ne--)
				continue;
			if (ne - a == strlen(name) &&
			    memcmp(h + a, name, ne - a) == 0) {
				for (vs = eq + 1; vs < e && is_ws(h[vs]); vs++)
					continue;
				ve = e;
				if (ve - vs >= 2 && h[vs] == '"' &&
				    h[ve - 1] == '"')
					vs++, ve--;
				if (!octets(h + vs, ve - vs)) {
					a = b + 1;
					continue;
				}
				want[n].p = h + vs;
				want[n].len = ve - vs;
				n++;
			}
		}
		a = b + 1;
	}
	return n;
}

static void	 check_values(const char *, size_t, const char *,
		    const struct sb_span *, const struct sb_span *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_span	 got[VALS_MAX], want[VALS_MAX], v;
	struct sb_span	*all_got, *all_want;
	const char	*name, *nl, *h;
	char		*own = NULL, *hdr;
	size_t		 max, n, wn, nlen, pos;
	bool		 valid;

	if (size < 1)
		return 0;
	max = (size_t)(data[0] >> 4 & 7) + 1;
	if (data[0] & 0x08)
		max = 0;
	h = (const char *)data + 1;
	size--;
	if ((data[0] & 0x80) && (nl = memchr(h, '\n', size)) != NULL) {
		nlen = (size_t)(nl - h);
		own = fuzz_cstr((const uint8_t *)h, nlen);
		/* A NUL inside ends the name, as in any C string. */
		valid = sb_cookie_name_valid(own);
		FUZZ_CHECK(valid == name_oracle(own, strlen(own)),
		    "name \"%.80s\" valid: %d", own, valid);
		if (!valid) {
			free(own);
			return 0;
		}
		name = own;
		size -= nlen + 1;
		h = nl + 1;
	} else
		name = names[(data[0] & 7) % (sizeof(names) / sizeof(names[0]))];

	/* Exactly size bytes, no NUL after them. */
	if ((hdr = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(hdr, h, size);

	n = sb_cookie_find(hdr, size, name, got, max);
	wn = oracle(hdr, size, name, want, max);
	FUZZ_CHECK(n == wn, "%zu values, want %zu", n, wn);
	FUZZ_CHECK(n <= max, "%zu values, at most %zu asked", n, max);
	check_values(hdr, size, name, got, want, n);

	/* Every value, however many, one after the other. */
	all_want = calloc(size + 1, sizeof(*all_want));
	all_got = calloc(size + 1, sizeof(*all_got));
	if (all_want == NULL || all_got == NULL)
		abort();
	wn = oracle(hdr, size, name, all_want, size + 1);
	for (n = 0, pos = 0; n <= size && sb_cookie_next(hdr, size, name,
	    &pos, &all_got[n]); n++)
		FUZZ_CHECK(pos <= size, "position %zu past the header", pos);
	FUZZ_CHECK(n == wn, "%zu values one by one, want %zu", n, wn);
	FUZZ_CHECK(!sb_cookie_next(hdr, size, name, &pos, &v),
	    "a value after the last");
	check_values(hdr, size, name, all_got, all_want, n);
	free(all_want);
	free(all_got);
	free(hdr);
	free(own);
	return 0;
}

/* Checks the n values got against want, and where each lies. */
static void
check_values(const char *hdr, size_t size, const char *name,
    const struct sb_span *got, const struct sb_span *want, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		FUZZ_CHECK(got[i].p == want[i].p && got[i].len == want[i].len,
		    "value %zu at %td+%zu, want %td+%zu", i, got[i].p - hdr,
		    got[i].len, want[i].p - hdr, want[i].len);
		FUZZ_CHECK(got[i].p >= hdr && got[i].p + got[i].len <=
		    hdr + size, "value %zu outside the header", i);
		FUZZ_CHECK(octets(got[i].p, got[i].len), "value %zu holds "
		    "a separator, white space or a control", i);
		FUZZ_CHECK(got[i].p > hdr + strlen(name) &&
		    memchr(hdr, '=', (size_t)(got[i].p - hdr)) != NULL,
		    "value %zu has no name and '=' before it", i);
	}
}
