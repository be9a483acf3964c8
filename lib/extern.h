/*
 * extern.h: the library's own declarations, which no route program
 * sees: the serve loop, the event loop and tasks, the FastCGI reader,
 * the configuration, caches, keys, the store's insides, the stats.
 * Library sources, unit tests and fuzz drivers include it; it includes
 * the route API (sb.h) first.
 */
#ifndef EXTERN_H
#define EXTERN_H

#include "sb.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ==== sb_util.c ======================================================= */

/*
 * sb_util.c: small validators and helpers that every other part uses.
 */

/* True if s[0..len) holds no control character (and no NUL). */
bool	 sb_printable(const char *s, size_t len);

/* The value of the hex digit c (either case), or -1. */
int	 sb_hexval(int c);

/* Is c a token character (RFC 9110 tchar: header and cookie names)? */
bool	 sb_is_tchar(int c);

/*
 * Reads a whole file of at most max bytes into a NUL-terminated buffer
 * that the caller frees. Returns 0, or -1 with errno (EFBIG if larger).
 */
int	 sb_read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Base64 (standard alphabet, padding required) and base64url (no
 * padding) decoding into out, of size outsz. Returns the decoded length,
 * or -1 on bad input or if out is too small.
 */
long	 sb_b64_decode(const char *in, size_t len, unsigned char *out,
	    size_t outsz);

long	 sb_b64url_decode(const char *in, size_t len, unsigned char *out,
	    size_t outsz);

/* Base64url without padding; returns the length, or -1 if too small. */
long	 sb_b64url_encode(const unsigned char *in, size_t len, char *out,
	    size_t outsz);

/*
 * Checked arithmetic, for every sum and product on a number that came
 * from outside: a claim, a config value, a header, a body, a row of the
 * store. sb_add_ok(a, b, &r), sb_sub_ok() and sb_mul_ok() store the
 * result in r and are true if the exact result fits r's type; false if
 * it does not (r then holds the result wrapped, which must not be used).
 * Any integer types, mixed: the check is on the exact value.
 */
#define sb_add_ok(a, b, r)	(!__builtin_add_overflow((a), (b), (r)))
#define sb_sub_ok(a, b, r)	(!__builtin_sub_overflow((a), (b), (r)))
#define sb_mul_ok(a, b, r)	(!__builtin_mul_overflow((a), (b), (r)))

/*
 * a + b and a - b held to [INT64_MIN, INT64_MAX]: for times (seconds or
 * milliseconds) that are only compared, where "later than any clock can
 * show" is the right reading of a sum too large to hold.
 */
int64_t	 sb_add_sat(int64_t a, int64_t b);

int64_t	 sb_sub_sat(int64_t a, int64_t b);

/* Milliseconds of CLOCK_MONOTONIC; seconds of the wall clock. */
int64_t	 sb_now_ms(void);

int64_t	 sb_now(void);

/* ==== sb_error.c ====================================================== */

/*
 * sb_error.c: the library's one error enum, and its mapping to an HTTP
 * status and to the err_code of the sentc envelope.
 *
 * The backend's own err_codes are SB_ERR_BASE + the enum value. Values are
 * only ever appended, never renumbered: clients may match on them.
 */

/* HTTP status for an error (200 for SB_OK). */
int		 sb_err_status(enum sb_err);

/* Envelope err_code for an error: SB_ERR_BASE + e. */
int		 sb_err_code(enum sb_err);

/* ==== sb_log.c ======================================================== */

/*
 * sb_log.c: log lines on stderr, one per event and one per request.
 *
 * Two formats: text ("NAME[pid] level: message", the default) and JSON,
 * one object per line (SENTC_BACKEND_LOG=json). Each line is one
 * write(2), so lines of several processes never interleave.
 *
 * Nothing here is given a token, cookie or key: callers pass only ids,
 * names and numbers.
 */

/*
 * Names this process in every line (the route's name). The format is
 * JSON if SENTC_BACKEND_LOG=json is in the environment, until
 * sb_log_json() says otherwise once the config is read.
 */
void	 sb_log_init(const char *name);

/* Selects JSON lines (true) or text lines (false). */
void	 sb_log_json(bool);

/*
 * The request id that every line carries while a request is served
 * (NULL once it is answered). Borrowed: it must outlive its use.
 */
void	 sb_log_request_id(const char *rid);

/*
 * The line for one answered request: route, method, status, timings,
 * upstream status, request id and the caller's user id where known.
 */
void	 sb_log_request(const struct sb_req *);

/* ==== sb_config.c ===================================================== */

/*
 * sb_config.c: the configuration, read once at start-up.
 *
 * An env-style file with the keys of the .env that the sentc dashboard
 * exports, plus the backend's own SENTC_BACKEND_* keys. Environment
 * variables override the file. Every key, its default and its range are
 * listed in one table in sb_config.c and in the README.
 */

#define SB_ADMIN_DIGEST_LEN	32	/* SHA-256 */
#define SB_ADMIN_TOKEN_MIN	32	/* shortest SENTC_BACKEND_ADMIN_TOKEN */

struct sb_jwt_keys;

struct sb_cookie_keys;

struct sb_origins;

struct sb_config {
	char			*secret_token;
	char			*public_token;
	struct sb_jwt_keys	*jwt_keys;
	char			*jwt_key_id;
	char			*api_url;	/* no trailing slash */
	char			*db;
	char			*socket_dir;
	char			*ca_file;	/* "" for the system store */
	long			 workers;
	long			 max_in_flight;		/* per worker */
	long			 upstream_connections;	/* per program */
	long			 db_connections;	/* per worker */
	long			 upstream_timeout_ms;
	long			 upstream_connect_timeout_ms;
	long			 upstream_max_response;
	long			 max_body;
	long			 max_user_data;
	long			 jwt_leeway;
	long			 jwt_cache_size;
	long			 jwt_key_checks;	/* per minute */
	long			 access_cache_ttl;
	long			 access_cache_size;
	long			 max_group_data;
	long			 max_item;
	bool			 file_store_db;	/* parts in SENTC_BACKEND_DB */
	char			*file_dir;	/* where file parts live */
	long			 file_max_part;	/* bytes of one part */
	char			*file_accel;	/* "": the program sends parts */
	char			*file_auth_token;	/* "": callback closed */
	enum sb_token		 token[SB_OPT__MAX];	/* by app option */

	/*
	 * SENTC_BACKEND_ADMIN_TOKEN: only its SHA-256 is kept, computed once
	 * here, so that checking a caller's token takes the same time
	 * whatever its length. Unset or empty: the admin routes are closed.
	 */
	bool			 admin_set;
	unsigned char		 admin_digest[SB_ADMIN_DIGEST_LEN];
	struct sb_cookie_keys	*cookie_keys;	/* NULL: cookie routes closed */
	char			*cookie_name;
	long			 cookie_max_age;
	struct sb_origins	*allowed_origins;	/* NULL: none */
	bool			 log_json;	/* SENTC_BACKEND_LOG=json */
	char			*user;		/* "" or user[:group] */
	long			 ready_ttl;	/* seconds a probe is reused */

	/*
	 * SENTC_JWT_SIGN_KEY is set (not empty), in the file or the
	 * environment: the app's signing key, which the backend never uses.
	 * Its value is not kept; sb_main() warns that it can go.
	 */
	bool			 sign_key_set;
};

/* Looks a name up in the environment; getenv(3) in production. */
typedef char *(*sb_getenv_fn)(const char *);

/*
 * Parses the text of a config file (NULL for none) and applies the
 * environment on top. Returns 0, or -1 with a message naming the key in
 * err; the message never holds a secret value. The caller frees cfg with
 * sb_config_free() in both cases.
 */
int	 sb_config_parse(struct sb_config *cfg, const char *text, size_t len,
	    sb_getenv_fn env, char *err, size_t errlen);

/* Reads the file at path (NULL: none) and parses it as above. */
int	 sb_config_load(struct sb_config *cfg, const char *path,
	    char *err, size_t errlen);

void	 sb_config_free(struct sb_config *cfg);

/* The configuration of this process, set once by sb_main(). */
extern const struct sb_config *sb_cfg;

/* ==== sb_task.c ======================================================= */

/*
 * sb_task.c: requests on small stacks of their own, in one thread.
 *
 * A worker carries many requests at once. Each runs as a task: a
 * function on a stack of its own (SB_TASK_STACK bytes, with a guard page
 * below it), which gives the processor up only where it would wait (for a
 * socket, a timer, a database connection) and gets it back once the event
 * loop (sb_loop.h) sees that event. Between those points a task runs
 * alone: what it reads and writes of the worker's memory needs no lock.
 * Route code never sees any of this: it calls and the call returns.
 */

#define SB_TASK_STACK	(256 * 1024)	/* mapped; only what is used is resident */

struct sb_task;

/*
 * Starts fn(arg) as a task. It first runs at the next sb_task_run().
 * Returns 0, or -1 if out of memory (fn is not run).
 */
int		 sb_task_spawn(void (*fn)(void *), void *arg);

/* The task that runs now; NULL outside any task (the event loop). */
struct sb_task	*sb_task_self(void);

/*
 * Gives the processor up until sb_task_wake() names this task. Only from
 * within a task.
 */
void		 sb_task_park(void);

/* Makes a parked task runnable; it runs at the next sb_task_run(). */
void		 sb_task_wake(struct sb_task *);

/* Runs every runnable task until each has parked again or ended. */
void		 sb_task_run(void);

/* Tasks alive: running, runnable or parked. */
size_t		 sb_task_count(void);

/*
 * The request id a task's log lines carry (see sb_log.h): set by the task
 * for itself; outside a task, the loop's own. NULL: none.
 */
void		 sb_task_set_label(const char *);

const char	*sb_task_label(void);

