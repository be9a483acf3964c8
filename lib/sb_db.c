/*
 * What every store shares: picking the store, this worker's connection,
 * the calls dispatched to the store that opened it, the route helpers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/*
 * A worker's connections: a pool of at most SENTC_BACKEND_DB_CONNECTIONS,
 * opened as needed and shared by the requests it carries. Each call takes
 * one for its own length; a request that finds all taken waits, parked,
 * for the next one put back. Route code holds the pool (sb_db()), never
 * a connection, so no connection is held across a call to sentc.
 */
struct waiter {
	struct sb_task	*task;
	struct sb_db	*conn;		/* handed over; NULL: take anew */
	struct waiter	*next;
};

static struct sb_db	 pool;		/* what sb_db() returns */
static struct sb_db	*idle[1024];	/* put back, ready */
static size_t		 nidle;
static size_t		 nopen;		/* idle and taken */
static struct waiter	*waiters, **waiters_tail = &waiters;

/*
 * libpq's own rule for a database name that is a connection string
 * (PQconnectdbParams with expand_dbname): one of its two URI prefixes, or
 * an '='. libpq's PQconninfoParse then reads it; one it cannot read is
 * refused with libpq's reason, never taken for a SQLite file named after
 * the connection string, password and all.
 */
bool
sb_db_spec_is_pg(const char *spec)
{
	return strncmp(spec, "postgresql://", 13) == 0 ||
	    strncmp(spec, "postgres://", 11) == 0 || strchr(spec, '=') != NULL;
}

void
sb_db_spec_display(const char *spec, char *out, size_t outsz)
{
	if (sb_db_spec_is_pg(spec))
		sb_db_pg_display(spec, out, outsz);
	else
		snprintf(out, outsz, "%s", spec);
}

static const struct sb_db_ops *
ops_for(const char *spec)
{
	return sb_db_spec_is_pg(spec) ? &sb_db_pg_ops : &sb_db_sqlite_ops;
}

enum sb_err
sb_db_open(const char *spec, struct sb_db **out, char *err, size_t errlen)
{
	*out = NULL;
	return ops_for(spec)->open(spec, out, err, errlen);
}

void
sb_db_close(struct sb_db *d)
{
	if (d != NULL)
		d->ops->close(d);
}

int
sb_db_schema_version(void)
{
	return SB_DB_SCHEMA_VERSION;
}

static size_t
pool_max(void)
{
	size_t	 max = (size_t)sb_cfg->db_connections;

	return max > sizeof(idle) / sizeof(idle[0]) ?
	    sizeof(idle) / sizeof(idle[0]) : max;
}

/* A new connection of the pool, or NULL (logged). */
static struct sb_db *
pool_open(void)
{
	struct sb_db	*c;
	char		 err[512];

	nopen++;
	if (sb_db_open(sb_cfg->db, &c, err, sizeof(err)) != SB_OK) {
		nopen--;
		sb_log(SB_LOG_ERR, "database: %s", err);
		return NULL;
	}
	return c;
}

/* A connection for one call on d: d itself, unless d is the pool. */
static struct sb_db *
take(struct sb_db *d)
{
	struct waiter	 me;
	struct sb_task	*self;

	if (d != &pool)
		return d;
	for (;;) {
		if (nidle > 0)
			return idle[--nidle];
		if (nopen < pool_max() || (self = sb_task_self()) == NULL)
			return pool_open();
		me.task = self;
		me.conn = NULL;
		me.next = NULL;
		*waiters_tail = &me;
		waiters_tail = &me.next;
		sb_task_park();
		if (me.conn != NULL)
			return me.conn;
	}
}

/*
 * Puts back what take() gave. A store that found its connection beyond
 * repair (SQLite: a file made read-only, replaced or failing) marked it
 * broken: it is closed, and the next call opens a new one.
 */
