/*
 * test_jwt.c: sb_jwt_keys_parse(), sb_jwt_verify(), sb_jwt_decode(), and
 * sb_jwt_check()'s cache of verdicts.
 *
 * Tokens are minted here: ES384 (and the wrong algorithms) with OpenSSL,
 * the HMAC forgeries with libjwt. The verifier's clock is fixed at NOW,
 * but for sb_jwt_check(), which reads the real one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "extern.h"

#define NOW		1700000000LL
#define LEEWAY		10
#define NO		INT64_MIN	/* claim left out */
#define POINT_LEN	97		/* 0x04 || X || Y */
#define B64_POINT	133		/* base64 of a point, with NUL */
#define SPEC_MAX	1024
#define TOK_MAX		(2 * SB_JWT_MAX)
#define SIG_MAX		1024

#define AUD	"0f8fad5b-d9cb-469f-a165-70867728950e"
#define SUB	"7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define ID64	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define HDR_K1	"{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":\"k1\"}"
#define HDR_K2	"{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":\"k2\"}"

/* A P-384 key and its public point in the dashboard's format. */
struct p384 {
	EVP_PKEY	*pk;
	unsigned char	 pt[POINT_LEN];
	char		 b64[B64_POINT];
};

static struct p384	 ka, kb, kc;	/* ka is "k1" in keys */
static EVP_PKEY		*k256, *rsa;
static struct sb_jwt_keys *keys;

enum sigform {
	SIG_JWS,	/* R || S for EC, as is for RSA */
	SIG_DER,	/* as OpenSSL gives it */
	SIG_EMPTY	/* no signature at all */
};

/* What to mint; a zero field takes the default of a good token. */
struct mint {
	const char	*hdr;		/* HDR_K1 */
	const char	*claims;	/* good_claims() */
	EVP_PKEY	*key;		/* ka.pk */
	const char	*md;		/* "SHA384" */
	enum sigform	 form;
	void		(*edit)(unsigned char *sig, size_t *len);
};

static void	 put(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	 cat(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* snprintf(3) into buf of size sz, which must be large enough. */
static void
put(char *buf, size_t sz, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sz);
}

/* Appends to the string buf of size sz, which must be large enough. */
static void
cat(char *buf, size_t sz, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 len = strlen(buf);
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf + len, sz - len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sz - len);
}

/* Standard base64 with padding, as the dashboard writes keys. */
static size_t
b64std(const unsigned char *in, size_t len, char *out, size_t outsz)
{
	assert_true(outsz > 4 * ((len + 2) / 3));
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

/* Base64url without padding, independent of the library's encoder. */
static size_t
b64url(const unsigned char *in, size_t len, char *out, size_t outsz)
{
	size_t	 i, n;

	n = b64std(in, len, out, outsz);
	while (n > 0 && out[n - 1] == '=')
		out[--n] = '\0';
	for (i = 0; i < n; i++)
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	return n;
}

static void
p384_new(struct p384 *k)
{
	size_t	 len;

	assert_non_null(k->pk = EVP_EC_gen("P-384"));
	assert_int_equal(EVP_PKEY_set_utf8_string_param(k->pk,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed"), 1);
	assert_int_equal(EVP_PKEY_get_octet_string_param(k->pk,
	    OSSL_PKEY_PARAM_PUB_KEY, k->pt, sizeof(k->pt), &len), 1);
	assert_int_equal(len, POINT_LEN);
	assert_int_equal(k->pt[0], 0x04);
	assert_int_equal(b64std(k->pt, len, k->b64, sizeof(k->b64)),
	    B64_POINT - 1);
}

/* "kid:base64" of len bytes of pt. */
static void
spec_of(char *spec, size_t sz, const char *kid, const unsigned char *pt,
    size_t len)
{
	put(spec, sz, "%s:", kid);
	b64std(pt, len, spec + strlen(spec), sz - strlen(spec));
}

/* Turns a DER ECDSA signature into JOSE's R || S of half bytes each. */
static size_t
der_to_jose(const unsigned char *der, size_t len, size_t half,
    unsigned char *out)
{
	const unsigned char	*p = der;
	const BIGNUM		*r, *s;
	ECDSA_SIG		*sig;

	assert_non_null(sig = d2i_ECDSA_SIG(NULL, &p, (long)len));
	ECDSA_SIG_get0(sig, &r, &s);
	assert_int_equal(BN_bn2binpad(r, out, (int)half), (int)half);
	assert_int_equal(BN_bn2binpad(s, out + half, (int)half), (int)half);
	ECDSA_SIG_free(sig);
	return 2 * half;
}

/* The claims of a good token: fresh, valid for an hour. */
static const char *
good_claims(void)
{
	static char	 buf[512];

	put(buf, sizeof(buf), "{\"aud\":\"%s\",\"sub\":\"%s\","
	    "\"exp\":%lld,\"iat\":%lld,\"fresh\":true}", AUD, SUB,
	    NOW + 3600, NOW - 60);
	return buf;
}

/* Mints the token m describes into tok (TOK_MAX bytes). */
static void
mint(char *tok, const struct mint *m)
{
	const char	*hdr = m->hdr ? m->hdr : HDR_K1;
	const char	*claims = m->claims ? m->claims : good_claims();
	const char	*md = m->md ? m->md : "SHA384";
	EVP_PKEY	*key = m->key ? m->key : ka.pk;
	unsigned char	 der[SIG_MAX], sig[SIG_MAX];
	size_t		 n, derlen = sizeof(der), siglen;
	EVP_MD_CTX	*ctx;

	n = b64url((const unsigned char *)hdr, strlen(hdr), tok, TOK_MAX);
	tok[n++] = '.';
	n += b64url((const unsigned char *)claims, strlen(claims), tok + n,
	    TOK_MAX - n);
	tok[n++] = '.';
	tok[n] = '\0';
	if (m->form == SIG_EMPTY)
		return;

	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL,
	    key, NULL), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &derlen,
	    (const unsigned char *)tok, n - 1), 1);
	EVP_MD_CTX_free(ctx);

	if (m->form == SIG_JWS && EVP_PKEY_is_a(key, "EC"))
		siglen = der_to_jose(der, derlen,
		    (size_t)(EVP_PKEY_get_bits(key) + 7) / 8, sig);
	else
		memcpy(sig, der, siglen = derlen);
	if (m->edit != NULL)
		m->edit(sig, &siglen);
	b64url(sig, siglen, tok + n, TOK_MAX - n);
}

/* Claims with each member optional (NULL or NO: left out). */
static void
claims_of(char *buf, size_t sz, const char *aud, const char *sub,
    int64_t exp, int64_t iat, int64_t nbf)
{
	put(buf, sz, "{\"fresh\":false");
	if (aud != NULL)
		cat(buf, sz, ",\"aud\":\"%s\"", aud);
	if (sub != NULL)
		cat(buf, sz, ",\"sub\":\"%s\"", sub);
	if (exp != NO)
		cat(buf, sz, ",\"exp\":%lld", (long long)exp);
	if (iat != NO)
		cat(buf, sz, ",\"iat\":%lld", (long long)iat);
	if (nbf != NO)
		cat(buf, sz, ",\"nbf\":%lld", (long long)nbf);
	cat(buf, sz, "}");
}

/* The three parts of tok, each into a buffer of TOK_MAX bytes. */
static void
split(const char *tok, char *h, char *p, char *s)
{
	const char	*d1, *d2;

	assert_non_null(d1 = strchr(tok, '.'));
	assert_non_null(d2 = strchr(d1 + 1, '.'));
	put(h, TOK_MAX, "%.*s", (int)(d1 - tok), tok);
	put(p, TOK_MAX, "%.*s", (int)(d2 - d1 - 1), d1 + 1);
	put(s, TOK_MAX, "%s", d2 + 1);
}

static enum sb_err
verify(const struct sb_jwt_keys *ks, const char *tok, unsigned flags,
    struct sb_jwt_claims *c)
{
	return sb_jwt_verify(ks, tok, strlen(tok), NOW, LEEWAY, flags, c);
}