/* Unmaps the stacks kept for reuse (at exit; leak checkers read this). */
void		 sb_task_cleanup(void);

/* ==== sb_loop.c ======================================================= */

/*
 * sb_loop.c: a worker's event loop (epoll and a timer heap).
 *
 * A task (sb_task.h) that would wait calls sb_loop_wait_fd() or
 * sb_loop_sleep(): it parks, and the loop wakes it when its socket is
 * ready or its time is up. Outside a task the same calls simply block
 * (poll, nanosleep): start-up code and the tests use the library that
 * way. Code that is driven by events rather than waiting for them (the
 * listening socket, libcurl's sockets and timer) registers callbacks.
 */

/* Events, as epoll's. */
#define SB_EV_IN	0x001
#define SB_EV_OUT	0x004
#define SB_EV_ERR	0x008
#define SB_EV_HUP	0x010

/* Makes this process's loop. Returns 0, or -1. */
int	 sb_loop_init(void);

void	 sb_loop_free(void);

/*
 * Waits until fd is ready for events (SB_EV_IN, SB_EV_OUT) or until
 * deadline (sb_now_ms(); INT64_MAX: none). Returns the events seen (an
 * error or hang-up counts as ready), 0 at the deadline, or -1 if
 * sb_loop_wake_fd() ended the wait first.
 */
int	 sb_loop_wait_fd(int fd, unsigned events, int64_t deadline);

/* Ends a task's wait on fd early (it returns -1). */
void	 sb_loop_wake_fd(int fd);

/*
 * The loop forgets fd: call it before closing an fd that a task waited
 * on or a watcher watched.
 */
void	 sb_loop_forget(int fd);

/* Sleeps ms milliseconds. */
void	 sb_loop_sleep(int64_t ms);

/*
 * Calls cb(fd, events seen, arg) whenever fd is ready for events, until
 * sb_loop_watch() with events 0. Returns 0, or -1.
 */
int	 sb_loop_watch(int fd, unsigned events,
	    void (*cb)(int, unsigned, void *), void *arg);

/* A timer for callbacks; zeroed before its first use. */
struct sb_timer {
	int64_t	  at;
	size_t	  slot;		/* in the heap, plus one; 0: not set */
	void	(*cb)(void *);
	void	 *arg;
};

/* Calls cb(arg) once at (sb_now_ms()). Setting it again moves it. */
void	 sb_loop_timer(struct sb_timer *, int64_t at, void (*cb)(void *),
	    void *arg);

void	 sb_loop_timer_stop(struct sb_timer *);

/*
 * Waits for the next events or timers, at most max_ms (-1: no bound),
 * handles them, then runs the tasks they made runnable.
 */
void	 sb_loop_once(int64_t max_ms);

/* How many fds a task waits on or a watcher watches, for the tests. */
size_t	 sb_loop_watched(void);

/* ==== sb_fcgi.c ======================================================= */

/*
 * sb_fcgi.c: the FastCGI responder side, for the event loop.
 *
 * A web server sends requests on connections it may keep (nginx's
 * fastcgi_keep_conn); each connection is served by a task of its own,
 * which reads a request whole (its parameters, then its body up to a
 * cap), has it answered, writes the answer, and reads the next. The
 * reading is a pure state machine over bytes (struct sb_fcgi_in), so the
 * unit tests and the fuzzer drive it without a socket.
 *
 * One request at a time per connection: the program says so
 * (FCGI_MPXS_CONNS 0), and a second request on a busy connection is
 * refused with FCGI_CANT_MPX_CONN, as the protocol has it.
 */

#define SB_FCGI_PARAMS_MAX	(256 * 1024)	/* all parameters' bytes */
#define SB_FCGI_NPARAMS_MAX	1024
#define SB_FCGI_RECORD_MAX	(8 + 65535 + 255)

/* What sb_fcgi_in_feed() says of the bytes it read. */
enum sb_fcgi_rc {
	SB_FCGI_MORE,		/* read on */
	SB_FCGI_REQUEST,	/* a request is whole: serve it */
	SB_FCGI_REPLY,		/* a record to send back is in reply */
	SB_FCGI_BAD,		/* not FastCGI as this side takes it: close */
};

/* A request, as read. */
struct sb_fcgi_req {
	uint16_t	 id;
	bool		 keep;		/* the server keeps the connection */
	char		**envp;		/* "NAME=VALUE", NULL-terminated */
	char		*in;		/* the body, NUL-terminated */
	size_t		 inlen;
	bool		 in_big;	/* longer than the cap: cut */
};

struct sb_fcgi_in {
	size_t			 in_max;	/* the body's cap */
	int			 state;
	struct sb_fcgi_req	 req;
	char			*params;
	size_t			 plen;
	size_t			 incap;
	unsigned char		 reply[64];	/* a record to send */
	size_t			 replylen;
	const char		*why;		/* of SB_FCGI_BAD */
};

/* Readies r to read requests whose body is capped at in_max bytes. */
void		 sb_fcgi_in_init(struct sb_fcgi_in *r, size_t in_max);

/*
 * Reads the records in buf[0..len), as far as one result: *used says how
 * many bytes it took (a record only whole). SB_FCGI_MORE: all it could
 * take is taken. SB_FCGI_REQUEST: r->req is the request, which the caller
 * answers and then passes to sb_fcgi_in_next(). SB_FCGI_REPLY: r->reply
 * holds r->replylen bytes to send; reading goes on after them.
 */
enum sb_fcgi_rc	 sb_fcgi_in_feed(struct sb_fcgi_in *r, const unsigned char *buf,
		    size_t len, size_t *used);

/* Frees the request read, ready for the next one on the connection. */
void		 sb_fcgi_in_next(struct sb_fcgi_in *r);

void		 sb_fcgi_in_free(struct sb_fcgi_in *r);

/*
 * Frames out[0..len) as request id's standard output and its end into
 * records: the header of each is written to hdrs (8 bytes each, nhdr of
 * them at most) and the pieces to iov (an iovec array of 2 * nhdr).
 * Returns how many iovecs, or 0 if hdrs is too small.
 */
struct iovec;

size_t		 sb_fcgi_frame(uint16_t id, const char *out, size_t len,
		    unsigned char (*hdrs)[8], size_t nhdr, struct iovec *iov);

/* The value of name in envp, or NULL. */
const char	*sb_fcgi_param(char *const *envp, const char *name);

/*
 * Serves the FastCGI connection fd (non-blocking) in the calling task:
 * reads each request, calls handle(req, out, arg), which sets *out and
 * *outlen to the answer (a CGI head and body; malloc'd or NULL), and
 * writes it back. Returns when the server closes, on a protocol error,
 * when the server does not keep the connection, or, once *stop is set,
 * at the first moment no request is under way. Closes fd.
 */
void		 sb_fcgi_serve(int fd, size_t in_max,
		    void (*handle)(struct sb_fcgi_req *, char **, size_t *,
		    void *), void *arg, const volatile bool *stop);

/* ==== sb_json.c ======================================================= */

/*
 * sb_json.c: strict JSON for request bodies and upstream answers.
 *
 * Text is strict RFC 8259 (UTF-8, no raw control characters, integers that
 * fit 64 bits), depth-limited, and must be the whole input: trailing bytes,
 * NULs and comments fail. sb_json_check() reads it without building
 * anything, for what only relays a text or reads a member or two; json-c
 * builds the tree (sb_json_parse()) of a text that check accepted.
 */

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

/* A member of a text's top object, read by sb_json_check_members(). */
struct sb_json_member {
	const char		*name;	/* ASCII: the name to look for */
	struct sb_json_span	 v;	/* the value of the last one */
	size_t			 n;	/* how many members have the name */
};

/*
 * As sb_json_check(), and in the same pass, if the value is an object,
 * reads its members named in want[0..nwant): each one's count and the
 * span of the last (json-c keeps the last of a name sent twice).
 */
enum sb_err	 sb_json_check_members(const char *s, size_t len, int depth,
		    struct sb_json_span *v, struct sb_json_member *want,
		    size_t nwant);

/*
 * The integer v holds (one past INT64_MAX reads as INT64_MAX, as json-c's
 * json_object_get_int64 gives). Returns false if v is no integer.
 */
bool		 sb_json_int(const struct sb_json_span *v, int64_t *out);

/*
 * The tree of s[0..len), a text that sb_json_check() accepted at depth.
 * Returns SB_OK with *out (the caller puts it), or SB_ERR_BODY_NOT_JSON.
 */
enum sb_err	 sb_json_build(const char *s, size_t len, int depth,
		    json_object **out);

/* As sb_json_parse(), nesting at most depth levels. */
enum sb_err	 sb_json_parse_depth(const char *s, size_t len, int depth,
		    json_object **out);

/* ==== sb_jwt.c ======================================================== */

/*
 * sb_jwt.c: verification of the JWTs that the sentc API issues.
 *
 * ES384 only, whatever the token's header says: the key set decides the
 * algorithm, the header's "kid" picks the key; a key configured without
 * an id verifies tokens whatever their kid. Keys come in the sentc
 * dashboard's format, base64 of the raw uncompressed P-384 point.
 */

#define SB_KID_MAX	128	/* longest key id accepted */

struct sb_jwt_keys;

/* Flags for sb_jwt_verify(). */
#define SB_JWT_ALLOW_EXPIRED	0x01	/* signature only: for refresh */

/*
 * Parses SENTC_JWT_VERIFY_KEY: one or more keys separated by commas or
 * white space, each "kid:base64" or a bare base64 key, which then takes
 * the id default_kid (SENTC_JWT_KEY_ID); with none (NULL or ""), it has
 * no id: it verifies a token whatever its kid, the signature alone
 * decides (the dashboard's .env carries no key id). Returns the set, or
 * NULL with a message in err. Free with sb_jwt_keys_free().
 */
