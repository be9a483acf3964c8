/*
 * sb_json.h: strict JSON for request bodies and upstream answers.
 *
 * Parsing is strict RFC 8259 (json-c's strict mode), depth-limited, and
 * must consume the whole input: trailing bytes, NULs and comments fail.
 */
#ifndef SB_JSON_H
#define SB_JSON_H

#include <stddef.h>

#include <json-c/json.h>

#include "sb_error.h"
#include "sb_request.h"

#define SB_JSON_DEPTH	64

/*
 * Parses s[0..len) as one JSON value. Returns SB_OK with *out (the caller
 * puts it) or SB_ERR_BODY_NOT_JSON.
 */
enum sb_err	 sb_json_parse(const char *s, size_t len, json_object **out);

/* As sb_json_parse(), nesting at most depth levels. */
enum sb_err	 sb_json_parse_depth(const char *s, size_t len, int depth,
		    json_object **out);

/*
 * Removes the member name from obj, if present. It must be a JSON object
 * whose text is at most cap bytes. Returns SB_OK with *out (the caller
 * puts it; NULL if absent), SB_ERR_BODY_SHAPE or SB_ERR_FIELD_TOO_LARGE.
 */
enum sb_err	 sb_json_take_object(json_object *obj, const char *name,
		    size_t cap, json_object **out);

/*
 * The string member name of obj, at least one and at most cap bytes, with
 * no NUL. Returns SB_OK with *s (borrowed from obj) and *len, else
 * SB_ERR_BODY_SHAPE (absent, not a string, empty, or holding a NUL) or
 * SB_ERR_FIELD_TOO_LARGE.
 */
enum sb_err	 sb_json_member_string(json_object *obj, const char *name,
		    size_t cap, const char **s, size_t *len);

/* The string member name of obj, or NULL if absent or not a string. */
const char	*sb_json_string(json_object *obj, const char *name);

/* Compact text of obj; valid until obj changes or is put. */
const char	*sb_json_text(json_object *obj, size_t *len);

/*
 * Reads the body (capped by SENTC_BACKEND_MAX_BODY) and parses it as a
 * JSON object. Returns it (the caller puts it), or NULL after answering
 * with the error.
 */
json_object	*sb_body_object(struct sb_req *);

/*
 * As sb_body_object(), for a body that is data to store: its compact
 * text must be at most cap bytes, else it answers 413 naming key (the
 * config key of the cap). Returns the object (the caller puts it), or
 * NULL once answered.
 */
json_object	*sb_body_data(struct sb_req *, size_t cap, const char *key);

#endif
