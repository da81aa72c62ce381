/*
 * outcome: one final stream read for scoring (see outcome.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "js.h"
#include "outcome.h"
#include "rec.h"
#include "scan.h"
#include "ts.h"

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
outcome_free(struct outcome *s)
{
	size_t i;

	for (i = 0; i < s->ni; i++) {
		free(s->iid[i]);
		free(s->ifault[i]);
		free(s->isvc[i]);
		free_strv(s->iexp[i], s->nexp[i]);
	}
	for (i = 0; i < s->nm; i++) {
		free(s->mgid[i]);
		free_strv(s->mact[i], s->mn[i]);
	}
	free(s->iexp);
	free(s->nexp);
	free(s->mgid);
	free(s->mact);
	free(s->mn);
	for (i = 0; i < s->ng; i++) {
		free((char *)s->mg[i].id);
		free_strv((char **)s->mg[i].services, s->mg[i].nservices);
	}
	for (i = 0; i < s->nr; i++) {
		free(s->rgid[i]);
		free(s->rtop[i]);
		free_strv(s->rsvc[i], s->rn[i]);
	}
	free(s->mi);
	free(s->iid);
	free(s->ifault);
	free(s->isvc);
	free(s->idet);
	free(s->mg);
	free(s->rgid);
	free(s->rtop);
	free(s->rsvc);
	free(s->rn);
	free(s->rerr);
	memset(s, 0, sizeof *s);
}

static void
see(struct outcome *s, int64_t t)
{
	if (t != TS_NONE && (s->dmax == TS_NONE || t > s->dmax))
		s->dmax = t;
}

/* The strings of array key of o (NULL, *n 0 when none). */
static char **
strings_of(json_object *o, const char *key, size_t *n)
{
	json_object *a = js_path(o, key);
	char **v = NULL;
	size_t i;

	*n = 0;
	for (i = 0; a && json_object_is_type(a, json_type_array) && i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		if (json_object_is_type(e, json_type_string)) {
			EPUSH(v, *n, estrdup(json_object_get_string(e)));
			(*n)++;
		}
	}
	return v;
}

/* A call's price from --prices, NAN when there is no table or the model is
 * not in it (an unknown cost is never 0). */
static double
call_price(json_object *prices, const char *model, double tin, double tout)
{
	json_object *p;
	double in, out;

	if (prices == NULL || model == NULL || !json_object_object_get_ex(prices, model, &p) ||
	    js_num(p, "input_per_1k", &in) < 0 || js_num(p, "output_per_1k", &out) < 0)
		return NAN;
	return tin / 1000.0 * in + tout / 1000.0 * out;
}

