/*
 * sb_db.h: the backend's own store: the user data sentc does not keep.
 *
 * Two stores implement it: SQLite (sb_db_sqlite.c: one file, WAL, busy
 * timeout), the default, and PostgreSQL (sb_db_pg.c: one connection per
 * worker, shared by several hosts). SENTC_BACKEND_DB picks one: a
 * postgresql:// or postgres:// URI, or libpq's keyword=value form
 * ("host=… dbname=…": anything with an '='), is PostgreSQL; a path
 * without one is a SQLite file, which is made readable by its owner
 * only. Both create and migrate the same schema at start. The calls
 * speak only of users, groups, items, the ends of cookie sessions and
 * calls whose answer was lost. Every failure of the store is
 * SB_ERR_STORAGE (503): the caller may retry later.
 */
#ifndef SB_DB_H
#define SB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"

struct sb_db;

/*
 * Opens the store named by spec (a file path or a PostgreSQL connection
 * string) and brings its schema to the current version. Returns SB_OK
 * with *out, or SB_ERR_STORAGE with a reason in err that never holds the
 * connection string's password. A SQLite file it makes (and its -wal and
 * -shm files) is readable and writable by its owner only (0600),
 * whatever the umask.
 */
enum sb_err	 sb_db_open(const char *spec, struct sb_db **out,
		    char *err, size_t errlen);
void		 sb_db_close(struct sb_db *);

/*
 * True if spec names a PostgreSQL database rather than a SQLite file: a
 * postgresql:// or postgres:// URI, or anything with an '=' (libpq's
 * keyword=value form, or a connection string libpq then refuses: never
 * a file name).
 */
bool		 sb_db_spec_is_pg(const char *spec);

/*
 * spec as it may be logged, into out (truncated to outsz): a SQLite path
 * as it is, a PostgreSQL connection string (a URI or keyword=value pairs)
 * as postgresql://user@host:port/dbname, with no password; one libpq
 * cannot read, as a remark that says so, with nothing of it.
 */
void		 sb_db_spec_display(const char *spec, char *out, size_t outsz);

/*
 * Does the store answer? SB_OK, or SB_ERR_STORAGE (logged). A broken
 * PostgreSQL connection is re-opened first.
 */
enum sb_err	 sb_db_ping(struct sb_db *);

/*
 * This worker's connection, opened on first use from sb_cfg. NULL if the
 * store cannot be opened now (logged); the next call tries again. A
 * PostgreSQL connection that breaks later is re-opened by the next call
 * that uses it: a call that found it broken runs once more on the fresh
 * one where running twice is safe, and fails with SB_ERR_STORAGE
 * otherwise.
 */
struct sb_db	*sb_db(void);

/* As sb_db(), but answers 503 when it returns NULL. */
struct sb_req;
struct sb_db	*sb_db_for(struct sb_req *);

/* Closes this worker's connection (at exit). */
void		 sb_db_release(void);

/* Schema version the code expects. */
int		 sb_db_schema_version(void);

/*
 * Stores a new user: its sentc user id, the device identifier it was
 * registered with, and its own data (JSON object text, NULL for {}).
 */
enum sb_err	 sb_db_user_create(struct sb_db *, const char *user_id,
		    const char *identifier, const char *user_data);

/*
 * The user's own data as JSON text in *out, which the caller frees.
 * SB_ERR_NO_USER_DATA if the user has no row.
 */
enum sb_err	 sb_db_user_data(struct sb_db *, const char *user_id,
		    char **out);

/* Replaces the user's data; SB_ERR_NO_USER_DATA if the user has no row. */
enum sb_err	 sb_db_user_set_data(struct sb_db *, const char *user_id,
		    const char *user_data);

/* Removes the user's row; removing a missing row is not an error. */
enum sb_err	 sb_db_user_delete(struct sb_db *, const char *user_id);

/* The user id registered with identifier into out (SB_ID_LEN + 1). */
enum sb_err	 sb_db_user_by_identifier(struct sb_db *,
		    const char *identifier, char *out, size_t outsz);

/*
 * Stores a group created through the backend: its id, its creator (a
 * sentc user id) and its own data (JSON object text, NULL for {}).
 */
enum sb_err	 sb_db_group_create(struct sb_db *, const char *group_id,
		    const char *creator, const char *group_data);

