/*
 * The store on SQLite: one connection per worker, WAL, a busy timeout,
 * statements prepared once per connection.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "extern.h"

#define BUSY_TIMEOUT_MS	2000
#define OPEN_TRIES	100	/* 20 ms apart: programs starting together */

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
	ST_PURGE_TOKENS,
	ST_PURGE_USERS,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INDEX_HASHES_DELETE,
	ST_INDEX_SORTABLES_DELETE,
	ST_INDEX_HASH_ADD,
	ST_INDEX_SORTABLE_ADD,
	ST_SEARCH_HASH,
	ST_SEARCH_SORT_ASC,
	ST_SEARCH_SORT_DESC,
	ST_SEARCH_BOTH_ASC,
	ST_SEARCH_BOTH_DESC,
	ST_REVOKE_COUNT,
	ST_REVOKE,
	ST_REVOKE_PURGE,
	ST_EPOCH,
	ST_REVOKED,
	ST_FILE_PART_PUT,
	ST_FILE_PART_GET,
	ST_FILE_PART_DELETE,
	ST__MAX
};

static const char *const stmt_sql[ST__MAX] = {
	"INSERT INTO users (user_id, identifier, user_data, created_at) "
	    "VALUES (?1, ?2, ?3, ?4)",
	"SELECT user_data FROM users WHERE user_id = ?1",
	"UPDATE users SET user_data = ?2 WHERE user_id = ?1",
	"DELETE FROM users WHERE user_id = ?1",
	"SELECT user_id FROM users WHERE identifier = ?1 "
	    "ORDER BY created_at DESC LIMIT 1",
	"INSERT INTO groups (group_id, creator, group_data, created_at) "
	    "VALUES (?1, ?2, ?3, ?4)",
	"SELECT group_data FROM groups WHERE group_id = ?1",
	"UPDATE groups SET group_data = ?2 WHERE group_id = ?1",
	"DELETE FROM groups WHERE group_id = ?1",
	"DELETE FROM items WHERE group_id = ?1",
	"INSERT INTO items (group_id, item_id, author, data, created_at, "
	    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) "
	    "ON CONFLICT (group_id, item_id) DO UPDATE SET author = ?3, "
	    "data = ?4, updated_at = ?5",
	"SELECT item_id, author, data, created_at, updated_at FROM items "
	    "WHERE group_id = ?1 AND item_id = ?2",
	"DELETE FROM items WHERE group_id = ?1 AND item_id = ?2",
	"SELECT item_id, author, NULL, created_at, updated_at FROM items "
	    "WHERE group_id = ?1 AND item_id > ?2 ORDER BY item_id LIMIT ?3",
	"INSERT INTO unsure (kind, key, since, due, held) "
	    "VALUES (?1, ?2, ?3, ?4, 0) ON CONFLICT (kind, key) DO UPDATE "
	    "SET since = ?3, due = ?4, held = 0",
	"SELECT 1 FROM unsure WHERE due <= ?1 AND held <= ?1 LIMIT 1",
	"UPDATE unsure SET held = ?2, due = ?3 WHERE (kind, key) = "
	    "(SELECT kind, key FROM unsure WHERE due <= ?1 AND held <= ?1 "
	    "ORDER BY due LIMIT 1) RETURNING kind, key, since",
	"SELECT held FROM unsure WHERE kind = ?1 AND key = ?2",
	"UPDATE unsure SET held = ?4 WHERE kind = ?1 AND key = ?2 AND "
	    "held <= ?3",
	"UPDATE unsure SET held = 0 WHERE kind = ?1 AND key = ?2",
	"DELETE FROM unsure WHERE kind = ?1 AND key = ?2",
	"INSERT INTO ended_tokens (digest, at) VALUES (?1, ?2) "
	    "ON CONFLICT (digest) DO UPDATE SET at = max(at, excluded.at)",
	"INSERT INTO ended_users (user_id, at) VALUES (?1, ?2) "
	    "ON CONFLICT (user_id) DO UPDATE SET at = max(at, excluded.at)",
	"SELECT EXISTS (SELECT 1 FROM ended_tokens WHERE digest = ?1) OR "
	    "EXISTS (SELECT 1 FROM ended_users WHERE user_id = ?2 AND "
	    "at >= ?3)",
	"DELETE FROM ended_tokens WHERE at < ?1",
	"DELETE FROM ended_users WHERE at < ?1",
	"BEGIN IMMEDIATE",
	"COMMIT",
	"ROLLBACK",
	"DELETE FROM item_hashes WHERE group_id = ?1 AND item_id = ?2",
	"DELETE FROM item_sortables WHERE group_id = ?1 AND item_id = ?2",
	"INSERT INTO item_hashes (group_id, hash, item_id, last) "
	    "VALUES (?1, ?3, ?2, ?4) ON CONFLICT (group_id, hash, item_id) "
	    "DO UPDATE SET last = max(last, excluded.last)",
	"INSERT INTO item_sortables (group_id, item_id, name, value) "
	    "VALUES (?1, ?2, ?3, ?4)",
	/*
	 * The searches: ?1 group, ?2 hash, ?3 exact, ?4 name, ?5 min, ?6
	 * max (the cursor's value already folded in), ?7 cursor value, ?8
	 * cursor id, ?9 limit.
	 */
	"SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, 0 "
	    "FROM item_hashes h JOIN items i ON i.group_id = h.group_id AND "
	    "i.item_id = h.item_id WHERE h.group_id = ?1 AND h.hash = ?2 AND "
	    "(?3 = 0 OR h.last = 1) AND h.item_id > ?8 ORDER BY h.item_id "
	    "LIMIT ?9",
	"SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, "
	    "s.value FROM item_sortables s JOIN items i ON "
	    "i.group_id = s.group_id AND i.item_id = s.item_id WHERE "
	    "s.group_id = ?1 AND s.name = ?4 AND s.value BETWEEN ?5 AND ?6 "
	    "AND (s.value > ?7 OR s.item_id > ?8) "
	    "ORDER BY s.value, s.item_id LIMIT ?9",
	"SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, "
	    "s.value FROM item_sortables s JOIN items i ON "
	    "i.group_id = s.group_id AND i.item_id = s.item_id WHERE "
	    "s.group_id = ?1 AND s.name = ?4 AND s.value BETWEEN ?5 AND ?6 "
	    "AND (s.value < ?7 OR s.item_id < ?8) "
	    "ORDER BY s.value DESC, s.item_id DESC LIMIT ?9",
	"SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, "
	    "s.value FROM item_hashes h JOIN item_sortables s ON "
	    "s.group_id = h.group_id AND s.item_id = h.item_id AND "
	    "s.name = ?4 JOIN items i ON i.group_id = h.group_id AND "
	    "i.item_id = h.item_id WHERE h.group_id = ?1 AND h.hash = ?2 AND "
	    "(?3 = 0 OR h.last = 1) AND s.value BETWEEN ?5 AND ?6 "
	    "AND (s.value > ?7 OR s.item_id > ?8) "
	    "ORDER BY s.value, s.item_id LIMIT ?9",
	"SELECT i.item_id, i.author, NULL, i.created_at, i.updated_at, "
	    "s.value FROM item_hashes h JOIN item_sortables s ON "
	    "s.group_id = h.group_id AND s.item_id = h.item_id AND "
	    "s.name = ?4 JOIN items i ON i.group_id = h.group_id AND "
	    "i.item_id = h.item_id WHERE h.group_id = ?1 AND h.hash = ?2 AND "
	    "(?3 = 0 OR h.last = 1) AND s.value BETWEEN ?5 AND ?6 "
	    "AND (s.value < ?7 OR s.item_id < ?8) "
	    "ORDER BY s.value DESC, s.item_id DESC LIMIT ?9",
	"UPDATE access_epoch SET n = n + 1",
	"INSERT INTO access_revoked (id, seq, at) VALUES (?1, "
	    "(SELECT n FROM access_epoch), ?2) ON CONFLICT (id) DO UPDATE "
	    "SET seq = excluded.seq, at = excluded.at",
	"DELETE FROM access_revoked WHERE at < ?1",
	"SELECT n FROM access_epoch",
	"SELECT EXISTS (SELECT 1 FROM access_revoked WHERE id IN "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) AND seq > ?9)",
	"INSERT INTO file_parts (part_id, data, created_at) VALUES "
	    "(?1, ?2, ?3) ON CONFLICT (part_id) DO NOTHING",
	"SELECT data FROM file_parts WHERE part_id = ?1",
	"DELETE FROM file_parts WHERE part_id = ?1",
};

