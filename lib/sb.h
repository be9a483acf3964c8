/*
 * sb.h: the route API. A route program includes this header and nothing
 * else of the library.
 *
 * A route is a table (struct sb_route): its name, its paths with the
 * methods they take, the body members and query parameters each path
 * takes (struct sb_input), who may call it, and a handler. sb_main()
 * runs it: the serve loop matches the path, checks the caller and the
 * inputs, and only then calls the handler, which gets typed values in
 * req->in[] and answers with one of the sb_reply_*() calls. Calls to
 * sentc, the store and the group checks below wait for their answer
 * without holding the worker (docs/CONCURRENCY.md): a handler reads as
 * straight-line code.
 *
 * Ownership and failure are stated on each call. Unless it says
 * otherwise, a function that returns -1 (or NULL) has already answered
 * the request with the error; one that returns an enum sb_err has not.
 */
#ifndef SB_H
#define SB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

struct sb_db;
struct sb_defer;
struct sb_fcgi_req;
struct sb_mem;
struct sb_path;
struct sb_route;


/* ---- Errors ------------------------------------------------------------ */

/*
 * Every failure a route answers is an enum sb_err: its HTTP status, its
 * sentc-style err_code and its message are the library's (docs/ERRORS.md).
 */

#define SB_ERR_BASE 20000

enum sb_err {
	SB_OK = 0,
	SB_ERR_INTERNAL,	/* 20001 500 a bug or out of memory */
	SB_ERR_METHOD,		/* 20002 405 method not served by the route */
	SB_ERR_NOT_FOUND,	/* 20003 404 path not served by the program */
	SB_ERR_BAD_ID,		/* 20004 400 an id in the path is not a UUID */
	SB_ERR_BODY_TOO_LARGE,	/* 20005 413 body over SENTC_BACKEND_MAX_BODY */
	SB_ERR_BODY_NOT_JSON,	/* 20006 400 body is empty or not JSON */
	SB_ERR_BODY_SHAPE,	/* 20007 400 JSON, but not what the route takes */
	SB_ERR_FIELD_TOO_LARGE,	/* 20008 413 a member over its own cap */
	SB_ERR_UPSTREAM_DOWN,	/* 20009 502 sentc API unreachable or closed */
	SB_ERR_UPSTREAM_BAD,	/* 20010 502 sentc API answered no envelope */
	SB_ERR_UPSTREAM_TIMEOUT,/* 20011 504 sentc API slower than the timeout */
	SB_ERR_JWT_MISSING,	/* 20012 401 no Authorization: Bearer */
	SB_ERR_JWT_FORMAT,	/* 20013 401 not three base64url JSON parts */
	SB_ERR_JWT_ALG,		/* 20014 401 alg is not ES384 */
	SB_ERR_JWT_KEY,		/* 20015 401 kid missing or not configured */
	SB_ERR_JWT_SIGNATURE,	/* 20016 401 signature does not verify */
	SB_ERR_JWT_EXPIRED,	/* 20017 401 exp passed, or iat in the future */
	SB_ERR_JWT_CLAIMS,	/* 20018 401 aud, sub or exp missing or bad */
	SB_ERR_JWT_NOT_FRESH,	/* 20019 401 not answered: sentc's 113 is */
	SB_ERR_STORAGE,		/* 20020 503 own database unavailable */
	SB_ERR_NO_USER_DATA,	/* 20021 404 no own row for this user */
	SB_ERR_COMPENSATED,	/* 20022 503 stored nothing, undone at sentc */
	SB_ERR_INCONSISTENT,	/* 20023 500 could not undo at sentc */
	SB_ERR_HEADER,		/* 20024 400 a header is malformed or too long */
	SB_ERR_UPSTREAM_ERROR,	/* 20025 502 sentc API answered a 5xx */
	SB_ERR_NOT_READY,	/* 20026 503 a program or the store is down */
	SB_ERR_NO_ITEM,		/* 20027 404 no such item in the group */
	SB_ERR_QUERY,		/* 20028 400 a query parameter is malformed */
	SB_ERR_BAD_REQUEST,	/* 20029 400 nginx found the request malformed */
	SB_ERR_ORIGIN,		/* 20030 403 Origin not in ALLOWED_ORIGINS */
	SB_ERR_COOKIE,		/* 20031 401 session cookie missing or bad */
	SB_ERR_ADMIN_AUTH,	/* 20032 401 admin credential missing/wrong */
	SB_ERR_ADMIN_CLOSED,	/* 20033 403 no admin credential configured */
	SB_ERR_FIELD,		/* 20034 400 a body member missing or invalid */
	SB_ERR_NO_GROUP_DATA,	/* 20035 404 no own row for this group */
	SB_ERR_ADMIN_NETWORK,	/* 20036 403 admin route from a refused address */
	SB_ERR_LEFT_OVER,	/* 20037 500 done at sentc, own data not removed */
	SB_ERR_COOKIE_CLOSED,	/* 20038 503 no SENTC_BACKEND_COOKIE_KEY */
	SB_ERR_SETTLING,	/* 20039 503 a lost answer on this name settling */
	SB_ERR_JWT_UNCHECKED,	/* 20040 503 kid not configured, sentc not asked */
	SB_ERR_BUSY,		/* 20041 503 SENTC_BACKEND_MAX_IN_FLIGHT reached */
	SB_ERR_NO_FILE_PART,	/* 20042 404 no such file part stored here */
	SB_ERR_FILE_TOKEN,	/* 20043 401 delete callback token missing/wrong */
	SB_ERR_FILE_CLOSED,	/* 20044 403 no SENTC_BACKEND_FILE_AUTH_TOKEN */
	SB_ERR__MAX
};

