#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

#define CODE_NO_ACCESS	310	/* sentc: no access to this group */
#define CODE_RANK	301	/* sentc: wrong group rank */
#define CODE_BAD_ID	1	/* sentc: an id that is no UUID v4 or v7 */
#define ACCESS_HEADER	"HTTP_X_SENTC_GROUP_ACCESS_ID"

static struct sb_cache	*cache;

/*
 * What the cache holds: sentc's answer and the ids it was asked for, so
 * that an end of access named by any of them (sb_access_drop()) finds it.
 */
struct cached {
	struct sb_light	 l;
	char		 user[SB_CLAIM_MAX + 1];
	char		 gid[SB_ID_LEN + 1];
	char		 access[SB_ID_LEN + 1];
};

int
sb_access_init(void)
{
	size_t	 n = sb_cfg->access_cache_ttl > 0 ?
		    (size_t)sb_cfg->access_cache_size : 0;

	sb_cache_free(cache);
	cache = sb_cache_new(n, sizeof(struct cached));
	return cache == NULL ? -1 : 0;
}

/* The path of access is part of the key: "" is the user's own. */
static void
cache_key(unsigned char *key, const char *user, const char *gid,
    const char *access)
{
	const char *const parts[] = {
		sb_cfg->api_url, sb_cfg->public_token, user, gid,
		access != NULL ? access : "",
	};

	sb_cache_key(key, parts, 5);
}

bool
sb_group_access_valid(const char *s, size_t len)
{
	/* The version digit: 4 or 7, the UUIDs sentc makes and takes. */
	return sb_is_uuid(s, len) && (s[14] == '4' || s[14] == '7');
}

int
sb_group_access_id(struct sb_req *req, const char **id)
{
	const char	*v;
	enum sb_err	 e;

	*id = NULL;
	if ((v = sb_req_header(req, ACCESS_HEADER, &e)) == NULL &&
	    e == SB_OK)
		return 0;
	if (e != SB_OK) {
		sb_reply_err(req, e, "x-sentc-group-access-id is malformed");
		return -1;
	}
	if (!sb_group_access_valid(v, strlen(v))) {
		sb_reply_sentc(req, 400, CODE_BAD_ID, "Id has a wrong format. "
		    "Make sure to follow the uuid v4 or v7 format.");
		return -1;
	}
	*id = v;
	return 0;
}

/* The group id member name of obj holds into out, if it holds one. */
static void
via_id(json_object *obj, const char *name, char *out)
{
	const char	*v = sb_json_string(obj, name);

	if (v != NULL && strlen(v) == SB_ID_LEN && sb_is_uuid(v, SB_ID_LEN)) {
		memcpy(out, v, SB_ID_LEN);
		out[SB_ID_LEN] = '\0';
	}
}

/*
 * The groups a member answer goes through: the group's parent and the
 * groups its access_by names ("User", {"Parent": p}, {"GroupAsUser":
 * g}, {"GroupAsUserAsParent": {"parent": p, "group_as_user": g}}).
 */
static void
via_groups(struct sb_light *out, json_object *result)
{
	json_object	*by, *both;

	via_id(result, "parent_group_id", out->via[0]);
	if (!json_object_object_get_ex(result, "access_by", &by) ||
	    !json_object_is_type(by, json_type_object))
		return;
	via_id(by, "Parent", out->via[1]);
	via_id(by, "GroupAsUser", out->via[2]);
	if (json_object_object_get_ex(by, "GroupAsUserAsParent", &both) &&
	    json_object_is_type(both, json_type_object)) {
		via_id(both, "parent", out->via[1]);
		via_id(both, "group_as_user", out->via[2]);
	}
}

/*
 * Was a cached member answer revoked since sentc was asked (a group it
 * names deleted, the user kicked)? A store that cannot tell, or an
 * answer asked while it could not, counts as yes: sentc is asked again.
 */
static bool
revoked(const struct sb_light *l, const char *user, const char *gid,
    const char *access)
{
	const char	*ids[3 + SB_LIGHT_VIA];
	struct sb_db	*db;
	bool		 r;
	size_t		 i;

	ids[0] = user;
	ids[1] = gid;
	ids[2] = access != NULL ? access : "";
	for (i = 0; i < SB_LIGHT_VIA; i++)
		ids[3 + i] = l->via[i];
	if (l->epoch < 0 || (db = sb_db()) == NULL ||
	    sb_db_access_revoked(db, ids, 3 + SB_LIGHT_VIA, l->epoch, &r) !=
	    SB_OK)
		return true;
	return r;
}

enum sb_err
sb_access_revoke(const char *id)
{
	struct sb_db	*db;
	enum sb_err	 e;

	sb_access_drop(id);
	if ((db = sb_db()) == NULL)
		return SB_ERR_STORAGE;
	if ((e = sb_db_access_revoke(db, id, sb_now())) != SB_OK)
		sb_log(SB_LOG_ERR, "access cache: the end of %s's cached "
		    "answers could not be recorded", id);
	return e;
}

