/*
 * driver_config.c: sb_config_parse(), the configuration file and the
 * environment on top of it.
 *
 * Input: the file's text, then (after the first NUL byte, if any) the
 * environment as KEY=VALUE lines, which a stub getenv() hands out.
 * The marker @SECRET@ is replaced by a secret value before parsing.
 *
 * An accepted config has every required key, every number in its range,
 * an API URL with a host, a cookie name that is a token, printable
 * strings; written out again as a file it parses to the same config (the
 * keys kept only as parsed sets or digests aside). A refusal says why in a printable message
 * that holds no secret value.
 *
 * What the programs make of it: a signing key given in the environment
 * is noted as set exactly when not empty; the wait before a lost answer
 * is settled is what 128-bit arithmetic says; a database that is not
 * PostgreSQL has no '=' in its name (a connection string is never a
 * file), and one that is shows in the log without the password libpq
 * reads from it.
 */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>

#include <libpq-fe.h>

#include "fuzz.h"
#include "extern.h"

#define MARKER		"@SECRET@"
#define SECRET		"s3cr3t~Zq8!x"	/* in no message the parser writes */
#define VALUE_MAX	4096

/* A valid key, for writing an accepted config out again. */
#define KEY_SPEC	"rt:BC5N8OaLiSXeF67bVa3HMwOVc1uqAJCXhDhLxuBZLEV3FNqb2" \
			"3aDpS0uMo4hmJm3JA5JWMyLIQLrVShhlBVdRsYwE9UK6GSrWifpME+" \
			"7ySxg3eKSEeRBIei2PARJC8rM+Q=="

/* The token setting of each app option, in sb_option's order. */
static const char *const token_keys[SB_OPT__MAX] = {
	"SENTC_BACKEND_TOKEN_USER_REGISTER",
	"SENTC_BACKEND_TOKEN_USER_EXISTS",
	"SENTC_BACKEND_TOKEN_USER_DEVICE_REGISTER",
	"SENTC_BACKEND_TOKEN_USER_JWT_REFRESH",
	"SENTC_BACKEND_TOKEN_USER_DELETE",
	"SENTC_BACKEND_TOKEN_USER_DONE_LOGIN",
	"SENTC_BACKEND_TOKEN_GROUP_CREATE",
	"SENTC_BACKEND_TOKEN_GROUP_GET",
	"SENTC_BACKEND_TOKEN_GROUP_DELETE",
};

static const char	*env_text;	/* KEY=VALUE lines, or NULL */
static char		 env_value[VALUE_MAX * 2];

/* getenv(3) over env_text: the first line for name. */
static char *
stub_getenv(const char *name)
{
	const char	*p = env_text, *nl;
	size_t		 nlen = strlen(name), vlen;

	for (; p != NULL && *p != '\0'; p = nl + (*nl != '\0')) {
		nl = p + strcspn(p, "\n");
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			vlen = (size_t)(nl - p) - nlen - 1;
			if (vlen >= sizeof(env_value))
				vlen = sizeof(env_value) - 1;
			memcpy(env_value, p + nlen + 1, vlen);
			env_value[vlen] = '\0';
			return env_value;
		}
		if (*nl == '\0')
			break;
	}
	return NULL;
}

/* The same for a round trip: no environment. */
static char *
no_env(const char *name)
{
	return NULL;
}

