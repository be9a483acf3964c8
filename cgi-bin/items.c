/*
 * An end-to-end-encrypted item store per group: what own backend
 * processing is for. Clients encrypt each item with the group key; the
 * backend stores ciphertext it cannot read, and sentc decides who may
 * touch it.
 *
 * PUT    /backend/groups/{gid}/items/{item_id}  {"data": "<ciphertext>"}
 * GET    /backend/groups/{gid}/items/{item_id}
 * DELETE /backend/groups/{gid}/items/{item_id}  (rank admin or creator)
 * GET    /backend/groups/{gid}/items?after=<item_id>&limit=N
 *
 * Members read and write; anyone else gets sentc's 310.
 */
#include "sb.h"

#define LIST_DEFAULT	100
#define LIST_MAX	1000

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

static void
put(struct sb_req *req, struct sb_db *db, const char *gid, const char *iid)
{
	json_object	*body;
	const char	*data;
	size_t		 len;
	enum sb_err	 e;

	if ((body = sb_body_object(req)) == NULL)
		return;
	if ((e = sb_json_member_string(body, "data", (size_t)sb_cfg->max_item,
	    &data, &len)) != SB_OK)
		sb_reply_err(req, e, e == SB_ERR_BODY_SHAPE ?
		    "The body must be {\"data\": \"<ciphertext>\"}" :
		    "data is larger than SENTC_BACKEND_MAX_ITEM");
	else if ((e = sb_db_item_put(db, gid, iid, req->who.aud, data, len)) !=
	    SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, NULL);
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
	if (req->pattern == PATH_LIST)
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
	.flags = SB_ROUTE_DB,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