/* Default, client-safe message for an error. Never NULL. */
const char	*sb_err_str(enum sb_err);

/* ---- Logging ----------------------------------------------------------- */

enum sb_log_level {
	SB_LOG_ERR,
	SB_LOG_WARN,
	SB_LOG_INFO,
	SB_LOG__MAX
};

void	 sb_log(enum sb_log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* ---- Small helpers ----------------------------------------------------- */

#define SB_ID_LEN	36	/* 8-4-4-4-12 hex digits and dashes */

/*
 * True if s[0..len) is a text a user could have typed as a name: 1 to
 * max bytes, no NUL, no control character (C0, DEL, or C1 as UTF-8:
 * 0xC2 0x80..0x9F). UTF-8 validity is the JSON parser's to check.
 */
bool	 sb_valid_text(const char *s, size_t len, size_t max);

/* True if s[0..len) is UUID-shaped: 8-4-4-4-12 hex digits. */
bool	 sb_is_uuid(const char *s, size_t len);

/*
 * Parses a whole decimal number in [min, max]. Returns 0, or -1 for
 * anything else (empty, trailing characters, out of range).
 */
int	 sb_parse_long(const char *s, long min, long max, long *out);

/* Overwrites memory that held a secret. */
void	 sb_wipe(void *p, size_t len);

#define SB_JWT_MAX	8192	/* longest token accepted */
#define SB_CLAIM_MAX	64	/* longest aud or sub accepted */

/*
 * Is s[0..len) shaped as a compact JWT: 1..SB_JWT_MAX base64url
 * characters in three segments? No signature is checked. Pure.
 */
bool	 sb_jwt_shaped(const char *s, size_t len);

/* ---- The app's tokens -------------------------------------------------- */

enum sb_token {
	SB_TOKEN_PUBLIC,
	SB_TOKEN_SECRET,
	SB_TOKEN__MAX
};

/*
 * The app options of sentc (its dashboard's AppOptions keys) that decide
 * which token the endpoints the backend calls take, one setting each,
 * SENTC_BACKEND_TOKEN_<OPTION>. sentc's forced routes and GET /user/jwt
 * take the secret token always, and have none.
 */
enum sb_option {
	SB_OPT_USER_REGISTER,		/* POST /register */
	SB_OPT_USER_EXISTS,		/* POST /exists */
	SB_OPT_USER_DEVICE_REGISTER,	/* POST /user/prepare_register_device */
	SB_OPT_USER_JWT_REFRESH,	/* PUT /refresh */
	SB_OPT_USER_DELETE,		/* DELETE /user */
	SB_OPT_USER_DONE_LOGIN,		/* POST /verify_login */
	SB_OPT_GROUP_CREATE,		/* POST /group */
	SB_OPT_GROUP_GET,		/* GET /group/{id}/light */
	SB_OPT_GROUP_DELETE,		/* DELETE /group/{id}, a create undone */
	SB_OPT__MAX
};

/* The token that the configuration gives the app option o. */
enum sb_token	 sb_token_of(enum sb_option o);

/* ---- Inputs ------------------------------------------------------------ */

/*
 * What a route takes, declared in its table and checked before its
 * handler runs. Each path (struct sb_path) names the methods whose body
 * is a JSON object and its inputs: members of that body and parameters
 * of the query, each with a kind, a cap, whether it is required, and
 * the message for a bad one. The serve loop reads and checks them all;
 * the handler finds each in req->in[i], i its index in the table, typed.
 * A bad or missing one is answered in the sentc envelope (400, or 413
 * past a configured cap) and the handler does not run.
 */

#define SB_INPUTS_MAX	12	/* inputs one path may declare */

/* Searchable and sortable items: what the SDK makes (items.c). */
#define SB_HASH_LEN		43	/* base64url of an HMAC-SHA256 */
#define SB_HASH_LISTS_MAX	16	/* indexed texts per item */
#define SB_HASHES_PER_LIST	200	/* the SDK hashes at most 200 bytes */
#define SB_HASHES_MAX		1000	/* per item, all lists */
#define SB_SORTABLES_MAX	4	/* named sortable values per item */
#define SB_SORT_NAME_MAX	32
#define SB_SORTABLE_MAX		4294967294LL	/* the SDK's range: u32 - 1 */

enum sb_where {
	SB_BODY,	/* a member of the body; "" is the body itself */
	SB_QUERY	/* a parameter of the query string */
};

enum sb_kind {
	SB_TEXT,	/* 1..max bytes, no control character */
	SB_UUID,	/* 8-4-4-4-12 hex digits */
	SB_INT,		/* an integer min..max; in a query, decimal digits */
	SB_WORD,	/* 1..max of A-Z a-z 0-9 _ - */
	SB_ONE_OF,	/* one of .words; .i is its index */
	SB_OBJECT,	/* a JSON object whose text is at most max bytes */
	SB_HASH,	/* one search hash: SB_HASH_LEN base64url, canonical */
	SB_HASHES,	/* lists of search hashes (the SDK's createSearchRaw) */
	SB_SORTABLE,	/* {name: 0..SB_SORTABLE_MAX}: the SDK's sortable values */
	SB_CUSTOM	/* a string that .valid accepts */
};

/* Caps that the configuration sets, for .limit. */
enum sb_limit {
	SB_LIMIT_NONE,		/* .max is the cap */
	SB_LIMIT_USER_DATA,	/* SENTC_BACKEND_MAX_USER_DATA */
	SB_LIMIT_GROUP_DATA,	/* SENTC_BACKEND_MAX_GROUP_DATA */
	SB_LIMIT_ITEM		/* SENTC_BACKEND_MAX_ITEM */
};

#define SB_REQUIRED	0x01	/* absent is bad */
#define SB_TAKE		0x02	/* a top-level body member kept here:

				   not relayed */

/* An input as the handler gets it. */
struct sb_value {
	bool		 set;		/* present (and valid) */
	const char	*s;		/* strings: NUL-terminated */
	size_t		 len;
	int64_t		 i;		/* SB_INT; SB_ONE_OF: the index */
	json_object	*obj;		/* SB_OBJECT: held by the request */
	/* SB_HASHES: n lists of hashes, list k holding count[k]. */
	const char *const *const *lists;
	const size_t	*count;
	/* SB_SORTABLE: n names and their values. */
	const char *const *names;
	const int64_t	*values;
	size_t		 n;
};

struct sb_input {
	const char	*name;		/* "a.b": member b of member a */
	enum sb_where	 where;
	enum sb_kind	 kind;
	unsigned	 flags;		/* SB_REQUIRED, SB_TAKE */
	int64_t		 min, max;	/* SB_INT: range; else max bytes */
	enum sb_limit	 limit;		/* else .max caps it */
	const char *const *words;	/* SB_ONE_OF: ends with NULL */
	/* SB_CUSTOM: is s[0..len) good? May fill v (not v->s, v->len). */
	bool		(*valid)(const char *s, size_t len, struct sb_value *v);
	enum sb_err	 err;		/* for a bad one: 0 is SB_ERR_FIELD
					   (body) or SB_ERR_QUERY (query) */
	const char	*msg;		/* for a bad one */
};

/* Is s[0..len) one search hash as the SDK makes it? Pure. */
bool	 sb_is_hash(const char *s, size_t len);

/* Is s[0..len) a word of 1..max of A-Z a-z 0-9 _ -? Pure. */
bool	 sb_is_word(const char *s, size_t len, size_t max);

/* ---- Requests ---------------------------------------------------------- */

enum sb_method {
	SB_GET,
	SB_HEAD,
	SB_POST,
	SB_PUT,
	SB_DELETE,
	SB_OPTIONS,
	SB_PATCH,
	SB_OTHER,	/* any method not listed */
	SB_METHOD__MAX
};

/* A set of methods, for struct sb_route. */
#define SB_M(m)		(1u << (m))
#define SB_IDS_MAX	4	/* ids one path may hold */
#define SB_HDRS_MAX	4096	/* extra response header bytes */
#define SB_RID_MAX	128	/* longest X-Request-Id taken from a client */

struct sb_jwt_claims {
	char	 aud[SB_CLAIM_MAX + 1];	/* sentc user id */
	char	 sub[SB_CLAIM_MAX + 1];	/* sentc device id */
	int64_t	 exp;
	int64_t	 iat;			/* 0 if absent */
	bool	 fresh;			/* true right after a login */
};

struct sb_req {
	struct sb_fcgi_req	*fcgi;
	const struct sb_route	*route;
	enum sb_method		 method;	/* HEAD is GET while routed */
	bool			 head;		/* a HEAD: no body is sent */
	bool			 matched;	/* a route pattern matched: */
	size_t			 pattern;	/* which one */
	char			 id[SB_IDS_MAX][SB_ID_LEN + 1];
	size_t			 nids;
	char			*body;		/* NUL-terminated, or NULL */
	size_t			 bodylen;

	/* The path's declared inputs, checked (sb_input.h). */
	struct sb_value		 in[SB_INPUTS_MAX];
	json_object		*json;		/* the body's tree, if read */
	const char		*relay;		/* the body to relay */
	size_t			 relaylen;
	struct sb_mem		*mem;		/* freed with the request */
	struct sb_defer		*defer;		/* run once it is answered */

	/* The caller, once sb_auth_user() has verified the JWT. */
	const char		*jwt;		/* NULL before */
	struct sb_jwt_claims	 who;

	/* The answer, once given (status 0 before). */
	int			 status;
	char			 hdrs[SB_HDRS_MAX];
	size_t			 hdrslen;
	char			*out;		/* the CGI answer, head and body */
	size_t			 outlen;

	/* For the request's log line. */
	char			 rid[SB_RID_MAX + 1];	/* request id */
	int64_t			 start_ms;
	long			 upstream_status;
	int64_t			 upstream_ms;
	enum sb_err		 err;
	char			 user[SB_CLAIM_MAX + 1];
};

/*
 * A request header by its FastCGI name (e.g. "HTTP_AUTHORIZATION"),
 * checked: NULL if absent, SB_ERR_HEADER in *err if longer than
 * SB_HEADER_MAX, holding a control character, or sent twice.
 */
const char	*sb_req_header(const struct sb_req *, const char *name,
		    enum sb_err *err);

/*
 * Calls fn(req, arg) once the request is answered, before its log line:
 * the last one deferred first. Returns 0, or -1 if out of memory (fn is
 * not called).
 */
int		 sb_req_defer(struct sb_req *, void (*fn)(struct sb_req *,
		    void *), void *arg);

/* ---- Routes ------------------------------------------------------------ */

#define SB_PATTERNS_MAX	8

/*
 * Flags of a route. Every route answers CORS preflights and adds CORS
 * headers for the origins in SENTC_BACKEND_ALLOWED_ORIGINS unless it is
 * SB_ROUTE_NO_CORS (routes no browser may call, such as admin routes).
 */
#define SB_ROUTE_DB	0x01	/* uses the database: checked at start-up */
#define SB_ROUTE_NO_CORS 0x02	/* no CORS: OPTIONS is a 405 like any other */
#define SB_ROUTE_ORIGIN	0x04	/* an Origin not listed is refused (403) */
#define SB_ROUTE_SECRET	0x08	/* the body holds a secret: wiped after */
#define SB_ROUTE_SETTLE	0x10	/* settles lost answers (sb_unsure.h) */
#define SB_ROUTE_COOKIE	0x20	/* needs the refresh cookie's keys (503) */
#define SB_ROUTE_FILE_BODY 0x40	/* bodies up to SENTC_BACKEND_FILE_MAX_PART */
#define SB_ROUTE_ACCESS	0x80	/* caches group access: on PostgreSQL, */
				/* listens for its ends (docs/SCALING.md) */

/* Who may call a route: checked before its inputs (sb_auth.h). */
enum sb_caller {
	SB_ANYONE,
	SB_USER,		/* a valid JWT: req->jwt, req->who */
	SB_USER_EXPIRED,	/* a JWT sentc signed, expired or not */
	SB_ADMIN		/* SENTC_BACKEND_ADMIN_TOKEN */
};

/*
 * A path pattern ("{id}" segments are UUIDs), the methods it takes,
 * those whose body is a JSON object, and its inputs (sb_input.h).
 */
struct sb_path {
	const char		*pattern;
	unsigned		 methods;	/* SB_M(SB_POST) | ... */
	unsigned		 body;		/* SB_M(SB_POST) | ... */
	const struct sb_input	*in;		/* ends with { NULL } */
};

struct sb_route {
	const char	*name;		/* program name: log, socket file */
	struct sb_path	 paths[SB_PATTERNS_MAX + 1];	/* ends with { NULL } */
	unsigned	 flags;
	enum sb_caller	 caller;
	/* Answers the request; anything it leaves unanswered is a 500. */
	void		(*handle)(struct sb_req *);
};

/*
 * Runs the program: options -c config file (default $SENTC_CONFIG),
 * -s socket (a path, or host:port; default SOCKET_DIR/NAME.sock) unless
 * one is inherited from systemd or spawn-fcgi, -m socket mode (octal,
 * default 0660), -t to check the config and exit. Returns the exit
 * status for main().
 */
int	 sb_main(int argc, char *argv[], const struct sb_route *);

/*
 * The operators' routes over the programs of one build (programs: their
 * names, space-separated): /backend/health and, with ready, also
 * /backend/ready (the sentc API reachable); /backend/metrics, in the
 * Prometheus text format.
 */
void	 sb_health(struct sb_req *, const char *programs, bool ready);

void	 sb_metrics(struct sb_req *, const char *programs);

/* ---- Answers ----------------------------------------------------------- */

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

/* ---- JSON -------------------------------------------------------------- */

/*
 * Parses s[0..len) as one JSON value. Returns SB_OK with *out (the caller
 * puts it) or SB_ERR_BODY_NOT_JSON.
 */
enum sb_err	 sb_json_parse(const char *s, size_t len, json_object **out);

/* The string member name of obj, or NULL if absent or not a string. */
const char	*sb_json_string(json_object *obj, const char *name);

/* Compact text of obj; valid until obj changes or is put. */
const char	*sb_json_text(json_object *obj, size_t *len);

/* ---- Calls to sentc ---------------------------------------------------- */

struct sb_upstream_res {
	long		 status;	/* HTTP status */
	char		*body;		/* as received, NUL-terminated */
	size_t		 len;
	bool		 ok;		/* envelope's "status" */
	const char	*rtext;		/* when ok: the result's text, */
	size_t		 rlen;		/* within body */
	json_type	 rtype;
	json_object	*result;	/* built by sb_upstream_result() */
	long		 err_code;	/* when !ok */
	bool		 sent;		/* the request reached sentc, which */
					/* may have acted on it, fault or not */
};

/*
 * Calls method path (below /api/v1, e.g. "/register") with the app token
 * of kind token, the user's jwt (NULL: none) and body (NULL: none).
 * Returns SB_OK with res filled whenever a sentc envelope came back with
 * a status below 500, success or not; otherwise
 * SB_ERR_UPSTREAM_{DOWN,BAD,TIMEOUT,ERROR}, with res.sent telling whether
 * the request got to sentc at all. req may be NULL; if not, its log
 * fields are updated. Free res with sb_upstream_res_free() in every case.
 */
enum sb_err	 sb_upstream(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt,
		    const char *body, size_t len, struct sb_upstream_res *res);

/*
 * As sb_upstream(), for a group route of sentc: access (NULL: none), a
 * group id (UUID, else SB_ERR_INTERNAL), goes as x-sentc-group-access-id,
 * the group through which the caller reaches the group of the path.
 */
enum sb_err	 sb_upstream_group(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt,
		    const char *access, const char *body, size_t len,
		    struct sb_upstream_res *res);

/*
 * As sb_upstream(), but answers the request itself on a fault. Returns
 * 0 with an envelope in res (to free), or -1 once answered, res empty.
 */
int		 sb_relay(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt,
		    const char *body, size_t len, struct sb_upstream_res *res);

/* As sb_relay(), for a group route, with access as sb_upstream_group(). */
int		 sb_relay_group(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt,
		    const char *access, const char *body, size_t len,
		    struct sb_upstream_res *res);

/*
 * Undoes at sentc what a route could not record in its own store (method
 * path with the given token and jwt), then answers SB_ERR_COMPENSATED, or
 * SB_ERR_INCONSISTENT (logged as an error) if the undo failed too.
 */
void		 sb_compensate(struct sb_req *req, enum sb_method method,
		    const char *path, enum sb_token token, const char *jwt);

/* Answers with the upstream's status and envelope, byte for byte. */
void		 sb_reply_upstream(struct sb_req *req,
		    const struct sb_upstream_res *res);

/*
 * The envelope's result as a tree, built on the first call (NULL if not
 * ok, for a JSON null, or out of memory). Owned by res.
 */
json_object	*sb_upstream_result(struct sb_upstream_res *);

void		 sb_upstream_res_free(struct sb_upstream_res *);

/*
 * POST /register with body[0..len), a register of identifier (NULL if
 * the body names none: sentc makes no user then), with the token of
 * user_register, and the lost-answer protocol around it: an earlier
 * lost register of the name is held (sb_unsure_hold_register()) until
 * the request ends, sentc is asked first whether the name was taken,
 * and a fault after the call reached sentc is settled
 * (sb_unsure_register()). Returns 0 with sentc's answer in *up (the
 * caller frees it), or -1 once it has answered. At the request's end the
 * hold goes if an own row has the name, else it stays, due as it was.
 */
int	 sb_relay_register(struct sb_req *, const char *identifier,
	    const char *body, size_t len, struct sb_upstream_res *up);

/*
 * Deletes a user: asks the store first, which reads the own row of
 * user_id and ends every cookie session of user_id
 * (sb_session_end_user(); 503 if it cannot, and nothing is sent), calls
 * method path at sentc with token, jwt (NULL: none) and body (NULL:
 * none), and once sentc succeeded, or answered
 * that it has no such user when gone is set, removes the own row of
 * user_id ("" for none). If that fails, the user is gone at sentc and
 * nothing brings it back: the answer is 500 (SB_ERR_LEFT_OVER, logged as
 * INCONSISTENT) and tells the caller to repeat retry, which finishes the
 * job. If sentc's answer is lost after the call reached it, the delete
 * of user_id is finished as sb_unsure_delete() says. Answers the request
 * in every case.
 */
void	 sb_user_delete(struct sb_req *req, enum sb_method method,
	    const char *path, enum sb_token token, const char *jwt,
	    json_object *body, const char *user_id, bool gone,
	    const char *retry);

/*
 * Verifies the JWT tok[0..len) (flags as for sb_jwt_verify): through the
 * JWT cache, and asking sentc when its kid names no configured key
 * (sb_keycheck.h). Returns SB_OK with *who, or the SB_ERR_* that says why
 * not; answers nothing.
 */
enum sb_err	 sb_auth_token(struct sb_req *req, const char *tok,
		    size_t len, unsigned flags, struct sb_jwt_claims *who);

/* ---- Files on the app's own storage ------------------------------------ */

/*
 * The routes of the app's file_part_url and storage_url (docs/FILES.md),
 * each answering the request itself. sb_file_part_upload(): the body is
 * one encrypted part of upload session (a UUID), number seq, the last
 * if end; the caller's JWT may have expired (its signature must hold);
 * sentc registers it (the secret token), and it is kept under the part
 * id sentc gives, or, if it cannot be kept, deleted at sentc again.
 * sb_file_part_download(): part part_id, for the app's token (no JWT).
 * sb_file_parts_deleted(): sentc's delete callback, a JSON array of part
 * ids, checked against SENTC_BACKEND_FILE_AUTH_TOKEN.
 */
void	 sb_file_part_upload(struct sb_req *, const char *session,
	    const char *seq, bool end);
void	 sb_file_part_download(struct sb_req *, const char *part_id);
void	 sb_file_parts_deleted(struct sb_req *);

/* ---- Groups ------------------------------------------------------------ */

#define SB_LIGHT_MAX	2048	/* largest answer cached */

/* Ranks for sb_group_member(): lower is stronger. */
#define SB_RANK_CREATOR	0
#define SB_RANK_ADMIN	1
#define SB_RANK_ANY	INT_MAX	/* any member */
#define SB_LIGHT_VIA	3	/* groups a member answer goes through */

struct sb_light {
	long	 status;	/* HTTP status of sentc's answer */
	bool	 member;	/* status true */
	int	 rank;		/* when member: 0 creator, 1 admin, 2.. */
	size_t	 len;
	char	 body[SB_LIGHT_MAX + 1];	/* the envelope, as sentc sent it */
	int64_t	 epoch;		/* the store's count of ends of access */
				/* when sentc was asked (-1: unknown) */
	/* A member's parent group and access_by groups ("" for none). */
	char	 via[SB_LIGHT_VIA][SB_ID_LEN + 1];
};

/*
 * The request's x-sentc-group-access-id: returns 0 with *id NULL (no
 * header) or pointing at the header's value (a valid group id), or -1
 * once it has answered sentc's own 400, code 1, for a value that is not
 * one (a malformed header: 400, 20024).
 */
int	 sb_group_access_id(struct sb_req *req, const char **id);

/*
 * sentc's answer about the caller and group gid, through the path of
 * access the request names, into out. Returns 0
 * with out filled (a member or a 310 refusal), or -1 once it has
 * answered the request: an upstream fault, or another sentc error passed
 * through.
 */
int	 sb_group_light(struct sb_req *req, const char *gid,
	    struct sb_light *out);

/*
 * "May the caller touch gid with at least rank max_rank?" (0 is the
 * strongest rank, 4 the weakest.) Returns 0 with the caller's rank in
 * *rank (may be NULL), or -1 once it has answered: sentc's 310 for a
 * non-member, 301 for too weak a rank, or a fault.
 */
int	 sb_group_member(struct sb_req *req, const char *gid, int max_rank,
	    int *rank);

/*
 * Ends, in every program and on every host, the cached answers that name
 * id (a group: deleted; a user or a group as member: kicked), through the
 * store (sb_db_access_revoke()): a cached member answer is used again
 * only if none of its user, group, path of access, parent group or
 * access_by groups has been revoked since sentc was asked. Drops this
 * program's answers about id at once too. Returns SB_OK or
 * SB_ERR_STORAGE (logged).
 */
enum sb_err	 sb_access_revoke(const char *id);

/* ---- The store --------------------------------------------------------- */

/*
 * This worker's connection, opened on first use from sb_cfg. NULL if the
 * store cannot be opened now (logged); the next call tries again. A
 * PostgreSQL connection that breaks later is re-opened by the next call
 * that uses it: a call that found it broken runs once more on the fresh
 * one where running twice is safe, and fails with SB_ERR_STORAGE
 * otherwise.
 */
struct sb_db	*sb_db(void);

struct sb_db	*sb_db_for(struct sb_req *);

/*
 * Stores a new user: its sentc user id, the device identifier it was
 * registered with, and its own data (JSON object text, NULL for {}).
 */
enum sb_err	 sb_db_user_create(struct sb_db *, const char *user_id,
		    const char *identifier, const char *user_data);

/*
 * The user's own data as JSON text in *out, which the caller frees.
 * SB_ERR_NO_USER_DATA if the user has no row.
 */
enum sb_err	 sb_db_user_data(struct sb_db *, const char *user_id,
		    char **out);

/* Replaces the user's data; SB_ERR_NO_USER_DATA if the user has no row. */
enum sb_err	 sb_db_user_set_data(struct sb_db *, const char *user_id,
		    const char *user_data);

/* Removes the user's row; removing a missing row is not an error. */
enum sb_err	 sb_db_user_delete(struct sb_db *, const char *user_id);

/* The user id registered with identifier into out (SB_ID_LEN + 1). */
enum sb_err	 sb_db_user_by_identifier(struct sb_db *,
		    const char *identifier, char *out, size_t outsz);

/*
 * Stores a group created through the backend: its id, its creator (a
 * sentc user id) and its own data (JSON object text, NULL for {}).
 */
enum sb_err	 sb_db_group_create(struct sb_db *, const char *group_id,
		    const char *creator, const char *group_data);

/*
 * The group's own data as JSON text in *out, which the caller frees.
 * SB_ERR_NO_GROUP_DATA if the group has no row.
 */
enum sb_err	 sb_db_group_data(struct sb_db *, const char *group_id,
		    char **out);

/* Replaces the group's data; SB_ERR_NO_GROUP_DATA if it has no row. */
enum sb_err	 sb_db_group_set_data(struct sb_db *, const char *group_id,
		    const char *group_data);

/* Removes a group's row and all its items, in one transaction. */
enum sb_err	 sb_db_group_delete(struct sb_db *, const char *group_id);

/* An item of a group's store, as read back. */
struct sb_item {
	const char	*item_id;
	const char	*author;	/* sentc user id of the last writer */
	const char	*data;		/* the client's ciphertext */
	size_t		 len;
	int64_t		 created_at, updated_at;
};

/* Creates or replaces an item. */
enum sb_err	 sb_db_item_put(struct sb_db *, const char *group_id,
		    const char *item_id, const char *author, const char *data,
		    size_t len);

/*
 * Calls fn with the item (valid during the call only); SB_ERR_NO_ITEM if
 * there is none.
 */
enum sb_err	 sb_db_item_get(struct sb_db *, const char *group_id,
		    const char *item_id,
		    void (*fn)(void *, const struct sb_item *), void *arg);

/* Removes an item; SB_ERR_NO_ITEM if there was none. */
enum sb_err	 sb_db_item_delete(struct sb_db *, const char *group_id,
		    const char *item_id);

/*
 * Calls fn for up to limit items of the group whose id sorts after
 * after ("" for the first page), in id order; data is NULL in these.
 */
enum sb_err	 sb_db_item_list(struct sb_db *, const char *group_id,
		    const char *after, long limit,
		    void (*fn)(void *, const struct sb_item *), void *arg);

/*
 * What makes an item findable without the backend reading it: the
 * search hashes and sortable values the SDK makes from the cleartext
 * (searchable and sortable encryption). Each hash is 43 characters of
 * base64url; lists[i] holds list i's hashes, the last being the whole
 * word. A sortable value is a name and an integer 0..4294967294. The
 * caller validates; the store keeps each hash once per item, marked
 * "last" if it is the last of any list.
 */
struct sb_item_sortable {
	const char	*name;
	int64_t		 value;
};

struct sb_item_index {
	const char *const *const *lists;	/* nlists lists of hashes */
	const size_t		 *nhashes;	/* hashes in each list */
	size_t			  nlists;
	const struct sb_item_sortable *sortables;
	size_t			  nsortables;
};

/*
 * Creates or replaces an item together with its hashes and sortable
 * values (those of an earlier version go), in one transaction.
 */
enum sb_err	 sb_db_item_put_index(struct sb_db *, const char *group_id,
		    const char *item_id, const char *author, const char *data,
		    size_t len, const struct sb_item_index *);

/*
 * A query on a group's items: by hash (any hash of the item, a prefix
 * match; or, with exact, its last hash: the whole word), by a sortable
 * value's range, or both. Results come in a stable order: by item id
 * without a sortable name, else by (value, item id), ascending or
 * descending; a page starts after the cursor (after_value, after_id)
 * of the one before ("" for the first page).
 */
struct sb_item_query {
	const char	*hash;		/* NULL: any item */
	bool		 exact;
	const char	*sort;		/* sortable name, NULL: none */
	int64_t		 min, max;	/* inclusive */
	bool		 desc;
	const char	*after_id;	/* "": the first page */
	int64_t		 after_value;
	long		 limit;
};

/*
 * Calls fn for up to q->limit items (data NULL) that match, with the
 * item's value of q->sort (0 without one), in the order q asks.
 */
enum sb_err	 sb_db_item_search(struct sb_db *, const char *group_id,
		    const struct sb_item_query *q,
		    void (*fn)(void *, const struct sb_item *, int64_t),
		    void *arg);

/* ---- The refresh cookie and sessions ----------------------------------- */

#define SB_COOKIE_VERSION	2	/* sealed */
#define SB_REFRESH_TOKEN_MAX	1024	/* longest refresh token sealed */

/* What sb_cookie_open() found besides the token. */
struct sb_cookie_info {
	int		 version;	/* SB_COOKIE_VERSION or _VERSION_1 */
	int64_t		 sealed_at;	/* seconds */
	char		 aud[SB_CLAIM_MAX + 1];	/* sealed for */
	char		 sub[SB_CLAIM_MAX + 1];
};

#define SB_SESSION_MAX	4	/* cookies that open, of one request, checked */

/* One cookie of the request, opened. */
struct sb_session {
	char			 token[SB_REFRESH_TOKEN_MAX + 1];
	size_t			 toklen;
	struct sb_cookie_info	 info;
};

/* The cookies of a request that a refresh may use. */
struct sb_sessions {
	struct sb_session	 s[SB_SESSION_MAX];
	size_t			 n;	/* usable, the current version first */
	size_t			 ended;	/* opened, but their session ended */
	bool			 whole;	/* no cookie that opens was left out */
};

/*
 * Finds the cookies of the request that who may refresh with: every
 * value of the configured name in the Cookie header is opened for who's
 * aud and sub; of those that open (the first SB_SESSION_MAX of them; any
 * more make whole false), the ones whose session has not ended are
 * usable, version SB_COOKIE_VERSION first, each in the header's order.
 * Returns SB_OK (out->n may be 0), SB_ERR_HEADER (a malformed Cookie
 * header: nothing opened) or SB_ERR_STORAGE. The caller wipes out.
 */
enum sb_err	 sb_session_find(struct sb_req *, const struct sb_jwt_claims *who,
		    struct sb_sessions *out);

/*
 * Ends the sessions of the request's cookie (logout): the token of every
 * value of the configured name that opens, whoever it was sealed for
 * (version 1 cookies never reach the logout route). Sets req->user to
 * the user of the last one. Returns SB_OK, also when there is none or no
 * cookie key is configured, SB_ERR_HEADER (a malformed Cookie header:
 * nothing ended) or SB_ERR_STORAGE (maybe none ended).
 */
enum sb_err	 sb_session_logout(struct sb_req *);

/*
 * Ends every cookie session of user_id sealed until now. Returns SB_OK
 * or SB_ERR_STORAGE.
 */
enum sb_err	 sb_session_end_user(struct sb_db *, const char *user_id);

/*
 * Is a session of user_id with token[0..len), begun at since, ended?
 * For a cookie about to be made (POST /backend/session, since the JWT's
 * iat). Returns SB_OK with *ended, or SB_ERR_STORAGE.
 */
enum sb_err	 sb_session_ended(struct sb_db *, const char *token,
		    size_t len, const char *user_id, int64_t since,
		    bool *ended);

int	 sb_cookie_set(struct sb_req *, const struct sb_jwt_claims *who,
	    const char *token, size_t toklen);

int	 sb_cookie_move(struct sb_req *, const struct sb_jwt_claims *who,
	    const char *token, size_t toklen, int64_t sealed_at);

void	 sb_cookie_clear(struct sb_req *);

/* Within the answer read: not NUL-terminated. */
struct sb_login {
	const char	*jwt;		/* the new JWT */
	size_t		 jwtlen;
	const char	*token;		/* the refresh token */
	size_t		 toklen;
};

/*
 * Reads body[0..len), sentc's answer to verify_login: a sentc envelope
 * whose status is true and whose result is an object with exactly one
 * member "jwt", a string of 1 to SB_JWT_MAX bytes, and exactly one member
 * "refresh_token", a string of 1 to SB_REFRESH_TOKEN_MAX bytes; neither
 * holds a backslash (so their text is their value). The token's text
 * appears nowhere else in the body. Returns SB_OK with out pointing into
 * body, or SB_ERR_UPSTREAM_BAD (out zeroed). Pure: the fuzzers call it.
 */
enum sb_err	 sb_login_take(const char *body, size_t len,
		    struct sb_login *out);

/*
 * Blanks the token that sb_login_take() found in this very body[0..*len)
 * (NUL-terminated): the bytes after it move up over it, so that its
 * string reads "", *len shrinks by its length, and the bytes freed at the
 * end, the old NUL among them, are wiped to NULs. login's pointers then
 * no longer hold. Pure.
 */
void		 sb_login_blank(char *body, size_t *len,
		    const struct sb_login *login);

#endif
