/* mltrace: an aiops run's MLflow traces (see mltrace.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "js.h"
#include "mltrace.h"
#include "stage.h"
#include "ts.h"

/* ---- OTLP values ---- */

/* Sets out_parent[key] to the OTLP AnyValue of a JSON value. */
static void
anyvalue(json_object *v, json_object *out_parent, const char *key)
{
	json_object *av = json_object_new_object();

	switch (json_object_get_type(v)) {
	case json_type_string:
		js_add_str(av, "stringValue", json_object_get_string(v));
		break;
	case json_type_int: {
		char s[32];
		snprintf(s, sizeof s, "%lld", (long long)json_object_get_int64(v));
		js_add_str(av, "intValue", s);
		break;
	}
	case json_type_double:
		json_object_object_add(av, "doubleValue", json_object_new_double(json_object_get_double(v)));
		break;
	case json_type_boolean:
		js_add_bool(av, "boolValue", json_object_get_boolean(v));
		break;
	case json_type_array: {
		json_object *vals = json_object_new_array(), *w = json_object_new_object();
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *tmp = json_object_new_object(), *x;
			anyvalue(json_object_array_get_idx(v, i), tmp, "v");
			json_object_object_get_ex(tmp, "v", &x);
			json_object_array_add(vals, json_object_get(x));
			json_object_put(tmp);
		}
		json_object_object_add(w, "values", vals);
		json_object_object_add(av, "arrayValue", w);
		break;
	}
	case json_type_object: {
		json_object *vals = json_object_new_array(), *w = json_object_new_object();
		json_object_object_foreach(v, k, x) {
			json_object *kv = json_object_new_object();
			js_add_str(kv, "key", k);
			anyvalue(x, kv, "value");
			json_object_array_add(vals, kv);
		}
		json_object_object_add(w, "values", vals);
		json_object_object_add(av, "kvlistValue", w);
		break;
	}
	default:
		break;   /* null: an empty AnyValue */
	}
	json_object_object_add(out_parent, key, av);
}

/* Appends the attribute key = v to attrs; takes v's reference. */
static void
attr(json_object *attrs, const char *key, json_object *v)
{
	json_object *a = json_object_new_object();

	js_add_str(a, "key", key);
	anyvalue(v, a, "value");
	json_object_array_add(attrs, a);
	json_object_put(v);
}

/* A bounded copy of v: strings cut at MLTRACE_MAX_STR bytes, arrays at
 * MLTRACE_MAX_ITEMS items (and a last item "[N more]"). */
static json_object *
bounded(json_object *v)
{
	json_object *o;
	size_t n, i;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return js_bounded(v, MLTRACE_MAX_STR);
	case json_type_array: {
		char more[48];
		n = json_object_array_length(v);
		o = json_object_new_array();
		for (i = 0; i < n && i < MLTRACE_MAX_ITEMS; i++)
			json_object_array_add(o, bounded(json_object_array_get_idx(v, i)));
		if (n > MLTRACE_MAX_ITEMS) {
			snprintf(more, sizeof more, "[%zu more]", n - MLTRACE_MAX_ITEMS);
			json_object_array_add(o, json_object_new_string(more));
		}
		return o;
	}
	case json_type_object:
		o = json_object_new_object();
		json_object_object_foreach(v, k, x)
			json_object_object_add(o, k, bounded(x));
		return o;
	default:
		return json_object_get(v);
	}
}

/* A new object with the members keys[] of rec that exist, bounded. */
static json_object *
pick(json_object *rec, const char *const *keys)
{
	json_object *o = json_object_new_object(), *v;

	for (size_t i = 0; keys[i]; i++)
		if (json_object_object_get_ex(rec, keys[i], &v))
			json_object_object_add(o, keys[i], bounded(v));
	return o;
}

static int64_t
latency(json_object *rec)
{
	double lat = 0;

	js_num(rec, "latency_ms", &lat);
	return (int64_t)llround(lat > 0 ? lat : 0);
}

static void
add_ns(json_object *span, const char *key, int64_t ms)
{
	char ns[32];

	snprintf(ns, sizeof ns, "%lld", (long long)ms * 1000000LL);
	js_add_str(span, key, ns);
}

