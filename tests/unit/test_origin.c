/*
 * test_origin.c: lib/sb_origin.c: the allowed origins (their form, the
 * list, the lookup) and what the serve loop does with a request's Origin:
 * the CORS headers of an answer, the answer to a preflight, and the
 * check of the cookie routes.
 */
#include "fake.h"

#include "extern.h"

#define APP	"https://app.example.com"
#define DEV	"http://localhost:8080"

/* ---- sb_origin_valid, sb_origins_parse, sb_origin_find ------------------ */

static void
test_origin_valid(void **state)
{
	static const char *const good[] = {
		"https://app.example.com", "http://127.0.0.1:8080",
		"http://localhost:3000", "https://a.b-c.example:8443",
		"http://[::1]:8080", "https://x", "https://xn--bcher-kva.example",
		"http://localhost:65535",
	};
	static const char *const bad[] = {
		"", "null", "*", "app.example.com", "https://", "http://:80",
		"https://app.example.com/", "https://app.example.com/path",
		"https://APP.example.com", "HTTPS://app.example.com",
		"ftp://app.example.com", "https://app.example.com:443",
		"http://app.example.com:80", "https://app.example.com:0",
		"https://app.example.com:08080", "https://app.example.com:65536",
		"https://app.example.com:123456", "https://app.example.com:",
		"https://user@app.example.com", "https://app.example.com?x",
		"https://app.example.com#x", "https://app example.com",
		"https://.example.com", "https://example.com.",
		"https://-example.com", "http://[::1", "http://[]",
		"http://[::G]", "https://app.example.com:8a",
		"https://*.example.com",
	};
	size_t	 i;
	int	 wrong = 0;

	for (i = 0; i < NELEM(good); i++)
		if (!sb_origin_valid(good[i], strlen(good[i]))) {
			print_error("\"%s\" refused\n", good[i]);
			wrong++;
		}
	for (i = 0; i < NELEM(bad); i++)
		if (sb_origin_valid(bad[i], strlen(bad[i]))) {
			print_error("\"%s\" accepted\n", bad[i]);
			wrong++;
		}
	assert_int_equal(wrong, 0);
}

static void
test_origins(void **state)
{
	static const char *const refused[] = {
		"https://app.example.com.evil.example", "https://app.example.co",
		"https://pp.example.com", "https://app.example.com/",
		"http://app.example.com", "https://app.example.com:443",
		"null", "", "https://APP.EXAMPLE.COM", "https://app.example.comx",
		"https://app.example.com ", " https://app.example.com",
		"https://app.example.com, https://api.example.com",
		"*",
	};
	struct sb_origins	*os;
	char			 err[256];
	size_t			 i;
	int			 wrong = 0;

	os = sb_origins_parse(" https://app.example.com ,http://localhost:8080",
	    err, sizeof(err));
	assert_non_null(os);
	assert_int_equal(sb_origins_count(os), 2);
	assert_string_equal(sb_origin_find(os, "https://app.example.com"),
	    "https://app.example.com");
	assert_string_equal(sb_origin_find(os, "http://localhost:8080"),
	    "http://localhost:8080");
	for (i = 0; i < NELEM(refused); i++)
		if (sb_origin_find(os, refused[i]) != NULL) {
			print_error("\"%s\" allowed\n", refused[i]);
			wrong++;
		}
	assert_int_equal(wrong, 0);
	assert_null(sb_origin_find(os, NULL));
	sb_origins_free(os);

	/* None listed: nothing is allowed. */
	snprintf(err, sizeof(err), "x");
	assert_null(sb_origins_parse("", err, sizeof(err)));
	assert_string_equal(err, "");
	assert_null(sb_origin_find(NULL, "https://app.example.com"));

	/* A bad entry: the message names the key and the entry. */
	assert_null(sb_origins_parse("https://a.example,https://b.example/",
	    err, sizeof(err)));
	assert_non_null(strstr(err, "SENTC_BACKEND_ALLOWED_ORIGINS"));
	assert_non_null(strstr(err, "https://b.example/"));
	assert_null(sb_origins_parse("https://a.example,,https://b.example",
	    err, sizeof(err)));
	assert_null(sb_origins_parse("https://a.example,", err, sizeof(err)));
	assert_null(sb_origins_parse("*", err, sizeof(err)));
	assert_null(sb_origins_parse("null", err, sizeof(err)));
}

