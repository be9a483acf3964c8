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
#include "sb.h"

enum { P_UPLOAD_END, P_UPLOAD_MORE, P_PART, P_DELETE };

static void
handle(struct sb_req *req)
{
	switch (req->pattern) {
	case P_UPLOAD_END:
	case P_UPLOAD_MORE:
		sb_file_part_upload(req, req->id[0], req->id[1],
		    req->pattern == P_UPLOAD_END);
		break;
	case P_PART:
		sb_file_part_download(req, req->id[0]);
		break;
	case P_DELETE:
		sb_file_parts_deleted(req);
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
