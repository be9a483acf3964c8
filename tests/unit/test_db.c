/*
 * test_db.c: the store interface (sb_db.h) on both stores: SQLite in a
 * temporary directory, PostgreSQL in a fresh database on the server that
 * $SB_TEST_PG names (a directory made by tests/pg-server). The same
 * contract runs on each; then what only PostgreSQL has: reconnecting, and
 * a URI whose password must stay out of every message.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "extern.h"

#define SPEC_MAX	1024
#define PASSWORD	"s3cret-Pa55word-7f1e"

#define GID	"0b7c3f0e-6a63-4a0e-9d3e-2c1a7c0f9e11"
#define UID	"5f0e2c1a-7c0f-4e11-8b7c-3f0e6a634a0e"
#define UID2	"9d3e2c1a-7c0f-4e11-8b7c-3f0e6a634a0e"

struct fix {
	bool		 pg;
	char		 spec[SPEC_MAX];
	char		 dir[64];	/* SQLite: the temporary directory */
	char		 dbname[64];	/* PostgreSQL: the fresh database */
	struct sb_db	*db;
};

/* The test server, from $SB_TEST_PG/conn.json. */
static struct {
	char	 host[512];
	char	 user[64];
	char	 password[128];
	int	 port;
	bool	 loaded;
} pgsrv;

static int	 db_seq;

static void
load_pgsrv(void)
{
	char		 path[600];
	const char	*dir;
	json_object	*o, *v;

	if (pgsrv.loaded)
		return;
	if ((dir = getenv("SB_TEST_PG")) == NULL)
		fail_msg("SB_TEST_PG is not set: run these through tests/run");
	snprintf(path, sizeof(path), "%s/conn.json", dir);
	if ((o = json_object_from_file(path)) == NULL)
		fail_msg("cannot read %s", path);
	json_object_object_get_ex(o, "host", &v);
	snprintf(pgsrv.host, sizeof(pgsrv.host), "%s", json_object_get_string(v));
	json_object_object_get_ex(o, "user", &v);
	snprintf(pgsrv.user, sizeof(pgsrv.user), "%s", json_object_get_string(v));
	json_object_object_get_ex(o, "password", &v);
	snprintf(pgsrv.password, sizeof(pgsrv.password), "%s",
	    json_object_get_string(v));
	json_object_object_get_ex(o, "port", &v);
	pgsrv.port = json_object_get_int(v);
	json_object_put(o);
	pgsrv.loaded = true;
}

/* The URI of database name on the test server, with its password. */
static void
pg_spec(char *out, size_t outsz, const char *name)
{
	load_pgsrv();
	snprintf(out, outsz, "postgresql://%s:%s@/%s?host=%s&port=%d",
	    pgsrv.user, pgsrv.password, name, pgsrv.host, pgsrv.port);
}

