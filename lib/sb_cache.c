#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sb_cache.h"

#define WAYS	4

struct entry {
	unsigned char	 key[SB_CACHE_KEY];
	uint64_t	 tag;
	int64_t		 expires;
	size_t		 len;
	void		*val;	/* NULL: slot free */
};

struct sb_cache {
	size_t		 nsets;	/* a power of two, or 0 */
	struct entry	*slots;	/* nsets * WAYS */
};

struct sb_cache *
sb_cache_new(size_t entries)
{
	struct sb_cache	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (entries == 0)
		return c;
	for (c->nsets = 1; c->nsets * WAYS < entries; c->nsets <<= 1)
		continue;
	if ((c->slots = calloc(c->nsets * WAYS, sizeof(*c->slots))) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static void
entry_clear(struct entry *e)
{
	free(e->val);
	memset(e, 0, sizeof(*e));
}

void
sb_cache_free(struct sb_cache *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsets * WAYS; i++)
		entry_clear(&c->slots[i]);
	free(c->slots);
	free(c);
}

static struct entry *
set_of(struct sb_cache *c, const unsigned char *key)
{
	uint64_t	 h;

	memcpy(&h, key, sizeof(h));
	return &c->slots[(h & (c->nsets - 1)) * WAYS];
}

const void *
sb_cache_get(struct sb_cache *c, const unsigned char *key, int64_t now,
    size_t *len)
{
	struct entry	*set;
	size_t		 i;

	if (c == NULL || c->nsets == 0)
		return NULL;
	set = set_of(c, key);
	for (i = 0; i < WAYS; i++) {
		if (set[i].val == NULL ||
		    memcmp(set[i].key, key, SB_CACHE_KEY) != 0)
			continue;
		if (set[i].expires <= now) {
			entry_clear(&set[i]);
			return NULL;
		}
		*len = set[i].len;
		return set[i].val;
	}
	return NULL;
}

int
sb_cache_put(struct sb_cache *c, const unsigned char *key, uint64_t tag,
    const void *val, size_t len, int64_t expires)
{
	struct entry	*set, *victim = NULL;
	void		*copy;
	size_t		 i;

	if (c == NULL || c->nsets == 0)
		return 0;
	if ((copy = malloc(len ? len : 1)) == NULL)
		return -1;
	memcpy(copy, val, len);

	/* The same key, else a free slot, else the soonest to expire. */
	set = set_of(c, key);
	for (i = 0; i < WAYS; i++)
		if (set[i].val != NULL &&
		    memcmp(set[i].key, key, SB_CACHE_KEY) == 0) {
			victim = &set[i];
			break;
		}
	for (i = 0; victim == NULL && i < WAYS; i++)
		if (set[i].val == NULL)
			victim = &set[i];
	if (victim == NULL)
		for (victim = &set[0], i = 1; i < WAYS; i++)
			if (set[i].expires < victim->expires)
				victim = &set[i];

	entry_clear(victim);
	memcpy(victim->key, key, SB_CACHE_KEY);
	victim->tag = tag;
	victim->expires = expires;
	victim->len = len;
	victim->val = copy;
	return 0;
}

void
sb_cache_drop_tag(struct sb_cache *c, uint64_t tag)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsets * WAYS; i++)
		if (c->slots[i].val != NULL && c->slots[i].tag == tag)
			entry_clear(&c->slots[i]);
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
