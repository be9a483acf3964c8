/*
 * The store on PostgreSQL (libpq), for several hosts sharing one
 * database: one connection per worker, statements prepared once per
 * connection, every value bound as a parameter, never spliced into SQL.
 *
 * A connection found broken is reset, and the call runs once more on the
 * fresh one where that is safe (the statement table says which); any
 * other failure is SB_ERR_STORAGE. Log lines carry the SQLSTATE and the
 * primary message only, never a row's values or the URI's password.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "extern.h"

/* Defaults that a URI's own parameters override. */
#define CONNECT_TIMEOUT		"5"	/* seconds to connect */
#define CONNECT_TIMEOUT_S	5	/* the same, as a number */
#define TCP_USER_TIMEOUT	"15000"	/* ms data may go unacknowledged */
#define APP_NAME		"sentc-backend"
/*
 * A lock held elsewhere fails a statement after 2 s, as SQLite's busy
 * timeout does, instead of holding the request.
 */
#define SESSION_OPTIONS		"-c lock_timeout=2000"

/* Advisory lock that serialises migrations across programs and hosts. */
#define MIGRATE_LOCK		"7310582190155489893"

#define ARGS_MAX		9
#define SQLSTATE_UNIQUE		"23505"

/* May a statement run again after the connection broke during it? */
enum retry {
	R_SAFE,		/* idempotent: yes */
	R_INSERT,	/* yes; a duplicate key then means the first run stored it */
	R_NO,		/* its answer depends on the first run: no, 503 */
};

enum stmt {
	ST_USER_CREATE,
	ST_USER_DATA,
	ST_USER_SET_DATA,
	ST_USER_DELETE,
	ST_USER_BY_IDENTIFIER,
	ST_GROUP_CREATE,
	ST_GROUP_DATA,
	ST_GROUP_SET_DATA,
	ST_GROUP_DELETE,
	ST_GROUP_ITEMS_DELETE,
	ST_ITEM_PUT,
	ST_ITEM_GET,
	ST_ITEM_DELETE,
	ST_ITEM_LIST,
	ST_UNSURE_ADD,
	ST_UNSURE_ANY_DUE,
	ST_UNSURE_TAKE,
	ST_UNSURE_HELD,
	ST_UNSURE_HOLD,
	ST_UNSURE_RELEASE,
	ST_UNSURE_DONE,
	ST_END_TOKEN,
	ST_END_USER,
	ST_ENDED,
	ST_PURGE,
	ST_PING,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INDEX_HASHES_DELETE,
	ST_INDEX_SORTABLES_DELETE,
	ST_INDEX_HASHES_ADD,
	ST_INDEX_SORTABLES_ADD,
	ST_SEARCH_HASH,
	ST_SEARCH_SORT_ASC,
	ST_SEARCH_SORT_DESC,
	ST_SEARCH_BOTH_ASC,
	ST_SEARCH_BOTH_DESC,
	ST_REVOKE,
	ST_EPOCH,
	ST_REVOKED,
	ST_FILE_PART_PUT,
	ST_FILE_PART_GET,
	ST_FILE_PART_DELETE,
	ST__MAX
};

