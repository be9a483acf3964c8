/*
 * test_util.c: lib/sb_util.c: UUIDs, base64 and base64url, numbers,
 * and the text a user may choose (names, labels).
 */
#include "unit.h"

#include "extern.h"

/* ---- sb_is_uuid -------------------------------------------------------- */

static void
test_is_uuid(void **state)
{
	static const struct {
		const char	*s;
		bool		 want;
	} cases[] = {
		{ UUID, true },
		{ UUID_UC, true },
		{ "0f8FAD5b-d9cb-469f-A165-70867728950e", true },
		{ "00000000-0000-0000-0000-000000000000", true },
		{ "", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950", false },
		{ UUID "0", false },
		{ "0f8fad5bd9cb-469f-a165-70867728950e0", false },
		{ "0f8fad5b-d9cb-469f-a165_70867728950e", false },
		{ "0f8fad5g-d9cb-469f-a165-70867728950e", false },
		{ "0f8fad5b-d9cb-469f-a165-70867728950 ", false },
		{ " 0f8fad5b-d9cb-469f-a165-7086772895e", false },
		{ "{0f8fad5b-d9cb-469f-a165-7086772895}", false },
		{ "0f8fad5b0d9cb0469f0a165070867728950e", false },
		{ "--------------------------------------", false },
	};
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += differs(cases[i].s, sb_is_uuid(cases[i].s,
		    strlen(cases[i].s)), cases[i].want);
	/* A NUL where a digit belongs. */
	bad += differs("NUL inside", sb_is_uuid("0f8fad5b-d9cb-469f-a165-"
	    "7086772895\0e", SB_ID_LEN), false);
	assert_int_equal(bad, 0);
}

/* ---- base64 ------------------------------------------------------------ */

/* RFC 4648, section 10. */
static const struct {
	const char	*plain, *b64, *b64url;
} vectors[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void
test_b64_vectors(void **state)
{
	unsigned char	 out[16];
	char		 enc[16];
	size_t		 i, len;

	for (i = 0; i < NELEM(vectors); i++) {
		len = strlen(vectors[i].plain);
		memset(out, 0, sizeof(out));
		assert_int_equal(sb_b64_decode(vectors[i].b64,
		    strlen(vectors[i].b64), out, sizeof(out)), (long)len);
		assert_memory_equal(out, vectors[i].plain, len);

		memset(out, 0, sizeof(out));
		assert_int_equal(sb_b64url_decode(vectors[i].b64url,
		    strlen(vectors[i].b64url), out, sizeof(out)), (long)len);
		assert_memory_equal(out, vectors[i].plain, len);

		assert_int_equal(sb_b64url_encode((const unsigned char *)
		    vectors[i].plain, len, enc, sizeof(enc)),
		    (long)strlen(vectors[i].b64url));
		assert_string_equal(enc, vectors[i].b64url);
	}
}

/* Every length, and every byte value, survives a round trip. */
static void
test_b64url_round_trip(void **state)
{
	unsigned char	 in[300], out[300];
	char		 enc[410];
	size_t		 i, len;
	long		 n;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (len = 0; len <= sizeof(in); len++) {
		n = sb_b64url_encode(in, len, enc, sizeof(enc));
		assert_int_equal(n, (long)((len * 4 + 2) / 3));
		assert_int_equal(strlen(enc), (size_t)n);
		assert_null(strpbrk(enc, "+/="));
		assert_int_equal(sb_b64url_decode(enc, (size_t)n, out,
		    sizeof(out)), (long)len);
		assert_memory_equal(out, in, len);
	}
	/* The two alphabets differ at 62 and 63. */
	in[0] = 0xfb, in[1] = 0xff;
	assert_int_equal(sb_b64url_encode(in, 2, enc, sizeof(enc)), 3);
	assert_string_equal(enc, "-_8");
	assert_int_equal(sb_b64_decode("+/8=", 4, out, sizeof(out)), 2);
	assert_memory_equal(out, in, 2);
}

static void
test_b64_rejects(void **state)
{
	static const char *const std[] = {
		"Zg",		/* padding required */
		"Zg=",		/* length not a multiple of 4 */
		"Zg===",
		"Z===",		/* one character holds no byte */
		"====",
		"Zh==",		/* leftover bits not zero */
		"Zm9=",
		"Zg==Zg==",	/* padding inside */
		"Zg=A",
		"Zm9v\n",
		"Zm 9",
		"Zm9-",		/* base64url alphabet */
		"Zm9_",
		"Zm9\xff",
	};
	static const char *const url[] = {
		"Zg==",		/* no padding in base64url */
		"Zg=",
		"Z",
		"Zm9vY",
		"Zh",		/* leftover bits not zero */
		"Zm9",
		"Zm9+",		/* standard alphabet */
		"Zm9/",
		"Zm9v ",
		"Zm9\x80",
	};
	unsigned char	 out[16];
	size_t		 i;
	int		 bad = 0;

	for (i = 0; i < NELEM(std); i++)
		bad += differs(std[i], sb_b64_decode(std[i], strlen(std[i]),
		    out, sizeof(out)), -1);
	for (i = 0; i < NELEM(url); i++)
		bad += differs(url[i], sb_b64url_decode(url[i], strlen(url[i]),
		    out, sizeof(out)), -1);
	bad += differs("NUL inside", sb_b64url_decode("Zm\0v", 4, out,
	    sizeof(out)), -1);
	assert_int_equal(bad, 0);
}

static void
test_b64_output_too_small(void **state)
{
	unsigned char	 out[8];
	char		 enc[8];

	/* Nothing is written past outsz. */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(sb_b64_decode("Zm9vYmFy", 8, out, 5), -1);
	assert_int_equal(out[5], 0xee);
	assert_int_equal(sb_b64_decode("Zm9vYmFy", 8, out, 6), 6);
	assert_int_equal(sb_b64url_decode("Zm9vYg", 6, out, 3), -1);
	assert_int_equal(sb_b64url_decode("Zm9vYg", 6, out, 4), 4);
	assert_int_equal(sb_b64url_decode("Zg", 2, out, 0), -1);

	/* Encoding needs room for the NUL. */
	memset(enc, 0xee, sizeof(enc));
	assert_int_equal(sb_b64url_encode((const unsigned char *)"foo", 3,
	    enc, 4), -1);
	assert_int_equal((unsigned char)enc[4], 0xee);
	assert_int_equal(sb_b64url_encode((const unsigned char *)"foo", 3,
	    enc, 5), 4);
	assert_string_equal(enc, "Zm9v");
	assert_int_equal(sb_b64url_encode((const unsigned char *)"", 0,
	    enc, 0), -1);
}

/* ---- sb_parse_long ----------------------------------------------------- */

static void
test_parse_long(void **state)
{
	static const struct {
		const char	*s;
		long		 min, max;
		int		 rc;
		long		 want;
	} cases[] = {
		{ "0", 0, 10, 0, 0 },
		{ "7", 0, 10, 0, 7 },
		{ "10", 0, 10, 0, 10 },
		{ "-5", -10, 10, 0, -5 },
		{ "-10", -10, 10, 0, -10 },
		{ "0010", 0, 10, 0, 10 },
		{ "9223372036854775807", 0, LONG_MAX, 0, LONG_MAX },
		{ "11", 0, 10, -1, 0 },
		{ "-1", 0, 10, -1, 0 },
		{ "-11", -10, 10, -1, 0 },
		{ "", 0, 10, -1, 0 },
		{ "-", 0, 10, -1, 0 },
		{ "+1", 0, 10, -1, 0 },
		{ " 1", 0, 10, -1, 0 },
		{ "1 ", 0, 10, -1, 0 },
		{ "1x", 0, 10, -1, 0 },
		{ "x1", 0, 10, -1, 0 },
		{ "1.0", 0, 10, -1, 0 },
		{ "0x1", 0, 10, -1, 0 },
		{ "1e1", 0, 100, -1, 0 },
		{ "9223372036854775808", 0, LONG_MAX, -1, 0 },
		{ "-9223372036854775809", LONG_MIN, 0, -1, 0 },
		{ "99999999999999999999999", 0, LONG_MAX, -1, 0 },
		/* strtol(3) skips all leading white space, not only ' '. */
		{ "\t1", 0, 10, -1, 0 },
		{ "\n1", 0, 10, -1, 0 },
		{ "\r\n1", 0, 10, -1, 0 },
		{ "\v+1", 0, 10, -1, 0 },
	};
	size_t	 i;
	long	 n;
	int	 rc, bad = 0;

	for (i = 0; i < NELEM(cases); i++) {
		n = -12345;
		rc = sb_parse_long(cases[i].s, cases[i].min, cases[i].max, &n);
		bad += differs(cases[i].s, rc, cases[i].rc);
		if (rc == 0 && cases[i].rc == 0)
			bad += differs(cases[i].s, n, cases[i].want);
	}
	assert_int_equal(bad, 0);
}

/* ---- sb_valid_text ----------------------------------------------------- */

static void
test_valid_text(void **state)
{
	static const struct {
		const char	*s;
		size_t		 max;
		bool		 want;
	} cases[] = {
		{ "alice", 16, true },
		{ "alice@example.com", 64, true },
		{ "Zoë Å 名前 \xf0\x9f\x94\x91", 64, true },	/* UTF-8 */
		{ "a b", 16, true },
		{ "exactly8", 8, true },
		{ "nine char", 8, false },
		{ "", 16, false },
		{ "tab\there", 16, false },
		{ "new\nline", 16, false },
		{ "cr\r", 16, false },
		{ "esc\x1b[2J", 16, false },
		{ "del\x7f", 16, false },
		{ "nel\xc2\x85", 16, false },		/* U+0085 */
		{ "c1\xc2\x80", 16, false },		/* U+0080 */
		{ "c1\xc2\x9f", 16, false },		/* U+009F */
		{ "nbsp\xc2\xa0", 16, true },		/* U+00A0: not a control */
		{ "\xc2", 16, true },			/* alone: the parser's */
	};
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < NELEM(cases); i++)
		bad += differs(cases[i].s, sb_valid_text(cases[i].s,
		    strlen(cases[i].s), cases[i].max), cases[i].want);
	/* A NUL inside, as "\u0000" in JSON gives it. */
	bad += differs("NUL inside", sb_valid_text("ab\0cd", 5, 16), false);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_uuid),
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64url_round_trip),
		cmocka_unit_test(test_b64_rejects),
		cmocka_unit_test(test_b64_output_too_small),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_valid_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