struct sb_jwt_keys *sb_jwt_keys_parse(const char *spec,
	    const char *default_kid, char *err, size_t errlen);

void	 sb_jwt_keys_free(struct sb_jwt_keys *);

size_t	 sb_jwt_keys_count(const struct sb_jwt_keys *);

/* Does a key of the set have the id kid? (A key without id has none.) */
bool	 sb_jwt_keys_named(const struct sb_jwt_keys *, const char *kid);

/*
 * Verifies tok[0..len) against keys at time now, allowing leeway seconds
 * on exp, nbf and iat: with the key its kid names, else with each key
 * without id. Fills out on SB_OK; returns the SB_ERR_JWT_* that says why
 * not otherwise (SB_ERR_JWT_KEY: no kid, or one that names no key while
 * every key has an id). Pure: no cache, no globals.
 */
enum sb_err sb_jwt_verify(const struct sb_jwt_keys *keys, const char *tok,
	    size_t len, int64_t now, long leeway, unsigned flags,
	    struct sb_jwt_claims *out);

/*
 * The longest a verified token is served from the cache without its
 * signature checked again: sentc's tokens live 300 s, so this bounds
 * only a token that claims a longer life (an exp of 2^63 - 1, say),
 * which would otherwise hold its slot for ever.
 */
#define SB_JWT_CACHE_MAX	600

/*
 * Until when (epoch seconds) the token with claims c, verified at now,
 * may be served from the cache: exp + leeway + 1, at most
 * SB_JWT_CACHE_MAX after now. 0 if it must not be cached (it is out of
 * its time: verified with SB_JWT_ALLOW_EXPIRED). Pure; never overflows.
 */
int64_t	 sb_jwt_cache_until(const struct sb_jwt_claims *c, int64_t now,
	    long leeway);

/*
 * What verification can tell without a key: tok[0..len) split, its
 * header (ES384, a kid of at most SB_KID_MAX visible characters, copied
 * into kid of kidsz bytes) and its claims checked as sb_jwt_verify()
 * does, the signature not at all. Returns SB_OK with out filled, or the
 * SB_ERR_JWT_* that says why not. Pure.
 */
enum sb_err sb_jwt_decode(const char *tok, size_t len, int64_t now,
	    long leeway, unsigned flags, char *kid, size_t kidsz,
	    struct sb_jwt_claims *out);

/* ==== sb_cache.c ====================================================== */

/*
 * sb_cache.c: a bounded cache with expiry, shared by a program's workers.
 *
 * The cache is one fixed block of shared memory, made by the master
 * before it forks, so every worker sees what any worker stored and memory
 * never grows. Keys are 32-byte digests (the caller hashes whatever
 * identifies the entry); values are copied in and out, up to the size
 * given at creation. Set-associative: a full set evicts the entry that
 * expires first. Each set has its own lock, robust against a worker that
 * dies holding it.
 */

#define SB_CACHE_KEY	32

struct sb_cache;

/*
 * A cache of at least entries values of at most valmax bytes each;
 * entries 0 gives a cache that holds nothing. Returns NULL if the memory
 * cannot be had, or its size does not fit in a size_t.
 */
struct sb_cache	*sb_cache_new(size_t entries, size_t valmax);

void		 sb_cache_free(struct sb_cache *);

/*
 * Looks key up at time now and copies its value into out (outsz bytes).
 * Returns the value's length, or -1 if absent, expired or larger than
 * outsz.
 */
long		 sb_cache_get(struct sb_cache *, const unsigned char *key,
		    int64_t now, void *out, size_t outsz);

/*
 * Stores a copy of val until expires (epoch seconds: it is gone for a
 * get at expires or later; one of 0 or less stores nothing), tagged with
 * tag (for sb_cache_drop_tag). Returns 0, or -1 if len is over the
 * cache's valmax (nothing is stored then).
 */
int		 sb_cache_put(struct sb_cache *, const unsigned char *key,
		    uint64_t tag, const void *val, size_t len, int64_t expires);

/*
 * As sb_cache_put(), but only if key holds nothing at time now, at once
 * for all workers: of several that add the same key, one does. Returns
 * 1 if it stored val, 0 if key was there (or the cache holds nothing),
 * -1 if len is over the cache's valmax.
 */
int		 sb_cache_add(struct sb_cache *, const unsigned char *key,
		    const void *val, size_t len, int64_t now, int64_t expires);

/* Drops every entry stored with tag. */
void		 sb_cache_drop_tag(struct sb_cache *, uint64_t tag);

/*
 * Drops every entry whose value fn (called with the set locked: it must
 * not touch the cache) says yes to; fn NULL drops every entry. Returns
 * how many it dropped (expired ones not yet reused among them).
 */
size_t		 sb_cache_drop_if(struct sb_cache *,
		    bool (*fn)(const void *val, size_t len, void *arg),
		    void *arg);

/* Hit and miss counts since creation, over all workers. */
void		 sb_cache_stats(const struct sb_cache *, uint64_t *hits,
		    uint64_t *misses);

/* Hashes the NUL-terminated parts (NUL-separated) into key. */
void		 sb_cache_key(unsigned char *key, const char *const *parts,
		    size_t nparts);

/* A 64-bit tag for a string, e.g. a group id. */
uint64_t	 sb_cache_tag(const char *s);

/* ==== sb_cookie.c ===================================================== */

/*
 * sb_cookie.c: the refresh cookie of the SDK's cookie mode.
 *
 * The value is the sentc refresh token sealed with AES-256-GCM under
 * SENTC_BACKEND_COOKIE_KEY, base64url:
 *
 *	version (1) || nonce (12, random) || ciphertext || tag (16)
 *
 * Version 2, the one sealed: the plaintext is the sealing time (8 bytes,
 * big-endian seconds), the JWT's aud and its sub (each one length byte
 * and its bytes) and the refresh token; the additional data is the
 * version byte. A cookie opens for a refresh only when the aud and sub
 * inside are the JWT's, so that it serves only the user and device it
 * was made for; logout opens it without a JWT, to end its token.
 *
 * Version 1, opened but no longer sealed: the plaintext is the sealing
 * time and the token, the additional data the version byte, aud, NUL and
 * sub. It opens only with the JWT it was made for.
 *
 * Several keys may be configured: the first seals, every one opens, so a
 * key can be rotated without logging anyone out.
 *
 * The cookie is HttpOnly, Secure, SameSite=Strict, with Path
 * SB_COOKIE_PATH, which covers the refresh and the logout route. Version
 * 1 cookies were set with Path SB_COOKIE_OLD_PATH, which only the
 * refresh route receives: a refresh that uses one seals it again as
 * version 2 under SB_COOKIE_PATH, with its first sealing time, and clears
 * the old one.
 */

#define SB_COOKIE_PATH		"/backend"
#define SB_COOKIE_OLD_PATH	"/backend/refresh"	/* version 1's */
#define SB_COOKIE_VERSION_1	1	/* opened only */
#define SB_COOKIE_KEY_LEN	32	/* AES-256 */
#define SB_COOKIE_KEYS_MAX	8	/* keys one config may list */
#define SB_COOKIE_NAME_MAX	64
#define SB_COOKIE_SKEW		300	/* seconds a seal may lie ahead */

/*
 * Bytes of a sealed value before base64url, beside the token (the most
 * of them: aud and sub at their longest), and its longest encoding.
 */
#define SB_COOKIE_OVERHEAD	(1 + 12 + 8 + 2 + 2 * SB_CLAIM_MAX + 16)
#define SB_COOKIE_VALUE_MAX	\
	(((SB_COOKIE_OVERHEAD + SB_REFRESH_TOKEN_MAX) * 4 + 2) / 3)

struct sb_cookie_keys;

/* A value within a Cookie header: not NUL-terminated. */
struct sb_span {
	const char	*p;
	size_t		 len;
};

/*
 * Parses SENTC_BACKEND_COOKIE_KEY: one or more keys, each standard
 * base64 of 32 bytes, separated by commas (white space around them is
 * ignored). Returns the set, NULL with *err empty for an empty spec (no
 * key configured), or NULL with a message in err that names the key's
 * position, never its value. Free with sb_cookie_keys_free(), which
 * wipes the keys.
 */
struct sb_cookie_keys *sb_cookie_keys_parse(const char *spec, char *err,
	    size_t errlen);

void	 sb_cookie_keys_free(struct sb_cookie_keys *);

size_t	 sb_cookie_keys_count(const struct sb_cookie_keys *);

/* True if name is a valid cookie name (RFC 6265 token), 1-64 bytes. */
int	 sb_cookie_name_valid(const char *name);

/*
 * Finds the next value of the cookie name in a Cookie header's text
 * hdr[0..len) ("a=b; c=d") from *pos (0 at first), into *val (pointing
 * into hdr; surrounding double quotes removed), and moves *pos past it.
 * Pieces that are not name=value, and values that are not RFC 6265
 * cookie-octets (no white space, control, DQUOTE, comma, semicolon or
 * backslash), are skipped. Returns true, or false once there is none
 * left. Pure and bounded by len: the fuzzers call it.
 */
bool	 sb_cookie_next(const char *hdr, size_t len, const char *name,
	    size_t *pos, struct sb_span *val);

/*
 * The values sb_cookie_next() finds, in order, at most max of them,
 * into vals. Returns how many were found.
 */
size_t	 sb_cookie_find(const char *hdr, size_t len, const char *name,
	    struct sb_span *vals, size_t max);

/*
 * Seals token[0..toklen) for aud and sub at time now with the first key,
 * as version SB_COOKIE_VERSION, into out (base64url, NUL-terminated;
 * SB_COOKIE_VALUE_MAX + 1 bytes suffice). Returns the length, or -1 if
 * there is no key, the token is empty, longer than SB_REFRESH_TOKEN_MAX
 * or holds a control character, aud or sub is empty or longer than
 * SB_CLAIM_MAX, out is too small, or the cipher fails.
 */
