/*
 * test_error.c: lib/sb_error.c: the error table: each error's HTTP status
 * and sentc-backend code.
 */
#include "unit.h"

#include "extern.h"

/* ---- the error table --------------------------------------------------- */

static void
test_err_table(void **state)
{
	static const struct {
		enum sb_err	 e;
		int		 status, code;
	} cases[] = {
		{ SB_OK, 200, 0 },
		{ SB_ERR_INTERNAL, 500, 20001 },
		{ SB_ERR_NOT_FOUND, 404, 20003 },
		{ SB_ERR_BAD_ID, 400, 20004 },
		{ SB_ERR_BODY_TOO_LARGE, 413, 20005 },
		{ SB_ERR_UPSTREAM_TIMEOUT, 504, 20011 },
		{ SB_ERR_JWT_EXPIRED, 401, 20017 },
		{ SB_ERR_STORAGE, 503, 20020 },
		{ SB_ERR_NOT_READY, 503, 20026 },
		{ SB_ERR_ADMIN_AUTH, 401, 20032 },
		{ SB_ERR_ADMIN_CLOSED, 403, 20033 },
		{ SB_ERR_FIELD, 400, 20034 },
		{ SB_ERR_NO_GROUP_DATA, 404, 20035 },
		{ SB_ERR_ADMIN_NETWORK, 403, 20036 },
		{ SB_ERR_LEFT_OVER, 500, 20037 },
		{ SB_ERR_ORIGIN, 403, 20030 },
		{ SB_ERR_COOKIE, 401, 20031 },
		{ SB_ERR_COOKIE_CLOSED, 503, 20038 },
	};
	size_t	 i;
	int	 e, bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		bad += differs(sb_err_str(cases[i].e),
		    sb_err_status(cases[i].e), cases[i].status);
		bad += differs(sb_err_str(cases[i].e),
		    sb_err_code(cases[i].e), cases[i].code);
	}
	assert_int_equal(bad, 0);

	for (e = SB_OK; e < SB_ERR__MAX; e++) {
		assert_non_null(sb_err_str(e));
		assert_true(strlen(sb_err_str(e)) > 0);
		assert_in_range(sb_err_status(e), 200, 599);
		if (e != SB_OK)
			assert_in_range(sb_err_status(e), 400, 599);
		assert_int_equal(sb_err_code(e), e == SB_OK ? 0 :
		    SB_ERR_BASE + e);
	}
	/* Out of the table: an internal error, never NULL. */
	assert_non_null(sb_err_str(SB_ERR__MAX));
	assert_int_equal(sb_err_status(SB_ERR__MAX), 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
