/*
 * An end-to-end-encrypted item store per group: what own backend
 * processing is for. Clients encrypt each item with the group key; the
 * backend stores ciphertext it cannot read, and sentc decides who may
 * touch it.
 *
 * PUT    /backend/groups/{gid}/items/{item_id}  {"data": "<ciphertext>",
 *        "hashes": [["<hash>", ...], ...], "sortable": {"<name>": n, ...}}
 * GET    /backend/groups/{gid}/items/{item_id}
 * DELETE /backend/groups/{gid}/items/{item_id}  (rank admin or creator)
 * GET    /backend/groups/{gid}/items?after=<item_id>&limit=N
 * GET    /backend/groups/{gid}/items?hash=<hash>|word=<hash>
 *        &sort=<name>&min=N&max=N&order=asc|desc&after=<cursor>&limit=N
 *
 * hashes and sortable are what the SDK's searchable and sortable
 * encryption makes from the cleartext (createSearchRaw: one list of
 * 43-character base64url hashes per indexed text, the last one the whole
 * text; encryptSortableRawNumber/String: an integer 0..4294967294). A
 * query finds the items with hash among their hashes (a prefix of an
 * indexed text), or with word as the last hash of a list (the whole
 * text), or with the sortable value name within [min, max], or both, in
 * pages that stay stable while items are written: by item id, or by
 * (value, item id) in the order asked; next is the cursor of the page
 * after.
 *
 * Members read and write; anyone else gets sentc's 310.
 */
#include <errno.h>

#include "sb.h"

#define LIST_DEFAULT	100
#define CURSOR_MAX	(10 + 1 + SB_ID_LEN)	/* value.item_id */

enum { PATH_ITEM, PATH_LIST };

/* The inputs: of a PUT, and of a list or a query. */
enum { IN_DATA, IN_HASHES, IN_SORTABLE };
enum { Q_AFTER, Q_LIMIT, Q_HASH, Q_WORD, Q_SORT, Q_MIN, Q_MAX, Q_ORDER };

static bool	 cursor(const char *, size_t, struct sb_value *);

static const char *const orders[] = { "asc", "desc", NULL };

static const struct sb_input item_in[] = {
	[IN_DATA] = { "data", SB_BODY, SB_TEXT, SB_REQUIRED,
	    .limit = SB_LIMIT_ITEM, .err = SB_ERR_BODY_SHAPE,
	    .msg = "The body must be {\"data\": \"<ciphertext>\"}" },
	[IN_HASHES] = { "hashes", SB_BODY, SB_HASHES, 0,
	    .msg = "hashes must be a list of non-empty lists of "
	    "43-character base64url hashes (the SDK's createSearchRaw)" },
	[IN_SORTABLE] = { "sortable", SB_BODY, SB_SORTABLE, 0,
	    .msg = "sortable must map names (1 to 32 of A-Z a-z 0-9 _ -) to "
	    "integers from 0 to 4294967294, as numbers or decimal strings" },
	{ NULL },
};

#define QUERY_MSG "hash or word must be a hash, sort a sortable name with " \
	"min and max from 0 to 4294967294 (min <= max) and order asc or " \
	"desc, after the next of a page before, limit a number from 1 to " \
	"1000"

static const struct sb_input list_in[] = {
	[Q_AFTER] = { "after", SB_QUERY, SB_CUSTOM, .valid = cursor,
	    .msg = QUERY_MSG },
	[Q_LIMIT] = { "limit", SB_QUERY, SB_INT, .min = 1, .max = 1000,
	    .msg = QUERY_MSG },
	[Q_HASH] = { "hash", SB_QUERY, SB_HASH, .msg = QUERY_MSG },
	[Q_WORD] = { "word", SB_QUERY, SB_HASH, .msg = QUERY_MSG },
	[Q_SORT] = { "sort", SB_QUERY, SB_WORD, .max = SB_SORT_NAME_MAX,
	    .msg = QUERY_MSG },
	[Q_MIN] = { "min", SB_QUERY, SB_INT, .max = SB_SORTABLE_MAX,
	    .msg = QUERY_MSG },
	[Q_MAX] = { "max", SB_QUERY, SB_INT, .max = SB_SORTABLE_MAX,
	    .msg = QUERY_MSG },
	[Q_ORDER] = { "order", SB_QUERY, SB_ONE_OF, .words = orders,
	    .msg = QUERY_MSG },
	{ NULL },
};

