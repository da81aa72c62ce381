/* triage: aiops-correlate's LLM triage of its groups (contract in triage.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ask.h"
#include "err.h"
#include "groupfmt.h"
#include "js.h"
#include "llm.h"
#include "prompt.h"
#include "stage.h"
#include "triage.h"
#include "ts.h"

const char triage_default_prompt[] = "prompts/triage.txt";

static const char *const triage_vars[] = {
	"group_id", "start_ts", "detected_ts", "end_ts", "score", "signal_count",
	"anomaly_count", "services", "graph", "evidence", "schema", NULL,
};

#define TITLE_MAX 200    /* bytes of the model's title kept */
#define REASON_MAX 600   /* bytes of a reason kept */

/* What a triage job carries until its answer: the group record and its
 * statistical detection time. */
struct tjob {
	struct triage *tr;
	json_object *group;
	int64_t det_ns;          /* detected_ts before triage */
	int64_t det_latency_ms;  /* decision_latency_ms before triage */
};

static json_object *
make_triage_schema(void)
{
	json_object *s = json_object_new_object(), *props = json_object_new_object(), *x, *req;
	static const struct {
		const char *name, *type, *desc;
	} f[] = {
		{"incident", "boolean", "true: a real incident worth raising; false: noise"},
		{"title", "string", "one line naming the service and the symptom"},
		{"reason", "string", "one sentence that cites the evidence"},
	};

	js_add_str(s, "type", "object");
	req = json_object_new_array();
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		x = json_object_new_object();
		js_add_str(x, "type", f[i].type);
		js_add_str(x, "description", f[i].desc);
		json_object_object_add(props, f[i].name, x);
		json_object_array_add(req, json_object_new_string(f[i].name));
	}
	json_object_object_add(s, "properties", props);
	json_object_object_add(s, "required", req);
	js_add_bool(s, "additionalProperties", 0);
	return s;
}

/*
 * A model's free text as one line: control characters and runs of blanks
 * become one space, no leading or trailing blank, at most max bytes (not
 * cutting a UTF-8 sequence).  Returns a new string.
 */
static char *
one_line(const char *s, size_t max)
{
	char *o = emalloc(strlen(s) + 1);
	size_t n = 0;
	int sp = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == ' ') {
			sp = n > 0;
			continue;
		}
		if (sp)
			o[n++] = ' ';
		sp = 0;
		o[n++] = (char)c;
	}
	o[n] = '\0';
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)o[n] & 0xC0) == 0x80)
			n--;
		o[n] = '\0';
	}
	return o;
}

static int
blank(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s > ' ')
			return 0;
	return 1;
}

/* A valid answer also needs a title when it says incident, a reason when
 * it says not. */
static int
check_triage(struct ask *a, struct ask_job *j, json_object *ans, char *why, size_t n)
{
	int inc = 0;

	(void)a, (void)j;
	js_bool(ans, "incident", &inc);
	if (inc && blank(js_str(ans, "title"))) {
		snprintf(why, n, "title: empty, a one-line title is needed when incident is true");
		return -1;
	}
	if (!inc && blank(js_str(ans, "reason"))) {
		snprintf(why, n, "reason: empty, a reason is needed when incident is false");
		return -1;
	}
	return 0;
}

/* The prompt of group record o, or NULL with why. */
static json_object *
triage_messages(struct triage *t, json_object *o, size_t *bytes, char *why, size_t n)
{
	json_object *ev = NULL, *msgs;
	char score[64], sigs[32], anoms[32];
	char *svc = groupfmt_services(o), *graph, *evt;
	double d = 0;
	int64_t v = 0;

	json_object_object_get_ex(o, "evidence", &ev);
	graph = groupfmt_graph(ev);
	evt = groupfmt_evidence(ev, NULL);
	js_num(o, "score", &d);
	snprintf(score, sizeof score, "%g", d);
	js_int(o, "signal_count", &v);
	snprintf(sigs, sizeof sigs, "%lld", (long long)v);
	v = 0;
	js_int(o, "anomaly_count", &v);
	snprintf(anoms, sizeof anoms, "%lld", (long long)v);
	struct prompt_var vars[] = {
		{"group_id", js_str(o, "id")},
		{"start_ts", js_str(o, "start_ts") ? js_str(o, "start_ts") : "unknown"},
		{"detected_ts", js_str(o, "detected_ts") ? js_str(o, "detected_ts") : "unknown"},
		{"end_ts", js_str(o, "end_ts") ? js_str(o, "end_ts") : "unknown"},
		{"score", score}, {"signal_count", sigs}, {"anomaly_count", anoms},
		{"services", svc}, {"graph", graph}, {"evidence", evt},
		{"schema", js_dump(t->schema, NULL)}, {NULL, NULL},
	};
	msgs = prompt_messages(&t->tmpl, vars, bytes, why, n);
	free(svc);
	free(graph);
	free(evt);
	return msgs;
}

