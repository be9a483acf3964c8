/*
 * GET /backend/metrics: the counters of every program in the Prometheus
 * text format: requests by route, method and status, request and sentc
 * API latency, sentc API errors, JWT and access cache hits and misses,
 * workers alive and restarted, config reloads.
 *
 * For a scraper on the API's own machine: the nginx snippet serves it to
 * loopback only. It shows numbers and program names, never a secret.
 */
#include <errno.h>
#include <signal.h>

#include "sb.h"
#include "sb_stats.h"

#ifndef SB_PROGRAMS
#error "SB_PROGRAMS: the names of the route programs, set by the Makefile"
#endif

/* True if the master that wrote the block still runs. */
static bool
running(const struct sb_stats *st)
{
	return st->pid > 1 && (kill(st->pid, 0) == 0 || errno == EPERM);
}

static void
handle(struct sb_req *req)
{
	char			 names[SB_PROGRAMS_MAX][SB_NAME_MAX + 1];
	struct sb_stats_prog	 progs[SB_PROGRAMS_MAX];
	struct sb_stats		*blocks;
	FILE			*out;
	char			*text = NULL;
	size_t			 n, i, len = 0;
	int			 rc;

	n = sb_program_list(SB_PROGRAMS, names, SB_PROGRAMS_MAX);
	if ((blocks = calloc(n, sizeof(*blocks))) == NULL ||
	    (out = open_memstream(&text, &len)) == NULL) {
		free(blocks);
		sb_reply_err(req, SB_ERR_INTERNAL, NULL);
		return;
	}
	for (i = 0; i < n; i++) {
		progs[i].name = names[i];
		progs[i].up = strcmp(names[i], req->route->name) == 0 ||
		    sb_program_up(names[i]);
		progs[i].stats = sb_stats_read(sb_cfg->socket_dir, names[i],
		    &blocks[i]) == 0 ? &blocks[i] : NULL;
		progs[i].running = progs[i].stats != NULL &&
		    running(progs[i].stats);
	}
	rc = sb_stats_render(out, progs, n);
	if (fclose(out) != 0 || rc == -1)
		sb_reply_err(req, SB_ERR_INTERNAL, NULL);
	else
		sb_reply_raw(req, 200, "text/plain; version=0.0.4; "
		    "charset=utf-8", text, len);
	free(text);
	free(blocks);
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
