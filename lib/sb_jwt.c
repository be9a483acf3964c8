#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "extern.h"

#define POINT_LEN	97	/* 0x04 || X || Y on P-384 */
#define SIG_LEN		96	/* R || S */
#define PART_MAX	4096	/* decoded header or claims */
#define KEYS_MAX	16

struct key {
	char		 kid[SB_KID_MAX + 1];	/* "" for a key without id */
	EVP_PKEY	*pkey;
};

struct sb_jwt_keys {
	struct key	 keys[KEYS_MAX];
	size_t		 n;
	EVP_MD		*sha384;	/* fetched once */
};

/*
 * Builds a P-384 public key from the raw point and checks that the point
 * is on the curve. Returns NULL on any failure.
 */
static EVP_PKEY *
key_from_point(const unsigned char *pt, size_t len)
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL, *check = NULL;
	EVP_PKEY	*pkey = NULL;

	if (len != POINT_LEN || pt[0] != 0x04)
		return NULL;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "P-384", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, len) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check(check) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static bool
kid_valid(const char *s, size_t len)
{
	return len > 0 && len <= SB_KID_MAX && sb_printable(s, len) &&
	    memchr(s, ' ', len) == NULL && memchr(s, ',', len) == NULL;
}

struct sb_jwt_keys *
sb_jwt_keys_parse(const char *spec, const char *default_kid, char *err,
    size_t errlen)
{
	struct sb_jwt_keys	*ks;
	unsigned char		 pt[POINT_LEN + 3];
	const char		*p = spec, *tok, *colon, *kid, *b64;
	size_t			 toklen, kidlen, i;
	long			 n;

	if ((ks = calloc(1, sizeof(*ks))) == NULL ||
	    (ks->sha384 = EVP_MD_fetch(NULL, "SHA384", NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		sb_jwt_keys_free(ks);
		return NULL;
	}
	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		tok = p;
		while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		toklen = (size_t)(p - tok);

		if ((colon = memchr(tok, ':', toklen)) != NULL) {
			kid = tok;
			kidlen = (size_t)(colon - tok);
			b64 = colon + 1;
		} else {
			/* No id at all: the key verifies any kid. */
			kid = default_kid != NULL ? default_kid : "";
			kidlen = strlen(kid);
			b64 = tok;
		}
		if ((colon != NULL || kidlen > 0) && !kid_valid(kid, kidlen)) {
			snprintf(err, errlen, "SENTC_JWT_VERIFY_KEY: key %zu "
			    "has an invalid id", ks->n + 1);
			goto fail;
		}
		if (ks->n == KEYS_MAX) {
			snprintf(err, errlen, "SENTC_JWT_VERIFY_KEY: more than "
			    "%d keys", KEYS_MAX);
			goto fail;
		}
		for (i = 0; kidlen > 0 && i < ks->n; i++)
			if (strlen(ks->keys[i].kid) == kidlen &&
			    memcmp(ks->keys[i].kid, kid, kidlen) == 0) {
				snprintf(err, errlen, "SENTC_JWT_VERIFY_KEY: "
				    "key id %.*s is listed twice", (int)kidlen,
				    kid);
				goto fail;
			}
		n = sb_b64_decode(b64, (size_t)(tok + toklen - b64), pt,
		    sizeof(pt));
		if (n != POINT_LEN) {
			snprintf(err, errlen, "SENTC_JWT_VERIFY_KEY: key %zu is "
			    "not base64 of a raw P-384 point (97 bytes)",
			    ks->n + 1);
			goto fail;
		}
		if ((ks->keys[ks->n].pkey = key_from_point(pt, POINT_LEN)) ==
		    NULL) {
			snprintf(err, errlen, "SENTC_JWT_VERIFY_KEY: key %zu is "
			    "not a point on P-384", ks->n + 1);
			goto fail;
		}
		memcpy(ks->keys[ks->n].kid, kid, kidlen);
		ks->keys[ks->n].kid[kidlen] = '\0';
		ks->n++;
	}
	if (ks->n == 0) {
		snprintf(err, errlen, "SENTC_JWT_VERIFY_KEY holds no key");
		goto fail;
	}
	return ks;
fail:
	sb_jwt_keys_free(ks);
	return NULL;
}

void
sb_jwt_keys_free(struct sb_jwt_keys *ks)
{
	size_t	 i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->keys[i].pkey);
	EVP_MD_free(ks->sha384);
	free(ks);
}

size_t
sb_jwt_keys_count(const struct sb_jwt_keys *ks)
{
	return ks == NULL ? 0 : ks->n;
}

