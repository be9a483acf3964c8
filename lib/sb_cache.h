/*
 * sb_cache.h: a bounded cache with expiry, one per process.
 *
 * Keys are 32-byte digests (the caller hashes whatever identifies the
 * entry); values are copied in. Set-associative: a full set evicts the
 * entry that expires first, so memory never grows past the size given.
 */
#ifndef SB_CACHE_H
#define SB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define SB_CACHE_KEY	32

struct sb_cache;

/* A cache of at most entries values; 0 gives a cache that holds nothing. */
struct sb_cache	*sb_cache_new(size_t entries);
void		 sb_cache_free(struct sb_cache *);

/*
 * Looks key up at time now. Returns the value (owned by the cache, valid
 * until the next call that changes it) and its length, or NULL.
 */
const void	*sb_cache_get(struct sb_cache *, const unsigned char *key,
		    int64_t now, size_t *len);

/*
 * Stores a copy of val until expires, tagged with tag (for
 * sb_cache_drop_tag). Returns 0, or -1 if out of memory.
 */
int		 sb_cache_put(struct sb_cache *, const unsigned char *key,
		    uint64_t tag, const void *val, size_t len, int64_t expires);

/* Drops every entry stored with tag. */
void		 sb_cache_drop_tag(struct sb_cache *, uint64_t tag);

/* Hashes the parts (each len bytes, NUL-separated) into key. */
void		 sb_cache_key(unsigned char *key, const char *const *parts,
		    size_t nparts);

#endif
