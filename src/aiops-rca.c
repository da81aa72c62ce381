/*
 * aiops-rca: root-cause analysis for each detected incident group.  Reads
 * `group` records; a group with "detected": true is forwarded and followed
 * by an `rca` record (ranked candidate services with a fault type, a
 * confidence and a reason), preceded by the `llm_call` records of the model
 * calls made for it.  Every other record, undetected groups and `incident`
 * labels included, is forwarded byte for byte and in order; labels are
 * never read into a prompt (the prompt is built only from the group's
 * services, evidence and call graph).
 *
 * The `baseline` provider answers without a model: the group's own service
 * ranking, with the fault guessed from that service's evidence (rules in
 * aiops-rca(1)).  Other providers get a prompt rendered from a template and
 * must answer JSON matching the rca schema; a bad answer gets one repair
 * round, a group whose calls fail for good still gets an `rca` with an
 * `error`.  Memory is bounded by one batch of `concurrency` groups and the
 * records that arrive behind it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ask.h"
#include "buf.h"
#include "err.h"
#include "groupfmt.h"
#include "js.h"
#include "llm.h"
#include "prompt.h"
#include "schema.h"
#include "stage.h"
#include "ts.h"

static long long top_k = 5;
static const char default_prompt[] = "examples/prompts/rca.txt";
static const char *prompt_path = default_prompt;
static char *found_prompt; /* the bundled copy, when the default is used */
static int emit_prompt;
static long long max_prompt_bytes = 65536, max_text;
static long long max_calls, max_tokens;
static const char *record_path, *replay_path;

