/*
 * mlprompt: a run's prompt templates in MLflow's prompt registry.
 *
 * MLflow 3 keeps a prompt as a registered model tagged
 * mlflow.prompt.is_prompt=true and each version as a model version whose
 * tags hold the template (mlflow.prompt.text, _mlflow_prompt_type): what
 * mlflow.genai.register_prompt() writes (mlflow/store/model_registry/
 * abstract_store.py).  Each stage that rendered a template (its stage
 * record's params: prompt and prompt_sha256, or triage_prompt and
 * triage_prompt_sha256) gets a prompt named aiops-STAGE (aiops-triage for
 * the correlate stage's triage); a version is made only for a template
 * hash the prompt has no version of yet (tag aiops.template_sha256,
 * looked up before creating).  A template is read back from its path and
 * registered only when its SHA-256 is still the one the stage used.
 *
 * Links: the run's tag mlflow.linkedPrompts (JSON [{name, version}], as
 * MLflow's client writes it), each trace whose model calls used a prompt
 * through POST traces/link-prompts and the same tag on the trace (a root
 * span attribute mlflow.traceTag.mlflow.linkedPrompts, which the server
 * turns into the trace tag); the prompt is listed in the experiment's
 * Prompts tab through its _mlflow_experiment_ids tag.
 *
 * Library rules as lib/mlf: nothing prints or exits; -1 with err set.
 */
#ifndef AIOPS_MLPROMPT_H
#define AIOPS_MLPROMPT_H

#include <stddef.h>
#include <json-c/json.h>

#include "mlf.h"

#define MLPROMPT_MAX 8          /* templates of one run */

struct mlprompt {
	char stage[64];         /* the stage that used it (llm_call.stage) */
	char name[80];          /* aiops-rca, aiops-remediate, aiops-triage */
	char *path;             /* the template file */
	char sha256[65];        /* as the stage used it */
	char version[24];       /* registered version, "" when not registered */
	char *text;             /* the file's bytes once read, or NULL */
	size_t len;
	char why[256];          /* not registered: why */
};

struct mlprompt_set {
	struct mlprompt p[MLPROMPT_MAX];
	size_t n;
};

void mlprompt_init(struct mlprompt_set *s);
void mlprompt_free(struct mlprompt_set *s);

/* Adds the template(s) of one stage record's params (stage is its name)
 * and reads each file, as the record passes (the template most likely as
 * the stage read it); a file that cannot be read or whose SHA-256 is not
 * the stage's keeps text NULL and says why.  A null prompt_sha256 (a
 * stage that rendered none: the baseline) adds nothing. */
void mlprompt_collect(struct mlprompt_set *s, const char *stage, json_object *params);

/*
 * Registers each template that was read (prompt and version as needed)
 * and lists the prompt in experiment exp_id.  A failed request is -1 with
 * err set.  Adds the number of REST calls made to *calls.
 */
int mlprompt_register(struct mlprompt_set *s, struct mlf_client *c, const char *exp_id,
		      unsigned *calls, char *err, size_t errlen);

/* [{"name","version"}] (a new array) of the registered prompts: all of
 * them (recs NULL), or those of the stages of the llm_call records among
 * recs[0..n).  NULL when there are none. */
json_object *mlprompt_linked(const struct mlprompt_set *s, json_object *const *recs, size_t n);

/* Adds the root span attribute mlflow.traceTag.mlflow.linkedPrompts
 * (linked as JSON) to an OTLP request (lib/mltrace). */
void mlprompt_tag_trace(json_object *req, json_object *linked);

/* POST /api/2.0/mlflow/traces/link-prompts for one trace.  0 or -1. */
int mlprompt_link_trace(struct mlf_client *c, const char *trace_id, json_object *linked,
			char *err, size_t errlen);

/* A one-line summary for the run's aiops.prompts tag: "aiops-rca/1
 * (sha256 0123456789ab), ..." or "none: ..." (caller frees). */
char *mlprompt_summary(const struct mlprompt_set *s);

#endif
