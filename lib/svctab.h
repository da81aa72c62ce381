/*
 * svctab: aiops-correlate's bounded table of service names.  Each name gets
 * a small index for the caller's own per-service arrays; an index is reused
 * after its service is evicted.
 *
 * The table holds at most max services.  When it is full, a new name first
 * evicts every service that is idle (not looked up for idle_ns of stream
 * time) and that the caller does not mark busy; the caller's forget
 * callback drops every reference to those indices before any is reused.
 * A name that still finds no room is refused: svctab_get returns -1 and
 * counts it.  Eviction passes are at least SVCTAB_PASS_NS of stream time
 * apart (each costs the caller a walk over what it holds).  Nothing is evicted while the table has room, so a table that
 * never fills behaves as if it had no cap.
 *
 * The counts: evicted (services evicted), refusals (lookups refused, one
 * per record dropped) and refused (distinct names refused; exact up to
 * SVCTAB_REFUSED_KEPT or max distinct names, whichever is larger, beyond
 * which a name may be counted again).  first_refused is the first name
 * refused (NULL: none).
 */
#ifndef AIOPS_SVCTAB_H
#define AIOPS_SVCTAB_H

#include <stdint.h>

#include "smap.h"

#define SVCTAB_REFUSED_KEPT 65536
#define SVCTAB_PASS_NS 1000000000LL   /* 1 s */

struct svctab_ops {
	/* Sets busy[i] = 1 for each index i < span that must stay. */
	void (*busy)(unsigned char *busy, int span, void *arg);
	/* Forgets every reference to the indices i < span with dead[i] = 1;
	 * their names are still valid during the call. */
	void (*forget)(const unsigned char *dead, int span, void *arg);
	void *arg;
};

struct svctab {
	struct smap index;        /* name -> index + 1 */
	char **names;             /* by index; NULL: a free index */
	int64_t *last;            /* stream time of the last lookup */
	int span;                 /* indices handed out are < span */
	int live, max;
	int *freel, nfree;
	int64_t idle_ns;
	int64_t next_try;         /* no eviction can succeed before this */
	struct smap refused_names;
	char *first_refused;
	uint64_t evicted, refused, refusals;
	struct svctab_ops ops;
};

/* max >= 1, idle_ns > 0; ops may have NULL callbacks. */
void svctab_init(struct svctab *t, int max, int64_t idle_ns, const struct svctab_ops *ops);

/* The index of name, marked as seen at stream time now.  An absent name
 * is added when add is set (evicting idle services when the table is
 * full); -1 when absent and not added, or refused. */
int svctab_get(struct svctab *t, const char *name, int add, int64_t now);

/* The name of a live index. */
const char *svctab_name(const struct svctab *t, int i);

void svctab_free(struct svctab *t);

#endif
