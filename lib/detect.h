/*
 * detect: small streaming detectors, one per key, O(1) memory each.
 *
 *   ewd   an exponentially weighted mean and variance of a series with a
 *         warm-up (the first points form a plain mean), a variance floor,
 *         and clipped updates: a point beyond clip_z standard deviations
 *         moves the mean as if it sat at the clip and does not touch the
 *         variance, so an anomaly moves the baseline only slowly while a
 *         lasting level shift is still learned in the end.
 *   rate  an event rate per fixed bucket (e.g. log lines of one template per
 *         10 s), exponentially weighted over buckets, empty buckets included,
 *         bias-corrected while young, with the same clipping.
 *
 * No function allocates, fails or reads a clock: results depend only on the
 * values given, so a detector replayed on the same input gives the same
 * answers.
 */
#ifndef AIOPS_DETECT_H
#define AIOPS_DETECT_H

#include <stdint.h>

struct ewd {
	double mean, var;
	uint32_t n;        /* points learned, saturating */
	uint32_t run;      /* consecutive anomalous points (kept by the caller) */
};

/* alpha for a span of n points, as for an n-point moving average. */
double ewd_alpha(double span);

/*
 * The signed z-score of x against e: (x - mean) / sd, where sd is the
 * learned standard deviation but at least max(rel_floor * |mean|,
 * abs_floor).  Returns 0 while fewer than warmup points were learned, and 0
 * for a non-finite x.  With a zero sd floor (abs_floor = 0) a change of a
 * constant series gives +-INFINITY.
 */
double ewd_z(const struct ewd *e, double x, uint32_t warmup, double rel_floor, double abs_floor);

/* The standard deviation used by ewd_z (the floor applied). */
double ewd_sd(const struct ewd *e, double rel_floor, double abs_floor);

/*
 * Learns x (non-finite values are ignored): the effective alpha a is
 * max(alpha, 1 / n) so the warm-up is a plain mean; when clip_z > 0, at
 * least warmup points are known and x lies beyond mean +- clip_z * sd (sd
 * with the same floors as ewd_z), x only moves the mean by a * clip_z * sd
 * towards itself and the variance is left as it was.
 */
void ewd_learn(struct ewd *e, double x, double alpha, uint32_t warmup, double clip_z,
	       double rel_floor, double abs_floor);

/* Forgets everything (the next point starts a new warm-up). */
void ewd_reset(struct ewd *e);

struct rate {
	int64_t bucket;    /* the current bucket's number */
	double cur;        /* events in it so far */
	double mean;       /* events per bucket, over the closed buckets */
	uint32_t nb;       /* closed buckets learned, saturating */
};

/* Starts counting at bucket b. */
void rate_start(struct rate *r, int64_t b);

/*
 * Moves to bucket b (b <= r->bucket does nothing): the current bucket is
 * learned (clamped to clip when clip > 0), then every empty bucket up to b;
 * alpha as for ewd_learn (max(alpha, 1 / nb)).  cur restarts at 0.
 */
void rate_advance(struct rate *r, int64_t b, double alpha, double clip);

/* Counts one event in the current bucket and returns the count so far. */
double rate_add(struct rate *r, double w);

#endif
