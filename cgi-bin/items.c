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
#define LIST_MAX	1000
#define HASH_LEN	43	/* base64url of an HMAC-SHA256, unpadded */
#define HASH_LISTS_MAX	16	/* indexed texts per item */
#define HASHES_PER_LIST	200	/* the SDK hashes at most 200 bytes */
#define HASHES_MAX	1000	/* per item, all lists */
#define SORTABLES_MAX	4	/* named sortable values per item */
#define SORT_NAME_MAX	32
#define SORTABLE_MAX	4294967294LL	/* the SDK's OPE range: u32 max - 1 */
#define CURSOR_MAX	(10 + 1 + SB_ID_LEN)	/* value.item_id */

enum { PATH_ITEM, PATH_LIST };

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
	json_object	*list;	/* for a list, else NULL */
	json_object	*item;	/* for one item */
};

static void
on_item(void *arg, const struct sb_item *it)
{
	struct found	*f = arg;

	if (f->list != NULL)
		json_object_array_add(f->list, item_json(f->gid, it));
	else
		f->item = item_json(f->gid, it);
}

/*
 * Is s[0..len) one hash: 43 base64url characters, the last one encoding
 * only the 256th bit's 4 leftover bits as zero (the SDK's canonical form)?
 */
static bool
valid_hash(const char *s, size_t len)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char		*c;
	size_t			 i;

	if (len != HASH_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || (c = strchr(b64, s[i])) == NULL ||
		    (i == len - 1 && (c - b64) % 4 != 0))
			return false;
	return true;
}

/* Is s a sortable value's name: 1..32 of [A-Za-z0-9_-]? */
static bool
valid_name(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > SORT_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* A decimal 0..SORTABLE_MAX, digits only; -1 if it is none. */
static int
parse_value(const char *s, int64_t *out)
{
	long	 v;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s) ||
	    strlen(s) > 10 || sb_parse_long(s, 0, SORTABLE_MAX, &v) == -1)
		return -1;
	*out = v;
	return 0;
}

/* An item's index, read from the body: valid while the body is. */
struct index {
	struct sb_item_index	 ix;
	const char		*hash[HASHES_MAX];
	const char *const	*list[HASH_LISTS_MAX];
	size_t			 n[HASH_LISTS_MAX];
	struct sb_item_sortable	 sortable[SORTABLES_MAX];
};

/*
 * Reads the body's hashes and sortable members (both optional) into x.
 * Returns SB_OK, or SB_ERR_FIELD / SB_ERR_FIELD_TOO_LARGE with the
 * reason in msg.
 */
static enum sb_err
read_index(json_object *body, struct index *x, char *msg, size_t msglen)
{
	json_object	*lists, *l, *h, *sort;
	size_t		 i, j, k = 0;
	int64_t		 v;

	memset(x, 0, sizeof(*x));
	x->ix.lists = x->list;
	x->ix.nhashes = x->n;
	x->ix.sortables = x->sortable;
	if (json_object_object_get_ex(body, "hashes", &lists)) {
		if (!json_object_is_type(lists, json_type_array))
			goto hashes;
		if ((x->ix.nlists = json_object_array_length(lists)) >
		    HASH_LISTS_MAX) {
			snprintf(msg, msglen, "hashes holds at most %d lists",
			    HASH_LISTS_MAX);
			return SB_ERR_FIELD_TOO_LARGE;
		}
		for (i = 0; i < x->ix.nlists; i++) {
			l = json_object_array_get_idx(lists, i);
			if (!json_object_is_type(l, json_type_array) ||
			    (x->n[i] = json_object_array_length(l)) == 0)
				goto hashes;
			if (x->n[i] > HASHES_PER_LIST ||
			    k + x->n[i] > HASHES_MAX) {
				snprintf(msg, msglen, "hashes holds at most %d "
				    "hashes a list and %d in all",
				    HASHES_PER_LIST, HASHES_MAX);
				return SB_ERR_FIELD_TOO_LARGE;
			}
			x->list[i] = &x->hash[k];
			for (j = 0; j < x->n[i]; j++, k++) {
				h = json_object_array_get_idx(l, j);
				if (!json_object_is_type(h, json_type_string) ||
				    !valid_hash(json_object_get_string(h),
				    (size_t)json_object_get_string_len(h)))
					goto hashes;
				x->hash[k] = json_object_get_string(h);
			}
		}
	}
	if (json_object_object_get_ex(body, "sortable", &sort)) {
		if (!json_object_is_type(sort, json_type_object))
			goto sortable;
		if (json_object_object_length(sort) > SORTABLES_MAX) {
			snprintf(msg, msglen, "sortable holds at most %d "
			    "values", SORTABLES_MAX);
			return SB_ERR_FIELD_TOO_LARGE;
		}
		json_object_object_foreach(sort, name, val) {
			if (!valid_name(name, strlen(name)))
				goto sortable;
			if (json_object_is_type(val, json_type_int)) {
				errno = 0;
				v = json_object_get_int64(val);
				if (errno != 0 || v < 0 || v > SORTABLE_MAX)
					goto sortable;
			} else if (!json_object_is_type(val,
			    json_type_string) || parse_value(
			    json_object_get_string(val), &v) == -1)
				goto sortable;
			x->sortable[x->ix.nsortables].name = name;
			x->sortable[x->ix.nsortables++].value = v;
		}
	}
	return SB_OK;
hashes:
	snprintf(msg, msglen, "hashes must be a list of non-empty lists of "
	    "43-character base64url hashes (the SDK's createSearchRaw)");
	return SB_ERR_FIELD;
sortable:
	snprintf(msg, msglen, "sortable must map names (1 to %d of "
	    "A-Z a-z 0-9 _ -) to integers from 0 to 4294967294, as numbers "
	    "or decimal strings", SORT_NAME_MAX);
	return SB_ERR_FIELD;
}

