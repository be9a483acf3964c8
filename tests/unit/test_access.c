/*
 * test_access.c: lib/sb_access.c: the group access id a request names,
 * and sentc's answer about a caller and a group (GET /group/{id}/light,
 * from a stand-in for sentc on a loopback port): its cache and the key
 * of it, what is and is not cached, the rank, the groups a member answer
 * goes through, and the ends of access recorded in a SQLite store.
 */
#include "fake.h"

#include "extern.h"

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

/* ---- sb_group_access_id ----------------------------------------------- */

#define G1	UUID
#define G2	UUID2
#define G3	"2c1a7c0f-9e11-4b7c-8f0e-6a634a0e9d3e"
#define PARENT	"1b4e28ba-2fa1-41d2-883f-0016d3cca427"
#define P2	"3f0e6a63-4a0e-4d3e-9c1a-7c0f9e110b7c"
#define VIA	"5e110b7c-3f0e-4a63-8a0e-9d3e2c1a7c0f"
#define ACCESS	"6fa459ea-ee8a-4ca4-894e-db77e160355e"
#define U1	"a3bb189e-8bf9-4888-9912-ace4e6543002"
#define U2	"b4cc29af-9c0a-4999-8a23-bdf5f7654113"

#define MEMBER(rank)	"{\"status\":true,\"result\":{\"group_id\":\"g\"," \
			"\"rank\":" #rank ",\"parent_group_id\":null," \
			"\"access_by\":\"User\"}}"
#define NO_ACCESS	"{\"status\":false,\"err_msg\":\"No access to this " \
			"group\",\"err_code\":310}"

static void
test_group_access_id(void **state)
{
	static char	 ok[] = "HTTP_X_SENTC_GROUP_ACCESS_ID=" ACCESS;
	static char	 v1[] = "HTTP_X_SENTC_GROUP_ACCESS_ID="
	    "0f8fad5b-d9cb-169f-a165-70867728950e";
	char		*none[] = { NULL }, *one[] = { ok, NULL };
	char		*bad[] = { v1, NULL }, *twice[] = { ok, ok, NULL };
	struct sb_fcgi_req fr;
	struct sb_req	 req;
	const char	*id;

	fake_req(&req, &fr, none);
	id = "x";
	assert_int_equal(sb_group_access_id(&req, &id), 0);
	assert_null(id);
	assert_int_equal(req.status, 0);

	fake_req(&req, &fr, one);
	assert_int_equal(sb_group_access_id(&req, &id), 0);
	assert_string_equal(id, ACCESS);
	assert_int_equal(req.status, 0);

	/* Not a UUID v4 or v7: sentc's own answer, 400 with code 1. */
	fake_req(&req, &fr, bad);
	assert_int_equal(sb_group_access_id(&req, &id), -1);
	assert_null(id);
	assert_int_equal(req.status, 400);
	assert_int_equal(reply_int(&req, "err_code"), 1);
	fake_req_again(&req);

	/* Sent twice: a malformed header. */
	fake_req(&req, &fr, twice);
	assert_int_equal(sb_group_access_id(&req, &id), -1);
	assert_int_equal(req.status, sb_err_status(SB_ERR_HEADER));
	assert_int_equal(reply_int(&req, "err_code"),
	    sb_err_code(SB_ERR_HEADER));
	fake_req_again(&req);
}

/* ---- sb_group_light, sb_group_member ------------------------------------ */

static struct {
	struct fake_world	 w;
	char			 access_param[128];
	char			*params[2];
	struct sb_fcgi_req	 fr;
	struct sb_req		 req;
} fx;

static int
setup(void **state)
{
	fake_world_start(&fx.w, "SENTC_BACKEND_ACCESS_CACHE_TTL=60\n");
	*state = &fx.w;
	return 0;
}

/* Each test: no rules, an empty log, an empty cache. */
static int
fresh(void **state)
{
	fake_clear(&fx.w.sentc);
	fx.w.cfg.access_cache_ttl = 60;
	assert_int_equal(sb_access_init(), 0);
	return 0;
}

/* A request of user, through access (NULL: none), with a JWT. */
static struct sb_req *
request(const char *user, const char *access)
{
	fx.params[0] = fx.params[1] = NULL;
	if (access != NULL) {
		snprintf(fx.access_param, sizeof(fx.access_param),
		    "HTTP_X_SENTC_GROUP_ACCESS_ID=%s", access);
		fx.params[0] = fx.access_param;
	}
	fake_req(&fx.req, &fx.fr, fx.params);
	fx.req.jwt = "eyJ0.eyJ1.c2ln";
	snprintf(fx.req.who.aud, sizeof(fx.req.who.aud), "%s", user);
	return &fx.req;
}

