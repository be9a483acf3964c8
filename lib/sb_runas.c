#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

#define KEY	"SENTC_BACKEND_USER"

int
sb_runas_resolve(const char *spec, bool serving, struct sb_runas *out,
    char *err, size_t errlen)
{
	const struct passwd	*pw = NULL;
	const struct group	*gr;
	const char		*colon = strchr(spec, ':');
	char			 user[64];
	size_t			 ulen = colon != NULL ? (size_t)(colon - spec) :
				    strlen(spec);

	memset(out, 0, sizeof(*out));
	out->uid = (uid_t)-1;
	out->gid = (gid_t)-1;
	if (ulen >= sizeof(user) || (colon != NULL && (ulen == 0 ||
	    colon[1] == '\0'))) {
		snprintf(err, errlen, "%s must be a user name, or user:group",
		    KEY);
		return -1;
	}
	memcpy(user, spec, ulen);
	user[ulen] = '\0';

	if (ulen > 0 && (pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "%s: no user %s", KEY, user);
		return -1;
	}
	if (geteuid() != 0) {
		/* Nothing to drop: only our own name (or root) makes sense. */
		if (ulen == 0 || pw->pw_uid == 0 || pw->pw_uid == geteuid())
			return 0;
		snprintf(err, errlen, "%s is %s, but the program was started as "
		    "uid %d: start it as root or as %s", KEY, user,
		    (int)geteuid(), user);
		return -1;
	}
	if (ulen == 0) {
		if (!serving)
			return 0;
		snprintf(err, errlen, "started as root: set %s to the user to "
		    "run as (root only if you mean it)", KEY);
		return -1;
	}
	if (pw->pw_uid == 0) {
		if (serving)
			sb_log(SB_LOG_WARN, "running as root, as %s says", KEY);
		return 0;
	}
	out->change = true;
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	snprintf(out->name, sizeof(out->name), "%s", user);
	if (colon != NULL) {
		if ((gr = getgrnam(colon + 1)) == NULL) {
			snprintf(err, errlen, "%s: no group %s", KEY, colon + 1);
			return -1;
		}
		out->gid = gr->gr_gid;
	}
	return 0;
}

int
sb_runas_become(const struct sb_runas *p, char *err, size_t errlen)
{
	if (!p->change)
		return 0;
	if (initgroups(p->name, p->gid) == -1 || setgid(p->gid) == -1 ||
	    setuid(p->uid) == -1) {
		snprintf(err, errlen, "cannot become %s: %s", p->name,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) != -1 || getuid() != p->uid || geteuid() != p->uid ||
	    getgid() != p->gid || getegid() != p->gid) {
		snprintf(err, errlen, "still privileged after becoming %s",
		    p->name);
		return -1;
	}
	return 0;
}
