/*
 * stats: small, deterministic statistics for scores: a growable vector of
 * doubles, the nearest-rank percentile, and the rounding applied to every
 * score value so that the same input always prints the same bytes.
 *
 * Nothing here prints or exits, except that dvec_push() exits on
 * out-of-memory like emalloc().
 */
#ifndef AIOPS_STATS_H
#define AIOPS_STATS_H

#include <stddef.h>
#include <stdint.h>

/* A growable vector of doubles.  DVEC_INIT is an empty vector. */
struct dvec {
	double *v;
	size_t n, cap;
};

#define DVEC_INIT { NULL, 0, 0 }

/* Appends x.  Exits with status 1 on out-of-memory. */
void dvec_push(struct dvec *d, double x);
/* Frees the memory; the vector is empty and may be used again. */
void dvec_free(struct dvec *d);

/*
 * The nearest-rank p-th percentile (0 < p <= 100) of v[0..n): the value of
 * rank ceil(p * n / 100) (1-based, at least 1) in ascending order, so the
 * result is always one of the values.  Sorts v in place.  Returns NAN when
 * n is 0 or p is out of range.  NaNs in v are not allowed.
 */
double stats_percentile(double *v, size_t n, double p);

/*
 * v rounded to 10 significant digits (through "%.10g" and back), so that a
 * mean such as 2/3 prints as 0.6666666667 and 0.1 + 0.2 prints as 0.3 with
 * js_new_double().  Non-finite values are returned unchanged.
 */
double stats_round(double v);

/*
 * SplitMix64 (Steele, Lea, Flood 2014): *state += 0x9e3779b97f4a7c15, then
 * the mixing of the result.  Returns the next 64-bit value.
 */
uint64_t stats_splitmix64(uint64_t *state);

/*
 * A percentile bootstrap interval for the mean of x[0..n): B resamples,
 * each of n draws with replacement, draw j being x[stats_splitmix64() % n]
 * from a generator started at seed (the same seed gives the same
 * resamples); the interval is the nearest-rank (100-level)/2 and
 * (100+level)/2 percentiles (stats_percentile) of the B means.  Sets *lo and
 * *hi to NAN when n or B is 0.  Exits on out-of-memory.
 */
void stats_boot_ci(const double *x, size_t n, unsigned B, uint64_t seed, double level,
		   double *lo, double *hi);

/*
 * McNemar's exact test: the two-sided binomial p-value of b discordant
 * pairs one way against c the other, min(1, 2 * P(X <= min(b, c))) with X
 * ~ Binomial(b + c, 1/2); 1 when b + c is 0.
 */
double stats_mcnemar_exact(unsigned long b, unsigned long c);

#endif
