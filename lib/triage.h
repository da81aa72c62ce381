/*
 * triage: aiops-correlate's --llm-triage.  Each detected group record is
 * shown to a model when it closes (the prompt from a template with the
 * variables of triage_vars, the evidence rendered by lib/groupfmt, answers
 * through lib/ask with one repair round against a {incident, title,
 * reason} schema):
 *
 *   - rejected (incident false): written with "detected": false, null
 *     detected_ts and decision_latency_ms, and counted in rejected;
 *   - accepted: gets the model's title (one line, at most 200 bytes);
 *   - no answer (the model failed): the statistical decision stands.
 *
 * Accepted or not answered, the call's latency (the sum of its llm_call
 * records' latency_ms, or the wall time without them) delays detected_ts
 * and decision_latency_ms: the incident is raised once the model has
 * answered or given up.  Each group gets triage {verdict (accepted
 * rejected error), reason, provider, model, latency_ms}.  Groups that were
 * not detected, and foreign records, are written in input order behind the
 * pending ones.  With emit_prompt each detected group is preceded by a
 * `prompt` record and no model is called.
 *
 * Only the group reaches the model; the stage's state is not read here.
 */
#ifndef AIOPS_TRIAGE_H
#define AIOPS_TRIAGE_H

#include <stdint.h>

#include <json-c/json.h>

#include "ask.h"
#include "prompt.h"
#include "stage.h"

/* The bundled template; prompt == triage_default_prompt looks it up with
 * stage_datafile(). */
extern const char triage_default_prompt[];

struct triage {
	/* Options, set before triage_start() (the stage's option table points
	 * at them). */
	int on;                 /* --llm-triage */
	int emit_prompt;        /* write the prompts as records, call no model */
	const char *prompt;     /* template file (triage_default_prompt) */
	long long batch;        /* groups asked together, up to the concurrency */
	const char *record_path, *replay_path;

	/* Counts, for stage_end. */
	uint64_t accepted, rejected, errors;

	/* Private. */
	struct llm *llm;        /* NULL when off */
	struct prompt tmpl;
	int have_tmpl;
	char *found;            /* the bundled template's path */
	json_object *schema;
	struct ask ask;
};

/*
 * Checks the options (usage errors exit) and, when on, opens the provider
 * (and --replay, --record), loads and checks the template and adds the
 * triage options and the provider's to the stage record's params.  Off,
 * it only refuses --emit-prompt, --record and --replay.
 */
void triage_start(struct triage *t, struct stage *st);

/*
 * Writes group record o (owned): at once when triage is off; behind the
 * pending groups when it was not detected; else after the model's answer
 * (or its prompt, with emit_prompt).  det_ts and det_latency_ms are the
 * statistical detection (event time of the detecting anomaly, ns, and the
 * decision latency added to it).
 */
void triage_group(struct triage *t, struct stage *st, json_object *o, int detected,
		  int64_t det_ts, int64_t det_latency_ms);

/* Forwards a foreign record, behind the pending groups when on. */
void triage_forward(struct triage *t, struct stage *st, struct rec *r);

/* When on: asks what is pending and closes --record; 0, or EXIT_FAIL
 * (said on stderr). */
int triage_end(struct triage *t);

/* Adds triage {accepted, rejected, errors} (not with emit_prompt) and the
 * provider's and ask's statistics to a stage_end record. */
void triage_add_end(struct triage *t, json_object *end);

/* --preflight: the model server serves the model (0 when off). */
int triage_preflight(struct triage *t);

void triage_free(struct triage *t);

#endif