/* Decodes one base64url segment as a JSON object, or returns NULL. */
static json_object *
segment_json(const char *s, size_t len)
{
	unsigned char	 buf[PART_MAX];
	json_object	*obj;
	long		 n;

	if ((n = sb_b64url_decode(s, len, buf, sizeof(buf))) <= 0 ||
	    sb_json_parse_depth((const char *)buf, (size_t)n, 8, &obj) !=
	    SB_OK)
		return NULL;
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/* The key with id kid; never one without id. NULL if none. */
static const struct key *
key_by_kid(const struct sb_jwt_keys *ks, const char *kid)
{
	size_t	 i;

	for (i = 0; i < ks->n; i++)
		if (ks->keys[i].kid[0] != '\0' &&
		    strcmp(ks->keys[i].kid, kid) == 0)
			return &ks->keys[i];
	return NULL;
}

bool
sb_jwt_keys_named(const struct sb_jwt_keys *ks, const char *kid)
{
	return ks != NULL && key_by_kid(ks, kid) != NULL;
}

/*
 * Checks the header's alg and crit; on SB_OK, *kid is its kid (owned by
 * hdr), a string without NUL.
 */
static enum sb_err
header_kid(json_object *hdr, const char **kid)
{
	json_object	*alg, *k, *v;

	if (!json_object_object_get_ex(hdr, "alg", &alg) ||
	    !json_object_is_type(alg, json_type_string) ||
	    strcmp(json_object_get_string(alg), "ES384") != 0)
		return SB_ERR_JWT_ALG;
	/* No extension is understood, so none may be critical. */
	if (json_object_object_get_ex(hdr, "crit", &v))
		return SB_ERR_JWT_FORMAT;
	if (!json_object_object_get_ex(hdr, "kid", &k) ||
	    !json_object_is_type(k, json_type_string) ||
	    strlen(json_object_get_string(k)) !=
	    (size_t)json_object_get_string_len(k))
		return SB_ERR_JWT_KEY;
	*kid = json_object_get_string(k);
	return SB_OK;
}

/*
 * Checks the header; on SB_OK, *key is the key its kid names, or NULL
 * where none does but keys without id are there to try.
 */
static enum sb_err
check_header(const struct sb_jwt_keys *ks, json_object *hdr,
    const struct key **key)
{
	const char	*s;
	enum sb_err	 rc;
	size_t		 i;

	if ((rc = header_kid(hdr, &s)) != SB_OK)
		return rc;
	if ((*key = key_by_kid(ks, s)) != NULL)
		return SB_OK;
	for (i = 0; i < ks->n; i++)
		if (ks->keys[i].kid[0] == '\0')
			return SB_OK;
	return SB_ERR_JWT_KEY;
}

static enum sb_err
check_signature(const struct sb_jwt_keys *ks, const struct key *key,
    const char *input, size_t inlen, const char *sig64, size_t siglen)
{
	unsigned char	 raw[SIG_LEN + 3], *der = NULL;
	ECDSA_SIG	*sig = NULL;
	BIGNUM		*r = NULL, *s = NULL;
	EVP_MD_CTX	*md = NULL;
	int		 derlen;
	enum sb_err	 rc = SB_ERR_JWT_SIGNATURE;

	if (sb_b64url_decode(sig64, siglen, raw, sizeof(raw)) != SIG_LEN)
		return SB_ERR_JWT_SIGNATURE;
	if ((r = BN_bin2bn(raw, SIG_LEN / 2, NULL)) == NULL ||
	    (s = BN_bin2bn(raw + SIG_LEN / 2, SIG_LEN / 2, NULL)) == NULL ||
	    (sig = ECDSA_SIG_new()) == NULL) {
		BN_free(r);
		BN_free(s);
		return SB_ERR_INTERNAL;
	}
	ECDSA_SIG_set0(sig, r, s);
	if ((derlen = i2d_ECDSA_SIG(sig, &der)) <= 0) {
		rc = SB_ERR_INTERNAL;
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, ks->sha384, NULL, key->pkey) != 1) {
		rc = SB_ERR_INTERNAL;
		goto out;
	}
	if (EVP_DigestVerify(md, der, (size_t)derlen,
	    (const unsigned char *)input, inlen) == 1)
		rc = SB_OK;
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	return rc;
}

/* Copies a string claim that must be a short printable id. */
static bool
claim_id(json_object *claims, const char *name, char *out)
{
	json_object	*v;
	const char	*s;
	size_t		 len;

	if (!json_object_object_get_ex(claims, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > SB_CLAIM_MAX || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' ||
		    s[i] == '_'))
			return false;
	memcpy(out, s, len + 1);
	return true;
}

