/*
 * aiops-correlate: turn the time-ordered signals of aiops-load (`log`,
 * `metric`, `span`) into scored candidate incidents (`group` records), in
 * one streaming pass.
 *
 * Every signal goes through a per-key detector with a warm-up baseline: an
 * EWMA mean and variance per metric series (lib/metricdet), log template
 * mining (lib/drain) with a per-template rate per bucket (lib/logdet), and a
 * log-latency EWMA plus error and slow shares (lib/tailshare) per (service,
 * operation) (lib/spandet).  Spans also teach the service call graph
 * (lib/callgraph: caller -> callee) through lib/spanattr's bounded span cache, which also
 * judges edge gaps (blamed on the callee) and self times, and hands a slow
 * span's finding back without its latency part when those account for it
 * (trace attribution).  Anomalies
 * join an open group (lib/group) when they are close in time and connected to it (same
 * service, adjacent in the graph, or a shared trace id); a group closes after
 * quiet_s without anomalies (with quiet_fresh: without new evidence) or at
 * max_duration_s, and is written when it
 * closes if it was detected (its score crossed detect_threshold).  Services
 * are ranked for root cause with the graph (lib/rank): an anomalous service whose
 * callees are healthy goes above its anomalous callers, on a strength in
 * which a signal many of the group's services show weighs less
 * (rank_spread: lib/spread, through lib/group); lib/groupout writes the
 * record.
 *
 * With --llm-triage, each detected group is shown to a model when it closes
 * (lib/triage: prompt from a template, evidence rendered by lib/groupfmt,
 * answers through lib/ask with one repair round): a rejected group is written with
 * "detected": false, an accepted one gets the model's title, and the call's
 * latency delays detected_ts.  Only the group reaches the model; incident
 * labels are forwarded and never read.
 *
 * An `alert` record (lib/alert.h) is an anomaly already: it joins the
 * grouping directly, counted as a signal of its source kind (metric, span,
 * log; metric when not given) with severity alert_weight, and is listed in
 * evidence.alerts; no detector runs on it.  A span alert's attrs.caller
 * teaches the call graph (caller -> service).  Resolved alerts only move
 * the clock.
 *
 * Signals are read from the line through lib/flat where they can be (the
 * stage's flat handlers), without a json-c tree; the odd record that flat
 * reader leaves (escapes, numbers or labels json-c treats its own way,
 * rejects) is parsed with json-c and handled by the same code; lib/sigrec
 * reads the fields either way.
 *
 * Other kinds pass through byte for byte; signals are consumed unless
 * --keep-signals.  Memory is bounded by the open window and by caps on the
 * keys held (idle keys are evicted after state_ttl_s; when the service table
 * (lib/svctab) is full, idle services make room), never by the input
 * length.  What a cap costs is counted in stage_end and said once on stderr.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alert.h"
#include "buf.h"
#include "callgraph.h"
#include "err.h"
#include "group.h"
#include "groupout.h"
#include "js.h"
#include "logdet.h"
#include "metricdet.h"
#include "rank.h"
#include "refseed.h"
#include "sigrec.h"
#include "smap.h"
#include "stage.h"
#include "spandet.h"
#include "svctab.h"
#include "tailshare.h"
#include "triage.h"
#include "ts.h"

/* Options (pipeline.correlation). */
static double window_s = 60, quiet_s = 120, max_duration_s = 1800;
static int quiet_fresh = 0;
static double detect_threshold = 12;
static long long min_signals = 2, min_types = 2;
static double key_cap = 3, type_weight = 0.5, service_weight = 0.25;
static long long service_cap = 4;
static double rank_spread = 1, rank_support = 10, rank_gap_magnitude = 1;
static int rank_own = 1;
static double rank_caller_factor = 0.25, rank_min_strength = 1, rank_explain_ratio = 0.25;
static double rank_onset_slack_s = 60;
static const char *rank_method = "graph";
static int rank_alert_edges;
static int rank_m;
static json_object *metric_limits;
static double saturation_share = 0.9;
static long long saturation_detect = 2, persist_detect = 3;
static double persist_score = 2, persist_strength = 1.5;
static double metric_z = 4, metric_span = 60, metric_rel_floor = 0.05;
static long long metric_warmup = 15, metric_persist = 15;
static json_object *metric_directions;
static double span_z = 4, span_span = 200, span_ratio = 1.5, span_min_ms = 10, span_fast_ratio = 10;
static double span_error_ratio = 0.1, span_error_span = 2000, span_warmup_s = 300;
static struct tailshare_cfg span_tail = {2000, 50, 3, 0};
static double span_tail_memory_s = 1800;
static long long span_warmup = 20, span_cache = 65536, span_attr_pending = 65536;
static int span_attr = 1;
static double span_attr_slack_s = 1;
static const char *error_levels = "ERROR,FATAL", *new_template_level = "WARN";
static double log_bucket_s = 10, log_warmup_s = 300, template_young_s = 300;
static double log_span_buckets = 360, burst_factor = 4, burst_min = 5;
static long long drain_depth = 4, max_templates = 5000;
static double drain_sim = 0.5;
static double state_ttl_s = 3600, service_idle_s = 600;
static long long max_keys = 100000, max_services = 4096, max_open_groups = 256;
static long long max_group_keys = 1024;
static long long ev_logs = 5, ev_samples = 2, ev_sample_chars = 200, ev_metrics = 8;
static long long ev_spans = 6, ev_edges = 16, ev_services = 10, max_group_bytes = 8192;
static long long ev_alerts = 8;
static double alert_weight = 1;
static int keep_signals, emit_undetected, measure_latency;
static const char *reference_path;
static struct refseed ref;
/* LLM triage (off by default; its options are left out of the stage
 * record's params unless it is on, so that output without it is unchanged). */
