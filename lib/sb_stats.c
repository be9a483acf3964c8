#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "extern.h"

const int64_t sb_stats_bounds[SB_STATS_BUCKETS - 1] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};

/* Until sb_stats_open(): a block that nobody reads (unit tests). */
static struct sb_stats	 unread;
static struct sb_stats	*blk = &unread;

#define ADD(p, n)	__atomic_add_fetch((p), (n), __ATOMIC_RELAXED)

static int
stats_path(char *out, size_t outsz, const char *dir, const char *name)
{
	int	 n;

	if (name == NULL)
		n = snprintf(out, outsz, "%s/stats", dir);
	else
		n = snprintf(out, outsz, "%s/stats/%s.stats", dir, name);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* Maps the file at path (made if missing) shared; NULL with errno. */
static struct sb_stats *
map_file(const char *path, uid_t uid, gid_t gid)
{
	struct stat	 st;
	void		*m;
	int		 fd, saved;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0640)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uid != (uid_t)-1 && fchown(fd, uid, gid) == -1) ||
	    ftruncate(fd, sizeof(struct sb_stats)) == -1 ||
	    (m = mmap(NULL, sizeof(struct sb_stats), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) == MAP_FAILED) {
		saved = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		errno = saved;
		return NULL;
	}
	close(fd);
	return m;
}

int
sb_stats_open(const char *dir, const char *name, uid_t uid, gid_t gid)
{
	struct sb_stats	*m = NULL;
	char		 sdir[PATH_MAX], path[PATH_MAX];

	if (stats_path(sdir, sizeof(sdir), dir, NULL) == -1 ||
	    stats_path(path, sizeof(path), dir, name) == -1)
		errno = ENAMETOOLONG;
	else if (mkdir(sdir, 0750) == 0) {
		if (uid != (uid_t)-1 && chown(sdir, uid, gid) == -1)
			sb_log(SB_LOG_WARN, "metrics: %s: %s", sdir,
			    strerror(errno));
		m = map_file(path, uid, gid);
	} else if (errno == EEXIST)
		m = map_file(path, uid, gid);
	if (m == NULL) {
		sb_log(SB_LOG_WARN, "metrics: %s/stats/%s.stats: %s; the "
		    "counters of this program are not shown", dir, name,
		    strerror(errno));
		m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return -1;
	}
	memset(m, 0, sizeof(*m));
	m->version = SB_STATS_VERSION;
	m->pid = (int32_t)getpid();
	m->started = sb_now();
	__atomic_store_n(&m->magic, SB_STATS_MAGIC, __ATOMIC_RELEASE);
	blk = m;
	return 0;
}

void
sb_stats_add(enum sb_stat s, uint64_t n)
{
	ADD(&blk->stat[s], n);
}

void
sb_stats_set(enum sb_stat s, uint64_t v)
{
	__atomic_store_n(&blk->stat[s], v, __ATOMIC_RELAXED);
}

static void
hist_add(struct sb_hist *h, int64_t ms)
{
	size_t	 i;

	if (ms < 0)
		ms = 0;
	for (i = 0; i < SB_STATS_BUCKETS - 1 && ms > sb_stats_bounds[i]; i++)
		continue;
	ADD(&h->bucket[i], 1);
	ADD(&h->sum_ms, (uint64_t)ms);
}

void
sb_stats_in_flight(size_t slot, uint32_t n)
{
	if (slot < SB_STATS_WORKERS)
		__atomic_store_n(&blk->in_flight[slot], n, __ATOMIC_RELAXED);
}

void
sb_stats_request(enum sb_method m, int status, int64_t ms)
{
	size_t	 i = status >= 100 && status < SB_STATS_STATUSES ?
		    (size_t)status : 0;

	ADD(&blk->requests[m][i], 1);
	hist_add(&blk->request_ms, ms);
}

void
sb_stats_upstream(enum sb_err e, int64_t ms)
{
	ADD(&blk->stat[SB_STAT_UPSTREAM], 1);
	hist_add(&blk->upstream_ms, ms);
	switch (e) {
	case SB_OK:
		break;
	case SB_ERR_UPSTREAM_TIMEOUT:
		ADD(&blk->stat[SB_STAT_UP_TIMEOUT], 1);
		break;
	case SB_ERR_UPSTREAM_BAD:
		ADD(&blk->stat[SB_STAT_UP_BAD], 1);
		break;
	case SB_ERR_UPSTREAM_ERROR:
		ADD(&blk->stat[SB_STAT_UP_SERVER], 1);
		break;
	default:
		ADD(&blk->stat[SB_STAT_UP_DOWN], 1);
		break;
	}
}

