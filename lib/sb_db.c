/* What every store shares: the route-side helpers. */
#include "sb_db.h"
#include "sb_response.h"

struct sb_db *
sb_db_for(struct sb_req *req)
{
	struct sb_db	*db;

	if ((db = sb_db()) == NULL)
		sb_reply_err(req, SB_ERR_STORAGE, NULL);
	return db;
}