static void
put(struct sb_db *d, struct sb_db *c)
{
	struct waiter	*w;

	if (d != &pool)
		return;
	if (c->broken) {
		sb_db_close(c);
		nopen--;
		c = NULL;
	}
	if ((w = waiters) != NULL) {
		if ((waiters = w->next) == NULL)
			waiters_tail = &waiters;
		w->conn = c;
		sb_task_wake(w->task);
		return;
	}
	if (c != NULL && nidle < sizeof(idle) / sizeof(idle[0]))
		idle[nidle++] = c;
	else if (c != NULL) {
		sb_db_close(c);
		nopen--;
	}
}

#define CALL(d, op, ...) do {						\
	struct sb_db	*c_;						\
	enum sb_err	 e_;						\
									\
	if ((c_ = take(d)) == NULL)					\
		return SB_ERR_STORAGE;					\
	e_ = c_->ops->op(c_, __VA_ARGS__);				\
	put(d, c_);							\
	return e_;							\
} while (0)

static enum sb_err
call_ping(struct sb_db *d)
{
	struct sb_db	*c;
	enum sb_err	 e;

	if ((c = take(d)) == NULL)
		return SB_ERR_STORAGE;
	e = c->ops->ping(c);
	put(d, c);
	return e;
}

/*
 * The worker's pool; NULL if no connection can be opened (one is opened
 * and kept, if none is yet).
 */
struct sb_db *
sb_db(void)
{
	struct sb_db	*c;

	if (nopen == 0) {
		if ((c = pool_open()) == NULL)
			return NULL;
		idle[nidle++] = c;
	}
	return &pool;
}

struct sb_db *
sb_db_for(struct sb_req *req)
{
	struct sb_db	*db;

	if ((db = sb_db()) == NULL)
		sb_reply_err(req, SB_ERR_STORAGE, NULL);
	return db;
}

void
sb_db_release(void)
{
	while (nidle > 0) {
		sb_db_close(idle[--nidle]);
		nopen--;
	}
}

enum sb_err
sb_db_ping(struct sb_db *d)
{
	return call_ping(d);
}

enum sb_err
sb_db_user_create(struct sb_db *d, const char *user_id,
    const char *identifier, const char *user_data)
{
	CALL(d, user_create, user_id, identifier, user_data);
}

enum sb_err
sb_db_user_data(struct sb_db *d, const char *user_id, char **out)
{
	*out = NULL;
	CALL(d, user_data, user_id, out);
}

enum sb_err
sb_db_user_set_data(struct sb_db *d, const char *user_id,
    const char *user_data)
{
	CALL(d, user_set_data, user_id, user_data);
}

enum sb_err
sb_db_user_delete(struct sb_db *d, const char *user_id)
{
	CALL(d, user_delete, user_id);
}

enum sb_err
sb_db_user_by_identifier(struct sb_db *d, const char *identifier, char *out,
    size_t outsz)
{
	CALL(d, user_by_identifier, identifier, out, outsz);
}

enum sb_err
sb_db_group_create(struct sb_db *d, const char *group_id, const char *creator,
    const char *group_data)
{
	CALL(d, group_create, group_id, creator, group_data);
}

enum sb_err
sb_db_group_data(struct sb_db *d, const char *group_id, char **out)
{
	*out = NULL;
	CALL(d, group_data, group_id, out);
}

enum sb_err
sb_db_group_set_data(struct sb_db *d, const char *group_id,
    const char *group_data)
{
	CALL(d, group_set_data, group_id, group_data);
}

enum sb_err
sb_db_group_delete(struct sb_db *d, const char *group_id)
{
	CALL(d, group_delete, group_id);
}

enum sb_err
sb_db_item_put(struct sb_db *d, const char *group_id, const char *item_id,
    const char *author, const char *data, size_t len)
{
	CALL(d, item_put, group_id, item_id, author, data, len);
}

enum sb_err
sb_db_item_get(struct sb_db *d, const char *group_id, const char *item_id,
    void (*fn)(void *, const struct sb_item *), void *arg)
{
	CALL(d, item_get, group_id, item_id, fn, arg);
}

enum sb_err
sb_db_item_delete(struct sb_db *d, const char *group_id, const char *item_id)
{
	CALL(d, item_delete, group_id, item_id);
}

