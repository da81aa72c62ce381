/* Unit tests of lib/tailshare: a chronic tail is background, a new one is
 * news, nothing is discounted without a usual share, factor 0 is off. */
#include <stdint.h>

#include "tailshare.h"
#include "tap.h"

static const struct tailshare_cfg C = {2000, 50, 3, 0};

/* Feeds n observations, one slow in every `every` (0: none); returns the
 * sum of the weights. */
static double
feed(struct tailshare *t, int n, int every, const struct tailshare_cfg *c)
{
	double sum = 0;

	for (int i = 0; i < n; i++)
		sum += tailshare_judge(t, every > 0 && i % every == every - 1, 0, c);
	return sum;
}

int
main(void)
{
	struct tailshare t = {0};

	tap_ok(tailshare_judge(&t, 0, 0, &C) == 0, "an observation that is not slow weighs 0");
	t = (struct tailshare){0};
	tap_ok(tailshare_judge(&t, 1, 0, &C) == 1, "a first slow observation weighs 1");
	t = (struct tailshare){0};
	tap_ok(feed(&t, 49, 5, &C) == 9, "fewer than recent_span observations: every slow one weighs 1");

	/* One in twenty-five slow for 1000 observations: the tail is usual. */
	t = (struct tailshare){0};
	feed(&t, 1000, 25, &C);
	tap_ok(t.usual > 0.03 && t.usual < 0.05, "the usual share is the tail's");
	tap_ok(feed(&t, 500, 25, &C) == 0, "the same tail later weighs nothing");
	/* Then every observation slow: the recent share outgrows the usual. */
	double w = 0;
	for (int i = 0; i < 40; i++)
		w = tailshare_judge(&t, 1, 0, &C);
	tap_ok(w > 0.5 && w <= 1, "a tail that grew counts");

	/* A key never slow before: its first slow ones weigh fully. */
	t = (struct tailshare){0};
	feed(&t, 1000, 0, &C);
	tap_ok(tailshare_judge(&t, 1, 0, &C) == 1, "a new tail on a key never slow weighs 1");

	/* Memory: a burst that comes back as deep is background, a deeper one
	 * is news; without memory both count.  One observation a second. */
	struct tailshare_cfg mem = C;
	mem.memory_ns = 3600 * (int64_t)1000000000;
	for (int m = 0; m < 2; m++) {
		const struct tailshare_cfg *c = m ? &mem : &C;
		double b[3] = {0, 0, 0};
		int64_t sec = 0;
		t = (struct tailshare){0};
		for (int i = 0; i < 1000; i++)
			tailshare_judge(&t, 0, sec++ * 1000000000, c);
		for (int k = 0; k < 2; k++) {
			for (int i = 0; i < 100; i++)
				b[k] += tailshare_judge(&t, i % 2 == 0, sec++ * 1000000000, c);
			for (int i = 0; i < 500; i++)
				tailshare_judge(&t, 0, sec++ * 1000000000, c);
		}
		for (int i = 0; i < 100; i++)
			b[2] += tailshare_judge(&t, 1, sec++ * 1000000000, c);
		if (m) {
			tap_ok(b[0] > 10, "memory: a first burst counts");
			tap_ok(b[1] < b[0] / 10, "memory: the same burst again is background");
			tap_ok(b[2] > 10, "memory: a deeper burst counts");
		} else {
			tap_ok(b[1] > 10, "no memory: the same burst again counts");
		}
	}

	/* factor 0: always 1. */
	struct tailshare_cfg off = C;
	off.factor = 0;
	t = (struct tailshare){0};
	tap_ok(feed(&t, 1000, 25, &off) == 40, "factor 0 counts every slow observation");
	return tap_done();
}
