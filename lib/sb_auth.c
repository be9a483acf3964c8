#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "extern.h"

enum sb_err
sb_bearer(const char *header, const char **tok, size_t *len)
{
	const char	*p;
	size_t		 n;

	if (header == NULL || strncasecmp(header, "Bearer", 6) != 0)
		return SB_ERR_JWT_MISSING;
	for (p = header + 6; *p == ' '; p++)
		continue;
	if (p == header + 6 || *p == '\0')
		return SB_ERR_JWT_MISSING;
	n = strlen(p);
	if (strchr(p, ' ') != NULL || strchr(p, '\t') != NULL)
		return SB_ERR_JWT_FORMAT;
	*tok = p;
	*len = n;
	return SB_OK;
}

/* ---- the cache of verified JWTs, shared by the program's workers ---- */

/*
 * A token's verdict in the cache: SB_OK with its claims (its signature
 * held, here or at sentc), or sentc's refusal.
 */
struct verdict {
	struct sb_jwt_claims	 claims;
	int32_t			 rc;
};

static struct sb_cache	*cache;

int
sb_jwt_cache_init(void)
{
	sb_cache_free(cache);
	cache = sb_cache_new((size_t)sb_cfg->jwt_cache_size,
	    sizeof(struct verdict));
	return cache == NULL ? -1 : 0;
}

/* The cache key of tok[0..len); -1 for a token that cannot be one. */
static int
token_key(const char *tok, size_t len, unsigned char *key)
{
	char		 copy[SB_JWT_MAX + 1];
	const char	*parts[1] = { copy };

	if (len == 0 || len > SB_JWT_MAX || memchr(tok, '\0', len) != NULL)
		return -1;
	memcpy(copy, tok, len);
	copy[len] = '\0';
	sb_cache_key(key, parts, 1);
	return 0;
}

enum sb_err
sb_jwt_check(const char *tok, size_t len, unsigned flags,
    struct sb_jwt_claims *out)
{
	unsigned char	 key[SB_CACHE_KEY];
	char		 kid[SB_KID_MAX + 1];
	struct verdict	 v;
	struct sb_jwt_claims c;
	int64_t		 now = sb_now();
	enum sb_err	 rc;

	if (token_key(tok, len, key) == -1)
		return SB_ERR_JWT_FORMAT;

	/* A cached token is one whose signature held; its times still count. */
	if (sb_cache_get(cache, key, now, &v, sizeof(v)) == (long)sizeof(v)) {
		sb_stats_add(SB_STAT_JWT_HIT, 1);
		if (v.rc != SB_OK)
			return (enum sb_err)v.rc;
		*out = v.claims;
		if (out->iat > sb_add_sat(now, sb_cfg->jwt_leeway))
			return SB_ERR_JWT_EXPIRED;
		return SB_OK;
	}
	sb_stats_add(SB_STAT_JWT_MISS, 1);
	rc = sb_jwt_verify(sb_cfg->jwt_keys, tok, len, now, sb_cfg->jwt_leeway,
	    flags, out);
	if (rc == SB_OK)
		sb_jwt_remember(tok, len, SB_OK, out, 0);
	/*
	 * No key here has its kid (a key with no id may have tried): sentc
	 * is to be asked, if it may be.
	 */
	if ((rc == SB_ERR_JWT_KEY || rc == SB_ERR_JWT_SIGNATURE) &&
	    sb_cfg->jwt_key_checks > 0 &&
	    sb_jwt_decode(tok, len, now, sb_cfg->jwt_leeway,
	    SB_JWT_ALLOW_EXPIRED, kid, sizeof(kid), &c) == SB_OK &&
	    !sb_jwt_keys_named(sb_cfg->jwt_keys, kid))
		rc = SB_ERR_JWT_UNCHECKED;
	return rc;
}

void
sb_jwt_remember(const char *tok, size_t len, enum sb_err rc,
    const struct sb_jwt_claims *c, int64_t until)
{
	unsigned char	 key[SB_CACHE_KEY];
	struct verdict	 v = { .rc = (int32_t)rc };

	if (token_key(tok, len, key) == -1)
		return;
	if (rc == SB_OK) {
		/* As a token verified here (sb_jwt_cache_until()). */
		if ((until = sb_jwt_cache_until(c, sb_now(),
		    sb_cfg->jwt_leeway)) == 0)
			return;
		v.claims = *c;
	}
	sb_cache_put(cache, key, 0, &v, sizeof(v), until);
}

void
sb_jwt_cache_stats(uint64_t *hits, uint64_t *misses)
{
	sb_cache_stats(cache, hits, misses);
}

enum sb_err
sb_auth_token(struct sb_req *req, const char *tok, size_t len,
    unsigned flags, struct sb_jwt_claims *who)
{
	enum sb_err	 e;

	/* Its kid names no key here: a key new in the dashboard? */
	if ((e = sb_jwt_check(tok, len, flags, who)) == SB_ERR_JWT_UNCHECKED)
		e = sb_keycheck(req, tok, len, flags, who);
	return e;
}

int
sb_auth_user(struct sb_req *req, unsigned flags)
{
	struct sb_jwt_claims	 who;
	const char	*hdr, *tok;
	size_t		 len;
	enum sb_err	 e;

	hdr = sb_req_header(req, "HTTP_AUTHORIZATION", &e);
	if (e == SB_OK)
		e = sb_bearer(hdr, &tok, &len);
	if (e == SB_OK)
		e = sb_auth_token(req, tok, len, flags, &who);
	if (e != SB_OK) {
		sb_reply_err(req, e, NULL);
		return -1;
	}
	memcpy(req->user, who.aud, sizeof(req->user));
	req->who = who;
	req->jwt = tok;
	return 0;
}

enum sb_err
sb_admin_check(const char *header)
{
	unsigned char	 md[SB_ADMIN_DIGEST_LEN];
	unsigned int	 mdlen;
	const char	*tok;
	size_t		 len;
	enum sb_err	 e;

	if (sb_cfg == NULL || !sb_cfg->admin_set)
		return SB_ERR_ADMIN_CLOSED;
	if (sb_bearer(header, &tok, &len) != SB_OK)
		return SB_ERR_ADMIN_AUTH;
	/* Digests of equal length: the time says nothing about the token. */
	if (EVP_Digest(tok, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		return SB_ERR_INTERNAL;
	e = CRYPTO_memcmp(md, sb_cfg->admin_digest, sizeof(md)) == 0 ?
	    SB_OK : SB_ERR_ADMIN_AUTH;
	sb_wipe(md, sizeof(md));
	return e;
}

int
sb_auth_admin(struct sb_req *req)
{
	const char	*hdr;
	enum sb_err	 e;

	/* A malformed header is no credential: 401 like a missing one. */
	hdr = sb_req_header(req, "HTTP_AUTHORIZATION", &e);
	if ((e = sb_admin_check(hdr)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return -1;
	}
	return 0;
}
