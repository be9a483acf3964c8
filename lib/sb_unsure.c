#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define SENTC_USER_NOT_FOUND	100

long
sb_unsure_after(void)
{
	long	 s;

	/* SENTC_BACKEND_UPSTREAM_TIMEOUT_MS, checked: at most 600000. */
	if (!sb_mul_ok(sb_cfg->upstream_timeout_ms / 1000 +
	    (sb_cfg->upstream_timeout_ms % 1000 != 0), 3, &s) ||
	    !sb_add_ok(s, 5, &s))
		return LONG_MAX;
	return s;
}

/*
 * Calls method path with the secret token and {"user_identifier": id}
 * (id NULL: no body). Returns the fault, or SB_OK with *code 0 for
 * success or sentc's err_code.
 */
static enum sb_err
forced(struct sb_req *req, enum sb_method method, const char *path,
    const char *id, long *code)
{
	struct sb_upstream_res	 up;
	json_object		*body = NULL;
	const char		*text = NULL;
	size_t			 len = 0;
	enum sb_err		 e;

	if (id != NULL) {
		body = json_object_new_object();
		json_object_object_add(body, "user_identifier",
		    json_object_new_string(id));
		text = sb_json_text(body, &len);
	}
	e = sb_upstream(req, method, path, SB_TOKEN_SECRET, NULL, text, len,
	    &up);
	*code = e == SB_OK && !up.ok ? up.err_code : 0;
	sb_upstream_res_free(&up);
	json_object_put(body);
	return e;
}

/* Does sentc have a user with identifier? 1, 0, or -1 on a fault. */
static int
taken(const char *identifier)
{
	struct sb_upstream_res	 up;
	json_object		*q, *avail;
	const char		*text;
	size_t			 len;
	int			 rc = -1;

	q = json_object_new_object();
	json_object_object_add(q, "user_identifier",
	    json_object_new_string(identifier));
	text = sb_json_text(q, &len);
	if (sb_upstream(NULL, SB_POST, "/exists",
	    sb_cfg->token[SB_OPT_USER_EXISTS], NULL, text, len, &up) == SB_OK &&
	    up.ok &&
	    json_object_object_get_ex(sb_upstream_result(&up), "available", &avail) &&
	    json_object_is_type(avail, json_type_boolean))
		rc = !json_object_get_boolean(avail);
	sb_upstream_res_free(&up);
	json_object_put(q);
	return rc;
}

void
sb_unsure_register(struct sb_req *req, enum sb_err e, const char *identifier)
{
	struct sb_db	*db;
	enum sb_err	 ue;
	long		 code, after = sb_unsure_after();
	int64_t		 now;

	ue = forced(req, SB_PUT, "/user/forced/delete", identifier, &code);
	if (ue == SB_OK && code == 0) {
		/* It had landed: deleted, and nothing can land again. */
		sb_log(SB_LOG_WARN, "undone at sentc after a lost answer: "
		    "PUT /user/forced/delete");
		sb_reply_err(req, e, NULL);
		return;
	}
	/* Not there yet, or not known: it may still land. */
	now = sb_now();
	if ((db = sb_db()) != NULL && sb_db_unsure_add(db, SB_UNSURE_REGISTER,
	    identifier, now, sb_add_sat(now, after)) == SB_OK) {
		sb_log(SB_LOG_WARN, "register lost its answer; recorded, to be "
		    "settled in %ld s", after);
		sb_reply_err(req, e, NULL);
		return;
	}
	if (ue == SB_OK && code == SENTC_USER_NOT_FOUND) {
		sb_log(SB_LOG_ERR, "INCONSISTENT: register lost its answer and "
		    "could not be recorded; a user sentc makes late has no own "
		    "row");
		sb_reply_err(req, e, NULL);
		return;
	}
	sb_log(SB_LOG_ERR, "INCONSISTENT: after a lost answer, could not undo "
	    "PUT /user/forced/delete at sentc (%s, err_code %ld), nor record "
	    "it", sb_err_str(ue), code);
	sb_reply_err(req, SB_ERR_INCONSISTENT, NULL);
}