/* A time claim: 0 if absent, -1 if present but not a whole number. */
static int
claim_time(json_object *claims, const char *name, int64_t *out)
{
	json_object	*v;

	*out = 0;
	if (!json_object_object_get_ex(claims, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return *out > 0 ? 1 : -1;
}

static enum sb_err
check_claims(json_object *claims, int64_t now, long leeway, unsigned flags,
    struct sb_jwt_claims *out)
{
	json_object	*v;
	int64_t		 nbf;

	memset(out, 0, sizeof(*out));
	if (!claim_id(claims, "aud", out->aud) ||
	    !claim_id(claims, "sub", out->sub) ||
	    claim_time(claims, "exp", &out->exp) != 1 ||
	    claim_time(claims, "iat", &out->iat) == -1 ||
	    claim_time(claims, "nbf", &nbf) == -1)
		return SB_ERR_JWT_CLAIMS;
	if (json_object_object_get_ex(claims, "fresh", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return SB_ERR_JWT_CLAIMS;
		out->fresh = json_object_get_boolean(v);
	}
	/*
	 * exp, iat and nbf may be as large as int64_t goes (json-c clamps
	 * larger ones to INT64_MAX): no sum with them, and the sums with the
	 * clock held to int64_t's range.
	 */
	if (!(flags & SB_JWT_ALLOW_EXPIRED) &&
	    out->exp < sb_sub_sat(now, leeway))
		return SB_ERR_JWT_EXPIRED;
	if (out->iat > sb_add_sat(now, leeway) ||
	    nbf > sb_add_sat(now, leeway))
		return SB_ERR_JWT_EXPIRED;
	return SB_OK;
}

/*
 * Splits tok[0..len) into its three parts and decodes the first two.
 * Returns SB_OK with *hdr and *claims (the caller puts both) and *dot2
 * at the dot before the signature, or SB_ERR_JWT_FORMAT with neither.
 */
static enum sb_err
split(const char *tok, size_t len, json_object **hdr, json_object **claims,
    const char **dot2)
{
	const char	*dot1;

	*hdr = *claims = NULL;
	if (len == 0 || len > SB_JWT_MAX)
		return SB_ERR_JWT_FORMAT;
	if ((dot1 = memchr(tok, '.', len)) == NULL ||
	    (*dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - tok))) ==
	    NULL || memchr(*dot2 + 1, '.', len - (size_t)(*dot2 + 1 - tok)))
		return SB_ERR_JWT_FORMAT;
	if ((*hdr = segment_json(tok, (size_t)(dot1 - tok))) == NULL ||
	    (*claims = segment_json(dot1 + 1, (size_t)(*dot2 - dot1 - 1))) ==
	    NULL) {
		json_object_put(*hdr);
		*hdr = NULL;
		return SB_ERR_JWT_FORMAT;
	}
	return SB_OK;
}

enum sb_err
sb_jwt_decode(const char *tok, size_t len, int64_t now, long leeway,
    unsigned flags, char *kid, size_t kidsz, struct sb_jwt_claims *out)
{
	const char	*dot2, *k;
	json_object	*hdr, *claims;
	enum sb_err	 rc;

	if ((rc = split(tok, len, &hdr, &claims, &dot2)) != SB_OK)
		return rc;
	if ((rc = header_kid(hdr, &k)) == SB_OK &&
	    (strlen(k) >= kidsz || !kid_valid(k, strlen(k))))
		rc = SB_ERR_JWT_KEY;
	if (rc == SB_OK) {
		memcpy(kid, k, strlen(k) + 1);
		rc = check_claims(claims, now, leeway, flags, out);
	}
	json_object_put(hdr);
	json_object_put(claims);
	return rc;
}

enum sb_err
sb_jwt_verify(const struct sb_jwt_keys *ks, const char *tok, size_t len,
    int64_t now, long leeway, unsigned flags, struct sb_jwt_claims *out)
{
	const char	*dot2;
	const struct key *key;
	json_object	*hdr = NULL, *claims = NULL;
	enum sb_err	 rc;
	size_t		 i;

	if (ks == NULL)
		return SB_ERR_JWT_FORMAT;
	if ((rc = split(tok, len, &hdr, &claims, &dot2)) != SB_OK)
		return rc;
	if ((rc = check_header(ks, hdr, &key)) != SB_OK)
		goto out;
	/* Claims are trusted only once the signature holds. */
	if (key != NULL)
		rc = check_signature(ks, key, tok, (size_t)(dot2 - tok),
		    dot2 + 1, len - (size_t)(dot2 + 1 - tok));
	else
		/* No key has its kid: each one without id, in turn. */
		for (i = 0, rc = SB_ERR_JWT_SIGNATURE; i < ks->n &&
		    rc == SB_ERR_JWT_SIGNATURE; i++)
			if (ks->keys[i].kid[0] == '\0')
				rc = check_signature(ks, &ks->keys[i], tok,
				    (size_t)(dot2 - tok), dot2 + 1,
				    len - (size_t)(dot2 + 1 - tok));
	if (rc != SB_OK)
		goto out;
	rc = check_claims(claims, now, leeway, flags, out);
out:
	json_object_put(hdr);
	json_object_put(claims);
	return rc;
}

int64_t
sb_jwt_cache_until(const struct sb_jwt_claims *c, int64_t now, long leeway)
{
	int64_t	 until = sb_add_sat(sb_add_sat(c->exp, leeway), 1);

	if (until <= now)
		return 0;
	return until < sb_add_sat(now, SB_JWT_CACHE_MAX) ? until :
	    sb_add_sat(now, SB_JWT_CACHE_MAX);
}

bool
sb_jwt_shaped(const char *s, size_t len)
{
	size_t	 i, dots = 0;

	if (len == 0 || len > SB_JWT_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == '.')
			dots++;
		else if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return dots == 2;
}
