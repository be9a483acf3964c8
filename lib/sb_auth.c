#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sb_auth.h"
#include "sb_config.h"
#include "sb_keycheck.h"
#include "sb_response.h"

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
