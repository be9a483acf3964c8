/*
 * driver_path.c: sb_path_match(), the path ids of every route.
 *
 * Input: the path as the serve loop hands it over (REQUEST_URI before
 * any '?'), matched against each route's patterns. An independent
 * oracle splits path and pattern into segments and says what the answer
 * must be; an accepted path's ids must be lower-case UUIDs ({id}) or
 * whole numbers ({n}) that give the path back.
 */
#include <ctype.h>
#include <stdbool.h>

#include "fuzz.h"
#include "extern.h"

/* Every pattern of cgi-bin/, and two that test the id limit. */
static const char *const patterns[] = {
	"/api/v1/register",
	"/api/v1/user/prepare_register_device",
	"/api/v1/group",
	"/api/v1/group/{id}/light",
	"/api/v1/group/{id}",
	"/api/v1/user",
	"/api/v1/user/forced/disable_otp",
	"/api/v1/user/forced/sessions",
	"/api/v1/user/forced/delete",
	"/api/v1/user/forced/delete/{id}",
	"/api/v1/group/forced/{id}/user/{id}",
	"/backend/health",
	"/backend/me",
	"/backend/session",
	"/backend/refresh",
	"/backend/logout",
	"/backend/groups/{id}/data",
	"/backend/groups/{id}/items/{id}",
	"/backend/groups/{id}/items",
	"/backend/files/part/{id}/{n}/true",
	"/backend/files/part/{id}/{n}/false",
	"/backend/files/part/{id}",
	"/backend/files/delete",
	"/{n}/{id}/{n}/{id}",
	"/{id}/{id}/{id}/{id}",
	"/{id}/{id}/{id}/{id}/{id}",
};

static bool
oracle_uuid(const char *s, size_t len)
{
	size_t	 i;

	if (len != SB_ID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* 0 to 999999999, no leading zero. */
static bool
oracle_number(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 9 || (len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The answer by segments: NOT_FOUND, BAD_ID or OK. */
static enum sb_err
oracle(const char *pat, const char *path, size_t len)
{
	const char	*pseg[32], *sseg[64];
	size_t		 plen[32], slen[64], np = 0, ns = 0, i, ids = 0;
	const char	*p, *end = path + len;
	bool		 bad = false;

	/* Pattern segments: after each '/'. */
	for (p = pat; *p == '/'; ) {
		pseg[np] = ++p;
		while (*p != '\0' && *p != '/')
			p++;
		plen[np] = (size_t)(p - pseg[np]);
		np++;
	}
	if (len == 0 || path[0] != '/')
		return SB_ERR_NOT_FOUND;
	for (p = path; p < end && *p == '/'; ) {
		if (ns == 64)
			return SB_ERR_NOT_FOUND;
		sseg[ns] = ++p;
		while (p < end && *p != '/')
			p++;
		slen[ns] = (size_t)(p - sseg[ns]);
		ns++;
	}
	if (ns != np)
		return SB_ERR_NOT_FOUND;
	for (i = 0; i < np; i++) {
		if (plen[i] == 4 && memcmp(pseg[i], "{id}", 4) == 0) {
			if (++ids > SB_IDS_MAX)
				return SB_ERR_NOT_FOUND;
			if (!oracle_uuid(sseg[i], slen[i]))
				bad = true;
		} else if (plen[i] == 3 && memcmp(pseg[i], "{n}", 3) == 0) {
			if (++ids > SB_IDS_MAX)
				return SB_ERR_NOT_FOUND;
			if (!oracle_number(sseg[i], slen[i]))
				bad = true;
		} else if (plen[i] != slen[i] ||
		    memcmp(pseg[i], sseg[i], slen[i]) != 0)
			return SB_ERR_NOT_FOUND;
	}
	return bad ? SB_ERR_BAD_ID : SB_OK;
}

/* The path the pattern gives with ids filled in equals path, ids ignoring case. */
static bool
rebuilds(const char *pat, const char *path, size_t len,
    char ids[][SB_ID_LEN + 1], size_t nids)
{
	size_t	 i = 0, n = 0, k;

	while (*pat != '\0') {
		if (strncmp(pat, "{id}", 4) == 0) {
			if (n == nids || i + SB_ID_LEN > len)
				return false;
			for (k = 0; k < SB_ID_LEN; k++)
				if (tolower((unsigned char)path[i + k]) !=
				    ids[n][k])
					return false;
			i += SB_ID_LEN, n++, pat += 4;
		} else if (strncmp(pat, "{n}", 3) == 0) {
			k = strlen(n < nids ? ids[n] : "");
			if (n == nids || i + k > len ||
			    memcmp(path + i, ids[n], k) != 0)
				return false;
			i += k, n++, pat += 3;
		} else {
			if (i == len || path[i] != *pat)
				return false;
			i++, pat++;
		}
	}
	return i == len && n == nids;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 ids[SB_IDS_MAX][SB_ID_LEN + 1];
	const char	*path = (const char *)data;
	size_t		 i, k, nids;
	enum sb_err	 e, want;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		memset(ids, 'X', sizeof(ids));
		nids = 99;
		e = sb_path_match(patterns[i], path, size, ids, &nids);
		want = oracle(patterns[i], path, size);
		FUZZ_CHECK(e == want, "%s: got %d, the segments say %d",
		    patterns[i], (int)e, (int)want);
		if (e != SB_OK) {
			FUZZ_CHECK(nids == 0, "%s: %zu ids on error",
			    patterns[i], nids);
			continue;
		}
		FUZZ_CHECK(nids <= SB_IDS_MAX, "%zu ids", nids);
		for (k = 0; k < nids; k++)
			FUZZ_CHECK(fuzz_lower_uuid(ids[k]) ||
			    oracle_number(ids[k], strlen(ids[k])),
			    "%s: id %zu is not a lower-case UUID nor a number",
			    patterns[i], k);
		FUZZ_CHECK(rebuilds(patterns[i], path, size, ids, nids),
		    "%s: the ids do not give the path back", patterns[i]);
	}
	return 0;
}