/* Runs sql on database name of the test server as its superuser. */
static void
pg_admin(const char *name, const char *sql)
{
	char		 spec[SPEC_MAX];
	PGconn		*c;
	PGresult	*r;

	pg_spec(spec, sizeof(spec), name);
	c = PQconnectdb(spec);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("admin connection: %s", PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* Runs sql on the fixture's database, beside the store's connection. */
static void
exec_sql(struct fix *f, const char *sql)
{
	sqlite3	*db;
	char	*msg = NULL;

	if (f->pg) {
		pg_admin(f->dbname, sql);
		return;
	}
	assert_int_equal(sqlite3_open(f->spec, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* Creates database name on the test server; -1 if sql fails. */
static int
pg_create(const char *sql)
{
	char		 spec[SPEC_MAX];
	PGconn		*c;
	PGresult	*r;
	int		 rc;

	pg_spec(spec, sizeof(spec), "postgres");
	c = PQconnectdb(spec);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("admin connection: %s", PQerrorMessage(c));
	r = PQexec(c, sql);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* A fresh, empty database: its spec into f. */
static void
fresh(struct fix *f, bool pg)
{
	char	 sql[256];

	memset(f, 0, sizeof(*f));
	f->pg = pg;
	if (!pg) {
		snprintf(f->dir, sizeof(f->dir), "/tmp/sb-test-db.XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->spec, sizeof(f->spec), "%s/store.db", f->dir);
		return;
	}
	snprintf(f->dbname, sizeof(f->dbname), "sb_unit_%d_%d", (int)getpid(),
	    ++db_seq);
	/*
	 * A locale whose order is not byte order (ICU's en-US puts "a"
	 * before "B"), where the server has it: ids must sort as in SQLite.
	 */
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0 "
	    "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'", f->dbname);
	if (pg_create(sql) == -1) {
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->dbname);
		assert_int_equal(pg_create(sql), 0);
	}
	pg_spec(f->spec, sizeof(f->spec), f->dbname);
}

static void
gone(struct fix *f)
{
	static const char *const files[] = { "", "-wal", "-shm" };
	char		 sql[128], path[SPEC_MAX + 8];
	size_t		 i;

	sb_db_close(f->db);
	f->db = NULL;
	if (f->pg) {
		snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)",
		    f->dbname);
		pg_admin("postgres", sql);
		return;
	}
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", f->spec, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
}

static int
setup(void **state, bool pg)
{
	struct fix	*f;
	char		 err[512];

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	fresh(f, pg);
	if (sb_db_open(f->spec, &f->db, err, sizeof(err)) != SB_OK) {
		fprintf(stderr, "open: %s\n", err);
		gone(f);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
setup_sqlite(void **state)
{
	return setup(state, false);
}

static int
setup_pg(void **state)
{
	return setup(state, true);
}

static int
teardown(void **state)
{
	struct fix	*f = *state;

	gone(f);
	free(f);
	return 0;
}

/* ---- the contract, on both stores ------------------------------------ */

static void
test_users(void **state)
{
	struct fix	*f = *state;
	char		*data, id[SB_ID_LEN + 1];

	assert_int_equal(sb_db_user_data(f->db, UID, &data),
	    SB_ERR_NO_USER_DATA);
	assert_null(data);
	assert_int_equal(sb_db_user_create(f->db, UID, "alice",
	    "{\"plan\":\"pro\"}"), SB_OK);
	assert_int_equal(sb_db_user_create(f->db, UID2, "bob", NULL), SB_OK);
	assert_int_equal(sb_db_user_data(f->db, UID, &data), SB_OK);
	assert_string_equal(data, "{\"plan\":\"pro\"}");
	free(data);
	assert_int_equal(sb_db_user_data(f->db, UID2, &data), SB_OK);
	assert_string_equal(data, "{}");
	free(data);

	/* A user id is stored once. */
	assert_int_equal(sb_db_user_create(f->db, UID, "again", NULL),
	    SB_ERR_STORAGE);

	assert_int_equal(sb_db_user_set_data(f->db, UID, "{\"plan\":\"free\"}"),
	    SB_OK);
	assert_int_equal(sb_db_user_data(f->db, UID, &data), SB_OK);
	assert_string_equal(data, "{\"plan\":\"free\"}");
	free(data);
	assert_int_equal(sb_db_user_set_data(f->db, GID, "{}"),
	    SB_ERR_NO_USER_DATA);

	assert_int_equal(sb_db_user_by_identifier(f->db, "bob", id,
	    sizeof(id)), SB_OK);
	assert_string_equal(id, UID2);
	assert_int_equal(sb_db_user_by_identifier(f->db, "carol", id,
	    sizeof(id)), SB_ERR_NO_USER_DATA);

	assert_int_equal(sb_db_user_delete(f->db, UID), SB_OK);
	assert_int_equal(sb_db_user_delete(f->db, UID), SB_OK);
	assert_int_equal(sb_db_user_data(f->db, UID, &data),
	    SB_ERR_NO_USER_DATA);
	assert_int_equal(sb_db_ping(f->db), SB_OK);
}

/* Only JSON objects are user data; JSON's \u0000 is fine. */
static void
test_user_data_checked(void **state)
{
	struct fix	*f = *state;
	char		*data;

	assert_int_equal(sb_db_user_create(f->db, UID, "a", "[1]"),
	    SB_ERR_STORAGE);
	assert_int_equal(sb_db_user_create(f->db, UID, "a", "{"),
	    SB_ERR_STORAGE);
	assert_int_equal(sb_db_user_create(f->db, UID, "a",
	    "{\"n\":\"a\\u0000b\",\"e\":\"\xc3\xa9\"}"), SB_OK);
	assert_int_equal(sb_db_user_set_data(f->db, UID, "\"x\""),
	    SB_ERR_STORAGE);
	assert_int_equal(sb_db_user_data(f->db, UID, &data), SB_OK);
	assert_string_equal(data, "{\"n\":\"a\\u0000b\",\"e\":\"\xc3\xa9\"}");
	free(data);
	assert_int_equal(sb_db_group_create(f->db, GID, UID, "7"),
	    SB_ERR_STORAGE);
}

/* Values that look like SQL are only values. */
static void
test_values_are_bound(void **state)
{
	struct fix	*f = *state;
	const char	*evil = "x'); DROP TABLE users; --";
	char		*data, id[SB_ID_LEN + 1];

	assert_int_equal(sb_db_user_create(f->db, UID, evil,
	    "{\"q\":\"'; DELETE FROM users; --\"}"), SB_OK);
	assert_int_equal(sb_db_user_by_identifier(f->db, evil, id,
	    sizeof(id)), SB_OK);
	assert_string_equal(id, UID);
	assert_int_equal(sb_db_user_by_identifier(f->db, "x' OR '1'='1", id,
	    sizeof(id)), SB_ERR_NO_USER_DATA);
	assert_int_equal(sb_db_user_data(f->db, UID, &data), SB_OK);
	assert_string_equal(data, "{\"q\":\"'; DELETE FROM users; --\"}");
	free(data);
}

struct seen {
	int	 n;
	char	 ids[8][SB_ID_LEN + 1];
	char	 author[SB_ID_LEN + 1];
	char	 data[64];
	size_t	 len;
	bool	 has_data;
	int64_t	 created_at, updated_at;
};

static void
on_item(void *arg, const struct sb_item *it)
{
	struct seen	*s = arg;

	if (s->n < 8)
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", it->item_id);
	s->n++;
	snprintf(s->author, sizeof(s->author), "%s", it->author);
	s->has_data = it->data != NULL;
	s->len = it->len;
	if (it->data != NULL)
		snprintf(s->data, sizeof(s->data), "%.*s", (int)it->len,
		    it->data);
	s->created_at = it->created_at;
	s->updated_at = it->updated_at;
}

static void
test_items(void **state)
{
	/* In byte order: "B" (0x42) sorts before "a" (0x61). */
	static const char *const ids[] = {
		"0000000B-0000-4000-8000-000000000000",
		"0000000a-0000-4000-8000-000000000000",
		"0000000c-0000-4000-8000-000000000000",
	};
	struct fix	*f = *state;
	struct seen	 s;
	const char	*text = "ciph\xc3\xa9rtext+/=";
	size_t		 i;

	memset(&s, 0, sizeof(s));
	assert_int_equal(sb_db_item_get(f->db, GID, ids[0], on_item, &s),
	    SB_ERR_NO_ITEM);
	assert_int_equal(s.n, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(sb_db_item_put(f->db, GID, ids[2 - i], UID,
		    text, strlen(text)), SB_OK);
	assert_int_equal(sb_db_item_get(f->db, GID, ids[1], on_item, &s),
	    SB_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.author, UID);
	assert_int_equal(s.len, strlen(text));
	assert_string_equal(s.data, text);
	assert_true(s.created_at > 1600000000);

	/* Replaced: the new author and data, the old created_at. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(sb_db_item_put(f->db, GID, ids[1], UID2, "v2", 2),
	    SB_OK);
	assert_int_equal(sb_db_item_get(f->db, GID, ids[1], on_item, &s),
	    SB_OK);
	assert_string_equal(s.author, UID2);
	assert_string_equal(s.data, "v2");
	assert_true(s.updated_at >= s.created_at);

	/* Listed in byte order, in pages, without the data. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(sb_db_item_list(f->db, GID, "", 2, on_item, &s),
	    SB_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ids[0], ids[0]);
	assert_string_equal(s.ids[1], ids[1]);
	assert_false(s.has_data);
	memset(&s, 0, sizeof(s));
	assert_int_equal(sb_db_item_list(f->db, GID, ids[1], 2, on_item, &s),
	    SB_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], ids[2]);
	memset(&s, 0, sizeof(s));
	assert_int_equal(sb_db_item_list(f->db, UID, "", 10, on_item, &s),
	    SB_OK);
	assert_int_equal(s.n, 0);

	assert_int_equal(sb_db_item_delete(f->db, GID, ids[0]), SB_OK);
	assert_int_equal(sb_db_item_delete(f->db, GID, ids[0]),
	    SB_ERR_NO_ITEM);
}

static int
items_of(struct fix *f, const char *gid)
{
	struct seen	 s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(sb_db_item_list(f->db, gid, "", 100, on_item, &s),
	    SB_OK);
	return s.n;
}

static void
test_group_data(void **state)
{
	struct fix	*f = *state;
	char		*data;

	assert_int_equal(sb_db_group_data(f->db, GID, &data),
	    SB_ERR_NO_GROUP_DATA);
	assert_null(data);
	assert_int_equal(sb_db_group_set_data(f->db, GID, "{}"),
	    SB_ERR_NO_GROUP_DATA);
	assert_int_equal(sb_db_group_create(f->db, GID, UID, NULL), SB_OK);
	assert_int_equal(sb_db_group_data(f->db, GID, &data), SB_OK);
	assert_string_equal(data, "{}");
	free(data);
	assert_int_equal(sb_db_group_set_data(f->db, GID, "{\"t\":\"x\"}"),
	    SB_OK);
	assert_int_equal(sb_db_group_set_data(f->db, GID, "[]"),
	    SB_ERR_STORAGE);
	assert_int_equal(sb_db_group_data(f->db, GID, &data), SB_OK);
	assert_string_equal(data, "{\"t\":\"x\"}");
	free(data);
}

/* A group's row and items go together, or not at all. */
static void
test_group_delete_is_one_transaction(void **state)
{
	struct fix	*f = *state;

	assert_int_equal(sb_db_group_create(f->db, GID, UID, "{\"t\":1}"),
	    SB_OK);
	assert_int_equal(sb_db_group_create(f->db, GID, UID, NULL),
	    SB_ERR_STORAGE);
	assert_int_equal(sb_db_item_put(f->db, GID, UID, UID, "a", 1), SB_OK);
	assert_int_equal(sb_db_item_put(f->db, GID, UID2, UID, "b", 1), SB_OK);

	/* The second delete fails: the first is rolled back. */
	if (f->pg)
		exec_sql(f, "CREATE FUNCTION fail() RETURNS trigger "
		    "LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'injected'; "
		    "END$$; CREATE TRIGGER fail BEFORE DELETE ON groups "
		    "FOR EACH ROW EXECUTE FUNCTION fail()");
	else
		exec_sql(f, "CREATE TRIGGER fail BEFORE DELETE ON groups BEGIN "
		    "SELECT RAISE(ABORT, 'injected'); END");
	assert_int_equal(sb_db_group_delete(f->db, GID), SB_ERR_STORAGE);
	assert_int_equal(items_of(f, GID), 2);

	exec_sql(f, f->pg ? "DROP TRIGGER fail ON groups" :
	    "DROP TRIGGER fail");
	assert_int_equal(sb_db_group_delete(f->db, GID), SB_OK);
	assert_int_equal(items_of(f, GID), 0);
	assert_int_equal(sb_db_group_create(f->db, GID, UID, NULL), SB_OK);
}

/*
 * Opening again migrates nothing; a newer schema is refused, and so is a
 * version that cannot be one.
 */
static void
test_migrations(void **state)
{
	static const struct {
		const char	*v, *msg;
	} bad[] = {
		{ "-1", "schema version -1 is not one there can be" },
		{ "-2147483648", "schema version -2147483648 is not one" },
		{ "4294967299", "schema version 4294967299 is newer" },
		{ "-4294967293", "schema version -4294967293 is not one" },
		{ "9223372036854775807",
		    "schema version 9223372036854775807 is newer" },
	};
	struct fix	*f = *state;
	struct sb_db	*again;
	char		 err[512], sql[128];
	size_t		 i;

	assert_int_equal(sb_db_user_create(f->db, UID, "kept", NULL), SB_OK);
	assert_int_equal(sb_db_open(f->spec, &again, err, sizeof(err)), SB_OK);
	assert_int_equal(sb_db_user_by_identifier(again, "kept", err,
	    sizeof(err)), SB_OK);
	sb_db_close(again);

	exec_sql(f, "UPDATE schema_version SET version = 99");
	assert_int_equal(sb_db_open(f->spec, &again, err, sizeof(err)),
	    SB_ERR_STORAGE);
	assert_null(again);
	assert_non_null(strstr(err, "schema version 99 is newer"));

	/*
	 * Values that are no version: refused, never cut to one that looks
	 * current, nor used to index the migrations. PostgreSQL's INTEGER
	 * holds only the first two.
	 */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]) && (!f->pg || i < 2);
	    i++) {
		snprintf(sql, sizeof(sql), "UPDATE schema_version SET version "
		    "= %s", bad[i].v);
		exec_sql(f, sql);
		assert_int_equal(sb_db_open(f->spec, &again, err, sizeof(err)),
		    SB_ERR_STORAGE);
		assert_null(again);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("version %s: \"%s\"", bad[i].v, err);
	}
	snprintf(err, sizeof(err), "UPDATE schema_version SET version = %d",
	    sb_db_schema_version());
	exec_sql(f, err);
}

/*
 * The records of calls whose answer was lost (sb_unsure.h): taken when
 * due and not held, the longest due first; held by one at a time;
 * added again with a new since and due; gone once done.
 */
static void
test_unsure(void **state)
{
	static const char	*evil = "x'); DROP TABLE unsure; --";
	struct fix		*f = *state;
	struct sb_unsure	 u;
	int			 st;

	assert_int_equal(sb_db_unsure_take(f->db, 1000, 1050, 1100, &u), SB_OK);
	assert_int_equal(u.kind, 0);
	assert_null(u.key);
	assert_int_equal(sb_db_unsure_hold(f->db, 1, "alice", 1000, 1100, &st),
	    SB_OK);
	assert_int_equal(st, 0);

	assert_int_equal(sb_db_unsure_add(f->db, 1, "alice", 990, 1010), SB_OK);
	assert_int_equal(sb_db_unsure_add(f->db, 2, UID, 995, 995), SB_OK);
	assert_int_equal(sb_db_unsure_add(f->db, 1, evil, 900, 5000), SB_OK);
	/* The same key of another kind is another record. */
	assert_int_equal(sb_db_unsure_add(f->db, 2, "alice", 990, 9000), SB_OK);

	/* At 1000 only the delete is due. */
	assert_int_equal(sb_db_unsure_take(f->db, 1000, 1050, 1100, &u), SB_OK);
	assert_int_equal(u.kind, 2);
	assert_string_equal(u.key, UID);
	assert_int_equal(u.since, 995);
	free(u.key);
	assert_int_equal(sb_db_unsure_take(f->db, 1000, 1050, 1100, &u), SB_OK);
	assert_int_equal(u.kind, 0);

	/* At 1020, alice; held until 1070, due again at 1080. */
	assert_int_equal(sb_db_unsure_take(f->db, 1020, 1070, 1080, &u), SB_OK);
	assert_int_equal(u.kind, 1);
	assert_string_equal(u.key, "alice");
	assert_int_equal(u.since, 990);
	free(u.key);
	assert_int_equal(sb_db_unsure_hold(f->db, 1, "alice", 1030, 1090, &st),
	    SB_OK);
	assert_int_equal(st, -1);
	assert_int_equal(sb_db_unsure_release(f->db, 1, "alice"), SB_OK);
	assert_int_equal(sb_db_unsure_hold(f->db, 1, "alice", 1030, 1090, &st),
	    SB_OK);
	assert_int_equal(st, 1);
	assert_int_equal(sb_db_unsure_hold(f->db, 1, "alice", 1031, 1095, &st),
	    SB_OK);
	assert_int_equal(st, -1);
	/* Due at 1080, but held until 1090. */
	assert_int_equal(sb_db_unsure_take(f->db, 1085, 1200, 1200, &u), SB_OK);
	assert_int_equal(u.kind, 0);
	assert_int_equal(sb_db_unsure_take(f->db, 1090, 1200, 1200, &u), SB_OK);
	assert_int_equal(u.kind, 1);
	assert_string_equal(u.key, "alice");
	free(u.key);

	/* Added again: since and due anew, and nobody holds it. */
	assert_int_equal(sb_db_unsure_add(f->db, 1, "alice", 2000, 2100), SB_OK);
	assert_int_equal(sb_db_unsure_hold(f->db, 1, "alice", 2000, 2200, &st),
	    SB_OK);
	assert_int_equal(st, 1);
	assert_int_equal(sb_db_unsure_done(f->db, 1, "alice"), SB_OK);
	assert_int_equal(sb_db_unsure_hold(f->db, 1, "alice", 2000, 2200, &st),
	    SB_OK);
	assert_int_equal(st, 0);

	/* Longest due first (1100, then 5000); a key like SQL is a key. */
	assert_int_equal(sb_db_unsure_take(f->db, 6000, 6100, 6100, &u), SB_OK);
	assert_int_equal(u.kind, 2);
	assert_string_equal(u.key, UID);
	free(u.key);
	assert_int_equal(sb_db_unsure_take(f->db, 6000, 6100, 6100, &u), SB_OK);
	assert_int_equal(u.kind, 1);
	assert_string_equal(u.key, evil);
	assert_int_equal(u.since, 900);
	free(u.key);
	assert_int_equal(sb_db_unsure_done(f->db, 2, UID), SB_OK);
	assert_int_equal(sb_db_unsure_done(f->db, 1, evil), SB_OK);
	assert_int_equal(sb_db_unsure_take(f->db, 8999, 9100, 9100, &u), SB_OK);
	assert_int_equal(u.kind, 0);
	assert_int_equal(sb_db_unsure_take(f->db, 9000, 9100, 9100, &u), SB_OK);
	assert_int_equal(u.kind, 2);
	assert_string_equal(u.key, "alice");
	free(u.key);
}

/*
 * The ends of cookie sessions: a token's end holds whatever the sealing
 * time, a user's for cookies sealed at or before it; recording again
 * keeps the later time; a purge removes only records made before its
 * time; keys are bound, never spliced.
 */
static void
test_session_ends(void **state)
{
	static const char	*evil = "x'); DROP TABLE ended_tokens; --";
	struct fix		*f = *state;
	bool			 ended;

	assert_int_equal(sb_db_session_ended(f->db, "d1", UID, 1000, &ended),
	    SB_OK);
	assert_false(ended);

	assert_int_equal(sb_db_session_end_token(f->db, "d1", 2000), SB_OK);
	assert_int_equal(sb_db_session_ended(f->db, "d1", UID, 1000, &ended),
	    SB_OK);
	assert_true(ended);
	assert_int_equal(sb_db_session_ended(f->db, "d1", UID2, 9000, &ended),
	    SB_OK);
	assert_true(ended);
	assert_int_equal(sb_db_session_ended(f->db, "d2", UID, 1000, &ended),
	    SB_OK);
	assert_false(ended);

	/* The user's end: sealed at or before 3000 ended, after it not. */
	assert_int_equal(sb_db_session_end_user(f->db, UID, 3000), SB_OK);
	assert_int_equal(sb_db_session_ended(f->db, "d2", UID, 2999, &ended),
	    SB_OK);
	assert_true(ended);
	assert_int_equal(sb_db_session_ended(f->db, "d2", UID, 3000, &ended),
	    SB_OK);
	assert_true(ended);
	assert_int_equal(sb_db_session_ended(f->db, "d2", UID, 3001, &ended),
	    SB_OK);
	assert_false(ended);
	assert_int_equal(sb_db_session_ended(f->db, "d2", UID2, 1000, &ended),
	    SB_OK);
	assert_false(ended);

	/* Again, earlier: the later time stays; later: it moves on. */
	assert_int_equal(sb_db_session_end_user(f->db, UID, 2500), SB_OK);
	assert_int_equal(sb_db_session_ended(f->db, "d2", UID, 2800, &ended),
	    SB_OK);
	assert_true(ended);
	assert_int_equal(sb_db_session_end_user(f->db, UID, 4000), SB_OK);
	assert_int_equal(sb_db_session_ended(f->db, "d2", UID, 3500, &ended),
	    SB_OK);
	assert_true(ended);
	assert_int_equal(sb_db_session_end_token(f->db, "d1", 1500), SB_OK);

	/* A key like SQL is a key. */
	assert_int_equal(sb_db_session_end_token(f->db, evil, 2000), SB_OK);
	assert_int_equal(sb_db_session_ended(f->db, evil, evil, 0, &ended),
	    SB_OK);
	assert_true(ended);

	/* Purged before 2000: nothing yet (d1 stays at 2000). */
	assert_int_equal(sb_db_session_purge(f->db, 2000), SB_OK);
	assert_int_equal(sb_db_session_ended(f->db, "d1", UID2, 0, &ended),
	    SB_OK);
	assert_true(ended);
	/* Before 2001: the tokens of 2000 go, the user's end of 4000 not. */
	assert_int_equal(sb_db_session_purge(f->db, 2001), SB_OK);
	assert_int_equal(sb_db_session_ended(f->db, "d1", UID2, 0, &ended),
	    SB_OK);
	assert_false(ended);
	assert_int_equal(sb_db_session_ended(f->db, evil, UID2, 0, &ended),
	    SB_OK);
	assert_false(ended);
	assert_int_equal(sb_db_session_ended(f->db, "d9", UID, 3999, &ended),
	    SB_OK);
	assert_true(ended);
	assert_int_equal(sb_db_session_purge(f->db, 4001), SB_OK);
	assert_int_equal(sb_db_session_ended(f->db, "d9", UID, 3999, &ended),
	    SB_OK);
	assert_false(ended);
}

/*
 * A database of schema version 3 (before the ends of cookie sessions
 * and the searchable items) gets their tables at start, and keeps what
 * it held.
 */
static void
test_migrate_from_3(void **state)
{
	struct fix	*f = *state;
	struct sb_db	*again;
	char		 err[512];
	bool		 ended;

	assert_int_equal(sb_db_user_create(f->db, UID, "kept", NULL), SB_OK);
	sb_db_close(f->db);
	f->db = NULL;
	exec_sql(f, f->pg ? "DROP SEQUENCE access_epoch" :
	    "DROP TABLE access_epoch; DROP TRIGGER items_index_delete");
	exec_sql(f, "DROP TABLE item_hashes; DROP TABLE item_sortables; "
	    "DROP TABLE access_revoked; DROP TABLE file_parts; "
	    "DROP TABLE ended_tokens; DROP TABLE ended_users; "
	    "UPDATE schema_version SET version = 3");
	assert_int_equal(sb_db_open(f->spec, &again, err, sizeof(err)), SB_OK);
	f->db = again;
	assert_int_equal(sb_db_user_by_identifier(f->db, "kept", err,
	    sizeof(err)), SB_OK);
	assert_string_equal(err, UID);
	assert_int_equal(sb_db_session_end_user(f->db, UID, 100), SB_OK);
	assert_int_equal(sb_db_session_ended(f->db, "d", UID, 100, &ended),
	    SB_OK);
	assert_true(ended);
}

/* Programs that start together on a fresh database migrate it once. */
static void
race(bool pg)
{
	struct fix	 f;
	struct sb_db	*db;
	char		 err[512];
	pid_t		 pids[8];
	int		 i, st, ok = 0;

	fresh(&f, pg);
	for (i = 0; i < 8; i++) {
		if ((pids[i] = fork()) == 0)
			_exit(sb_db_open(f.spec, &db, err, sizeof(err)) ==
			    SB_OK ? 0 : (fprintf(stderr, "%s\n", err), 1));
		assert_true(pids[i] > 0);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	assert_int_equal(ok, 8);
	assert_int_equal(sb_db_open(f.spec, &f.db, err, sizeof(err)), SB_OK);
	assert_int_equal(sb_db_user_create(f.db, UID, "after", NULL), SB_OK);
	assert_int_equal(sb_db_schema_version(), SB_DB_SCHEMA_VERSION);
	gone(&f);
}

static void
test_migration_race_sqlite(void **state)
{
	race(false);
}

static void
test_migration_race_pg(void **state)
{
	race(true);
}

/* ---- PostgreSQL only ------------------------------------------------- */

/* Ends the store's server connection, as a restart or a failover would. */
static void
cut(struct fix *f)
{
	char	 sql[256];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid, 5000) FROM "
	    "pg_stat_activity WHERE datname = '%s' AND pid <> "
	    "pg_backend_pid()", f->dbname);
	pg_admin("postgres", sql);
}

static void
test_pg_reconnects(void **state)
{
	struct fix	*f = *state;
	char		*data, sql[128];
	int		 i;

	assert_int_equal(sb_db_user_create(f->db, UID, "a", "{\"v\":1}"),
	    SB_OK);
	/* Reads, updates and inserts run again on a fresh connection. */
	cut(f);
	assert_int_equal(sb_db_user_data(f->db, UID, &data), SB_OK);
	assert_string_equal(data, "{\"v\":1}");
	free(data);
	cut(f);
	assert_int_equal(sb_db_user_set_data(f->db, UID, "{\"v\":2}"), SB_OK);
	cut(f);
	assert_int_equal(sb_db_user_create(f->db, UID2, "b", NULL), SB_OK);
	cut(f);
	assert_int_equal(sb_db_item_put(f->db, GID, UID, UID, "x", 1), SB_OK);
	cut(f);
	assert_int_equal(sb_db_group_create(f->db, GID, UID, NULL), SB_OK);
	cut(f);
	assert_int_equal(sb_db_group_delete(f->db, GID), SB_OK);
	assert_int_equal(items_of(f, GID), 0);

	/* A delete whose answer depends on the first run is not retried. */
	assert_int_equal(sb_db_item_put(f->db, GID, UID, UID, "x", 1), SB_OK);
	cut(f);
	assert_int_equal(sb_db_item_delete(f->db, GID, UID), SB_ERR_STORAGE);
	assert_int_equal(sb_db_item_delete(f->db, GID, UID), SB_OK);

	/* The server refuses connections: 503, until it takes them again. */
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS false",
	    f->dbname);
	pg_admin("postgres", sql);
	cut(f);
	for (i = 0; i < 3; i++) {
		assert_int_equal(sb_db_user_data(f->db, UID, &data),
		    SB_ERR_STORAGE);
		assert_int_equal(sb_db_ping(f->db), SB_ERR_STORAGE);
	}
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true",
	    f->dbname);
	pg_admin("postgres", sql);
	assert_int_equal(sb_db_ping(f->db), SB_OK);
	assert_int_equal(sb_db_user_data(f->db, UID, &data), SB_OK);
	assert_string_equal(data, "{\"v\":2}");
	free(data);
}

static void
test_spec_kind(void **state)
{
	assert_true(sb_db_spec_is_pg("postgresql://h/db"));
	assert_true(sb_db_spec_is_pg("postgres://u:p@h:5432/db"));
	assert_true(sb_db_spec_is_pg("postgresql:///db?host=/run/pg"));
	assert_false(sb_db_spec_is_pg("/var/lib/sentc-backend/x.db"));
	assert_false(sb_db_spec_is_pg("postgresql.db"));
	assert_false(sb_db_spec_is_pg("file:postgresql://x"));
	assert_false(sb_db_spec_is_pg("POSTGRESQL://h/db"));

	/* libpq's keyword=value form, and anything else with an '='. */
	assert_true(sb_db_spec_is_pg("host=db.example.com dbname=sentc"));
	assert_true(sb_db_spec_is_pg("dbname=sentc"));
	assert_true(sb_db_spec_is_pg("host = /run/postgresql  user=app "
	    "password='a b' dbname=x"));
	assert_true(sb_db_spec_is_pg("host=h password=" PASSWORD " dbname"));
	assert_true(sb_db_spec_is_pg("/var/lib/a=b/x.db"));
	assert_false(sb_db_spec_is_pg("sentc-backend.db"));
	assert_false(sb_db_spec_is_pg("./host dbname"));
}

/* What may be logged of a spec: everything but the password. */
static void
test_spec_display(void **state)
{
	char	 out[256];

	sb_db_spec_display("postgresql://app:" PASSWORD "@db.example.com:6432/"
	    "sentc?sslmode=verify-full", out, sizeof(out));
	assert_string_equal(out, "postgresql://app@db.example.com:6432/sentc");
	sb_db_spec_display("postgresql://app@h/d?password=" PASSWORD, out,
	    sizeof(out));
	assert_null(strstr(out, PASSWORD));
	assert_non_null(strstr(out, "app@h"));
	sb_db_spec_display("postgresql://app:" PASSWORD "@[::1/x", out,
	    sizeof(out));
	assert_null(strstr(out, PASSWORD));
	sb_db_spec_display("/var/lib/x.db", out, sizeof(out));
	assert_string_equal(out, "/var/lib/x.db");

	/* The keyword=value form, and one libpq cannot read. */
	sb_db_spec_display("host=db.example.com port=6432 user=app password="
	    PASSWORD " dbname=sentc sslmode=verify-full", out, sizeof(out));
	assert_string_equal(out, "postgresql://app@db.example.com:6432/sentc");
	sb_db_spec_display("user=app password='" PASSWORD " x' host=h "
	    "dbname=d", out, sizeof(out));
	assert_string_equal(out, "postgresql://app@h/d");
	sb_db_spec_display("host=h password=" PASSWORD " dbname", out,
	    sizeof(out));
	assert_null(strstr(out, PASSWORD));
	assert_null(strstr(out, "host=h"));
	sb_db_spec_display("host=h password='" PASSWORD, out, sizeof(out));
	assert_null(strstr(out, PASSWORD));
}

/* A libpq keyword=value value, quoted: ' and \\ escaped. */
static void
kw_value(char *out, size_t outsz, const char *v)
{
	size_t	 n = 0;

	out[n++] = '\'';
	for (; *v != '\0' && n + 4 < outsz; v++) {
		if (*v == '\'' || *v == '\\')
			out[n++] = '\\';
		out[n++] = *v;
	}
	out[n++] = '\'';
	out[n] = '\0';
}

/*
 * libpq's keyword=value form names a PostgreSQL database as a URI does:
 * the store opens on the test server, and works.
 */
static void
test_keyword_form_pg(void **state)
{
	struct fix	 f;
	char		 spec[2 * SPEC_MAX], host[600], pass[300], err[512];
	char		*data;

	fresh(&f, true);
	kw_value(host, sizeof(host), pgsrv.host);
	kw_value(pass, sizeof(pass), pgsrv.password);
	snprintf(spec, sizeof(spec), "host=%s port=%d user=%s password=%s "
	    "dbname=%s", host, pgsrv.port, pgsrv.user, pass, f.dbname);
	assert_true(sb_db_spec_is_pg(spec));
	if (sb_db_open(spec, &f.db, err, sizeof(err)) != SB_OK)
		fail_msg("%s", err);
	assert_int_equal(sb_db_user_create(f.db, UID, "kw", "{\"k\":1}"),
	    SB_OK);
	assert_int_equal(sb_db_user_data(f.db, UID, &data), SB_OK);
	assert_string_equal(data, "{\"k\":1}");
	free(data);
	gone(&f);
}

/* The modes of the files in dir whose names start with base. */
static void
modes(const char *dir, const char *base, mode_t want, int files)
{
	static const char *const ext[] = { "", "-wal", "-shm" };
	struct stat	 st;
	char		 path[SPEC_MAX];
	int		 i;

	for (i = 0; i < files; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", dir, base, ext[i]);
		if (stat(path, &st) == -1)
			fail_msg("%s: %s", path, strerror(errno));
		if ((st.st_mode & 07777) != want)
			fail_msg("%s has mode %04o, want %04o", path,
			    (unsigned)(st.st_mode & 07777), (unsigned)want);
	}
}

/*
 * A SQLite file the store makes, and its -wal and -shm files, are its
 * owner's only, whatever the umask; a file that was there keeps its
 * mode.
 */
static void
test_sqlite_file_modes(void **state)
{
	static const mode_t masks[] = { 0, 022, 002, 0777 };
	struct sb_db	*db;
	char		 dir[64], spec[SPEC_MAX], err[512];
	mode_t		 old;
	size_t		 i;
	int		 fd;

	snprintf(dir, sizeof(dir), "/tmp/sb-test-mode.XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		snprintf(spec, sizeof(spec), "%s/new-%zu.db", dir, i);
		old = umask(masks[i]);
		if (sb_db_open(spec, &db, err, sizeof(err)) != SB_OK)
			fail_msg("umask %04o: %s", (unsigned)masks[i], err);
		/* Written to: the -wal and -shm files are there now. */
		assert_int_equal(sb_db_user_create(db, UID, "mode", NULL),
		    SB_OK);
		umask(old);
		snprintf(spec, sizeof(spec), "new-%zu.db", i);
		modes(dir, spec, 0600, 3);
		sb_db_close(db);
	}

	/* Made before, by someone who wanted it so: left as it is. */
	snprintf(spec, sizeof(spec), "%s/old.db", dir);
	assert_true((fd = open(spec, O_CREAT | O_WRONLY, 0640)) != -1);
	assert_int_equal(fchmod(fd, 0640), 0);
	close(fd);
	assert_int_equal(sb_db_open(spec, &db, err, sizeof(err)), SB_OK);
	modes(dir, "old.db", 0640, 1);
	sb_db_close(db);
	assert_int_equal(system("rm -rf /tmp/sb-test-mode.*"), 0);
}

/*
 * A connection string in the keyword=value form libpq cannot read is
 * refused with libpq's reason and without its password, and no file is
 * made for it: not in the working directory, nor anywhere else.
 */
static void
test_keyword_form_refused(void **state)
{
	static const char *const specs[] = {
		"host=127.0.0.1 password=" PASSWORD " dbname",
		"host=127.0.0.1 password='" PASSWORD " dbname=x",
		"host=127.0.0.1 passwort=" PASSWORD " dbname=x",
		"host=127.0.0.1 password=" PASSWORD " dbname=x port=1 " PASSWORD,
		"/tmp/a=" PASSWORD,
	};
	struct sb_db	*db;
	char		 dir[64], cwd[512], err[512];
	struct dirent	*de;
	DIR		*d;
	size_t		 i;

	snprintf(dir, sizeof(dir), "/tmp/sb-test-kw.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		memset(err, 0, sizeof(err));
		assert_true(sb_db_spec_is_pg(specs[i]));
		assert_int_equal(sb_db_open(specs[i], &db, err, sizeof(err)),
		    SB_ERR_STORAGE);
		assert_null(db);
		if (strstr(err, "not a valid PostgreSQL connection string") ==
		    NULL || strstr(err, PASSWORD) != NULL)
			fail_msg("spec %zu: \"%s\"", i, err);
	}
	assert_non_null(d = opendir("."));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			fail_msg("a file was made: %s", de->d_name);
	closedir(d);
	assert_int_equal(access("/tmp/a=" PASSWORD, F_OK), -1);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A failed open explains itself, and never with the password. */
static void
test_open_errors_hide_password(void **state)
{
	static const char *const specs[] = {
		/* nothing listens on port 1 */
		"postgresql://app:" PASSWORD "@127.0.0.1:1/sentc",
		"postgresql://127.0.0.1:1/sentc?password=" PASSWORD,
		/* malformed: libpq's own message would quote it */
		"postgresql://app:" PASSWORD "@[::1/sentc",
		"postgresql://app:%zz" PASSWORD "@127.0.0.1:1/sentc",
		"postgresql://app@127.0.0.1:1/sentc?password=" PASSWORD "&x=%",
	};
	struct sb_db	*db;
	char		 err[512], spec[SPEC_MAX];
	size_t		 i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		memset(err, 0, sizeof(err));
		assert_int_equal(sb_db_open(specs[i], &db, err, sizeof(err)),
		    SB_ERR_STORAGE);
		assert_null(db);
		assert_true(strlen(err) > 10);
		if (strstr(err, PASSWORD) != NULL)
			fail_msg("spec %zu: password in \"%s\"", i, err);
	}

	/* The same, in the keyword=value form. */
	memset(err, 0, sizeof(err));
	assert_int_equal(sb_db_open("host=127.0.0.1 port=1 user=app password="
	    PASSWORD " dbname=sentc", &db, err, sizeof(err)), SB_ERR_STORAGE);
	assert_true(strlen(err) > 10);
	assert_null(strstr(err, PASSWORD));

	/* The server itself refuses a wrong password. */
	load_pgsrv();
	snprintf(spec, sizeof(spec), "postgresql://%s:%s@/postgres?host=%s&"
	    "port=%d", pgsrv.user, PASSWORD, pgsrv.host, pgsrv.port);
	assert_int_equal(sb_db_open(spec, &db, err, sizeof(err)),
	    SB_ERR_STORAGE);
	assert_non_null(strstr(err, "password authentication failed"));
	assert_null(strstr(err, PASSWORD));
}

/* File parts: binary bytes back as stored; a second put keeps the first. */
static void
test_file_parts(void **state)
{
	struct fix		*f = *state;
	static const char	 a[] = "1dbd4b2f-3a40-4d5e-9a0e-1f2a3b4c5d6e",
				 b[] = "2dbd4b2f-3a40-4d5e-9a0e-1f2a3b4c5d6e";
	const char		*ids[] = { a, b,
				    "3dbd4b2f-3a40-4d5e-9a0e-1f2a3b4c5d6e" };
	unsigned char		 bytes[70000];
	char			*data;
	size_t			 len, i;

	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 7 + (i >> 8));
	bytes[10] = 0;
	assert_int_equal(sb_db_file_part_put(f->db, a, bytes, sizeof(bytes)),
	    SB_OK);
	assert_int_equal(sb_db_file_part_put(f->db, b, "x", 1), SB_OK);
	assert_int_equal(sb_db_file_part_put(f->db, b, "yy", 2), SB_OK);
	assert_int_equal(sb_db_file_part_get(f->db, a, sizeof(bytes), &data,
	    &len), SB_OK);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(data, bytes, sizeof(bytes));
	free(data);
	assert_int_equal(sb_db_file_part_get(f->db, b, 10, &data, &len),
	    SB_OK);
	assert_int_equal(len, 1);
	assert_memory_equal(data, "x", 1);
	free(data);
	/* over the cap: not read */
	assert_int_equal(sb_db_file_part_get(f->db, a, 100, &data, &len),
	    SB_ERR_STORAGE);
	assert_null(data);
	assert_int_equal(sb_db_file_part_delete(f->db, ids, 3), SB_OK);
	assert_int_equal(sb_db_file_part_get(f->db, a, sizeof(bytes), &data,
	    &len), SB_ERR_NO_FILE_PART);
	assert_null(data);
	assert_int_equal(sb_db_file_part_get(f->db, b, 10, &data, &len),
	    SB_ERR_NO_FILE_PART);
	assert_int_equal(sb_db_file_part_delete(f->db, ids, 1), SB_OK);
}

#define BOTH(t) \
	cmocka_unit_test_setup_teardown(t, setup_sqlite, teardown), \
	cmocka_unit_test_setup_teardown(t, setup_pg, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_users),
		BOTH(test_file_parts),
		BOTH(test_user_data_checked),
		BOTH(test_values_are_bound),
		BOTH(test_items),
		BOTH(test_group_data),
		BOTH(test_group_delete_is_one_transaction),
		BOTH(test_migrations),
		BOTH(test_unsure),
		BOTH(test_session_ends),
		BOTH(test_migrate_from_3),
		cmocka_unit_test(test_migration_race_sqlite),
		cmocka_unit_test(test_migration_race_pg),
		cmocka_unit_test_setup_teardown(test_pg_reconnects, setup_pg,
		    teardown),
		cmocka_unit_test(test_spec_kind),
		cmocka_unit_test(test_spec_display),
		cmocka_unit_test(test_sqlite_file_modes),
		cmocka_unit_test(test_keyword_form_refused),
		cmocka_unit_test(test_keyword_form_pg),
		cmocka_unit_test(test_open_errors_hide_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
