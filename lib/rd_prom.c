/*
 * rd_prom: answers of the Prometheus HTTP API's /api/v1/query_range
 * (resultType matrix) and /api/v1/query (vector, scalar), as curl saved
 * them: {"status":"success","data":{"resultType":..,"result":[..]}}, one
 * document or one a line (rd_doc.h); each sample is an element
 * "metrics:LINE.K".
 *
 *   ts <- the sample's time (epoch seconds, a number); value <- the
 *   sample's string ("NaN" is null; "+Inf" and "-Inf" are rejects);
 *   name <- the __name__ label, else the option `name`; service <- the
 *   first label of the option `service_label` (a name or a list; default
 *   service, then job), else the option `service`; labels <- the other
 *   labels.
 * An answer whose status is not success is one reject with its errorType
 * and error; so are an empty result, a string result and native
 * histograms.
 */
#include <string.h>

#include "err.h"
#include "js.h"
#include "rd_doc.h"

struct prom_opt {
	const char *labels[8];  /* the service labels, in order (into s->cfg) */
	size_t nlabels;
	const char *name, *service;
};

static int
prom_open(struct rd_src *s)
{
	struct prom_opt *o;
	struct rd_doc *d;
	json_object *v = rd_get(s->cfg, "service_label");
	const char *rn = rd_role_name[s->role];

	rd_doc_open(s);
	d = s->priv;
	d->aux = o = ecalloc(1, sizeof *o);
	if (v == NULL) {
		o->labels[o->nlabels++] = "service";
		o->labels[o->nlabels++] = "job";
	} else if (json_object_is_type(v, json_type_string)) {
		o->labels[o->nlabels++] = json_object_get_string(v);
	} else if (json_object_is_type(v, json_type_array) && rd_alen(v) <= 8) {
		for (size_t i = 0; i < rd_alen(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);
			if (!json_object_is_type(e, json_type_string))
				break;
			o->labels[o->nlabels++] = json_object_get_string(e);
		}
	}
	if (v && o->nlabels != (json_object_is_type(v, json_type_array) ? rd_alen(v) : 1)) {
		snprintf(s->why, sizeof s->why, "dataset.%s.service_label: expected a label name or "
			 "a list of at most 8", rn);
		return -1;
	}
	o->name = js_str(s->cfg, "name");
	o->service = js_str(s->cfg, "service");
	return 0;
}

/* One sample [time, "value"] of a series. */
static void
prom_sample(struct rd_src *s, const struct prom_opt *o, json_object *metric, json_object *smp,
	    unsigned k, const char *where)
{
	struct buf *b = &s->body;
	size_t off = b->len, rawn, i;
	const char *raw = json_object_to_json_string_length(smp, JS_FLAGS, &rawn), *why,
		*name = js_str(metric, "__name__"), *svc = NULL, *svclabel = NULL, *vs;
	json_object *t = json_object_array_get_idx(smp, 0), *v = json_object_array_get_idx(smp, 1);
	int64_t ts;

	rd_count_in(s);
	if (!json_object_is_type(smp, json_type_array) || rd_alen(smp) != 2) {
		rd_reject(s, s->line, raw, rawn, "%s: a sample is not [time, \"value\"]", where);
		return;
	}
	if (!json_object_is_type(t, json_type_int) && !json_object_is_type(t, json_type_double)) {
		rd_reject(s, s->line, raw, rawn, "%s: the time is not a number of seconds", where);
		return;
	}
	if (rd_ts_json(t, TS_S, &ts, &why) < 0) {
		rd_reject(s, s->line, raw, rawn, "%s: %s", where, why);
		return;
	}
	if (s->quiet) {
		rd_pend(s, ts, k, RD_METRIC, off);
		return;
	}
	for (i = 0; i < o->nlabels && svc == NULL; i++)
		if ((svc = js_str(metric, o->labels[i])) != NULL)
			svclabel = o->labels[i];
	if (svc == NULL)
		svc = o->service;
	if (name == NULL)
		name = o->name;
	if (svc == NULL || *svc == '\0' || name == NULL || *name == '\0') {
		rd_reject(s, s->line, raw, rawn, "%s: %s", where, name && *name ?
			  "no service label (set dataset.metrics.service_label or service)" :
			  "no __name__ label (set dataset.metrics.name)");
		return;
	}
	vs = json_object_get_string(v);
	if (vs && (strcmp(vs, "+Inf") == 0 || strcmp(vs, "-Inf") == 0 || strcmp(vs, "Inf") == 0)) {
		rd_reject(s, s->line, raw, rawn, "%s: value %s is not a finite number", where, vs);
		return;
	}
	wmetric(b, ts, svc, name);
	if (wvalue_json(b, v) < 0) {
		b->len = off;
		rd_reject(s, s->line, raw, rawn, "%s: the value is not a number", where);
		return;
	}
	WS(b, ",\"labels\":{");
	if (metric == NULL) {
		WS(b, "}}");
		rd_pend(s, ts, k, RD_METRIC, off);
		return;
	}
	json_object_object_foreach(metric, key, val) {
		if (strcmp(key, "__name__") == 0 || (svclabel && strcmp(key, svclabel) == 0))
			continue;
		if (b->p[b->len - 1] != '{')
			buf_addc(b, ',');
		wstrz(b, key);
		buf_addc(b, ':');
		wjson(b, val);
	}
	WS(b, "}}");
	rd_pend(s, ts, k, RD_METRIC, off);
}

