/*
 * evagg: the summary rows of aiops-eval score, one per slice and arm over
 * the cases of lib/evcase.  Slices: all, then each system (when there is
 * more than one), then each fault type ("-": none), in order of first
 * appearance, then for each system whose cases include some with spans
 * from their incident's start on and some without (lib/evcase's traces),
 * one slice of each ("traces=yes", "traces=no", with "system=S," before
 * them when there are several systems); arms in the order of cs->arms.
 *
 * A row: cases and failed cases (the pipeline or the rca failed); the
 * means of recall, false alarms per control, AC@1/3/5, Avg@5 and the
 * remediation match, each with its n and a 95% percentile bootstrap
 * interval (lib/stats, cs->boot_n resamples from cs->seed); false alarms
 * per control hour; MTTD and model TTD p50/p90 (nearest rank); LLM calls,
 * failures, tokens, cost (sums) and seconds per case (mean); against the
 * first arm of the slice the AC@1 lift and McNemar's exact test on the
 * AC@1 pairs (not for ref:random, an expected value).  Reference rows have
 * only the AC metrics.  Detection, control and cost metrics count the
 * cases that did not fail; the AC metrics also leave out a failed rca.
 *
 * Nothing here prints; allocation failure exits like emalloc().
 */
#ifndef AIOPS_EVAGG_H
#define AIOPS_EVAGG_H

#include <stddef.h>

#include "evcase.h"

/* The metrics with a bootstrap interval. */
enum { EVM_RECALL, EVM_FA, EVM_AC1, EVM_AC3, EVM_AC5, EVM_AVG5, EVM_REM, EVM_N };

struct evrow {
	const char *arm;                /* borrowed from cs->arms */
	const char *slice;              /* "all", "system=S", "fault=F", "[system=S,]traces=yes|no"; owned */
	int is_ref;
	size_t n, failed, nctl;
	double v[EVM_N], lo[EVM_N], hi[EVM_N];  /* mean, interval; NAN: no value */
	size_t vn[EVM_N];
	double fa_hour, mttd50, mttd90, ttd50, ttd90, calls, llm_fail, sec;
	double tokens, cost;            /* sums; NAN when one is unknown */
	double lift;                    /* AC@1 minus the first arm's, NAN for the first */
	double p;                       /* McNemar's exact p on AC@1 pairs, NAN: none */
	unsigned long b, c;             /* its discordant pairs: only this arm, only the first */
};

/* The rows of cs (see above) in a new array of *nrows; free with evagg_free. */
struct evrow *evagg_rows(const struct evcases *cs, size_t *nrows);

/* Frees rows[0..n) and the array. */
void evagg_free(struct evrow *rows, size_t n);

#endif
