/*
 * sb_runas.h: the user a program runs as.
 *
 * Started as root, a program checks its database in a child that has
 * become SENTC_BACKEND_USER ("user" or "user:group"; the group is the
 * user's own by default), binds its socket and makes its metrics file,
 * hands both to that user, and then becomes it for good, before it forks
 * a worker: the database is only ever opened as that user. It serves as
 * root only if SENTC_BACKEND_USER says root. Started as any other user,
 * it stays that user: SENTC_BACKEND_USER may then only name that user (or
 * root).
 */
#ifndef SB_RUNAS_H
#define SB_RUNAS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

struct sb_runas {
	bool	 change;	/* false: stay who we are */
	uid_t	 uid;		/* (uid_t)-1 unless change */
	gid_t	 gid;
	char	 name[64];	/* the user's name, for initgroups(3) */
};

/*
 * Decides from spec (SENTC_BACKEND_USER) what to become. serving: the
 * program is about to serve (a config check may run as root). Returns 0
 * with out filled, or -1 with a message naming the key in err.
 */
int	 sb_runas_resolve(const char *spec, bool serving, struct sb_runas *out,
	    char *err, size_t errlen);

/*
 * Becomes out's user and group (with the user's supplementary groups),
 * for good: a later setuid(0) must fail. Does nothing unless change.
 * Returns 0, or -1 with the reason in err.
 */
int	 sb_runas_become(const struct sb_runas *, char *err, size_t errlen);

#endif
