/* spread: weights of a group's keys by how many services share their class. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "spread.h"

static int
cmp_ref(const void *x, const void *y)
{
	const struct spread_key *a = *(struct spread_key *const *)x;
	const struct spread_key *b = *(struct spread_key *const *)y;
	int c = strcmp(a->cls, b->cls);

	if (c)
		return c;
	return (a->svc > b->svc) - (a->svc < b->svc);
}

void
spread_weigh(struct spread_key *k, size_t n, double alpha)
{
	struct spread_key **r;
	size_t i, j, m;

	for (i = 0; i < n; i++)
		k[i].w = 1;
	if (alpha == 0 || n < 2)
		return;
	r = emalloc(n * sizeof *r);
	for (i = 0; i < n; i++)
		r[i] = &k[i];
	qsort(r, n, sizeof *r, cmp_ref);
	for (i = 0; i < n; i = j) {
		/* r[i..j) share a class; m distinct services among them. */
		m = 1;
		for (j = i + 1; j < n && strcmp(r[j]->cls, r[i]->cls) == 0; j++)
			if (r[j]->svc != r[j - 1]->svc)
				m++;
		if (m > 1) {
			double w = pow((double)m, -alpha);
			for (size_t x = i; x < j; x++)
				r[x]->w = w;
		}
	}
	free(r);
}
