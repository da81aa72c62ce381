/* dsfiles: which files a dataset config names for one role; see dsfiles.h. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "dsfiles.h"
#include "err.h"

static int
exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* dir/ROLEEXT */
static char *
role_file(const char *dir, const char *role, const char *ext)
{
	struct buf b = BUF_INIT(0);
	char *p;

	buf_printf(&b, "%s%s", role, ext);
	p = cfg_path_join(dir, b.p);
	buf_free(&b);
	return p;
}

static void
add(struct dsfiles *f, char *path)
{
	f->path = erealloc(f->path, (f->n + 1) * sizeof *f->path);
	f->present = erealloc(f->present, (f->n + 1) * sizeof *f->present);
	f->path[f->n] = path;
	f->present[f->n] = exists(path);
	f->n++;
}

static int
add_globs(struct dsfiles *f, const char *dir, const char *role, json_object *pats,
	  char *err, size_t errlen)
{
	int arr = json_object_is_type(pats, json_type_array);
	size_t n = arr ? json_object_array_length(pats) : 1;

	f->globbed = 1;
	for (size_t i = 0; i < n; i++) {
		json_object *pv = arr ? json_object_array_get_idx(pats, i) : pats;
		glob_t g;
		char *pat;
		int k;
		if (!json_object_is_type(pv, json_type_string)) {
			snprintf(err, errlen, "dataset.%s.files: expected a pattern or a list of patterns",
				 role);
			return -1;
		}
		pat = cfg_path_join(dir, json_object_get_string(pv));
		k = glob(pat, 0, NULL, &g);
		if (k != 0 && k != GLOB_NOMATCH) {
			snprintf(err, errlen, "%s: cannot list the files", pat);
			free(pat);
			return -1;
		}
		for (size_t j = 0; k == 0 && j < g.gl_pathc; j++)
			add(f, estrdup(g.gl_pathv[j]));
		if (k == 0)
			globfree(&g);
		free(pat);
	}
	return 0;
}

int
dsfiles_resolve(const char *dir, const char *role, json_object *fc, const char *override,
		struct dsfiles *out, char *err, size_t errlen)
{
	static const char *const alt[] = {".jsonl", ".jsonl.gz", ".csv", ".csv.gz",
		".otlp.jsonl", ".otlp.jsonl.gz", ".json", ".ndjson", NULL};
	const char *name = NULL;
	json_object *v;
	char *path;

	memset(out, 0, sizeof *out);
	if (json_object_is_type(fc, json_type_string)) {
		name = json_object_get_string(fc);
	} else if (json_object_is_type(fc, json_type_object)) {
		if ((json_object_object_get_ex(fc, "path", &v) && json_object_is_type(v, json_type_string)) ||
		    (json_object_object_get_ex(fc, "file", &v) && json_object_is_type(v, json_type_string)))
			name = json_object_get_string(v);
		if (override == NULL && json_object_object_get_ex(fc, "files", &v)) {
			out->param = json_object_get_string(v);
			return add_globs(out, dir, role, v, err, errlen);
		}
	}
	if (override != NULL) {
		out->param = override;
		add(out, estrdup(override));
		return 0;
	}
	if (name != NULL) {
		out->param = name;
		path = cfg_path_join(dir, name);
		if (!exists(path)) {
			struct buf gz = BUF_INIT(0);
			buf_printf(&gz, "%s.gz", path);
			if (exists(gz.p)) {
				free(path);
				path = buf_detach(&gz);
			}
			buf_free(&gz);
		}
		add(out, path);
		return 0;
	}
	for (size_t i = 0; alt[i] != NULL; i++) {
		path = role_file(dir, role, alt[i]);
		if (exists(path)) {
			add(out, path);
			out->param = path;
			return 0;
		}
		free(path);
	}
	add(out, role_file(dir, role, ".jsonl"));
	out->param = out->path[0];
	return 0;
}

void
dsfiles_free(struct dsfiles *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->path[i]);
	free(f->path);
	free(f->present);
	memset(f, 0, sizeof *f);
}
