/*
 * test_auth.c: lib/sb_auth.c: the bearer token of an Authorization header,
 * and the admin routes' check of theirs against SENTC_BACKEND_ADMIN_TOKEN.
 */
#include "fake.h"

#include "extern.h"

/* ---- sb_bearer ---------------------------------------------------------- */

static void
test_bearer(void **state)
{
	static const struct {
		const char	*header;
		enum sb_err	 want;
		const char	*tok;
	} cases[] = {
		{ "Bearer abc.def.ghi", SB_OK, "abc.def.ghi" },
		{ "bearer abc", SB_OK, "abc" },
		{ "BEARER abc", SB_OK, "abc" },
		{ "bEaReR abc", SB_OK, "abc" },
		{ "Bearer   abc", SB_OK, "abc" },
		{ "Bearer abc ", SB_ERR_JWT_FORMAT, NULL },
		{ "Bearer abc def", SB_ERR_JWT_FORMAT, NULL },
		{ "Bearer abc\tdef", SB_ERR_JWT_FORMAT, NULL },
		{ "Bearer\tabc", SB_ERR_JWT_MISSING, NULL },
		{ "Bearerabc", SB_ERR_JWT_MISSING, NULL },
		{ "Bearer", SB_ERR_JWT_MISSING, NULL },
		{ "Bearer ", SB_ERR_JWT_MISSING, NULL },
		{ "Bearer    ", SB_ERR_JWT_MISSING, NULL },
		{ "Basic YWxhZGRpbjpvcGVuc2VzYW1l", SB_ERR_JWT_MISSING, NULL },
		{ " Bearer abc", SB_ERR_JWT_MISSING, NULL },
		{ "Beare abc", SB_ERR_JWT_MISSING, NULL },
		{ "", SB_ERR_JWT_MISSING, NULL },
	};
	const char	*tok;
	size_t		 i, len;
	enum sb_err	 e;
	int		 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		tok = NULL;
		len = 0;
		e = sb_bearer(cases[i].header, &tok, &len);
		bad += differs(cases[i].header, e, cases[i].want);
		if (e != SB_OK || cases[i].tok == NULL)
			continue;
		if (len != strlen(cases[i].tok) || strcmp(tok, cases[i].tok)) {
			print_error("%s: token %s\n", esc(cases[i].header),
			    esc(tok));
			bad++;
		}
	}
	assert_int_equal(sb_bearer(NULL, &tok, &len), SB_ERR_JWT_MISSING);
	assert_int_equal(bad, 0);
}

/* ---- sb_admin_check ----------------------------------------------------- */

#define ADMIN	"adm-Qz7f2KpX9wLm4Rt8Vb1Nc6Hy3Jd5Gs0E"

static void
test_admin_check(void **state)
{
	static const char *const wrong[] = {
		NULL, "", "Bearer", "Bearer ", "Basic " ADMIN, ADMIN,
		"Bearer " ADMIN "x", "Bearer x" ADMIN, "Bearer " ADMIN " x",
		"Bearer adm-Qz7f2KpX9wLm4Rt8Vb1Nc6Hy3Jd5Gs0",
		"Bearer " FAKE_SECRET,
		"Bearer eyJhbGciOiJFUzM4NCJ9.eyJhdWQiOiJ1In0.c2ln",
	};
	struct sb_config	 cfg;
	size_t			 i;

	/* None configured: closed, whatever the caller sends. */
	fake_config(&cfg, 0, NULL, NULL);
	assert_int_equal(sb_admin_check("Bearer " ADMIN), SB_ERR_ADMIN_CLOSED);
	assert_int_equal(sb_admin_check(NULL), SB_ERR_ADMIN_CLOSED);
	sb_config_free(&cfg);

	fake_config(&cfg, 0, NULL, "SENTC_BACKEND_ADMIN_TOKEN=" ADMIN "\n");
	assert_int_equal(sb_admin_check("Bearer " ADMIN), SB_OK);
	assert_int_equal(sb_admin_check("bearer   " ADMIN), SB_OK);
	for (i = 0; i < NELEM(wrong); i++)
		if (sb_admin_check(wrong[i]) != SB_ERR_ADMIN_AUTH)
			fail_msg("accepted: %s", wrong[i] ? wrong[i] : "NULL");
	sb_config_free(&cfg);
	sb_cfg = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_admin_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
