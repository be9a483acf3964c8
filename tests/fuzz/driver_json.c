/*
 * driver_json.c: sb_json_check(), sb_json_check_members() and
 * sb_json_int(), the one-pass reading of JSON that relays and envelopes
 * use, held against json-c.
 *
 * Input: byte 0 picks the depth (1 to 64), the rest is the text. What
 * check accepts, json-c's strict parser reads as a value of the type check
 * names, from exactly the span check gives, and sb_json_parse_depth()
 * accepts. Every member json-c finds in an object (ASCII names), the
 * checking pass finds too, with a span that parses to an equal value; a
 * name json-c lacks, it lacks. An integer reads as json_object_get_int64()
 * reads it. What check refuses, sb_json_parse_depth() refuses; and if
 * json-c took it, the text breaks one of the rules json-c's strict mode
 * lets pass (a control byte, a single quote, NaN or Infinity, a number
 * with a leading zero or a dot or exponent without digits, nesting past the depth, an integer past 64 bits, a NUL, bad
 * UTF-8).
 */
#include "fuzz.h"
#include "extern.h"

/* json-c's own reading: true with *out if it takes all of s[0..len). */
static bool
json_c(const char *s, size_t len, json_object **out)
{
	json_tokener	*jc;
	size_t		 end;
	bool		 ok = false;

	*out = NULL;
	if (len == 0 || len > INT32_MAX ||
	    (jc = json_tokener_new_ex(SB_JSON_DEPTH + 8)) == NULL)
		return false;
	json_tokener_set_flags(jc, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	*out = json_tokener_parse_ex(jc, s, (int)len);
	end = json_tokener_get_parse_end(jc);
	if (*out == NULL && json_tokener_get_error(jc) == json_tokener_continue)
		*out = json_tokener_parse_ex(jc, "", 1), end = len;
	if (json_tokener_get_error(jc) == json_tokener_success) {
		while (end < len && strchr(" \t\r\n", s[end]) && s[end])
			end++;
		ok = end == len;
	}
	json_tokener_free(jc);
	if (!ok) {
		json_object_put(*out);
		*out = NULL;
	}
	return ok;
}

static bool
isdig(const char *s, size_t i, size_t len)
{
	return i < len && s[i] >= '0' && s[i] <= '9';
}

/*
 * Does a number json-c takes but RFC 8259 does not start or end at s[i]:
 * a minus without a digit, a dot without a digit before or after it, an
 * exponent without digits, a 0 that starts an integer part with a digit
 * after it?
 */
static bool
loose_number(const char *s, size_t i, size_t len)
{
	char	 prev = i > 0 ? s[i - 1] : ' ';

	if ((s[i] == '-' && !isdig(s, i + 1, len)) ||
	    (s[i] == '.' && (i == 0 || !isdig(s, i - 1, len))))
		return true;
	if (isdig(s, i, len) && i + 1 < len && (s[i + 1] == '.' ||
	    (s[i + 1] | 0x20) == 'e'))
		return !isdig(s, i + 2, len) && !(s[i + 1] != '.' &&
		    i + 2 < len && (s[i + 2] == '+' || s[i + 2] == '-') &&
		    isdig(s, i + 3, len));
	if (s[i] != '0' || !isdig(s, i + 1, len))
		return false;
	if (prev == '-')
		return i < 2 || (s[i - 2] != 'e' && s[i - 2] != 'E');
	return strchr("0123456789.eE+", prev) == NULL || prev == '\0';
}

/* A name json-c keeps whole and sb_json_get() can be asked for. */
static bool
ascii_name(const char *k)
{
	for (; *k != '\0'; k++)
		if (*k < 0x20 || *k > 0x7e)
			return false;
	return true;
}

/* The member name of the text's top value, read in the checking pass. */
static struct sb_json_member
member(const char *s, size_t len, int depth, const char *name)
{
	struct sb_json_member	 m = { .name = name };

	FUZZ_CHECK(sb_json_check_members(s, len, depth, NULL, &m, 1) == SB_OK,
	    "a text check took is refused when members are read");
	return m;
}

static void
members(const char *s, size_t len, json_object *obj, int depth)
{
	struct sb_json_member	 m;
	json_object		*got, *want;
	/* json-c cuts a name at an escaped NUL; the pass reads it whole. */
	bool			 nul = memmem(s, len, "\\u0000", 6) != NULL;

	json_object_object_foreach(obj, key, val) {
		if (!ascii_name(key) || nul)
			continue;
		m = member(s, len, depth, key);
		FUZZ_CHECK(m.n >= 1, "member \"%s\" not found", key);
		FUZZ_CHECK(sb_json_parse_depth(m.v.p, m.v.len, depth, &got) ==
		    SB_OK, "member \"%s\": its span does not parse", key);
		want = val;
		FUZZ_CHECK(json_object_equal(got, want),
		    "member \"%s\": the span is another value", key);
		FUZZ_CHECK(json_object_get_type(want) == m.v.type,
		    "member \"%s\": type %d, json-c %d", key, (int)m.v.type,
		    (int)json_object_get_type(want));
		json_object_put(got);
	}
	FUZZ_CHECK(nul || (member(s, len, depth, "status").n > 0) ==
	    json_object_object_get_ex(obj, "status", NULL),
	    "\"status\": found where json-c has none, or missed");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_json_span	 top;
	json_object		*obj, *mine;
	const char		*s = (const char *)data + 1;
	size_t			 len, i;
	int64_t			 n;
	int			 depth;
	bool			 took, lenient = false;

	if (size < 1)
		return 0;
	depth = 1 + data[0] % SB_JSON_DEPTH;
	len = size - 1;

	took = json_c(s, len, &obj);
	if (sb_json_check(s, len, depth, &top) != SB_OK) {
		FUZZ_CHECK(sb_json_parse_depth(s, len, depth, &mine) != SB_OK &&
		    mine == NULL, "refused by the check, parsed all the same");
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == '\'' ||
			    s[i] == 'N' || s[i] == 'I' || loose_number(s, i, len))
				lenient = true;
		FUZZ_CHECK(!took || lenient ||
		    fuzz_nesting(s, len) > depth ||
		    !fuzz_ints_fit(s, len) ||
		    !fuzz_utf8_ok((const unsigned char *)s, len),
		    "refused what RFC 8259 allows: %.*s", (int)len, s);
		json_object_put(obj);
		return 0;
	}

	FUZZ_CHECK(took, "accepted what json-c refuses: %.*s", (int)len, s);
	FUZZ_CHECK(fuzz_utf8_ok((const unsigned char *)s, len) &&
	    fuzz_nesting(s, len) <= depth && fuzz_ints_fit(s, len),
	    "accepted bad UTF-8, deep nesting or a clamped integer");
	FUZZ_CHECK(top.p >= s && top.p + top.len <= s + len && top.len > 0,
	    "span outside the text");
	for (i = 0; s + i < top.p; i++)
		FUZZ_CHECK(strchr(" \t\r\n", s[i]) && s[i], "span after a value");
	FUZZ_CHECK(json_object_get_type(obj) == top.type, "type %d, json-c %d",
	    (int)top.type, (int)json_object_get_type(obj));
	FUZZ_CHECK(sb_json_parse_depth(s, len, depth, &mine) == SB_OK &&
	    json_object_equal(mine, obj), "checked, then parsed otherwise");
	json_object_put(mine);

	if (top.type == json_type_object)
		members(s, len, obj, depth);
	else
		FUZZ_CHECK(member(s, len, depth, "status").n == 0,
		    "a member of a non-object");
	if (top.type == json_type_int) {
		FUZZ_CHECK(sb_json_int(&top, &n) &&
		    n == json_object_get_int64(obj), "integer %lld, json-c %lld",
		    (long long)n, (long long)json_object_get_int64(obj));
	} else
		FUZZ_CHECK(!sb_json_int(&top, &n), "an integer of type %d",
		    (int)top.type);
	json_object_put(obj);
	return 0;
}
