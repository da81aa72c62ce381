/* mldataset: the evaluation dataset and the run's input (see mldataset.h). */
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
#include "mldataset.h"
#include "mlreq.h"

void
mldataset_evidence(json_object *group, json_object *slim)
{
	json_object *ev;
	const char *s;
	char hex[65];
	size_t n;

	if (slim == NULL)
		return;
	if ((s = js_str(group, "evidence_sha256")) != NULL) {   /* a spooled group */
		js_add_str(slim, "evidence_sha256", s);
		return;
	}
	if (!json_object_object_get_ex(group, "evidence", &ev) || ev == NULL)
		return;
	s = js_dump(ev, &n);
	js_sha256_hex(s, n, hex);
	js_add_str(slim, "evidence_sha256", hex);
}

/* The group aiops-metrics matched to incident id, or NULL. */
static const char *
group_of(json_object *scores, const char *id)
{
	size_t n = scores ? json_object_array_length(scores) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *sc = json_object_array_get_idx(scores, i);
		const char *s = js_str(sc, "incident_id"), *g = js_str(sc, "group_id");
		if (s && g && strcmp(s, id) == 0)
			return g;
	}
	return NULL;
}

/* POSTs body, which the caller keeps (mlreq_send takes a reference). */
static int
post(struct mlf_client *c, const char *path, json_object *body, json_object **out, char *err,
     size_t errlen)
{
	return mlreq_send(c, "POST", path, json_object_get(body), out, NULL, err, errlen);
}

/* Finds the evaluation dataset name or creates it, linked to exp_id;
 * writes its id into id[64]. */
static int
find_or_create(struct mlf_client *c, const char *exp_id, const char *name, json_object *dataset,
	       char id[64], char *err, size_t errlen)
{
	json_object *body = json_object_new_object(), *out = NULL, *ids = json_object_new_array(),
		    *tags;
	struct buf b = BUF_INIT(0), path = BUF_INIT(0);
	const char *s = NULL;
	int rc;

	buf_printf(&b, "name = '%s'", name);
	js_add_str(body, "filter_string", b.p);
	json_object_array_add(ids, json_object_new_string(exp_id));
	rc = post(c, "/api/3.0/mlflow/datasets/search", body, &out, err, errlen);
	json_object_put(body);
	if (rc == 0 && json_object_is_type(js_path(out, "datasets"), json_type_array))
		s = js_str(json_object_array_get_idx(js_path(out, "datasets"), 0), "dataset_id");
	body = json_object_new_object();
	json_object_object_add(body, "experiment_ids", ids);
	if (rc == 0 && s) {
		/* found: link it (MLflow keeps one link per experiment) */
		snprintf(id, 64, "%s", s);
		buf_printf(&path, "/api/3.0/mlflow/datasets/%s/add-experiments", id);
		rc = post(c, path.p, body, NULL, err, errlen);
	} else if (rc == 0) {
		json_object_put(out);
		out = NULL;
		js_add_str(body, "name", name);
		tags = json_object_new_object();
		js_add_str(tags, "aiops.dataset.sha256", js_str(dataset, "sha256"));
		if ((s = js_str(dataset, "path")) != NULL)
			js_add_str(tags, "aiops.dataset.path", s);
		js_add_str(body, "tags", json_object_to_json_string_ext(tags, JS_FLAGS));
		json_object_put(tags);
		if ((rc = post(c, "/api/3.0/mlflow/datasets/create", body, &out, err, errlen)) == 0) {
			if ((s = js_str(js_path(out, "dataset"), "dataset_id")) == NULL) {
				snprintf(err, errlen, "datasets/create: answer without dataset.dataset_id");
				rc = -1;
			} else
				snprintf(id, 64, "%s", s);
		}
	}
	json_object_put(body);
	json_object_put(out);
	buf_free(&b);
	buf_free(&path);
	return rc;
}

/* One record of incident inc. */
static json_object *
record(json_object *inc, json_object *evidence, json_object *scores, const char *sha)
{
	static const char *ek[] = {"root_cause", "expected_actions", NULL};
	json_object *r = json_object_new_object(), *in = json_object_new_object(),
		    *ex = json_object_new_object(), *src = json_object_new_object(),
		    *sd = json_object_new_object(), *v;
	const char *id = js_str(inc, "id"), *g = group_of(scores, id), *e;

