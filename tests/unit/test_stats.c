/*
 * test_stats.c: a program's block of counters (sb_stats_open, the
 * counting calls, sb_stats_read) and its Prometheus text
 * (sb_stats_render).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "extern.h"

/* The rendered text of progs. The caller frees it. */
static char *
render(const struct sb_stats_prog *progs, size_t n)
{
	FILE	*f;
	char	*text = NULL;
	size_t	 len = 0;

	assert_non_null(f = open_memstream(&text, &len));
	assert_int_equal(sb_stats_render(f, progs, n), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* Is line (without its newline) one of the lines of text? */
static int
has_line(const char *text, const char *line)
{
	size_t		 len = strlen(line);
	const char	*p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return 1;
		p += len;
	}
	return 0;
}

static void
check_lines(const char *text, const char *const *lines)
{
	for (; *lines != NULL; lines++)
		if (!has_line(text, *lines))
			fail_msg("missing line: %s\n--- in:\n%s", *lines, text);
}

/* Counts go to the file, and read back through another descriptor. */
static void
test_count_and_read(void **state)
{
	char		 dir[] = "/tmp/sb-stats-XXXXXX", path[256];
	struct sb_stats	*st;
	struct stat	 sb;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(sb_stats_open(dir, "unit", (uid_t)-1, (gid_t)-1), 0);
	snprintf(path, sizeof(path), "%s/stats/unit.stats", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	assert_int_equal(sb.st_size, sizeof(struct sb_stats));

	sb_stats_request(SB_POST, 200, 3);
	sb_stats_request(SB_POST, 200, 7);
	sb_stats_request(SB_GET, 404, 60);
	sb_stats_request(SB_GET, 42, 20000);		/* no such status */
	sb_stats_upstream(SB_OK, 12);
	sb_stats_upstream(SB_ERR_UPSTREAM_TIMEOUT, 1000);
	sb_stats_upstream(SB_ERR_UPSTREAM_DOWN, 1);
	sb_stats_upstream(SB_ERR_UPSTREAM_BAD, 1);
	sb_stats_upstream(SB_ERR_UPSTREAM_ERROR, 1);
	sb_stats_add(SB_STAT_JWT_HIT, 5);
	sb_stats_set(SB_STAT_WORKERS, 3);
	sb_stats_set(SB_STAT_WORKERS, 2);

	assert_non_null(st = malloc(sizeof(*st)));
	assert_int_equal(sb_stats_read(dir, "unit", st), 0);
	assert_int_equal(st->pid, getpid());
	assert_int_equal(st->requests[SB_POST][200], 2);
	assert_int_equal(st->requests[SB_GET][404], 1);
	assert_int_equal(st->requests[SB_GET][0], 1);
	assert_int_equal(st->request_ms.bucket[0], 1);	/* <= 5 ms */
	assert_int_equal(st->request_ms.bucket[1], 1);	/* <= 10 ms */
	assert_int_equal(st->request_ms.bucket[4], 1);	/* <= 100 ms */
	assert_int_equal(st->request_ms.bucket[SB_STATS_BUCKETS - 1], 1);
	assert_int_equal(st->request_ms.sum_ms, 3 + 7 + 60 + 20000);
	assert_int_equal(st->stat[SB_STAT_UPSTREAM], 5);
	assert_int_equal(st->stat[SB_STAT_UP_TIMEOUT], 1);
	assert_int_equal(st->stat[SB_STAT_UP_DOWN], 1);
	assert_int_equal(st->stat[SB_STAT_UP_BAD], 1);
	assert_int_equal(st->stat[SB_STAT_UP_SERVER], 1);
	assert_int_equal(st->upstream_ms.bucket[2], 1);	/* 12 ms: <= 25 */
	assert_int_equal(st->upstream_ms.bucket[7], 1);	/* 1000 ms: <= 1 s */
	assert_int_equal(st->stat[SB_STAT_JWT_HIT], 5);
	assert_int_equal(st->stat[SB_STAT_WORKERS], 2);

	/* Opening again (a restart) starts from zero. */
	assert_int_equal(sb_stats_open(dir, "unit", (uid_t)-1, (gid_t)-1), 0);
	assert_int_equal(sb_stats_read(dir, "unit", st), 0);
	assert_int_equal(st->requests[SB_POST][200], 0);
	assert_int_equal(st->stat[SB_STAT_JWT_HIT], 0);

	/* Not a block: too short, or of another version. */
	assert_int_equal(sb_stats_read(dir, "absent", st), -1);
	snprintf(path, sizeof(path), "%s/stats/short.stats", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("short", f);
	fclose(f);
	assert_int_equal(sb_stats_read(dir, "short", st), -1);
	st->version = SB_STATS_VERSION + 1;
	snprintf(path, sizeof(path), "%s/stats/other.stats", dir);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(st, sizeof(*st), 1, f), 1);
	fclose(f);
	assert_int_equal(sb_stats_read(dir, "other", st), -1);

	free(st);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stats/short.stats", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stats/unit.stats", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stats", dir);
	rmdir(path);
	rmdir(dir);
}

/* A directory that is not there: counting still works, nothing is made. */
static void
test_no_dir(void **state)
{
	struct stat	 sb;

	assert_int_equal(sb_stats_open("/nonexistent/sb-stats", "unit",
	    (uid_t)-1, (gid_t)-1), 0);
	sb_stats_request(SB_GET, 200, 1);
	sb_stats_add(SB_STAT_RESTARTS, 1);
	assert_int_equal(stat("/nonexistent/sb-stats", &sb), -1);
}

static void
test_render(void **state)
{
	static const char *const lines[] = {
		"# TYPE sentc_backend_up gauge",
		"sentc_backend_up{program=\"one\"} 1",
		"sentc_backend_up{program=\"two\"} 0",
		"sentc_backend_up{program=\"three\"} 0",
		"sentc_backend_start_time_seconds{program=\"one\"} 1700000000",
		"sentc_backend_workers{program=\"one\"} 4",
		"sentc_backend_workers{program=\"two\"} 0",	/* master gone */
		"sentc_backend_worker_restarts_total{program=\"two\"} 3",
		"sentc_backend_config_reloads_total{program=\"one\","
		    "result=\"success\"} 2",
		"sentc_backend_config_reloads_total{program=\"one\","
		    "result=\"failure\"} 1",
		"# TYPE sentc_backend_requests_total counter",
		"sentc_backend_requests_total{program=\"one\",method=\"POST\","
		    "status=\"200\"} 7",
		"sentc_backend_requests_total{program=\"one\",method=\"other\","
		    "status=\"other\"} 1",
		"# TYPE sentc_backend_request_duration_seconds histogram",
		"sentc_backend_request_duration_seconds_bucket{program=\"one\","
		    "le=\"0.005\"} 2",
		"sentc_backend_request_duration_seconds_bucket{program=\"one\","
		    "le=\"0.01\"} 2",
		"sentc_backend_request_duration_seconds_bucket{program=\"one\","
		    "le=\"2.5\"} 5",
		"sentc_backend_request_duration_seconds_bucket{program=\"one\","
		    "le=\"10\"} 5",
		"sentc_backend_request_duration_seconds_bucket{program=\"one\","
		    "le=\"+Inf\"} 6",
		"sentc_backend_request_duration_seconds_sum{program=\"one\"} "
		    "12.345",
		"sentc_backend_request_duration_seconds_count{program=\"one\"} 6",
		"sentc_backend_upstream_errors_total{program=\"one\","
		    "error=\"timeout\"} 9",
		"sentc_backend_upstream_errors_total{program=\"two\","
		    "error=\"server\"} 0",
		"sentc_backend_jwt_cache_hits_total{program=\"one\"} 11",
		"sentc_backend_access_cache_misses_total{program=\"two\"} 13",
		"# TYPE sentc_backend_jwt_key_checks_total counter",
		"sentc_backend_jwt_key_checks_total{program=\"one\","
		    "result=\"accepted\"} 4",
		"sentc_backend_jwt_key_checks_total{program=\"one\","
		    "result=\"refused\"} 0",
		"sentc_backend_jwt_key_checks_total{program=\"two\","
		    "result=\"limited\"} 17",
		NULL,
	};
	struct sb_stats		*a, *b;
	struct sb_stats_prog	 progs[3];
	char			*text;

	assert_non_null(a = calloc(1, sizeof(*a)));
	assert_non_null(b = calloc(1, sizeof(*b)));
	a->started = 1700000000;
	a->stat[SB_STAT_WORKERS] = 4;
	a->stat[SB_STAT_RELOADS] = 2;
	a->stat[SB_STAT_RELOAD_FAILS] = 1;
	a->stat[SB_STAT_UP_TIMEOUT] = 9;
	a->stat[SB_STAT_JWT_HIT] = 11;
	a->stat[SB_STAT_KEYCHECK_OK] = 4;
	a->requests[SB_POST][200] = 7;
	a->requests[SB_OTHER][0] = 1;
	a->request_ms.bucket[0] = 2;
	a->request_ms.bucket[7] = 3;		/* <= 1 s */
	a->request_ms.bucket[SB_STATS_BUCKETS - 1] = 1;
	a->request_ms.sum_ms = 12345;
	b->stat[SB_STAT_WORKERS] = 5;
	b->stat[SB_STAT_RESTARTS] = 3;
	b->stat[SB_STAT_ACCESS_MISS] = 13;
	b->stat[SB_STAT_KEYCHECK_LIMITED] = 17;
	progs[0] = (struct sb_stats_prog){ "one", true, true, a };
	progs[1] = (struct sb_stats_prog){ "two", false, false, b };
	progs[2] = (struct sb_stats_prog){ "three", false, false, NULL };

	text = render(progs, 3);
	check_lines(text, lines);
	/* A program without a block has its up line only. */
	assert_null(strstr(text, "workers{program=\"three\""));
	assert_null(strstr(text, "sentc_backend_requests_total{program=\"two\""));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_and_read),
		cmocka_unit_test(test_no_dir),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