long	 sb_cookie_seal(const struct sb_cookie_keys *, int64_t now,
	    const char *aud, const char *sub, const char *token, size_t toklen,
	    char *out, size_t outsz);

/*
 * Opens value[0..vlen) with any of the keys for aud and sub at time now:
 * it must have been sealed for that very aud and sub, at most max_age
 * seconds ago and at most SB_COOKIE_SKEW seconds ahead. With aud and sub
 * NULL, a version 2 cookie opens whoever it was sealed for (a version 1
 * cookie cannot). Writes the token, NUL-terminated, to token
 * (SB_REFRESH_TOKEN_MAX + 1 bytes suffice), and info (if not NULL).
 * Returns SB_OK, or SB_ERR_COOKIE for anything else (bad encoding or
 * version, tampered, another user's or device's, too old, sealed with a
 * key no longer listed); nothing is written then. Pure: the fuzzers
 * call it.
 */
enum sb_err sb_cookie_open(const struct sb_cookie_keys *, int64_t now,
	    long max_age, const char *value, size_t vlen, const char *aud,
	    const char *sub, char *token, size_t tokensz,
	    struct sb_cookie_info *info);

/*
 * Writes the Set-Cookie value for name=value into out: Path path,
 * Max-Age max_age (0 clears it), HttpOnly, Secure, SameSite=Strict.
 * Returns 0, or -1 if out is too small.
 */
int	 sb_cookie_format(char *out, size_t outsz, const char *name,
	    const char *value, const char *path, long max_age);

/*
 * For routes, with the keys, name and Max-Age of sb_cfg:
 *
 * sb_cookie_ready() is 0 if a cookie key is configured; otherwise it
 * answers 503 (SB_ERR_COOKIE_CLOSED) and returns -1.
 *
 * sb_cookie_set() adds the Set-Cookie header that holds token, sealed
 * for who now. Returns 0, or -1 once it has answered 500.
 *
 * sb_cookie_move() adds the Set-Cookie headers that hold token, sealed
 * for who at sealed_at (its first sealing: the login ends when it would
 * have), under SB_COOKIE_PATH, and that clear the cookie of
 * SB_COOKIE_OLD_PATH. Returns 0, or -1 (nothing added, nothing
 * answered) if the cookie has expired or cannot be made.
 *
 * sb_cookie_clear() adds the Set-Cookie headers that remove the cookie,
 * under SB_COOKIE_PATH and SB_COOKIE_OLD_PATH.
 *
 * sb_cookie_header() gives the request's Cookie header in *hdr and its
 * length in *len: SB_OK (*hdr NULL if there is none), or SB_ERR_HEADER
 * if it is malformed (sb_req_header()).
 */
int	 sb_cookie_ready(struct sb_req *);

enum sb_err sb_cookie_header(struct sb_req *, const char **hdr,
	    size_t *len);

/* ==== sb_origin.c ===================================================== */

/*
 * sb_origin.c: the origins that browsers may call the backend from
 * (SENTC_BACKEND_ALLOWED_ORIGINS), CORS for the browser-facing routes,
 * and the Origin check of the cookie routes.
 *
 * Origins are compared exactly, byte for byte, with the Origin header a
 * browser sends ("https://app.example.com", no path, no trailing slash).
 * An allowed origin gets itself back in Access-Control-Allow-Origin,
 * with Access-Control-Allow-Credentials: true: never a wildcard.
 */

#define SB_ORIGIN_MAX		256	/* longest origin */
#define SB_ORIGINS_MAX		32	/* origins one config may list */

/* The request headers that the SDK sends, for preflights. */
#define SB_CORS_HEADERS		"Authorization, Content-Type, x-sentc-app-token, " \
				"x-sentc-group-access-id"

#define SB_CORS_MAX_AGE		"600"

struct sb_origins;

/*
 * Parses SENTC_BACKEND_ALLOWED_ORIGINS: origins separated by commas
 * (white space around them is ignored), each scheme://host[:port] with
 * scheme http or https, in lower case, without a path. Returns the list,
 * NULL with *err empty for an empty spec, or NULL with a message in err.
 * Free with sb_origins_free().
 */
struct sb_origins *sb_origins_parse(const char *spec, char *err,
	    size_t errlen);

void	 sb_origins_free(struct sb_origins *);

size_t	 sb_origins_count(const struct sb_origins *);

/* True if s[0..len) is an origin in the form above. Pure. */
int	 sb_origin_valid(const char *s, size_t len);

/*
 * The listed origin equal to origin (NULL: none, or no list), for
 * answers: a configured string, never the request's own bytes.
 */
const char *sb_origin_find(const struct sb_origins *, const char *origin);

/*
 * For the serve loop, with the list of sb_cfg:
 *
 * sb_origin_cors() adds Vary: Origin and, when the request's Origin is
 * listed, Access-Control-Allow-Origin and -Credentials to the answer to
 * come.
 *
 * sb_origin_preflight() answers an OPTIONS request to a matched route:
 * 204 with the route's methods and SB_CORS_HEADERS for a listed origin
 * (or a plain 204 with Allow when there is no Origin), 403 otherwise.
 *
 * sb_origin_check() is 0 if the request carries no Origin or a listed
 * one; otherwise it answers 403 (SB_ERR_ORIGIN) and returns -1.
 */
void	 sb_origin_cors(struct sb_req *);

void	 sb_origin_preflight(struct sb_req *);

int	 sb_origin_check(struct sb_req *);

/* ==== sb_request.c ==================================================== */

/*
 * sb_request.c: one FastCGI request as a route program sees it.
 *
 * The serve loop fills it in: the method, the path ids (validated against
 * the route's patterns), and the timing for the log. Headers and the body
 * are read on demand, each through a validator with a cap.
 */

#define SB_HEADER_MAX	8192	/* longest request header value read */

/* Runs what was deferred (the serve loop). */
void		 sb_req_end(struct sb_req *);

/* Method names, indexed by enum sb_method. */
extern const char *const sb_method_names[SB_METHOD__MAX];

/* A FastCGI parameter (HTTP_* for headers), or NULL if absent. */
const char	*sb_req_param(const struct sb_req *, const char *name);

/*
 * The query parameter name, percent-decoded into buf (bufsz bytes).
 * Returns 1 if present, 0 if absent, or -1 if malformed, too long,
 * holding a control character once decoded, or given more than once.
 */
int		 sb_req_query(const struct sb_req *, const char *name,
		    char *buf, size_t bufsz);

/*
 * Decodes the query parameter name out of the query string qs: the pure
 * part of sb_req_query(), for the fuzzers.
 */
int		 sb_query_get(const char *qs, const char *name, char *buf,
		    size_t bufsz);

/*
 * True if s[0..len) may serve as a request id: 1 to SB_RID_MAX visible
 * ASCII characters, none of them a quote or a backslash. Pure.
 */
bool		 sb_req_id_valid(const char *s, size_t len);

/*
 * Sets req->rid: the client's X-Request-Id if it is valid and sent once,
 * else a fresh id (32 hex digits: this worker's random prefix and a
 * counter).
 */
void		 sb_req_id(struct sb_req *);

/* Draws this worker's random prefix for sb_req_id(): once per worker. */
void		 sb_req_id_seed(void);

/*
 * Reads the body, at most cap bytes, into req->body. Returns SB_OK or
 * SB_ERR_BODY_TOO_LARGE (the rest is not read).
 */
enum sb_err	 sb_req_read_body(struct sb_req *, size_t cap);

/*
 * Matches a path against a pattern whose "{id}" segments stand for
 * UUIDs, which are copied (lower-cased) into ids, and whose "{n}"
 * segments stand for whole numbers (0 to 999999999, no leading zero),
 * copied as they are. Returns SB_OK,
 * SB_ERR_NOT_FOUND if the literal segments differ, or SB_ERR_BAD_ID if
 * only an id is malformed. Pure: used by the serve loop and the fuzzer.
 */
enum sb_err	 sb_path_match(const char *pattern, const char *path,
		    size_t pathlen, char ids[][SB_ID_LEN + 1], size_t *nids);

/* ==== sb_input.c ====================================================== */

/*
 * sb_input.c: what a route takes, declared in its table and checked
 * before its handler runs.
 *
 * Each path of a route names the methods whose body is a JSON object
 * (struct sb_path's body) and its inputs: members of that body and
 * parameters of the query, each with a kind, a cap, whether it is
 * required, and the message for a bad one. The serve loop reads and
 * checks them all (sb_input_read()); the handler finds each in req->in[i],
 * i its index in the table, typed. A bad or missing one is answered with
 * the sentc envelope and the handler does not run.
 */

/*
 * sb_input_read() on a request whose body is read already (req->body,
 * NULL if none): the checks alone, for the fuzzers. The query is read
 * from the request's parameters.
 */
int	 sb_input_take(struct sb_req *, const struct sb_path *);

/*
 * Reads and checks what path declares: the body (for a method in
 * path->body: a JSON object, capped by SENTC_BACKEND_MAX_BODY; built
 * into req->json only if members are declared), then each input into
 * req->in[], and the body to relay into req->relay (the body as sent,
 * or without its SB_TAKE members). Returns 0, or -1 once it has answered
 * the error.
 */
int	 sb_input_read(struct sb_req *, const struct sb_path *);

/*
 * Releases what sb_input_read() holds; wipes the body of an
 * SB_ROUTE_SECRET route.
 */
void	 sb_input_free(struct sb_req *, const struct sb_path *);

/* ==== sb_response.c =================================================== */

