/*
 * allowlist: aiops-exec's allowlist of actions (see allowlist.h).
 */
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "allowlist.h"
#include "buf.h"
#include "cfg.h"
#include "err.h"
#include "js.h"
#include "rx.h"

#define DEFAULT_TARGET_RE "[a-z0-9][a-z0-9-]{0,62}"
#define MAX_VALUE 4096          /* no value is ever longer than this */
#define MAX_TARGET 253

const char *const allow_risk_name[4] = {"", "low", "medium", "high"};

int
allow_risk_parse(const char *s)
{
	for (int i = 1; i <= 3; i++)
		if (s && strcmp(s, allow_risk_name[i]) == 0)
			return i;
	return 0;
}

void
allow_fail(const char *file, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	efatal(EXIT_USAGE, "%s: %s", file, msg);
}

void
allow_re_compile(regex_t *re, const char *pat, const char *file, const char *where)
{
	char e[256];

	if (rx_compile(re, pat, e, sizeof e) < 0)
		allow_fail(file, "%s: bad pattern '%.200s': %s", where, pat, e);
}

static int
is_name(const char *s, size_t n)
{
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/*
 * The checks every value and target goes through, whatever its type: not
 * empty, at most max bytes, valid UTF-8, no NUL, newline or other control
 * character.  Returns NULL, or what is wrong.
 */
static const char *
check_text(const char *s, size_t n, size_t max)
{
	if (n == 0)
		return "is empty";
	if (n > max)
		return "is too long";
	if (memchr(s, '\0', n))
		return "contains a NUL byte";
	if (!js_utf8_valid(s, n))
		return "is not valid UTF-8";
	if (memchr(s, '\n', n) || memchr(s, '\r', n))
		return "contains a line break";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

/*
 * Checks value v of parameter p.  Returns NULL and sets *out (malloc'd) to
 * the text to substitute, or returns what is wrong.
 */
static const char *
check_value(const struct allow_param *p, json_object *v, char **out)
{
	const char *s, *why;
	size_t n;
	char num[32];

	*out = NULL;
	if (p->type == ALLOW_INT) {
		long long x;
		if (json_object_is_type(v, json_type_int)) {
			errno = 0;
			x = (long long)json_object_get_int64(v);
		} else if (json_object_is_type(v, json_type_string)) {
			char *end;
			s = json_object_get_string(v);
			n = (size_t)json_object_get_string_len(v);
			if (n == 0 || n > 19 || strspn(s + (s[0] == '-'), "0123456789") !=
			    n - (s[0] == '-') || n == (size_t)(s[0] == '-'))
				return "is not an integer";
			errno = 0;
			x = strtoll(s, &end, 10);
			if (errno)
				return "is out of range";
		} else {
			return "is not an integer";
		}
		if (x < p->min || x > p->max)
			return "is out of range";
		snprintf(num, sizeof num, "%lld", x);
		*out = estrdup(num);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string))
		return "is not a string";
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if ((why = check_text(s, n, p->max_len)) != NULL)
		return why;
	if (p->type == ALLOW_ENUM) {
		size_t i, k = json_object_array_length(p->values);
		for (i = 0; i < k; i++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(p->values, i)), s) == 0)
				break;
		if (i == k)
			return "is not one of the allowed values";
	} else if (s[0] == '-') {
		return "starts with '-'";
	}
	if (p->has_re && regexec(&p->re, s, 0, NULL, 0) != 0)
		return "does not match its pattern";
	*out = estrndup(s, n);
	return NULL;
}

