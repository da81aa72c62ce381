/* tailshare: a slow observation against its key's usual slow share (see tailshare.h). */
#include <math.h>

#include "detect.h"
#include "tailshare.h"

static double
alpha_at(double span, uint32_t n)
{
	double a = ewd_alpha(span), p = 1.0 / ((double)n + 1.0);

	return a > p ? a : p;
}

/* The past episodes' peak at ts, decayed. */
static double
peak_at(const struct tailshare *t, int64_t ts, const struct tailshare_cfg *c)
{
	if (c->memory_ns <= 0 || t->peak <= 0)
		return 0;
	if (ts <= t->peak_ts)
		return t->peak;
	return t->peak * exp2(-(double)(ts - t->peak_ts) / (double)c->memory_ns);
}

double
tailshare_judge(struct tailshare *t, int slow, int64_t ts, const struct tailshare_cfg *c)
{
	double x = slow ? 1.0 : 0.0, usual = t->usual, w = 0;

	t->recent += alpha_at(c->recent_span, t->n) * (x - t->recent);
	t->usual += alpha_at(c->usual_span, t->n) * (x - t->usual);
	int young = c->factor <= 0 || (double)t->n < c->recent_span || t->recent <= 0;
	if (slow) {
		if (young) {
			w = 1;
		} else {
			double wp = 1 - peak_at(t, ts, c) / t->recent;
			w = 1 - c->factor * usual / t->recent;
			w = wp < w ? wp : w;
		}
		w = w < 0 ? 0 : w > 1 ? 1 : w;
	}
	if (!young && t->recent > c->factor * usual) {
		if (t->recent > t->ep_max)
			t->ep_max = t->recent;
	} else if (t->ep_max > 0) {
		double p = peak_at(t, ts, c);
		t->peak = t->ep_max > p ? t->ep_max : p;
		t->peak_ts = ts;
		t->ep_max = 0;
	}
	if (t->n < UINT32_MAX)
		t->n++;
	return w;
}
