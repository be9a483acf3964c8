/*
 * sb_input.c: a route's declared inputs, read and checked before its
 * handler runs (sb_input.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define QUERY_MAX	256	/* longest query value a kind takes */

/* Memory that lives as long as the request: freed by sb_input_free(). */
struct sb_mem {
	struct sb_mem	*next;
	max_align_t	 data[];
};

static void *
req_alloc(struct sb_req *req, size_t size)
{
	struct sb_mem	*m;

	if (size > SIZE_MAX - sizeof(*m) ||
	    (m = calloc(1, sizeof(*m) + size)) == NULL)
		return NULL;
	m->next = req->mem;
	req->mem = m;
	return m->data;
}

static long
cap_of(const struct sb_input *in, const char **key)
{
	*key = NULL;
	switch (in->limit) {
	case SB_LIMIT_USER_DATA:
		*key = "SENTC_BACKEND_MAX_USER_DATA";
		return sb_cfg->max_user_data;
	case SB_LIMIT_GROUP_DATA:
		*key = "SENTC_BACKEND_MAX_GROUP_DATA";
		return sb_cfg->max_group_data;
	case SB_LIMIT_ITEM:
		*key = "SENTC_BACKEND_MAX_ITEM";
		return sb_cfg->max_item;
	case SB_LIMIT_NONE:
		break;
	}
	return (long)in->max;
}

bool
sb_is_hash(const char *s, size_t len)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char		*c;
	size_t			 i;

	if (len != SB_HASH_LEN)
		return false;
	/* The last character carries 4 of the 256th bits' leftovers: 0. */
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || (c = strchr(b64, s[i])) == NULL ||
		    (i == len - 1 && (c - b64) % 4 != 0))
			return false;
	return true;
}

