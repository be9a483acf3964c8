/*
 * driver_cookie_open.c: sb_cookie_open(), the refresh cookie's
 * decryption: base64url, version, AES-256-GCM under each listed key, the
 * binding to aud and sub, the sealing time, the token.
 *
 * The keys are test keys made for this driver: k1 and k2 are listed (k1
 * first), k3 is not. Input: byte 0 says how the rest is used.
 *
 * Bit 0 clear: the rest is "aud\nsub\nvalue" (or only a value, for the
 * default aud and sub), opened at NOW, for aud and sub, or with bit 1
 * set for nobody in particular (as logout opens). The driver's own
 * opener, written from the format in sb_cookie.h, says whether it must
 * open and to which token: a value opens exactly when it was sealed with
 * a listed key, at a time that is neither too old nor too far ahead,
 * around a token sb_cookie_seal() would take, and, for version 2, holds
 * that very aud and sub (any, for nobody in particular) and, for version
 * 1, was bound to that very aud and sub (never for nobody). Nothing is
 * written to the token buffer otherwise.
 *
 * Bit 0 set: the rest is "token\nmutation bytes". The token is sealed
 * (with k1, k2 or k3 as bits 1-2 say, at a time bits 3-5 pick from
 * inside, at and outside the age window), by the library as version 2,
 * or with bit 6 set by the driver itself as version 1, and then checked:
 * the seal opens to the same token exactly when the key is listed and
 * the time is in the window, also for nobody in particular when it is
 * version 2, and then says when and for whom it was sealed; it never
 * opens for another aud or sub; and changing any one byte of the value,
 * or of the sealed bytes under it (the mutation bytes, at most MUT_MAX,
 * say which bytes and how), or cutting it short, or adding a character,
 * never opens.
 */
#include <stdbool.h>

#include <openssl/evp.h>

#include "fuzz.h"
#include "extern.h"

#define NOW		1800000000LL
#define MAX_AGE		3600L
#define NONCE_LEN	12
#define TAG_LEN		16
#define TIME_LEN	8
#define SEALED_MAX	(SB_COOKIE_OVERHEAD + SB_REFRESH_TOKEN_MAX)
#define MUT_MAX		64	/* mutation bytes used: 32 changes each way */

#define AUD	"0f8fad5b-d9cb-469f-a165-70867728950e"
#define SUB	"7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define AUD2	"16fd2706-8baf-433b-82eb-8c7fada847da"

/* Test keys: 32 bytes each, base64. */
static const char *const key_b64[3] = {
	"MBxZUbQ1YqHsXMBCSrmDbOIAw3PMgTAMM+t+pmI6IF8=",
	"/ySkaZ0DG63vlp6hvfEOph3NL3LChrLrIEuZjtEyFeA=",
	"mLSAqYJXdmGzXdrCRXtqcmwUAua520ON7km+dudZgPY=",
};
static unsigned char	 raw[3][SB_COOKIE_KEY_LEN];
static struct sb_cookie_keys *listed;		/* k1, k2 */
static struct sb_cookie_keys *one[3];		/* each alone, to seal */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 spec[128], err[256];
	int	 i;

	for (i = 0; i < 3; i++) {
		if (EVP_DecodeBlock(raw[i], (const unsigned char *)key_b64[i],
		    44) != 33 || (one[i] = sb_cookie_keys_parse(key_b64[i],
		    err, sizeof(err))) == NULL)
			abort();
	}
	snprintf(spec, sizeof(spec), "%s, %s", key_b64[0], key_b64[1]);
	if ((listed = sb_cookie_keys_parse(spec, err, sizeof(err))) == NULL ||
	    sb_cookie_keys_count(listed) != 2)
		abort();
	return 0;
}