static void
test_origins_max(void **state)
{
	char			 spec[4096], err[256];
	struct sb_origins	*os;
	size_t			 n = 0;
	int			 i;

	for (i = 0; i < SB_ORIGINS_MAX; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n,
		    "%shttps://h%d.example", i ? "," : "", i);
	os = sb_origins_parse(spec, err, sizeof(err));
	assert_non_null(os);
	assert_int_equal(sb_origins_count(os), SB_ORIGINS_MAX);
	assert_non_null(sb_origin_find(os, "https://h31.example"));
	sb_origins_free(os);
	snprintf(spec + n, sizeof(spec) - n, ",https://one-more.example");
	assert_null(sb_origins_parse(spec, err, sizeof(err)));
	assert_non_null(strstr(err, "more than"));
}

/* ---- CORS, the preflight and the check, on a request ------------------- */

static struct sb_config	 cfg;
static struct sb_fcgi_req fr;
static struct sb_req	 req;

/* A route of one pattern that takes GET and POST. */
static const struct sb_route route = {
	.name = "unit",
	.paths = { { "/unit", SB_M(SB_GET) | SB_M(SB_POST) }, { NULL, 0 } },
};

/* The config lists APP and DEV, or nothing if list is NULL. */
static void
origins(const char *list)
{
	char	 line[256];

	snprintf(line, sizeof(line), "SENTC_BACKEND_ALLOWED_ORIGINS=%s\n",
	    list != NULL ? list : "");
	fake_config(&cfg, 0, NULL, line);
}

/* A request to the route with params as its FastCGI parameters. */
static void
request(char **params)
{
	fake_req(&req, &fr, params);
	req.route = &route;
	req.pattern = 0;
}

static void
done(void)
{
	fake_req_again(&req);
	sb_config_free(&cfg);
	sb_cfg = NULL;
}

/* The answer's header name, or "" if it has none. */
static const char *
hdr(const char *name)
{
	static char	 v[512];

	reply_header(&req, name, v, sizeof(v));
	return v;
}

/* CORS: Vary always; the listed origin itself back, never another. */
static void
test_cors(void **state)
{
	static char	 app[] = "HTTP_ORIGIN=" APP;
	static char	 dev[] = "HTTP_ORIGIN=" DEV;
	static char	 evil[] = "HTTP_ORIGIN=https://app.example.com.evil.example";
	static char	 null[] = "HTTP_ORIGIN=null";
	char		*with_app[] = { app, NULL }, *with_dev[] = { dev, NULL };
	char		*refused[][3] = { { evil, NULL }, { null, NULL },
			    { app, dev, NULL }, { NULL } };
	size_t		 i;

	origins(APP "," DEV);
	request(with_app);
	sb_origin_cors(&req);
	sb_reply_raw(&req, 200, "application/json", "{}", 2);
	assert_string_equal(hdr("Vary"), "Origin");
	assert_string_equal(hdr("Access-Control-Allow-Origin"), APP);
	assert_string_equal(hdr("Access-Control-Allow-Credentials"), "true");
	fake_req_again(&req);

	request(with_dev);
	sb_origin_cors(&req);
	sb_reply_raw(&req, 200, "application/json", "{}", 2);
	assert_string_equal(hdr("Access-Control-Allow-Origin"), DEV);
	fake_req_again(&req);

	/* Not listed, "null", sent twice, or none: no CORS header at all. */
	for (i = 0; i < NELEM(refused); i++) {
		request(refused[i]);
		sb_origin_cors(&req);
		sb_reply_raw(&req, 200, "application/json", "{}", 2);
		assert_string_equal(hdr("Vary"), "Origin");
		assert_string_equal(hdr("Access-Control-Allow-Origin"), "");
		assert_string_equal(hdr("Access-Control-Allow-Credentials"),
		    "");
		fake_req_again(&req);
	}
	done();

	/* No list: no origin is allowed. */
	origins(NULL);
	request(with_app);
	sb_origin_cors(&req);
	sb_reply_raw(&req, 200, "application/json", "{}", 2);
	assert_string_equal(hdr("Vary"), "Origin");
	assert_string_equal(hdr("Access-Control-Allow-Origin"), "");
	done();
}

