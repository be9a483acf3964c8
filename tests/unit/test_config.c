/*
 * test_config.c: sb_config_parse() on env-style text, with a fake
 * environment in place of getenv(3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "sb_config.h"
#include "sb_cookie.h"
#include "sb_jwt.h"
#include "sb_origin.h"

#define ERR_LEN		512
#define TEXT_MAX	16384

#define SECRET		"sk-8f2b1c9e4d7a55e1"
#define SIGN_KEY	"MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGb-sign"
/* Base64 of the P-384 generator: a valid public point. */
#define KEY_B64		"BKqHyiK+iwU3jrHHHvMgrXRuHTtii6ebmFn3QeCC" \
			"VCo4VQLyXb9VKWw6VF44cnYKtzYX3kqWJixvXZ6Y" \
			"v5KS3Cn49B29KJoUfOnaMRO18LjACmCxzh1+gZ16" \
			"Qx18kOoOXw=="

/* Base64 of 32 bytes (0, 1, ... 31), and of 31 of them. */
#define COOKIE_KEY	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define COOKIE_KEY2	"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="
#define COOKIE_KEY_31	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="

#define L_PUBLIC	"SENTC_PUBLIC_TOKEN=pub-3a9d\n"
#define L_SECRET	"SENTC_SECRET_TOKEN=" SECRET "\n"
#define L_KEYS		"SENTC_JWT_KEY_ID=k1\n" \
			"SENTC_JWT_VERIFY_KEY=" KEY_B64 "\n"
#define MINIMAL		L_PUBLIC L_SECRET L_KEYS

/* As the sentc dashboard exports it, with some hand edits. */
static const char good_file[] =
    "# Exported from the sentc dashboard\n"
    "\n"
    "export SENTC_PUBLIC_TOKEN=\"pub-3a9d\"\n"
    "SENTC_SECRET_TOKEN='" SECRET "'\n"
    "   # an indented comment\n"
    "SENTC_JWT_KEY_ID=k1\n"
    "SENTC_JWT_VERIFY_KEY=" KEY_B64 "\n"
    "SENTC_JWT_SIGN_KEY=\"" SIGN_KEY "\"\n"
    "\t\n"
    "SENTC_BACKEND_WORKERS=4   \n";

struct env {
	const char	*name;
	const char	*value;
};

static const struct env	*fake_env;	/* ends with a NULL name */