static size_t
b64url(const unsigned char *in, size_t len, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t	 i, n = 0;

	for (i = 0; i + 2 < len; i += 3) {
		out[n++] = abc[in[i] >> 2];
		out[n++] = abc[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[n++] = abc[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		out[n++] = abc[in[i + 2] & 63];
	}
	if (len - i == 1) {
		out[n++] = abc[in[i] >> 2];
		out[n++] = abc[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		out[n++] = abc[in[i] >> 2];
		out[n++] = abc[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[n++] = abc[(in[i + 1] & 15) << 2];
	}
	out[n] = '\0';
	return n;
}

/*
 * AES-256-GCM decryption of sealed s[0..n) under key with additional
 * data aad[0..alen); 1 if the tag holds.
 */
static int
gcm_open(const unsigned char *key, const unsigned char *s, size_t n,
    const unsigned char *aad, size_t alen, unsigned char *pt)
{
	EVP_CIPHER_CTX	*ctx;
	size_t		 ct = n - 1 - NONCE_LEN - TAG_LEN;
	int		 len, fin, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		abort();
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) ==
	    1 && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN,
	    NULL) == 1 && EVP_DecryptInit_ex(ctx, NULL, NULL, key, s + 1) ==
	    1 && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)alen) ==
	    1 && EVP_DecryptUpdate(ctx, pt, &len, s + 1 + NONCE_LEN,
	    (int)ct) == 1 && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    TAG_LEN, (void *)(s + 1 + NONCE_LEN + ct)) == 1 &&
	    EVP_DecryptFinal_ex(ctx, pt + len, &fin) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* Version 1's additional data for aud and sub; its length. */
static size_t
aad_v1(unsigned char *aad, const char *aud, const char *sub)
{
	size_t	 al = strlen(aud), sl = strlen(sub);

	aad[0] = 1;
	memcpy(aad + 1, aud, al + 1);
	memcpy(aad + 2 + al, sub, sl);
	return 2 + al + sl;
}

/*
 * Reads a length byte and that many bytes of pt[*at..ct) as an id into
 * id: 1 if they are there, 1 to SB_CLAIM_MAX of them and no NUL.
 */
static bool
take_id(const unsigned char *pt, size_t ct, size_t *at, char *id)
{
	size_t	 l;

	if (*at + 1 > ct)
		return false;
	l = pt[*at];
	if (l < 1 || l > SB_CLAIM_MAX || *at + 1 + l > ct ||
	    memchr(pt + *at + 1, 0, l) != NULL)
		return false;
	memcpy(id, pt + *at + 1, l);
	id[l] = '\0';
	*at += 1 + l;
	return true;
}

/*
 * What opening v[0..vlen) at NOW must give, for aud and sub, or for
 * nobody in particular when they are NULL: true with the token in tok
 * (*toklen bytes), the time and ids it was sealed with, or false.
 */
static bool
oracle(const char *v, size_t vlen, const char *aud, const char *sub,
    char *tok, size_t *toklen, int64_t *when, char *who, char *dev)
{
	unsigned char	 s[SEALED_MAX + 1], pt[SEALED_MAX];
	unsigned char	 aad[2 + 2 * SB_CLAIM_MAX];
	size_t		 ct, i, k, alen, at = TIME_LEN;
	int64_t		 t = 0;
	long		 n;

	if (aud != NULL && (strlen(aud) == 0 || strlen(aud) > SB_CLAIM_MAX ||
	    strlen(sub) == 0 || strlen(sub) > SB_CLAIM_MAX))
		return false;
	if (vlen > SB_COOKIE_VALUE_MAX ||
	    (n = fuzz_unb64url(v, vlen, s, sizeof(s), 1)) < 0 ||
	    (size_t)n < 1 + NONCE_LEN + TIME_LEN + 1 + TAG_LEN ||
	    (size_t)n > SEALED_MAX)
		return false;
	if (s[0] == 2) {
		aad[0] = 2;
		alen = 1;
	} else if (s[0] == 1 && aud != NULL)
		alen = aad_v1(aad, aud, sub);
	else
		return false;
	ct = (size_t)n - 1 - NONCE_LEN - TAG_LEN;
	for (k = 0; k < 2; k++)		/* the listed keys */
		if (gcm_open(raw[k], s, (size_t)n, aad, alen, pt))
			break;
	if (k == 2)
		return false;
	for (i = 0; i < TIME_LEN; i++)
		t = (int64_t)((uint64_t)t << 8 | pt[i]);
	if (t <= 0 || t > NOW + SB_COOKIE_SKEW || NOW - t > MAX_AGE)
		return false;
	if (s[0] == 2) {
		if (!take_id(pt, ct, &at, who) || !take_id(pt, ct, &at, dev) ||
		    (aud != NULL && (strcmp(who, aud) != 0 ||
		    strcmp(dev, sub) != 0)))
			return false;
	} else {
		snprintf(who, SB_CLAIM_MAX + 1, "%s", aud);
		snprintf(dev, SB_CLAIM_MAX + 1, "%s", sub);
	}
	/* A token sb_cookie_seal() would take: 1 to 1024 bytes. */
	if (at >= ct || ct - at > SB_REFRESH_TOKEN_MAX)
		return false;
	*toklen = ct - at;
	for (i = 0; i < *toklen; i++)
		if (pt[at + i] < 0x20 || pt[at + i] == 0x7f)
			return false;
	memcpy(tok, pt + at, *toklen);
	*when = t;
	return true;
}

