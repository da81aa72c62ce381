/*
 * aiops-metrics: scores a run against its labels.  Every input record is
 * forwarded unchanged and in order; the stage reads incident, group, rca,
 * remediation, execution, llm_call and stage_end records on the way and, at
 * end of input, writes `score` records {name, value, n, unit, optional
 * incident_id} before its stage_end: detection times (MTTD, MTTR, MMTD,
 * model TTD, detection lead), the matching of groups to incidents
 * (precision, recall, F1, false positives, fragmentation), RCA accuracy
 * (AC@k, Avg@5, fault accuracy), remediation match, executed and refused
 * steps, and LLM cost, overall and per stage, plus one row of scores per
 * incident.  The definitions are in aiops-metrics(1), exactly as computed
 * here.
 *
 * Memory holds only the fields the scores need: per incident its times,
 * root cause and expected actions; per detected group its id, times and
 * service names; per rca its top five services and top fault; per
 * remediation its actions; per LLM call its latency.  It grows with the
 * number of those records, never with the signals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "js.h"
#include "match.h"
#include "stage.h"
#include "stats.h"
#include "ts.h"

#define TOPK 5

static double tolerance_s = 60;
static json_object *prices;

static const struct opt opts[] = {
	{"match_tolerance_s", OPT_DURATION, &tolerance_s, "SECONDS",
	 "a group matches an incident when their spans overlap within this (60)", 0, 0},
	{"prices", OPT_JSON, &prices, "TABLE",
	 "price table {MODEL: {input_per_1k, output_per_1k}} for cost_usd", 0, 0},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};

struct incident {
	char *id;
	int64_t start, detected, resolved;   /* TS_NONE when absent */
	char *service, *fault;               /* root_cause; NULL when absent */
	char **expected;                     /* expected_actions (strings) */
	size_t nexpected;                    /* 0: no expected_actions label */
	size_t seq;                          /* input order */
	struct group *g;                     /* the matched group, or NULL */
	size_t overlapping;                  /* detected groups overlapping it */
};

struct group {
	char *id;
	int64_t start, detected, end;
	char **services;
	size_t nservices;
	size_t seq;
	int taken;
	size_t incidents;                    /* incidents it overlaps (lib/match) */
};

/* The first rca record of a group. */
struct rca {
	char *group_id;
	char *svc[TOPK];                     /* top candidates' services (NULL: none) */
	size_t ncand;                        /* candidates kept (at most TOPK) */
	char *fault;                         /* the top candidate's fault */
	size_t seq;
};

/* The first remediation record of a group. */
struct remed {
	char *group_id;
	char **actions;
	size_t nactions;
	size_t seq;
};

/* LLM usage of one stage (name NULL: the overall totals). */
struct usage {
	char *name;
	unsigned long calls, failures, retries;
	double tok_in, tok_out;              /* sums over calls that report them */
	unsigned long n_tok_in, n_tok_out;
	struct dvec lat;                     /* latency_ms of every call */
	double cost;                         /* over priced calls */
	unsigned long priced;
	/* From stage_end.llm (the fallback). */
	double p50, p95;                     /* NAN unless exactly one report */
	unsigned long lat_n;                 /* the calls behind p50 and p95 */
	unsigned long reports;               /* stage_end records with calls > 0 */
};

static struct incident *incs;
static size_t nincs, capincs;
static struct group *groups;
static size_t ngroups, capgroups;
static unsigned long groups_undetected;
static struct rca *rcas;
static size_t nrcas, caprcas;
static struct remed *remeds;
static size_t nremeds, capremeds;
static unsigned long n_exec, steps_executed, steps_refused, steps_failed;
static struct usage *calls_by;           /* from llm_call records */
static size_t ncalls_by;
static struct usage *ends_by;            /* from stage_end.llm */
static size_t nends_by;
static int64_t data_end = TS_NONE;       /* the latest timestamp seen */
static size_t seq;