/* Migrations, in order: migrations[i] brings version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE users ("
	"  user_id TEXT PRIMARY KEY NOT NULL,"
	"  identifier TEXT NOT NULL,"
	"  user_data TEXT NOT NULL DEFAULT '{}'"
	"    CHECK (json_valid(user_data) AND json_type(user_data) = 'object'),"
	"  created_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX users_by_identifier ON users (identifier);",

	"CREATE TABLE groups ("
	"  group_id TEXT PRIMARY KEY NOT NULL,"
	"  creator TEXT NOT NULL,"
	"  group_data TEXT NOT NULL DEFAULT '{}'"
	"    CHECK (json_valid(group_data) AND json_type(group_data) = 'object'),"
	"  created_at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE items ("
	"  group_id TEXT NOT NULL,"
	"  item_id TEXT NOT NULL,"
	"  author TEXT NOT NULL,"
	"  data TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (group_id, item_id)"
	") WITHOUT ROWID;",

	/* Calls to sentc whose answer was lost: lib/sb_unsure.h. */
	"CREATE TABLE unsure ("
	"  kind INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  since INTEGER NOT NULL,"
	"  due INTEGER NOT NULL,"
	"  held INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (kind, key)"
	") WITHOUT ROWID;"
	"CREATE INDEX unsure_by_due ON unsure (due);",

	/* The ends of cookie sessions: lib/sb_session.h. */
	"CREATE TABLE ended_tokens ("
	"  digest TEXT PRIMARY KEY NOT NULL,"
	"  at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX ended_tokens_by_at ON ended_tokens (at);"
	"CREATE TABLE ended_users ("
	"  user_id TEXT PRIMARY KEY NOT NULL,"
	"  at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX ended_users_by_at ON ended_users (at);",

	/*
	 * Searchable and sortable items; the ends of cached group access
	 * (sb_db_access_revoke()).
	 */
	"CREATE TABLE item_hashes ("
	"  group_id TEXT NOT NULL,"
	"  hash TEXT NOT NULL,"
	"  item_id TEXT NOT NULL,"
	"  last INTEGER NOT NULL,"
	"  PRIMARY KEY (group_id, hash, item_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX item_hashes_by_item ON item_hashes (group_id, item_id);"
	"CREATE TABLE item_sortables ("
	"  group_id TEXT NOT NULL,"
	"  item_id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  value INTEGER NOT NULL,"
	"  PRIMARY KEY (group_id, item_id, name)"
	") WITHOUT ROWID;"
	"CREATE INDEX item_sortables_by_value ON item_sortables "
	"  (group_id, name, value, item_id);"
	"CREATE TRIGGER items_index_delete AFTER DELETE ON items BEGIN"
	"  DELETE FROM item_hashes WHERE group_id = old.group_id AND"
	"    item_id = old.item_id;"
	"  DELETE FROM item_sortables WHERE group_id = old.group_id AND"
	"    item_id = old.item_id;"
	"END;"
	"CREATE TABLE access_epoch (n INTEGER NOT NULL);"
	"INSERT INTO access_epoch VALUES (0);"
	"CREATE TABLE access_revoked ("
	"  id TEXT PRIMARY KEY NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  at INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX access_revoked_by_at ON access_revoked (at);",

	/* Encrypted file parts kept in the store (docs/FILES.md). */
	"CREATE TABLE file_parts ("
	"  part_id TEXT PRIMARY KEY NOT NULL,"
	"  data BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL"
	");",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(NMIGRATIONS == SB_DB_SCHEMA_VERSION,
    "one migration per schema version");

