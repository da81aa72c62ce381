/*
 * evfmt: the output of a score as text, Markdown, TSV or JSON (see evfmt.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "err.h"
#include "evagg.h"
#include "evcase.h"
#include "evfmt.h"
#include "js.h"
#include "stats.h"
#include "tab.h"

static const char *const mname[EVM_N] = {
	"recall", "false_alarms_per_control", "ac1", "ac3", "ac5", "avg5", "remediation_match"
};

static char *
fnum(double v, int d)
{
	char b[64];

	if (!isfinite(v))
		return estrdup("n/a");
	snprintf(b, sizeof b, "%.*f", d, v);
	return estrdup(b);
}

static char *
fci(const struct evrow *r, int m, int with_ci)
{
	char b[128];

	if (r->vn[m] == 0)
		return estrdup(r->n > 0 && r->failed == r->n ? "failed" : "n/a");
	if (!with_ci)
		snprintf(b, sizeof b, "%.3f", r->v[m]);
	else
		snprintf(b, sizeof b, "%.3f [%.3f,%.3f]", r->v[m], r->lo[m], r->hi[m]);
	return estrdup(b);
}

static json_object *
jnum(double v)
{
	return isfinite(v) ? js_new_double(stats_round(v)) : NULL;
}

static json_object *
row_json(const struct evrow *r)
{
	json_object *o = json_object_new_object();
	int m;

	js_add_str(o, "arm", r->arm);
	js_add_str(o, "slice", r->slice);
	js_add_bool(o, "reference", r->is_ref);
	js_add_int(o, "cases", (int64_t)r->n);
	js_add_int(o, "failed", (int64_t)r->failed);
	js_add_int(o, "controls", (int64_t)r->nctl);
	for (m = 0; m < EVM_N; m++) {
		json_object *x = json_object_new_object();
		if (r->is_ref && (m == EVM_RECALL || m == EVM_FA || m == EVM_REM)) {
			json_object_put(x);
			continue;
		}
		json_object_object_add(x, "value", jnum(r->v[m]));
		json_object_object_add(x, "ci_low", jnum(r->lo[m]));
		json_object_object_add(x, "ci_high", jnum(r->hi[m]));
		js_add_int(x, "n", (int64_t)r->vn[m]);
		if (r->vn[m] == 0 && r->n > 0 && r->failed == r->n)
			js_add_bool(x, "failed", 1);
		json_object_object_add(o, mname[m], x);
	}
	if (!r->is_ref) {
		json_object_object_add(o, "false_alarms_per_hour", jnum(r->fa_hour));
		json_object_object_add(o, "mttd_median_s", jnum(r->mttd50));
		json_object_object_add(o, "mttd_p90_s", jnum(r->mttd90));
		json_object_object_add(o, "model_ttd_median_s", jnum(r->ttd50));
		json_object_object_add(o, "model_ttd_p90_s", jnum(r->ttd90));
		json_object_object_add(o, "llm_calls", jnum(r->calls));
		json_object_object_add(o, "llm_failures", jnum(r->llm_fail));
		json_object_object_add(o, "llm_tokens", jnum(r->tokens));
		json_object_object_add(o, "cost_usd", jnum(r->cost));
		json_object_object_add(o, "seconds_per_case", jnum(r->sec));
	}
	json_object_object_add(o, "lift_ac1", jnum(r->lift));
	if (isfinite(r->p)) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "p", jnum(r->p));
		js_add_int(x, "b", (int64_t)r->b);
		js_add_int(x, "c", (int64_t)r->c);
		json_object_object_add(o, "mcnemar_ac1", x);
	} else {
		json_object_object_add(o, "mcnemar_ac1", NULL);
	}
	return o;
}

static char *
fmt_rank(const struct evcase *c)
{
	char b[32];

	if (c->failed)
		return estrdup("failed");
	if (c->rca_failed)
		return estrdup("failed");
	if (c->rank == -2)
		return fnum(c->acc[1], 3);
	if (c->rank < 0)
		return estrdup(c->is_ref ? "-" : "missed");
	if (c->rank == 0)
		return estrdup(">5");
	snprintf(b, sizeof b, "%d", c->rank);
	return estrdup(b);
}

static char *
fmt_ctl(const struct evcase *c)
{
	if (c->is_ref)
		return estrdup("-");
	if (!c->has_ctl)
		return estrdup("no control");
	if (c->ctl_failed)
		return estrdup("failed");
	return fnum(c->fa, 0);
}

static json_object *
case_json(const struct evcase *c)
{
	json_object *o = json_object_new_object();

	js_add_str(o, "arm", c->arm);
	js_add_str(o, "system", c->system);
	js_add_str(o, "case", c->cid);
	js_add_str(o, "incident", c->incident);
	js_add_str(o, "fault", c->fault);
	js_add_str(o, "truth", c->truth);
	js_add_bool(o, "failed", c->failed);
	if (c->why)
		js_add_str(o, "error", c->why);
	if (!c->is_ref) {
		js_add_bool(o, "detected", c->detected);
		js_add_bool(o, "rca_failed", c->rca_failed);
	}
	js_add_str(o, "top5", c->top5);
	if (c->rank >= 0)
		js_add_int(o, "rank", c->rank);
	else
		json_object_object_add(o, "rank", NULL);
	json_object_object_add(o, "ac1", jnum(c->failed ? NAN : c->acc[1]));
	json_object_object_add(o, "ac3", jnum(c->failed ? NAN : c->acc[3]));
	json_object_object_add(o, "ac5", jnum(c->failed ? NAN : c->acc[5]));
	if (!c->is_ref) {
		json_object_object_add(o, "model_ttd_s", jnum(c->ttd));
		json_object_object_add(o, "mttd_s", jnum(c->mttd));
		json_object_object_add(o, "control_false_alarms",
				       c->has_ctl && !c->ctl_failed ? jnum(c->fa) : NULL);
		json_object_object_add(o, "control_hours", c->has_ctl ? jnum(c->ctl_hours) : NULL);
		json_object_object_add(o, "case_false_positives", c->failed ? NULL : jnum(c->case_fp));
		json_object_object_add(o, "llm_calls", jnum(c->calls));
		json_object_object_add(o, "llm_failures", jnum(c->llm_failures));
		json_object_object_add(o, "llm_tokens", jnum(c->tokens));
		json_object_object_add(o, "cost_usd", jnum(c->cost));
		json_object_object_add(o, "remediation_match",
				       c->failed || c->rem < 0 ? NULL : json_object_new_boolean(c->rem));
		json_object_object_add(o, "seconds", jnum(c->wall));
	}
	return o;
}

void
evfmt_json(FILE *out, const struct evcases *cs, const struct evrow *rows, size_t nrows,
	   int summary, int cases)
{
	json_object *o = json_object_new_object(), *ra = json_object_new_array();
	json_object *ca = json_object_new_array();
	json_object *bo = json_object_new_object();
	size_t i, len;
	const char *txt;

	js_add_int(bo, "resamples", cs->boot_n);
	js_add_int(bo, "seed", (int64_t)cs->seed);
	json_object_object_add(bo, "level", js_new_double(0.95));
	json_object_object_add(o, "bootstrap", bo);
	json_object_object_add(o, "match_tolerance_s", js_new_double(cs->tol_s));
	for (i = 0; i < nrows; i++)
		json_object_array_add(ra, row_json(&rows[i]));
	for (i = 0; i < cs->ncc; i++)
		json_object_array_add(ca, case_json(&cs->cc[i]));
	if (summary)
		json_object_object_add(o, "rows", ra);
	else
		json_object_put(ra);
	if (cases)
		json_object_object_add(o, "cases", ca);
	else
		json_object_put(ca);
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(txt);
	fwrite(txt, 1, len, out);
	fputc('\n', out);
	json_object_put(o);
}

/* The summary table: a line per row. */
static void
summary_table(FILE *out, const struct evrow *rows, size_t nrows, enum tab_fmt f)
{
	static const char *h[] = {
		"arm", "slice", "cases", "failed", "recall [95% CI]",
		"FA/control [95% CI]", "FA/h", "MTTD s p50/p90", "model TTD s p50/p90",
		"AC@1 [95% CI]", "AC@3 [95% CI]", "AC@5 [95% CI]", "Avg@5 [95% CI]",
		"remediation [95% CI]", "LLM calls", "LLM failures", "LLM tokens", "cost USD",
		"s/case", "lift AC@1", "McNemar p (b/c)",
	};
	struct tab t = {sizeof h / sizeof *h, 0, NULL};
	char *cells[sizeof h / sizeof *h];
	size_t i, k;

	tab_head(&t, h, cells);
	for (i = 0; i < nrows; i++) {
		const struct evrow *r = &rows[i];
		char b[128];
		k = 0;
		cells[k++] = estrdup(r->arm);
		cells[k++] = estrdup(r->slice);
		snprintf(b, sizeof b, "%zu", r->n);
		cells[k++] = estrdup(b);
		snprintf(b, sizeof b, "%zu", r->failed);
		cells[k++] = estrdup(b);
		cells[k++] = r->is_ref ? estrdup("-") : fci(r, EVM_RECALL, 1);
		cells[k++] = r->is_ref ? estrdup("-") : r->nctl ? fci(r, EVM_FA, 1) : estrdup("no controls");
		cells[k++] = r->is_ref ? estrdup("-") : fnum(r->fa_hour, 2);
		if (r->is_ref) {
			cells[k++] = estrdup("-");
			cells[k++] = estrdup("-");
		} else {
			char *x = fnum(r->mttd50, 1), *y = fnum(r->mttd90, 1);
			snprintf(b, sizeof b, "%s/%s", x, y);
			free(x), free(y);
			cells[k++] = estrdup(b);
			x = fnum(r->ttd50, 1), y = fnum(r->ttd90, 1);
			snprintf(b, sizeof b, "%s/%s", x, y);
			free(x), free(y);
			cells[k++] = estrdup(b);
		}
		cells[k++] = fci(r, EVM_AC1, 1);
		cells[k++] = fci(r, EVM_AC3, 1);
		cells[k++] = fci(r, EVM_AC5, 1);
		cells[k++] = fci(r, EVM_AVG5, 1);
		cells[k++] = r->is_ref ? estrdup("-") : fci(r, EVM_REM, 1);
		cells[k++] = r->is_ref ? estrdup("-") : fnum(r->calls, 0);
		cells[k++] = r->is_ref ? estrdup("-") : fnum(r->llm_fail, 0);
		cells[k++] = r->is_ref ? estrdup("-") : fnum(r->tokens, 0);
		cells[k++] = r->is_ref ? estrdup("-") : fnum(r->cost, 4);
		cells[k++] = r->is_ref ? estrdup("-") : fnum(r->sec, 2);
		cells[k++] = isfinite(r->lift) ? fnum(r->lift, 3) : estrdup("-");
		if (isfinite(r->p)) {
			snprintf(b, sizeof b, "%.3f (%lu/%lu)", r->p, r->b, r->c);
			cells[k++] = estrdup(b);
		} else {
			cells[k++] = estrdup("-");
		}
		tab_add(&t, cells);
	}
	tab_print(&t, f, out);
	tab_free(&t);
}

