/*
 * mlmodel: an MLflow 3 LoggedModel per provider/model/prompt configuration,
 * so that the experiment's Models view lines up the models compared.
 *
 * The configuration is, for each stage that called a provider (a stage
 * record's params with a `provider` object: rca, remediate, and correlate
 * with LLM triage), the provider's type, model and sampling (temperature,
 * max_tokens, seed, num_ctx, structured output mode, a replay's provider)
 * and the SHA-256 of the prompt template the stage rendered ("none" for the
 * baseline).  Endpoints, timeouts and concurrency are not part of it: the
 * same model behind another URL is the same model.  Its SHA-256 is the
 * model's tag aiops.model_config_sha256: a run reuses the experiment's
 * model with that tag (logged-models/search) and makes one only when none
 * exists (its source run is that run).  Every run is linked to its model
 * as an input (runs/log-inputs), and its run-wide metrics are logged again
 * with the model's id so they show as the model's metrics; each trace of
 * the run carries the model's id (mlmodel_link_trace).
 *
 * Library rules as lib/mlf: nothing prints or exits; -1 with err set.
 */
#ifndef AIOPS_MLMODEL_H
#define AIOPS_MLMODEL_H

#include <stddef.h>
#include <json-c/json.h>

#include "mlf.h"
#include "mlprompt.h"

struct mlmodel {
	char id[64];            /* the LoggedModel's id once logged */
	char name[128];
	char sha256[65];        /* of the configuration */
	int reused;             /* found in the experiment, not made */
	json_object *params;    /* {key: string value}, owned */
};

/*
 * The configuration of the stages' params (an object: stage name → its
 * stage record's params) and the prompts' registered versions.  Returns 1,
 * or 0 when no stage called a provider (a benchmark's parent): then there
 * is no model.  Free with mlmodel_free either way.
 */
int mlmodel_config(struct mlmodel *m, json_object *stage_params, const struct mlprompt_set *ps);
void mlmodel_free(struct mlmodel *m);

/*
 * Finds or creates the model in experiment exp_id (tags: the
 * configuration's hash, mlflow.linkedPrompts when linked is not NULL), links
 * run_id to it and logs d's metrics with its id.  With resend set (the run
 * may have been linked by an earlier attempt) the run's inputs are read
 * first, so that the link is not made twice.  Adds the number of REST calls
 * to *calls.  Returns 0 or -1.
 */
int mlmodel_log(struct mlmodel *m, struct mlf_client *c, const char *exp_id, const char *run_id,
		const struct mlf_data *d, json_object *linked, int resend, unsigned *calls,
		char *err, size_t errlen);

/*
 * Links a trace the server has (req: the OTLP request that made it, lib/
 * mltrace) to model_id: POST /api/3.0/mlflow/traces with the trace's own
 * start, duration and state and the metadata mlflow.modelId, which the
 * server merges into the trace (what the Models view's traces read);
 * nothing else of the trace changes.  Returns 0 or -1.
 */
int mlmodel_link_trace(struct mlf_client *c, const char *exp_id, json_object *req,
		       const char *trace_id, const char *model_id, char *err, size_t errlen);

#endif