/*
 * sb_response.c: answers, always the sentc envelope
 * ({"status":true,"result":...} or {"status":false,"err_msg","err_code"})
 * unless a route passes an upstream answer through or answers raw text.
 *
 * A request is answered once; later calls are ignored, so a route can
 * return right after any reply.
 */

/* Builds the error envelope text for e into a json object (caller puts). */
json_object *sb_envelope_err(enum sb_err e, const char *msg);

/* ==== sb_serve.c ====================================================== */

/*
 * sb_serve.c: a route program's main loop.
 *
 * A route is a table: its name, its path patterns, its methods and its
 * handler. sb_main() loads the config, binds or inherits the FastCGI
 * socket, forks the workers, restarts one that dies and drains on
 * SIGTERM. Each worker answers one request at a time: it matches the path
 * and method, calls the handler, and logs one line. A HEAD reaches the
 * handler of a GET as that GET; the answer goes out without its body.
 */

/*
 * The methods that path pattern i of route takes: its own, and HEAD
 * wherever it takes GET (a HEAD is answered as the GET, without the
 * body).
 */
unsigned sb_route_methods(const struct sb_route *, size_t i);

/* The longest program name, and the most programs one list may hold. */
#define SB_NAME_MAX	63
#define SB_PROGRAMS_MAX	64

/*
 * Splits list, names separated by spaces (such as SB_PROGRAMS, the names
 * of the programs that the Makefile builds), into names. Returns how
 * many, at most max; a longer name is skipped.
 */
size_t	 sb_program_list(const char *list, char names[][SB_NAME_MAX + 1],
	    size_t max);

/*
 * True if something accepts connections on the socket of the program
 * name, SENTC_BACKEND_SOCKET_DIR/name.sock.
 */
bool	 sb_program_up(const char *name);

/* ==== sb_stats.c ====================================================== */

/*
 * sb_stats.c: a program's counters, for GET /backend/metrics.
 *
 * Each program keeps one block of counters of a fixed layout in a file,
 * SOCKET_DIR/stats/NAME.stats, that its master maps shared before it
 * forks: the workers and the master update it with atomic adds, without a
 * lock or a system call, and the metrics program reads every program's
 * block and renders the Prometheus text format. A program whose file
 * cannot be made keeps its counters in memory only (and is missing from
 * the metrics). The block holds numbers only, never a secret.
 */

#define SB_STATS_MAGIC		0x7362737473746174ULL	/* "sbststat" */
#define SB_STATS_VERSION	3	/* bumped whenever the layout changes */
#define SB_STATS_BUCKETS	12	/* the last one is +Inf */
#define SB_STATS_STATUSES	600	/* HTTP statuses 100-599; 0: others */
#define SB_STATS_WORKERS	1024	/* worker slots of a program */

/* Counters and gauges besides the requests and the histograms. */
enum sb_stat {
	SB_STAT_WORKERS,	/* gauge: worker processes alive */
	SB_STAT_RESTARTS,	/* workers that died and were replaced */
	SB_STAT_RELOADS,	/* SIGHUP reloads that took effect */
	SB_STAT_RELOAD_FAILS,	/* SIGHUP reloads refused (config kept) */
	SB_STAT_JWT_HIT,	/* JWT cache */
	SB_STAT_JWT_MISS,
	SB_STAT_ACCESS_HIT,	/* group-access cache */
	SB_STAT_ACCESS_MISS,
	SB_STAT_UPSTREAM,	/* sentc API calls made */
	SB_STAT_UP_DOWN,	/* ... that could not connect or were cut */
	SB_STAT_UP_BAD,		/* ... answered no sentc envelope */
	SB_STAT_UP_TIMEOUT,	/* ... took too long */
	SB_STAT_UP_SERVER,	/* ... answered a 5xx */
	SB_STAT_KEYCHECK_OK,	/* JWTs of a kid not configured: sentc */
	SB_STAT_KEYCHECK_REFUSED, /* ... accepted, refused, gave no verdict, */
	SB_STAT_KEYCHECK_FAILED,
	SB_STAT_KEYCHECK_LIMITED, /* ... or was not asked: no call left */
	SB_STAT_BUSY,		/* requests refused: MAX_IN_FLIGHT reached */
	SB_STAT_UP_CONNECTS,	/* connections opened to sentc */
	SB_STAT__MAX
};

/* A latency histogram: counts per bucket (not cumulative), sum in ms. */
struct sb_hist {
	uint64_t	 bucket[SB_STATS_BUCKETS];
	uint64_t	 sum_ms;
};

struct sb_stats {
	uint64_t	 magic;		/* written last: the block is ready */
	uint32_t	 version;
	int32_t		 pid;		/* the master */
	int64_t		 started;	/* the master's start, Unix seconds */
	uint64_t	 stat[SB_STAT__MAX];
	struct sb_hist	 request_ms;
	struct sb_hist	 upstream_ms;
	uint64_t	 requests[SB_METHOD__MAX][SB_STATS_STATUSES];
	/* Requests under way, per worker slot: a dead worker's is zeroed. */
	uint32_t	 in_flight[SB_STATS_WORKERS];
};

/* Upper bounds of the histograms' buckets, in milliseconds. */
extern const int64_t sb_stats_bounds[SB_STATS_BUCKETS - 1];

/*
 * Makes this program's block, zeroed: the file dir/stats/name.stats
 * (the stats directory is made if missing), owned by uid:gid when they
 * are not -1, mapped shared. Falls back to memory of its own, with a
 * warning, if the file cannot be made. Called by the master before it
 * forks; returns 0, or -1 if not even memory could be had.
 */
int	 sb_stats_open(const char *dir, const char *name, uid_t uid,
	    gid_t gid);

/* Adds n to a counter, or sets a gauge. */
void	 sb_stats_add(enum sb_stat, uint64_t n);

void	 sb_stats_set(enum sb_stat, uint64_t v);

/* Sets worker slot's count of requests under way. */
void	 sb_stats_in_flight(size_t slot, uint32_t n);

/* Counts an answered request and its time. */
void	 sb_stats_request(enum sb_method, int status, int64_t ms);

/* Counts a sentc API call, its outcome (SB_OK or a fault) and its time. */
void	 sb_stats_upstream(enum sb_err, int64_t ms);

/*
 * Reads the block of program name from dir/stats/name.stats into out.
 * Returns 0, or -1 if there is none or it is not a block of this
 * version.
 */
int	 sb_stats_read(const char *dir, const char *name,
	    struct sb_stats *out);

/*
 * One program as the metrics see it: its name, whether it accepts
 * connections, whether the master that wrote its block still runs, and
 * the block (NULL: none). For sb_stats_render().
 */
struct sb_stats_prog {
	const char		*name;
	bool			 up;
	bool			 running;
	const struct sb_stats	*stats;
};

/*
 * Writes the Prometheus text format (version 0.0.4) of n programs to
 * out. The block of a master that no longer runs counts no workers.
 * Returns 0, or -1 on a write error. Pure.
 */
int	 sb_stats_render(FILE *out, const struct sb_stats_prog *progs,
	    size_t n);

/* ==== sb_keycheck.c =================================================== */

/*
 * sb_keycheck.c: a JWT whose key is not configured, checked by sentc.
 *
 * A token whose kid names no key of SENTC_JWT_VERIFY_KEY is the normal
 * sign of a key made in the dashboard and not yet added to the config:
 * sentc signs every new JWT with its newest key at once. Such a token is
 * asked of sentc, GET /user/jwt with the secret token and the token, and
 * its answer is the verdict: cached like a token verified here (until
 * its exp) when sentc accepts it, for an hour when sentc refuses it. A
 * kid sentc does not know (its code 35) is refused for an hour without
 * asking again. The calls are bounded: at most SENTC_BACKEND_JWT_KEY_CHECKS
 * in each minute of the clock, per program (its workers share them); a
 * token that finds none left gets 503, 20040, and is not cached.
 *
 * The first token sentc accepts for a kid logs that the key should be
 * added (once per kid and program, again after a day). The metrics
 * count each outcome.
 */

#define SB_KEYCHECK_REFUSED_TTL	3600	/* s a refusal is kept: sentc's own */

/*
 * Makes the program's shared state (the minute's count of calls, the
 * kids seen) before the workers fork, in place of any earlier one.
 * Returns 0, or -1 (then no token is asked of sentc).
 */
int		 sb_keycheck_init(void);

/*
 * Asks sentc about tok[0..len), a token sb_jwt_check() found no key for
 * (SB_ERR_JWT_UNCHECKED), with flags as for sb_jwt_verify(). Returns
 * SB_OK with out filled if sentc accepts it; the SB_ERR_JWT_* of its
 * refusal; SB_ERR_JWT_UNCHECKED if sentc could not be asked (no call
 * left this minute, or an answer that is no verdict); or the upstream
 * fault. req may be NULL; if not, its log fields are updated.
 */
enum sb_err	 sb_keycheck(struct sb_req *req, const char *tok, size_t len,
		    unsigned flags, struct sb_jwt_claims *out);

/*
 * Takes one call from the count in *word (the minute, now / 60, in its
 * high 32 bits, the calls made in it in the low 32), shared by every
 * worker: true if fewer than per_minute were made in now's minute.
 * Lock-free. Pure but for *word: the unit tests call it.
 */
bool		 sb_keycheck_take(uint64_t *word, int64_t now,
		    long per_minute);

/*
 * The refusal sentc's err_code stands for, in the backend's codes: 35 (an
 * unknown kid) SB_ERR_JWT_KEY, 30 and 31 SB_ERR_JWT_SIGNATURE, 32
 * SB_ERR_JWT_FORMAT, 1 and 100 (ids, a user not of the app)
 * SB_ERR_JWT_CLAIMS; SB_OK for a code that is no verdict on the token
 * (the app token refused, say). Pure.
 */
enum sb_err	 sb_keycheck_verdict(long err_code);