/* The per-case table: a line per case. */
static void
cases_table(FILE *out, const struct evcases *cs, enum tab_fmt f)
{
	static const char *h[] = {
		"arm", "system", "case", "fault", "truth", "top-5", "rank",
		"model TTD s", "false alarms in control", "remediation", "LLM calls",
		"LLM failures", "LLM tokens", "cost USD", "s",
	};
	struct tab t = {sizeof h / sizeof *h, 0, NULL};
	char *cells[sizeof h / sizeof *h];
	size_t i, k;

	tab_head(&t, h, cells);
	for (i = 0; i < cs->ncc; i++) {
		const struct evcase *c = &cs->cc[i];
		k = 0;
		cells[k++] = estrdup(c->arm);
		cells[k++] = estrdup(c->system);
		cells[k++] = estrdup(c->cid);
		cells[k++] = estrdup(c->fault ? c->fault : "-");
		cells[k++] = estrdup(c->truth ? c->truth : "-");
		cells[k++] = estrdup(c->failed ? "failed" : c->top5 && *c->top5 ? c->top5 : "-");
		cells[k++] = fmt_rank(c);
		cells[k++] = c->is_ref ? estrdup("-") : fnum(c->ttd, 1);
		cells[k++] = fmt_ctl(c);
		cells[k++] = estrdup(c->is_ref || c->rem < 0 ? "-" : c->failed ? "failed" :
				     c->rem ? "match" : "no match");
		cells[k++] = c->is_ref ? estrdup("-") : fnum(c->calls, 0);
		cells[k++] = c->is_ref ? estrdup("-") : fnum(c->llm_failures, 0);
		cells[k++] = c->is_ref ? estrdup("-") : fnum(c->tokens, 0);
		cells[k++] = c->is_ref ? estrdup("-") : fnum(c->cost, 4);
		cells[k++] = c->is_ref ? estrdup("-") : fnum(c->wall, 2);
		tab_add(&t, cells);
	}
	tab_print(&t, f, out);
	tab_free(&t);
}

void
evfmt_tables(FILE *out, const struct evcases *cs, const struct evrow *rows, size_t nrows,
	     enum tab_fmt f, int summary, int cases)
{
	if (summary)
		summary_table(out, rows, nrows, f);
	if (summary && cases)
		fputs("\n", out);
	if (cases)
		cases_table(out, cs, f);
}
