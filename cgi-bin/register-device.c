/*
 * POST /api/v1/user/prepare_register_device
 *
 * Relayed with the token kind SENTC_BACKEND_TOKEN_USER_DEVICE_REGISTER
 * names (the app option user_device_register), once the body is known to
 * be a JSON object.
 */
#include "sb.h"

static void
handle(struct sb_req *req)
{
	struct sb_upstream_res	 up;

	if (sb_relay(req, SB_POST, "/user/prepare_register_device",
	    sb_token_of(SB_OPT_USER_DEVICE_REGISTER), NULL, req->relay,
	    req->relaylen, &up) == -1)
		return;
	sb_reply_upstream(req, &up);
	sb_upstream_res_free(&up);
}

static const struct sb_route route = {
	.name = "register-device",
	.paths = {
		{ "/api/v1/user/prepare_register_device", SB_M(SB_POST),
		    SB_M(SB_POST) },
		{ NULL },
	},
	.handle = handle,
};

int
main(int argc, char *argv[])
{
	return sb_main(argc, argv, &route);
}
