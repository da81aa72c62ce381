/*
 * evagg: the summary rows of a score (see evagg.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "evagg.h"
#include "evcase.h"
#include "stats.h"

static int
in_slice(const struct evcase *c, const char *kind, const char *val)
{
	if (strcmp(kind, "all") == 0)
		return 1;
	if (strcmp(kind, "system") == 0)
		return strcmp(c->system, val) == 0;
	if (strcmp(kind, "traces") == 0) {
		/* val: "yes:SYSTEM" or "no:SYSTEM" */
		int yes = strncmp(val, "yes:", 4) == 0;
		return c->traces == yes && strcmp(c->system, val + (yes ? 4 : 3)) == 0;
	}
	return strcmp(c->fault ? c->fault : "-", val) == 0;
}

static void
metric(const struct evcases *cs, struct evrow *r, int m, struct dvec *d)
{
	double sum = 0;
	size_t i;

	r->vn[m] = d->n;
	for (i = 0; i < d->n; i++)
		sum += d->v[i];
	r->v[m] = d->n ? sum / (double)d->n : NAN;
	stats_boot_ci(d->v, d->n, cs->boot_n, cs->seed, 95, &r->lo[m], &r->hi[m]);
}

static struct evrow
make_row(const struct evcases *cs, const char *arm, const char *kind, const char *val, const char *label)
{
	struct evrow r;
	struct dvec d[EVM_N], mt = DVEC_INIT, tt = DVEC_INIT;
	double hours = 0, fa = 0;
	size_t i, m, nsec = 0;

	memset(&r, 0, sizeof r);
	memset(d, 0, sizeof d);
	r.arm = arm;
	r.slice = label;
	r.lift = r.p = NAN;
	r.sec = 0;
	r.cost = cs->prices ? 0 : NAN;
	for (i = 0; i < cs->ncc; i++) {
		const struct evcase *c = &cs->cc[i];
		if (strcmp(c->arm, arm) || !in_slice(c, kind, val))
			continue;
		r.is_ref = c->is_ref;
		r.n++;
		if (c->failed || c->rca_failed)
			r.failed++;
		if (c->failed)
			continue;
		if (!c->is_ref) {
			dvec_push(&d[EVM_RECALL], c->detected);
			if (c->has_ctl && !c->ctl_failed) {
				dvec_push(&d[EVM_FA], c->fa);
				fa += c->fa;
				hours += c->ctl_hours;
				r.nctl++;
			}
			if (isfinite(c->mttd))
				dvec_push(&mt, c->mttd);
			if (isfinite(c->ttd))
				dvec_push(&tt, c->ttd);
			r.calls += c->calls;
			r.llm_fail += c->llm_failures;
			r.tokens += c->tokens;
			r.cost += c->cost;
			if (c->rem >= 0)
				dvec_push(&d[EVM_REM], c->rem);
			if (isfinite(c->wall)) {
				r.sec += c->wall;
				nsec++;
			}
		}
		if (c->rca_failed)
			continue;
		dvec_push(&d[EVM_AC1], c->acc[1]);
		dvec_push(&d[EVM_AC3], c->acc[3]);
		dvec_push(&d[EVM_AC5], c->acc[5]);
		dvec_push(&d[EVM_AVG5], (c->acc[1] + c->acc[2] + c->acc[3] + c->acc[4] + c->acc[5]) / 5);
	}
	for (m = 0; m < EVM_N; m++)
		metric(cs, &r, (int)m, &d[m]);
	r.fa_hour = hours > 0 ? fa / hours : NAN;
	r.mttd50 = stats_percentile(mt.v, mt.n, 50);
	r.mttd90 = stats_percentile(mt.v, mt.n, 90);
	r.ttd50 = stats_percentile(tt.v, tt.n, 50);
	r.ttd90 = stats_percentile(tt.v, tt.n, 90);
	r.sec = nsec ? r.sec / (double)nsec : NAN;
	for (m = 0; m < EVM_N; m++)
		dvec_free(&d[m]);
	dvec_free(&mt);
	dvec_free(&tt);
	return r;
}