/*
 * The group's own data as JSON text in *out, which the caller frees.
 * SB_ERR_NO_GROUP_DATA if the group has no row.
 */
enum sb_err	 sb_db_group_data(struct sb_db *, const char *group_id,
		    char **out);

/* Replaces the group's data; SB_ERR_NO_GROUP_DATA if it has no row. */
enum sb_err	 sb_db_group_set_data(struct sb_db *, const char *group_id,
		    const char *group_data);

/* Removes a group's row and all its items, in one transaction. */
enum sb_err	 sb_db_group_delete(struct sb_db *, const char *group_id);

/* An item of a group's store, as read back. */
struct sb_item {
	const char	*item_id;
	const char	*author;	/* sentc user id of the last writer */
	const char	*data;		/* the client's ciphertext */
	size_t		 len;
	int64_t		 created_at, updated_at;
};

/* Creates or replaces an item. */
enum sb_err	 sb_db_item_put(struct sb_db *, const char *group_id,
		    const char *item_id, const char *author, const char *data,
		    size_t len);

/*
 * Calls fn with the item (valid during the call only); SB_ERR_NO_ITEM if
 * there is none.
 */
enum sb_err	 sb_db_item_get(struct sb_db *, const char *group_id,
		    const char *item_id,
		    void (*fn)(void *, const struct sb_item *), void *arg);

/* Removes an item; SB_ERR_NO_ITEM if there was none. */
enum sb_err	 sb_db_item_delete(struct sb_db *, const char *group_id,
		    const char *item_id);

/*
 * Calls fn for up to limit items of the group whose id sorts after
 * after ("" for the first page), in id order; data is NULL in these.
 */
enum sb_err	 sb_db_item_list(struct sb_db *, const char *group_id,
		    const char *after, long limit,
		    void (*fn)(void *, const struct sb_item *), void *arg);

/*
 * Calls to sentc whose answer was lost, until they are settled: the
 * store's side of lib/sb_unsure.h. A record is a kind (SB_UNSURE_*) and
 * a key (an identifier, a user id), with the time it was made (since),
 * the time before which nobody settles it (due), and the time until
 * which one worker holds it (held; 0: nobody).
 */
struct sb_unsure {
	int		 kind;		/* 0: none */
	char		*key;		/* the caller frees it */
	int64_t		 since;
};

/* Adds the record; one already there gets since and due anew, unheld. */
enum sb_err	 sb_db_unsure_add(struct sb_db *, int kind, const char *key,
		    int64_t since, int64_t due);

/*
 * Takes the record longest due at now that nobody holds: it is held
 * until held and due again at due. u->kind is 0 if there is none.
 */
enum sb_err	 sb_db_unsure_take(struct sb_db *, int64_t now, int64_t held,
		    int64_t due, struct sb_unsure *u);

/*
 * Holds the record (kind, key), whether due or not, until held, unless
 * another holds it at now. *state: 0 no such record, 1 held now, -1 held
 * by another.
 */
enum sb_err	 sb_db_unsure_hold(struct sb_db *, int kind, const char *key,
		    int64_t now, int64_t held, int *state);

/* Lets the record go (held 0), or removes it once settled. */
enum sb_err	 sb_db_unsure_release(struct sb_db *, int kind,
		    const char *key);
enum sb_err	 sb_db_unsure_done(struct sb_db *, int kind, const char *key);

/*
 * The ends of cookie sessions (lib/sb_session.h), in the store so that
 * they hold on every host and after a restart. Each record has the time
 * at which it was made (seconds); it is needed until every cookie it
 * ends has expired anyway, and then purged.
 *
 * sb_db_session_end_token() records that the refresh token whose digest
 * is digest (never the token itself) has ended at time at;
 * sb_db_session_end_user() that every cookie session of user_id sealed
 * at or before at has ended. Recording again keeps the later time.
 */
enum sb_err	 sb_db_session_end_token(struct sb_db *, const char *digest,
		    int64_t at);
enum sb_err	 sb_db_session_end_user(struct sb_db *, const char *user_id,
		    int64_t at);

/*
 * Has the cookie session with the token of digest, for user_id, sealed
 * at sealed_at, ended? *ended is true if its token has ended, or if the
 * sessions of user_id have ended at or after sealed_at.
 */
