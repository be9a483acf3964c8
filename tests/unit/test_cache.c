/*
 * test_cache.c: the bounded, shared cache with expiry (sb_cache.h).
 */
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "extern.h"

#define VALMAX	64

/* The key of one string. */
static void
key_of(unsigned char *key, const char *s)
{
	const char	*parts[1] = { s };

	sb_cache_key(key, parts, 1);
}

/* The key of entry number i. */
static void
key_n(unsigned char *key, size_t i)
{
	char	 s[32];

	snprintf(s, sizeof(s), "entry-%zu", i);
	key_of(key, s);
}

/* Entries of 0..n that c still holds at time now. */
static size_t
held(struct sb_cache *c, size_t n, int64_t now)
{
	unsigned char	 key[SB_CACHE_KEY], out[VALMAX];
	size_t		 i, count = 0;

	for (i = 0; i < n; i++) {
		key_n(key, i);
		if (sb_cache_get(c, key, now, out, sizeof(out)) >= 0)
			count++;
	}
	return count;
}

static void
test_put_get(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k1[SB_CACHE_KEY], k2[SB_CACHE_KEY];
	char		 val[] = "hello", out[VALMAX];

	assert_non_null(c = sb_cache_new(16, VALMAX));
	key_of(k1, "one");
	key_of(k2, "two");
	assert_int_equal(sb_cache_get(c, k1, 100, out, sizeof(out)), -1);
	assert_int_equal(sb_cache_put(c, k1, 0, val, sizeof(val), 200), 0);

	/* A copy is stored, not the caller's buffer. */
	val[0] = 'J';
	memset(out, 0, sizeof(out));
	assert_int_equal(sb_cache_get(c, k1, 100, out, sizeof(out)),
	    (long)sizeof(val));
	assert_string_equal(out, "hello");
	assert_int_equal(sb_cache_get(c, k2, 100, out, sizeof(out)), -1);

	/* An empty value is a value. */
	assert_int_equal(sb_cache_put(c, k2, 0, "", 0, 200), 0);
	assert_int_equal(sb_cache_get(c, k2, 100, out, sizeof(out)), 0);
	sb_cache_free(c);
}

static void
test_value_size(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY], big[VALMAX + 1];
	char		 out[VALMAX];

	assert_non_null(c = sb_cache_new(16, VALMAX));
	key_of(k, "k");
	memset(big, 'b', sizeof(big));

	/* Over valmax: refused, nothing stored. */
	assert_int_equal(sb_cache_put(c, k, 0, big, VALMAX + 1, 200), -1);
	assert_int_equal(sb_cache_get(c, k, 100, out, sizeof(out)), -1);

	/* valmax itself fits. */
	assert_int_equal(sb_cache_put(c, k, 0, big, VALMAX, 200), 0);
	assert_int_equal(sb_cache_get(c, k, 100, out, VALMAX), VALMAX);
	assert_memory_equal(out, big, VALMAX);

	/* An out buffer too small gets nothing, and is not written. */
	memset(out, 0, sizeof(out));
	assert_int_equal(sb_cache_get(c, k, 100, out, VALMAX - 1), -1);
	assert_int_equal(out[0], 0);
	sb_cache_free(c);
}

static void
test_expiry(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY];
	char		 out[VALMAX];

	assert_non_null(c = sb_cache_new(16, VALMAX));
	key_of(k, "k");
	assert_int_equal(sb_cache_put(c, k, 0, "v", 1, 1000), 0);
	assert_int_equal(sb_cache_get(c, k, 0, out, sizeof(out)), 1);
	assert_int_equal(sb_cache_get(c, k, 999, out, sizeof(out)), 1);
	assert_int_equal(sb_cache_get(c, k, 1000, out, sizeof(out)), -1);
	/* Gone for good, not only hidden at that time. */
	assert_int_equal(sb_cache_get(c, k, 999, out, sizeof(out)), -1);

	assert_int_equal(sb_cache_put(c, k, 0, "v", 1, 1000), 0);
	assert_int_equal(sb_cache_get(c, k, 5000, out, sizeof(out)), -1);
	sb_cache_free(c);
}