/* The resource, scope and request around spans (an array; taken). */
static json_object *
request(json_object *spans)
{
	json_object *root, *rs, *ss, *o, *res, *ra;

	ss = json_object_new_object();
	o = json_object_new_object();
	js_add_str(o, "name", "aiops-mlflow");
	js_add_str(o, "version", AIOPS_VERSION);
	json_object_object_add(ss, "scope", o);
	json_object_object_add(ss, "spans", spans);
	rs = json_object_new_object();
	res = json_object_new_object();
	ra = json_object_new_array();
	attr(ra, "service.name", json_object_new_string("aiops"));
	json_object_object_add(res, "attributes", ra);
	json_object_object_add(rs, "resource", res);
	o = json_object_new_array();
	json_object_array_add(o, ss);
	json_object_object_add(rs, "scopeSpans", o);
	root = json_object_new_object();
	o = json_object_new_array();
	json_object_array_add(o, rs);
	json_object_object_add(root, "resourceSpans", o);
	return root;
}

static void
set_status(json_object *span, const char *why)
{
	json_object *o = json_object_new_object();

	js_add_int(o, "code", why ? 2 : 1);
	if (why)
		js_add_str(o, "message", why);
	json_object_object_add(span, "status", o);
}

/* ---- spans ---- */

/*
 * A span under construction: its attributes now, its times and status
 * once its children are known.
 */
struct node {
	json_object *span;      /* traceId, spanId, parentSpanId, name, kind, attributes */
	json_object *attrs;     /* borrowed from span */
	const char *stage;      /* the stage of a stage span, NULL otherwise */
	json_object *rec;       /* borrowed: the record behind it, or NULL */
	size_t parent;          /* index of the parent node (root: itself) */
	int64_t s, e;           /* ms; s < 0: unknown */
	int64_t dur;            /* its own duration when it has no start */
	const char *err;        /* ERROR and why, or NULL */
};

struct tree {
	struct node *n;
	size_t len, cap;
	char hex[65];           /* sha256 of the trace's seed */
};

/* Adds a node whose span id is derived from the trace seed and its index. */
static size_t
add_node(struct tree *t, size_t parent, const char *name, int kind)
{
	struct node *nd;
	char seed[96], h[65];

	if (t->len == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->n = erealloc(t->n, t->cap * sizeof *t->n);
	}
	nd = &t->n[t->len];
	memset(nd, 0, sizeof *nd);
	nd->span = json_object_new_object();
	js_add_strn(nd->span, "traceId", t->hex, 32);
	if (t->len == 0)
		js_add_strn(nd->span, "spanId", t->hex + 32, 16);
	else {
		snprintf(seed, sizeof seed, "%.64s/%zu", t->hex, t->len);
		js_sha256_hex(seed, strlen(seed), h);
		js_add_strn(nd->span, "spanId", h, 16);
		js_add_str(nd->span, "parentSpanId",
			   json_object_get_string(json_object_object_get(t->n[parent].span, "spanId")));
	}
	js_add_str(nd->span, "name", name);
	js_add_int(nd->span, "kind", kind);
	nd->attrs = json_object_new_array();
	json_object_object_add(nd->span, "attributes", nd->attrs);
	nd->parent = t->len == 0 ? 0 : parent;
	nd->s = nd->e = -1;
	return t->len++;
}

/* Widens node i to cover [s, e]. */
static void
cover(struct node *nd, int64_t s, int64_t e)
{
	if (s < 0)
		return;
	if (nd->s < 0 || s < nd->s)
		nd->s = s;
	if (nd->e < 0 || e > nd->e)
		nd->e = e;
}

