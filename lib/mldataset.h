/*
 * mldataset: a run's dataset in MLflow, as an evaluation dataset linked to
 * the experiment and as the run's input.
 *
 *   - The evaluation dataset "aiops-incidents-SHA12" (SHA12: the first 12
 *     hex digits of the dataset's sha256; tags aiops.dataset.sha256 and
 *     aiops.dataset.path), found by name or created, and linked to the
 *     experiment.  One record per incident record: inputs {incident_id,
 *     evidence_sha256} (the evidence digest of the group aiops-metrics
 *     matched to it, left out when it was missed), expectations
 *     {root_cause, expected_actions} (those the incident has), source
 *     HUMAN with source_data {dataset_sha256}.  MLflow upserts records by
 *     their inputs, so a resend or another run of the same correlation
 *     adds none; another correlation of the same incident (other
 *     evidence) is another record.
 *   - The run's input (runs/log-inputs, input tag mlflow.data.context
 *     "evaluation"): name the evaluation dataset's, digest the first 32
 *     hex digits of the dataset's sha256, source type
 *     "mlflow_evaluation_dataset" with source {"dataset_id": ID}; without
 *     incident records, no evaluation dataset and source type "local"
 *     with source {"uri": the dataset path}.  MLflow keeps one input per
 *     name and digest, so a resend adds none.
 *
 * A run record without a dataset sha256 logs neither.
 */
#ifndef AIOPS_MLDATASET_H
#define AIOPS_MLDATASET_H

#include <stddef.h>
#include <json-c/json.h>

#include "mlf.h"

#define MLDATASET_CHUNK 200    /* records per upsert call */

/* Adds to slim (a group cut to what is logged) "evidence_sha256", the
 * SHA-256 of the group's "evidence" as compact JSON, when it has one, or
 * the group's own evidence_sha256 (a spooled group, already cut). */
void mldataset_evidence(json_object *group, json_object *slim);

/*
 * Logs the evaluation dataset and the run's input: dataset (the run
 * record's "dataset" object, may be NULL), incidents (incident records,
 * slim or whole), scores (score records: the incidents' group_id),
 * groups_path (the JSONL file of slim group records with their
 * evidence_sha256; missing: no digests).  Stores the number of records
 * sent in *nrec.  Returns 0, or -1 with err set.
 */
int mldataset_send(struct mlf_client *c, const char *exp_id, const char *run_id,
		   json_object *dataset, json_object *incidents, json_object *scores,
		   const char *groups_path, unsigned long *nrec, char *err, size_t errlen);

#endif
