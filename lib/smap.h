/*
 * smap: a hash map from byte-string keys to pointers (open addressing,
 * linear probing, deletion by backward shift, so no tombstones).  Keys are
 * copied; values belong to the caller.  Iteration order depends on the
 * insertion history only, never on addresses or time, but callers that
 * write output should not rely on it.
 */
#ifndef AIOPS_SMAP_H
#define AIOPS_SMAP_H

#include <stddef.h>
#include <stdint.h>

struct smap_ent {
	char *key;        /* NULL: empty slot */
	size_t klen;
	uint64_t hash;
	void *val;
};

struct smap {
	struct smap_ent *e;
	size_t cap;       /* slots, a power of two (0 until the first put) */
	size_t n;         /* live entries */
};

#define SMAP_INIT { NULL, 0, 0 }

/* The 64-bit FNV-1a hash of n bytes (also handy for callers). */
uint64_t smap_hash(const void *p, size_t n);

/* The value slot of key, or NULL when absent.  The slot is valid until the
 * next put or del. */
void **smap_get(const struct smap *m, const void *key, size_t klen);

/* The value slot of key, inserted with value NULL when absent (*created is
 * then 1, else 0; created may be NULL).  Valid until the next put or del.
 * Exits on out-of-memory. */
void **smap_put(struct smap *m, const void *key, size_t klen, int *created);

/* Removes key; returns its value (NULL when absent). */
void *smap_del(struct smap *m, const void *key, size_t klen);

/* Iterates: start with *i = 0; returns 0 at the end.  The map must not be
 * changed during the iteration. */
int smap_next(const struct smap *m, size_t *i, const char **key, size_t *klen, void **val);

/* Deletes the entries whose value dead(val, arg) says is dead, calling fv
 * on each of their values, in iteration order (the map is walked once
 * before any is deleted). */
void smap_delete_if(struct smap *m, int (*dead)(const void *val, void *arg), void *arg,
		    void (*fv)(void *));

/* Frees the map (calling fv on each value when not NULL); reusable after. */
void smap_free(struct smap *m, void (*fv)(void *));

#endif
