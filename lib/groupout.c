/* groupout: the group record of a group (contract in groupout.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "err.h"
#include "group.h"
#include "groupout.h"
#include "js.h"
#include "rank.h"
#include "spanattr.h"
#include "stage.h"
#include "ts.h"

static double
round3(double x)
{
	return round(x * 1000) / 1000;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double
p95_of(const double *v, uint32_t n)
{
	double tmp[64];
	uint32_t r;

	if (n == 0)
		return NAN;
	memcpy(tmp, v, n * sizeof *tmp);
	qsort(tmp, n, sizeof *tmp, cmp_double);
	r = (uint32_t)ceil(0.95 * n);
	return tmp[r ? r - 1 : 0];
}

static json_object *
build_group(const struct groupout *in, uint64_t n, const struct groupout_limits *lim)
{
	const struct group *g = in->g;
	const struct rank_cand *rk = in->rk;
	struct gkey *const *sorted = in->sorted;
	json_object *o = stage_record("group"), *arr, *ev, *x;
	char id[32];
	long long c;

	snprintf(id, sizeof id, "G%04llu", (unsigned long long)n);
	js_add_str(o, "id", id);
	js_add_bool(o, "detected", g->detected);
	js_add_ts(o, "start_ts", g->start);
	js_add_ts(o, "detected_ts", g->detected ? g->det_ts + g->det_latency_ms * TS_NS_PER_MS : TS_NONE);
	js_add_ts(o, "end_ts", g->last);
	if (g->detected)
		js_add_int(o, "decision_latency_ms", g->det_latency_ms);
	else
		json_object_object_add(o, "decision_latency_ms", NULL);
	js_add_double(o, "score", round3(g->score));
	arr = json_object_new_array();
	for (int i = 0; i < g->nsv && i < lim->services; i++) {
		x = json_object_new_object();
		js_add_str(x, "service", rk[i].name);
		js_add_double(x, "score", round3(rk[i].score));
		js_add_ts(x, "first_ts", rk[i].first);
		js_add_int(x, "anomalies", rk[i].n);
		json_object_array_add(arr, x);
	}
	json_object_object_add(o, "services", arr);
	js_add_int(o, "signal_count", (int64_t)g->nsignals);
	js_add_int(o, "anomaly_count", (int64_t)g->nanom);
	ev = json_object_new_object();
	/* logs */
	arr = json_object_new_array();
	c = 0;
	for (size_t i = 0; i < g->nk && c < lim->logs; i++) {
		const struct gkey *k = sorted[i];
		if (k->type != GROUP_LOG || k->alert)
			continue;
		x = json_object_new_object();
		js_add_str(x, "service", in->svc_name(k->svc, in->arg));
		js_add_str(x, "template", k->tpl);
		js_add_str(x, "level", in->level_names[k->level]);
		js_add_int(x, "count", k->count);
		json_object *sm = json_object_new_array();
		for (int j = 0; j < k->nsamples && j < lim->samples; j++)
			json_object_array_add(sm, json_object_new_string(k->samples[j]));
		json_object_object_add(x, "samples", sm);
		json_object_array_add(arr, x);
		c++;
	}
	json_object_object_add(ev, "logs", arr);
	/* metrics */
	arr = json_object_new_array();
	c = 0;
	for (size_t i = 0; i < g->nk && c < lim->metrics; i++) {
		const struct gkey *k = sorted[i];
		if (k->type != GROUP_METRIC || k->alert)
			continue;
		x = json_object_new_object();
		js_add_str(x, "service", in->svc_name(k->svc, in->arg));
		js_add_str(x, "name", k->name);
		json_object *lb = json_tokener_parse(k->labels);
		json_object_object_add(x, "labels", lb ? lb : json_object_new_object());
		js_add_double(x, "baseline", k->baseline);
		js_add_double(x, "peak", k->peak);
		js_add_str(x, "direction", k->peak >= k->baseline ? "up" : "down");
		if (k->sat)
			js_add_bool(x, "saturated", 1);
		js_add_ts(x, "first_ts", k->first);
		json_object_array_add(arr, x);
		c++;
	}
	json_object_object_add(ev, "metrics", arr);
	/* spans */
	arr = json_object_new_array();
	c = 0;
	for (size_t i = 0; i < g->nk && c < lim->spans; i++) {
		const struct gkey *k = sorted[i];
		if (k->type != GROUP_SPAN || k->alert)
			continue;
		x = json_object_new_object();
		js_add_str(x, "service", in->svc_name(k->svc, in->arg));
		js_add_str(x, "operation", k->op);
		if (k->measure)
			js_add_str(x, "measure", k->measure == SPANATTR_GAP ? "edge_gap" :
				   k->measure == SPANATTR_SELF ? "self_time" : "fast");
		if (k->caller)
			js_add_str(x, "caller", k->caller);
		js_add_int(x, "count", k->count);
		js_add_int(x, "errors", k->errors);
		js_add_double(x, "baseline_p95_ms", round3(k->base_p95));
		js_add_double(x, "observed_p95_ms", round3(p95_of(k->durs, k->ndurs)));
		json_object_array_add(arr, x);
		c++;
	}
	json_object_object_add(ev, "spans", arr);
	/* alerts, most frequent first (the order of sorted) */
	arr = json_object_new_array();
	c = 0;
	for (size_t i = 0; i < g->nk && c < lim->alerts; i++) {
		const struct gkey *k = sorted[i];
		if (!k->alert)
			continue;
		x = json_object_new_object();
		js_add_str(x, "service", in->svc_name(k->svc, in->arg));
		const char *src = alert_source_name((enum alert_source)k->asrc);
		json_object_object_add(x, "source", src ? json_object_new_string(src) : NULL);
		js_add_str(x, "name", k->name);
		json_object_object_add(x, "direction", k->adir ? json_object_new_string(
					       k->adir > 0 ? "up" : "down") : NULL);
		js_add_int(x, "count", k->count);
		js_add_ts(x, "first_ts", k->first);
		json_object_array_add(arr, x);
		c++;
	}
	if (json_object_array_length(arr) > 0)
		json_object_object_add(ev, "alerts", arr);
	else
		json_object_put(arr);
	json_object_object_add(o, "evidence", ev);
	js_add_str(o, "method", "stat");
	return o;
}