int
sb_stats_read(const char *dir, const char *name, struct sb_stats *out)
{
	char	 path[PATH_MAX];
	ssize_t	 n;
	int	 fd;

	if (stats_path(path, sizeof(path), dir, name) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = pread(fd, out, sizeof(*out), 0);
	close(fd);
	if (n != (ssize_t)sizeof(*out) || out->magic != SB_STATS_MAGIC ||
	    out->version != SB_STATS_VERSION)
		return -1;
	return 0;
}

/* ---- the Prometheus text format ---------------------------------------- */

static const char *const method_label[SB_METHOD__MAX] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "other",
};

static void
family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP sentc_backend_%s %s\n# TYPE sentc_backend_%s %s\n",
	    name, help, name, type);
}

/* One sample per program with a block: stat s, or 0 when not running. */
static void
per_program(FILE *out, const struct sb_stats_prog *p, size_t n,
    const char *name, const char *type, const char *help, enum sb_stat s,
    const char *extra)
{
	uint64_t	 v;
	size_t		 i;

	if (help != NULL)
		family(out, name, type, help);
	for (i = 0; i < n; i++) {
		if (p[i].stats == NULL)
			continue;
		v = s == SB_STAT_WORKERS && !p[i].running ? 0 :
		    p[i].stats->stat[s];
		fprintf(out, "sentc_backend_%s{program=\"%s\"%s} %llu\n", name,
		    p[i].name, extra != NULL ? extra : "",
		    (unsigned long long)v);
	}
}

static void
histogram(FILE *out, const struct sb_stats_prog *p, size_t n,
    const char *name, const char *help, size_t off)
{
	const struct sb_hist *h;
	uint64_t	 cum;
	size_t		 i, b;

	family(out, name, "histogram", help);
	for (i = 0; i < n; i++) {
		if (p[i].stats == NULL)
			continue;
		h = (const struct sb_hist *)((const char *)p[i].stats + off);
		for (cum = 0, b = 0; b < SB_STATS_BUCKETS; b++) {
			cum += h->bucket[b];
			if (b < SB_STATS_BUCKETS - 1)
				fprintf(out, "sentc_backend_%s_bucket{program="
				    "\"%s\",le=\"%g\"} %llu\n", name, p[i].name,
				    (double)sb_stats_bounds[b] / 1000,
				    (unsigned long long)cum);
			else
				fprintf(out, "sentc_backend_%s_bucket{program="
				    "\"%s\",le=\"+Inf\"} %llu\n", name,
				    p[i].name, (unsigned long long)cum);
		}
		fprintf(out, "sentc_backend_%s_sum{program=\"%s\"} %.3f\n"
		    "sentc_backend_%s_count{program=\"%s\"} %llu\n", name,
		    p[i].name, (double)h->sum_ms / 1000, name, p[i].name,
		    (unsigned long long)cum);
	}
}