/* Reports a table row that went wrong; returns 1 if it did. */
static int
differs(const char *what, enum sb_err got, enum sb_err want)
{
	if (got == want)
		return 0;
	print_error("%s: got %d (%s), want %d (%s)\n", what, (int)got,
	    sb_err_str(got), (int)want, sb_err_str(want));
	return 1;
}

/* Signature edits, applied to the raw signature before encoding. */
static void
sig_flip_r(unsigned char *s, size_t *len)
{
	s[5] ^= 0x01;
}

static void
sig_flip_s(unsigned char *s, size_t *len)
{
	s[*len - 1] ^= 0x80;
}

static void
sig_64(unsigned char *s, size_t *len)
{
	*len = 64;
}

static void
sig_95(unsigned char *s, size_t *len)
{
	*len = 95;
}

static void
sig_97(unsigned char *s, size_t *len)
{
	s[(*len)++] = 0;
}

static void
sig_zero(unsigned char *s, size_t *len)
{
	memset(s, 0, *len);
}

static void
sig_ones(unsigned char *s, size_t *len)
{
	memset(s, 0xff, *len);
}

static void
sig_swap(unsigned char *s, size_t *len)
{
	unsigned char	 t[SIG_MAX];
	size_t		 half = *len / 2;

	memcpy(t, s, half);
	memcpy(s, s + half, half);
	memcpy(s + half, t, half);
}

static int
group_setup(void **state)
{
	char	 err[256], spec[SPEC_MAX];

	p384_new(&ka);
	p384_new(&kb);
	p384_new(&kc);
	assert_non_null(k256 = EVP_EC_gen("P-256"));
	assert_non_null(rsa = EVP_RSA_gen(2048));
	spec_of(spec, sizeof(spec), "k1", ka.pt, POINT_LEN);
	keys = sb_jwt_keys_parse(spec, NULL, err, sizeof(err));
	assert_non_null(keys);
	return 0;
}

static int
group_teardown(void **state)
{
	sb_jwt_keys_free(keys);
	EVP_PKEY_free(ka.pk);
	EVP_PKEY_free(kb.pk);
	EVP_PKEY_free(kc.pk);
	EVP_PKEY_free(k256);
	EVP_PKEY_free(rsa);
	return 0;
}

/* ---- sb_jwt_verify: the good token ------------------------------------ */

static void
test_valid_token(void **state)
{
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX];

	mint(tok, &(struct mint){ 0 });
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(verify(keys, tok, 0, &c), SB_OK);
	assert_string_equal(c.aud, AUD);
	assert_string_equal(c.sub, SUB);
	assert_int_equal(c.exp, NOW + 3600);
	assert_int_equal(c.iat, NOW - 60);
	assert_true(c.fresh);
}

/* The tokens minted here are standard: libjwt verifies them too. */
static void
test_minted_token_is_standard(void **state)
{
	BIO	*bio;
	jwt_t	*jwt;
	char	 tok[TOK_MAX], *pem;
	long	 len;

	mint(tok, &(struct mint){ 0 });
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PUBKEY(bio, ka.pk), 1);
	assert_true((len = BIO_get_mem_data(bio, &pem)) > 0);
	assert_int_equal(jwt_decode(&jwt, tok, (const unsigned char *)pem,
	    (int)len), 0);
	assert_int_equal(jwt_get_alg(jwt), JWT_ALG_ES384);
	assert_string_equal(jwt_get_grant(jwt, "sub"), SUB);
	jwt_free(jwt);

	/* And a signature of the other key does not pass there either. */
	mint(tok, &(struct mint){ .key = kb.pk });
	jwt = NULL;
	assert_int_not_equal(jwt_decode(&jwt, tok, (const unsigned char *)pem,
	    (int)len), 0);
	jwt_free(jwt);
	BIO_free(bio);
}

static void
test_valid_token_not_fresh(void **state)
{
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX], claims[512];

	put(claims, sizeof(claims), "{\"aud\":\"%s\",\"sub\":\"%s\","
	    "\"exp\":%lld}", AUD, SUB, NOW + 60);
	mint(tok, &(struct mint){ .claims = claims });
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(verify(keys, tok, 0, &c), SB_OK);
	assert_false(c.fresh);
	assert_int_equal(c.iat, 0);
	assert_int_equal(c.exp, NOW + 60);
}

/* Only tok[0..len) counts: bytes after it are not read. */
static void
test_token_length(void **state)
{
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX];
	size_t			 len;

	mint(tok, &(struct mint){ 0 });
	len = strlen(tok);
	cat(tok, sizeof(tok), ".garbage");
	assert_int_equal(sb_jwt_verify(keys, tok, len, NOW, LEEWAY, 0, &c),
	    SB_OK);
	assert_int_not_equal(sb_jwt_verify(keys, tok, len - 1, NOW, LEEWAY,
	    0, &c), SB_OK);
}

/* ---- sb_jwt_verify: claims and times ----------------------------------- */

static void
test_claims(void **state)
{
	static const struct {
		const char	*what;
		const char	*aud, *sub;
		int64_t		 exp, iat, nbf;
		unsigned	 flags;
		enum sb_err	 want;
	} cases[] = {
	{ "valid", AUD, SUB, NOW + 3600, NOW - 60, NO, 0, SB_OK },
	{ "no iat", AUD, SUB, NOW + 3600, NO, NO, 0, SB_OK },
	{ "expired beyond leeway", AUD, SUB, NOW - LEEWAY - 1, NOW - 3600,
	    NO, 0, SB_ERR_JWT_EXPIRED },
	{ "expired a day ago", AUD, SUB, NOW - 86400, NOW - 90000, NO, 0,
	    SB_ERR_JWT_EXPIRED },
	{ "exp at the edge of leeway", AUD, SUB, NOW - LEEWAY, NOW - 3600,
	    NO, 0, SB_OK },
	{ "exp passed, inside leeway", AUD, SUB, NOW - 1, NOW - 3600, NO, 0,
	    SB_OK },
	{ "iat beyond leeway", AUD, SUB, NOW + 3600, NOW + LEEWAY + 1, NO, 0,
	    SB_ERR_JWT_EXPIRED },
	{ "iat inside leeway", AUD, SUB, NOW + 3600, NOW + LEEWAY, NO, 0,
	    SB_OK },
	{ "nbf beyond leeway", AUD, SUB, NOW + 3600, NOW, NOW + LEEWAY + 1,
	    0, SB_ERR_JWT_EXPIRED },
	{ "nbf inside leeway", AUD, SUB, NOW + 3600, NOW, NOW + LEEWAY, 0,
	    SB_OK },
	{ "no exp", AUD, SUB, NO, NOW - 60, NO, 0, SB_ERR_JWT_CLAIMS },
	{ "exp zero", AUD, SUB, 0, NOW - 60, NO, 0, SB_ERR_JWT_CLAIMS },
	{ "exp negative", AUD, SUB, -1, NOW - 60, NO, 0, SB_ERR_JWT_CLAIMS },
	{ "no aud", NULL, SUB, NOW + 3600, NOW - 60, NO, 0,
	    SB_ERR_JWT_CLAIMS },
	{ "no sub", AUD, NULL, NOW + 3600, NOW - 60, NO, 0,
	    SB_ERR_JWT_CLAIMS },
	{ "empty aud", "", SUB, NOW + 3600, NOW - 60, NO, 0,
	    SB_ERR_JWT_CLAIMS },
	{ "empty sub", AUD, "", NOW + 3600, NOW - 60, NO, 0,
	    SB_ERR_JWT_CLAIMS },
	{ "aud of 64 characters", ID64, SUB, NOW + 3600, NOW - 60, NO, 0,
	    SB_OK },
	{ "aud of 65 characters", ID64 "f", SUB, NOW + 3600, NOW - 60, NO, 0,
	    SB_ERR_JWT_CLAIMS },
	{ "aud with a slash", "../etc", SUB, NOW + 3600, NOW - 60, NO, 0,
	    SB_ERR_JWT_CLAIMS },
	{ "sub with a space", AUD, "a b", NOW + 3600, NOW - 60, NO, 0,
	    SB_ERR_JWT_CLAIMS },
	{ "expired, SB_JWT_ALLOW_EXPIRED", AUD, SUB, NOW - 86400,
	    NOW - 90000, NO, SB_JWT_ALLOW_EXPIRED, SB_OK },
	{ "no exp, SB_JWT_ALLOW_EXPIRED", AUD, SUB, NO, NOW - 60, NO,
	    SB_JWT_ALLOW_EXPIRED, SB_ERR_JWT_CLAIMS },
	{ "no aud, SB_JWT_ALLOW_EXPIRED", NULL, SUB, NOW - 86400, NOW - 90000,
	    NO, SB_JWT_ALLOW_EXPIRED, SB_ERR_JWT_CLAIMS },
	{ "iat in the future, SB_JWT_ALLOW_EXPIRED", AUD, SUB, NOW + 3600,
	    NOW + 600, NO, SB_JWT_ALLOW_EXPIRED, SB_ERR_JWT_EXPIRED },
	};
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX], claims[512];
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		claims_of(claims, sizeof(claims), cases[i].aud, cases[i].sub,
		    cases[i].exp, cases[i].iat, cases[i].nbf);
		mint(tok, &(struct mint){ .claims = claims });
		bad += differs(cases[i].what, verify(keys, tok, cases[i].flags,
		    &c), cases[i].want);
	}
	assert_int_equal(bad, 0);
}

