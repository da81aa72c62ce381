/*
 * spandet: aiops-correlate's span detector.  Per operation (service, span
 * name) a baseline of log(1 + duration_ms) (lib/detect's ewd) and an error
 * share; an operation is judged once it has warmup spans and warmup_ns of
 * its own history.  A span is slow at z of its log latency, at least ratio
 * times the baseline and min_ms longer, weighed by the operation's slow
 * share (lib/tailshare) and min(3, z / z threshold); an error span is an
 * anomaly of severity 1.5 while the usual error share is below
 * error_ratio.  With fast_ratio > 0 a span that is neither slow nor an
 * anomalous error is fast when it took at most 1 / fast_ratio of its
 * operation's running median of log latency and min_ms less (the median
 * learns no slow span and nothing during a slow episode), severity min(3,
 * log10(median / duration)), weighed by the operation's own fast share
 * (lib/tailshare): an operation that suddenly stops doing its work
 * (returns or throws before its calls) is evidence of its service.  It is
 * a separate signal (measure GROUP_SPAN_FAST, key "2 US service US name US
 * fast US") and goes through spanattr like a slow one, so a span made fast
 * by a callee that failed fast is explained by its child.  At most max_ops
 * operations are held: a span of a new one beyond is only fed to the call
 * graph.
 *
 * Every span also goes through lib/spanattr's span cache: the call it
 * shows (the parent's service -> the span's, the span's -> an orphan
 * child's) is learned in graph (lib/callgraph), and with attr the edge
 * gaps (blamed on the callee) and self times it judges are anomalies
 * too, and a span's finding is held until its children are known and
 * handed on without its latency part when they explain it (counted in
 * explained).  Without attr a finding is handed on at once.
 *
 * Anomalies go to found(a, arg) (an edge gap's caller named by svc_name).
 * Keys: "2 US service US name US" for an operation, "2 US service US gap|self
 * US caller US operation" for a finding of spanattr (US: 0x1f).
 */
#ifndef AIOPS_SPANDET_H
#define AIOPS_SPANDET_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"
#include "callgraph.h"
#include "detect.h"
#include "group.h"
#include "smap.h"
#include "spanattr.h"
#include "tailshare.h"

struct spandet_cfg {
	double z, span, ratio, min_ms;     /* slow: z, EWMA span in spans, ratio, ms */
	double error_ratio, error_span;    /* error share below which errors count; its span */
	long long warmup;                  /* spans an operation learns first */
	int64_t warmup_ns;                 /* and stream time since its first span */
	struct tailshare_cfg tail;
	long long max_ops;
	int attr;                          /* judge edge gaps and self times */
	double fast_ratio;                 /* fast: at most 1 / this of the baseline (0: off) */
	int64_t attr_slack_ns;             /* children are awaited this long */
	size_t cache, pending;             /* spanattr's span cache, spans awaiting children */
	struct callgraph *graph;           /* learns the calls */
	void (*found)(const struct anom *a, void *arg);
	const char *(*svc_name)(int svc, void *arg);
	void *arg;
};

/* One operation. */
struct sser {
	struct ewd lat;        /* of log(duration_ms) */
	double med;            /* running median of log(1 + ms): fast's baseline */
	struct tailshare tail; /* of slow spans, once warm */
	struct tailshare fast; /* of fast spans, once warm */
	double errshare;
	uint32_t n;
	int svc;
	int64_t first, last;   /* its first and latest span */
	char *op;
};

struct spandet {
	struct spandet_cfg c;
	struct smap ops;
	struct spanattr *attr;
	uint64_t explained;    /* held findings whose latency the children explained */
	struct buf key;
};

void spandet_init(struct spandet *d, const struct spandet_cfg *c);

/*
 * Judges and learns a span of service svc at ts (dur: ms, NAN when not
 * known; sid, pid: its and its parent's span ids; name: its operation;
 * trace: the trace id's hash, 0 for none).  Returns -1 when its operation
 * was refused (max_ops), else 0.
 */
int spandet_span(struct spandet *d, int svc, int64_t ts, double dur, const char *sid,
		 const char *pid, const char *name, uint64_t trace, int is_error);

/* Judges the spans whose children are due by stream time now. */
void spandet_advance(struct spandet *d, int64_t now);
/* Judges every span still awaiting its children (at the end). */
void spandet_flush(struct spandet *d);
/* Forgets the operations and cached spans idle since before `before`. */
void spandet_sweep(struct spandet *d, int64_t before);
/* Forgets the operations and cached spans of the services i < span with
 * dead[i]. */
void spandet_forget(struct spandet *d, const unsigned char *dead, int span);
/* With attr: adds span_attr {edge_gaps, self_times, explained, ambiguous,
 * lost} to a stage_end record. */
void spandet_add_end(const struct spandet *d, json_object *end);
void spandet_free(struct spandet *d);

#endif
