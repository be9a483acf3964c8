/*
 * GET /backend/health
 *
 * 200 once every program answers on its socket and the database answers;
 * 503 naming what is down otherwise. Reveals no secret: only names,
 * booleans and the numbers of JWT keys, cookie keys (0: the cookie
 * routes are closed) and allowed origins.
 */
#include "sb.h"

#ifndef SB_PROGRAMS
#error "SB_PROGRAMS: the names of the route programs, set by the Makefile"
#endif

static void
handle(struct sb_req *req)
{
	char		 names[SB_PROGRAMS_MAX][SB_NAME_MAX + 1];
	json_object	*res, *progs;
	struct sb_db	*d;
	size_t		 n, i, down = 0;
	bool		 up, db;

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
