/*
 * sb_util.h: small validators and helpers that every other part uses.
 */
#ifndef SB_UTIL_H
#define SB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_ID_LEN	36	/* 8-4-4-4-12 hex digits and dashes */

/* True if s[0..len) holds no control character (and no NUL). */
bool	 sb_printable(const char *s, size_t len);

/*
 * True if s[0..len) is a text a user could have typed as a name: 1 to
 * max bytes, no NUL, no control character (C0, DEL, or C1 as UTF-8:
 * 0xC2 0x80..0x9F). UTF-8 validity is the JSON parser's to check.
 */
bool	 sb_valid_text(const char *s, size_t len, size_t max);

/* The value of the hex digit c (either case), or -1. */
int	 sb_hexval(int c);

/* Is c a token character (RFC 9110 tchar: header and cookie names)? */
bool	 sb_is_tchar(int c);

/* True if s[0..len) is UUID-shaped: 8-4-4-4-12 hex digits. */
bool	 sb_is_uuid(const char *s, size_t len);

/*
 * Parses a whole decimal number in [min, max]. Returns 0, or -1 for
 * anything else (empty, trailing characters, out of range).
 */
int	 sb_parse_long(const char *s, long min, long max, long *out);

/*
 * Reads a whole file of at most max bytes into a NUL-terminated buffer
 * that the caller frees. Returns 0, or -1 with errno (EFBIG if larger).
 */
int	 sb_read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Base64 (standard alphabet, padding required) and base64url (no
 * padding) decoding into out, of size outsz. Returns the decoded length,
 * or -1 on bad input or if out is too small.
 */
long	 sb_b64_decode(const char *in, size_t len, unsigned char *out,
	    size_t outsz);
long	 sb_b64url_decode(const char *in, size_t len, unsigned char *out,
	    size_t outsz);

/* Base64url without padding; returns the length, or -1 if too small. */
long	 sb_b64url_encode(const unsigned char *in, size_t len, char *out,
	    size_t outsz);

/*
 * Checked arithmetic, for every sum and product on a number that came
 * from outside: a claim, a config value, a header, a body, a row of the
 * store. sb_add_ok(a, b, &r), sb_sub_ok() and sb_mul_ok() store the
 * result in r and are true if the exact result fits r's type; false if
 * it does not (r then holds the result wrapped, which must not be used).
 * Any integer types, mixed: the check is on the exact value.
 */
#define sb_add_ok(a, b, r)	(!__builtin_add_overflow((a), (b), (r)))
#define sb_sub_ok(a, b, r)	(!__builtin_sub_overflow((a), (b), (r)))
#define sb_mul_ok(a, b, r)	(!__builtin_mul_overflow((a), (b), (r)))

/*
 * a + b and a - b held to [INT64_MIN, INT64_MAX]: for times (seconds or
 * milliseconds) that are only compared, where "later than any clock can
 * show" is the right reading of a sum too large to hold.
 */
int64_t	 sb_add_sat(int64_t a, int64_t b);
int64_t	 sb_sub_sat(int64_t a, int64_t b);

/* Overwrites memory that held a secret. */
void	 sb_wipe(void *p, size_t len);

/* Milliseconds of CLOCK_MONOTONIC; seconds of the wall clock. */
int64_t	 sb_now_ms(void);
int64_t	 sb_now(void);

#endif
