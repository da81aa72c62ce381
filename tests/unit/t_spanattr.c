/* Unit tests of lib/spanattr (edge gaps and self times from span pairs, TAP). */
#include <stdio.h>
#include <string.h>

#include "spanattr.h"
#include "tap.h"

#define MS 1000000LL
#define S (1000 * MS)

static struct spanattr_find got[64];
static int ngot;

static int dropped;

static void
collect(const struct spanattr_find *f, void *arg)
{
	(void)arg;
	if (ngot < 64)
		got[ngot++] = *f;
}

static void
drop(void *p)
{
	(void)p;
	dropped++;
}

static const struct spanattr_cfg cfg = {
	.z = 4, .ratio = 1.5, .min_ms = 10, .span = 200, .warmup = 20, .warmup_ns = 60 * S,
	.slack_ns = 1 * S, .cache = 1024, .pending = 1024, .max_keys = 100, .drop = drop,
};

static void
span(struct spanattr *sa, const char *id, const char *parent, int svc, const char *op,
     int64_t start, int64_t dur)
{
	struct spanattr_span sp = {start, start + dur, svc, id, parent, op, 7, NULL};
	spanattr_span(sa, &sp, collect, NULL, NULL);
}

/* Caller 0's client span, callee 1's server span inside it; `extra` is
 * added to the client only (network) or to both (the callee's own work). */
static void
call(struct spanattr *sa, int i, int64_t t, int64_t client_extra, int64_t server_extra)
{
	char c[32], s[32];
	int64_t jitter = (i % 5) * MS / 10;

	snprintf(c, sizeof c, "c%d", i);
	snprintf(s, sizeof s, "s%d", i);
	span(sa, c, "root", 0, "B/Get", t, 10 * MS + jitter + client_extra + server_extra);
	span(sa, s, c, 1, "B/Get", t + 1 * MS, 8 * MS + jitter + server_extra);
}

static void
warm(struct spanattr *sa)
{
	for (int i = 0; i < 40; i++)
		call(sa, i, (int64_t)i * 2 * S, 0, 0);
	spanattr_advance(sa, 100 * S, collect, NULL);
}

