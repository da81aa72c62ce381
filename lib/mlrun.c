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
