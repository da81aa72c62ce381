/*
 * mltrace: an aiops run's MLflow traces, sent as OTLP/JSON to a tracking
 * server's /v1/traces and linked to the run (MLflow reads the mlflow.*
 * span attributes: span type, inputs, outputs, token usage).
 *
 *   - One trace per incident group: a root span "incident GROUP_ID"
 *     (attributes: group id, the dataset's sha256, the group's detection
 *     times and its services), one child per stage that touched the
 *     group: "correlate" (the group record), "rca" (an rca record),
 *     "remediate" (a remediation), "exec STEP" (each execution), and each
 *     llm_call of the group a CHAT_MODEL child of its stage's span (its
 *     `stage`; a stage with calls but no record of its own still gets a
 *     span).  Inputs and outputs are bounded summaries (strings cut at
 *     MLTRACE_MAX_STR bytes, arrays at MLTRACE_MAX_ITEMS items), never
 *     whole evidence arrays; an llm span carries its messages and answer
 *     as they were logged.
 *   - An llm_call whose group never came by (or without group_id): a
 *     single-span trace of its own, as before groups were traced.
 *
 * Times are the pipeline's clock: an llm span from its started_at for
 * latency_ms; an rca or remediate span the latency_ms before its
 * decided_at; an exec span from started_at to ended_at, else at its
 * decided_at; a stage span also covers its calls, the root all its
 * children.  The correlate span ends when the next stage took the group,
 * its decision_latency_ms before that, or from the group's start_ts when
 * that lies within the run (a live stream); the event-time window of a
 * replayed dataset lies in the past and is only in the attributes.  A
 * span with no time at all starts at the run's start.
 *
 * Status: an llm span is ERROR when its call failed (`error`) or its
 * answer was rejected (`rejected`); a stage span when its record carries
 * an `error` or an execution's decision is "failed"; the root when one
 * of its stage spans is.  Everything else is OK.
 *
 * Trace ids are derived from the MLflow run id and the group id (an
 * ungrouped call: its position among the calls and its request hash), so
 * a resend to the same run makes the same ids and skips the traces that
 * exist.
 *
 * Nothing here does I/O; lib/mltlog sends the traces.
 */
#ifndef AIOPS_MLTRACE_H
#define AIOPS_MLTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define MLTRACE_MAX_STR 500     /* bytes of one string in span inputs/outputs */
#define MLTRACE_MAX_ITEMS 10    /* items of one array in span inputs/outputs */

struct mlprompt_set;

struct mltrace_run {
	const char *run_id;     /* the aiops run id (attribute aiops.run_id) */
	const char *mlflow_run; /* the MLflow run id: seeds the trace ids */
	const char *dataset;    /* the dataset's sha256, or NULL */
	int64_t start_ms;       /* the run's start: where an untimed span starts */
	const struct mlprompt_set *prompts; /* registered templates (lib/mlprompt), or NULL:
					     * linked to the traces whose calls used them */
	const char *model_id;   /* the run's LoggedModel (lib/mlmodel), or NULL */
};

/*
 * The few fields of a group record a trace needs (kind, id, detected,
 * start_ts, detected_ts, end_ts, decision_latency_ms, method, score,
 * signal_count, anomaly_count, and services as {service, score}, at most
 * MLTRACE_MAX_ITEMS), as a new object; NULL when group has no string id.
 */
json_object *mltrace_group_slim(json_object *group);

/*
 * The OTLP request (a new object) for the trace of group (a group record,
 * slim or whole) and recs[0..n), its rca, remediation, execution and
 * llm_call records in stream order (records of other kinds are ignored).
 * Writes the MLflow trace id ("tr-" and 32 hex digits) into trace_id.
 */
json_object *mltrace_group(const struct mltrace_run *r, json_object *group,
			   json_object *const *recs, size_t n, char trace_id[40]);

/* The MLflow trace id of group_id's trace (what mltrace_group writes). */
void mltrace_group_trace_id(const struct mltrace_run *r, const char *group_id, char trace_id[40]);

/*
 * The OTLP request (a new object) for one llm_call as a single-span trace;
 * idx is its position among the run's llm_call records.
 */
json_object *mltrace_call(const struct mltrace_run *r, json_object *call, unsigned long idx,
			  char trace_id[40]);

#endif
