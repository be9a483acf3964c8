#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "extern.h"

#define TMP_PREFIX	".tmp-"
#define TMP_MAX_AGE	(24 * 60 * 60)	/* a crash's left-over, surely */

/* Served by nginx: its workers read through the group. */
static bool
group_reads(void)
{
	return sb_cfg->file_accel[0] != '\0';
}

/*
 * The folder, opened (made first if missing). Returns its descriptor, or
 * -1 (logged).
 */
static int
dir_open(void)
{
	const char	*dir = sb_cfg->file_dir;
	mode_t		 mode = group_reads() ? 0750 : 0700;
	int		 fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1)
		return fd;
	if (errno == ENOENT && mkdir(dir, mode) == 0)
		(void)chmod(dir, mode);	/* whatever the umask */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		sb_log(SB_LOG_ERR, "file parts: cannot open the folder %s: %s",
		    dir, strerror(errno));
	return fd;
}

/*
 * Removes temporary files older than a day: what a crash between writing
 * a part and naming it left behind (never a part: those have UUIDs for
 * names). Once per process, at its first write.
 */
static void
sweep(int dfd)
{
	static bool	 swept;
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	int		 fd;
	time_t		 now = time(NULL);

	if (swept)
		return;
	swept = true;
	if ((fd = dup(dfd)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 &&
		    fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode) && sb.st_mtime < now - TMP_MAX_AGE &&
		    unlinkat(dfd, de->d_name, 0) == 0)
			sb_log(SB_LOG_WARN, "file parts: removed %s, a part "
			    "never named (left by a crash)", de->d_name);
	closedir(d);
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

enum sb_err
sb_files_stage(const void *data, size_t len, struct sb_files_stage *st)
{
	static unsigned long	 seq;
	unsigned char		 rnd[8];
	int			 fd, saved;

	st->dirfd = -1;
	st->tmp[0] = '\0';
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	snprintf(st->tmp, sizeof(st->tmp),
	    TMP_PREFIX "%ld-%lu-%02x%02x%02x%02x%02x%02x%02x%02x",
	    (long)getpid(),
	    ++seq, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
	    rnd[7]);
	if ((st->dirfd = dir_open()) == -1)
		return SB_ERR_STORAGE;
	sweep(st->dirfd);
	fd = openat(st->dirfd, st->tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, group_reads() ? 0640 : 0600);
	if (fd == -1)
		goto fail;
	if (fchmod(fd, group_reads() ? 0640 : 0600) == -1 ||
	    write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		(void)unlinkat(st->dirfd, st->tmp, 0);
		errno = saved;
		goto fail;
	}
	if (close(fd) == -1) {
		saved = errno;
		(void)unlinkat(st->dirfd, st->tmp, 0);
		errno = saved;
		goto fail;
	}
	return SB_OK;
fail:
	sb_log(SB_LOG_ERR, "file parts: cannot write a part to %s: %s",
	    sb_cfg->file_dir, strerror(errno));
	close(st->dirfd);
	st->dirfd = -1;
	return SB_ERR_STORAGE;
}

enum sb_err
sb_files_commit(struct sb_files_stage *st, const char *part_id)
{
	enum sb_err	 e = SB_OK;

	if (st->dirfd == -1 || !sb_is_uuid(part_id, strlen(part_id)))
		return SB_ERR_INTERNAL;
	if (renameat(st->dirfd, st->tmp, st->dirfd, part_id) == -1) {
		sb_log(SB_LOG_ERR, "file parts: cannot name part %s in %s: %s",
		    part_id, sb_cfg->file_dir, strerror(errno));
		(void)unlinkat(st->dirfd, st->tmp, 0);
		e = SB_ERR_STORAGE;
	} else if (fsync(st->dirfd) == -1) {
		/* The name may not survive a crash: not kept. */
		sb_log(SB_LOG_ERR, "file parts: cannot sync %s: %s",
		    sb_cfg->file_dir, strerror(errno));
		(void)unlinkat(st->dirfd, part_id, 0);
		e = SB_ERR_STORAGE;
	}
	close(st->dirfd);
	st->dirfd = -1;
	return e;
}

void
sb_files_abort(struct sb_files_stage *st)
{
	if (st->dirfd == -1)
		return;
	(void)unlinkat(st->dirfd, st->tmp, 0);
	close(st->dirfd);
	st->dirfd = -1;
}

enum sb_err
sb_files_exists(const char *part_id)
{
	struct stat	 sb;
	int		 dfd;
	enum sb_err	 e = SB_OK;

	if ((dfd = dir_open()) == -1)
		return SB_ERR_STORAGE;
	if (fstatat(dfd, part_id, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			e = SB_ERR_NO_FILE_PART;
		else {
			sb_log(SB_LOG_ERR, "file parts: part %s: %s", part_id,
			    strerror(errno));
			e = SB_ERR_STORAGE;
		}
	} else if (!S_ISREG(sb.st_mode))
		e = SB_ERR_NO_FILE_PART;
	close(dfd);
	return e;
}

enum sb_err
sb_files_read(const char *part_id, size_t cap, char **data, size_t *len)
{
	struct stat	 sb;
	char		*buf = NULL;
	size_t		 got = 0;
	ssize_t		 n;
	int		 dfd, fd;
	enum sb_err	 e = SB_ERR_STORAGE;

	*data = NULL;
	*len = 0;
	if ((dfd = dir_open()) == -1)
		return SB_ERR_STORAGE;
	fd = openat(dfd, part_id, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(dfd);
	if (fd == -1) {
		if (errno == ENOENT || errno == ELOOP)
			return SB_ERR_NO_FILE_PART;
		goto fail;
	}
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return SB_ERR_NO_FILE_PART;
	}
	if ((size_t)sb.st_size > cap) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		goto fail;
	while (got < (size_t)sb.st_size) {
		n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return SB_OK;
fail:
	sb_log(SB_LOG_ERR, "file parts: cannot read part %s: %s", part_id,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	free(buf);
	return e;
}

enum sb_err
sb_files_delete(const char *const *ids, size_t n)
{
	size_t		 i;
	int		 dfd;
	enum sb_err	 e = SB_OK;

	if ((dfd = dir_open()) == -1)
		return SB_ERR_STORAGE;
	for (i = 0; i < n; i++)
		if (unlinkat(dfd, ids[i], 0) == -1 && errno != ENOENT) {
			sb_log(SB_LOG_ERR, "file parts: cannot remove part "
			    "%s: %s", ids[i], strerror(errno));
			e = SB_ERR_STORAGE;
		}
	if (fsync(dfd) == -1) {
		sb_log(SB_LOG_ERR, "file parts: cannot sync %s: %s",
		    sb_cfg->file_dir, strerror(errno));
		e = SB_ERR_STORAGE;
	}
	close(dfd);
	return e;
}

/* ---- the routes of file_part_url and storage_url ---------------------- */

#define CALLBACK_BODY_MAX	65536	/* sentc sends at most 500 ids */
#define CALLBACK_IDS_MAX	1000
#define APP_TOKEN_HEADER	"HTTP_X_SENTC_APP_TOKEN"

/* True if the header's value is token, compared in constant time. */
static bool
token_is(const char *v, const char *token)
{
	size_t	 len = strlen(token);

	return v != NULL && token[0] != '\0' && strlen(v) == len &&
	    CRYPTO_memcmp(v, token, len) == 0;
}

void
sb_file_part_upload(struct sb_req *req, const char *session,
    const char *seq, bool end)
{
	struct sb_files_stage	 st;
	struct sb_upstream_res	 up;
	json_object		*res, *v;
	const char		*part_id;
	struct sb_db		*db = NULL;
	char			 path[192], msg[128];
	enum sb_err		 e;

	if (sb_auth_user(req, SB_JWT_ALLOW_EXPIRED) == -1)
		return;
	if ((e = sb_req_read_body(req, (size_t)sb_cfg->file_max_part)) !=
	    SB_OK) {
		snprintf(msg, sizeof(msg), "A file part may be at most %ld "
		    "bytes (SENTC_BACKEND_FILE_MAX_PART)",
		    sb_cfg->file_max_part);
		sb_reply_err(req, e, e == SB_ERR_BODY_TOO_LARGE ? msg : NULL);
		return;
	}
	if (req->bodylen == 0) {
		sb_reply_err(req, SB_ERR_FIELD, "The file part is empty");
		return;
	}

	/*
	 * In the folder, on disk first: sentc is asked only for a part that
	 * is safe. In the database, the store must answer before sentc is
	 * asked.
	 */
	st.dirfd = -1;
	if (sb_cfg->file_store_db) {
		if ((db = sb_db_for(req)) == NULL)
			return;
	} else if ((e = sb_files_stage(req->body, req->bodylen, &st)) !=
	    SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	snprintf(path, sizeof(path), "/file/part/%s/%s/%s/%s", session, seq,
	    end ? "true" : "false", req->who.aud);
	if (sb_relay(req, SB_PATCH, path, SB_TOKEN_SECRET, NULL, NULL, 0,
	    &up) == -1) {
		sb_files_abort(&st);
		return;
	}
	if (!up.ok) {
		sb_files_abort(&st);
		sb_reply_upstream(req, &up);
		sb_upstream_res_free(&up);
		return;
	}
	if ((res = sb_upstream_result(&up)) == NULL ||
	    !json_object_object_get_ex(res, "part_id", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !sb_is_uuid(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v))) {
		/* Registered under a name that cannot be stored. */
		sb_log(SB_LOG_ERR, "file parts: sentc registered a part "
		    "without a part_id that is a UUID");
		sb_files_abort(&st);
		sb_reply_err(req, SB_ERR_UPSTREAM_BAD, NULL);
		sb_upstream_res_free(&up);
		return;
	}
	part_id = json_object_get_string(v);
	if (sb_cfg->file_store_db)
		e = sb_db_file_part_put(db, part_id, req->body, req->bodylen);
	else
		e = sb_files_commit(&st, part_id);
	if (e != SB_OK) {
		snprintf(path, sizeof(path), "/file/part/%s", part_id);
		sb_compensate(req, SB_DELETE, path, SB_TOKEN_SECRET, NULL);
	} else
		sb_reply_ok(req, NULL);
	sb_upstream_res_free(&up);
}

void
sb_file_part_download(struct sb_req *req, const char *part_id)
{
	const char	*tok;
	char		 where[SB_HEADER_MAX];
	struct sb_db	*db;
	char		*data;
	size_t		 len;
	enum sb_err	 e;

	/* As sentc's own download: the app's token, no JWT. */
	tok = sb_req_header(req, APP_TOKEN_HEADER, &e);
	if (!token_is(tok, sb_cfg->public_token) &&
	    !token_is(tok, sb_cfg->secret_token)) {
		sb_reply_sentc(req, 401, 200, "No valid app token");
		return;
	}
	if (sb_cfg->file_store_db) {
		if ((db = sb_db_for(req)) == NULL)
			return;
		e = sb_db_file_part_get(db, part_id,
		    (size_t)sb_cfg->file_max_part * 2, &data, &len);
	} else if (sb_cfg->file_accel[0] != '\0') {
		if ((e = sb_files_exists(part_id)) != SB_OK) {
			sb_reply_err(req, e, NULL);
			return;
		}
		snprintf(where, sizeof(where), "%s%s", sb_cfg->file_accel,
		    part_id);
		if (sb_reply_header(req, "X-Accel-Redirect", where) == -1) {
			sb_reply_err(req, SB_ERR_INTERNAL, NULL);
			return;
		}
		sb_reply_raw(req, 200, "application/octet-stream", "", 0);
		return;
	} else
		e = sb_files_read(part_id, (size_t)sb_cfg->file_max_part * 2,
		    &data, &len);
	if (e != SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	sb_reply_raw(req, 200, "application/octet-stream", data, len);
	free(data);
}

void
sb_file_parts_deleted(struct sb_req *req)
{
	const char	*ids[CALLBACK_IDS_MAX], *tok, *s;
	struct sb_db	*db;
	json_object	*arr, *v;
	size_t		 i, n;
	enum sb_err	 e;

	if (sb_cfg->file_auth_token[0] == '\0') {
		sb_reply_err(req, SB_ERR_FILE_CLOSED, NULL);
		return;
	}
	tok = sb_req_header(req, APP_TOKEN_HEADER, &e);
	if (!token_is(tok, sb_cfg->file_auth_token)) {
		sb_reply_err(req, SB_ERR_FILE_TOKEN, NULL);
		return;
	}
	if ((e = sb_req_read_body(req, CALLBACK_BODY_MAX)) != SB_OK ||
	    (e = sb_json_parse(req->body, req->bodylen, &arr)) != SB_OK) {
		sb_reply_err(req, e, NULL);
		return;
	}
	if (!json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) > CALLBACK_IDS_MAX) {
		json_object_put(arr);
		sb_reply_err(req, SB_ERR_BODY_SHAPE, "The body must be a JSON "
		    "array of at most 1000 part ids");
		return;
	}
	/* All checked before any goes. */
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !sb_is_uuid((s = json_object_get_string(v)),
		    (size_t)json_object_get_string_len(v))) {
			json_object_put(arr);
			sb_reply_err(req, SB_ERR_BAD_ID, "A part id is not a "
			    "valid id");
			return;
		}
		ids[i] = s;
	}
	if (!sb_cfg->file_store_db)
		e = sb_files_delete(ids, n);
	else if ((db = sb_db_for(req)) == NULL) {
		json_object_put(arr);
		return;		/* answered */
	} else
		e = sb_db_file_part_delete(db, ids, n);
	if (e != SB_OK)
		sb_reply_err(req, e, NULL);
	else
		sb_reply_ok(req, NULL);
	json_object_put(arr);
}
