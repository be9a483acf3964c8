#include <sys/mman.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "extern.h"

#define WAYS	4

struct entry {
	unsigned char	 key[SB_CACHE_KEY];
	uint64_t	 tag;
	int64_t		 expires;	/* 0: slot free */
	size_t		 len;
	/* the value follows, valmax bytes */
};

struct set {
	pthread_mutex_t	 lock;
};

struct sb_cache {
	size_t		 nsets;		/* a power of two, or 0 */
	size_t		 valmax;
	size_t		 stride;	/* bytes per entry, value included */
	size_t		 mapsize;
	uint64_t	 hits, misses;	/* updated atomically */
	struct set	*sets;		/* nsets */
	unsigned char	*slots;		/* nsets * WAYS entries of stride */
};

struct sb_cache *
sb_cache_new(size_t entries, size_t valmax)
{
	pthread_mutexattr_t	 attr;
	struct sb_cache		*c;
	size_t			 nsets = 0, stride, sets, size, i;
	void			*m;

	/* Sizes come from the config: every sum and product is checked. */
	if (entries > 0)
		for (nsets = 1; nsets * WAYS < entries; nsets <<= 1)
			if (nsets > SIZE_MAX / WAYS / 2)
				return NULL;
	if (!sb_add_ok(sizeof(struct entry) + 15, valmax, &stride))
		return NULL;
	stride &= ~(size_t)15;
	if (!sb_mul_ok(nsets, sizeof(struct set), &sets) ||
	    !sb_mul_ok(nsets * WAYS, stride, &size) ||
	    !sb_add_ok(size, sets, &size) ||
	    !sb_add_ok(size, sizeof(*c), &size))
		return NULL;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	c = m;
	c->nsets = nsets;
	c->valmax = valmax;
	c->stride = stride;
	c->mapsize = size;
	c->sets = (struct set *)(c + 1);
	c->slots = (unsigned char *)(c->sets + nsets);

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	for (i = 0; i < nsets; i++)
		pthread_mutex_init(&c->sets[i].lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return c;
}

void
sb_cache_free(struct sb_cache *c)
{
	if (c != NULL)
		munmap(c, c->mapsize);
}

static struct entry *
slot(const struct sb_cache *c, size_t set, size_t way)
{
	return (struct entry *)(c->slots + (set * WAYS + way) * c->stride);
}

/*
 * Locks the set of key. A worker that died holding the lock may have left
 * the set half-written: it is emptied, then the lock is made usable.
 */
static size_t
lock_set(struct sb_cache *c, const unsigned char *key)
{
	uint64_t	 h;
	size_t		 s, i;

	memcpy(&h, key, sizeof(h));
	s = h & (c->nsets - 1);
	if (pthread_mutex_lock(&c->sets[s].lock) == EOWNERDEAD) {
		for (i = 0; i < WAYS; i++)
			slot(c, s, i)->expires = 0;
		pthread_mutex_consistent(&c->sets[s].lock);
	}
	return s;
}

static void
unlock_set(struct sb_cache *c, size_t s)
{
	pthread_mutex_unlock(&c->sets[s].lock);
}

long
sb_cache_get(struct sb_cache *c, const unsigned char *key, int64_t now,
    void *out, size_t outsz)
{
	struct entry	*e;
	size_t		 s, i;
	long		 len = -1;

	if (c == NULL || c->nsets == 0)
		return -1;
	s = lock_set(c, key);
	for (i = 0; i < WAYS; i++) {
		e = slot(c, s, i);
		if (e->expires == 0 || memcmp(e->key, key, SB_CACHE_KEY) != 0)
			continue;
		if (e->expires <= now)
			e->expires = 0;
		else if (e->len <= outsz) {
			memcpy(out, e + 1, e->len);
			len = (long)e->len;
		}
		break;
	}
	unlock_set(c, s);
	__atomic_add_fetch(len >= 0 ? &c->hits : &c->misses, 1,
	    __ATOMIC_RELAXED);
	return len;
}

int
sb_cache_put(struct sb_cache *c, const unsigned char *key, uint64_t tag,
    const void *val, size_t len, int64_t expires)
{
	struct entry	*e, *victim = NULL;
	size_t		 s, i;

	/* 0 marks a free slot: an entry that never was is stored as none. */
	if (c == NULL || c->nsets == 0 || expires <= 0)
		return 0;
	if (len > c->valmax)
		return -1;
	s = lock_set(c, key);
	/* The same key, else a free slot, else the soonest to expire. */
	for (i = 0; victim == NULL && i < WAYS; i++) {
		e = slot(c, s, i);
		if (e->expires != 0 && memcmp(e->key, key, SB_CACHE_KEY) == 0)
			victim = e;
	}
	for (i = 0; victim == NULL && i < WAYS; i++)
		if (slot(c, s, i)->expires == 0)
			victim = slot(c, s, i);
	if (victim == NULL)
		for (victim = slot(c, s, 0), i = 1; i < WAYS; i++)
			if (slot(c, s, i)->expires < victim->expires)
				victim = slot(c, s, i);
	memcpy(victim->key, key, SB_CACHE_KEY);
	victim->tag = tag;
	victim->len = len;
	memcpy(victim + 1, val, len);
	victim->expires = expires;
	unlock_set(c, s);
	return 0;
}

int
sb_cache_add(struct sb_cache *c, const unsigned char *key, const void *val,
    size_t len, int64_t now, int64_t expires)
{
	struct entry	*e, *victim = NULL;
	size_t		 s, i;

	if (c == NULL || c->nsets == 0)
		return 0;
	if (len > c->valmax)
		return -1;
	s = lock_set(c, key);
	for (i = 0; i < WAYS; i++) {
		e = slot(c, s, i);
		if (e->expires > now && memcmp(e->key, key, SB_CACHE_KEY) == 0) {
			unlock_set(c, s);
			return 0;
		}
		if (e->expires <= now && e->expires != 0 &&
		    memcmp(e->key, key, SB_CACHE_KEY) == 0)
			e->expires = 0;
	}
	/* A free slot, else the soonest to expire. */
	for (i = 0; victim == NULL && i < WAYS; i++)
		if (slot(c, s, i)->expires == 0)
			victim = slot(c, s, i);
	if (victim == NULL)
		for (victim = slot(c, s, 0), i = 1; i < WAYS; i++)
			if (slot(c, s, i)->expires < victim->expires)
				victim = slot(c, s, i);
	memcpy(victim->key, key, SB_CACHE_KEY);
	victim->tag = 0;
	victim->len = len;
	memcpy(victim + 1, val, len);
	victim->expires = expires;
	unlock_set(c, s);
	return 1;
}

void
sb_cache_drop_tag(struct sb_cache *c, uint64_t tag)
{
	size_t	 s, i;

	if (c == NULL)
		return;
	for (s = 0; s < c->nsets; s++) {
		if (pthread_mutex_lock(&c->sets[s].lock) == EOWNERDEAD)
			pthread_mutex_consistent(&c->sets[s].lock);
		for (i = 0; i < WAYS; i++)
			if (slot(c, s, i)->tag == tag)
				slot(c, s, i)->expires = 0;
		unlock_set(c, s);
	}
}

size_t
sb_cache_drop_if(struct sb_cache *c, bool (*fn)(const void *, size_t, void *),
    void *arg)
{
	struct entry	*e;
	size_t		 s, i, n = 0;

	if (c == NULL)
		return 0;
	for (s = 0; s < c->nsets; s++) {
		if (pthread_mutex_lock(&c->sets[s].lock) == EOWNERDEAD) {
			for (i = 0; i < WAYS; i++)
				slot(c, s, i)->expires = 0;
			pthread_mutex_consistent(&c->sets[s].lock);
		}
		for (i = 0; i < WAYS; i++) {
			e = slot(c, s, i);
			if (e->expires != 0 && (fn == NULL ||
			    fn(e + 1, e->len, arg))) {
				e->expires = 0;
				n++;
			}
		}
		unlock_set(c, s);
	}
	return n;
}

void
sb_cache_stats(const struct sb_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c == NULL ? 0 : __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
	*misses = c == NULL ? 0 : __atomic_load_n(&c->misses, __ATOMIC_RELAXED);
}

void
sb_cache_key(unsigned char *key, const char *const *parts, size_t nparts)
{
	static EVP_MD_CTX	*ctx;
	static EVP_MD		*sha256;
	unsigned int		 n = SB_CACHE_KEY;
	size_t			 i;

	/* Fetched once: an implicit fetch per call costs more than the hash. */
	if (ctx == NULL && ((ctx = EVP_MD_CTX_new()) == NULL ||
	    (sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL))
		abort();
	if (EVP_DigestInit_ex(ctx, sha256, NULL) != 1)
		abort();
	for (i = 0; i < nparts; i++)
		EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1);
	EVP_DigestFinal_ex(ctx, key, &n);
}

uint64_t
sb_cache_tag(const char *s)
{
	unsigned char	 key[SB_CACHE_KEY];
	uint64_t	 tag;

	sb_cache_key(key, &s, 1);
	memcpy(&tag, key, sizeof(tag));
	return tag | 1;		/* never 0, the tag of untagged entries */
}