static void
test_preflight(void **state)
{
	static char	 app[] = "HTTP_ORIGIN=" APP;
	static char	 evil[] = "HTTP_ORIGIN=https://evil.example";
	static char	 ctl[] = "HTTP_ORIGIN=" APP "\x01";
	char		*with_app[] = { app, NULL }, *none[] = { NULL };
	char		*refused[][3] = { { evil, NULL }, { app, app, NULL },
			    { ctl, NULL } };
	size_t		 i;

	origins(APP);
	/* A listed origin: the route's methods, HEAD with GET. */
	request(with_app);
	sb_origin_preflight(&req);
	assert_int_equal(req.status, 204);
	assert_string_equal(hdr("Access-Control-Allow-Methods"),
	    "GET, HEAD, POST");
	assert_string_equal(hdr("Access-Control-Allow-Headers"),
	    SB_CORS_HEADERS);
	assert_string_equal(hdr("Access-Control-Max-Age"), SB_CORS_MAX_AGE);
	fake_req_again(&req);

	/* No Origin: not a CORS preflight, what the route allows. */
	request(none);
	sb_origin_preflight(&req);
	assert_int_equal(req.status, 204);
	assert_string_equal(hdr("Allow"), "GET, HEAD, POST");
	assert_string_equal(hdr("Access-Control-Allow-Methods"), "");
	fake_req_again(&req);

	/* Not listed, twice, or malformed: 403, SB_ERR_ORIGIN, no CORS. */
	for (i = 0; i < NELEM(refused); i++) {
		request(refused[i]);
		sb_origin_preflight(&req);
		assert_int_equal(req.status, sb_err_status(SB_ERR_ORIGIN));
		assert_int_equal(reply_int(&req, "err_code"),
		    sb_err_code(SB_ERR_ORIGIN));
		assert_string_equal(hdr("Access-Control-Allow-Methods"), "");
		assert_string_equal(hdr("Access-Control-Allow-Origin"), "");
		fake_req_again(&req);
	}
	done();
}

/* The cookie routes: no Origin or a listed one passes, with no answer. */
static void
test_check(void **state)
{
	static char	 app[] = "HTTP_ORIGIN=" APP;
	static char	 evil[] = "HTTP_ORIGIN=https://app.example.co";
	static char	 null[] = "HTTP_ORIGIN=null";
	char		*pass[][2] = { { app, NULL }, { NULL } };
	char		*refused[][3] = { { evil, NULL }, { null, NULL },
			    { app, app, NULL } };
	size_t		 i;

	origins(APP);
	for (i = 0; i < NELEM(pass); i++) {
		request(pass[i]);
		assert_int_equal(sb_origin_check(&req), 0);
		assert_int_equal(req.status, 0);
		assert_null(req.out);
	}
	for (i = 0; i < NELEM(refused); i++) {
		request(refused[i]);
		assert_int_equal(sb_origin_check(&req), -1);
		assert_int_equal(req.status, 403);
		assert_int_equal(reply_int(&req, "err_code"),
		    sb_err_code(SB_ERR_ORIGIN));
		fake_req_again(&req);
	}
	done();

	/* No list: only a request without Origin passes. */
	origins(NULL);
	request(pass[0]);
	assert_int_equal(sb_origin_check(&req), -1);
	fake_req_again(&req);
	request(pass[1]);
	assert_int_equal(sb_origin_check(&req), 0);
	done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_valid),
		cmocka_unit_test(test_origins),
		cmocka_unit_test(test_origins_max),
		cmocka_unit_test(test_cors),
		cmocka_unit_test(test_preflight),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