struct lite {
	struct sb_db	 base;
	sqlite3		*db;
	sqlite3_stmt	*stmt[ST__MAX];
	int64_t		 busy_since;	/* the lock waited for, since */
};

static void	 lite_close(struct sb_db *);

/*
 * Another process (or connection) holds the lock: wait a little and try
 * again, up to BUSY_TIMEOUT_MS. The wait parks only this request's task
 * (sb_loop.h): the worker goes on with the others meanwhile.
 */
static int
busy(void *arg, int n)
{
	struct lite	*d = arg;
	int64_t		 now = sb_now_ms();

	if (n == 0)
		d->busy_since = now;
	if (now - d->busy_since >= BUSY_TIMEOUT_MS)
		return 0;
	sb_loop_sleep(n < 8 ? n + 1 : 10);
	return 1;
}

static int
exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg != NULL ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/*
 * The schema version the file says, as written: read as 64 bits, so that
 * a value past int's range is not cut to one that looks current.
 */
static int
version(sqlite3 *db, sqlite3_int64 *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	*v = 0;
	if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Brings the schema to the current version, in one transaction. Returns
 * SQLITE_OK, or the code that stopped it with a reason in err.
 */
static int
migrate(sqlite3 *db, char *err, size_t errlen)
{
	char		 sql[128];
	sqlite3_int64	 v;
	int		 i, rc;

	if (exec(db, "CREATE TABLE IF NOT EXISTS schema_version "
	    "(version INTEGER NOT NULL)", err, errlen) == -1)
		return sqlite3_errcode(db);
	if (version(db, &v) == 0 && v == NMIGRATIONS)
		return SQLITE_OK;
	if (exec(db, "BEGIN IMMEDIATE", err, errlen) == -1)
		return sqlite3_errcode(db);
	if (version(db, &v) == -1) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		goto fail;
	}
	if (v > NMIGRATIONS) {
		snprintf(err, errlen, "schema version %lld is newer than this "
		    "program's %d", (long long)v, NMIGRATIONS);
		goto fail;
	}
	/* An index into migrations[] from the file: never below it. */
	if (v < 0) {
		snprintf(err, errlen, "schema version %lld is not one there "
		    "can be", (long long)v);
		goto fail;
	}
	for (i = (int)v; i < NMIGRATIONS; i++)
		if (exec(db, migrations[i], err, errlen) == -1)
			goto fail;
	snprintf(sql, sizeof(sql), "DELETE FROM schema_version;"
	    "INSERT INTO schema_version VALUES (%d)", NMIGRATIONS);
	if (exec(db, sql, err, errlen) == -1 ||
	    exec(db, "COMMIT", err, errlen) == -1)
		goto fail;
	return SQLITE_OK;
fail:
	rc = sqlite3_errcode(db);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc == SQLITE_OK ? SQLITE_ERROR : rc;
}

/*
 * Opens the file spec names (as SQLite reads the name), or makes it if
 * there is none: then readable and writable by its owner only, whatever
 * the umask. SQLite makes a file 0644 less the umask, and its -wal and
 * -shm files with the mode the database file has, so these follow.
 * Returns the SQLite code, with a reason in err if not SQLITE_OK; *db is
 * the handle to close in both cases.
 */