static const struct opt opts[] = {
	{"top_k", OPT_INT, &top_k, "N", "candidates per rca record (default 5)", 0, 'k'},
	{"prompt", OPT_STRING, &prompt_path, "FILE", "prompt template (default: the bundled prompts/rca.txt)", 0, 0},
	{"emit_prompt", OPT_FLAG, &emit_prompt, NULL, "write the prompts as records, call no model", OPT_NOCONFIG, 0},
	{"max_text", OPT_INT, &max_text, "N", "bound the answer schema: at most top_k items in a list, N characters in a string (for grammar-constrained servers such as llama.cpp; default 0: unbounded)", 0, 0},
	{"max_prompt_bytes", OPT_INT, &max_prompt_bytes, "BYTES", "trim the evidence to fit (default 65536)", 0, 0},
	{"max_calls", OPT_INT, &max_calls, "N", "model calls allowed per run (0: no limit)", 0, 0},
	{"max_tokens", OPT_INT, &max_tokens, "N", "tokens allowed per run (0: no limit)", 0, 0},
	{"record", OPT_STRING, &record_path, "FILE", "also write every llm_call record to FILE", OPT_NOCONFIG, 0},
	{"replay", OPT_STRING, &replay_path, "FILE", "answer from the llm_call records in FILE", OPT_NOCONFIG, 0},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const char *const faults[] = {
	"latency", "error_burst", "cpu_saturation", "memory_leak", "bad_deploy",
	"db_exhaustion", "network_partition", NULL,
};

static const char *const placeholders[] = {
	"group_id", "top_k", "start_ts", "detected_ts", "end_ts", "services", "evidence",
	"graph", "faults", "schema", NULL,
};

static struct llm *llm;
static struct prompt tmpl;
static int have_tmpl, baseline;
static json_object *schema, *check_schema;
static struct ask ask;

/* ---- the baseline ---------------------------------------------------- */

/* Case-insensitive substring test (strcasestr is not POSIX). */
static int
contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

static int
has(const char *hay, const char *const *needles)
{
	for (; hay && *needles; needles++)
		if (contains(hay, *needles))
			return 1;
	return 0;
}

static int
same(json_object *o, const char *svc)
{
	const char *s = js_str(o, "service");
	return s && strcmp(s, svc) == 0;
}

static double
num(json_object *o, const char *k, double def)
{
	double v;
	return js_num(o, k, &v) == 0 ? v : def;
}

static int
metric_up(json_object *m, const char *const *names)
{
	const char *d = js_str(m, "direction");
	return has(js_str(m, "name"), names) && (d == NULL || strcmp(d, "down") != 0);
}

struct guess {
	const char *fault, *component;
	char why[400];
};

/* Log rules in order of precedence (the first that matches wins). */
static const struct {
	const char *fault, *component;
	const char *const words[8];
} log_rules[] = {
	{"bad_deploy", "deployment", {"deployed version", "deploy ", "rollout", "new version", NULL}},
	{"memory_leak", "memory", {"oomkill", "out of memory", "outofmemory", "heap", "gc pause", NULL}},
	{"db_exhaustion", "connection-pool", {"pool exhausted", "connection is not available",
					      "too many connections", "connection pool", NULL}},
	{"network_partition", "network", {"connection refused", "i/o timeout", "no route to host",
					  "connection reset", "unreachable", NULL}},
	{"cpu_saturation", "cpu", {"worker pool saturated", "cpu", "throttl", NULL}},
	{"latency", NULL, {"slow request", "slow query", "duration:", "took longer", NULL}},
};

static const struct {
	const char *fault, *component;
	const char *const words[4];
} metric_rules[] = {
	{"memory_leak", "memory", {"memory", "restart", "heap", NULL}},
	{"db_exhaustion", "connection-pool", {"db_conn", "pool", NULL}},
	{"cpu_saturation", "cpu", {"cpu", NULL}},
	{"latency", NULL, {"latency", "duration", NULL}},
	{"error_burst", NULL, {"error", NULL}},
};

static void
guess_fault(json_object *ev, const char *svc, struct guess *g)
{
	json_object *logs = NULL, *metrics = NULL, *spans = NULL;
	size_t i, r;

	memset(g, 0, sizeof *g);
	if (ev) {
		json_object_object_get_ex(ev, "logs", &logs);
		json_object_object_get_ex(ev, "metrics", &metrics);
		json_object_object_get_ex(ev, "spans", &spans);
	}
	size_t nl = json_object_is_type(logs, json_type_array) ? json_object_array_length(logs) : 0;
	size_t nm = json_object_is_type(metrics, json_type_array) ? json_object_array_length(metrics) : 0;
	size_t ns = json_object_is_type(spans, json_type_array) ? json_object_array_length(spans) : 0;

	/* The specific faults first, from logs then metrics, in rule order. */
	for (r = 0; r < sizeof log_rules / sizeof log_rules[0]; r++) {
		for (i = 0; i < nl; i++) {
			json_object *l = json_object_array_get_idx(logs, i);
			const char *t = js_str(l, "template");
			if (!same(l, svc) || !has(t, log_rules[r].words))
				continue;
			g->fault = log_rules[r].fault;
			g->component = log_rules[r].component;
			snprintf(g->why, sizeof g->why, "log template '%.160s' (%s x%.0f)", t,
				 js_str(l, "level") ? js_str(l, "level") : "?", num(l, "count", 0));
			return;
		}
		for (size_t m = 0; m < sizeof metric_rules / sizeof metric_rules[0]; m++) {
			if (strcmp(metric_rules[m].fault, log_rules[r].fault) != 0)
				continue;
			for (i = 0; i < nm; i++) {
				json_object *x = json_object_array_get_idx(metrics, i);
				if (!same(x, svc) || !metric_up(x, metric_rules[m].words))
					continue;
				g->fault = metric_rules[m].fault;
				g->component = metric_rules[m].component;
				snprintf(g->why, sizeof g->why, "metric %.80s up (baseline %g, peak %g)",
					 js_str(x, "name"), num(x, "baseline", 0), num(x, "peak", 0));
				return;
			}
		}
		if (strcmp(log_rules[r].fault, "latency") == 0)
			for (i = 0; i < ns; i++) {
				json_object *s = json_object_array_get_idx(spans, i);
				double b = num(s, "baseline_p95_ms", 0), o = num(s, "observed_p95_ms", 0);
				if (!same(s, svc) || o <= 0 || (b > 0 && o < 2 * b))
					continue;
				g->fault = "latency";
				snprintf(g->why, sizeof g->why, "span '%.100s' p95 %gms against a baseline of %gms",
					 js_str(s, "operation") ? js_str(s, "operation") : "?", o, b);
				return;
			}
	}
	/* Then errors: ERROR/FATAL templates, failing spans, error metrics. */
	for (i = 0; i < nl; i++) {
		json_object *l = json_object_array_get_idx(logs, i);
		const char *lv = js_str(l, "level");
		if (same(l, svc) && lv && (strcmp(lv, "ERROR") == 0 || strcmp(lv, "FATAL") == 0)) {
			g->fault = "error_burst";
			snprintf(g->why, sizeof g->why, "log template '%.160s' (%s x%.0f)",
				 js_str(l, "template") ? js_str(l, "template") : "", lv, num(l, "count", 0));
			return;
		}
	}
	for (i = 0; i < ns; i++) {
		json_object *s = json_object_array_get_idx(spans, i);
		if (same(s, svc) && num(s, "errors", 0) > 0) {
			g->fault = "error_burst";
			snprintf(g->why, sizeof g->why, "span '%.100s' failed %g of %g times",
				 js_str(s, "operation") ? js_str(s, "operation") : "?", num(s, "errors", 0),
				 num(s, "count", 0));
			return;
		}
	}
	for (i = 0; i < nm; i++) {
		json_object *x = json_object_array_get_idx(metrics, i);
		if (same(x, svc) && metric_up(x, metric_rules[4].words)) {
			g->fault = "error_burst";
			snprintf(g->why, sizeof g->why, "metric %.80s up (baseline %g, peak %g)",
				 js_str(x, "name"), num(x, "baseline", 0), num(x, "peak", 0));
			return;
		}
	}
	snprintf(g->why, sizeof g->why, "no evidence of a fault type for this service");
}

static double
round3(double v)
{
	return round(v * 1000) / 1000;
}

static void
add_common(json_object *o, const char *group_id)
{
	js_add_str(o, "group_id", group_id);
}

static void
add_tail(json_object *o, double latency_ms)
{
	js_add_str(o, "provider", llm_provider(llm));
	js_add_str(o, "model", llm_model(llm));
	js_add_ts(o, "decided_at", ts_now());
	js_add_double(o, "latency_ms", round3(latency_ms));
}

static json_object *
baseline_rca(json_object *g, const char *gid)
{
	int64_t t0 = ts_mono();
	json_object *svcs = NULL, *ev = NULL, *cands = json_object_new_array();
	json_object *o = stage_record("rca");
	size_t n = 0, i;
	double total = 0;
	char summary[512] = "no services in the group";

	json_object_object_get_ex(g, "services", &svcs);
	json_object_object_get_ex(g, "evidence", &ev);
	if (json_object_is_type(svcs, json_type_array))
		n = json_object_array_length(svcs);
	for (i = 0; i < n; i++)
		total += fmax(0, num(json_object_array_get_idx(svcs, i), "score", 0));
	for (i = 0; i < n && (long long)json_object_array_length(cands) < top_k; i++) {
		json_object *s = json_object_array_get_idx(svcs, i), *c;
		const char *name = js_str(s, "service");
		double score = fmax(0, num(s, "score", 0));
		double conf = total > 0 ? score / total : 1.0 / (double)n;
		struct guess gs;
		char reason[700];
		if (name == NULL)
			continue;
		guess_fault(ev, name, &gs);
		snprintf(reason, sizeof reason, "ranked %zu of %zu by the correlator (score %g); %s",
			 i + 1, n, score, gs.why);
		c = json_object_new_object();
		js_add_str(c, "service", name);
		json_object_object_add(c, "component", gs.component ? json_object_new_string(gs.component) : NULL);
		json_object_object_add(c, "fault", gs.fault ? json_object_new_string(gs.fault) : NULL);
		js_add_double(c, "confidence", round3(conf));
		js_add_str(c, "reason", reason);
		if (json_object_array_length(cands) == 0)
			snprintf(summary, sizeof summary,
				 "most likely root cause: %s (%s, confidence %g) among %zu services of group %s",
				 name, gs.fault ? gs.fault : "fault unknown", round3(conf), n, gid);
		json_object_array_add(cands, c);
	}
	add_common(o, gid);
	json_object_object_add(o, "candidates", cands);
	js_add_str(o, "summary", summary);
	add_tail(o, (double)(ts_mono() - t0) / 1e6);
	return o;
}

/* ---- prompts --------------------------------------------------------- */

/*
 * Renders the prompt of group g, trimming the evidence to fit
 * max_prompt_bytes.  Returns the messages or NULL with why; *trimmed is set
 * when evidence was left out.
 */
static json_object *
build_prompt(json_object *g, const char *gid, size_t *bytes, int *trimmed, char *why, size_t n)
{
	json_object *ev0 = NULL, *ev, *msgs = NULL;
	char topk[32], note[256];
	char *svc = groupfmt_services(g), *graph, *evt = NULL;
	const char *sch = js_dump(schema, NULL);
	struct buf fl = BUF_INIT(0);
	size_t total, omitted = 0;
	int samples_dropped = 0;

	json_object_object_get_ex(g, "evidence", &ev0);
	ev = json_object_is_type(ev0, json_type_object) ? js_copy(ev0) : json_object_new_object();
	total = groupfmt_items(ev);
	graph = groupfmt_graph(ev);
	snprintf(topk, sizeof topk, "%lld", top_k);
	for (const char *const *f = faults; *f; f++)
		buf_printf(&fl, "%s%s", f == faults ? "" : ", ", *f);
	*trimmed = 0;
	for (;;) {
		const char *notep = NULL;
		if (*trimmed) {
			snprintf(note, sizeof note,
				 "evidence trimmed to fit the prompt budget of %lld bytes: %s%zu of %zu items left out",
				 max_prompt_bytes, samples_dropped ? "log samples dropped, " : "", omitted, total);
			notep = note;
		}
		free(evt);
		evt = groupfmt_evidence(ev, notep);
		struct prompt_var vars[] = {
			{"group_id", gid}, {"top_k", topk},
			{"start_ts", js_str(g, "start_ts") ? js_str(g, "start_ts") : "unknown"},
			{"detected_ts", js_str(g, "detected_ts") ? js_str(g, "detected_ts") : "unknown"},
			{"end_ts", js_str(g, "end_ts") ? js_str(g, "end_ts") : "unknown"},
			{"services", svc}, {"evidence", evt}, {"graph", graph},
			{"faults", fl.p}, {"schema", sch}, {NULL, NULL},
		};
		msgs = prompt_messages(&tmpl, vars, bytes, why, n);
		if (msgs == NULL || max_prompt_bytes <= 0 || *bytes <= (size_t)max_prompt_bytes)
			break;
		json_object_put(msgs);
		msgs = NULL;
		if (!groupfmt_trim(ev, &samples_dropped, &omitted)) {
			snprintf(why, n, "prompt of %zu bytes exceeds max_prompt_bytes (%lld) even without evidence",
				 *bytes, max_prompt_bytes);
			break;
		}
		*trimmed = 1;
	}
	free(svc);
	free(graph);
	free(evt);
	buf_free(&fl);
	json_object_put(ev);
	return msgs;
}

/* ---- the answer ------------------------------------------------------ */

static json_object *
make_schema(int strict)
{
	json_object *s = json_object_new_object(), *props = json_object_new_object();
	json_object *cand = json_object_new_object(), *cp = json_object_new_object();
	json_object *arr = json_object_new_object(), *x, *t, *req;

	/* Candidate. */
	js_add_str(cand, "type", "object");
	x = json_object_new_object();
	js_add_str(x, "type", "string");
	js_add_str(x, "description", "a service from the group");
	json_object_object_add(cp, "service", x);
	x = json_object_new_object();
	t = json_object_new_array();
	json_object_array_add(t, json_object_new_string("string"));
	json_object_array_add(t, json_object_new_string("null"));
	json_object_object_add(x, "type", json_object_get(t));
	json_object_object_add(cp, "component", x);
	x = json_object_new_object();
	json_object_object_add(x, "type", t);
	t = json_object_new_array();
	for (const char *const *f = faults; *f; f++)
		json_object_array_add(t, json_object_new_string(*f));
	json_object_array_add(t, NULL);
	json_object_object_add(x, "enum", t);
	json_object_object_add(cp, "fault", x);
	x = json_object_new_object();
	js_add_str(x, "type", "number");
	if (strict) {
		/* Sent to the model; grammars (llama.cpp) do not enforce a
		 * number's bounds, so the check takes any number and done()
		 * clamps it with a note instead of failing the answer. */
		js_add_int(x, "minimum", 0);
		js_add_int(x, "maximum", 1);
	}
	json_object_object_add(cp, "confidence", x);
	x = json_object_new_object();
	js_add_str(x, "type", "string");
	json_object_object_add(cp, "reason", x);
	json_object_object_add(cand, "properties", cp);
	req = json_object_new_array();
	json_object_array_add(req, json_object_new_string("service"));
	if (strict) {
		json_object_array_add(req, json_object_new_string("component"));
		json_object_array_add(req, json_object_new_string("fault"));
	}
	json_object_array_add(req, json_object_new_string("confidence"));
	json_object_array_add(req, json_object_new_string("reason"));
	json_object_object_add(cand, "required", req);
	if (strict)
		js_add_bool(cand, "additionalProperties", 0);

	js_add_str(arr, "type", "array");
	json_object_object_add(arr, "items", cand);
	json_object_object_add(props, "candidates", arr);
	x = json_object_new_object();
	js_add_str(x, "type", "string");
	json_object_object_add(props, "summary", x);
	js_add_str(s, "type", "object");
	json_object_object_add(s, "properties", props);
	req = json_object_new_array();
	json_object_array_add(req, json_object_new_string("candidates"));
	json_object_array_add(req, json_object_new_string("summary"));
	json_object_object_add(s, "required", req);
	if (strict)
		js_add_bool(s, "additionalProperties", 0);
	return s;
}

static int
check_answer(struct ask *a, struct ask_job *j, json_object *ans, char *why, size_t n)
{
	json_object *c;

	(void)a, (void)j;
	json_object_object_get_ex(ans, "candidates", &c);
	if (json_object_array_length(c) == 0) {
		snprintf(why, n, "candidates: at least one candidate expected");
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(c); i++) {
		const char *s = js_str(json_object_array_get_idx(c, i), "service");
		if (s == NULL || *s == '\0') {
			snprintf(why, n, "candidates[%zu].service: empty", i);
			return -1;
		}
	}
	return 0;
}

/* The bound of free text in a record: max_text, else FREE_TEXT_MAX. */
static size_t
text_bound(void)
{
	return max_text > 0 ? (size_t)max_text : FREE_TEXT_MAX;
}

static void
done(struct ask *a, struct ask_job *j)
{
	json_object *o = stage_record("rca"), *cands = json_object_new_array(), *c, *v;

	add_common(o, j->group_id);
	if (j->answer) {
		json_object *notes = NULL;
		json_object_object_get_ex(j->answer, "candidates", &c);
		for (size_t i = 0; i < json_object_array_length(c) && (long long)i < top_k; i++) {
			json_object *in = json_object_array_get_idx(c, i), *x = json_object_new_object();
			static const char *const keys[] = {"service", "component", "fault", "confidence", "reason"};
			double conf;
			for (size_t k = 0; k < 5; k++)
				json_object_object_add(x, keys[k], json_object_object_get_ex(in, keys[k], &v) ?
							  js_bounded(v, text_bound()) : NULL);
			if (js_num(x, "confidence", &conf) == 0 && (conf < 0 || conf > 1)) {
				char note[160];
				snprintf(note, sizeof note, "candidates[%zu].confidence %g clamped to %d "
					 "(the schema's bounds, which the model's grammar did not enforce)",
					 i, conf, conf > 1);
				warnf("note: group %s: %s", j->group_id, note);
				if (notes == NULL)
					notes = json_object_new_array();
				json_object_array_add(notes, json_object_new_string(note));
				json_object_object_add(x, "confidence", json_object_new_int(conf > 1));
			}
			json_object_array_add(cands, x);
		}
		if (notes)
			json_object_object_add(o, "notes", notes);
		json_object_object_add(o, "candidates", cands);
		json_object_object_add(o, "summary", json_object_object_get_ex(j->answer, "summary", &v) ?
					  js_bounded(v, text_bound()) : NULL);
	} else {
		json_object_object_add(o, "candidates", cands);
		json_object_object_add(o, "summary", NULL);
	}
	add_tail(o, j->latency_ms);
	if (!j->answer)
		js_add_str(o, "error", j->error);
	stage_emit(a->st, o);
	json_object_put(o);
}

/* ---- records --------------------------------------------------------- */

static int
on_record(struct stage *st, struct rec *r)
{
	json_object *g = r->obj, *msgs;
	const char *gid;
	int det = 0;
	size_t bytes = 0;
	int trimmed = 0;
	char why[512];

	if (js_bool(g, "detected", &det) < 0 || !det) {
		ask_forward(&ask, r);
		return 0;
	}
	if ((gid = js_str(g, "id")) == NULL) {
		stage_reject(st, r->source, r->line, r->raw, r->len, r->len, "group without a string \"id\"");
		return 0;
	}
	ask_forward(&ask, r);
	if (baseline && !emit_prompt) {
		json_object *o = baseline_rca(g, gid);
		ask_emit(&ask, o);
		json_object_put(o);
		return 0;
	}
	msgs = build_prompt(g, gid, &bytes, &trimmed, why, sizeof why);
	if (msgs == NULL) {
		json_object *o = stage_record("rca");
		add_common(o, gid);
		json_object_object_add(o, "candidates", json_object_new_array());
		json_object_object_add(o, "summary", NULL);
		add_tail(o, 0);
		js_add_str(o, "error", why);
		ask_emit(&ask, o);
		json_object_put(o);
		return 0;
	}
	if (emit_prompt) {
		json_object *o = stage_record("prompt");
		js_add_str(o, "stage", st->name);
		add_common(o, gid);
		js_add_str(o, "purpose", "rca");
		js_add_str(o, "provider", llm_provider(llm));
		js_add_str(o, "model", llm_model(llm));
		json_object_object_add(o, "messages", msgs);
		js_add_str(o, "schema_name", "rca");
		js_add_ref(o, "schema", schema);
		js_add_int(o, "bytes", (int64_t)bytes);
		js_add_bool(o, "trimmed", trimmed);
		js_add_str(o, "template_sha256", tmpl.sha256);
		ask_emit(&ask, o);
		json_object_put(o);
		return 0;
	}
	struct ask_job *j = ask_job_new(gid);
	j->messages = msgs;
	j->prompt_bytes = bytes;
	if (ask_submit(&ask, j) < 0) {
		out_flush();
		warnf("%s", ask.err);
		return EXIT_FAIL;
	}
	return 0;
}

static int
on_start(struct stage *st)
{
	char err[1024];
	json_object *params = stage_params(st), *pp, *p;
	int64_t conc = 4;

	if (top_k < 1)
		stage_usage_error(st, "--top-k must be at least 1");
	if (max_text < 0 || max_text > 1000000)
		stage_usage_error(st, "--max-text must be between 0 and 1000000");
	llm = llm_open(st->config, st->sec, st->name, err, sizeof err);
	if (llm == NULL)
		efatal(EXIT_USAGE, "%s", err);
	if (replay_path && llm_replay_open(llm, replay_path, err, sizeof err) < 0)
		efatal(EXIT_USAGE, "%s", err);
	if (record_path && !stage_preflighting() &&
	    llm_record_open(llm, record_path, err, sizeof err) < 0)
		efatal(EXIT_USAGE, "%s", err);
	baseline = llm_type(llm) == LLM_BASELINE && replay_path == NULL;
	llm_add_params(llm, params);
	pp = json_object_new_object();	/* after the exits above: no leak on them */
	llm_add_params(llm, pp);
	if (json_object_object_get_ex(pp, "provider", &p))
		js_int(p, "concurrency", &conc);
	json_object_put(pp);
	schema = make_schema(1);
	if (max_text > 0)
		schema_bound(schema, (int)top_k, (int)max_text);
	check_schema = make_schema(0);
	if (!baseline || emit_prompt) {
		/* The default is the bundled prompt, installed or in the tree. */
		if (prompt_path == default_prompt &&
		    (found_prompt = stage_datafile("prompts/rca.txt")) != NULL) {
			prompt_path = found_prompt;
			js_add_str(params, "prompt", prompt_path);
		}
		if (prompt_path == NULL)
			stage_usage_error(st, "no prompt template (set pipeline.rca.prompt or --prompt)");
		if (prompt_load(&tmpl, prompt_path, err, sizeof err) < 0)
			efatal(EXIT_USAGE, "%s", err);
		have_tmpl = 1;
		if (prompt_check(&tmpl, placeholders, err, sizeof err) < 0)
			efatal(EXIT_USAGE, "%s: %s", prompt_path, err);
		js_add_str(params, "prompt_sha256", tmpl.sha256);
	} else {
		json_object_object_add(params, "prompt_sha256", NULL);
	}
	ask.st = st;
	ask.llm = llm;
	ask.schema = schema;
	ask.check_schema = check_schema;
	ask.schema_name = "rca";
	ask.purpose = "rca";
	ask.check = check_answer;
	ask.done = done;
	ask.batch = conc > 0 ? (size_t)conc : 1;
	ask.max_calls = max_calls;
	ask.max_tokens = max_tokens;
	return 0;
}

static const struct handler handlers[] = {{"group", on_record}, {NULL, NULL}};

static void
add_end(struct stage *st, json_object *end)
{
	(void)st;
	llm_add_stats(llm, end);
	ask_add_stats(&ask, end);
}

/* --preflight: the model server serves the model (lib/llm). */
static int
preflight(struct stage *st)
{
	(void)st;
	return llm ? llm_preflight(llm) : 0;
}

int
main(int argc, char **argv)
{
	static struct stage st = {
		.name = "rca",
		.section = "pipeline.rca",
		.synopsis = "[options] [FILE...]",
		.description = "Root-cause analysis of each detected group: forwards every record and "
			       "writes an rca record (ranked candidate services) after each detected "
			       "group, from the baseline ranking or a model.",
		.opts = opts,
		.on_start = on_start,
		.preflight = preflight,
		.add_end = add_end,
		.handlers = handlers,
		.no_loop = 1,
	};
	int rc;

	stage_init(&st, argc, argv);
	rc = ask_run(&ask);
	if (rc != 0)
		return rc;
	ask_free(&ask);
	if (have_tmpl)
		prompt_free(&tmpl);
	json_object_put(schema);
	json_object_put(check_schema);
	llm_close(llm);
	return rc;
}
