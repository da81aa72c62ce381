/*
 * groupfmt: the text of a `group` record's parts as the prompts show them.
 * Only these parts of a group reach a model: the ranked services, the
 * evidence lists and the call graph.  Every function returns a new string
 * (the caller frees it) and never fails.
 */
#ifndef AIOPS_GROUPFMT_H
#define AIOPS_GROUPFMT_H

#include <json-c/json.h>

/* "1. {service, score, first_ts, anomalies}" per line, or "(none)". */
char *groupfmt_services(json_object *group);
/* "from -> to" per edge of evidence.edges, or "(no calls observed)". */
char *groupfmt_graph(json_object *evidence);
/* Headed lists of evidence.logs, .metrics, .spans and (when the group has
 * it) .alerts, one compact JSON item per line, then "(note: NOTE)" when
 * note is not NULL.  evidence may be NULL. */
char *groupfmt_evidence(json_object *evidence, const char *note);

/*
 * Makes evidence (a copy the caller owns) smaller by one step: the first
 * call drops the log samples, each later call the last item of the longest
 * of logs/metrics/spans/alerts.  Returns 1 when it made a change (and counts an
 * item in *omitted), 0 when nothing is left to drop.
 */
int groupfmt_trim(json_object *evidence, int *samples_dropped, size_t *omitted);
/* The number of items in logs + metrics + spans + alerts. */
size_t groupfmt_items(json_object *evidence);

#endif
