/*
 * aiops-remediate: remediation steps for each root-cause analysis.  Reads
 * `rca` records and writes, after each, a `remediation` record: ordered
 * steps that use only the actions of the action catalog (actions.yaml),
 * with their params checked against the catalog's types; a proposed step
 * that names an unknown action or carries a bad param is left out and
 * listed in `dropped` with the reason.  `group` records are forwarded and
 * remembered by id (the last max_groups of them) so that the prompt can
 * show the group's evidence; every record is forwarded byte for byte and in
 * order, and `incident` labels are never read into a prompt.
 *
 * The `baseline` provider takes the catalog's runbook for the top
 * candidate's fault with the candidate's service as the target.  Other
 * providers get a prompt rendered from a template and answer JSON; one
 * repair round for a bad answer; an rca with an error, or a call that fails
 * for good, gives a remediation with an `error` and no steps.  Memory is
 * bounded by max_groups groups plus one batch of `concurrency` questions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ask.h"
#include "buf.h"
#include "catalog.h"
#include "err.h"
#include "groupfmt.h"
#include "js.h"
#include "llm.h"
#include "prompt.h"
#include "schema.h"
#include "stage.h"
#include "ts.h"

static const char *catalog_path;
static const char default_prompt[] = "examples/prompts/remediate.txt";
static const char *prompt_path = default_prompt;
static char *found_prompt; /* the bundled copy, when the default is used */
static long long max_steps = 5, max_groups = 1024;
static int emit_prompt;
static long long max_prompt_bytes = 65536, max_text;
static long long max_calls, max_tokens;
static const char *record_path, *replay_path;

static const struct opt opts[] = {
	{"catalog", OPT_STRING, &catalog_path, "FILE", "action catalog (default: the built-in copy of examples/actions.yaml)", 0, 0},
	{"prompt", OPT_STRING, &prompt_path, "FILE", "prompt template (default: the bundled prompts/remediate.txt)", 0, 0},
	{"max_steps", OPT_INT, &max_steps, "N", "steps per remediation (default 5)", 0, 0},
	{"max_groups", OPT_INT, &max_groups, "N", "groups remembered for their evidence (default 1024)", 0, 0},
	{"emit_prompt", OPT_FLAG, &emit_prompt, NULL, "write the prompts as records, call no model", OPT_NOCONFIG, 0},
	{"max_text", OPT_INT, &max_text, "N", "bound the answer schema: at most max_steps items in a list, N characters in a string (for grammar-constrained servers such as llama.cpp; default 0: unbounded)", 0, 0},
	{"max_prompt_bytes", OPT_INT, &max_prompt_bytes, "BYTES", "trim the evidence to fit (default 65536)", 0, 0},
	{"max_calls", OPT_INT, &max_calls, "N", "model calls allowed per run (0: no limit)", 0, 0},
	{"max_tokens", OPT_INT, &max_tokens, "N", "tokens allowed per run (0: no limit)", 0, 0},
	{"record", OPT_STRING, &record_path, "FILE", "also write every llm_call record to FILE", OPT_NOCONFIG, 0},
	{"replay", OPT_STRING, &replay_path, "FILE", "answer from the llm_call records in FILE", OPT_NOCONFIG, 0},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const char *const placeholders[] = {
	"group_id", "root_cause", "candidates", "summary", "services", "evidence", "graph",
	"catalog", "max_steps", "schema", NULL,
};

static struct llm *llm;
static struct catalog *cat;
static char *cat_text;
static struct prompt tmpl;
static int have_tmpl, baseline;
static json_object *schema, *check_schema;
static struct ask ask;

/* The groups seen, by id, oldest first in a ring. */
static json_object *groups;
static struct { char *id; json_object *g; } *ring;
static size_t ring_head, ring_n;

/* What a job carries to done(). */
struct job {
	json_object *root_cause;
};

static void
remember(json_object *g, const char *id)
{
	size_t cap = (size_t)max_groups;

	if (ring_n == cap) {
		/* Evict the oldest, unless a newer group took its id. */
		json_object *cur;
		if (json_object_object_get_ex(groups, ring[ring_head].id, &cur) && cur == ring[ring_head].g)
			json_object_object_del(groups, ring[ring_head].id);
		free(ring[ring_head].id);
		ring_head = (ring_head + 1) % cap;
		ring_n--;
	}
	size_t at = (ring_head + ring_n) % cap;
	ring[at].id = estrdup(id);
	ring[at].g = g;
	ring_n++;
	json_object_object_add(groups, id, json_object_get(g));
}

static json_object *
new_remediation(const char *gid, json_object *root_cause)
{
	json_object *o = stage_record("remediation");

	js_add_str(o, "group_id", gid);
	js_add_ref(o, "root_cause", root_cause);
	return o;
}

static void
finish(json_object *o, json_object *steps, json_object *dropped, double latency_ms, const char *error)
{
	json_object_object_add(o, "steps", steps ? steps : json_object_new_array());
	json_object_object_add(o, "dropped", dropped ? dropped : json_object_new_array());
	js_add_str(o, "provider", llm_provider(llm));
	js_add_str(o, "model", llm_model(llm));
	js_add_ts(o, "decided_at", ts_now());
	js_add_double(o, "latency_ms", round(latency_ms * 1000) / 1000);
	if (error)
		js_add_str(o, "error", error);
}

static void
add_drop(json_object *dropped, const char *action, const char *reason)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "action", action ? json_object_new_string(action) : NULL);
	js_add_str(d, "reason", reason);
	json_object_array_add(dropped, d);
}

