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

enum { HEALTH, READY };

#ifndef SB_PROGRAMS
#error "SB_PROGRAMS: the names of the route programs, set by the Makefile"
#endif

static void
handle(struct sb_req *req)
{
	sb_health(req, SB_PROGRAMS, req->pattern == READY);
}

static const struct sb_route route = {
	.name = "health",
	.paths = {
		[HEALTH] = { "/backend/health", SB_M(SB_GET) },
		[READY] = { "/backend/ready", SB_M(SB_GET) },
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