int
outcome_read(struct outcome *s, const char *path, json_object *prices)
{
	struct rec_reader r;
	const char *p, *why;
	size_t n;
	int rc;
	json_tokener *tok = json_tokener_new();
	struct scan_result sr;

	memset(s, 0, sizeof *s);
	s->dmax = TS_NONE;
	s->cost = prices ? 0 : NAN;
	if (rec_open(&r, path, 0) < 0) {
		json_tokener_free(tok);
		return -1;
	}
	while ((rc = rec_getline(&r, &p, &n)) == REC_LINE || rc == REC_LONG) {
		json_object *o, *v;
		const char *k;
		if (rc == REC_LONG || scan_json(p, n, &sr, &why) < 0 || sr.kind == NULL)
			continue;
		k = sr.kind;
#define IS(str) (sr.kind_len == sizeof(str) - 1 && memcmp(k, str, sizeof(str) - 1) == 0)
		if (!(IS("incident") || IS("group") || IS("rca") || IS("llm_call") || IS("stage_end") ||
		      IS("remediation")))
			continue;
		if ((o = js_parse(tok, p, n, NULL)) == NULL)
			continue;
		if (IS("incident")) {
			struct match_inc mi = {0};
			json_object *rcj = js_path(o, "root_cause");
			int64_t res = js_ts(o, "resolved_ts");
			mi.start = js_ts(o, "start_ts");
			if (mi.start != TS_NONE && js_str(o, "id")) {
				mi.end = res;
				mi.seq = s->ni;
				EPUSH(s->iid, s->ni, estrdup(js_str(o, "id")));
				EPUSH(s->ifault, s->ni, rcj && js_str(rcj, "fault") ? estrdup(js_str(rcj, "fault")) : NULL);
				EPUSH(s->isvc, s->ni, rcj && js_str(rcj, "service") ? estrdup(js_str(rcj, "service")) : NULL);
				EPUSH(s->idet, s->ni, js_ts(o, "detected_ts"));
				EPUSH(s->nexp, s->ni, 0);
				EPUSH(s->iexp, s->ni, strings_of(o, "expected_actions", &s->nexp[s->ni]));
				EPUSH(s->mi, s->ni, mi);
				s->ni++;
				see(s, mi.start);
				see(s, res);
			}
		} else if (IS("group")) {
			int det = 1;
			struct match_grp g = {0};
			json_object *svcs = js_path(o, "services");
			char **sv = NULL;
			size_t nsv = 0, i;
			js_bool(o, "detected", &det);
			g.start = js_ts(o, "start_ts");
			g.detected = js_ts(o, "detected_ts");
			g.end = js_ts(o, "end_ts");
			if (det && js_str(o, "id") && g.start != TS_NONE && g.detected != TS_NONE) {
				if (g.end == TS_NONE)
					g.end = g.detected > g.start ? g.detected : g.start;
				g.id = estrdup(js_str(o, "id"));
				for (i = 0; svcs && json_object_is_type(svcs, json_type_array) &&
					    i < json_object_array_length(svcs); i++) {
					json_object *e = json_object_array_get_idx(svcs, i);
					const char *x = json_object_is_type(e, json_type_string) ?
						json_object_get_string(e) : js_str(e, "service");
					if (x) {
						EPUSH(sv, nsv, estrdup(x));
						nsv++;
					}
				}
				g.services = sv;
				g.nservices = nsv;
				EPUSH(s->mg, s->ng, g);
				s->ng++;
				see(s, g.start);
				see(s, g.detected);
				see(s, g.end);
			}
		} else if (IS("rca")) {
			const char *gid = js_str(o, "group_id");
			json_object *c = js_path(o, "candidates");
			size_t i, have = 0;
			for (i = 0; gid && i < s->nr; i++)
				if (strcmp(s->rgid[i], gid) == 0)
					have = 1;
			if (gid && !have) {
				struct buf b = BUF_INIT(0);
				char **sv = NULL;
				size_t nsv = 0;
				int err = json_object_object_get_ex(o, "error", &v) && v != NULL &&
					!(json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0);
				for (i = 0; c && json_object_is_type(c, json_type_array) &&
					    i < json_object_array_length(c) && i < OUTCOME_TOPK; i++) {
					const char *x = js_str(json_object_array_get_idx(c, i), "service");
					EPUSH(sv, nsv, x ? estrdup(x) : NULL);
					nsv++;
					if (i)
						buf_addc(&b, ',');
					buf_adds(&b, x ? x : "?");
				}
				EPUSH(s->rgid, s->nr, estrdup(gid));
				EPUSH(s->rtop, s->nr, b.p ? buf_detach(&b) : estrdup(""));
				EPUSH(s->rsvc, s->nr, sv);
				EPUSH(s->rn, s->nr, nsv);
				EPUSH(s->rerr, s->nr, err);
				s->nr++;
				buf_free(&b);
			}
		} else if (IS("remediation")) {
			const char *gid = js_str(o, "group_id");
			json_object *st = js_path(o, "steps");
			char **act = NULL;
			size_t i, nact = 0, have = 0;
			for (i = 0; gid && i < s->nm; i++)
				have |= strcmp(s->mgid[i], gid) == 0;
			if (gid && !have) {
				for (i = 0; st && json_object_is_type(st, json_type_array) &&
					    i < json_object_array_length(st); i++) {
					const char *x = js_str(json_object_array_get_idx(st, i), "action");
					if (x) {
						EPUSH(act, nact, estrdup(x));
						nact++;
					}
				}
				EPUSH(s->mgid, s->nm, estrdup(gid));
				EPUSH(s->mact, s->nm, act);
				EPUSH(s->mn, s->nm, nact);
				s->nm++;
			}
		} else if (IS("llm_call")) {
			double tin, tout;
			s->calls_rec++;
			if (js_num(o, "tokens_in", &tin) == 0 && js_num(o, "tokens_out", &tout) == 0) {
				s->tokens += tin + tout;
				s->cost += call_price(prices, js_str(o, "model"), tin, tout);
			} else {
				s->tokens = s->cost = NAN;
			}
			if (json_object_object_get_ex(o, "error", &v) && v != NULL &&
			    !(json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0))
				s->fail_rec++;
		} else if (IS("stage_end")) {
			json_object *llm = js_path(o, "llm");
			double x;
			if (llm && js_num(llm, "calls", &x) == 0)
				s->calls_end += x;
			if (llm && js_num(llm, "failures", &x) == 0)
				s->fail_end += x;
			else if (js_num(o, "failures", &x) == 0)
				s->fail_end += x;
		}
#undef IS
		json_object_put(o);
	}
	rec_close(&r);
	json_tokener_free(tok);
	return rc == REC_ERROR ? -1 : 0;
}

long
outcome_rca(const struct outcome *s, const char *gid)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (strcmp(s->rgid[i], gid) == 0)
			return (long)i;
	return -1;
}