static void
load_param(const char *path, const char *an, struct allow_param *p, const char *name, json_object *spec)
{
	const char *type, *pat;
	char where[256], *tmp;
	int64_t x;
	json_object *v;

	snprintf(where, sizeof where, "actions.%s.params.%s", an, name);
	p->name = name;
	if (!is_name(name, strlen(name)))
		allow_fail(path, "%s: a parameter name is [a-z_][a-z0-9_]*", where);
	if (strcmp(name, "target") == 0)
		allow_fail(path, "%s: 'target' is reserved", where);
	if (!json_object_is_type(spec, json_type_object))
		allow_fail(path, "%s: expected a mapping", where);
	json_object_object_foreach(spec, k, kv) {
		(void)kv;
		if (strcmp(k, "type") && strcmp(k, "pattern") && strcmp(k, "values") &&
		    strcmp(k, "min") && strcmp(k, "max") && strcmp(k, "max_len") &&
		    strcmp(k, "default") && strcmp(k, "description"))
			allow_fail(path, "%s: unknown key '%s'", where, k);
	}
	type = js_str(spec, "type");
	if (type && strcmp(type, "string") == 0)
		p->type = ALLOW_STRING;
	else if (type && strcmp(type, "enum") == 0)
		p->type = ALLOW_ENUM;
	else if (type && strcmp(type, "integer") == 0)
		p->type = ALLOW_INT;
	else
		allow_fail(path, "%s: type must be string, enum or integer", where);
	p->max_len = 128;
	if (json_object_object_get_ex(spec, "max_len", &v)) {
		if (js_int(spec, "max_len", &x) < 0 || x < 1 || x > MAX_VALUE)
			allow_fail(path, "%s.max_len: expected an integer from 1 to %d", where, MAX_VALUE);
		p->max_len = (size_t)x;
	}
	pat = js_str(spec, "pattern");
	if (json_object_object_get_ex(spec, "pattern", &v) && pat == NULL)
		allow_fail(path, "%s.pattern: expected a string", where);
	if (pat) {
		allow_re_compile(&p->re, pat, path, where);
		p->has_re = 1;
	}
	if (p->type == ALLOW_STRING && !p->has_re)
		allow_fail(path, "%s: a string parameter needs a pattern", where);
	if (p->type == ALLOW_ENUM) {
		size_t i;
		if (!json_object_object_get_ex(spec, "values", &p->values) ||
		    !json_object_is_type(p->values, json_type_array) ||
		    json_object_array_length(p->values) == 0)
			allow_fail(path, "%s.values: expected a non-empty list", where);
		for (i = 0; i < json_object_array_length(p->values); i++)
			if (!json_object_is_type(json_object_array_get_idx(p->values, i), json_type_string))
				allow_fail(path, "%s.values: expected strings (quote numbers)", where);
	}
	p->min = 0;
	p->max = 1000000;
	if (json_object_object_get_ex(spec, "min", &v)) {
		if (js_int(spec, "min", &x) < 0 || !json_object_is_type(v, json_type_int))
			allow_fail(path, "%s.min: expected an integer", where);
		p->min = x;
	}
	if (json_object_object_get_ex(spec, "max", &v)) {
		if (js_int(spec, "max", &x) < 0 || !json_object_is_type(v, json_type_int))
			allow_fail(path, "%s.max: expected an integer", where);
		p->max = x;
	}
	if (p->min > p->max)
		allow_fail(path, "%s: min is above max", where);
	if (json_object_object_get_ex(spec, "default", &p->def) && p->def) {
		const char *why = check_value(p, p->def, &tmp);
		if (why)
			allow_fail(path, "%s.default: the default %s", where, why);
		free(tmp);
	}
}