int
sb_unsure_hold_register(struct sb_req *req, const char *identifier)
{
	struct sb_db	*db;
	int64_t		 now = sb_now();
	int		 state;

	if ((db = sb_db_for(req)) == NULL)
		return -1;
	if (sb_db_unsure_hold(db, SB_UNSURE_REGISTER, identifier, now,
	    sb_add_sat(now, sb_unsure_after()), &state) != SB_OK) {
		sb_reply_err(req, SB_ERR_STORAGE, NULL);
		return -1;
	}
	if (state == -1) {
		sb_reply_err(req, SB_ERR_SETTLING, NULL);
		return -1;
	}
	return state;
}

void
sb_unsure_registered(const char *identifier, bool stored)
{
	struct sb_db	*db;

	if ((db = sb_db()) == NULL)
		return;	/* the hold runs out by itself */
	if (stored)
		sb_db_unsure_done(db, SB_UNSURE_REGISTER, identifier);
	else
		sb_db_unsure_release(db, SB_UNSURE_REGISTER, identifier);
}

/*
 * Finishes the delete of user_id: at sentc, then here. Returns 1 once
 * the user is gone on both sides, else 0.
 */
/*
 * For a register: did sentc have identifier before? 1 (or sentc would
 * not say: nothing is settled then), 0, or -1 once it has answered a
 * fault.
 */
static int
taken_for(struct sb_req *req, const char *identifier)
{
	struct sb_upstream_res	 up;
	json_object		*q, *avail;
	const char		*text;
	size_t			 len;
	int			 rc;

	q = json_object_new_object();
	json_object_object_add(q, "user_identifier",
	    json_object_new_string(identifier));
	text = sb_json_text(q, &len);
	rc = sb_relay(req, SB_POST, "/exists",
	    sb_cfg->token[SB_OPT_USER_EXISTS], NULL, text, len, &up);
	json_object_put(q);
	if (rc == -1)
		return -1;
	rc = !(up.ok && json_object_object_get_ex(sb_upstream_result(&up),
	    "available", &avail) && json_object_is_type(avail,
	    json_type_boolean) && json_object_get_boolean(avail));
	sb_upstream_res_free(&up);
	return rc;
}

/* The request's end: the hold of identifier goes, or stays. */
static void
registered(struct sb_req *req, void *arg)
{
	char		*identifier = arg;
	char		 uid[SB_ID_LEN + 1];
	struct sb_db	*db;

	(void)req;
	if ((db = sb_db()) != NULL)
		sb_unsure_registered(identifier, sb_db_user_by_identifier(db,
		    identifier, uid, sizeof(uid)) == SB_OK);
	free(identifier);
}

int
sb_relay_register(struct sb_req *req, const char *identifier,
    const char *body, size_t len, struct sb_upstream_res *up)
{
	enum sb_err	 e;
	char		*held = NULL;
	int		 was_taken = 1, state;

	memset(up, 0, sizeof(*up));
	if (identifier != NULL) {
		if ((state = sb_unsure_hold_register(req, identifier)) == -1)
			return -1;
		if (state == 1 && ((held = strdup(identifier)) == NULL ||
		    sb_req_defer(req, registered, held) == -1)) {
			/* Not held past here: it runs out by itself. */
			free(held);
			sb_reply_err(req, SB_ERR_INTERNAL, NULL);
			return -1;
		}
		if ((was_taken = taken_for(req, identifier)) == -1)
			return -1;
	}
	if ((e = sb_upstream(req, SB_POST, "/register",
	    sb_cfg->token[SB_OPT_USER_REGISTER], NULL, body, len, up)) ==
	    SB_OK)
		return 0;
	/* sentc's own envelope of a server error says it failed. */
	if (up->sent && !was_taken && e != SB_ERR_UPSTREAM_ERROR)
		sb_unsure_register(req, e, identifier);
	else
		sb_reply_err(req, e, NULL);
	sb_upstream_res_free(up);
	return -1;
}

