/*
 * driver_request_id.c: sb_req_id_valid(), the X-Request-Id header that a
 * client or a front proxy sends, which the programs echo in the answer,
 * send to sentc and write into every log line.
 *
 * Input: the header value, NUL bytes and all. An independent reading of
 * the rule (1 to SB_RID_MAX bytes, each visible ASCII, none a quote or a
 * backslash) says what the answer must be; an accepted id must also be a
 * header value the answer can carry.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "extern.h"

static bool
oracle(const uint8_t *s, size_t len)
{
	size_t	 i;

	if (len < 1 || len > SB_RID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s = fuzz_cstr(data, size);
	struct sb_req	*req;
	bool		 got, want;

	got = sb_req_id_valid(s, size);
	want = oracle(data, size);
	FUZZ_CHECK(got == want, "got %d, want %d (%zu bytes)", got, want,
	    size);
	if (got) {
		if ((req = calloc(1, sizeof(*req))) == NULL)
			abort();
		FUZZ_CHECK(sb_reply_header(req, "X-Request-Id", s) == 0,
		    "an accepted id is no header value");
		FUZZ_CHECK(req->hdrslen == size + sizeof("X-Request-Id: \r\n") - 1,
		    "the header holds %zu bytes", req->hdrslen);
		free(req);
	}
	free(s);
	return 0;
}
