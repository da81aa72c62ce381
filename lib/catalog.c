/* catalog: the typed action catalog and the baseline runbook (see catalog.h). */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "cfg.h"
#include "err.h"
#include "js.h"
#include "rx.h"

enum { P_ENUM, P_REGEX, P_INTEGER };

struct cparam {
	char *name, *desc, *pattern;
	int type, required, has_min, has_max, has_re;
	long long min, max;
	json_object *values;   /* enum: array of strings */
	json_object *def;      /* default or NULL */
	regex_t re;
};

struct caction {
	char *name, *desc, *target, *risk;
	struct cparam *p;
	size_t np;
};

struct catalog {
	struct caction *a;
	size_t na;
	json_object *runbook;  /* fault -> [{action, params}] */
	char sha[65];
};

static const char *const target_kinds[] = {"service", "deployment", "database", "cache", "host", NULL};
static const char *const risks[] = {"low", "medium", "high", NULL};

static int
in_list(const char *s, const char *const *l)
{
	for (; s && *l; l++)
		if (strcmp(s, *l) == 0)
			return 1;
	return 0;
}

static int
ident_ok(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int
target_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return 0;
	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == ':' || *s == '/' || *s == '-'))
			return 0;
	return n <= 128;
}

static int
seterr(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Checks value v (not null) against param p.  Returns 0 or -1 with why. */
/* Whether d is a whole number a long long holds: casting anything else is
 * undefined (fuzz_catalog: a default of 66...61 made 6.7e26). */
static int
whole_ll(double d)
{
	return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == trunc(d);
}

static int
check_value(const struct cparam *p, json_object *v, char *why, size_t n)
{
	const char *txt = json_object_to_json_string_ext(v, JS_FLAGS);

	switch (p->type) {
	case P_ENUM: {
		const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		for (size_t i = 0; s && i < json_object_array_length(p->values); i++)
			if (strcmp(s, json_object_get_string(json_object_array_get_idx(p->values, i))) == 0)
				return 0;
		struct buf b = BUF_INIT(0);
		for (size_t i = 0; i < json_object_array_length(p->values); i++)
			buf_printf(&b, "%s%s", i ? ", " : "",
				   json_object_get_string(json_object_array_get_idx(p->values, i)));
		seterr(why, n, "param '%s': %.80s is not one of %s", p->name, txt, b.p ? b.p : "");
		buf_free(&b);
		return -1;
	}
	case P_REGEX:
		if (!json_object_is_type(v, json_type_string))
			return seterr(why, n, "param '%s': expected a string, got %.80s", p->name, txt);
		if (regexec(&p->re, json_object_get_string(v), 0, NULL, 0) != 0)
			return seterr(why, n, "param '%s': %.80s does not match %s", p->name, txt,
				      p->pattern);
		return 0;
	case P_INTEGER: {
		long long x;
		if (json_object_is_type(v, json_type_int))
			x = json_object_get_int64(v);
		else if (json_object_is_type(v, json_type_double) &&
			 whole_ll(json_object_get_double(v)))
			x = (long long)json_object_get_double(v);
		else
			return seterr(why, n, "param '%s': expected an integer, got %.80s", p->name, txt);
		if (p->has_min && x < p->min)
			return seterr(why, n, "param '%s': %lld is below the minimum %lld", p->name, x, p->min);
		if (p->has_max && x > p->max)
			return seterr(why, n, "param '%s': %lld is above the maximum %lld", p->name, x, p->max);
		return 0;
	}
	}
	return -1;
}

static const struct caction *
find(const struct catalog *c, const char *name)
{
	for (size_t i = 0; name && i < c->na; i++)
		if (strcmp(c->a[i].name, name) == 0)
			return &c->a[i];
	return NULL;
}

size_t
catalog_nparams(const struct catalog *c, const char *action)
{
	const struct caction *a = find(c, action);

	return a ? a->np : 0;
}

const char *
catalog_param(const struct catalog *c, const char *action, size_t i)
{
	const struct caction *a = find(c, action);

	return a && i < a->np ? a->p[i].name : NULL;
}

static int
load_param(struct cparam *p, const char *name, json_object *o, char *where, char *err, size_t n)
{
	json_object *v;
	const char *type = js_str(o, "type");
	int64_t x;

	p->name = estrdup(name);
	if (!json_object_is_type(o, json_type_object))
		return seterr(err, n, "%s: expected a mapping", where);
	if (!ident_ok(name))
		return seterr(err, n, "%s: bad param name (want [a-z][a-z0-9_]*)", where);
	p->desc = estrdup(js_str(o, "description") ? js_str(o, "description") : "");
	if (json_object_object_get_ex(o, "required", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return seterr(err, n, "%s.required: expected true or false", where);
		p->required = json_object_get_boolean(v);
	}
	if (type && strcmp(type, "enum") == 0) {
		p->type = P_ENUM;
		if (!json_object_object_get_ex(o, "values", &v) || !json_object_is_type(v, json_type_array) ||
		    json_object_array_length(v) == 0)
			return seterr(err, n, "%s.values: expected a list of strings", where);
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
				return seterr(err, n, "%s.values: expected a list of strings", where);
		p->values = json_object_get(v);
	} else if (type && strcmp(type, "regex") == 0) {
		const char *pat = js_str(o, "pattern");
		char why[160];
		p->type = P_REGEX;
		if (pat == NULL)
			return seterr(err, n, "%s.pattern: expected a string", where);
		p->pattern = estrdup(pat);
		if (rx_compile(&p->re, pat, why, sizeof why) < 0)
			return seterr(err, n, "%s.pattern: bad regular expression '%.200s': %s", where,
				      pat, why);
		p->has_re = 1;
	} else if (type && strcmp(type, "integer") == 0) {
		p->type = P_INTEGER;
		if (json_object_object_get_ex(o, "min", &v)) {
			if (js_int(o, "min", &x) < 0 || !json_object_is_type(v, json_type_int))
				return seterr(err, n, "%s.min: expected an integer", where);
			p->has_min = 1, p->min = x;
		}
		if (json_object_object_get_ex(o, "max", &v)) {
			if (js_int(o, "max", &x) < 0 || !json_object_is_type(v, json_type_int))
				return seterr(err, n, "%s.max: expected an integer", where);
			p->has_max = 1, p->max = x;
		}
	} else {
		return seterr(err, n, "%s.type: expected enum, regex or integer", where);
	}
	if (json_object_object_get_ex(o, "default", &v) && !json_object_is_type(v, json_type_null)) {
		char why[256];
		if (check_value(p, v, why, sizeof why) < 0)
			return seterr(err, n, "%s.default: %s", where, why);
		p->def = json_object_get(v);
	}
	return 0;
}

static int
load_action(struct caction *a, const char *name, json_object *o, char *err, size_t n)
{
	char where[256];
	json_object *params;

	a->name = estrdup(name);
	snprintf(where, sizeof where, "actions.%s", name);
	if (!ident_ok(name))
		return seterr(err, n, "%s: bad action name (want [a-z][a-z0-9_]*)", where);
	if (!json_object_is_type(o, json_type_object))
		return seterr(err, n, "%s: expected a mapping", where);
	if (js_str(o, "description") == NULL)
		return seterr(err, n, "%s.description: expected a string", where);
	if (!in_list(js_str(o, "target"), target_kinds))
		return seterr(err, n, "%s.target: expected service, deployment, database, cache or host", where);
	if (!in_list(js_str(o, "risk"), risks))
		return seterr(err, n, "%s.risk: expected low, medium or high", where);
	a->desc = estrdup(js_str(o, "description"));
	a->target = estrdup(js_str(o, "target"));
	a->risk = estrdup(js_str(o, "risk"));
	if (!json_object_object_get_ex(o, "params", &params) || json_object_is_type(params, json_type_null))
		return 0;
	if (!json_object_is_type(params, json_type_object))
		return seterr(err, n, "%s.params: expected a mapping", where);
	a->p = ecalloc((size_t)json_object_object_length(params) + 1, sizeof *a->p);
	json_object_object_foreach(params, pname, pv) {
		char pw[512];
		snprintf(pw, sizeof pw, "%s.params.%s", where, pname);
		if (load_param(&a->p[a->np++], pname, pv, pw, err, n) < 0)
			return -1;
	}
	return 0;
}

/* Builds a catalog from YAML/JSON text; name is used in messages. */
static struct catalog *
load_text(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	struct catalog *c = ecalloc(1, sizeof *c);
	char msg[512];
	json_object *root = NULL, *actions, *rb;

	js_sha256_hex(text, len, c->sha);
	root = cfg_parse(path, text, len, msg, sizeof msg);
	if (root == NULL) {
		snprintf(err, errlen, "%s", msg);
		free(c);
		return NULL;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "actions", &actions) ||
	    !json_object_is_type(actions, json_type_object) || json_object_object_length(actions) == 0) {
		snprintf(err, errlen, "%s: actions: expected a mapping of actions", path);
		goto fail;
	}
	c->a = ecalloc((size_t)json_object_object_length(actions), sizeof *c->a);
	json_object_object_foreach(actions, name, ao) {
		if (load_action(&c->a[c->na++], name, ao, msg, sizeof msg) < 0) {
			snprintf(err, errlen, "%s: %s", path, msg);
			goto fail;
		}
	}
	c->runbook = json_object_new_object();
	if (json_object_object_get_ex(root, "runbook", &rb) && !json_object_is_type(rb, json_type_null)) {
		if (!json_object_is_type(rb, json_type_object)) {
			snprintf(err, errlen, "%s: runbook: expected a mapping of faults", path);
			goto fail;
		}
		json_object_object_foreach(rb, fault, steps) {
			if (!json_object_is_type(steps, json_type_array)) {
				snprintf(err, errlen, "%s: runbook.%s: expected a list of steps", path, fault);
				goto fail;
			}
			for (size_t i = 0; i < json_object_array_length(steps); i++) {
				json_object *s = json_object_array_get_idx(steps, i), *pp = NULL, *out;
				const char *an = js_str(s, "action");
				if (s == NULL || !json_object_is_type(s, json_type_object) || an == NULL) {
					snprintf(err, errlen, "%s: runbook.%s[%zu]: expected {action, params}",
						 path, fault, i);
					goto fail;
				}
				json_object_object_get_ex(s, "params", &pp);
				if (catalog_check_step(c, an, "x", pp, &out, msg, sizeof msg) < 0) {
					snprintf(err, errlen, "%s: runbook.%s[%zu]: %s", path, fault, i, msg);
					goto fail;
				}
				json_object_put(out);
			}
			json_object_object_add(c->runbook, fault, json_object_get(steps));
		}
	}
	json_object_put(root);
	return c;
fail:
	json_object_put(root);
	catalog_free(c);
	return NULL;
}

struct catalog *
catalog_load(const char *path, char *err, size_t errlen)
{
	struct buf b = BUF_INIT((size_t)16 << 20);
	char chunk[8192];
	struct catalog *c;
	FILE *f;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_add(&b, chunk, n) < 0) {
			fclose(f);
			buf_free(&b);
			snprintf(err, errlen, "%s: file too large", path);
			return NULL;
		}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		fclose(f);
		buf_free(&b);
		return NULL;
	}
	fclose(f);
	c = load_text(path, b.p ? b.p : "", b.len, err, errlen);
	buf_free(&b);
	return c;
}

