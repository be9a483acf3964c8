#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "extern.h"

#define CONFIG_FILE_MAX	(64 * 1024)
#define VALUE_MAX	4096
#define ADMIN_DISTINCT	8	/* different characters an admin token needs */

const struct sb_config *sb_cfg;

enum kind {
	K_SECRET,	/* string, never logged, not empty, wiped when freed */
	K_STRING,	/* string */
	K_URL,		/* http:// or https://, trailing slash removed */
	K_LONG,		/* integer in [min, max] */
	K_TOKEN_KIND,	/* "public" or "secret" */
	K_JWT_KEYS,	/* parsed after the others: needs the key id */
	K_ADMIN,	/* optional secret, only its digest kept */
	K_COOKIE_KEYS,	/* secret: base64 AES keys, never logged */
	K_COOKIE_NAME,	/* a cookie name (RFC 6265 token) */
	K_ORIGINS,	/* exact origins, comma-separated */
	K_LOG_FORMAT,	/* "text" or "json" */
	K_FILE_STORE,	/* "dir" or "db" */
	K_UNNEEDED	/* accepted, never used: only whether it is set */
};

struct key {
	const char	*name;
	enum kind	 kind;
	const char	*def;		/* NULL: required */
	long		 min, max;
	size_t		 off;
	const char	*alias_of;	/* an older name of that token key */
};

/* Where a key goes; no older name. */
#define OFF(m) offsetof(struct sb_config, m), NULL

