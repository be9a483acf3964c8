/*
 * sb_access.h: may the caller touch this group?
 *
 * The answer is sentc's, from GET /group/{id}/light with the caller's
 * JWT, cached per (app, user, group, path of access) for
 * SENTC_BACKEND_ACCESS_CACHE_TTL seconds in a bounded cache shared by the
 * program's workers. The path of access is the request's
 * x-sentc-group-access-id header, relayed: the group through which the
 * caller reaches the group (a connected group's member group), or none,
 * the caller's own membership (directly or through a parent). Both
 * answers are cached: the group's data for a member, 310 for anyone
 * else. So a member removed at sentc keeps access here for at most the
 * TTL. Every call needs sb_auth_user() to have succeeded first.
 */
#ifndef SB_ACCESS_H
#define SB_ACCESS_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>

#include "sb_request.h"
#include "sb_util.h"

#define SB_LIGHT_MAX	2048	/* largest answer cached */

/* Ranks for sb_group_member(): lower is stronger. */
#define SB_RANK_CREATOR	0
#define SB_RANK_ADMIN	1
#define SB_RANK_ANY	INT_MAX	/* any member */

#define SB_LIGHT_VIA	3	/* groups a member answer goes through */

struct sb_light {
	long	 status;	/* HTTP status of sentc's answer */
	bool	 member;	/* status true */
	int	 rank;		/* when member: 0 creator, 1 admin, 2.. */
	size_t	 len;
	char	 body[SB_LIGHT_MAX + 1];	/* the envelope, as sentc sent it */
	int64_t	 epoch;		/* the store's count of ends of access */
				/* when sentc was asked (-1: unknown) */
	/* A member's parent group and access_by groups ("" for none). */
	char	 via[SB_LIGHT_VIA][SB_ID_LEN + 1];
};

/*
 * Makes the access cache before the workers fork, in place of any
 * earlier one (as sb_jwt_cache_init()). Returns 0, or -1 with no cache.
 */
int	 sb_access_init(void);

/*
 * Is s[0..len) a group id sentc takes in x-sentc-group-access-id: a UUID,
 * version 4 or 7, in the 8-4-4-4-12 form? Pure.
 */
bool	 sb_group_access_valid(const char *s, size_t len);

/*
 * The request's x-sentc-group-access-id: returns 0 with *id NULL (no
 * header) or pointing at the header's value (a valid group id), or -1
 * once it has answered sentc's own 400, code 1, for a value that is not
 * one (a malformed header: 400, 20024).
 */
int	 sb_group_access_id(struct sb_req *req, const char **id);

/*
 * sentc's answer about the caller and group gid, through the path of
 * access the request names, into out. Returns 0
 * with out filled (a member or a 310 refusal), or -1 once it has
 * answered the request: an upstream fault, or another sentc error passed
 * through.
 */
int	 sb_group_light(struct sb_req *req, const char *gid,
	    struct sb_light *out);

/*
 * "May the caller touch gid with at least rank max_rank?" (0 is the
 * strongest rank, 4 the weakest.) Returns 0 with the caller's rank in
 * *rank (may be NULL), or -1 once it has answered: sentc's 310 for a
 * non-member, 301 for too weak a rank, or a fault.
 */
int	 sb_group_member(struct sb_req *req, const char *gid, int max_rank,
	    int *rank);

/* Drops every cached answer about group gid (after it was deleted). */
void	 sb_group_forget(const char *gid);

/*
 * Drops every cached answer that names id (the user, the group, the
 * group of access, a parent or access_by group), in this program: what
 * an end of access recorded elsewhere (lib/sb_notify.h) is told with.
 * Returns how many it dropped.
 */
size_t	 sb_access_drop(const char *id);

/* Drops every cached answer of this program. */
void	 sb_access_drop_all(void);

/*
 * Ends, in every program and on every host, the cached answers that name
 * id (a group: deleted; a user or a group as member: kicked), through the
 * store (sb_db_access_revoke()): a cached member answer is used again
 * only if none of its user, group, path of access, parent group or
 * access_by groups has been revoked since sentc was asked. Drops this
 * program's answers about id at once too. Returns SB_OK or
 * SB_ERR_STORAGE (logged).
 */
enum sb_err	 sb_access_revoke(const char *id);

/* Hits and misses of the access cache, for tests and metrics. */
void	 sb_access_cache_stats(uint64_t *hits, uint64_t *misses);

#endif