/* The attributes and times of an llm_call span (the CHAT_MODEL part). */
static void
llm_attrs(const struct mltrace_run *r, struct node *nd, json_object *call)
{
	json_object *attrs = nd->attrs, *o, *res;
	const char *model = js_str(call, "model"), *s;
	static const char *copy[] = {"stage", "group_id", "purpose", "request_hash", "attempts",
				     "http_status", "latency_ms", "error", "rejected", NULL};
	double tin, tout;

	attr(attrs, "mlflow.spanType", json_object_new_string("CHAT_MODEL"));
	o = json_object_new_object();
	if (json_object_object_get_ex(call, "messages", &res))
		js_add_ref(o, "messages", res);
	if (json_object_object_get_ex(call, "params", &res) &&
	    json_object_is_type(res, json_type_object)) {
		json_object_object_foreach(res, pk, pv) {
			if (strcmp(pk, "messages") != 0)
				js_add_ref(o, pk, pv);
		}
	}
	if (model)
		js_add_str(o, "model", model);
	attr(attrs, "mlflow.spanInputs", o);
	{
		/* An OpenAI-style completion, which the trace view shows as chat. */
		json_object *out = json_object_new_object(), *ch = json_object_new_array(),
			    *c0 = json_object_new_object(), *msg = json_object_new_object();
		const char *resp = js_str(call, "response");
		js_add_str(msg, "role", "assistant");
		if (resp)
			js_add_str(msg, "content", resp);
		else
			json_object_object_add(msg, "content", NULL);
		js_add_int(c0, "index", 0);
		json_object_object_add(c0, "message", msg);
		json_object_array_add(ch, c0);
		json_object_object_add(out, "choices", ch);
		if (model)
			js_add_str(out, "model", model);
		attr(attrs, "mlflow.spanOutputs", out);
	}
	if (js_num(call, "tokens_in", &tin) == 0 && js_num(call, "tokens_out", &tout) == 0) {
		json_object *u = json_object_new_object();
		js_add_int(u, "input_tokens", (int64_t)tin);
		js_add_int(u, "output_tokens", (int64_t)tout);
		js_add_int(u, "total_tokens", (int64_t)(tin + tout));
		attr(attrs, "mlflow.chat.tokenUsage", u);
	}
	if (model) {
		attr(attrs, "mlflow.llm.model", json_object_new_string(model));
		attr(attrs, "gen_ai.request.model", json_object_new_string(model));
	}
	if ((s = js_str(call, "provider")) != NULL)
		attr(attrs, "mlflow.llm.provider", json_object_new_string(s));
	for (int i = 0; copy[i]; i++) {
		json_object *x;
		char k[64];
		if (!json_object_object_get_ex(call, copy[i], &x) || x == NULL)
			continue;
		snprintf(k, sizeof k, "aiops.%s", copy[i]);
		attr(attrs, k, json_object_get(x));
	}
	attr(attrs, "aiops.run_id", json_object_new_string(r->run_id));
	/* A call without a time starts with the run (as it always did). */
	if ((nd->s = ts_parse_ms(js_str(call, "started_at"))) < 0 &&
	    (nd->s = ts_parse_ms(js_str(call, "ts"))) < 0)
		nd->s = r->start_ms;
	nd->e = nd->s + latency(call);
	/* A call that worked but whose answer did not is an error too. */
	if ((nd->err = js_str(call, "error")) == NULL)
		nd->err = js_str(call, "rejected");
}

/* Finishes the spans (times, status) into an array; frees the tree. */
static json_object *
finish(struct tree *t)
{
	json_object *spans = json_object_new_array();

	for (size_t i = 0; i < t->len; i++) {
		struct node *nd = &t->n[i];
		add_ns(nd->span, "startTimeUnixNano", nd->s);
		add_ns(nd->span, "endTimeUnixNano", nd->e);
		set_status(nd->span, nd->err);
		json_object_array_add(spans, nd->span);
	}
	free(t->n);
	return spans;
}

json_object *
mltrace_call(const struct mltrace_run *r, json_object *call, unsigned long idx, char trace_id[40])
{
	struct tree t = {0};
	struct buf name = BUF_INIT(0);
	char seed[256];
	const char *stg = js_str(call, "stage"), *purpose = js_str(call, "purpose"),
		   *rh = js_str(call, "request_hash");

	snprintf(seed, sizeof seed, "%s/%lu/%.64s", r->mlflow_run, idx, rh ? rh : "");
	js_sha256_hex(seed, strlen(seed), t.hex);
	snprintf(trace_id, 40, "tr-%.32s", t.hex);
	buf_printf(&name, "%s%s%s", stg ? stg : "llm", purpose ? "." : "", purpose ? purpose : "");
	add_node(&t, 0, name.p, 3);
	buf_free(&name);
	llm_attrs(r, &t.n[0], call);
	return request(finish(&t));
}

/* ---- one trace per group ---- */