/*
 * A page's cursor: "item_id" (by id), or "value.item_id" (by a sortable
 * value), into v->s (the id) and v->i (the value, or -1).
 */
static bool
cursor(const char *s, size_t len, struct sb_value *v)
{
	const char	*dot = memchr(s, '.', len);
	long		 n;
	char		 num[16];

	v->i = -1;
	if (dot == NULL)
		return sb_is_uuid(s, len);
	if ((size_t)(dot - s) >= sizeof(num) || !sb_is_uuid(dot + 1,
	    len - (size_t)(dot - s) - 1))
		return false;
	memcpy(num, s, (size_t)(dot - s));
	num[dot - s] = '\0';
	if (strspn(num, "0123456789") != strlen(num) ||
	    sb_parse_long(num, 0, SB_SORTABLE_MAX, &n) == -1)
		return false;
	v->i = n;
	return true;
}

static json_object *
item_json(const char *gid, const struct sb_item *it)
{
	json_object	*o = json_object_new_object();

	json_object_object_add(o, "item_id", json_object_new_string(it->item_id));
	json_object_object_add(o, "group_id", json_object_new_string(gid));
	json_object_object_add(o, "author", json_object_new_string(it->author));
	if (it->data != NULL)
		json_object_object_add(o, "data",
		    json_object_new_string_len(it->data, (int)it->len));
	json_object_object_add(o, "created_at",
	    json_object_new_int64(it->created_at));
	json_object_object_add(o, "updated_at",
	    json_object_new_int64(it->updated_at));
	return o;
}

struct found {
	const char	*gid;
	json_object	*item;
};

static void
on_item(void *arg, const struct sb_item *it)
{
	struct found	*f = arg;

	f->item = item_json(f->gid, it);
}

static void
put(struct sb_req *req, struct sb_db *db, const char *gid, const char *iid)
{
	const struct sb_value	*data = &req->in[IN_DATA];
	const struct sb_value	*h = &req->in[IN_HASHES];
	const struct sb_value	*so = &req->in[IN_SORTABLE];
	struct sb_item_sortable	 sort[SB_SORTABLES_MAX];
	struct sb_item_index	 ix = { h->lists, h->count, h->n, sort,
				    so->n };
	enum sb_err		 e;
	size_t			 i;

	for (i = 0; i < so->n; i++) {
		sort[i].name = so->names[i];
		sort[i].value = so->values[i];
	}
	if ((e = sb_db_item_put_index(db, gid, iid, req->who.aud, data->s,
	    data->len, &ix)) != SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, NULL);
}

static void
get(struct sb_req *req, struct sb_db *db, const char *gid, const char *iid)
{
	struct found	 f = { gid, NULL };
	enum sb_err	 e;

	if ((e = sb_db_item_get(db, gid, iid, on_item, &f)) != SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, f.item);
	json_object_put(f.item);
}

struct hits {
	json_object	*list;
	const char	*gid;
	bool		 sorted;
	int64_t		 value;	/* of the last one */
};

static void
on_hit(void *arg, const struct sb_item *it, int64_t value)
{
	struct hits	*h = arg;
	json_object	*o = item_json(h->gid, it);

	if (h->sorted)
		json_object_object_add(o, "value", json_object_new_int64(value));
	json_object_array_add(h->list, o);
	h->value = value;
}

static void
on_listed(void *arg, const struct sb_item *it)
{
	on_hit(arg, it, 0);
}

/*
 * A list or a query: by item id, or by a sortable value (sort), of all
 * items or those with a hash (hash: any of theirs; word: a last one).
 */