/* Does p, which ends before end, start with word? */
static bool
starts(const char *p, const char *end, const char *word)
{
	size_t	 n = strlen(word);

	return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/*
 * True if every marker in s is the value (maybe quoted) of a secret key
 * at the start of a line: then no message may hold the secret.
 */
static bool
markers_are_secrets(const char *s, size_t len)
{
	static const char *const keys[] = {
		"SENTC_SECRET_TOKEN=", "SENTC_PUBLIC_TOKEN=",
		"SENTC_JWT_SIGN_KEY=", "SENTC_BACKEND_ADMIN_TOKEN=",
		"SENTC_BACKEND_COOKIE_KEY=", "SENTC_BACKEND_DB=",
	};
	const char	*m, *line;
	size_t		 i, klen;
	bool		 ok;

	for (m = s; (m = memmem(m, len - (size_t)(m - s), MARKER,
	    strlen(MARKER))) != NULL; m += strlen(MARKER)) {
		for (line = m; line > s && line[-1] != '\n' &&
		    line[-1] != '\0'; line--)
			continue;
		while (*line == ' ' || *line == '\t')
			line++;
		/* s is the input, not NUL-terminated: compare within it. */
		if (starts(line, s + len, "export "))
			for (line += 7; *line == ' ' || *line == '\t'; line++)
				continue;
		ok = false;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && !ok; i++) {
			klen = strlen(keys[i]);
			ok = starts(line, s + len, keys[i]) &&
			    (line + klen == m || (line + klen + 1 == m &&
			    (line[klen] == '"' || line[klen] == '\'')));
		}
		if (!ok)
			return false;
	}
	return true;
}

/* s with every marker replaced by the secret; the caller frees it. */
static char *
replace_markers(const uint8_t *data, size_t size, size_t *outlen)
{
	char	*out, *o;
	size_t	 i, mlen = strlen(MARKER), slen = strlen(SECRET);

	out = o = malloc(size * 2 + 1);
	for (i = 0; i < size; )
		if (size - i >= mlen && memcmp(data + i, MARKER, mlen) == 0) {
			memcpy(o, SECRET, slen);
			o += slen, i += mlen;
		} else
			*o++ = (char)data[i++];
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

static bool
string_ok(const char *s)
{
	return s != NULL && strlen(s) <= VALUE_MAX &&
	    fuzz_printable(s, strlen(s));
}

/* A cookie name: 1 to 64 characters of an RFC 6265 token. */
static bool
cookie_name_ok(const char *s)
{
	size_t	 n = s != NULL ? strlen(s) : 0;

	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~") == n;
}

/* The URL grammar the config promises: scheme, host, port, path. */
static bool
url_ok(const char *u)
{
	const char	*p;
	size_t		 n;

	if (strncmp(u, "https://", 8) == 0)
		p = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		p = u + 7;
	else
		return false;
	if (*p == '[') {
		if ((p = strchr(p, ']')) == NULL)
			return false;
		p++;
	} else {
		n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-.");
		if (n == 0)
			return false;
		p += n;
	}
	if (*p == ':') {
		n = strspn(p + 1, "0123456789");
		if (n == 0 || n > 5)
			return false;
		p += 1 + n;
	}
	if (*p != '\0' && *p != '/')
		return false;
	n = strlen(u);
	if (n > 0 && u[n - 1] == '/')
		return false;
	return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789/-._~%") == strlen(p);
}

/* Does the value of keyword kw in opts occur in s? */
static const char *
conninfo(PQconninfoOption *opts, const char *kw)
{
	PQconninfoOption	*o;

	for (o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, kw) == 0)
			return o->val;
	return NULL;
}

/*
 * SENTC_BACKEND_DB as the programs take it: a SQLite name has no '='; a
 * PostgreSQL one is shown as postgresql://user@host:port/dbname at most:
 * the password libpq reads from it shows only where that text, made
 * here of what libpq reads, holds it anyway.
 */
