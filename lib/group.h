/*
 * group: aiops-correlate's candidate incident, the anomalies it gathered
 * and its score.  A group holds one entry per signal (struct gkey, by the
 * anomaly's key: a series, a template, an operation, an alert) with its
 * evidence, one per service (struct gsvc, the ranking's input) and the
 * trace ids it saw lately.
 *
 * The score of a group:
 *   A     = sum over its signals of min(key_cap, sum of their severities)
 *   T     = distinct signal types (log, metric, span), S = services
 *   score = A * (1 + type_weight * (T - 1)) * (1 + service_weight * min(S - 1, service_cap))
 *
 * A group holds at most max_keys signals; an anomaly of a signal beyond
 * still counts in the score, without evidence.  Services are the stage's
 * indices; the only thing read of the call graph is cfg->adjacent.  The
 * functions exit on allocation failure (lib/err) and print nothing.
 */
#ifndef AIOPS_GROUP_H
#define AIOPS_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "smap.h"

/* Signal types, bits of group.types. */
enum { GROUP_LOG, GROUP_METRIC, GROUP_SPAN, GROUP_NTYPES };
/* A span measure beside lib/spanattr's kinds (SPANATTR_GAP 1, SELF 2,
 * HELD 3): a span far faster than usual (lib/spandet). */
enum { GROUP_SPAN_FAST = 4 };

struct buf;
/* Appends the start of a detector's key for a signal, "TYPE US SVC US NAME
 * US" (US: \x1f, numbers in decimal), built by hand: it is on the path of
 * every metric point and span. */
void group_key(struct buf *b, int type, int svc, const char *name);

/* One anomaly, as handed to the grouping. */
struct anom {
	int64_t ts;
	int svc, type, down;       /* type: GROUP_LOG ...; down: a metric below its baseline */
	double sev, z;
	uint64_t trace;            /* 0: none */
	const char *key;           /* the signal's identity */
	/* evidence */
	int level;                 /* of a log line, the stage's scale */
	const char *tpl, *msg;
	size_t msglen;
	const char *name, *labels; /* a metric's name and labels (compact JSON) */
	double value, baseline;
	int sat;                   /* a metric at saturation_share of its limit */
	const char *op;            /* a span's operation */
	int measure;               /* spanattr_kind, GROUP_SPAN_FAST (0: duration) */
	const char *caller;        /* of an edge gap (SPANATTR_GAP): the caller's name */
	double dur_ms;
	int is_error;
	const struct alert *al;    /* an alert record, not a detector's finding */
};

/* A signal inside a group, with its evidence. */
struct gkey {
	char *key;             /* its key in the group's map */
	int type, svc;
	double sev;
	uint32_t count;
	int64_t first;
	/* log */
	char *tpl;
	int level;
	char *samples[2];
	int nsamples;
	/* metric */
	char *name, *labels;
	double baseline, peak, peakz;
	int sat;
	/* span */
	char *op, *caller;     /* caller: of an edge gap */
	int measure;
	uint32_t errors;
	double base_p95;
	double durs[64];
	uint32_t ndurs;
	/* alert: name in name */
	int alert, adir, asrc;
	int down;              /* a metric drop (set by its first anomaly) */
};

struct gsvc {
	int svc;
	int64_t first, last;
	int64_t fresh;         /* its latest anomaly that raised the score, or TS_NONE */
	double strength, sym, sat;   /* sym: without metrics below their baseline */
	uint32_t n;
	unsigned types;        /* the types of its anomalies: bit 1 << GROUP_LOG ... */
	double zmax;           /* the largest |z| of its metric and span anomalies (capped at 1e6) */
	uint32_t persist;      /* its metric series anomalous at two points or more */
};

struct trace_ref {
	uint64_t h;
	int64_t ts;
};

#define GROUP_TRACES 256

struct group {
	uint64_t seq;
	int64_t start, last, det_ts;
	int64_t fresh;         /* its latest anomaly that raised its score */
	int detected, types;
	uint32_t nsat;         /* its anomalies that are saturations */
	uint32_t persist;      /* the most persistent series one service has (gsvc.persist) */
	double a, score;
	int64_t det_latency_ms;
	uint64_t nanom, nsignals;
	struct gsvc *sv;
	int nsv, capsv;
	struct smap keys;
	struct gkey **karr;
	size_t nk, capk;
	struct trace_ref tr[GROUP_TRACES];   /* the latest GROUP_TRACES, a ring */
	size_t ntr;
};

