/*
 * sb_cookie.h: the refresh cookie of the SDK's cookie mode.
 *
 * The value is the sentc refresh token sealed with AES-256-GCM under
 * SENTC_BACKEND_COOKIE_KEY, base64url:
 *
 *	version (1) || nonce (12, random) || ciphertext || tag (16)
 *
 * The plaintext is the sealing time (8 bytes, big-endian seconds) and the
 * refresh token; the additional data is the version byte, the JWT's aud
 * and its sub, so that a cookie opens only for the user and device it was
 * made for. Several keys may be configured: the first seals, every one
 * opens, so a key can be rotated without logging anyone out.
 *
 * The cookie is HttpOnly, Secure, SameSite=Strict, with Path
 * SB_COOKIE_PATH: only the refresh route receives it.
 */
#ifndef SB_COOKIE_H
#define SB_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sb_error.h"
#include "sb_jwt.h"
#include "sb_request.h"

#define SB_COOKIE_PATH		"/backend/refresh"
#define SB_COOKIE_VERSION	1
#define SB_COOKIE_KEY_LEN	32	/* AES-256 */
#define SB_COOKIE_KEYS_MAX	8	/* keys one config may list */
#define SB_COOKIE_NAME_MAX	64
#define SB_REFRESH_TOKEN_MAX	1024	/* longest refresh token sealed */
#define SB_COOKIE_DUP_MAX	4	/* values of one name tried */
#define SB_COOKIE_SKEW		300	/* seconds a seal may lie ahead */

/* Bytes of a sealed value before base64url, and its longest encoding. */
#define SB_COOKIE_OVERHEAD	(1 + 12 + 8 + 16)
#define SB_COOKIE_VALUE_MAX	\
	(((SB_COOKIE_OVERHEAD + SB_REFRESH_TOKEN_MAX) * 4 + 2) / 3)

struct sb_cookie_keys;

/* A value within a Cookie header: not NUL-terminated. */
struct sb_span {
	const char	*p;
	size_t		 len;
};

/*
 * Parses SENTC_BACKEND_COOKIE_KEY: one or more keys, each standard
 * base64 of 32 bytes, separated by commas (white space around them is
 * ignored). Returns the set, NULL with *err empty for an empty spec (no
 * key configured), or NULL with a message in err that names the key's
 * position, never its value. Free with sb_cookie_keys_free(), which
 * wipes the keys.
 */
struct sb_cookie_keys *sb_cookie_keys_parse(const char *spec, char *err,
	    size_t errlen);
void	 sb_cookie_keys_free(struct sb_cookie_keys *);
size_t	 sb_cookie_keys_count(const struct sb_cookie_keys *);

/* True if name is a valid cookie name (RFC 6265 token), 1-64 bytes. */
int	 sb_cookie_name_valid(const char *name);

/*
 * Finds the values of the cookie name in a Cookie header's text
 * hdr[0..len) ("a=b; c=d"), in order, at most max of them, into vals
 * (pointing into hdr; surrounding double quotes removed). Pieces that
 * are not name=value, and values that are not RFC 6265 cookie-octets
 * (no white space, control, DQUOTE, comma, semicolon or backslash), are
 * skipped. Returns how many were found. Pure and bounded by len: the
 * fuzzers call it.
 */
size_t	 sb_cookie_find(const char *hdr, size_t len, const char *name,
	    struct sb_span *vals, size_t max);

/*
 * Seals token[0..toklen) for aud and sub at time now with the first key
 * into out (base64url, NUL-terminated; SB_COOKIE_VALUE_MAX + 1 bytes
 * suffice). Returns the length, or -1 if there is no key, the token is
 * empty, longer than SB_REFRESH_TOKEN_MAX or holds a control character,
 * out is too small, or the cipher fails.
 */
long	 sb_cookie_seal(const struct sb_cookie_keys *, int64_t now,
	    const char *aud, const char *sub, const char *token, size_t toklen,
	    char *out, size_t outsz);

/*
 * Opens value[0..vlen) with any of the keys for aud and sub at time now:
 * it must have been sealed at most max_age seconds ago. Writes the
 * token, NUL-terminated, to token (SB_REFRESH_TOKEN_MAX + 1 bytes
 * suffice). Returns SB_OK, or SB_ERR_COOKIE for anything else (bad
 * encoding or version, tampered, another user's or device's, too old,
 * sealed with a key no longer listed); nothing is written then. Pure:
 * the fuzzers call it.
 */
enum sb_err sb_cookie_open(const struct sb_cookie_keys *, int64_t now,
	    long max_age, const char *value, size_t vlen, const char *aud,
	    const char *sub, char *token, size_t tokensz);

/*
 * The refresh_token member of POST /backend/session's body obj: a string
 * of 1 to SB_REFRESH_TOKEN_MAX bytes without a control character (nor a
 * NUL), which is what sb_cookie_seal() takes. Returns SB_OK with *tok
 * (borrowed from obj) and *len, or SB_ERR_FIELD with *tok NULL and *len
 * 0. Pure: the fuzzers call it.
 */
enum sb_err sb_cookie_token(json_object *obj, const char **tok,
	    size_t *len);

/*
 * Writes the Set-Cookie value for name=value into out: Path
 * SB_COOKIE_PATH, Max-Age max_age (0 clears it), HttpOnly, Secure,
 * SameSite=Strict. Returns 0, or -1 if out is too small.
 */
int	 sb_cookie_format(char *out, size_t outsz, const char *name,
	    const char *value, long max_age);

/*
 * For routes, with the keys, name and Max-Age of sb_cfg:
 *
 * sb_cookie_ready() is 0 if a cookie key is configured; otherwise it
 * answers 503 (SB_ERR_COOKIE_CLOSED) and returns -1.
 *
 * sb_cookie_set() adds the Set-Cookie header that holds token, sealed
 * for who. Returns 0, or -1 once it has answered 500.
 *
 * sb_cookie_clear() adds the Set-Cookie header that removes the cookie.
 *
 * sb_cookie_get() opens the request's cookie for who into token
 * (SB_REFRESH_TOKEN_MAX + 1 bytes): the first value of the configured
 * name that opens counts. Returns SB_OK, SB_ERR_COOKIE (none, or none
 * that opens) or SB_ERR_HEADER (the Cookie header is malformed).
 */
int	 sb_cookie_ready(struct sb_req *);
int	 sb_cookie_set(struct sb_req *, const struct sb_jwt_claims *who,
	    const char *token, size_t toklen);
void	 sb_cookie_clear(struct sb_req *);
enum sb_err sb_cookie_get(struct sb_req *, const struct sb_jwt_claims *who,
	    char *token, size_t tokensz);

#endif
