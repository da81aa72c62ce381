/*
 * dsfiles: which files a dataset config names for one role (logs, metrics,
 * traces, incidents).  The one resolution rule, used by aiops-load to read
 * them and by its --list-files (which aiops-harness check calls), so that a
 * check and a run never disagree:
 *
 *   - a name given on the command line (override): that file;
 *   - dataset.ROLE.files (a glob or a list of globs, relative to the
 *     dataset directory): every match, in name order per pattern;
 *   - dataset.ROLE as a name, or dataset.ROLE.path / .file: that file,
 *     relative to the dataset directory; when it is not there but NAME.gz
 *     is, NAME.gz;
 *   - nothing: the first of ROLE.jsonl, .jsonl.gz, .csv, .csv.gz,
 *     .otlp.jsonl, .otlp.jsonl.gz, .json, .ndjson that exists, else
 *     ROLE.jsonl.
 *
 * A file named but not there is still listed (present 0): the caller says
 * so.  Globs that match nothing give no file (matched 0).
 */
#ifndef AIOPS_DSFILES_H
#define AIOPS_DSFILES_H

#include <stddef.h>
#include <json-c/json.h>

struct dsfiles {
	char **path;       /* the files, absolute or relative as the dataset dir */
	int *present;      /* 1 when path[i] exists */
	size_t n;
	int globbed;       /* from dataset.ROLE.files */
	const char *param; /* what the config said (the pattern, name or override) */
};

/*
 * Fills out for role (its name: "logs"); dir is the dataset directory (NULL:
 * the working directory), fc the value of dataset.ROLE (NULL, a string or an
 * object), override a command-line name or NULL.  Returns 0, or -1 with err
 * ("dataset.logs.files: expected a pattern or a list of patterns") for a
 * config error or a directory that cannot be listed.  out->param borrows
 * from fc or override.
 */
int dsfiles_resolve(const char *dir, const char *role, json_object *fc,
		    const char *override, struct dsfiles *out, char *err, size_t errlen);

void dsfiles_free(struct dsfiles *f);

#endif