/* Every key the backend reads; README.md lists the same. */
static const struct key keys[] = {
	{ "SENTC_SECRET_TOKEN", K_SECRET, NULL, 0, 0, OFF(secret_token) },
	{ "SENTC_PUBLIC_TOKEN", K_SECRET, NULL, 0, 0, OFF(public_token) },
	{ "SENTC_JWT_KEY_ID", K_STRING, "", 0, 0, OFF(jwt_key_id) },
	{ "SENTC_JWT_VERIFY_KEY", K_JWT_KEYS, NULL, 0, 0, OFF(jwt_keys) },
	/* The dashboard's .env holds it; the backend never needs it. */
	{ "SENTC_JWT_SIGN_KEY", K_UNNEEDED, "", 0, 0, OFF(sign_key_set) },
	{ "SENTC_API_URL", K_URL, "https://api.sentc.com", 0, 0,
	    OFF(api_url) },
	/* A PostgreSQL URI may hold a password. */
	{ "SENTC_BACKEND_DB", K_SECRET,
	    "/var/lib/sentc-backend/sentc-backend.db", 0, 0, OFF(db) },
	{ "SENTC_BACKEND_SOCKET_DIR", K_STRING, "/run/sentc-backend", 0, 0,
	    OFF(socket_dir) },
	{ "SENTC_BACKEND_CA_FILE", K_STRING, "", 0, 0, OFF(ca_file) },
	{ "SENTC_BACKEND_WORKERS", K_LONG, "2", 1, 256, OFF(workers) },
	{ "SENTC_BACKEND_MAX_IN_FLIGHT", K_LONG, "256", 1, 65536,
	    OFF(max_in_flight) },
	{ "SENTC_BACKEND_UPSTREAM_CONNECTIONS", K_LONG, "64", 1, 65536,
	    OFF(upstream_connections) },
	{ "SENTC_BACKEND_DB_CONNECTIONS", K_LONG, "2", 1, 1024,
	    OFF(db_connections) },
	{ "SENTC_BACKEND_UPSTREAM_TIMEOUT_MS", K_LONG, "10000", 100, 600000,
	    OFF(upstream_timeout_ms) },
	{ "SENTC_BACKEND_UPSTREAM_CONNECT_TIMEOUT_MS", K_LONG, "3000", 50,
	    60000, OFF(upstream_connect_timeout_ms) },
	{ "SENTC_BACKEND_UPSTREAM_MAX_RESPONSE", K_LONG, "4194304", 1024,
	    1L << 30, OFF(upstream_max_response) },
	{ "SENTC_BACKEND_MAX_BODY", K_LONG, "1048576", 1024, 1L << 30,
	    OFF(max_body) },
	{ "SENTC_BACKEND_MAX_USER_DATA", K_LONG, "16384", 2, 1L << 24,
	    OFF(max_user_data) },
	{ "SENTC_BACKEND_JWT_LEEWAY", K_LONG, "10", 0, 300,
	    OFF(jwt_leeway) },
	{ "SENTC_BACKEND_JWT_CACHE_SIZE", K_LONG, "4096", 0, 1L << 20,
	    OFF(jwt_cache_size) },
	{ "SENTC_BACKEND_JWT_KEY_CHECKS", K_LONG, "60", 0, 100000,
	    OFF(jwt_key_checks) },
	{ "SENTC_BACKEND_ACCESS_CACHE_TTL", K_LONG, "5", 0, 300,
	    OFF(access_cache_ttl) },
	{ "SENTC_BACKEND_ACCESS_CACHE_SIZE", K_LONG, "4096", 0, 1L << 20,
	    OFF(access_cache_size) },
	{ "SENTC_BACKEND_MAX_GROUP_DATA", K_LONG, "16384", 2, 1L << 24,
	    OFF(max_group_data) },
	{ "SENTC_BACKEND_MAX_ITEM", K_LONG, "65536", 1, 1L << 24,
	    OFF(max_item) },
	/* Encrypted file parts on the app's own storage (docs/FILES.md). */
	{ "SENTC_BACKEND_FILE_STORE", K_FILE_STORE, "dir", 0, 0,
	    OFF(file_store_db) },
	{ "SENTC_BACKEND_FILE_DIR", K_STRING, "/var/lib/sentc-backend/files",
	    0, 0, OFF(file_dir) },
	{ "SENTC_BACKEND_FILE_MAX_PART", K_LONG, "5242880", 1024, 1L << 30,
	    OFF(file_max_part) },
	{ "SENTC_BACKEND_FILE_ACCEL", K_STRING, "/.sentc-backend/file-parts/",
	    0, 0, OFF(file_accel) },
	{ "SENTC_BACKEND_FILE_AUTH_TOKEN", K_SECRET, "", 0, 0,
	    OFF(file_auth_token) },
	/* The token per endpoint: sentc's defaults for the app options. */
	{ "SENTC_BACKEND_TOKEN_USER_REGISTER", K_TOKEN_KIND, "secret", 0, 0,
	    OFF(token[SB_OPT_USER_REGISTER]) },
	{ "SENTC_BACKEND_TOKEN_USER_EXISTS", K_TOKEN_KIND, "public", 0, 0,
	    OFF(token[SB_OPT_USER_EXISTS]) },
	{ "SENTC_BACKEND_TOKEN_USER_DEVICE_REGISTER", K_TOKEN_KIND, "public",
	    0, 0, OFF(token[SB_OPT_USER_DEVICE_REGISTER]) },
	{ "SENTC_BACKEND_TOKEN_USER_JWT_REFRESH", K_TOKEN_KIND, "public", 0, 0,
	    OFF(token[SB_OPT_USER_JWT_REFRESH]) },
	{ "SENTC_BACKEND_TOKEN_USER_DELETE", K_TOKEN_KIND, "secret", 0, 0,
	    OFF(token[SB_OPT_USER_DELETE]) },
	{ "SENTC_BACKEND_TOKEN_USER_DONE_LOGIN", K_TOKEN_KIND, "public", 0, 0,
	    OFF(token[SB_OPT_USER_DONE_LOGIN]) },
	{ "SENTC_BACKEND_TOKEN_GROUP_CREATE", K_TOKEN_KIND, "public", 0, 0,
	    OFF(token[SB_OPT_GROUP_CREATE]) },
	{ "SENTC_BACKEND_TOKEN_GROUP_GET", K_TOKEN_KIND, "public", 0, 0,
	    OFF(token[SB_OPT_GROUP_GET]) },
	{ "SENTC_BACKEND_TOKEN_GROUP_DELETE", K_TOKEN_KIND, "public", 0, 0,
	    OFF(token[SB_OPT_GROUP_DELETE]) },
	/* The name before the settings were per app option; after its own. */
	{ "SENTC_BACKEND_REGISTER_DEVICE_TOKEN", K_TOKEN_KIND, "", 0, 0,
	    offsetof(struct sb_config, token[SB_OPT_USER_DEVICE_REGISTER]),
	    "SENTC_BACKEND_TOKEN_USER_DEVICE_REGISTER" },
	/* After the app's tokens: it must differ from them. */
	{ "SENTC_BACKEND_ADMIN_TOKEN", K_ADMIN, "", 0, 0, OFF(admin_digest) },
	{ "SENTC_BACKEND_COOKIE_KEY", K_COOKIE_KEYS, "", 0, 0,
	    OFF(cookie_keys) },
	{ "SENTC_BACKEND_COOKIE_NAME", K_COOKIE_NAME, "sentc_refresh", 0, 0,
	    OFF(cookie_name) },
	{ "SENTC_BACKEND_COOKIE_MAX_AGE", K_LONG, "604800", 60, 34560000,
	    OFF(cookie_max_age) },
	{ "SENTC_BACKEND_ALLOWED_ORIGINS", K_ORIGINS, "", 0, 0,
	    OFF(allowed_origins) },
	{ "SENTC_BACKEND_LOG", K_LOG_FORMAT, "text", 0, 0, OFF(log_json) },
	{ "SENTC_BACKEND_USER", K_STRING, "", 0, 0, OFF(user) },
	{ "SENTC_BACKEND_READY_TTL", K_LONG, "5", 1, 300, OFF(ready_ttl) },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key *
key_find(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len &&
		    memcmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Parses one "KEY=VALUE" line into vals[]. Blank lines, "# comments" and
 * an "export " prefix are allowed; a value may be quoted with ' or ".
 * Returns 0, or -1 with err set (naming the line, never the value).
 */
static int
parse_line(const char *p, const char *end, size_t lineno, char **vals,
    char *err, size_t errlen)
{
	const char	*name, *v, *vend;
	const struct key *k;
	size_t		 nlen;

	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p == end || *p == '#')
		return 0;
	if ((size_t)(end - p) > 7 && memcmp(p, "export ", 7) == 0)
		for (p += 7; p < end && is_space(*p); p++)
			continue;

	for (name = p; p < end && (isupper((unsigned char)*p) ||
	    isdigit((unsigned char)*p) || *p == '_'); p++)
		continue;
	nlen = (size_t)(p - name);
	if (nlen == 0 || p == end || *p != '=') {
		snprintf(err, errlen, "config line %zu: expected KEY=VALUE",
		    lineno);
		return -1;
	}
	v = p + 1;
	vend = end;
	if (v < vend && (*v == '"' || *v == '\'')) {
		if (vend - v < 2 || vend[-1] != *v) {
			snprintf(err, errlen, "config line %zu: %.*s: "
			    "unterminated quote", lineno, (int)nlen, name);
			return -1;
		}
		v++, vend--;
	}
	if ((size_t)(vend - v) > VALUE_MAX || !sb_printable(v, vend - v)) {
		snprintf(err, errlen, "config line %zu: %.*s: value too long "
		    "or has control characters", lineno, (int)nlen, name);
		return -1;
	}

	if ((k = key_find(name, nlen)) == NULL) {
		/* A typo in one of our own keys must not pass silently. */
		if (nlen > 14 && memcmp(name, "SENTC_BACKEND_", 14) == 0) {
			snprintf(err, errlen, "config line %zu: unknown key "
			    "%.*s", lineno, (int)nlen, name);
			return -1;
		}
		return 0;
	}
	free(vals[k - keys]);
	if ((vals[k - keys] = strndup(v, (size_t)(vend - v))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * SENTC_BACKEND_ADMIN_TOKEN: empty leaves the admin routes closed. A set
 * one must look like a random token (at least SB_ADMIN_TOKEN_MIN
 * characters, no spaces, not one character repeated) and differ from the
 * app's tokens; only its SHA-256 is kept. Returns 0, or -1 with err
 * naming the key, never the value.
 */
static int
admin_token(struct sb_config *cfg, const char *name, const char *v,
    char *err, size_t errlen)
{
	bool		 seen[256] = { false };
	size_t		 len = strlen(v), i, distinct = 0;
	unsigned int	 mdlen;

	if (len == 0)
		return 0;
	if (len < SB_ADMIN_TOKEN_MIN) {
		snprintf(err, errlen, "%s must be at least %d characters long "
		    "(make one with: openssl rand -base64 32)", name,
		    SB_ADMIN_TOKEN_MIN);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (v[i] == ' ') {
			snprintf(err, errlen, "%s must not contain spaces",
			    name);
			return -1;
		}
		if (!seen[(unsigned char)v[i]]) {
			seen[(unsigned char)v[i]] = true;
			distinct++;
		}
	}
	if (distinct < ADMIN_DISTINCT) {
		snprintf(err, errlen, "%s is too easy to guess: use a random "
		    "value (openssl rand -base64 32)", name);
		return -1;
	}
	if (strcmp(v, cfg->secret_token) == 0 ||
	    strcmp(v, cfg->public_token) == 0) {
		snprintf(err, errlen, "%s must differ from SENTC_SECRET_TOKEN "
		    "and SENTC_PUBLIC_TOKEN", name);
		return -1;
	}
	if (EVP_Digest(v, len, cfg->admin_digest, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != SB_ADMIN_DIGEST_LEN) {
		snprintf(err, errlen, "%s: cannot compute its digest", name);
		return -1;
	}
	cfg->admin_set = true;
	return 0;
}

/*
 * True if v is an http:// or https:// URL with a host, an optional port
 * and an optional path: nothing that a URL built on it could be turned
 * into something else with (user info, query, fragment, white space).
 */
static bool
url_valid(const char *v)
{
	const char	*p, *host;
	long		 port;
	char		 num[8];
	size_t		 n;

	if (strncmp(v, "http://", 7) == 0)
		p = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		p = v + 8;
	else
		return false;
	host = p;
	if (*p == '[') {
		for (p++; isxdigit((unsigned char)*p) || *p == ':' || *p == '.';
		    p++)
			continue;
		if (*p++ != ']' || p - host < 4)
			return false;
	} else {
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
			p++;
		if (p == host)
			return false;
	}
	if (*p == ':') {
		for (n = 0, p++; isdigit((unsigned char)*p) && n < 6; p++)
			num[n++] = *p;
		num[n] = '\0';
		if (n == 0 || n > 5 || sb_parse_long(num, 1, 65535, &port) == -1)
			return false;
	}
	if (*p != '\0' && *p != '/')
		return false;
	for (; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("/-._~%", *p) == NULL)
			return false;
	return true;
}

/* "public" or "secret" into *out; -1 for anything else. */
static int
token_kind(const char *v, enum sb_token *out)
{
	if (strcmp(v, "public") == 0)
		*out = SB_TOKEN_PUBLIC;
	else if (strcmp(v, "secret") == 0)
		*out = SB_TOKEN_SECRET;
	else
		return -1;
	return 0;
}

static int
convert(struct sb_config *cfg, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	char	*s, **sp = (char **)((char *)cfg + k->off);
	long	 n;
	size_t	 len;

	switch (k->kind) {
	case K_SECRET:
		/* Empty only where that is its default (an optional secret). */
		if (*v == '\0' && (k->def == NULL || *k->def != '\0')) {
			snprintf(err, errlen, "%s must not be empty", k->name);
			return -1;
		}
		/* FALLTHROUGH */
	case K_STRING:
		if ((*sp = strdup(v)) == NULL)
			goto nomem;
		return 0;
	case K_URL:
		if (!url_valid(v)) {
			snprintf(err, errlen, "%s must be http:// or https:// "
			    "with a host, and at most a port and a path",
			    k->name);
			return -1;
		}
		if ((s = strdup(v)) == NULL)
			goto nomem;
		for (len = strlen(s); len > 8 && s[len - 1] == '/'; len--)
			s[len - 1] = '\0';
		*sp = s;
		return 0;
	case K_LONG:
		if (sb_parse_long(v, k->min, k->max, &n) == -1) {
			snprintf(err, errlen, "%s must be a whole number from "
			    "%ld to %ld", k->name, k->min, k->max);
			return -1;
		}
		*(long *)((char *)cfg + k->off) = n;
		return 0;
	case K_TOKEN_KIND:
		if (token_kind(v, (enum sb_token *)((char *)cfg + k->off)) ==
		    -1) {
			snprintf(err, errlen, "%s must be public or secret",
			    k->name);
			return -1;
		}
		return 0;
	case K_JWT_KEYS:
		cfg->jwt_keys = sb_jwt_keys_parse(v, cfg->jwt_key_id,
		    err, errlen);
		return cfg->jwt_keys == NULL ? -1 : 0;
	case K_ADMIN:
		return admin_token(cfg, k->name, v, err, errlen);
	case K_COOKIE_KEYS:
		cfg->cookie_keys = sb_cookie_keys_parse(v, err, errlen);
		return cfg->cookie_keys == NULL && err[0] != '\0' ? -1 : 0;
	case K_COOKIE_NAME:
		if (!sb_cookie_name_valid(v)) {
			snprintf(err, errlen, "%s must be 1 to %d letters, digits "
			    "or !#$%%&'*+-.^_`|~", k->name, SB_COOKIE_NAME_MAX);
			return -1;
		}
		if ((*sp = strdup(v)) == NULL)
			goto nomem;
		return 0;
	case K_ORIGINS:
		cfg->allowed_origins = sb_origins_parse(v, err, errlen);
		return cfg->allowed_origins == NULL && err[0] != '\0' ? -1 : 0;
	case K_LOG_FORMAT:
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
			snprintf(err, errlen, "%s must be text or json", k->name);
			return -1;
		}
		*(bool *)((char *)cfg + k->off) = strcmp(v, "json") == 0;
		return 0;
	case K_FILE_STORE:
		if (strcmp(v, "dir") != 0 && strcmp(v, "db") != 0) {
			snprintf(err, errlen, "%s must be dir or db", k->name);
			return -1;
		}
		*(bool *)((char *)cfg + k->off) = strcmp(v, "db") == 0;
		return 0;
	case K_UNNEEDED:
		*(bool *)((char *)cfg + k->off) = *v != '\0';
		return 0;
	}
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/*
 * The older name of a token key, given value v: it sets the same token,
 * unless the key it names was given too with another value (an error).
 * given: which keys the file or the environment set. Returns 0, or -1.
 */
static int
alias(struct sb_config *cfg, const struct key *k, const char *v,
    const bool *given, char *err, size_t errlen)
{
	enum sb_token	 t;
	size_t		 i;

	for (i = 0; i < NKEYS && strcmp(keys[i].name, k->alias_of) != 0; i++)
		continue;
	if (i == NKEYS || keys[i].off != k->off || keys[i].kind != k->kind)
		abort();	/* the table is wrong */
	if (token_kind(v, &t) == -1) {
		snprintf(err, errlen, "%s must be public or secret", k->name);
		return -1;
	}
	if (given[i] && t != *(enum sb_token *)((char *)cfg + k->off)) {
		snprintf(err, errlen, "%s and %s disagree: set only %s",
		    k->name, k->alias_of, k->alias_of);
		return -1;
	}
	*(enum sb_token *)((char *)cfg + k->off) = t;
	return 0;
}

int
sb_config_parse(struct sb_config *cfg, const char *text, size_t len,
    sb_getenv_fn env, char *err, size_t errlen)
{
	char		*vals[NKEYS] = { NULL };
	bool		 given[NKEYS] = { false };
	const char	*p, *end, *nl, *v;
	size_t		 i, lineno = 0;
	int		 rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (text != NULL) {
		if (memchr(text, '\0', len) != NULL) {
			snprintf(err, errlen, "config file holds a NUL byte");
			return -1;
		}
		for (p = text, end = text + len; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			if (parse_line(p, nl, ++lineno, vals, err, errlen))
				goto out;
		}
	}

	/* Keys are converted in table order: the key id before the keys. */
	for (i = 0; i < NKEYS; i++) {
		given[i] = true;
		if (env != NULL && (v = env(keys[i].name)) != NULL) {
			if (strlen(v) > VALUE_MAX ||
			    !sb_printable(v, strlen(v))) {
				snprintf(err, errlen, "%s: value too long or has "
				    "control characters", keys[i].name);
				goto out;
			}
		} else if ((v = vals[i]) == NULL) {
			given[i] = false;
			if ((v = keys[i].def) == NULL) {
				snprintf(err, errlen, "%s is required",
				    keys[i].name);
				goto out;
			}
		}
		if (keys[i].alias_of != NULL) {
			/* Unset: the key it names decides. */
			if (given[i] &&
			    alias(cfg, &keys[i], v, given, err, errlen) == -1)
				goto out;
			continue;
		}
		if (convert(cfg, &keys[i], v, err, errlen) == -1)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < NKEYS; i++) {
		if (vals[i] != NULL)
			sb_wipe(vals[i], strlen(vals[i]));
		free(vals[i]);
	}
	return rc;
}

int
sb_config_load(struct sb_config *cfg, const char *path, char *err,
    size_t errlen)
{
	char	*text = NULL;
	size_t	 len = 0;
	int	 rc;

	if (path != NULL &&
	    sb_read_file(path, CONFIG_FILE_MAX, &text, &len) == -1) {
		memset(cfg, 0, sizeof(*cfg));
		snprintf(err, errlen, "config file %s: %s", path,
		    errno == EFBIG ? "larger than 64 KiB" : strerror(errno));
		return -1;
	}
	rc = sb_config_parse(cfg, text, len, getenv, err, errlen);
	if (text != NULL)
		sb_wipe(text, len);
	free(text);
	return rc;
}

void
sb_config_free(struct sb_config *cfg)
{
	size_t	 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < NKEYS; i++)
		if (keys[i].kind == K_SECRET || keys[i].kind == K_STRING ||
		    keys[i].kind == K_URL || keys[i].kind == K_COOKIE_NAME) {
			char **sp = (char **)((char *)cfg + keys[i].off);

			if (*sp != NULL && keys[i].kind == K_SECRET)
				sb_wipe(*sp, strlen(*sp));
			free(*sp);
			*sp = NULL;
		}
	sb_jwt_keys_free(cfg->jwt_keys);
	cfg->jwt_keys = NULL;
	sb_wipe(cfg->admin_digest, sizeof(cfg->admin_digest));
	cfg->admin_set = false;
	sb_cookie_keys_free(cfg->cookie_keys);
	cfg->cookie_keys = NULL;
	sb_origins_free(cfg->allowed_origins);
	cfg->allowed_origins = NULL;
}

enum sb_token
sb_token_of(enum sb_option o)
{
	return sb_cfg->token[o];
}