json_object *
mltrace_group_slim(json_object *group)
{
	static const char *keys[] = {"kind", "id", "detected", "start_ts", "detected_ts", "end_ts",
				     "decision_latency_ms", "method", "score", "signal_count",
				     "anomaly_count", NULL};
	json_object *o, *svcs, *arr;

	if (js_str(group, "id") == NULL)
		return NULL;
	o = pick(group, keys);
	if (json_object_object_get_ex(group, "services", &svcs) &&
	    json_object_is_type(svcs, json_type_array)) {
		arr = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(svcs) && i < MLTRACE_MAX_ITEMS; i++) {
			static const char *sk[] = {"service", "score", NULL};
			json_object_array_add(arr, pick(json_object_array_get_idx(svcs, i), sk));
		}
		json_object_object_add(o, "services", arr);
	}
	return o;
}

/* The service names of a group, at most MLTRACE_MAX_ITEMS. */
static json_object *
service_names(json_object *group)
{
	json_object *svcs, *arr = json_object_new_array();
	const char *s;

	if (json_object_object_get_ex(group, "services", &svcs) &&
	    json_object_is_type(svcs, json_type_array))
		for (size_t i = 0; i < json_object_array_length(svcs) && i < MLTRACE_MAX_ITEMS; i++)
			if ((s = js_str(json_object_array_get_idx(svcs, i), "service")) != NULL)
				json_object_array_add(arr, json_object_new_string(s));
	return arr;
}

static void
io(struct node *nd, json_object *in, json_object *out)
{
	attr(nd->attrs, "mlflow.spanInputs", in);
	attr(nd->attrs, "mlflow.spanOutputs", out);
}

/* A stage span for an rca, remediation or execution record. */
static void
stage_node(struct tree *t, json_object *rec, const char *kind)
{
	static const char *rca_out[] = {"candidates", "summary", "provider", "model", "error", NULL};
	static const char *rem_in[] = {"group_id", "root_cause", NULL};
	static const char *rem_out[] = {"steps", "dropped", "provider", "model", "error", NULL};
	static const char *exec_in[] = {"step_id", "action", "target", "risk", "argv", NULL};
	static const char *exec_out[] = {"decision", "reason", "rule", "actor", "approver",
					 "exit_code", "stdout_tail", "stderr_tail", NULL};
	struct buf name = BUF_INIT(0);
	struct node *nd;
	size_t i;
	int64_t at;

	if (strcmp(kind, "rca") == 0) {
		i = add_node(t, 0, "rca", 1);
		nd = &t->n[i];
		nd->stage = "rca";
		json_object *in = json_object_new_object();
		js_add_str(in, "group_id", js_str(rec, "group_id"));
		io(nd, in, pick(rec, rca_out));
	} else if (strcmp(kind, "remediation") == 0) {
		i = add_node(t, 0, "remediate", 1);
		nd = &t->n[i];
		nd->stage = "remediate";
		io(nd, pick(rec, rem_in), pick(rec, rem_out));
	} else {
		const char *step = js_str(rec, "step_id");
		buf_printf(&name, "exec %s", step ? step : "?");
		i = add_node(t, 0, name.p, 1);
		buf_free(&name);
		nd = &t->n[i];
		nd->stage = "exec";
		io(nd, pick(rec, exec_in), pick(rec, exec_out));
		attr(nd->attrs, "aiops.decision", json_object_get(json_object_object_get(rec, "decision")));
	}
	attr(nd->attrs, "mlflow.spanType", json_object_new_string(strcmp(kind, "execution") == 0 ? "TOOL" : "CHAIN"));
	nd->rec = rec;
	nd->err = js_str(rec, "error");
	if (strcmp(kind, "execution") == 0) {
		const char *d = js_str(rec, "decision");
		if (d && strcmp(d, "failed") == 0)
			nd->err = js_str(rec, "reason") ? js_str(rec, "reason") : "failed";
		if ((nd->s = ts_parse_ms(js_str(rec, "started_at"))) >= 0) {
			if ((nd->e = ts_parse_ms(js_str(rec, "ended_at"))) < nd->s)
				nd->e = nd->s;
		} else if ((at = ts_parse_ms(js_str(rec, "decided_at"))) >= 0)
			nd->s = nd->e = at;
	} else if ((at = ts_parse_ms(js_str(rec, "decided_at"))) >= 0) {
		nd->s = at - latency(rec);
		nd->e = at;
	}
	nd->dur = latency(rec);
}

