/* detect: streaming EWMA detectors with warm-up and winsorised learning. */
#include <math.h>
#include <string.h>

#include "detect.h"

double
ewd_alpha(double span)
{
	return span <= 1 ? 1.0 : 2.0 / (span + 1.0);
}

double
ewd_sd(const struct ewd *e, double rel_floor, double abs_floor)
{
	double sd = e->var > 0 ? sqrt(e->var) : 0;
	double fl = rel_floor * fabs(e->mean);

	if (fl < abs_floor)
		fl = abs_floor;
	return sd > fl ? sd : fl;
}

double
ewd_z(const struct ewd *e, double x, uint32_t warmup, double rel_floor, double abs_floor)
{
	double sd, d;

	if (!isfinite(x) || e->n < warmup || e->n == 0)
		return 0;
	d = x - e->mean;
	sd = ewd_sd(e, rel_floor, abs_floor);
	if (sd <= 0)
		return d == 0 ? 0 : d > 0 ? INFINITY : -INFINITY;
	return d / sd;
}

void
ewd_learn(struct ewd *e, double x, double alpha, uint32_t warmup, double clip_z,
	  double rel_floor, double abs_floor)
{
	double a, d, inc;

	if (!isfinite(x))
		return;
	if (e->n == 0) {
		e->mean = x;
		e->var = 0;
		e->n = 1;
		return;
	}
	a = 1.0 / (double)(e->n + 1);
	if (a < alpha)
		a = alpha;
	if (clip_z > 0 && e->n >= warmup) {
		double sd = ewd_sd(e, rel_floor, abs_floor), lim = clip_z * sd;
		if (x > e->mean + lim || x < e->mean - lim) {
			/* An outlier moves the mean by at most a * lim and leaves
			 * the variance alone (learning it would let a run of
			 * outliers inflate it geometrically). */
			e->mean += a * (x > e->mean ? lim : -lim);
			if (e->n < UINT32_MAX)
				e->n++;
			return;
		}
	}
	d = x - e->mean;
	inc = a * d;
	e->mean += inc;
	e->var = (1 - a) * (e->var + d * inc);
	if (e->n < UINT32_MAX)
		e->n++;
}

void
ewd_reset(struct ewd *e)
{
	memset(e, 0, sizeof *e);
}

void
rate_start(struct rate *r, int64_t b)
{
	memset(r, 0, sizeof *r);
	r->bucket = b;
}

static void
learn_bucket(struct rate *r, double x, double alpha)
{
	double a = 1.0 / (double)(r->nb + 1);

	if (a < alpha)
		a = alpha;
	r->mean += a * (x - r->mean);
	if (r->nb < UINT32_MAX)
		r->nb++;
}

void
rate_advance(struct rate *r, int64_t b, double alpha, double clip)
{
	int64_t empty;
	double x = r->cur;

	if (b <= r->bucket)
		return;
	if (clip > 0 && x > clip)
		x = clip;
	learn_bucket(r, x, alpha);
	empty = b - r->bucket - 1;
	/* Empty buckets one by one while young, then in closed form. */
	while (empty > 0 && (double)r->nb * alpha < 1) {
		learn_bucket(r, 0, alpha);
		empty--;
	}
	if (empty > 0) {
		r->mean *= pow(1 - alpha, (double)empty);
		r->nb = r->nb + (uint32_t)(empty > (int64_t)(UINT32_MAX - r->nb) ? UINT32_MAX - r->nb : empty);
	}
	r->bucket = b;
	r->cur = 0;
}

double
rate_add(struct rate *r, double w)
{
	r->cur += w;
	return r->cur;
}