static char *
fake_getenv(const char *name)
{
	const struct env	*e;

	for (e = fake_env; e != NULL && e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return (char *)e->value;
	return NULL;
}

static int
parse(struct sb_config *cfg, const char *text, const struct env *env,
    char *err)
{
	fake_env = env;
	err[0] = '\0';
	return sb_config_parse(cfg, text, text == NULL ? 0 : strlen(text),
	    fake_getenv, err, ERR_LEN);
}

/*
 * Reports a row that should have failed but did not, or whose message
 * does not name the key or holds the secret. Returns 1 if so.
 */
static int
fails_naming(const char *what, const char *text, size_t len,
    const struct env *env, const char *name)
{
	struct sb_config	 cfg;
	char			 err[ERR_LEN] = "";
	int			 rc;

	fake_env = env;
	rc = sb_config_parse(&cfg, text, len, fake_getenv, err, sizeof(err));
	sb_config_free(&cfg);
	if (rc != -1) {
		print_error("%s: accepted\n", what);
		return 1;
	}
	if (err[0] == '\0' || (name != NULL && strstr(err, name) == NULL)) {
		print_error("%s: message \"%s\" does not name %s\n", what, err,
		    name == NULL ? "anything" : name);
		return 1;
	}
	if (strstr(err, SECRET) != NULL || strstr(err, SIGN_KEY) != NULL) {
		print_error("%s: message holds a secret: %s\n", what, err);
		return 1;
	}
	return 0;
}

static void
test_good_file(void **state)
{
	struct sb_config	 cfg;
	char			 err[ERR_LEN];

	assert_int_equal(parse(&cfg, good_file, NULL, err), 0);
	assert_string_equal(cfg.secret_token, SECRET);
	assert_string_equal(cfg.public_token, "pub-3a9d");
	assert_string_equal(cfg.jwt_key_id, "k1");
	assert_int_equal(sb_jwt_keys_count(cfg.jwt_keys), 1);
	assert_int_equal(cfg.workers, 4);

	/* Defaults. */
	assert_string_equal(cfg.api_url, "https://api.sentc.com");
	assert_string_equal(cfg.ca_file, "");
	assert_int_equal(cfg.max_body, 1048576);
	assert_int_equal(cfg.max_user_data, 16384);
	assert_int_equal(cfg.jwt_leeway, 10);
	assert_int_equal(cfg.jwt_cache_size, 4096);
	assert_int_equal(cfg.jwt_key_checks, 60);
	assert_int_equal(cfg.upstream_timeout_ms, 10000);
	assert_int_equal(cfg.upstream_connect_timeout_ms, 3000);
	assert_int_equal(cfg.upstream_max_response, 4194304);
	/* sentc's defaults of the app options: secret for user_register and
	 * user_delete, public for the others. */
	assert_int_equal(cfg.token[SB_OPT_USER_REGISTER], SB_TOKEN_SECRET);
	assert_int_equal(cfg.token[SB_OPT_USER_DELETE], SB_TOKEN_SECRET);
	assert_int_equal(cfg.token[SB_OPT_USER_EXISTS], SB_TOKEN_PUBLIC);
	assert_int_equal(cfg.token[SB_OPT_USER_DEVICE_REGISTER],
	    SB_TOKEN_PUBLIC);
	assert_int_equal(cfg.token[SB_OPT_USER_JWT_REFRESH], SB_TOKEN_PUBLIC);
	assert_int_equal(cfg.token[SB_OPT_GROUP_CREATE], SB_TOKEN_PUBLIC);
	assert_int_equal(cfg.token[SB_OPT_GROUP_GET], SB_TOKEN_PUBLIC);
	assert_int_equal(cfg.token[SB_OPT_GROUP_DELETE], SB_TOKEN_PUBLIC);
	assert_int_equal(cfg.token[SB_OPT_USER_DONE_LOGIN], SB_TOKEN_PUBLIC);
	/* No cookie key: the cookie routes are closed. No origin is allowed. */
	assert_null(cfg.cookie_keys);
	assert_string_equal(cfg.cookie_name, "sentc_refresh");
	assert_int_equal(cfg.cookie_max_age, 604800);
	assert_null(cfg.allowed_origins);

	/* The signing key is accepted, and kept nowhere. */
	assert_null(strstr(cfg.secret_token, SIGN_KEY));
	assert_null(strstr(cfg.public_token, SIGN_KEY));
	assert_null(strstr(cfg.db, SIGN_KEY));
	assert_null(strstr(cfg.socket_dir, SIGN_KEY));
	assert_null(strstr(cfg.ca_file, SIGN_KEY));
	sb_config_free(&cfg);
	assert_null(cfg.secret_token);
	assert_null(cfg.jwt_keys);
}

static void
test_crlf_file(void **state)
{
	struct sb_config	 cfg;
	char			 text[TEXT_MAX], err[ERR_LEN];
	const char		*p;
	size_t			 n = 0;

	for (p = good_file; *p != '\0'; p++) {
		if (*p == '\n')
			text[n++] = '\r';
		text[n++] = *p;
	}
	text[n] = '\0';
	assert_int_equal(parse(&cfg, text, NULL, err), 0);
	assert_string_equal(cfg.secret_token, SECRET);
	assert_string_equal(cfg.public_token, "pub-3a9d");
	assert_int_equal(cfg.workers, 4);
	sb_config_free(&cfg);
}

static void
test_api_url(void **state)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "https://api.example.com", "https://api.example.com" },
		{ "https://api.example.com/", "https://api.example.com" },
		{ "http://localhost:8080///", "http://localhost:8080" },
		{ "https://h.example/base/", "https://h.example/base" },
		{ "http://127.0.0.1:65535", "http://127.0.0.1:65535" },
		{ "http://[::1]:8080/", "http://[::1]:8080" },
		{ "https://h.example/a-b_c.d~e%20f/", "https://h.example/a-b_c.d~e%20f" },
	};
	struct sb_config	 cfg;
	struct env		 env[] = {
		{ "SENTC_API_URL", NULL }, { NULL, NULL }
	};
	char			 err[ERR_LEN];
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		env[0].value = cases[i].in;
		assert_int_equal(parse(&cfg, MINIMAL, env, err), 0);
		assert_string_equal(cfg.api_url, cases[i].out);
		sb_config_free(&cfg);
	}

	/* The same from the file. */
	assert_int_equal(parse(&cfg, MINIMAL "SENTC_API_URL=http://sim:3000/\n",
	    NULL, err), 0);
	assert_string_equal(cfg.api_url, "http://sim:3000");
	sb_config_free(&cfg);
}

static void
test_env_overrides_file(void **state)
{
	static const struct env	 env[] = {
		{ "SENTC_SECRET_TOKEN", "env-secret" },
		{ "SENTC_BACKEND_WORKERS", "8" },
		{ "SENTC_BACKEND_JWT_LEEWAY", "0" },
		{ "SENTC_BACKEND_JWT_KEY_CHECKS", "0" },
		{ "SENTC_API_URL", "http://sim:3000/" },
		{ "SENTC_BACKEND_REGISTER_DEVICE_TOKEN", "secret" },
		{ "SENTC_BACKEND_TOKEN_USER_DONE_LOGIN", "secret" },
		{ NULL, NULL }
	};
	struct sb_config	 cfg;
	char			 err[ERR_LEN];

	assert_int_equal(parse(&cfg, good_file, env, err), 0);
	assert_string_equal(cfg.secret_token, "env-secret");
	assert_int_equal(cfg.workers, 8);
	assert_int_equal(cfg.jwt_leeway, 0);
	assert_int_equal(cfg.jwt_key_checks, 0);
	assert_string_equal(cfg.api_url, "http://sim:3000");
	assert_int_equal(cfg.token[SB_OPT_USER_DEVICE_REGISTER],
	    SB_TOKEN_SECRET);
	assert_int_equal(cfg.token[SB_OPT_USER_DONE_LOGIN], SB_TOKEN_SECRET);
	/* What the environment does not name comes from the file. */
	assert_string_equal(cfg.public_token, "pub-3a9d");
	sb_config_free(&cfg);
}

static void
test_env_only(void **state)
{
	static const struct env	 env[] = {
		{ "SENTC_SECRET_TOKEN", SECRET },
		{ "SENTC_PUBLIC_TOKEN", "pub" },
		{ "SENTC_JWT_VERIFY_KEY", "k7:" KEY_B64 },
		{ NULL, NULL }
	};
	struct sb_config	 cfg;
	char			 err[ERR_LEN];

	assert_int_equal(parse(&cfg, NULL, env, err), 0);
	assert_string_equal(cfg.secret_token, SECRET);
	assert_int_equal(sb_jwt_keys_count(cfg.jwt_keys), 1);
	sb_config_free(&cfg);
}

