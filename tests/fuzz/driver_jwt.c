/*
 * driver_jwt.c: sb_jwt_verify(), a caller's JWT: splitting, base64url,
 * header, signature, claims.
 *
 * Input: byte 0 says how the rest is used. Bit 0 clear: the rest is a
 * token, verified as it is (the seeds are tokens signed with k1). Bit 0
 * set: the rest is a header and a claims text, split at the first
 * newline, which this driver encodes and signs, so that every header and
 * claim check is reached behind a valid signature: with k1 or k2 (in the
 * key set) or k3 (not), as bits 2-3 say. Bit 1: SB_JWT_ALLOW_EXPIRED.
 * Bits 4-5 pick the verifier's clock: NOW, INT64_MAX, INT64_MIN or 0;
 * bit 6 a leeway of LONG_MAX instead of LEEWAY.
 *
 * An accepted token names an ES384 key of the set by its kid, was signed
 * by that very key, stops verifying when one bit of its signature flips,
 * and carries a printable aud and sub of at most SB_CLAIM_MAX characters
 * and times that hold at the clock, reckoned here in 128 bits, where no
 * sum overflows; sb_jwt_cache_until() gives the time reckoned so. Each
 * token is also verified against a second set, k1 with its id and k2
 * without one (as the dashboard's .env gives a key): accepted there, it
 * has kid k1 and k1's signature, or another kid and k2's, as OpenSSL
 * finds on its own. sb_jwt_decode(), all but the signature, agrees: what
 * verifies decodes to the same claims and the header's kid; what it
 * refuses never verifies; a kid it gives is a short visible id. Keys
 * here are test keys, made for this driver and nothing else.
 */
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <limits.h>

#include "fuzz.h"
#include "extern.h"

#define NOW	1700000000LL
#define LEEWAY	10L
#define NKEYS	3	/* k1 and k2 are in the set, k3 is not */
#define SIG_LEN	96

static const char k1_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCP0bSYQcPH74llAT0d\n"
	"ZcUZ0v+gxin1QQLyGawt5IiUo5GLFRAojLDVhWggd6B5RuShZANiAAQuTfDmi4kl\n"
	"3heu21WtxzMDlXNbqgCQl4Q4S8bgWSxFdxTam9t2g6UtLjKOIZiZtyQOSVjMiyEC\n"
	"61UoYZQVXUbGMBPVCuhkq1on6TBPu8ksYN3ikhHkQSHotjwESQvKzPk=\n"
	"-----END PRIVATE KEY-----\n";

static const char k2_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBeAuoAFluhsjdAiHYP\n"
	"OSNmECQxgqjuX3sxHBQlLZ3J4AzJXG8Nfrvwx/hrmJLd+5ChZANiAARSfxFHWMX0\n"
	"fiHcSJjFXbqyC1mzm2MSgkAMo+Yw9l7id1+AEzGNrulHx9QyQquF5Eh/J2czxzpK\n"
	"YurF8BzVVrdl7rQJKylYVIIL6elXc1eI/I7KnXsE9RsCEU6iUzPS//U=\n"
	"-----END PRIVATE KEY-----\n";

static const char k3_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCGszIotXRRgKmCE/Yp\n"
	"5ImGQt3hfmHNT3koLd4OuRg9k+gsPcUif9MJcjC307LdtwWhZANiAAQDFu69xAmd\n"
	"mA/4dGqfpI61iu0ZaHXPye+pcxg7dNYD+uE5ds8IUqsj8Ms7Y7NU3YsuZabeJXht\n"
	"IOGtiCto97upXRPs9o1INdr/67KHPn1pahaLOp3u0HDk5OEZmfbw4TI=\n"
	"-----END PRIVATE KEY-----\n";

static const char *const pems[NKEYS] = { k1_pem, k2_pem, k3_pem };
static const char *const kids[NKEYS] = { "k1", "k2", "k3" };
static EVP_PKEY		*pkeys[NKEYS];
static struct sb_jwt_keys *keys;
static struct sb_jwt_keys *keys_any;	/* k1, and k2 without an id */