struct catalog *
catalog_builtin(char *err, size_t errlen)
{
	return load_text("<built-in catalog>", catalog_default_yaml, strlen(catalog_default_yaml),
			 err, errlen);
}

void
catalog_free(struct catalog *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->na; i++) {
		struct caction *a = &c->a[i];
		for (size_t j = 0; j < a->np; j++) {
			struct cparam *p = &a->p[j];
			free(p->name), free(p->desc), free(p->pattern);
			json_object_put(p->values);
			json_object_put(p->def);
			if (p->has_re)
				regfree(&p->re);
		}
		free(a->p);
		free(a->name), free(a->desc), free(a->target), free(a->risk);
	}
	free(c->a);
	json_object_put(c->runbook);
	free(c);
}

const char *catalog_sha256(const struct catalog *c) { return c->sha; }
size_t catalog_count(const struct catalog *c) { return c->na; }
const char *catalog_name(const struct catalog *c, size_t i) { return i < c->na ? c->a[i].name : NULL; }
int catalog_has(const struct catalog *c, const char *action) { return find(c, action) != NULL; }

const char *
catalog_risk(const struct catalog *c, const char *action)
{
	const struct caction *a = find(c, action);
	return a ? a->risk : NULL;
}

const char *
catalog_target(const struct catalog *c, const char *action)
{
	const struct caction *a = find(c, action);
	return a ? a->target : NULL;
}