static const struct {
	const char	*name;		/* of the prepared statement */
	const char	*sql;
	int		 nargs;
	enum retry	 retry;
} stmts[ST__MAX] = {
	[ST_USER_CREATE] = { "user_create",
	    "INSERT INTO users (user_id, identifier, user_data, created_at) "
	    "VALUES ($1, $2, $3, $4)", 4, R_INSERT },
	[ST_USER_DATA] = { "user_data",
	    "SELECT user_data FROM users WHERE user_id = $1", 1, R_SAFE },
	[ST_USER_SET_DATA] = { "user_set_data",
	    "UPDATE users SET user_data = $2 WHERE user_id = $1", 2, R_SAFE },
	[ST_USER_DELETE] = { "user_delete",
	    "DELETE FROM users WHERE user_id = $1", 1, R_SAFE },
	[ST_USER_BY_IDENTIFIER] = { "user_by_identifier",
	    "SELECT user_id FROM users WHERE identifier = $1 "
	    "ORDER BY created_at DESC LIMIT 1", 1, R_SAFE },
	[ST_GROUP_CREATE] = { "group_create",
	    "INSERT INTO groups (group_id, creator, group_data, created_at) "
	    "VALUES ($1, $2, $3, $4)", 4, R_INSERT },
	[ST_GROUP_DATA] = { "group_data",
	    "SELECT group_data FROM groups WHERE group_id = $1", 1, R_SAFE },
	[ST_GROUP_SET_DATA] = { "group_set_data",
	    "UPDATE groups SET group_data = $2 WHERE group_id = $1", 2,
	    R_SAFE },
	[ST_GROUP_DELETE] = { "group_delete",
	    "DELETE FROM groups WHERE group_id = $1", 1, R_SAFE },
	[ST_GROUP_ITEMS_DELETE] = { "group_items_delete",
	    "DELETE FROM items WHERE group_id = $1", 1, R_SAFE },
	[ST_ITEM_PUT] = { "item_put",
	    "INSERT INTO items (group_id, item_id, author, data, created_at, "
	    "updated_at) VALUES ($1, $2, $3, $4, $5, $5) "
	    "ON CONFLICT (group_id, item_id) DO UPDATE SET author = $3, "
	    "data = $4, updated_at = $5", 5, R_SAFE },
	[ST_ITEM_GET] = { "item_get",
	    "SELECT item_id, author, data, created_at, updated_at FROM items "
	    "WHERE group_id = $1 AND item_id = $2", 2, R_SAFE },
	[ST_ITEM_DELETE] = { "item_delete",
	    "DELETE FROM items WHERE group_id = $1 AND item_id = $2", 2, R_NO },
	[ST_ITEM_LIST] = { "item_list",
	    "SELECT item_id, author, NULL, created_at, updated_at FROM items "
	    "WHERE group_id = $1 AND item_id > $2 ORDER BY item_id LIMIT $3",
	    3, R_SAFE },
	[ST_UNSURE_ADD] = { "unsure_add",
	    "INSERT INTO unsure (kind, key, since, due, held) "
	    "VALUES ($1, $2, $3, $4, 0) ON CONFLICT (kind, key) DO UPDATE "
	    "SET since = $3, due = $4, held = 0", 4, R_SAFE },
	[ST_UNSURE_ANY_DUE] = { "unsure_any_due",
	    "SELECT 1 FROM unsure WHERE due <= $1 AND held <= $1 LIMIT 1", 1,
	    R_SAFE },
	/*
	 * A take the connection lost leaves its record held until then: it
	 * is only settled later.
	 */
	[ST_UNSURE_TAKE] = { "unsure_take",
	    "UPDATE unsure SET held = $2, due = $3 WHERE (kind, key) = "
	    "(SELECT kind, key FROM unsure WHERE due <= $1 AND held <= $1 "
	    "ORDER BY due LIMIT 1 FOR UPDATE SKIP LOCKED) "
	    "RETURNING kind, key, since", 3, R_SAFE },
	[ST_UNSURE_HELD] = { "unsure_held",
	    "SELECT held FROM unsure WHERE kind = $1 AND key = $2", 2, R_SAFE },
	[ST_UNSURE_HOLD] = { "unsure_hold",
	    "UPDATE unsure SET held = $4 WHERE kind = $1 AND key = $2 AND "
	    "held <= $3", 4, R_NO },
	[ST_UNSURE_RELEASE] = { "unsure_release",
	    "UPDATE unsure SET held = 0 WHERE kind = $1 AND key = $2", 2,
	    R_SAFE },
	[ST_UNSURE_DONE] = { "unsure_done",
	    "DELETE FROM unsure WHERE kind = $1 AND key = $2", 2, R_SAFE },
	[ST_END_TOKEN] = { "end_token",
	    "INSERT INTO ended_tokens (digest, at) VALUES ($1, $2) "
	    "ON CONFLICT (digest) DO UPDATE SET "
	    "at = GREATEST(ended_tokens.at, EXCLUDED.at)", 2, R_SAFE },
	/*
	 * The ends below NOTIFY every program's listener (lib/sb_notify.h)
	 * in their own transaction: the id reaches them once it is stored.
	 */
	[ST_END_USER] = { "end_user",
	    "INSERT INTO ended_users (user_id, at) SELECT $1::text, $2::bigint "
	    "FROM (SELECT pg_notify('" SB_NOTIFY_CHANNEL "', $1::text)) n "
	    "ON CONFLICT (user_id) DO UPDATE SET "
	    "at = GREATEST(ended_users.at, EXCLUDED.at)", 2, R_SAFE },
	[ST_ENDED] = { "ended",
	    "SELECT EXISTS (SELECT 1 FROM ended_tokens WHERE digest = $1) OR "
	    "EXISTS (SELECT 1 FROM ended_users WHERE user_id = $2 AND "
	    "at >= $3)", 3, R_SAFE },
	[ST_PURGE] = { "purge",
	    "WITH t AS (DELETE FROM ended_tokens WHERE at < $1) "
	    "DELETE FROM ended_users WHERE at < $1", 1, R_SAFE },
	[ST_PING] = { "ping", "SELECT 1", 0, R_SAFE },
	[ST_BEGIN] = { "begin", "BEGIN", 0, R_SAFE },
	[ST_COMMIT] = { "commit", "COMMIT", 0, R_SAFE },
	[ST_ROLLBACK] = { "rollback", "ROLLBACK", 0, R_SAFE },
	[ST_INDEX_HASHES_DELETE] = { "index_hashes_delete",
	    "DELETE FROM item_hashes WHERE group_id = $1 AND item_id = $2", 2,
	    R_SAFE },
	[ST_INDEX_SORTABLES_DELETE] = { "index_sortables_delete",
	    "DELETE FROM item_sortables WHERE group_id = $1 AND item_id = $2",
	    2, R_SAFE },
	/* Arrays, so that an item's index is one statement per table. */
	[ST_INDEX_HASHES_ADD] = { "index_hashes_add",
	    "INSERT INTO item_hashes (group_id, hash, item_id, last) "
	    "SELECT $1, h, $2, bool_or(l) FROM unnest($3::text[], "
	    "$4::boolean[]) AS t (h, l) GROUP BY h", 4, R_SAFE },
	[ST_INDEX_SORTABLES_ADD] = { "index_sortables_add",
	    "INSERT INTO item_sortables (group_id, item_id, name, value) "
	    "SELECT $1, $2, n, v FROM unnest($3::text[], $4::bigint[]) "
	    "AS t (n, v)", 4, R_SAFE },
	[ST_SEARCH_HASH] = { "search_hash",
	    "SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, 0 "
	    "FROM item_hashes h JOIN items i ON i.group_id = h.group_id AND "
	    "i.item_id = h.item_id WHERE h.group_id = $1 AND h.hash = $2 AND "
	    "($3::int = 0 OR h.last) AND h.item_id > $4 ORDER BY h.item_id "
	    "LIMIT $5", 5, R_SAFE },
	[ST_SEARCH_SORT_ASC] = { "search_sort_asc",
	    "SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, "
	    "s.value FROM item_sortables s JOIN items i ON "
	    "i.group_id = s.group_id AND i.item_id = s.item_id WHERE "
	    "s.group_id = $1 AND s.name = $2 AND s.value BETWEEN $3 AND $4 "
	    "AND (s.value > $5 OR s.item_id > $6) "
	    "ORDER BY s.value, s.item_id LIMIT $7", 7, R_SAFE },
	[ST_SEARCH_SORT_DESC] = { "search_sort_desc",
	    "SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, "
	    "s.value FROM item_sortables s JOIN items i ON "
	    "i.group_id = s.group_id AND i.item_id = s.item_id WHERE "
	    "s.group_id = $1 AND s.name = $2 AND s.value BETWEEN $3 AND $4 "
	    "AND (s.value < $5 OR s.item_id < $6) "
	    "ORDER BY s.value DESC, s.item_id DESC LIMIT $7", 7, R_SAFE },
	[ST_SEARCH_BOTH_ASC] = { "search_both_asc",
	    "SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, "
	    "s.value FROM item_hashes h JOIN item_sortables s ON "
	    "s.group_id = h.group_id AND s.item_id = h.item_id AND "
	    "s.name = $4 JOIN items i ON i.group_id = h.group_id AND "
	    "i.item_id = h.item_id WHERE h.group_id = $1 AND h.hash = $2 AND "
	    "($3::int = 0 OR h.last) AND s.value BETWEEN $5 AND $6 "
	    "AND (s.value > $7 OR s.item_id > $8) "
	    "ORDER BY s.value, s.item_id LIMIT $9", 9, R_SAFE },
	[ST_SEARCH_BOTH_DESC] = { "search_both_desc",
	    "SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, "
	    "s.value FROM item_hashes h JOIN item_sortables s ON "
	    "s.group_id = h.group_id AND s.item_id = h.item_id AND "
	    "s.name = $4 JOIN items i ON i.group_id = h.group_id AND "
	    "i.item_id = h.item_id WHERE h.group_id = $1 AND h.hash = $2 AND "
	    "($3::int = 0 OR h.last) AND s.value BETWEEN $5 AND $6 "
	    "AND (s.value < $7 OR s.item_id < $8) "
	    "ORDER BY s.value DESC, s.item_id DESC LIMIT $9", 9, R_SAFE },
	[ST_REVOKE] = { "revoke",
	    "WITH p AS (DELETE FROM access_revoked WHERE at < $2::bigint - "
	    "3600) INSERT INTO access_revoked (id, seq, at) SELECT $1::text, "
	    "nextval('access_epoch'), $2::bigint FROM (SELECT pg_notify('"
	    SB_NOTIFY_CHANNEL "', $1::text)) n ON CONFLICT (id) DO UPDATE SET "
	    "seq = EXCLUDED.seq, at = EXCLUDED.at", 2, R_SAFE },
	/*
	 * The sequence as every session sees it, with the numbers taken by
	 * uncommitted ends too: an answer asked after that is fresh of them.
	 */
	[ST_EPOCH] = { "epoch",
	    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
	    "FROM access_epoch", 0, R_SAFE },
	[ST_REVOKED] = { "revoked",
	    "SELECT EXISTS (SELECT 1 FROM access_revoked WHERE "
	    "id = ANY ($1::text[]) AND seq > $2)", 2, R_SAFE },
	[ST_FILE_PART_PUT] = { "file_part_put",
	    "INSERT INTO file_parts (part_id, data, created_at) VALUES "
	    "($1, $2, $3) ON CONFLICT (part_id) DO NOTHING", 3, R_SAFE },
	[ST_FILE_PART_GET] = { "file_part_get",
	    "SELECT data FROM file_parts WHERE part_id = $1", 1, R_SAFE },
	[ST_FILE_PART_DELETE] = { "file_part_delete",
	    "DELETE FROM file_parts WHERE part_id = ANY ($1::text[])", 1,
	    R_SAFE },
};

/* The statements whose result comes in binary (bytes, not hex text). */
static const int binary_result[ST__MAX] = {
	[ST_FILE_PART_GET] = 1,
};

/*
 * Migrations, in order: migrations[i] brings version i to i + 1. The
 * same tables as the SQLite store's; ids compare byte by byte (COLLATE
 * "C"), as SQLite compares them, whatever the database's locale.
 */
