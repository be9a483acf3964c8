#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "extern.h"

#define NONCE_LEN	12
#define TAG_LEN		16
#define TIME_LEN	8
#define AAD_MAX		(1 + SB_CLAIM_MAX + 1 + SB_CLAIM_MAX)
#define SEALED_MAX	(SB_COOKIE_OVERHEAD + SB_REFRESH_TOKEN_MAX)
#define PT_MAX		(SEALED_MAX - 1 - NONCE_LEN - TAG_LEN)
#define KEY_B64_MAX	64	/* 44 characters make 32 bytes */

struct sb_cookie_keys {
	size_t		 n;
	unsigned char	 key[SB_COOKIE_KEYS_MAX][SB_COOKIE_KEY_LEN];
	EVP_CIPHER	*gcm;		/* fetched once */
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

void
sb_cookie_keys_free(struct sb_cookie_keys *ks)
{
	if (ks == NULL)
		return;
	EVP_CIPHER_free(ks->gcm);
	sb_wipe(ks, sizeof(*ks));
	free(ks);
}

size_t
sb_cookie_keys_count(const struct sb_cookie_keys *ks)
{
	return ks == NULL ? 0 : ks->n;
}

struct sb_cookie_keys *
sb_cookie_keys_parse(const char *spec, char *err, size_t errlen)
{
	struct sb_cookie_keys	*ks;
	const char		*p = spec, *start, *end;
	unsigned char		 raw[SB_COOKIE_KEY_LEN + 3];
	long			 n;
	size_t			 i;

	err[0] = '\0';
	while (is_space(*p))
		p++;
	if (*p == '\0')
		return NULL;
	if ((ks = calloc(1, sizeof(*ks))) == NULL ||
	    (ks->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL) {
		snprintf(err, errlen, "SENTC_BACKEND_COOKIE_KEY: AES-256-GCM "
		    "is not available");
		goto fail;
	}
	for (;;) {
		while (is_space(*p))
			p++;
		for (start = p; *p != '\0' && *p != ','; p++)
			continue;
		for (end = p; end > start && is_space(end[-1]); end--)
			continue;
		if (ks->n == SB_COOKIE_KEYS_MAX) {
			snprintf(err, errlen, "SENTC_BACKEND_COOKIE_KEY: more "
			    "than %d keys", SB_COOKIE_KEYS_MAX);
			goto fail;
		}
		n = (size_t)(end - start) > KEY_B64_MAX ? -1 :
		    sb_b64_decode(start, (size_t)(end - start), raw,
		    sizeof(raw));
		if (n != SB_COOKIE_KEY_LEN) {
			snprintf(err, errlen, "SENTC_BACKEND_COOKIE_KEY: key %zu "
			    "is not base64 of 32 bytes (make one with: openssl "
			    "rand -base64 32)", ks->n + 1);
			goto fail;
		}
		for (i = 0; i < ks->n; i++)
			if (memcmp(ks->key[i], raw, SB_COOKIE_KEY_LEN) == 0) {
				snprintf(err, errlen, "SENTC_BACKEND_COOKIE_KEY: "
				    "key %zu repeats key %zu", ks->n + 1, i + 1);
				goto fail;
			}
		memcpy(ks->key[ks->n++], raw, SB_COOKIE_KEY_LEN);
		if (*p == '\0')
			break;
		p++;
	}
	sb_wipe(raw, sizeof(raw));
	return ks;
fail:
	sb_wipe(raw, sizeof(raw));
	sb_cookie_keys_free(ks);
	return NULL;
}

int
sb_cookie_name_valid(const char *name)
{
	size_t	 i, len = strnlen(name, SB_COOKIE_NAME_MAX + 1);

	if (len == 0 || len > SB_COOKIE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		/* RFC 6265's cookie-name: a token. */
		if (!sb_is_tchar((unsigned char)name[i]))
			return 0;
	return 1;
}

/*
 * RFC 6265's cookie-octet: US-ASCII but controls, white space, DQUOTE,
 * comma, semicolon and backslash.
 */
static int
cookie_octets(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f || s[i] == '"' ||
		    s[i] == ',' || s[i] == ';' || s[i] == '\\')
			return 0;
	return 1;
}

bool
sb_cookie_next(const char *hdr, size_t len, const char *name, size_t *pos,
    struct sb_span *val)
{
	const char	*p, *end = hdr + len, *piece, *pend, *eq, *nend;
	size_t		 nlen = strlen(name);

	if (*pos > len)
		return false;
	p = hdr + *pos;
	while (p < end) {
		for (piece = p; p < end && *p != ';'; p++)
			continue;
		pend = p;
		if (p < end)
			p++;
		while (piece < pend && is_space(*piece))
			piece++;
		while (pend > piece && is_space(pend[-1]))
			pend--;
		if ((eq = memchr(piece, '=', (size_t)(pend - piece))) == NULL)
			continue;
		for (nend = eq; nend > piece && is_space(nend[-1]); nend--)
			continue;
		if ((size_t)(nend - piece) != nlen ||
		    memcmp(piece, name, nlen) != 0)
			continue;
		for (eq++; eq < pend && is_space(*eq); eq++)
			continue;
		if (pend - eq >= 2 && *eq == '"' && pend[-1] == '"')
			eq++, pend--;
		if (!cookie_octets(eq, (size_t)(pend - eq)))
			continue;
		val->p = eq;
		val->len = (size_t)(pend - eq);
		*pos = (size_t)(p - hdr);
		return true;
	}
	*pos = len;
	return false;
}

size_t
sb_cookie_find(const char *hdr, size_t len, const char *name,
    struct sb_span *vals, size_t max)
{
	size_t	 pos = 0, found = 0;

	while (found < max && sb_cookie_next(hdr, len, name, &pos,
	    &vals[found]))
		found++;
	return found;
}

/*
 * Version 1's additional data: version, aud, NUL, sub. Returns its
 * length, or 0 if aud or sub is empty or too long.
 */
static size_t
make_aad_v1(unsigned char *aad, const char *aud, const char *sub)
{
	size_t	 alen = strnlen(aud, SB_CLAIM_MAX + 1);
	size_t	 slen = strnlen(sub, SB_CLAIM_MAX + 1);

	if (alen == 0 || alen > SB_CLAIM_MAX || slen == 0 ||
	    slen > SB_CLAIM_MAX)
		return 0;
	aad[0] = SB_COOKIE_VERSION_1;
	memcpy(aad + 1, aud, alen);
	aad[1 + alen] = '\0';
	memcpy(aad + 2 + alen, sub, slen);
	return 2 + alen + slen;
}

long
sb_cookie_seal(const struct sb_cookie_keys *ks, int64_t now,
    const char *aud, const char *sub, const char *token, size_t toklen,
    char *out, size_t outsz)
{
	unsigned char	 sealed[SEALED_MAX], pt[PT_MAX], aad = SB_COOKIE_VERSION;
	EVP_CIPHER_CTX	*ctx = NULL;
	size_t		 alen, slen, ptlen, i;
	long		 rc = -1;
	int		 n, fin;

	if (ks == NULL || ks->n == 0 || toklen == 0 ||
	    toklen > SB_REFRESH_TOKEN_MAX || !sb_printable(token, toklen))
		return -1;
	alen = strnlen(aud, SB_CLAIM_MAX + 1);
	slen = strnlen(sub, SB_CLAIM_MAX + 1);
	if (alen == 0 || alen > SB_CLAIM_MAX || slen == 0 ||
	    slen > SB_CLAIM_MAX)
		return -1;
	for (i = 0; i < TIME_LEN; i++)
		pt[i] = (unsigned char)((uint64_t)now >> (56 - 8 * i));
	ptlen = TIME_LEN;
	pt[ptlen++] = (unsigned char)alen;
	memcpy(pt + ptlen, aud, alen);
	ptlen += alen;
	pt[ptlen++] = (unsigned char)slen;
	memcpy(pt + ptlen, sub, slen);
	ptlen += slen;
	memcpy(pt + ptlen, token, toklen);
	ptlen += toklen;

	sealed[0] = SB_COOKIE_VERSION;
	if (RAND_bytes(sealed + 1, NONCE_LEN) != 1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(ctx, ks->gcm, ks->key[0], sealed + 1,
	    NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, &aad, 1) != 1 ||
	    EVP_EncryptUpdate(ctx, sealed + 1 + NONCE_LEN, &n, pt,
	    (int)ptlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, sealed + 1 + NONCE_LEN + n, &fin) != 1 ||
	    (size_t)(n + fin) != ptlen ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
	    sealed + 1 + NONCE_LEN + ptlen) != 1)
		goto out;
	rc = sb_b64url_encode(sealed, 1 + NONCE_LEN + ptlen + TAG_LEN, out,
	    outsz);
out:
	EVP_CIPHER_CTX_free(ctx);
	sb_wipe(pt, sizeof(pt));
	return rc;
}

/* Decrypts with one key into pt. Returns 1 if the tag holds, else 0. */
static int
open_with(const struct sb_cookie_keys *ks, const unsigned char *key,
    const unsigned char *sealed, size_t ctlen, const unsigned char *aad,
    size_t aadlen, unsigned char *pt)
{
	EVP_CIPHER_CTX	*ctx;
	int		 n, fin, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return 0;
	ok = EVP_DecryptInit_ex2(ctx, ks->gcm, key, sealed + 1, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
	    (void *)(sealed + 1 + NONCE_LEN + ctlen)) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1 &&
	    EVP_DecryptUpdate(ctx, pt, &n, sealed + 1 + NONCE_LEN,
	    (int)ctlen) == 1 &&
	    EVP_DecryptFinal_ex(ctx, pt + n, &fin) == 1 &&
	    (size_t)(n + fin) == ctlen;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/*
 * Reads a claim of version 2's plaintext at pt[*off], one length byte
 * and its bytes, within ptlen, into out (SB_CLAIM_MAX + 1 bytes). Returns
 * 0 and moves *off past it, or -1 if it does not fit or is empty, too
 * long or holds a NUL.
 */
static int
read_claim(const unsigned char *pt, size_t ptlen, size_t *off, char *out)
{
	size_t	 len;

	if (*off >= ptlen || (len = pt[*off]) == 0 || len > SB_CLAIM_MAX ||
	    ptlen - *off - 1 < len || memchr(pt + *off + 1, '\0', len) != NULL)
		return -1;
	memcpy(out, pt + *off + 1, len);
	out[len] = '\0';
	*off += 1 + len;
	return 0;
}

enum sb_err
sb_cookie_open(const struct sb_cookie_keys *ks, int64_t now, long max_age,
    const char *value, size_t vlen, const char *aud, const char *sub,
    char *token, size_t tokensz, struct sb_cookie_info *info)
{
	unsigned char	 sealed[SEALED_MAX], pt[PT_MAX], aad[AAD_MAX];
	struct sb_cookie_info in;
	uint64_t	 t = 0;
	size_t		 aadlen, ctlen, off, i;
	long		 n;
	enum sb_err	 rc = SB_ERR_COOKIE;

	if (ks == NULL || vlen > SB_COOKIE_VALUE_MAX || (aud == NULL) !=
	    (sub == NULL) || (n = sb_b64url_decode(value, vlen, sealed,
	    sizeof(sealed))) < 1 + NONCE_LEN + TIME_LEN + 1 + TAG_LEN)
		return SB_ERR_COOKIE;
	memset(&in, 0, sizeof(in));
	in.version = sealed[0];
	if (in.version == SB_COOKIE_VERSION) {
		aad[0] = SB_COOKIE_VERSION;
		aadlen = 1;
	} else if (in.version != SB_COOKIE_VERSION_1 || aud == NULL ||
	    (aadlen = make_aad_v1(aad, aud, sub)) == 0)
		return SB_ERR_COOKIE;
	ctlen = (size_t)n - 1 - NONCE_LEN - TAG_LEN;

	for (i = 0; i < ks->n; i++)
		if (open_with(ks, ks->key[i], sealed, ctlen, aad, aadlen, pt))
			break;
	if (i == ks->n)
		goto out;
	for (i = 0; i < TIME_LEN; i++)
		t = t << 8 | pt[i];
	in.sealed_at = (int64_t)t;
	off = TIME_LEN;
	if (in.version == SB_COOKIE_VERSION_1) {
		snprintf(in.aud, sizeof(in.aud), "%s", aud);
		snprintf(in.sub, sizeof(in.sub), "%s", sub);
	} else if (read_claim(pt, ctlen, &off, in.aud) == -1 ||
	    read_claim(pt, ctlen, &off, in.sub) == -1 ||
	    (aud != NULL && (strcmp(in.aud, aud) != 0 ||
	    strcmp(in.sub, sub) != 0)))
		goto out;
	/* The clock and the sealing time may be anything: sums held. */
	if (off >= ctlen || in.sealed_at <= 0 ||
	    in.sealed_at > sb_add_sat(now, SB_COOKIE_SKEW) ||
	    sb_sub_sat(now, in.sealed_at) > max_age ||
	    ctlen - off + 1 > tokensz ||
	    !sb_printable((char *)pt + off, ctlen - off))
		goto out;
	memcpy(token, pt + off, ctlen - off);
	token[ctlen - off] = '\0';
	if (info != NULL)
		*info = in;
	rc = SB_OK;
out:
	sb_wipe(pt, sizeof(pt));
	return rc;
}

int
sb_cookie_format(char *out, size_t outsz, const char *name,
    const char *value, const char *path, long max_age)
{
	int	 n;

	n = snprintf(out, outsz, "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; "
	    "Secure; SameSite=Strict", name, value, path, max_age);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int
sb_cookie_ready(struct sb_req *req)
{
	if (sb_cookie_keys_count(sb_cfg->cookie_keys) > 0)
		return 0;
	sb_reply_err(req, SB_ERR_COOKIE_CLOSED, NULL);
	return -1;
}

/*
 * Adds the Set-Cookie header that holds token, sealed for who at
 * sealed_at, under SB_COOKIE_PATH for max_age seconds. Returns 0, or -1
 * with nothing added.
 */
static int
add_cookie(struct sb_req *req, const struct sb_jwt_claims *who,
    const char *token, size_t toklen, int64_t sealed_at, long max_age)
{
	char	 value[SB_COOKIE_VALUE_MAX + 1];
	char	 hdr[SB_COOKIE_VALUE_MAX + SB_COOKIE_NAME_MAX + 128];
	int	 rc = -1;

	if (sb_cookie_seal(sb_cfg->cookie_keys, sealed_at, who->aud,
	    who->sub, token, toklen, value, sizeof(value)) != -1 &&
	    sb_cookie_format(hdr, sizeof(hdr), sb_cfg->cookie_name, value,
	    SB_COOKIE_PATH, max_age) == 0 &&
	    sb_reply_header(req, "Set-Cookie", hdr) == 0)
		rc = 0;
	sb_wipe(value, sizeof(value));
	sb_wipe(hdr, sizeof(hdr));
	return rc;
}

int
sb_cookie_set(struct sb_req *req, const struct sb_jwt_claims *who,
    const char *token, size_t toklen)
{
	if (add_cookie(req, who, token, toklen, sb_now(),
	    sb_cfg->cookie_max_age) == -1) {
		sb_reply_err(req, SB_ERR_INTERNAL, NULL);
		return -1;
	}
	return 0;
}

/* Adds the Set-Cookie header that clears the cookie under path. */
static void
clear_at(struct sb_req *req, const char *path)
{
	char	 hdr[SB_COOKIE_NAME_MAX + 128];

	if (sb_cookie_format(hdr, sizeof(hdr), sb_cfg->cookie_name, "", path,
	    0) == 0)
		sb_reply_header(req, "Set-Cookie", hdr);
}

int
sb_cookie_move(struct sb_req *req, const struct sb_jwt_claims *who,
    const char *token, size_t toklen, int64_t sealed_at)
{
	int64_t	 left = sb_cfg->cookie_max_age - (sb_now() - sealed_at);

	/* A cookie that opened was sealed at most SB_COOKIE_SKEW ahead. */
	if (left <= 0 || add_cookie(req, who, token, toklen, sealed_at,
	    left > sb_cfg->cookie_max_age ? sb_cfg->cookie_max_age :
	    (long)left) == -1)
		return -1;
	clear_at(req, SB_COOKIE_OLD_PATH);
	return 0;
}

void
sb_cookie_clear(struct sb_req *req)
{
	clear_at(req, SB_COOKIE_PATH);
	clear_at(req, SB_COOKIE_OLD_PATH);
}

enum sb_err
sb_cookie_header(struct sb_req *req, const char **hdr, size_t *len)
{
	enum sb_err	 e;

	*len = 0;
	if ((*hdr = sb_req_header(req, "HTTP_COOKIE", &e)) == NULL)
		return e;
	*len = strlen(*hdr);
	return SB_OK;
}