/* Grows *p (an array of *cap elements of size sz) to hold n + 1. */
static void *
grow(void *p, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	return erealloc(p, *cap * sz);
}

static char *
dupstr(const char *s)
{
	return s ? estrdup(s) : NULL;
}

static void
see_ts(int64_t ns)
{
	if (ns != TS_NONE && (data_end == TS_NONE || ns > data_end))
		data_end = ns;
}

/*
 * Reads the timestamp member key of o into *ns: TS_NONE when missing or
 * null.  Returns 0, or -1 with a reason in why (for a reject).
 */
static int
get_ts(json_object *o, const char *key, int64_t *ns, char *why, size_t len)
{
	json_object *v;
	const char *r, *s;

	*ns = TS_NONE;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, len, "%s is not a timestamp string", key);
		return -1;
	}
	s = json_object_get_string(v);
	if (ts_parse(s, (size_t)json_object_get_string_len(v), ns, &r) < 0) {
		snprintf(why, len, "bad %s '%.64s': %s", key, s, r);
		*ns = TS_NONE;
		return -1;
	}
	return 0;
}

static void
reject(struct stage *st, struct rec *r, const char *kind, const char *why)
{
	stage_reject(st, r->source, r->line, r->raw, r->len, r->len, "%s: %s", kind, why);
}

/* The strings of array member key (other elements skipped). */
static char **
get_strings(json_object *o, const char *key, size_t *n)
{
	json_object *a;
	char **v;
	size_t i, len;

	*n = 0;
	a = js_path(o, key);
	if (a == NULL || !json_object_is_type(a, json_type_array))
		return NULL;
	len = json_object_array_length(a);
	v = ecalloc(len ? len : 1, sizeof *v);
	for (i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		if (json_object_is_type(e, json_type_string))
			v[(*n)++] = estrdup(json_object_get_string(e));
	}
	if (*n == 0) {
		free(v);
		return NULL;
	}
	return v;
}

static int
on_incident(struct stage *st, struct rec *r)
{
	struct incident in = {0};
	const char *id = js_str(r->obj, "id");
	json_object *rc = js_path(r->obj, "root_cause");
	char why[256];

	if (id == NULL) {
		reject(st, r, "incident", "missing string id");
		return 0;
	}
	if (get_ts(r->obj, "start_ts", &in.start, why, sizeof why) < 0 ||
	    get_ts(r->obj, "detected_ts", &in.detected, why, sizeof why) < 0 ||
	    get_ts(r->obj, "resolved_ts", &in.resolved, why, sizeof why) < 0) {
		reject(st, r, "incident", why);
		return 0;
	}
	if (in.start == TS_NONE) {
		reject(st, r, "incident", "missing start_ts");
		return 0;
	}
	stage_forward(st, r);
	see_ts(in.start);
	see_ts(in.detected);
	see_ts(in.resolved);
	in.id = estrdup(id);
	if (rc && json_object_is_type(rc, json_type_object)) {
		in.service = dupstr(js_str(rc, "service"));
		in.fault = dupstr(js_str(rc, "fault"));
	}
	in.expected = get_strings(r->obj, "expected_actions", &in.nexpected);
	in.seq = seq++;
	incs = grow(incs, &capincs, nincs, sizeof *incs);
	incs[nincs++] = in;
	return 0;
}