/* Base64url without padding into out (4 * len / 3 + 4 bytes). */
static size_t
b64url(const unsigned char *in, size_t len, char *out)
{
	size_t	 i, n;

	n = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		out[--n] = '\0';
	for (i = 0; i < n; i++)
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	return n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char	 pt[97];
	char		 spec[512], any[512], b64[160], err[256];
	size_t		 i, len, n = 0, m = 0;
	BIO		*bio;

	for (i = 0; i < NKEYS; i++) {
		if ((bio = BIO_new_mem_buf(pems[i], -1)) == NULL ||
		    (pkeys[i] = PEM_read_bio_PrivateKey(bio, NULL, NULL,
		    NULL)) == NULL)
			abort();
		BIO_free(bio);
		if (i == 2)
			break;
		if (EVP_PKEY_set_utf8_string_param(pkeys[i],
		    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
		    "uncompressed") != 1 ||
		    EVP_PKEY_get_octet_string_param(pkeys[i],
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) != 1 ||
		    len != sizeof(pt))
			abort();
		EVP_EncodeBlock((unsigned char *)b64, pt, (int)len);
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s:%s ",
		    kids[i], b64);
		m += (size_t)snprintf(any + m, sizeof(any) - m, "%s%s%s ",
		    i == 0 ? kids[i] : "", i == 0 ? ":" : "", b64);
	}
	if ((keys = sb_jwt_keys_parse(spec, NULL, err, sizeof(err))) == NULL ||
	    (keys_any = sb_jwt_keys_parse(any, NULL, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "driver_jwt: %s\n", err);
		abort();
	}
	return 0;
}

/* ES384 over in with pkey, as JOSE R || S into sig. */
static void
sign(EVP_PKEY *pkey, const char *in, size_t len, unsigned char *sig)
{
	unsigned char	 der[256];
	const unsigned char *p = der;
	size_t		 derlen = sizeof(der);
	EVP_MD_CTX	*md;
	ECDSA_SIG	*es;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, pkey) != 1 ||
	    EVP_DigestSign(md, der, &derlen, (const unsigned char *)in,
	    len) != 1 || (es = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		abort();
	BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, SIG_LEN / 2);
	BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + SIG_LEN / 2, SIG_LEN / 2);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
}

/* Header "." claims "." signature, from the texts, signed by key k. */
static char *
mint(const char *hdr, size_t hlen, const char *claims, size_t clen, int k,
    size_t *len)
{
	unsigned char	 sig[SIG_LEN];
	char		*tok;
	size_t		 n;

	if ((tok = malloc(4 * (hlen + clen + SIG_LEN) / 3 + 16)) == NULL)
		abort();
	n = b64url((const unsigned char *)hdr, hlen, tok);
	tok[n++] = '.';
	n += b64url((const unsigned char *)claims, clen, tok + n);
	sign(pkeys[k], tok, n, sig);
	tok[n++] = '.';
	n += b64url(sig, SIG_LEN, tok + n);
	tok[n] = '\0';
	*len = n;
	return tok;
}

/* Segment i (0, 1) of an accepted token, decoded and parsed. */
static json_object *
segment(const char *tok, size_t len, int i)
{
	const char	*p = tok, *end;
	unsigned char	*buf;
	json_object	*obj;
	long		 n;

	if (i == 1)
		p = (const char *)memchr(tok, '.', len) + 1;
	end = memchr(p, '.', len - (size_t)(p - tok));
	buf = malloc(len + 1);
	n = fuzz_unb64url(p, (size_t)(end - p), buf, len, 0);
	FUZZ_CHECK(n > 0, "segment %d of an accepted token is not base64url",
	    i);
	buf[n] = '\0';
	obj = json_tokener_parse((char *)buf);
	FUZZ_CHECK(obj != NULL && json_object_is_type(obj, json_type_object),
	    "segment %d of an accepted token is not a JSON object", i);
	free(buf);
	return obj;
}

