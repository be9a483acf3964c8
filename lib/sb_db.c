/*
 * What every store shares: picking the store, this worker's connection,
 * the calls dispatched to the store that opened it, the route helpers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_config.h"
#include "sb_db_impl.h"
#include "sb_log.h"
#include "sb_response.h"

static struct sb_db	*worker_db;

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

/*
 * A store that found its connection beyond repair (SQLite: a file made
 * read-only, replaced or failing) marks it broken: it is closed here and
 * opened anew before the next request.
 */
struct sb_db *
sb_db(void)
{
	char	 err[512];

	if (worker_db != NULL && worker_db->broken) {
		sb_db_close(worker_db);
		worker_db = NULL;
	}
	if (worker_db == NULL &&
	    sb_db_open(sb_cfg->db, &worker_db, err, sizeof(err)) != SB_OK)
		sb_log(SB_LOG_ERR, "database: %s", err);
	return worker_db;
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
	sb_db_close(worker_db);
	worker_db = NULL;
}

enum sb_err
sb_db_ping(struct sb_db *d)
{
	return d->ops->ping(d);
}

enum sb_err
sb_db_user_create(struct sb_db *d, const char *user_id,
    const char *identifier, const char *user_data)
{
	return d->ops->user_create(d, user_id, identifier, user_data);
}

enum sb_err
sb_db_user_data(struct sb_db *d, const char *user_id, char **out)
{
	*out = NULL;
	return d->ops->user_data(d, user_id, out);
}

enum sb_err
sb_db_user_set_data(struct sb_db *d, const char *user_id,
    const char *user_data)
{
	return d->ops->user_set_data(d, user_id, user_data);
}

enum sb_err
sb_db_user_delete(struct sb_db *d, const char *user_id)
{
	return d->ops->user_delete(d, user_id);
}

enum sb_err
sb_db_user_by_identifier(struct sb_db *d, const char *identifier, char *out,
    size_t outsz)
{
	return d->ops->user_by_identifier(d, identifier, out, outsz);
}

enum sb_err
sb_db_group_create(struct sb_db *d, const char *group_id, const char *creator,
    const char *group_data)
{
	return d->ops->group_create(d, group_id, creator, group_data);
}

enum sb_err
sb_db_group_data(struct sb_db *d, const char *group_id, char **out)
{
	*out = NULL;
	return d->ops->group_data(d, group_id, out);
}

enum sb_err
sb_db_group_set_data(struct sb_db *d, const char *group_id,
    const char *group_data)
{
	return d->ops->group_set_data(d, group_id, group_data);
}

enum sb_err
sb_db_group_delete(struct sb_db *d, const char *group_id)
{
	return d->ops->group_delete(d, group_id);
}

enum sb_err
sb_db_item_put(struct sb_db *d, const char *group_id, const char *item_id,
    const char *author, const char *data, size_t len)
{
	return d->ops->item_put(d, group_id, item_id, author, data, len);
}

enum sb_err
sb_db_item_get(struct sb_db *d, const char *group_id, const char *item_id,
    void (*fn)(void *, const struct sb_item *), void *arg)
{
	return d->ops->item_get(d, group_id, item_id, fn, arg);
}

enum sb_err
sb_db_item_delete(struct sb_db *d, const char *group_id, const char *item_id)
{
	return d->ops->item_delete(d, group_id, item_id);
}

enum sb_err
sb_db_item_list(struct sb_db *d, const char *group_id, const char *after,
    long limit, void (*fn)(void *, const struct sb_item *), void *arg)
{
	return d->ops->item_list(d, group_id, after, limit, fn, arg);
}

enum sb_err
sb_db_unsure_add(struct sb_db *d, int kind, const char *key, int64_t since,
    int64_t due)
{
	return d->ops->unsure_add(d, kind, key, since, due);
}

enum sb_err
sb_db_unsure_take(struct sb_db *d, int64_t now, int64_t held, int64_t due,
    struct sb_unsure *u)
{
	enum sb_err	 e;

	memset(u, 0, sizeof(*u));
	e = d->ops->unsure_take(d, now, held, due, u);
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
	return d->ops->unsure_hold(d, kind, key, now, held, state);
}

enum sb_err
sb_db_unsure_release(struct sb_db *d, int kind, const char *key)
{
	return d->ops->unsure_release(d, kind, key);
}

enum sb_err
sb_db_unsure_done(struct sb_db *d, int kind, const char *key)
{
	return d->ops->unsure_done(d, kind, key);
}

enum sb_err
sb_db_session_end_token(struct sb_db *d, const char *digest, int64_t at)
{
	return d->ops->session_end_token(d, digest, at);
}

enum sb_err
sb_db_session_end_user(struct sb_db *d, const char *user_id, int64_t at)
{
	return d->ops->session_end_user(d, user_id, at);
}

enum sb_err
sb_db_session_ended(struct sb_db *d, const char *digest, const char *user_id,
    int64_t sealed_at, bool *ended)
{
	*ended = false;
	return d->ops->session_ended(d, digest, user_id, sealed_at, ended);
}

enum sb_err
sb_db_session_purge(struct sb_db *d, int64_t before)
{
	return d->ops->session_purge(d, before);
}

enum sb_err
sb_db_item_put_index(struct sb_db *d, const char *group_id,
    const char *item_id, const char *author, const char *data, size_t len,
    const struct sb_item_index *ix)
{
	return d->ops->item_put_index(d, group_id, item_id, author, data, len,
	    ix);
}

enum sb_err
sb_db_item_search(struct sb_db *d, const char *group_id,
    const struct sb_item_query *q,
    void (*fn)(void *, const struct sb_item *, int64_t), void *arg)
{
	return d->ops->item_search(d, group_id, q, fn, arg);
}

enum sb_err
sb_db_access_revoke(struct sb_db *d, const char *id, int64_t at)
{
	return d->ops->access_revoke(d, id, at);
}

enum sb_err
sb_db_access_epoch(struct sb_db *d, int64_t *epoch)
{
	*epoch = 0;
	return d->ops->access_epoch(d, epoch);
}

enum sb_err
sb_db_access_revoked(struct sb_db *d, const char *const *ids, size_t n,
    int64_t epoch, bool *revoked)
{
	*revoked = false;
	return d->ops->access_revoked(d, ids, n, epoch, revoked);
}