	js_add_str(in, "incident_id", id);
	if (g && (e = js_str(evidence, g)) != NULL)
		js_add_str(in, "evidence_sha256", e);
	for (size_t i = 0; ek[i]; i++)
		if (json_object_object_get_ex(inc, ek[i], &v))
			js_add_ref(ex, ek[i], v);
	js_add_str(src, "source_type", "HUMAN");
	js_add_str(sd, "dataset_sha256", sha);
	json_object_object_add(src, "source_data", sd);
	json_object_object_add(r, "inputs", in);
	json_object_object_add(r, "expectations", ex);
	json_object_object_add(r, "source", src);
	return r;
}

/* Upserts the records of incidents, MLDATASET_CHUNK a call. */
static int
upsert(struct mlf_client *c, const char *id, json_object *incidents, json_object *scores,
       json_object *evidence, const char *sha, unsigned long *nrec, char *err, size_t errlen)
{
	size_t n = json_object_array_length(incidents);
	struct buf path = BUF_INIT(0);
	int rc = 0;

	buf_printf(&path, "/api/3.0/mlflow/datasets/%s/records", id);
	for (size_t i = 0; rc == 0 && i < n; i += MLDATASET_CHUNK) {
		json_object *recs = json_object_new_array(), *body = json_object_new_object();
		for (size_t j = i; j < n && j < i + MLDATASET_CHUNK; j++) {
			json_object *inc = json_object_array_get_idx(incidents, j);
			if (js_str(inc, "id") != NULL)
				json_object_array_add(recs, record(inc, evidence, scores, sha));
		}
		*nrec += json_object_array_length(recs);
		js_add_str(body, "records", json_object_to_json_string_ext(recs, JS_FLAGS));
		rc = post(c, path.p, body, NULL, err, errlen);
		json_object_put(recs);
		json_object_put(body);
	}
	buf_free(&path);
	return rc;
}

/* runs/log-inputs: the dataset as the run's input. */
static int
log_input(struct mlf_client *c, const char *run_id, const char *name, const char *sha,
	  const char *eval_id, const char *path, char *err, size_t errlen)
{
	json_object *body = json_object_new_object(), *arr = json_object_new_array(),
		    *in = json_object_new_object(), *ds = json_object_new_object(),
		    *tags = json_object_new_array(), *t = json_object_new_object(),
		    *src = json_object_new_object();
	int rc;

	js_add_str(ds, "name", name);
	js_add_strn(ds, "digest", sha, strlen(sha) < 32 ? strlen(sha) : 32);
	if (eval_id) {
		js_add_str(ds, "source_type", "mlflow_evaluation_dataset");
		js_add_str(src, "dataset_id", eval_id);
	} else {
		js_add_str(ds, "source_type", "local");
		js_add_str(src, "uri", path ? path : "");
	}
	js_add_str(ds, "source", json_object_to_json_string_ext(src, JS_FLAGS));
	js_add_str(t, "key", "mlflow.data.context");
	js_add_str(t, "value", "evaluation");
	json_object_array_add(tags, t);
	json_object_object_add(in, "tags", tags);
	json_object_object_add(in, "dataset", ds);
	json_object_array_add(arr, in);
	js_add_str(body, "run_id", run_id);
	json_object_object_add(body, "datasets", arr);
	rc = post(c, "/api/2.0/mlflow/runs/log-inputs", body, NULL, err, errlen);
	json_object_put(body);
	json_object_put(src);
	return rc;
}

int
mldataset_send(struct mlf_client *c, const char *exp_id, const char *run_id,
	       json_object *dataset, json_object *incidents, json_object *scores,
	       const char *groups_path, unsigned long *nrec, char *err, size_t errlen)
{
	const char *sha = js_str(dataset, "sha256");
	json_object *evidence;
	struct buf name = BUF_INIT(0);
	char id[64];
	int rc = 0, with = incidents && json_object_array_length(incidents) > 0;

	*nrec = 0;
	if (sha == NULL || *sha == '\0')
		return 0;
	buf_printf(&name, "aiops-incidents-%.12s", sha);
	evidence = json_object_new_object();
	if (with && mlassess_map(groups_path, "id", "evidence_sha256", evidence) < 0) {
		snprintf(err, errlen, "%s: %s", groups_path, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && with)
		rc = find_or_create(c, exp_id, name.p, dataset, id, err, errlen);
	if (rc == 0 && with)
		rc = upsert(c, id, incidents, scores, evidence, sha, nrec, err, errlen);
	if (rc == 0)
		rc = log_input(c, run_id, name.p, sha, with ? id : NULL, js_str(dataset, "path"), err,
			       errlen);
	json_object_put(evidence);
	buf_free(&name);
	return rc;
}
