/*
 * test_request.c: lib/sb_request.c: a route's path and its ids, the query
 * string, the request's headers and its request id.
 */
#include "fake.h"

#include "extern.h"

/* ---- sb_path_match ----------------------------------------------------- */

static void
test_path_match(void **state)
{
	static const struct {
		const char	*pattern, *path;
		enum sb_err	 want;
		size_t		 nids;
		const char	*id0, *id1;
	} cases[] = {
	{ "/health", "/health", SB_OK, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID, SB_OK, 1, UUID, NULL },
	{ "/user/{id}", "/user/" UUID_UC, SB_OK, 1, UUID, NULL },
	{ "/group/{id}/member/{id}", "/group/" UUID "/member/" UUID2, SB_OK,
	    2, UUID, UUID2 },
	{ "/user/{id}", "/user/123", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID "0", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/%2e%2e", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/..%2f", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/..", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/%30f8fad5b-d9cb-469f-a165-70867728950e",
	    SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/user/{" UUID "}", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/group/{id}/member/{id}", "/group/" UUID "/member/x",
	    SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/user/{id}", "/users/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/User/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID "/x", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID "/", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user//" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "//user/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "user/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/user/{id}", "/user/" UUID "?x=1", SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/health", "/health/", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/health", "/healthz", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/health", "/healt", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/a/b", "/a/b/../b", SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/{id}/{id}/{id}/{id}/{id}", "/" UUID "/" UUID "/" UUID "/" UUID
	    "/" UUID, SB_ERR_NOT_FOUND, 0, NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/17/true", SB_OK, 2, UUID,
	    "17" },
	{ "/part/{id}/{n}/true", "/part/" UUID "/0/true", SB_OK, 2, UUID,
	    "0" },
	{ "/part/{id}/{n}/true", "/part/" UUID "/999999999/true", SB_OK, 2,
	    UUID, "999999999" },
	{ "/part/{id}/{n}/true", "/part/" UUID "/1000000000/true",
	    SB_ERR_BAD_ID, 0, NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/017/true", SB_ERR_BAD_ID, 0,
	    NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/-1/true", SB_ERR_BAD_ID, 0,
	    NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/1x/true", SB_ERR_BAD_ID, 0,
	    NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "//true", SB_ERR_BAD_ID, 0,
	    NULL, NULL },
	{ "/part/{id}/{n}/true", "/part/" UUID "/1/false", SB_ERR_NOT_FOUND,
	    0, NULL, NULL },
	};
	char		 ids[SB_IDS_MAX][SB_ID_LEN + 1];
	size_t		 i, nids;
	enum sb_err	 e;
	int		 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		nids = 99;
		e = sb_path_match(cases[i].pattern, cases[i].path,
		    strlen(cases[i].path), ids, &nids);
		bad += differs(cases[i].path, e, cases[i].want);
		bad += differs(cases[i].path, (long)nids, (long)cases[i].nids);
		if (e != SB_OK)
			continue;
		if (cases[i].id0 != NULL && strcmp(ids[0], cases[i].id0)) {
			print_error("%s: id %s\n", cases[i].path, ids[0]);
			bad++;
		}
		if (cases[i].id1 != NULL && strcmp(ids[1], cases[i].id1)) {
			print_error("%s: id %s\n", cases[i].path, ids[1]);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Only path[0..pathlen) is the path. */
static void
test_path_match_len(void **state)
{
	static const char	 path[] = "/user/" UUID "/more";
	static const char	 nul[] = "/user/" UUID "\0/x";
	char			 ids[SB_IDS_MAX][SB_ID_LEN + 1];
	size_t			 nids;

	assert_int_equal(sb_path_match("/user/{id}", path,
	    strlen("/user/" UUID), ids, &nids), SB_OK);
	assert_int_equal(nids, 1);
	assert_string_equal(ids[0], UUID);
	assert_int_equal(sb_path_match("/user/{id}", path, strlen(path), ids,
	    &nids), SB_ERR_NOT_FOUND);
	assert_int_equal(sb_path_match("/user/{id}", nul, sizeof(nul) - 1,
	    ids, &nids), SB_ERR_NOT_FOUND);
}

/* ---- sb_query_get ------------------------------------------------------- */

static void
test_query_get(void **state)
{
	static const struct {
		const char	*qs, *name;
		size_t		 bufsz;
		int		 want;
		const char	*value;
	} cases[] = {
		{ "after=abc&limit=5", "limit", 16, 1, "5" },
		{ "after=abc&limit=5", "after", 16, 1, "abc" },
		{ "after=a%2Fb+c", "after", 16, 1, "a/b c" },
		{ "xafter=1&after=2", "after", 16, 1, "2" },
		{ "after&after=2", "after", 16, 1, "2" },
		/* Given twice: no value counts. */
		{ "after=1&after=2", "after", 16, -1, NULL },
		{ "after=1&after=1", "after", 16, -1, NULL },
		{ "limit=5&after=1&x=2&after=", "after", 16, -1, NULL },
		{ "after=1&after", "after", 16, 1, "1" },
		{ "after=1&xafter=2&after_=3", "after", 16, 1, "1" },
		{ "after=", "after", 16, 1, "" },
		{ "limit=5", "after", 16, 0, NULL },
		{ "", "after", 16, 0, NULL },
		{ "after=%0d%0a", "after", 16, -1, NULL },
		{ "after=%00", "after", 16, -1, NULL },
		{ "after=%7f", "after", 16, -1, NULL },
		{ "after=%zz", "after", 16, -1, NULL },
		{ "after=%a", "after", 16, -1, NULL },
		{ "after=%", "after", 16, -1, NULL },
		{ "after=abcd", "after", 5, 1, "abcd" },
		{ "after=abcde", "after", 5, -1, NULL },
		{ "after=", "after", 1, 1, "" },
		{ "after=a", "after", 1, -1, NULL },
		{ "after=", "after", 0, -1, NULL },
	};
	char	 buf[16];
	size_t	 i;
	int	 rc, bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		memset(buf, 'X', sizeof(buf));
		rc = sb_query_get(cases[i].qs, cases[i].name, buf,
		    cases[i].bufsz);
		bad += differs(cases[i].qs, rc, cases[i].want);
		if (rc == 1 && strcmp(buf, cases[i].value) != 0) {
			print_error("%s: %s\n", cases[i].qs, esc(buf));
			bad++;
		}
		if (cases[i].bufsz < sizeof(buf))
			bad += differs(cases[i].qs, buf[cases[i].bufsz], 'X');
	}
	assert_int_equal(bad, 0);
}

/* ---- sb_req_header ------------------------------------------------------ */

static void
test_req_header(void **state)
{
	static char	 ok[] = "HTTP_AUTHORIZATION=Bearer abc";
	static char	 other[] = "HTTP_AUTHORIZATION_X=1";
	static char	 ctl[] = "HTTP_COOKIE=a=1\x01";
	static char	 del[] = "HTTP_COOKIE=a=1\x7f";
	static char	 c1[] = "HTTP_COOKIE=a=1";
	static char	 c2[] = "HTTP_COOKIE=b=2";
	static char	 empty[] = "HTTP_X=";
	static char	 big[SB_HEADER_MAX + 16], max[SB_HEADER_MAX + 16];
	char		*one[] = { other, ok, NULL };
	char		*twice[] = { c1, ok, c2, NULL };
	char		*ctls[] = { ctl, NULL };
	char		*dels[] = { del, NULL };
	char		*sizes[] = { big, max, empty, NULL };
	struct sb_fcgi_req fr;
	struct sb_req	 req;
	enum sb_err	 e;
	const char	*v;

	fake_req(&req, &fr, one);
	v = sb_req_header(&req, "HTTP_AUTHORIZATION", &e);
	assert_int_equal(e, SB_OK);
	assert_non_null(v);
	assert_string_equal(v, "Bearer abc");
	assert_null(sb_req_header(&req, "HTTP_COOKIE", &e));
	assert_int_equal(e, SB_OK);
	assert_null(sb_req_header(&req, "HTTP_AUTH", &e));
	assert_int_equal(e, SB_OK);

	/* A header sent twice is refused, whichever comes first. */
	fake_req(&req, &fr, twice);
	assert_null(sb_req_header(&req, "HTTP_COOKIE", &e));
	assert_int_equal(e, SB_ERR_HEADER);
	assert_non_null(sb_req_header(&req, "HTTP_AUTHORIZATION", &e));
	assert_int_equal(e, SB_OK);

	fake_req(&req, &fr, ctls);
	assert_null(sb_req_header(&req, "HTTP_COOKIE", &e));
	assert_int_equal(e, SB_ERR_HEADER);
	fake_req(&req, &fr, dels);
	assert_null(sb_req_header(&req, "HTTP_COOKIE", &e));
	assert_int_equal(e, SB_ERR_HEADER);

	/* SB_HEADER_MAX bytes pass, one more does not. */
	snprintf(big, sizeof(big), "HTTP_BIG=");
	memset(big + 9, 'a', SB_HEADER_MAX + 1);
	big[9 + SB_HEADER_MAX + 1] = '\0';
	snprintf(max, sizeof(max), "HTTP_MAX=");
	memset(max + 9, 'a', SB_HEADER_MAX);
	max[9 + SB_HEADER_MAX] = '\0';
	fake_req(&req, &fr, sizes);
	assert_null(sb_req_header(&req, "HTTP_BIG", &e));
	assert_int_equal(e, SB_ERR_HEADER);
	v = sb_req_header(&req, "HTTP_MAX", &e);
	assert_int_equal(e, SB_OK);
	assert_int_equal(strlen(v), SB_HEADER_MAX);
	v = sb_req_header(&req, "HTTP_X", &e);
	assert_int_equal(e, SB_OK);
	assert_string_equal(v, "");
}

/* ---- sb_req_id_valid --------------------------------------------------- */

static void
test_req_id_valid(void **state)
{
	static const struct {
		const char	*s;
		bool		 want;
	} cases[] = {
		{ "0123456789abcdef0123456789abcdef", true },
		{ "6f1c0a52-0a4b-4d47-9d3a-0b5f3e1a2c44", true },
		{ "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", true },
		{ "a", true },
		{ "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", true },
		{ "", false },
		{ "has space", false },
		{ "quo\"te", false },
		{ "back\\slash", false },
		{ "tab\there", false },
		{ "cr\r", false },
		{ "lf\n", false },
		{ "del\x7f", false },
		{ "caf\xc3\xa9", false },
	};
	char	 long_id[SB_RID_MAX + 2];
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += differs(cases[i].s, sb_req_id_valid(cases[i].s,
		    strlen(cases[i].s)), cases[i].want);
	memset(long_id, 'x', sizeof(long_id));
	bad += differs("SB_RID_MAX", sb_req_id_valid(long_id, SB_RID_MAX),
	    true);
	bad += differs("SB_RID_MAX + 1", sb_req_id_valid(long_id,
	    SB_RID_MAX + 1), false);
	bad += differs("NUL inside", sb_req_id_valid("ab\0cd", 5), false);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_match),
		cmocka_unit_test(test_path_match_len),
		cmocka_unit_test(test_query_get),
		cmocka_unit_test(test_req_header),
		cmocka_unit_test(test_req_id_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
