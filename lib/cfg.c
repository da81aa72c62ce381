/* cfg: YAML/JSON config into json-c, dotted sections, --set overrides. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "js.h"

#define CFG_MAX_BYTES ((size_t)64 << 20)
#define CFG_MAX_DEPTH 64
/* The most nodes one document may build, aliases counted at their expanded
 * size: a few kilobytes of nested aliases ("billion laughs") would otherwise
 * copy out to gigabytes.  A real config has a few hundred. */
#define CFG_MAX_NODES 100000

static int
is_int(const char *s, size_t n)
{
	size_t i = 0;

	if (n && (s[0] == '-' || s[0] == '+'))
		i++;
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
is_float(const char *s, size_t n)
{
	size_t i = 0;
	int dig = 0, dot = 0, exp = 0;

	if (n && (s[0] == '-' || s[0] == '+'))
		i++;
	for (; i < n; i++) {
		char c = s[i];
		if (isdigit((unsigned char)c))
			dig = 1;
		else if (c == '.' && !dot && !exp)
			dot = 1;
		else if ((c == 'e' || c == 'E') && dig && !exp) {
			exp = 1;
			if (i + 1 < n && (s[i + 1] == '-' || s[i + 1] == '+'))
				i++;
			if (i + 1 >= n)
				return 0;
		} else
			return 0;
	}
	return dig && (dot || exp);
}

static int
word(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

json_object *
cfg_scalar(const char *s, size_t n, int quoted)
{
	char tmp[64];

	if (quoted)
		return json_object_new_string_len(s, (int)n);
	if (n == 0 || word(s, n, "null") || word(s, n, "~"))
		return NULL;
	if (word(s, n, "true") || word(s, n, "yes") || word(s, n, "on"))
		return json_object_new_boolean(1);
	if (word(s, n, "false") || word(s, n, "no") || word(s, n, "off"))
		return json_object_new_boolean(0);
	if (n < sizeof tmp && (is_int(s, n) || is_float(s, n))) {
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		if (is_int(s, n)) {
			errno = 0;
			long long v = strtoll(tmp, NULL, 10);
			if (errno == 0)
				return json_object_new_int64(v);
		}
		double d = strtod(tmp, NULL);
		if (isfinite(d))
			return json_object_new_double_s(d, tmp);
	}
	return json_object_new_string_len(s, (int)n);
}

struct anchor {
	char *name;
	json_object *val;
	size_t nodes; /* nodes in val, aliases expanded */
};

struct yctx {
	yaml_parser_t p;
	const char *name;
	char *err;
	size_t errlen;
	struct anchor *anchors;
	size_t nanchors;
	int depth;
	size_t nodes; /* built so far, aliases expanded */
	json_object *lines; /* when set: "a.b.c" -> line of the key (cfg_key_lines) */
	struct buf path;    /* the dotted path of the mapping being read */
};

static int
yerr(struct yctx *c, const yaml_mark_t *m, const char *what)
{
	snprintf(c->err, c->errlen, "%s:%zu:%zu: %s", c->name, m->line + 1, m->column + 1,
		 what);
	return -1;
}

/* Records an anchor for v, a node of `nodes` nodes (itself included). */
static void
anchor_add(struct yctx *c, const unsigned char *name, json_object *v, size_t nodes)
{
	if (name == NULL)
		return;
	c->anchors = erealloc(c->anchors, (c->nanchors + 1) * sizeof *c->anchors);
	c->anchors[c->nanchors].name = estrdup((const char *)name);
	c->anchors[c->nanchors].val = json_object_get(v);
	c->anchors[c->nanchors].nodes = nodes;
	c->nanchors++;
}

static int node(struct yctx *c, yaml_event_t *ev, json_object **out);

/* Reads the next event; on a scanner or parser error reports its mark. */
static int
next(struct yctx *c, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&c->p, ev)) {
		yaml_mark_t m = c->p.problem_mark;
		char what[256];
		snprintf(what, sizeof what, "yaml error: %s%s%s",
			 c->p.problem ? c->p.problem : "syntax error",
			 c->p.context ? " " : "", c->p.context ? c->p.context : "");
		return yerr(c, &m, what);
	}
	return 0;
}

