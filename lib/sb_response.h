/*
 * sb_response.h: answers, always the sentc envelope
 * ({"status":true,"result":...} or {"status":false,"err_msg","err_code"})
 * unless a route passes an upstream answer through or answers raw text.
 *
 * A request is answered once; later calls are ignored, so a route can
 * return right after any reply.
 */
#ifndef SB_RESPONSE_H
#define SB_RESPONSE_H

#include <json-c/json.h>

#include "sb_error.h"
#include "sb_request.h"

/* Success envelope around result (borrowed; NULL gives "Success"). */
void	 sb_reply_ok(struct sb_req *, json_object *result);

/*
 * Success envelope around text[0..len), JSON already known to be valid
 * (e.g. read back from the store, which only holds checked JSON).
 */
void	 sb_reply_ok_json(struct sb_req *, const char *text, size_t len);

/* Error envelope for e, with msg (NULL: the default for e). */
void	 sb_reply_err(struct sb_req *, enum sb_err e, const char *msg);

/*
 * sentc's own error envelope, where the backend answers as sentc would:
 * HTTP status, sentc's err_code and its message, word for word.
 */
void	 sb_reply_sentc(struct sb_req *, int status, int code,
	    const char *msg);

/* Any body, with status and content type, passed through as it is. */
void	 sb_reply_raw(struct sb_req *, int status, const char *ctype,
	    const char *body, size_t len);

/*
 * Adds a response header for the reply to come. Returns 0, or -1 if the
 * name or value holds CR, LF or another control character, or if there
 * is no room (the header is then not sent).
 */
int	 sb_reply_header(struct sb_req *, const char *name, const char *value);

/* Builds the error envelope text for e into a json object (caller puts). */
json_object *sb_envelope_err(enum sb_err e, const char *msg);

#endif