/* Why an answer holds no samples to read, or NULL. */
static const char *
prom_bad(json_object *o, char *why, size_t n)
{
	const char *st = js_str(o, "status"), *rt = js_str(rd_get(o, "data"), "resultType");
	json_object *res = rd_get(rd_get(o, "data"), "result");

	if (!json_object_is_type(o, json_type_object) || st == NULL)
		snprintf(why, n, "not a Prometheus API answer (no status)");
	else if (strcmp(st, "success") != 0)
		snprintf(why, n, "the answer's status is '%s': %s: %s", st,
			 js_str(o, "errorType") ? js_str(o, "errorType") : "?",
			 js_str(o, "error") ? js_str(o, "error") : "(no error message)");
	else if (rt == NULL || res == NULL)
		snprintf(why, n, "no data.resultType or data.result");
	else if (strcmp(rt, "string") == 0)
		snprintf(why, n, "resultType string holds no metric");
	else if (strcmp(rt, "matrix") != 0 && strcmp(rt, "vector") != 0 && strcmp(rt, "scalar") != 0)
		snprintf(why, n, "unknown resultType '%s'", rt);
	else if (!json_object_is_type(res, json_type_array))
		snprintf(why, n, "data.result is not an array");
	else if (rd_alen(res) == 0)
		snprintf(why, n, "an empty result (the query matched no series)");
	else
		return NULL;
	return why;
}

static int
prom_next(struct rd_src *s)
{
	struct rd_doc *d = s->priv;
	const struct prom_opt *po = d->aux;
	json_object *o, *res, *ser, *vals;
	const char *raw, *rt;
	size_t rawn, i, j, n;
	unsigned k = 0;
	char where[64], why[300];
	int r;

	if ((r = rd_doc_next(s, d, &o, &raw, &rawn)) <= 0 || o == NULL)
		return r;
	if (prom_bad(o, why, sizeof why)) {
		rd_count_in(s);
		rd_reject_cut(s, s->line, raw, rawn, 4096, "%s", why);
		json_object_put(o);
		return 1;
	}
	rt = js_str(rd_get(o, "data"), "resultType");
	res = rd_get(rd_get(o, "data"), "result");
	if (strcmp(rt, "scalar") == 0) {
		s->nelem = 1;
		prom_sample(s, po, NULL, res, 1, "result");
		json_object_put(o);
		return 1;
	}
	s->nelem = 0;
	for (i = 0; i < rd_alen(res); i++) {
		ser = json_object_array_get_idx(res, i);
		s->nelem += rt[0] == 'v' ? 1 : (unsigned)rd_alen(rd_get(ser, "values"));
	}
	for (i = 0; i < rd_alen(res); i++) {
		ser = json_object_array_get_idx(res, i);
		vals = rd_get(ser, rt[0] == 'v' ? "value" : "values");
		n = rt[0] == 'v' ? 1 : rd_alen(vals);
		if (!json_object_is_type(rd_get(ser, "metric"), json_type_object) || vals == NULL ||
		    !json_object_is_type(vals, json_type_array) || n == 0) {
			size_t sn;
			const char *sraw = json_object_to_json_string_length(ser, JS_FLAGS, &sn);
			rd_count_in(s);
			rd_reject_cut(s, s->line, sraw, sn, 4096, "result[%zu]: %s", i,
				      !json_object_is_type(rd_get(ser, "metric"), json_type_object) ?
				      "no metric object" : rd_get(ser, "histograms") || rd_get(ser, "histogram") ?
				      "native histograms are not read" : vals == NULL ? "no value" :
				      !json_object_is_type(vals, json_type_array) ? "the value is not an array" :
				      "no values");
			continue;
		}
		for (j = 0; j < n; j++) {
			if (rt[0] == 'v')
				snprintf(where, sizeof where, "result[%zu]", i);
			else
				snprintf(where, sizeof where, "result[%zu].values[%zu]", i, j);
			prom_sample(s, po, rd_get(ser, "metric"), rt[0] == 'v' ? vals :
				    json_object_array_get_idx(vals, j), ++k, where);
		}
	}
	json_object_put(o);
	return 1;
}

/* An object with Prometheus's status and resultType (or errorType). */
static int
prom_probe(const struct rd_probe *p)
{
	static const char *const ok[] = {"\"status\"", "\"resultType\"", NULL};
	static const char *const err[] = {"\"status\"", "\"errorType\"", NULL};

	return rd_doc_first(p) == '{' && (rd_doc_has(p, ok) || rd_doc_has(p, err)) ? RD_SCORE_MAX : 0;
}

const struct rd_format rd_prometheus = {
	.name = "prometheus",
	.exts = ".json",
	.roles = 1u << RD_METRICS,
	.probe = prom_probe,
	.open = prom_open,
	.next = prom_next,
	.close = rd_doc_close,
};