static void
check_db(const char *db)
{
	PQconninfoOption	*opts;
	const char		*pw, *v[4];
	char			 shown[256], *most;
	size_t			 i, n = 32;

	sb_db_spec_display(db, shown, sizeof(shown));
	FUZZ_CHECK(fuzz_printable(shown, strlen(shown)), "shown: %s", shown);
	if (!sb_db_spec_is_pg(db)) {
		FUZZ_CHECK(strchr(db, '=') == NULL, "a file named %s", db);
		return;
	}
	if ((opts = PQconninfoParse(db, NULL)) == NULL) {
		FUZZ_CHECK(strchr(shown, '=') == NULL && strstr(shown, db) ==
		    NULL, "an unreadable one shown: %s", shown);
		return;
	}
	v[0] = conninfo(opts, "user");
	v[1] = conninfo(opts, "host");
	v[2] = conninfo(opts, "port");
	v[3] = conninfo(opts, "dbname");
	for (i = 0; i < 4; i++)
		n += v[i] != NULL ? strlen(v[i]) : 0;
	most = malloc(n);
	for (i = 0; i < 4; i++)
		if (v[i] == NULL)
			v[i] = "";
	/* user@ and :port only where there is a user and a port. */
	snprintf(most, n, "postgresql://%s%s%s%s%s/%s", v[0], *v[0] ? "@" : "",
	    v[1], *v[2] ? ":" : "", v[2], v[3]);
	if ((pw = conninfo(opts, "password")) != NULL && *pw != '\0' &&
	    strstr(most, pw) == NULL)
		FUZZ_CHECK(strstr(shown, pw) == NULL, "the password in \"%s\"",
		    shown);
	free(most);
	PQconninfoFree(opts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_config	 cfg, again;
	char			 err[512], err2[512];
	char			*in, *file, *out, *p;
	const char		*sk;
	size_t			 len, flen, i;
	bool			 check_secret;
	int			 rc;
	__int128		 after;

	in = replace_markers(data, size, &len);
	/* libFuzzer learns the strings a driver compares: the secret may be
	 * typed into any value, where it is no secret. */
	check_secret = markers_are_secrets((const char *)data, size) &&
	    memmem(data, size, "s3cr3t", 6) == NULL;
	file = in;
	flen = strlen(in);	/* up to the first NUL */
	env_text = flen < len ? in + flen + 1 : NULL;

	memset(err, 0, sizeof(err));
	rc = sb_config_parse(&cfg, file, flen, env_text != NULL ?
	    stub_getenv : NULL, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(rc == -1, "returned %d", rc);
		FUZZ_CHECK(err[0] != '\0' && fuzz_printable(err, strlen(err)),
		    "message: %s", err);
		if (check_secret)
			FUZZ_CHECK(strstr(err, "s3cr3t") == NULL,
			    "a secret in the message: %s", err);
		sb_config_free(&cfg);
		free(in);
		return 0;
	}

	FUZZ_CHECK(string_ok(cfg.secret_token) && cfg.secret_token[0] != '\0',
	    "secret token");
	FUZZ_CHECK(string_ok(cfg.public_token) && cfg.public_token[0] != '\0',
	    "public token");
	FUZZ_CHECK(sb_jwt_keys_count(cfg.jwt_keys) >= 1 &&
	    sb_jwt_keys_count(cfg.jwt_keys) <= 16, "%zu keys",
	    sb_jwt_keys_count(cfg.jwt_keys));
	FUZZ_CHECK(string_ok(cfg.jwt_key_id) && string_ok(cfg.db) &&
	    string_ok(cfg.socket_dir) && string_ok(cfg.ca_file),
	    "a string value");
	FUZZ_CHECK(url_ok(cfg.api_url), "api url %s", cfg.api_url);
	FUZZ_CHECK(cfg.workers >= 1 && cfg.workers <= 256, "workers");
	FUZZ_CHECK(cfg.upstream_timeout_ms >= 100 &&
	    cfg.upstream_timeout_ms <= 600000, "upstream timeout");
	FUZZ_CHECK(cfg.upstream_connect_timeout_ms >= 50 &&
	    cfg.upstream_connect_timeout_ms <= 60000, "connect timeout");
	FUZZ_CHECK(cfg.upstream_max_response >= 1024 &&
	    cfg.upstream_max_response <= 1L << 30, "max response");
	FUZZ_CHECK(cfg.max_body >= 1024 && cfg.max_body <= 1L << 30,
	    "max body");
	FUZZ_CHECK(cfg.max_user_data >= 2 && cfg.max_user_data <= 1L << 24,
	    "max user data");
	FUZZ_CHECK(cfg.jwt_leeway >= 0 && cfg.jwt_leeway <= 300, "leeway");
	FUZZ_CHECK(cfg.jwt_cache_size >= 0 && cfg.jwt_cache_size <= 1L << 20,
	    "jwt cache size");
	FUZZ_CHECK(cfg.jwt_key_checks >= 0 && cfg.jwt_key_checks <= 100000,
	    "jwt key checks");
	FUZZ_CHECK(cfg.access_cache_ttl >= 0 && cfg.access_cache_ttl <= 300,
	    "access cache ttl");
	FUZZ_CHECK(cfg.access_cache_size >= 0 &&
	    cfg.access_cache_size <= 1L << 20, "access cache size");
	FUZZ_CHECK(cfg.max_group_data >= 2 && cfg.max_group_data <= 1L << 24,
	    "max group data");
	FUZZ_CHECK(cfg.max_item >= 1 && cfg.max_item <= 1L << 24, "max item");
	for (i = 0; i < SB_OPT__MAX; i++)
		FUZZ_CHECK(cfg.token[i] == SB_TOKEN_PUBLIC ||
		    cfg.token[i] == SB_TOKEN_SECRET, "token kind %s",
		    token_keys[i]);
	FUZZ_CHECK(cookie_name_ok(cfg.cookie_name), "cookie name %s",
	    cfg.cookie_name);
	FUZZ_CHECK(cfg.cookie_max_age >= 60 && cfg.cookie_max_age <= 34560000,
	    "cookie max age");
	FUZZ_CHECK(string_ok(cfg.user), "user");
	FUZZ_CHECK(cfg.ready_ttl >= 1 && cfg.ready_ttl <= 300, "ready ttl");

	/* The environment's word on the signing key is the last. */
	if (env_text != NULL && (sk = stub_getenv("SENTC_JWT_SIGN_KEY")) !=
	    NULL)
		FUZZ_CHECK(cfg.sign_key_set == (sk[0] != '\0'),
		    "sign key noted %d for \"%s\"", cfg.sign_key_set, sk);

	/* Sums made of the numbers, in 128 bits. */
	sb_cfg = &cfg;
	after = 3 * (((__int128)cfg.upstream_timeout_ms + 999) / 1000) + 5;
	FUZZ_CHECK(sb_unsure_after() == (after > LONG_MAX ? LONG_MAX :
	    (long)after), "settled after %ld", sb_unsure_after());
	sb_cfg = NULL;
	check_db(cfg.db);

	/* Written out as a file (another key), parsed again: the same. */
	out = p = malloc(16 * VALUE_MAX);
#define S(k, v)	p += snprintf(p, 16 * VALUE_MAX - (size_t)(p - out), \
		    "%s=\"%s\"\n", k, v)
#define L(k, v)	p += snprintf(p, 16 * VALUE_MAX - (size_t)(p - out), \
		    "%s=%ld\n", k, v)
	S("SENTC_SECRET_TOKEN", cfg.secret_token);
	S("SENTC_PUBLIC_TOKEN", cfg.public_token);
	S("SENTC_JWT_VERIFY_KEY", KEY_SPEC);
	S("SENTC_JWT_KEY_ID", cfg.jwt_key_id);
	S("SENTC_API_URL", cfg.api_url);
	S("SENTC_BACKEND_DB", cfg.db);
	S("SENTC_BACKEND_SOCKET_DIR", cfg.socket_dir);
	S("SENTC_BACKEND_CA_FILE", cfg.ca_file);
	L("SENTC_BACKEND_WORKERS", cfg.workers);
	L("SENTC_BACKEND_UPSTREAM_TIMEOUT_MS", cfg.upstream_timeout_ms);
	L("SENTC_BACKEND_UPSTREAM_CONNECT_TIMEOUT_MS",
	    cfg.upstream_connect_timeout_ms);
	L("SENTC_BACKEND_UPSTREAM_MAX_RESPONSE", cfg.upstream_max_response);
	L("SENTC_BACKEND_MAX_BODY", cfg.max_body);
	L("SENTC_BACKEND_MAX_USER_DATA", cfg.max_user_data);
	L("SENTC_BACKEND_JWT_LEEWAY", cfg.jwt_leeway);
	L("SENTC_BACKEND_JWT_CACHE_SIZE", cfg.jwt_cache_size);
	L("SENTC_BACKEND_JWT_KEY_CHECKS", cfg.jwt_key_checks);
	L("SENTC_BACKEND_ACCESS_CACHE_TTL", cfg.access_cache_ttl);
	L("SENTC_BACKEND_ACCESS_CACHE_SIZE", cfg.access_cache_size);
	L("SENTC_BACKEND_MAX_GROUP_DATA", cfg.max_group_data);
	L("SENTC_BACKEND_MAX_ITEM", cfg.max_item);
	for (i = 0; i < SB_OPT__MAX; i++)
		S(token_keys[i], cfg.token[i] == SB_TOKEN_SECRET ? "secret" :
		    "public");
	/* The older name of one: it must agree, and sets nothing else. */
	S("SENTC_BACKEND_REGISTER_DEVICE_TOKEN",
	    cfg.token[SB_OPT_USER_DEVICE_REGISTER] == SB_TOKEN_SECRET ?
	    "secret" : "public");
	S("SENTC_BACKEND_COOKIE_NAME", cfg.cookie_name);
	L("SENTC_BACKEND_COOKIE_MAX_AGE", cfg.cookie_max_age);
	S("SENTC_BACKEND_LOG", cfg.log_json ? "json" : "text");
	S("SENTC_BACKEND_USER", cfg.user);
	L("SENTC_BACKEND_READY_TTL", cfg.ready_ttl);
	if (cfg.sign_key_set)
		S("SENTC_JWT_SIGN_KEY", "set");