static int
open_file(const char *spec, sqlite3 **db, char *err, size_t errlen)
{
	const char	*path;
	int		 rc;

	rc = sqlite3_open_v2(spec, db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_CANTOPEN) {
		sqlite3_close(*db);
		rc = sqlite3_open_v2(spec, db, SQLITE_OPEN_READWRITE |
		    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
		/* Before anything is written to it. */
		if (rc == SQLITE_OK &&
		    (path = sqlite3_db_filename(*db, "main")) != NULL &&
		    *path != '\0' && chmod(path, 0600) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return SQLITE_CANTOPEN;
		}
	}
	/*
	 * SQLite opens a file it cannot write read-only, and the connection
	 * stays so when the file is writable again: not one to keep.
	 */
	if (rc == SQLITE_OK && sqlite3_db_readonly(*db, "main") == 1) {
		snprintf(err, errlen, "%s: the file cannot be written", spec);
		return SQLITE_READONLY;
	}
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "%s", *db != NULL ? sqlite3_errmsg(*db) :
		    "out of memory");
	return rc;
}

/*
 * One try at opening the store. Returns SQLITE_OK with *out, or the
 * SQLite code that stopped it with a reason in err.
 */
static int
open_once(const char *spec, struct sb_db **out, char *err, size_t errlen)
{
	struct lite	*d;
	int		 rc;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return SQLITE_NOMEM;
	}
	if ((rc = open_file(spec, &d->db, err, errlen)) != SQLITE_OK)
		goto fail;
	sqlite3_busy_handler(d->db, busy, d);
	sqlite3_extended_result_codes(d->db, 1);
	if (exec(d->db, "PRAGMA journal_mode = WAL", err, errlen) == -1 ||
	    exec(d->db, "PRAGMA synchronous = FULL", err, errlen) == -1) {
		rc = sqlite3_errcode(d->db);
		goto fail;
	}
	if ((rc = migrate(d->db, err, errlen)) != SQLITE_OK)
		goto fail;
	d->base.ops = &sb_db_sqlite_ops;
	*out = &d->base;
	return SQLITE_OK;
fail:
	lite_close(&d->base);
	return rc == SQLITE_OK ? SQLITE_ERROR : rc;
}

/*
 * Programs that start together race for the first WAL switch and the
 * migration, and SQLite answers some of those races with SQLITE_BUSY at
 * once, without its busy handler: those are tried again.
 */
static enum sb_err
lite_open(const char *spec, struct sb_db **out, char *err, size_t errlen)
{
	struct timespec	 pause = { 0, 20 * 1000 * 1000 };
	int		 i, rc;

	for (i = 0; i < OPEN_TRIES; i++) {
		rc = open_once(spec, out, err, errlen);
		if (rc == SQLITE_OK)
			return SB_OK;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		nanosleep(&pause, NULL);
	}
	return SB_ERR_STORAGE;
}

static void
lite_close(struct sb_db *base)
{
	struct lite	*d = (struct lite *)base;
	size_t		 i;

	if (d == NULL)
		return;
	for (i = 0; i < ST__MAX; i++)
		sqlite3_finalize(d->stmt[i]);
	sqlite3_close(d->db);
	free(d);
}

/* A file that opened stays open: nothing to ask. */
static enum sb_err
lite_ping(struct sb_db *base)
{
	return SB_OK;
}

/* The prepared statement s, reset and with its bindings cleared. */
static sqlite3_stmt *
stmt(struct lite *d, enum stmt s)
{
	if (d->stmt[s] == NULL && sqlite3_prepare_v3(d->db, stmt_sql[s], -1,
	    SQLITE_PREPARE_PERSISTENT, &d->stmt[s], NULL) != SQLITE_OK) {
		sb_log(SB_LOG_ERR, "database: %s", sqlite3_errmsg(d->db));
		return NULL;
	}
	sqlite3_reset(d->stmt[s]);
	sqlite3_clear_bindings(d->stmt[s]);
	return d->stmt[s];
}

/*
 * Logs a failed statement and resets it. A connection that met a file it
 * cannot write or read (made read-only, a disk error, a file replaced)
 * stays that way even once the file is fine again: sb_db() opens a new
 * one before the next request. Returns SB_ERR_STORAGE.
 */
static enum sb_err
failed(struct lite *d, sqlite3_stmt *st)
{
	int	 rc = sqlite3_errcode(d->db) & 0xff;

	sb_log(SB_LOG_ERR, "database: %s", sqlite3_errmsg(d->db));
	if (rc == SQLITE_READONLY || rc == SQLITE_IOERR ||
	    rc == SQLITE_CANTOPEN || rc == SQLITE_CORRUPT ||
	    rc == SQLITE_NOTADB)
		d->base.broken = true;
	sqlite3_reset(st);
	return SB_ERR_STORAGE;
}

/* Runs a statement that returns no rows; *changes gets the row count. */
static enum sb_err
run(struct lite *d, sqlite3_stmt *st, int *changes)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return failed(d, st);
	if (changes != NULL)
		*changes = sqlite3_changes(d->db);
	sqlite3_reset(st);
	return SB_OK;
}

static enum sb_err
lite_user_create(struct sb_db *base, const char *user_id,
    const char *identifier, const char *user_data)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;

	if ((st = stmt(d, ST_USER_CREATE)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, identifier, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, user_data != NULL ? user_data : "{}", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, sb_now());
	return run(d, st, NULL);
}

