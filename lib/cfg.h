/*
 * cfg: the configuration.  A config file is YAML (read with libyaml) or JSON,
 * turned into one json-c object; each stage reads its own section
 * ("pipeline.correlation") and command-line flags override it.  "--set
 * a.b.c=value" edits the tree before the sections are read.
 *
 * Plain YAML scalars become JSON null (null, ~, empty), booleans (true,
 * false, yes, no, on, off in any case), integers, floats, or strings; quoted
 * scalars are always strings.  Anchors and aliases are resolved.
 */
#ifndef AIOPS_CFG_H
#define AIOPS_CFG_H

#include <stddef.h>
#include <json-c/json.h>

/*
 * Loads a YAML or JSON file.  Returns a new object (the caller puts it), or
 * NULL with a message in err: "FILE:LINE:COL: reason" for a syntax error,
 * "FILE: reason" otherwise.  An empty file gives an empty object.
 */
json_object *cfg_load(const char *path, char *err, size_t errlen);

/*
 * The line of every mapping key of a config file, for messages: a new object
 * {"pipeline.rca.top_k": 27, ...} (dotted paths; keys inside lists are not
 * listed).  Empty when the file cannot be read or parsed (cfg_load says why).
 */
json_object *cfg_key_lines(const char *path);

/* Parses YAML or JSON text of n bytes; name is used in messages. */
json_object *cfg_parse(const char *name, const char *text, size_t n, char *err,
		       size_t errlen);

/*
 * Applies "a.b.c=value": missing objects on the path are created; value is
 * read as a YAML scalar or flow collection ("30", "true", "[a, b]",
 * "{k: v}"), so `--set pipeline.rca.top_k=3` stores the number 3.  Returns 0,
 * or -1 with err set.
 */
int cfg_set(json_object *root, const char *assign, char *err, size_t errlen);

/*
 * Makes the relative file paths the config names absolute, joined to dir
 * (relative dir: to the working directory).  The keys are the ones listed
 * in aiops(7), "Paths": prompts, the catalog, the executor's files, the
 * dataset directory, the MLflow store and spool, replay files.  Absolute
 * paths, URLs and non-strings are left alone.  Returns 0, or -1 with err
 * set when the working directory cannot be read.
 */
int cfg_resolve_paths(json_object *root, const char *dir, char *err, size_t errlen);

/* The directory part of a file name ("." when it has none); the caller
 * frees it. */
char *cfg_dirname(const char *path);

/* dir/name (one slash between), or a copy of name when it is absolute or
 * dir is NULL or empty; the caller frees it. */
char *cfg_path_join(const char *dir, const char *name);

/* A size in bytes: a number with an optional k, M or G (powers of 1024),
 * then an optional 'i' and 'B' ("64M", "1.5GiB", "4096").  0, or -1 when
 * s is not one. */
int cfg_parse_size(const char *s, size_t *out);

/* The object at a dotted path, or NULL (borrowed). */
json_object *cfg_section(json_object *root, const char *dotted);

/* Reads a scalar string the way plain YAML does ("3" → 3, "yes" → true). */
json_object *cfg_scalar(const char *s, size_t n, int quoted);

#endif
