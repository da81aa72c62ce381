/*
 * mlassess: the per-incident assessments of an aiops run on its MLflow
 * incident traces (lib/mltrace), so that MLflow's evaluation views show
 * the ground truth and the scores next to each answer.
 *
 * For each incident that aiops-metrics matched to a group (a per-incident
 * score record with an incident_id and a non-null group_id), on that
 * group's trace:
 *
 *   - one expectation "ground_truth", source HUMAN with source id the
 *     dataset's sha256: the incident record's root_cause and
 *     expected_actions as a JSON_FORMAT serialized value (an incident
 *     whose record did not come by gets none);
 *   - one feedback per per-incident score (matched, model_ttd_s,
 *     detection_lead_s, rca_rank, remediation_match: whatever
 *     aiops-metrics wrote), source CODE with source id "aiops-metrics":
 *     its value (a boolean for unit "bool").  A score that cannot be
 *     trusted carries an error instead of a value: error_code NO_VALUE
 *     when aiops-metrics gave none (null), STAGE_FAILED when a stage the
 *     score depends on failed for the run or for that group (rca_rank on
 *     the rca stage; remediation_match on rca and remediate), so a failed
 *     call never reads as a score of 0.  The metrics' value, if any, is
 *     then only in the rationale.
 *
 * Every assessment's metadata names aiops.run_id, aiops.incident_id and
 * aiops.group_id.  The API has no idempotency key: the trace's existing
 * assessments are read first (GET /api/3.0/mlflow/traces/ID) and one of
 * the same name and source type is not written again, so a resend adds
 * nothing.  A trace the server does not have (a group whose record never
 * came by) is skipped and counted.
 */
#ifndef AIOPS_MLASSESS_H
#define AIOPS_MLASSESS_H

#include <stddef.h>
#include <json-c/json.h>

#include "mlf.h"
#include "mltrace.h"

struct mlassess_count {
	unsigned long created;     /* assessments written */
	unsigned long kept;        /* already on the trace */
	unsigned long no_trace;    /* incidents without a trace (missed, or none sent) */
};

/*
 * A slim copy of an incident record (kind, id, start_ts, detected_ts,
 * root_cause, expected_actions): what the assessments and the evaluation
 * dataset need.  NULL when inc has no string id.
 */
json_object *mlassess_incident_slim(json_object *inc);

/*
 * Adds to out {REC[key]: REC[val]} for each record of the JSONL file path
 * that has both as strings (a later record wins); a missing file is
 * empty, and so is a NULL path.  Returns 0 or -1 (errno set).
 */
int mlassess_map(const char *path, const char *key, const char *val, json_object *out);

/*
 * Writes the assessments of a run: incidents (an array of incident
 * records, slim or whole), scores (an array of score records), the rca
 * and remediation JSONL files (a group's record with an "error" fails its
 * scores; a missing file is empty; either may be NULL), failed (the names
 * of the stages that failed for the whole run, NULL-terminated, may be
 * NULL).  Returns 0, or -1 with err set (a request that failed for good).
 */
int mlassess_send(struct mlf_client *c, const struct mltrace_run *r, json_object *incidents,
		  json_object *scores, const char *rca_path, const char *rem_path,
		  const char *const *failed, struct mlassess_count *n, char *err, size_t errlen);

#endif
