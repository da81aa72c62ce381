/*
 * spanattr: trace attribution from parent/child span pairs, for
 * aiops-correlate.  Two streaming detectors, learned like the per-operation
 * duration detector (an ewd of log(1 + ms) per key, the same warm-up, z,
 * ratio and floor rules):
 *
 *   edge gap   per caller -> callee edge: a parent span of service A whose
 *              only child is one span of service B (a client span and the
 *              server span it caused) has the gap  parent - child  (the
 *              network and the callee's queueing, outside the callee's own
 *              span).  A growing gap is a finding on the CALLEE B (a delay
 *              injected on B's pod shows only in its callers' client spans).
 *   self time  per (service, operation): a span whose children are all of
 *              its own service has self time  duration - union(children)
 *              (clipped to the span).  A growing self time is a finding on
 *              the service itself.
 *
 * The data need no client/server kind: the pairs come from parent_id and
 * the service of each span.  A span with no child seen is not judged here
 * (its duration is the duration detector's); a span with children of
 * several services, or of its own and another, is not judged either (its
 * remainder cannot be split between them) and is counted as `ambiguous`.
 *
 * Order and bounds.  Spans arrive in order of start (a child after its
 * parent, except with clock skew).  Each span goes into a direct-mapped
 * cache of span_id (`cache` entries, a power of two; a collision evicts the
 * older span) and into a heap of pending spans (`pending` at most) until
 * the stream clock passes its end + slack_ns: by then every child that
 * started inside it has arrived, and the span is judged.  A child whose
 * parent is not in the cache waits in a direct-mapped orphan table (one
 * child per slot, `cache` / 4 slots) in case the parent comes later (skew);
 * a parent that never comes (root outside the window, untraced caller)
 * costs nothing but the slot.  What is not seen is never guessed:
 *   - a parent evicted, or refused because the heap was full, before it is
 *     judged: not judged (counted in `lost`);
 *   - a child that arrives after its parent was judged: ignored (`late`);
 *   - an orphan overwritten in its slot: its parent misses one child
 *     (`orphans_lost`), which can only make a self time look longer; a
 *     parent that lost a child this way cannot be told from one that
 *     did not, so keep the cache well above the spans of slack_ns.
 * Baselines beyond max_keys are refused (`dropped_keys`); so are operation
 * names beyond max_keys distinct ones (such a span is not judged for self
 * time, and a gap finding on it has a NULL op).
 *
 * Holding.  The caller may attach a payload to a span (its own duration
 * finding, say) and get it back when the span is judged, with whether the
 * span's duration is accounted for here: a span with one child of another
 * service whose gap has a warm baseline (its time is the gap, judged here,
 * plus the callee's own span), or a span whose children are its own and
 * whose self time has a warm baseline (its time is its children's plus its
 * self time: a grown self time is the finding that stands for it).  A
 * leaf, an ambiguous
 * span, a span not judged by a warm baseline, an evicted or refused span
 * and a span without an id give their payload back unexplained (the
 * latter two at once).  So a caller that holds its duration findings and
 * drops the explained ones blames a slow call on the callee and not on
 * every service above it, and counts a slow span once.  A payload of a forgotten service, or still held
 * at spanattr_free, goes to cfg drop (when not NULL).
 *
 * A finding weighs what lib/tailshare says of its key's slow share (cfg
 * tail; factor 0: always 1): a key that is always a little slow reports
 * nothing; the "explained" judgement above does not depend on it.
 *
 * Findings go to a callback, with the span's end as their time.  Nothing
 * here prints, reads a clock or fails (allocation failure exits, as
 * emalloc).  Service numbers are the caller's; spanattr_forget drops every
 * reference to services being reused.
 */
#ifndef AIOPS_SPANATTR_H
#define AIOPS_SPANATTR_H

#include <stddef.h>
#include <stdint.h>

#include "tailshare.h"

struct spanattr_cfg {
	double z;          /* anomalous from this z of log(1 + ms) */
	double ratio;      /* and this many times the baseline */
	double min_ms;     /* and at least this much longer */
	double span;       /* EWMA span of a baseline, in observations */
	uint32_t warmup;   /* observations a key learns before it is judged */
	int64_t warmup_ns; /* and stream time since its first one */
	int64_t slack_ns;  /* a span is judged this long after its end */
	size_t cache;      /* span entries (rounded up to a power of two) */
	size_t pending;    /* spans awaiting judgement */
	size_t max_keys;   /* baselines held */
	void (*drop)(void *held);   /* frees a payload not handed back */
	struct tailshare_cfg tail;  /* a finding's weight (lib/tailshare) */
};

enum spanattr_kind { SPANATTR_GAP = 1, SPANATTR_SELF = 2, SPANATTR_HELD = 3 };

struct spanattr_span {
	int64_t start, end;   /* ns; end >= start */
	int svc;              /* >= 0 */
	const char *id;       /* NULL or "": not cached (cannot be a parent) */
	const char *parent;   /* NULL or "": a root */
	const char *op;       /* operation name, NULL as "" */
	uint64_t trace;       /* trace hash, 0: none */
	void *held;           /* a payload handed back as SPANATTR_HELD, or NULL */
};

struct spanattr_find {
	enum spanattr_kind kind;
	int svc;              /* GAP: the callee; SELF: the service */
	int caller;           /* GAP: the caller; SELF: -1 */
	const char *op;       /* GAP: the callee's operation (NULL: not held);
				 SELF: the span's */
	int64_t ts;           /* the judged span's end */
	double value_ms;      /* the gap or self time */
	double baseline_ms;   /* the baseline's upper 95 % (mean + 1.645 sd) */
	double z, sev;        /* sev in (0, 3]: min(3, z / cfg z) times the
				 key's tailshare weight (a finding of weight 0
				 is not reported) */
	uint64_t trace;
	/* SPANATTR_HELD (svc, op, ts, trace: the span's; no value): */
	void *held;           /* the payload, now the callback's */
	int explained;        /* 1: the span's duration is explained by its children */
};

typedef void (*spanattr_fn)(const struct spanattr_find *f, void *arg);

struct spanattr_stats {
	uint64_t gaps, selfs;       /* observations judged */
	uint64_t explained;         /* held payloads handed back explained */
	uint64_t ambiguous, lost, late, orphans_lost, dropped_keys;
};

struct spanattr *spanattr_new(const struct spanattr_cfg *c);
void spanattr_free(struct spanattr *sa);

/*
 * Takes one span: judges the spans that are due at its start (as
 * spanattr_advance), caches it, links it to its parent (or waits as an
 * orphan) and adopts a waiting orphan of its own.  Returns the parent's
 * service when the parent is cached, else -1; *orphan_svc (when not NULL)
 * is set to the service of the orphan adopted, else -1.  These are the
 * call graph's edges: parent -> span, span -> orphan.
 */
int spanattr_span(struct spanattr *sa, const struct spanattr_span *sp, spanattr_fn fn, void *arg,
		  int *orphan_svc);

/* Judges every pending span whose end + slack_ns is at or before now. */
void spanattr_advance(struct spanattr *sa, int64_t now, spanattr_fn fn, void *arg);

/* Judges every pending span (the end of the stream). */
void spanattr_flush(struct spanattr *sa, spanattr_fn fn, void *arg);

/* Drops cached spans, orphans and baselines of the services i < n with
 * dead[i] set. */
void spanattr_forget(struct spanattr *sa, const unsigned char *dead, int n);

/* Drops baselines last observed before `before`. */
void spanattr_sweep(struct spanattr *sa, int64_t before);

const struct spanattr_stats *spanattr_stats(const struct spanattr *sa);

#endif