/* SENTC_BACKEND_DB takes a file path or a PostgreSQL URI, as written. */
static void
test_db(void **state)
{
	static const char	*uri = "postgresql://app:p%40ss@db.example.com:"
				    "5432/sentc?sslmode=verify-full";
	struct sb_config	 cfg;
	char			 err[ERR_LEN], text[TEXT_MAX];

	assert_int_equal(parse(&cfg, MINIMAL, NULL, err), 0);
	assert_string_equal(cfg.db, "/var/lib/sentc-backend/sentc-backend.db");
	sb_config_free(&cfg);
	snprintf(text, sizeof(text), MINIMAL "SENTC_BACKEND_DB='%s'\n", uri);
	assert_int_equal(parse(&cfg, text, NULL, err), 0);
	assert_string_equal(cfg.db, uri);
	sb_config_free(&cfg);
	assert_null(cfg.db);
}

static void
test_required(void **state)
{
	static const struct {
		const char	*what, *text, *name;
	} cases[] = {
	{ "no secret token", L_PUBLIC L_KEYS, "SENTC_SECRET_TOKEN" },
	{ "empty secret token", L_PUBLIC "SENTC_SECRET_TOKEN=\n" L_KEYS,
	    "SENTC_SECRET_TOKEN" },
	{ "empty quoted secret token", L_PUBLIC "SENTC_SECRET_TOKEN=\"\"\n"
	    L_KEYS, "SENTC_SECRET_TOKEN" },
	{ "no public token", L_SECRET L_KEYS, "SENTC_PUBLIC_TOKEN" },
	{ "no verify key", L_PUBLIC L_SECRET, "SENTC_JWT_VERIFY_KEY" },
	{ "empty file", "", "SENTC_SECRET_TOKEN" },
	};
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad += fails_naming(cases[i].what, cases[i].text,
		    strlen(cases[i].text), NULL, cases[i].name);
	assert_int_equal(bad, 0);
}

/* Bad values, each given through the environment over a good file. */
static void
test_bad_values(void **state)
{
	static const struct env	 cases[] = {
		{ "SENTC_BACKEND_WORKERS", "abc" },
		{ "SENTC_BACKEND_WORKERS", "10x" },
		{ "SENTC_BACKEND_WORKERS", "4.0" },
		{ "SENTC_BACKEND_WORKERS", "0x10" },
		{ "SENTC_BACKEND_WORKERS", "" },
		{ "SENTC_BACKEND_WORKERS", " 4" },
		{ "SENTC_BACKEND_WORKERS", "+4" },
		{ "SENTC_BACKEND_WORKERS", "\t4" },
		{ "SENTC_BACKEND_WORKERS", "0" },
		{ "SENTC_BACKEND_WORKERS", "-1" },
		{ "SENTC_BACKEND_WORKERS", "257" },
		{ "SENTC_BACKEND_WORKERS", "99999999999999999999999" },
		{ "SENTC_BACKEND_MAX_BODY", "1023" },
		{ "SENTC_BACKEND_MAX_USER_DATA", "1" },
		{ "SENTC_BACKEND_JWT_LEEWAY", "301" },
		{ "SENTC_BACKEND_JWT_CACHE_SIZE", "-1" },
		{ "SENTC_BACKEND_JWT_KEY_CHECKS", "-1" },
		{ "SENTC_BACKEND_JWT_KEY_CHECKS", "100001" },
		{ "SENTC_BACKEND_JWT_KEY_CHECKS", "sixty" },
		{ "SENTC_BACKEND_UPSTREAM_TIMEOUT_MS", "99" },
		{ "SENTC_BACKEND_UPSTREAM_CONNECT_TIMEOUT_MS", "60001" },
		{ "SENTC_BACKEND_UPSTREAM_MAX_RESPONSE", "1k" },
		{ "SENTC_BACKEND_REGISTER_DEVICE_TOKEN", "both" },
		{ "SENTC_BACKEND_REGISTER_DEVICE_TOKEN", "" },
		{ "SENTC_BACKEND_TOKEN_GROUP_CREATE", "" },
		{ "SENTC_BACKEND_TOKEN_GROUP_GET", "Secret" },
		{ "SENTC_BACKEND_TOKEN_GROUP_DELETE", "secret " },
		{ "SENTC_BACKEND_TOKEN_USER_DELETE", "blocked" },
		{ "SENTC_BACKEND_TOKEN_USER_REGISTER", "public,secret" },
		{ "SENTC_BACKEND_TOKEN_USER_DONE_LOGIN", "blocked" },
		{ "SENTC_API_URL", "ftp://api.sentc.com" },
		{ "SENTC_API_URL", "api.sentc.com" },
		{ "SENTC_API_URL", "" },
		{ "SENTC_API_URL", "http://" },
		{ "SENTC_API_URL", "https:///api" },
		{ "SENTC_API_URL", "https://user:pw@api.sentc.com" },
		{ "SENTC_API_URL", "https://api.sentc.com?x=1" },
		{ "SENTC_API_URL", "https://api.sentc.com/#x" },
		{ "SENTC_API_URL", "https://api sentc.com" },
		{ "SENTC_API_URL", "https://api.sentc.com:0" },
		{ "SENTC_API_URL", "https://api.sentc.com:65536" },
		{ "SENTC_API_URL", "https://api.sentc.com:" },
		{ "SENTC_API_URL", "https://api.sentc.com/a b" },
		{ "SENTC_API_URL", "https://api.sentc.com/\"x" },
		{ "SENTC_API_URL", "https://[::1" },
		{ "SENTC_JWT_VERIFY_KEY", "k1:notbase64!" },
		{ "SENTC_PUBLIC_TOKEN", "pub\x01" },
		{ "SENTC_BACKEND_COOKIE_KEY", "abc" },
		{ "SENTC_BACKEND_COOKIE_KEY", COOKIE_KEY "," },
		{ "SENTC_BACKEND_COOKIE_NAME", "" },
		{ "SENTC_BACKEND_COOKIE_NAME", "a b" },
		{ "SENTC_BACKEND_COOKIE_NAME", "a;b" },
		{ "SENTC_BACKEND_COOKIE_MAX_AGE", "59" },
		{ "SENTC_BACKEND_COOKIE_MAX_AGE", "34560001" },
		{ "SENTC_BACKEND_COOKIE_MAX_AGE", "1d" },
		{ "SENTC_BACKEND_ALLOWED_ORIGINS", "*" },
		{ "SENTC_BACKEND_ALLOWED_ORIGINS", "null" },
		{ "SENTC_BACKEND_ALLOWED_ORIGINS", "https://app.example.com/" },
		{ "SENTC_BACKEND_ALLOWED_ORIGINS", "app.example.com" },
		{ "SENTC_BACKEND_DB", "" },
		{ "SENTC_BACKEND_LOG", "JSON" },
		{ "SENTC_BACKEND_LOG", "" },
		{ "SENTC_BACKEND_LOG", "syslog" },
	};
	struct env	 env[2] = { { NULL, NULL }, { NULL, NULL } };
	char		 what[128];
	size_t		 i;
	int		 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		env[0] = cases[i];
		snprintf(what, sizeof(what), "%s=\"%s\"", cases[i].name,
		    cases[i].value);
		bad += fails_naming(what, good_file, strlen(good_file), env,
		    cases[i].name);
	}
	assert_int_equal(bad, 0);
}

