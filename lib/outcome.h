/*
 * outcome: what one finished pipeline run's final stream holds, for
 * aiops-eval score: its labelled incidents and detected groups (in the
 * form lib/match takes), the first rca and the first remediation of each
 * group, and the LLM counters.
 *
 *   incident     kept with an id and a start_ts: id, root-cause fault and
 *                service, detected_ts, expected_actions; end: resolved_ts
 *                or TS_NONE (the caller closes it, match_close_open)
 *   group        kept when detected (a missing flag counts as detected),
 *                with an id, start_ts and detected_ts; end: end_ts, else
 *                the later of detected and start; services: the strings
 *                or the "service" members of "services"
 *   rca          the first of each group_id: its first OUTCOME_TOPK
 *                candidates' services, joined with ',' ("?" for none), and
 *                whether it has an error (a member "error" neither null
 *                nor "")
 *   remediation  the first of each group_id: the "action" of its steps
 *   llm_call     counted (a failure: an error as for rca); tokens_in +
 *                tokens_out summed, and priced from the --prices table
 *                {MODEL: {input_per_1k, output_per_1k}}: NAN from a call
 *                without both counts, or of a model the table lacks
 *   stage_end    llm.calls, llm.failures (else failures) summed
 *
 * dmax is the latest time of the incidents and groups kept.  Lines that
 * are too long, not JSON or of another kind are skipped.  Nothing here
 * prints; allocation failure exits like emalloc().
 */
#ifndef AIOPS_OUTCOME_H
#define AIOPS_OUTCOME_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "match.h"

#define OUTCOME_TOPK 5                  /* candidates kept of an rca */

struct outcome {
	struct match_inc *mi;
	char **iid, **ifault, **isvc;
	char ***iexp;                   /* expected_actions of each incident */
	size_t *nexp;
	int64_t *idet;
	size_t ni;
	struct match_grp *mg;
	size_t ng;
	char **rgid;                    /* first rca of each group: group id */
	char **rtop;                    /* its top five, joined */
	char ***rsvc;                   /* its candidate services */
	size_t *rn;
	int *rerr;
	size_t nr;
	char **mgid, ***mact;           /* first remediation of each group: id, actions */
	size_t *mn, nm;
	double calls_rec, fail_rec, calls_end, fail_end;
	double tokens, cost;            /* over llm_call records; NAN: a call without */
	int64_t dmax;
};

/*
 * Reads the stream at path into s (its old contents are not freed), with
 * prices the price table (borrowed; NULL: none, the cost is NAN).
 * Returns 0, or -1 when path cannot be opened (s empty) or a read error
 * stopped it (s holds what came before).  outcome_free() frees s in
 * every case.
 */
int outcome_read(struct outcome *s, const char *path, json_object *prices);

/* Frees everything s holds and empties it. */
void outcome_free(struct outcome *s);

/* The index of the first rca of group gid in s, or -1. */
long outcome_rca(const struct outcome *s, const char *gid);

#endif
