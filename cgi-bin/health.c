/*
 * GET /backend/health: liveness. 200 once every program answers on its
 * socket; 503 naming what is down otherwise. Whether the database
 * answers is told ("database"), but a database that is down (a
 * PostgreSQL server restarting, say) leaves the programs alive: they
 * wait for it, so a supervisor has nothing to restart.
 *
 * GET /backend/ready: readiness, for a load balancer: every program
 * answers, the database answers, and the sentc API can be reached (a TCP connection, with the TLS handshake for
 * https, but no request: no sentc call is spent; the answer is reused
 * for SENTC_BACKEND_READY_TTL seconds).
 *
 * Neither reveals a secret: only names, booleans and the numbers of JWT
 * keys, cookie keys (0: the cookie routes are closed) and allowed
 * origins. Neither does anything of another route's.
 */
#include "sb.h"

#define READY	1	/* the pattern of /backend/ready */

#ifndef SB_PROGRAMS
#error "SB_PROGRAMS: the names of the route programs, set by the Makefile"
#endif

static void
handle(struct sb_req *req)
{
	char		 names[SB_PROGRAMS_MAX][SB_NAME_MAX + 1];
	json_object	*res, *progs;
	struct sb_db	*d;
	const char	*why;
	char		 msg[128];
	size_t		 n, i, down = 0;
	bool		 up, db, upstream = true;

	res = json_object_new_object();
	progs = json_object_new_object();
	n = sb_program_list(SB_PROGRAMS, names, SB_PROGRAMS_MAX);
	for (i = 0; i < n; i++) {
		up = strcmp(names[i], req->route->name) == 0 ||
		    sb_program_up(names[i]);
		json_object_object_add(progs, names[i],
		    json_object_new_boolean(up));
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
	if (req->pattern == READY) {
		upstream = sb_upstream_reachable() == SB_OK;
		json_object_object_add(res, "upstream",
		    json_object_new_boolean(upstream));
	}
	why = down > 0 ? "a program is down" :
	    !db && req->pattern == READY ? "database unavailable" :
	    !upstream ? "the sentc API cannot be reached" : NULL;
	if (why == NULL)
		sb_reply_ok(req, res);
	else {
		snprintf(msg, sizeof(msg), "The backend is not ready: %s", why);
		sb_reply_err(req, SB_ERR_NOT_READY, msg);
	}
	json_object_put(res);
}

static const struct sb_route route = {
	.name = "health",
	.paths = {
		{ "/backend/health", SB_M(SB_GET) },
		{ "/backend/ready", SB_M(SB_GET) },
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