int
sb_stats_render(FILE *out, const struct sb_stats_prog *p, size_t n)
{
	const struct sb_stats *st;
	size_t		 i, m, s;

	family(out, "up", "gauge", "Whether the program accepts connections "
	    "on its socket.");
	for (i = 0; i < n; i++)
		fprintf(out, "sentc_backend_up{program=\"%s\"} %d\n",
		    p[i].name, p[i].up ? 1 : 0);
	family(out, "start_time_seconds", "gauge", "When the program started, "
	    "in seconds since the epoch.");
	for (i = 0; i < n; i++)
		if (p[i].stats != NULL)
			fprintf(out, "sentc_backend_start_time_seconds{program="
			    "\"%s\"} %lld\n", p[i].name,
			    (long long)p[i].stats->started);
	per_program(out, p, n, "workers", "gauge", "Worker processes alive.",
	    SB_STAT_WORKERS, NULL);
	family(out, "requests_in_flight", "gauge", "Requests under way: "
	    "read, and not yet answered.");
	for (i = 0; i < n; i++) {
		uint64_t sum = 0;

		if ((st = p[i].stats) == NULL)
			continue;
		for (s = 0; p[i].running && s < SB_STATS_WORKERS; s++)
			sum += st->in_flight[s];
		fprintf(out, "sentc_backend_requests_in_flight{program=\"%s\"} "
		    "%llu\n", p[i].name, (unsigned long long)sum);
	}
	per_program(out, p, n, "requests_refused_total", "counter", "Requests "
	    "refused at once with 503 (err_code 20041): the worker carried "
	    "SENTC_BACKEND_MAX_IN_FLIGHT already.", SB_STAT_BUSY, NULL);
	per_program(out, p, n, "worker_restarts_total", "counter", "Workers "
	    "that died and were replaced.", SB_STAT_RESTARTS, NULL);
	per_program(out, p, n, "config_reloads_total", "counter", "Reloads "
	    "of the config on SIGHUP, by result.", SB_STAT_RELOADS,
	    ",result=\"success\"");
	per_program(out, p, n, "config_reloads_total", "counter", NULL,
	    SB_STAT_RELOAD_FAILS, ",result=\"failure\"");

	family(out, "requests_total", "counter", "Requests answered, by "
	    "method and HTTP status.");
	for (i = 0; i < n; i++) {
		if ((st = p[i].stats) == NULL)
			continue;
		for (m = 0; m < SB_METHOD__MAX; m++)
			for (s = 0; s < SB_STATS_STATUSES; s++) {
				if (st->requests[m][s] == 0)
					continue;
				fprintf(out, "sentc_backend_requests_total{"
				    "program=\"%s\",method=\"%s\",status=\"",
				    p[i].name, method_label[m]);
				if (s == 0)
					fprintf(out, "other");
				else
					fprintf(out, "%zu", s);
				fprintf(out, "\"} %llu\n",
				    (unsigned long long)st->requests[m][s]);
			}
	}
	histogram(out, p, n, "request_duration_seconds", "Time from a "
	    "request's arrival to its answer.",
	    offsetof(struct sb_stats, request_ms));

	per_program(out, p, n, "upstream_requests_total", "counter", "Calls "
	    "to the sentc API.", SB_STAT_UPSTREAM, NULL);
	per_program(out, p, n, "upstream_errors_total", "counter", "Calls to "
	    "the sentc API that failed, by error: unreachable (no connection, "
	    "or it was cut), invalid (no sentc envelope), timeout, server "
	    "(a 5xx).", SB_STAT_UP_DOWN, ",error=\"unreachable\"");
	per_program(out, p, n, "upstream_errors_total", "counter", NULL,
	    SB_STAT_UP_BAD, ",error=\"invalid\"");
	per_program(out, p, n, "upstream_errors_total", "counter", NULL,
	    SB_STAT_UP_TIMEOUT, ",error=\"timeout\"");
	per_program(out, p, n, "upstream_errors_total", "counter", NULL,
	    SB_STAT_UP_SERVER, ",error=\"server\"");
	per_program(out, p, n, "upstream_connections_total", "counter",
	    "Connections opened to the sentc API (kept ones are reused).",
	    SB_STAT_UP_CONNECTS, NULL);
	histogram(out, p, n, "upstream_duration_seconds", "Time of a call to "
	    "the sentc API.", offsetof(struct sb_stats, upstream_ms));

	per_program(out, p, n, "jwt_cache_hits_total", "counter", "JWTs found "
	    "verified in the cache.", SB_STAT_JWT_HIT, NULL);
	per_program(out, p, n, "jwt_cache_misses_total", "counter", "JWTs "
	    "not in the cache: their signature was checked.", SB_STAT_JWT_MISS,
	    NULL);
	per_program(out, p, n, "jwt_key_checks_total", "counter", "JWTs whose "
	    "kid names no configured key, asked of sentc (GET /user/jwt), by "
	    "result: accepted (add the key), refused, failed (no verdict), "
	    "limited (not asked: no call left this minute).",
	    SB_STAT_KEYCHECK_OK, ",result=\"accepted\"");
	per_program(out, p, n, "jwt_key_checks_total", "counter", NULL,
	    SB_STAT_KEYCHECK_REFUSED, ",result=\"refused\"");
	per_program(out, p, n, "jwt_key_checks_total", "counter", NULL,
	    SB_STAT_KEYCHECK_FAILED, ",result=\"failed\"");
	per_program(out, p, n, "jwt_key_checks_total", "counter", NULL,
	    SB_STAT_KEYCHECK_LIMITED, ",result=\"limited\"");
	per_program(out, p, n, "access_cache_hits_total", "counter", "Group "
	    "access answers found in the cache.", SB_STAT_ACCESS_HIT, NULL);
	per_program(out, p, n, "access_cache_misses_total", "counter", "Group "
	    "access answers not in the cache: sentc was asked.",
	    SB_STAT_ACCESS_MISS, NULL);
	return ferror(out) ? -1 : 0;
}