int
main(void)
{
	struct spanattr *sa = spanattr_new(&cfg);

	/* A delay seen only in the caller's client span is the callee's. */
	warm(sa);
	tap_ok(ngot == 0 && spanattr_stats(sa)->gaps == 40, "a steady gap is learned, no finding");
	call(sa, 100, 200 * S, 300 * MS, 0);
	tap_ok(ngot == 0, "not judged before the span's end + slack");
	spanattr_advance(sa, 202 * S, collect, NULL);
	tap_ok(ngot == 1 && got[0].kind == SPANATTR_GAP && got[0].svc == 1 && got[0].caller == 0,
	       "a grown gap is a finding on the callee, naming the caller");
	tap_ok(ngot == 1 && got[0].value_ms > 299 && got[0].value_ms < 304 && got[0].baseline_ms < 5 &&
	       got[0].sev > 0 && got[0].sev <= 3 && got[0].ts == 200 * S + 310 * MS &&
	       strcmp(got[0].op, "B/Get") == 0 && got[0].trace == 7,
	       "the finding carries the gap, its baseline, the span's end and trace");
	/* The callee's own slowness moves both spans: no gap finding. */
	ngot = 0;
	call(sa, 101, 210 * S, 0, 300 * MS);
	spanattr_flush(sa, collect, NULL);
	tap_ok(ngot == 0, "a slow server span inside a slow client span is no gap");
	spanattr_free(sa);

	/* Self time: a span whose children are its own service's. */
	sa = spanattr_new(&cfg);
	ngot = 0;
	for (int i = 0; i < 41; i++) {
		char p[32], c1[32], c2[32];
		int64_t t = (int64_t)i * 2 * S, slow = i == 40 ? 200 * MS : 0;
		snprintf(p, sizeof p, "p%d", i);
		snprintf(c1, sizeof c1, "a%d", i);
		snprintf(c2, sizeof c2, "b%d", i);
		span(sa, p, NULL, 3, "Recv", t, 20 * MS + slow + (i % 3) * MS / 10);
		span(sa, c1, p, 3, "query", t + 1 * MS, 5 * MS);
		span(sa, c2, p, 3, "query", t + 4 * MS, 5 * MS);   /* overlaps c1 */
	}
	spanattr_flush(sa, collect, NULL);
	tap_ok(ngot == 1 && got[0].kind == SPANATTR_SELF && got[0].svc == 3 && got[0].caller == -1 &&
	       strcmp(got[0].op, "Recv") == 0, "a grown self time is a finding on the service");
	tap_ok(ngot == 1 && got[0].value_ms > 211 && got[0].value_ms < 213,
	       "self time subtracts the union of overlapping children (20 + 200 - 8)");
	spanattr_free(sa);

	/* Skew: the child arrives first and is adopted; the parent's service is
	 * returned to a child that finds it. */
	sa = spanattr_new(&cfg);
	ngot = 0;
	struct spanattr_span child = {5 * S, 5 * S + 8 * MS, 1, "k", "q", "B/Get", 0, NULL};
	struct spanattr_span parent = {5 * S + 1, 5 * S + 10 * MS, 0, "q", NULL, "B/Get", 0, NULL};
	int orphan = 5;
	tap_ok(spanattr_span(sa, &child, collect, NULL, &orphan) == -1 && orphan == -1,
	       "no parent cached: -1");
	spanattr_span(sa, &parent, collect, NULL, &orphan);
	tap_ok(orphan == 1, "the parent that adopts an orphan is told the orphan's service");
	struct spanattr_span child2 = {5 * S + 2, 5 * S + 3, 0, "k2", "q", "x", 0, NULL};
	tap_ok(spanattr_span(sa, &child2, collect, NULL, NULL) == 0, "a cached parent's service is returned");
	spanattr_flush(sa, collect, NULL);
	tap_ok(spanattr_stats(sa)->ambiguous == 1 && spanattr_stats(sa)->gaps == 0,
	       "an orphan is adopted; mixed children are ambiguous, not judged");
	/* A child after its parent was judged is late. */
	struct spanattr_span late = {6 * S, 6 * S + 1, 1, "l", "q", "x", 0, NULL};
	spanattr_span(sa, &late, collect, NULL, NULL);
	tap_ok(spanattr_stats(sa)->late == 1, "a child after its parent's judgement is late");
	spanattr_free(sa);

	/* Bounds: a full heap refuses a span, a full key table a baseline. */
	struct spanattr_cfg small = cfg;
	small.pending = 1;
	small.max_keys = 1;
	sa = spanattr_new(&small);
	span(sa, "x1", NULL, 0, "a", 0, 10 * MS);
	span(sa, "x2", NULL, 0, "b", 1, 10 * MS);
	tap_ok(spanattr_stats(sa)->lost == 1, "a span past the pending bound is lost, counted");
	spanattr_flush(sa, collect, NULL);
	span(sa, "y1", NULL, 0, "a", 10 * S, 10 * MS);
	span(sa, "y2", "y1", 0, "a", 10 * S, 1 * MS);
	spanattr_flush(sa, collect, NULL);
	span(sa, "z1", NULL, 0, "b", 20 * S, 10 * MS);
	span(sa, "z2", "z1", 1, "c", 20 * S, 1 * MS);
	spanattr_flush(sa, collect, NULL);
	tap_ok(spanattr_stats(sa)->selfs == 1 && spanattr_stats(sa)->dropped_keys == 1,
	       "a baseline past max_keys is refused, counted");
	spanattr_free(sa);

	/* Forgetting a service drops its baselines: it warms up again. */
	sa = spanattr_new(&cfg);
	ngot = 0;
	warm(sa);
	unsigned char dead[2] = {0, 1};
	spanattr_forget(sa, dead, 2);
	call(sa, 100, 200 * S, 300 * MS, 0);
	spanattr_flush(sa, collect, NULL);
	tap_ok(ngot == 0, "a forgotten callee's edge starts a new warm-up");
	spanattr_sweep(sa, 300 * S);
	call(sa, 101, 400 * S, 300 * MS, 0);
	spanattr_flush(sa, collect, NULL);
	tap_ok(ngot == 0, "a swept baseline starts a new warm-up");
	spanattr_free(sa);

	/* Holding: a payload comes back when the span is judged, explained
	 * when its children account for its duration. */
	static int tok[4];
	sa = spanattr_new(&cfg);
	warm(sa);
	ngot = 0;
	struct spanattr_span client = {300 * S, 300 * S + 400 * MS, 0, "hc", NULL, "B/Get", 0, &tok[0]};
	struct spanattr_span server = {300 * S + MS, 300 * S + 9 * MS, 1, "hs", "hc", "B/Get", 0, &tok[1]};
	spanattr_span(sa, &client, collect, NULL, NULL);
	spanattr_span(sa, &server, collect, NULL, NULL);
	tap_ok(ngot == 0, "a held payload waits for its span's judgement");
	spanattr_flush(sa, collect, NULL);
	int gap = -1, held_c = -1, held_s = -1;
	for (int i = 0; i < ngot; i++) {
		if (got[i].kind == SPANATTR_GAP)
			gap = i;
		if (got[i].kind == SPANATTR_HELD && got[i].held == &tok[0])
			held_c = got[i].explained;
		if (got[i].kind == SPANATTR_HELD && got[i].held == &tok[1])
			held_s = got[i].explained;
	}
	tap_ok(gap >= 0 && held_c == 1, "a slow client span with a warm gap baseline is explained (the gap is the callee's)");
	tap_ok(held_s == 0, "a leaf's payload comes back unexplained");
	ngot = 0;
	struct spanattr_span noid = {400 * S, 400 * S + MS, 0, NULL, NULL, "x", 0, &tok[2]};
	spanattr_span(sa, &noid, collect, NULL, NULL);
	tap_ok(ngot == 1 && got[0].kind == SPANATTR_HELD && got[0].held == &tok[2] && !got[0].explained,
	       "a span without an id gives its payload back at once, unexplained");
	struct spanattr_span dead1 = {500 * S, 500 * S + MS, 1, "d1", NULL, "x", 0, &tok[3]};
	spanattr_span(sa, &dead1, collect, NULL, NULL);
	unsigned char d1[2] = {0, 1};
	dropped = 0;
	spanattr_forget(sa, d1, 2);
	tap_ok(dropped == 1, "a forgotten service's payload goes to drop");
	struct spanattr_span last = {600 * S, 600 * S + MS, 0, "l1", NULL, "x", 0, &tok[3]};
	spanattr_span(sa, &last, collect, NULL, NULL);
	spanattr_free(sa);
	tap_ok(dropped == 2, "spanattr_free drops what is still held");

	/* A slow span whose own-service child is slow is explained by it; one
	 * whose self time grew is explained by that finding (counted once). */
	sa = spanattr_new(&cfg);
	ngot = 0;
	for (int i = 0; i < 42; i++) {
		char p[32], c[32];
		int64_t t = (int64_t)i * 2 * S, slow = i == 40 ? 300 * MS : 0, own = i == 41 ? 300 * MS : 0;
		snprintf(p, sizeof p, "p%d", i);
		snprintf(c, sizeof c, "c%d", i);
		struct spanattr_span ps = {t, t + 20 * MS + slow + own + (i % 3) * MS / 10, 3, p, NULL, "Recv", 0,
					   i >= 40 ? &tok[i - 40] : NULL};
		struct spanattr_span cs = {t + MS, t + 6 * MS + slow, 3, c, p, "query", 0, NULL};
		spanattr_span(sa, &ps, collect, NULL, NULL);
		spanattr_span(sa, &cs, collect, NULL, NULL);
	}
	spanattr_flush(sa, collect, NULL);
	held_c = held_s = -1;
	for (int i = 0; i < ngot; i++) {
		if (got[i].kind == SPANATTR_HELD && got[i].held == &tok[0])
			held_c = got[i].explained;
		if (got[i].kind == SPANATTR_HELD && got[i].held == &tok[1])
			held_s = got[i].explained;
	}
	int self_found = 0;
	for (int i = 0; i < ngot; i++)
		self_found += got[i].kind == SPANATTR_SELF;
	tap_ok(held_c == 1 && held_s == 1 && self_found == 1,
	       "a slow child explains its parent; a grown self time is the one finding of its span");
	tap_ok(spanattr_stats(sa)->explained == 2, "explained payloads are counted");
	spanattr_free(sa);
	return tap_done();
}
