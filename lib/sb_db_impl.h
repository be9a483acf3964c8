/*
 * sb_db_impl.h: what a store implements; private to lib/.
 *
 * sb_db_open() picks the store once, from the form of SENTC_BACKEND_DB,
 * and every sb_db_* call goes through the table of the store it opened.
 * Each store's handle begins with a struct sb_db.
 */
#ifndef SB_DB_IMPL_H
#define SB_DB_IMPL_H

#include "sb_db.h"

/*
 * Schema version both stores bring their database to: each has the same
 * tables and one migration per version, in its own SQL dialect.
 */
#define SB_DB_SCHEMA_VERSION	6

struct sb_db_ops {
	const char	*name;		/* "sqlite", "postgresql" */
	enum sb_err	(*open)(const char *spec, struct sb_db **out,
			    char *err, size_t errlen);
	void		(*close)(struct sb_db *);
	enum sb_err	(*ping)(struct sb_db *);
	enum sb_err	(*user_create)(struct sb_db *, const char *,
			    const char *, const char *);
	enum sb_err	(*user_data)(struct sb_db *, const char *, char **);
	enum sb_err	(*user_set_data)(struct sb_db *, const char *,
			    const char *);
	enum sb_err	(*user_delete)(struct sb_db *, const char *);
	enum sb_err	(*user_by_identifier)(struct sb_db *, const char *,
			    char *, size_t);
	enum sb_err	(*group_create)(struct sb_db *, const char *,
			    const char *, const char *);
	enum sb_err	(*group_data)(struct sb_db *, const char *, char **);
	enum sb_err	(*group_set_data)(struct sb_db *, const char *,
			    const char *);
	enum sb_err	(*group_delete)(struct sb_db *, const char *);
	enum sb_err	(*item_put)(struct sb_db *, const char *, const char *,
			    const char *, const char *, size_t);
	enum sb_err	(*item_get)(struct sb_db *, const char *, const char *,
			    void (*)(void *, const struct sb_item *), void *);
	enum sb_err	(*item_delete)(struct sb_db *, const char *,
			    const char *);
	enum sb_err	(*item_list)(struct sb_db *, const char *,
			    const char *, long,
			    void (*)(void *, const struct sb_item *), void *);
	/* u is zeroed, *state 0, before these are called. */
	enum sb_err	(*unsure_add)(struct sb_db *, int, const char *,
			    int64_t, int64_t);
	enum sb_err	(*unsure_take)(struct sb_db *, int64_t, int64_t,
			    int64_t, struct sb_unsure *);
	enum sb_err	(*unsure_hold)(struct sb_db *, int, const char *,
			    int64_t, int64_t, int *);
	enum sb_err	(*unsure_release)(struct sb_db *, int, const char *);
	enum sb_err	(*unsure_done)(struct sb_db *, int, const char *);
	enum sb_err	(*session_end_token)(struct sb_db *, const char *,
			    int64_t);
	enum sb_err	(*session_end_user)(struct sb_db *, const char *,
			    int64_t);
	/* *ended is false before this is called. */
	enum sb_err	(*session_ended)(struct sb_db *, const char *,
			    const char *, int64_t, bool *);
	enum sb_err	(*session_purge)(struct sb_db *, int64_t);
	enum sb_err	(*item_put_index)(struct sb_db *, const char *,
			    const char *, const char *, const char *, size_t,
			    const struct sb_item_index *);
	enum sb_err	(*item_search)(struct sb_db *, const char *,
			    const struct sb_item_query *,
			    void (*)(void *, const struct sb_item *, int64_t),
			    void *);
	enum sb_err	(*access_revoke)(struct sb_db *, const char *, int64_t);
	enum sb_err	(*access_epoch)(struct sb_db *, int64_t *);
	/* *revoked is false before this is called; at most 8 ids. */
	enum sb_err	(*access_revoked)(struct sb_db *, const char *const *,
			    size_t, int64_t, bool *);
	enum sb_err	(*file_part_put)(struct sb_db *, const char *,
			    const void *, size_t);
	/* *data is NULL, *len 0 before this is called. */
	enum sb_err	(*file_part_get)(struct sb_db *, const char *, size_t,
			    char **, size_t *);
	enum sb_err	(*file_part_delete)(struct sb_db *,
			    const char *const *, size_t);
};

/* The head of every store's handle. */
struct sb_db {
	const struct sb_db_ops	*ops;
	bool			 broken;	/* sb_db() opens it anew */
};

extern const struct sb_db_ops	 sb_db_sqlite_ops;
extern const struct sb_db_ops	 sb_db_pg_ops;

/* A PostgreSQL URI as it may be logged (see sb_db_spec_display()). */
void	 sb_db_pg_display(const char *spec, char *out, size_t outsz);

#endif