static int
on_group(struct stage *st, struct rec *r)
{
	struct group g = {0};
	const char *id = js_str(r->obj, "id");
	json_object *v, *svcs;
	char why[256];
	int detected = 1;
	size_t i, len;

	if (json_object_object_get_ex(r->obj, "detected", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean)) {
			reject(st, r, "group", "detected is not a boolean");
			return 0;
		}
		detected = json_object_get_boolean(v);
	}
	if (!detected) {
		stage_forward(st, r);
		groups_undetected++;
		return 0;
	}
	if (id == NULL) {
		reject(st, r, "group", "missing string id");
		return 0;
	}
	if (get_ts(r->obj, "start_ts", &g.start, why, sizeof why) < 0 ||
	    get_ts(r->obj, "detected_ts", &g.detected, why, sizeof why) < 0 ||
	    get_ts(r->obj, "end_ts", &g.end, why, sizeof why) < 0) {
		reject(st, r, "group", why);
		return 0;
	}
	if (g.start == TS_NONE || g.detected == TS_NONE) {
		reject(st, r, "group", g.start == TS_NONE ? "missing start_ts" : "missing detected_ts");
		return 0;
	}
	stage_forward(st, r);
	if (g.end == TS_NONE)
		g.end = g.detected > g.start ? g.detected : g.start;
	see_ts(g.start);
	see_ts(g.detected);
	see_ts(g.end);
	g.id = estrdup(id);
	svcs = js_path(r->obj, "services");
	if (svcs && json_object_is_type(svcs, json_type_array)) {
		len = json_object_array_length(svcs);
		g.services = ecalloc(len ? len : 1, sizeof *g.services);
		for (i = 0; i < len; i++) {
			json_object *e = json_object_array_get_idx(svcs, i);
			const char *s = json_object_is_type(e, json_type_string) ?
				json_object_get_string(e) : js_str(e, "service");
			if (s)
				g.services[g.nservices++] = estrdup(s);
		}
	}
	g.seq = seq++;
	groups = grow(groups, &capgroups, ngroups, sizeof *groups);
	groups[ngroups++] = g;
	return 0;
}

static int
on_rca(struct stage *st, struct rec *r)
{
	struct rca a = {0};
	const char *gid = js_str(r->obj, "group_id");
	json_object *c = js_path(r->obj, "candidates");
	size_t i, len;

	stage_forward(st, r);
	if (gid == NULL)
		return 0;
	a.group_id = estrdup(gid);
	if (c && json_object_is_type(c, json_type_array)) {
		len = json_object_array_length(c);
		for (i = 0; i < len && i < TOPK; i++) {
			json_object *e = json_object_array_get_idx(c, i);
			a.svc[i] = dupstr(js_str(e, "service"));
			if (i == 0)
				a.fault = dupstr(js_str(e, "fault"));
		}
		a.ncand = i;
	}
	a.seq = seq++;
	rcas = grow(rcas, &caprcas, nrcas, sizeof *rcas);
	rcas[nrcas++] = a;
	return 0;
}

static int
on_remediation(struct stage *st, struct rec *r)
{
	struct remed m = {0};
	const char *gid = js_str(r->obj, "group_id");
	json_object *steps = js_path(r->obj, "steps");
	size_t i, len;

	stage_forward(st, r);
	if (gid == NULL)
		return 0;
	m.group_id = estrdup(gid);
	if (steps && json_object_is_type(steps, json_type_array)) {
		len = json_object_array_length(steps);
		m.actions = ecalloc(len ? len : 1, sizeof *m.actions);
		for (i = 0; i < len; i++) {
			const char *a = js_str(json_object_array_get_idx(steps, i), "action");
			if (a)
				m.actions[m.nactions++] = estrdup(a);
		}
	}
	m.seq = seq++;
	remeds = grow(remeds, &capremeds, nremeds, sizeof *remeds);
	remeds[nremeds++] = m;
	return 0;
}

static int
on_execution(struct stage *st, struct rec *r)
{
	const char *d = js_str(r->obj, "decision");

	stage_forward(st, r);
	n_exec++;
	if (d && strcmp(d, "executed") == 0)
		steps_executed++;
	else if (d && strcmp(d, "refused") == 0)
		steps_refused++;
	else if (d && strcmp(d, "failed") == 0)
		steps_failed++;
	return 0;
}

/* The usage entry of stage name in *tab (created when missing). */
static struct usage *
usage_of(struct usage **tab, size_t *n, const char *name)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*tab)[i].name, name) == 0)
			return &(*tab)[i];
	*tab = erealloc(*tab, (*n + 1) * sizeof **tab);
	memset(&(*tab)[*n], 0, sizeof **tab);
	(*tab)[*n].name = estrdup(name);
	(*tab)[*n].p50 = (*tab)[*n].p95 = NAN;
	return &(*tab)[(*n)++];
}

