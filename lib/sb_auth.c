#include <string.h>
#include <strings.h>

#include "sb_auth.h"
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
		e = sb_jwt_check(tok, len, flags, &who);
	if (e != SB_OK) {
		sb_reply_err(req, e, NULL);
		return -1;
	}
	memcpy(req->user, who.aud, sizeof(req->user));
	req->who = who;
	req->jwt = tok;
	return 0;
}
