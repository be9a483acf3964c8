/*
 * test_cookie.c: the refresh cookie (sealing and opening, tampering,
 * binding to aud and sub, age, key rotation, bad keys, the format's two
 * versions, the Cookie header and Set-Cookie).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "extern.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Three keys: bytes 0..31, 100..131, and 32 times 0xa5. */
#define KEY_A	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B	"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="
#define KEY_C	"paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="

/* Nine good keys: 32 times 1, 2, ... 9. */
#define NINE_KEYS \
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=," \
	"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=," \
	"AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=," \
	"BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=," \
	"BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=," \
	"BgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgY=," \
	"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=," \
	"CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=," \
	"CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk="

#define AUD	"0f8fad5b-d9cb-469f-a165-70867728950e"
#define SUB	"7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define AUD2	"16fd2706-8baf-433b-82eb-8c7fada847da"
#define TOKEN	"rt-5b1f0c9a7e2d4c8fb3a6e1d0c9b8a7f6"
#define NOW	1800000000
#define MAX_AGE	604800

static struct sb_cookie_keys *
keys(const char *spec)
{
	struct sb_cookie_keys	*ks;
	char			 err[256];

	ks = sb_cookie_keys_parse(spec, err, sizeof(err));
	if (ks == NULL)
		fail_msg("keys \"%s\": %s", spec, err);
	return ks;
}

static long
seal(const struct sb_cookie_keys *ks, int64_t now, const char *aud,
    const char *sub, const char *tok, char *out, size_t outsz)
{
	return sb_cookie_seal(ks, now, aud, sub, tok, strlen(tok), out, outsz);
}

static enum sb_err
open_(const struct sb_cookie_keys *ks, int64_t now, const char *value,
    const char *aud, const char *sub, char *tok, size_t toksz)
{
	return sb_cookie_open(ks, now, MAX_AGE, value, strlen(value), aud,
	    sub, tok, toksz, NULL);
}

/* The length of a value sealed for AUD and SUB around tok, decoded. */
static size_t
sealed_len(const char *tok)
{
	return 1 + 12 + 8 + 1 + strlen(AUD) + 1 + strlen(SUB) + strlen(tok) +
	    16;
}

/*
 * Seals pt[0..ptlen) as the format says, written here from the format
 * and not from the library: version, a nonce of 12 bytes n, the
 * AES-256-GCM ciphertext under key with additional data aad, the tag;
 * base64url into out.
 */
static void
seal_raw(const unsigned char *key, unsigned char version,
    const unsigned char *aad, size_t aadlen, const unsigned char *pt,
    size_t ptlen, char *out, size_t outsz)
{
	unsigned char	 s[2048];
	EVP_CIPHER_CTX	*ctx;
	int		 n, fin;

	assert_true(1 + 12 + ptlen + 16 <= sizeof(s));
	s[0] = version;
	memset(s + 1, 0x42, 12);
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key,
	    s + 1), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen),
	    1);
	assert_int_equal(EVP_EncryptUpdate(ctx, s + 13, &n, pt, (int)ptlen),
	    1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, s + 13 + n, &fin), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16,
	    s + 13 + ptlen), 1);
	EVP_CIPHER_CTX_free(ctx);
	assert_true(sb_b64url_encode(s, 13 + ptlen + 16, out, outsz) > 0);
}

/* KEY_A's bytes. */
static void
key_a(unsigned char *k)
{
	int	 i;

	for (i = 0; i < 32; i++)
		k[i] = (unsigned char)i;
}

/* The big-endian seconds of t into p. */
static void
put_time(unsigned char *p, int64_t t)
{
	int	 i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)((uint64_t)t >> (56 - 8 * i));
}

/* ---- sealing and opening ----------------------------------------------- */