static void
test_replace(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY];
	char		 out[VALMAX];
	size_t		 i;

	assert_non_null(c = sb_cache_new(4, VALMAX));
	key_of(k, "k");
	assert_int_equal(sb_cache_put(c, k, 1, "first", 6, 1000), 0);
	assert_int_equal(sb_cache_put(c, k, 2, "second!", 8, 2000), 0);
	assert_int_equal(sb_cache_get(c, k, 1500, out, sizeof(out)), 8);
	assert_string_equal(out, "second!");

	/* The new tag and expiry hold, not the old ones. */
	sb_cache_drop_tag(c, 1);
	assert_int_equal(sb_cache_get(c, k, 1500, out, sizeof(out)), 8);
	sb_cache_drop_tag(c, 2);
	assert_int_equal(sb_cache_get(c, k, 1500, out, sizeof(out)), -1);

	/* The last of many puts of one key is the one held. */
	for (i = 0; i < 10; i++)
		assert_int_equal(sb_cache_put(c, k, 0, &i, sizeof(i), 3000),
		    0);
	assert_int_equal(sb_cache_get(c, k, 0, out, sizeof(out)),
	    (long)sizeof(i));
	memcpy(&i, out, sizeof(i));
	assert_int_equal(i, 9);
	sb_cache_free(c);
}

/*
 * Ten times as many entries as asked room for: memory does not grow, so
 * at most a small multiple of cap stays, and the newest is always there.
 */
static void
bounded(size_t cap)
{
	struct sb_cache	*c;
	unsigned char	 key[SB_CACHE_KEY], out[VALMAX];
	size_t		 i, n = 10 * cap, v, count;

	assert_non_null(c = sb_cache_new(cap, sizeof(size_t)));
	for (i = 0; i < n; i++) {
		key_n(key, i);
		assert_int_equal(sb_cache_put(c, key, 0, &i, sizeof(i),
		    1000 + (int64_t)i), 0);
		assert_int_equal(sb_cache_get(c, key, 0, out, sizeof(out)),
		    (long)sizeof(i));
		memcpy(&v, out, sizeof(v));
		assert_int_equal(v, i);
	}
	count = held(c, n, 0);
	if (count == 0 || count > 2 * cap + 4)
		fail_msg("cache of %zu holds %zu of %zu entries", cap, count,
		    n);

	/* Still in working order once full. */
	key_of(key, "late");
	assert_int_equal(sb_cache_put(c, key, 0, "x", 1, 5000), 0);
	assert_int_equal(sb_cache_get(c, key, 0, out, sizeof(out)), 1);
	sb_cache_free(c);
}

static void
test_bounded(void **state)
{
	bounded(1);
	bounded(10);
	bounded(16);
	bounded(100);
}

static void
test_drop_tag(void **state)
{
	struct sb_cache	*c;
	unsigned char	 a[SB_CACHE_KEY], b[SB_CACHE_KEY], d[SB_CACHE_KEY];
	char		 out[VALMAX];
	uint64_t	 t1, t2;

	t1 = sb_cache_tag("group-1");
	t2 = sb_cache_tag("group-2");
	assert_int_not_equal(t1, t2);
	assert_int_equal(t1, sb_cache_tag("group-1"));
	assert_int_not_equal(t1, 0);

	assert_non_null(c = sb_cache_new(64, VALMAX));
	key_of(a, "a");
	key_of(b, "b");
	key_of(d, "d");
	assert_int_equal(sb_cache_put(c, a, t1, "a", 1, 1000), 0);
	assert_int_equal(sb_cache_put(c, b, t2, "b", 1, 1000), 0);
	assert_int_equal(sb_cache_put(c, d, t1, "d", 1, 1000), 0);

	sb_cache_drop_tag(c, sb_cache_tag("group-3"));
	assert_int_equal(sb_cache_get(c, a, 0, out, sizeof(out)), 1);
	assert_int_equal(sb_cache_get(c, b, 0, out, sizeof(out)), 1);
	assert_int_equal(sb_cache_get(c, d, 0, out, sizeof(out)), 1);

	sb_cache_drop_tag(c, t1);
	assert_int_equal(sb_cache_get(c, a, 0, out, sizeof(out)), -1);
	assert_int_equal(sb_cache_get(c, b, 0, out, sizeof(out)), 1);
	assert_int_equal(sb_cache_get(c, d, 0, out, sizeof(out)), -1);

	/* A dropped key may be stored again. */
	assert_int_equal(sb_cache_put(c, a, t1, "A", 1, 1000), 0);
	assert_int_equal(sb_cache_get(c, a, 0, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'A');
	sb_cache_free(c);
}

/* The value names the id given? (Values here: one letter and a NUL.) */
static bool
value_is(const void *v, size_t len, void *arg)
{
	return len == 2 && memcmp(v, arg, 2) == 0;
}

static void
test_drop_if(void **state)
{
	struct sb_cache	*c;
	unsigned char	 a[SB_CACHE_KEY], b[SB_CACHE_KEY], d[SB_CACHE_KEY];
	char		 out[VALMAX];

	assert_non_null(c = sb_cache_new(64, VALMAX));
	key_of(a, "a");
	key_of(b, "b");
	key_of(d, "d");
	assert_int_equal(sb_cache_put(c, a, 0, "x", 2, 1000), 0);
	assert_int_equal(sb_cache_put(c, b, 0, "y", 2, 1000), 0);
	assert_int_equal(sb_cache_put(c, d, 0, "x", 2, 1000), 0);

	/* What the function says yes to goes, and only that. */
	assert_int_equal(sb_cache_drop_if(c, value_is, "z"), 0);
	assert_int_equal(sb_cache_drop_if(c, value_is, "x"), 2);
	assert_int_equal(sb_cache_get(c, a, 0, out, sizeof(out)), -1);
	assert_int_equal(sb_cache_get(c, b, 0, out, sizeof(out)), 2);
	assert_int_equal(sb_cache_get(c, d, 0, out, sizeof(out)), -1);

	/* NULL: everything. */
	assert_int_equal(sb_cache_put(c, a, 0, "x", 2, 1000), 0);
	assert_int_equal(sb_cache_drop_if(c, NULL, NULL), 2);
	assert_int_equal(sb_cache_get(c, a, 0, out, sizeof(out)), -1);
	assert_int_equal(sb_cache_get(c, b, 0, out, sizeof(out)), -1);
	assert_int_equal(sb_cache_drop_if(NULL, NULL, NULL), 0);
	sb_cache_free(c);
}

static void
test_size_zero(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY];
	char		 out[VALMAX];

	assert_non_null(c = sb_cache_new(0, VALMAX));
	key_of(k, "k");
	assert_int_equal(sb_cache_put(c, k, 0, "v", 1, 1000), 0);
	assert_int_equal(sb_cache_get(c, k, 0, out, sizeof(out)), -1);
	sb_cache_drop_tag(c, 0);
	sb_cache_free(c);
	sb_cache_free(NULL);
}