/* sb_group_light() for user on gid through access; the answer, if any,
 * forgotten after its status is kept in *status. */
static int
light(const char *user, const char *gid, const char *access,
    struct sb_light *out, int *status)
{
	struct sb_req	*req = request(user, access);
	int		 rc;

	memset(out, 0x5a, sizeof(*out));
	rc = sb_group_light(req, gid, out);
	if (status != NULL)
		*status = req->status;
	if (rc == 0)
		assert_int_equal(req->status, 0);
	else
		assert_int_not_equal(req->status, 0);
	return rc;
}

static int
asked(const char *gid)
{
	char	 path[128];

	snprintf(path, sizeof(path), "/group/%s/light", gid);
	return fake_seen(&fx.w.sentc, "GET", path, NULL, NULL);
}

static void
test_light_cached(void **state)
{
	static char	 line[FAKE_BUF];
	struct sb_light	 l;
	uint64_t	 hits, misses;

	fake_rule(&fx.w.sentc, "GET", "/group/" G1 "/light", "-", 200,
	    MEMBER(2));
	assert_int_equal(light(U1, G1, NULL, &l, NULL), 0);
	assert_true(l.member);
	assert_int_equal(l.rank, 2);
	assert_int_equal(l.status, 200);
	assert_int_equal(l.len, strlen(MEMBER(2)));
	assert_string_equal(l.body, MEMBER(2));
	/* With the caller's JWT and the app's public token, no path. */
	assert_int_equal(fake_seen(&fx.w.sentc, "GET", "/group/" G1 "/light",
	    NULL, line), 1);
	assert_non_null(strstr(line, " token=" FAKE_PUBLIC " "));
	assert_non_null(strstr(line, " access=- "));

	/* The same caller, group and path: from the cache. */
	assert_int_equal(light(U1, G1, NULL, &l, NULL), 0);
	assert_true(l.member);
	assert_int_equal(l.rank, 2);
	assert_int_equal(asked(G1), 1);
	sb_access_cache_stats(&hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);

	/* Another path of access is another key, and goes to sentc. */
	assert_int_equal(light(U1, G1, ACCESS, &l, NULL), 0);
	assert_int_equal(fake_seen(&fx.w.sentc, "GET", "/group/" G1 "/light",
	    NULL, line), 2);
	assert_non_null(strstr(line, " access=" ACCESS " "));
	assert_int_equal(light(U1, G1, ACCESS, &l, NULL), 0);
	assert_int_equal(asked(G1), 2);

	/* Another user too. */
	assert_int_equal(light(U2, G1, NULL, &l, NULL), 0);
	assert_int_equal(asked(G1), 3);
	assert_int_equal(light(U2, G1, NULL, &l, NULL), 0);
	assert_int_equal(asked(G1), 3);

	/* Forgotten group: every key of it asks again. */
	sb_group_forget(G1);
	assert_int_equal(light(U1, G1, NULL, &l, NULL), 0);
	assert_int_equal(light(U1, G1, ACCESS, &l, NULL), 0);
	assert_int_equal(asked(G1), 5);

	/* A TTL of 0: no cache, sentc every time. */
	fx.w.cfg.access_cache_ttl = 0;
	assert_int_equal(sb_access_init(), 0);
	assert_int_equal(light(U1, G1, NULL, &l, NULL), 0);
	assert_int_equal(light(U1, G1, NULL, &l, NULL), 0);
	assert_int_equal(asked(G1), 7);
}