/*
 * Opens with the library into tok and info; checks nothing is written
 * on a refusal.
 */
static bool
lib_open(const char *v, size_t vlen, const char *aud, const char *sub,
    char *tok, struct sb_cookie_info *info)
{
	char			 canary[SB_REFRESH_TOKEN_MAX + 1];
	struct sb_cookie_info	 cinfo;
	enum sb_err		 e;

	memset(tok, 0x5a, SB_REFRESH_TOKEN_MAX + 1);
	memset(canary, 0x5a, sizeof(canary));
	memset(info, 0x5a, sizeof(*info));
	memset(&cinfo, 0x5a, sizeof(cinfo));
	e = sb_cookie_open(listed, NOW, MAX_AGE, v, vlen, aud, sub, tok,
	    SB_REFRESH_TOKEN_MAX + 1, info);
	FUZZ_CHECK(e == SB_OK || e == SB_ERR_COOKIE, "open gave %d", (int)e);
	if (e != SB_OK) {
		FUZZ_CHECK(memcmp(tok, canary, sizeof(canary)) == 0,
		    "a refusal wrote the token buffer");
		FUZZ_CHECK(memcmp(info, &cinfo, sizeof(cinfo)) == 0,
		    "a refusal wrote the info");
	}
	return e == SB_OK;
}

/*
 * Checks the library against the oracle on one value, for aud and sub
 * (NULL: nobody in particular).
 */
static bool
check(const char *v, size_t vlen, const char *aud, const char *sub)
{
	char			 got[SB_REFRESH_TOKEN_MAX + 1];
	char			 want[SB_REFRESH_TOKEN_MAX + 1];
	char			 who[SB_CLAIM_MAX + 1], dev[SB_CLAIM_MAX + 1];
	struct sb_cookie_info	 info;
	char			*copy;
	size_t			 wlen = 0;
	int64_t			 when = 0;
	bool			 ok, wok;

	/* Exactly vlen bytes, no NUL after them. */
	if ((copy = malloc(vlen > 0 ? vlen : 1)) == NULL)
		abort();
	memcpy(copy, v, vlen);
	ok = lib_open(copy, vlen, aud, sub, got, &info);
	wok = oracle(copy, vlen, aud, sub, want, &wlen, &when, who, dev);
	free(copy);
	FUZZ_CHECK(ok == wok, "opened: %d, must open: %d", ok, wok);
	if (ok) {
		FUZZ_CHECK(strlen(got) == wlen && memcmp(got, want, wlen) == 0,
		    "opened to another token");
		FUZZ_CHECK(wlen >= 1 && wlen <= SB_REFRESH_TOKEN_MAX &&
		    sb_printable(got, wlen), "a token sealing would refuse");
		FUZZ_CHECK(info.sealed_at == when, "sealed at %lld, not %lld",
		    (long long)info.sealed_at, (long long)when);
		FUZZ_CHECK(strcmp(info.aud, who) == 0 &&
		    strcmp(info.sub, dev) == 0, "sealed for another aud or sub");
		FUZZ_CHECK(info.version == 1 || info.version == 2,
		    "version %d", info.version);
		FUZZ_CHECK(aud != NULL || info.version == 2,
		    "version 1 opened without aud and sub");
	}
	return ok;
}