/* The price of a call, or -1 when its model is not in the table or a token
 * count is missing. */
static double
price(const char *model, json_object *tin, json_object *tout)
{
	json_object *p;
	double in, out;

	if (prices == NULL || model == NULL || tin == NULL || tout == NULL ||
	    !json_object_object_get_ex(prices, model, &p) ||
	    js_num(p, "input_per_1k", &in) < 0 || js_num(p, "output_per_1k", &out) < 0)
		return -1;
	return json_object_get_double(tin) / 1000.0 * in +
	       json_object_get_double(tout) / 1000.0 * out;
}

static json_object *
num_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return NULL;
	return v;
}

static int
on_llm_call(struct stage *st, struct rec *r)
{
	const char *name = js_str(r->obj, "stage");
	struct usage *u = usage_of(&calls_by, &ncalls_by, name ? name : "unknown");
	json_object *tin = num_member(r->obj, "tokens_in");
	json_object *tout = num_member(r->obj, "tokens_out");
	json_object *err;
	double lat, c;
	int64_t att;

	stage_forward(st, r);
	u->calls++;
	if (json_object_object_get_ex(r->obj, "error", &err) && err != NULL &&
	    !(json_object_is_type(err, json_type_string) && json_object_get_string_len(err) == 0))
		u->failures++;
	else if (json_object_object_get_ex(r->obj, "rejected", &err) && err != NULL)
		u->failures++;	/* its answer stayed invalid after the repair round */
	if (js_int(r->obj, "attempts", &att) == 0 && att > 1)
		u->retries += (unsigned long)(att - 1);
	if (tin) {
		u->tok_in += json_object_get_double(tin);
		u->n_tok_in++;
	}
	if (tout) {
		u->tok_out += json_object_get_double(tout);
		u->n_tok_out++;
	}
	if (js_num(r->obj, "latency_ms", &lat) == 0 && isfinite(lat))
		dvec_push(&u->lat, lat);
	if ((c = price(js_str(r->obj, "model"), tin, tout)) >= 0) {
		u->cost += c;
		u->priced++;
	}
	return 0;
}

static int
on_stage_end(struct stage *st, struct rec *r)
{
	json_object *llm = js_path(r->obj, "llm");
	const char *name = js_str(r->obj, "stage");
	struct usage *u;
	double calls, x;

	stage_forward(st, r);
	if (llm == NULL || !json_object_is_type(llm, json_type_object) ||
	    js_num(llm, "calls", &calls) < 0 || calls <= 0)
		return 0;
	u = usage_of(&ends_by, &nends_by, name ? name : "unknown");
	u->calls += (unsigned long)calls;
	if (js_num(llm, "failures", &x) == 0)
		u->failures += (unsigned long)x;
	if (js_num(llm, "retries", &x) == 0)
		u->retries += (unsigned long)x;
	if (js_num(llm, "tokens_in", &x) == 0) {
		u->tok_in += x;
		u->n_tok_in += (unsigned long)calls;
	}
	if (js_num(llm, "tokens_out", &x) == 0) {
		u->tok_out += x;
		u->n_tok_out += (unsigned long)calls;
	}
	if (++u->reports == 1) {
		u->p50 = js_num(llm, "latency_p50_ms", &x) == 0 ? x : NAN;
		u->p95 = js_num(llm, "latency_p95_ms", &x) == 0 ? x : NAN;
		u->lat_n = (unsigned long)calls;
	} else {
		u->p50 = u->p95 = NAN;
	}
	return 0;
}

static const struct handler handlers[] = {
	{"incident", on_incident},
	{"group", on_group},
	{"rca", on_rca},
	{"remediation", on_remediation},
	{"execution", on_execution},
	{"llm_call", on_llm_call},
	{"stage_end", on_stage_end},
	{NULL, NULL},
};