static void
test_round_trip(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	char			 v1[SB_COOKIE_VALUE_MAX + 1];
	char			 v2[SB_COOKIE_VALUE_MAX + 1];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];
	unsigned char		 raw[SB_COOKIE_VALUE_MAX], nonce[12];
	long			 n, i;

	n = seal(ks, NOW, AUD, SUB, TOKEN, v1, sizeof(v1));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(v1));
	/* base64url without padding: a cookie value needs no quoting. */
	for (i = 0; i < n; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
		    "opqrstuvwxyz0123456789-_", v1[i]));
	/* Version, nonce, sealing time, aud, sub and token, tag. */
	assert_int_equal(sb_b64url_decode(v1, (size_t)n, raw, sizeof(raw)),
	    sealed_len(TOKEN));
	assert_int_equal(raw[0], SB_COOKIE_VERSION);
	/* The token is not readable in the value. */
	assert_null(memmem(raw, (size_t)n * 3 / 4, TOKEN, strlen(TOKEN)));
	assert_null(strstr(v1, TOKEN));

	memset(tok, 'x', sizeof(tok));
	assert_int_equal(open_(ks, NOW, v1, AUD, SUB, tok, sizeof(tok)), SB_OK);
	assert_string_equal(tok, TOKEN);

	/* A fresh nonce each time: the same token seals differently. */
	assert_true(seal(ks, NOW, AUD, SUB, TOKEN, v2, sizeof(v2)) > 0);
	assert_string_not_equal(v1, v2);
	memcpy(nonce, raw + 1, sizeof(nonce));
	assert_int_equal(sb_b64url_decode(v2, strlen(v2), raw, sizeof(raw)),
	    sealed_len(TOKEN));
	assert_memory_not_equal(nonce, raw + 1, sizeof(nonce));
	assert_int_equal(open_(ks, NOW, v2, AUD, SUB, tok, sizeof(tok)), SB_OK);
	assert_string_equal(tok, TOKEN);
	sb_cookie_keys_free(ks);
}

static void
test_longest_token(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	char			 big[SB_REFRESH_TOKEN_MAX + 2];
	char			 v[SB_COOKIE_VALUE_MAX + 1];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];
	char			 id[SB_CLAIM_MAX + 1];

	memset(big, 'r', sizeof(big));
	big[SB_REFRESH_TOKEN_MAX] = '\0';
	/* The longest token, aud and sub make the longest value. */
	memset(id, 'i', SB_CLAIM_MAX);
	id[SB_CLAIM_MAX] = '\0';
	assert_int_equal(seal(ks, NOW, id, id, big, v, sizeof(v)),
	    SB_COOKIE_VALUE_MAX);
	assert_int_equal(open_(ks, NOW, v, id, id, tok, sizeof(tok)), SB_OK);
	assert_string_equal(tok, big);
	/* Too small a buffer for the token: refused, nothing written. */
	memset(tok, 'x', sizeof(tok));
	assert_int_equal(open_(ks, NOW, v, id, id, tok, SB_REFRESH_TOKEN_MAX),
	    SB_ERR_COOKIE);
	assert_int_equal(tok[0], 'x');

	/* One more byte is refused. */
	big[SB_REFRESH_TOKEN_MAX] = 'r';
	big[SB_REFRESH_TOKEN_MAX + 1] = '\0';
	assert_int_equal(seal(ks, NOW, AUD, SUB, big, v, sizeof(v)), -1);
	sb_cookie_keys_free(ks);
}

static void
test_seal_refuses(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	char			 v[SB_COOKIE_VALUE_MAX + 1], long_id[80];

	memset(long_id, 'a', sizeof(long_id));
	long_id[SB_CLAIM_MAX + 1] = '\0';
	assert_int_equal(seal(NULL, NOW, AUD, SUB, TOKEN, v, sizeof(v)), -1);
	assert_int_equal(seal(ks, NOW, AUD, SUB, "", v, sizeof(v)), -1);
	assert_int_equal(seal(ks, NOW, AUD, SUB, "rt\nx", v, sizeof(v)), -1);
	assert_int_equal(seal(ks, NOW, AUD, SUB, "rt\x7f", v, sizeof(v)), -1);
	assert_int_equal(seal(ks, NOW, "", SUB, TOKEN, v, sizeof(v)), -1);
	assert_int_equal(seal(ks, NOW, AUD, "", TOKEN, v, sizeof(v)), -1);
	assert_int_equal(seal(ks, NOW, long_id, SUB, TOKEN, v, sizeof(v)), -1);
	/* Too small an output. */
	assert_int_equal(seal(ks, NOW, AUD, SUB, TOKEN, v, 40), -1);
	/* An embedded NUL is a control character too. */
	assert_int_equal(sb_cookie_seal(ks, NOW, AUD, SUB, "ab\0cd", 5, v,
	    sizeof(v)), -1);
	sb_cookie_keys_free(ks);
}