static const char *const migrations[] = {
	"CREATE TABLE users ("
	"  user_id TEXT COLLATE \"C\" PRIMARY KEY,"
	"  identifier TEXT NOT NULL,"
	"  user_data TEXT NOT NULL DEFAULT '{}'"
	"    CHECK (json_typeof(user_data::json) = 'object'),"
	"  created_at BIGINT NOT NULL"
	");"
	"CREATE INDEX users_by_identifier ON users (identifier);",

	"CREATE TABLE groups ("
	"  group_id TEXT COLLATE \"C\" PRIMARY KEY,"
	"  creator TEXT NOT NULL,"
	"  group_data TEXT NOT NULL DEFAULT '{}'"
	"    CHECK (json_typeof(group_data::json) = 'object'),"
	"  created_at BIGINT NOT NULL"
	");"
	"CREATE TABLE items ("
	"  group_id TEXT COLLATE \"C\" NOT NULL,"
	"  item_id TEXT COLLATE \"C\" NOT NULL,"
	"  author TEXT NOT NULL,"
	"  data TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  PRIMARY KEY (group_id, item_id)"
	");",

	/* Calls to sentc whose answer was lost: lib/sb_unsure.h. */
	"CREATE TABLE unsure ("
	"  kind INTEGER NOT NULL,"
	"  key TEXT COLLATE \"C\" NOT NULL,"
	"  since BIGINT NOT NULL,"
	"  due BIGINT NOT NULL,"
	"  held BIGINT NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (kind, key)"
	");"
	"CREATE INDEX unsure_by_due ON unsure (due);",

	/* The ends of cookie sessions: lib/sb_session.h. */
	"CREATE TABLE ended_tokens ("
	"  digest TEXT COLLATE \"C\" PRIMARY KEY,"
	"  at BIGINT NOT NULL"
	");"
	"CREATE INDEX ended_tokens_by_at ON ended_tokens (at);"
	"CREATE TABLE ended_users ("
	"  user_id TEXT COLLATE \"C\" PRIMARY KEY,"
	"  at BIGINT NOT NULL"
	");"
	"CREATE INDEX ended_users_by_at ON ended_users (at);",

	/*
	 * Searchable and sortable items, which go with their item; the ends
	 * of cached group access (sb_db_access_revoke()).
	 */
	"CREATE TABLE item_hashes ("
	"  group_id TEXT COLLATE \"C\" NOT NULL,"
	"  hash TEXT COLLATE \"C\" NOT NULL,"
	"  item_id TEXT COLLATE \"C\" NOT NULL,"
	"  last BOOLEAN NOT NULL,"
	"  PRIMARY KEY (group_id, hash, item_id),"
	"  FOREIGN KEY (group_id, item_id) REFERENCES items"
	"    ON DELETE CASCADE"
	");"
	"CREATE INDEX item_hashes_by_item ON item_hashes (group_id, item_id);"
	"CREATE TABLE item_sortables ("
	"  group_id TEXT COLLATE \"C\" NOT NULL,"
	"  item_id TEXT COLLATE \"C\" NOT NULL,"
	"  name TEXT COLLATE \"C\" NOT NULL,"
	"  value BIGINT NOT NULL,"
	"  PRIMARY KEY (group_id, item_id, name),"
	"  FOREIGN KEY (group_id, item_id) REFERENCES items"
	"    ON DELETE CASCADE"
	");"
	"CREATE INDEX item_sortables_by_value ON item_sortables "
	"  (group_id, name, value, item_id);"
	"CREATE SEQUENCE access_epoch;"
	"CREATE TABLE access_revoked ("
	"  id TEXT COLLATE \"C\" PRIMARY KEY,"
	"  seq BIGINT NOT NULL,"
	"  at BIGINT NOT NULL"
	");"
	"CREATE INDEX access_revoked_by_at ON access_revoked (at);",

	/*
	 * Encrypted file parts kept in the store (docs/FILES.md): bytea,
	 * stored as it comes (parts are ciphertext: nothing to compress).
	 */
	"CREATE TABLE file_parts ("
	"  part_id TEXT COLLATE \"C\" PRIMARY KEY,"
	"  data BYTEA NOT NULL,"
	"  created_at BIGINT NOT NULL"
	");"
	"ALTER TABLE file_parts ALTER COLUMN data SET STORAGE EXTERNAL;",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(NMIGRATIONS == SB_DB_SCHEMA_VERSION,
    "one migration per schema version");

struct pg {
	struct sb_db	 base;
	PGconn		*conn;
	char		*spec;		/* to connect again */
	bool		 prepared[ST__MAX];	/* on this connection */
};

/* How one run of a statement ended. */
enum outcome {
	DONE,
	FAILED,		/* the statement failed; the connection is fine */
	BROKEN,		/* the connection broke: the outcome is unknown */
};

/* The arguments of one statement: text, except where fmt says 1. */
struct args {
	const char	*v[ARGS_MAX];
	int		 len[ARGS_MAX];
	int		 fmt[ARGS_MAX];
};

static void	 pg_close(struct sb_db *);

/* ---- libpq without blocking the worker ------------------------------ */

/*
 * Waits for what was sent on c to be answered, parking only this
 * request's task (sb_loop.h): the worker serves others meanwhile. Returns
 * the last result (the caller clears it), or NULL if the connection
 * failed (PQstatus() then says CONNECTION_BAD, or PQerrorMessage() why).
 */
static PGresult *
await(PGconn *c)
{
	PGresult	*res, *last = NULL;
	int		 rc;

	while ((rc = PQflush(c)) == 1)
		if (sb_loop_wait_fd(PQsocket(c), SB_EV_IN | SB_EV_OUT,
		    INT64_MAX) <= 0 || !PQconsumeInput(c))
			return NULL;
	if (rc == -1)
		return NULL;
	for (;;) {
		while (PQisBusy(c))
			if (sb_loop_wait_fd(PQsocket(c), SB_EV_IN,
			    INT64_MAX) <= 0 || !PQconsumeInput(c)) {
				PQclear(last);
				return NULL;
			}
		if ((res = PQgetResult(c)) == NULL)
			break;
		PQclear(last);
		last = res;
	}
	return last;
}

static PGresult *
exec_sql(PGconn *c, const char *sql)
{
	return PQsendQuery(c, sql) ? await(c) : NULL;
}

/* Seconds the connection string allows to connect, else the default. */
static long
connect_seconds(PGconn *c)
{
	PQconninfoOption	*opts, *o;
	long			 s = CONNECT_TIMEOUT_S;

	if ((opts = PQconninfo(c)) == NULL)
		return s;
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 &&
		    o->val != NULL && sb_parse_long(o->val, 1, 3600, &s) == -1)
			s = CONNECT_TIMEOUT_S;
	PQconninfoFree(opts);
	return s;
}

/* Overwrites every occurrence of secret in msg. */
static void
scrub(char *msg, const char *secret)
{
	char	*p;
	size_t	 n;

	if (secret == NULL || (n = strlen(secret)) == 0)
		return;
	while ((p = strstr(msg, secret)) != NULL)
		memset(p, '*', n);
}

/*
 * The connection's last error into buf: no password, one line, each run
 * of white space one blank.
 */
static void
conn_error(PGconn *conn, char *buf, size_t len)
{
	size_t	 i, n = 0;

	if (len == 0)
		return;
	snprintf(buf, len, "%s", conn != NULL ? PQerrorMessage(conn) :
	    "out of memory");
	if (conn != NULL)
		scrub(buf, PQpass(conn));
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n') {
			if (n > 0 && buf[n - 1] != ' ')
				buf[n++] = ' ';
		} else
			buf[n++] = buf[i];
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

/*
 * Why a statement failed, into buf: its SQLSTATE and primary message
 * (the detail may quote a row's values), or the connection's error.
 */
static void
failure_text(struct pg *p, const PGresult *res, char *buf, size_t len)
{
	const char	*state = NULL, *msg = NULL;

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	}
	if (msg == NULL)
		conn_error(p->conn, buf, len);
	else
		snprintf(buf, len, "%s%s%s", state != NULL ? state : "",
		    state != NULL ? " " : "", msg);
}

/* Logs a failed statement. */
static void
log_failure(struct pg *p, enum stmt s, const PGresult *res)
{
	char	 buf[512];

	failure_text(p, res, buf, sizeof(buf));
	sb_log(SB_LOG_ERR, "database: %s: %s", stmts[s].name, buf);
}

/* Logs a lost connection, and whether the statement runs again. */
static void
log_lost(struct pg *p, enum stmt s, bool again)
{
	char	 buf[512];

	failure_text(p, NULL, buf, sizeof(buf));
	sb_log(again ? SB_LOG_WARN : SB_LOG_ERR, "database: %s: connection "
	    "lost (%s); %s", stmts[s].name, buf, again ? "running it once "
	    "more on a fresh one" : "not run again: its outcome is unknown");
}