/* Writing scores. */

/* A score record; value NAN is null.  The caller adds extras and emits. */
static json_object *
score_new(const char *name, const char *suffix, double value, double n,
	  const char *unit, const struct incident *in)
{
	json_object *o = stage_record("score");
	char full[256];

	if (suffix)
		snprintf(full, sizeof full, "%s.%s", name, suffix);
	else
		snprintf(full, sizeof full, "%s", name);
	js_add_str(o, "name", full);
	json_object_object_add(o, "value", isfinite(value) ? js_new_double(stats_round(value)) : NULL);
	json_object_object_add(o, "n", js_new_double(isfinite(value) ? n : 0));
	js_add_str(o, "unit", unit);
	if (in)
		js_add_str(o, "incident_id", in->id);
	return o;
}

static void
score(struct stage *st, const char *name, double value, double n, const char *unit)
{
	json_object *o = score_new(name, NULL, value, n, unit, NULL);

	stage_emit(st, o);
	json_object_put(o);
}

/* value / n, or NAN when n is 0. */
static double
ratio(double value, double n)
{
	return n > 0 ? value / n : NAN;
}

/* Seconds between two timestamps. */
static double
secs(int64_t a, int64_t b)
{
	return (double)(a - b) / 1e9;
}

/* Matching: the definition is lib/match.h, shared with aiops-eval. */

static void
match(void)
{
	struct match_inc *mi;
	struct match_grp *mg;
	size_t i;

	if (nincs == 0)
		return;
	mi = ecalloc(nincs, sizeof *mi);
	mg = ecalloc(ngroups ? ngroups : 1, sizeof *mg);
	for (i = 0; i < nincs; i++) {
		mi[i].start = incs[i].start;
		mi[i].end = incs[i].resolved != TS_NONE ? incs[i].resolved : MATCH_OPEN;
		mi[i].service = incs[i].service;
		mi[i].seq = incs[i].seq;
	}
	match_close_open(mi, nincs, data_end, (int64_t)llround(tolerance_s * 1e9));
	for (i = 0; i < ngroups; i++) {
		mg[i].start = groups[i].start;
		mg[i].detected = groups[i].detected;
		mg[i].end = groups[i].end;
		mg[i].id = groups[i].id;
		mg[i].services = groups[i].services;
		mg[i].nservices = groups[i].nservices;
	}
	match_run(mi, nincs, mg, ngroups, (int64_t)llround(tolerance_s * 1e9));
	for (i = 0; i < nincs; i++) {
		incs[i].overlapping = mi[i].overlapping;
		incs[i].g = mi[i].group >= 0 ? &groups[mi[i].group] : NULL;
	}
	for (i = 0; i < ngroups; i++) {
		groups[i].taken = mg[i].taken;
		groups[i].incidents = mg[i].incidents;
	}
	free(mi);
	free(mg);
}

/* The first rca / remediation of a group (input order), or NULL. */
static const struct rca *
rca_of(const struct group *g)
{
	size_t i;

	for (i = 0; g && i < nrcas; i++)
		if (strcmp(rcas[i].group_id, g->id) == 0)
			return &rcas[i];
	return NULL;
}

static const struct remed *
remed_of(const struct group *g)
{
	size_t i;

	for (i = 0; g && i < nremeds; i++)
		if (strcmp(remeds[i].group_id, g->id) == 0)
			return &remeds[i];
	return NULL;
}

/* The 1-based rank of the true service in the matched group's rca, or 0. */
static size_t
rank_of(const struct incident *in)
{
	const struct rca *a = rca_of(in->g);
	size_t i;

	if (a == NULL || in->service == NULL)
		return 0;
	for (i = 0; i < a->ncand; i++)
		if (a->svc[i] && strcmp(a->svc[i], in->service) == 0)
			return i + 1;
	return 0;
}

static int
fault_ok(const struct incident *in)
{
	const struct rca *a = rca_of(in->g);

	return a && a->fault && in->fault && strcmp(a->fault, in->fault) == 0;
}

