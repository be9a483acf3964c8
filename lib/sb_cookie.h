/*
 * sb_cookie.h: the refresh cookie of the SDK's cookie mode.
 *
 * The value is the sentc refresh token sealed with AES-256-GCM under
 * SENTC_BACKEND_COOKIE_KEY, base64url:
 *
 *	version (1) || nonce (12, random) || ciphertext || tag (16)
 *
 * Version 2, the one sealed: the plaintext is the sealing time (8 bytes,
 * big-endian seconds), the JWT's aud and its sub (each one length byte
 * and its bytes) and the refresh token; the additional data is the
 * version byte. A cookie opens for a refresh only when the aud and sub
 * inside are the JWT's, so that it serves only the user and device it
 * was made for; logout opens it without a JWT, to end its token.
 *
 * Version 1, opened but no longer sealed: the plaintext is the sealing
 * time and the token, the additional data the version byte, aud, NUL and
 * sub. It opens only with the JWT it was made for.
 *
 * Several keys may be configured: the first seals, every one opens, so a
 * key can be rotated without logging anyone out.
 *
 * The cookie is HttpOnly, Secure, SameSite=Strict, with Path
 * SB_COOKIE_PATH, which covers the refresh and the logout route. Version
 * 1 cookies were set with Path SB_COOKIE_OLD_PATH, which only the
 * refresh route receives: a refresh that uses one seals it again as
 * version 2 under SB_COOKIE_PATH, with its first sealing time, and clears
 * the old one.
 */
#ifndef SB_COOKIE_H
#define SB_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sb_error.h"
#include "sb_jwt.h"
#include "sb_request.h"

#define SB_COOKIE_PATH		"/backend"
#define SB_COOKIE_OLD_PATH	"/backend/refresh"	/* version 1's */
#define SB_COOKIE_VERSION	2	/* sealed */
#define SB_COOKIE_VERSION_1	1	/* opened only */
#define SB_COOKIE_KEY_LEN	32	/* AES-256 */
#define SB_COOKIE_KEYS_MAX	8	/* keys one config may list */
#define SB_COOKIE_NAME_MAX	64
#define SB_REFRESH_TOKEN_MAX	1024	/* longest refresh token sealed */
#define SB_COOKIE_SKEW		300	/* seconds a seal may lie ahead */

/*
 * Bytes of a sealed value before base64url, beside the token (the most
 * of them: aud and sub at their longest), and its longest encoding.
 */
#define SB_COOKIE_OVERHEAD	(1 + 12 + 8 + 2 + 2 * SB_CLAIM_MAX + 16)
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
 * Finds the next value of the cookie name in a Cookie header's text
 * hdr[0..len) ("a=b; c=d") from *pos (0 at first), into *val (pointing
 * into hdr; surrounding double quotes removed), and moves *pos past it.
 * Pieces that are not name=value, and values that are not RFC 6265
 * cookie-octets (no white space, control, DQUOTE, comma, semicolon or
 * backslash), are skipped. Returns true, or false once there is none
 * left. Pure and bounded by len: the fuzzers call it.
 */
bool	 sb_cookie_next(const char *hdr, size_t len, const char *name,
	    size_t *pos, struct sb_span *val);

/*
 * The values sb_cookie_next() finds, in order, at most max of them,
 * into vals. Returns how many were found.
 */
size_t	 sb_cookie_find(const char *hdr, size_t len, const char *name,
	    struct sb_span *vals, size_t max);

/*
 * Seals token[0..toklen) for aud and sub at time now with the first key,
 * as version SB_COOKIE_VERSION, into out (base64url, NUL-terminated;
 * SB_COOKIE_VALUE_MAX + 1 bytes suffice). Returns the length, or -1 if
 * there is no key, the token is empty, longer than SB_REFRESH_TOKEN_MAX
 * or holds a control character, aud or sub is empty or longer than
 * SB_CLAIM_MAX, out is too small, or the cipher fails.
 */
long	 sb_cookie_seal(const struct sb_cookie_keys *, int64_t now,
	    const char *aud, const char *sub, const char *token, size_t toklen,
	    char *out, size_t outsz);

/* What sb_cookie_open() found besides the token. */
struct sb_cookie_info {
	int		 version;	/* SB_COOKIE_VERSION or _VERSION_1 */
	int64_t		 sealed_at;	/* seconds */
	char		 aud[SB_CLAIM_MAX + 1];	/* sealed for */
	char		 sub[SB_CLAIM_MAX + 1];
};

/*
 * Opens value[0..vlen) with any of the keys for aud and sub at time now:
 * it must have been sealed for that very aud and sub, at most max_age
 * seconds ago and at most SB_COOKIE_SKEW seconds ahead. With aud and sub
 * NULL, a version 2 cookie opens whoever it was sealed for (a version 1
 * cookie cannot). Writes the token, NUL-terminated, to token
 * (SB_REFRESH_TOKEN_MAX + 1 bytes suffice), and info (if not NULL).
 * Returns SB_OK, or SB_ERR_COOKIE for anything else (bad encoding or
 * version, tampered, another user's or device's, too old, sealed with a
 * key no longer listed); nothing is written then. Pure: the fuzzers
 * call it.
 */
enum sb_err sb_cookie_open(const struct sb_cookie_keys *, int64_t now,
	    long max_age, const char *value, size_t vlen, const char *aud,
	    const char *sub, char *token, size_t tokensz,
	    struct sb_cookie_info *info);

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
 * Writes the Set-Cookie value for name=value into out: Path path,
 * Max-Age max_age (0 clears it), HttpOnly, Secure, SameSite=Strict.
 * Returns 0, or -1 if out is too small.
 */
int	 sb_cookie_format(char *out, size_t outsz, const char *name,
	    const char *value, const char *path, long max_age);

/*
 * For routes, with the keys, name and Max-Age of sb_cfg:
 *
 * sb_cookie_ready() is 0 if a cookie key is configured; otherwise it
 * answers 503 (SB_ERR_COOKIE_CLOSED) and returns -1.
 *
 * sb_cookie_set() adds the Set-Cookie header that holds token, sealed
 * for who now. Returns 0, or -1 once it has answered 500.
 *
 * sb_cookie_move() adds the Set-Cookie headers that hold token, sealed
 * for who at sealed_at (its first sealing: the login ends when it would
 * have), under SB_COOKIE_PATH, and that clear the cookie of
 * SB_COOKIE_OLD_PATH. Returns 0, or -1 (nothing added, nothing
 * answered) if the cookie has expired or cannot be made.
 *
 * sb_cookie_clear() adds the Set-Cookie headers that remove the cookie,
 * under SB_COOKIE_PATH and SB_COOKIE_OLD_PATH.
 *
 * sb_cookie_header() gives the request's Cookie header in *hdr and its
 * length in *len: SB_OK (*hdr NULL if there is none), or SB_ERR_HEADER
 * if it is malformed (sb_req_header()).
 */
int	 sb_cookie_ready(struct sb_req *);
int	 sb_cookie_set(struct sb_req *, const struct sb_jwt_claims *who,
	    const char *token, size_t toklen);
int	 sb_cookie_move(struct sb_req *, const struct sb_jwt_claims *who,
	    const char *token, size_t toklen, int64_t sealed_at);
void	 sb_cookie_clear(struct sb_req *);
enum sb_err sb_cookie_header(struct sb_req *, const char **hdr,
	    size_t *len);

#endif