/* The stage span that takes the calls of stage name (created if none). */
static size_t
stage_of(struct tree *t, const char *name)
{
	size_t i;

	if (name == NULL || *name == '\0')
		name = "llm";
	for (i = 1; i < t->len; i++)
		if (t->n[i].stage && strcmp(t->n[i].stage, name) == 0)
			return i;
	i = add_node(t, 0, name, 1);
	t->n[i].stage = name;
	attr(t->n[i].attrs, "mlflow.spanType", json_object_new_string("CHAIN"));
	return i;
}

/* The root's outputs: the top candidate, the steps and the decisions. */
static json_object *
root_outputs(struct tree *t)
{
	json_object *out = json_object_new_object(), *steps = json_object_new_array(),
		    *dec = json_object_new_array(), *v;
	static const char *step_keys[] = {"action", "target", "params", NULL};
	static const char *dec_keys[] = {"step_id", "action", "target", "decision", NULL};

	for (size_t i = 1; i < t->len; i++) {
		json_object *rec = t->n[i].rec;
		const char *k = rec ? js_str(rec, "kind") : NULL;
		if (k == NULL)
			continue;
		if (strcmp(k, "rca") == 0 && json_object_object_get_ex(rec, "candidates", &v) &&
		    json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0) {
			static const char *ck[] = {"service", "component", "fault", "confidence", NULL};
			json_object_object_add(out, "root_cause", pick(json_object_array_get_idx(v, 0), ck));
		} else if (strcmp(k, "remediation") == 0 && json_object_object_get_ex(rec, "steps", &v) &&
			   json_object_is_type(v, json_type_array)) {
			for (size_t j = 0; j < json_object_array_length(v) && j < MLTRACE_MAX_ITEMS; j++)
				json_object_array_add(steps, pick(json_object_array_get_idx(v, j), step_keys));
		} else if (strcmp(k, "execution") == 0 && json_object_array_length(dec) < MLTRACE_MAX_ITEMS)
			json_object_array_add(dec, pick(rec, dec_keys));
	}
	json_object_object_add(out, "steps", steps);
	json_object_object_add(out, "decisions", dec);
	return out;
}

/* Times of the stage spans and the root, from their own and their
 * children's; status of the root. */
static void
settle(const struct mltrace_run *r, struct tree *t, json_object *group)
{
	int64_t handed = -1, dlat = 0, gs;
	double d;
	size_t i;

	/* llm spans widen their stage's span; a stage span with calls but no
	 * record of its own fails as its last call did */
	for (i = 1; i < t->len; i++)
		if (t->n[i].stage == NULL && t->n[i].parent != 0) {
			struct node *p = &t->n[t->n[i].parent];
			cover(p, t->n[i].s, t->n[i].e);
			if (p->rec == NULL && p != &t->n[1])
				p->err = t->n[i].err;
		}
	for (i = 2; i < t->len; i++) {
		struct node *nd = &t->n[i];
		if (nd->stage == NULL && nd->parent != 0)
			continue;
		if (nd->s < 0) {
			nd->s = r->start_ms;
			nd->e = r->start_ms + nd->dur;
		}
		if (handed < 0 || nd->s < handed)
			handed = nd->s;
	}
	/* correlate: the decision's latency before the group was handed on */
	if (js_num(group, "decision_latency_ms", &d) == 0 && d > 0)
		dlat = (int64_t)llround(d);
	if (handed < 0)
		handed = t->n[1].s >= 0 ? t->n[1].s : r->start_ms;
	cover(&t->n[1], handed - dlat, handed);
	/* a group whose signals came during the run (a live stream, not a
	 * replay) was being detected from its first signal on */
	if ((gs = ts_parse_ms(js_str(group, "start_ts"))) >= r->start_ms && gs <= handed)
		cover(&t->n[1], gs, handed);
	for (i = 1; i < t->len; i++) {
		cover(&t->n[0], t->n[i].s, t->n[i].e);
		if (t->n[i].err && t->n[i].parent == 0 && t->n[0].err == NULL)
			t->n[0].err = t->n[i].err;
	}
	if (t->n[0].s < 0)
		t->n[0].s = t->n[0].e = r->start_ms;
}

