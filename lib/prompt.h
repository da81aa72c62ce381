/*
 * prompt: prompt templates.  A template is a text file with placeholders
 * {{name}} (name: lowercase letters, digits and '_'); any other "{{" is
 * literal text.  A file may hold the system and the user message: a line
 * "[system]" starts the system part and a line "[user]" the user part; a
 * file without these markers is all user message.  The template's SHA-256
 * (of the file's bytes) identifies it in the stage record's params.
 */
#ifndef AIOPS_PROMPT_H
#define AIOPS_PROMPT_H

#include <stddef.h>
#include <json-c/json.h>

#include "buf.h"

struct prompt {
	char *system;         /* the system part, or NULL when absent */
	char *user;           /* the user part ("" when empty) */
	char sha256[65];      /* of the whole file */
	size_t bytes;         /* size of the file */
};

/* One placeholder value; an array of them ends with name NULL. */
struct prompt_var {
	const char *name;
	const char *value;
};

/*
 * Reads and splits the template at path.  Returns 0, or -1 with "PATH:
 * reason" in err (unreadable file, NUL byte or invalid UTF-8, no user part).
 * Free with prompt_free().
 */
int prompt_load(struct prompt *p, const char *path, char *err, size_t errlen);
void prompt_free(struct prompt *p);

/*
 * Checks that every placeholder in both parts is one of names (a NULL-ended
 * list).  Returns 0, or -1 with "unknown placeholder '{{x}}' (known: a, b)".
 */
int prompt_check(const struct prompt *p, const char *const *names, char *err, size_t errlen);

/*
 * Appends tmpl with each placeholder replaced by its value.  A placeholder
 * without a value is an error (-1, err set); so is going over out's max.
 */
int prompt_render(const char *tmpl, const struct prompt_var *vars, struct buf *out,
		  char *err, size_t errlen);

/*
 * Renders both parts into a new messages array [{system}, {user}] (the
 * caller owns it) and sets *bytes to the size of the rendered text.
 * Returns NULL with err on a render error.
 */
json_object *prompt_messages(const struct prompt *p, const struct prompt_var *vars,
			     size_t *bytes, char *err, size_t errlen);

#endif
