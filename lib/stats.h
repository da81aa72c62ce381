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

#endif