/* Reads member and rank from a /light envelope already parsed. */
static void
from_upstream(struct sb_light *out, struct sb_upstream_res *res)
{
	json_object	*result = sb_upstream_result(res), *v;
	int64_t		 rank;

	out->status = res->status;
	out->member = res->ok;
	out->rank = -1;
	if (res->ok && json_object_object_get_ex(result, "rank", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    (rank = json_object_get_int64(v)) >= 0 && rank <= INT_MAX)
		out->rank = (int)rank;
	out->len = res->len < SB_LIGHT_MAX ? res->len : 0;
	memcpy(out->body, res->body, out->len);
	out->body[out->len] = '\0';
	memset(out->via, 0, sizeof(out->via));
	if (res->ok && result != NULL)
		via_groups(out, result);
}

int
sb_group_light(struct sb_req *req, const char *gid, struct sb_light *out)
{
	struct sb_upstream_res	 res;
	unsigned char		 key[SB_CACHE_KEY];
	struct cached		 c;
	const char		*access;
	char			 path[128];
	bool			 deaf;
	int64_t			 now = sb_now(), epoch = 0;
	struct sb_db		*db;
	int			 rc = -1;

	if (req->jwt == NULL) {
		sb_reply_err(req, SB_ERR_INTERNAL, NULL);
		return -1;
	}
	if (sb_group_access_id(req, &access) == -1)
		return -1;
	cache_key(key, req->who.aud, gid, access);
	/* Deaf to other hosts' ends of access: nothing cached is used. */
	deaf = sb_notify_deaf();
	if (!deaf && sb_cache_get(cache, key, now, &c, sizeof(c)) ==
	    (long)sizeof(c) && (!c.l.member ||
	    !revoked(&c.l, req->who.aud, gid, access))) {
		*out = c.l;
		sb_stats_add(SB_STAT_ACCESS_HIT, 1);
		return 0;
	}
	sb_stats_add(SB_STAT_ACCESS_MISS, 1);
	/* Ends of access from here on are newer than sentc's answer. */
	if (sb_cfg->access_cache_ttl > 0 && ((db = sb_db()) == NULL ||
	    sb_db_access_epoch(db, &epoch) != SB_OK))
		epoch = -1;

	snprintf(path, sizeof(path), "/group/%s/light", gid);
	if (sb_relay_group(req, SB_GET, path, sb_cfg->token[SB_OPT_GROUP_GET],
	    req->jwt, access, NULL, 0, &res) == -1)
		return -1;
	if (!res.ok && res.err_code != CODE_NO_ACCESS) {
		/* Not an answer about access (a bad JWT, say): not cached. */
		sb_reply_upstream(req, &res);
		goto out;
	}
	from_upstream(out, &res);
	out->epoch = epoch;
	if ((res.ok && out->rank < 0) || out->len == 0) {
		sb_reply_err(req, SB_ERR_UPSTREAM_BAD, NULL);
		goto out;
	}
	if (out->len > 0 && sb_cfg->access_cache_ttl > 0 && !deaf) {
		memset(&c, 0, sizeof(c));
		c.l = *out;
		snprintf(c.user, sizeof(c.user), "%s", req->who.aud);
		snprintf(c.gid, sizeof(c.gid), "%s", gid);
		snprintf(c.access, sizeof(c.access), "%s",
		    access != NULL ? access : "");
		sb_cache_put(cache, key, sb_cache_tag(gid), &c, sizeof(c),
		    sb_add_sat(now, sb_cfg->access_cache_ttl));
	}
	rc = 0;
out:
	sb_upstream_res_free(&res);
	return rc;
}

int
sb_group_member(struct sb_req *req, const char *gid, int max_rank,
    int *rank)
{
	struct sb_light	 light;

	if (sb_group_light(req, gid, &light) == -1)
		return -1;
	if (!light.member) {
		sb_reply_raw(req, (int)light.status, "application/json",
		    light.body, light.len);
		return -1;
	}
	if (light.rank > max_rank) {
		sb_reply_sentc(req, 400, CODE_RANK,
		    "Wrong group rank for this action");
		return -1;
	}
	if (rank != NULL)
		*rank = light.rank;
	return 0;
}

void
sb_group_forget(const char *gid)
{
	sb_cache_drop_tag(cache, sb_cache_tag(gid));
}

/* Does the cached answer v name the id arg? */
static bool
names(const void *v, size_t len, void *arg)
{
	const struct cached	*c = v;
	const char		*id = arg;
	size_t			 i;

	if (len != sizeof(*c))
		return true;
	if (strcmp(c->user, id) == 0 || strcmp(c->gid, id) == 0 ||
	    strcmp(c->access, id) == 0)
		return true;
	for (i = 0; i < SB_LIGHT_VIA; i++)
		if (strcmp(c->l.via[i], id) == 0)
			return true;
	return false;
}

size_t
sb_access_drop(const char *id)
{
	if (id == NULL || *id == '\0')
		return 0;
	return sb_cache_drop_if(cache, names, (void *)(uintptr_t)id);
}

void
sb_access_drop_all(void)
{
	sb_cache_drop_if(cache, NULL, NULL);
}

void
sb_access_cache_stats(uint64_t *hits, uint64_t *misses)
{
	sb_cache_stats(cache, hits, misses);
}
