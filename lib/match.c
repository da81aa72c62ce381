/* match: groups to incidents; the definition is in match.h. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "match.h"

static int
by_start(const void *a, const void *b)
{
	const struct match_inc *x = *(struct match_inc *const *)a;
	const struct match_inc *y = *(struct match_inc *const *)b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
match_close_open(struct match_inc *in, size_t ni, int64_t data_end, int64_t tol_ns)
{
	for (size_t i = 0; i < ni; i++) {
		int64_t next = MATCH_OPEN, end;
		if (in[i].end != MATCH_OPEN)
			continue;
		for (size_t j = 0; j < ni; j++)
			if (in[j].start > in[i].start && (next == MATCH_OPEN || in[j].start < next))
				next = in[j].start;
		if (next != MATCH_OPEN)
			end = (uint64_t)next - (uint64_t)in[i].start > 2 * (uint64_t)tol_ns ?
				next - 2 * tol_ns : in[i].start;
		else
			end = data_end;
		in[i].end = end == MATCH_OPEN || end < in[i].start ? in[i].start : end;
	}
}

static int64_t
grp_end(const struct match_grp *g)
{
	return g->end > g->start ? g->end : g->start;
}

static int64_t
inc_end(const struct match_inc *in)
{
	return in->end > in->start ? in->end : in->start;
}

static int
overlaps(const struct match_grp *g, const struct match_inc *in, int64_t tol)
{
	return g->start <= inc_end(in) + tol && grp_end(g) >= in->start - tol;
}

/* The length of the plain overlap (no tolerance), 0 when none. */
static int64_t
overlap_len(const struct match_grp *g, const struct match_inc *in)
{
	int64_t lo = g->start > in->start ? g->start : in->start;
	int64_t hi = grp_end(g) < inc_end(in) ? grp_end(g) : inc_end(in);

	return hi > lo ? hi - lo : 0;
}

static int
has_service(const struct match_grp *g, const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < g->nservices; i++)
		if (g->services[i] && strcmp(g->services[i], s) == 0)
			return 1;
	return 0;
}

/* 1 when group a is a better match than b for in. */
static int
better(const struct match_grp *a, const struct match_grp *b, const struct match_inc *in)
{
	int sa = has_service(a, in->service), sb = has_service(b, in->service);
	int64_t oa, ob;

	if (sa != sb)
		return sa > sb;
	oa = overlap_len(a, in);
	ob = overlap_len(b, in);
	if (oa != ob)
		return oa > ob;
	if (a->detected != b->detected)
		return a->detected < b->detected;
	return strcmp(a->id, b->id) < 0;
}

void
match_run(struct match_inc *in, size_t ni, struct match_grp *g, size_t ng, int64_t tol)
{
	struct match_inc **order;
	size_t i, j;

	for (j = 0; j < ng; j++) {
		g[j].taken = 0;
		g[j].incidents = 0;
	}
	for (i = 0; i < ni; i++) {
		in[i].group = -1;
		in[i].overlapping = 0;
	}
	if (ni == 0)
		return;
	order = emalloc(ni * sizeof *order);
	for (i = 0; i < ni; i++)
		order[i] = &in[i];
	if (ni > 1)
		qsort(order, ni, sizeof *order, by_start);
	for (i = 0; i < ni; i++) {
		struct match_inc *x = order[i];
		long best = -1;
		for (j = 0; j < ng; j++) {
			if (!overlaps(&g[j], x, tol))
				continue;
			x->overlapping++;
			g[j].incidents++;
			if (!g[j].taken && (best < 0 || better(&g[j], &g[best], x)))
				best = (long)j;
		}
		if (best >= 0) {
			g[best].taken = 1;
			x->group = best;
		}
	}
	free(order);
}

int
match_actions(char *const *actions, size_t n, char *const *expected, size_t nexp)
{
	size_t i, j;

	if (nexp == 0)
		return -1;
	for (i = 0; actions && i < n; i++)
		for (j = 0; j < nexp; j++)
			if (actions[i] && expected[j] && strcmp(actions[i], expected[j]) == 0)
				return 1;
	return 0;
}
