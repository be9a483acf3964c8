/*
 * sb_cache.h: a bounded cache with expiry, shared by a program's workers.
 *
 * The cache is one fixed block of shared memory, made by the master
 * before it forks, so every worker sees what any worker stored and memory
 * never grows. Keys are 32-byte digests (the caller hashes whatever
 * identifies the entry); values are copied in and out, up to the size
 * given at creation. Set-associative: a full set evicts the entry that
 * expires first. Each set has its own lock, robust against a worker that
 * dies holding it.
 */
#ifndef SB_CACHE_H
#define SB_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_CACHE_KEY	32

struct sb_cache;

/*
 * A cache of at least entries values of at most valmax bytes each;
 * entries 0 gives a cache that holds nothing. Returns NULL if the memory
 * cannot be had, or its size does not fit in a size_t.
 */
struct sb_cache	*sb_cache_new(size_t entries, size_t valmax);
void		 sb_cache_free(struct sb_cache *);

/*
 * Looks key up at time now and copies its value into out (outsz bytes).
 * Returns the value's length, or -1 if absent, expired or larger than
 * outsz.
 */
long		 sb_cache_get(struct sb_cache *, const unsigned char *key,
		    int64_t now, void *out, size_t outsz);

/*
 * Stores a copy of val until expires (epoch seconds: it is gone for a
 * get at expires or later; one of 0 or less stores nothing), tagged with
 * tag (for sb_cache_drop_tag). Returns 0, or -1 if len is over the
 * cache's valmax (nothing is stored then).
 */
int		 sb_cache_put(struct sb_cache *, const unsigned char *key,
		    uint64_t tag, const void *val, size_t len, int64_t expires);

/*
 * As sb_cache_put(), but only if key holds nothing at time now, at once
 * for all workers: of several that add the same key, one does. Returns
 * 1 if it stored val, 0 if key was there (or the cache holds nothing),
 * -1 if len is over the cache's valmax.
 */
int		 sb_cache_add(struct sb_cache *, const unsigned char *key,
		    const void *val, size_t len, int64_t now, int64_t expires);

/* Drops every entry stored with tag. */
void		 sb_cache_drop_tag(struct sb_cache *, uint64_t tag);

/*
 * Drops every entry whose value fn (called with the set locked: it must
 * not touch the cache) says yes to; fn NULL drops every entry. Returns
 * how many it dropped (expired ones not yet reused among them).
 */
size_t		 sb_cache_drop_if(struct sb_cache *,
		    bool (*fn)(const void *val, size_t len, void *arg),
		    void *arg);

/* Hit and miss counts since creation, over all workers. */
void		 sb_cache_stats(const struct sb_cache *, uint64_t *hits,
		    uint64_t *misses);

/* Hashes the NUL-terminated parts (NUL-separated) into key. */
void		 sb_cache_key(unsigned char *key, const char *const *parts,
		    size_t nparts);

/* A 64-bit tag for a string, e.g. a group id. */
uint64_t	 sb_cache_tag(const char *s);

#endif