/* Every single flipped bit anywhere in the value is refused. */
static void
test_tamper(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	char			 v[SB_COOKIE_VALUE_MAX + 1];
	char			 t[SB_COOKIE_VALUE_MAX + 1], huge[4096];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];
	unsigned char		 raw[SB_COOKIE_VALUE_MAX];
	long			 n, i;
	int			 bit, accepted = 0;

	assert_true(seal(ks, NOW, AUD, SUB, TOKEN, v, sizeof(v)) > 0);
	n = sb_b64url_decode(v, strlen(v), raw, sizeof(raw));
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			raw[i] ^= (unsigned char)(1 << bit);
			assert_true(sb_b64url_encode(raw, (size_t)n, t,
			    sizeof(t)) > 0);
			raw[i] ^= (unsigned char)(1 << bit);
			tok[0] = '\0';
			if (open_(ks, NOW, t, AUD, SUB, tok, sizeof(tok)) ==
			    SB_OK) {
				print_error("byte %ld bit %d: accepted\n", i, bit);
				accepted++;
			}
			assert_int_equal(tok[0], '\0');
		}
	assert_int_equal(accepted, 0);

	/* Truncated, extended, emptied, re-encoded. */
	memcpy(t, v, strlen(v) - 1);
	t[strlen(v) - 1] = '\0';
	assert_int_equal(open_(ks, NOW, t, AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	snprintf(t, sizeof(t), "%sAA", v);
	assert_int_equal(open_(ks, NOW, t, AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(ks, NOW, "", AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(ks, NOW, "AQ", AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	snprintf(t, sizeof(t), "%s=", v);
	assert_int_equal(open_(ks, NOW, t, AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	snprintf(t, sizeof(t), "%s", v);
	t[5] = '+';	/* standard base64, not base64url */
	assert_int_equal(open_(ks, NOW, t, AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	/* Only the header: version, nonce, time and tag, nothing else. */
	memset(raw + 1, 0, 12 + 8 + 16);
	assert_true(sb_b64url_encode(raw, 1 + 12 + 8 + 16, t,
	    sizeof(t)) > 0);
	assert_int_equal(open_(ks, NOW, t, AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	/* Far too long. */
	memset(huge, 'A', sizeof(huge));
	assert_int_equal(sb_cookie_open(ks, NOW, MAX_AGE, huge, sizeof(huge),
	    AUD, SUB, tok, sizeof(tok), NULL), SB_ERR_COOKIE);
	sb_cookie_keys_free(ks);
}

/*
 * A version the library does not know is refused even if it would open,
 * and a value of version 2 relabelled as version 1 does not open.
 */
static void
test_version(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	char			 v[SB_COOKIE_VALUE_MAX + 1];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];
	unsigned char		 raw[SB_COOKIE_VALUE_MAX], key[32], pt[256];
	unsigned char		 aad = 3;
	size_t			 n;
	long			 len;
	int			 i;

	assert_true(seal(ks, NOW, AUD, SUB, TOKEN, v, sizeof(v)) > 0);
	len = sb_b64url_decode(v, strlen(v), raw, sizeof(raw));
	for (i = 0; i <= 3; i++) {
		if (i == SB_COOKIE_VERSION)
			continue;
		raw[0] = (unsigned char)i;
		assert_true(sb_b64url_encode(raw, (size_t)len, v,
		    sizeof(v)) > 0);
		assert_int_equal(open_(ks, NOW, v, AUD, SUB, tok, sizeof(tok)),
		    SB_ERR_COOKIE);
	}
	/* Sealed as version 2 is, but labelled 3 and bound to it. */
	key_a(key);
	put_time(pt, NOW);
	n = 8;
	pt[n++] = (unsigned char)strlen(AUD);
	memcpy(pt + n, AUD, strlen(AUD));
	n += strlen(AUD);
	pt[n++] = (unsigned char)strlen(SUB);
	memcpy(pt + n, SUB, strlen(SUB));
	n += strlen(SUB);
	memcpy(pt + n, TOKEN, strlen(TOKEN));
	n += strlen(TOKEN);
	seal_raw(key, 3, &aad, 1, pt, n, v, sizeof(v));
	assert_int_equal(open_(ks, NOW, v, AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(ks, NOW, v, NULL, NULL, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	/* The same as version 2: it opens (the sealer above is right). */
	aad = 2;
	seal_raw(key, 2, &aad, 1, pt, n, v, sizeof(v));
	assert_int_equal(open_(ks, NOW, v, AUD, SUB, tok, sizeof(tok)), SB_OK);
	assert_string_equal(tok, TOKEN);
	sb_cookie_keys_free(ks);
}

/*
 * Version 1, which earlier releases sealed (the time and the token, with
 * aud and sub as additional data), still opens, but only for its aud
 * and sub: without them it cannot.
 */
static void
test_version_1(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	struct sb_cookie_info	 info;
	char			 v[SB_COOKIE_VALUE_MAX + 1];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];
	unsigned char		 key[32], pt[256], aad[160];
	size_t			 alen;

	key_a(key);
	put_time(pt, NOW - 100);
	memcpy(pt + 8, TOKEN, strlen(TOKEN));
	aad[0] = 1;
	memcpy(aad + 1, AUD, strlen(AUD) + 1);
	memcpy(aad + 2 + strlen(AUD), SUB, strlen(SUB));
	alen = 2 + strlen(AUD) + strlen(SUB);
	seal_raw(key, 1, aad, alen, pt, 8 + strlen(TOKEN), v, sizeof(v));

	memset(&info, 0, sizeof(info));
	assert_int_equal(sb_cookie_open(ks, NOW, MAX_AGE, v, strlen(v), AUD,
	    SUB, tok, sizeof(tok), &info), SB_OK);
	assert_string_equal(tok, TOKEN);
	assert_int_equal(info.version, SB_COOKIE_VERSION_1);
	assert_int_equal(info.sealed_at, NOW - 100);
	assert_string_equal(info.aud, AUD);
	assert_string_equal(info.sub, SUB);
	tok[0] = '\0';
	assert_int_equal(open_(ks, NOW, v, NULL, NULL, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(tok[0], '\0');
	assert_int_equal(open_(ks, NOW, v, AUD2, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(ks, NOW + MAX_AGE - 99, v, AUD, SUB, tok,
	    sizeof(tok)), SB_ERR_COOKIE);
	sb_cookie_keys_free(ks);
}

/*
 * Version 2's plaintext is refused unless it is whole: aud and sub of 1
 * to SB_CLAIM_MAX bytes without a NUL, then a token of at least a byte.
 */
static void
test_version_2_shape(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	static const struct {
		const char	*what;
		unsigned char	 alen;		/* the length byte of aud */
		const char	*aud;
		size_t		 audsz;
		const char	*tok;
		int		 opens;
	} cases[] = {
		{ "whole", 36, AUD, 36, TOKEN, 1 },
		{ "no token", 36, AUD, 36, "", 0 },
		{ "aud empty", 0, "", 0, TOKEN, 0 },
		{ "aud with a NUL", 36, "0f8fad5b-d9cb-469f-a165-7086772895\0e",
		    36, TOKEN, 0 },
		{ "aud of 65", 65, "0f8fad5b-d9cb-469f-a165-70867728950e"
		    "0f8fad5b-d9cb-469f-a165-70867", 65, TOKEN, 0 },
	};
	struct sb_cookie_info	 info;
	char			 v[SB_COOKIE_VALUE_MAX + 1];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];
	unsigned char		 key[32], pt[512], aad = 2;
	size_t			 i, n;
	int			 wrong = 0;
	enum sb_err		 e;

	key_a(key);
	for (i = 0; i < NELEM(cases); i++) {
		put_time(pt, NOW);
		n = 8;
		pt[n++] = cases[i].alen;
		memcpy(pt + n, cases[i].aud, cases[i].audsz);
		n += cases[i].audsz;
		pt[n++] = (unsigned char)strlen(SUB);
		memcpy(pt + n, SUB, strlen(SUB));
		n += strlen(SUB);
		memcpy(pt + n, cases[i].tok, strlen(cases[i].tok));
		n += strlen(cases[i].tok);
		seal_raw(key, 2, &aad, 1, pt, n, v, sizeof(v));
		e = sb_cookie_open(ks, NOW, MAX_AGE, v, strlen(v), NULL, NULL,
		    tok, sizeof(tok), &info);
		if ((e == SB_OK) != cases[i].opens) {
			print_error("%s: %d\n", cases[i].what, (int)e);
			wrong++;
		}
	}
	/* aud's length byte running past the end. */
	put_time(pt, NOW);
	pt[8] = 200;
	memcpy(pt + 9, AUD, 36);
	seal_raw(key, 2, &aad, 1, pt, 9 + 36, v, sizeof(v));
	if (open_(ks, NOW, v, NULL, NULL, tok, sizeof(tok)) == SB_OK) {
		print_error("aud past the end: opened\n");
		wrong++;
	}
	assert_int_equal(wrong, 0);
	sb_cookie_keys_free(ks);
}

/* A cookie opens only for the user and device it was sealed for. */
static void
test_bound_to_aud_and_sub(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	char			 v[SB_COOKIE_VALUE_MAX + 1];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];

	assert_true(seal(ks, NOW, AUD, SUB, TOKEN, v, sizeof(v)) > 0);
	assert_int_equal(open_(ks, NOW, v, AUD2, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(ks, NOW, v, AUD, AUD2, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(ks, NOW, v, SUB, AUD, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	/* No ambiguity in where aud ends and sub begins. */
	assert_int_equal(open_(ks, NOW, v, AUD "7", SUB + 1, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(ks, NOW, v, "", SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	/* aud without sub, or sub without aud, is no question. */
	assert_int_equal(open_(ks, NOW, v, AUD, NULL, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(ks, NOW, v, NULL, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(ks, NOW, v, AUD, SUB, tok, sizeof(tok)), SB_OK);
	sb_cookie_keys_free(ks);
}

/* Without aud and sub (logout), a cookie opens and says whose it is. */
static void
test_open_for_anyone(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	struct sb_cookie_info	 info;
	char			 v[SB_COOKIE_VALUE_MAX + 1];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];

	assert_true(seal(ks, NOW - 5, AUD, SUB, TOKEN, v, sizeof(v)) > 0);
	memset(&info, 0, sizeof(info));
	assert_int_equal(sb_cookie_open(ks, NOW, MAX_AGE, v, strlen(v), NULL,
	    NULL, tok, sizeof(tok), &info), SB_OK);
	assert_string_equal(tok, TOKEN);
	assert_int_equal(info.version, SB_COOKIE_VERSION);
	assert_int_equal(info.sealed_at, NOW - 5);
	assert_string_equal(info.aud, AUD);
	assert_string_equal(info.sub, SUB);
	/* Still only within its age, and only with a listed key. */
	assert_int_equal(open_(ks, NOW - 5 + MAX_AGE + 1, v, NULL, NULL, tok,
	    sizeof(tok)), SB_ERR_COOKIE);
	sb_cookie_keys_free(ks);
	ks = keys(KEY_B);
	assert_int_equal(open_(ks, NOW, v, NULL, NULL, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	sb_cookie_keys_free(ks);
}

/* The sealing time inside bounds the cookie's life as Max-Age does. */
static void
test_age(void **state)
{
	struct sb_cookie_keys	*ks = keys(KEY_A);
	char			 v[SB_COOKIE_VALUE_MAX + 1];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];

	assert_true(seal(ks, NOW, AUD, SUB, TOKEN, v, sizeof(v)) > 0);
	assert_int_equal(open_(ks, NOW + MAX_AGE, v, AUD, SUB, tok,
	    sizeof(tok)), SB_OK);
	assert_int_equal(open_(ks, NOW + MAX_AGE + 1, v, AUD, SUB, tok,
	    sizeof(tok)), SB_ERR_COOKIE);
	assert_int_equal(sb_cookie_open(ks, NOW + 61, 60, v, strlen(v), AUD,
	    SUB, tok, sizeof(tok), NULL), SB_ERR_COOKIE);
	/* Sealed by a host whose clock runs a little ahead: fine. */
	assert_int_equal(open_(ks, NOW - SB_COOKIE_SKEW, v, AUD, SUB, tok,
	    sizeof(tok)), SB_OK);
	/* Far in the future: not a cookie this backend made. */
	assert_int_equal(open_(ks, NOW - SB_COOKIE_SKEW - 1, v, AUD, SUB, tok,
	    sizeof(tok)), SB_ERR_COOKIE);
	sb_cookie_keys_free(ks);
}

/* ---- keys and rotation -------------------------------------------------- */

static void
test_rotation(void **state)
{
	struct sb_cookie_keys	*a = keys(KEY_A), *b = keys(KEY_B);
	struct sb_cookie_keys	*ba = keys(KEY_B ", " KEY_A);
	struct sb_cookie_keys	*cba = keys(KEY_C "," KEY_B "," KEY_A);
	char			 old[SB_COOKIE_VALUE_MAX + 1];
	char			 cur[SB_COOKIE_VALUE_MAX + 1];
	char			 tok[SB_REFRESH_TOKEN_MAX + 1];

	assert_int_equal(sb_cookie_keys_count(ba), 2);
	assert_int_equal(sb_cookie_keys_count(cba), 3);

	/* A cookie of the old key opens once a new key is listed first. */
	assert_true(seal(a, NOW, AUD, SUB, TOKEN, old, sizeof(old)) > 0);
	assert_int_equal(open_(ba, NOW, old, AUD, SUB, tok, sizeof(tok)),
	    SB_OK);
	assert_string_equal(tok, TOKEN);
	assert_int_equal(open_(cba, NOW, old, AUD, SUB, tok, sizeof(tok)),
	    SB_OK);
	/* ... but not once the old key is gone. */
	assert_int_equal(open_(b, NOW, old, AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);

	/* New cookies are sealed with the first key only. */
	assert_true(seal(ba, NOW, AUD, SUB, TOKEN, cur, sizeof(cur)) > 0);
	assert_int_equal(open_(b, NOW, cur, AUD, SUB, tok, sizeof(tok)), SB_OK);
	assert_int_equal(open_(a, NOW, cur, AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);
	assert_int_equal(open_(NULL, NOW, cur, AUD, SUB, tok, sizeof(tok)),
	    SB_ERR_COOKIE);

	sb_cookie_keys_free(a);
	sb_cookie_keys_free(b);
	sb_cookie_keys_free(ba);
	sb_cookie_keys_free(cba);
}

static void
test_keys_parse(void **state)
{
	static const struct {
		const char	*spec;
		size_t		 n;
	} good[] = {
		{ KEY_A, 1 },
		{ "  " KEY_A "  ", 1 },
		{ KEY_A "," KEY_B, 2 },
		{ KEY_A " ,\t" KEY_B " , " KEY_C, 3 },
	};
	/* What may go wrong, and the position the message names. */
	static const struct {
		const char	*what, *spec, *needle, *secret;
	} bad[] = {
		{ "not base64", "not-a-key!", "key 1", "not-a-key!" },
		{ "31 bytes", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
		    "key 1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg" },
		{ "33 bytes", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g",
		    "key 1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g" },
		{ "base64url alphabet",
		    "-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s=", "key 1",
		    "-_v7-_v7-_v7" },
		{ "no padding", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		    "key 1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8" },
		{ "second bad", KEY_A ",AAAA", "key 2", KEY_A },
		{ "empty in the middle", KEY_A ",," KEY_B, "key 2", KEY_B },
		{ "trailing comma", KEY_A ",", "key 2", KEY_A },
		{ "a key repeated", KEY_A "," KEY_B "," KEY_A, "key 3", KEY_A },
		{ "nine keys", NINE_KEYS, "more than 8", "AQEBAQEBAQEB" },
		{ "far too long", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A"
		    "AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "key 1",
		    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A" },
	};
	struct sb_cookie_keys	*ks;
	char			 err[256];
	size_t			 i;
	int			 wrong = 0;

	for (i = 0; i < NELEM(good); i++) {
		ks = sb_cookie_keys_parse(good[i].spec, err, sizeof(err));
		if (ks == NULL || sb_cookie_keys_count(ks) != good[i].n) {
			print_error("\"%s\": %s\n", good[i].spec, err);
			wrong++;
		}
		sb_cookie_keys_free(ks);
	}
	for (i = 0; i < NELEM(bad); i++) {
		err[0] = '\0';
		ks = sb_cookie_keys_parse(bad[i].spec, err, sizeof(err));
		if (ks != NULL || strstr(err, "SENTC_BACKEND_COOKIE_KEY") ==
		    NULL || strstr(err, bad[i].needle) == NULL ||
		    strstr(err, bad[i].secret) != NULL) {
			print_error("%s: %s \"%s\"\n", bad[i].what,
			    ks != NULL ? "accepted" : "message", err);
			wrong++;
		}
		sb_cookie_keys_free(ks);
	}
	assert_int_equal(wrong, 0);

	/* None configured: no set, no message. */
	snprintf(err, sizeof(err), "x");
	assert_null(sb_cookie_keys_parse("", err, sizeof(err)));
	assert_string_equal(err, "");
	assert_null(sb_cookie_keys_parse(" \t ", err, sizeof(err)));
	assert_string_equal(err, "");
	assert_int_equal(sb_cookie_keys_count(NULL), 0);
	sb_cookie_keys_free(NULL);
}

/* ---- the Cookie header --------------------------------------------------- */

static void
test_find(void **state)
{
	static const struct {
		const char	*hdr;
		size_t		 n;
		const char	*first, *second;
	} cases[] = {
		{ "sentc_refresh=v1", 1, "v1", NULL },
		{ "a=b; sentc_refresh=v1; c=d", 1, "v1", NULL },
		{ "a=b;sentc_refresh=v1;c=d", 1, "v1", NULL },
		{ "  sentc_refresh = v1  ;", 1, "v1", NULL },
		{ "sentc_refresh=\"v1\"", 1, "v1", NULL },
		{ "sentc_refresh=\"\"", 1, "", NULL },
		{ "sentc_refresh=\"", 0, NULL, NULL },
		{ "sentc_refresh=\"v1", 0, NULL, NULL },
		{ "sentc_refresh=\"\"v1\"\"", 0, NULL, NULL },
		{ "sentc_refresh=\" v1\"; sentc_refresh=v2", 1, "v2", NULL },
		{ "sentc_refresh=v 1; sentc_refresh=v2", 1, "v2", NULL },
		{ "sentc_refresh=v,1; sentc_refresh=v\\2; sentc_refresh=v3", 1,
		    "v3", NULL },
		{ "sentc_refresh=v\t1; sentc_refresh=v\x01; sentc_refresh=\xc3\xa9",
		    0, NULL, NULL },
		{ "sentc_refresh=", 1, "", NULL },
		{ "sentc_refresh=a=b", 1, "a=b", NULL },
		{ "sentc_refresh=v1; sentc_refresh=v2", 2, "v1", "v2" },
		{ "x=1; sentc_refresh=v1;; ;sentc_refresh=v2", 2, "v1", "v2" },
		{ "", 0, NULL, NULL },
		{ ";;;", 0, NULL, NULL },
		{ "sentc_refresh", 0, NULL, NULL },
		{ "sentc_refreshv1", 0, NULL, NULL },
		{ "xsentc_refresh=v1", 0, NULL, NULL },
		{ "sentc_refresh_x=v1", 0, NULL, NULL },
		{ "SENTC_REFRESH=v1", 0, NULL, NULL },
		{ "a=sentc_refresh=v1", 0, NULL, NULL },
		{ "=v1", 0, NULL, NULL },
	};
	struct sb_span	 v[4];
	size_t		 i, n;
	int		 wrong = 0;

	for (i = 0; i < NELEM(cases); i++) {
		n = sb_cookie_find(cases[i].hdr, strlen(cases[i].hdr),
		    "sentc_refresh", v, NELEM(v));
		if (n != cases[i].n ||
		    (n > 0 && (v[0].len != strlen(cases[i].first) ||
		    memcmp(v[0].p, cases[i].first, v[0].len) != 0)) ||
		    (n > 1 && (v[1].len != strlen(cases[i].second) ||
		    memcmp(v[1].p, cases[i].second, v[1].len) != 0))) {
			print_error("\"%s\": %zu found\n", cases[i].hdr, n);
			wrong++;
		}
	}
	assert_int_equal(wrong, 0);
}

static void
test_find_bounds(void **state)
{
	static const char	 hdr[] = "sentc_refresh=v1; sentc_refresh=v2; "
	    "sentc_refresh=v3";
	struct sb_span		 v[2];

	/* At most max values. */
	assert_int_equal(sb_cookie_find(hdr, strlen(hdr), "sentc_refresh", v,
	    2), 2);
	assert_int_equal(v[1].len, 2);
	assert_memory_equal(v[1].p, "v2", 2);
	/* Nothing past len is read: the header need not end in a NUL. */
	assert_int_equal(sb_cookie_find(hdr, 15, "sentc_refresh", v, 2), 1);
	assert_int_equal(v[0].len, 1);
	assert_int_equal(sb_cookie_find(hdr, 13, "sentc_refresh", v, 2), 0);
	assert_int_equal(sb_cookie_find(hdr, 0, "sentc_refresh", v, 2), 0);
}

/*
 * sb_cookie_next() goes on where it stopped, past any number of values
 * (the real one may follow many planted ones).
 */
static void
test_next(void **state)
{
	char		 hdr[4096], want[16];
	struct sb_span	 v;
	size_t		 len = 0, pos = 0, i;

	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(hdr + len, sizeof(hdr) - len,
		    "%ssentc_refresh=v%zu; x%zu=y", i ? "; " : "", i, i);
	for (i = 0; i < 100; i++) {
		assert_true(sb_cookie_next(hdr, len, "sentc_refresh", &pos,
		    &v));
		snprintf(want, sizeof(want), "v%zu", i);
		assert_int_equal(v.len, strlen(want));
		assert_memory_equal(v.p, want, v.len);
	}
	assert_false(sb_cookie_next(hdr, len, "sentc_refresh", &pos, &v));
	assert_int_equal(pos, len);
	assert_false(sb_cookie_next(hdr, len, "sentc_refresh", &pos, &v));
	/* A position past the end finds nothing. */
	pos = len + 1;
	assert_false(sb_cookie_next(hdr, len, "sentc_refresh", &pos, &v));
}

static void
test_name_valid(void **state)
{
	static const char *const good[] = {
		"sentc_refresh", "__Secure-sb", "a", "A.b-c~d!e#f$g%h&i'j*k+l^m`n|o",
	};
	static const char *const bad[] = {
		"", "a b", "a;b", "a=b", "a,b", "a\"b", "a/b", "a\tb", "a\x01",
		"\xc3\xa4", "a(b)", "a[b]", "a{b}", "a?b", "a@b", "a:b", "a\\b",
		"a<b>",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	size_t	 i;
	int	 wrong = 0;

	for (i = 0; i < NELEM(good); i++)
		if (!sb_cookie_name_valid(good[i])) {
			print_error("\"%s\" refused\n", good[i]);
			wrong++;
		}
	for (i = 0; i < NELEM(bad); i++)
		if (sb_cookie_name_valid(bad[i])) {
			print_error("\"%s\" accepted\n", bad[i]);
			wrong++;
		}
	assert_int_equal(wrong, 0);
}

static void
test_format(void **state)
{
	char	 out[256];

	assert_int_equal(sb_cookie_format(out, sizeof(out), "sentc_refresh",
	    "abc", SB_COOKIE_PATH, 604800), 0);
	assert_string_equal(out, "sentc_refresh=abc; Path=/backend; "
	    "Max-Age=604800; HttpOnly; Secure; SameSite=Strict");
	assert_int_equal(sb_cookie_format(out, sizeof(out), "n", "",
	    SB_COOKIE_OLD_PATH, 0), 0);
	assert_string_equal(out, "n=; Path=/backend/refresh; Max-Age=0; "
	    "HttpOnly; Secure; SameSite=Strict");
	assert_int_equal(sb_cookie_format(out, 20, "sentc_refresh", "abc",
	    SB_COOKIE_PATH, 60), -1);
}

/* ---- the session body's refresh_token ------------------------------------- */

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_longest_token),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_version_1),
		cmocka_unit_test(test_version_2_shape),
		cmocka_unit_test(test_bound_to_aud_and_sub),
		cmocka_unit_test(test_open_for_anyone),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_keys_parse),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_find_bounds),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
