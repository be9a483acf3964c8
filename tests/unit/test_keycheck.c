/*
 * test_keycheck.c: the bound on calls to sentc for JWTs whose key is not
 * configured (sb_keycheck_take), and what sentc's codes stand for
 * (sb_keycheck_verdict).
 */
#include <sys/mman.h>
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

#define T0	1700000060LL	/* 20 s into a minute */

/* per_minute calls in a minute, none more; the next minute starts anew. */
static void
test_take(void **state)
{
	uint64_t	 word = 0;
	int		 i;

	for (i = 0; i < 3; i++)
		assert_true(sb_keycheck_take(&word, T0 + i, 3));
	assert_false(sb_keycheck_take(&word, T0 + 5, 3));
	assert_false(sb_keycheck_take(&word, T0 + 39, 3));
	/* T0 + 40 is the next minute. */
	assert_true(sb_keycheck_take(&word, T0 + 40, 3));
	assert_true(sb_keycheck_take(&word, T0 + 41, 3));
	assert_true(sb_keycheck_take(&word, T0 + 99, 3));
	assert_false(sb_keycheck_take(&word, T0 + 99, 3));
	/* A clock gone back is another minute too: at most per_minute. */
	assert_true(sb_keycheck_take(&word, T0 - 60, 3));
	/* None at all, or a limit larger than a minute's count holds. */
	word = 0;
	assert_false(sb_keycheck_take(&word, T0, 0));
	assert_false(sb_keycheck_take(&word, T0, -1));
	assert_true(sb_keycheck_take(&word, T0, 100000));
}

/* Workers sharing the count take no more than the limit between them. */
static void
test_take_shared(void **state)
{
	uint64_t	*word;
	pid_t		 pids[8];
	int		 status, taken = 0;
	size_t		 i, j;

	word = mmap(NULL, sizeof(*word), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(word != MAP_FAILED);
	*word = 0;
	for (i = 0; i < 8; i++) {
		if ((pids[i] = fork()) == 0) {
			int n = 0;

			for (j = 0; j < 20; j++)
				n += sb_keycheck_take(word, T0, 25);
			_exit(n);
		}
		assert_true(pids[i] > 0);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		taken += WEXITSTATUS(status);
	}
	assert_int_equal(taken, 25);
	munmap(word, sizeof(*word));
}

static void
test_verdict(void **state)
{
	static const struct {
		long		 code;
		enum sb_err	 want;
	} cases[] = {
		{ 35, SB_ERR_JWT_KEY },
		{ 30, SB_ERR_JWT_SIGNATURE },
		{ 31, SB_ERR_JWT_SIGNATURE },
		{ 32, SB_ERR_JWT_FORMAT },
		{ 1, SB_ERR_JWT_CLAIMS },
		{ 100, SB_ERR_JWT_CLAIMS },
		/* No verdict on the token: the app token, the route. */
		{ 200, SB_OK },
		{ 201, SB_OK },
		{ 203, SB_OK },
		{ 204, SB_OK },
		{ 404, SB_OK },
		{ 11, SB_OK },
		{ 0, SB_OK },
		{ -35, SB_OK },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (sb_keycheck_verdict(cases[i].code) != cases[i].want)
			print_error("code %ld: got %d, want %d\n",
			    cases[i].code, sb_keycheck_verdict(cases[i].code),
			    cases[i].want);
		assert_int_equal(sb_keycheck_verdict(cases[i].code),
		    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_take_shared),
		cmocka_unit_test(test_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