/* Claims of the wrong type, written out; exp is far in the future. */
static void
test_claims_types(void **state)
{
	static const struct {
		const char	*what;
		const char	*claims;
	} cases[] = {
	{ "exp a string", "{\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"exp\":\"4000000000\"}" },
	{ "exp a fraction", "{\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"exp\":4000000000.5}" },
	{ "exp a boolean", "{\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"exp\":true}" },
	{ "exp null", "{\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"exp\":null}" },
	{ "iat a string", "{\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"exp\":4000000000,\"iat\":\"1\"}" },
	{ "nbf negative", "{\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"exp\":4000000000,\"nbf\":-5}" },
	{ "aud a number", "{\"aud\":42,\"sub\":\"" SUB "\","
	    "\"exp\":4000000000}" },
	{ "aud an array", "{\"aud\":[\"" AUD "\"],\"sub\":\"" SUB "\","
	    "\"exp\":4000000000}" },
	{ "aud with an escaped NUL", "{\"aud\":\"ab\\u0000cd\",\"sub\":\""
	    SUB "\",\"exp\":4000000000}" },
	{ "sub null", "{\"aud\":\"" AUD "\",\"sub\":null,"
	    "\"exp\":4000000000}" },
	{ "fresh a string", "{\"aud\":\"" AUD "\",\"sub\":\"" SUB "\","
	    "\"exp\":4000000000,\"fresh\":\"true\"}" },
	};
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX];
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mint(tok, &(struct mint){ .claims = cases[i].claims });
		bad += differs(cases[i].what, verify(keys, tok, 0, &c),
		    SB_ERR_JWT_CLAIMS);
	}
	assert_int_equal(bad, 0);
}

/* ---- times at the ends of int64_t -------------------------------------- */

/*
 * Time claims written out as numbers at and past the ends of int64_t:
 * json-c reads 2^63 to 2^64 - 1 as 2^63 - 1, so those are a token that
 * never expires (as sentc, which reads exp as an unsigned 64-bit number,
 * takes them); larger ones are not JSON integers the parser keeps.
 */
static void
test_claims_extreme(void **state)
{
	static const struct {
		const char	*what;
		const char	*times;	/* the time members, written out */
		enum sb_err	 want;
		int64_t		 exp;	/* as read, when accepted */
	} cases[] = {
	{ "exp 2^63 - 1", "\"exp\":9223372036854775807", SB_OK, INT64_MAX },
	{ "exp 2^63", "\"exp\":9223372036854775808", SB_OK, INT64_MAX },
	{ "exp 2^64 - 1", "\"exp\":18446744073709551615", SB_OK, INT64_MAX },
	{ "exp 2^64", "\"exp\":18446744073709551616", SB_ERR_JWT_FORMAT, 0 },
	{ "exp 2^63 - 1, iat now", "\"exp\":9223372036854775807,"
	    "\"iat\":1700000000", SB_OK, INT64_MAX },
	{ "exp -2^63", "\"exp\":-9223372036854775808", SB_ERR_JWT_CLAIMS,
	    0 },
	{ "exp 1e30", "\"exp\":1e30", SB_ERR_JWT_CLAIMS, 0 },
	{ "iat 2^63 - 1", "\"exp\":9223372036854775807,"
	    "\"iat\":9223372036854775807", SB_ERR_JWT_EXPIRED, 0 },
	{ "iat -2^63", "\"exp\":9223372036854775807,"
	    "\"iat\":-9223372036854775808", SB_ERR_JWT_CLAIMS, 0 },
	{ "nbf 2^63 - 1", "\"exp\":9223372036854775807,"
	    "\"nbf\":9223372036854775807", SB_ERR_JWT_EXPIRED, 0 },
	{ "nbf 2^64 - 1", "\"exp\":9223372036854775807,"
	    "\"nbf\":18446744073709551615", SB_ERR_JWT_EXPIRED, 0 },
	};
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX], claims[512];
	size_t			 i;
	enum sb_err		 e;
	int			 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(claims, sizeof(claims), "{\"aud\":\"" AUD "\",\"sub\":\""
		    SUB "\",%s}", cases[i].times);
		mint(tok, &(struct mint){ .claims = claims });
		e = verify(keys, tok, 0, &c);
		bad += differs(cases[i].what, e, cases[i].want);
		if (e == SB_OK && e == cases[i].want && c.exp != cases[i].exp) {
			print_error("%s: exp %lld\n", cases[i].what,
			    (long long)c.exp);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* The clock and the leeway at the ends of their types. */
static void
test_clock_extreme(void **state)
{
	static const struct {
		const char	*what;
		int64_t		 exp, iat, now;
		long		 leeway;
		unsigned	 flags;
		enum sb_err	 want;
	} cases[] = {
	{ "now 2^63 - 1", NOW + 3600, NOW, INT64_MAX, LEEWAY, 0,
	    SB_ERR_JWT_EXPIRED },
	{ "now 2^63 - 1, exp too", INT64_MAX, NOW, INT64_MAX, LEEWAY, 0,
	    SB_OK },
	{ "now 2^63 - 1, leeway too", INT64_MAX, INT64_MAX, INT64_MAX,
	    LONG_MAX, 0, SB_OK },
	/* Before 1970 every token's times lie ahead. */
	{ "now -2^63", NOW + 3600, NO, INT64_MIN, LEEWAY, 0,
	    SB_ERR_JWT_EXPIRED },
	{ "now -2^63, iat", NOW + 3600, NOW, INT64_MIN, LEEWAY, 0,
	    SB_ERR_JWT_EXPIRED },
	{ "leeway 2^63 - 1", 1, INT64_MAX, NOW, LONG_MAX, 0, SB_OK },
	{ "leeway 2^63 - 1, now -2^63", 1, 1, INT64_MIN, LONG_MAX, 0,
	    SB_ERR_JWT_EXPIRED },
	{ "leeway 2^63 - 1, now -1", 1, NO, -1, LONG_MAX, 0, SB_OK },
	{ "now 2^63 - 1, expired allowed", 1, 1, INT64_MAX, LEEWAY,
	    SB_JWT_ALLOW_EXPIRED, SB_OK },
	};
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX], claims[512];
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		claims_of(claims, sizeof(claims), AUD, SUB, cases[i].exp,
		    cases[i].iat, NO);
		mint(tok, &(struct mint){ .claims = claims });
		bad += differs(cases[i].what, sb_jwt_verify(keys, tok,
		    strlen(tok), cases[i].now, cases[i].leeway, cases[i].flags,
		    &c), cases[i].want);
	}
	assert_int_equal(bad, 0);
}