static void
search(struct sb_req *req, struct sb_db *db, const char *gid)
{
	const struct sb_value	*in = req->in;
	struct sb_item_query	 q;
	struct hits		 h = { NULL, gid, false, 0 };
	json_object		*res, *last;
	char			 next[CURSOR_MAX + 1];
	size_t			 n;
	enum sb_err		 e;

	memset(&q, 0, sizeof(q));
	q.sort = in[Q_SORT].set ? in[Q_SORT].s : NULL;
	q.min = in[Q_MIN].set ? in[Q_MIN].i : 0;
	q.max = in[Q_MAX].set ? in[Q_MAX].i : SB_SORTABLE_MAX;
	q.hash = in[Q_HASH].set ? in[Q_HASH].s : in[Q_WORD].set ?
	    in[Q_WORD].s : NULL;
	q.exact = in[Q_WORD].set;
	q.desc = in[Q_ORDER].set && in[Q_ORDER].i == 1;
	q.limit = in[Q_LIMIT].set ? in[Q_LIMIT].i : LIST_DEFAULT;
	/* A cursor of the order asked; a range only on a sortable value. */
	if ((in[Q_HASH].set && in[Q_WORD].set) || q.min > q.max ||
	    (q.sort == NULL && (in[Q_MIN].set || in[Q_MAX].set ||
	    in[Q_ORDER].set)) || (in[Q_AFTER].set &&
	    (in[Q_AFTER].i >= 0) != (q.sort != NULL))) {
		sb_reply_err(req, SB_ERR_QUERY, QUERY_MSG);
		return;
	}
	if (in[Q_AFTER].set) {
		q.after_id = strchr(in[Q_AFTER].s, '.') != NULL ?
		    strchr(in[Q_AFTER].s, '.') + 1 : in[Q_AFTER].s;
		q.after_value = in[Q_AFTER].i >= 0 ? in[Q_AFTER].i : 0;
	} else
		q.after_id = "";
	h.sorted = q.sort != NULL;
	h.list = json_object_new_array();
	if ((e = q.hash == NULL && q.sort == NULL ? sb_db_item_list(db, gid,
	    q.after_id, q.limit, on_listed, &h) : sb_db_item_search(db, gid,
	    &q, on_hit, &h)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		json_object_put(h.list);
		return;
	}
	res = json_object_new_object();
	n = json_object_array_length(h.list);
	/* A full page may have a next one: it starts after the last. */
	if ((long)n == q.limit) {
		last = json_object_object_get(json_object_array_get_idx(h.list,
		    n - 1), "item_id");
		if (h.sorted)
			snprintf(next, sizeof(next), "%lld.%s",
			    (long long)h.value, json_object_get_string(last));
		else
			snprintf(next, sizeof(next), "%s",
			    json_object_get_string(last));
		json_object_object_add(res, "next",
		    json_object_new_string(next));
	} else
		json_object_object_add(res, "next", NULL);
	json_object_object_add(res, "items", h.list);
	sb_reply_ok(req, res);
	json_object_put(res);
}

static void
handle(struct sb_req *req)
{
	const char	*gid = req->id[0], *iid = req->id[1];
	struct sb_db	*db;
	enum sb_err	 e;

	if (sb_group_member(req, gid, req->method == SB_DELETE ?
	    SB_RANK_ADMIN : SB_RANK_ANY, NULL) == -1 ||
	    (db = sb_db_for(req)) == NULL)
		return;
	if (req->pattern == PATH_LIST)
		search(req, db, gid);
	else if (req->method == SB_PUT)
		put(req, db, gid, iid);
	else if (req->method == SB_GET)
		get(req, db, gid, iid);
	else if ((e = sb_db_item_delete(db, gid, iid)) != SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, NULL);
}

static const struct sb_route route = {
	.name = "items",
	.paths = {
		[PATH_ITEM] = { "/backend/groups/{id}/items/{id}",
		    SB_M(SB_GET) | SB_M(SB_PUT) | SB_M(SB_DELETE),
		    SB_M(SB_PUT), item_in },
		[PATH_LIST] = { "/backend/groups/{id}/items", SB_M(SB_GET),
		    0, list_in },
		{ NULL },
	},
	.flags = SB_ROUTE_DB | SB_ROUTE_ACCESS,
	.caller = SB_USER,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