static int
finish_delete(struct sb_req *req, struct sb_db *db, const char *user_id)
{
	char		 path[32 + SB_CLAIM_MAX];
	long		 code;
	int		 n;

	n = snprintf(path, sizeof(path), "/user/forced/delete/%s", user_id);
	if (n < 0 || (size_t)n >= sizeof(path) ||
	    forced(req, SB_DELETE, path, NULL, &code) != SB_OK ||
	    (code != 0 && code != SENTC_USER_NOT_FOUND))
		return 0;
	return sb_db_user_delete(db, user_id) == SB_OK;
}

void
sb_unsure_delete(struct sb_req *req, enum sb_err e, const char *user_id)
{
	struct sb_db	*db;
	json_object	*ok;
	int64_t		 now = sb_now();

	/* Due later: no pass finishes it while this request does. */
	if ((db = sb_db()) == NULL || sb_db_unsure_add(db, SB_UNSURE_DELETE,
	    user_id, now, sb_add_sat(now, sb_unsure_after())) != SB_OK) {
		sb_log(SB_LOG_ERR, "INCONSISTENT: the delete of user %s lost "
		    "its answer and could not be recorded; its own data may be "
		    "left over", user_id);
		sb_reply_err(req, e, NULL);
		return;
	}
	if (!finish_delete(NULL, db, user_id)) {
		sb_log(SB_LOG_WARN, "the delete of user %s lost its answer; "
		    "recorded, to be finished", user_id);
		sb_reply_err(req, e, NULL);
		return;
	}
	sb_db_unsure_done(db, SB_UNSURE_DELETE, user_id);
	sb_log(SB_LOG_WARN, "the delete of user %s lost its answer; finished",
	    user_id);
	ok = json_object_new_string("Success");
	sb_reply_ok(req, ok);
	json_object_put(ok);
}

/* Settles a lost register. Returns 1 if its record can go, else 0. */
static int
settle_register(struct sb_db *db, const struct sb_unsure *u, int64_t now)
{
	char		 uid[SB_ID_LEN + 1];
	enum sb_err	 e;
	long		 code;
	int		 t;

	/* The name has an own row: sentc's user of that name is that one. */
	if ((e = sb_db_user_by_identifier(db, u->key, uid, sizeof(uid))) ==
	    SB_OK)
		return 1;
	if (e != SB_ERR_NO_USER_DATA || (t = taken(u->key)) == -1)
		return 0;
	if (t == 1) {
		if ((e = sb_db_user_by_identifier(db, u->key, uid,
		    sizeof(uid))) == SB_OK)
			return 1;
		if (e != SB_ERR_NO_USER_DATA || forced(NULL, SB_PUT,
		    "/user/forced/delete", u->key, &code) != SB_OK ||
		    (code != 0 && code != SENTC_USER_NOT_FOUND))
			return 0;
		if (code == 0)
			sb_log(SB_LOG_WARN, "settled: a user a register made "
			    "after losing its answer is deleted at sentc");
	}
	/* since is read back from the store: no sum with it unchecked. */
	return sb_sub_sat(now, u->since) >= SB_UNSURE_KEEP;
}

void
sb_unsure_pass(void)
{
	static int64_t	 last_ms;
	struct sb_unsure u;
	struct sb_db	*db;
	int64_t		 now_ms = sb_now_ms(), now;
	long		 after = sb_unsure_after();
	int		 i, done;

	if (last_ms != 0 && now_ms - last_ms < 1000)
		return;
	last_ms = now_ms;
	if ((db = sb_db()) == NULL)
		return;
	for (i = 0; i < SB_UNSURE_PASS_MAX; i++) {
		now = sb_now();
		if (sb_db_unsure_take(db, now, sb_add_sat(now, after),
		    sb_add_sat(now, after), &u) != SB_OK || u.kind == 0)
			break;
		if (u.kind == SB_UNSURE_REGISTER)
			done = settle_register(db, &u, now);
		else if (u.kind == SB_UNSURE_DELETE) {
			if ((done = finish_delete(NULL, db, u.key)))
				sb_log(SB_LOG_WARN, "settled: the delete of user "
				    "%s is finished", u.key);
		} else
			done = 0;	/* a kind this version does not know */
		if (done)
			sb_db_unsure_done(db, u.kind, u.key);
		else
			sb_db_unsure_release(db, u.kind, u.key);
		free(u.key);
	}
}