bool
sb_is_word(const char *s, size_t len, size_t max)
{
	size_t	 i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Whole decimal digits in [min, max]: no sign, no space, no empty. */
static bool
digits(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	long long	 v;
	char		*end;

	if (len == 0 || len > 19 || strspn(s, "0123456789") != len)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end != s + len || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* How an input failed: bad (its own error) or too large (413). */
enum verdict { GOOD, BAD, LARGE, NOMEM };

/* A string input of any kind but SB_OBJECT, SB_HASHES, SB_SORTABLE. */
static enum verdict
check_string(const struct sb_input *in, const char *s, size_t len,
    struct sb_value *v)
{
	const char	*key;
	size_t		 i;

	v->s = s;
	v->len = len;
	if (strlen(s) != len)
		return BAD;
	switch (in->kind) {
	case SB_TEXT:
		/* Past a configured cap: 413; past the route's own: bad. */
		if (sb_valid_text(s, len, SIZE_MAX))
			return (long)len <= cap_of(in, &key) ? GOOD : key !=
			    NULL ? LARGE : BAD;
		return BAD;
	case SB_UUID:
		return sb_is_uuid(s, len) ? GOOD : BAD;
	case SB_INT:
		return digits(s, len, in->min, in->max, &v->i) ? GOOD : BAD;
	case SB_WORD:
		return sb_is_word(s, len, (size_t)in->max) ? GOOD : BAD;
	case SB_ONE_OF:
		for (i = 0; in->words[i] != NULL; i++)
			if (strcmp(in->words[i], s) == 0) {
				v->i = (int64_t)i;
				return GOOD;
			}
		return BAD;
	case SB_HASH:
		return sb_is_hash(s, len) ? GOOD : BAD;
	case SB_CUSTOM:
		return in->valid(s, len, v) ? GOOD : BAD;
	default:
		return BAD;
	}
}

/* SB_HASHES: a list of 1..SB_HASH_LISTS_MAX non-empty lists of hashes. */
static enum verdict
check_hashes(struct sb_req *req, json_object *o, struct sb_value *v)
{
	const char	**hash, ***lists;
	size_t		 *count, n, i, j, k = 0;
	json_object	 *l, *h;

	if (!json_object_is_type(o, json_type_array))
		return BAD;
	if ((n = json_object_array_length(o)) > SB_HASH_LISTS_MAX)
		return LARGE;
	hash = req_alloc(req, SB_HASHES_MAX * sizeof(*hash));
	lists = req_alloc(req, SB_HASH_LISTS_MAX * sizeof(*lists));
	count = req_alloc(req, SB_HASH_LISTS_MAX * sizeof(*count));
	if (hash == NULL || lists == NULL || count == NULL)
		return NOMEM;
	for (i = 0; i < n; i++) {
		l = json_object_array_get_idx(o, i);
		if (!json_object_is_type(l, json_type_array) ||
		    (count[i] = json_object_array_length(l)) == 0)
			return BAD;
		if (count[i] > SB_HASHES_PER_LIST ||
		    k + count[i] > SB_HASHES_MAX)
			return LARGE;
		lists[i] = &hash[k];
		for (j = 0; j < count[i]; j++, k++) {
			h = json_object_array_get_idx(l, j);
			if (!json_object_is_type(h, json_type_string) ||
			    !sb_is_hash(json_object_get_string(h),
			    (size_t)json_object_get_string_len(h)))
				return BAD;
			hash[k] = json_object_get_string(h);
		}
	}
	v->lists = (const char *const *const *)lists;
	v->count = count;
	v->n = n;
	return GOOD;
}

/*
 * SB_SORTABLE: up to SB_SORTABLES_MAX names, each mapped to an integer
 * 0..SB_SORTABLE_MAX, as a number or in decimal digits (the SDK's
 * numbers pass JSON as strings, having no BigInt there).
 */
static enum verdict
check_sortable(struct sb_req *req, json_object *o, struct sb_value *v)
{
	const char	**names;
	int64_t		 *values, x;

	if (!json_object_is_type(o, json_type_object))
		return BAD;
	if (json_object_object_length(o) > SB_SORTABLES_MAX)
		return LARGE;
	names = req_alloc(req, SB_SORTABLES_MAX * sizeof(*names));
	values = req_alloc(req, SB_SORTABLES_MAX * sizeof(*values));
	if (names == NULL || values == NULL)
		return NOMEM;
	v->n = 0;
	json_object_object_foreach(o, name, val) {
		if (!sb_is_word(name, strlen(name), SB_SORT_NAME_MAX))
			return BAD;
		if (json_object_is_type(val, json_type_int)) {
			errno = 0;
			x = json_object_get_int64(val);
			if (errno != 0 || x < 0 || x > SB_SORTABLE_MAX)
				return BAD;
		} else if (!json_object_is_type(val, json_type_string) ||
		    !digits(json_object_get_string(val),
		    (size_t)json_object_get_string_len(val), 0,
		    SB_SORTABLE_MAX, &x))
			return BAD;
		names[v->n] = name;
		values[v->n++] = x;
	}
	v->names = names;
	v->values = values;
	return GOOD;
}

/* The member at path name ("a.b") of body; NULL if absent. */
static json_object *
member(json_object *body, const char *name)
{
	json_object	*o = body;
	const char	*dot;
	char		 part[64];
	size_t		 len;

	if (*name == '\0')
		return body;
	for (;;) {
		dot = strchr(name, '.');
		len = dot != NULL ? (size_t)(dot - name) : strlen(name);
		if (len >= sizeof(part) || !json_object_is_type(o,
		    json_type_object))
			return NULL;
		memcpy(part, name, len);
		part[len] = '\0';
		if (!json_object_object_get_ex(o, part, &o))
			return NULL;
		if (dot == NULL)
			return o;
		name = dot + 1;
	}
}

static enum verdict
check_member(struct sb_req *req, const struct sb_input *in, json_object *o,
    struct sb_value *v)
{
	const char	*key;
	size_t		 len;

	switch (in->kind) {
	case SB_OBJECT:
		if (!json_object_is_type(o, json_type_object))
			return BAD;
		sb_json_text(o, &len);
		if (len > (size_t)cap_of(in, &key))
			return LARGE;
		v->obj = json_object_get(o);
		return GOOD;
	case SB_HASHES:
		return check_hashes(req, o, v);
	case SB_SORTABLE:
		return check_sortable(req, o, v);
	case SB_INT:
		if (json_object_is_type(o, json_type_int)) {
			errno = 0;
			v->i = json_object_get_int64(o);
			return errno == 0 && v->i >= in->min &&
			    v->i <= in->max ? GOOD : BAD;
		}
		return BAD;
	default:
		if (!json_object_is_type(o, json_type_string))
			return BAD;
		return check_string(in, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o), v);
	}
}

/* Answers a bad or too large input. */
static void
refuse(struct sb_req *req, const struct sb_input *in, enum verdict how)
{
	const char	*key, *what = *in->name != '\0' ? in->name : "The data";
	char		 msg[160];

	if (how == NOMEM)
		sb_reply_err(req, SB_ERR_INTERNAL, NULL);
	else if (how == LARGE) {
		(void)cap_of(in, &key);
		if (in->kind == SB_HASHES)
			snprintf(msg, sizeof(msg), "%s holds at most %d lists, "
			    "%d hashes a list and %d in all", what,
			    SB_HASH_LISTS_MAX, SB_HASHES_PER_LIST,
			    SB_HASHES_MAX);
		else if (in->kind == SB_SORTABLE)
			snprintf(msg, sizeof(msg), "%s holds at most %d "
			    "values", what, SB_SORTABLES_MAX);
		else
			snprintf(msg, sizeof(msg), "%s is larger than %s",
			    what, key != NULL ? key : "its cap");
		sb_reply_err(req, SB_ERR_FIELD_TOO_LARGE, msg);
	} else
		sb_reply_err(req, in->err != 0 ? in->err : in->where ==
		    SB_BODY ? SB_ERR_FIELD : SB_ERR_QUERY, in->msg);
}

/*
 * The body read: one JSON object, checked, and its tree built if tree.
 * Returns 0, or -1 once it has answered.
 */
static int
body_object(struct sb_req *req, bool tree)
{
	struct sb_json_span	 v;
	enum sb_err		 e;

	if ((e = sb_json_check(req->body, req->bodylen, SB_JSON_DEPTH, &v)) !=
	    SB_OK) {
		sb_reply_err(req, e, NULL);
		return -1;
	}
	if (v.type != json_type_object) {
		sb_reply_err(req, SB_ERR_BODY_SHAPE,
		    "Request body must be a JSON object");
		return -1;
	}
	if (tree && (e = sb_json_build(req->body, req->bodylen, SB_JSON_DEPTH,
	    &req->json)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return -1;
	}
	return 0;
}

int
sb_input_read(struct sb_req *req, const struct sb_path *p)
{
	enum sb_err	 e;

	if ((p->body & SB_M(req->method)) && (e = sb_req_read_body(req,
	    (size_t)sb_cfg->max_body)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return -1;
	}
	return sb_input_take(req, p);
}

int
sb_input_take(struct sb_req *req, const struct sb_path *p)
{
	const struct sb_input	*in;
	struct sb_value		*v;
	json_object		*o;
	enum verdict		 how;
	char			*q;
	bool			 body, tree = false, taken = false;
	size_t			 i;
	int			 has;

	body = (p->body & SB_M(req->method)) != 0;
	for (i = 0; p->in != NULL && p->in[i].name != NULL; i++)
		tree |= p->in[i].where == SB_BODY;
	if (body && body_object(req, tree) == -1)
		return -1;
	req->relay = req->body;
	req->relaylen = req->bodylen;

	for (i = 0; p->in != NULL && p->in[i].name != NULL; i++) {
		in = &p->in[i];
		v = &req->in[i];
		if (in->where == SB_BODY && !body)
			continue;	/* a method without a body */
		if (in->where == SB_BODY) {
			if (req->json == NULL ||
			    (o = member(req->json, in->name)) == NULL) {
				how = in->flags & SB_REQUIRED ? BAD : GOOD;
				goto done;
			}
			how = check_member(req, in, o, v);
			v->set = how == GOOD;
			if (how == GOOD && (in->flags & SB_TAKE)) {
				/* Held (put by sb_input_free()), then cut. */
				if (v->obj == NULL)
					v->obj = json_object_get(o);
				json_object_object_del(req->json, in->name);
				taken = true;
			}
			goto done;
		}
		if ((q = req_alloc(req, QUERY_MAX + 1)) == NULL) {
			sb_reply_err(req, SB_ERR_INTERNAL, NULL);
			return -1;
		}
		has = sb_req_query(req, in->name, q, QUERY_MAX + 1);
		if (has == 0)
			how = in->flags & SB_REQUIRED ? BAD : GOOD;
		else if (has == -1)
			how = BAD;
		else
			v->set = (how = check_string(in, q, strlen(q), v)) ==
			    GOOD;
done:
		if (how != GOOD) {
			refuse(req, in, how);
			return -1;
		}
	}
	if (taken)
		req->relay = sb_json_text(req->json, &req->relaylen);
	return 0;
}

void
sb_input_free(struct sb_req *req, const struct sb_path *p)
{
	struct sb_mem	*m;
	size_t		 i;

	for (i = 0; p != NULL && p->in != NULL && p->in[i].name != NULL;
	    i++)
		json_object_put(req->in[i].obj);
	json_object_put(req->json);
	req->json = NULL;
	while ((m = req->mem) != NULL) {
		req->mem = m->next;
		free(m);
	}
	if ((req->route->flags & SB_ROUTE_SECRET) && req->body != NULL)
		sb_wipe(req->body, req->bodylen);
}
