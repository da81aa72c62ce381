/*
 * mlrun: what an aiops run looks like in MLflow, decided from the stream
 * (aiops-mlflow logs it; lib/mlf sends it):
 *
 *   - its name: [LABEL-]PROVIDER[-MODEL]-RUNID8, so that a list of runs
 *     says which config, provider and model ran (LABEL: the driver's name
 *     of the config; PROVIDER "baseline" without one, "command" when the
 *     RCA stage is a command; MODEL provider.default_model);
 *   - its end time: the pipeline's, not the upload's;
 *   - which scores are metrics: the run-wide ones, at step 0.  Per-incident
 *     scores are never metrics (steps would draw a line across unrelated
 *     incidents): they are the evaluation table.  A score's count n is the
 *     metric NAME.n only when asked;
 *   - the tracking URI it was logged to, as a param value: redacted.
 */
#ifndef AIOPS_MLRUN_H
#define AIOPS_MLRUN_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "mlf.h"

/* The run name (malloc'd).  cfg (the run's config, may be NULL), label
 * (may be NULL or empty), run_id (its first 8 characters are used). */
char *mlrun_name(json_object *cfg, const char *label, const char *run_id);

/*
 * The pipeline's end in ms: start_ms plus the longest wall_ms of the
 * stage_end records ends[0..n) (the stages of a pipe start together, the
 * run record's started_at with the first); -1 when start_ms < 0 or no
 * stage_end has a wall_ms.
 */
int64_t mlrun_end_ms(int64_t start_ms, json_object *const *ends, size_t n);

/* Adds the run-wide scores of the array `scores` (score records) as
 * metrics at step 0 with timestamp ts; NAME.n too when counts is set.
 * Scores with an incident_id or a null value are skipped. */
void mlrun_score_metrics(struct mlf_data *d, json_object *scores, int64_t ts, int counts);

/* The incident ids of the per-incident scores (score records with an
 * incident_id) of the array scores, in order of appearance: a new array. */
json_object *mlrun_incidents(json_object *scores);

/*
 * The evaluation table (eval/incidents.json) as a new {columns, data}
 * object, or NULL when ids (mlrun_incidents) is empty: one row per
 * incident in the order of ids, columns incident_id, step (the row's
 * index), every per-incident score name (its value), then the other
 * fields the per-incident scores carry (the first value seen).
 */
json_object *mlrun_table(json_object *scores, json_object *ids);

/* The tracking URI as logged: an http(s) URI with its password replaced
 * (lib/redact), or "file://" and the absolute path of a file store (a
 * relative root is taken from the working directory).  malloc'd. */
char *mlrun_uri(const char *uri_or_root, int server);

#endif
