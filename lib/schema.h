/*
 * schema: validates a JSON value against the small subset of JSON Schema
 * that the stages ask models for.  Keywords understood:
 *
 *   type                  a name or an array of names: object, array,
 *                         string, number, integer (a number with no
 *                         fractional part), boolean, null
 *   properties, required, additionalProperties (false, true or a schema)
 *   items                 one schema for every element
 *   minItems, maxItems, minLength, maxLength (bytes), minimum, maximum
 *   enum                  the value must equal one of these (deep compare)
 *   anyOf                 a list of schemas, one of which must hold (the
 *                         failure reported is the one that got deepest)
 *
 * Every other keyword (description, title, $schema, ...) is ignored.  The
 * same object is what the stages send to providers as the answer schema.
 */
#ifndef AIOPS_SCHEMA_H
#define AIOPS_SCHEMA_H

#include <stddef.h>
#include <json-c/json.h>

/*
 * Checks v against schema.  Returns 0 when v is valid, or -1 with the first
 * problem in why: the path then the reason, e.g.
 * "candidates[0].confidence: 1.5 is above the maximum 1" ("answer: ..." for
 * the top level).  Never prints, never exits; the objects are only read.
 */
int schema_validate(json_object *schema, json_object *v, char *why, size_t whylen);

/*
 * Bounds a schema that is sent to a model: every array without maxItems
 * gets maxItems max_items (when > 0), every string without maxLength or
 * enum gets maxLength max_len (when > 0), through properties, items and
 * anyOf.
 * A grammar-constrained server (llama.cpp) then always closes the JSON it
 * writes; unbounded, a small model can repeat itself until max_tokens.
 * OpenAI's strict mode refuses length limits, so the stages leave this off
 * unless configured.
 */
void schema_bound(json_object *schema, int max_items, int max_len);

#endif