json_object *
groupout_record(const struct groupout *in, uint64_t n, struct groupout_limits lim, long long max_bytes)
{
	json_object *o;
	size_t len;

	for (;;) {
		o = build_group(in, n, &lim);
		/* The call-graph edges among the group's services. */
		json_object *ev = json_object_object_get(o, "evidence"), *arr = json_object_new_array();
		for (size_t i = 0; i < in->nedges && (long long)i < lim.edges; i++) {
			json_object *x = json_object_new_object();
			js_add_str(x, "from", in->edges[i].from);
			js_add_str(x, "to", in->edges[i].to);
			json_object_array_add(arr, x);
		}
		json_object_object_add(ev, "edges", arr);
		js_dump(o, &len);
		if ((long long)len <= max_bytes)
			break;
		/* Too big: shed evidence, the least useful first. */
		if (lim.samples > 1)
			lim.samples = 1;
		else if (lim.edges > 4)
			lim.edges /= 2;
		else if (lim.alerts > 1 && lim.alerts >= lim.logs && lim.alerts >= lim.metrics &&
			 lim.alerts >= lim.spans)
			lim.alerts--;
		else if (lim.logs > 1 && lim.logs >= lim.metrics && lim.logs >= lim.spans)
			lim.logs--;
		else if (lim.metrics > 1 && lim.metrics >= lim.spans)
			lim.metrics--;
		else if (lim.spans > 1)
			lim.spans--;
		else if (lim.samples > 0)
			lim.samples = 0;
		else if (lim.services > 3)
			lim.services--;
		else if (lim.edges > 0)
			lim.edges = 0;
		else if (lim.logs + lim.metrics + lim.spans + lim.alerts > 0)
			lim.logs = lim.metrics = lim.spans = lim.alerts = 0;
		else
			break;
		json_object_put(o);
	}
	return o;
}

