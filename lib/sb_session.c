#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "extern.h"

#define DIGEST_HEX	64	/* SHA-256, in hex */

/* What a token's digest is taken over, before the token. */
static const char	 digest_prefix[] = "sentc-backend refresh token";

/*
 * The digest of token[0..len) as the store keeps it: lower-case hex of
 * SHA-256 over digest_prefix, a NUL and the token, into out
 * (DIGEST_HEX + 1 bytes). Returns 0, or -1 if the digest fails.
 */
static int
digest(const char *token, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	EVP_MD_CTX		*ctx;
	int			 ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, digest_prefix, sizeof(digest_prefix)) == 1 &&
	    EVP_DigestUpdate(ctx, token, len) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen * 2 == DIGEST_HEX;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[DIGEST_HEX] = '\0';
	return 0;
}

/*
 * Purges the records of ends that no cookie can outlive any more; a
 * failure is logged and left for the next end.
 */
static void
purge(struct sb_db *db)
{
	int64_t	 before = sb_now() - sb_cfg->cookie_max_age - SB_COOKIE_SKEW;

	if (sb_db_session_purge(db, before) != SB_OK)
		sb_log(SB_LOG_WARN, "database: the ends of cookie sessions "
		    "could not be purged; the next end tries again");
}

enum sb_err
sb_session_ended(struct sb_db *db, const char *token, size_t len,
    const char *user_id, int64_t since, bool *ended)
{
	char	 d[DIGEST_HEX + 1];

	*ended = false;
	if (digest(token, len, d) == -1)
		return SB_ERR_INTERNAL;
	return sb_db_session_ended(db, d, user_id, since, ended);
}

enum sb_err
sb_session_end_user(struct sb_db *db, const char *user_id)
{
	enum sb_err	 e;

	if ((e = sb_db_session_end_user(db, user_id, sb_now())) == SB_OK)
		purge(db);
	return e;
}

/* Puts the usable sessions of version SB_COOKIE_VERSION first. */
static void
order(struct sb_sessions *out)
{
	struct sb_session	 t;
	size_t			 i, j;

	for (i = 1; i < out->n; i++)
		for (j = i; j > 0 && out->s[j - 1].info.version !=
		    SB_COOKIE_VERSION && out->s[j].info.version ==
		    SB_COOKIE_VERSION; j--) {
			t = out->s[j - 1];
			out->s[j - 1] = out->s[j];
			out->s[j] = t;
		}
	sb_wipe(&t, sizeof(t));
}

enum sb_err
sb_session_find(struct sb_req *req, const struct sb_jwt_claims *who,
    struct sb_sessions *out)
{
	struct sb_session	 s;
	struct sb_span		 v;
	struct sb_db		*db = NULL;
	const char		*hdr;
	size_t			 len, pos = 0, opened = 0;
	bool			 ended;
	enum sb_err		 e = SB_OK;

	memset(out, 0, sizeof(*out));
	out->whole = true;
	if ((e = sb_cookie_header(req, &hdr, &len)) != SB_OK || hdr == NULL)
		return e;
	/* Every value is tried: planted ones may come before the real one. */
	while (sb_cookie_next(hdr, len, sb_cfg->cookie_name, &pos, &v)) {
		if (sb_cookie_open(sb_cfg->cookie_keys, sb_now(),
		    sb_cfg->cookie_max_age, v.p, v.len, who->aud, who->sub,
		    s.token, sizeof(s.token), &s.info) != SB_OK)
			continue;
		if (opened++ == SB_SESSION_MAX) {
			out->whole = false;
			break;
		}
		s.toklen = strlen(s.token);
		if (db == NULL && (db = sb_db()) == NULL) {
			e = SB_ERR_STORAGE;
			break;
		}
		if ((e = sb_session_ended(db, s.token, s.toklen, who->aud,
		    s.info.sealed_at, &ended)) != SB_OK)
			break;
		if (ended)
			out->ended++;
		else
			out->s[out->n++] = s;
	}
	sb_wipe(&s, sizeof(s));
	if (e != SB_OK) {
		sb_wipe(out, sizeof(*out));
		return e;
	}
	order(out);
	return SB_OK;
}

enum sb_err
sb_session_logout(struct sb_req *req)
{
	struct sb_cookie_info	 info;
	struct sb_span		 v;
	struct sb_db		*db = NULL;
	const char		*hdr;
	char			 token[SB_REFRESH_TOKEN_MAX + 1];
	char			 d[DIGEST_HEX + 1];
	size_t			 len, pos = 0;
	enum sb_err		 e;

	if ((e = sb_cookie_header(req, &hdr, &len)) != SB_OK || hdr == NULL ||
	    sb_cookie_keys_count(sb_cfg->cookie_keys) == 0)
		return e;
	while (sb_cookie_next(hdr, len, sb_cfg->cookie_name, &pos, &v)) {
		if (sb_cookie_open(sb_cfg->cookie_keys, sb_now(),
		    sb_cfg->cookie_max_age, v.p, v.len, NULL, NULL, token,
		    sizeof(token), &info) != SB_OK)
			continue;
		e = digest(token, strlen(token), d) == -1 ? SB_ERR_INTERNAL :
		    (db == NULL && (db = sb_db()) == NULL) ? SB_ERR_STORAGE :
		    sb_db_session_end_token(db, d, sb_now());
		sb_wipe(token, sizeof(token));
		if (e != SB_OK)
			return e;
		snprintf(req->user, sizeof(req->user), "%s", info.aud);
	}
	if (db != NULL)
		purge(db);
	return SB_OK;
}
