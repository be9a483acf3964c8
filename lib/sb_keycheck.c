#include <sys/mman.h>

#include <stdio.h>
#include <string.h>

#include "extern.h"

#define KIDS		1024	/* kids remembered, per program */
#define UNKNOWN_TTL	3600	/* s a kid sentc does not know is refused */
#define LOGGED_TTL	86400	/* s before a missing key is logged again */
#define SENTC_KID_UNKNOWN 35

/*
 * Shared by the program's workers, made once by its master: the calls
 * made in the current minute (sb_keycheck_take), and what is known of
 * kids: sentc does not know it, or its "add the key" was logged.
 */
static uint64_t		*calls;
static struct sb_cache	*kids;

int
sb_keycheck_init(void)
{
	void	*m;

	/* Kept over a reload: old and new workers share one count. */
	if (calls == NULL) {
		m = mmap(NULL, sizeof(*calls), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return -1;
		calls = m;
	}
	if (kids == NULL && (kids = sb_cache_new(KIDS, sizeof(int64_t))) ==
	    NULL)
		return -1;
	return 0;
}

bool
sb_keycheck_take(uint64_t *word, int64_t now, long per_minute)
{
	uint64_t	 old, next;
	uint32_t	 minute = (uint32_t)(now / 60), used;

	old = __atomic_load_n(word, __ATOMIC_RELAXED);
	do {
		used = (uint32_t)(old >> 32) == minute ? (uint32_t)old : 0;
		if (per_minute <= 0 || used >= (uint64_t)per_minute)
			return false;
		next = (uint64_t)minute << 32 | (used + 1);
	} while (!__atomic_compare_exchange_n(word, &old, next, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	return true;
}

enum sb_err
sb_keycheck_verdict(long err_code)
{
	switch (err_code) {
	case SENTC_KID_UNKNOWN:
		return SB_ERR_JWT_KEY;
	case 30:	/* signature, alg or exp */
	case 31:	/* a token sentc refused before */
		return SB_ERR_JWT_SIGNATURE;
	case 32:	/* undecodable */
		return SB_ERR_JWT_FORMAT;
	case 1:		/* aud or sub not an id */
	case 100:	/* aud not a user of the app */
		return SB_ERR_JWT_CLAIMS;
	default:
		return SB_OK;
	}
}

/* The key of what is known of kid, as what says. */
static void
kid_key(unsigned char *key, const char *what, const char *kid)
{
	const char *const parts[] = { what, kid };

	sb_cache_key(key, parts, 2);
}

/* sentc accepted the token: is it the user and device it names? */
static bool
same_user(struct sb_upstream_res *res, const struct sb_jwt_claims *c)
{
	json_object	*r = sb_upstream_result(res);
	const char	*id = sb_json_string(r, "id");
	const char	*dev = sb_json_string(r, "device_id");

	return id != NULL && dev != NULL && strcmp(id, c->aud) == 0 &&
	    strcmp(dev, c->sub) == 0;
}

enum sb_err
sb_keycheck(struct sb_req *req, const char *tok, size_t len, unsigned flags,
    struct sb_jwt_claims *out)
{
	struct sb_upstream_res	 res;
	struct sb_jwt_claims	 c;
	unsigned char		 unknown[SB_CACHE_KEY], logged[SB_CACHE_KEY];
	char			 kid[SB_KID_MAX + 1], jwt[SB_JWT_MAX + 1];
	int64_t			 now = sb_now(), v;
	enum sb_err		 e;

	/* All that can be checked without the key, first. */
	if ((e = sb_jwt_decode(tok, len, now, sb_cfg->jwt_leeway, flags, kid,
	    sizeof(kid), &c)) != SB_OK)
		return e;
	/* sentc checks exp: an expired token (at refresh) it refuses. */
	if (c.exp < now - sb_cfg->jwt_leeway)
		return SB_ERR_JWT_KEY;
	kid_key(unknown, "kid unknown at sentc", kid);
	if (sb_cache_get(kids, unknown, now, &v, sizeof(v)) == (long)sizeof(v))
		return SB_ERR_JWT_KEY;
	if (calls == NULL || !sb_keycheck_take(calls, now,
	    sb_cfg->jwt_key_checks)) {
		sb_stats_add(SB_STAT_KEYCHECK_LIMITED, 1);
		return SB_ERR_JWT_UNCHECKED;
	}

	memcpy(jwt, tok, len);
	jwt[len] = '\0';
	e = sb_upstream(req, SB_GET, "/user/jwt", SB_TOKEN_SECRET, jwt, NULL, 0,
	    &res);
	sb_wipe(jwt, len);
	if (e != SB_OK) {
		sb_stats_add(SB_STAT_KEYCHECK_FAILED, 1);
	} else if (res.ok && same_user(&res, &c)) {
		sb_stats_add(SB_STAT_KEYCHECK_OK, 1);
		sb_jwt_remember(tok, len, SB_OK, &c, 0);
		kid_key(logged, "kid logged", kid);
		v = now;
		if (sb_cache_add(kids, logged, &v, sizeof(v), now,
		    now + LOGGED_TTL) == 1)
			sb_log(SB_LOG_WARN, "jwt: sentc accepted a token with "
			    "key id %s, which SENTC_JWT_VERIFY_KEY does not "
			    "list: add that key (from the dashboard), else "
			    "each new token costs a call to sentc", kid);
		*out = c;
	} else if (res.ok) {
		sb_log(SB_LOG_WARN, "jwt: sentc's GET /user/jwt named another "
		    "user or device than the token");
		sb_stats_add(SB_STAT_KEYCHECK_FAILED, 1);
		e = SB_ERR_JWT_UNCHECKED;
	} else if ((e = sb_keycheck_verdict(res.err_code)) != SB_OK) {
		sb_stats_add(SB_STAT_KEYCHECK_REFUSED, 1);
		sb_jwt_remember(tok, len, e, NULL,
		    now + SB_KEYCHECK_REFUSED_TTL);
		if (res.err_code == SENTC_KID_UNKNOWN)
			sb_cache_put(kids, unknown, 0, &now, sizeof(now),
			    now + UNKNOWN_TTL);
	} else {
		sb_log(SB_LOG_WARN, "jwt: sentc's GET /user/jwt answered "
		    "code %ld, no verdict on the token: is SENTC_SECRET_TOKEN "
		    "this app's secret token?", res.err_code);
		sb_stats_add(SB_STAT_KEYCHECK_FAILED, 1);
		e = SB_ERR_JWT_UNCHECKED;
	}
	sb_upstream_res_free(&res);
	return e;
}
