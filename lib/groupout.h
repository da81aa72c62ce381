/*
 * groupout: the `group` record of one of aiops-correlate's groups
 * (lib/group), bounded in size.  The record holds id ("G" and n, at least
 * four digits), detected, start_ts, detected_ts (the detecting anomaly's
 * time plus the decision latency; null when not detected), end_ts,
 * decision_latency_ms, score, the ranked services {service, score,
 * first_ts, anomalies}, signal_count, anomaly_count, evidence {logs,
 * metrics, spans, alerts (only when there are some), edges} and method
 * "stat".  Scores and span p95s are rounded to 3 decimals.
 *
 * Evidence lists come in the order the caller gives (sorted), each up to
 * its limit.  While the compact JSON is longer than max_bytes, evidence is
 * shed, the least useful first: samples down to one, edges halved down to
 * 4, then one item at a time from the longest of alerts, logs, metrics,
 * spans down to one each, no samples, services down to 3, no edges, no
 * evidence items at all.  What is left is written even when still too
 * long.  The ranking and the orders are the caller's.
 */
#ifndef AIOPS_GROUPOUT_H
#define AIOPS_GROUPOUT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "group.h"
#include "rank.h"

/* Items listed at most. */
struct groupout_limits {
	long long logs, samples, metrics, spans, edges, services, alerts;
};

/* A call between two of the group's services. */
struct groupout_edge {
	const char *from, *to;
};

struct groupout {
	const struct group *g;
	const struct rank_cand *rk;         /* its services, ranked (g->nsv of them) */
	struct gkey *const *sorted;         /* its signals in the order listed (g->nk) */
	const struct groupout_edge *edges;  /* calls among its services, in the order listed */
	size_t nedges;
	const char *const *level_names;     /* of gkey.level */
	/* The name of service svc (a gkey's). */
	const char *(*svc_name)(int svc, void *arg);
	void *arg;
};

/* The record (the caller owns it). */
json_object *groupout_record(const struct groupout *in, uint64_t n, struct groupout_limits lim,
			     long long max_bytes);

/*
 * What aiops-correlate writes for a closing group, from the group alone:
 * its services ranked (their ranking strength and own part from
 * group_rank_strength with w, then rank_run with method and rp), its
 * signals in the order listed (logs, then metrics, then spans and alerts;
 * a metric by its peak |z|; then the more anomalies, the earlier first,
 * the service's name, the template, name or operation, the labels), and
 * the calls among its services that calls() knows, over the services in
 * name order, lim.edges at most; then groupout_record().
 */
struct groupout_src {
	const struct group *g;
	const struct group_cfg *c;
	const struct group_rank_w *w;
	int method;                          /* enum rank_method */
	const struct rank_params *rp;
	int (*calls)(int from, int to, void *arg);   /* service from calls service to */
	const char *const *level_names;
	const char *(*svc_name)(int svc, void *arg);
	void *arg;                           /* of calls and svc_name */
};

json_object *groupout_build(const struct groupout_src *s, uint64_t n, struct groupout_limits lim,
			    long long max_bytes);

#endif
