/*
 * sb_stats.h: a program's counters, for GET /backend/metrics.
 *
 * Each program keeps one block of counters of a fixed layout in a file,
 * SOCKET_DIR/stats/NAME.stats, that its master maps shared before it
 * forks: the workers and the master update it with atomic adds, without a
 * lock or a system call, and the metrics program reads every program's
 * block and renders the Prometheus text format. A program whose file
 * cannot be made keeps its counters in memory only (and is missing from
 * the metrics). The block holds numbers only, never a secret.
 */
#ifndef SB_STATS_H
#define SB_STATS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sb_error.h"
#include "sb_request.h"

#define SB_STATS_MAGIC		0x7362737473746174ULL	/* "sbststat" */
#define SB_STATS_VERSION	3	/* bumped whenever the layout changes */
#define SB_STATS_BUCKETS	12	/* the last one is +Inf */
#define SB_STATS_STATUSES	600	/* HTTP statuses 100-599; 0: others */
#define SB_STATS_WORKERS	1024	/* worker slots of a program */

/* Counters and gauges besides the requests and the histograms. */
enum sb_stat {
	SB_STAT_WORKERS,	/* gauge: worker processes alive */
	SB_STAT_RESTARTS,	/* workers that died and were replaced */
	SB_STAT_RELOADS,	/* SIGHUP reloads that took effect */
	SB_STAT_RELOAD_FAILS,	/* SIGHUP reloads refused (config kept) */
	SB_STAT_JWT_HIT,	/* JWT cache */
	SB_STAT_JWT_MISS,
	SB_STAT_ACCESS_HIT,	/* group-access cache */
	SB_STAT_ACCESS_MISS,
	SB_STAT_UPSTREAM,	/* sentc API calls made */
	SB_STAT_UP_DOWN,	/* ... that could not connect or were cut */
	SB_STAT_UP_BAD,		/* ... answered no sentc envelope */
	SB_STAT_UP_TIMEOUT,	/* ... took too long */
	SB_STAT_UP_SERVER,	/* ... answered a 5xx */
	SB_STAT_KEYCHECK_OK,	/* JWTs of a kid not configured: sentc */
	SB_STAT_KEYCHECK_REFUSED, /* ... accepted, refused, gave no verdict, */
	SB_STAT_KEYCHECK_FAILED,
	SB_STAT_KEYCHECK_LIMITED, /* ... or was not asked: no call left */
	SB_STAT_BUSY,		/* requests refused: MAX_IN_FLIGHT reached */
	SB_STAT_UP_CONNECTS,	/* connections opened to sentc */
	SB_STAT__MAX
};

/* A latency histogram: counts per bucket (not cumulative), sum in ms. */
struct sb_hist {
	uint64_t	 bucket[SB_STATS_BUCKETS];
	uint64_t	 sum_ms;
};

struct sb_stats {
	uint64_t	 magic;		/* written last: the block is ready */
	uint32_t	 version;
	int32_t		 pid;		/* the master */
	int64_t		 started;	/* the master's start, Unix seconds */
	uint64_t	 stat[SB_STAT__MAX];
	struct sb_hist	 request_ms;
	struct sb_hist	 upstream_ms;
	uint64_t	 requests[SB_METHOD__MAX][SB_STATS_STATUSES];
	/* Requests under way, per worker slot: a dead worker's is zeroed. */
	uint32_t	 in_flight[SB_STATS_WORKERS];
};

/* Upper bounds of the histograms' buckets, in milliseconds. */
extern const int64_t sb_stats_bounds[SB_STATS_BUCKETS - 1];

/*
 * Makes this program's block, zeroed: the file dir/stats/name.stats
 * (the stats directory is made if missing), owned by uid:gid when they
 * are not -1, mapped shared. Falls back to memory of its own, with a
 * warning, if the file cannot be made. Called by the master before it
 * forks; returns 0, or -1 if not even memory could be had.
 */
int	 sb_stats_open(const char *dir, const char *name, uid_t uid,
	    gid_t gid);

/* Adds n to a counter, or sets a gauge. */
void	 sb_stats_add(enum sb_stat, uint64_t n);
void	 sb_stats_set(enum sb_stat, uint64_t v);

/* Sets worker slot's count of requests under way. */
void	 sb_stats_in_flight(size_t slot, uint32_t n);

/* Counts an answered request and its time. */
void	 sb_stats_request(enum sb_method, int status, int64_t ms);

/* Counts a sentc API call, its outcome (SB_OK or a fault) and its time. */
void	 sb_stats_upstream(enum sb_err, int64_t ms);

/*
 * Reads the block of program name from dir/stats/name.stats into out.
 * Returns 0, or -1 if there is none or it is not a block of this
 * version.
 */
int	 sb_stats_read(const char *dir, const char *name,
	    struct sb_stats *out);

/*
 * One program as the metrics see it: its name, whether it accepts
 * connections, whether the master that wrote its block still runs, and
 * the block (NULL: none). For sb_stats_render().
 */
struct sb_stats_prog {
	const char		*name;
	bool			 up;
	bool			 running;
	const struct sb_stats	*stats;
};

/*
 * Writes the Prometheus text format (version 0.0.4) of n programs to
 * out. The block of a master that no longer runs counts no workers.
 * Returns 0, or -1 on a write error. Pure.
 */
int	 sb_stats_render(FILE *out, const struct sb_stats_prog *progs,
	    size_t n);

#endif
