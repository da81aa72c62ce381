/* spanattr: edge gaps and self times from parent/child spans (see spanattr.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "detect.h"
#include "err.h"
#include "smap.h"
#include "spanattr.h"

/* A baseline: one edge (GAP) or one (service, operation) (SELF). */
struct base {
	struct ewd e;
	struct tailshare tail;  /* of findings, once warm */
	uint32_t n;
	int svc, svc2;          /* SELF: svc2 = -1 */
	int64_t first, last;
};

/* A cached span, with what its children told so far. */
struct ent {
	uint64_t h;             /* id hash | 1; 0: free */
	uint64_t trace;
	int64_t start, end;
	int svc;
	const char *op;         /* interned; NULL: refused */
	int judged;
	void *held;             /* the caller's, until released */
	uint32_t nsame, ncross;
	int cross_svc;
	double cross_ms;
	const char *cross_op;
	int64_t covered, cover_end;   /* union of children inside the span */
};

struct orphan {
	uint64_t ph;            /* the parent's id hash | 1; 0: free */
	int svc;
	int64_t start, end;
	const char *op;
};

struct due {
	int64_t at;
	size_t slot;
	uint64_t h;
};

struct spanattr {
	struct spanattr_cfg c;
	struct ent *ent;
	size_t mask;
	struct orphan *orph;
	size_t omask;
	struct due *heap;
	size_t nheap;
	struct smap bases, ops;
	struct buf key;
	struct spanattr_stats st;
};

static void release(struct spanattr *sa, struct ent *p, int explained, spanattr_fn fn, void *arg);

static uint64_t
idhash(const char *s)
{
	return smap_hash(s, strlen(s)) | 1;
}

static size_t
pow2(size_t n)
{
	size_t m = 1;

	while (m < n && m < ((size_t)1 << 30))
		m <<= 1;
	return m;
}

struct spanattr *
spanattr_new(const struct spanattr_cfg *c)
{
	struct spanattr *sa = ecalloc(1, sizeof *sa);
	size_t n = pow2(c->cache ? c->cache : 1);

	sa->c = *c;
	if (sa->c.pending < 1)
		sa->c.pending = 1;
	sa->ent = ecalloc(n, sizeof *sa->ent);
	sa->mask = n - 1;
	n = n >= 4 ? n / 4 : 1;
	sa->orph = ecalloc(n, sizeof *sa->orph);
	sa->omask = n - 1;
	sa->heap = emalloc(sa->c.pending * sizeof *sa->heap);
	sa->key = (struct buf)BUF_INIT(0);
	return sa;
}

void
spanattr_free(struct spanattr *sa)
{
	if (sa == NULL)
		return;
	for (size_t i = 0; i <= sa->mask; i++)
		release(sa, &sa->ent[i], 0, NULL, NULL);
	smap_free(&sa->bases, free);
	smap_free(&sa->ops, free);
	buf_free(&sa->key);
	free(sa->ent);
	free(sa->orph);
	free(sa->heap);
	free(sa);
}

const struct spanattr_stats *
spanattr_stats(const struct spanattr *sa)
{
	return &sa->st;
}

/* The interned operation name; NULL past max_keys names. */
static const char *
intern(struct spanattr *sa, const char *op)
{
	size_t n = strlen(op);
	void **v = smap_get(&sa->ops, op, n);

	if (v)
		return *v;
	if (sa->ops.n >= sa->c.max_keys)
		return NULL;
	v = smap_put(&sa->ops, op, n, NULL);
	*v = estrdup(op);
	return *v;
}

/* ---- the heap of pending spans, earliest due first ---- */

static void
heap_push(struct spanattr *sa, struct due d)
{
	size_t i = sa->nheap++;

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (sa->heap[p].at <= d.at)
			break;
		sa->heap[i] = sa->heap[p];
		i = p;
	}
	sa->heap[i] = d;
}

static struct due
heap_pop(struct spanattr *sa)
{
	struct due top = sa->heap[0], last = sa->heap[--sa->nheap];
	size_t i = 0, n = sa->nheap;

	for (;;) {
		size_t l = 2 * i + 1, m = l;
		if (l >= n)
			break;
		if (l + 1 < n && sa->heap[l + 1].at < sa->heap[l].at)
			m = l + 1;
		if (sa->heap[m].at >= last.at)
			break;
		sa->heap[i] = sa->heap[m];
		i = m;
	}
	if (n > 0)
		sa->heap[i] = last;
	return top;
}

/* ---- judging ---- */

