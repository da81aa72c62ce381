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

uint64_t
stats_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
stats_boot_ci(const double *x, size_t n, unsigned B, uint64_t seed, double level,
	      double *lo, double *hi)
{
	double *means;
	uint64_t st = seed;
	unsigned b;
	size_t j;

	*lo = *hi = NAN;
	if (n == 0 || B == 0)
		return;
	means = emalloc(B * sizeof *means);
	for (b = 0; b < B; b++) {
		double sum = 0;
		for (j = 0; j < n; j++)
			sum += x[stats_splitmix64(&st) % n];
		means[b] = sum / (double)n;
	}
	*lo = stats_percentile(means, B, (100.0 - level) / 2);
	*hi = stats_percentile(means, B, (100.0 + level) / 2);
	free(means);
}

double
stats_mcnemar_exact(unsigned long b, unsigned long c)
{
	unsigned long n = b + c, k = b < c ? b : c, i;
	double tail = 0, p, ln2n = (double)n * log(2.0);

	if (n == 0)
		return 1;
	/* Each term C(n, i) / 2^n through lgamma, so large n cannot overflow. */
	for (i = 0; i <= k; i++)
		tail += exp(lgamma((double)n + 1) - lgamma((double)i + 1) -
			    lgamma((double)(n - i) + 1) - ln2n);
	p = 2 * tail;
	return p < 1 ? p : 1;
}