const char *
catalog_description(const struct catalog *c, const char *action)
{
	const struct caction *a = find(c, action);
	return a ? a->desc : NULL;
}

int
catalog_check_step(const struct catalog *c, const char *action, const char *target,
		   json_object *params, json_object **out, char *why, size_t whylen)
{
	const struct caction *a = find(c, action);
	json_object *res, *v;

	*out = NULL;
	if (a == NULL)
		return seterr(why, whylen, "unknown action '%.80s'", action ? action : "");
	if (!target_ok(target))
		return seterr(why, whylen, "bad target '%.80s'", target ? target : "");
	if (params && !json_object_is_type(params, json_type_null) &&
	    !json_object_is_type(params, json_type_object))
		return seterr(why, whylen, "params: expected an object");
	if (params && json_object_is_type(params, json_type_object)) {
		json_object_object_foreach(params, k, pv) {
			size_t j;
			if (json_object_is_type(pv, json_type_null))
				continue;
			for (j = 0; j < a->np; j++)
				if (strcmp(a->p[j].name, k) == 0)
					break;
			if (j == a->np)
				return seterr(why, whylen, "unknown param '%.60s' for action '%s'", k, a->name);
		}
	}
	res = json_object_new_object();
	for (size_t j = 0; j < a->np; j++) {
		const struct cparam *p = &a->p[j];
		v = NULL;
		if (params && json_object_is_type(params, json_type_object))
			json_object_object_get_ex(params, p->name, &v);
		if (v == NULL || json_object_is_type(v, json_type_null)) {
			if (p->required) {
				json_object_put(res);
				return seterr(why, whylen, "missing required param '%s'", p->name);
			}
			if (p->def)
				json_object_object_add(res, p->name, json_object_get(p->def));
			continue;
		}
		if (check_value(p, v, why, whylen) < 0) {
			json_object_put(res);
			return -1;
		}
		json_object_object_add(res, p->name, json_object_get(v));
	}
	*out = res;
	return 0;
}