/* Adds triage {verdict, reason, provider, model, latency_ms} to o. */
static void
add_triage(const struct triage *t, json_object *o, const char *verdict, const char *reason,
	   int64_t latency_ms)
{
	json_object *x = json_object_new_object();
	char *r = one_line(reason ? reason : "", REASON_MAX);

	js_add_str(x, "verdict", verdict);
	js_add_str(x, "reason", r);
	js_add_str(x, "provider", llm_provider(t->llm));
	js_add_str(x, "model", llm_model(t->llm));
	js_add_int(x, "latency_ms", latency_ms);
	json_object_object_add(o, "triage", x);
	free(r);
}

/*
 * The measured latency of a job in whole ms: the sum of its llm_call
 * records' latency_ms (what a replay reproduces), or of the calls' wall time
 * when there are none.
 */
static int64_t
job_latency_ms(const struct ask_job *j)
{
	int64_t sum = 0, v;
	size_t n = j->calls ? json_object_array_length(j->calls) : 0;

	if (n == 0)
		return llround(j->latency_ms);
	for (size_t i = 0; i < n; i++)
		if (js_int(json_object_array_get_idx(j->calls, i), "latency_ms", &v) == 0 && v > 0)
			sum += v;
	return sum;
}

/* The answer (or failure) of a triage job: the group is written now, right
 * after its llm_call records. */
static void
triage_done(struct ask *a, struct ask_job *j)
{
	struct tjob *tj = j->data;
	struct triage *t = tj->tr;
	json_object *o = tj->group;
	int64_t lat = job_latency_ms(j);
	int inc = 1;

	if (j->answer)
		js_bool(j->answer, "incident", &inc);
	if (j->answer && !inc) {
		/* Rejected: written as a group that was not detected. */
		t->rejected++;
		js_add_bool(o, "detected", 0);
		json_object_object_add(o, "detected_ts", NULL);
		json_object_object_add(o, "decision_latency_ms", NULL);
		add_triage(t, o, "rejected", js_str(j->answer, "reason"), lat);
	} else {
		/* Accepted, or no answer (the statistical decision stands): the
		 * incident is raised only once the model has answered or given
		 * up, so its latency delays detection. */
		js_add_ts(o, "detected_ts", tj->det_ns + lat * TS_NS_PER_MS);
		js_add_int(o, "decision_latency_ms", tj->det_latency_ms + lat);
		if (j->answer) {
			char *title = one_line(js_str(j->answer, "title") ? js_str(j->answer, "title") : "",
					       TITLE_MAX);
			t->accepted++;
			js_add_str(o, "title", title);
			free(title);
			add_triage(t, o, "accepted", js_str(j->answer, "reason"), lat);
		} else {
			t->errors++;
			add_triage(t, o, "error", j->error, lat);
		}
	}
	stage_emit(a->st, o);
	json_object_put(o);
	free(tj);
	j->data = NULL;
}

void
triage_group(struct triage *t, struct stage *st, json_object *o, int detected, int64_t det_ts,
	     int64_t det_latency_ms)
{
	json_object *msgs;
	size_t bytes = 0;
	char why[512];

	if (!t->on) {
		stage_emit(st, o);
		json_object_put(o);
		return;
	}
	if (!detected) {
		ask_emit(&t->ask, o);
		json_object_put(o);
		return;
	}
	msgs = triage_messages(t, o, &bytes, why, sizeof why);
	if (msgs == NULL || t->emit_prompt) {
		if (msgs == NULL) {
			/* Cannot happen with a checked template; keep the group. */
			t->errors++;
			add_triage(t, o, "error", why, 0);
		} else {
			json_object *p = stage_record("prompt");
			js_add_str(p, "stage", st->name);
			js_add_str(p, "group_id", js_str(o, "id"));
			js_add_str(p, "purpose", "triage");
			js_add_str(p, "provider", llm_provider(t->llm));
			js_add_str(p, "model", llm_model(t->llm));
			json_object_object_add(p, "messages", msgs);
			js_add_str(p, "schema_name", "triage");
			js_add_ref(p, "schema", t->schema);
			js_add_int(p, "bytes", (int64_t)bytes);
			js_add_str(p, "template_sha256", t->tmpl.sha256);
			ask_emit(&t->ask, p);
			json_object_put(p);
		}
		ask_emit(&t->ask, o);
		json_object_put(o);
		return;
	}
	struct tjob *tj = ecalloc(1, sizeof *tj);
	struct ask_job *j = ask_job_new(js_str(o, "id"));
	tj->tr = t;
	tj->group = o;
	tj->det_ns = det_ts + det_latency_ms * TS_NS_PER_MS;
	tj->det_latency_ms = det_latency_ms;
	j->data = tj;
	j->messages = msgs;
	j->prompt_bytes = bytes;
	/* No budgets are set, so this cannot fail. */
	if (ask_submit(&t->ask, j) < 0)
		warnf("%s", t->ask.err);
}