/* Seal times: inside the window, at its edges and past them. */
static const int64_t ages[8] = {
	0, 1, MAX_AGE, MAX_AGE + 1, -SB_COOKIE_SKEW, -SB_COOKIE_SKEW - 1,
	NOW, NOW - 1,
};

/*
 * Seals token[0..len) for AUD and SUB at time at under key as version 1
 * did, into v (base64url); the length, or -1 for a token sealing would
 * refuse.
 */
static long
seal_v1(const unsigned char *key, int64_t at, const char *token,
    size_t len, char *v)
{
	EVP_CIPHER_CTX	*ctx;
	unsigned char	 s[SEALED_MAX], pt[TIME_LEN + SB_REFRESH_TOKEN_MAX];
	unsigned char	 aad[2 + 2 * SB_CLAIM_MAX];
	size_t		 alen, i;
	int		 n, fin;

	if (len < 1 || len > SB_REFRESH_TOKEN_MAX ||
	    !fuzz_printable(token, len) || memchr(token, 0, len) != NULL)
		return -1;
	for (i = 0; i < TIME_LEN; i++)
		pt[i] = (unsigned char)((uint64_t)at >> (56 - 8 * i));
	memcpy(pt + TIME_LEN, token, len);
	alen = aad_v1(aad, AUD, SUB);
	s[0] = 1;
	memset(s + 1, 0x17, NONCE_LEN);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, s + 1) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)alen) != 1 ||
	    EVP_EncryptUpdate(ctx, s + 1 + NONCE_LEN, &n, pt,
	    (int)(TIME_LEN + len)) != 1 ||
	    EVP_EncryptFinal_ex(ctx, s + 1 + NONCE_LEN + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    s + 1 + NONCE_LEN + TIME_LEN + len) != 1)
		abort();
	EVP_CIPHER_CTX_free(ctx);
	return (long)b64url(s, 1 + NONCE_LEN + TIME_LEN + len + TAG_LEN, v);
}

