/*
 * rank_pr: the personalised-PageRank ranking arm (MicroRCA's idea), used by
 * lib/rank for `rank_method: pagerank`.
 *
 * A random walk over the group's services that starts from a service in
 * proportion to its strength and moves along the calls of the group:
 *
 *   - from a caller to each callee that the rank_params' is_callee() allows,
 *     in proportion to the callee's sym (the caller's anomalies are explained
 *     by where its calls went wrong);
 *   - back from a callee to its callers with BACK (0.2) of that weight, so a
 *     quiet leaf callee does not trap the walk (MonitorRank's backward edge);
 *   - staying put in proportion to how much more anomalous the service is
 *     than its most anomalous callee (its own share: max(0, sym - max callee
 *     sym)), so a culprit whose callees are normal keeps the walk;
 *   - with probability 1 - DAMP (DAMP 0.85) it restarts from the start
 *     distribution (strength / total strength); a service with no way out
 *     restarts too.
 *
 * score = the walk's stationary share times the group's total strength, so
 * scores stay on the scale of the other methods; depth is 0.  Power
 * iteration, at most 200 rounds or until the L1 change is below 1e-12: the
 * result is deterministic for a given input order.  Candidates with no
 * strength at all get score 0.  Nothing printed; scratch arrays of n*n
 * doubles (exits like emalloc() on out-of-memory).
 */
#ifndef AIOPS_RANK_PR_H
#define AIOPS_RANK_PR_H

#include "rank.h"

/* Sets c[i].score and c[i].depth (0) for i in [0, n); does not sort. */
void rank_pagerank(struct rank_cand *c, int n, const struct rank_params *p);

#endif
