/*
 * GET /backend/health
 *
 * 200 once every program answers on its socket and the database answers;
 * 503 naming what is down otherwise. Reveals no secret: only names,
 * booleans and the numbers of JWT keys, cookie keys (0: the cookie
 * routes are closed) and allowed origins.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sb.h"

#ifndef SB_PROGRAMS
#error "SB_PROGRAMS: the names of the route programs, set by the Makefile"
#endif

/* True if something accepts connections on the program's socket. */
static bool
program_up(const char *name, size_t len)
{
	struct sockaddr_un sun;
	int		 fd, n;
	bool		 up;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%.*s.sock",
	    sb_cfg->socket_dir, (int)len, name);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return false;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	up = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return up;
}

static void
handle(struct sb_req *req)
{
	json_object	*res, *progs;
	struct sb_db	*d;
	const char	*p = SB_PROGRAMS, *name;
	char		 key[64];
	size_t		 len, down = 0;
	bool		 up, db;

	res = json_object_new_object();
	progs = json_object_new_object();
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (name = p; *p != '\0' && *p != ' '; p++)
			continue;
		len = (size_t)(p - name);
		up = len == 6 && memcmp(name, "health", 6) == 0 ?
		    true : program_up(name, len);
		snprintf(key, sizeof(key), "%.*s", (int)len, name);
		json_object_object_add(progs, key, json_object_new_boolean(up));
		down += !up;
	}
	db = (d = sb_db()) != NULL && sb_db_ping(d) == SB_OK;
	json_object_object_add(res, "programs", progs);
	json_object_object_add(res, "database", json_object_new_boolean(db));
	json_object_object_add(res, "jwt_keys", json_object_new_int64(
	    (int64_t)sb_jwt_keys_count(sb_cfg->jwt_keys)));
	json_object_object_add(res, "cookie_keys", json_object_new_int64(
	    (int64_t)sb_cookie_keys_count(sb_cfg->cookie_keys)));
	json_object_object_add(res, "allowed_origins", json_object_new_int64(
	    (int64_t)sb_origins_count(sb_cfg->allowed_origins)));
	if (down == 0 && db)
		sb_reply_ok(req, res);
	else
		sb_reply_err(req, SB_ERR_NOT_READY, !db ?
		    "The backend is not ready: database unavailable" :
		    "The backend is not ready: a program is down");
	json_object_put(res);
}

static const struct sb_route route = {
	.name = "health",
	.paths = {
		{ "/backend/health", SB_M(SB_GET) },
		{ NULL },
	},
	.flags = SB_ROUTE_DB,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