/* A signal and its service's name, for the order of the evidence lists. */
struct named_key {
	struct gkey *k;
	const char *svc;
};

static int
cmp_evidence(const void *x, const void *y)
{
	const struct named_key *na = x, *nb = y;
	const struct gkey *a = na->k, *b = nb->k;

	if (a->type != b->type)
		return a->type - b->type;
	if (a->type == GROUP_METRIC && a->peakz != b->peakz)
		return a->peakz > b->peakz ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	int c = strcmp(na->svc, nb->svc);
	if (c)
		return c;
	const char *ia = a->tpl ? a->tpl : a->name ? a->name : a->op ? a->op : "";
	const char *ib = b->tpl ? b->tpl : b->name ? b->name : b->op ? b->op : "";
	c = strcmp(ia, ib);
	return c ? c : strcmp(a->labels ? a->labels : "", b->labels ? b->labels : "");
}

static int
cmp_cand_name(const void *x, const void *y)
{
	const struct rank_cand *a = x, *b = y;

	return strcmp(a->name, b->name);
}

json_object *
groupout_build(const struct groupout_src *s, uint64_t n, struct groupout_limits lim,
	       long long max_bytes)
{
	const struct group *g = s->g;
	size_t nsv = (size_t)g->nsv;
	struct rank_cand *rk = ecalloc(nsv + 1, sizeof *rk), *byname;
	double *strength = emalloc(2 * (nsv + 1) * sizeof *strength), *own = strength + nsv + 1;
	struct named_key *nk = emalloc((g->nk + 1) * sizeof *nk);
	struct gkey **sorted = emalloc((g->nk + 1) * sizeof *sorted);
	struct groupout_edge *edges = NULL;
	size_t nedges = 0, capedges = 0;
	json_object *o;

	group_rank_strength(g, s->w, s->c, strength, own);
	for (size_t i = 0; i < nsv; i++) {
		const struct gsvc *v = &g->sv[i];
		rk[i].id = v->svc;
		rk[i].name = s->svc_name(v->svc, s->arg);
		rk[i].strength = strength[i];
		rk[i].own = own[i];
		rk[i].sym = v->sym;
		rk[i].sat = v->sat;
		rk[i].first = v->first;
		rk[i].n = v->n;
		rk[i].types = v->types;
		rk[i].zmax = v->zmax;
	}
	free(strength);
	rank_run(rk, (int)nsv, s->method, s->rp);
	for (size_t i = 0; i < g->nk; i++) {
		nk[i].k = g->karr[i];
		nk[i].svc = s->svc_name(g->karr[i]->svc, s->arg);
	}
	qsort(nk, g->nk, sizeof *nk, cmp_evidence);
	for (size_t i = 0; i < g->nk; i++)
		sorted[i] = nk[i].k;
	free(nk);
	byname = emalloc((nsv + 1) * sizeof *byname);
	memcpy(byname, rk, nsv * sizeof *rk);
	qsort(byname, nsv, sizeof *byname, cmp_cand_name);
	for (size_t i = 0; i < nsv && (long long)nedges < lim.edges; i++)
		for (size_t j = 0; j < nsv && (long long)nedges < lim.edges; j++) {
			if (!s->calls(byname[i].id, byname[j].id, s->arg))
				continue;
			if (nedges == capedges) {
				capedges = capedges ? capedges * 2 : 16;
				edges = erealloc(edges, capedges * sizeof *edges);
			}
			edges[nedges].from = byname[i].name;
			edges[nedges++].to = byname[j].name;
		}
	struct groupout in = {g, rk, sorted, edges, nedges, s->level_names, s->svc_name, s->arg};
	o = groupout_record(&in, n, lim, max_bytes);
	free(rk);
	free(byname);
	free(sorted);
	free(edges);
	return o;
}