static const char *
member(json_object *obj, const char *name)
{
	json_object	*v;

	if (!json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void
claim_ok(const char *what, const char *s)
{
	size_t	 i, len = strnlen(s, SB_CLAIM_MAX + 1);

	FUZZ_CHECK(len >= 1 && len <= SB_CLAIM_MAX, "%s of %zu chars", what,
	    len);
	for (i = 0; i < len; i++)
		FUZZ_CHECK((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
		    || s[i] == '-' || s[i] == '_', "%s holds 0x%02x", what,
		    (unsigned char)s[i]);
}

/* The clock of bits 4-5 of the first byte. */
static int64_t
clock_of(uint8_t b)
{
	static const int64_t	 clocks[4] = { NOW, INT64_MAX, INT64_MIN, 0 };

	return clocks[(b >> 4) & 3];
}

/*
 * Until when the cache may serve c, reckoned in 128 bits: exp + leeway
 * + 1, at most SB_JWT_CACHE_MAX after now, within int64_t; 0 unless that
 * lies after now.
 */
static int64_t
until_128(const struct sb_jwt_claims *c, int64_t now, long leeway)
{
	__int128	 u = (__int128)c->exp + leeway + 1;

	if (u > (__int128)now + SB_JWT_CACHE_MAX)
		u = (__int128)now + SB_JWT_CACHE_MAX;
	if (u > INT64_MAX)
		u = INT64_MAX;
	return u > now ? (int64_t)u : 0;
}

/* What an accepted token must be. */
static void
accepted(const char *tok, size_t len, unsigned flags, int signer,
    const struct sb_jwt_claims *c, int64_t now, long leeway)
{
	struct sb_jwt_claims	 again;
	json_object		*hdr, *claims, *v;
	const char		*alg, *kid, *dot;
	unsigned char		 sig[SIG_LEN + 4];
	char			*bad;
	size_t			 i, k;

	claim_ok("aud", c->aud);
	claim_ok("sub", c->sub);
	FUZZ_CHECK(c->exp > 0, "exp %lld", (long long)c->exp);
	if (!(flags & SB_JWT_ALLOW_EXPIRED))
		FUZZ_CHECK((__int128)c->exp >= (__int128)now - leeway,
		    "expired: exp %lld at %lld", (long long)c->exp,
		    (long long)now);
	FUZZ_CHECK(c->iat >= 0 && (__int128)c->iat <= (__int128)now + leeway,
	    "iat %lld at %lld", (long long)c->iat, (long long)now);
	FUZZ_CHECK(sb_jwt_cache_until(c, now, leeway) ==
	    until_128(c, now, leeway), "cached until %lld, not %lld",
	    (long long)sb_jwt_cache_until(c, now, leeway),
	    (long long)until_128(c, now, leeway));
	if (!(flags & SB_JWT_ALLOW_EXPIRED) && now < INT64_MAX)
		FUZZ_CHECK(sb_jwt_cache_until(c, now, leeway) > now,
		    "a token accepted at %lld is not kept", (long long)now);

	hdr = segment(tok, len, 0);
	alg = member(hdr, "alg");
	kid = member(hdr, "kid");
	FUZZ_CHECK(alg != NULL && strcmp(alg, "ES384") == 0,
	    "accepted alg %s", alg != NULL ? alg : "(none)");
	FUZZ_CHECK(kid != NULL && (strcmp(kid, "k1") == 0 ||
	    strcmp(kid, "k2") == 0), "accepted kid %s",
	    kid != NULL ? kid : "(none)");
	if (signer >= 0)
		FUZZ_CHECK(strcmp(kid, kids[signer]) == 0,
		    "signed by %s, accepted as %s", kids[signer], kid);
	claims = segment(tok, len, 1);
	FUZZ_CHECK(member(claims, "aud") != NULL &&
	    strcmp(member(claims, "aud"), c->aud) == 0, "aud differs");
	FUZZ_CHECK(member(claims, "sub") != NULL &&
	    strcmp(member(claims, "sub"), c->sub) == 0, "sub differs");
	FUZZ_CHECK(json_object_object_get_ex(claims, "exp", &v) &&
	    json_object_get_int64(v) == c->exp, "exp differs");
	json_object_put(hdr);
	json_object_put(claims);

	/* Signature only: an expired token is accepted with the flag too. */
	FUZZ_CHECK(sb_jwt_verify(keys, tok, len, now, leeway,
	    flags | SB_JWT_ALLOW_EXPIRED, &again) == SB_OK &&
	    memcmp(&again, c, sizeof(again)) == 0,
	    "refused or changed with SB_JWT_ALLOW_EXPIRED");

	/* One bit of the signature flipped: refused. */
	dot = memrchr(tok, '.', len);
	k = len - (size_t)(dot + 1 - tok);
	FUZZ_CHECK(fuzz_unb64url(dot + 1, k, sig, sizeof(sig), 0) == SIG_LEN,
	    "signature of %zu characters accepted", k);
	for (i = 0; i < SIG_LEN; i += 47) {
		sig[i] ^= 0x10;
		bad = malloc(len + 8);
		memcpy(bad, tok, (size_t)(dot + 1 - tok));
		k = (size_t)(dot + 1 - tok);
		k += b64url(sig, SIG_LEN, bad + k);
		FUZZ_CHECK(sb_jwt_verify(keys, bad, k, now, leeway, flags,
		    &again) != SB_OK, "accepted with signature byte %zu "
		    "flipped", i);
		free(bad);
		sig[i] ^= 0x10;
	}
}

/* Does OpenSSL find tok's signature to be pkey's, ES384 over its head? */
static bool
signed_by(const char *tok, size_t len, EVP_PKEY *pkey)
{
	const char	*dot = memrchr(tok, '.', len);
	unsigned char	 sig[SIG_LEN + 4], *der = NULL;
	ECDSA_SIG	*es;
	EVP_MD_CTX	*md;
	int		 derlen;
	bool		 ok;

	if (dot == NULL || fuzz_unb64url(dot + 1, len - (size_t)(dot + 1 - tok),
	    sig, sizeof(sig), 0) != SIG_LEN)
		return false;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    ECDSA_SIG_set0(es, BN_bin2bn(sig, SIG_LEN / 2, NULL),
	    BN_bin2bn(sig + SIG_LEN / 2, SIG_LEN / 2, NULL)) != 1 ||
	    (derlen = i2d_ECDSA_SIG(es, &der)) <= 0 ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pkey) != 1)
		abort();
	ok = EVP_DigestVerify(md, der, (size_t)derlen,
	    (const unsigned char *)tok, (size_t)(dot - tok)) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	return ok;
}

/* What a token the set with a key without id accepted must be. */
static void
accepted_any(const char *tok, size_t len, int signer)
{
	json_object	*hdr = segment(tok, len, 0);
	const char	*kid = member(hdr, "kid");
	bool		 named = kid != NULL && strcmp(kid, "k1") == 0;

	FUZZ_CHECK(kid != NULL, "accepted without a kid");
	FUZZ_CHECK(signed_by(tok, len, pkeys[named ? 0 : 1]),
	    "kid %s accepted without %s's signature", kid,
	    named ? "k1" : "k2");
	if (signer >= 0)
		FUZZ_CHECK(signer == (named ? 0 : 1), "signed by %s, accepted "
		    "with kid %s", kids[signer], kid);
	json_object_put(hdr);
}

/* sb_jwt_decode() against sb_jwt_verify()'s verdict e (and claims c). */
static void
decoded(const char *tok, size_t len, unsigned flags, enum sb_err e,
    const struct sb_jwt_claims *c, int64_t now, long leeway)
{
	struct sb_jwt_claims	 d;
	json_object		*hdr;
	char			 kid[SB_KID_MAX + 1];
	enum sb_err		 de;
	size_t			 i, n;

	memset(kid, 0x5a, sizeof(kid));
	de = sb_jwt_decode(tok, len, now, leeway, flags, kid, sizeof(kid), &d);
	FUZZ_CHECK(de == SB_OK || (de >= SB_ERR_JWT_FORMAT &&
	    de <= SB_ERR_JWT_CLAIMS && de != SB_ERR_JWT_SIGNATURE),
	    "decode error %d", (int)de);
	if (e == SB_OK) {
		FUZZ_CHECK(de == SB_OK, "verified, but decode says %d", (int)de);
		FUZZ_CHECK(memcmp(&d, c, sizeof(d)) == 0, "claims differ");
		hdr = segment(tok, len, 0);
		FUZZ_CHECK(strcmp(member(hdr, "kid"), kid) == 0, "kid differs");
		json_object_put(hdr);
	}
	if (de != SB_OK)
		return;
	n = strnlen(kid, sizeof(kid));
	FUZZ_CHECK(n >= 1 && n <= SB_KID_MAX, "kid of %zu bytes", n);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(kid[i] > ' ' && kid[i] < 0x7f && kid[i] != ',',
		    "kid holds 0x%02x", (unsigned char)kid[i]);
	claim_ok("decoded aud", d.aud);
	claim_ok("decoded sub", d.sub);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_jwt_claims	 out;
	const char		*rest, *nl;
	char			*tok;
	size_t			 len, rlen;
	unsigned		 flags;
	int			 signer = -1;
	int64_t			 now;
	long			 leeway;
	enum sb_err		 e;

	if (size < 1)
		return 0;
	flags = data[0] & 2 ? SB_JWT_ALLOW_EXPIRED : 0;
	now = clock_of(data[0]);
	leeway = data[0] & 0x40 ? LONG_MAX : LEEWAY;
	rest = (const char *)data + 1;
	rlen = size - 1;
	if (data[0] & 1) {
		signer = (data[0] >> 2) & 3;
		if (signer == 3)
			signer = 0;
		if ((nl = memchr(rest, '\n', rlen)) == NULL)
			nl = rest + rlen;
		tok = mint(rest, (size_t)(nl - rest), nl + (nl < rest + rlen),
		    rlen - (size_t)(nl - rest) - (nl < rest + rlen), signer,
		    &len);
	} else {
		tok = fuzz_cstr((const uint8_t *)rest, rlen);
		len = rlen;
	}

	memset(&out, 0xa5, sizeof(out));
	e = sb_jwt_verify(keys, tok, len, now, leeway, flags, &out);
	FUZZ_CHECK(e != SB_ERR_INTERNAL, "internal error");
	FUZZ_CHECK(e == SB_OK || (e >= SB_ERR_JWT_FORMAT &&
	    e <= SB_ERR_JWT_CLAIMS), "error %d", (int)e);
	if (e == SB_OK)
		accepted(tok, len, flags, signer, &out, now, leeway);
	decoded(tok, len, flags, e, &out, now, leeway);
	e = sb_jwt_verify(keys_any, tok, len, now, leeway, flags, &out);
	FUZZ_CHECK(e != SB_ERR_INTERNAL, "internal error, a key without id");
	if (e == SB_OK)
		accepted_any(tok, len, signer);
	free(tok);
	return 0;
}
