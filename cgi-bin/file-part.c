/*
 * Encrypted file parts on the app's own storage (sentc's file option
 * "own storage"; docs/FILES.md). The app's file_part_url is
 * <origin>/backend/files/part, its storage_url <origin>/backend/files/delete.
 *
 * POST /backend/files/part/{session_id}/{seq}/{end}   (end: true|false)
 *	The SDK's upload of one encrypted part, with the user's JWT (an
 *	expired one is taken, as sentc takes it here: one JWT serves a whole
 *	upload). The body, at most SENTC_BACKEND_FILE_MAX_PART bytes, is
 *	written to a temporary file and synced first; then sentc registers
 *	the part (PATCH /api/v1/file/part/{session}/{seq}/{end}/{user},
 *	secret token, the user from the verified JWT) and names it; the
 *	temporary file takes that name. A refused registration keeps
 *	nothing and answers sentc's envelope. A part that cannot be named
 *	after sentc registered it is removed at sentc again
 *	(DELETE /api/v1/file/part/{part_id}). Answer: "Success".
 *
 * GET /backend/files/part/{part_id}
 *	The part's bytes, for the SDK's download (app token, no JWT). With
 *	SENTC_BACKEND_FILE_ACCEL set, nginx sends the file (X-Accel-Redirect
 *	to that internal location); otherwise the program sends it.
 *
 * POST /backend/files/delete	["<part_id>", ...]
 *	sentc's delete callback: x-sentc-app-token must be the app's file
 *	auth_token (SENTC_BACKEND_FILE_AUTH_TOKEN); the parts go.
 *
 * If sentc's answer to a registration is lost, sentc may hold a part id
 * the backend never learnt: nothing is kept here, the upload fails, and
 * that id is harmless (a download of it is a 404, its delete callback a
 * no-op).
 */
#include <openssl/crypto.h>

#include "sb.h"

#define CALLBACK_BODY_MAX	65536	/* sentc sends at most 500 ids */
#define CALLBACK_IDS_MAX	1000
#define APP_TOKEN_HEADER	"HTTP_X_SENTC_APP_TOKEN"

enum { P_UPLOAD_END, P_UPLOAD_MORE, P_PART, P_DELETE };

/* True if the header's value is token, compared in constant time. */
static bool
token_is(const char *v, const char *token)
{
	size_t	 len = strlen(token);

	return v != NULL && token[0] != '\0' && strlen(v) == len &&
	    CRYPTO_memcmp(v, token, len) == 0;
}

