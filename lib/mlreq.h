/*
 * mlreq: small JSON requests shared by the MLflow registry modules
 * (lib/mlprompt, lib/mlmodel, lib/mldataset): a key/value item, a counted call and the
 * root span of a trace's OTLP request.
 */
#ifndef AIOPS_MLREQ_H
#define AIOPS_MLREQ_H

#include <json-c/json.h>

#include "mlf.h"

/* Appends {"key": k, "value": v} to the array arr (MLflow's tags and params). */
void mlreq_kv(json_object *arr, const char *k, const char *v);

/*
 * Sends body (taken; JSON) with method to path, the parsed answer in *out
 * when out is not NULL (caller puts), and counts the call in *calls when
 * calls is not NULL.
 * Returns mlf_call's 0 or -1 (err set).
 */
int mlreq_send(struct mlf_client *c, const char *method, const char *path, json_object *body,
	       json_object **out, unsigned *calls, char *err, size_t errlen);

/* The root span (the one without a parentSpanId) of an OTLP/JSON request
 * (lib/mltrace), borrowed from req; NULL when there is none. */
json_object *mlreq_root_span(json_object *req);

#endif
