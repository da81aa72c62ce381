/* rank: orders a group's services as root-cause candidates (see rank.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rank.h"
#include "rank_pr.h"

static const char *const method_names[] = {"graph", "strength", "pagerank", "votes", "magnitude"};

int
rank_method_parse(const char *s)
{
	for (size_t i = 0; i < sizeof method_names / sizeof *method_names; i++)
		if (s && strcmp(s, method_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
rank_method_name(int m)
{
	if (m < 0 || (size_t)m >= sizeof method_names / sizeof *method_names)
		return "?";
	return method_names[m];
}

struct walk {
	const struct rank_cand *c;
	const struct rank_params *p;
	int n;
	unsigned char *state;    /* 0 new, 1 on the path, 2 done */
	int *memo;
};

/* Longest chain of callees below candidate i that explain it. */
static int
depth_of(struct walk *w, int i)
{
	const struct rank_cand *c = w->c;
	int best = 0;

	if (w->state[i] == 2)
		return w->memo[i];
	if (w->state[i] == 1)
		return 0;   /* a cycle: stop here */
	w->state[i] = 1;
	if (c[i].sat <= 0)
		for (int j = 0; j < w->n; j++) {
			if (j == i || c[j].sym < w->p->min_strength ||
			    c[j].sym < w->p->explain_ratio * c[i].sym ||
			    c[j].first > c[i].first + w->p->onset_slack_ns)
				continue;
			if (w->p->is_callee(c[i].id, c[j].id, w->p->arg)) {
				int d = 1 + depth_of(w, j);
				if (d > best)
					best = d;
			}
		}
	w->state[i] = 2;
	w->memo[i] = best;
	return best;
}

static int
cmp_cand(const void *x, const void *y)
{
	const struct rank_cand *a = x, *b = y;

	if ((a->sat > 0) != (b->sat > 0))
		return a->sat > 0 ? -1 : 1;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return strcmp(a->name, b->name);
}

void
rank_run(struct rank_cand *c, int n, int m, const struct rank_params *p)
{
	if (n <= 0)
		return;
	if (m == RANK_GRAPH) {
		struct walk w = {c, p, n, ecalloc((size_t)n, 1), ecalloc((size_t)n, sizeof(int))};
		for (int i = 0; i < n; i++)
			c[i].depth = depth_of(&w, i);
		for (int i = 0; i < n; i++) {
			double own = fmin(fmax(c[i].own, 0), c[i].strength);
			c[i].score = own + (c[i].strength - own) * pow(p->caller_factor, c[i].depth);
		}
		free(w.state);
		free(w.memo);
	} else if (m == RANK_PAGERANK) {
		rank_pagerank(c, n, p);
	} else if (m == RANK_VOTES || m == RANK_MAGNITUDE) {
		/* The method's count, strength (a share below 1) breaking ties. */
		double top = 0;
		for (int i = 0; i < n; i++)
			top = fmax(top, c[i].strength);
		for (int i = 0; i < n; i++) {
			double v = m == RANK_VOTES ? __builtin_popcount(c[i].types) : floor(c[i].zmax);
			c[i].depth = 0;
			c[i].score = v + fmax(c[i].strength, 0) / (1 + top);
		}
	} else {
		for (int i = 0; i < n; i++) {
			c[i].depth = 0;
			c[i].score = c[i].strength;
		}
	}
	qsort(c, (size_t)n, sizeof *c, cmp_cand);
}
