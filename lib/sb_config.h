/*
 * sb_config.h: the configuration, read once at start-up.
 *
 * An env-style file with the keys of the .env that the sentc dashboard
 * exports, plus the backend's own SENTC_BACKEND_* keys. Environment
 * variables override the file. Every key, its default and its range are
 * listed in one table in sb_config.c and in the README.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define SB_ADMIN_DIGEST_LEN	32	/* SHA-256 */
#define SB_ADMIN_TOKEN_MIN	32	/* shortest SENTC_BACKEND_ADMIN_TOKEN */

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

#endif