/*
 * Every number key at its ends and past them, as far as a long goes and
 * beyond: the ends are taken, anything past them refused naming the key.
 * The products and sums made of these values (cache sizes, timeouts in
 * ms, TTLs added to the clock) are checked where they are made.
 */
static void
test_numbers_extreme(void **state)
{
	static const struct {
		const char	*name, *min, *max;
	} keys[] = {
		{ "SENTC_BACKEND_WORKERS", "1", "256" },
		{ "SENTC_BACKEND_UPSTREAM_TIMEOUT_MS", "100", "600000" },
		{ "SENTC_BACKEND_UPSTREAM_CONNECT_TIMEOUT_MS", "50", "60000" },
		{ "SENTC_BACKEND_UPSTREAM_MAX_RESPONSE", "1024", "1073741824" },
		{ "SENTC_BACKEND_MAX_BODY", "1024", "1073741824" },
		{ "SENTC_BACKEND_MAX_USER_DATA", "2", "16777216" },
		{ "SENTC_BACKEND_JWT_LEEWAY", "0", "300" },
		{ "SENTC_BACKEND_JWT_CACHE_SIZE", "0", "1048576" },
		{ "SENTC_BACKEND_ACCESS_CACHE_TTL", "0", "300" },
		{ "SENTC_BACKEND_ACCESS_CACHE_SIZE", "0", "1048576" },
		{ "SENTC_BACKEND_MAX_GROUP_DATA", "2", "16777216" },
		{ "SENTC_BACKEND_MAX_ITEM", "1", "16777216" },
		{ "SENTC_BACKEND_COOKIE_MAX_AGE", "60", "34560000" },
		{ "SENTC_BACKEND_READY_TTL", "1", "300" },
	};
	static const char *const past[] = {
		"9223372036854775807", "9223372036854775808",
		"18446744073709551615", "18446744073709551616",
		"-9223372036854775808", "-9223372036854775809",
		"99999999999999999999999999999999", "1e3", "0x7fffffff",
	};
	struct env		 env[2] = { { NULL, NULL }, { NULL, NULL } };
	struct sb_config	 cfg;
	char			 what[160], err[ERR_LEN];
	size_t			 i, j;
	int			 bad = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		env[0].name = keys[i].name;
		for (j = 0; j < 2; j++) {
			env[0].value = j == 0 ? keys[i].min : keys[i].max;
			if (parse(&cfg, good_file, env, err) != 0) {
				print_error("%s=%s refused: %s\n", keys[i].name,
				    env[0].value, err);
				bad++;
			}
			sb_config_free(&cfg);
		}
		for (j = 0; j < sizeof(past) / sizeof(past[0]); j++) {
			env[0].value = past[j];
			snprintf(what, sizeof(what), "%s=%s", keys[i].name,
			    past[j]);
			bad += fails_naming(what, good_file, strlen(good_file),
			    env, keys[i].name);
		}
	}
	assert_int_equal(bad, 0);
}

/*
 * SENTC_JWT_SIGN_KEY, which the backend never needs: whether it is set
 * is noted (for the warning at start), its value kept nowhere.
 */