/* -1 without an expected_actions label, else 0 or 1 (lib/match). */
static int
remed_ok(const struct incident *in)
{
	const struct remed *m = remed_of(in->g);

	return match_actions(m ? m->actions : NULL, m ? m->nactions : 0, in->expected, in->nexpected);
}

/* "a,b,c", or NULL for no list. */
static void
add_joined(json_object *o, const char *key, char **v, size_t n, int present)
{
	struct buf b = BUF_INIT(0);
	size_t i;

	if (!present) {
		json_object_object_add(o, key, NULL);
		return;
	}
	for (i = 0; i < n; i++) {
		if (i)
			buf_addc(&b, ',');
		buf_adds(&b, v[i]);
	}
	js_add_strn(o, key, b.p ? b.p : "", b.len);
	buf_free(&b);
}

static void
detection_scores(struct stage *st)
{
	size_t i, matched = 0, n_det = 0, n_res = 0, n_lead = 0, spanning = 0;
	double ttd = 0, ttr = 0, mmtd = 0, mttd = 0, lead = 0, frag = 0;
	double d = (double)ngroups, t = (double)nincs;

	for (i = 0; i < nincs; i++) {
		const struct incident *in = &incs[i];
		if (in->detected != TS_NONE) {
			ttd += secs(in->detected, in->start);
			n_det++;
		}
		if (in->resolved != TS_NONE) {
			ttr += secs(in->resolved, in->start);
			n_res++;
		}
		if (in->g == NULL)
			continue;
		matched++;
		mmtd += secs(in->g->detected, in->g->start);
		mttd += secs(in->g->detected, in->start);
		frag += (double)in->overlapping;
		if (in->detected != TS_NONE) {
			lead += secs(in->detected, in->g->detected);
			n_lead++;
		}
	}
	for (i = 0; i < ngroups; i++)
		spanning += groups[i].incidents >= 2;
	score(st, "incidents_total", t, t, "count");
	score(st, "incidents_missed", t - (double)matched, t, "count");
	score(st, "mttd_s", ratio(ttd, (double)n_det), (double)n_det, "s");
	score(st, "mttr_s", ratio(ttr, (double)n_res), (double)n_res, "s");
	score(st, "groups_detected", d, d, "count");
	score(st, "groups_undetected", (double)groups_undetected, (double)groups_undetected, "count");
	score(st, "mmtd_s", ratio(mmtd, (double)matched), (double)matched, "s");
	score(st, "model_ttd_s", ratio(mttd, (double)matched), (double)matched, "s");
	score(st, "detection_lead_s", ratio(lead, (double)n_lead), (double)n_lead, "s");
	score(st, "detection_precision", ratio((double)matched, d), d, "ratio");
	score(st, "detection_recall", ratio((double)matched, t), t, "ratio");
	score(st, "detection_f1", ratio(2.0 * (double)matched, d + t), d + t, "ratio");
	score(st, "false_positives", d - (double)matched, d, "count");
	score(st, "fragmentation", ratio(frag, (double)matched), (double)matched, "groups");
	score(st, "groups_spanning", (double)spanning, d, "count");
}