/* ==== sb_auth.c ======================================================= */

/*
 * sb_auth.c: who is calling. The questions a route asks before anything
 * else, answered from the request's Authorization header.
 */

/*
 * Makes the cache of verified tokens that sb_jwt_check() uses, shared by
 * the workers forked after, in place of any earlier one (a reload: the
 * workers forked before keep theirs). Returns 0, or -1 with no cache, so
 * that every token is verified.
 */
int	 sb_jwt_cache_init(void);

/*
 * As sb_jwt_verify(), through the program's cache of verdicts (keyed by
 * a hash of the token, a token verified until sb_jwt_cache_until(),
 * bounded by SENTC_BACKEND_JWT_CACHE_SIZE), with the keys and leeway of
 * sb_cfg. SB_ERR_JWT_UNCHECKED: no key here has the token's kid (nor
 * does a key without id verify it), and SENTC_BACKEND_JWT_KEY_CHECKS
 * lets sentc be asked (sb_keycheck.h).
 */
enum sb_err sb_jwt_check(const char *tok, size_t len, unsigned flags,
	    struct sb_jwt_claims *out);

/*
 * Stores sentc's verdict on tok[0..len) in that cache: SB_OK with its
 * claims c, until the token's exp (as a token verified here; until is
 * not used), or a refusal rc until the time until.
 */
void	 sb_jwt_remember(const char *tok, size_t len, enum sb_err rc,
	    const struct sb_jwt_claims *c, int64_t until);

/* Hits and misses of the cache, for tests and metrics. */
void	 sb_jwt_cache_stats(uint64_t *hits, uint64_t *misses);

/*
 * The bearer token of the Authorization header: the scheme "Bearer" in
 * any case, one or more spaces, then the token. Returns SB_OK with *tok
 * and *len (pointing into the header); SB_ERR_JWT_MISSING for no header,
 * another scheme, or no token; SB_ERR_JWT_FORMAT for a token with white
 * space inside. Pure: the fuzzers call it.
 */
enum sb_err	 sb_bearer(const char *header, const char **tok, size_t *len);

/*
 * "Who is this?" Verifies the caller's JWT (through the JWT cache; flags
 * as for sb_jwt_verify), or has sentc check one whose kid names no key
 * configured (sb_keycheck.h). Returns 0 with req->who (aud is the sentc
 * user id, sub the device id) and req->jwt (the token, to relay) set, or
 * -1 once it has answered 401 (400 for a malformed header; 502, 503 or
 * 504 where sentc could not be asked).
 */
int		 sb_auth_user(struct sb_req *req, unsigned flags);

/*
 * Is header (the Authorization header's value, NULL if absent) the
 * backend's admin credential, "Bearer <SENTC_BACKEND_ADMIN_TOKEN>"?
 * Compares SHA-256 digests in constant time. Returns SB_OK,
 * SB_ERR_ADMIN_CLOSED if no admin token is configured, or
 * SB_ERR_ADMIN_AUTH. Pure but for sb_cfg: the unit tests call it.
 */
enum sb_err	 sb_admin_check(const char *header);

/*
 * "Is this the app's own server?" For the admin routes: returns 0 if the
 * request carries the admin credential, or -1 once it has answered 401
 * (missing, malformed or wrong, a user's JWT included) or 403 (closed).
 */
int		 sb_auth_admin(struct sb_req *req);

/* ==== sb_upstream.c =================================================== */

/*
 * sb_upstream.c: the client for the sentc API.
 *
 * libcurl does the HTTP (DNS, TCP, a proxy's CONNECT, TLS, verified), its
 * multi interface in the worker's event loop: a call parks its request's
 * task until the answer is in, and the worker's requests share its kept
 * connections (outside a task, a call blocks). A kept connection is
 * checked before a request goes on it. If it closes with no answer all
 * the same, only a GET or HEAD goes once more, on a new one: any other
 * request may have been carried out by sentc, so it is a lost answer
 * (res.sent) for the caller.
 * Connect and total timeouts and the response cap come from the config.
 * An answer counts only if it is a sentc envelope: anything else is a
 * fault, mapped to 502 or 504.
 */

/* Sets up this worker's handle. Returns 0, or -1. */
int		 sb_upstream_init(void);

void		 sb_upstream_cleanup(void);

/*
 * Reads body[0..len) as a sentc envelope into res (status untouched):
 * checked, its status and err_code read, its result spanned but not
 * built. Returns SB_OK or SB_ERR_UPSTREAM_BAD. Pure: the fuzzers call it.
 */
enum sb_err	 sb_envelope_parse(const char *body, size_t len,
		    struct sb_upstream_res *res);

/*
 * Makes the cache that sb_upstream_reachable() shares between the
 * program's workers, before they fork (again after a reload). Returns 0,
 * or -1 with no cache: every call then probes.
 */
int		 sb_upstream_probe_init(void);

/*
 * Can the sentc API be reached? A TCP connection to the host of
 * SENTC_API_URL, with the TLS handshake for https, within
 * SENTC_BACKEND_UPSTREAM_CONNECT_TIMEOUT_MS; no HTTP request is sent, so
 * no sentc call is spent. The answer is reused by every worker of the
 * program for SENTC_BACKEND_READY_TTL seconds. Returns SB_OK,
 * SB_ERR_UPSTREAM_DOWN or SB_ERR_UPSTREAM_TIMEOUT.
 */
enum sb_err	 sb_upstream_reachable(void);

/* Upstream TCP connections this worker opened, for tests and metrics. */
long		 sb_upstream_connects(void);

/* ==== sb_access.c ===================================================== */

/*
 * sb_access.c: may the caller touch this group?
 *
 * The answer is sentc's, from GET /group/{id}/light with the caller's
 * JWT, cached per (app, user, group, path of access) for
 * SENTC_BACKEND_ACCESS_CACHE_TTL seconds in a bounded cache shared by the
 * program's workers. The path of access is the request's
 * x-sentc-group-access-id header, relayed: the group through which the
 * caller reaches the group (a connected group's member group), or none,
 * the caller's own membership (directly or through a parent). Both
 * answers are cached: the group's data for a member, 310 for anyone
 * else. So a member removed at sentc keeps access here for at most the
 * TTL. Every call needs sb_auth_user() to have succeeded first.
 */

/*
 * Makes the access cache before the workers fork, in place of any
 * earlier one (as sb_jwt_cache_init()). Returns 0, or -1 with no cache.
 */
int	 sb_access_init(void);

/*
 * Is s[0..len) a group id sentc takes in x-sentc-group-access-id: a UUID,
 * version 4 or 7, in the 8-4-4-4-12 form? Pure.
 */
bool	 sb_group_access_valid(const char *s, size_t len);

/* Drops every cached answer about group gid (after it was deleted). */
void	 sb_group_forget(const char *gid);

/* Hits and misses of the access cache, for tests and metrics. */
void	 sb_access_cache_stats(uint64_t *hits, uint64_t *misses);

/*
 * Drops every cached answer that names id (the user, the group, the
 * group of access, a parent or access_by group), in this program: what
 * an end of access recorded elsewhere (sb_notify.c) is told with.
 * Returns how many it dropped.
 */
size_t	 sb_access_drop(const char *id);

/* Drops every cached answer of this program. */
void	 sb_access_drop_all(void);

/* ==== sb_db.c ========================================================= */

/*
 * sb_db.c: the backend's own store: the user data sentc does not keep.
 *
 * Two stores implement it: SQLite (sb_db_sqlite.c: one file, WAL, busy
 * timeout), the default, and PostgreSQL (sb_db_pg.c: one connection per
 * worker, shared by several hosts). SENTC_BACKEND_DB picks one: a
 * postgresql:// or postgres:// URI, or libpq's keyword=value form
 * ("host=… dbname=…": anything with an '='), is PostgreSQL; a path
 * without one is a SQLite file, which is made readable by its owner
 * only. Both create and migrate the same schema at start. The calls
 * speak only of users, groups, items, the ends of cookie sessions and
 * calls whose answer was lost. Every failure of the store is
 * SB_ERR_STORAGE (503): the caller may retry later.
 */

/*
 * Opens the store named by spec (a file path or a PostgreSQL connection
 * string) and brings its schema to the current version. Returns SB_OK
 * with *out, or SB_ERR_STORAGE with a reason in err that never holds the
 * connection string's password. A SQLite file it makes (and its -wal and
 * -shm files) is readable and writable by its owner only (0600),
 * whatever the umask.
 */
enum sb_err	 sb_db_open(const char *spec, struct sb_db **out,
		    char *err, size_t errlen);

void		 sb_db_close(struct sb_db *);

/*
 * True if spec names a PostgreSQL database rather than a SQLite file: a
 * postgresql:// or postgres:// URI, or anything with an '=' (libpq's
 * keyword=value form, or a connection string libpq then refuses: never
 * a file name).
 */
bool		 sb_db_spec_is_pg(const char *spec);

/*
 * spec as it may be logged, into out (truncated to outsz): a SQLite path
 * as it is, a PostgreSQL connection string (a URI or keyword=value pairs)
 * as postgresql://user@host:port/dbname, with no password; one libpq
 * cannot read, as a remark that says so, with nothing of it.
 */
void		 sb_db_spec_display(const char *spec, char *out, size_t outsz);

/*
 * Does the store answer? SB_OK, or SB_ERR_STORAGE (logged). A broken
 * PostgreSQL connection is re-opened first.
 */
enum sb_err	 sb_db_ping(struct sb_db *);

/* As sb_db(), but answers 503 when it returns NULL. */

/* Closes this worker's connection (at exit). */
void		 sb_db_release(void);

/* Schema version the code expects. */
int		 sb_db_schema_version(void);

