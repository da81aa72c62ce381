/* svctab: a bounded table of service names with idle eviction. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "svctab.h"

void
svctab_init(struct svctab *t, int max, int64_t idle_ns, const struct svctab_ops *ops)
{
	memset(t, 0, sizeof *t);
	t->max = max > 0 ? max : 1;
	t->idle_ns = idle_ns > 0 ? idle_ns : 1;
	t->next_try = INT64_MIN;
	if (ops)
		t->ops = *ops;
}

/*
 * Evicts the idle services that are not busy; returns how many.  Also sets
 * next_try, the earliest stream time at which another pass could evict one
 * (last only grows, so it stays a lower bound), and at least a second of
 * stream time away: a pass costs the caller a walk over all it holds, and a
 * flood of new names must not pay it for each name.
 */
static int
evict_idle(struct svctab *t, int64_t now)
{
	unsigned char *busy, *dead;
	int64_t next = INT64_MAX;
	int n = 0;

	if (now < t->next_try)
		return 0;
	busy = ecalloc((size_t)t->span, 1);
	dead = ecalloc((size_t)t->span, 1);
	if (t->ops.busy)
		t->ops.busy(busy, t->span, t->ops.arg);
	for (int i = 0; i < t->span; i++) {
		int64_t due;
		if (t->names[i] == NULL)
			continue;
		due = t->last[i] > INT64_MAX - t->idle_ns ? INT64_MAX : t->last[i] + t->idle_ns;
		if (!busy[i] && due <= now) {
			dead[i] = 1;
			n++;
			continue;
		}
		if (due < next)
			next = due;
	}
	/* A busy service may leave its group at any time: its due is a
	 * lower bound too. */
	t->next_try = now > INT64_MAX - SVCTAB_PASS_NS ? INT64_MAX : now + SVCTAB_PASS_NS;
	if (next > t->next_try)
		t->next_try = next;
	if (n > 0) {
		if (t->ops.forget)
			t->ops.forget(dead, t->span, t->ops.arg);
		t->freel = erealloc(t->freel, (size_t)(t->nfree + n) * sizeof *t->freel);
		/* Highest first, so that the lowest index is reused first. */
		for (int i = t->span - 1; i >= 0; i--) {
			if (!dead[i])
				continue;
			smap_del(&t->index, t->names[i], strlen(t->names[i]));
			free(t->names[i]);
			t->names[i] = NULL;
			t->freel[t->nfree++] = i;
		}
		t->live -= n;
		t->evicted += (uint64_t)n;
	}
	free(busy);
	free(dead);
	return n;
}

static void
refuse(struct svctab *t, const char *name)
{
	int created = 0;

	t->refusals++;
	if (t->first_refused == NULL)
		t->first_refused = estrdup(name);
	if (smap_get(&t->refused_names, name, strlen(name)))
		return;
	if (t->refused_names.n < SVCTAB_REFUSED_KEPT || (long long)t->refused_names.n < t->max)
		smap_put(&t->refused_names, name, strlen(name), &created);
	t->refused++;
}

int
svctab_get(struct svctab *t, const char *name, int add, int64_t now)
{
	size_t len = strlen(name);
	void **slot = smap_get(&t->index, name, len);
	int i;

	if (slot) {
		i = (int)(intptr_t)*slot - 1;
		if (now > t->last[i])
			t->last[i] = now;
		return i;
	}
	if (!add)
		return -1;
	if (t->live >= t->max && evict_idle(t, now) == 0) {
		refuse(t, name);
		return -1;
	}
	if (t->nfree > 0) {
		i = t->freel[--t->nfree];
	} else {
		i = t->span++;
		t->names = erealloc(t->names, (size_t)t->span * sizeof *t->names);
		t->last = erealloc(t->last, (size_t)t->span * sizeof *t->last);
	}
	t->names[i] = estrdup(name);
	t->last[i] = now;
	t->live++;
	/* next_try stays a lower bound of the due times (a pass that evicted
	 * every service left none). */
	if (now <= INT64_MAX - t->idle_ns && now + t->idle_ns < t->next_try)
		t->next_try = now + t->idle_ns;
	slot = smap_put(&t->index, name, len, NULL);
	*slot = (void *)(intptr_t)(i + 1);
	return i;
}

const char *
svctab_name(const struct svctab *t, int i)
{
	return t->names[i];
}

void
svctab_free(struct svctab *t)
{
	for (int i = 0; i < t->span; i++)
		free(t->names[i]);
	free(t->names);
	free(t->last);
	free(t->freel);
	free(t->first_refused);
	smap_free(&t->index, NULL);
	smap_free(&t->refused_names, NULL);
	memset(t, 0, sizeof *t);
}
