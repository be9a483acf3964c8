/*
 * sb_ops.c: the operators' routes, /backend/health, /backend/ready and
 * /backend/metrics, over the programs that one build makes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

void
sb_health(struct sb_req *req, const char *programs, bool ready)
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
	n = sb_program_list(programs, names, SB_PROGRAMS_MAX);
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
	if (ready) {
		upstream = sb_upstream_reachable() == SB_OK;
		json_object_object_add(res, "upstream",
		    json_object_new_boolean(upstream));
	}
	why = down > 0 ? "a program is down" :
	    !db && ready ? "database unavailable" :
	    !upstream ? "the sentc API cannot be reached" : NULL;
	if (why == NULL)
		sb_reply_ok(req, res);
	else {
		snprintf(msg, sizeof(msg), "The backend is not ready: %s", why);
		sb_reply_err(req, SB_ERR_NOT_READY, msg);
	}
	json_object_put(res);
}

/* True if the master that wrote the block still runs. */
static bool
running(const struct sb_stats *st)
{
	return st->pid > 1 && (kill(st->pid, 0) == 0 || errno == EPERM);
}

void
sb_metrics(struct sb_req *req, const char *programs)
{
	char			 names[SB_PROGRAMS_MAX][SB_NAME_MAX + 1];
	struct sb_stats_prog	 progs[SB_PROGRAMS_MAX];
	struct sb_stats		*blocks;
	FILE			*out;
	char			*text = NULL;
	size_t			 n, i, len = 0;
	int			 rc;

	n = sb_program_list(programs, names, SB_PROGRAMS_MAX);
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

