/*
 * allowlist: the actions aiops-exec may run, and the checks a step goes
 * through against them.  The file (YAML or JSON, read with cfg_load) is
 *
 *   target_pattern: RE          (optional; default [a-z0-9][a-z0-9-]{0,62})
 *   actions:
 *     NAME:
 *       risk: low|medium|high
 *       argv: [/abs/program, literal, 'pre{param}suf', '{target}', ...]
 *       target_pattern: RE      (optional, else the file's)
 *       params:
 *         P: {type: string|enum|integer, pattern, values, min, max,
 *             max_len, default, description}
 *
 * Every pattern is anchored at both ends and compiled through lib/rx.  A
 * value or target must be non-empty, within its length (a value max_len,
 * default 128, at most 4096; a target 253 bytes), valid UTF-8 without NUL,
 * line break or other control character; a string or target must not start
 * with '-'; an integer is an integer or a string of digits in [min, max]
 * (default 0 to 1000000).
 *
 * Ownership: allowlist_load() keeps the parsed document in al->doc; names,
 * enum values and defaults are borrowed from it.  Nothing is freed: the
 * allowlist lives as long as the stage.  A config error prints
 * "PROG: FILE: WHAT" and exits 2 (EXIT_USAGE); nothing else prints or exits.
 */
#ifndef AIOPS_ALLOWLIST_H
#define AIOPS_ALLOWLIST_H

#include <stddef.h>
#include <regex.h>

#include <json-c/json.h>

enum allow_ptype { ALLOW_STRING, ALLOW_ENUM, ALLOW_INT };

struct allow_param {
	const char *name;
	enum allow_ptype type;
	regex_t re;
	int has_re;
	json_object *values;    /* enum: the allowed strings (borrowed) */
	long long min, max;
	size_t max_len;
	json_object *def;       /* the default (borrowed), NULL: required */
};

/* One argv element: a literal, or pre{name}suf. */
struct allow_elem {
	const char *lit;
	char *pre, *suf;
	int param;              /* -1: {target}, else an index in params */
};

struct allow_action {
	const char *name;
	struct allow_elem *argv;
	int argc;
	regex_t target_re;
	struct allow_param *params;
	int nparams;
	int risk;               /* the action's own risk: 1 low, 2 medium, 3 high */
};

struct allowlist {
	json_object *doc;       /* NULL: no allowlist loaded */
	struct allow_action *actions;
	int nactions;
	const char *path;       /* borrowed from the caller */
};

/* The risk levels: allow_risk_name[1..3] is low, medium, high. */
extern const char *const allow_risk_name[4];

/* 1, 2 or 3 for "low", "medium", "high"; 0 for anything else or NULL. */
int allow_risk_parse(const char *s);

/* A config error in file: prints "PROG: file: message" and exits 2. */
void allow_fail(const char *file, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Compiles pat anchored at both ends (lib/rx bounds what it may cost), or
 * fails as allow_fail() with "where: bad pattern '...': why". */
void allow_re_compile(regex_t *re, const char *pat, const char *file, const char *where);

/* Loads the allowlist at path into *al (zeroed by the caller); a bad file
 * exits 2 as allow_fail(). */
void allowlist_load(struct allowlist *al, const char *path);

/* The action named name, or NULL. */
const struct allow_action *allowlist_find(const struct allowlist *al, const char *name);

/*
 * The allowlist's checks of a step (an object with string action and
 * target, params an object or absent): the action, the target, then every
 * parameter given and every one required.  Returns NULL with *argvp set to
 * the rendered argv (malloc'd, NULL-terminated, each string malloc'd: the
 * caller frees), or the rule that refuses the step with why set and
 * *argvp NULL: allowlist-action, allowlist-target or allowlist-param.
 */
const char *allowlist_check(const struct allowlist *al, json_object *step, char ***argvp,
			    char *why, size_t wn);

#endif