static void
test_sign_key_noted(void **state)
{
	static const struct env	 set[] = {
		{ "SENTC_JWT_SIGN_KEY", SIGN_KEY }, { NULL, NULL },
	};
	static const struct env	 cleared[] = {
		{ "SENTC_JWT_SIGN_KEY", "" }, { NULL, NULL },
	};
	struct sb_config	 cfg;
	char			 err[ERR_LEN];

	assert_int_equal(parse(&cfg, good_file, NULL, err), 0);
	assert_true(cfg.sign_key_set);
	sb_config_free(&cfg);
	assert_int_equal(parse(&cfg, MINIMAL, NULL, err), 0);
	assert_false(cfg.sign_key_set);
	sb_config_free(&cfg);
	assert_int_equal(parse(&cfg, MINIMAL "SENTC_JWT_SIGN_KEY=\n", NULL,
	    err), 0);
	assert_false(cfg.sign_key_set);
	sb_config_free(&cfg);
	assert_int_equal(parse(&cfg, MINIMAL, set, err), 0);
	assert_true(cfg.sign_key_set);
	sb_config_free(&cfg);
	assert_int_equal(parse(&cfg, good_file, cleared, err), 0);
	assert_false(cfg.sign_key_set);
	sb_config_free(&cfg);
}

/*
 * One token setting per app option, each on its own; the older name of
 * user_device_register's sets the same, and must agree with the new one
 * where both are set.
 */
static void
test_token_kinds(void **state)
{
	static const struct env	 all_secret[] = {
		{ "SENTC_BACKEND_TOKEN_USER_EXISTS", "secret" },
		{ "SENTC_BACKEND_TOKEN_USER_DEVICE_REGISTER", "secret" },
		{ "SENTC_BACKEND_TOKEN_USER_JWT_REFRESH", "secret" },
		{ "SENTC_BACKEND_TOKEN_GROUP_CREATE", "secret" },
		{ "SENTC_BACKEND_TOKEN_GROUP_GET", "secret" },
		{ "SENTC_BACKEND_TOKEN_GROUP_DELETE", "secret" },
		{ "SENTC_BACKEND_TOKEN_USER_DONE_LOGIN", "secret" },
		{ NULL, NULL }
	}, all_public[] = {
		{ "SENTC_BACKEND_TOKEN_USER_REGISTER", "public" },
		{ "SENTC_BACKEND_TOKEN_USER_DELETE", "public" },
		{ NULL, NULL }
	}, one[] = {
		{ "SENTC_BACKEND_TOKEN_GROUP_GET", "secret" },
		{ NULL, NULL }
	}, both_agree[] = {
		{ "SENTC_BACKEND_TOKEN_USER_DEVICE_REGISTER", "secret" },
		{ "SENTC_BACKEND_REGISTER_DEVICE_TOKEN", "secret" },
		{ NULL, NULL }
	}, both_differ[] = {
		{ "SENTC_BACKEND_TOKEN_USER_DEVICE_REGISTER", "public" },
		{ "SENTC_BACKEND_REGISTER_DEVICE_TOKEN", "secret" },
		{ NULL, NULL }
	};
	struct sb_config	 cfg;
	char			 err[ERR_LEN];
	size_t			 i;

	assert_int_equal(parse(&cfg, good_file, all_secret, err), 0);
	for (i = 0; i < SB_OPT__MAX; i++)
		assert_int_equal(cfg.token[i], SB_TOKEN_SECRET);
	sb_config_free(&cfg);

	assert_int_equal(parse(&cfg, good_file, all_public, err), 0);
	for (i = 0; i < SB_OPT__MAX; i++)
		assert_int_equal(cfg.token[i], SB_TOKEN_PUBLIC);
	sb_config_free(&cfg);

	/* One setting changes one endpoint's token, and no other. */
	assert_int_equal(parse(&cfg, good_file, one, err), 0);
	assert_int_equal(cfg.token[SB_OPT_GROUP_GET], SB_TOKEN_SECRET);
	assert_int_equal(cfg.token[SB_OPT_GROUP_CREATE], SB_TOKEN_PUBLIC);
	assert_int_equal(cfg.token[SB_OPT_GROUP_DELETE], SB_TOKEN_PUBLIC);
	sb_config_free(&cfg);

	/* The older name, from the file, as before. */
	assert_int_equal(parse(&cfg, MINIMAL
	    "SENTC_BACKEND_REGISTER_DEVICE_TOKEN=secret\n", NULL, err), 0);
	assert_int_equal(cfg.token[SB_OPT_USER_DEVICE_REGISTER],
	    SB_TOKEN_SECRET);
	sb_config_free(&cfg);
	assert_int_equal(parse(&cfg, good_file, both_agree, err), 0);
	assert_int_equal(cfg.token[SB_OPT_USER_DEVICE_REGISTER],
	    SB_TOKEN_SECRET);
	sb_config_free(&cfg);
	assert_int_equal(fails_naming("both names, differing", good_file,
	    strlen(good_file), both_differ,
	    "SENTC_BACKEND_TOKEN_USER_DEVICE_REGISTER"), 0);
	/* A new name misspelt is an error, as every SENTC_BACKEND_ key. */
	assert_int_equal(fails_naming("misspelt", MINIMAL
	    "SENTC_BACKEND_TOKEN_GROUP_CREAT=secret\n", strlen(MINIMAL
	    "SENTC_BACKEND_TOKEN_GROUP_CREAT=secret\n"), NULL,
	    "SENTC_BACKEND_TOKEN_GROUP_CREAT"), 0);
}

