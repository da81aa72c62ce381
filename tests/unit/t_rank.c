/* Unit tests of lib/rank: the graph method's depth, saturation first, the
 * strength method, cycles and ties. */
#include <math.h>
#include <string.h>

#include "rank.h"
#include "tap.h"

/* A small call graph over ids 0..4: edges[from][to]. */
static int edges[5][5];

static int
callee(int from, int to, void *arg)
{
	(void)arg;
	return edges[from][to];
}

static struct rank_params P = {0.25, 1, 0.25, 60, callee, NULL};

static void
cand(struct rank_cand *c, int id, const char *name, double strength, double sat, int64_t first)
{
	memset(c, 0, sizeof *c);
	c->id = id;
	c->name = name;
	c->strength = c->sym = strength;
	c->sat = sat;
	c->first = first;
}

static const char *
order(const struct rank_cand *c, int n)
{
	static char buf[64];

	buf[0] = 0;
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(buf, ",");
		strcat(buf, c[i].name);
	}
	return buf;
}

int
main(void)
{
	struct rank_cand c[5];

	/* web -> api -> db: db (callee) explains api, api explains web. */
	memset(edges, 0, sizeof edges);
	edges[0][1] = edges[1][2] = 1;
	cand(&c[0], 0, "web", 6, 0, 10);
	cand(&c[1], 1, "api", 7, 0, 5);
	cand(&c[2], 2, "db", 6, 0, 0);
	rank_run(c, 3, RANK_GRAPH, &P);
	tap_is_str(order(c, 3), "db,api,web", "graph: the deepest explaining callee first");
	tap_ok(c[0].depth == 0 && c[1].depth == 1 && c[2].depth == 2, "graph: depths 0, 1, 2");
	tap_ok(c[1].score == 7 * 0.25 && c[2].score == 6 * 0.25 * 0.25, "graph: score = strength * factor^depth");

	/* own: the part of a caller's strength no callee explains keeps its
	 * weight; the rest is discounted as before. */
	cand(&c[0], 0, "web", 6, 0, 10);
	cand(&c[1], 1, "api", 7, 0, 5);
	cand(&c[2], 2, "db", 3, 0, 0);
	c[0].own = 4;
	rank_run(c, 3, RANK_GRAPH, &P);
	tap_is_str(order(c, 3), "web,db,api", "graph: a caller's own evidence is not passed to its callees");
	tap_ok(c[0].score == 4 + 2 * 0.25 * 0.25, "graph: score = own + (strength - own) * factor^depth");
	cand(&c[0], 0, "web", 6, 0, 10);
	cand(&c[1], 1, "api", 7, 0, 5);
	cand(&c[2], 2, "db", 6, 0, 0);
	c[0].own = 60;
	rank_run(c, 3, RANK_GRAPH, &P);
	tap_ok(c[0].score == 6, "graph: own is clamped to the strength");

	/* A callee too weak (below explain_ratio of the caller) explains nothing. */
	cand(&c[0], 1, "api", 40, 0, 5);
	cand(&c[1], 2, "db", 9, 0, 0);
	rank_run(c, 2, RANK_GRAPH, &P);
	tap_is_str(order(c, 2), "api,db", "graph: a weak callee does not explain its caller");

	/* A callee whose trouble started later than onset slack explains nothing. */
	cand(&c[0], 1, "api", 7, 0, 0);
	cand(&c[1], 2, "db", 6, 0, 61);
	rank_run(c, 2, RANK_GRAPH, &P);
	tap_is_str(order(c, 2), "api,db", "graph: a later callee does not explain its caller");

	/* Saturation: api at its limit is never explained and ranks first. */
	cand(&c[0], 1, "api", 3, 1, 5);
	cand(&c[1], 2, "db", 9, 0, 0);
	cand(&c[2], 0, "web", 20, 0, 0);
	rank_run(c, 3, RANK_GRAPH, &P);
	tap_is_str(order(c, 3), "api,web,db", "saturation first, whatever the scores");
	tap_ok(c[0].depth == 0 && c[0].score == 3, "a saturated service is not explained by its callees");
	rank_run(c, 3, RANK_STRENGTH, &P);
	tap_is_str(order(c, 3), "api,web,db", "saturation first under the strength method too");

	/* Strength: the plain sum, ties by first anomaly then name. */
	cand(&c[0], 0, "web", 5, 0, 10);
	cand(&c[1], 1, "api", 5, 0, 5);
	cand(&c[2], 2, "db", 5, 0, 5);
	cand(&c[3], 3, "cache", 8, 0, 20);
	rank_run(c, 4, RANK_STRENGTH, &P);
	tap_is_str(order(c, 4), "cache,api,db,web", "strength: by score, then first anomaly, then name");
	tap_ok(c[0].depth == 0 && c[0].score == 8, "strength: score is the strength");

	/* A cycle a <-> b terminates. */
	memset(edges, 0, sizeof edges);
	edges[3][4] = edges[4][3] = 1;
	cand(&c[0], 3, "a", 5, 0, 0);
	cand(&c[1], 4, "b", 5, 0, 0);
	rank_run(c, 2, RANK_GRAPH, &P);
	tap_ok(c[0].depth <= 2 && c[1].depth <= 2, "graph: a call cycle terminates");

	/* pagerank: web -> api -> db, each as anomalous: the walk ends at db. */
	memset(edges, 0, sizeof edges);
	edges[0][1] = edges[1][2] = 1;
	cand(&c[0], 0, "web", 6, 0, 0);
	cand(&c[1], 1, "api", 6, 0, 0);
	cand(&c[2], 2, "db", 6, 0, 0);
	rank_run(c, 3, RANK_PAGERANK, &P);
	tap_is_str(order(c, 3), "db,api,web", "pagerank: the walk ends at the callee that explains the chain");
	tap_ok(fabs(c[0].score + c[1].score + c[2].score - 18) < 1e-9 && c[0].depth == 0,
	       "pagerank: scores sum to the total strength, depth 0");
	/* A caller far more anomalous than its quiet callee keeps the walk. */
	cand(&c[0], 0, "web", 1, 0, 0);
	cand(&c[1], 1, "api", 9, 0, 0);
	cand(&c[2], 2, "db", 0.5, 0, 0);
	rank_run(c, 3, RANK_PAGERANK, &P);
	tap_is_str(c[0].name, "api", "pagerank: a quiet callee does not take the blame");
	/* No strength at all: every score 0, ties by first anomaly and name. */
	cand(&c[0], 0, "web", 0, 0, 0);
	cand(&c[1], 1, "api", 0, 0, 0);
	rank_run(c, 2, RANK_PAGERANK, &P);
	tap_ok(c[0].score == 0 && c[1].score == 0, "pagerank: no strength, no score");
	/* Saturation still comes first. */
	cand(&c[0], 0, "web", 6, 1, 0);
	cand(&c[1], 1, "api", 6, 0, 0);
	cand(&c[2], 2, "db", 6, 0, 0);
	rank_run(c, 3, RANK_PAGERANK, &P);
	tap_is_str(c[0].name, "web", "pagerank: a saturated candidate first");

	/* votes: two signal types beat one, whatever the strength; then strength. */
	cand(&c[0], 0, "web", 9, 0, 0);
	cand(&c[1], 1, "api", 2, 0, 5);
	cand(&c[2], 2, "db", 3, 0, 5);
	c[0].types = 1u << 1;
	c[1].types = c[2].types = (1u << 0) | (1u << 2);
	rank_run(c, 3, RANK_VOTES, &P);
	tap_is_str(order(c, 3), "db,api,web", "votes: more signal types first, then strength");
	tap_ok(c[0].score > 2 && c[0].score < 3 && c[2].score > 1 && c[2].score < 2, "votes: score = votes + a share below 1");
	/* magnitude: the farthest deviation first, however little evidence. */
	cand(&c[0], 0, "web", 9, 0, 0);
	cand(&c[1], 1, "api", 2, 0, 5);
	cand(&c[2], 2, "db", 3, 0, 5);
	c[0].zmax = 4.5;
	c[1].zmax = 40;
	c[2].zmax = 4.2;
	rank_run(c, 3, RANK_MAGNITUDE, &P);
	tap_is_str(order(c, 3), "api,web,db", "magnitude: the largest |z| first, strength within the same whole |z|");

	tap_ok(rank_method_parse("graph") == RANK_GRAPH && rank_method_parse("strength") == RANK_STRENGTH &&
	       rank_method_parse("pagerank") == RANK_PAGERANK && rank_method_parse("votes") == RANK_VOTES &&
	       rank_method_parse("magnitude") == RANK_MAGNITUDE && rank_method_parse("pagerunk") == -1 &&
	       rank_method_parse(NULL) == -1, "method names");
	tap_is_str(rank_method_name(RANK_STRENGTH), "strength", "method name");
	rank_run(c, 0, RANK_GRAPH, &P);
	return tap_done();
}
