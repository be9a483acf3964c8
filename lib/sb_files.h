/*
 * sb_files.h: encrypted file parts on the app's own storage, one file per
 * part in SENTC_BACKEND_FILE_DIR, named by the part id sentc gave it.
 *
 * A part is written in two steps so that sentc is asked only once the
 * bytes are safe on disk, and a crash never leaves a part half there:
 * sb_files_stage() writes a temporary file in the same folder and syncs
 * it; sb_files_commit() renames it to the part id and syncs the folder;
 * sb_files_abort() drops it. A temporary file older than a day, which
 * only a crash leaves, is removed by the first write of each process.
 * The folder is made on first use. Parts are
 * readable by their owner only (0600, folder 0700), or by the owner's
 * group as well (0640, 0750) when nginx serves them
 * (SENTC_BACKEND_FILE_ACCEL set): nginx's workers must then be in that
 * group.
 */
#ifndef SB_FILES_H
#define SB_FILES_H

#include <stddef.h>

#include "sb_error.h"

#define SB_FILES_TMP_MAX	64

/* A part written but not yet named. */
struct sb_files_stage {
	int	 dirfd;			/* -1: nothing staged */
	char	 tmp[SB_FILES_TMP_MAX];	/* its name in the folder */
};

/*
 * Writes data[0..len) to a new temporary file in the folder and syncs
 * it. Returns SB_OK with st filled in, or SB_ERR_STORAGE (logged) with
 * nothing left behind.
 */
enum sb_err	 sb_files_stage(const void *data, size_t len,
		    struct sb_files_stage *st);

/*
 * Names the staged part part_id (a UUID) and syncs the folder. Returns
 * SB_OK, or SB_ERR_STORAGE (logged) with the temporary file removed. st
 * is empty afterwards in both cases.
 */
enum sb_err	 sb_files_commit(struct sb_files_stage *st,
		    const char *part_id);

/* Removes a staged part, if any; st is empty afterwards. */
void		 sb_files_abort(struct sb_files_stage *st);

/*
 * Does part part_id exist? SB_OK, SB_ERR_NO_FILE_PART, or SB_ERR_STORAGE
 * (the folder cannot be read; logged).
 */
enum sb_err	 sb_files_exists(const char *part_id);

/*
 * Reads part part_id whole, at most cap bytes. Returns SB_OK with *data
 * (the caller frees it) and *len, SB_ERR_NO_FILE_PART, or SB_ERR_STORAGE.
 */
enum sb_err	 sb_files_read(const char *part_id, size_t cap, char **data,
		    size_t *len);

/*
 * Removes the parts ids[0..n) (UUIDs); one already gone is no error. The
 * folder is synced once at the end. Returns SB_OK, or SB_ERR_STORAGE
 * (logged) if one could not be removed: the others are gone all the same.
 */
enum sb_err	 sb_files_delete(const char *const *ids, size_t n);

#endif