/* How long a verified token is served from the cache. */
static void
test_cache_until(void **state)
{
	static const struct {
		const char	*what;
		int64_t		 exp, now;
		long		 leeway;
		int64_t		 want;
	} cases[] = {
	{ "a sentc token", NOW + 300, NOW, LEEWAY, NOW + 300 + LEEWAY + 1 },
	{ "at its end", NOW, NOW, LEEWAY, NOW + LEEWAY + 1 },
	{ "in the leeway's last second", NOW - LEEWAY, NOW, LEEWAY, NOW + 1 },
	{ "past the leeway", NOW - LEEWAY - 1, NOW, LEEWAY, 0 },
	{ "expired long ago", 1, NOW, LEEWAY, 0 },
	{ "no leeway", NOW + 5, NOW, 0, NOW + 6 },
	{ "a longer life", NOW + 3600, NOW, LEEWAY, NOW + SB_JWT_CACHE_MAX },
	{ "exp 2^63 - 1", INT64_MAX, NOW, LEEWAY, NOW + SB_JWT_CACHE_MAX },
	{ "exp 2^63 - 1, leeway 2^63 - 1", INT64_MAX, NOW, LONG_MAX,
	    NOW + SB_JWT_CACHE_MAX },
	{ "exp and now 2^63 - 1", INT64_MAX, INT64_MAX, LEEWAY, 0 },
	{ "now 2^63 - 2", INT64_MAX, INT64_MAX - 1, LEEWAY, INT64_MAX },
	{ "now -2^63", NOW, INT64_MIN, LEEWAY,
	    INT64_MIN + SB_JWT_CACHE_MAX },
	};
	struct sb_jwt_claims	 c;
	int64_t			 got;
	size_t			 i;
	int			 bad = 0;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c.exp = cases[i].exp;
		got = sb_jwt_cache_until(&c, cases[i].now, cases[i].leeway);
		if (got != cases[i].want) {
			print_error("%s: %lld, want %lld\n", cases[i].what,
			    (long long)got, (long long)cases[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/*
 * sb_jwt_check(), the cache in front of sb_jwt_verify(), with the
 * program's clock: a token that never expires passes and is served from
 * the cache after, as one that lives for minutes is; one verified only
 * because expired tokens are allowed is not kept.
 */
static void
test_check_cached(void **state)
{
	static struct sb_config	 cfg;
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX], claims[512];
	int64_t			 now = (int64_t)time(NULL);
	uint64_t		 hits, misses, h0, m0;
	size_t			 i;
	const struct {
		int64_t		 exp;
		unsigned	 flags;
		bool		 cached;
	} cases[] = {
		{ INT64_MAX, 0, true },
		{ now + 300, 0, true },
		{ now - 3600, SB_JWT_ALLOW_EXPIRED, false },
	};

	cfg.jwt_keys = keys;
	cfg.jwt_leeway = LEEWAY;
	cfg.jwt_cache_size = 64;
	sb_cfg = &cfg;
	assert_int_equal(sb_jwt_cache_init(), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		claims_of(claims, sizeof(claims), AUD, SUB, cases[i].exp,
		    now - 60, NO);
		mint(tok, &(struct mint){ .claims = claims });
		sb_jwt_cache_stats(&h0, &m0);
		assert_int_equal(sb_jwt_check(tok, strlen(tok),
		    cases[i].flags, &c), SB_OK);
		assert_int_equal(c.exp, cases[i].exp);
		assert_int_equal(sb_jwt_check(tok, strlen(tok),
		    cases[i].flags, &c), SB_OK);
		assert_int_equal(c.exp, cases[i].exp);
		sb_jwt_cache_stats(&hits, &misses);
		if (hits - h0 != (cases[i].cached ? 1 : 0) ||
		    misses - m0 != (cases[i].cached ? 1 : 2))
			fail_msg("exp %lld: %llu hits, %llu misses",
			    (long long)cases[i].exp,
			    (unsigned long long)(hits - h0),
			    (unsigned long long)(misses - m0));
	}
	/* Without the flag, the expired one is refused, cache or not. */
	assert_int_equal(sb_jwt_check(tok, strlen(tok), 0, &c),
	    SB_ERR_JWT_EXPIRED);
	sb_cfg = NULL;
}

/* ---- sb_jwt_verify: key ids -------------------------------------------- */

static void
test_kid(void **state)
{
	static const struct {
		const char	*what;
		const char	*hdr;
	} cases[] = {
	{ "unknown kid", "{\"alg\":\"ES384\",\"kid\":\"k9\"}" },
	{ "missing kid", "{\"alg\":\"ES384\",\"typ\":\"JWT\"}" },
	{ "empty kid", "{\"alg\":\"ES384\",\"kid\":\"\"}" },
	{ "kid a prefix of k1", "{\"alg\":\"ES384\",\"kid\":\"k\"}" },
	{ "kid k1 with a space", "{\"alg\":\"ES384\",\"kid\":\"k1 \"}" },
	{ "kid K1 upper case", "{\"alg\":\"ES384\",\"kid\":\"K1\"}" },
	{ "kid a number", "{\"alg\":\"ES384\",\"kid\":1}" },
	{ "kid null", "{\"alg\":\"ES384\",\"kid\":null}" },
	{ "kid an array", "{\"alg\":\"ES384\",\"kid\":[\"k1\"]}" },
	};
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX];
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mint(tok, &(struct mint){ .hdr = cases[i].hdr });
		bad += differs(cases[i].what, verify(keys, tok, 0, &c),
		    SB_ERR_JWT_KEY);
	}
	assert_int_equal(bad, 0);
}

/* ---- sb_jwt_verify: signatures ----------------------------------------- */

static void
test_signature_minted(void **state)
{
	struct {
		const char	*what;
		struct mint	 m;
	} cases[] = {
	{ "bit flipped in R", { .edit = sig_flip_r } },
	{ "bit flipped in S", { .edit = sig_flip_s } },
	{ "64-byte signature", { .edit = sig_64 } },
	{ "95-byte signature", { .edit = sig_95 } },
	{ "97-byte signature", { .edit = sig_97 } },
	{ "DER signature", { .form = SIG_DER } },
	{ "empty signature", { .form = SIG_EMPTY } },
	{ "R and S zero", { .edit = sig_zero } },
	{ "R and S all ones", { .edit = sig_ones } },
	{ "R and S swapped", { .edit = sig_swap } },
	{ "signed by another P-384 key, kid k1", { .key = kb.pk } },
	{ "signed with SHA-256", { .md = "SHA256" } },
	{ "signed with SHA-512", { .md = "SHA512" } },
	};
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX];
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mint(tok, &cases[i].m);
		bad += differs(cases[i].what, verify(keys, tok, 0, &c),
		    SB_ERR_JWT_SIGNATURE);
	}
	assert_int_equal(bad, 0);
}