static int
node(struct yctx *c, yaml_event_t *ev, json_object **out)
{
	yaml_event_t e;
	json_object *o;
	size_t first = c->nodes;

	*out = NULL;
	if (++c->depth > CFG_MAX_DEPTH)
		return yerr(c, &ev->start_mark, "yaml error: nesting too deep");
	if (ev->type != YAML_ALIAS_EVENT && ++c->nodes > CFG_MAX_NODES)
		return yerr(c, &ev->start_mark, "yaml error: more than 100000 nodes");
	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		yaml_scalar_style_t st = ev->data.scalar.style;
		o = cfg_scalar((const char *)ev->data.scalar.value, ev->data.scalar.length,
			       st != YAML_PLAIN_SCALAR_STYLE);
		anchor_add(c, ev->data.scalar.anchor, o, 1);
		*out = o;
		break;
	}
	case YAML_ALIAS_EVENT: {
		size_t i;
		for (i = c->nanchors; i-- > 0;)
			if (strcmp(c->anchors[i].name, (const char *)ev->data.alias.anchor) == 0)
				break;
		if (i == (size_t)-1)
			return yerr(c, &ev->start_mark, "yaml error: unknown alias");
		if (c->anchors[i].nodes > CFG_MAX_NODES - c->nodes)
			return yerr(c, &ev->start_mark,
				    "yaml error: aliases expand to more than 100000 nodes");
		c->nodes += c->anchors[i].nodes;
		*out = js_copy(c->anchors[i].val);
		break;
	}
	case YAML_SEQUENCE_START_EVENT: {
		const unsigned char *an = ev->data.sequence_start.anchor;
		o = json_object_new_array();
		for (;;) {
			json_object *v;
			if (next(c, &e) < 0)
				return json_object_put(o), -1;
			if (e.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&e);
				break;
			}
			int r = node(c, &e, &v);
			yaml_event_delete(&e);
			if (r < 0)
				return json_object_put(o), -1;
			json_object_array_add(o, v);
		}
		anchor_add(c, an, o, c->nodes - first);
		*out = o;
		break;
	}
	case YAML_MAPPING_START_EVENT: {
		const unsigned char *an = ev->data.mapping_start.anchor;
		o = json_object_new_object();
		for (;;) {
			json_object *v;
			char *key;
			if (next(c, &e) < 0)
				return json_object_put(o), -1;
			if (e.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&e);
				break;
			}
			if (e.type != YAML_SCALAR_EVENT) {
				yerr(c, &e.start_mark, "yaml error: a mapping key must be a scalar");
				yaml_event_delete(&e);
				return json_object_put(o), -1;
			}
			key = estrndup((const char *)e.data.scalar.value, e.data.scalar.length);
			size_t plen = c->path.len;
			if (c->lines != NULL) {
				if (plen)
					buf_addc(&c->path, '.');
				buf_adds(&c->path, key);
				if (!json_object_object_get_ex(c->lines, c->path.p, NULL))
					json_object_object_add(c->lines, c->path.p,
							       json_object_new_int64((int64_t)e.start_mark.line + 1));
			}
			yaml_event_delete(&e);
			if (next(c, &e) < 0) {
				free(key);
				return json_object_put(o), -1;
			}
			int r = node(c, &e, &v);
			if (c->lines != NULL) {
				c->path.len = plen;
				if (c->path.p)
					c->path.p[plen] = '\0';
			}
			yaml_event_delete(&e);
			if (r < 0) {
				free(key);
				return json_object_put(o), -1;
			}
			if (strcmp(key, "<<") == 0 && json_object_is_type(v, json_type_object)) {
				/* A merge key: copy members not already set. */
				json_object_object_foreach(v, mk, mv)
					if (!json_object_object_get_ex(o, mk, NULL))
						json_object_object_add(o, mk, json_object_get(mv));
				json_object_put(v);
			} else {
				json_object_object_add(o, key, v);
			}
			free(key);
		}
		anchor_add(c, an, o, c->nodes - first);
		*out = o;
		break;
	}
	default:
		return yerr(c, &ev->start_mark, "yaml error: unexpected event");
	}
	c->depth--;
	return 0;
}

