/* mlmodel: a LoggedModel per provider/model/prompt configuration (see mlmodel.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "js.h"
#include "mlmodel.h"
#include "mlreq.h"
#include "ts.h"

/* The provider fields that make a configuration. */
static const char *const ident_keys[] = {
	"type", "replay_provider", "model", "temperature", "max_tokens", "seed", "num_ctx",
	"structured", NULL,
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *
as_text(json_object *v)
{
	if (v == NULL)
		return "null";
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
		: json_object_to_json_string_ext(v, JS_FLAGS);
}

static void
param(json_object *params, const char *stage, const char *key, const char *v)
{
	struct buf k = BUF_INIT(0);

	buf_printf(&k, "%s.%s", stage, key);
	js_add_str(params, k.p, v);
	buf_free(&k);
}

/* The registered version of stage's prompt, as "name/version", or NULL. */
static const char *
prompt_ref(const struct mlprompt_set *ps, const char *stage, struct buf *out)
{
	for (size_t i = 0; ps && i < ps->n; i++)
		if (strcmp(ps->p[i].stage, stage) == 0 && ps->p[i].version[0]) {
			buf_reset(out);
			buf_printf(out, "%s/%s", ps->p[i].name, ps->p[i].version);
			return out->p;
		}
	return NULL;
}

int
mlmodel_config(struct mlmodel *m, json_object *stage_params, const struct mlprompt_set *ps)
{
	const char **names;
	size_t n = 0, cap = json_object_object_length(stage_params) + 1;
	json_object *ident = json_object_new_object();
	struct buf models = BUF_INIT(0), ref = BUF_INIT(0);
	const char *s;
	int found = 0;

	memset(m, 0, sizeof *m);
	m->params = json_object_new_object();
	names = ecalloc(cap, sizeof *names);
	json_object_object_foreach(stage_params, stage, sp) {
		json_object *prov;
		if (json_object_is_type(sp, json_type_object) &&
		    json_object_object_get_ex(sp, "provider", &prov) &&
		    json_object_is_type(prov, json_type_object))
			names[n++] = stage;
	}
	qsort(names, n, sizeof *names, cmp_str);   /* stage records come in any order */
	for (size_t i = 0; i < n; i++) {
		json_object *sp = json_object_object_get(stage_params, names[i]);
		json_object *prov = json_object_object_get(sp, "provider"), *id = json_object_new_object();
		json_object *sha = json_object_object_get(sp, "prompt_sha256");
		struct buf k = BUF_INIT(0);
		if (sha == NULL)
			sha = json_object_object_get(sp, "triage_prompt_sha256");
		for (size_t j = 0; ident_keys[j]; j++) {
			json_object *v;
			if (!json_object_object_get_ex(prov, ident_keys[j], &v))
				continue;
			js_add_ref(id, ident_keys[j], v);
			buf_reset(&k);
			buf_printf(&k, "provider.%s", ident_keys[j]);
			param(m->params, names[i], k.p, as_text(v));
		}
		s = sha && json_object_is_type(sha, json_type_string) ? json_object_get_string(sha) : "none";
		js_add_str(id, "prompt_sha256", s);
		param(m->params, names[i], "prompt_sha256", s);
		param(m->params, names[i], "prompt", (s = prompt_ref(ps, names[i], &ref)) ? s : "none");
		json_object_object_add(ident, names[i], id);
		buf_free(&k);
		/* the name: the distinct models, in stage order */
		s = js_str(prov, "model");
		if (s && (models.len == 0 || strstr(models.p, s) == NULL))
			buf_printf(&models, "%s%s", models.len ? "+" : "", s);
		found = 1;
	}
	if (found) {
		size_t len;
		const char *txt = js_dump(ident, &len);
		js_sha256_hex(txt, len, m->sha256);
		/* MLflow refuses / : . % " ' in a model's name */
		for (char *p = models.p; p && *p; p++)
			if (strchr("/:.%\"'", *p))
				*p = '_';
		snprintf(m->name, sizeof m->name, "%.100s-%.8s", models.len ? models.p : "model",
			 m->sha256);
	}
	json_object_put(ident);
	buf_free(&models);
	buf_free(&ref);
	free(names);
	return found;
}

void
mlmodel_free(struct mlmodel *m)
{
	json_object_put(m->params);
	m->params = NULL;
}

/* {"model_id": m->id}, a new object. */
static json_object *
with_id(const struct mlmodel *m)
{
	json_object *o = json_object_new_object();

	js_add_str(o, "model_id", m->id);
	return o;
}

/* The experiment's model of this configuration, into m->id ("" if none). */
static int
find(struct mlmodel *m, struct mlf_client *c, const char *exp_id, unsigned *calls, char *err,
     size_t errlen)
{
	json_object *body = json_object_new_object(), *ids = json_object_new_array(), *o = NULL, *a;
	struct buf f = BUF_INIT(0);

	json_object_array_add(ids, json_object_new_string(exp_id));
	json_object_object_add(body, "experiment_ids", ids);
	buf_printf(&f, "tags.`aiops.model_config_sha256` = '%s'", m->sha256);
	js_add_str(body, "filter", f.p);
	js_add_int(body, "max_results", 1);
	buf_free(&f);
	if (mlreq_send(c, "POST", "/api/2.0/mlflow/logged-models/search", body, &o, calls, err, errlen) < 0)
		return -1;
	m->id[0] = '\0';
	if (json_object_object_get_ex(o, "models", &a) && json_object_array_length(a) > 0) {
		const char *id = js_str(js_path(json_object_array_get_idx(a, 0), "info"), "model_id");
		snprintf(m->id, sizeof m->id, "%s", id ? id : "");
	}
	json_object_put(o);
	return 0;
}

static int
create(struct mlmodel *m, struct mlf_client *c, const char *exp_id, const char *run_id,
       json_object *linked, unsigned *calls, char *err, size_t errlen)
{
	json_object *body = json_object_new_object(), *params = json_object_new_array();
	json_object *tags = json_object_new_array(), *o = NULL;
	struct buf p = BUF_INIT(0);
	const char *id;
	size_t n;
	int rc;

	js_add_str(body, "experiment_id", exp_id);
	js_add_str(body, "name", m->name);
	js_add_str(body, "model_type", "aiops");
	js_add_str(body, "source_run_id", run_id);
	json_object_object_foreach(m->params, k, v)
		mlreq_kv(params, k, json_object_get_string(v));
	json_object_object_add(body, "params", params);
	mlreq_kv(tags, "aiops.model_config_sha256", m->sha256);
	if (linked)
		mlreq_kv(tags, "mlflow.linkedPrompts", js_dump(linked, &n));
	json_object_object_add(body, "tags", tags);
	if (mlreq_send(c, "POST", "/api/2.0/mlflow/logged-models", body, &o, calls, err, errlen) < 0)
		return -1;
	id = js_str(js_path(o, "model.info"), "model_id");
	snprintf(m->id, sizeof m->id, "%s", id ? id : "");
	json_object_put(o);
	if (!m->id[0]) {
		snprintf(err, errlen, "logged-models: answer without model.info.model_id");
		return -1;
	}
	/* READY: nothing more will be uploaded to it */
	body = with_id(m);
	js_add_str(body, "status", "LOGGED_MODEL_READY");
	buf_printf(&p, "/api/2.0/mlflow/logged-models/%s", m->id);
	rc = mlreq_send(c, "PATCH", p.p, body, NULL, calls, err, errlen);
	buf_free(&p);
	return rc;
}

/* 1 when the model's metrics (have, its data.metrics) hold mt for run_id. */
static int
logged(json_object *have, const char *run_id, const struct mlf_metric *mt)
{
	for (size_t i = 0; have && i < json_object_array_length(have); i++) {
		json_object *o = json_object_array_get_idx(have, i);
		const char *k = js_str(o, "key"), *r = js_str(o, "run_id");
		int64_t ts = -1, step = -1;
		js_int(o, "timestamp", &ts);
		js_int(o, "step", &step);
		if (k && r && strcmp(k, mt->key) == 0 && strcmp(r, run_id) == 0 && ts == mt->ts_ms &&
		    step == mt->step)
			return 1;
	}
	return 0;
}

/* d's metrics again with the model's id, MLF_BATCH_METRICS a batch, but
 * those the model has (have: its data.metrics on a resend, or NULL): the
 * server refuses a point twice. */
static int
metrics(struct mlmodel *m, struct mlf_client *c, const char *run_id, const struct mlf_data *d,
	json_object *have, unsigned *calls, char *err, size_t errlen)
{
	for (size_t i = 0; i < d->nmetrics;) {
		json_object *body = json_object_new_object(), *arr = json_object_new_array();
		for (size_t k = 0; k < MLF_BATCH_METRICS && i < d->nmetrics; i++) {
			const struct mlf_metric *mt = &d->metrics[i];
			json_object *o;
			if (logged(have, run_id, mt))
				continue;
			k++;
			o = with_id(m);
			js_add_str(o, "key", mt->key);
			json_object_object_add(o, "value", js_new_double(mt->value));
			js_add_int(o, "timestamp", mt->ts_ms);
			js_add_int(o, "step", mt->step);
			json_object_array_add(arr, o);
		}
		js_add_str(body, "run_id", run_id);
		json_object_object_add(body, "metrics", arr);
		if (json_object_array_length(arr) == 0)
			json_object_put(body);
		else if (mlreq_send(c, "POST", "/api/2.0/mlflow/runs/log-batch", body, NULL, calls, err,
				    errlen) < 0)
			return -1;
	}
	return 0;
}

/* A GET (the answer in *out); counted. */
static int
get(struct mlf_client *c, const char *path, json_object **out, unsigned *calls, char *err,
    size_t errlen)
{
	(*calls)++;
	return mlf_call(c, "GET", path, NULL, 0, NULL, NULL, out, err, errlen);
}

/*
 * A resend: whether run_id already has the model as an input (*linked) and
 * the model's metrics (*have, a new ref, or NULL).  Returns 0 or -1.
 */
static int
prior(struct mlmodel *m, struct mlf_client *c, const char *run_id, int *linked,
      json_object **have, unsigned *calls, char *err, size_t errlen)
{
	struct buf p = BUF_INIT(0);
	json_object *o = NULL, *a;
	int rc;

	*linked = 0;
	*have = NULL;
	buf_printf(&p, "/api/2.0/mlflow/runs/get?run_id=%s", run_id);
	rc = get(c, p.p, &o, calls, err, errlen);
	if (rc == 0) {
		a = js_path(o, "run.inputs.model_inputs");
		for (size_t i = 0; a && i < json_object_array_length(a); i++) {
			const char *id = js_str(json_object_array_get_idx(a, i), "model_id");
			*linked |= id && strcmp(id, m->id) == 0;
		}
		json_object_put(o);
		buf_reset(&p);
		buf_printf(&p, "/api/2.0/mlflow/logged-models/%s", m->id);
		if ((rc = get(c, p.p, &o, calls, err, errlen)) == 0) {
			if ((a = js_path(o, "model.data.metrics")) != NULL)
				*have = json_object_get(a);
			json_object_put(o);
		}
	}
	buf_free(&p);
	return rc;
}

int
mlmodel_log(struct mlmodel *m, struct mlf_client *c, const char *exp_id, const char *run_id,
	    const struct mlf_data *d, json_object *linked, int resend, unsigned *calls,
	    char *err, size_t errlen)
{
	json_object *body, *models, *have = NULL;
	int done = 0, rc;

	if (find(m, c, exp_id, calls, err, errlen) < 0)
		return -1;
	m->reused = m->id[0] != '\0';
	if (!m->reused && create(m, c, exp_id, run_id, linked, calls, err, errlen) < 0)
		return -1;
	if (resend && m->reused && prior(m, c, run_id, &done, &have, calls, err, errlen) < 0)
		return -1;
	rc = metrics(m, c, run_id, d, have, calls, err, errlen);
	json_object_put(have);
	if (rc < 0 || done)
		return rc;
	body = json_object_new_object();
	models = json_object_new_array();
	json_object_array_add(models, with_id(m));
	js_add_str(body, "run_id", run_id);
	json_object_object_add(body, "models", models);
	return mlreq_send(c, "POST", "/api/2.0/mlflow/runs/log-inputs", body, NULL, calls, err, errlen);
}

/* A span's time attribute (nanoseconds as a decimal string), or -1. */
static int64_t
span_ns(json_object *span, const char *key)
{
	const char *s = js_str(span, key);

	return s && *s ? strtoll(s, NULL, 10) : -1;
}

int
mlmodel_link_trace(struct mlf_client *c, const char *exp_id, json_object *req,
		   const char *trace_id, const char *model_id, char *err, size_t errlen)
{
	json_object *root = mlreq_root_span(req), *ids;
	int64_t s, e, code = 0;
	char t[TS_LEN + 1];
	struct buf b = BUF_INIT(0);
	int rc;

	if (root == NULL || (s = span_ns(root, "startTimeUnixNano")) < 0)
		return 0;
	e = span_ns(root, "endTimeUnixNano");
	js_int(js_path(root, "status"), "code", &code);
	/* the ids as JSON strings (quoted and escaped) */
	ids = json_object_new_array();
	json_object_array_add(ids, json_object_new_string(trace_id));
	json_object_array_add(ids, json_object_new_string(exp_id));
	json_object_array_add(ids, json_object_new_string(model_id));
	/* the duration in whole milliseconds, as the server counts it from the spans */
	buf_printf(&b, "{\"trace\":{\"trace_info\":{\"trace_id\":%s,\"trace_location\":"
		   "{\"type\":\"MLFLOW_EXPERIMENT\",\"mlflow_experiment\":{\"experiment_id\":%s}},"
		   "\"request_time\":\"%s\",\"execution_duration\":\"%.3fs\",\"state\":\"%s\","
		   "\"trace_metadata\":{\"mlflow.modelId\":%s}}}}",
		   json_object_to_json_string_ext(json_object_array_get_idx(ids, 0), JS_FLAGS),
		   json_object_to_json_string_ext(json_object_array_get_idx(ids, 1), JS_FLAGS),
		   ts_format(s, t), e > s ? (double)(e / 1000000 - s / 1000000) / 1000.0 : 0.0,
		   code == 2 ? "ERROR" : "OK",
		   json_object_to_json_string_ext(json_object_array_get_idx(ids, 2), JS_FLAGS));
	rc = mlf_call(c, "POST", "/api/3.0/mlflow/traces", b.p, b.len, NULL, NULL, NULL, err, errlen);
	buf_free(&b);
	json_object_put(ids);
	return rc;
}