/* SENTC_BACKEND_LOG: text by default, json when asked. */
static void
test_log_format(void **state)
{
	static const struct env	 json[] = {
		{ "SENTC_BACKEND_LOG", "json" }, { NULL, NULL },
	};
	static const struct env	 text[] = {
		{ "SENTC_BACKEND_LOG", "text" }, { NULL, NULL },
	};
	struct sb_config	 cfg;
	char			 err[ERR_LEN];

	assert_int_equal(parse(&cfg, good_file, NULL, err), 0);
	assert_false(cfg.log_json);
	sb_config_free(&cfg);
	assert_int_equal(parse(&cfg, good_file, json, err), 0);
	assert_true(cfg.log_json);
	sb_config_free(&cfg);
	assert_int_equal(parse(&cfg, MINIMAL "SENTC_BACKEND_LOG=json\n", text,
	    err), 0);
	assert_false(cfg.log_json);
	sb_config_free(&cfg);
}

/* Bad values and lines in the file itself. */
static void
test_bad_file(void **state)
{
	static const struct {
		const char	*what, *text, *name;
	} cases[] = {
	{ "number abc", MINIMAL "SENTC_BACKEND_WORKERS=abc\n",
	    "SENTC_BACKEND_WORKERS" },
	{ "number 10x", MINIMAL "SENTC_BACKEND_MAX_BODY=10x\n",
	    "SENTC_BACKEND_MAX_BODY" },
	{ "number out of range", MINIMAL "SENTC_BACKEND_MAX_BODY="
	    "2147483648\n", "SENTC_BACKEND_MAX_BODY" },
	{ "quoted number out of range", MINIMAL "SENTC_BACKEND_JWT_LEEWAY="
	    "\"500\"\n", "SENTC_BACKEND_JWT_LEEWAY" },
	{ "unknown backend key", MINIMAL "SENTC_BACKEND_FOO=1\n",
	    "SENTC_BACKEND_FOO" },
	{ "misspelt backend key", MINIMAL "SENTC_BACKEND_WORKER=2\n",
	    "SENTC_BACKEND_WORKER" },
	{ "ftp url", MINIMAL "SENTC_API_URL=ftp://api.sentc.com\n",
	    "SENTC_API_URL" },
	{ "unterminated double quote", MINIMAL "SENTC_PUBLIC_TOKEN=\"abc\n",
	    "SENTC_PUBLIC_TOKEN" },
	{ "unterminated single quote", MINIMAL "SENTC_PUBLIC_TOKEN='abc\n",
	    "SENTC_PUBLIC_TOKEN" },
	{ "mismatched quotes", MINIMAL "SENTC_PUBLIC_TOKEN='abc\"\n",
	    "SENTC_PUBLIC_TOKEN" },
	{ "a lone quote", MINIMAL "SENTC_PUBLIC_TOKEN=\"\n",
	    "SENTC_PUBLIC_TOKEN" },
	{ "no '='", MINIMAL "SENTC_PUBLIC_TOKEN\n", NULL },
	{ "spaces around '='", MINIMAL "SENTC_BACKEND_WORKERS = 3\n", NULL },
	{ "a word", MINIMAL "hello\n", NULL },
	{ "control character", MINIMAL "SENTC_PUBLIC_TOKEN=a\x1b[0mb\n",
	    "SENTC_PUBLIC_TOKEN" },
	{ "verify key not a point", L_PUBLIC L_SECRET
	    "SENTC_JWT_VERIFY_KEY=k1:AAAA\n", "SENTC_JWT_VERIFY_KEY" },
	};
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad += fails_naming(cases[i].what, cases[i].text,
		    strlen(cases[i].text), NULL, cases[i].name);
	assert_int_equal(bad, 0);
}

/*
 * The dashboard's .env as it is: one bare verify key, no key id. The key
 * then has no id (it verifies tokens whatever their kid).
 */
static void
test_dashboard_env(void **state)
{
	static const char env_file[] =
	    "SENTC_PUBLIC_TOKEN=pub-3a9d\n"
	    "SENTC_SECRET_TOKEN=" SECRET "\n"
	    "SENTC_JWT_SIGN_KEY=" SIGN_KEY "\n"
	    "SENTC_JWT_VERIFY_KEY=" KEY_B64 "\n";
	struct sb_config	 cfg;
	char			 err[ERR_LEN];

	assert_int_equal(parse(&cfg, env_file, NULL, err), 0);
	assert_string_equal(cfg.jwt_key_id, "");
	assert_int_equal(sb_jwt_keys_count(cfg.jwt_keys), 1);
	assert_false(sb_jwt_keys_named(cfg.jwt_keys, ""));
	sb_config_free(&cfg);
}

/* Keys that are not the backend's own are someone else's business. */
static void
test_unknown_keys_ignored(void **state)
{
	struct sb_config	 cfg;
	char			 err[ERR_LEN];

	assert_int_equal(parse(&cfg, MINIMAL
	    "OTHER_APP_SETTING=1\n"
	    "SENTC_SOMETHING_NEW=x\n"
	    "export NODE_ENV=production\n"
	    "SENTC_BACKEND=1\n", NULL, err), 0);
	assert_string_equal(cfg.secret_token, SECRET);
	sb_config_free(&cfg);
}

