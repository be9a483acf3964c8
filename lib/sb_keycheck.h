/*
 * sb_keycheck.h: a JWT whose key is not configured, checked by sentc.
 *
 * A token whose kid names no key of SENTC_JWT_VERIFY_KEY is the normal
 * sign of a key made in the dashboard and not yet added to the config:
 * sentc signs every new JWT with its newest key at once. Such a token is
 * asked of sentc, GET /user/jwt with the secret token and the token, and
 * its answer is the verdict: cached like a token verified here (until
 * its exp) when sentc accepts it, for an hour when sentc refuses it. A
 * kid sentc does not know (its code 35) is refused for an hour without
 * asking again. The calls are bounded: at most SENTC_BACKEND_JWT_KEY_CHECKS
 * in each minute of the clock, per program (its workers share them); a
 * token that finds none left gets 503, 20040, and is not cached.
 *
 * The first token sentc accepts for a kid logs that the key should be
 * added (once per kid and program, again after a day). The metrics
 * count each outcome.
 */
#ifndef SB_KEYCHECK_H
#define SB_KEYCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "sb_error.h"
#include "sb_jwt.h"
#include "sb_request.h"

#define SB_KEYCHECK_REFUSED_TTL	3600	/* s a refusal is kept: sentc's own */

/*
 * Makes the program's shared state (the minute's count of calls, the
 * kids seen) before the workers fork, in place of any earlier one.
 * Returns 0, or -1 (then no token is asked of sentc).
 */
int		 sb_keycheck_init(void);

/*
 * Asks sentc about tok[0..len), a token sb_jwt_check() found no key for
 * (SB_ERR_JWT_UNCHECKED), with flags as for sb_jwt_verify(). Returns
 * SB_OK with out filled if sentc accepts it; the SB_ERR_JWT_* of its
 * refusal; SB_ERR_JWT_UNCHECKED if sentc could not be asked (no call
 * left this minute, or an answer that is no verdict); or the upstream
 * fault. req may be NULL; if not, its log fields are updated.
 */
enum sb_err	 sb_keycheck(struct sb_req *req, const char *tok, size_t len,
		    unsigned flags, struct sb_jwt_claims *out);

/*
 * Takes one call from the count in *word (the minute, now / 60, in its
 * high 32 bits, the calls made in it in the low 32), shared by every
 * worker: true if fewer than per_minute were made in now's minute.
 * Lock-free. Pure but for *word: the unit tests call it.
 */
bool		 sb_keycheck_take(uint64_t *word, int64_t now,
		    long per_minute);

/*
 * The refusal sentc's err_code stands for, in the backend's codes: 35 (an
 * unknown kid) SB_ERR_JWT_KEY, 30 and 31 SB_ERR_JWT_SIGNATURE, 32
 * SB_ERR_JWT_FORMAT, 1 and 100 (ids, a user not of the app)
 * SB_ERR_JWT_CLAIMS; SB_OK for a code that is no verdict on the token
 * (the app token refused, say). Pure.
 */
enum sb_err	 sb_keycheck_verdict(long err_code);

#endif
