/*
 * tailshare: whether a slow observation of one key (a span of an
 * operation, an edge gap, a self time) is news, from the share of slow
 * observations.  The way aiops-correlate judges error spans by their usual
 * error share: a key that is always a little slow (a chronic tail) keeps a
 * usual slow share, and its slow spans are background; a key whose spans
 * turn slow now has a recent share well above its usual one.
 *
 * Per key, two exponentially weighted shares of slow observations: the
 * usual one (over usual_span observations) and the recent one (over
 * recent_span).  A slow observation weighs
 *
 *     w = 1 - factor * usual / recent        clamped to [0, 1]
 *
 * where usual is the share before this observation and recent includes it:
 * a key that was never slow gives 1 (as without this module), a chronic
 * tail whose recent share is its usual one gives 0 (factor >= 1), a tail
 * that grew well beyond factor times its usual share comes near 1.  While
 * the key has fewer than recent_span observations, the two shares are the
 * same history and cannot be told apart: w is 1 (nothing is discounted
 * before there is a usual share to discount against).  factor 0 turns the
 * module off (w is always 1).
 *
 * Episodes.  A key is in an episode while its recent share exceeds factor
 * times its usual one.  With memory_ns, the highest recent share of an
 * episode is remembered when it ends, halving every memory_ns of stream
 * time, and a later slow observation also weighs at most
 * 1 - peak / recent: a burst that comes back (a periodic slowdown, each
 * time as deep) is background, while one deeper than any before is news.
 * The episode in progress never discounts itself.
 *
 * Both shares start as plain means (alpha is at least 1 / n).  Nothing here
 * allocates, prints, fails or reads a clock.
 */
#ifndef AIOPS_TAILSHARE_H
#define AIOPS_TAILSHARE_H

#include <stdint.h>

struct tailshare_cfg {
	double usual_span;    /* EWMA span of the usual share, in observations */
	double recent_span;   /* EWMA span of the recent share, in observations */
	double factor;        /* recent must exceed this times the usual share */
	int64_t memory_ns;    /* half-life of a past episode's peak (0: none) */
};

struct tailshare {
	double usual, recent;
	double ep_max;        /* the highest recent share of the current episode */
	double peak;          /* the highest of the past episodes, at peak_ts */
	int64_t peak_ts;
	uint32_t n;           /* observations learned, saturating */
};

/*
 * Learns one observation (slow: 1 or 0) at ts (ns) and returns the weight in [0, 1]
 * of a slow one as new evidence (0 for one that is not slow).
 */
double tailshare_judge(struct tailshare *t, int slow, int64_t ts, const struct tailshare_cfg *c);

#endif