/* Lift and McNemar against the first arm over the same slice. */
static void
compare(const struct evcases *cs, struct evrow *r, const struct evrow *first, const char *kind, const char *val)
{
	size_t i, j;

	if (first == NULL || strcmp(r->arm, first->arm) == 0)
		return;
	r->lift = isfinite(r->v[EVM_AC1]) && isfinite(first->v[EVM_AC1]) ?
		r->v[EVM_AC1] - first->v[EVM_AC1] : NAN;
	if (strcmp(r->arm, "ref:random") == 0)
		return;
	r->b = r->c = 0;
	for (i = 0; i < cs->ncc; i++) {
		const struct evcase *x = &cs->cc[i];
		if (strcmp(x->arm, r->arm) || !in_slice(x, kind, val) || x->failed || x->rca_failed)
			continue;
		for (j = 0; j < cs->ncc; j++) {
			const struct evcase *y = &cs->cc[j];
			if (strcmp(y->arm, first->arm) || strcmp(y->system, x->system) ||
			    strcmp(y->cid, x->cid) || y->failed || y->rca_failed)
				continue;
			if (x->acc[1] > 0 && !(y->acc[1] > 0))
				r->b++;
			else if (!(x->acc[1] > 0) && y->acc[1] > 0)
				r->c++;
		}
	}
	r->p = stats_mcnemar_exact(r->b, r->c);
}

struct evrow *
evagg_rows(const struct evcases *cs, size_t *nrowsp)
{
	struct evrow *rows = NULL;
	size_t nrows = 0, i, a, s;
	char **systems = NULL, **faults = NULL, **tsys = NULL;
	size_t nsys = 0, nfault = 0, ntsys = 0;

	for (i = 0; i < cs->ncc; i++) {
		size_t j;
		const char *fl = cs->cc[i].fault ? cs->cc[i].fault : "-";
		for (j = 0; j < nsys && strcmp(systems[j], cs->cc[i].system); j++)
			;
		if (j == nsys) {
			EPUSH(systems, nsys, cs->cc[i].system);
			nsys++;
		}
		for (j = 0; j < nfault && strcmp(faults[j], fl); j++)
			;
		if (j == nfault) {
			EPUSH(faults, nfault, (char *)fl);
			nfault++;
		}
	}
	/* Rows: overall, then per system (when more than one), then per fault,
	 * then per system with and without traces (where it has both). */
	for (i = 0; i < nsys; i++) {
		int seen = 0;
		for (size_t j = 0; j < cs->ncc; j++)
			if (!cs->cc[j].is_ref && strcmp(cs->cc[j].system, systems[i]) == 0 &&
			    cs->cc[j].traces >= 0)
				seen |= 1 << cs->cc[j].traces;
		if (seen == 3) {
			EPUSH(tsys, ntsys, systems[i]);
			ntsys++;
		}
	}
	for (s = 0; s < 1 + (nsys > 1 ? nsys : 0) + nfault + 2 * ntsys; s++) {
		const char *kind, *val;
		char label[512], tval[512];
		size_t first = nrows;
		if (s >= 1 + (nsys > 1 ? nsys : 0) + nfault) {
			size_t t = s - 1 - (nsys > 1 ? nsys : 0) - nfault;
			const char *yn = t % 2 == 0 ? "yes" : "no";
			kind = "traces";
			snprintf(tval, sizeof tval, "%s:%s", yn, tsys[t / 2]);
			val = tval;
			if (nsys > 1)
				snprintf(label, sizeof label, "system=%s,traces=%s", tsys[t / 2], yn);
			else
				snprintf(label, sizeof label, "traces=%s", yn);
		} else if (s == 0) {
			kind = "all", val = "";
			snprintf(label, sizeof label, "all");
		} else if (nsys > 1 && s <= nsys) {
			kind = "system", val = systems[s - 1];
			snprintf(label, sizeof label, "system=%s", val);
		} else {
			kind = "fault", val = faults[s - 1 - (nsys > 1 ? nsys : 0)];
			snprintf(label, sizeof label, "fault=%s", val);
		}
		for (a = 0; a < cs->narms; a++) {
			rows = erealloc(rows, (nrows + 1) * sizeof *rows);
			rows[nrows] = make_row(cs, cs->arms[a], kind, val, estrdup(label));
			compare(cs, &rows[nrows], &rows[first], kind, val);
			nrows++;
		}
	}
	free(systems);
	free(faults);
	free(tsys);
	*nrowsp = nrows;
	return rows;
}

void
evagg_free(struct evrow *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)rows[i].slice);
	free(rows);
}