/*
 * Calls to sentc whose answer was lost, until they are settled: the
 * store's side of lib/sb_unsure.h. A record is a kind (SB_UNSURE_*) and
 * a key (an identifier, a user id), with the time it was made (since),
 * the time before which nobody settles it (due), and the time until
 * which one worker holds it (held; 0: nobody).
 */
struct sb_unsure {
	int		 kind;		/* 0: none */
	char		*key;		/* the caller frees it */
	int64_t		 since;
};

/* Adds the record; one already there gets since and due anew, unheld. */
enum sb_err	 sb_db_unsure_add(struct sb_db *, int kind, const char *key,
		    int64_t since, int64_t due);

/*
 * Takes the record longest due at now that nobody holds: it is held
 * until held and due again at due. u->kind is 0 if there is none.
 */
enum sb_err	 sb_db_unsure_take(struct sb_db *, int64_t now, int64_t held,
		    int64_t due, struct sb_unsure *u);

/*
 * Holds the record (kind, key), whether due or not, until held, unless
 * another holds it at now. *state: 0 no such record, 1 held now, -1 held
 * by another.
 */
enum sb_err	 sb_db_unsure_hold(struct sb_db *, int kind, const char *key,
		    int64_t now, int64_t held, int *state);

/* Lets the record go (held 0), or removes it once settled. */
enum sb_err	 sb_db_unsure_release(struct sb_db *, int kind,
		    const char *key);

enum sb_err	 sb_db_unsure_done(struct sb_db *, int kind, const char *key);

/*
 * The ends of cookie sessions (lib/sb_session.h), in the store so that
 * they hold on every host and after a restart. Each record has the time
 * at which it was made (seconds); it is needed until every cookie it
 * ends has expired anyway, and then purged.
 *
 * sb_db_session_end_token() records that the refresh token whose digest
 * is digest (never the token itself) has ended at time at;
 * sb_db_session_end_user() that every cookie session of user_id sealed
 * at or before at has ended. Recording again keeps the later time.
 */
enum sb_err	 sb_db_session_end_token(struct sb_db *, const char *digest,
		    int64_t at);

enum sb_err	 sb_db_session_end_user(struct sb_db *, const char *user_id,
		    int64_t at);

/*
 * Has the cookie session with the token of digest, for user_id, sealed
 * at sealed_at, ended? *ended is true if its token has ended, or if the
 * sessions of user_id have ended at or after sealed_at.
 */
enum sb_err	 sb_db_session_ended(struct sb_db *, const char *digest,
		    const char *user_id, int64_t sealed_at, bool *ended);

/* Removes the records of ends made before before. */
enum sb_err	 sb_db_session_purge(struct sb_db *, int64_t before);

/*
 * Cached answers about group access made before a group was deleted or
 * a member kicked must not be used any more, in any program or on any
 * host. Each end of access gets the next number of a counter the store
 * keeps (never going back, whatever the hosts' clocks say):
 * sb_db_access_revoke() records that the cached answers naming id (a
 * group, or a user) end now; sb_db_access_epoch() reads the counter into
 * *epoch (before sentc is asked, to store with the answer);
 * sb_db_access_revoked() tells whether any of ids[0..n) (at most 8; ""
 * ones match nothing) has ended since the counter read epoch. Records
 * older than an hour (at, in epoch seconds: beyond any cache TTL) are
 * purged as new ones are made.
 */
enum sb_err	 sb_db_access_revoke(struct sb_db *, const char *id,
		    int64_t at);

enum sb_err	 sb_db_access_epoch(struct sb_db *, int64_t *epoch);

enum sb_err	 sb_db_access_revoked(struct sb_db *,
		    const char *const *ids, size_t n, int64_t epoch,
		    bool *revoked);

/*
 * Encrypted file parts kept in the store (SENTC_BACKEND_FILE_STORE=db,
 * docs/FILES.md), by the part id sentc gave them. sb_db_file_part_put()
 * stores data[0..len) under part_id (one stored already is left as it
 * is); sb_db_file_part_get() reads one whole, at most cap bytes, into
 * *data (the caller frees it), SB_ERR_NO_FILE_PART if none;
 * sb_db_file_part_delete() removes ids[0..n) (at most 1000), ones
 * already gone being no error.
 */
enum sb_err	 sb_db_file_part_put(struct sb_db *, const char *part_id,
		    const void *data, size_t len);
enum sb_err	 sb_db_file_part_get(struct sb_db *, const char *part_id,
		    size_t cap, char **data, size_t *len);
enum sb_err	 sb_db_file_part_delete(struct sb_db *,
		    const char *const *ids, size_t n);

/* ==== sb_db_impl.c ==================================================== */

/*
 * sb_db_impl.c: what a store implements; private to lib/.
 *
 * sb_db_open() picks the store once, from the form of SENTC_BACKEND_DB,
 * and every sb_db_* call goes through the table of the store it opened.
 * Each store's handle begins with a struct sb_db.
 */

/*
 * Schema version both stores bring their database to: each has the same
 * tables and one migration per version, in its own SQL dialect.
 */
#define SB_DB_SCHEMA_VERSION	6

struct sb_db_ops {
	const char	*name;		/* "sqlite", "postgresql" */
	enum sb_err	(*open)(const char *spec, struct sb_db **out,
			    char *err, size_t errlen);
	void		(*close)(struct sb_db *);
	enum sb_err	(*ping)(struct sb_db *);
	enum sb_err	(*user_create)(struct sb_db *, const char *,
			    const char *, const char *);
	enum sb_err	(*user_data)(struct sb_db *, const char *, char **);
	enum sb_err	(*user_set_data)(struct sb_db *, const char *,
			    const char *);
	enum sb_err	(*user_delete)(struct sb_db *, const char *);
	enum sb_err	(*user_by_identifier)(struct sb_db *, const char *,
			    char *, size_t);
	enum sb_err	(*group_create)(struct sb_db *, const char *,
			    const char *, const char *);
	enum sb_err	(*group_data)(struct sb_db *, const char *, char **);
	enum sb_err	(*group_set_data)(struct sb_db *, const char *,
			    const char *);
	enum sb_err	(*group_delete)(struct sb_db *, const char *);
	enum sb_err	(*item_put)(struct sb_db *, const char *, const char *,
			    const char *, const char *, size_t);
	enum sb_err	(*item_get)(struct sb_db *, const char *, const char *,
			    void (*)(void *, const struct sb_item *), void *);
	enum sb_err	(*item_delete)(struct sb_db *, const char *,
			    const char *);
	enum sb_err	(*item_list)(struct sb_db *, const char *,
			    const char *, long,
			    void (*)(void *, const struct sb_item *), void *);
	/* u is zeroed, *state 0, before these are called. */
	enum sb_err	(*unsure_add)(struct sb_db *, int, const char *,
			    int64_t, int64_t);
	enum sb_err	(*unsure_take)(struct sb_db *, int64_t, int64_t,
			    int64_t, struct sb_unsure *);
	enum sb_err	(*unsure_hold)(struct sb_db *, int, const char *,
			    int64_t, int64_t, int *);
	enum sb_err	(*unsure_release)(struct sb_db *, int, const char *);
	enum sb_err	(*unsure_done)(struct sb_db *, int, const char *);
	enum sb_err	(*session_end_token)(struct sb_db *, const char *,
			    int64_t);
	enum sb_err	(*session_end_user)(struct sb_db *, const char *,
			    int64_t);
	/* *ended is false before this is called. */
	enum sb_err	(*session_ended)(struct sb_db *, const char *,
			    const char *, int64_t, bool *);
	enum sb_err	(*session_purge)(struct sb_db *, int64_t);
	enum sb_err	(*item_put_index)(struct sb_db *, const char *,
			    const char *, const char *, const char *, size_t,
			    const struct sb_item_index *);
	enum sb_err	(*item_search)(struct sb_db *, const char *,
			    const struct sb_item_query *,
			    void (*)(void *, const struct sb_item *, int64_t),
			    void *);
	enum sb_err	(*access_revoke)(struct sb_db *, const char *, int64_t);
	enum sb_err	(*access_epoch)(struct sb_db *, int64_t *);
	/* *revoked is false before this is called; at most 8 ids. */
	enum sb_err	(*access_revoked)(struct sb_db *, const char *const *,
			    size_t, int64_t, bool *);
	enum sb_err	(*file_part_put)(struct sb_db *, const char *,
			    const void *, size_t);
	/* *data is NULL, *len 0 before this is called. */
	enum sb_err	(*file_part_get)(struct sb_db *, const char *, size_t,
			    char **, size_t *);
	enum sb_err	(*file_part_delete)(struct sb_db *,
			    const char *const *, size_t);
};

/* The head of every store's handle. */
struct sb_db {
	const struct sb_db_ops	*ops;
	bool			 broken;	/* sb_db() opens it anew */
};

extern const struct sb_db_ops	 sb_db_sqlite_ops;

extern const struct sb_db_ops	 sb_db_pg_ops;

/* A PostgreSQL URI as it may be logged (see sb_db_spec_display()). */
void	 sb_db_pg_display(const char *spec, char *out, size_t outsz);

/* ==== sb_unsure.c ===================================================== */