static struct triage tri = {.prompt = triage_default_prompt, .batch = 1};

static const struct opt opts[] = {
	{"window_s", OPT_DURATION, &window_s, "SECONDS", "join a neighbour service or a shared trace this recent (60)", 0, 0},
	{"quiet_s", OPT_DURATION, &quiet_s, "SECONDS", "same-service gap, and close a group this long without anomalies (120)", 0, 0},
	{"quiet_fresh", OPT_BOOL, &quiet_fresh, NULL, "quiet_s and the same-service gap count only anomalies that raised the group's score (false)", 0, 0},
	{"max_duration_s", OPT_DURATION, &max_duration_s, "SECONDS", "close a group this long after its start (1800)", 0, 0},
	{"detect_threshold", OPT_DOUBLE, &detect_threshold, "SCORE", "score at which a group is detected (12)", 0, 0},
	{"min_signals", OPT_INT, &min_signals, "N", "distinct anomalous signals a detected group needs (2)", 0, 0},
	{"min_types", OPT_INT, &min_types, "N", "distinct signal types (log metric span) it needs (2)", 0, 0},
	{"key_cap", OPT_DOUBLE, &key_cap, "X", "most one signal adds to a score (3)", 0, 0},
	{"type_weight", OPT_DOUBLE, &type_weight, "X", "score factor per extra signal type (0.5)", 0, 0},
	{"service_weight", OPT_DOUBLE, &service_weight, "X", "score factor per extra service (0.25)", 0, 0},
	{"service_cap", OPT_INT, &service_cap, "N", "extra services counted at most (4)", 0, 0},
	{"rank_caller_factor", OPT_DOUBLE, &rank_caller_factor, "X", "rank weight per level above an anomalous callee (0.25)", 0, 0},
	{"rank_min_strength", OPT_DOUBLE, &rank_min_strength, "X", "strength that makes a callee anomalous for ranking (1)", 0, 0},
	{"rank_spread", OPT_DOUBLE, &rank_spread, "X", "a signal class (metric and direction, log template, operation, alert) on k of a group's services weighs k^-X in their ranking strength (lib/spread) (1; 0: off)", 0, 0},
	{"rank_support", OPT_DOUBLE, &rank_support, "N", "an operation's slow or failed spans weigh count/N in their service's ranking strength while fewer than N in the group (10; 0: off)", 0, 0},
	{"rank_own", OPT_BOOL, &rank_own, NULL, "a service's own self time, and the edge gaps of the calls it receives, are not passed to the callees that explain it (true)", 0, 0},
	{"rank_gap_magnitude", OPT_DOUBLE, &rank_gap_magnitude, "X", "an edge gap r times its baseline weighs 1 + X log10(r) times its severity in ranking (lib/group) (1; 0: off)", 0, 0},
	{"rank_explain_ratio", OPT_DOUBLE, &rank_explain_ratio, "X", "and at least this share of its caller's strength (0.25)", 0, 0},
	{"rank_onset_slack_s", OPT_DURATION, &rank_onset_slack_s, "SECONDS", "and its first anomaly came at most this much after the caller's (60)", 0, 0},
	{"rank_alert_edges", OPT_BOOL, &rank_alert_edges, NULL, "graph ranking also follows calls known only from span alerts (false)", 0, 0},
	{"rank_method", OPT_STRING, &rank_method, "NAME", "ranking of a group's services: graph, strength, pagerank, votes or magnitude (graph)", 0, 0},
	{"metric_limits", OPT_JSON, &metric_limits, "{NAME: LIMIT}", "a metric's limit: reaching saturation_share of it while anomalous is saturation (none)", 0, 0},
	{"saturation_share", OPT_DOUBLE, &saturation_share, "X", "share of a metric's limit that is saturation (0.9)", 0, 0},
	{"saturation_detect", OPT_INT, &saturation_detect, "N", "saturated points that stand in for min_types (a resource at its limit is evidence enough) (2; 0: never)", 0, 0},
	{"persist_detect", OPT_INT, &persist_detect, "N", "metric series of one service anomalous at two points or more that stand in for min_types when the group scores (3; 0: never)", 0, 0},
	{"persist_score", OPT_DOUBLE, &persist_score, "X", "and scores this many times detect_threshold (2)", 0, 0},
	{"persist_strength", OPT_DOUBLE, &persist_strength, "X", "and that service's own strength is this many times detect_threshold (1.5)", 0, 0},
	{"metric_z", OPT_DOUBLE, &metric_z, "Z", "metric anomaly threshold in robust z (4)", 0, 0},
	{"metric_warmup", OPT_INT, &metric_warmup, "N", "points a series learns before it can be anomalous (15)", 0, 0},
	{"metric_span", OPT_DOUBLE, &metric_span, "N", "EWMA span of a metric baseline, in points (60)", 0, 0},
	{"metric_rel_floor", OPT_DOUBLE, &metric_rel_floor, "X", "least standard deviation, as a share of the mean (0.05)", 0, 0},
	{"metric_persist", OPT_INT, &metric_persist, "N", "relearn a series after this many anomalous points in a row (15)", 0, 0},
	{"metric_directions", OPT_JSON, &metric_directions, "{NAME: up|down|both}", "anomalous direction per metric name (both)", 0, 0},
	{"span_z", OPT_DOUBLE, &span_z, "Z", "slow span threshold in z of log latency (4)", 0, 0},
	{"span_warmup", OPT_INT, &span_warmup, "N", "spans an operation learns before it can be slow (20)", 0, 0},
	{"span_warmup_s", OPT_DURATION, &span_warmup_s, "SECONDS", "and seconds since its first span (300)", 0, 0},
	{"span_span", OPT_DOUBLE, &span_span, "N", "EWMA span of a latency baseline, in spans (200)", 0, 0},
	{"span_ratio", OPT_DOUBLE, &span_ratio, "X", "a slow span also takes this many times the baseline (1.5)", 0, 0},
	{"span_min_ms", OPT_DOUBLE, &span_min_ms, "MS", "and at least this much longer (10)", 0, 0},
	{"span_error_ratio", OPT_DOUBLE, &span_error_ratio, "X", "error spans are anomalous while the usual error share is below this (0.1)", 0, 0},
	{"span_error_span", OPT_DOUBLE, &span_error_span, "N", "EWMA span of the error share, in spans (2000)", 0, 0},
	{"span_tail_factor", OPT_DOUBLE, &span_tail.factor, "X", "slow spans count as the recent slow share exceeds this many times the usual (lib/tailshare) (3; 0: always)", 0, 0},
	{"span_tail_recent", OPT_DOUBLE, &span_tail.recent_span, "N", "EWMA span of the recent slow share, in spans (50)", 0, 0},
	{"span_tail_span", OPT_DOUBLE, &span_tail.usual_span, "N", "EWMA span of the usual slow share, in spans (2000)", 0, 0},
	{"span_tail_memory_s", OPT_DURATION, &span_tail_memory_s, "SECONDS", "half-life of a past slow episode's peak share, which a new one must exceed (1800; 0: none)", 0, 0},
	{"span_cache", OPT_INT, &span_cache, "N", "span_id entries kept for the call graph and span_attr (65536)", 0, 0},
	{"span_attr", OPT_BOOL, &span_attr, NULL, "judge edge gaps and self times (lib/spanattr) (true)", 0, 0},
	{"span_fast_ratio", OPT_DOUBLE, &span_fast_ratio, "X", "a span at most 1/X of its operation's running median is fast (lib/spandet) (10; 0: off)", 0, 0},
	{"span_attr_slack_s", OPT_DURATION, &span_attr_slack_s, "SECONDS", "a span's children are awaited this long after its end (1)", 0, 0},
	{"span_attr_pending", OPT_INT, &span_attr_pending, "N", "spans awaiting their children at most (65536)", 0, 0},
	{"error_levels", OPT_STRING, &error_levels, "LIST", "log levels that are errors (ERROR,FATAL)", 0, 0},
	{"new_template_level", OPT_STRING, &new_template_level, "LEVEL", "least level at which a new template is an anomaly (WARN)", 0, 0},
	{"log_bucket_s", OPT_DURATION, &log_bucket_s, "SECONDS", "bucket of the log template rates (10)", 0, 0},
	{"log_warmup_s", OPT_DURATION, &log_warmup_s, "SECONDS", "no log anomaly this soon after the service's first log line (300)", 0, 0},
	{"template_young_s", OPT_DURATION, &template_young_s, "SECONDS", "error lines of a template this young are anomalies, unless born in the log warm-up (300)", 0, 0},
	{"log_span_buckets", OPT_DOUBLE, &log_span_buckets, "N", "EWMA span of a template rate, in buckets (360)", 0, 0},
	{"burst_factor", OPT_DOUBLE, &burst_factor, "X", "a burst is this many times the usual rate (4)", 0, 0},
	{"burst_min", OPT_DOUBLE, &burst_min, "N", "and at least this many lines in a bucket (5)", 0, 0},
	{"drain_depth", OPT_INT, &drain_depth, "N", "leading tokens that route a log message (4)", 0, 0},
	{"drain_sim", OPT_DOUBLE, &drain_sim, "X", "similarity to join a template (0.5)", 0, 0},
	{"max_templates", OPT_INT, &max_templates, "N", "log templates kept (5000)", 0, 0},
	{"state_ttl_s", OPT_DURATION, &state_ttl_s, "SECONDS", "forget a series or operation idle this long (3600)", 0, 0},
	{"max_keys", OPT_INT, &max_keys, "N", "metric series and operations kept, each (100000)", 0, 0},
	{"max_services", OPT_INT, &max_services, "N", "services known (4096)", 0, 0},
	{"service_idle_s", OPT_DURATION, &service_idle_s, "SECONDS", "when max_services are known, forget one idle this long to make room (600)", 0, 0},
	{"max_open_groups", OPT_INT, &max_open_groups, "N", "open groups; the oldest closes beyond (256)", 0, 0},
	{"max_group_keys", OPT_INT, &max_group_keys, "N", "signals tracked in one group (1024)", 0, 0},
	{"ev_logs", OPT_INT, &ev_logs, "N", "log templates in the evidence (5)", 0, 0},
	{"ev_samples", OPT_INT, &ev_samples, "N", "sample lines per template (2)", 0, 0},
	{"ev_sample_chars", OPT_INT, &ev_sample_chars, "N", "bytes kept of a sample line (200)", 0, 0},
	{"ev_metrics", OPT_INT, &ev_metrics, "N", "metric series in the evidence (8)", 0, 0},
	{"ev_spans", OPT_INT, &ev_spans, "N", "operations in the evidence (6)", 0, 0},
	{"ev_alerts", OPT_INT, &ev_alerts, "N", "alerts (by service, source and name) in the evidence (8)", 0, 0},
	{"alert_weight", OPT_DOUBLE, &alert_weight, "X", "severity of one firing alert (1)", 0, 0},
	{"ev_edges", OPT_INT, &ev_edges, "N", "call-graph edges in the evidence (16)", 0, 0},
	{"ev_services", OPT_INT, &ev_services, "N", "ranked services listed (10)", 0, 0},
	{"max_group_bytes", OPT_INT, &max_group_bytes, "BYTES", "shrink the evidence until a group fits (8192)", 0, 0},
	{"reference", OPT_STRING, &reference_path, "FILE", "fault-free signals learned before the stream, never judged (none)", 0, 0},
	{"keep_signals", OPT_BOOL, &keep_signals, NULL, "also forward log, metric and span records", 0, 0},
	{"emit_undetected", OPT_BOOL, &emit_undetected, NULL, "also write groups that were not detected", 0, 0},
	{"measure_latency", OPT_BOOL, &measure_latency, NULL, "decision_latency_ms from the wall clock (not deterministic)", 0, 0},
	{"llm_triage", OPT_BOOL, &tri.on, NULL, "ask the model whether each detected group is an incident", OPT_NOPARAM, 0},
	{"triage_prompt", OPT_STRING, &tri.prompt, "FILE", "triage prompt template (the bundled prompts/triage.txt)", OPT_NOPARAM, 0},
	{"triage_batch", OPT_INT, &tri.batch, "N", "closed groups asked together, up to the provider's concurrency (1)", OPT_NOPARAM, 0},
	{"emit_prompt", OPT_FLAG, &tri.emit_prompt, NULL, "with --llm-triage: write the prompts as records, call no model", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"record", OPT_STRING, &tri.record_path, "FILE", "with --llm-triage: also write every llm_call record to FILE", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"replay", OPT_STRING, &tri.replay_path, "FILE", "with --llm-triage: answer from the llm_call records in FILE", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* Services by svtab index (svcs[i].name is NULL for a free index), and
 * the learned call graph. */
struct svc {
	const char *name;      /* svtab's */
	int64_t log_first;   /* its first log line (TS_NONE: none yet) */
};
static struct svc *svcs;
static int nsvcs;              /* svcs[] entries, live or free */
static struct svctab svtab;
static struct callgraph graph;

/* The per-key detectors: metric series, operations (and through
 * lib/spanattr the call graph, edge gaps and self times), templates. */
static struct metricdet mdet;
static struct spandet sdet;
static struct logdet ldet;


/* The open groups, oldest first. */
static struct group_cfg gcfg;
static struct groupset open_g;
/* n_detected, n_undetected: groups closed with and without the statistical
 * detection; those the triage rejected (tri.rejected) move from the first
 * count to the second in what is said (detected(), undetected()). */
static uint64_t emitted, n_detected, n_undetected, n_anomalies, dropped_keys;
static uint64_t dropped_series, dropped_group_keys;   /* dropped_keys by cap */
static int64_t now = TS_NONE, next_sweep = TS_NONE;
static int64_t rec_t0;  /* ts_mono() when the current record arrived */
static struct buf keybuf = BUF_INIT(0);

/* ---- small helpers ---- */

static int64_t
secs(double s)
{
	return (int64_t)llround(s * 1e9);
}

static uint64_t
detected(void)
{
	return n_detected - tri.rejected;
}

static uint64_t
undetected(void)
{
	return n_undetected + tri.rejected;
}

/* The index of a service seen now; -1 when it is refused (the table is
 * full of services that are busy or not idle: the signal is dropped). */
static int
svc_lookup(const char *name, int add)
{
	int i = svctab_get(&svtab, name, add, now);

	if (i < 0) {
		if (add)
			dropped_keys++;
		return -1;
	}
	if (i >= nsvcs) {
		svcs = erealloc(svcs, (size_t)(i + 1) * sizeof *svcs);
		memset(&svcs[nsvcs], 0, (size_t)(i + 1 - nsvcs) * sizeof *svcs);
		nsvcs = i + 1;
	}
	if (svcs[i].name == NULL) {   /* new, or an evicted one's index */
		svcs[i].name = svctab_name(&svtab, i);
		svcs[i].log_first = TS_NONE;
	}
	return i;
}

static int
adjacent(int a, int b, void *arg)
{
	(void)arg;
	return callgraph_adjacent(&graph, a, b);
}

/* Foreign records wait behind a pending triage, to keep the order. */
static int
on_foreign(struct stage *st, struct rec *r)
{
	triage_forward(&tri, st, r);
	return 0;
}

/* ---- output of a group ---- */

/* The ranking's call graph: edges seen in spans, and with rank_alert_edges
 * also those known only from alerts. */
static int
callee_of(int from, int to, void *arg)
{
	(void)arg;
	return callgraph_calls(&graph, from, to) &&
	       (rank_alert_edges || callgraph_by_span(&graph, from, to));
}

static const char *
svc_name(int svc, void *arg)
{
	(void)arg;
	return svcs[svc].name;
}

/* A call seen between two services (the group record's edges). */
static int
calls(int from, int to, void *arg)
{
	(void)arg;
	return callgraph_calls(&graph, from, to);
}

static void
emit_group(struct stage *st, struct group *g)
{
	struct group_rank_w rw = {rank_spread, rank_support, rank_own, rank_gap_magnitude};
	struct rank_params rp = {rank_caller_factor, rank_min_strength, rank_explain_ratio,
				 secs(rank_onset_slack_s), callee_of, NULL};
	struct groupout_limits lim = {ev_logs, ev_samples, ev_metrics, ev_spans, ev_edges, ev_services,
				      ev_alerts};
	struct groupout_src src = {g, &gcfg, &rw, rank_m, &rp, calls, logdet_level_name, svc_name, NULL};
	json_object *o = groupout_build(&src, emitted + 1, lim, max_group_bytes);

	emitted++;
	triage_group(&tri, st, o, g->detected, g->det_ts, g->det_latency_ms);
}

/* The best group that was not detected, the records read per kind (log,
 * metric, span), and why nothing was detected (see say_nothing_detected). */
static uint64_t n_seen[3];
static char why_none[400];
static double undet_best = -1;
static unsigned undet_types;
static size_t undet_signals;

/* A group that closes: counted, written when detected or asked for. */
static void
closed(struct group *g, void *arg)
{
	if (g->detected) {
		n_detected++;
	} else {
		n_undetected++;
		if (g->score > undet_best)
			undet_best = g->score, undet_types = (unsigned)g->types,
			undet_signals = g->nsignals;
	}
	if (g->detected || emit_undetected)
		emit_group(arg, g);
	group_free(g);
}

static void
handle_anomaly(const struct anom *a)
{
	struct group *g;

	n_anomalies++;
	groupset_close_due(&open_g, a->ts > now ? a->ts : now, &gcfg);
	g = groupset_join(&open_g, a, &gcfg);
	if (group_add(g, a, &gcfg) < 0) {
		dropped_keys++;
		dropped_group_keys++;
	}
	if (!g->detected && group_decide(g, &gcfg)) {
		g->detected = 1;
		g->det_ts = a->ts;
		g->det_latency_ms = measure_latency ? (ts_mono() - rec_t0 + TS_NS_PER_MS / 2) / TS_NS_PER_MS : 0;
	}
}

/* ---- state eviction ---- */

/* A service in an open group stays in the table. */
static void
svc_busy(unsigned char *busy, int span, void *arg)
{
	(void)arg;
	for (size_t g = 0; g < open_g.n; g++)
		for (int i = 0; i < open_g.g[g]->nsv; i++)
			if (open_g.g[g]->sv[i].svc < span)
				busy[open_g.g[g]->sv[i].svc] = 1;
}

/* Forgets evicted services: their series, operations, call-graph edges and
 * span cache entries, before their indices are reused. */
static void
svc_forget(const unsigned char *dead, int span, void *arg)
{
	(void)arg;
	for (int i = 0; i < span && i < nsvcs; i++)
		if (dead[i])
			memset(&svcs[i], 0, sizeof svcs[i]);
	callgraph_forget(&graph, dead, span);
	metricdet_sweep(&mdet, 0, dead);
	spandet_forget(&sdet, dead, span);
}

/* An anomaly a detector found. */
static void
found(const struct anom *a, void *arg)
{
	(void)arg;
	if (a->ts < refseed_until(&ref)) {   /* the reference's: learned, never judged */
		ref.anomalies++;
		return;
	}
	handle_anomaly(a);
}

static void
tick(int64_t ts)
{
	if (ts == TS_NONE)
		return;
	if (now == TS_NONE || ts > now)
		now = ts;
	groupset_close_due(&open_g, now, &gcfg);
	spandet_advance(&sdet, now);
	if (next_sweep == TS_NONE)
		next_sweep = now + secs(60);
	if (now >= next_sweep) {
		int64_t before = now - secs(state_ttl_s);
		metricdet_sweep(&mdet, before, NULL);
		spandet_sweep(&sdet, before);
		next_sweep = now + secs(60);
	}
}

/* ---- handlers ---- */

static int
bad(struct stage *st, struct rec *r, const char *what)
{
	stage_reject(st, r->source, r->line, r->raw, r->len, r->len, "%s: %s", r->kind, what);
	return 0;
}

/* r is NULL for a signal of the reference. */
static int
done(struct stage *st, struct rec *r)
{
	if (keep_signals && r)
		on_foreign(st, r);
	return 0;
}

static int
log_sig(struct stage *st, struct rec *r, struct sig *g)
{
	int s, level;

	tick(g->ts);
	level = logdet_level(g->level);
	s = svc_lookup(g->svc, 1);
	if (s < 0)
		return done(st, r);
	logdet_line(&ldet, s, g->svc, &svcs[s].log_first, g->ts, g->msg, g->msglen, level,
		    g->tid && *g->tid ? smap_hash(g->tid, strlen(g->tid)) | 1 : 0, found, NULL);
	return done(st, r);
}

static int
metric_sig(struct stage *st, struct rec *r, struct sig *g)
{
	int s;

	tick(g->ts);
	s = svc_lookup(g->svc, 1);
	if (s < 0)
		return done(st, r);
	if (g->labels == NULL)
		g->labels = "{}", g->labelslen = 2;
	if (metricdet_point(&mdet, s, g->name, g->labels, g->labelslen, g->ts, g->x, found, NULL) < 0) {
		dropped_keys++;
		dropped_series++;
	}
	return done(st, r);
}

static int
span_sig(struct stage *st, struct rec *r, struct sig *g)
{
	int s;

	tick(g->ts);
	s = svc_lookup(g->svc, 1);
	if (s < 0)
		return done(st, r);
	uint64_t th = g->tid && *g->tid ? smap_hash(g->tid, strlen(g->tid)) | 1 : 0;
	if (spandet_span(&sdet, s, g->ts, g->x, g->sid, g->pid, g->name ? g->name : "", th,
			 g->status && strcmp(g->status, "ERROR") == 0) < 0) {
		dropped_keys++;
		dropped_series++;
	}
	return done(st, r);
}

/* What each signal kind does with its fields (lib/sigrec). */
static int (*const use_sig[SIG_NKINDS])(struct stage *, struct rec *, struct sig *) = {
	log_sig, metric_sig, span_sig,
};

/* The reference (--reference): its signals learned, its bad lines rejects. */
static void
ref_sig(int k, struct sig *g, void *arg)
{
	use_sig[k](arg, NULL, g);
}

static void
ref_bad(const char *path, unsigned long line, const char *raw, size_t n, size_t full,
	const char *why, void *arg)
{
	stage_reject(arg, path, line, raw, n, full, "reference: %s", why);
}

/* Before the stream's first signal (at time ts), the reference. */
static void
seed(struct stage *st, int64_t ts)
{
	struct buf why = BUF_INIT(0);

	if (ref.path == NULL || ref.replayed)
		return;
	if (refseed_replay(&ref, ts, ref_sig, ref_bad, st, &why) < 0)
		efatal(1, "%s", why.p);
	buf_free(&why);
	if (ref.signals == 0)
		warnf("reference %s holds no log, metric or span records: nothing learned", ref.path);
	else if (ts == TS_NONE)
		warnf("reference %s not used: the input holds no log, metric or span record", ref.path);
}

/* A signal from its json-c tree. */
static int
on_sig(struct stage *st, struct rec *r, int k)
{
	struct sig g;
	const char *why;

	n_seen[k]++;
	if (measure_latency)
		rec_t0 = ts_mono();
	if ((why = sig_json(r->obj, k, &g)) != NULL)
		return bad(st, r, why);
	seed(st, g.ts);
	return use_sig[k](st, r, &g);
}

/* A signal from lib/flat's view of its line (stage.h's flat handlers); what
 * sig_flat declines takes the json-c path. */
static struct sigbuf sigbuf;

static int
f_sig(struct stage *st, struct rec *r, int k)
{
	struct sig g;

	if (measure_latency)
		rec_t0 = ts_mono();
	if (sig_flat(&sigbuf, r->fl, r->len, k, &g) < 0)
		return STAGE_JSONC;
	n_seen[k]++;
	seed(st, g.ts);
	return use_sig[k](st, r, &g);
}

/* An alert is an anomaly already: straight to the grouping. */
static uint64_t n_alerts, n_alerts_resolved;

static int
on_alert(struct stage *st, struct rec *r)
{
	static const int type_of[] = {GROUP_METRIC, GROUP_METRIC, GROUP_SPAN, GROUP_LOG};
	struct alert al;
	struct anom a = {0};
	const char *why;
	int s;

	if (alert_parse(r->obj, &al, &why) < 0)
		return bad(st, r, why);
	tick(al.ts);
	n_alerts++;
	if (al.resolved) {
		n_alerts_resolved++;
		return done(st, r);
	}
	if ((s = svc_lookup(al.service, 1)) < 0)
		return done(st, r);
	if (al.caller && al.source == ALERT_SRC_SPAN) {
		int c = svc_lookup(al.caller, 1);
		if (c >= 0)
			callgraph_add(&graph, c, s, 0);
	}
	a.ts = al.ts;
	a.svc = s;
	a.type = type_of[al.source];
	a.down = al.direction < 0;
	a.sev = alert_weight;
	a.al = &al;
	/* "a US svc US source US direction US name", by hand (every alert) */
	buf_reset(&keybuf);
	buf_add(&keybuf, "a\x1f", 2);
	buf_addll(&keybuf, s);
	buf_addc(&keybuf, '\x1f');
	buf_addll(&keybuf, (int)al.source);
	buf_addc(&keybuf, '\x1f');
	buf_addll(&keybuf, al.direction);
	buf_addc(&keybuf, '\x1f');
	buf_adds(&keybuf, al.name);
	char *key = estrndup(keybuf.p, keybuf.len);
	a.key = key;
	handle_anomaly(&a);
	free(key);
	return done(st, r);
}

static int
on_start(struct stage *st)
{
	struct buf why = BUF_INIT(0);

	if (window_s <= 0 || quiet_s <= 0 || max_duration_s <= 0 || log_bucket_s <= 0)
		stage_usage_error(st, "window_s, quiet_s, max_duration_s and log_bucket_s must be positive");
	if (drain_sim <= 0 || drain_sim > 1)
		stage_usage_error(st, "drain_sim must be in (0, 1]");
	if (max_templates < 1 || span_cache < 1 || max_open_groups < 1 || max_keys < 1 ||
	    max_services < 1 || max_group_keys < 1 || span_attr_pending < 1)
		stage_usage_error(st, "the max_*, span_cache and span_attr_pending bounds must be at least 1");
	if (service_idle_s <= 0)
		stage_usage_error(st, "service_idle_s must be positive");
	if (metric_directions && !json_object_is_type(metric_directions, json_type_object))
		stage_usage_error(st, "metric_directions must be a mapping of metric name to up, down or both");
	if (metric_limits) {
		int ok = json_object_is_type(metric_limits, json_type_object);
		if (ok) {
			json_object_object_foreach(metric_limits, mk, mv) {
				(void)mk;
				if (!(json_object_is_type(mv, json_type_int) ||
				      json_object_is_type(mv, json_type_double)) ||
				    !(json_object_get_double(mv) > 0))
					ok = 0;
			}
		}
		if (!ok)
			stage_usage_error(st, "metric_limits must be a mapping of metric name to a positive number");
	}
	if (!(saturation_share > 0 && saturation_share <= 1))
		stage_usage_error(st, "saturation_share must be in (0, 1]");
	if (persist_detect < 0 || !(persist_score >= 0) || !(persist_strength >= 0))
		stage_usage_error(st, "persist_detect, persist_score and persist_strength must be at least 0");
	if (!(rank_spread >= 0 && rank_spread <= 8))
		stage_usage_error(st, "rank_spread must be in [0, 8]");
	if (!(span_fast_ratio == 0 || (span_fast_ratio >= 1 && span_fast_ratio <= 1e6)))
		stage_usage_error(st, "span_fast_ratio must be 0 (off) or in [1, 1e6]");
	if (!(rank_gap_magnitude >= 0 && rank_gap_magnitude <= 100))
		stage_usage_error(st, "rank_gap_magnitude must be in [0, 100]");
	if (!(rank_support >= 0 && rank_support <= 1e6))
		stage_usage_error(st, "rank_support must be in [0, 1000000]");
	rank_m = rank_method_parse(rank_method);
	if (rank_m < 0)
		stage_usage_error(st, "rank_method: unknown method '%s' (graph, strength, pagerank, votes, magnitude)",
				  rank_method ? rank_method : "");
	if (logdet_init(&ldet, &(struct logdet_cfg){log_bucket_s, log_span_buckets, burst_factor,
			burst_min, secs(log_warmup_s), secs(template_young_s), drain_depth,
			max_templates, drain_sim, error_levels, new_template_level}, &why) < 0) {
		/* Nothing allocated is live when a usage error exits. */
		warnf("%s", why.p);
		buf_free(&why);
		stage_usage_error(st, NULL);
	}
	span_tail.memory_ns = secs(span_tail_memory_s);
	metricdet_init(&mdet, &(struct metricdet_cfg){metric_z, metric_span, metric_rel_floor,
			metric_warmup, metric_persist, metric_directions, metric_limits,
			saturation_share, max_keys});
	gcfg = (struct group_cfg){key_cap, type_weight, service_weight, service_cap, detect_threshold,
				  min_signals, min_types, saturation_detect, persist_detect, persist_score,
				  persist_strength, max_group_keys, ev_sample_chars,
				  secs(window_s), secs(quiet_s), quiet_fresh, secs(max_duration_s),
				  max_open_groups, adjacent, NULL};
	open_g.closed = closed;
	open_g.arg = st;
	spandet_init(&sdet, &(struct spandet_cfg){span_z, span_span, span_ratio, span_min_ms,
			span_error_ratio, span_error_span, span_warmup, secs(span_warmup_s), span_tail,
			max_keys, span_attr, span_fast_ratio, secs(span_attr_slack_s), (size_t)span_cache,
			(size_t)span_attr_pending, &graph, found, svc_name, NULL});
	static const struct svctab_ops svc_ops = {svc_busy, svc_forget, NULL};
	svctab_init(&svtab, (int)(max_services < INT_MAX ? max_services : INT_MAX),
		    secs(service_idle_s), &svc_ops);
	if (reference_path && *reference_path) {
		if (refseed_open(&ref, reference_path, st->max_line, &why) < 0) {
			warnf("%s", why.p);
			buf_free(&why);
			stage_usage_error(st, NULL);
		}
	}
	triage_start(&tri, st);
	return 0;
}

/* Says once what the caps cost: a signal dropped is an anomaly unseen. */
static void
say_losses(void)
{
	if (svtab.refused)
		warnf("%llu services refused: max_services %lld reached (first: %s)",
		      (unsigned long long)svtab.refused, max_services, svtab.first_refused);
	if (svtab.evicted)
		warnf("%llu idle services evicted: max_services %lld reached",
		      (unsigned long long)svtab.evicted, max_services);
	if (dropped_series)
		warnf("%llu signals dropped: max_keys %lld series or operations reached",
		      (unsigned long long)dropped_series, max_keys);
	if (dropped_group_keys)
		warnf("%llu anomalies left out of group evidence: max_group_keys %lld reached",
		      (unsigned long long)dropped_group_keys, max_group_keys);
}

static void say_nothing_detected(void);

static int
on_end(struct stage *st)
{
	/* Judge the spans still awaiting children, then close what is still
	 * open, oldest start first. */
	seed(st, TS_NONE);   /* a reference never replayed still says its bad lines */
	spandet_flush(&sdet);
	groupset_close_all(&open_g);
	say_losses();
	say_nothing_detected();
	return tri.on ? triage_end(&tri) : 0;
}

static void
add_end(struct stage *st, json_object *end)
{
	size_t edges = callgraph_edges(&graph);

	(void)st;
	js_add_int(end, "groups", (int64_t)emitted);
	js_add_int(end, "groups_detected", (int64_t)detected());
	js_add_int(end, "groups_undetected", (int64_t)undetected());
	if (why_none[0])
		js_add_str(end, "nothing_detected", why_none);
	json_object *seen = json_object_new_object();
	for (int k = 0; k < SIG_NKINDS; k++)
		js_add_int(seen, sig_kind_name[k], (int64_t)n_seen[k]);
	json_object_object_add(end, "signals", seen);
	js_add_int(end, "anomalies", (int64_t)n_anomalies);
	if (n_alerts) {
		js_add_int(end, "alerts", (int64_t)n_alerts);
		js_add_int(end, "alerts_resolved", (int64_t)n_alerts_resolved);
	}
	js_add_int(end, "templates", (int64_t)logdet_templates(&ldet));
	js_add_int(end, "template_evictions", (int64_t)logdet_evictions(&ldet));
	js_add_int(end, "services", svtab.live);
	js_add_int(end, "edges", (int64_t)edges);
	js_add_int(end, "dropped_keys", (int64_t)dropped_keys);
	js_add_int(end, "dropped_services", (int64_t)svtab.refused);
	js_add_int(end, "evicted_services", (int64_t)svtab.evicted);
	spandet_add_end(&sdet, end);
	refseed_add_end(&ref, end);
	triage_add_end(&tri, end);
}

/* When no group was detected, why (no signals, fewer signal types than
 * min_types, no anomaly, or the best candidate against the thresholds):
 * stage_end's nothing_detected, which aiops-harness prints. */
static void
say_nothing_detected(void)
{
	static const char *const kname[3] = {"logs", "metrics", "spans"};
	int kinds = 0, last = 0;
	char *w = why_none;
	size_t n = sizeof why_none;

	if (detected() > 0 || n_alerts > 0)
		return;
	for (int k = 0; k < 3; k++)
		if (n_seen[k])
			kinds++, last = k;
	if (kinds == 0)
		snprintf(w, n, "no log, metric or span records in the input");
	else if (kinds < min_types)
		snprintf(w, n, "only %s seen (%llu records) and min_types is %lld (%llu candidate "
			 "groups, none with %lld metric series of one service changed for two points, "
			 "that service's strength %g and the group's score %g (persist_detect, "
			 "persist_strength, persist_score); pipeline.correlation.min_types: 1 lets one "
			 "signal type detect)",
			 kname[last], (unsigned long long)n_seen[last], min_types,
			 (unsigned long long)undetected(), persist_detect,
			 persist_strength * detect_threshold, persist_score * detect_threshold);
	else if (n_anomalies == 0)
		snprintf(w, n, "no anomaly in %llu logs, %llu metrics, %llu spans",
			 (unsigned long long)n_seen[0], (unsigned long long)n_seen[1],
			 (unsigned long long)n_seen[2]);
	else if (undet_best >= 0)
		snprintf(w, n, "%llu anomalies made %llu candidate groups; the best scored %.1f of "
			 "detect_threshold %g, with %zu signals of %d types (min_signals %lld, "
			 "min_types %lld)", (unsigned long long)n_anomalies,
			 (unsigned long long)undetected(), undet_best, detect_threshold, undet_signals,
			 __builtin_popcount(undet_types), min_signals, min_types);
	else
		snprintf(w, n, "%llu anomalies, no group formed", (unsigned long long)n_anomalies);
}

/* The record handlers note when a record arrived, for --measure-latency. */
static int h_log(struct stage *st, struct rec *r) { return on_sig(st, r, SIG_LOG); }
static int h_metric(struct stage *st, struct rec *r) { return on_sig(st, r, SIG_METRIC); }
static int h_span(struct stage *st, struct rec *r) { return on_sig(st, r, SIG_SPAN); }
static int f_log(struct stage *st, struct rec *r) { return f_sig(st, r, SIG_LOG); }
static int f_metric(struct stage *st, struct rec *r) { return f_sig(st, r, SIG_METRIC); }
static int f_span(struct stage *st, struct rec *r) { return f_sig(st, r, SIG_SPAN); }

static int
h_alert(struct stage *st, struct rec *r)
{
	if (measure_latency)
		rec_t0 = ts_mono();
	return on_alert(st, r);
}

static const struct handler handlers[] = {
	{"alert", h_alert},
	{"log", h_log},
	{"metric", h_metric},
	{"span", h_span},
	{NULL, NULL},
};

/* Signals read without json-c when they can be (lib/flat). */
static const struct handler flat_handlers[] = {
	{"log", f_log},
	{"metric", f_metric},
	{"span", f_span},
	{NULL, NULL},
};

/* --preflight: the model server serves the model (lib/llm). */
static int
preflight(struct stage *st)
{
	(void)st;
	return triage_preflight(&tri);
}

int
main(int argc, char **argv)
{
	static struct stage st = {
		.name = "correlate",
		.section = "pipeline.correlation",
		.synopsis = "[options] [FILE...]",
		.description = "Read log, metric, span and alert records, detect anomalies per series, "
			       "template and operation, group connected anomalies into candidate "
			       "incidents and write them as group records, ranked by likely root "
			       "service.  Other records pass through unchanged.",
		.opts = opts,
		.handlers = handlers,
		.flat_handlers = flat_handlers,
		.on_start = on_start,
		.preflight = preflight,
		.on_end = on_end,
		.add_end = add_end,
		.on_foreign = on_foreign,
	};
	int rc = stage_main(&st, argc, argv);

	triage_free(&tri);
	sigbuf_free(&sigbuf);
	svctab_free(&svtab);
	callgraph_free(&graph);
	metricdet_free(&mdet);
	spandet_free(&sdet);
	logdet_free(&ldet);
	groupset_free(&open_g);
	return rc;
}
