/*
 * evcase: the cases of a score (see evcase.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "evcase.h"
#include "match.h"
#include "outcome.h"
#include "smap.h"
#include "ts.h"

static size_t
arm_index(struct evcases *cs, const char *a)
{
	size_t i;

	for (i = 0; i < cs->narms; i++)
		if (strcmp(cs->arms[i], a) == 0)
			return i;
	cs->arms = erealloc(cs->arms, (cs->narms + 1) * sizeof *cs->arms);
	cs->arms[cs->narms] = estrdup(a);
	return cs->narms++;
}

static struct evcase *
find_case(struct evcases *cs, const char *arm, const char *system, const char *cid)
{
	size_t i;

	for (i = 0; i < cs->ncc; i++)
		if (strcmp(cs->cc[i].arm, arm) == 0 && strcmp(cs->cc[i].system, system) == 0 &&
		    strcmp(cs->cc[i].cid, cid) == 0)
			return &cs->cc[i];
	return NULL;
}

static struct evcase *
new_case(struct evcases *cs, const char *arm, const char *system, const char *cid)
{
	struct evcase *c;

	if (cs->ncc == cs->capcc) {
		cs->capcc = cs->capcc ? cs->capcc * 2 : 64;
		cs->cc = erealloc(cs->cc, cs->capcc * sizeof *cs->cc);
	}
	c = &cs->cc[cs->ncc++];
	memset(c, 0, sizeof *c);
	c->arm = estrdup(arm);
	c->system = estrdup(system);
	c->cid = estrdup(cid);
	c->rank = -1;
	c->traces = -1;
	c->ttd = c->mttd = NAN;
	c->wall = NAN;
	c->rem = -1;
	c->cost = cs->prices ? 0 : NAN;
	return c;
}

static void
read_services(struct evcase *c, const char *dir)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/services.txt", dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (n > 0) {
			EPUSH(c->services, c->nservices, estrdup(line));
			c->nservices++;
		}
	}
	free(line);
	fclose(f);
}

/* DIR/traces.txt: the spans of the case window from its incident's start
 * on (aiops-eval slice), when it is there. */
static void
read_traces(struct evcase *c, const char *dir)
{
	char path[4096];
	unsigned long n;
	FILE *f;

	snprintf(path, sizeof path, "%s/traces.txt", dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fscanf(f, "%lu", &n) == 1)
		c->traces = n > 0;
	fclose(f);
}

static void
score_case(const struct evcases *cs, struct evcase *c, const char *dir)
{
	char path[4096];
	struct outcome s;
	size_t i, k;
	long pi = -1;

	snprintf(path, sizeof path, "%s/final.jsonl", dir);
	if (outcome_read(&s, path, cs->prices) < 0) {
		c->failed = 1;
		c->why = estrdup("no final stream");
		return;
	}
	for (i = 0; i < s.ni; i++) {
		if (s.mi[i].end == TS_NONE)
			s.mi[i].end = MATCH_OPEN;
		if (strcmp(s.iid[i], c->incident) == 0)
			pi = (long)i;
	}
	match_close_open(s.mi, s.ni, s.dmax, (int64_t)llround(cs->tol_s * 1e9));
	match_run(s.mi, s.ni, s.mg, s.ng, (int64_t)llround(cs->tol_s * 1e9));
	c->calls = s.calls_rec > s.calls_end ? s.calls_rec : s.calls_end;
	c->llm_failures = s.fail_rec > s.fail_end ? s.fail_rec : s.fail_end;
	/* Calls counted by a stage_end without their llm_call records: their
	 * tokens are unknown. */
	c->tokens = s.calls_end > s.calls_rec ? NAN : s.tokens;
	c->cost = s.calls_end > s.calls_rec ? NAN : s.cost;
	for (i = 0; i < s.ng; i++)
		c->case_fp += !s.mg[i].taken;
	if (pi < 0) {
		c->failed = 1;
		c->why = estrdup("the case's incident is not in the stream");
		outcome_free(&s);
		return;
	}
	if (s.ifault[pi] && c->fault == NULL)
		c->fault = estrdup(s.ifault[pi]);
	if (s.isvc[pi] && c->truth == NULL)
		c->truth = estrdup(s.isvc[pi]);
	if (s.idet[pi] != TS_NONE)
		c->mttd = (double)(s.idet[pi] - s.mi[pi].start) / 1e9;
	for (k = 1; k <= OUTCOME_TOPK; k++)
		c->acc[k] = 0;
	c->rank = -1;
	{
		long gi = s.mi[pi].group, mi = -1;
		for (i = 0; gi >= 0 && i < s.nm; i++)
			if (strcmp(s.mgid[i], s.mg[gi].id) == 0) {
				mi = (long)i;
				break;
			}
		c->rem = match_actions(mi >= 0 ? s.mact[mi] : NULL, mi >= 0 ? s.mn[mi] : 0,
				       s.iexp[pi], s.nexp[pi]);
	}
	if (s.mi[pi].group >= 0) {
		const struct match_grp *g = &s.mg[s.mi[pi].group];
		long ri = outcome_rca(&s, g->id);
		c->detected = 1;
		c->ttd = (double)(g->detected - s.mi[pi].start) / 1e9;
		if (ri >= 0 && s.rerr[ri]) {
			c->rca_failed = 1;
			for (k = 1; k <= OUTCOME_TOPK; k++)
				c->acc[k] = NAN;
		} else if (ri >= 0) {
			c->top5 = estrdup(s.rtop[ri]);
			c->rank = 0;
			for (i = 0; i < s.rn[ri]; i++)
				if (s.rsvc[ri][i] && c->truth && strcmp(s.rsvc[ri][i], c->truth) == 0) {
					c->rank = (int)i + 1;
					break;
				}
			for (k = 1; k <= OUTCOME_TOPK; k++)
				c->acc[k] = c->rank >= 1 && (size_t)c->rank <= k;
		}
	}
	outcome_free(&s);
}

