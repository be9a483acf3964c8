/*
 * test_unsure.c: lib/sb_unsure.c: calls to sentc whose answer was lost,
 * recorded in a SQLite store in a temporary directory and settled
 * against a stand-in for sentc on a loopback port (fake.h): a lost
 * register undone or recorded, the hold a register of the same name
 * takes, a lost delete finished at once or left recorded, and the pass
 * that settles what is due.
 */
#include <time.h>

#include "fake.h"

#include "extern.h"

#define U1	"a3bb189e-8bf9-4888-9912-ace4e6543002"
#define U2	"b4cc29af-9c0a-4999-8a23-bdf5f7654113"
#define U3	"c5dd3ab0-ad1b-4aaa-9b34-ce06a8765224"
#define U4	"d6ee4bc1-be2c-4bbb-8c45-df17b9876335"
#define U5	"e7ff5cd2-cf3d-4ccc-9d56-e028ca987446"

#define SUCCESS		"{\"status\":true,\"result\":\"Success\"}"
#define NOT_FOUND	"{\"status\":false,\"err_msg\":\"User not found\"," \
			"\"err_code\":100}"
#define TAKEN		"{\"status\":true,\"result\":{\"user_identifier\":" \
			"\"x\",\"available\":false}}"
#define FREE		"{\"status\":true,\"result\":{\"user_identifier\":" \
			"\"x\",\"available\":true}}"

static struct {
	struct fake_world	 w;
	int			 n;		/* stores made */
	char			*params[1];
	struct sb_fcgi_req	 fr;
	struct sb_req		 req;
} fx;

static int
setup(void **state)
{
	fake_world_start(&fx.w, "SENTC_BACKEND_UPSTREAM_TIMEOUT_MS=2500\n");
	*state = &fx.w;
	return 0;
}

/* Each test: a store of its own, no rules, an empty log. */
static int
fresh(void **state)
{
	char	 path[PATH_MAX + 32];

	sb_db_release();
	snprintf(path, sizeof(path), "%s/unsure-%d.db", fx.w.dir, ++fx.n);
	free(fx.w.cfg.db);
	assert_non_null(fx.w.cfg.db = strdup(path));
	fake_clear(&fx.w.sentc);
	return 0;
}

static struct sb_req *
request(void)
{
	fx.params[0] = NULL;
	fake_req(&fx.req, &fx.fr, fx.params);
	return &fx.req;
}

static struct sb_db *
db(void)
{
	struct sb_db	*d;

	assert_non_null(d = sb_db());
	return d;
}

/* Is there a record (kind, key)? Leaves it as it was, unheld. */
static bool
recorded(int kind, const char *key)
{
	int64_t	 now = sb_now();
	int	 st;

	assert_int_equal(sb_db_unsure_hold(db(), kind, key, now, now + 1,
	    &st), SB_OK);
	if (st == 1)
		assert_int_equal(sb_db_unsure_release(db(), kind, key), SB_OK);
	return st != 0;
}

/* The record due first at when, or kind 0; let go again. */
static int
due_at(int64_t when, char *key, size_t keysz)
{
	struct sb_unsure u;
	int		 kind;

	assert_int_equal(sb_db_unsure_take(db(), when, when + 1, when, &u),
	    SB_OK);
	kind = u.kind;
	if (kind != 0) {
		snprintf(key, keysz, "%s", u.key);
		assert_int_equal(sb_db_unsure_release(db(), u.kind, u.key),
		    SB_OK);
		free(u.key);
	}
	return kind;
}

static bool
has_row(const char *identifier)
{
	char		 uid[SB_ID_LEN + 1];
	enum sb_err	 e;

	e = sb_db_user_by_identifier(db(), identifier, uid, sizeof(uid));
	assert_true(e == SB_OK || e == SB_ERR_NO_USER_DATA);
	return e == SB_OK;
}

/* Points the config at a store that cannot be opened, or back. */
static char	*saved_db;

static void
store_down(void)
{
	sb_db_release();
	saved_db = fx.w.cfg.db;
	assert_non_null(fx.w.cfg.db = strdup("/nonexistent/dir/x.db"));
}

static void
store_up(void)
{
	free(fx.w.cfg.db);
	fx.w.cfg.db = saved_db;
	saved_db = NULL;
}

/* Three upstream timeouts, in whole seconds up, and 5 s. */
static void
test_after(void **state)
{
	static const struct {
		long	 ms, want;
	} cases[] = {
		{ 100, 8 }, { 1000, 8 }, { 1001, 11 }, { 2500, 14 },
		{ 10000, 35 }, { 600000, 1805 },
	};
	long	 keep = fx.w.cfg.upstream_timeout_ms;
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		fx.w.cfg.upstream_timeout_ms = cases[i].ms;
		bad += differs("after", sb_unsure_after(), cases[i].want);
	}
	fx.w.cfg.upstream_timeout_ms = keep;
	assert_int_equal(bad, 0);
}

