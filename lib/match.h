/*
 * match: the one definition of which detected group matches which labelled
 * incident, used by aiops-metrics and aiops-eval.
 *
 * A group matches an incident when their spans overlap within a tolerance:
 * group.start <= incident.end + tol and group.end >= incident.start - tol,
 * where a group's end is max(end, start) and an incident's end is its
 * resolved time, at least its start.  An incident with no resolved time
 * (match_close_open) ends 2 tol before the next labelled incident starts,
 * so that with the tolerance a group starting less than tol before the next
 * incident (the tolerance it has for an early detection) or after it is
 * never the earlier one's; or at the end of the data when none starts
 * later.  In a stream of injected faults with no recovery times a
 * fault is over when the next one is injected, and an open end would let
 * it take the groups of every later fault.  Incidents are taken in order of start time (then input order);
 * each takes the best group that overlaps it and no earlier incident took,
 * so a group matches at most one incident and an incident at most one
 * group.  Best: a group that lists the incident's root-cause service among
 * its services, then the longer plain overlap, then the earlier detection,
 * then the smaller id (strcmp).
 *
 * Nothing here allocates beyond one index array, prints or exits, except
 * that match_run() exits like emalloc() on out-of-memory.
 */
#ifndef AIOPS_MATCH_H
#define AIOPS_MATCH_H

#include <stddef.h>
#include <stdint.h>

struct match_inc {
	int64_t start, end;          /* ns; end already resolved (>= start) */
	const char *service;         /* root-cause service, or NULL */
	size_t seq;                  /* input order, breaks ties in start */
	/* Set by match_run(): */
	long group;                  /* index of the matched group, or -1 */
	size_t overlapping;          /* groups overlapping it (tolerance included) */
};

struct match_grp {
	int64_t start, detected, end; /* ns; end may be < start (taken as start) */
	const char *id;              /* never NULL */
	char *const *services;       /* ranked services */
	size_t nservices;
	/* Set by match_run(): */
	int taken;
	size_t incidents;            /* incidents it overlaps (tolerance included) */
};

/* An incident end that is not known yet (match_close_open fills it in). */
#define MATCH_OPEN INT64_MIN

/*
 * Gives every incident whose end is MATCH_OPEN the end described above:
 * the earliest start of an incident that starts strictly later, less
 * 2 tol_ns; else data_end (when that is MATCH_OPEN too, its own start); never
 * before its own start.
 */
void match_close_open(struct match_inc *in, size_t ni, int64_t data_end, int64_t tol_ns);

/*
 * Matches groups g[0..ng) to incidents in[0..ni) with tolerance tol_ns as
 * described above; fills in[i].group, in[i].overlapping, g[j].taken
 * (all reset first) and g[j].incidents.
 */
void match_run(struct match_inc *in, size_t ni, struct match_grp *g, size_t ng, int64_t tol_ns);

/*
 * Remediation match: -1 when the incident has no expected actions (nexp
 * 0), 1 when one of the actions proposed for its matched group is among
 * them, else 0 (no group or no remediation: actions NULL, n 0).
 */
int match_actions(char *const *actions, size_t n, char *const *expected, size_t nexp);

#endif
