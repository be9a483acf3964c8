/*
 * test_cache.c: the bounded cache with expiry (sb_cache.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb_cache.h"

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
	unsigned char	 key[SB_CACHE_KEY];
	size_t		 i, len, count = 0;

	for (i = 0; i < n; i++) {
		key_n(key, i);
		if (sb_cache_get(c, key, now, &len) != NULL)
			count++;
	}
	return count;
}

static void
test_put_get(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k1[SB_CACHE_KEY], k2[SB_CACHE_KEY];
	char		 val[] = "hello";
	const char	*got;
	size_t		 len = 0;

	assert_non_null(c = sb_cache_new(16));
	key_of(k1, "one");
	key_of(k2, "two");
	assert_null(sb_cache_get(c, k1, 100, &len));
	assert_int_equal(sb_cache_put(c, k1, 0, val, sizeof(val), 200), 0);

	/* A copy is stored, not the caller's buffer. */
	val[0] = 'J';
	assert_non_null(got = sb_cache_get(c, k1, 100, &len));
	assert_int_equal(len, sizeof(val));
	assert_string_equal(got, "hello");
	assert_null(sb_cache_get(c, k2, 100, &len));

	/* An empty value is a value. */
	assert_int_equal(sb_cache_put(c, k2, 0, "", 0, 200), 0);
	len = 99;
	assert_non_null(sb_cache_get(c, k2, 100, &len));
	assert_int_equal(len, 0);
	sb_cache_free(c);
}

static void
test_expiry(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY];
	size_t		 len;

	assert_non_null(c = sb_cache_new(16));
	key_of(k, "k");
	assert_int_equal(sb_cache_put(c, k, 0, "v", 1, 1000), 0);
	assert_non_null(sb_cache_get(c, k, 0, &len));
	assert_non_null(sb_cache_get(c, k, 999, &len));
	assert_null(sb_cache_get(c, k, 1000, &len));
	/* Gone for good, not only hidden at that time. */
	assert_null(sb_cache_get(c, k, 999, &len));

	assert_int_equal(sb_cache_put(c, k, 0, "v", 1, 1000), 0);
	assert_null(sb_cache_get(c, k, 5000, &len));
	sb_cache_free(c);
}

static void
test_replace(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY];
	const char	*got;
	size_t		 len, i;

	assert_non_null(c = sb_cache_new(4));
	key_of(k, "k");
	assert_int_equal(sb_cache_put(c, k, 1, "first", 6, 1000), 0);
	assert_int_equal(sb_cache_put(c, k, 2, "second!", 8, 2000), 0);
	assert_non_null(got = sb_cache_get(c, k, 1500, &len));
	assert_int_equal(len, 8);
	assert_string_equal(got, "second!");

	/* The new tag and expiry hold, not the old ones. */
	sb_cache_drop_tag(c, 1);
	assert_non_null(sb_cache_get(c, k, 1500, &len));
	sb_cache_drop_tag(c, 2);
	assert_null(sb_cache_get(c, k, 1500, &len));

	/* The last of many puts of one key is the one held. */
	for (i = 0; i < 10; i++)
		assert_int_equal(sb_cache_put(c, k, 0, &i, sizeof(i), 3000),
		    0);
	assert_non_null(got = sb_cache_get(c, k, 0, &len));
	assert_int_equal(len, sizeof(i));
	memcpy(&i, got, sizeof(i));
	assert_int_equal(i, 9);
	sb_cache_free(c);
}

/* Ten times as many entries as there is room for. */
static void
bounded(size_t cap)
{
	struct sb_cache	*c;
	unsigned char	 key[SB_CACHE_KEY];
	const void	*got;
	size_t		 i, len, n = 10 * cap, v;

	assert_non_null(c = sb_cache_new(cap));
	for (i = 0; i < n; i++) {
		key_n(key, i);
		assert_int_equal(sb_cache_put(c, key, 0, &i, sizeof(i),
		    1000 + (int64_t)i), 0);
		/* The entry just stored is there. */
		assert_non_null(got = sb_cache_get(c, key, 0, &len));
		assert_int_equal(len, sizeof(i));
		memcpy(&v, got, sizeof(v));
		assert_int_equal(v, i);
	}
	if (held(c, n, 0) > cap)
		fail_msg("cache of %zu holds %zu entries", cap,
		    held(c, n, 0));
	assert_true(held(c, n, 0) > 0);

	/* Still in working order once full. */
	key_of(key, "late");
	assert_int_equal(sb_cache_put(c, key, 0, "x", 1, 5000), 0);
	assert_non_null(sb_cache_get(c, key, 0, &len));
	sb_cache_free(c);
}

static void
test_bounded(void **state)
{
	bounded(16);
	bounded(64);
}

/* The header promises at most entries values, whatever the number. */
static void
test_bounded_odd_size(void **state)
{
	bounded(10);
	bounded(5);
	bounded(1);
}

static void
test_drop_tag(void **state)
{
	struct sb_cache	*c;
	unsigned char	 a[SB_CACHE_KEY], b[SB_CACHE_KEY], d[SB_CACHE_KEY];
	size_t		 len;

	assert_non_null(c = sb_cache_new(64));
	key_of(a, "a");
	key_of(b, "b");
	key_of(d, "d");
	assert_int_equal(sb_cache_put(c, a, 7, "a", 1, 1000), 0);
	assert_int_equal(sb_cache_put(c, b, 8, "b", 1, 1000), 0);
	assert_int_equal(sb_cache_put(c, d, 7, "d", 1, 1000), 0);

	sb_cache_drop_tag(c, 9);
	assert_non_null(sb_cache_get(c, a, 0, &len));
	assert_non_null(sb_cache_get(c, b, 0, &len));
	assert_non_null(sb_cache_get(c, d, 0, &len));

	sb_cache_drop_tag(c, 7);
	assert_null(sb_cache_get(c, a, 0, &len));
	assert_non_null(sb_cache_get(c, b, 0, &len));
	assert_null(sb_cache_get(c, d, 0, &len));

	/* A dropped key may be stored again. */
	assert_int_equal(sb_cache_put(c, a, 7, "A", 1, 1000), 0);
	assert_non_null(sb_cache_get(c, a, 0, &len));
	sb_cache_free(c);
}

static void
test_size_zero(void **state)
{
	struct sb_cache	*c;
	unsigned char	 k[SB_CACHE_KEY];
	size_t		 len;

	assert_non_null(c = sb_cache_new(0));
	key_of(k, "k");
	assert_int_equal(sb_cache_put(c, k, 0, "v", 1, 1000), 0);
	assert_null(sb_cache_get(c, k, 0, &len));
	sb_cache_drop_tag(c, 0);
	sb_cache_free(c);
	sb_cache_free(NULL);
}

static void
test_key(void **state)
{
	static const char *const ab_c[] = { "ab", "c" };
	static const char *const a_bc[] = { "a", "bc" };
	static const char *const abc[] = { "abc" };
	unsigned char	 k1[SB_CACHE_KEY], k2[SB_CACHE_KEY], k3[SB_CACHE_KEY];
	unsigned char	 k4[SB_CACHE_KEY];

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
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_bounded_odd_size),
		cmocka_unit_test(test_drop_tag),
		cmocka_unit_test(test_size_zero),
		cmocka_unit_test(test_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