static json_object *
parse_yaml(const char *name, const char *text, size_t n, json_object *lines, char *err,
	   size_t errlen)
{
	struct yctx c;
	yaml_event_t e;
	json_object *root = NULL;
	int ok = 0, have = 0;

	memset(&c, 0, sizeof c);
	c.name = name;
	c.err = err;
	c.errlen = errlen;
	c.lines = lines;
	c.path = (struct buf)BUF_INIT(0);
	if (!yaml_parser_initialize(&c.p))
		efatal(EXIT_FAIL, "out of memory");
	yaml_parser_set_input_string(&c.p, (const unsigned char *)text, n);
	for (;;) {
		if (next(&c, &e) < 0)
			goto out;
		if (e.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&e);
			break;
		}
		if (e.type == YAML_STREAM_START_EVENT || e.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&e);
			continue;
		}
		if (e.type == YAML_DOCUMENT_START_EVENT) {
			if (have) {
				yerr(&c, &e.start_mark, "yaml error: more than one document");
				yaml_event_delete(&e);
				goto out;
			}
			yaml_event_delete(&e);
			continue;
		}
		int r = node(&c, &e, &root);
		yaml_event_delete(&e);
		if (r < 0)
			goto out;
		have = 1;
	}
	ok = 1;
out:
	yaml_parser_delete(&c.p);
	for (size_t i = 0; i < c.nanchors; i++) {
		free(c.anchors[i].name);
		json_object_put(c.anchors[i].val);
	}
	free(c.anchors);
	buf_free(&c.path);
	if (!ok) {
		json_object_put(root);
		return NULL;
	}
	if (root == NULL)
		root = json_object_new_object();
	return root;
}

json_object *
cfg_parse(const char *name, const char *text, size_t n, char *err, size_t errlen)
{
	json_object *root;

	root = parse_yaml(name, text, n, NULL, err, errlen);
	if (root != NULL && !json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "%s: the config must be a mapping at the top", name);
		json_object_put(root);
		return NULL;
	}
	return root;
}

/* The bytes of a config file into b; -1 with err. */
static int
read_file(const char *path, struct buf *b, char *err, size_t errlen)
{
	FILE *f;
	char chunk[65536];
	size_t k;

	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(b, chunk, k) < 0) {
			snprintf(err, errlen, "%s: config larger than 64 MiB", path);
			fclose(f);
			return -1;
		}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

json_object *
cfg_load(const char *path, char *err, size_t errlen)
{
	struct buf b = BUF_INIT(CFG_MAX_BYTES);
	json_object *root = NULL;

	if (read_file(path, &b, err, errlen) == 0)
		root = cfg_parse(path, b.p ? b.p : "", b.len, err, errlen);
	buf_free(&b);
	return root;
}

json_object *
cfg_key_lines(const char *path)
{
	struct buf b = BUF_INIT(CFG_MAX_BYTES);
	json_object *lines = json_object_new_object(), *root = NULL;
	char err[16];

	if (read_file(path, &b, err, sizeof err) == 0)
		root = parse_yaml(path, b.p ? b.p : "", b.len, lines, err, sizeof err);
	buf_free(&b);
	json_object_put(root);
	return lines;
}

int
cfg_set(json_object *root, const char *assign, char *err, size_t errlen)
{
	const char *eq = strchr(assign, '='), *p, *dot;
	json_object *o = root, *v;
	char key[256];
	char vname[300];

	if (eq == NULL || eq == assign) {
		snprintf(err, errlen, "--set '%s': expected KEY=VALUE", assign);
		return -1;
	}
	snprintf(vname, sizeof vname, "--set %.*s", (int)(eq - assign), assign);
	p = assign;
	for (;;) {
		size_t n;
		dot = memchr(p, '.', (size_t)(eq - p));
		n = dot ? (size_t)(dot - p) : (size_t)(eq - p);
		if (n == 0 || n >= sizeof key) {
			snprintf(err, errlen, "--set '%s': bad key", assign);
			return -1;
		}
		memcpy(key, p, n);
		key[n] = '\0';
		if (dot == NULL)
			break;
		if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object)) {
			v = json_object_new_object();
			json_object_object_add(o, key, v);
		}
		o = v;
		p = dot + 1;
	}
	/* The value: a flow collection or quoted scalar goes through the YAML
	 * parser; anything else is a plain scalar. */
	if (eq[1] == '[' || eq[1] == '{' || eq[1] == '"' || eq[1] == '\'') {
		char tmp[8];
		struct buf b = BUF_INIT(0);
		json_object *w;
		buf_adds(&b, "v: ");
		buf_adds(&b, eq + 1);
		w = parse_yaml(vname, b.p, b.len, NULL, err, errlen);
		buf_free(&b);
		(void)tmp;
		if (w == NULL)
			return -1;
		json_object_object_get_ex(w, "v", &v);
		json_object_object_add(o, key, json_object_get(v));
		json_object_put(w);
	} else {
		json_object_object_add(o, key, cfg_scalar(eq + 1, strlen(eq + 1), 0));
	}
	return 0;
}