void
triage_start(struct triage *t, struct stage *st)
{
	char err[1024];
	json_object *params = stage_params(st), *pp, *p;
	int64_t conc = 4;

	if (!t->on) {
		if (t->emit_prompt)
			stage_usage_error(st, "--emit-prompt writes triage prompts: it needs --llm-triage");
		if (t->record_path || t->replay_path)
			stage_usage_error(st, "--record and --replay need --llm-triage");
		return;
	}
	if (t->batch < 1)
		stage_usage_error(st, "--triage-batch must be at least 1");
	t->llm = llm_open(st->config, st->sec, st->name, err, sizeof err);
	if (t->llm == NULL)
		efatal(EXIT_USAGE, "%s", err);
	if (t->replay_path && llm_replay_open(t->llm, t->replay_path, err, sizeof err) < 0)
		efatal(EXIT_USAGE, "%s", err);
	if (llm_type(t->llm) == LLM_BASELINE && t->replay_path == NULL && !t->emit_prompt)
		stage_usage_error(st, "--llm-triage needs a model: the baseline provider makes no model calls "
				  "(set provider.type, or give --replay FILE)");
	if (t->record_path && !stage_preflighting() &&
	    llm_record_open(t->llm, t->record_path, err, sizeof err) < 0)
		efatal(EXIT_USAGE, "%s", err);
	/* The default is the bundled template, installed or in the tree. */
	if (t->prompt == triage_default_prompt &&
	    (t->found = stage_datafile(triage_default_prompt)) != NULL)
		t->prompt = t->found;
	if (t->prompt == NULL || *t->prompt == '\0')
		stage_usage_error(st, "no triage prompt template (set pipeline.correlation.triage_prompt)");
	if (prompt_load(&t->tmpl, t->prompt, err, sizeof err) < 0)
		efatal(EXIT_USAGE, "%s", err);
	t->have_tmpl = 1;
	if (prompt_check(&t->tmpl, triage_vars, err, sizeof err) < 0)
		efatal(EXIT_USAGE, "%s: %s", t->prompt, err);
	t->schema = make_triage_schema();
	js_add_bool(params, "llm_triage", 1);
	js_add_str(params, "triage_prompt", t->prompt);
	js_add_str(params, "triage_prompt_sha256", t->tmpl.sha256);
	js_add_int(params, "triage_batch", t->batch);
	llm_add_params(t->llm, params);
	pp = json_object_new_object();
	llm_add_params(t->llm, pp);
	if (json_object_object_get_ex(pp, "provider", &p))
		js_int(p, "concurrency", &conc);
	json_object_put(pp);
	t->ask.st = st;
	t->ask.llm = t->llm;
	t->ask.schema = t->schema;
	t->ask.schema_name = "triage";
	t->ask.purpose = "triage";
	t->ask.check = check_triage;
	t->ask.done = triage_done;
	t->ask.batch = (size_t)(t->batch < conc || conc < 1 ? t->batch : conc);
}

void
triage_forward(struct triage *t, struct stage *st, struct rec *r)
{
	if (t->on)
		ask_forward(&t->ask, r);
	else
		stage_forward(st, r);
}

int
triage_end(struct triage *t)
{
	char err[512];
	int rc = 0;

	if (ask_flush(&t->ask) < 0) {
		warnf("%s", t->ask.err);
		rc = EXIT_FAIL;
	}
	if (llm_record_close(t->llm, err, sizeof err) < 0) {
		warnf("%s", err);
		rc = EXIT_FAIL;
	}
	return rc;
}

void
triage_add_end(struct triage *t, json_object *end)
{
	if (t->on && !t->emit_prompt) {
		json_object *x = json_object_new_object();
		js_add_int(x, "accepted", (int64_t)t->accepted);
		js_add_int(x, "rejected", (int64_t)t->rejected);
		js_add_int(x, "errors", (int64_t)t->errors);
		json_object_object_add(end, "triage", x);
	}
	if (t->llm) {
		llm_add_stats(t->llm, end);
		if (t->on && !t->emit_prompt)
			ask_add_stats(&t->ask, end);
	}
}

int
triage_preflight(struct triage *t)
{
	return t->llm ? llm_preflight(t->llm) : 0;
}

void
triage_free(struct triage *t)
{
	ask_free(&t->ask);
	if (t->have_tmpl)
		prompt_free(&t->tmpl);
	free(t->found);
	json_object_put(t->schema);
	llm_close(t->llm);
}