json_object *
catalog_runbook(const struct catalog *c, const char *fault)
{
	json_object *v;

	if (fault == NULL || !json_object_object_get_ex(c->runbook, fault, &v))
		return NULL;
	return v;
}

char *
catalog_prompt_text(const struct catalog *c)
{
	struct buf b = BUF_INIT(0);

	for (size_t i = 0; i < c->na; i++) {
		const struct caction *a = &c->a[i];
		buf_printf(&b, "- %s (target: %s, risk: %s): %s\n", a->name, a->target, a->risk, a->desc);
		for (size_t j = 0; j < a->np; j++) {
			const struct cparam *p = &a->p[j];
			buf_printf(&b, "    param %s: ", p->name);
			if (p->type == P_ENUM) {
				buf_adds(&b, "one of ");
				for (size_t k = 0; k < json_object_array_length(p->values); k++)
					buf_printf(&b, "%s%s", k ? "|" : "",
						   json_object_get_string(json_object_array_get_idx(p->values, k)));
			} else if (p->type == P_REGEX) {
				buf_printf(&b, "string matching %s", p->pattern);
			} else {
				buf_adds(&b, "integer");
				if (p->has_min && p->has_max)
					buf_printf(&b, " %lld..%lld", p->min, p->max);
				else if (p->has_min)
					buf_printf(&b, " >= %lld", p->min);
				else if (p->has_max)
					buf_printf(&b, " <= %lld", p->max);
			}
			if (p->required)
				buf_adds(&b, ", required");
			else if (p->def)
				buf_printf(&b, ", default %s", json_object_to_json_string_ext(p->def, JS_FLAGS));
			if (p->desc[0])
				buf_printf(&b, " - %s", p->desc);
			buf_addc(&b, '\n');
		}
	}
	return buf_detach(&b);
}