/*
 * Sizes whose memory does not fit in a size_t: no cache, rather than one
 * made of a size that wrapped (and a loop that never ends, or writes
 * past the mapping).
 */
static void
test_size_overflow(void **state)
{
	static const struct {
		size_t	 entries, valmax;
	} cases[] = {
		{ 16, SIZE_MAX },
		{ 16, SIZE_MAX - 8 },
		{ 16, SIZE_MAX / 4 },
		{ (size_t)1 << 32, (size_t)1 << 32 },
		{ (size_t)1 << 61, 1 },
		{ (size_t)1 << 62, VALMAX },
		{ SIZE_MAX / 2 + 1, VALMAX },
		{ SIZE_MAX, VALMAX },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (sb_cache_new(cases[i].entries, cases[i].valmax) != NULL)
			fail_msg("a cache of %zu entries of %zu bytes",
			    cases[i].entries, cases[i].valmax);
}

/* Times at the ends of int64_t: stored and looked up as any other. */
static void
test_expiry_extremes(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY], n[SB_CACHE_KEY];
	char		 out[VALMAX];

	assert_non_null(c = sb_cache_new(16, VALMAX));
	key_of(k, "k");
	key_of(n, "never");
	assert_int_equal(sb_cache_put(c, k, 0, "v", 1, INT64_MAX), 0);
	assert_int_equal(sb_cache_get(c, k, INT64_MAX - 1, out, sizeof(out)),
	    1);
	assert_int_equal(sb_cache_get(c, k, INT64_MIN, out, sizeof(out)), 1);
	assert_int_equal(sb_cache_get(c, k, INT64_MAX, out, sizeof(out)), -1);

	/* Expired at any time there is: nothing is stored. */
	assert_int_equal(sb_cache_put(c, n, 0, "v", 1, 0), 0);
	assert_int_equal(sb_cache_get(c, n, INT64_MIN, out, sizeof(out)), -1);
	assert_int_equal(sb_cache_put(c, n, 0, "v", 1, INT64_MIN), 0);
	assert_int_equal(sb_cache_get(c, n, INT64_MIN, out, sizeof(out)), -1);
	assert_int_equal(sb_cache_put(c, n, 0, "v", 1, -5), 0);
	assert_int_equal(sb_cache_get(c, n, -10, out, sizeof(out)), -1);
	sb_cache_free(c);
}

