/* stats: dvec, nearest-rank percentiles, rounding of score values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "stats.h"

void
dvec_push(struct dvec *d, double x)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = erealloc(d->v, d->cap * sizeof *d->v);
	}
	d->v[d->n++] = x;
}

void
dvec_free(struct dvec *d)
{
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
stats_percentile(double *v, size_t n, double p)
{
	double r;
	size_t k;

	if (n == 0 || !(p > 0 && p <= 100))
		return NAN;
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_double);
	r = ceil(p * (double)n / 100.0);
	k = r < 1 ? 1 : (size_t)r;
	if (k > n)
		k = n;
	return v[k - 1];
}

double
stats_round(double v)
{
	char b[64];

	if (!isfinite(v))
		return v;
	snprintf(b, sizeof b, "%.10g", v);
	return strtod(b, NULL);
}
