/*
 * unit.h: what the unit tests of tests/unit share: the headers cmocka
 * needs, and the helpers that report a table row that went wrong.
 */
#ifndef SB_TEST_UNIT_H
#define SB_TEST_UNIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define UUID	"0f8fad5b-d9cb-469f-a165-70867728950e"
#define UUID_UC	"0F8FAD5B-D9CB-469F-A165-70867728950E"
#define UUID2	"7c9e6679-7425-40de-944b-e07fc1f90ae7"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* s with control and non-ASCII bytes escaped, for messages. */
static inline const char *
esc(const char *s)
{
	static char	 buf[256];
	size_t		 n = 0;

	for (; *s != '\0' && n + 5 < sizeof(buf); s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "\\x%02x", (unsigned char)*s);
		else
			buf[n++] = *s;
	buf[n] = '\0';
	return buf;
}

/* Reports a table row that went wrong; returns 1 if it did. */
static inline int
differs(const char *what, long got, long want)
{
	if (got == want)
		return 0;
	print_error("\"%s\": got %ld, want %ld\n", esc(what), got, want);
	return 1;
}

#endif