static void
test_light_refused(void **state)
{
	static const char expired[] = "{\"status\":false,\"err_msg\":"
	    "\"The jwt is expired\",\"err_code\":30}";
	struct sb_light	 l;
	int		 status;
	json_object	*o;

	/* 310: an answer about access, cached as it came. */
	fake_rule(&fx.w.sentc, "GET", "/group/" G1 "/light", "-", 400,
	    NO_ACCESS);
	assert_int_equal(light(U1, G1, NULL, &l, NULL), 0);
	assert_false(l.member);
	assert_int_equal(l.status, 400);
	assert_string_equal(l.body, NO_ACCESS);
	assert_int_equal(light(U1, G1, NULL, &l, NULL), 0);
	assert_false(l.member);
	assert_int_equal(asked(G1), 1);
	/* A member check answers it byte for byte. */
	assert_int_equal(sb_group_member(request(U1, NULL), G1, SB_RANK_ANY,
	    NULL), -1);
	assert_int_equal(fx.req.status, 400);
	o = reply_json(&fx.req);
	assert_string_equal(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN), NO_ACCESS);
	json_object_put(o);
	fake_req_again(&fx.req);

	/* Another refusal (an expired JWT): passed on, never cached. */
	fake_rule(&fx.w.sentc, "GET", "/group/" G2 "/light", "-", 401, expired);
	assert_int_equal(light(U1, G2, NULL, &l, &status), -1);
	assert_int_equal(status, 401);
	assert_int_equal(reply_int(&fx.req, "err_code"), 30);
	fake_req_again(&fx.req);
	assert_int_equal(light(U1, G2, NULL, &l, &status), -1);
	fake_req_again(&fx.req);
	assert_int_equal(asked(G2), 2);

	/* A member answer without a rank: a bad answer, not cached. */
	fake_rule(&fx.w.sentc, "GET", "/group/" G3 "/light", "-", 200,
	    "{\"status\":true,\"result\":{\"group_id\":\"g\"}}");
	assert_int_equal(light(U1, G3, NULL, &l, &status), -1);
	assert_int_equal(status, sb_err_status(SB_ERR_UPSTREAM_BAD));
	assert_int_equal(reply_int(&fx.req, "err_code"),
	    sb_err_code(SB_ERR_UPSTREAM_BAD));
	fake_req_again(&fx.req);

	/* The answer lost: a fault, and the next call asks again. */
	fake_rule(&fx.w.sentc, "GET", "/group/" G3 "/light", "-", 0, "-");
	assert_int_equal(light(U1, G3, NULL, &l, &status), -1);
	assert_true(status >= 502 && status <= 504);
	fake_req_again(&fx.req);
	fake_rule(&fx.w.sentc, "GET", "/group/" G3 "/light", "-", 200,
	    MEMBER(3));
	assert_int_equal(light(U1, G3, NULL, &l, NULL), 0);
	assert_int_equal(l.rank, 3);

	/* Without a verified caller there is nothing to ask. */
	request(U1, NULL);
	fx.req.jwt = NULL;
	assert_int_equal(sb_group_light(&fx.req, G1, &l), -1);
	assert_int_equal(fx.req.status, 500);
	fake_req_again(&fx.req);
}

static void
test_member_rank(void **state)
{
	int	 rank;

	fake_rule(&fx.w.sentc, "GET", "/group/" G1 "/light", "-", 200,
	    MEMBER(2));
	fake_rule(&fx.w.sentc, "GET", "/group/" G2 "/light", "-", 200,
	    MEMBER(0));
	rank = -1;
	assert_int_equal(sb_group_member(request(U1, NULL), G1, SB_RANK_ANY,
	    &rank), 0);
	assert_int_equal(rank, 2);
	assert_int_equal(sb_group_member(request(U1, NULL), G1, 2, NULL), 0);
	assert_int_equal(fx.req.status, 0);
	/* Too weak a rank: sentc's 301. */
	assert_int_equal(sb_group_member(request(U1, NULL), G1,
	    SB_RANK_ADMIN, &rank), -1);
	assert_int_equal(fx.req.status, 400);
	assert_int_equal(reply_int(&fx.req, "err_code"), 301);
	fake_req_again(&fx.req);
	assert_int_equal(sb_group_member(request(U1, NULL), G2,
	    SB_RANK_CREATOR, &rank), 0);
	assert_int_equal(rank, 0);
}

