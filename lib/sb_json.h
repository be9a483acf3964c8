/*
 * sb_json.h: strict JSON for request bodies and upstream answers.
 *
 * Text is strict RFC 8259 (UTF-8, no raw control characters, integers that
 * fit 64 bits), depth-limited, and must be the whole input: trailing bytes,
 * NULs and comments fail. sb_json_check() reads it without building
 * anything, for what only relays a text or reads a member or two; json-c
 * builds the tree (sb_json_parse()) of a text that check accepted.
 */
#ifndef SB_JSON_H
#define SB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sb_error.h"
#include "sb_request.h"

#define SB_JSON_DEPTH	64

/* A value within a text sb_json_check() accepted. */
struct sb_json_span {
	const char	*p;		/* its first byte */
	size_t		 len;
	json_type	 type;		/* json-c's: int without . e E */
};

/*
 * Checks that s[0..len) is one JSON value, nesting at most depth levels,
 * by the rules above. Returns SB_OK with *v (if not NULL) spanning the
 * value, without the white space around it, or SB_ERR_BODY_NOT_JSON.
 */
enum sb_err	 sb_json_check(const char *s, size_t len, int depth,
		    struct sb_json_span *v);

/*
 * The member name (ASCII; escapes in the text are read) of obj, a span
 * from sb_json_check() or from here: the last one if it repeats, as json-c
 * keeps. Returns true with *v, false if obj is no object or lacks it.
 */
bool		 sb_json_get(const struct sb_json_span *obj, const char *name,
		    struct sb_json_span *v);

/*
 * How many members of obj (a span as for sb_json_get()) are named name:
 * a name sent twice is one a reader may take either way.
 */
size_t		 sb_json_count(const struct sb_json_span *obj, const char *name);

/*
 * The integer v holds (one past INT64_MAX reads as INT64_MAX, as json-c's
 * json_object_get_int64 gives). Returns false if v is no integer.
 */
bool		 sb_json_int(const struct sb_json_span *v, int64_t *out);

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
 * As sb_body_object(), for a route that only relays the body: checks it
 * and builds nothing. Returns 0, or -1 after answering with the error.
 */
int		 sb_body_check_object(struct sb_req *);

/*
 * As sb_body_object(), for a body that is data to store: its compact
 * text must be at most cap bytes, else it answers 413 naming key (the
 * config key of the cap). Returns the object (the caller puts it), or
 * NULL once answered.
 */
json_object	*sb_body_data(struct sb_req *, size_t cap, const char *key);

#endif
