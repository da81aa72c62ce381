/* Unit tests of lib/group: a signal counts at most key_cap, the score's
 * formula, detection, joining (same service, neighbour, quiet), closing
 * (quiet, quiet_fresh) and the ranking strength's weights
 * (spread, support, own). */
#include <math.h>
#include <string.h>

#include "group.h"
#include "spanattr.h"
#include "tap.h"

#define S 1000000000LL   /* ns per second */

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* Services 0 and 1 call one another; 2 is alone. */
static int
adjacent(int a, int b, void *arg)
{
	(void)arg;
	return (a == 0 && b == 1) || (a == 1 && b == 0);
}

static struct group_cfg
cfg(int quiet_fresh)
{
	struct group_cfg c = {
		.key_cap = 3, .type_weight = 0.5, .service_weight = 0.25, .service_cap = 4,
		.detect_threshold = 12, .min_signals = 2, .min_types = 2, .saturation_detect = 2,
		.max_keys = 64, .sample_chars = 200, .window_ns = 60 * S, .quiet_ns = 120 * S,
		.quiet_fresh = quiet_fresh, .max_duration_ns = 1800 * S, .max_open = 16,
		.adjacent = adjacent, .arg = NULL,
	};
	return c;
}

static struct anom
an(int64_t ts, int svc, int type, const char *key, double sev)
{
	struct anom a = {.ts = ts, .svc = svc, .type = type, .key = key, .sev = sev,
			 .name = "m", .labels = "{}", .op = "op", .tpl = "tpl"};

	return a;
}

static int nclosed;

static void
closed(struct group *g, void *arg)
{
	(void)arg;
	nclosed++;
	group_free(g);
}