static void
upload(struct sb_req *req, bool end)
{
	const char		*session = req->id[0], *seq = req->id[1];
	struct sb_files_stage	 st;
	struct sb_upstream_res	 up;
	json_object		*res, *v;
	const char		*part_id;
	struct sb_db		*db = NULL;
	char			 path[192], msg[128];
	enum sb_err		 e;

	if (sb_auth_user(req, SB_JWT_ALLOW_EXPIRED) == -1)
		return;
	if ((e = sb_req_read_body(req, (size_t)sb_cfg->file_max_part)) !=
	    SB_OK) {
		snprintf(msg, sizeof(msg), "A file part may be at most %ld "
		    "bytes (SENTC_BACKEND_FILE_MAX_PART)",
		    sb_cfg->file_max_part);
		sb_reply_err(req, e, e == SB_ERR_BODY_TOO_LARGE ? msg : NULL);
		return;
	}
	if (req->bodylen == 0) {
		sb_reply_err(req, SB_ERR_FIELD, "The file part is empty");
		return;
	}

	/*
	 * In the folder, on disk first: sentc is asked only for a part that
	 * is safe. In the database, the store must answer before sentc is
	 * asked.
	 */
	st.dirfd = -1;
	if (sb_cfg->file_store_db) {
		if ((db = sb_db_for(req)) == NULL)
			return;
	} else if ((e = sb_files_stage(req->body, req->bodylen, &st)) !=
	    SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	snprintf(path, sizeof(path), "/file/part/%s/%s/%s/%s", session, seq,
	    end ? "true" : "false", req->who.aud);
	if (sb_relay(req, SB_PATCH, path, SB_TOKEN_SECRET, NULL, NULL, 0,
	    &up) == -1) {
		sb_files_abort(&st);
		return;
	}
	if (!up.ok) {
		sb_files_abort(&st);
		sb_reply_upstream(req, &up);
		sb_upstream_res_free(&up);
		return;
	}
	if ((res = sb_upstream_result(&up)) == NULL ||
	    !json_object_object_get_ex(res, "part_id", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !sb_is_uuid(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v))) {
		/* Registered under a name that cannot be stored. */
		sb_log(SB_LOG_ERR, "file parts: sentc registered a part "
		    "without a part_id that is a UUID");
		sb_files_abort(&st);
		sb_reply_err(req, SB_ERR_UPSTREAM_BAD, NULL);
		sb_upstream_res_free(&up);
		return;
	}
	part_id = json_object_get_string(v);
	if (sb_cfg->file_store_db)
		e = sb_db_file_part_put(db, part_id, req->body, req->bodylen);
	else
		e = sb_files_commit(&st, part_id);
	if (e != SB_OK) {
		snprintf(path, sizeof(path), "/file/part/%s", part_id);
		sb_compensate(req, SB_DELETE, path, SB_TOKEN_SECRET, NULL);
	} else
		sb_reply_ok(req, NULL);
	sb_upstream_res_free(&up);
}

static void
download(struct sb_req *req)
{
	const char	*part_id = req->id[0], *tok;
	char		 where[SB_HEADER_MAX];
	struct sb_db	*db;
	char		*data;
	size_t		 len;
	enum sb_err	 e;

	/* As sentc's own download: the app's token, no JWT. */
	tok = sb_req_header(req, APP_TOKEN_HEADER, &e);
	if (!token_is(tok, sb_cfg->public_token) &&
	    !token_is(tok, sb_cfg->secret_token)) {
		sb_reply_sentc(req, 401, 200, "No valid app token");
		return;
	}
	if (sb_cfg->file_store_db) {
		if ((db = sb_db_for(req)) == NULL)
			return;
		e = sb_db_file_part_get(db, part_id,
		    (size_t)sb_cfg->file_max_part * 2, &data, &len);
	} else if (sb_cfg->file_accel[0] != '\0') {
		if ((e = sb_files_exists(part_id)) != SB_OK) {
			sb_reply_err(req, e, NULL);
			return;
		}
		snprintf(where, sizeof(where), "%s%s", sb_cfg->file_accel,
		    part_id);
		if (sb_reply_header(req, "X-Accel-Redirect", where) == -1) {
			sb_reply_err(req, SB_ERR_INTERNAL, NULL);
			return;
		}
		sb_reply_raw(req, 200, "application/octet-stream", "", 0);
		return;
	} else
		e = sb_files_read(part_id, (size_t)sb_cfg->file_max_part * 2,
		    &data, &len);
	if (e != SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	sb_reply_raw(req, 200, "application/octet-stream", data, len);
	free(data);
}

static void
delete_callback(struct sb_req *req)
{
	const char	*ids[CALLBACK_IDS_MAX], *tok, *s;
	struct sb_db	*db;
	json_object	*arr, *v;
	size_t		 i, n;
	enum sb_err	 e;

	if (sb_cfg->file_auth_token[0] == '\0') {
		sb_reply_err(req, SB_ERR_FILE_CLOSED, NULL);
		return;
	}
	tok = sb_req_header(req, APP_TOKEN_HEADER, &e);
	if (!token_is(tok, sb_cfg->file_auth_token)) {
		sb_reply_err(req, SB_ERR_FILE_TOKEN, NULL);
		return;
	}
	if ((e = sb_req_read_body(req, CALLBACK_BODY_MAX)) != SB_OK ||
	    (e = sb_json_parse(req->body, req->bodylen, &arr)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	if (!json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) > CALLBACK_IDS_MAX) {
		json_object_put(arr);
		sb_reply_err(req, SB_ERR_BODY_SHAPE, "The body must be a JSON "
		    "array of at most 1000 part ids");
		return;
	}
	/* All checked before any goes. */
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !sb_is_uuid((s = json_object_get_string(v)),
		    (size_t)json_object_get_string_len(v))) {
			json_object_put(arr);
			sb_reply_err(req, SB_ERR_BAD_ID, "A part id is not a "
			    "valid id");
			return;
		}
		ids[i] = s;
	}
	if (!sb_cfg->file_store_db)
		e = sb_files_delete(ids, n);
	else if ((db = sb_db_for(req)) == NULL) {
		json_object_put(arr);
		return;		/* answered */
	} else
		e = sb_db_file_part_delete(db, ids, n);
	if (e != SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, NULL);
	json_object_put(arr);
}

static void
handle(struct sb_req *req)
{
	switch (req->pattern) {
	case P_UPLOAD_END:
	case P_UPLOAD_MORE:
		upload(req, req->pattern == P_UPLOAD_END);
		break;
	case P_PART:
		download(req);
		break;
	case P_DELETE:
		delete_callback(req);
		break;
	}
}

static const struct sb_route route = {
	.name = "file-part",
	.paths = {
		[P_UPLOAD_END] = { "/backend/files/part/{id}/{n}/true",
		    SB_M(SB_POST) },
		[P_UPLOAD_MORE] = { "/backend/files/part/{id}/{n}/false",
		    SB_M(SB_POST) },
		[P_PART] = { "/backend/files/part/{id}", SB_M(SB_GET) },
		[P_DELETE] = { "/backend/files/delete", SB_M(SB_POST) },
		{ NULL },
	},
	.flags = SB_ROUTE_FILE_BODY,
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