/* A broken line holding the secret must not put it in the message. */
static void
test_secret_never_in_message(void **state)
{
	static const struct {
		const char	*what, *text;
	} cases[] = {
	{ "unterminated quote", L_PUBLIC "SENTC_SECRET_TOKEN=\"" SECRET "\n"
	    L_KEYS },
	{ "mismatched quotes", L_PUBLIC "SENTC_SECRET_TOKEN=\"" SECRET "'\n"
	    L_KEYS },
	{ "control character", L_PUBLIC "SENTC_SECRET_TOKEN=" SECRET "\x7f\n"
	    L_KEYS },
	{ "no '='", L_PUBLIC "SENTC_SECRET_TOKEN " SECRET "\n" L_KEYS },
	{ "lower-case key", L_PUBLIC "sentc_secret_token=" SECRET "\n"
	    L_KEYS },
	{ "misspelt backend key", MINIMAL "SENTC_BACKEND_SECRET=" SECRET
	    "\n" },
	{ "sign key unterminated", MINIMAL "SENTC_JWT_SIGN_KEY='" SIGN_KEY
	    "\n" },
	};
	static const struct env	 env_ctl[] = {
		{ "SENTC_SECRET_TOKEN", SECRET "\n" }, { NULL, NULL }
	};
	char	 text[TEXT_MAX];
	size_t	 i, n;
	int	 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad += fails_naming(cases[i].what, cases[i].text,
		    strlen(cases[i].text), NULL, NULL);
	bad += fails_naming("control character in the environment", MINIMAL,
	    strlen(MINIMAL), env_ctl, "SENTC_SECRET_TOKEN");

	/* A value over the cap, the secret at its start. */
	n = (size_t)snprintf(text, sizeof(text), "%sSENTC_SECRET_TOKEN=%s",
	    L_PUBLIC L_KEYS, SECRET);
	memset(text + n, 'x', 5000);
	text[n + 5000] = '\0';
	bad += fails_naming("value too long", text, strlen(text), NULL,
	    "SENTC_SECRET_TOKEN");
	assert_int_equal(bad, 0);
}

static void
test_nul_byte(void **state)
{
	static const char	 text[] = MINIMAL "SENTC_BACKEND_WORKERS=4\0"
	    "\nSENTC_BACKEND_DB=/tmp/x\n";
	static const char	 comment[] = MINIMAL "# a comment\0\n";
	struct sb_config	 cfg;
	char			 err[ERR_LEN];

	assert_int_equal(fails_naming("NUL byte in a value", text,
	    sizeof(text) - 1, NULL, NULL), 0);
	assert_int_equal(fails_naming("NUL byte in a comment", comment,
	    sizeof(comment) - 1, NULL, NULL), 0);

	/* The text before the NUL is fine on its own. */
	fake_env = NULL;
	assert_int_equal(sb_config_parse(&cfg, text, strlen(text),
	    fake_getenv, err, sizeof(err)), 0);
	assert_int_equal(cfg.workers, 4);
	sb_config_free(&cfg);
}

/* ---- SENTC_BACKEND_ADMIN_TOKEN ------------------------------------------ */

#define ADMIN		"adm-Qz7f2KpX9wLm4Rt8Vb1Nc6Hy3Jd5Gs0E"	/* 36 */
#define L_ADMIN		"SENTC_BACKEND_ADMIN_TOKEN=" ADMIN "\n"

/* Only its digest is kept (test_auth.c checks callers against it). */
static void
test_admin_token(void **state)
{
	unsigned char		 md[SB_ADMIN_DIGEST_LEN];
	unsigned int		 mdlen;
	struct sb_config	 cfg;
	const struct env	 empty[] = {
		{ "SENTC_BACKEND_ADMIN_TOKEN", "" }, { NULL, NULL }
	};
	char			 err[ERR_LEN];

	/* None configured: closed. */
	assert_int_equal(parse(&cfg, MINIMAL, NULL, err), 0);
	assert_false(cfg.admin_set);
	sb_config_free(&cfg);

	/* Set: only its digest is kept. */
	assert_int_equal(parse(&cfg, MINIMAL L_ADMIN, NULL, err), 0);
	assert_true(cfg.admin_set);
	assert_int_equal(EVP_Digest(ADMIN, strlen(ADMIN), md, &mdlen,
	    EVP_sha256(), NULL), 1);
	assert_memory_equal(cfg.admin_digest, md, sizeof(md));
	assert_null(memmem(&cfg, sizeof(cfg), ADMIN, strlen(ADMIN)));
	sb_config_free(&cfg);
	assert_false(cfg.admin_set);

	/* An empty value in the environment closes the routes again. */
	assert_int_equal(parse(&cfg, MINIMAL L_ADMIN, empty, err), 0);
	assert_false(cfg.admin_set);
	sb_config_free(&cfg);
}

/* A weak admin token is refused, naming the key and never the value. */
static void
test_admin_token_weak(void **state)
{
	static const struct {
		const char	*what, *value;
	} cases[] = {
		{ "31 characters", "Qz7f2KpX9wLm4Rt8Vb1Nc6Hy3Jd5Gs0" },
		{ "a space", "Qz7f2KpX9wLm4Rt8 Vb1Nc6Hy3Jd5Gs0E" },
		{ "one character", "tttttttttttttttttttttttttttttttttttttttt" },
		{ "seven characters", "abcdefgabcdefgabcdefgabcdefgabcdefg" },
		{ "the secret token", "sk-8f2b1c9e4d7a55e1-8f2b1c9e4d7a55e1" },
		{ "the public token", "pub-3a9d-Qz7f2KpX9wLm4Rt8Vb1Nc6Hy3Jd" },
	};
	struct env		 env[] = {
		{ "SENTC_SECRET_TOKEN", "sk-8f2b1c9e4d7a55e1-8f2b1c9e4d7a55e1" },
		{ "SENTC_PUBLIC_TOKEN", "pub-3a9d-Qz7f2KpX9wLm4Rt8Vb1Nc6Hy3Jd" },
		{ "SENTC_BACKEND_ADMIN_TOKEN", NULL },
		{ NULL, NULL }
	};
	static const char	 short_file[] = MINIMAL
	    "SENTC_BACKEND_ADMIN_TOKEN=short\n";
	struct sb_config	 cfg;
	char			 err[ERR_LEN];
	size_t			 i;
	int			 bad = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		env[2].value = cases[i].value;
		bad += fails_naming(cases[i].what, MINIMAL, strlen(MINIMAL), env,
		    "SENTC_BACKEND_ADMIN_TOKEN");
		fake_env = env;
		err[0] = '\0';
		(void)sb_config_parse(&cfg, MINIMAL, strlen(MINIMAL),
		    fake_getenv, err, sizeof(err));
		sb_config_free(&cfg);
		if (strstr(err, cases[i].value) != NULL) {
			print_error("%s: message holds the token\n",
			    cases[i].what);
			bad++;
		}
	}
	/* From the file too. */
	bad += fails_naming("short, in the file", short_file,
	    sizeof(short_file) - 1, NULL, "SENTC_BACKEND_ADMIN_TOKEN");
	assert_int_equal(bad, 0);
}