/*
 * The server's notices: warnings are logged (their primary message),
 * the rest ("relation already exists, skipping") dropped.
 */
static void
on_notice(void *arg, const PGresult *res)
{
	const char	*sev, *msg;

	sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (sev != NULL && strcmp(sev, "WARNING") == 0 && msg != NULL)
		sb_log(SB_LOG_WARN, "database: %s", msg);
}

/*
 * Connects as PQconnectdbParams() would, to spec with the defaults above,
 * without blocking the worker, within connect_timeout. Returns the
 * connection, non-blocking, or NULL with the reason in err.
 */
static PGconn *
pg_connect(const char *spec, char *err, size_t errlen)
{
	/*
	 * Keywords before dbname are defaults the connection string (a URI
	 * or keyword=value pairs, expanded in place of dbname) overrides.
	 */
	static const char *const kw[] = { "fallback_application_name",
	    "connect_timeout", "tcp_user_timeout", "options", "dbname",
	    "client_encoding", NULL };
	const char	*val[] = { APP_NAME, CONNECT_TIMEOUT, TCP_USER_TIMEOUT,
			    SESSION_OPTIONS, spec, "UTF8", NULL };
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	PGconn		*c;
	int64_t		 deadline;

	if ((c = PQconnectStartParams(kw, val, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	deadline = sb_add_sat(sb_now_ms(), connect_seconds(c) * 1000);
	while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK &&
	    st != PGRES_POLLING_FAILED) {
		if (sb_loop_wait_fd(PQsocket(c), st == PGRES_POLLING_READING ?
		    SB_EV_IN : SB_EV_OUT, deadline) == 0) {
			snprintf(err, errlen, "connection timed out after "
			    "%ld s", connect_seconds(c));
			PQfinish(c);
			return NULL;
		}
		st = PQconnectPoll(c);
	}
	if (PQstatus(c) != CONNECTION_OK) {
		conn_error(c, err, errlen);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeReceiver(c, on_notice, NULL);
	if (PQsetnonblocking(c, 1) == -1) {
		conn_error(c, err, errlen);
		PQfinish(c);
		return NULL;
	}
	return c;
}

static bool
result_ok(const PGresult *res)
{
	ExecStatusType	 st = PQresultStatus(res);

	return res != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

static bool
result_state(const PGresult *res, const char *state)
{
	const char	*s;

	return res != NULL &&
	    (s = PQresultErrorField(res, PG_DIAG_SQLSTATE)) != NULL &&
	    strcmp(s, state) == 0;
}

/*
 * Runs statement s once, preparing it first on a connection that has
 * not seen it. Returns DONE with *out (the caller clears it), FAILED with
 * *out holding the error (to clear; not logged) or BROKEN (*out NULL).
 */
static enum outcome
step(struct pg *p, enum stmt s, const struct args *a, PGresult **out)
{
	PGresult	*res;

	*out = NULL;
	if (!p->prepared[s]) {
		res = PQsendPrepare(p->conn, stmts[s].name, stmts[s].sql,
		    stmts[s].nargs, NULL) ? await(p->conn) : NULL;
		if (!result_ok(res))
			goto fail;
		PQclear(res);
		p->prepared[s] = true;
	}
	res = PQsendQueryPrepared(p->conn, stmts[s].name, stmts[s].nargs,
	    a != NULL ? a->v : NULL, a != NULL ? a->len : NULL,
	    a != NULL ? a->fmt : NULL, binary_result[s]) ? await(p->conn) :
	    NULL;
	if (result_ok(res)) {
		*out = res;
		return DONE;
	}
fail:
	if (PQstatus(p->conn) == CONNECTION_BAD) {
		PQclear(res);
		return BROKEN;
	}
	*out = res;
	return FAILED;
}

/*
 * Opens a fresh connection in place of a broken one; its statements are
 * prepared again on use. Returns 0, or -1 (logged).
 */
static int
reconnect(struct pg *p)
{
	char	 err[512];

	PGconn	*c;

	memset(p->prepared, 0, sizeof(p->prepared));
	if ((c = pg_connect(p->spec, err, sizeof(err))) == NULL) {
		sb_log(SB_LOG_ERR, "database: reconnecting failed: %s", err);
		return -1;
	}
	PQfinish(p->conn);
	p->conn = c;
	sb_log(SB_LOG_WARN, "database: reconnected");
	return 0;
}

/*
 * Runs statement s with arguments a. A connection already known broken
 * is re-opened first; one that breaks during the call is re-opened and
 * the statement run once more if its retry rule allows. Returns SB_OK
 * with *out (the caller clears it; NULL when a retried insert found its
 * row stored by the first run), or SB_ERR_STORAGE (logged).
 */
static enum sb_err
run(struct pg *p, enum stmt s, const struct args *a, PGresult **out)
{
	PGresult	*res;
	int		 tries;

	*out = NULL;
	if (PQstatus(p->conn) != CONNECTION_OK && reconnect(p) == -1)
		return SB_ERR_STORAGE;
	for (tries = 0;; tries++) {
		switch (step(p, s, a, &res)) {
		case DONE:
			*out = res;
			return SB_OK;
		case FAILED:
			if (tries > 0 && stmts[s].retry == R_INSERT &&
			    result_state(res, SQLSTATE_UNIQUE)) {
				PQclear(res);
				return SB_OK;
			}
			log_failure(p, s, res);
			PQclear(res);
			return SB_ERR_STORAGE;
		case BROKEN:
			break;
		}
		if (tries > 0 || stmts[s].retry == R_NO) {
			log_lost(p, s, false);
			return SB_ERR_STORAGE;
		}
		log_lost(p, s, true);
		if (reconnect(p) == -1)
			return SB_ERR_STORAGE;
	}
}

/* As run(), for a statement whose rows are not needed. */
static enum sb_err
run_void(struct pg *p, enum stmt s, const struct args *a)
{
	PGresult	*res;
	enum sb_err	 e;

	e = run(p, s, a, &res);
	PQclear(res);
	return e;
}

/* The number of rows a command changed. */
static long
changed(const PGresult *res)
{
	long	 n;

	if (res == NULL || sb_parse_long(PQcmdTuples((PGresult *)res), 0,
	    LONG_MAX, &n) == -1)
		return 0;
	return n;
}

/* Runs one statement of the migration; -1 with a reason in err. */
static int
migrate_exec(PGconn *conn, const char *sql, char *err, size_t errlen)
{
	PGresult	*res = exec_sql(conn, sql);
	int		 rc = 0;

	if (!result_ok(res)) {
		snprintf(err, errlen, "schema migration: %s",
		    res != NULL && PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY) != NULL ? PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(conn));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/*
 * Brings the schema to the current version in one transaction, under an
 * advisory lock, so that programs starting together on several hosts
 * migrate once. Returns 0, or -1 with a reason in err.
 */
static int
migrate(PGconn *conn, char *err, size_t errlen)
{
	PGresult	*res;
	const char	*v[1];
	char		 num[16];
	long		 version = 0;
	int		 i;

	if (migrate_exec(conn, "BEGIN", err, errlen) == -1)
		return -1;
	/* Programs starting together wait their turn, longer than usual. */
	if (migrate_exec(conn, "SET LOCAL lock_timeout = '60s'", err,
	    errlen) == -1 ||
	    migrate_exec(conn, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK
	    ")", err, errlen) == -1 ||
	    migrate_exec(conn, "CREATE TABLE IF NOT EXISTS schema_version "
	    "(version INTEGER NOT NULL)", err, errlen) == -1)
		goto fail;
	res = exec_sql(conn, "SELECT max(version) FROM schema_version");
	if (!result_ok(res)) {
		snprintf(err, errlen, "schema_version: %s",
		    PQerrorMessage(conn));
		PQclear(res);
		goto fail;
	}
	/* An index into migrations[] from the database: within them. */
	if (!PQgetisnull(res, 0, 0) && sb_parse_long(PQgetvalue(res, 0, 0),
	    0, 1000000, &version) == -1) {
		snprintf(err, errlen, "schema version %.24s is not one there "
		    "can be", PQgetvalue(res, 0, 0));
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	if (version > NMIGRATIONS) {
		snprintf(err, errlen, "schema version %ld is newer than this "
		    "program's %d", version, NMIGRATIONS);
		goto fail;
	}
	if (version == NMIGRATIONS)
		return migrate_exec(conn, "COMMIT", err, errlen);
	for (i = (int)version; i < NMIGRATIONS; i++)
		if (migrate_exec(conn, migrations[i], err, errlen) == -1)
			goto fail;
	if (migrate_exec(conn, "DELETE FROM schema_version", err, errlen) == -1)
		goto fail;
	snprintf(num, sizeof(num), "%d", NMIGRATIONS);
	v[0] = num;
	res = PQsendQueryParams(conn, "INSERT INTO schema_version VALUES ($1)",
	    1, NULL, v, NULL, NULL, 0) ? await(conn) : NULL;
	if (!result_ok(res)) {
		snprintf(err, errlen, "schema_version: %s",
		    PQerrorMessage(conn));
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	return migrate_exec(conn, "COMMIT", err, errlen);
fail:
	PQclear(exec_sql(conn, "ROLLBACK"));
	return -1;
}

/*
 * A libpq parse error, on one line, with what it quotes left out: it may
 * quote the connection string, password and all. Only the separators
 * libpq names ("=", "]") stay. A spec in the keyword=value form may have
 * been meant as a SQLite path: the message says that none has an '='.
 */
static void
parse_error(const char *msg, bool uri, char *err, size_t errlen)
{
	const char	*q;
	size_t		 n, i = 0;
	int		 k;

	k = snprintf(err, errlen, "not a valid PostgreSQL connection string "
	    "(a postgresql:// URI or keyword=value pairs)%s",
	    msg != NULL && *msg != '\0' ? ": " : "");
	if (k < 0 || (size_t)k >= errlen || msg == NULL)
		return;
	n = (size_t)k;
	while (msg[i] != '\0' && msg[i] != '\n' && n + 4 < errlen) {
		if (msg[i] != '"') {
			err[n++] = msg[i++];
			continue;
		}
		if ((q = strchr(msg + i + 1, '"')) == NULL)
			break;
		if (q == msg + i + 2 && (msg[i + 1] == '=' || msg[i + 1] == ']'))
			n += (size_t)snprintf(err + n, errlen - n, "\"%c\"",
			    msg[i + 1]);
		else
			n += (size_t)snprintf(err + n, errlen - n, "...");
		i = (size_t)(q - msg) + 1;
	}
	err[n] = '\0';
	if (!uri)
		snprintf(err + n, errlen - n, " (a SQLite path has no '=')");
}

static enum sb_err
pg_open(const char *spec, struct sb_db **out, char *err, size_t errlen)
{
	PQconninfoOption	*opts;
	struct pg		*p;
	char			*msg = NULL;

	*out = NULL;
	if ((opts = PQconninfoParse(spec, &msg)) == NULL) {
		parse_error(msg, strstr(spec, "://") != NULL, err, errlen);
		PQfreemem(msg);
		return SB_ERR_STORAGE;
	}
	PQconninfoFree(opts);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return SB_ERR_STORAGE;
	}
	p->base.ops = &sb_db_pg_ops;
	if ((p->spec = strdup(spec)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((p->conn = pg_connect(spec, err, errlen)) == NULL)
		goto fail;
	if (migrate(p->conn, err, errlen) == -1) {
		scrub(err, PQpass(p->conn));
		goto fail;
	}
	*out = &p->base;
	return SB_OK;
fail:
	pg_close(&p->base);
	return SB_ERR_STORAGE;
}

static void
pg_close(struct sb_db *base)
{
	struct pg	*p = (struct pg *)base;

	if (p == NULL)
		return;
	PQfinish(p->conn);
	if (p->spec != NULL)
		sb_wipe(p->spec, strlen(p->spec));
	free(p->spec);
	free(p);
}

void
sb_db_pg_display(const char *spec, char *out, size_t outsz)
{
	PQconninfoOption	*opts, *o;
	const char		*user = "", *host = "", *port = "", *db = "";

	if ((opts = PQconninfoParse(spec, NULL)) == NULL) {
		snprintf(out, outsz, "(a connection string libpq cannot read)");
		return;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	snprintf(out, outsz, "postgresql://%s%s%s%s%s/%s", user,
	    *user != '\0' ? "@" : "", host, *port != '\0' ? ":" : "", port, db);
	PQconninfoFree(opts);
}

static enum sb_err
pg_ping(struct sb_db *base)
{
	return run_void((struct pg *)base, ST_PING, NULL);
}

/* The current time as a statement argument. */
static const char *
now_arg(char *buf, size_t len)
{
	snprintf(buf, len, "%lld", (long long)sb_now());
	return buf;
}

static enum sb_err
pg_user_create(struct sb_db *base, const char *user_id,
    const char *identifier, const char *user_data)
{
	struct args	 a = { { user_id, identifier,
			    user_data != NULL ? user_data : "{}" }, { 0 },
			    { 0 } };
	char		 now[24];

	a.v[3] = now_arg(now, sizeof(now));
	return run_void((struct pg *)base, ST_USER_CREATE, &a);
}

/*
 * The text column of the one row statement s finds for id, copied into
 * *out (the caller frees it); none if no row.
 */
static enum sb_err
text_by_id(struct pg *p, enum stmt s, const char *id, char **out,
    enum sb_err none)
{
	struct args	 a = { { id }, { 0 }, { 0 } };
	PGresult	*res;
	enum sb_err	 e;

	*out = NULL;
	if ((e = run(p, s, &a, &res)) != SB_OK)
		return e;
	if (PQntuples(res) == 0)
		e = none;
	else if ((*out = strdup(PQgetvalue(res, 0, 0))) == NULL)
		e = SB_ERR_INTERNAL;
	PQclear(res);
	return e;
}

/* Sets the text of the row statement s finds for id; none if no row. */
static enum sb_err
set_by_id(struct pg *p, enum stmt s, const char *id, const char *text,
    enum sb_err none)
{
	struct args	 a = { { id, text }, { 0 }, { 0 } };
	PGresult	*res;
	enum sb_err	 e;

	if ((e = run(p, s, &a, &res)) != SB_OK)
		return e;
	e = changed(res) == 0 ? none : SB_OK;
	PQclear(res);
	return e;
}

static enum sb_err
pg_user_data(struct sb_db *base, const char *user_id, char **out)
{
	return text_by_id((struct pg *)base, ST_USER_DATA, user_id, out,
	    SB_ERR_NO_USER_DATA);
}

static enum sb_err
pg_user_set_data(struct sb_db *base, const char *user_id,
    const char *user_data)
{
	return set_by_id((struct pg *)base, ST_USER_SET_DATA, user_id,
	    user_data, SB_ERR_NO_USER_DATA);
}

static enum sb_err
pg_group_data(struct sb_db *base, const char *group_id, char **out)
{
	return text_by_id((struct pg *)base, ST_GROUP_DATA, group_id, out,
	    SB_ERR_NO_GROUP_DATA);
}

static enum sb_err
pg_group_set_data(struct sb_db *base, const char *group_id,
    const char *group_data)
{
	return set_by_id((struct pg *)base, ST_GROUP_SET_DATA, group_id,
	    group_data, SB_ERR_NO_GROUP_DATA);
}

static enum sb_err
pg_user_delete(struct sb_db *base, const char *user_id)
{
	struct args	 a = { { user_id }, { 0 }, { 0 } };

	return run_void((struct pg *)base, ST_USER_DELETE, &a);
}

static enum sb_err
pg_user_by_identifier(struct sb_db *base, const char *identifier,
    char *out, size_t outsz)
{
	struct args	 a = { { identifier }, { 0 }, { 0 } };
	PGresult	*res;
	enum sb_err	 e;

	if ((e = run((struct pg *)base, ST_USER_BY_IDENTIFIER, &a, &res)) !=
	    SB_OK)
		return e;
	if (PQntuples(res) == 0)
		e = SB_ERR_NO_USER_DATA;
	else
		snprintf(out, outsz, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return e;
}

static enum sb_err
pg_group_create(struct sb_db *base, const char *group_id,
    const char *creator, const char *group_data)
{
	struct args	 a = { { group_id, creator,
			    group_data != NULL ? group_data : "{}" }, { 0 },
			    { 0 } };
	char		 now[24];

	a.v[3] = now_arg(now, sizeof(now));
	return run_void((struct pg *)base, ST_GROUP_CREATE, &a);
}

/*
 * One try at deleting a group's items and row in one transaction.
 * Returns DONE, FAILED (logged, rolled back) or BROKEN.
 */
static enum outcome
group_delete_once(struct pg *p, const char *group_id)
{
	static const enum stmt	 steps[] = { ST_BEGIN, ST_GROUP_ITEMS_DELETE,
				    ST_GROUP_DELETE, ST_COMMIT };
	struct args		 a = { { group_id }, { 0 }, { 0 } };
	PGresult		*res;
	enum outcome		 o = DONE;
	size_t			 i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && o == DONE; i++) {
		o = step(p, steps[i], steps[i] == ST_BEGIN ||
		    steps[i] == ST_COMMIT ? NULL : &a, &res);
		if (o == FAILED)
			log_failure(p, steps[i], res);
		PQclear(res);
	}
	if (o == FAILED) {
		if (step(p, ST_ROLLBACK, NULL, &res) == FAILED)
			log_failure(p, ST_ROLLBACK, res);
		PQclear(res);
	}
	return o;
}

static enum sb_err
pg_group_delete(struct sb_db *base, const char *group_id)
{
	struct pg	*p = (struct pg *)base;
	int		 tries;

	if (PQstatus(p->conn) != CONNECTION_OK && reconnect(p) == -1)
		return SB_ERR_STORAGE;
	/* Both deletes are idempotent: a broken try is run again whole. */
	for (tries = 0; tries < 2; tries++) {
		switch (group_delete_once(p, group_id)) {
		case DONE:
			return SB_OK;
		case FAILED:
			return SB_ERR_STORAGE;
		case BROKEN:
			log_lost(p, ST_GROUP_DELETE, tries == 0);
			if (tries > 0 || reconnect(p) == -1)
				return SB_ERR_STORAGE;
			break;
		}
	}
	return SB_ERR_STORAGE;
}

static enum sb_err
pg_item_put(struct sb_db *base, const char *group_id, const char *item_id,
    const char *author, const char *data, size_t len)
{
	/* The ciphertext goes as binary text: its length, no NUL needed. */
	struct args	 a = { { group_id, item_id, author, data },
			    { 0, 0, 0, (int)len }, { 0, 0, 0, 1 } };
	char		 now[24];

	if (len > INT_MAX)
		return SB_ERR_STORAGE;
	a.v[4] = now_arg(now, sizeof(now));
	return run_void((struct pg *)base, ST_ITEM_PUT, &a);
}

/* Calls fn for each row of an item query; *n gets the row count. */
static void
item_rows(const PGresult *res, void (*fn)(void *, const struct sb_item *),
    void *arg, long *n)
{
	struct sb_item	 it;
	long		 t;
	int		 i;

	*n = PQntuples(res);
	for (i = 0; i < *n; i++) {
		it.item_id = PQgetvalue(res, i, 0);
		it.author = PQgetvalue(res, i, 1);
		it.data = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
		it.len = (size_t)PQgetlength(res, i, 2);
		it.created_at = sb_parse_long(PQgetvalue(res, i, 3), LONG_MIN,
		    LONG_MAX, &t) == 0 ? t : 0;
		it.updated_at = sb_parse_long(PQgetvalue(res, i, 4), LONG_MIN,
		    LONG_MAX, &t) == 0 ? t : 0;
		fn(arg, &it);
	}
}

static enum sb_err
pg_item_get(struct sb_db *base, const char *group_id, const char *item_id,
    void (*fn)(void *, const struct sb_item *), void *arg)
{
	struct args	 a = { { group_id, item_id }, { 0 }, { 0 } };
	PGresult	*res;
	enum sb_err	 e;
	long		 n;

	if ((e = run((struct pg *)base, ST_ITEM_GET, &a, &res)) != SB_OK)
		return e;
	item_rows(res, fn, arg, &n);
	PQclear(res);
	return n == 0 ? SB_ERR_NO_ITEM : SB_OK;
}

static enum sb_err
pg_item_delete(struct sb_db *base, const char *group_id, const char *item_id)
{
	struct args	 a = { { group_id, item_id }, { 0 }, { 0 } };
	PGresult	*res;
	enum sb_err	 e;

	if ((e = run((struct pg *)base, ST_ITEM_DELETE, &a, &res)) != SB_OK)
		return e;
	e = changed(res) == 0 ? SB_ERR_NO_ITEM : SB_OK;
	PQclear(res);
	return e;
}

static enum sb_err
pg_item_list(struct sb_db *base, const char *group_id, const char *after,
    long limit, void (*fn)(void *, const struct sb_item *), void *arg)
{
	struct args	 a = { { group_id, after }, { 0 }, { 0 } };
	PGresult	*res;
	enum sb_err	 e;
	char		 num[24];
	long		 n;

	snprintf(num, sizeof(num), "%ld", limit);
	a.v[2] = num;
	if ((e = run((struct pg *)base, ST_ITEM_LIST, &a, &res)) != SB_OK)
		return e;
	item_rows(res, fn, arg, &n);
	PQclear(res);
	return SB_OK;
}

/* A number as a statement argument. */
static const char *
num_arg(char *buf, size_t len, long long n)
{
	snprintf(buf, len, "%lld", n);
	return buf;
}

static enum sb_err
pg_unsure_add(struct sb_db *base, int kind, const char *key, int64_t since,
    int64_t due)
{
	struct args	 a = { { NULL, key }, { 0 }, { 0 } };
	char		 k[24], s[24], d[24];

	a.v[0] = num_arg(k, sizeof(k), kind);
	a.v[2] = num_arg(s, sizeof(s), since);
	a.v[3] = num_arg(d, sizeof(d), due);
	return run_void((struct pg *)base, ST_UNSURE_ADD, &a);
}

static enum sb_err
pg_unsure_take(struct sb_db *base, int64_t now, int64_t held, int64_t due,
    struct sb_unsure *u)
{
	struct pg	*p = (struct pg *)base;
	struct args	 a = { { NULL }, { 0 }, { 0 } };
	PGresult	*res;
	char		 n[24], h[24], d[24];
	long		 v;
	enum sb_err	 e;

	a.v[0] = num_arg(n, sizeof(n), now);
	/* Most calls find nothing due: a read, no row locked. */
	if ((e = run(p, ST_UNSURE_ANY_DUE, &a, &res)) != SB_OK)
		return e;
	v = PQntuples(res);
	PQclear(res);
	if (v == 0)
		return SB_OK;

	a.v[1] = num_arg(h, sizeof(h), held);
	a.v[2] = num_arg(d, sizeof(d), due);
	if ((e = run(p, ST_UNSURE_TAKE, &a, &res)) != SB_OK)
		return e;
	if (PQntuples(res) == 1) {
		u->kind = sb_parse_long(PQgetvalue(res, 0, 0), 1, INT_MAX,
		    &v) == 0 ? (int)v : 0;
		u->key = strdup(PQgetvalue(res, 0, 1));
		u->since = sb_parse_long(PQgetvalue(res, 0, 2), LONG_MIN,
		    LONG_MAX, &v) == 0 ? v : 0;
	}
	PQclear(res);
	return SB_OK;
}

static enum sb_err
pg_unsure_hold(struct sb_db *base, int kind, const char *key, int64_t now,
    int64_t held, int *state)
{
	struct pg	*p = (struct pg *)base;
	struct args	 a = { { NULL, key }, { 0 }, { 0 } };
	PGresult	*res;
	char		 k[24], n[24], h[24];
	enum sb_err	 e;
	int		 rows;

	a.v[0] = num_arg(k, sizeof(k), kind);
	/* Most registers find no record: a read, no row locked. */
	if ((e = run(p, ST_UNSURE_HELD, &a, &res)) != SB_OK)
		return e;
	rows = PQntuples(res);
	PQclear(res);
	if (rows == 0)
		return SB_OK;

	a.v[2] = num_arg(n, sizeof(n), now);
	a.v[3] = num_arg(h, sizeof(h), held);
	if ((e = run(p, ST_UNSURE_HOLD, &a, &res)) != SB_OK)
		return e;
	*state = changed(res) == 1 ? 1 : -1;
	PQclear(res);
	return SB_OK;
}

/* Runs statement s on the record (kind, key). */
static enum sb_err
unsure_by_key(struct pg *p, enum stmt s, int kind, const char *key)
{
	struct args	 a = { { NULL, key }, { 0 }, { 0 } };
	char		 k[24];

	a.v[0] = num_arg(k, sizeof(k), kind);
	return run_void(p, s, &a);
}

static enum sb_err
pg_unsure_release(struct sb_db *base, int kind, const char *key)
{
	return unsure_by_key((struct pg *)base, ST_UNSURE_RELEASE, kind, key);
}

static enum sb_err
pg_unsure_done(struct sb_db *base, int kind, const char *key)
{
	return unsure_by_key((struct pg *)base, ST_UNSURE_DONE, kind, key);
}

/* Runs statement s with a text key and a time. */
static enum sb_err
key_at(struct pg *p, enum stmt s, const char *key, int64_t at)
{
	struct args	 a = { { key }, { 0 }, { 0 } };
	char		 t[24];

	a.v[1] = num_arg(t, sizeof(t), at);
	return run_void(p, s, &a);
}

static enum sb_err
pg_session_end_token(struct sb_db *base, const char *digest, int64_t at)
{
	return key_at((struct pg *)base, ST_END_TOKEN, digest, at);
}

static enum sb_err
pg_session_end_user(struct sb_db *base, const char *user_id, int64_t at)
{
	return key_at((struct pg *)base, ST_END_USER, user_id, at);
}

static enum sb_err
pg_session_ended(struct sb_db *base, const char *digest, const char *user_id,
    int64_t sealed_at, bool *ended)
{
	struct args	 a = { { digest, user_id }, { 0 }, { 0 } };
	PGresult	*res;
	char		 t[24];
	enum sb_err	 e;

	a.v[2] = num_arg(t, sizeof(t), sealed_at);
	if ((e = run((struct pg *)base, ST_ENDED, &a, &res)) != SB_OK)
		return e;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*ended = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	else
		e = SB_ERR_STORAGE;
	PQclear(res);
	return e;
}

static enum sb_err
pg_session_purge(struct sb_db *base, int64_t before)
{
	struct args	 a = { { NULL }, { 0 }, { 0 } };
	char		 t[24];

	a.v[0] = num_arg(t, sizeof(t), before);
	return run_void((struct pg *)base, ST_PURGE, &a);
}

/* An array literal being built. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

/*
 * Appends s to the array literal b, in double quotes if quote (s holds
 * no quote or backslash: the caller validated it). Returns -1 if out of
 * memory.
 */
static int
buf_add(struct buf *b, const char *s, bool quote)
{
	size_t	 n = strlen(s), need = b->len + n + 4;
	char	*p, c;

	if (need > b->cap) {
		if ((p = realloc(b->p, need * 2)) == NULL)
			return -1;
		b->p = p;
		b->cap = need * 2;
	}
	c = b->len == 0 ? '{' : ',';
	b->p[b->len++] = c;
	if (quote)
		b->p[b->len++] = '"';
	memcpy(b->p + b->len, s, n);
	b->len += n;
	if (quote)
		b->p[b->len++] = '"';
	b->p[b->len] = '\0';
	return 0;
}

/* Closes an array literal ("{}" if nothing was added). */
static const char *
buf_end(struct buf *b)
{
	if (b->p == NULL && (b->p = malloc(4)) != NULL) {
		memcpy(b->p, "{}", 3);
		return b->p;
	}
	if (b->p == NULL)
		return NULL;
	b->p[b->len++] = '}';
	b->p[b->len] = '\0';
	return b->p;
}

/* The item's index as four array literals; -1 if out of memory. */
static int
index_arrays(const struct sb_item_index *ix, struct buf *hs, struct buf *ls,
    struct buf *ns, struct buf *vs)
{
	char	 num[24];
	size_t	 i, j;

	for (i = 0; i < ix->nlists; i++)
		for (j = 0; j < ix->nhashes[i]; j++)
			if (buf_add(hs, ix->lists[i][j], true) == -1 ||
			    buf_add(ls, j + 1 == ix->nhashes[i] ? "t" : "f",
			    false) == -1)
				return -1;
	for (i = 0; i < ix->nsortables; i++)
		if (buf_add(ns, ix->sortables[i].name, true) == -1 ||
		    buf_add(vs, num_arg(num, sizeof(num),
		    ix->sortables[i].value), false) == -1)
			return -1;
	return buf_end(hs) == NULL || buf_end(ls) == NULL ||
	    buf_end(ns) == NULL || buf_end(vs) == NULL ? -1 : 0;
}

/*
 * One try at storing the item with its index in one transaction.
 * Returns DONE, FAILED (logged, rolled back) or BROKEN.
 */
static enum outcome
put_index_once(struct pg *p, const struct args *item, const char *group_id,
    const char *item_id, const char *const arrays[4])
{
	static const enum stmt	 steps[] = { ST_BEGIN, ST_ITEM_PUT,
				    ST_INDEX_HASHES_DELETE,
				    ST_INDEX_SORTABLES_DELETE,
				    ST_INDEX_HASHES_ADD, ST_INDEX_SORTABLES_ADD,
				    ST_COMMIT };
	struct args		 ids = { { group_id, item_id }, { 0 }, { 0 } };
	struct args		 hs = { { group_id, item_id, arrays[0],
				    arrays[1] }, { 0 }, { 0 } };
	struct args		 ss = { { group_id, item_id, arrays[2],
				    arrays[3] }, { 0 }, { 0 } };
	const struct args	*a;
	PGresult		*res;
	enum outcome		 o = DONE;
	size_t			 i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && o == DONE; i++) {
		switch (steps[i]) {
		case ST_ITEM_PUT:
			a = item;
			break;
		case ST_INDEX_HASHES_ADD:
			a = &hs;
			break;
		case ST_INDEX_SORTABLES_ADD:
			a = &ss;
			break;
		case ST_BEGIN:
		case ST_COMMIT:
			a = NULL;
			break;
		default:
			a = &ids;
			break;
		}
		o = step(p, steps[i], a, &res);
		if (o == FAILED)
			log_failure(p, steps[i], res);
		PQclear(res);
	}
	if (o == FAILED) {
		if (step(p, ST_ROLLBACK, NULL, &res) == FAILED)
			log_failure(p, ST_ROLLBACK, res);
		PQclear(res);
	}
	return o;
}

static enum sb_err
pg_item_put_index(struct sb_db *base, const char *group_id,
    const char *item_id, const char *author, const char *data, size_t len,
    const struct sb_item_index *ix)
{
	struct pg	*p = (struct pg *)base;
	struct args	 a = { { group_id, item_id, author, data },
			    { 0, 0, 0, (int)len }, { 0, 0, 0, 1 } };
	struct buf	 b[4];
	const char	*arrays[4];
	char		 now[24];
	enum sb_err	 e = SB_ERR_STORAGE;
	int		 tries, i;

	memset(b, 0, sizeof(b));
	if (len > INT_MAX)
		return SB_ERR_STORAGE;
	a.v[4] = now_arg(now, sizeof(now));
	if (index_arrays(ix, &b[0], &b[1], &b[2], &b[3]) == -1) {
		e = SB_ERR_INTERNAL;
		goto out;
	}
	for (i = 0; i < 4; i++)
		arrays[i] = b[i].p;
	if (PQstatus(p->conn) != CONNECTION_OK && reconnect(p) == -1)
		goto out;
	/* Every step is idempotent: a broken try is run again whole. */
	for (tries = 0; tries < 2; tries++) {
		switch (put_index_once(p, &a, group_id, item_id, arrays)) {
		case DONE:
			e = SB_OK;
			goto out;
		case FAILED:
			goto out;
		case BROKEN:
			log_lost(p, ST_ITEM_PUT, tries == 0);
			if (tries > 0 || reconnect(p) == -1)
				goto out;
			break;
		}
	}
out:
	for (i = 0; i < 4; i++)
		free(b[i].p);
	return e;
}

static enum sb_err
pg_item_search(struct sb_db *base, const char *group_id,
    const struct sb_item_query *q,
    void (*fn)(void *, const struct sb_item *, int64_t), void *arg)
{
	struct args	 a = { { group_id }, { 0 }, { 0 } };
	struct sb_item	 it;
	PGresult	*res;
	enum stmt	 s;
	int64_t		 min = q->min, max = q->max, cv;
	const char	*cid;
	char		 ex[4], mn[24], mx[24], c[24], lim[24];
	long		 t;
	int		 i, n = 1;
	enum sb_err	 e;

	/* The first page: a cursor before every item, in either order. */
	cid = *q->after_id != '\0' ? q->after_id : q->desc ? "~" : "";
	cv = *q->after_id != '\0' ? q->after_value : q->desc ? max + 1 :
	    min - 1;
	if (*q->after_id != '\0' && !q->desc && cv > min)
		min = cv;
	if (*q->after_id != '\0' && q->desc && cv < max)
		max = cv;
	if (q->sort == NULL)
		s = ST_SEARCH_HASH;
	else if (q->hash == NULL)
		s = q->desc ? ST_SEARCH_SORT_DESC : ST_SEARCH_SORT_ASC;
	else
		s = q->desc ? ST_SEARCH_BOTH_DESC : ST_SEARCH_BOTH_ASC;
	if (q->hash != NULL) {
		a.v[n++] = q->hash;
		a.v[n++] = num_arg(ex, sizeof(ex), q->exact);
	}
	if (q->sort != NULL) {
		a.v[n++] = q->sort;
		a.v[n++] = num_arg(mn, sizeof(mn), min);
		a.v[n++] = num_arg(mx, sizeof(mx), max);
		a.v[n++] = num_arg(c, sizeof(c), cv);
	}
	a.v[n++] = cid;
	a.v[n++] = num_arg(lim, sizeof(lim), q->limit);
	if (n != stmts[s].nargs)
		return SB_ERR_INTERNAL;
	if ((e = run((struct pg *)base, s, &a, &res)) != SB_OK)
		return e;
	for (i = 0; i < PQntuples(res); i++) {
		it.item_id = PQgetvalue(res, i, 0);
		it.author = PQgetvalue(res, i, 1);
		it.data = NULL;
		it.len = 0;
		it.created_at = sb_parse_long(PQgetvalue(res, i, 3), LONG_MIN,
		    LONG_MAX, &t) == 0 ? t : 0;
		it.updated_at = sb_parse_long(PQgetvalue(res, i, 4), LONG_MIN,
		    LONG_MAX, &t) == 0 ? t : 0;
		fn(arg, &it, sb_parse_long(PQgetvalue(res, i, 5), LONG_MIN,
		    LONG_MAX, &t) == 0 ? t : 0);
	}
	PQclear(res);
	return SB_OK;
}

static enum sb_err
pg_access_revoke(struct sb_db *base, const char *id, int64_t at)
{
	return key_at((struct pg *)base, ST_REVOKE, id, at);
}

static enum sb_err
pg_access_epoch(struct sb_db *base, int64_t *epoch)
{
	PGresult	*res;
	enum sb_err	 e;
	long		 v;

	if ((e = run((struct pg *)base, ST_EPOCH, NULL, &res)) != SB_OK)
		return e;
	if (PQntuples(res) == 1 && sb_parse_long(PQgetvalue(res, 0, 0), 0,
	    LONG_MAX, &v) == 0)
		*epoch = v;
	else
		e = SB_ERR_STORAGE;
	PQclear(res);
	return e;
}

static enum sb_err
pg_access_revoked(struct sb_db *base, const char *const *ids, size_t n,
    int64_t epoch, bool *revoked)
{
	struct args	 a = { { NULL }, { 0 }, { 0 } };
	struct buf	 b = { NULL, 0, 0 };
	PGresult	*res;
	char		 t[24];
	enum sb_err	 e = SB_ERR_INTERNAL;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (buf_add(&b, ids[i], true) == -1)
			goto out;
	if ((a.v[0] = buf_end(&b)) == NULL)
		goto out;
	a.v[1] = num_arg(t, sizeof(t), epoch);
	if ((e = run((struct pg *)base, ST_REVOKED, &a, &res)) != SB_OK)
		goto out;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*revoked = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	else
		e = SB_ERR_STORAGE;
	PQclear(res);
out:
	free(b.p);
	return e;
}

static enum sb_err
pg_file_part_put(struct sb_db *base, const char *part_id, const void *data,
    size_t len)
{
	struct args	 a = { { part_id, data }, { 0, (int)len }, { 0, 1 } };
	char		 now[24];

	if (len > INT_MAX)
		return SB_ERR_STORAGE;
	a.v[2] = now_arg(now, sizeof(now));
	return run_void((struct pg *)base, ST_FILE_PART_PUT, &a);
}

static enum sb_err
pg_file_part_get(struct sb_db *base, const char *part_id, size_t cap,
    char **data, size_t *len)
{
	struct args	 a = { { part_id }, { 0 }, { 0 } };
	PGresult	*res;
	size_t		 n;
	enum sb_err	 e;

	if ((e = run((struct pg *)base, ST_FILE_PART_GET, &a, &res)) != SB_OK)
		return e;
	if (PQntuples(res) != 1)
		e = SB_ERR_NO_FILE_PART;
	else if ((n = (size_t)PQgetlength(res, 0, 0)) > cap)
		e = SB_ERR_STORAGE;
	else if ((*data = malloc(n + 1)) == NULL)
		e = SB_ERR_INTERNAL;
	else {
		memcpy(*data, PQgetvalue(res, 0, 0), n);
		(*data)[n] = '\0';
		*len = n;
	}
	PQclear(res);
	return e;
}

static enum sb_err
pg_file_part_delete(struct sb_db *base, const char *const *ids, size_t n)
{
	struct args	 a = { { NULL }, { 0 }, { 0 } };
	struct buf	 b = { NULL, 0, 0 };
	enum sb_err	 e = SB_ERR_INTERNAL;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (buf_add(&b, ids[i], true) == -1)
			goto out;
	if ((a.v[0] = buf_end(&b)) == NULL)
		goto out;
	e = run_void((struct pg *)base, ST_FILE_PART_DELETE, &a);
out:
	free(b.p);
	return e;
}

const struct sb_db_ops sb_db_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.ping = pg_ping,
	.user_create = pg_user_create,
	.user_data = pg_user_data,
	.user_set_data = pg_user_set_data,
	.user_delete = pg_user_delete,
	.user_by_identifier = pg_user_by_identifier,
	.group_create = pg_group_create,
	.group_data = pg_group_data,
	.group_set_data = pg_group_set_data,
	.group_delete = pg_group_delete,
	.item_put = pg_item_put,
	.item_get = pg_item_get,
	.item_delete = pg_item_delete,
	.item_list = pg_item_list,
	.unsure_add = pg_unsure_add,
	.unsure_take = pg_unsure_take,
	.unsure_hold = pg_unsure_hold,
	.unsure_release = pg_unsure_release,
	.unsure_done = pg_unsure_done,
	.session_end_token = pg_session_end_token,
	.session_end_user = pg_session_end_user,
	.session_ended = pg_session_ended,
	.session_purge = pg_session_purge,
	.item_put_index = pg_item_put_index,
	.item_search = pg_item_search,
	.access_revoke = pg_access_revoke,
	.access_epoch = pg_access_epoch,
	.access_revoked = pg_access_revoked,
	.file_part_put = pg_file_part_put,
	.file_part_get = pg_file_part_get,
	.file_part_delete = pg_file_part_delete,
};
