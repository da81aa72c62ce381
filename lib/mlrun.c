/* mlrun: name, end time, metrics and URI of a run in MLflow (see mlrun.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "js.h"
#include "mlrun.h"
#include "redact.h"

char *
mlrun_name(json_object *cfg, const char *label, const char *run_id)
{
	struct buf b = BUF_INIT(0);
	const char *prov = cfg ? js_str(js_path(cfg, "provider"), "type") : NULL;
	const char *model = cfg ? js_str(js_path(cfg, "provider"), "default_model") : NULL;
	const char *cmd = cfg ? js_str(js_path(cfg, "pipeline.rca"), "command") : NULL;
	char *s;

	if (label && *label)
		buf_printf(&b, "%s-", label);
	if (cmd && *cmd)
		prov = "command";
	buf_adds(&b, prov && *prov ? prov : "baseline");
	if (model && *model && !(cmd && *cmd))
		buf_printf(&b, "-%s", model);
	buf_printf(&b, "-%.8s", run_id ? run_id : "");
	s = estrdup(b.p);
	buf_free(&b);
	return s;
}

int64_t
mlrun_end_ms(int64_t start_ms, json_object *const *ends, size_t n)
{
	double w, max = -1;

	if (start_ms < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (ends[i] && js_num(ends[i], "wall_ms", &w) == 0 && w > max)
			max = w;
	return max < 0 ? -1 : start_ms + (int64_t)max;
}

void
mlrun_score_metrics(struct mlf_data *d, json_object *scores, int64_t ts, int counts)
{
	struct buf b = BUF_INIT(0);
	size_t n = scores ? json_object_array_length(scores) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *sc = json_object_array_get_idx(scores, i);
		const char *name = js_str(sc, "name");
		double val, cnt;
		if (name == NULL || js_str(sc, "incident_id") != NULL || js_num(sc, "value", &val) < 0)
			continue;
		mlf_metric(d, name, val, ts, 0);
		if (counts && js_num(sc, "n", &cnt) == 0) {
			buf_reset(&b);
			buf_printf(&b, "%s.n", name);
			mlf_metric(d, b.p, cnt, ts, 0);
		}
	}
	buf_free(&b);
}

char *
mlrun_uri(const char *u, int server)
{
	struct buf b = BUF_INIT(0);
	char cwd[PATH_MAX], *red, *s;
	size_t n;

	if (server) {
		red = redact_str(u, strlen(u), &n);
		return red ? red : estrdup(u);
	}
	if (strncmp(u, "file://", 7) == 0)
		u += 7;
	if (strncmp(u, "./", 2) == 0)
		u += 2;
	if (*u == '/')
		buf_printf(&b, "file://%s", u);
	else
		buf_printf(&b, "file://%s/%s", getcwd(cwd, sizeof cwd) ? cwd : ".", u);
	s = estrdup(b.p);
	buf_free(&b);
	return s;
}

json_object *
mlrun_incidents(json_object *scores)
{
	json_object *ids = json_object_new_array();
	size_t i, j, n = json_object_array_length(scores);

	for (i = 0; i < n; i++) {
		const char *id = js_str(json_object_array_get_idx(scores, i), "incident_id");
		int seen = 0;
		if (id == NULL)
			continue;
		for (j = 0; j < json_object_array_length(ids) && !seen; j++)
			seen = strcmp(json_object_get_string(json_object_array_get_idx(ids, j)), id) == 0;
		if (!seen)
			json_object_array_add(ids, json_object_new_string(id));
	}
	return ids;
}

static int
index_of(json_object *arr, const char *s)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			return (int)i;
	return -1;
}

static const char *score_core[] = {"kind", "name", "value", "n", "unit", "incident_id", NULL};

static int
is_core(const char *k)
{
	for (int i = 0; score_core[i]; i++)
		if (strcmp(score_core[i], k) == 0)
			return 1;
	return 0;
}

json_object *
mlrun_table(json_object *scores, json_object *ids)
{
	json_object *cols, *data, *t, *row;
	size_t i, j, n = json_object_array_length(scores), nid = json_object_array_length(ids);

	if (nid == 0)
		return NULL;
	cols = json_object_new_array();
	json_object_array_add(cols, json_object_new_string("incident_id"));
	json_object_array_add(cols, json_object_new_string("step"));
	for (int pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			json_object *sc = json_object_array_get_idx(scores, i);
			if (js_str(sc, "incident_id") == NULL)
				continue;
			if (pass == 0) {
				if (index_of(cols, js_str(sc, "name")) < 0)
					json_object_array_add(cols, json_object_new_string(js_str(sc, "name")));
				continue;
			}
			json_object_object_foreach(sc, k, v) {
				(void)v;
				if (!is_core(k) && index_of(cols, k) < 0)
					json_object_array_add(cols, json_object_new_string(k));
			}
		}
	data = json_object_new_array();
	for (i = 0; i < nid; i++) {
		row = json_object_new_array();
		json_object_array_add(row, json_object_get(json_object_array_get_idx(ids, i)));
		json_object_array_add(row, json_object_new_int64((int64_t)i));
		for (j = 2; j < json_object_array_length(cols); j++)
			json_object_array_add(row, NULL);
		json_object_array_add(data, row);
	}
	for (i = 0; i < n; i++) {
		json_object *sc = json_object_array_get_idx(scores, i), *v;
		const char *id = js_str(sc, "incident_id");
		int r, c;
		if (id == NULL || (r = index_of(ids, id)) < 0)
			continue;
		row = json_object_array_get_idx(data, (size_t)r);
		c = index_of(cols, js_str(sc, "name"));
		if (c >= 0 && json_object_object_get_ex(sc, "value", &v))
			json_object_array_put_idx(row, (size_t)c, json_object_get(v));
		json_object_object_foreach(sc, k, val) {
			if (is_core(k) || (c = index_of(cols, k)) < 0)
				continue;
			if (json_object_array_get_idx(row, (size_t)c) == NULL)
				json_object_array_put_idx(row, (size_t)c, json_object_get(val));
		}
	}
	t = json_object_new_object();
	json_object_object_add(t, "columns", cols);
	json_object_object_add(t, "data", data);
	return t;
}