/* The signed input changed after signing, or the signature mis-encoded. */
static void
test_signature_tampered(void **state)
{
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX], h[TOK_MAX], p[TOK_MAX];
	char			 s[TOK_MAX], bad_tok[TOK_MAX], claims[512];
	char			 p2[TOK_MAX], *a;
	size_t			 len;
	int			 bad = 0;

	mint(tok, &(struct mint){ 0 });
	split(tok, h, p, s);
	len = strlen(s);

	/* One bit of the payload: 'a' becomes '`', still valid JSON. */
	put(claims, sizeof(claims), "%s", good_claims());
	assert_non_null(a = strchr(claims + strlen("{\"aud\":\""), 'a'));
	*a ^= 0x01;
	b64url((const unsigned char *)claims, strlen(claims), p2, sizeof(p2));
	put(bad_tok, sizeof(bad_tok), "%s.%s.%s", h, p2, s);
	bad += differs("bit flipped in the payload", verify(keys, bad_tok, 0,
	    &c), SB_ERR_JWT_SIGNATURE);

	/* The same claims, but with the exp pushed out. */
	claims_of(claims, sizeof(claims), AUD, SUB, NOW + 999999, NOW - 60,
	    NO);
	b64url((const unsigned char *)claims, strlen(claims), p2, sizeof(p2));
	put(bad_tok, sizeof(bad_tok), "%s.%s.%s", h, p2, s);
	bad += differs("payload swapped", verify(keys, bad_tok, 0, &c),
	    SB_ERR_JWT_SIGNATURE);

	put(bad_tok, sizeof(bad_tok), "%s.%s.%.*s+%s", h, p,
	    (int)(len / 2), s, s + len / 2 + 1);
	bad += differs("'+' in the signature", verify(keys, bad_tok, 0, &c),
	    SB_ERR_JWT_SIGNATURE);
	put(bad_tok, sizeof(bad_tok), "%s.%s.%.*s*%s", h, p,
	    (int)(len / 2), s, s + len / 2 + 1);
	bad += differs("'*' in the signature", verify(keys, bad_tok, 0, &c),
	    SB_ERR_JWT_SIGNATURE);
	put(bad_tok, sizeof(bad_tok), "%s.%s.%s==", h, p, s);
	bad += differs("padded signature", verify(keys, bad_tok, 0, &c),
	    SB_ERR_JWT_SIGNATURE);
	put(bad_tok, sizeof(bad_tok), "%s.%s.%.*s", h, p,
	    (int)(len - 1), s);
	bad += differs("signature one character short", verify(keys, bad_tok,
	    0, &c), SB_ERR_JWT_SIGNATURE);
	put(bad_tok, sizeof(bad_tok), "%s.%s. %s", h, p, s);
	bad += differs("space in the signature", verify(keys, bad_tok, 0, &c),
	    SB_ERR_JWT_SIGNATURE);
	assert_int_equal(bad, 0);

	/* The untouched token still verifies: the edits made the difference. */
	assert_int_equal(verify(keys, tok, 0, &c), SB_OK);
}

/* ---- sb_jwt_verify: algorithms ----------------------------------------- */

static void
test_alg(void **state)
{
	struct {
		const char	*what;
		struct mint	 m;
	} cases[] = {
	{ "alg none, no signature", { .hdr = "{\"alg\":\"none\","
	    "\"kid\":\"k1\"}", .form = SIG_EMPTY } },
	{ "alg none, ES384 signature", { .hdr = "{\"alg\":\"none\","
	    "\"kid\":\"k1\"}" } },
	{ "alg ES256, signed with P-256", { .hdr = "{\"alg\":\"ES256\","
	    "\"kid\":\"k1\"}", .key = k256, .md = "SHA256" } },
	{ "alg RS384, signed with RSA", { .hdr = "{\"alg\":\"RS384\","
	    "\"kid\":\"k1\"}", .key = rsa } },
	{ "alg PS384, signed with RSA", { .hdr = "{\"alg\":\"PS384\","
	    "\"kid\":\"k1\"}", .key = rsa } },
	{ "alg ES512, signed with P-384", { .hdr = "{\"alg\":\"ES512\","
	    "\"kid\":\"k1\"}" } },
	{ "alg es384 lower case, signed with P-384", { .hdr =
	    "{\"alg\":\"es384\",\"kid\":\"k1\"}" } },
	{ "alg \"ES384 \"", { .hdr = "{\"alg\":\"ES384 \",\"kid\":\"k1\"}" } },
	{ "alg missing", { .hdr = "{\"kid\":\"k1\"}" } },
	{ "alg a number", { .hdr = "{\"alg\":384,\"kid\":\"k1\"}" } },
	{ "alg an array", { .hdr = "{\"alg\":[\"ES384\"],\"kid\":\"k1\"}" } },
	{ "alg null", { .hdr = "{\"alg\":null,\"kid\":\"k1\"}" } },
	};
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX];
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mint(tok, &cases[i].m);
		bad += differs(cases[i].what, verify(keys, tok, 0, &c),
		    SB_ERR_JWT_ALG);
	}
	assert_int_equal(bad, 0);
}

/* An HMAC token keyed with the public key, the classic confusion. */
static char *
mint_hmac(jwt_alg_t alg, const unsigned char *key, size_t len)
{
	jwt_t	*jwt;
	char	*tok;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_set_alg(jwt, alg, key, (int)len), 0);
	assert_int_equal(jwt_add_header(jwt, "kid", "k1"), 0);
	assert_int_equal(jwt_add_grant(jwt, "aud", AUD), 0);
	assert_int_equal(jwt_add_grant(jwt, "sub", SUB), 0);
	assert_int_equal(jwt_add_grant_int(jwt, "exp", (long)(NOW + 3600)), 0);
	assert_int_equal(jwt_add_grant_int(jwt, "iat", (long)(NOW - 60)), 0);
	assert_non_null(tok = jwt_encode_str(jwt));
	jwt_free(jwt);
	return tok;
}

static void
test_alg_hmac_with_public_key(void **state)
{
	static const jwt_alg_t	 algs[] = {
		JWT_ALG_HS256, JWT_ALG_HS384, JWT_ALG_HS512
	};
	struct sb_jwt_claims	 c;
	char			*tok, what[64], h[TOK_MAX], p[TOK_MAX];
	char			 s[TOK_MAX], es[TOK_MAX], forged[TOK_MAX];
	size_t			 i;
	int			 bad = 0;

	b64url((const unsigned char *)"{\"alg\":\"ES384\",\"kid\":\"k1\"}",
	    strlen("{\"alg\":\"ES384\",\"kid\":\"k1\"}"), es, sizeof(es));
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		tok = mint_hmac(algs[i], ka.pt, POINT_LEN);
		put(what, sizeof(what), "%s keyed with the raw point",
		    jwt_alg_str(algs[i]));
		bad += differs(what, verify(keys, tok, 0, &c), SB_ERR_JWT_ALG);

		/* The MAC under a header that claims ES384. */
		split(tok, h, p, s);
		put(forged, sizeof(forged), "%s.%s.%s", es, p, s);
		put(what, sizeof(what), "%s MAC under alg ES384",
		    jwt_alg_str(algs[i]));
		bad += differs(what, verify(keys, forged, 0, &c),
		    SB_ERR_JWT_SIGNATURE);
		free(tok);

		tok = mint_hmac(algs[i], (const unsigned char *)ka.b64,
		    strlen(ka.b64));
		put(what, sizeof(what), "%s keyed with the base64 text",
		    jwt_alg_str(algs[i]));
		bad += differs(what, verify(keys, tok, 0, &c), SB_ERR_JWT_ALG);
		free(tok);
	}
	assert_int_equal(bad, 0);
}

/* A header naming an extension as critical cannot be understood. */
static void
test_crit(void **state)
{
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX];

	mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\",\"kid\":\"k1\","
	    "\"crit\":[\"exp\"]}" });
	assert_int_equal(verify(keys, tok, 0, &c), SB_ERR_JWT_FORMAT);
}

/* ---- sb_jwt_verify: the token's shape ---------------------------------- */

static void
test_format(void **state)
{
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX], h[TOK_MAX], p[TOK_MAX];
	char			 s[TOK_MAX], t[TOK_MAX];
	struct {
		const char	*what;
		char		 tok[TOK_MAX];
	}			*cases;
	size_t			 i, n = 0;
	int			 bad = 0;

	assert_non_null(cases = calloc(32, sizeof(*cases)));
	mint(tok, &(struct mint){ 0 });
	split(tok, h, p, s);

#define CASE(w, ...) do {						\
	cases[n].what = (w);						\
	put(cases[n++].tok, TOK_MAX, __VA_ARGS__);			\
} while (0)
	CASE("empty token", "%s", "");
	CASE("one segment", "%s", h);
	CASE("two segments", "%s.%s", h, p);
	CASE("four segments", "%s.%s.%s.%s", h, p, s, s);
	CASE("trailing dot", "%s.%s.%s.", h, p, s);
	CASE("only dots", "..");
	CASE("empty header", ".%s.%s", p, s);
	CASE("empty payload", "%s..%s", h, s);
	CASE("'*' in the header", "*%s.%s.%s", h + 1, p, s);
	CASE("'+' in the header", "+%s.%s.%s", h + 1, p, s);
	CASE("padded header", "%s=.%s.%s", h, p, s);
	CASE("'*' in the payload", "%s.*%s.%s", h, p + 1, s);
	CASE("'/' in the payload", "%s./%s.%s", h, p + 1, s);
	CASE("space in the payload", "%s. %s.%s", h, p, s);