static void
score_control(const struct evcases *cs, struct evcase *c, const char *dir, double hours)
{
	char path[4096];
	struct outcome s;

	snprintf(path, sizeof path, "%s/final.jsonl", dir);
	c->has_ctl = 1;
	c->ctl_hours = hours;
	if (outcome_read(&s, path, cs->prices) < 0) {
		c->ctl_failed = 1;
		return;
	}
	c->fa = (double)s.ng;
	c->calls += s.calls_rec > s.calls_end ? s.calls_rec : s.calls_end;
	c->llm_failures += s.fail_rec > s.fail_end ? s.fail_rec : s.fail_end;
	c->tokens += s.calls_end > s.calls_rec ? NAN : s.tokens;
	c->cost += s.calls_end > s.calls_rec ? NAN : s.cost;
	outcome_free(&s);
}

/* Splits a tab-separated line in place into at most max fields. */
static size_t
split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			break;
		*p++ = 0;
	}
	return n;
}

int
evcases_read_manifest(struct evcases *cs, const char *path, char **err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL, *fld[9];
	size_t cap = 0;
	ssize_t n;
	unsigned long ln = 0;
	struct buf e = BUF_INIT(0);

	if (f == NULL) {
		buf_printf(&e, "%s: %s", path, strerror(errno));
		*err = buf_detach(&e);
		return -1;
	}
	while (e.p == NULL && (n = getline(&line, &cap, f)) > 0) {
		struct evcase *c;
		int failed;
		ln++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (ln == 1 || n == 0)
			continue;
		if (split_tabs(line, fld, 9) != 9) {
			buf_printf(&e, "%s:%lu: expected 9 tab-separated fields", path, ln);
			break;
		}
		arm_index(cs, fld[0]);
		c = find_case(cs, fld[0], fld[1], fld[2]);
		if (c == NULL) {
			c = new_case(cs, fld[0], fld[1], fld[2]);
			c->incident = estrdup(fld[3]);
		}
		failed = strncmp(fld[6], "ok", 2) != 0;
		if (strcmp(fld[4], "case") == 0) {
			c->wall = strtod(fld[7], NULL);
			if (failed) {
				c->failed = 1;
				c->why = estrdup(fld[6]);
			} else {
				score_case(cs, c, fld[8]);
			}
			read_services(c, fld[8]);
			read_traces(c, fld[8]);
		} else if (strcmp(fld[4], "control") == 0) {
			if (failed) {
				c->has_ctl = 1;
				c->ctl_failed = 1;
			} else {
				score_control(cs, c, fld[8], strtod(fld[5], NULL));
			}
		} else {
			buf_printf(&e, "%s:%lu: role '%s' is not case or control", path, ln, fld[4]);
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (e.p == NULL)
		return 0;
	*err = buf_detach(&e);
	return -1;
}

/* A new case of the reference arm arm for case i: its incident, fault, truth. */
static struct evcase *
new_ref(struct evcases *cs, const char *arm, size_t i)
{
	struct evcase *r = new_case(cs, arm, cs->cc[i].system, cs->cc[i].cid);
	const struct evcase *c = &cs->cc[i];    /* after new_case: cs->cc may have moved */

	r->is_ref = 1;
	r->incident = estrdup(c->incident);
	r->fault = c->fault ? estrdup(c->fault) : NULL;
	r->truth = c->truth ? estrdup(c->truth) : NULL;
	r->traces = c->traces;
	return r;
}

/* The reference rows, from the first arm's cases (truth, fault, services). */
void
evcases_add_references(struct evcases *cs)
{
	size_t base = cs->ncc, i, j, k;

	if (cs->narms == 0)
		return;
	arm_index(cs, "ref:constant-loo");
	arm_index(cs, "ref:random");
	for (i = 0; i < base; i++) {
		struct evcase *c = &cs->cc[i], *a, *b;
		struct smap freq = SMAP_INIT;
		char *top[OUTCOME_TOPK] = {0};
		size_t cnt[OUTCOME_TOPK] = {0}, nt = 0;
		struct buf tb = BUF_INIT(0);
		int inwin = 0;
		if (strcmp(c->arm, cs->arms[0]) != 0)
			continue;
		/* Leave one out: the other cases of the same system. */
		for (j = 0; j < base; j++) {
			void **v;
			if (j == i || strcmp(cs->cc[j].arm, cs->arms[0]) || strcmp(cs->cc[j].system, c->system) ||
			    cs->cc[j].truth == NULL)
				continue;
			v = smap_put(&freq, cs->cc[j].truth, strlen(cs->cc[j].truth), NULL);
			*v = (void *)((size_t)*v + 1);
		}
		for (j = 0; j < freq.cap; j++) {
			struct smap_ent *e = &freq.e[j];
			size_t f, pos;
			if (e->key == NULL)
				continue;
			f = (size_t)e->val;
			for (pos = 0; pos < nt; pos++)
				if (f > cnt[pos] || (f == cnt[pos] && strcmp(e->key, top[pos]) < 0))
					break;
			if (pos >= OUTCOME_TOPK)
				continue;
			if (nt < OUTCOME_TOPK)
				nt++;
			memmove(&top[pos + 1], &top[pos], (nt - 1 - pos) * sizeof *top);
			memmove(&cnt[pos + 1], &cnt[pos], (nt - 1 - pos) * sizeof *cnt);
			top[pos] = e->key;
			cnt[pos] = f;
		}
		a = new_ref(cs, "ref:constant-loo", i);
		c = &cs->cc[i];
		a->rank = 0;
		for (k = 0; k < nt; k++) {
			if (k)
				buf_addc(&tb, ',');
			buf_adds(&tb, top[k]);
			if (a->rank == 0 && a->truth && strcmp(top[k], a->truth) == 0)
				a->rank = (int)k + 1;
		}
		a->top5 = tb.p ? buf_detach(&tb) : estrdup("");
		buf_free(&tb);
		for (k = 1; k <= OUTCOME_TOPK; k++)
			a->acc[k] = a->rank >= 1 && (size_t)a->rank <= k;
		smap_free(&freq, NULL);
		/* Random: a uniform order of the window's services. */
		b = new_ref(cs, "ref:random", i);
		c = &cs->cc[i];
		for (j = 0; c->truth && j < c->nservices; j++)
			if (strcmp(c->services[j], c->truth) == 0)
				inwin = 1;
		for (k = 1; k <= OUTCOME_TOPK; k++)
			b->acc[k] = inwin ? (double)(k < c->nservices ? k : c->nservices) /
						    (double)c->nservices : 0;
		b->rank = -2;           /* an expected value: no single rank */
		b->top5 = estrdup("(random)");
	}
}

void
evcases_free(struct evcases *cs)
{
	size_t i;

	for (i = 0; i < cs->ncc; i++) {
		struct evcase *c = &cs->cc[i];
		size_t j;
		free(c->arm);
		free(c->system);
		free(c->cid);
		free(c->incident);
		free(c->fault);
		free(c->truth);
		free(c->why);
		free(c->top5);
		for (j = 0; j < c->nservices; j++)
			free(c->services[j]);
		free(c->services);
	}
	free(cs->cc);
	for (i = 0; i < cs->narms; i++)
		free(cs->arms[i]);
	free(cs->arms);
	json_object_put(cs->prices);
	cs->cc = NULL;
	cs->ncc = cs->capcc = 0;
	cs->arms = NULL;
	cs->narms = 0;
	cs->prices = NULL;
}
