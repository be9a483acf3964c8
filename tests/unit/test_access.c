/*
 * test_access.c: lib/sb_access.c: the group access id a request names.
 */
#include "unit.h"

#include "sb_access.h"

/* ---- sb_group_access_valid --------------------------------------------- */

/* x-sentc-group-access-id: a UUID of version 4 or 7, as sentc checks it. */
static void
test_group_access_valid(void **state)
{
	static const struct {
		const char	*s;
		bool		 want;
	} cases[] = {
		{ UUID, true },
		{ UUID_UC, true },
		{ "01890a5d-ac96-774b-bcce-b302099a8057", true },	/* v7 */
		{ "0f8fad5b-d9cb-169f-a165-70867728950e", false },	/* v1 */
		{ "0f8fad5b-d9cb-569f-a165-70867728950e", false },	/* v5 */
		{ "00000000-0000-0000-0000-000000000000", false },
		{ "0f8fad5bd9cb469fa16570867728950e", false },
		{ "{0f8fad5b-d9cb-469f-a165-70867728950e}", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950e0", false },
		{ "0f8fad5b-d9cb-469f-a165_70867728950e", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950g", false },
		{ " 0f8fad5b-d9cb-469f-a165-70867728950e", false },
		{ "not-a-uuid", false },
		{ "", false },
	};
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += differs(cases[i].s, sb_group_access_valid(cases[i].s,
		    strlen(cases[i].s)), cases[i].want);
	bad += differs("NUL inside", sb_group_access_valid(
	    "0f8fad5b-d9cb-469f-a165-7086772\0950e", 36), false);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_access_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