int
main(void)
{
	struct group_cfg c = cfg(0);
	struct group *g = group_new(1, 0);
	struct anom a;

	/* A signal counts at most key_cap, however many anomalies. */
	for (int i = 0; i < 5; i++) {
		a = an(i * S, 0, GROUP_METRIC, "m0", 1);
		group_add(g, &a, &c);
	}
	tap_ok(near(g->a, 3) && g->nk == 1 && g->karr[0]->count == 5, "a signal counts at most key_cap");
	tap_ok(g->fresh == 2 * S && g->last == 4 * S, "fresh is the last anomaly that raised the score");
	/* score = A (1 + 0.5 (T - 1)) (1 + 0.25 min(S - 1, 4)) */
	a = an(6 * S, 1, GROUP_LOG, "l1", 2);
	group_add(g, &a, &c);
	tap_ok(near(g->score, 5 * 1.5 * 1.25), "score = A * type factor * service factor");
	tap_ok(!group_decide(g, &c), "below detect_threshold: not detected");
	a = an(7 * S, 1, GROUP_SPAN, "s1", 3);
	group_add(g, &a, &c);
	tap_ok(group_decide(g, &c), "at detect_threshold with two types and signals: detected");

	/* Joining: the same service within quiet_ns, a neighbour within window_ns. */
	a = an(100 * S, 0, GROUP_METRIC, "m0", 1);
	tap_ok(group_connected(g, &a, &c), "the same service within quiet_s joins");
	a = an(100 * S, 2, GROUP_METRIC, "m2", 1);
	tap_ok(!group_connected(g, &a, &c), "an unrelated service does not join");
	a = an(60 * S, 1, GROUP_METRIC, "m1", 1);
	tap_ok(group_connected(g, &a, &c), "a neighbour within window_s joins");
	a = an(200 * S, 1, GROUP_METRIC, "m1", 1);
	tap_ok(!group_connected(g, &a, &c), "... not after it");
	group_free(g);

	/* Closing: a capped signal that goes on holds the group open by
	 * default; with quiet_fresh the group closes quiet_ns after its last
	 * new evidence. */
	for (int qf = 0; qf <= 1; qf++) {
		struct group_cfg cc = cfg(qf);
		struct groupset set;

		memset(&set, 0, sizeof set);
		set.closed = closed;
		nclosed = 0;
		for (int i = 0; i < 20; i++) {
			int64_t t = i * 20 * S;
			a = an(t, 0, GROUP_METRIC, "cpu", 1);
			groupset_close_due(&set, t, &cc);
			g = groupset_join(&set, &a, &cc);
			group_add(g, &a, &cc);
		}
		if (qf == 0)
			tap_ok(nclosed == 0 && set.n == 1, "a signal that goes on holds its group open");
		else
			/* capped at 40 s, closed at 180 s; again at 220 s, closed at 360 s */
			tap_ok(nclosed == 2 && set.n == 1,
			       "quiet_fresh: repeats of a capped signal do not hold it open");
		groupset_close_all(&set);
		groupset_free(&set);
	}

	/* Ranking strength: spread, support and own. */
	g = group_new(2, 0);
	a = an(0, 0, GROUP_METRIC, "0-cpu", 3);
	group_add(g, &a, &c);
	a = an(0, 1, GROUP_METRIC, "1-cpu", 3);
	group_add(g, &a, &c);
	a = an(1 * S, 1, GROUP_SPAN, "1-self", 3);
	a.measure = SPANATTR_SELF;
	group_add(g, &a, &c);
	a = an(1 * S, 0, GROUP_SPAN, "0-slow", 3);
	group_add(g, &a, &c);
	{
		double out[4], own[4];
		struct group_rank_w w0 = {0, 0, 0, 0}, w = {1, 10, 1, 0};
		/* sv[0] is service 0, sv[1] service 1 (in order of arrival). */
		group_rank_strength(g, &w0, &c, out, own);
		tap_ok(near(out[0], 6) && near(out[1], 6) && own[0] == 0 && own[1] == 0,
		       "all weights off: the plain strength, no own part");
		group_rank_strength(g, &w, &c, out, own);
		/* cpu (a metric named "m" on both) is shared: 3/2 each; a span
		 * signal seen once of the 10 support needs keeps 1/10. */
		tap_ok(near(out[0], 1.5 + 0.3) && near(out[1], 1.5 + 0.3),
		       "spread halves a shared class, support keeps count/N of a span signal");
		tap_ok(own[0] == 0 && near(own[1], 0.3), "own: the weighed self time, the service's own");
	}
	group_free(g);

	/* Ranking strength: an edge gap is the callee's own and weighs by its
	 * size (gap_mag); a self time keeps its plain weight. */
	g = group_new(5, 0);
	for (int i = 0; i < 10; i++) {
		a = an(i * S, 0, GROUP_SPAN, "0-gap", 0.5);
		a.measure = SPANATTR_GAP;
		a.caller = "front";
		a.baseline = 5;
		a.dur_ms = i < 5 ? 400 : 600;   /* median 500: 100 times the baseline */
		group_add(g, &a, &c);
		a = an(i * S, 1, GROUP_SPAN, "1-self", 0.5);
		a.measure = SPANATTR_SELF;
		a.baseline = 5;
		a.dur_ms = 500;
		group_add(g, &a, &c);
	}
	{
		double out[4], own[4];
		struct group_rank_w w = {0, 10, 1, 0}, wm = {0, 10, 1, 1};
		group_rank_strength(g, &w, &c, out, own);
		tap_ok(near(out[0], 3) && near(own[0], 3) && near(out[1], 3) && near(own[1], 3),
		       "own: an edge gap is its callee's own, as a self time is");
		group_rank_strength(g, &wm, &c, out, own);
		tap_ok(near(out[0], 9) && near(own[0], 9) && near(out[1], 3) && near(own[1], 3),
		       "gap_mag 1: a gap 100 times its baseline weighs 1 + log10(100) = 3 times");
		wm.gap_mag = 0.5;
		group_rank_strength(g, &wm, &c, out, own);
		tap_ok(near(out[0], 6), "gap_mag 0.5: 1 + 0.5 log10(100) = 2 times");
	}
	group_free(g);
	g = group_new(6, 0);
	a = an(0, 0, GROUP_SPAN, "0-gap", 3);
	a.measure = SPANATTR_GAP;
	a.caller = "front";
	a.baseline = 5;
	a.dur_ms = 4;   /* below its baseline: no size to add */
	group_add(g, &a, &c);
	{
		double out[4], own[4];
		struct group_rank_w wm = {0, 0, 1, 1};
		group_rank_strength(g, &wm, &c, out, own);
		tap_ok(near(out[0], 3) && near(own[0], 3), "a gap not above its baseline weighs its severity");
	}
	group_free(g);

	/* Persistence: metric series of one service anomalous at two points
	 * stand in for min_types when the service and the group are strong
	 * enough; a merge counts them again. */
	{
		struct group_cfg pc = cfg(0);
		struct group *p = group_new(3, 0), *q = group_new(4, 0);
		static const char *const keys[] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"};
		pc.persist_detect = 3;
		pc.persist_score = 2;
		pc.persist_strength = 1.5;
		for (int i = 0; i < 8; i++) {
			a = an(0, 2, GROUP_METRIC, keys[i], 3);
			group_add(p, &a, &pc);
		}
		tap_ok(p->persist == 0 && !group_decide(p, &pc), "one point in eight series: no persistence");
		for (int i = 0; i < 2; i++) {
			a = an(60 * S, 2, GROUP_METRIC, keys[i], 3);
			group_add(p, &a, &pc);
		}
		tap_ok(p->persist == 2 && !group_decide(p, &pc), "two series at two points: not yet");
		a = an(60 * S, 2, GROUP_METRIC, keys[2], 3);
		group_add(p, &a, &pc);
		tap_ok(p->persist == 3 && p->sv[0].persist == 3 && group_decide(p, &pc),
		       "three series at two points, strength 24 and score 24: detected");
		pc.persist_strength = 2.1;
		tap_ok(!group_decide(p, &pc), "... not when the service's own strength is short");
		pc.persist_strength = 1.5;
		pc.persist_score = 2.1;
		tap_ok(!group_decide(p, &pc), "... nor when the group's score is");
		pc.persist_score = 2;
		a = an(120 * S, 2, GROUP_METRIC, keys[3], 3);
		group_add(q, &a, &pc);
		a = an(0, 2, GROUP_METRIC, "q-alone", 3);
		group_add(q, &a, &pc);
		group_merge(p, q, &pc);
		tap_ok(p->persist == 4 && p->sv[0].persist == 4,
		       "a merge counts a series that reaches two points across the parts");
		group_free(p);
	}
	return tap_done();
}