#undef CASE

	/* Whole tokens, correctly signed, whose parts are not objects. */
	mint(cases[n].tok, &(struct mint){ .hdr = "not json" });
	cases[n++].what = "header not JSON";
	mint(cases[n].tok, &(struct mint){ .claims = "hello" });
	cases[n++].what = "payload not JSON";
	mint(cases[n].tok, &(struct mint){ .hdr = "[\"ES384\",\"k1\"]" });
	cases[n++].what = "header a JSON array";
	mint(cases[n].tok, &(struct mint){ .claims = "[\"" AUD "\"]" });
	cases[n++].what = "payload a JSON array";
	mint(cases[n].tok, &(struct mint){ .hdr = "\"ES384\"" });
	cases[n++].what = "header a JSON string";
	mint(cases[n].tok, &(struct mint){ .claims = "4000000000" });
	cases[n++].what = "payload a JSON number";
	mint(cases[n].tok, &(struct mint){ .hdr = HDR_K1 " x" });
	cases[n++].what = "header with trailing bytes";
	mint(cases[n].tok, &(struct mint){ .hdr = HDR_K1 HDR_K1 });
	cases[n++].what = "header of two objects";
	mint(cases[n].tok, &(struct mint){ .hdr = "{'alg':'ES384',"
	    "'kid':'k1'}" });
	cases[n++].what = "header in single quotes";
	mint(cases[n].tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\","
	    "\"kid\":\"k1\",\"x\":[[[[[[[[[[1]]]]]]]]]]}" });
	cases[n++].what = "header nested too deep";

	/* Longer than any token accepted. */
	memset(t, 'A', SB_JWT_MAX + 1);
	t[SB_JWT_MAX + 1] = '\0';
	t[10] = t[20] = '.';
	put(cases[n].tok, TOK_MAX, "%s", t);
	cases[n++].what = "longer than SB_JWT_MAX";
	assert_true(n <= 32);

	for (i = 0; i < n; i++)
		bad += differs(cases[i].what, verify(keys, cases[i].tok, 0, &c),
		    SB_ERR_JWT_FORMAT);
	free(cases);
	assert_int_equal(bad, 0);
}

/* ---- key rotation ------------------------------------------------------ */

static void
test_rotation(void **state)
{
	static const char *const seps[] = { ",", " ", ",\t", " , " };
	struct sb_jwt_keys	*ks;
	struct sb_jwt_claims	 c;
	char			 spec[SPEC_MAX], err[256], tok[TOK_MAX];
	size_t			 i;

	for (i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		put(spec, sizeof(spec), "k1:%s%sk2:%s", ka.b64, seps[i],
		    kb.b64);
		ks = sb_jwt_keys_parse(spec, NULL, err, sizeof(err));
		assert_non_null(ks);
		assert_int_equal(sb_jwt_keys_count(ks), 2);

		mint(tok, &(struct mint){ .hdr = HDR_K1, .key = ka.pk });
		assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
		mint(tok, &(struct mint){ .hdr = HDR_K2, .key = kb.pk });
		assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
		assert_string_equal(c.aud, AUD);

		/* Each kid picks its own key, not any key of the set. */
		mint(tok, &(struct mint){ .hdr = HDR_K2, .key = ka.pk });
		assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_SIGNATURE);
		mint(tok, &(struct mint){ .hdr = HDR_K1, .key = kb.pk });
		assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_SIGNATURE);
		sb_jwt_keys_free(ks);
	}

	/* The old set knows only k1. */
	mint(tok, &(struct mint){ .hdr = HDR_K2, .key = kb.pk });
	assert_int_equal(verify(keys, tok, 0, &c), SB_ERR_JWT_KEY);
}

/* ---- sb_jwt_decode ----------------------------------------------------- */

/* All but the signature: the kid is read, the claims checked. */
static void
test_decode(void **state)
{
	struct sb_jwt_claims	 c;
	char			 tok[TOK_MAX], claims[512], kid[SB_KID_MAX + 1];
	char			 hdr[SB_KID_MAX + 64], small[4];
	size_t			 n;

	/* Another key's signature: no matter here. */
	mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\",\"kid\":"
	    "\"made-in-the-dashboard\"}", .key = kb.pk });
	n = strlen(tok);
	assert_int_equal(sb_jwt_decode(tok, n, NOW, LEEWAY, 0, kid,
	    sizeof(kid), &c), SB_OK);
	assert_string_equal(kid, "made-in-the-dashboard");
	assert_string_equal(c.aud, AUD);
	assert_string_equal(c.sub, SUB);
	assert_true(c.fresh);
	assert_int_equal(c.exp, NOW + 3600);
	/* Nor none at all. */
	mint(tok, &(struct mint){ .form = SIG_EMPTY });
	assert_int_equal(sb_jwt_decode(tok, strlen(tok), NOW, LEEWAY, 0, kid,
	    sizeof(kid), &c), SB_OK);
	assert_string_equal(kid, "k1");
	/* A kid that does not fit, or is no id. */
	mint(tok, &(struct mint){ 0 });
	assert_int_equal(sb_jwt_decode(tok, strlen(tok), NOW, LEEWAY, 0,
	    small, sizeof(small) - 2, &c), SB_ERR_JWT_KEY);
	memset(kid, 'k', SB_KID_MAX + 1);
	put(hdr, sizeof(hdr), "{\"alg\":\"ES384\",\"kid\":\"%.*s\"}",
	    SB_KID_MAX + 1, kid);
	mint(tok, &(struct mint){ .hdr = hdr });
	assert_int_equal(sb_jwt_decode(tok, strlen(tok), NOW, LEEWAY, 0, kid,
	    sizeof(kid), &c), SB_ERR_JWT_KEY);
	mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\",\"kid\":"
	    "\"a b\"}" });
	assert_int_equal(sb_jwt_decode(tok, strlen(tok), NOW, LEEWAY, 0, kid,
	    sizeof(kid), &c), SB_ERR_JWT_KEY);
	mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\"}" });
	assert_int_equal(sb_jwt_decode(tok, strlen(tok), NOW, LEEWAY, 0, kid,
	    sizeof(kid), &c), SB_ERR_JWT_KEY);
	mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES256\",\"kid\":"
	    "\"k1\"}" });
	assert_int_equal(sb_jwt_decode(tok, strlen(tok), NOW, LEEWAY, 0, kid,
	    sizeof(kid), &c), SB_ERR_JWT_ALG);
	/* The claims as sb_jwt_verify() checks them. */
	claims_of(claims, sizeof(claims), AUD, NULL, NOW + 60, NOW, NO);
	mint(tok, &(struct mint){ .claims = claims });
	assert_int_equal(sb_jwt_decode(tok, strlen(tok), NOW, LEEWAY, 0, kid,
	    sizeof(kid), &c), SB_ERR_JWT_CLAIMS);
	claims_of(claims, sizeof(claims), AUD, SUB, NOW - 60, NOW - 360, NO);
	mint(tok, &(struct mint){ .claims = claims });
	assert_int_equal(sb_jwt_decode(tok, strlen(tok), NOW, LEEWAY, 0, kid,
	    sizeof(kid), &c), SB_ERR_JWT_EXPIRED);
	assert_int_equal(sb_jwt_decode(tok, strlen(tok), NOW, LEEWAY,
	    SB_JWT_ALLOW_EXPIRED, kid, sizeof(kid), &c), SB_OK);
	assert_int_equal(sb_jwt_decode("a.b", 3, NOW, LEEWAY, 0, kid,
	    sizeof(kid), &c), SB_ERR_JWT_FORMAT);
}

/* ---- sb_jwt_check: the cache of verdicts -------------------------------- */

/* Good claims at the real time: sb_jwt_check() reads the clock. */
static const char *
claims_now(void)
{
	static char	 buf[512];

	claims_of(buf, sizeof(buf), AUD, SUB, sb_now() + 300, sb_now(), NO);
	return buf;
}

