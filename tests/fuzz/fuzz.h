/*
 * fuzz.h: what every libFuzzer driver in tests/fuzz shares.
 *
 * A driver is one file, driver_NAME.c, defining LLVMFuzzerTestOneInput()
 * (and, if it needs set-up, LLVMFuzzerInitialize()). Its seed corpus is
 * tests/fuzz/corpus/driver_NAME/, its dictionary tests/fuzz/driver_NAME.dict.
 * The Makefile and tests/fuzz/run pick all three up by name.
 *
 * A driver checks what the parser promises about its result, not only
 * that it returns: FUZZ_CHECK() aborts (a crash to libFuzzer) with the
 * condition and a message when a promise is broken.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	 LLVMFuzzerInitialize(int *, char ***);

/*
 * A NUL-terminated copy of data[0..size) in a buffer of exactly size + 1
 * bytes, so that the sanitizer sees any read past it. Never NULL.
 */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* True if s[0..len) holds no byte below 0x20 and no DEL. */
static inline int
fuzz_printable(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* True if s (NUL-terminated) is a lower-case 8-4-4-4-12 UUID. */
static inline int
fuzz_lower_uuid(const char *s)
{
	size_t	 i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * base64url, decoded by OpenSSL (EVP_DecodeBlock(), of the standard
 * alphabet) to check the library against: the driver only maps the two
 * alphabets onto each other and fills the last group up with 'A's (zero
 * bits), whose bytes it then leaves off. Strict: no padding, no length of
 * the form 4k + 1, and the text must be exactly what OpenSSL's encoder
 * (EVP_EncodeBlock()) makes of the bytes, so that unused bits left set
 * are refused. Not strict: stops at the first '=', and a last lone
 * character (which holds no byte) and unused bits are ignored. Returns
 * the length, or -1.
 */
static inline long
fuzz_unb64url(const char *in, size_t len, unsigned char *out, size_t outsz,
    int strict)
{
	static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char	*eq;
	unsigned char	*std, *raw, *again;
	size_t		 i, quads, n;
	long		 rc = -1;

	if (!strict && (eq = memchr(in, '=', len)) != NULL)
		len = (size_t)(eq - in);
	for (i = 0; i < len; i++)
		if (in[i] == '\0' || memchr(url, in[i], sizeof(url) - 1) == NULL)
			return -1;
	if (len % 4 == 1) {
		if (strict)
			return -1;
		len--;
	}
	n = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
	if (n > outsz)
		return -1;
	quads = (len + 3) / 4;
	if ((std = malloc(quads * 4 + 1)) == NULL ||
	    (raw = malloc(quads * 3 + 1)) == NULL ||
	    (again = malloc(quads * 4 + 1)) == NULL)
		abort();
	for (i = 0; i < quads * 4; i++)
		std[i] = i >= len ? 'A' : in[i] == '-' ? '+' : in[i] == '_' ?
		    '/' : (unsigned char)in[i];
	std[i] = '\0';
	if (EVP_DecodeBlock(raw, std, (int)(quads * 4)) != (int)(quads * 3))
		goto out;
	if (strict) {
		EVP_EncodeBlock(again, raw, (int)n);
		if (memcmp(again, std, len) != 0)
			goto out;
	}
	memcpy(out, raw, n);
	rc = (long)n;
out:
	free(again);
	free(raw);
	free(std);
	return rc;
}

/*
 * Independent readings of JSON text, to hold the library's JSON reading
 * against (driver_body, driver_json).
 */
/* True if s[0..len) is well-formed UTF-8 (RFC 3629). */
static inline bool
fuzz_utf8_ok(const unsigned char *s, size_t len)
{
	size_t		 i = 0, n, k;
	unsigned long	 cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			n = 2, cp = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			n = 3, cp = s[i] & 0x0f;
		else if ((s[i] & 0xf8) == 0xf0)
			n = 4, cp = s[i] & 0x07;
		else
			return false;
		if (i + n > len)
			return false;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

/*
 * Steps over s[*i] if it is inside a string or opens one (*instr says
 * which, and is kept up to date). Returns true if it stepped.
 */
static inline bool
fuzz_in_string(const char *s, size_t *i, bool *instr)
{
	if (*instr) {
		if (s[*i] == '\\')
			(*i)++;
		else if (s[*i] == '"')
			*instr = false;
		return true;
	}
	if (s[*i] != '"')
		return false;
	*instr = true;
	return true;
}

/* Deepest nesting of [ and { outside strings. */
static inline int
fuzz_nesting(const char *s, size_t len)
{
	bool	 instr = false;
	int	 d = 0, max = 0;
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (fuzz_in_string(s, &i, &instr))
			continue;
		if (s[i] == '[' || s[i] == '{') {
			if (++d > max)
				max = d;
		} else if (s[i] == ']' || s[i] == '}')
			d--;
	}
	return max;
}

/*
 * True if every integer token outside strings fits in 64 bits (signed
 * when negative), so that json-c holds it unchanged.
 */
static inline bool
fuzz_ints_fit(const char *s, size_t len)
{
	char	 buf[64];
	bool	 instr = false, integer;
	size_t	 i, n;

	for (i = 0; i < len; i++) {
		if (fuzz_in_string(s, &i, &instr))
			continue;
		if (s[i] != '-' && (s[i] < '0' || s[i] > '9'))
			continue;
		integer = true;
		for (n = i; n < len && strchr("-+.0123456789eE", s[n]); n++)
			if (strchr(".eE", s[n]))
				integer = false;
		if (integer) {
			if (n - i >= sizeof(buf))
				return false;
			memcpy(buf, s + i, n - i);
			buf[n - i] = '\0';
			errno = 0;
			if (buf[0] == '-')
				(void)strtoll(buf, NULL, 10);
			else
				(void)strtoull(buf, NULL, 10);
			if (errno == ERANGE)
				return false;
		}
		i = n - 1;
	}
	return true;
}

#endif