struct group_cfg {
	double key_cap, type_weight, service_weight;
	long long service_cap;
	double detect_threshold;
	long long min_signals, min_types;
	long long saturation_detect;   /* saturated points that detect (0: never) */
	long long persist_detect;      /* a service's metric series anomalous at two points
					  or more that stand in for min_types (0: never) */
	double persist_score;          /* when the score is at least this many times
					  detect_threshold */
	double persist_strength;       /* and the service's own strength this many */
	long long max_keys;            /* signals tracked in one group */
	long long sample_chars;        /* bytes kept of a sample line */
	int64_t window_ns;             /* a neighbour or a shared trace this recent joins */
	int64_t quiet_ns;              /* the same service this recent joins; and a group
					  this long without anomalies closes */
	int quiet_fresh;               /* recent and quiet count only anomalies that
					  raised the group's score (new evidence) */
	int64_t max_duration_ns;       /* a group this long after its start closes */
	long long max_open;            /* open groups; the oldest closes beyond */
	/* Whether services a and b call one another. */
	int (*adjacent)(int a, int b, void *arg);
	void *arg;
};

/* A new group (seq) that starts and ends at ts. */
struct group *group_new(uint64_t seq, int64_t ts);
void group_free(struct group *g);

/*
 * Whether a joins g: a's service was in g within quiet_ns, or a neighbour
 * of it within window_ns, or a's trace within window_ns.  With quiet_fresh
 * a service "was in g" at its latest anomaly that raised g's score: an
 * anomaly of a signal already at key_cap adds nothing new.
 */
int group_connected(const struct group *g, const struct anom *a, const struct group_cfg *c);

/* Adds a's contribution to its signal entry and to the group totals;
 * returns -1 when its signal was left out (max_keys reached), else 0. */
int group_add(struct group *g, const struct anom *a, const struct group_cfg *c);

/* Moves everything of b into a (b is freed). */
void group_merge(struct group *a, struct group *b, const struct group_cfg *c);

/*
 * Whether a group is detected, given its score and counts: min_signals
 * signals and either saturation_detect saturated points or the score at
 * detect_threshold with min_types types.  It looks only at the group.
 */
int group_decide(const struct group *g, const struct group_cfg *c);

/*
 * How group_rank_strength() weighs a group's signals for ranking:
 *   spread   lib/spread's alpha (0: off): the part of a signal's capped
 *            severity that lib/spread weighs away is taken off, a
 *            signal's class being what it is without its service (a
 *            metric's name and direction, a log template, a span measure
 *            and operation, an alert's source, direction and name);
 *   support  (0: off) an operation's signal (slow or failed spans, an
 *            edge gap, a self time; not an alert) with count < support
 *            anomalies keeps count / support of what is left: one slow
 *            span is weak evidence, however slow;
 *   own      a self time's weighed severity is also the service's own
 *            (lib/rank: the part its callees cannot explain), and so is
 *            an edge gap's (the time between a caller's client span and
 *            the service's server span: no callee of the service spends
 *            it);
 *   gap_mag  (0: off) an edge gap's weighed severity is multiplied by
 *            1 + gap_mag * log10(r), r the median of the gaps it kept
 *            over its baseline when it was first anomalous (when r > 1):
 *            a call that takes 100 times its usual network time is not
 *            a wobble, and one key cannot show it by breadth.
 */
struct group_rank_w {
	double spread, support;
	int own;
	double gap_mag;
};

/*
 * Each service's strength for ranking, out[j] for g->sv[j]: its strength
 * less what w weighs away (never below 0), and own[j] its own part (0
 * unless w->own).  sym is left as it is: the call-graph explanation does
 * not change.
 */
void group_rank_strength(const struct group *g, const struct group_rank_w *w,
			 const struct group_cfg *c, double *out, double *own);

/*
 * The open groups, oldest first.  A group leaves the set when it closes:
 * closed(g, arg) gets it and frees it (group_free).
 */
struct groupset {
	struct group **g;
	size_t n, cap;
	uint64_t seq;          /* of the latest group */
	void (*closed)(struct group *g, void *arg);
	void *arg;
};

/* Closes the groups that are quiet (quiet_ns without an anomaly; with
 * quiet_fresh, without one that raised the score) or too long
 * (max_duration_ns) at stream time t.  With quiet_fresh, a fault that goes
 * on after its signals reached key_cap no longer holds its group open over
 * the next fault, which starts a group of its own. */
void groupset_close_due(struct groupset *s, int64_t t, const struct group_cfg *c);

/*
 * The group a joins (group_connected): the oldest connected one, into which
 * the other connected ones are merged; or a new one (closing the oldest
 * beyond max_open).  a is not added.
 */
struct group *groupset_join(struct groupset *s, const struct anom *a, const struct group_cfg *c);

/* Closes all, the earliest start first (then the older). */
void groupset_close_all(struct groupset *s);

void groupset_free(struct groupset *s);

#endif