/* -1: not judged (no warm baseline), 0: normal, 1: a finding. */
static int
judge(struct spanattr *sa, enum spanattr_kind kind, int svc, int svc2, const char *op,
      const struct ent *p, double x, spanattr_fn fn, void *arg)
{
	struct base *b;
	void **v;
	int created;

	buf_reset(&sa->key);
	/* "kind US svc US svc2 US op", by hand (every judged span) */
	buf_addll(&sa->key, (int)kind);
	buf_addc(&sa->key, '\x1f');
	buf_addll(&sa->key, svc);
	buf_addc(&sa->key, '\x1f');
	buf_addll(&sa->key, svc2);
	buf_addc(&sa->key, '\x1f');
	if (kind == SPANATTR_SELF)
		buf_adds(&sa->key, op);
	v = smap_get(&sa->bases, sa->key.p, sa->key.len);
	if (v == NULL) {
		if (sa->bases.n >= sa->c.max_keys) {
			sa->st.dropped_keys++;
			return -1;
		}
		v = smap_put(&sa->bases, sa->key.p, sa->key.len, &created);
		b = *v = ecalloc(1, sizeof *b);
		b->svc = svc;
		b->svc2 = svc2;
		b->first = p->start;
	}
	b = *v;
	b->last = p->end;
	if (kind == SPANATTR_GAP)
		sa->st.gaps++;
	else
		sa->st.selfs++;
	double lx = log(x + 1);
	int warm = b->n >= sa->c.warmup && p->end - b->first >= sa->c.warmup_ns;
	double z = warm ? ewd_z(&b->e, lx, sa->c.warmup, 0, 0.1) : 0;
	double base = exp(b->e.mean) - 1;
	int found = warm && z >= sa->c.z && x >= sa->c.ratio * base && x - base >= sa->c.min_ms;
	double w = warm ? tailshare_judge(&b->tail, found, p->end, &sa->c.tail) : 0;
	if (found && w > 0 && fn) {
		struct spanattr_find f = {
			.kind = kind, .svc = kind == SPANATTR_GAP ? svc2 : svc,
			.caller = kind == SPANATTR_GAP ? svc : -1, .op = op, .ts = p->end,
			.value_ms = x, .z = z, .sev = w * fmin(3, z / sa->c.z), .trace = p->trace,
			.baseline_ms = exp(b->e.mean + 1.645 * ewd_sd(&b->e, 0, 0.1)) - 1,
		};
		fn(&f, arg);
	}
	ewd_learn(&b->e, lx, ewd_alpha(sa->c.span), sa->c.warmup, sa->c.z, 0, 0.1);
	if (b->n < UINT32_MAX)
		b->n++;
	return warm ? found : -1;
}

/* Hands a held payload back (fn NULL: dropped with cfg drop). */
static void
release(struct spanattr *sa, struct ent *p, int explained, spanattr_fn fn, void *arg)
{
	void *h = p->held;

	if (h == NULL)
		return;
	p->held = NULL;
	if (explained)
		sa->st.explained++;
	if (fn) {
		struct spanattr_find f = {.kind = SPANATTR_HELD, .svc = p->svc, .caller = -1,
					  .op = p->op, .ts = p->end, .trace = p->trace,
					  .held = h, .explained = explained};
		fn(&f, arg);
	} else if (sa->c.drop) {
		sa->c.drop(h);
	}
}

static void
judge_ent(struct spanattr *sa, struct ent *p, spanattr_fn fn, void *arg)
{
	double dur = (double)(p->end - p->start) / 1e6;

	int explained = 0;

	p->judged = 1;
	if (p->nsame + p->ncross == 0) {
		/* a leaf: nothing to explain its duration */
	} else if (p->ncross == 1 && p->nsame == 0) {
		/* A client span: with a warm gap baseline its whole duration is
		 * the callee's (the gap judged here, the rest the callee's own). */
		double gap = dur - p->cross_ms;
		explained = judge(sa, SPANATTR_GAP, p->svc, p->cross_svc, p->cross_op, p,
				  gap > 0 ? gap : 0, fn, arg) >= 0;
	} else if (p->ncross == 0 && p->op) {
		/* Its duration is its children's plus its self time: a normal
		 * self time leaves it to the children, a grown one is the
		 * finding that replaces it (one finding per slow span). */
		double self = (double)(p->end - p->start - p->covered) / 1e6;
		explained = judge(sa, SPANATTR_SELF, p->svc, -1, p->op, p, self > 0 ? self : 0,
				  fn, arg) >= 0;
	} else {
		sa->st.ambiguous++;
	}
	release(sa, p, explained, fn, arg);
}

void
spanattr_advance(struct spanattr *sa, int64_t now, spanattr_fn fn, void *arg)
{
	while (sa->nheap > 0 && sa->heap[0].at <= now) {
		struct due d = heap_pop(sa);
		struct ent *p = &sa->ent[d.slot];
		if (p->h != d.h || p->judged) {
			sa->st.lost++;
			continue;
		}
		judge_ent(sa, p, fn, arg);
	}
}

void
spanattr_flush(struct spanattr *sa, spanattr_fn fn, void *arg)
{
	spanattr_advance(sa, INT64_MAX, fn, arg);
}