/*
 * A token no key here verifies, whose kid names none, is for sentc to
 * check (if SENTC_BACKEND_JWT_KEY_CHECKS lets it); sentc's verdict,
 * remembered, is the answer after.
 */
static void
test_check_verdicts(void **state)
{
	static const char hdr_k9[] = "{\"alg\":\"ES384\",\"kid\":\"k9\"}";
	struct sb_config	 cfg = { 0 };
	struct sb_jwt_claims	 c, sentc;
	char			 tok[TOK_MAX], other[TOK_MAX], spec[SPEC_MAX];
	char			 err[256];

	cfg.jwt_keys = keys;
	cfg.jwt_leeway = LEEWAY;
	cfg.jwt_cache_size = 64;
	cfg.jwt_key_checks = 60;
	sb_cfg = &cfg;
	assert_int_equal(sb_jwt_cache_init(), 0);

	mint(tok, &(struct mint){ .claims = claims_now() });
	assert_int_equal(sb_jwt_check(tok, strlen(tok), 0, &c), SB_OK);
	/* A kid that names no key: sentc's to check. */
	mint(tok, &(struct mint){ .hdr = hdr_k9, .claims = claims_now(),
	    .key = kb.pk });
	assert_int_equal(sb_jwt_check(tok, strlen(tok), 0, &c),
	    SB_ERR_JWT_UNCHECKED);
	/* Expired, it still is (at refresh); malformed, it is not. */
	mint(other, &(struct mint){ .hdr = hdr_k9, .key = kb.pk });
	assert_int_equal(sb_jwt_check(other, strlen(other),
	    SB_JWT_ALLOW_EXPIRED, &c), SB_ERR_JWT_UNCHECKED);
	mint(other, &(struct mint){ .hdr = hdr_k9, .claims = "{}" });
	assert_int_equal(sb_jwt_check(other, strlen(other), 0, &c),
	    SB_ERR_JWT_KEY);
	/* Forged under a kid that names a key here: refused here. */
	mint(other, &(struct mint){ .claims = claims_now(), .key = kb.pk });
	assert_int_equal(sb_jwt_check(other, strlen(other), 0, &c),
	    SB_ERR_JWT_SIGNATURE);
	/* Not to be asked: refused as before. */
	cfg.jwt_key_checks = 0;
	assert_int_equal(sb_jwt_check(tok, strlen(tok), 0, &c),
	    SB_ERR_JWT_KEY);
	cfg.jwt_key_checks = 60;

	/* sentc refused it: that is the answer from now on. */
	sb_jwt_remember(tok, strlen(tok), SB_ERR_JWT_SIGNATURE, NULL,
	    sb_now() + 100);
	assert_int_equal(sb_jwt_check(tok, strlen(tok), 0, &c),
	    SB_ERR_JWT_SIGNATURE);
	/* A refusal already past is not kept. */
	mint(other, &(struct mint){ .hdr = hdr_k9, .claims = claims_now() });
	sb_jwt_remember(other, strlen(other), SB_ERR_JWT_KEY, NULL,
	    sb_now() - 1);
	assert_int_equal(sb_jwt_check(other, strlen(other), 0, &c),
	    SB_ERR_JWT_UNCHECKED);
	/* sentc accepted it: the claims it carries, as a verified token. */
	assert_int_equal(sb_jwt_decode(other, strlen(other), sb_now(), LEEWAY,
	    0, spec, sizeof(spec), &sentc), SB_OK);
	sb_jwt_remember(other, strlen(other), SB_OK, &sentc, 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(sb_jwt_check(other, strlen(other), 0, &c), SB_OK);
	assert_memory_equal(&c, &sentc, sizeof(c));

	/* Beside a key without id, a kid that names none is sentc's too. */
	put(spec, sizeof(spec), "k1:%s,%s", ka.b64, kb.b64);
	assert_non_null(cfg.jwt_keys = sb_jwt_keys_parse(spec, NULL, err,
	    sizeof(err)));
	assert_int_equal(sb_jwt_cache_init(), 0);
	mint(tok, &(struct mint){ .hdr = hdr_k9, .claims = claims_now(),
	    .key = kb.pk });
	assert_int_equal(sb_jwt_check(tok, strlen(tok), 0, &c), SB_OK);
	mint(tok, &(struct mint){ .hdr = hdr_k9, .claims = claims_now(),
	    .key = kc.pk });
	assert_int_equal(sb_jwt_check(tok, strlen(tok), 0, &c),
	    SB_ERR_JWT_UNCHECKED);
	mint(tok, &(struct mint){ .claims = claims_now(), .key = kc.pk });
	assert_int_equal(sb_jwt_check(tok, strlen(tok), 0, &c),
	    SB_ERR_JWT_SIGNATURE);
	sb_jwt_keys_free(cfg.jwt_keys);
	sb_cfg = NULL;
}

/* ---- sb_jwt_keys_parse ------------------------------------------------- */

static void
test_keys_parse_good(void **state)
{
	struct sb_jwt_keys	*ks;
	struct sb_jwt_claims	 c;
	char			 spec[SPEC_MAX], err[256], tok[TOK_MAX];

	put(spec, sizeof(spec), "k1:%s", ka.b64);
	assert_non_null(ks = sb_jwt_keys_parse(spec, NULL, err, sizeof(err)));
	assert_int_equal(sb_jwt_keys_count(ks), 1);
	sb_jwt_keys_free(ks);

	/* White space around the keys is no key. */
	put(spec, sizeof(spec), " \tk1:%s, ", ka.b64);
	assert_non_null(ks = sb_jwt_keys_parse(spec, NULL, err, sizeof(err)));
	assert_int_equal(sb_jwt_keys_count(ks), 1);
	sb_jwt_keys_free(ks);

	put(spec, sizeof(spec), "k1:%s,k2:%s k3:%s", ka.b64, kb.b64,
	    kc.b64);
	assert_non_null(ks = sb_jwt_keys_parse(spec, NULL, err, sizeof(err)));
	assert_int_equal(sb_jwt_keys_count(ks), 3);
	mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\",\"kid\":\"k3\"}",
	    .key = kc.pk });
	assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
	sb_jwt_keys_free(ks);

	/* A bare key takes the default id. */
	assert_non_null(ks = sb_jwt_keys_parse(ka.b64, "dflt", err,
	    sizeof(err)));
	assert_int_equal(sb_jwt_keys_count(ks), 1);
	mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\","
	    "\"kid\":\"dflt\"}" });
	assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
	mint(tok, &(struct mint){ 0 });
	assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_KEY);
	sb_jwt_keys_free(ks);

	/* A bare key next to one with its own id. */
	put(spec, sizeof(spec), "%s,k2:%s", ka.b64, kb.b64);
	assert_non_null(ks = sb_jwt_keys_parse(spec, "k1", err, sizeof(err)));
	assert_int_equal(sb_jwt_keys_count(ks), 2);
	sb_jwt_keys_free(ks);

	assert_int_equal(sb_jwt_keys_count(NULL), 0);
}

/*
 * A bare key without SENTC_JWT_KEY_ID (the dashboard's .env has no key
 * id) verifies tokens whatever their kid: the signature alone decides.
 */
