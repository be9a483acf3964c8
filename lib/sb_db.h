/*
 * sb_db.h: the backend's own store: the user data sentc does not keep.
 *
 * SQLite (WAL, busy timeout, schema created and migrated at start) is the
 * implementation; the calls speak only of users and their data, so that
 * another store can implement the same interface. Every failure of the
 * store is SB_ERR_STORAGE (503): the caller may retry later.
 */
#ifndef SB_DB_H
#define SB_DB_H

#include <stddef.h>
#include <stdint.h>

#include "sb_error.h"

struct sb_db;

/*
 * Opens the store named by spec (a file path) and brings its schema to
 * the current version. Returns SB_OK with *out, or SB_ERR_STORAGE with a
 * reason in err.
 */
enum sb_err	 sb_db_open(const char *spec, struct sb_db **out,
		    char *err, size_t errlen);
void		 sb_db_close(struct sb_db *);

/*
 * This worker's connection, opened on first use from sb_cfg. NULL if the
 * store cannot be opened now (logged); the next call tries again.
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

#endif
