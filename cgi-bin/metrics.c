/*
 * GET /backend/metrics: the counters of every program in the Prometheus
 * text format: requests by route, method and status, request and sentc
 * API latency, sentc API errors, JWT and access cache hits and misses,
 * workers alive and restarted, config reloads.
 *
 * For a scraper on the API's own machine: the nginx snippet serves it to
 * loopback only. It shows numbers and program names, never a secret.
 */
#include "sb.h"

#ifndef SB_PROGRAMS
#error "SB_PROGRAMS: the names of the route programs, set by the Makefile"
#endif

static void
handle(struct sb_req *req)
{
	sb_metrics(req, SB_PROGRAMS);
}

static const struct sb_route route = {
	.name = "metrics",
	.paths = {
		{ "/backend/metrics", SB_M(SB_GET) },
		{ NULL },
	},
	.flags = SB_ROUTE_NO_CORS,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