/*
 * The text column of the one row statement s finds for id, copied into
 * *out (the caller frees it); none if no row.
 */
static enum sb_err
text_by_id(struct lite *d, enum stmt s, const char *id, char **out,
    enum sb_err none)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	if ((st = stmt(d, s)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		sqlite3_reset(st);
		return none;
	}
	if (rc != SQLITE_ROW)
		return failed(d, st);
	*out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return *out == NULL ? SB_ERR_INTERNAL : SB_OK;
}

/* Sets the text of the row statement s finds for id; none if no row. */
static enum sb_err
set_by_id(struct lite *d, enum stmt s, const char *id, const char *text,
    enum sb_err none)
{
	sqlite3_stmt	*st;
	enum sb_err	 e;
	int		 changes = 0;

	if ((st = stmt(d, s)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	if ((e = run(d, st, &changes)) != SB_OK)
		return e;
	return changes == 0 ? none : SB_OK;
}

static enum sb_err
lite_user_data(struct sb_db *base, const char *user_id, char **out)
{
	return text_by_id((struct lite *)base, ST_USER_DATA, user_id, out,
	    SB_ERR_NO_USER_DATA);
}

static enum sb_err
lite_user_set_data(struct sb_db *base, const char *user_id,
    const char *user_data)
{
	return set_by_id((struct lite *)base, ST_USER_SET_DATA, user_id,
	    user_data, SB_ERR_NO_USER_DATA);
}

static enum sb_err
lite_group_data(struct sb_db *base, const char *group_id, char **out)
{
	return text_by_id((struct lite *)base, ST_GROUP_DATA, group_id, out,
	    SB_ERR_NO_GROUP_DATA);
}

static enum sb_err
lite_group_set_data(struct sb_db *base, const char *group_id,
    const char *group_data)
{
	return set_by_id((struct lite *)base, ST_GROUP_SET_DATA, group_id,
	    group_data, SB_ERR_NO_GROUP_DATA);
}

static enum sb_err
lite_user_delete(struct sb_db *base, const char *user_id)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;

	if ((st = stmt(d, ST_USER_DELETE)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
	return run(d, st, NULL);
}

static enum sb_err
lite_user_by_identifier(struct sb_db *base, const char *identifier,
    char *out, size_t outsz)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = stmt(d, ST_USER_BY_IDENTIFIER)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, identifier, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		sqlite3_reset(st);
		return SB_ERR_NO_USER_DATA;
	}
	if (rc != SQLITE_ROW)
		return failed(d, st);
	snprintf(out, outsz, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return SB_OK;
}

static enum sb_err
lite_group_create(struct sb_db *base, const char *group_id,
    const char *creator, const char *group_data)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;

	if ((st = stmt(d, ST_GROUP_CREATE)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, creator, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, group_data != NULL ? group_data : "{}", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, sb_now());
	return run(d, st, NULL);
}

/* Runs one of the transaction statements. */
static enum sb_err
tx(struct lite *d, enum stmt s)
{
	sqlite3_stmt	*st;

	if ((st = stmt(d, s)) == NULL)
		return SB_ERR_STORAGE;
	return run(d, st, NULL);
}

static enum sb_err
lite_group_delete(struct sb_db *base, const char *group_id)
{
	static const enum stmt	 steps[] = { ST_GROUP_ITEMS_DELETE,
				    ST_GROUP_DELETE };
	struct lite		*d = (struct lite *)base;
	sqlite3_stmt		*st;
	enum sb_err		 e;
	size_t			 i;

	if ((e = tx(d, ST_BEGIN)) != SB_OK)
		return e;
	for (i = 0; i < 2; i++) {
		if ((st = stmt(d, steps[i])) == NULL) {
			e = SB_ERR_STORAGE;
			break;
		}
		sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
		if ((e = run(d, st, NULL)) != SB_OK)
			break;
	}
	if (e == SB_OK && (e = tx(d, ST_COMMIT)) == SB_OK)
		return SB_OK;
	tx(d, ST_ROLLBACK);
	return e;
}

static enum sb_err
lite_item_put(struct sb_db *base, const char *group_id,
    const char *item_id, const char *author, const char *data, size_t len)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;

	if (len > INT_MAX || (st = stmt(d, ST_ITEM_PUT)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, item_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, author, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, data, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, sb_now());
	return run(d, st, NULL);
}

/* Calls fn for each row of an item query. */
static enum sb_err
item_rows(struct lite *d, sqlite3_stmt *st,
    void (*fn)(void *, const struct sb_item *), void *arg, long *n)
{
	struct sb_item	 it;
	int		 rc;

	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		it.item_id = (const char *)sqlite3_column_text(st, 0);
		it.author = (const char *)sqlite3_column_text(st, 1);
		it.data = (const char *)sqlite3_column_text(st, 2);
		it.len = (size_t)sqlite3_column_bytes(st, 2);
		it.created_at = sqlite3_column_int64(st, 3);
		it.updated_at = sqlite3_column_int64(st, 4);
		fn(arg, &it);
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		return failed(d, st);
	sqlite3_reset(st);
	return SB_OK;
}

static enum sb_err
lite_item_get(struct sb_db *base, const char *group_id,
    const char *item_id, void (*fn)(void *, const struct sb_item *),
    void *arg)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	enum sb_err	 e;
	long		 n;

	if ((st = stmt(d, ST_ITEM_GET)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, item_id, -1, SQLITE_STATIC);
	if ((e = item_rows(d, st, fn, arg, &n)) != SB_OK)
		return e;
	return n == 0 ? SB_ERR_NO_ITEM : SB_OK;
}

static enum sb_err
lite_item_delete(struct sb_db *base, const char *group_id,
    const char *item_id)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	enum sb_err	 e;
	int		 changes = 0;

	if ((st = stmt(d, ST_ITEM_DELETE)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, item_id, -1, SQLITE_STATIC);
	if ((e = run(d, st, &changes)) != SB_OK)
		return e;
	return changes == 0 ? SB_ERR_NO_ITEM : SB_OK;
}

static enum sb_err
lite_item_list(struct sb_db *base, const char *group_id,
    const char *after, long limit,
    void (*fn)(void *, const struct sb_item *), void *arg)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	long		 n;

	if ((st = stmt(d, ST_ITEM_LIST)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, after, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, limit);
	return item_rows(d, st, fn, arg, &n);
}

static enum sb_err
lite_unsure_add(struct sb_db *base, int kind, const char *key, int64_t since,
    int64_t due)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;

	if ((st = stmt(d, ST_UNSURE_ADD)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, since);
	sqlite3_bind_int64(st, 4, due);
	return run(d, st, NULL);
}

static enum sb_err
lite_unsure_take(struct sb_db *base, int64_t now, int64_t held, int64_t due,
    struct sb_unsure *u)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	int		 rc;

	/* Most calls find nothing due: a read, without the write lock. */
	if ((st = stmt(d, ST_UNSURE_ANY_DUE)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, now);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		sqlite3_reset(st);
		return SB_OK;
	}
	if (rc != SQLITE_ROW)
		return failed(d, st);
	sqlite3_reset(st);

	if ((st = stmt(d, ST_UNSURE_TAKE)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, held);
	sqlite3_bind_int64(st, 3, due);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		u->kind = sqlite3_column_int(st, 0);
		u->key = strdup((const char *)sqlite3_column_text(st, 1));
		u->since = sqlite3_column_int64(st, 2);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		return failed(d, st);
	sqlite3_reset(st);
	return SB_OK;
}

static enum sb_err
lite_unsure_hold(struct sb_db *base, int kind, const char *key, int64_t now,
    int64_t held, int *state)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	enum sb_err	 e;
	int		 rc, changes = 0;

	/* Most registers find no record: a read, without the write lock. */
	if ((st = stmt(d, ST_UNSURE_HELD)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		sqlite3_reset(st);
		return SB_OK;
	}
	if (rc != SQLITE_ROW)
		return failed(d, st);
	sqlite3_reset(st);

	if ((st = stmt(d, ST_UNSURE_HOLD)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, held);
	if ((e = run(d, st, &changes)) != SB_OK)
		return e;
	*state = changes == 1 ? 1 : -1;
	return SB_OK;
}

/* Runs statement s on the record (kind, key). */
static enum sb_err
unsure_by_key(struct lite *d, enum stmt s, int kind, const char *key)
{
	sqlite3_stmt	*st;

	if ((st = stmt(d, s)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	return run(d, st, NULL);
}

static enum sb_err
lite_unsure_release(struct sb_db *base, int kind, const char *key)
{
	return unsure_by_key((struct lite *)base, ST_UNSURE_RELEASE, kind, key);
}

static enum sb_err
lite_unsure_done(struct sb_db *base, int kind, const char *key)
{
	return unsure_by_key((struct lite *)base, ST_UNSURE_DONE, kind, key);
}

/* Runs statement s with a text key and a time. */
static enum sb_err
key_at(struct lite *d, enum stmt s, const char *key, int64_t at)
{
	sqlite3_stmt	*st;

	if ((st = stmt(d, s)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, at);
	return run(d, st, NULL);
}

static enum sb_err
lite_session_end_token(struct sb_db *base, const char *digest, int64_t at)
{
	return key_at((struct lite *)base, ST_END_TOKEN, digest, at);
}

static enum sb_err
lite_session_end_user(struct sb_db *base, const char *user_id, int64_t at)
{
	return key_at((struct lite *)base, ST_END_USER, user_id, at);
}

static enum sb_err
lite_session_ended(struct sb_db *base, const char *digest,
    const char *user_id, int64_t sealed_at, bool *ended)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;

	if ((st = stmt(d, ST_ENDED)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, sealed_at);
	if (sqlite3_step(st) != SQLITE_ROW)
		return failed(d, st);
	*ended = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return SB_OK;
}

static enum sb_err
lite_session_purge(struct sb_db *base, int64_t before)
{
	static const enum stmt	 steps[] = { ST_PURGE_TOKENS, ST_PURGE_USERS };
	struct lite		*d = (struct lite *)base;
	sqlite3_stmt		*st;
	enum sb_err		 e;
	size_t			 i;

	for (i = 0; i < 2; i++) {
		if ((st = stmt(d, steps[i])) == NULL)
			return SB_ERR_STORAGE;
		sqlite3_bind_int64(st, 1, before);
		if ((e = run(d, st, NULL)) != SB_OK)
			return e;
	}
	return SB_OK;
}

/* Binds the item's group and id to a statement of the index. */
static sqlite3_stmt *
item_stmt(struct lite *d, enum stmt s, const char *group_id,
    const char *item_id)
{
	sqlite3_stmt	*st;

	if ((st = stmt(d, s)) != NULL) {
		sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, item_id, -1, SQLITE_STATIC);
	}
	return st;
}

/* The item's row and index, within the caller's transaction. */
static enum sb_err
put_index(struct lite *d, const char *group_id, const char *item_id,
    const char *author, const char *data, size_t len,
    const struct sb_item_index *ix)
{
	sqlite3_stmt	*st;
	enum sb_err	 e;
	size_t		 i, j;

	if ((e = lite_item_put(&d->base, group_id, item_id, author, data,
	    len)) != SB_OK)
		return e;
	if ((st = item_stmt(d, ST_INDEX_HASHES_DELETE, group_id,
	    item_id)) == NULL || (e = run(d, st, NULL)) != SB_OK)
		return st == NULL ? SB_ERR_STORAGE : e;
	if ((st = item_stmt(d, ST_INDEX_SORTABLES_DELETE, group_id,
	    item_id)) == NULL || (e = run(d, st, NULL)) != SB_OK)
		return st == NULL ? SB_ERR_STORAGE : e;
	for (i = 0; i < ix->nlists; i++)
		for (j = 0; j < ix->nhashes[i]; j++) {
			if ((st = item_stmt(d, ST_INDEX_HASH_ADD, group_id,
			    item_id)) == NULL)
				return SB_ERR_STORAGE;
			sqlite3_bind_text(st, 3, ix->lists[i][j], -1,
			    SQLITE_STATIC);
			sqlite3_bind_int(st, 4, j + 1 == ix->nhashes[i]);
			if ((e = run(d, st, NULL)) != SB_OK)
				return e;
		}
	for (i = 0; i < ix->nsortables; i++) {
		if ((st = item_stmt(d, ST_INDEX_SORTABLE_ADD, group_id,
		    item_id)) == NULL)
			return SB_ERR_STORAGE;
		sqlite3_bind_text(st, 3, ix->sortables[i].name, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, ix->sortables[i].value);
		if ((e = run(d, st, NULL)) != SB_OK)
			return e;
	}
	return SB_OK;
}

static enum sb_err
lite_item_put_index(struct sb_db *base, const char *group_id,
    const char *item_id, const char *author, const char *data, size_t len,
    const struct sb_item_index *ix)
{
	struct lite	*d = (struct lite *)base;
	enum sb_err	 e;

	if ((e = tx(d, ST_BEGIN)) != SB_OK)
		return e;
	if ((e = put_index(d, group_id, item_id, author, data, len, ix)) ==
	    SB_OK && (e = tx(d, ST_COMMIT)) == SB_OK)
		return SB_OK;
	tx(d, ST_ROLLBACK);
	return e;
}

static enum sb_err
lite_item_search(struct sb_db *base, const char *group_id,
    const struct sb_item_query *q,
    void (*fn)(void *, const struct sb_item *, int64_t), void *arg)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	struct sb_item	 it;
	enum stmt	 s;
	int64_t		 min = q->min, max = q->max, cv;
	const char	*cid;
	int		 rc;

	if (q->sort == NULL)
		s = ST_SEARCH_HASH;
	else if (q->hash == NULL)
		s = q->desc ? ST_SEARCH_SORT_DESC : ST_SEARCH_SORT_ASC;
	else
		s = q->desc ? ST_SEARCH_BOTH_DESC : ST_SEARCH_BOTH_ASC;
	/* The first page: a cursor before every item, in either order. */
	cid = *q->after_id != '\0' ? q->after_id : q->desc ? "~" : "";
	cv = *q->after_id != '\0' ? q->after_value : q->desc ? max + 1 :
	    min - 1;
	if (*q->after_id != '\0' && !q->desc && cv > min)
		min = cv;
	if (*q->after_id != '\0' && q->desc && cv < max)
		max = cv;
	if ((st = stmt(d, s)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, group_id, -1, SQLITE_STATIC);
	if (q->hash != NULL)
		sqlite3_bind_text(st, 2, q->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, q->exact);
	if (q->sort != NULL)
		sqlite3_bind_text(st, 4, q->sort, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, min);
	sqlite3_bind_int64(st, 6, max);
	sqlite3_bind_int64(st, 7, cv);
	sqlite3_bind_text(st, 8, cid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, q->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		it.item_id = (const char *)sqlite3_column_text(st, 0);
		it.author = (const char *)sqlite3_column_text(st, 1);
		it.data = NULL;
		it.len = 0;
		it.created_at = sqlite3_column_int64(st, 3);
		it.updated_at = sqlite3_column_int64(st, 4);
		fn(arg, &it, sqlite3_column_int64(st, 5));
	}
	if (rc != SQLITE_DONE)
		return failed(d, st);
	sqlite3_reset(st);
	return SB_OK;
}

static enum sb_err
lite_access_revoke(struct sb_db *base, const char *id, int64_t at)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	enum sb_err	 e;

	if ((e = tx(d, ST_BEGIN)) != SB_OK)
		return e;
	if ((e = tx(d, ST_REVOKE_COUNT)) == SB_OK &&
	    (e = key_at(d, ST_REVOKE, id, at)) == SB_OK) {
		if ((st = stmt(d, ST_REVOKE_PURGE)) == NULL)
			e = SB_ERR_STORAGE;
		else {
			sqlite3_bind_int64(st, 1, at - 3600);
			e = run(d, st, NULL);
		}
	}
	if (e == SB_OK && (e = tx(d, ST_COMMIT)) == SB_OK)
		return SB_OK;
	tx(d, ST_ROLLBACK);
	return e;
}

static enum sb_err
lite_access_epoch(struct sb_db *base, int64_t *epoch)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;

	if ((st = stmt(d, ST_EPOCH)) == NULL)
		return SB_ERR_STORAGE;
	if (sqlite3_step(st) != SQLITE_ROW)
		return failed(d, st);
	*epoch = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return SB_OK;
}

static enum sb_err
lite_access_revoked(struct sb_db *base, const char *const *ids, size_t n,
    int64_t epoch, bool *revoked)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	size_t		 i;

	if (n > 8 || (st = stmt(d, ST_REVOKED)) == NULL)
		return SB_ERR_STORAGE;
	for (i = 0; i < n; i++)
		sqlite3_bind_text(st, (int)i + 1, ids[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, epoch);
	if (sqlite3_step(st) != SQLITE_ROW)
		return failed(d, st);
	*revoked = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return SB_OK;
}

static enum sb_err
lite_file_part_put(struct sb_db *base, const char *part_id,
    const void *data, size_t len)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;

	if (len > INT_MAX || (st = stmt(d, ST_FILE_PART_PUT)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, part_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, data, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, sb_now());
	return run(d, st, NULL);
}

static enum sb_err
lite_file_part_get(struct sb_db *base, const char *part_id, size_t cap,
    char **data, size_t *len)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	const void	*p;
	size_t		 n;
	int		 rc;

	if ((st = stmt(d, ST_FILE_PART_GET)) == NULL)
		return SB_ERR_STORAGE;
	sqlite3_bind_text(st, 1, part_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		sqlite3_reset(st);
		return SB_ERR_NO_FILE_PART;
	}
	if (rc != SQLITE_ROW)
		return failed(d, st);
	p = sqlite3_column_blob(st, 0);
	n = (size_t)sqlite3_column_bytes(st, 0);
	if (n > cap || (*data = malloc(n + 1)) == NULL) {
		sqlite3_reset(st);
		return n > cap ? SB_ERR_STORAGE : SB_ERR_INTERNAL;
	}
	if (n > 0)
		memcpy(*data, p, n);
	(*data)[n] = '\0';
	*len = n;
	sqlite3_reset(st);
	return SB_OK;
}

static enum sb_err
lite_file_part_delete(struct sb_db *base, const char *const *ids, size_t n)
{
	struct lite	*d = (struct lite *)base;
	sqlite3_stmt	*st;
	enum sb_err	 e;
	size_t		 i;

	if ((e = tx(d, ST_BEGIN)) != SB_OK)
		return e;
	for (i = 0; i < n; i++) {
		if ((st = stmt(d, ST_FILE_PART_DELETE)) == NULL) {
			e = SB_ERR_STORAGE;
			break;
		}
		sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
		if ((e = run(d, st, NULL)) != SB_OK)
			break;
	}
	if (e == SB_OK && (e = tx(d, ST_COMMIT)) == SB_OK)
		return SB_OK;
	tx(d, ST_ROLLBACK);
	return e;
}

const struct sb_db_ops sb_db_sqlite_ops = {
	.name = "sqlite",
	.open = lite_open,
	.close = lite_close,
	.ping = lite_ping,
	.user_create = lite_user_create,
	.user_data = lite_user_data,
	.user_set_data = lite_user_set_data,
	.user_delete = lite_user_delete,
	.user_by_identifier = lite_user_by_identifier,
	.group_create = lite_group_create,
	.group_data = lite_group_data,
	.group_set_data = lite_group_set_data,
	.group_delete = lite_group_delete,
	.item_put = lite_item_put,
	.item_get = lite_item_get,
	.item_delete = lite_item_delete,
	.item_list = lite_item_list,
	.unsure_add = lite_unsure_add,
	.unsure_take = lite_unsure_take,
	.unsure_hold = lite_unsure_hold,
	.unsure_release = lite_unsure_release,
	.unsure_done = lite_unsure_done,
	.session_end_token = lite_session_end_token,
	.session_end_user = lite_session_end_user,
	.session_ended = lite_session_ended,
	.session_purge = lite_session_purge,
	.item_put_index = lite_item_put_index,
	.item_search = lite_item_search,
	.access_revoke = lite_access_revoke,
	.access_epoch = lite_access_epoch,
	.access_revoked = lite_access_revoked,
	.file_part_put = lite_file_part_put,
	.file_part_get = lite_file_part_get,
	.file_part_delete = lite_file_part_delete,
};
