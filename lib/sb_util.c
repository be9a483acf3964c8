#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "extern.h"

bool
sb_printable(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

bool
sb_valid_text(const char *s, size_t len, size_t max)
{
	size_t	 i;

	if (len == 0 || len > max || !sb_printable(s, len))
		return false;
	for (i = 0; i + 1 < len; i++)
		if ((unsigned char)s[i] == 0xc2 &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return false;
	return true;
}

bool
sb_is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

int
sb_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
sb_is_uuid(const char *s, size_t len)
{
	size_t	 i;

	if (len != SB_ID_LEN)
		return false;
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (sb_hexval(s[i]) < 0)
			return false;
	}
	return true;
}

int
sb_parse_long(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 n;

	/* strtol(3) would skip white space and take a '+'. */
	if (!(s[0] >= '0' && s[0] <= '9') &&
	    !(s[0] == '-' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int
sb_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat	 st;
	char		*buf;
	size_t		 have = 0;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (st.st_size < 0 || (size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (have < (size_t)st.st_size) {
		n = read(fd, buf + have, (size_t)st.st_size - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = n == 0 ? EIO : errno;
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	*out = buf;
	*len = have;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int
b64_value(char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/*
 * Decodes len characters of one alphabet. Leftover bits must be zero, so
 * that each byte string has exactly one encoding.
 */
static long
b64_decode(const char *in, size_t len, unsigned char *out, size_t outsz,
    bool url)
{
	unsigned long	 acc = 0;
	size_t		 i, n = 0;
	int		 bits = 0, v;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64_value(in[i], url)) == -1)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (n == outsz)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;
	return (long)n;
}

long
sb_b64_decode(const char *in, size_t len, unsigned char *out, size_t outsz)
{
	size_t	 pad = 0;

	if (len % 4 != 0)
		return -1;
	while (pad < 2 && len > pad && in[len - 1 - pad] == '=')
		pad++;
	return b64_decode(in, len - pad, out, outsz, false);
}

long
sb_b64url_decode(const char *in, size_t len, unsigned char *out,
    size_t outsz)
{
	return b64_decode(in, len, out, outsz, true);
}

long
sb_b64url_encode(const unsigned char *in, size_t len, char *out,
    size_t outsz)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned long	 acc = 0;
	size_t		 i, n = 0, need;
	int		 bits = 0;

	/* 4 characters per 3 bytes, 2 or 3 for the rest, and the NUL. */
	if (!sb_mul_ok(len / 3, 4, &need) ||
	    !sb_add_ok(need, ((len % 3) * 4 + 2) / 3 + 1, &need) ||
	    need - 1 > LONG_MAX || outsz < need)
		return -1;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		for (bits += 8; bits >= 6; bits -= 6)
			out[n++] = abc[(acc >> (bits - 6)) & 63];
	}
	if (bits > 0)
		out[n++] = abc[(acc << (6 - bits)) & 63];
	out[n] = '\0';
	return (long)n;
}

int64_t
sb_add_sat(int64_t a, int64_t b)
{
	int64_t	 r;

	if (sb_add_ok(a, b, &r))
		return r;
	return b > 0 ? INT64_MAX : INT64_MIN;
}

int64_t
sb_sub_sat(int64_t a, int64_t b)
{
	int64_t	 r;

	if (sb_sub_ok(a, b, &r))
		return r;
	return b < 0 ? INT64_MAX : INT64_MIN;
}

void
sb_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

int64_t
sb_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sb_now(void)
{
	return (int64_t)time(NULL);
}
