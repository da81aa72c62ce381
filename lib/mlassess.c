/* mlassess: per-incident assessments on the incident traces (see mlassess.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"
#include "js.h"
#include "mlassess.h"

#define SCORER "aiops-metrics"

/* The stages a per-incident score depends on (aiops-metrics' contract). */
static const struct {
	const char *score;
	const char *stages[3];
} deps[] = {
	{"rca_rank", {"rca", NULL, NULL}},
	{"remediation_match", {"rca", "remediate", NULL}},
};

json_object *
mlassess_incident_slim(json_object *inc)
{
	static const char *keys[] = {"kind", "id", "start_ts", "detected_ts", "root_cause",
				     "expected_actions", NULL};
	json_object *o, *v;

	if (js_str(inc, "id") == NULL)
		return NULL;
	o = json_object_new_object();
	for (size_t i = 0; keys[i]; i++)
		if (json_object_object_get_ex(inc, keys[i], &v))
			js_add_ref(o, keys[i], v);
	return o;
}

int
mlassess_map(const char *path, const char *key, const char *val, json_object *out)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (path == NULL)
		return 0;
	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_object *o = js_parse(NULL, line, (size_t)n, NULL);
		const char *k = js_str(o, key), *v = js_str(o, val);
		if (k && v)
			js_add_str(out, k, v);
		json_object_put(o);
	}
	if (ferror(f))
		rc = -1;
	free(line);
	fclose(f);
	return rc;
}

struct ctx {
	struct mlf_client *c;
	const struct mltrace_run *r;
	json_object *incidents;
	json_object *errs[2];           /* rca, remediate: {group_id: error} */
	const char *const *failed;
	struct mlassess_count *n;
	char *err;
	size_t errlen;
};

static const char *stage_names[2] = {"rca", "remediate"};

/* 1 and why (appended) when the score name cannot be trusted for group
 * gid, 0 when it can. */
static int
stage_failed(const struct ctx *x, const char *name, const char *gid, struct buf *why)
{
	for (size_t i = 0; i < sizeof deps / sizeof *deps; i++) {
		if (strcmp(deps[i].score, name) != 0)
			continue;
		for (size_t j = 0; deps[i].stages[j]; j++) {
			const char *s = deps[i].stages[j];
			for (size_t k = 0; x->failed && x->failed[k]; k++)
				if (strcmp(x->failed[k], s) == 0) {
					buf_printf(why, "stage %s failed for the run", s);
					return 1;
				}
			for (size_t k = 0; k < 2; k++) {
				const char *e;
				if (strcmp(stage_names[k], s) != 0)
					continue;
				if ((e = js_str(x->errs[k], gid)) != NULL) {
					buf_printf(why, "%s failed for %s: %.300s", s, gid, e);
					return 1;
				}
			}
		}
	}
	return 0;
}

/* The incident record of id, or NULL. */
static json_object *
incident(const struct ctx *x, const char *id)
{
	size_t n = x->incidents ? json_object_array_length(x->incidents) : 0;

	for (size_t i = n; i-- > 0;) {
		json_object *o = json_object_array_get_idx(x->incidents, i);
		const char *s = js_str(o, "id");
		if (s && strcmp(s, id) == 0)
			return o;
	}
	return NULL;
}

/* 1 when the trace info's assessments hold one named name from source type. */
static int
has(json_object *info, const char *name, const char *stype)
{
	json_object *as = js_path(info, "assessments");
	size_t n = json_object_is_type(as, json_type_array) ? json_object_array_length(as) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(as, i);
		const char *an = js_str(a, "assessment_name"), *st = js_str(js_path(a, "source"), "source_type");
		int valid = 1;
		js_bool(a, "valid", &valid);
		if (an && st && valid && strcmp(an, name) == 0 && strcmp(st, stype) == 0)
			return 1;
	}
	return 0;
}

/* Creates the assessment a (taken) on trace tid unless info has it. */
static int
create(struct ctx *x, const char *tid, json_object *info, json_object *a, const char *iid,
       const char *gid)
{
	json_object *body, *md = json_object_new_object();
	struct buf path = BUF_INIT(0);
	const char *p;
	size_t len;
	int rc = 0;

	if (has(info, js_str(a, "assessment_name"), js_str(js_path(a, "source"), "source_type"))) {
		x->n->kept++;
		json_object_put(a);
		json_object_put(md);
		return 0;
	}
	js_add_str(md, "aiops.run_id", x->r->run_id);
	js_add_str(md, "aiops.incident_id", iid);
	js_add_str(md, "aiops.group_id", gid);
	json_object_object_add(a, "metadata", md);
	body = json_object_new_object();
	json_object_object_add(body, "assessment", a);
	p = js_dump(body, &len);
	buf_printf(&path, "/api/3.0/mlflow/traces/%s/assessments", tid);
	if (mlf_call(x->c, "POST", path.p, p, len, NULL, NULL, NULL, x->err, x->errlen) < 0)
		rc = -1;
	else
		x->n->created++;
	buf_free(&path);
	json_object_put(body);
	return rc;
}

static json_object *
new_assessment(const char *name, const char *stype, const char *sid)
{
	json_object *a = json_object_new_object(), *src = json_object_new_object();

	js_add_str(a, "assessment_name", name);
	js_add_str(src, "source_type", stype);
	js_add_str(src, "source_id", sid);
	json_object_object_add(a, "source", src);
	return a;
}

