/*
 * catalog: the action catalog (examples/actions.yaml), the typed list of
 * remediation actions a model may propose and an executor may run, and the
 * fault -> runbook table of the baseline provider.
 *
 *   version: 1
 *   actions:
 *     NAME:                         [a-z][a-z0-9_]*
 *       description: TEXT           required
 *       target: KIND                service | deployment | database | cache | host
 *       risk: low | medium | high   required
 *       params:
 *         PARAM:                    [a-z][a-z0-9_]*
 *           type: enum | regex | integer
 *           values: [..]            enum: the allowed strings
 *           pattern: ERE            regex: must match the whole value
 *           min: N, max: N          integer: inclusive bounds (optional)
 *           required: BOOL          default false
 *           default: VALUE          used when the param is left out
 *           description: TEXT
 *   runbook:
 *     FAULT: [{action: NAME, params: {..}}, ...]
 *
 * A catalog is checked whole when loaded: a bad entry is a load error.
 */
#ifndef AIOPS_CATALOG_H
#define AIOPS_CATALOG_H

#include <stddef.h>
#include <json-c/json.h>

struct catalog;   /* opaque */

/*
 * Loads and checks the catalog at path (YAML or JSON).  Returns NULL with
 * "PATH: where: reason" in err (e.g. "actions.yaml: actions.restart.risk:
 * expected low, medium or high").  Free with catalog_free().
 */
struct catalog *catalog_load(const char *path, char *err, size_t errlen);
void catalog_free(struct catalog *c);
/* The built-in catalog: the text of examples/actions.yaml compiled in (used
 * when no catalog file is configured).  Same contract as catalog_load(). */
struct catalog *catalog_builtin(char *err, size_t errlen);
/* That text. */
extern const char catalog_default_yaml[];

/* SHA-256 of the file's bytes (for the stage record's params). */
const char *catalog_sha256(const struct catalog *c);
/* Number of actions, and the i-th action's name (in file order). */
size_t catalog_count(const struct catalog *c);
const char *catalog_name(const struct catalog *c, size_t i);
/* The number of the action's params, and the i-th one's name (file
 * order); 0 and NULL for an unknown action or index. */
size_t catalog_nparams(const struct catalog *c, const char *action);
const char *catalog_param(const struct catalog *c, const char *action, size_t i);
/* 1 when the catalog has an action of that name. */
int catalog_has(const struct catalog *c, const char *action);
/* The action's risk ("low"...), target kind and description; NULL when the
 * action is unknown. */
const char *catalog_risk(const struct catalog *c, const char *action);
const char *catalog_target(const struct catalog *c, const char *action);
const char *catalog_description(const struct catalog *c, const char *action);

/*
 * Checks one proposed step.  params may be NULL (no params); members whose
 * value is null count as left out.  On success returns 0 and sets *out to a
 * new object (the caller owns it) with the params in catalog order, the
 * defaults filled in.  On failure returns -1 with the reason in why:
 * "unknown action 'reboot'", "param 'replicas': 50 is above the maximum
 * 20", "param 'mode': 'fast' is not one of rolling, all", "missing
 * required param 'rate_per_s'", "unknown param 'force' for action
 * 'restart'", "bad target '..'" (targets are names matching
 * [A-Za-z0-9][A-Za-z0-9._:/-]{0,127}).
 */
int catalog_check_step(const struct catalog *c, const char *action, const char *target,
		       json_object *params, json_object **out, char *why, size_t whylen);

/* The runbook steps for a fault (borrowed array of {action, params}), or
 * NULL when the catalog has none. */
json_object *catalog_runbook(const struct catalog *c, const char *fault);

/*
 * A text listing of the actions for a prompt, one block per action:
 * "- restart (target: service, risk: medium): Restart ...\n    params:
 * mode: one of rolling|all (default rolling) - ...".  The caller frees it.
 */
char *catalog_prompt_text(const struct catalog *c);

/*
 * The JSON schema of one remediation step, derived from the catalog:
 * {"anyOf": [...]} with one branch per action, each {action (that action's
 * name), target, params (exactly its own parameters: enums with their
 * values, integers with their bounds, every member listed and nullable
 * when optional, nothing else), rationale}, every member required and no
 * others (OpenAI strict mode's rules).  A grammar-constrained server
 * (llama.cpp) then cannot write a parameter an action does not have.
 * Regex patterns are not in it (they are checked after the answer).  A new
 * object; the caller owns it.
 */
json_object *catalog_step_schema(const struct catalog *c);

#endif