/* sentc had made the user: deleted at once, nothing recorded. */
static void
test_register_undone(void **state)
{
	static char	 line[FAKE_BUF];

	fake_rule(&fx.w.sentc, "PUT", "/user/forced/delete", "\"alice\"", 200,
	    SUCCESS);
	sb_unsure_register(request(), SB_ERR_UPSTREAM_TIMEOUT, "alice");
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_UPSTREAM_TIMEOUT));
	assert_int_equal(reply_int(&fx.req, "err_code"),
	    sb_err_code(SB_ERR_UPSTREAM_TIMEOUT));
	fake_req_again(&fx.req);
	/* By identifier, with the secret token. */
	assert_int_equal(fake_seen(&fx.w.sentc, "PUT", "/user/forced/delete",
	    NULL, line), 1);
	assert_non_null(strstr(line, " token=" FAKE_SECRET " "));
	assert_non_null(strstr(line, "\"user_identifier\":\"alice\""));
	assert_false(recorded(SB_UNSURE_REGISTER, "alice"));
}

/* sentc has no such user yet, or the undo lost its answer too: recorded,
 * due after sb_unsure_after(). */
static void
test_register_recorded(void **state)
{
	char	 key[64];
	int64_t	 now = sb_now();

	fake_rule(&fx.w.sentc, "PUT", "/user/forced/delete", "\"bob\"", 400,
	    NOT_FOUND);
	fake_rule(&fx.w.sentc, "PUT", "/user/forced/delete", "\"carl\"", 0, "-");
	sb_unsure_register(request(), SB_ERR_UPSTREAM_DOWN, "bob");
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_UPSTREAM_DOWN));
	assert_int_equal(reply_int(&fx.req, "err_code"),
	    sb_err_code(SB_ERR_UPSTREAM_DOWN));
	fake_req_again(&fx.req);
	sb_unsure_register(request(), SB_ERR_UPSTREAM_TIMEOUT, "carl");
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_UPSTREAM_TIMEOUT));
	fake_req_again(&fx.req);
	assert_true(recorded(SB_UNSURE_REGISTER, "bob"));
	assert_true(recorded(SB_UNSURE_REGISTER, "carl"));

	/* Not due now; due once sb_unsure_after() has passed. */
	assert_int_equal(due_at(now, key, sizeof(key)), 0);
	assert_int_equal(due_at(now + sb_unsure_after() + 2, key,
	    sizeof(key)), SB_UNSURE_REGISTER);
	assert_true(strcmp(key, "bob") == 0 || strcmp(key, "carl") == 0);
}

/* The store cannot record it. */
static void
test_register_unrecorded(void **state)
{
	/* sentc has no such user: a late one would have no own row. */
	fake_rule(&fx.w.sentc, "PUT", "/user/forced/delete", "\"dora\"", 400,
	    NOT_FOUND);
	/* Nor can the undo be done. */
	fake_rule(&fx.w.sentc, "PUT", "/user/forced/delete", "\"erin\"", 0, "-");
	store_down();
	sb_unsure_register(request(), SB_ERR_UPSTREAM_TIMEOUT, "dora");
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_UPSTREAM_TIMEOUT));
	fake_req_again(&fx.req);
	sb_unsure_register(request(), SB_ERR_UPSTREAM_TIMEOUT, "erin");
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_INCONSISTENT));
	assert_int_equal(reply_int(&fx.req, "err_code"),
	    sb_err_code(SB_ERR_INCONSISTENT));
	fake_req_again(&fx.req);
	store_up();
}

static void
test_hold_register(void **state)
{
	int64_t	 now = sb_now();

	assert_int_equal(sb_db_unsure_add(db(), SB_UNSURE_REGISTER, "fay",
	    now, now + 100), SB_OK);
	/* No record of the name: nothing held, nothing answered. */
	assert_int_equal(sb_unsure_hold_register(request(), "gus"), 0);
	assert_int_equal(fx.req.status, 0);
	/* One: held, and no other worker may hold it meanwhile. */
	assert_int_equal(sb_unsure_hold_register(request(), "fay"), 1);
	assert_int_equal(fx.req.status, 0);
	assert_int_equal(sb_unsure_hold_register(request(), "fay"), -1);
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_SETTLING));
	assert_int_equal(reply_int(&fx.req, "err_code"),
	    sb_err_code(SB_ERR_SETTLING));
	fake_req_again(&fx.req);
	/* The register failed: the record stays, let go. */
	sb_unsure_registered("fay", false);
	assert_int_equal(sb_unsure_hold_register(request(), "fay"), 1);
	/* It stored its row: the record goes. */
	sb_unsure_registered("fay", true);
	assert_false(recorded(SB_UNSURE_REGISTER, "fay"));
	assert_int_equal(sb_unsure_hold_register(request(), "fay"), 0);

	/* No store: 503. */
	store_down();
	assert_int_equal(sb_unsure_hold_register(request(), "fay"), -1);
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_STORAGE));
	fake_req_again(&fx.req);
	store_up();
	/* Nothing went to sentc for any of it. */
	assert_int_equal(fake_requests(&fx.w.sentc), 0);
}