static void
test_stats(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY];
	char		 out[VALMAX];
	uint64_t	 hits, misses;

	assert_non_null(c = sb_cache_new(16, VALMAX));
	sb_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 0);
	assert_int_equal(misses, 0);

	key_of(k, "k");
	assert_int_equal(sb_cache_get(c, k, 0, out, sizeof(out)), -1);
	assert_int_equal(sb_cache_put(c, k, 0, "v", 1, 1000), 0);
	assert_int_equal(sb_cache_get(c, k, 0, out, sizeof(out)), 1);
	assert_int_equal(sb_cache_get(c, k, 0, out, sizeof(out)), 1);
	sb_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 2);
	assert_int_equal(misses, 1);
	sb_cache_free(c);
}

/* What a forked worker stores, the others see, and its hits count. */
static void
test_shared_across_fork(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY];
	char		 out[VALMAX];
	uint64_t	 hits, misses;
	pid_t		 pid;
	int		 status;

	assert_non_null(c = sb_cache_new(16, VALMAX));
	key_of(k, "from-the-child");
	if ((pid = fork()) == 0) {
		if (sb_cache_put(c, k, 0, "child", 6, 1000) != 0 ||
		    sb_cache_get(c, k, 0, out, sizeof(out)) != 6)
			_exit(1);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(sb_cache_get(c, k, 0, out, sizeof(out)), 6);
	assert_string_equal(out, "child");
	sb_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 2);
	sb_cache_free(c);
}

/*
 * sb_cache_add: stores only where nothing is; an expired entry is
 * nothing. Of several workers adding one key at once, exactly one does.
 */
static void
test_add(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY];
	char		 out[VALMAX];
	pid_t		 pids[8];
	int		 status, added = 0;
	size_t		 i;

	assert_non_null(c = sb_cache_new(16, VALMAX));
	key_of(k, "once");
	assert_int_equal(sb_cache_add(c, k, "first", 6, 100, 200), 1);
	assert_int_equal(sb_cache_add(c, k, "second", 7, 150, 300), 0);
	assert_int_equal(sb_cache_get(c, k, 150, out, sizeof(out)), 6);
	assert_string_equal(out, "first");
	/* Expired at 200: added again. */
	assert_int_equal(sb_cache_add(c, k, "third", 6, 200, 300), 1);
	assert_int_equal(sb_cache_get(c, k, 250, out, sizeof(out)), 6);
	assert_string_equal(out, "third");
	assert_int_equal(sb_cache_add(c, k, out, VALMAX + 1, 250, 300), -1);

	key_of(k, "raced");
	for (i = 0; i < 8; i++) {
		if ((pids[i] = fork()) == 0)
			_exit(sb_cache_add(c, k, "w", 2, 0, 1000) == 1 ? 1 : 0);
		assert_true(pids[i] > 0);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		added += WEXITSTATUS(status);
	}
	assert_int_equal(added, 1);

	/* A cache of nothing adds nothing. */
	sb_cache_free(c);
	assert_non_null(c = sb_cache_new(0, VALMAX));
	assert_int_equal(sb_cache_add(c, k, "w", 2, 0, 1000), 0);
	assert_int_equal(sb_cache_add(NULL, k, "w", 2, 0, 1000), 0);
	sb_cache_free(c);
}

static void
test_key(void **state)
{
	static const char *const ab_c[] = { "ab", "c" };
	static const char *const a_bc[] = { "a", "bc" };
	static const char *const abc[] = { "abc" };
	unsigned char	 k1[SB_CACHE_KEY], k2[SB_CACHE_KEY];
	unsigned char	 k3[SB_CACHE_KEY], k4[SB_CACHE_KEY];

	sb_cache_key(k1, a_bc, 2);
	sb_cache_key(k2, ab_c, 2);
	sb_cache_key(k3, abc, 1);
	assert_memory_not_equal(k1, k2, SB_CACHE_KEY);
	assert_memory_not_equal(k1, k3, SB_CACHE_KEY);
	assert_memory_not_equal(k2, k3, SB_CACHE_KEY);

	/* The same parts, the same key. */
	sb_cache_key(k4, a_bc, 2);
	assert_memory_equal(k1, k4, SB_CACHE_KEY);
	sb_cache_key(k4, a_bc, 1);
	assert_memory_not_equal(k1, k4, SB_CACHE_KEY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_value_size),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_drop_tag),
		cmocka_unit_test(test_drop_if),
		cmocka_unit_test(test_size_zero),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_expiry_extremes),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_shared_across_fork),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