/* The groups a member answer goes through, as the answer names them. */
static void
test_via_groups(void **state)
{
	static const struct {
		const char	*gid, *access_by, *parent;
		const char	*via[SB_LIGHT_VIA];
	} cases[] = {
		{ G1, "\"User\"", "null", { "", "", "" } },
		{ G2, "{\"Parent\":\"" P2 "\"}", "\"" PARENT "\"",
		    { PARENT, P2, "" } },
		{ G3, "{\"GroupAsUser\":\"" VIA "\"}", "null",
		    { "", "", VIA } },
		{ PARENT, "{\"GroupAsUserAsParent\":{\"parent\":\"" P2 "\","
		    "\"group_as_user\":\"" VIA "\"}}", "\"" G1 "\"",
		    { G1, P2, VIA } },
		/* Not group ids: nothing to go through. */
		{ P2, "{\"Parent\":\"x\",\"GroupAsUser\":7}", "\"" G1 "0\"",
		    { "", "", "" } },
		{ VIA, "{\"GroupAsUserAsParent\":[\"" P2 "\"]}", "1",
		    { "", "", "" } },
	};
	char		 body[1024];
	struct sb_light	 l;
	size_t		 i, j;

	for (i = 0; i < NELEM(cases); i++) {
		snprintf(body, sizeof(body), "{\"status\":true,\"result\":{"
		    "\"rank\":1,\"parent_group_id\":%s,\"access_by\":%s}}",
		    cases[i].parent, cases[i].access_by);
		snprintf(fx.access_param, sizeof(fx.access_param),
		    "/group/%s/light", cases[i].gid);
		fake_rule(&fx.w.sentc, "GET", fx.access_param, "-", 200, body);
		assert_int_equal(light(U1, cases[i].gid, NULL, &l, NULL), 0);
		assert_true(l.member);
		assert_int_equal(l.rank, 1);
		for (j = 0; j < SB_LIGHT_VIA; j++)
			if (strcmp(l.via[j], cases[i].via[j]) != 0) {
				print_error("case %zu: via[%zu] \"%s\"\n", i, j,
				    l.via[j]);
				fail();
			}
	}
}

/*
 * A cached member answer is used again only while none of the ids it
 * names has been revoked in the store: user, group, path of access,
 * parent, access_by groups.
 */
static void
test_revoked(void **state)
{
	static const char body[] = "{\"status\":true,\"result\":{\"rank\":1,"
	    "\"parent_group_id\":\"" PARENT "\",\"access_by\":"
	    "{\"GroupAsUserAsParent\":{\"parent\":\"" P2 "\","
	    "\"group_as_user\":\"" VIA "\"}}}}";
	static const char *const names[] = { U1, G1, ACCESS, PARENT, P2, VIA };
	struct sb_light	 l;
	size_t		 i;
	int		 n = 0;

	fake_rule(&fx.w.sentc, "GET", "/group/" G1 "/light", "-", 200, body);
	fake_rule(&fx.w.sentc, "GET", "/group/" G2 "/light", "-", 400,
	    NO_ACCESS);
	assert_int_equal(light(U1, G1, ACCESS, &l, NULL), 0);
	assert_int_equal(asked(G1), ++n);
	/* Another id ended: the answer stands. */
	assert_int_equal(sb_access_revoke(U2), SB_OK);
	assert_int_equal(sb_access_revoke(G3), SB_OK);
	assert_int_equal(light(U1, G1, ACCESS, &l, NULL), 0);
	assert_int_equal(asked(G1), n);

	for (i = 0; i < NELEM(names); i++) {
		assert_int_equal(sb_access_revoke(names[i]), SB_OK);
		assert_int_equal(light(U1, G1, ACCESS, &l, NULL), 0);
		if (asked(G1) != ++n) {
			print_error("%s revoked: the cached answer was used\n",
			    names[i]);
			fail();
		}
		/* sentc's fresh answer is cached anew. */
		assert_int_equal(light(U1, G1, ACCESS, &l, NULL), 0);
		assert_int_equal(asked(G1), n);
	}

	/*
	 * A refusal stays cached whatever else ends; one that names the
	 * ended id is dropped with the rest, and sentc refuses again.
	 */
	assert_int_equal(light(U1, G2, NULL, &l, NULL), 0);
	assert_int_equal(sb_access_revoke(G3), SB_OK);
	assert_int_equal(light(U1, G2, NULL, &l, NULL), 0);
	assert_int_equal(asked(G2), 1);
	assert_int_equal(sb_access_revoke(U1), SB_OK);
	assert_int_equal(light(U1, G2, NULL, &l, NULL), 0);
	assert_false(l.member);
	assert_int_equal(asked(G2), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_access_valid),
		cmocka_unit_test(test_group_access_id),
		cmocka_unit_test_setup(test_light_cached, fresh),
		cmocka_unit_test_setup(test_light_refused, fresh),
		cmocka_unit_test_setup(test_member_rank, fresh),
		cmocka_unit_test_setup(test_via_groups, fresh),
		cmocka_unit_test_setup(test_revoked, fresh),
	};

	return cmocka_run_group_tests(tests, setup, fake_world_teardown);
}