/* A lost delete finished at once: sentc's success, the row gone. */
static void
test_delete_finished(void **state)
{
	static char	 line[FAKE_BUF];
	json_object	*o, *v;

	assert_int_equal(sb_db_user_create(db(), U1, "ident-1", NULL), SB_OK);
	assert_int_equal(sb_db_user_create(db(), U2, "ident-2", NULL), SB_OK);
	fake_rule(&fx.w.sentc, "DELETE", "/user/forced/delete/" U1, "-", 200,
	    SUCCESS);
	/* "User not found": gone at sentc all the same. */
	fake_rule(&fx.w.sentc, "DELETE", "/user/forced/delete/" U2, "-", 400,
	    NOT_FOUND);

	sb_unsure_delete(request(), SB_ERR_UPSTREAM_TIMEOUT, U1);
	assert_int_equal(fx.req.status, 200);
	o = reply_json(&fx.req);
	assert_true(json_object_object_get_ex(o, "status", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "result", &v));
	assert_string_equal(json_object_get_string(v), "Success");
	json_object_put(o);
	fake_req_again(&fx.req);
	assert_int_equal(fake_seen(&fx.w.sentc, "DELETE", "/user/forced/delete/"
	    U1, NULL, line), 1);
	assert_non_null(strstr(line, " token=" FAKE_SECRET " "));
	assert_false(has_row("ident-1"));
	assert_false(recorded(SB_UNSURE_DELETE, U1));

	sb_unsure_delete(request(), SB_ERR_UPSTREAM_DOWN, U2);
	assert_int_equal(fx.req.status, 200);
	fake_req_again(&fx.req);
	assert_false(has_row("ident-2"));
	assert_false(recorded(SB_UNSURE_DELETE, U2));
}

/* Not finished (sentc lost this answer too, or refused): recorded. */
static void
test_delete_left(void **state)
{
	assert_int_equal(sb_db_user_create(db(), U1, "ident-1", NULL), SB_OK);
	assert_int_equal(sb_db_user_create(db(), U2, "ident-2", NULL), SB_OK);
	fake_rule(&fx.w.sentc, "DELETE", "/user/forced/delete/" U1, "-", 0, "-");
	fake_rule(&fx.w.sentc, "DELETE", "/user/forced/delete/" U2, "-", 400,
	    "{\"status\":false,\"err_msg\":\"x\",\"err_code\":11}");
	sb_unsure_delete(request(), SB_ERR_UPSTREAM_TIMEOUT, U1);
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_UPSTREAM_TIMEOUT));
	fake_req_again(&fx.req);
	sb_unsure_delete(request(), SB_ERR_UPSTREAM_DOWN, U2);
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_UPSTREAM_DOWN));
	fake_req_again(&fx.req);
	assert_true(has_row("ident-1"));
	assert_true(has_row("ident-2"));
	assert_true(recorded(SB_UNSURE_DELETE, U1));
	assert_true(recorded(SB_UNSURE_DELETE, U2));

	/* No store to record it in: answered with the fault, row kept. */
	store_down();
	sb_unsure_delete(request(), SB_ERR_UPSTREAM_TIMEOUT, U3);
	assert_int_equal(fx.req.status, sb_err_status(SB_ERR_UPSTREAM_TIMEOUT));
	fake_req_again(&fx.req);
	store_up();
	assert_int_equal(fake_seen(&fx.w.sentc, "DELETE", "/user/forced/delete/"
	    U3, NULL, NULL), 0);
}

/* Calls sb_unsure_pass() until sentc was asked about what (it runs at
 * most once a second), for up to WAIT_S seconds. */
#define WAIT_S	20

static void
pass_until_asked(const char *method, const char *path)
{
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };
	int64_t		 until = sb_now() + WAIT_S;

	for (;;) {
		sb_unsure_pass();
		if (fake_seen(&fx.w.sentc, method, path, NULL, NULL) > 0)
			return;
		if (sb_now() > until) {
			print_error("no pass asked sentc %s %s\n", method, path);
			fail();
		}
		nanosleep(&ts, NULL);
	}
}

