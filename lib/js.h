/*
 * js: small helpers over json-c.  Getters borrow: they return pointers into
 * the object, valid while the object lives, and never take references.
 */
#ifndef AIOPS_JS_H
#define AIOPS_JS_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* Serialisation flags used for every record: compact, "/" not escaped. */
#define JS_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* The string member key of o, or NULL when missing or not a string. */
const char *js_str(json_object *o, const char *key);
/* The member at a dotted path ("root_cause.service"), or NULL. */
json_object *js_path(json_object *o, const char *dotted);
/* Sets *out from a number member (int or double).  Returns 0, or -1 when
 * missing or not a number. */
int js_num(json_object *o, const char *key, double *out);
/* Like js_num for integers (a double is truncated). */
int js_int(json_object *o, const char *key, int64_t *out);
/* Sets *out from a boolean member; returns -1 when missing or not bool. */
int js_bool(json_object *o, const char *key, int *out);
/* The time of the string member key of o (ts_parse) in epoch ns, or
 * TS_NONE (lib/ts.h) when missing, not a string or not a time. */
int64_t js_ts(json_object *o, const char *key);

/* Adds helpers: the new value is owned by o. */
void js_add_str(json_object *o, const char *key, const char *v);
void js_add_strn(json_object *o, const char *key, const char *v, size_t n);
void js_add_int(json_object *o, const char *key, int64_t v);
void js_add_double(json_object *o, const char *key, double v);
void js_add_bool(json_object *o, const char *key, int v);
/* Adds the fixed-width timestamp of ns, or null when ns is TS_NONE. */
void js_add_ts(json_object *o, const char *key, int64_t ns);
/* Adds v with a new reference (o and the caller both hold it). */
void js_add_ref(json_object *o, const char *key, json_object *v);

/* A double serialised in the shortest form that reads back exactly (0.1
 * stays "0.1"; 0.1 + 0.2 needs all 17 digits, so round computed values
 * first when that matters); integral values print as integers.  Non-finite
 * values become NULL (JSON null). */
json_object *js_new_double(double v);

/* Returns 1 when s[0..n) is valid UTF-8 (no overlongs or surrogates). */
int js_utf8_valid(const char *s, size_t n);

/* Serialises with JS_FLAGS; the string is owned by o. */
const char *js_dump(json_object *o, size_t *len);

/* Parses a whole JSON text of n bytes.  Returns a new object (NULL is also
 * the JSON null: check *why), or sets *why to a static reason and returns
 * NULL.  tok may be NULL (a temporary tokener is used); so may why. */
json_object *js_parse(json_tokener *tok, const char *s, size_t n, const char **why);

/* Returns 1 when some string in o (at any depth) holds a NUL character,
 * which C strings would silently cut there. */
int js_has_nul(json_object *o);

/* Returns 1 when the JSON text s[0..n) holds the escape \u0000 (a NUL in
 * a string once parsed; keys lose it, so look before parsing). */
int js_text_has_nul(const char *s, size_t n);

/* Free text for a record: v itself (a new reference) when it is not a
 * string or has at most max bytes, else a new string cut at a character
 * boundary near max bytes and marked " [cut: N bytes]". */
json_object *js_bounded(json_object *v, size_t max);

/* Deep copy (json_object_deep_copy wrapper that exits on failure). */
json_object *js_copy(json_object *o);

/* Lowercase hex SHA-256 of n bytes into out[65]. */
void js_sha256_hex(const void *p, size_t n, char out[65]);

#endif