/* Parses one argv template element. */
static void
load_elem(const char *path, const char *an, struct allow_action *a, int i, const char *s)
{
	struct allow_elem *e = &a->argv[i];
	const char *o = strchr(s, '{'), *c;
	int k;

	e->param = -1;
	if (o == NULL) {
		if (strchr(s, '}'))
			allow_fail(path, "actions.%s.argv[%d]: unmatched '}'", an, i);
		if (i == 0 && s[0] != '/')
			allow_fail(path, "actions.%s.argv[0]: the program must be an absolute path", an);
		e->lit = s;
		return;
	}
	if (i == 0)
		allow_fail(path, "actions.%s.argv[0]: the program must be a literal absolute path", an);
	c = strchr(o, '}');
	if (c == NULL || memchr(s, '}', (size_t)(o - s)) || strchr(c + 1, '{') || strchr(c + 1, '}'))
		allow_fail(path, "actions.%s.argv[%d]: at most one {placeholder} per element", an, i);
	if (!is_name(o + 1, (size_t)(c - o - 1)))
		allow_fail(path, "actions.%s.argv[%d]: bad placeholder name", an, i);
	e->pre = estrndup(s, (size_t)(o - s));
	e->suf = estrdup(c + 1);
	if ((size_t)(c - o - 1) == 6 && strncmp(o + 1, "target", 6) == 0)
		return;
	for (k = 0; k < a->nparams; k++)
		if (strlen(a->params[k].name) == (size_t)(c - o - 1) &&
		    strncmp(a->params[k].name, o + 1, (size_t)(c - o - 1)) == 0)
			break;
	if (k == a->nparams)
		allow_fail(path, "actions.%s.argv[%d]: '%s' names no parameter", an, i, s);
	e->param = k;
}

static void
load_action(const char *path, struct allow_action *a, const char *name, json_object *spec,
	    const char *tpat)
{
	json_object *av, *ps;
	const char *pat;
	char where[256];
	int i;

	a->name = name;
	if (!json_object_is_type(spec, json_type_object))
		allow_fail(path, "actions.%s: expected a mapping", name);
	json_object_object_foreach(spec, k, kv) {
		(void)kv;
		if (strcmp(k, "argv") && strcmp(k, "params") && strcmp(k, "target_pattern") &&
		    strcmp(k, "description") && strcmp(k, "risk"))
			allow_fail(path, "actions.%s: unknown key '%s'", name, k);
	}
	if (json_object_object_get_ex(spec, "params", &ps) && ps) {
		if (!json_object_is_type(ps, json_type_object))
			allow_fail(path, "actions.%s.params: expected a mapping", name);
		a->params = ecalloc((size_t)json_object_object_length(ps) + 1, sizeof *a->params);
		json_object_object_foreach(ps, pn, pv)
			load_param(path, name, &a->params[a->nparams++], pn, pv);
	}
	if (!json_object_object_get_ex(spec, "argv", &av) ||
	    !json_object_is_type(av, json_type_array) || json_object_array_length(av) == 0)
		allow_fail(path, "actions.%s.argv: expected a non-empty list", name);
	a->argc = (int)json_object_array_length(av);
	a->argv = ecalloc((size_t)a->argc, sizeof *a->argv);
	for (i = 0; i < a->argc; i++) {
		json_object *e = json_object_array_get_idx(av, i);
		if (!json_object_is_type(e, json_type_string))
			allow_fail(path, "actions.%s.argv[%d]: expected a string (quote it)", name, i);
		load_elem(path, name, a, i, json_object_get_string(e));
	}
	pat = js_str(spec, "target_pattern");
	snprintf(where, sizeof where, "actions.%s.target_pattern", name);
	allow_re_compile(&a->target_re, pat ? pat : tpat, path, where);
	if ((a->risk = allow_risk_parse(js_str(spec, "risk"))) == 0)
		allow_fail(path, "actions.%s.risk: expected low, medium or high", name);
}

