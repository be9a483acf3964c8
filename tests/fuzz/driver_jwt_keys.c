/*
 * driver_jwt_keys.c: sb_jwt_keys_parse(), SENTC_JWT_VERIFY_KEY.
 *
 * Input: the default key id (SENTC_JWT_KEY_ID) up to the first newline,
 * then the key list; without a newline, the whole input is the list and
 * there is no default id. An accepted set holds one key per entry of
 * the list, at most 16; a refusal says why in a printable message.
 */
#include "fuzz.h"
#include "extern.h"

/* Entries of the list: runs between commas, spaces and tabs. */
static size_t
entries(const char *s)
{
	size_t	 n = 0;

	while (*s != '\0') {
		s += strspn(s, ", \t");
		if (*s == '\0')
			break;
		n++;
		s += strcspn(s, ", \t");
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_jwt_keys	*ks;
	char			*in = fuzz_cstr(data, size), *nl, *spec, *kid;
	char			 err[256];
	size_t			 n, elen;

	if ((nl = strchr(in, '\n')) != NULL) {
		*nl = '\0';
		kid = in;
		spec = nl + 1;
	} else {
		kid = NULL;
		spec = in;
	}
	memset(err, 'X', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	ks = sb_jwt_keys_parse(spec, kid, err, sizeof(err));
	n = entries(spec);
	if (ks != NULL) {
		FUZZ_CHECK(sb_jwt_keys_count(ks) == n,
		    "%zu keys from %zu entries", sb_jwt_keys_count(ks), n);
		FUZZ_CHECK(n >= 1 && n <= 16, "%zu keys accepted", n);
		sb_jwt_keys_free(ks);
	} else {
		elen = strlen(err);
		FUZZ_CHECK(elen > 0 && elen < sizeof(err) - 1 &&
		    err[0] != 'X', "no message for a refusal");
		FUZZ_CHECK(fuzz_printable(err, elen), "message: %s", err);
	}
	free(in);
	return 0;
}