/* The seed of a group's trace and span ids. */
static void
group_seed(const struct mltrace_run *r, const char *gid, char hex[65])
{
	struct buf b = BUF_INIT(0);

	buf_printf(&b, "%s/group/%s", r->mlflow_run, gid ? gid : "");
	js_sha256_hex(b.p, b.len, hex);
	buf_free(&b);
}

void
mltrace_group_trace_id(const struct mltrace_run *r, const char *group_id, char trace_id[40])
{
	char hex[65];

	group_seed(r, group_id, hex);
	snprintf(trace_id, 40, "tr-%.32s", hex);
}

json_object *
mltrace_group(const struct mltrace_run *r, json_object *group, json_object *const *recs, size_t n,
	      char trace_id[40])
{
	static const char *corr_in[] = {"id", "start_ts", "end_ts", "method", NULL};
	static const char *corr_out[] = {"detected", "detected_ts", "services", "score",
					 "signal_count", "anomaly_count", NULL};
	struct tree t = {0};
	struct buf b = BUF_INIT(0);
	const char *gid = js_str(group, "id"), *k;
	json_object *in, *v;
	size_t i;

	group_seed(r, gid, t.hex);
	snprintf(trace_id, 40, "tr-%.32s", t.hex);
	buf_printf(&b, "incident %s", gid ? gid : "?");
	add_node(&t, 0, b.p, 1);
	buf_free(&b);

	/* the root: what the incident was and what became of it (outputs later) */
	attr(t.n[0].attrs, "mlflow.spanType", json_object_new_string("CHAIN"));
	in = json_object_new_object();
	js_add_str(in, "group_id", gid);
	json_object_object_add(in, "services", service_names(group));
	if ((k = js_str(group, "detected_ts")) != NULL)
		js_add_str(in, "detected_ts", k);
	attr(t.n[0].attrs, "mlflow.spanInputs", in);
	attr(t.n[0].attrs, "aiops.group_id", json_object_new_string(gid ? gid : ""));
	attr(t.n[0].attrs, "aiops.run_id", json_object_new_string(r->run_id));
	if (r->dataset)
		attr(t.n[0].attrs, "aiops.dataset.sha256", json_object_new_string(r->dataset));
	{
		static const char *tk[][2] = {{"start_ts", "aiops.detection.start_ts"},
					      {"detected_ts", "aiops.detection.detected_ts"},
					      {"end_ts", "aiops.detection.end_ts"}};
		for (i = 0; i < sizeof tk / sizeof *tk; i++)
			if ((k = js_str(group, tk[i][0])) != NULL)
				attr(t.n[0].attrs, tk[i][1], json_object_new_string(k));
	}
	if (json_object_object_get_ex(group, "detected", &v) && v)
		attr(t.n[0].attrs, "aiops.detected", json_object_get(v));
	attr(t.n[0].attrs, "aiops.services", service_names(group));

	/* correlate: the group record */
	i = add_node(&t, 0, "correlate", 1);
	t.n[i].stage = "correlate";
	attr(t.n[i].attrs, "mlflow.spanType", json_object_new_string("CHAIN"));
	io(&t.n[i], pick(group, corr_in), pick(group, corr_out));

	for (i = 0; i < n; i++)
		if ((k = js_str(recs[i], "kind")) != NULL &&
		    (strcmp(k, "rca") == 0 || strcmp(k, "remediation") == 0 || strcmp(k, "execution") == 0))
			stage_node(&t, recs[i], k);
	for (i = 0; i < n; i++) {
		size_t p, c;
		const char *stg, *purpose;
		struct buf name = BUF_INIT(0);
		if ((k = js_str(recs[i], "kind")) == NULL || strcmp(k, "llm_call") != 0)
			continue;
		stg = js_str(recs[i], "stage");
		purpose = js_str(recs[i], "purpose");
		p = stage_of(&t, stg);
		buf_printf(&name, "%s%s%s", stg ? stg : "llm", purpose ? "." : "", purpose ? purpose : "");
		c = add_node(&t, p, name.p, 3);
		buf_free(&name);
		llm_attrs(r, &t.n[c], recs[i]);
	}
	settle(r, &t, group);
	attr(t.n[0].attrs, "mlflow.spanOutputs", root_outputs(&t));
	return request(finish(&t));
}