json_object *
cfg_section(json_object *root, const char *dotted)
{
	json_object *o = js_path(root, dotted);

	return o && json_object_is_type(o, json_type_object) ? o : NULL;
}

/* The keys that name files.  "approve" names one after "file:"; the
 * tracking URI is a path only when it has no scheme. */
static const char *const path_keys[] = {
	"dataset.path", "dataset.dir",
	"pipeline.correlation.triage_prompt",
	"pipeline.rca.prompt",
	"pipeline.remediation.catalog", "pipeline.remediation.prompt",
	"pipeline.executor.allowlist", "pipeline.executor.approvals_file",
	"pipeline.executor.policy", "pipeline.executor.audit",
	"pipeline.executor.approve",
	"mlflow.store", "mlflow.spool_dir", "mlflow.tracking_uri",
	"provider.params.replay_file",
	"pipeline.correlation.provider.params.replay_file",
	"pipeline.rca.provider.params.replay_file",
	"pipeline.remediation.provider.params.replay_file",
	NULL
};

char *
cfg_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return estrdup(".");
	if (slash == path)
		return estrdup("/");
	return estrndup(path, (size_t)(slash - path));
}

char *
cfg_path_join(const char *dir, const char *name)
{
	struct buf b = BUF_INIT(0);

	if (dir == NULL || dir[0] == '\0' || name[0] == '/')
		return estrdup(name);
	buf_printf(&b, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	return buf_detach(&b);
}

/* Replaces root's value at dotted with base/value when it is a relative
 * path (after prefix, which stays in front). */
static void
resolve_one(json_object *root, const char *dotted, const char *base)
{
	const char *last = strrchr(dotted, '.'), *s, *prefix = "";
	char parent[256], *path;
	json_object *o, *v;
	struct buf b = BUF_INIT(0);

	snprintf(parent, sizeof parent, "%.*s", (int)(last - dotted), dotted);
	o = cfg_section(root, parent);
	if (o == NULL || !json_object_object_get_ex(o, last + 1, &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	s = json_object_get_string(v);
	if (strcmp(last + 1, "approve") == 0) {
		if (strncmp(s, "file:", 5) != 0)
			return;
		prefix = "file:";
		s += 5;
	} else if (strcmp(last + 1, "tracking_uri") == 0 &&
		   (strstr(s, "://") != NULL || strncmp(s, "file:", 5) == 0)) {
		return;
	}
	if (*s == '\0' || *s == '/')
		return;
	path = cfg_path_join(base, s);
	buf_adds(&b, prefix);
	buf_adds(&b, path);
	free(path);
	json_object_object_add(o, last + 1, json_object_new_string_len(b.p, (int)b.len));
	buf_free(&b);
}

int
cfg_resolve_paths(json_object *root, const char *dir, char *err, size_t errlen)
{
	char *base = realpath(dir, NULL);

	if (base != NULL) {
		/* a clean absolute name */
	} else if (dir[0] == '/') {
		base = estrdup(dir);
	} else {
		char cwd[4096];
		struct buf b = BUF_INIT(0);
		if (getcwd(cwd, sizeof cwd) == NULL) {
			snprintf(err, errlen, "cannot read the working directory: %s", strerror(errno));
			return -1;
		}
		buf_adds(&b, cwd);
		if (strcmp(dir, ".") != 0) {
			if (strcmp(cwd, "/") != 0)
				buf_adds(&b, "/");
			buf_adds(&b, dir);
		}
		base = estrndup(b.p, b.len);
		buf_free(&b);
	}
	for (const char *const *k = path_keys; *k; k++)
		resolve_one(root, *k, base);
	free(base);
	return 0;
}

int
cfg_parse_size(const char *s, size_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = (size_t)v;
	return 0;
}
