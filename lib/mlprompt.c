/* mlprompt: prompt templates in MLflow's prompt registry (see mlprompt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "js.h"
#include "mlprompt.h"
#include "mlreq.h"
#include "prompt.h"
#include "sha256.h"

#define MAX_TEMPLATE 100000     /* MLflow's limit on a prompt's text */

void
mlprompt_init(struct mlprompt_set *s)
{
	memset(s, 0, sizeof *s);
}

void
mlprompt_free(struct mlprompt_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->p[i].path);
		free(s->p[i].text);
	}
	memset(s, 0, sizeof *s);
}

/* The whole file into a new string (*len bytes), or NULL with errno. */
static char *
slurp(const char *path, size_t *len)
{
	struct buf b = BUF_INIT(0);
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "rb");
	int bad;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	bad = ferror(f);
	fclose(f);
	if (bad) {
		buf_free(&b);
		errno = EIO;
		return NULL;
	}
	buf_addc(&b, '\0');
	*len = b.len - 1;
	return buf_detach(&b);
}

static void
add_one(struct mlprompt_set *s, const char *stage, const char *name, const char *path,
	const char *sha)
{
	struct mlprompt *p;
	char hex[65];

	if (path == NULL || sha == NULL || s->n == MLPROMPT_MAX)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->p[i].stage, stage) == 0 && strcmp(s->p[i].name, name) == 0)
			return;   /* a second record of the stage: the first one counts */
	p = &s->p[s->n++];
	memset(p, 0, sizeof *p);
	snprintf(p->stage, sizeof p->stage, "%s", stage);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->sha256, sizeof p->sha256, "%s", sha);
	p->path = estrdup(path);
	if ((p->text = slurp(path, &p->len)) == NULL) {
		snprintf(p->why, sizeof p->why, "%s: %s", path, strerror(errno));
		return;
	}
	sha256_buf_hex(p->text, p->len, hex);
	if (strcmp(hex, sha) != 0)
		snprintf(p->why, sizeof p->why, "%s changed since the stage read it (sha256 %.12s, "
			 "the stage's %.12s)", path, hex, sha);
	else if (p->len > MAX_TEMPLATE)
		snprintf(p->why, sizeof p->why, "%s: %zu bytes, over MLflow's %d", path, p->len,
			 MAX_TEMPLATE);
	if (p->why[0]) {
		free(p->text);
		p->text = NULL;
	}
}

void
mlprompt_collect(struct mlprompt_set *s, const char *stage, json_object *params)
{
	char name[80];

	if (stage == NULL || params == NULL || !json_object_is_type(params, json_type_object))
		return;
	snprintf(name, sizeof name, "aiops-%s", stage);
	add_one(s, stage, name, js_str(params, "prompt"), js_str(params, "prompt_sha256"));
	add_one(s, stage, "aiops-triage", js_str(params, "triage_prompt"),
		js_str(params, "triage_prompt_sha256"));
}

/* The template as MLflow stores it: a chat template (system and user
 * messages) or the user text alone; *type is "chat" or "text". */
static char *
template_text(const struct mlprompt *p, const char **type)
{
	struct prompt t;
	char err[256];
	json_object *a, *m;
	char *out;

	size_t n;

	*type = "text";
	if (prompt_load(&t, p->path, err, sizeof err) < 0)
		return estrdup(p->text);
	if (strcmp(t.sha256, p->sha256) != 0) {   /* changed since it was read */
		prompt_free(&t);
		return estrdup(p->text);
	}
	if (t.system == NULL) {
		out = estrdup(t.user);
		prompt_free(&t);
		return out;
	}
	a = json_object_new_array();
	m = json_object_new_object();
	js_add_str(m, "role", "system");
	js_add_str(m, "content", t.system);
	json_object_array_add(a, m);
	m = json_object_new_object();
	js_add_str(m, "role", "user");
	js_add_str(m, "content", t.user);
	json_object_array_add(a, m);
	out = estrdup(js_dump(a, &n));
	json_object_put(a);
	prompt_free(&t);
	*type = "chat";
	return out;
}

