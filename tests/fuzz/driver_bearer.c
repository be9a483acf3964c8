/*
 * driver_bearer.c: sb_bearer(), the Authorization header.
 *
 * Input: the header value. An independent reading of the rule (scheme
 * "Bearer" in any case, one or more spaces, a token without white space)
 * says what the answer must be; a token found must lie inside the header
 * and run to its end.
 */
#include <strings.h>

#include "fuzz.h"
#include "extern.h"

static enum sb_err
oracle(const char *h, size_t *off)
{
	size_t	 i;

	if (strlen(h) < 6 || strncasecmp(h, "bearer", 6) != 0)
		return SB_ERR_JWT_MISSING;
	for (i = 6; h[i] == ' '; i++)
		continue;
	if (i == 6 || h[i] == '\0')
		return SB_ERR_JWT_MISSING;
	*off = i;
	if (strpbrk(h + i, " \t") != NULL)
		return SB_ERR_JWT_FORMAT;
	return SB_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*h = fuzz_cstr(data, size);
	const char	*tok = NULL;
	size_t		 len = 0, off = 0, hlen = strlen(h);
	enum sb_err	 e, want;

	e = sb_bearer(h, &tok, &len);
	want = oracle(h, &off);
	FUZZ_CHECK(e == want, "got %d, want %d", (int)e, (int)want);
	if (e == SB_OK) {
		FUZZ_CHECK(tok == h + off, "token at %td, want %zu",
		    tok - h, off);
		FUZZ_CHECK(len > 0 && tok + len == h + hlen,
		    "token does not run to the end of the header");
		FUZZ_CHECK(memchr(tok, ' ', len) == NULL &&
		    memchr(tok, '\t', len) == NULL, "white space in the token");
	}
	free(h);
	return 0;
}