/* The cookie's keys, name and life, and the allowed origins. */
static void
test_cookie_keys(void **state)
{
	static const struct env	 env[] = {
		{ "SENTC_BACKEND_COOKIE_KEY", " " COOKIE_KEY2 " , " COOKIE_KEY },
		{ "SENTC_BACKEND_ALLOWED_ORIGINS", "https://app.example.com" },
		{ NULL, NULL }
	};
	struct sb_config	 cfg;
	char			 err[ERR_LEN];

	assert_int_equal(parse(&cfg, MINIMAL
	    "SENTC_BACKEND_COOKIE_KEY=" COOKIE_KEY "\n"
	    "SENTC_BACKEND_COOKIE_NAME=__Secure-refresh\n"
	    "SENTC_BACKEND_COOKIE_MAX_AGE=3600\n"
	    "SENTC_BACKEND_ALLOWED_ORIGINS=\"https://app.example.com, "
	    "http://localhost:8080\"\n", NULL, err), 0);
	assert_int_equal(sb_cookie_keys_count(cfg.cookie_keys), 1);
	assert_string_equal(cfg.cookie_name, "__Secure-refresh");
	assert_int_equal(cfg.cookie_max_age, 3600);
	assert_int_equal(sb_origins_count(cfg.allowed_origins), 2);
	assert_non_null(sb_origin_find(cfg.allowed_origins,
	    "http://localhost:8080"));
	sb_config_free(&cfg);
	assert_null(cfg.cookie_keys);
	assert_null(cfg.allowed_origins);
	assert_null(cfg.cookie_name);

	/* The environment overrides the file: two keys, one origin. */
	assert_int_equal(parse(&cfg, MINIMAL
	    "SENTC_BACKEND_COOKIE_KEY=" COOKIE_KEY "\n", env, err), 0);
	assert_int_equal(sb_cookie_keys_count(cfg.cookie_keys), 2);
	assert_int_equal(sb_origins_count(cfg.allowed_origins), 1);
	sb_config_free(&cfg);

	/* An empty value is no key at all (the cookie routes are closed). */
	assert_int_equal(parse(&cfg, MINIMAL "SENTC_BACKEND_COOKIE_KEY=\n",
	    NULL, err), 0);
	assert_null(cfg.cookie_keys);
	sb_config_free(&cfg);
}

/* A bad cookie key is named by its key and position, never shown. */
static void
test_cookie_key_never_in_message(void **state)
{
	static const char *const texts[] = {
		MINIMAL "SENTC_BACKEND_COOKIE_KEY=" COOKIE_KEY_31 "\n",
		MINIMAL "SENTC_BACKEND_COOKIE_KEY=" COOKIE_KEY "," COOKIE_KEY_31
		    "\n",
		MINIMAL "SENTC_BACKEND_COOKIE_KEY=" COOKIE_KEY "," COOKIE_KEY
		    "\n",
		MINIMAL "SENTC_BACKEND_COOKIE_KEY='" COOKIE_KEY "\n",
		MINIMAL "SENTC_BACKEND_COOKIE_KEY=" COOKIE_KEY "\x01\n",
	};
	struct sb_config	 cfg;
	char			 err[ERR_LEN];
	size_t			 i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(parse(&cfg, texts[i], NULL, err), -1);
		sb_config_free(&cfg);
		assert_non_null(strstr(err, "SENTC_BACKEND_COOKIE_KEY"));
		/* Not the key, nor a good part of it. */
		assert_null(strstr(err, "AAECAwQFBgcICQoL"));
	}
	assert_int_equal(parse(&cfg, texts[1], NULL, err), -1);
	sb_config_free(&cfg);
	assert_non_null(strstr(err, "key 2"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_crlf_file),
		cmocka_unit_test(test_api_url),
		cmocka_unit_test(test_env_overrides_file),
		cmocka_unit_test(test_env_only),
		cmocka_unit_test(test_db),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_numbers_extreme),
		cmocka_unit_test(test_sign_key_noted),
		cmocka_unit_test(test_token_kinds),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_bad_file),
		cmocka_unit_test(test_dashboard_env),
		cmocka_unit_test(test_unknown_keys_ignored),
		cmocka_unit_test(test_secret_never_in_message),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_admin_token),
		cmocka_unit_test(test_admin_token_weak),
		cmocka_unit_test(test_cookie_keys),
		cmocka_unit_test(test_cookie_key_never_in_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