/* A parameter's schema: its type (nullable when optional), an enum's
 * values, an integer's bounds.  A regex's pattern is left to the check
 * after the answer (grammar converters take only part of POSIX ERE). */
static json_object *
param_schema(const struct cparam *p)
{
	json_object *ps = json_object_new_object(), *t;
	const char *type = p->type == P_INTEGER ? "integer" : "string";

	if (p->required) {
		t = json_object_new_string(type);
	} else {
		t = json_object_new_array();
		json_object_array_add(t, json_object_new_string(type));
		json_object_array_add(t, json_object_new_string("null"));
	}
	json_object_object_add(ps, "type", t);
	if (p->type == P_ENUM) {
		json_object *e = js_copy(p->values);
		if (!p->required)
			json_object_array_add(e, NULL);
		json_object_object_add(ps, "enum", e);
	} else if (p->type == P_INTEGER) {
		if (p->has_min)
			json_object_object_add(ps, "minimum", json_object_new_int64(p->min));
		if (p->has_max)
			json_object_object_add(ps, "maximum", json_object_new_int64(p->max));
	}
	return ps;
}

static json_object *
str_schema(void)
{
	json_object *x = json_object_new_object();

	js_add_str(x, "type", "string");
	return x;
}

json_object *
catalog_step_schema(const struct catalog *c)
{
	json_object *any = json_object_new_array(), *s = json_object_new_object();

	for (size_t i = 0; i < c->na; i++) {
		const struct caction *a = &c->a[i];
		json_object *step = json_object_new_object(), *sp = json_object_new_object();
		json_object *act = str_schema(), *e = json_object_new_array();
		json_object *params = json_object_new_object(), *pp = json_object_new_object();
		json_object *preq = json_object_new_array(), *req = json_object_new_array();

		json_object_array_add(e, json_object_new_string(a->name));
		json_object_object_add(act, "enum", e);
		json_object_object_add(sp, "action", act);
		json_object_object_add(sp, "target", str_schema());
		for (size_t j = 0; j < a->np; j++) {
			json_object_object_add(pp, a->p[j].name, param_schema(&a->p[j]));
			json_object_array_add(preq, json_object_new_string(a->p[j].name));
		}
		js_add_str(params, "type", "object");
		json_object_object_add(params, "properties", pp);
		json_object_object_add(params, "required", preq);
		js_add_bool(params, "additionalProperties", 0);
		json_object_object_add(sp, "params", params);
		json_object_object_add(sp, "rationale", str_schema());
		js_add_str(step, "type", "object");
		json_object_object_add(step, "properties", sp);
		for (const char *const *k = (const char *const[]){"action", "target", "params", "rationale",
								   NULL}; *k; k++)
			json_object_array_add(req, json_object_new_string(*k));
		json_object_object_add(step, "required", req);
		js_add_bool(step, "additionalProperties", 0);
		json_object_array_add(any, step);
	}
	json_object_object_add(s, "anyOf", any);
	return s;
}
