/*
 * cfgkeys: the keys of a config that are not a stage's options: the top
 * level (experiment, provider, pipeline, dataset, mlflow, eval,
 * max_failure_share), pipeline's five sections, experiment, and provider
 * with its params (the top-level one and a stage section's override).  A
 * stage section's own keys are its options (lib/stage checks them); the
 * contents of experiment.tags, eval and the dataset's per-file objects are
 * free-form and not checked.
 */
#ifndef AIOPS_CFGKEYS_H
#define AIOPS_CFGKEYS_H

#include <json-c/json.h>

/* Calls fn(ctx, "providr") for every key of root that no part of aiops
 * reads, as a dotted path, in the config's order. */
void cfgkeys_unknown(json_object *root, void (*fn)(void *ctx, const char *dotted), void *ctx);

#endif
