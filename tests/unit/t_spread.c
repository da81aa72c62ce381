/* Unit tests of lib/spread: a class on one service keeps weight 1, a class
 * shared by k services weighs k^-alpha, a service's own repeats of a class
 * do not count as sharing, alpha 0 is off, the order of the keys is kept. */
#include <math.h>

#include "spread.h"
#include "tap.h"

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-12;
}

int
main(void)
{
	struct spread_key k[] = {
		{"m|cpu", 0, 0}, {"m|cpu", 1, 0}, {"m|cpu", 2, 0}, {"m|cpu", 3, 0},
		{"l|panic", 2, 0}, {"l|panic", 2, 0}, {"s|GET", 1, 0}, {"s|GET", 3, 0},
	};
	size_t n = sizeof k / sizeof *k;

	spread_weigh(k, n, 1);
	tap_ok(near(k[0].w, 0.25) && near(k[3].w, 0.25), "a class on 4 services weighs 1/4 at alpha 1");
	tap_ok(k[4].w == 1 && k[5].w == 1, "two keys of one class on one service: not shared, weight 1");
	tap_ok(near(k[6].w, 0.5) && near(k[7].w, 0.5), "a class on 2 services weighs 1/2");
	tap_ok(k[0].svc == 0 && k[7].svc == 3 && k[4].cls[0] == 'l', "the keys keep their order");

	spread_weigh(k, n, 0.5);
	tap_ok(near(k[0].w, 0.5) && near(k[6].w, pow(2, -0.5)), "alpha 0.5: k^-0.5");
	spread_weigh(k, n, 0);
	int all1 = 1;
	for (size_t i = 0; i < n; i++)
		all1 &= k[i].w == 1;
	tap_ok(all1, "alpha 0: every weight is 1");
	spread_weigh(k, 1, 1);
	tap_ok(k[0].w == 1, "one key: weight 1");
	spread_weigh(NULL, 0, 1);
	tap_ok(1, "no keys: nothing to do");
	return tap_done();
}