static void
put(struct sb_req *req, struct sb_db *db, const char *gid, const char *iid)
{
	json_object	*body;
	struct index	*x;
	const char	*data;
	char		 msg[192];
	size_t		 len;
	enum sb_err	 e;

	if ((body = sb_body_object(req)) == NULL)
		return;
	if ((x = malloc(sizeof(*x))) == NULL)
		sb_reply_err(req, SB_ERR_INTERNAL, NULL);
	else if ((e = sb_json_member_string(body, "data",
	    (size_t)sb_cfg->max_item, &data, &len)) != SB_OK)
		sb_reply_err(req, e, e == SB_ERR_BODY_SHAPE ?
		    "The body must be {\"data\": \"<ciphertext>\"}" :
		    "data is larger than SENTC_BACKEND_MAX_ITEM");
	else if ((e = read_index(body, x, msg, sizeof(msg))) != SB_OK)
		sb_reply_err(req, e, msg);
	else if ((e = sb_db_item_put_index(db, gid, iid, req->who.aud, data,
	    len, &x->ix)) != SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, NULL);
	free(x);
	json_object_put(body);
}

static void
get(struct sb_req *req, struct sb_db *db, const char *gid, const char *iid)
{
	struct found	 f = { gid, NULL, NULL };
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

/*
 * The query parameter name as a hash into buf, or as a value 0..
 * SORTABLE_MAX into *v: 1 if present, 0 if absent, -1 if malformed.
 */
static int
query_hash(struct sb_req *req, const char *name, char *buf, size_t sz)
{
	int	 has = sb_req_query(req, name, buf, sz);

	return has == 1 && !valid_hash(buf, strlen(buf)) ? -1 : has;
}

static int
query_value(struct sb_req *req, const char *name, int64_t *v)
{
	char	 num[16];
	int	 has = sb_req_query(req, name, num, sizeof(num));

	return has == 1 && parse_value(num, v) == -1 ? -1 : has;
}

/* The cursor "value.item_id" (sorted) or "item_id" into q. */
static bool
parse_cursor(const char *s, bool sorted, struct sb_item_query *q,
    char *id)
{
	const char	*dot = strchr(s, '.');
	char		 num[16];

	if (!sorted) {
		q->after_value = 0;
		if (!sb_is_uuid(s, strlen(s)))
			return false;
		memcpy(id, s, SB_ID_LEN + 1);
		return true;
	}
	if (dot == NULL || (size_t)(dot - s) >= sizeof(num) ||
	    !sb_is_uuid(dot + 1, strlen(dot + 1)))
		return false;
	memcpy(num, s, (size_t)(dot - s));
	num[dot - s] = '\0';
	memcpy(id, dot + 1, SB_ID_LEN + 1);
	return parse_value(num, &q->after_value) == 0;
}

static void
search(struct sb_req *req, struct sb_db *db, const char *gid)
{
	struct sb_item_query	 q;
	struct hits		 h = { NULL, gid, false, 0 };
	json_object		*res, *last;
	char			 hash[HASH_LEN + 2], word[HASH_LEN + 2];
	char			 sort[SORT_NAME_MAX + 2], order[8], num[16];
	char			 after[CURSOR_MAX + 2], id[SB_ID_LEN + 1] = "";
	char			 next[CURSOR_MAX + 1];
	int			 hh, hw, hs, hmin, hmax, ho, ha, hl;
	long			 limit = LIST_DEFAULT;
	size_t			 n;
	enum sb_err		 e;

	memset(&q, 0, sizeof(q));
	q.min = 0;
	q.max = SORTABLE_MAX;
	hh = query_hash(req, "hash", hash, sizeof(hash));
	hw = query_hash(req, "word", word, sizeof(word));
	hs = sb_req_query(req, "sort", sort, sizeof(sort));
	hmin = query_value(req, "min", &q.min);
	hmax = query_value(req, "max", &q.max);
	ho = sb_req_query(req, "order", order, sizeof(order));
	ha = sb_req_query(req, "after", after, sizeof(after));
	hl = sb_req_query(req, "limit", num, sizeof(num));
	if (hh == -1 || hw == -1 || hs == -1 || hmin == -1 || hmax == -1 ||
	    ho == -1 || ha == -1 || hl == -1 || (hh == 1 && hw == 1) ||
	    (hs == 1 && !valid_name(sort, strlen(sort))) ||
	    (hs == 0 && (hmin == 1 || hmax == 1 || ho == 1)) ||
	    (ho == 1 && strcmp(order, "asc") != 0 &&
	    strcmp(order, "desc") != 0) || q.min > q.max ||
	    (ha == 1 && !parse_cursor(after, hs == 1, &q, id)) ||
	    (hl == 1 && sb_parse_long(num, 1, LIST_MAX, &limit) == -1)) {
		sb_reply_err(req, SB_ERR_QUERY, "hash or word must be a hash, "
		    "sort a sortable name with min and max from 0 to "
		    "4294967294 (min <= max) and order asc or desc, after the "
		    "next of a page before, limit a number from 1 to 1000");
		return;
	}
	q.hash = hh == 1 ? hash : hw == 1 ? word : NULL;
	q.exact = hw == 1;
	q.sort = hs == 1 ? sort : NULL;
	q.desc = ho == 1 && strcmp(order, "desc") == 0;
	q.after_id = id;
	q.limit = limit;
	h.sorted = q.sort != NULL;
	h.list = json_object_new_array();
	if ((e = sb_db_item_search(db, gid, &q, on_hit, &h)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		json_object_put(h.list);
		return;
	}
	res = json_object_new_object();
	n = json_object_array_length(h.list);
	/* A full page may have a next one: it starts after the last. */
	if ((long)n == limit) {
		last = json_object_array_get_idx(h.list, n - 1);
		if (h.sorted)
			snprintf(next, sizeof(next), "%lld.%s",
			    (long long)h.value, json_object_get_string(
			    json_object_object_get(last, "item_id")));
		else
			snprintf(next, sizeof(next), "%s",
			    json_object_get_string(json_object_object_get(last,
			    "item_id")));
		json_object_object_add(res, "next",
		    json_object_new_string(next));
	} else
		json_object_object_add(res, "next", NULL);
	json_object_object_add(res, "items", h.list);
	sb_reply_ok(req, res);
	json_object_put(res);
}

/* Does the request name a query's parameter (search() checks them)? */
static bool
is_search(struct sb_req *req)
{
	static const char *const names[] = { "hash", "word", "sort", "min",
				    "max", "order" };
	char			 buf[64];
	size_t			 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sb_req_query(req, names[i], buf, sizeof(buf)) != 0)
			return true;
	return false;
}

static void
list(struct sb_req *req, struct sb_db *db, const char *gid)
{
	struct found	 f = { gid, NULL, NULL };
	json_object	*res;
	char		 after[SB_ID_LEN + 1] = "", num[16];
	long		 limit = LIST_DEFAULT;
	size_t		 n;
	enum sb_err	 e;
	int		 has;

	if ((has = sb_req_query(req, "after", after, sizeof(after))) == -1 ||
	    (has == 1 && !sb_is_uuid(after, strlen(after))) ||
	    (has = sb_req_query(req, "limit", num, sizeof(num))) == -1 ||
	    (has == 1 && sb_parse_long(num, 1, LIST_MAX, &limit) == -1)) {
		sb_reply_err(req, SB_ERR_QUERY, "after must be an item id, "
		    "limit a number from 1 to 1000");
		return;
	}
	f.list = json_object_new_array();
	if ((e = sb_db_item_list(db, gid, after, limit, on_item, &f)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		json_object_put(f.list);
		return;
	}
	res = json_object_new_object();
	n = json_object_array_length(f.list);
	/* A full page may have a next one: it starts after the last id. */
	json_object_object_add(res, "next", (long)n == limit ?
	    json_object_get(json_object_object_get(
	    json_object_array_get_idx(f.list, n - 1), "item_id")) : NULL);
	json_object_object_add(res, "items", f.list);
	sb_reply_ok(req, res);
	json_object_put(res);
}

static void
handle(struct sb_req *req)
{
	const char	*gid = req->id[0], *iid = req->id[1];
	struct sb_db	*db;
	enum sb_err	 e;

	if (sb_auth_user(req, 0) == -1 ||
	    sb_group_member(req, gid, req->method == SB_DELETE ?
	    SB_RANK_ADMIN : SB_RANK_ANY, NULL) == -1 ||
	    (db = sb_db_for(req)) == NULL)
		return;
	if (req->pattern == PATH_LIST && is_search(req))
		search(req, db, gid);
	else if (req->pattern == PATH_LIST)
		list(req, db, gid);
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
		    SB_M(SB_GET) | SB_M(SB_PUT) | SB_M(SB_DELETE) },
		[PATH_LIST] = { "/backend/groups/{id}/items", SB_M(SB_GET) },
		{ NULL },
	},
	.flags = SB_ROUTE_DB | SB_ROUTE_ACCESS,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
