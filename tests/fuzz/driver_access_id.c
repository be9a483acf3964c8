/*
 * driver_access_id.c: sb_group_access_valid(), the x-sentc-group-access-id
 * header an SDK sends on group routes, which the programs relay to sentc
 * and make part of the access cache's key.
 *
 * Input: the header value, NUL bytes and all. An independent reading of
 * the rule, a POSIX regular expression (8-4-4-4-12 hex digits, the
 * version digit 4 or 7), says what the answer must be; an accepted id
 * holds no byte a request head could not carry.
 */
#include <regex.h>
#include <stdbool.h>

#include "fuzz.h"
#include "extern.h"

static regex_t	 re;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (regcomp(&re, "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[47][0-9a-fA-F]{3}-"
	    "[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", REG_EXTENDED | REG_NOSUB) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s = fuzz_cstr(data, size);
	bool	 got, want;
	size_t	 i;

	got = sb_group_access_valid(s, size);
	/* The regex reads up to a NUL: a NUL inside is no id. */
	want = memchr(data, '\0', size) == NULL &&
	    regexec(&re, s, 0, NULL, 0) == 0;
	FUZZ_CHECK(got == want, "got %d, want %d (%zu bytes)", got, want,
	    size);
	if (got)
		for (i = 0; i < size; i++)
			FUZZ_CHECK(data[i] > 0x20 && data[i] < 0x7f,
			    "byte %zu is 0x%02x", i, data[i]);
	free(s);
	return 0;
}
