/*
 * redact: keeps secrets out of everything the tools write.  Two kinds:
 *
 *   the userinfo of a URL   scheme://user:PASSWORD@host becomes
 *                           scheme://user:***@host; a userinfo without a
 *                           password (scheme://TOKEN@host) becomes *** as a
 *                           whole; any scheme, anywhere in a string;
 *   secret values           every occurrence of the value of a secret
 *                           variable becomes ***: the variables named in
 *                           REDACT_VARS below and in AIOPS_SECRET_VARS
 *                           (names separated by commas or blanks), and any
 *                           value given to redact_add().  A value shorter
 *                           than REDACT_MIN bytes is not a secret (it would
 *                           erase ordinary text).
 *
 * out_json() passes every record through redact_tree(), err.c every message, lib/llm the messages it sends and the llm_call
 * records it writes; stage_end counts the replacements in `redacted`.
 */
#ifndef AIOPS_REDACT_H
#define AIOPS_REDACT_H

#include <stddef.h>

#include <json-c/json.h>

#define REDACT_VARS {"OPENAI_API_KEY", "LLAMA_STACK_API_KEY", "MLFLOW_TRACKING_PASSWORD", \
		     "MLFLOW_TRACKING_TOKEN", NULL}
#define REDACT_MIN 4

/* Reads the secret variables from the environment and installs the message
 * filter of err.c.  Idempotent. */
void redact_init(void);

/* Adds one secret value (copied; ignored when NULL or too short). */
void redact_add(const char *value);

/* A redacted copy of s[0..n) (malloc'd, NUL-terminated, length in *outn),
 * or NULL when nothing in it needs redacting.  Counts the replacements. */
char *redact_str(const char *s, size_t n, size_t *outn);

/* Redacts every string value in o in place.  Returns the replacements. */
unsigned long redact_tree(json_object *o);

/* Redacts the C string in s[size] in place (cut to size when it grows). */
void redact_buf(char *s, size_t size);

/* Every replacement made so far. */
unsigned long redact_count(void);

#endif
