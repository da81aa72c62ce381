/*
 * rank: orders the services of a group as root-cause candidates.
 *
 * aiops-correlate fills one rank_cand per service of a group when the group
 * is emitted and calls rank_run() with the method chosen by its
 * `rank_method` option; the first candidate after the call is the ranking's
 * answer.  A method only sets depth and score; the order is the same for all
 * (rank_run sorts):
 *
 *   1. a candidate with saturation evidence (sat > 0: a metric with a
 *      declared limit reached it while anomalous during the group) before any
 *      without: a resource at its limit is a cause in its own right, whatever
 *      its callers and callees show;
 *   2. then the higher score; 3. the earlier first anomaly; 4. the name.
 *
 * Methods:
 *
 *   graph      (the rule of aiops-correlate since its first version)
 *              score = own + (strength - own) * caller_factor ^ depth, where
 *              own (clamped to [0, strength]) is evidence of the candidate's
 *              own doing (aiops-correlate: its self times), which no callee
 *              explains, and depth is the longest chain of callees below the candidate that explain it: a
 *              callee explains its caller when its sym >= min_strength and
 *              >= explain_ratio * the caller's sym, and its first anomaly
 *              came at most onset_slack after the caller's.  A saturated
 *              candidate is never explained (depth 0): its callees'
 *              slowness is its own doing more often than the reverse.
 *   strength   score = strength (no call graph): the plain sum of the
 *              capped severities, a reference for what the graph adds.
 *   votes      one vote per signal type (log, metric, span) a candidate is
 *              anomalous in (SimpleRCA's idea of each modality's detector
 *              voting), strength breaking ties: score = votes + strength /
 *              (1 + the group's largest strength), so more votes always
 *              rank first.
 *   magnitude  the largest deviation (|z|) of any of its metric or span
 *              anomalies, strength breaking ties as for votes (BARO's idea
 *              of robust per-metric scoring: how far, not how many).
 *   pagerank   a personalised PageRank over the group's calls (MicroRCA's
 *              idea; lib/rank_pr, whose header has the walk): the share of
 *              a walk that starts at anomalous services and follows calls to
 *              the anomalous callees that explain them.
 *
 * Nothing here allocates beyond scratch arrays of n entries, prints or
 * exits, except that rank_run() exits like emalloc() on out-of-memory.
 */
#ifndef AIOPS_RANK_H
#define AIOPS_RANK_H

#include <stdint.h>

struct rank_cand {
	int id;              /* the caller's service index */
	const char *name;    /* breaks the last tie (strcmp) */
	double strength;     /* sum of its capped signal severities */
	double sym;          /* the same without metric drops */
	double sat;          /* saturation evidence, 0 when none */
	double own;          /* the part of strength its callees cannot explain */
	int64_t first;       /* its first anomaly (ns) */
	uint32_t n;          /* its anomalies */
	unsigned types;      /* the signal types they came in, a bit each */
	double zmax;         /* the largest |z| of its metric and span anomalies */
	/* Set by rank_run(): */
	int depth;
	double score;
};

enum rank_method { RANK_GRAPH, RANK_STRENGTH, RANK_PAGERANK, RANK_VOTES, RANK_MAGNITUDE };

struct rank_params {
	double caller_factor, min_strength, explain_ratio;
	int64_t onset_slack_ns;
	/* from -> to is a call the graph may follow (caller to callee): the
	 * caller decides which known calls are evidence enough. */
	int (*is_callee)(int from, int to, void *arg);
	void *arg;
};

/* The method named s ("graph", "strength", "pagerank", "votes", "magnitude"), or -1. */
int rank_method_parse(const char *s);
const char *rank_method_name(int m);

/* Scores c[0..n) by method m and sorts them best first. */
void rank_run(struct rank_cand *c, int n, int m, const struct rank_params *p);

#endif
