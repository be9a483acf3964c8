/*
 * sb_input.h: what a route takes, declared in its table and checked
 * before its handler runs.
 *
 * Each path of a route names the methods whose body is a JSON object
 * (struct sb_path's body) and its inputs: members of that body and
 * parameters of the query, each with a kind, a cap, whether it is
 * required, and the message for a bad one. The serve loop reads and
 * checks them all (sb_input_read()); the handler finds each in req->in[i],
 * i its index in the table, typed. A bad or missing one is answered with
 * the sentc envelope and the handler does not run.
 */
#ifndef SB_INPUT_H
#define SB_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sb_error.h"

#define SB_INPUTS_MAX	12	/* inputs one path may declare */

/* Searchable and sortable items: what the SDK makes (items.c). */
#define SB_HASH_LEN		43	/* base64url of an HMAC-SHA256 */
#define SB_HASH_LISTS_MAX	16	/* indexed texts per item */
#define SB_HASHES_PER_LIST	200	/* the SDK hashes at most 200 bytes */
#define SB_HASHES_MAX		1000	/* per item, all lists */
#define SB_SORTABLES_MAX	4	/* named sortable values per item */
#define SB_SORT_NAME_MAX	32
#define SB_SORTABLE_MAX		4294967294LL	/* the SDK's range: u32 - 1 */

enum sb_where {
	SB_BODY,	/* a member of the body; "" is the body itself */
	SB_QUERY	/* a parameter of the query string */
};

enum sb_kind {
	SB_TEXT,	/* 1..max bytes, no control character */
	SB_UUID,	/* 8-4-4-4-12 hex digits */
	SB_INT,		/* an integer min..max; in a query, decimal digits */
	SB_WORD,	/* 1..max of A-Z a-z 0-9 _ - */
	SB_ONE_OF,	/* one of .words; .i is its index */
	SB_OBJECT,	/* a JSON object whose text is at most max bytes */
	SB_HASH,	/* one search hash: SB_HASH_LEN base64url, canonical */
	SB_HASHES,	/* lists of search hashes (the SDK's createSearchRaw) */
	SB_SORTABLE,	/* {name: 0..SB_SORTABLE_MAX}: the SDK's sortable values */
	SB_CUSTOM	/* a string that .valid accepts */
};

/* Caps that the configuration sets, for .limit. */
enum sb_limit {
	SB_LIMIT_NONE,		/* .max is the cap */
	SB_LIMIT_USER_DATA,	/* SENTC_BACKEND_MAX_USER_DATA */
	SB_LIMIT_GROUP_DATA,	/* SENTC_BACKEND_MAX_GROUP_DATA */
	SB_LIMIT_ITEM		/* SENTC_BACKEND_MAX_ITEM */
};

#define SB_REQUIRED	0x01	/* absent is bad */
#define SB_TAKE		0x02	/* a top-level body member kept here:
				   not relayed */

/* An input as the handler gets it. */
struct sb_value {
	bool		 set;		/* present (and valid) */
	const char	*s;		/* strings: NUL-terminated */
	size_t		 len;
	int64_t		 i;		/* SB_INT; SB_ONE_OF: the index */
	json_object	*obj;		/* SB_OBJECT: held by the request */
	/* SB_HASHES: n lists of hashes, list k holding count[k]. */
	const char *const *const *lists;
	const size_t	*count;
	/* SB_SORTABLE: n names and their values. */
	const char *const *names;
	const int64_t	*values;
	size_t		 n;
};

struct sb_input {
	const char	*name;		/* "a.b": member b of member a */
	enum sb_where	 where;
	enum sb_kind	 kind;
	unsigned	 flags;		/* SB_REQUIRED, SB_TAKE */
	int64_t		 min, max;	/* SB_INT: range; else max bytes */
	enum sb_limit	 limit;		/* else .max caps it */
	const char *const *words;	/* SB_ONE_OF: ends with NULL */
	/* SB_CUSTOM: is s[0..len) good? May fill v (not v->s, v->len). */
	bool		(*valid)(const char *s, size_t len, struct sb_value *v);
	enum sb_err	 err;		/* for a bad one: 0 is SB_ERR_FIELD
					   (body) or SB_ERR_QUERY (query) */
	const char	*msg;		/* for a bad one */
};

struct sb_req;
struct sb_path;

/*
 * Reads and checks what path declares: the body (for a method in
 * path->body: a JSON object, capped by SENTC_BACKEND_MAX_BODY; built
 * into req->json only if members are declared), then each input into
 * req->in[], and the body to relay into req->relay (the body as sent,
 * or without its SB_TAKE members). Returns 0, or -1 once it has answered
 * the error.
 */
int	 sb_input_read(struct sb_req *, const struct sb_path *);

/*
 * Releases what sb_input_read() holds; wipes the body of an
 * SB_ROUTE_SECRET route.
 */
void	 sb_input_free(struct sb_req *, const struct sb_path *);

/* Is s[0..len) one search hash as the SDK makes it? Pure. */
bool	 sb_is_hash(const char *s, size_t len);

/* Is s[0..len) a word of 1..max of A-Z a-z 0-9 _ -? Pure. */
bool	 sb_is_word(const char *s, size_t len, size_t max);

#endif
