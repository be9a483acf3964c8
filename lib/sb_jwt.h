/*
 * sb_jwt.h: verification of the JWTs that the sentc API issues.
 *
 * ES384 only, whatever the token's header says: the key set decides the
 * algorithm, the header's "kid" picks the key; a key configured without
 * an id verifies tokens whatever their kid. Keys come in the sentc
 * dashboard's format, base64 of the raw uncompressed P-384 point.
 */
#ifndef SB_JWT_H
#define SB_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"

#define SB_JWT_MAX	8192	/* longest token accepted */
#define SB_CLAIM_MAX	64	/* longest aud or sub accepted */
#define SB_KID_MAX	128	/* longest key id accepted */

struct sb_jwt_keys;

struct sb_jwt_claims {
	char	 aud[SB_CLAIM_MAX + 1];	/* sentc user id */
	char	 sub[SB_CLAIM_MAX + 1];	/* sentc device id */
	int64_t	 exp;
	int64_t	 iat;			/* 0 if absent */
	bool	 fresh;			/* true right after a login */
};

/* Flags for sb_jwt_verify(). */
#define SB_JWT_ALLOW_EXPIRED	0x01	/* signature only: for refresh */

/*
 * Parses SENTC_JWT_VERIFY_KEY: one or more keys separated by commas or
 * white space, each "kid:base64" or a bare base64 key, which then takes
 * the id default_kid (SENTC_JWT_KEY_ID); with none (NULL or ""), it has
 * no id: it verifies a token whatever its kid, the signature alone
 * decides (the dashboard's .env carries no key id). Returns the set, or
 * NULL with a message in err. Free with sb_jwt_keys_free().
 */
struct sb_jwt_keys *sb_jwt_keys_parse(const char *spec,
	    const char *default_kid, char *err, size_t errlen);
void	 sb_jwt_keys_free(struct sb_jwt_keys *);
size_t	 sb_jwt_keys_count(const struct sb_jwt_keys *);

/* Does a key of the set have the id kid? (A key without id has none.) */
bool	 sb_jwt_keys_named(const struct sb_jwt_keys *, const char *kid);

/*
 * Verifies tok[0..len) against keys at time now, allowing leeway seconds
 * on exp, nbf and iat: with the key its kid names, else with each key
 * without id. Fills out on SB_OK; returns the SB_ERR_JWT_* that says why
 * not otherwise (SB_ERR_JWT_KEY: no kid, or one that names no key while
 * every key has an id). Pure: no cache, no globals.
 */
enum sb_err sb_jwt_verify(const struct sb_jwt_keys *keys, const char *tok,
	    size_t len, int64_t now, long leeway, unsigned flags,
	    struct sb_jwt_claims *out);

/*
 * The longest a verified token is served from the cache without its
 * signature checked again: sentc's tokens live 300 s, so this bounds
 * only a token that claims a longer life (an exp of 2^63 - 1, say),
 * which would otherwise hold its slot for ever.
 */
#define SB_JWT_CACHE_MAX	600

/*
 * Until when (epoch seconds) the token with claims c, verified at now,
 * may be served from the cache: exp + leeway + 1, at most
 * SB_JWT_CACHE_MAX after now. 0 if it must not be cached (it is out of
 * its time: verified with SB_JWT_ALLOW_EXPIRED). Pure; never overflows.
 */
int64_t	 sb_jwt_cache_until(const struct sb_jwt_claims *c, int64_t now,
	    long leeway);

/*
 * What verification can tell without a key: tok[0..len) split, its
 * header (ES384, a kid of at most SB_KID_MAX visible characters, copied
 * into kid of kidsz bytes) and its claims checked as sb_jwt_verify()
 * does, the signature not at all. Returns SB_OK with out filled, or the
 * SB_ERR_JWT_* that says why not. Pure.
 */
enum sb_err sb_jwt_decode(const char *tok, size_t len, int64_t now,
	    long leeway, unsigned flags, char *kid, size_t kidsz,
	    struct sb_jwt_claims *out);

/*
 * Makes the cache of verified tokens that sb_jwt_check() uses, shared by
 * the workers forked after, in place of any earlier one (a reload: the
 * workers forked before keep theirs). Returns 0, or -1 with no cache, so
 * that every token is verified.
 */
int	 sb_jwt_cache_init(void);

/*
 * As sb_jwt_verify(), through the program's cache of verdicts (keyed by
 * a hash of the token, a token verified until sb_jwt_cache_until(),
 * bounded by SENTC_BACKEND_JWT_CACHE_SIZE), with the keys and leeway of
 * sb_cfg. SB_ERR_JWT_UNCHECKED: no key here has the token's kid (nor
 * does a key without id verify it), and SENTC_BACKEND_JWT_KEY_CHECKS
 * lets sentc be asked (sb_keycheck.h).
 */
enum sb_err sb_jwt_check(const char *tok, size_t len, unsigned flags,
	    struct sb_jwt_claims *out);

/*
 * Stores sentc's verdict on tok[0..len) in that cache: SB_OK with its
 * claims c, until the token's exp (as a token verified here; until is
 * not used), or a refusal rc until the time until.
 */
void	 sb_jwt_remember(const char *tok, size_t len, enum sb_err rc,
	    const struct sb_jwt_claims *c, int64_t until);

/* Hits and misses of the cache, for tests and metrics. */
void	 sb_jwt_cache_stats(uint64_t *hits, uint64_t *misses);

/*
 * Is s[0..len) shaped as a compact JWT: 1..SB_JWT_MAX base64url
 * characters in three segments? No signature is checked. Pure.
 */
bool	 sb_jwt_shaped(const char *s, size_t len);

#endif