#undef S
#undef L
	rc = sb_config_parse(&again, out, (size_t)(p - out), no_env, err2,
	    sizeof(err2));
	FUZZ_CHECK(rc == 0, "written out, refused: %s", err2);
	FUZZ_CHECK(strcmp(again.secret_token, cfg.secret_token) == 0 &&
	    strcmp(again.public_token, cfg.public_token) == 0 &&
	    strcmp(again.jwt_key_id, cfg.jwt_key_id) == 0 &&
	    strcmp(again.api_url, cfg.api_url) == 0 &&
	    strcmp(again.db, cfg.db) == 0 &&
	    strcmp(again.socket_dir, cfg.socket_dir) == 0 &&
	    strcmp(again.ca_file, cfg.ca_file) == 0 &&
	    strcmp(again.cookie_name, cfg.cookie_name) == 0 &&
	    strcmp(again.user, cfg.user) == 0, "a string differs");
	FUZZ_CHECK(again.workers == cfg.workers &&
	    again.upstream_timeout_ms == cfg.upstream_timeout_ms &&
	    again.upstream_connect_timeout_ms ==
	    cfg.upstream_connect_timeout_ms &&
	    again.upstream_max_response == cfg.upstream_max_response &&
	    again.max_body == cfg.max_body &&
	    again.max_user_data == cfg.max_user_data &&
	    again.jwt_leeway == cfg.jwt_leeway &&
	    again.jwt_cache_size == cfg.jwt_cache_size &&
	    again.jwt_key_checks == cfg.jwt_key_checks &&
	    again.access_cache_ttl == cfg.access_cache_ttl &&
	    again.access_cache_size == cfg.access_cache_size &&
	    again.max_group_data == cfg.max_group_data &&
	    again.max_item == cfg.max_item &&
	    memcmp(again.token, cfg.token, sizeof(cfg.token)) == 0 &&
	    again.cookie_max_age == cfg.cookie_max_age &&
	    again.log_json == cfg.log_json &&
	    again.sign_key_set == cfg.sign_key_set &&
	    again.ready_ttl == cfg.ready_ttl, "a number differs");
	sb_config_free(&again);
	free(out);
	sb_config_free(&cfg);
	free(in);
	return 0;
}