/* The expectation of incident inc (NULL when it has no ground truth). */
static json_object *
expectation(const struct ctx *x, json_object *inc)
{
	json_object *a, *truth, *v, *e, *sv;
	const char *s;
	size_t n;

	if (inc == NULL)
		return NULL;
	truth = json_object_new_object();
	if (json_object_object_get_ex(inc, "root_cause", &v))
		js_add_ref(truth, "root_cause", v);
	if (json_object_object_get_ex(inc, "expected_actions", &v))
		js_add_ref(truth, "expected_actions", v);
	if (json_object_object_length(truth) == 0) {
		json_object_put(truth);
		return NULL;
	}
	a = new_assessment("ground_truth", "HUMAN", x->r->dataset ? x->r->dataset : "");
	s = js_dump(truth, &n);
	sv = json_object_new_object();
	js_add_str(sv, "serialization_format", "JSON_FORMAT");
	js_add_strn(sv, "value", s, n);
	e = json_object_new_object();
	json_object_object_add(e, "serialized_value", sv);
	json_object_object_add(a, "expectation", e);
	json_object_put(truth);
	return a;
}

/* The feedback of score record sc for group gid. */
static json_object *
feedback(const struct ctx *x, json_object *sc, const char *gid)
{
	const char *name = js_str(sc, "name"), *unit = js_str(sc, "unit");
	json_object *a = new_assessment(name, "CODE", SCORER), *fb = json_object_new_object(), *e;
	struct buf why = BUF_INIT(0);
	double v;
	int has_v = js_num(sc, "value", &v) == 0;

	if (stage_failed(x, name, gid, &why) || !has_v) {
		if (!has_v)
			buf_adds(&why, "aiops-metrics gave no value");
		e = json_object_new_object();
		js_add_str(e, "error_code", has_v ? "STAGE_FAILED" : "NO_VALUE");
		js_add_str(e, "error_message", why.p);
		json_object_object_add(fb, "value", NULL);
		json_object_object_add(fb, "error", e);
		if (has_v) {
			char vs[32];
			mlf_fmt_double(v, vs);
			buf_reset(&why);
			buf_printf(&why, "aiops-metrics wrote %s, not trusted: the answer it scores failed", vs);
			js_add_str(a, "rationale", why.p);
		}
	} else if (unit && strcmp(unit, "bool") == 0)
		js_add_bool(fb, "value", v != 0);
	else
		json_object_object_add(fb, "value", js_new_double(v));
	json_object_object_add(a, "feedback", fb);
	buf_free(&why);
	return a;
}

/* The assessments of incident iid: its score records are scores[from..) with that id. */
static int
one_incident(struct ctx *x, json_object *scores, size_t from, const char *iid, const char *gid)
{
	struct buf path = BUF_INIT(0);
	json_object *info = NULL, *a;
	char tid[40];
	size_t n = json_object_array_length(scores);
	int rc = 0;

	mltrace_group_trace_id(x->r, gid, tid);
	buf_printf(&path, "/api/3.0/mlflow/traces/%s", tid);
	if (mlf_call(x->c, "GET", path.p, NULL, 0, NULL, NULL, &info, x->err, x->errlen) < 0) {
		buf_free(&path);
		if (x->c->status == 404 || strcmp(x->c->error_code, "RESOURCE_DOES_NOT_EXIST") == 0) {
			x->n->no_trace++;
			x->err[0] = '\0';
			return 0;
		}
		return -1;
	}
	buf_free(&path);
	{
		json_object *ti = js_path(info, "trace.trace_info");
		if ((a = expectation(x, incident(x, iid))) != NULL)
			rc = create(x, tid, ti, a, iid, gid);
		for (size_t i = from; rc == 0 && i < n; i++) {
			json_object *sc = json_object_array_get_idx(scores, i);
			const char *s = js_str(sc, "incident_id");
			if (s && strcmp(s, iid) == 0 && js_str(sc, "name"))
				rc = create(x, tid, ti, feedback(x, sc, gid), iid, gid);
		}
	}
	json_object_put(info);
	return rc;
}

int
mlassess_send(struct mlf_client *c, const struct mltrace_run *r, json_object *incidents,
	      json_object *scores, const char *rca_path, const char *rem_path,
	      const char *const *failed, struct mlassess_count *n, char *err, size_t errlen)
{
	struct ctx x = {c, r, incidents, {json_object_new_object(), json_object_new_object()},
			failed, n, err, errlen};
	json_object *done = json_object_new_object();
	size_t len = scores ? json_object_array_length(scores) : 0;
	int rc = 0;

	memset(n, 0, sizeof *n);
	if (mlassess_map(rca_path, "group_id", "error", x.errs[0]) < 0) {
		snprintf(err, errlen, "%s: %s", rca_path, strerror(errno));
		rc = -1;
	} else if (mlassess_map(rem_path, "group_id", "error", x.errs[1]) < 0) {
		snprintf(err, errlen, "%s: %s", rem_path, strerror(errno));
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < len; i++) {
		json_object *sc = json_object_array_get_idx(scores, i);
		const char *iid = js_str(sc, "incident_id"), *gid = NULL;
		if (iid == NULL || json_object_object_get_ex(done, iid, NULL))
			continue;
		json_object_object_add(done, iid, NULL);
		for (size_t j = i; j < len && gid == NULL; j++) {
			json_object *o = json_object_array_get_idx(scores, j);
			const char *s = js_str(o, "incident_id");
			if (s && strcmp(s, iid) == 0)
				gid = js_str(o, "group_id");
		}
		if (gid == NULL)
			n->no_trace++;
		else
			rc = one_incident(&x, scores, i, iid, gid);
	}
	json_object_put(done);
	json_object_put(x.errs[0]);
	json_object_put(x.errs[1]);
	return rc;
}