/* The prompt exists (created when missing) and lists experiment exp_id. */
static int
ensure_prompt(struct mlf_client *c, const struct mlprompt *p, const char *exp_id,
	      unsigned *calls, char *err, size_t errlen)
{
	struct buf path = BUF_INIT(0), ids = BUF_INIT(0);
	json_object *o = NULL, *body, *tags;
	char *q = http_escape(p->name), *list = NULL;
	int rc, is_prompt = 0;

	buf_printf(&path, "/api/2.0/mlflow/registered-models/get?name=%s", q);
	free(q);
	rc = mlf_call(c, "GET", path.p, NULL, 0, NULL, NULL, &o, err, errlen);
	(*calls)++;
	buf_free(&path);
	buf_printf(&ids, ",%s,", exp_id);
	if (rc < 0 && strcmp(c->error_code, "RESOURCE_DOES_NOT_EXIST") == 0) {
		body = json_object_new_object();
		js_add_str(body, "name", p->name);
		js_add_str(body, "description", "aiops prompt template (aiops-mlflow)");
		tags = json_object_new_array();
		mlreq_kv(tags, "mlflow.prompt.is_prompt", "true");
		mlreq_kv(tags, "_mlflow_experiment_ids", ids.p);
		json_object_object_add(body, "tags", tags);
		rc = mlreq_send(c, "POST", "/api/2.0/mlflow/registered-models/create", body, NULL,
				calls, err, errlen);
		buf_free(&ids);
		return rc;
	}
	if (rc < 0) {
		buf_free(&ids);
		return -1;
	}
	tags = js_path(o, "registered_model.tags");
	for (size_t i = 0; tags && i < json_object_array_length(tags); i++) {
		json_object *t = json_object_array_get_idx(tags, i);
		const char *k = js_str(t, "key"), *v = js_str(t, "value");
		if (k && v && strcmp(k, "mlflow.prompt.is_prompt") == 0)
			is_prompt = strcmp(v, "true") == 0;
		else if (k && v && strcmp(k, "_mlflow_experiment_ids") == 0)
			list = estrdup(v);
	}
	json_object_put(o);
	if (!is_prompt) {
		snprintf(err, errlen, "'%s' is a registered model, not a prompt: not registered",
			 p->name);
		free(list);
		buf_free(&ids);
		return 1;
	}
	rc = 0;
	if (list == NULL || strstr(list, ids.p) == NULL) {
		struct buf v = BUF_INIT(0);
		/* ",1,2," as MLflow's client keeps it */
		if (list && *list)
			buf_printf(&v, "%s%s%s,", list[0] == ',' ? "" : ",", list, exp_id);
		else
			buf_adds(&v, ids.p);
		if (v.len > 1 && v.p[v.len - 2] == ',' && v.p[v.len - 1] == ',')
			v.p[--v.len] = '\0';
		body = json_object_new_object();
		js_add_str(body, "name", p->name);
		js_add_str(body, "key", "_mlflow_experiment_ids");
		js_add_str(body, "value", v.p);
		rc = mlreq_send(c, "POST", "/api/2.0/mlflow/registered-models/set-tag", body, NULL,
				calls, err, errlen);
		buf_free(&v);
	}
	free(list);
	buf_free(&ids);
	return rc;
}

/* The version of p's prompt tagged with p's hash, into p->version ("" if none). */
static int
find_version(struct mlf_client *c, struct mlprompt *p, unsigned *calls, char *err, size_t errlen)
{
	struct buf f = BUF_INIT(0), path = BUF_INIT(0);
	json_object *o = NULL, *mv;
	char *q;
	int rc;

	buf_printf(&f, "name = '%s' AND tag.`mlflow.prompt.is_prompt` = 'true' AND "
		   "tag.`aiops.template_sha256` = '%s'", p->name, p->sha256);
	q = http_escape(f.p);
	buf_printf(&path, "/api/2.0/mlflow/model-versions/search?max_results=1&filter=%s", q);
	free(q);
	rc = mlf_call(c, "GET", path.p, NULL, 0, NULL, NULL, &o, err, errlen);
	(*calls)++;
	buf_free(&f);
	buf_free(&path);
	if (rc < 0)
		return -1;
	p->version[0] = '\0';
	if (json_object_object_get_ex(o, "model_versions", &mv) && json_object_array_length(mv) > 0)
		snprintf(p->version, sizeof p->version, "%s",
			 js_str(json_object_array_get_idx(mv, 0), "version"));
	json_object_put(o);
	return 0;
}