static void
rca_scores(struct stage *st)
{
	static const char *const names[2][5] = {
		{"rca_ac1", "rca_ac3", "rca_ac5", "rca_avg5", "rca_fault_acc"},
		{"rca_ac1_detected", "rca_ac3_detected", "rca_ac5_detected",
		 "rca_avg5_detected", "rca_fault_acc_detected"},
	};
	double hits[2][TOPK + 1] = {{0}}, n[2] = {0}, fhits[2] = {0}, fn[2] = {0};
	double rhits[2] = {0}, rn[2] = {0};
	size_t i, k;
	int pass;

	for (i = 0; i < nincs; i++) {
		const struct incident *in = &incs[i];
		size_t rank = rank_of(in);
		int rem = remed_ok(in);
		for (pass = 0; pass < 2; pass++) {
			if (pass == 1 && in->g == NULL)
				continue;
			if (in->service) {
				n[pass]++;
				for (k = 1; k <= TOPK; k++)
					if (rank >= 1 && rank <= k)
						hits[pass][k]++;
			}
			if (in->fault) {
				fn[pass]++;
				fhits[pass] += fault_ok(in);
			}
			if (rem >= 0) {
				rn[pass]++;
				rhits[pass] += rem;
			}
		}
	}
	for (pass = 0; pass < 2; pass++) {
		double avg = 0;
		for (k = 1; k <= TOPK; k++)
			avg += ratio(hits[pass][k], n[pass]);
		score(st, names[pass][0], ratio(hits[pass][1], n[pass]), n[pass], "ratio");
		score(st, names[pass][1], ratio(hits[pass][3], n[pass]), n[pass], "ratio");
		score(st, names[pass][2], ratio(hits[pass][5], n[pass]), n[pass], "ratio");
		score(st, names[pass][3], avg / TOPK, n[pass], "ratio");
	}
	score(st, names[0][4], ratio(fhits[0], fn[0]), fn[0], "ratio");
	score(st, names[1][4], ratio(fhits[1], fn[1]), fn[1], "ratio");
	score(st, "remediation_match", ratio(rhits[0], rn[0]), rn[0], "ratio");
	score(st, "remediation_match_detected", ratio(rhits[1], rn[1]), rn[1], "ratio");
	score(st, "steps_executed", (double)steps_executed, (double)n_exec, "count");
	score(st, "steps_refused", (double)steps_refused, (double)n_exec, "count");
	score(st, "steps_failed", (double)steps_failed, (double)n_exec, "count");
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct usage *)a)->name, ((const struct usage *)b)->name);
}

/* The cost scores of one usage entry; suffix NULL for the totals. */
static void
usage_scores(struct stage *st, struct usage *u, const char *suffix, int fallback)
{
	double c = (double)u->calls, p50, p95, pn;
	json_object *o;

	if (fallback) {
		p50 = u->p50;
		p95 = u->p95;
		pn = (double)u->lat_n;
	} else {
		pn = (double)u->lat.n;
		p50 = stats_percentile(u->lat.v, u->lat.n, 50);
		p95 = stats_percentile(u->lat.v, u->lat.n, 95);
	}
#define S(name, v, n, unit) do { \
		o = score_new(name, suffix, v, n, unit, NULL); \
		stage_emit(st, o); \
		json_object_put(o); \
	} while (0)
	S("llm_calls", c, c, "count");
	S("llm_failures", (double)u->failures, c, "count");
	S("llm_retries", (double)u->retries, c, "count");
	S("tokens_in", u->n_tok_in || !u->calls ? u->tok_in : NAN, (double)u->n_tok_in, "tokens");
	S("tokens_out", u->n_tok_out || !u->calls ? u->tok_out : NAN, (double)u->n_tok_out, "tokens");
	S("latency_p50_ms", p50, pn, "ms");
	S("latency_p95_ms", p95, pn, "ms");
	if (prices)
		S("cost_usd", fallback ? (u->calls ? NAN : 0) : (u->priced || !u->calls ? u->cost : NAN),
		  fallback ? 0 : (double)u->priced, "usd");
#undef S
}