/*
 * Checks proposed steps (an array of {action, target, params, rationale})
 * against the catalog into steps and dropped.  rationale_fmt, when set,
 * replaces each step's rationale.
 */
static void
check_steps(json_object *proposed, const char *default_target, const char *fixed_rationale,
	    json_object *steps, json_object *dropped)
{
	size_t n = json_object_array_length(proposed);

	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(proposed, i), *pp = NULL, *params, *st;
		const char *action = js_str(s, "action");
		const char *target = js_str(s, "target") ? js_str(s, "target") : default_target;
		const char *rat = fixed_rationale ? fixed_rationale : js_str(s, "rationale");
		char why[512], id[32];

		if ((long long)json_object_array_length(steps) >= max_steps) {
			snprintf(why, sizeof why, "more than max_steps (%lld) steps", max_steps);
			add_drop(dropped, action, why);
			continue;
		}
		json_object_object_get_ex(s, "params", &pp);
		if (catalog_check_step(cat, action, target, pp, &params, why, sizeof why) < 0) {
			add_drop(dropped, action, why);
			continue;
		}
		st = json_object_new_object();
		snprintf(id, sizeof id, "s%zu", json_object_array_length(steps) + 1);
		js_add_str(st, "id", id);
		js_add_str(st, "action", action);
		js_add_str(st, "target", target);
		json_object_object_add(st, "params", params);
		js_add_str(st, "risk", catalog_risk(cat, action));
		{
			json_object *r = rat ? json_object_new_string(rat) : NULL;
			json_object_object_add(st, "rationale", r ? js_bounded(r, max_text > 0 ?
						  (size_t)max_text : FREE_TEXT_MAX) : NULL);
			json_object_put(r);
		}
		json_object_array_add(steps, st);
	}
}

static json_object *
baseline_remediation(const char *gid, json_object *root_cause)
{
	int64_t t0 = ts_mono();
	json_object *o = new_remediation(gid, root_cause), *rb;
	const char *svc = js_str(root_cause, "service"), *fault = js_str(root_cause, "fault");
	char why[256];

	rb = catalog_runbook(cat, fault);
	if (rb == NULL) {
		if (fault)
			snprintf(why, sizeof why, "no runbook entry for fault '%s'", fault);
		else
			snprintf(why, sizeof why, "the root cause has no fault type, so no runbook applies");
		finish(o, NULL, NULL, 0, why);
		return o;
	}
	json_object *steps = json_object_new_array(), *dropped = json_object_new_array();
	char rat[300];
	snprintf(rat, sizeof rat, "runbook for %s on %s", fault, svc);
	check_steps(rb, svc, rat, steps, dropped);
	finish(o, steps, dropped, (double)(ts_mono() - t0) / 1e6, NULL);
	return o;
}

/* The answer schema: {steps: [step]}.  strict (what the model is sent):
 * each step one of the catalog's actions with exactly its own params
 * (catalog_step_schema); else the loose shape that the answer is checked
 * against before catalog_check_step judges each step. */
static json_object *
make_schema(int strict)
{
	json_object *s = json_object_new_object(), *props = json_object_new_object();
	json_object *arr = json_object_new_object(), *req, *step;

	if (strict) {
		step = catalog_step_schema(cat);
	} else {
		json_object *sp = json_object_new_object(), *x, *t = json_object_new_array();
		step = json_object_new_object();
		req = json_object_new_array();
		js_add_str(step, "type", "object");
		for (const char *const *k = (const char *const[]){"action", "target", "rationale", NULL};
		     *k; k++) {
			x = json_object_new_object();
			js_add_str(x, "type", "string");
			json_object_object_add(sp, *k, x);
			json_object_array_add(req, json_object_new_string(*k));
		}
		x = json_object_new_object();
		json_object_array_add(t, json_object_new_string("object"));
		json_object_array_add(t, json_object_new_string("null"));
		json_object_object_add(x, "type", t);
		json_object_object_add(sp, "params", x);
		json_object_object_add(step, "properties", sp);
		json_object_object_add(step, "required", req);
	}
	js_add_str(arr, "type", "array");
	json_object_object_add(arr, "items", step);
	json_object_object_add(props, "steps", arr);
	js_add_str(s, "type", "object");
	json_object_object_add(s, "properties", props);
	req = json_object_new_array();
	json_object_array_add(req, json_object_new_string("steps"));
	json_object_object_add(s, "required", req);
	if (strict)
		js_add_bool(s, "additionalProperties", 0);
	return s;
}