enum sb_err	 sb_db_session_ended(struct sb_db *, const char *digest,
		    const char *user_id, int64_t sealed_at, bool *ended);

/* Removes the records of ends made before before. */
enum sb_err	 sb_db_session_purge(struct sb_db *, int64_t before);

/*
 * What makes an item findable without the backend reading it: the
 * search hashes and sortable values the SDK makes from the cleartext
 * (searchable and sortable encryption). Each hash is 43 characters of
 * base64url; lists[i] holds list i's hashes, the last being the whole
 * word. A sortable value is a name and an integer 0..4294967294. The
 * caller validates; the store keeps each hash once per item, marked
 * "last" if it is the last of any list.
 */
struct sb_item_sortable {
	const char	*name;
	int64_t		 value;
};

struct sb_item_index {
	const char *const *const *lists;	/* nlists lists of hashes */
	const size_t		 *nhashes;	/* hashes in each list */
	size_t			  nlists;
	const struct sb_item_sortable *sortables;
	size_t			  nsortables;
};

/*
 * Creates or replaces an item together with its hashes and sortable
 * values (those of an earlier version go), in one transaction.
 */
enum sb_err	 sb_db_item_put_index(struct sb_db *, const char *group_id,
		    const char *item_id, const char *author, const char *data,
		    size_t len, const struct sb_item_index *);

/*
 * A query on a group's items: by hash (any hash of the item, a prefix
 * match; or, with exact, its last hash: the whole word), by a sortable
 * value's range, or both. Results come in a stable order: by item id
 * without a sortable name, else by (value, item id), ascending or
 * descending; a page starts after the cursor (after_value, after_id)
 * of the one before ("" for the first page).
 */
struct sb_item_query {
	const char	*hash;		/* NULL: any item */
	bool		 exact;
	const char	*sort;		/* sortable name, NULL: none */
	int64_t		 min, max;	/* inclusive */
	bool		 desc;
	const char	*after_id;	/* "": the first page */
	int64_t		 after_value;
	long		 limit;
};

/*
 * Calls fn for up to q->limit items (data NULL) that match, with the
 * item's value of q->sort (0 without one), in the order q asks.
 */
enum sb_err	 sb_db_item_search(struct sb_db *, const char *group_id,
		    const struct sb_item_query *q,
		    void (*fn)(void *, const struct sb_item *, int64_t),
		    void *arg);

/*
 * Cached answers about group access made before a group was deleted or
 * a member kicked must not be used any more, in any program or on any
 * host. Each end of access gets the next number of a counter the store
 * keeps (never going back, whatever the hosts' clocks say):
 * sb_db_access_revoke() records that the cached answers naming id (a
 * group, or a user) end now; sb_db_access_epoch() reads the counter into
 * *epoch (before sentc is asked, to store with the answer);
 * sb_db_access_revoked() tells whether any of ids[0..n) (at most 8; ""
 * ones match nothing) has ended since the counter read epoch. Records
 * older than an hour (at, in epoch seconds: beyond any cache TTL) are
 * purged as new ones are made.
 */
enum sb_err	 sb_db_access_revoke(struct sb_db *, const char *id,
		    int64_t at);
enum sb_err	 sb_db_access_epoch(struct sb_db *, int64_t *epoch);
enum sb_err	 sb_db_access_revoked(struct sb_db *,
		    const char *const *ids, size_t n, int64_t epoch,
		    bool *revoked);

/*
 * Encrypted file parts kept in the store (SENTC_BACKEND_FILE_STORE=db,
 * docs/FILES.md), by the part id sentc gave them. sb_db_file_part_put()
 * stores data[0..len) under part_id (one stored already is left as it
 * is); sb_db_file_part_get() reads one whole, at most cap bytes, into
 * *data (the caller frees it), SB_ERR_NO_FILE_PART if none;
 * sb_db_file_part_delete() removes ids[0..n) (at most 1000), ones
 * already gone being no error.
 */
enum sb_err	 sb_db_file_part_put(struct sb_db *, const char *part_id,
		    const void *data, size_t len);
enum sb_err	 sb_db_file_part_get(struct sb_db *, const char *part_id,
		    size_t cap, char **data, size_t *len);
enum sb_err	 sb_db_file_part_delete(struct sb_db *,
		    const char *const *ids, size_t n);

#endif