static void
cost_scores(struct stage *st)
{
	struct usage total = {0}, *tab;
	size_t i, n, lat_from = 0, with_lat = 0;
	int fallback = ncalls_by == 0;

	tab = fallback ? ends_by : calls_by;
	n = fallback ? nends_by : ncalls_by;
	if (n > 1)
		qsort(tab, n, sizeof *tab, by_name);
	total.p50 = total.p95 = NAN;
	for (i = 0; i < n; i++) {
		struct usage *u = &tab[i];
		size_t j;
		total.calls += u->calls;
		total.failures += u->failures;
		total.retries += u->retries;
		total.tok_in += u->tok_in;
		total.tok_out += u->tok_out;
		total.n_tok_in += u->n_tok_in;
		total.n_tok_out += u->n_tok_out;
		total.cost += u->cost;
		if (!fallback)
			total.priced += u->priced;
		for (j = 0; j < u->lat.n; j++)
			dvec_push(&total.lat, u->lat.v[j]);
		if (u->calls > 0) {
			with_lat++;
			lat_from = i;
		}
	}
	/* From stage_end counters, overall percentiles are known only when
	 * one stage made every call. */
	if (fallback && with_lat == 1) {
		total.p50 = tab[lat_from].p50;
		total.p95 = tab[lat_from].p95;
		total.lat_n = tab[lat_from].lat_n;
	}
	usage_scores(st, &total, NULL, fallback);
	dvec_free(&total.lat);
	for (i = 0; i < n; i++)
		usage_scores(st, &tab[i], tab[i].name, fallback);
}

static void
incident_scores(struct stage *st)
{
	size_t i;

	for (i = 0; i < nincs; i++) {
		const struct incident *in = &incs[i];
		const struct group *g = in->g;
		const struct rca *a = rca_of(g);
		const struct remed *m = remed_of(g);
		size_t rank = rank_of(in);
		int rem = remed_ok(in);
		json_object *o;

		o = score_new("matched", NULL, g != NULL, 1, "bool", in);
		js_add_str(o, "group_id", g ? g->id : NULL);
		js_add_str(o, "true_service", in->service);
		js_add_str(o, "true_fault", in->fault);
		js_add_str(o, "top_service", a && a->ncand ? a->svc[0] : NULL);
		js_add_str(o, "top_fault", a ? a->fault : NULL);
		add_joined(o, "actions", m ? m->actions : NULL, m ? m->nactions : 0, m != NULL);
		add_joined(o, "expected_actions", in->expected, in->nexpected, in->nexpected > 0);
		stage_emit(st, o);
		json_object_put(o);
#define S(name, v, unit) do { \
		o = score_new(name, NULL, v, 1, unit, in); \
		stage_emit(st, o); \
		json_object_put(o); \
	} while (0)
		S("model_ttd_s", g ? secs(g->detected, in->start) : NAN, "s");
		S("detection_lead_s", g && in->detected != TS_NONE ?
		  secs(in->detected, g->detected) : NAN, "s");
		S("rca_rank", rank ? (double)rank : NAN, "rank");
		S("remediation_match", rem >= 0 ? (double)rem : NAN, "bool");
#undef S
	}
}

static int
on_end(struct stage *st)
{
	match();
	detection_scores(st);
	rca_scores(st);
	cost_scores(st);
	incident_scores(st);
	return 0;
}

/* Checks the price table before reading. */
static int
on_start(struct stage *st)
{
	double x;

	if (tolerance_s < 0)
		stage_usage_error(st, "match_tolerance_s: must not be negative");
	if (prices == NULL)
		return 0;
	if (!json_object_is_type(prices, json_type_object))
		stage_usage_error(st, "prices: expected {MODEL: {input_per_1k, output_per_1k}}");
	json_object_object_foreach(prices, model, p) {
		if (p == NULL || !json_object_is_type(p, json_type_object) ||
		    js_num(p, "input_per_1k", &x) < 0 || js_num(p, "output_per_1k", &x) < 0)
			stage_usage_error(st, "prices.%s: expected {input_per_1k: NUMBER, "
					  "output_per_1k: NUMBER}", model);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct stage st = {
		.name = "metrics",
		.section = "pipeline.metrics",
		.synopsis = "[options] [FILE...]",
		.description = "Forwards every record and, at end of input, writes score "
			       "records: detection times, matching of groups to incidents, "
			       "RCA accuracy, remediation match and LLM cost.",
		.opts = opts,
		.handlers = handlers,
		.on_start = on_start,
		.on_end = on_end,
	};
	return stage_main(&st, argc, argv);
}