static json_object *
build_prompt(json_object *rca, json_object *g, const char *gid, json_object *top, size_t *bytes,
	     int *trimmed, char *why, size_t n)
{
	json_object *ev0 = NULL, *ev, *msgs = NULL, *cands = NULL;
	char ms[32], note[256];
	char *svc = groupfmt_services(g), *graph, *evt = NULL;
	struct buf others = BUF_INIT(0);
	size_t total, omitted = 0;
	int samples_dropped = 0;

	if (g)
		json_object_object_get_ex(g, "evidence", &ev0);
	ev = json_object_is_type(ev0, json_type_object) ? js_copy(ev0) : json_object_new_object();
	total = groupfmt_items(ev);
	graph = groupfmt_graph(ev);
	snprintf(ms, sizeof ms, "%lld", max_steps);
	json_object_object_get_ex(rca, "candidates", &cands);
	for (size_t i = 1; i < json_object_array_length(cands); i++)
		buf_printf(&others, "\n%s", js_dump(json_object_array_get_idx(cands, i), NULL));
	if (others.len == 0)
		buf_adds(&others, "(none)");
	*trimmed = 0;
	for (;;) {
		const char *notep = g ? NULL : "the group's evidence is not available";
		if (*trimmed) {
			snprintf(note, sizeof note,
				 "evidence trimmed to fit the prompt budget of %lld bytes: %s%zu of %zu items left out",
				 max_prompt_bytes, samples_dropped ? "log samples dropped, " : "", omitted, total);
			notep = note;
		}
		free(evt);
		evt = groupfmt_evidence(ev, notep);
		struct prompt_var vars[] = {
			{"group_id", gid}, {"root_cause", js_dump(top, NULL)}, {"candidates", others.p},
			{"summary", js_str(rca, "summary") ? js_str(rca, "summary") : "(none)"},
			{"services", svc}, {"evidence", evt}, {"graph", graph},
			{"catalog", cat_text}, {"max_steps", ms}, {"schema", js_dump(schema, NULL)},
			{NULL, NULL},
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
	buf_free(&others);
	json_object_put(ev);
	return msgs;
}

static void
done(struct ask *a, struct ask_job *j)
{
	struct job *d = j->data;
	json_object *o = new_remediation(j->group_id, d->root_cause), *steps, *proposed;

	if (j->answer) {
		json_object *dropped = json_object_new_array();
		steps = json_object_new_array();
		json_object_object_get_ex(j->answer, "steps", &proposed);
		check_steps(proposed, NULL, NULL, steps, dropped);
		finish(o, steps, dropped, j->latency_ms, NULL);
	} else {
		finish(o, NULL, NULL, j->latency_ms, j->error);
	}
	stage_emit(a->st, o);
	json_object_put(o);
	json_object_put(d->root_cause);
	free(d);
}

static int
on_record(struct stage *st, struct rec *r)
{
	json_object *top, *cands = NULL, *rc, *g = NULL, *msgs;
	const char *gid, *err;
	char why[600];
	size_t bytes = 0;
	int trimmed = 0;

	if (strcmp(r->kind, "group") == 0) {
		ask_forward(&ask, r);
		if ((gid = js_str(r->obj, "id")) != NULL)
			remember(r->obj, gid);
		return 0;
	}
	if ((gid = js_str(r->obj, "group_id")) == NULL) {
		stage_reject(st, r->source, r->line, r->raw, r->len, r->len, "rca without a string \"group_id\"");
		return 0;
	}
	ask_forward(&ask, r);
	json_object_object_get_ex(r->obj, "candidates", &cands);
	top = json_object_is_type(cands, json_type_array) && json_object_array_length(cands) > 0 ?
		json_object_array_get_idx(cands, 0) : NULL;
	rc = json_object_new_object();
	json_object_object_add(rc, "service", js_str(top, "service") ?
			       json_object_new_string(js_str(top, "service")) : NULL);
	json_object_object_add(rc, "fault", js_str(top, "fault") ?
			       json_object_new_string(js_str(top, "fault")) : NULL);
	err = js_str(r->obj, "error");
	if (err || top == NULL || js_str(top, "service") == NULL) {
		json_object *o = new_remediation(gid, rc);
		if (err)
			snprintf(why, sizeof why, "rca failed: %.500s", err);
		else
			snprintf(why, sizeof why, "the rca has no candidate service");
		finish(o, NULL, NULL, 0, why);
		ask_emit(&ask, o);
		json_object_put(o);
		json_object_put(rc);
		return 0;
	}
	if (baseline && !emit_prompt) {
		json_object *o = baseline_remediation(gid, rc);
		ask_emit(&ask, o);
		json_object_put(o);
		json_object_put(rc);
		return 0;
	}
	json_object_object_get_ex(groups, gid, &g);
	msgs = build_prompt(r->obj, g, gid, top, &bytes, &trimmed, why, sizeof why);
	if (msgs == NULL) {
		json_object *o = new_remediation(gid, rc);
		finish(o, NULL, NULL, 0, why);
		ask_emit(&ask, o);
		json_object_put(o);
		json_object_put(rc);
		return 0;
	}
	if (emit_prompt) {
		json_object *o = stage_record("prompt");
		js_add_str(o, "stage", st->name);
		js_add_str(o, "group_id", gid);
		js_add_str(o, "purpose", "remediation");
		js_add_str(o, "provider", llm_provider(llm));
		js_add_str(o, "model", llm_model(llm));
		json_object_object_add(o, "messages", msgs);
		js_add_str(o, "schema_name", "remediation");
		js_add_ref(o, "schema", schema);
		js_add_int(o, "bytes", (int64_t)bytes);
		js_add_bool(o, "trimmed", trimmed);
		js_add_str(o, "template_sha256", tmpl.sha256);
		ask_emit(&ask, o);
		json_object_put(o);
		json_object_put(rc);
		return 0;
	}
	struct ask_job *j = ask_job_new(gid);
	struct job *d = ecalloc(1, sizeof *d);
	d->root_cause = rc;
	j->data = d;
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

	if (max_steps < 1)
		stage_usage_error(st, "--max-steps must be at least 1");
	if (max_text < 0 || max_text > 1000000)
		stage_usage_error(st, "--max-text must be between 0 and 1000000");
	if (max_groups < 1)
		stage_usage_error(st, "--max-groups must be at least 1");
	cat = catalog_path ? catalog_load(catalog_path, err, sizeof err) : catalog_builtin(err, sizeof err);
	if (cat == NULL)
		efatal(EXIT_USAGE, "%s", err);
	js_add_str(params, "catalog_sha256", catalog_sha256(cat));
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
		schema_bound(schema, (int)max_steps, (int)max_text);
	check_schema = make_schema(0);
	cat_text = catalog_prompt_text(cat);
	if (!baseline || emit_prompt) {
		/* The default is the bundled prompt, installed or in the tree. */
		if (prompt_path == default_prompt &&
		    (found_prompt = stage_datafile("prompts/remediate.txt")) != NULL) {
			prompt_path = found_prompt;
			js_add_str(params, "prompt", prompt_path);
		}
		if (prompt_path == NULL)
			stage_usage_error(st, "no prompt template (set pipeline.remediation.prompt or --prompt)");
		if (prompt_load(&tmpl, prompt_path, err, sizeof err) < 0)
			efatal(EXIT_USAGE, "%s", err);
		have_tmpl = 1;
		if (prompt_check(&tmpl, placeholders, err, sizeof err) < 0)
			efatal(EXIT_USAGE, "%s: %s", prompt_path, err);
		js_add_str(params, "prompt_sha256", tmpl.sha256);
	} else {
		json_object_object_add(params, "prompt_sha256", NULL);
	}
	groups = json_object_new_object();
	ring = ecalloc((size_t)max_groups, sizeof *ring);
	ask.st = st;
	ask.llm = llm;
	ask.schema = schema;
	ask.check_schema = check_schema;
	ask.schema_name = "remediation";
	ask.purpose = "remediation";
	ask.done = done;
	ask.batch = conc > 0 ? (size_t)conc : 1;
	ask.max_calls = max_calls;
	ask.max_tokens = max_tokens;
	return 0;
}

static const struct handler handlers[] = {{"group", on_record}, {"rca", on_record}, {NULL, NULL}};

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
		.name = "remediate",
		.section = "pipeline.remediation",
		.synopsis = "[options] [FILE...]",
		.description = "Remediation steps for each rca record: forwards every record and "
			       "writes a remediation record (catalog actions only) after each rca, "
			       "from the catalog's runbook or a model.",
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
	for (size_t i = 0; i < ring_n; i++)
		free(ring[(ring_head + i) % (size_t)max_groups].id);
	free(ring);
	json_object_put(groups);
	json_object_put(schema);
	json_object_put(check_schema);
	free(cat_text);
	catalog_free(cat);
	llm_close(llm);
	return rc;
}