void
allowlist_load(struct allowlist *al, const char *path)
{
	char err[1024];
	json_object *acts, *v;
	const char *tpat = DEFAULT_TARGET_RE;

	al->doc = cfg_load(path, err, sizeof err);
	if (al->doc == NULL)
		efatal(EXIT_USAGE, "%s", err);
	al->path = path;
	if (!json_object_is_type(al->doc, json_type_object))
		allow_fail(path, "expected a mapping");
	json_object_object_foreach(al->doc, k, kv) {
		(void)kv;
		if (strcmp(k, "actions") && strcmp(k, "target_pattern"))
			allow_fail(path, "unknown key '%s'", k);
	}
	if (json_object_object_get_ex(al->doc, "target_pattern", &v)) {
		if (!json_object_is_type(v, json_type_string))
			allow_fail(path, "target_pattern: expected a string");
		regex_t re;
		tpat = json_object_get_string(v);
		allow_re_compile(&re, tpat, path, "target_pattern");
		regfree(&re);
	}
	if (!json_object_object_get_ex(al->doc, "actions", &acts) ||
	    !json_object_is_type(acts, json_type_object))
		allow_fail(path, "expected an 'actions' mapping");
	al->actions = ecalloc((size_t)json_object_object_length(acts) + 1, sizeof *al->actions);
	json_object_object_foreach(acts, an, av)
		load_action(path, &al->actions[al->nactions++], an, av, tpat);
}

const struct allow_action *
allowlist_find(const struct allowlist *al, const char *name)
{
	for (int i = 0; i < al->nactions; i++)
		if (strcmp(al->actions[i].name, name) == 0)
			return &al->actions[i];
	return NULL;
}

const char *
allowlist_check(const struct allowlist *al, json_object *step, char ***argvp, char *why,
		size_t wn)
{
	const char *an = js_str(step, "action"), *t, *bad;
	json_object *tv, *ps = NULL;
	const struct allow_action *a = allowlist_find(al, an);
	char **vals, **argv;
	size_t tn;
	int i;

	*argvp = NULL;
	if (a == NULL) {
		snprintf(why, wn, "action '%.64s' is not in the allowlist", an);
		return "allowlist-action";
	}
	json_object_object_get_ex(step, "target", &tv);
	t = json_object_get_string(tv);
	tn = (size_t)json_object_get_string_len(tv);
	if ((bad = check_text(t, tn, MAX_TARGET)) == NULL) {
		if (t[0] == '-')
			bad = "starts with '-'";
		else if (regexec(&a->target_re, t, 0, NULL, 0) != 0)
			bad = "does not match the target pattern";
	}
	if (bad) {
		snprintf(why, wn, "target %s", bad);
		return "allowlist-target";
	}
	json_object_object_get_ex(step, "params", &ps);
	vals = ecalloc((size_t)a->nparams + 1, sizeof *vals);
	if (ps) {
		json_object_object_foreach(ps, k, v) {
			for (i = 0; i < a->nparams; i++)
				if (strcmp(a->params[i].name, k) == 0)
					break;
			if (i == a->nparams) {
				snprintf(why, wn, "unknown parameter '%.64s'", k);
				goto refuse;
			}
			if ((bad = check_value(&a->params[i], v, &vals[i])) != NULL) {
				snprintf(why, wn, "parameter '%s' %s", k, bad);
				goto refuse;
			}
		}
	}
	for (i = 0; i < a->nparams; i++) {
		if (vals[i])
			continue;
		if (a->params[i].def == NULL) {
			snprintf(why, wn, "missing parameter '%s'", a->params[i].name);
			goto refuse;
		}
		check_value(&a->params[i], a->params[i].def, &vals[i]);
	}
	argv = ecalloc((size_t)a->argc + 1, sizeof *argv);
	for (i = 0; i < a->argc; i++) {
		const struct allow_elem *e = &a->argv[i];
		struct buf b = BUF_INIT(0);
		if (e->lit) {
			argv[i] = estrdup(e->lit);
			continue;
		}
		buf_adds(&b, e->pre);
		buf_add(&b, e->param < 0 ? t : vals[e->param], e->param < 0 ? tn : strlen(vals[e->param]));
		buf_adds(&b, e->suf);
		argv[i] = buf_detach(&b);
	}
	for (i = 0; i < a->nparams; i++)
		free(vals[i]);
	free(vals);
	*argvp = argv;
	return NULL;
refuse:
	for (i = 0; i < a->nparams; i++)
		free(vals[i]);
	free(vals);
	return "allowlist-param";
}