static void
test_keys_without_id(void **state)
{
	struct sb_jwt_keys	*ks;
	struct sb_jwt_claims	 c;
	char			 spec[SPEC_MAX], err[256], tok[TOK_MAX];
	static const char *const dflt[] = { NULL, "" };
	size_t			 i;

	for (i = 0; i < 2; i++) {
		assert_non_null(ks = sb_jwt_keys_parse(ka.b64, dflt[i], err,
		    sizeof(err)));
		assert_int_equal(sb_jwt_keys_count(ks), 1);
		assert_false(sb_jwt_keys_named(ks, ""));
		assert_false(sb_jwt_keys_named(ks, "k1"));
		mint(tok, &(struct mint){ 0 });
		assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
		assert_string_equal(c.aud, AUD);
		mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\","
		    "\"kid\":\"a-key-made-in-the-dashboard\"}" });
		assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
		mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\","
		    "\"kid\":\"\"}" });
		assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
		/* Another key's signature, whatever the kid: refused. */
		mint(tok, &(struct mint){ .key = kb.pk });
		assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_SIGNATURE);
		mint(tok, &(struct mint){ .hdr = HDR_K2, .key = kb.pk });
		assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_SIGNATURE);
		/* A kid is still needed, and ES384. */
		mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\"}" });
		assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_KEY);
		mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES384\","
		    "\"kid\":7}" });
		assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_KEY);
		mint(tok, &(struct mint){ .hdr = "{\"alg\":\"ES256\","
		    "\"kid\":\"k1\"}" });
		assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_ALG);
		sb_jwt_keys_free(ks);
	}

	/* Two without id: either one's signature holds. */
	put(spec, sizeof(spec), "%s %s", ka.b64, kb.b64);
	assert_non_null(ks = sb_jwt_keys_parse(spec, NULL, err, sizeof(err)));
	assert_int_equal(sb_jwt_keys_count(ks), 2);
	mint(tok, &(struct mint){ .hdr = HDR_K2, .key = kb.pk });
	assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
	mint(tok, &(struct mint){ .hdr = HDR_K2 });
	assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
	mint(tok, &(struct mint){ .key = kc.pk });
	assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_SIGNATURE);
	sb_jwt_keys_free(ks);

	/*
	 * Beside a key with an id: a kid that names it takes that key only;
	 * any other kid the key without id.
	 */
	put(spec, sizeof(spec), "k2:%s,%s", kb.b64, ka.b64);
	assert_non_null(ks = sb_jwt_keys_parse(spec, NULL, err, sizeof(err)));
	assert_true(sb_jwt_keys_named(ks, "k2"));
	assert_false(sb_jwt_keys_named(ks, "k1"));
	mint(tok, &(struct mint){ .hdr = HDR_K2, .key = kb.pk });
	assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
	mint(tok, &(struct mint){ 0 });
	assert_int_equal(verify(ks, tok, 0, &c), SB_OK);
	mint(tok, &(struct mint){ .hdr = HDR_K2 });
	assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_SIGNATURE);
	mint(tok, &(struct mint){ .key = kb.pk });
	assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_SIGNATURE);
	sb_jwt_keys_free(ks);

	/* With ids only, a kid that names none is SB_ERR_JWT_KEY. */
	put(spec, sizeof(spec), "k2:%s", kb.b64);
	assert_non_null(ks = sb_jwt_keys_parse(spec, NULL, err, sizeof(err)));
	mint(tok, &(struct mint){ 0 });
	assert_int_equal(verify(ks, tok, 0, &c), SB_ERR_JWT_KEY);
	assert_false(sb_jwt_keys_named(NULL, "k2"));
	sb_jwt_keys_free(ks);
}

static void
test_keys_parse_bad(void **state)
{
	struct {
		const char	*what;
		const char	*dflt;
		char		 spec[SPEC_MAX];
	}			*cases;
	struct sb_jwt_keys	*ks;
	unsigned char		 pt[POINT_LEN + 8];
	char			 err[256], kid[SB_KID_MAX + 2], *b64;
	size_t			 i, n = 0;
	int			 bad = 0;

	assert_non_null(cases = calloc(32, sizeof(*cases)));
#define CASE(w, d, ...) do {						\
	cases[n].what = (w);						\
	cases[n].dflt = (d);						\
	put(cases[n++].spec, SPEC_MAX, __VA_ARGS__);		\
} while (0)
#define POINT(w, p, len) do {						\
	cases[n].what = (w);						\
	spec_of(cases[n++].spec, SPEC_MAX, "k1", (p), (len));		\
} while (0)
	POINT("65-byte point", ka.pt, 65);
	POINT("96-byte point", ka.pt, 96);
	memcpy(pt, ka.pt, POINT_LEN);
	pt[POINT_LEN] = 0x00;
	POINT("98-byte point", pt, POINT_LEN + 1);
	memcpy(pt, ka.pt, POINT_LEN);
	pt[10] ^= 0x01;
	POINT("byte of X flipped, not on the curve", pt, POINT_LEN);
	memcpy(pt, ka.pt, POINT_LEN);
	pt[POINT_LEN - 1] ^= 0x01;
	POINT("byte of Y flipped, not on the curve", pt, POINT_LEN);
	memcpy(pt, ka.pt, POINT_LEN);
	pt[0] = 0x02;
	POINT("97 bytes with prefix 0x02", pt, POINT_LEN);
	pt[0] = 0x06 | (ka.pt[POINT_LEN - 1] & 1);
	POINT("hybrid point, prefix 0x06 or 0x07", pt, POINT_LEN);
	pt[0] = 0x02 | (ka.pt[POINT_LEN - 1] & 1);
	POINT("compressed point", pt, 49);
	memset(pt, 0, POINT_LEN);
	pt[0] = 0x04;
	POINT("point (0, 0)", pt, POINT_LEN);
	POINT("point at infinity", pt + 1, 1);
	CASE("bad base64", NULL, "k1:%.60s!!!!%s", ka.b64, ka.b64 + 64);
	CASE("base64 without its padding", NULL, "k1:%.130s", ka.b64);
	CASE("base64 with an extra pad", NULL, "k1:%s=", ka.b64);
	CASE("empty key", NULL, "k1:");
	CASE("empty spec", "k1", "%s", "");
	CASE("only separators", "k1", " ,\t, ");
	CASE("duplicate kid", NULL, "k1:%s,k1:%s", ka.b64, kb.b64);
	CASE("duplicate kid, one by default", "k1", "%s,k1:%s", ka.b64,
	    kb.b64);
	CASE("empty kid", NULL, ":%s", ka.b64);
	memset(kid, 'k', SB_KID_MAX + 1);
	kid[SB_KID_MAX + 1] = '\0';
	CASE("kid too long", NULL, "%s:%s", kid, ka.b64);
	CASE("a good key, then a bad one", NULL, "k1:%s,k2:%.130s", ka.b64,
	    kb.b64);
#undef CASE
#undef POINT
	assert_true(n <= 32);

	for (i = 0; i < n; i++) {
		err[0] = '\0';
		ks = sb_jwt_keys_parse(cases[i].spec, cases[i].dflt, err,
		    sizeof(err));
		if (ks != NULL) {
			print_error("%s: accepted\n", cases[i].what);
			sb_jwt_keys_free(ks);
			bad++;
			continue;
		}
		if (err[0] == '\0') {
			print_error("%s: no message\n", cases[i].what);
			bad++;
		}
		/* The message names the key, never its text. */
		b64 = strrchr(cases[i].spec, ':');
		b64 = b64 == NULL ? cases[i].spec : b64 + 1;
		if (strlen(b64) >= 16 &&
		    memmem(err, strlen(err), b64, 16) != NULL) {
			print_error("%s: message holds the key: %s\n",
			    cases[i].what, err);
			bad++;
		}
		if (memmem(err, strlen(err), ka.b64, 16) != NULL ||
		    memmem(err, strlen(err), kb.b64, 16) != NULL) {
			print_error("%s: message holds a key: %s\n",
			    cases[i].what, err);
			bad++;
		}
	}
	free(cases);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_token),
		cmocka_unit_test(test_minted_token_is_standard),
		cmocka_unit_test(test_valid_token_not_fresh),
		cmocka_unit_test(test_token_length),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_claims_types),
		cmocka_unit_test(test_claims_extreme),
		cmocka_unit_test(test_clock_extreme),
		cmocka_unit_test(test_cache_until),
		cmocka_unit_test(test_check_cached),
		cmocka_unit_test(test_kid),
		cmocka_unit_test(test_signature_minted),
		cmocka_unit_test(test_signature_tampered),
		cmocka_unit_test(test_alg),
		cmocka_unit_test(test_alg_hmac_with_public_key),
		cmocka_unit_test(test_crit),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_check_verdicts),
		cmocka_unit_test(test_keys_parse_good),
		cmocka_unit_test(test_keys_without_id),
		cmocka_unit_test(test_keys_parse_bad),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