/*
 * sb_unsure.c: calls to sentc whose answer was lost, settled later.
 *
 * A call that reached sentc and then lost its answer (the connection
 * dropped, the answer came cut short, garbled or after
 * SENTC_BACKEND_UPSTREAM_TIMEOUT_MS) may have taken effect, or may still
 * take effect: a slow server finishes its work after the backend gave
 * up. Two kinds would leave the own store and sentc apart; each is
 * recorded in the store (sb_db_unsure_*) until it is settled:
 *
 * SB_UNSURE_REGISTER, keyed by the identifier: sentc may have made, or
 * may still make, a user without an own row. It is settled no sooner
 * than sb_unsure_after() seconds after the lost answer (longer than any
 * register takes, so that a register of the same name that began before
 * is over), then again every sb_unsure_after() seconds until
 * SB_UNSURE_KEEP seconds have passed: if no own row has the identifier
 * and sentc has a user with it (POST /exists), that user is deleted at
 * sentc (PUT /user/forced/delete). A register of the same name holds the
 * record while it runs, so that nothing settles it meanwhile.
 *
 * SB_UNSURE_DELETE, keyed by the user id: sentc may have deleted, or may
 * still delete, a user whose own row is left. The delete is finished:
 * DELETE /user/forced/delete/{id}, and once sentc answers success or
 * "user not found", the own row goes. At once, by the request that lost
 * the answer, and if that fails, every sb_unsure_after() seconds until
 * it worked.
 *
 * sb_unsure_pass() settles what is due. The programs that make and
 * delete users (SB_ROUTE_SETTLE) run it in a task of each worker, about
 * once a second.
 */

#define SB_UNSURE_REGISTER	1
#define SB_UNSURE_DELETE	2
#define SB_UNSURE_KEEP		3600	/* seconds a lost register is watched */
#define SB_UNSURE_PASS_MAX	4	/* records one pass settles at most */

/*
 * Seconds after a lost register before it is settled, and between
 * tries: three upstream timeouts (a register's calls) and 5 s.
 */
long	 sb_unsure_after(void);

/*
 * After fault e on a register of identifier that reached sentc: deletes
 * the user it may have made (PUT /user/forced/delete by identifier) and,
 * unless that found and deleted one, records the register. Answers e, or
 * SB_ERR_INCONSISTENT (logged) if the undo failed and the record could
 * not be written either.
 */
void	 sb_unsure_register(struct sb_req *, enum sb_err e,
	    const char *identifier);

/*
 * Before a register of identifier: holds the record of an earlier lost
 * register of that name, if there is one, for as long as this register
 * may take. Returns 1 if it holds one (end it with
 * sb_unsure_registered()), 0 if there is none, or -1 once it has
 * answered 503: SB_ERR_SETTLING if another worker holds it,
 * SB_ERR_STORAGE.
 */
int	 sb_unsure_hold_register(struct sb_req *, const char *identifier);

/*
 * Ends the hold: the record goes if the register succeeded and stored
 * its row (sentc now has the name, and a late earlier register can only
 * fail), else it stays, due as it was.
 */
void	 sb_unsure_registered(const char *identifier, bool stored);

/*
 * After fault e on a delete of user_id that reached sentc: records it
 * and finishes it at once. Answers sentc's success once the user is gone
 * at sentc and here; else answers e, and the record stays for
 * sb_unsure_pass().
 */
void	 sb_unsure_delete(struct sb_req *, enum sb_err e,
	    const char *user_id);

/*
 * Settles up to SB_UNSURE_PASS_MAX records that are due, at most once a
 * second per process; errors are logged and left for the next pass.
 */
void	 sb_unsure_pass(void);

/* ==== sb_notify.c ===================================================== */

/*
 * sb_notify.c: ends of access told to every program on every host, over
 * PostgreSQL's LISTEN/NOTIFY.
 *
 * The store NOTIFYs channel SB_NOTIFY_CHANNEL, in the transaction that
 * records an end of access or of a user's sessions, with the id it names
 * as payload. Each program that uses a PostgreSQL store has one listener:
 * a child process of its master (beside the workers) that holds one
 * connection, LISTENs, and drops the cached answers naming each id it is
 * told from the program's shared access cache.
 *
 * While the listener is not listening (at start, when its connection is
 * lost, until it is back) the program is deaf: it neither uses nor stores
 * cached access answers (a TTL of zero), and when it listens again it
 * drops every cached answer first, since it cannot know what it missed.
 * On SQLite there is no listener and a program is never deaf.
 */

#define SB_NOTIFY_CHANNEL	"sentc_backend_drop"

/* The application_name of the listener's connection. */
#define SB_NOTIFY_APP_NAME	"sentc-backend-listen"

/*
 * In the master, before the workers fork: makes the shared state, and
 * decides whether this program listens: its route caches group access
 * (caches, with SENTC_BACKEND_ACCESS_CACHE_TTL above 0) and the store is
 * PostgreSQL. Returns 0, or -1 if out of memory.
 */
int	 sb_notify_init(bool caches);

/*
 * In the master: the store could not be reached at start (or reload).
 * A program that does not listen then starts a child that tries again
 * with backoff, logging each try, until the store answers once.
 */
void	 sb_notify_wait_db(void);

/*
 * In the master: starts the listener (again: the one running is told to
 * stop, e.g. after a reload made the caches anew), or the child that
 * waits for the store (sb_notify_wait_db()). Does nothing where neither
 * is needed. Returns 0, or -1 if fork failed (logged).
 */
int	 sb_notify_start(void);

/*
 * In the master, for every child reaped (status as waitpid() gave it):
 * true if pid was a listener or waiter. A listener that ended is started
 * again unless stopping is true; a waiter, only if it failed.
 */
bool	 sb_notify_reaped(pid_t pid, int status, bool stopping);

/* In the master: tells the listener to stop. */
void	 sb_notify_stop(void);

/* True while the program listens for ends of access but is not told. */
bool	 sb_notify_deaf(void);

/*
 * True if spec names a PostgreSQL store that libpq can read: one that
 * cannot be reached at start is waited for, not a reason to exit.
 */
bool	 sb_notify_spec_waitable(const char *spec);

/*
 * True if the PostgreSQL server of spec accepts a connection now: a
 * store that fails to open although it does (a schema newer than the
 * program, say) is no reason to wait.
 */
bool	 sb_notify_db_answers(const char *spec);

/* ==== sb_files.c ====================================================== */

/*
 * sb_files.c: encrypted file parts on the app's own storage, one file per
 * part in SENTC_BACKEND_FILE_DIR, named by the part id sentc gave it.
 *
 * A part is written in two steps so that sentc is asked only once the
 * bytes are safe on disk, and a crash never leaves a part half there:
 * sb_files_stage() writes a temporary file in the same folder and syncs
 * it; sb_files_commit() renames it to the part id and syncs the folder;
 * sb_files_abort() drops it. A temporary file older than a day, which
 * only a crash leaves, is removed by the first write of each process.
 * The folder is made on first use. Parts are
 * readable by their owner only (0600, folder 0700), or by the owner's
 * group as well (0640, 0750) when nginx serves them
 * (SENTC_BACKEND_FILE_ACCEL set): nginx's workers must then be in that
 * group.
 */

#define SB_FILES_TMP_MAX	64

/* A part written but not yet named. */
struct sb_files_stage {
	int	 dirfd;			/* -1: nothing staged */
	char	 tmp[SB_FILES_TMP_MAX];	/* its name in the folder */
};

/*
 * Writes data[0..len) to a new temporary file in the folder and syncs
 * it. Returns SB_OK with st filled in, or SB_ERR_STORAGE (logged) with
 * nothing left behind.
 */
enum sb_err	 sb_files_stage(const void *data, size_t len,
		    struct sb_files_stage *st);

/*
 * Names the staged part part_id (a UUID) and syncs the folder. Returns
 * SB_OK, or SB_ERR_STORAGE (logged) with the temporary file removed. st
 * is empty afterwards in both cases.
 */
enum sb_err	 sb_files_commit(struct sb_files_stage *st,
		    const char *part_id);

/* Removes a staged part, if any; st is empty afterwards. */
void		 sb_files_abort(struct sb_files_stage *st);

/*
 * Does part part_id exist? SB_OK, SB_ERR_NO_FILE_PART, or SB_ERR_STORAGE
 * (the folder cannot be read; logged).
 */
enum sb_err	 sb_files_exists(const char *part_id);

/*
 * Reads part part_id whole, at most cap bytes. Returns SB_OK with *data
 * (the caller frees it) and *len, SB_ERR_NO_FILE_PART, or SB_ERR_STORAGE.
 */
enum sb_err	 sb_files_read(const char *part_id, size_t cap, char **data,
		    size_t *len);

/*
 * Removes the parts ids[0..n) (UUIDs); one already gone is no error. The
 * folder is synced once at the end. Returns SB_OK, or SB_ERR_STORAGE
 * (logged) if one could not be removed: the others are gone all the same.
 */
enum sb_err	 sb_files_delete(const char *const *ids, size_t n);

/* ==== sb_runas.c ====================================================== */

/*
 * sb_runas.c: the user a program runs as.
 *
 * Started as root, a program checks its database in a child that has
 * become SENTC_BACKEND_USER ("user" or "user:group"; the group is the
 * user's own by default), binds its socket and makes its metrics file,
 * hands both to that user, and then becomes it for good, before it forks
 * a worker: the database is only ever opened as that user. It serves as
 * root only if SENTC_BACKEND_USER says root. Started as any other user,
 * it stays that user: SENTC_BACKEND_USER may then only name that user (or
 * root).
 */

struct sb_runas {
	bool	 change;	/* false: stay who we are */
	uid_t	 uid;		/* (uid_t)-1 unless change */
	gid_t	 gid;
	char	 name[64];	/* the user's name, for initgroups(3) */
};

/*
 * Decides from spec (SENTC_BACKEND_USER) what to become. serving: the
 * program is about to serve (a config check may run as root). Returns 0
 * with out filled, or -1 with a message naming the key in err.
 */
int	 sb_runas_resolve(const char *spec, bool serving, struct sb_runas *out,
	    char *err, size_t errlen);

/*
 * Becomes out's user and group (with the user's supplementary groups),
 * for good: a later setuid(0) must fail. Does nothing unless change.
 * Returns 0, or -1 with the reason in err.
 */
int	 sb_runas_become(const struct sb_runas *, char *err, size_t errlen);

#endif
