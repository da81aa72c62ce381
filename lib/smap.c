/* smap: open-addressing hash map with byte-string keys. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "smap.h"

uint64_t
smap_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	/* FNV mixes the low bits poorly for short keys: finish like splitmix. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static size_t
find(const struct smap *m, const void *key, size_t klen, uint64_t h)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;

	for (;;) {
		struct smap_ent *e = &m->e[i];
		if (e->key == NULL)
			return i;
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

static void
grow(struct smap *m)
{
	struct smap_ent *old = m->e;
	size_t oldcap = m->cap, i;

	m->cap = oldcap ? oldcap * 2 : 16;
	m->e = ecalloc(m->cap, sizeof *m->e);
	for (i = 0; i < oldcap; i++)
		if (old[i].key)
			m->e[find(m, old[i].key, old[i].klen, old[i].hash)] = old[i];
	free(old);
}

void **
smap_get(const struct smap *m, const void *key, size_t klen)
{
	size_t i;

	if (m->n == 0)
		return NULL;
	i = find(m, key, klen, smap_hash(key, klen));
	return m->e[i].key ? &m->e[i].val : NULL;
}

void **
smap_put(struct smap *m, const void *key, size_t klen, int *created)
{
	uint64_t h = smap_hash(key, klen);
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	i = find(m, key, klen, h);
	if (created)
		*created = m->e[i].key == NULL;
	if (m->e[i].key == NULL) {
		m->e[i].key = emalloc(klen + 1);
		memcpy(m->e[i].key, key, klen);
		m->e[i].key[klen] = '\0';
		m->e[i].klen = klen;
		m->e[i].hash = h;
		m->e[i].val = NULL;
		m->n++;
	}
	return &m->e[i].val;
}

void *
smap_del(struct smap *m, const void *key, size_t klen)
{
	size_t mask, i, j;
	void *v;

	if (m->n == 0)
		return NULL;
	mask = m->cap - 1;
	i = find(m, key, klen, smap_hash(key, klen));
	if (m->e[i].key == NULL)
		return NULL;
	v = m->e[i].val;
	free(m->e[i].key);
	m->e[i].key = NULL;
	m->n--;
	/* Backward shift: move up every entry of the run that could live at i. */
	for (j = (i + 1) & mask; m->e[j].key; j = (j + 1) & mask) {
		size_t home = (size_t)m->e[j].hash & mask;
		/* Is home cyclically outside (i, j]?  Then the entry may move to i. */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->e[i] = m->e[j];
			m->e[j].key = NULL;
			i = j;
		}
	}
	return v;
}

int
smap_next(const struct smap *m, size_t *i, const char **key, size_t *klen, void **val)
{
	for (; *i < m->cap; (*i)++) {
		struct smap_ent *e = &m->e[*i];
		if (e->key) {
			if (key)
				*key = e->key;
			if (klen)
				*klen = e->klen;
			if (val)
				*val = e->val;
			(*i)++;
			return 1;
		}
	}
	return 0;
}

void
smap_free(struct smap *m, void (*fv)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].key) {
			if (fv)
				fv(m->e[i].val);
			free(m->e[i].key);
		}
	free(m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}

void
smap_delete_if(struct smap *m, int (*dead)(const void *val, void *arg), void *arg,
	       void (*fv)(void *))
{
	struct buf keys = BUF_INIT(0);
	size_t it = 0, klen, pos;
	const char *key;
	void *val;

	while (smap_next(m, &it, &key, &klen, &val))
		if (dead(val, arg)) {
			buf_add(&keys, &klen, sizeof klen);
			buf_add(&keys, key, klen);
		}
	for (pos = 0; pos < keys.len;) {
		memcpy(&klen, keys.p + pos, sizeof klen);
		pos += sizeof klen;
		fv(smap_del(m, keys.p + pos, klen));
		pos += klen;
	}
	buf_free(&keys);
}