static int
create_version(struct mlf_client *c, struct mlprompt *p, unsigned *calls, char *err,
	       size_t errlen)
{
	json_object *body = json_object_new_object(), *tags = json_object_new_array(), *o = NULL;
	const char *type, *base = strrchr(p->path, '/');
	char *text = template_text(p, &type);
	struct buf d = BUF_INIT(0);
	int rc;

	js_add_str(body, "name", p->name);
	js_add_str(body, "source", "prompt-template");   /* the store's placeholder */
	mlreq_kv(tags, "mlflow.prompt.is_prompt", "true");
	mlreq_kv(tags, "mlflow.prompt.text", text);
	mlreq_kv(tags, "_mlflow_prompt_type", type);
	mlreq_kv(tags, "aiops.template_sha256", p->sha256);
	mlreq_kv(tags, "aiops.template_file", base ? base + 1 : p->path);
	mlreq_kv(tags, "aiops.stage", p->stage);
	json_object_object_add(body, "tags", tags);
	buf_printf(&d, "%s, sha256 %.12s (aiops %s stage)", base ? base + 1 : p->path, p->sha256,
		   p->stage);
	js_add_str(body, "description", d.p);
	buf_free(&d);
	free(text);
	rc = mlreq_send(c, "POST", "/api/2.0/mlflow/model-versions/create", body, &o, calls, err,
			errlen);
	if (rc == 0) {
		const char *v = js_str(js_path(o, "model_version"), "version");
		snprintf(p->version, sizeof p->version, "%s", v ? v : "");
		json_object_put(o);
	}
	return rc;
}

int
mlprompt_register(struct mlprompt_set *s, struct mlf_client *c, const char *exp_id,
		  unsigned *calls, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n; i++) {
		struct mlprompt *p = &s->p[i];
		int rc;
		if (p->text == NULL)
			continue;
		if ((rc = ensure_prompt(c, p, exp_id, calls, err, errlen)) != 0) {
			if (rc < 0)
				return -1;
			snprintf(p->why, sizeof p->why, "%s", err);
			continue;
		}
		if (find_version(c, p, calls, err, errlen) < 0)
			return -1;
		if (p->version[0] == '\0' && create_version(c, p, calls, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static void
add_ref(json_object *arr, const struct mlprompt *p)
{
	json_object *o;

	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (strcmp(js_str(json_object_array_get_idx(arr, i), "name"), p->name) == 0)
			return;
	o = json_object_new_object();
	js_add_str(o, "name", p->name);
	js_add_str(o, "version", p->version);
	json_object_array_add(arr, o);
}

json_object *
mlprompt_linked(const struct mlprompt_set *s, json_object *const *recs, size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < s->n; i++) {
		const struct mlprompt *p = &s->p[i];
		if (p->version[0] == '\0')
			continue;
		if (recs == NULL) {
			add_ref(arr, p);
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			const char *k = js_str(recs[j], "kind"), *st = js_str(recs[j], "stage");
			if (k && st && strcmp(k, "llm_call") == 0 && strcmp(st, p->stage) == 0) {
				add_ref(arr, p);
				break;
			}
		}
	}
	if (json_object_array_length(arr) == 0) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

void
mlprompt_tag_trace(json_object *req, json_object *linked)
{
	json_object *span = mlreq_root_span(req), *a, *kv, *v;
	size_t n;

	if (span == NULL || !json_object_object_get_ex(span, "attributes", &a))
		return;
	kv = json_object_new_object();
	v = json_object_new_object();
	js_add_str(kv, "key", "mlflow.traceTag.mlflow.linkedPrompts");
	js_add_str(v, "stringValue", js_dump(linked, &n));
	json_object_object_add(kv, "value", v);
	json_object_array_add(a, kv);
}

int
mlprompt_link_trace(struct mlf_client *c, const char *trace_id, json_object *linked, char *err,
		    size_t errlen)
{
	json_object *body = json_object_new_object();
	unsigned calls = 0;

	js_add_str(body, "trace_id", trace_id);
	js_add_ref(body, "prompt_versions", linked);
	return mlreq_send(c, "POST", "/api/2.0/mlflow/traces/link-prompts", body, NULL, &calls, err,
			  errlen);
}

char *
mlprompt_summary(const struct mlprompt_set *s)
{
	struct buf b = BUF_INIT(0);

	if (s->n == 0)
		return estrdup("none: no stage rendered a prompt template (a baseline makes no model calls)");
	for (size_t i = 0; i < s->n; i++) {
		const struct mlprompt *p = &s->p[i];
		buf_printf(&b, "%s%s", i ? "; " : "", p->name);
		if (p->version[0])
			buf_printf(&b, "/%s", p->version);
		buf_printf(&b, " (sha256 %.12s)", p->sha256);
		if (p->why[0])
			buf_printf(&b, " not registered: %s", p->why);
	}
	return buf_detach(&b);
}