/* ---- taking spans ---- */

static void
adopt(struct ent *p, int svc, int64_t start, int64_t end, const char *op)
{
	if (svc != p->svc) {
		p->ncross++;
		p->cross_svc = svc;
		p->cross_ms = (double)(end - start) / 1e6;
		p->cross_op = op;
	} else {
		p->nsame++;
	}
	/* The union of the children inside the span; they come in start order. */
	if (start < p->start)
		start = p->start;
	if (end > p->end)
		end = p->end;
	if (start < p->cover_end)
		start = p->cover_end;
	if (end > start) {
		p->covered += end - start;
		p->cover_end = end;
	}
}

int
spanattr_span(struct spanattr *sa, const struct spanattr_span *sp, spanattr_fn fn, void *arg,
	      int *orphan_svc)
{
	const char *op = intern(sa, sp->op ? sp->op : "");
	int psvc = -1;

	if (orphan_svc)
		*orphan_svc = -1;
	spanattr_advance(sa, sp->start, fn, arg);
	if (sp->parent && *sp->parent) {
		uint64_t ph = idhash(sp->parent);
		struct ent *p = &sa->ent[ph & sa->mask];
		if (p->h == ph) {
			psvc = p->svc;
			if (p->judged)
				sa->st.late++;
			else
				adopt(p, sp->svc, sp->start, sp->end, op);
		} else {
			struct orphan *o = &sa->orph[ph & sa->omask];
			if (o->ph)
				sa->st.orphans_lost++;
			*o = (struct orphan){ph, sp->svc, sp->start, sp->end, op};
		}
	}
	if (sp->id == NULL || *sp->id == '\0') {
		struct ent tmp = {.svc = sp->svc, .op = op, .end = sp->end, .trace = sp->trace,
				  .held = sp->held};
		release(sa, &tmp, 0, fn, arg);
		return psvc;
	}
	uint64_t h = idhash(sp->id);
	size_t slot = h & sa->mask;
	struct ent *e = &sa->ent[slot];
	/* An older span in the slot is evicted (its held payload released
	 * unexplained); if it was pending, its heap entry no longer matches
	 * and counts as lost when it comes due. */
	release(sa, e, 0, fn, arg);
	*e = (struct ent){.held = sp->held, .h = h, .trace = sp->trace, .start = sp->start, .end = sp->end,
			  .svc = sp->svc, .op = op, .cover_end = sp->start};
	struct orphan *o = &sa->orph[h & sa->omask];
	if (o->ph == h) {
		adopt(e, o->svc, o->start, o->end, o->op);
		o->ph = 0;
		if (orphan_svc)
			*orphan_svc = o->svc;
	}
	if (sa->nheap >= sa->c.pending) {
		e->judged = 1;       /* refused: never judged */
		sa->st.lost++;
		release(sa, e, 0, fn, arg);
		return psvc;
	}
	heap_push(sa, (struct due){sp->end + sa->c.slack_ns, slot, h});
	return psvc;
}

/* ---- forgetting ---- */

static int
dead_svc(const unsigned char *dead, int n, int svc)
{
	return svc >= 0 && svc < n && dead[svc];
}

static void
drop_bases(struct spanattr *sa, const unsigned char *dead, int n, int64_t before)
{
	struct buf gone = BUF_INIT(0);
	size_t it = 0, klen, pos;
	const char *key;
	void *val;

	while (smap_next(&sa->bases, &it, &key, &klen, &val)) {
		const struct base *b = val;
		if (dead ? dead_svc(dead, n, b->svc) || dead_svc(dead, n, b->svc2) : b->last < before) {
			buf_add(&gone, &klen, sizeof klen);
			buf_add(&gone, key, klen);
		}
	}
	for (pos = 0; pos < gone.len;) {
		memcpy(&klen, gone.p + pos, sizeof klen);
		pos += sizeof klen;
		free(smap_del(&sa->bases, gone.p + pos, klen));
		pos += klen;
	}
	buf_free(&gone);
}

void
spanattr_forget(struct spanattr *sa, const unsigned char *dead, int n)
{
	for (size_t i = 0; i <= sa->mask; i++) {
		struct ent *e = &sa->ent[i];
		if (e->h && (dead_svc(dead, n, e->svc) || (e->ncross && dead_svc(dead, n, e->cross_svc)))) {
			release(sa, e, 0, NULL, NULL);
			e->h = 0;
		}
	}
	for (size_t i = 0; i <= sa->omask; i++)
		if (sa->orph[i].ph && dead_svc(dead, n, sa->orph[i].svc))
			sa->orph[i].ph = 0;
	drop_bases(sa, dead, n, 0);
}

void
spanattr_sweep(struct spanattr *sa, int64_t before)
{
	drop_bases(sa, NULL, 0, before);
}