/*
 * One pass settles up to SB_UNSURE_PASS_MAX records that are due:
 *   fay: a register whose name has an own row: done, sentc not asked;
 *   gus: no own row, sentc has the name: deleted there, and gone, being
 *	older than SB_UNSURE_KEEP;
 *   hal: no own row, sentc has none: kept, watched until SB_UNSURE_KEEP;
 *   U4: a delete: finished at sentc and here.
 * Then, a pass later, U5, whose delete sentc loses again: kept.
 */
static void
test_pass(void **state)
{
	static char	 line[FAKE_BUF];
	int64_t		 now = sb_now(), old = now - SB_UNSURE_KEEP - 10;
	char		 key[64];

	assert_int_equal(sb_db_user_create(db(), U3, "fay", NULL), SB_OK);
	assert_int_equal(sb_db_user_create(db(), U4, "ident-4", NULL), SB_OK);
	assert_int_equal(sb_db_user_create(db(), U5, "ident-5", NULL), SB_OK);
	assert_int_equal(sb_db_unsure_add(db(), SB_UNSURE_REGISTER, "fay",
	    now, now - 4), SB_OK);
	assert_int_equal(sb_db_unsure_add(db(), SB_UNSURE_REGISTER, "gus",
	    old, now - 3), SB_OK);
	assert_int_equal(sb_db_unsure_add(db(), SB_UNSURE_REGISTER, "hal",
	    now, now - 2), SB_OK);
	assert_int_equal(sb_db_unsure_add(db(), SB_UNSURE_DELETE, U4,
	    now, now - 1), SB_OK);
	fake_rule(&fx.w.sentc, "POST", "/exists", "\"gus\"", 200, TAKEN);
	fake_rule(&fx.w.sentc, "POST", "/exists", "\"hal\"", 200, FREE);
	fake_rule(&fx.w.sentc, "PUT", "/user/forced/delete", "\"gus\"", 200,
	    SUCCESS);
	fake_rule(&fx.w.sentc, "DELETE", "/user/forced/delete/" U4, "-", 200,
	    SUCCESS);
	fake_rule(&fx.w.sentc, "DELETE", "/user/forced/delete/" U5, "-", 0, "-");

	pass_until_asked("DELETE", "/user/forced/delete/" U4);
	assert_false(recorded(SB_UNSURE_REGISTER, "fay"));
	assert_int_equal(fake_seen(&fx.w.sentc, "POST", "/exists", "fay", NULL),
	    0);
	assert_true(has_row("fay"));

	assert_false(recorded(SB_UNSURE_REGISTER, "gus"));
	assert_int_equal(fake_seen(&fx.w.sentc, "POST", "/exists", "\"gus\"",
	    line), 1);
	assert_non_null(strstr(line, " token=" FAKE_PUBLIC " "));
	assert_int_equal(fake_seen(&fx.w.sentc, "PUT", "/user/forced/delete",
	    "\"gus\"", NULL), 1);

	assert_int_equal(fake_seen(&fx.w.sentc, "POST", "/exists", "\"hal\"",
	    NULL), 1);
	assert_int_equal(fake_seen(&fx.w.sentc, "PUT", "/user/forced/delete",
	    "\"hal\"", NULL), 0);
	assert_true(recorded(SB_UNSURE_REGISTER, "hal"));

	assert_false(recorded(SB_UNSURE_DELETE, U4));
	assert_false(has_row("ident-4"));

	/* hal is due again only sb_unsure_after() later. */
	assert_int_equal(due_at(now + 1, key, sizeof(key)), 0);
	assert_int_equal(due_at(now + sb_unsure_after() + 2, key,
	    sizeof(key)), SB_UNSURE_REGISTER);
	assert_string_equal(key, "hal");

	/* The next pass: U5's delete is lost again, and stays recorded. */
	assert_int_equal(sb_db_unsure_add(db(), SB_UNSURE_DELETE, U5,
	    now, now - 1), SB_OK);
	pass_until_asked("DELETE", "/user/forced/delete/" U5);
	assert_true(recorded(SB_UNSURE_DELETE, U5));
	assert_true(has_row("ident-5"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_after, fresh),
		cmocka_unit_test_setup(test_register_undone, fresh),
		cmocka_unit_test_setup(test_register_recorded, fresh),
		cmocka_unit_test_setup(test_register_unrecorded, fresh),
		cmocka_unit_test_setup(test_hold_register, fresh),
		cmocka_unit_test_setup(test_delete_finished, fresh),
		cmocka_unit_test_setup(test_delete_left, fresh),
		cmocka_unit_test_setup(test_pass, fresh),
	};

	return cmocka_run_group_tests(tests, setup, fake_world_teardown);
}