static void
sealed_mode(const uint8_t *data, size_t size, unsigned mode)
{
	char			 v[SB_COOKIE_VALUE_MAX + 2];
	char			 w[SB_COOKIE_VALUE_MAX + 2];
	char			 got[SB_REFRESH_TOKEN_MAX + 1];
	struct sb_cookie_info	 info;
	unsigned char		 s[SEALED_MAX + 1];
	const uint8_t		*nl, *mut = NULL;
	size_t			 toklen = size, nmut = 0, i, pos;
	unsigned		 key = (mode >> 1 & 3) % 3;
	int64_t			 at = NOW - ages[mode >> 3 & 7];
	long			 vlen, n;
	bool			 valid, opens, v1 = mode & 0x40;

	if ((nl = memchr(data, '\n', size)) != NULL) {
		toklen = (size_t)(nl - data);
		mut = nl + 1;
		nmut = size - toklen - 1;
		if (nmut > MUT_MAX)
			nmut = MUT_MAX;
	}
	valid = toklen >= 1 && toklen <= SB_REFRESH_TOKEN_MAX &&
	    sb_printable((const char *)data, toklen);
	if (v1)
		vlen = seal_v1(raw[key], at, (const char *)data, toklen, v);
	else
		vlen = sb_cookie_seal(one[key], at, AUD, SUB,
		    (const char *)data, toklen, v, sizeof(v));
	FUZZ_CHECK((vlen >= 0) == valid, "sealing a token of %zu bytes: %ld",
	    toklen, vlen);
	if (vlen < 0)
		return;
	FUZZ_CHECK((size_t)vlen == strlen(v) && (size_t)vlen <=
	    SB_COOKIE_VALUE_MAX, "sealed value of %ld bytes", vlen);

	opens = key < 2 && at > 0 && at <= NOW + SB_COOKIE_SKEW &&
	    NOW - at <= MAX_AGE;
	FUZZ_CHECK(check(v, (size_t)vlen, AUD, SUB) == opens,
	    "key %u, sealed at NOW - %lld: opens must be %d", key + 1,
	    (long long)(NOW - at), opens);
	FUZZ_CHECK(check(v, (size_t)vlen, NULL, NULL) == (opens && !v1),
	    "version %d for nobody in particular: opens must be %d",
	    v1 ? 1 : 2, opens && !v1);
	if (opens) {
		FUZZ_CHECK(lib_open(v, (size_t)vlen, AUD, SUB, got, &info) &&
		    strlen(got) == toklen && memcmp(got, data, toklen) == 0,
		    "the seal does not give its token back");
		FUZZ_CHECK(info.sealed_at == at && info.version ==
		    (v1 ? 1 : 2) && strcmp(info.aud, AUD) == 0 &&
		    strcmp(info.sub, SUB) == 0, "the seal does not say when, "
		    "how and for whom it was made");
		FUZZ_CHECK(!check(v, (size_t)vlen, AUD2, SUB),
		    "opened for another aud");
		FUZZ_CHECK(!check(v, (size_t)vlen, AUD, AUD2),
		    "opened for another sub");
		FUZZ_CHECK(!check(v, (size_t)vlen, SUB, AUD),
		    "opened with aud and sub swapped");
	}

	/* One byte of the value changed. */
	for (i = 0; i + 1 < nmut; i += 2) {
		pos = mut[i] % (size_t)vlen;
		memcpy(w, v, (size_t)vlen + 1);
		w[pos] = (char)(w[pos] ^ (mut[i + 1] | 1));
		FUZZ_CHECK(!check(w, (size_t)vlen, AUD, SUB) &&
		    !check(w, (size_t)vlen, NULL, NULL),
		    "opened with byte %zu of the value changed", pos);
	}
	/* One byte of the sealed bytes changed, encoded again. */
	n = sb_b64url_decode(v, (size_t)vlen, s, sizeof(s));
	FUZZ_CHECK(n > 0, "a sealed value does not decode");
	for (i = 0; i + 1 < nmut; i += 2) {
		pos = mut[i + 1] % (size_t)n;
		s[pos] ^= (unsigned char)(mut[i] | 1);
		b64url(s, (size_t)n, w);
		FUZZ_CHECK(!check(w, strlen(w), AUD, SUB) &&
		    !check(w, strlen(w), NULL, NULL),
		    "opened with sealed byte %zu changed", pos);
		s[pos] ^= (unsigned char)(mut[i] | 1);
	}
	/* Cut short, or grown by one character. */
	if (nmut > 0) {
		FUZZ_CHECK(!check(v, (size_t)vlen - 1 - mut[0] % (size_t)vlen,
		    AUD, SUB), "opened cut short");
		memcpy(w, v, (size_t)vlen);
		w[vlen] = "A-_z"[mut[0] & 3];
		FUZZ_CHECK(!check(w, (size_t)vlen + 1, AUD, SUB),
		    "opened with a character added");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*in, *p, *end, *nl1, *nl2;
	const char	*aud = AUD, *sub = SUB;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		sealed_mode(data + 1, size - 1, data[0]);
		return 0;
	}
	in = fuzz_cstr(data + 1, size - 1);
	p = in;
	end = in + size - 1;
	if ((nl1 = memchr(in, '\n', size - 1)) != NULL &&
	    (nl2 = memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1))) != NULL) {
		/* A NUL inside cuts aud or sub short, as C strings do. */
		*nl1 = *nl2 = '\0';
		aud = in;
		sub = nl1 + 1;
		p = nl2 + 1;
	}
	if (data[0] & 2)
		aud = sub = NULL;
	(void)check(p, size - 1 - (size_t)(p - in), aud, sub);
	free(in);
	return 0;
}