enum sb_err
sb_db_item_list(struct sb_db *d, const char *group_id, const char *after,
    long limit, void (*fn)(void *, const struct sb_item *), void *arg)
{
	CALL(d, item_list, group_id, after, limit, fn, arg);
}

enum sb_err
sb_db_unsure_add(struct sb_db *d, int kind, const char *key, int64_t since,
    int64_t due)
{
	CALL(d, unsure_add, kind, key, since, due);
}

enum sb_err
sb_db_unsure_take(struct sb_db *d, int64_t now, int64_t held, int64_t due,
    struct sb_unsure *u)
{
	struct sb_db	*c;
	enum sb_err	 e;

	memset(u, 0, sizeof(*u));
	if ((c = take(d)) == NULL)
		return SB_ERR_STORAGE;
	e = c->ops->unsure_take(c, now, held, due, u);
	put(d, c);
	if (e == SB_OK && u->kind != 0 && u->key == NULL)
		e = SB_ERR_INTERNAL;	/* out of memory: it is held, and */
					/* due again later */
	if (e != SB_OK) {
		free(u->key);
		memset(u, 0, sizeof(*u));
	}
	return e;
}

enum sb_err
sb_db_unsure_hold(struct sb_db *d, int kind, const char *key, int64_t now,
    int64_t held, int *state)
{
	*state = 0;
	CALL(d, unsure_hold, kind, key, now, held, state);
}

enum sb_err
sb_db_unsure_release(struct sb_db *d, int kind, const char *key)
{
	CALL(d, unsure_release, kind, key);
}

enum sb_err
sb_db_unsure_done(struct sb_db *d, int kind, const char *key)
{
	CALL(d, unsure_done, kind, key);
}

enum sb_err
sb_db_session_end_token(struct sb_db *d, const char *digest, int64_t at)
{
	CALL(d, session_end_token, digest, at);
}

enum sb_err
sb_db_session_end_user(struct sb_db *d, const char *user_id, int64_t at)
{
	CALL(d, session_end_user, user_id, at);
}

enum sb_err
sb_db_session_ended(struct sb_db *d, const char *digest, const char *user_id,
    int64_t sealed_at, bool *ended)
{
	*ended = false;
	CALL(d, session_ended, digest, user_id, sealed_at, ended);
}

enum sb_err
sb_db_session_purge(struct sb_db *d, int64_t before)
{
	CALL(d, session_purge, before);
}

enum sb_err
sb_db_item_put_index(struct sb_db *d, const char *group_id,
    const char *item_id, const char *author, const char *data, size_t len,
    const struct sb_item_index *ix)
{
	CALL(d, item_put_index, group_id, item_id, author, data, len, ix);
}

enum sb_err
sb_db_item_search(struct sb_db *d, const char *group_id,
    const struct sb_item_query *q,
    void (*fn)(void *, const struct sb_item *, int64_t), void *arg)
{
	CALL(d, item_search, group_id, q, fn, arg);
}

enum sb_err
sb_db_access_revoke(struct sb_db *d, const char *id, int64_t at)
{
	CALL(d, access_revoke, id, at);
}

enum sb_err
sb_db_access_epoch(struct sb_db *d, int64_t *epoch)
{
	*epoch = 0;
	CALL(d, access_epoch, epoch);
}

enum sb_err
sb_db_access_revoked(struct sb_db *d, const char *const *ids, size_t n,
    int64_t epoch, bool *revoked)
{
	*revoked = false;
	CALL(d, access_revoked, ids, n, epoch, revoked);
}

enum sb_err
sb_db_file_part_put(struct sb_db *d, const char *part_id, const void *data,
    size_t len)
{
	CALL(d, file_part_put, part_id, data, len);
}

enum sb_err
sb_db_file_part_get(struct sb_db *d, const char *part_id, size_t cap,
    char **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	CALL(d, file_part_get, part_id, cap, data, len);
}

enum sb_err
sb_db_file_part_delete(struct sb_db *d, const char *const *ids, size_t n)
{
	if (n == 0)
		return SB_OK;
	CALL(d, file_part_delete, ids, n);
}
