/* schema: a JSON-schema subset validator (see schema.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "js.h"
#include "schema.h"

static const char *
type_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_double: return "number";
	case json_type_int: return "integer";
	case json_type_object: return "object";
	case json_type_array: return "array";
	case json_type_string: return "string";
	}
	return "?";
}

static int
is_type(json_object *v, const char *t)
{
	enum json_type jt = json_object_get_type(v);

	if (strcmp(t, "null") == 0)
		return jt == json_type_null;
	if (strcmp(t, "boolean") == 0)
		return jt == json_type_boolean;
	if (strcmp(t, "object") == 0)
		return jt == json_type_object;
	if (strcmp(t, "array") == 0)
		return jt == json_type_array;
	if (strcmp(t, "string") == 0)
		return jt == json_type_string;
	if (strcmp(t, "number") == 0)
		return jt == json_type_int || jt == json_type_double;
	if (strcmp(t, "integer") == 0) {
		if (jt == json_type_int)
			return 1;
		if (jt == json_type_double) {
			double d = json_object_get_double(v);
			return isfinite(d) && d == floor(d);
		}
	}
	return 0;
}

/* Whether two JSON values are equal (numbers compared as numbers). */
static int
equal(json_object *a, json_object *b)
{
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);

	if ((ta == json_type_int || ta == json_type_double) &&
	    (tb == json_type_int || tb == json_type_double))
		return json_object_get_double(a) == json_object_get_double(b);
	if (ta != tb)
		return 0;
	switch (ta) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a), json_object_get_string(b),
			      (size_t)json_object_get_string_len(a)) == 0;
	default:
		return json_object_equal(a, b);
	}
}

static const char *
at(const char *path)
{
	return *path ? path : "answer";
}

static int
fail(char *why, size_t n, const char *path, const char *fmt, const char *a, const char *b)
{
	char msg[256];

	snprintf(msg, sizeof msg, fmt, a, b);
	snprintf(why, n, "%s: %s", at(path), msg);
	return -1;
}

static int
num_kw(json_object *schema, const char *key, double *out)
{
	return js_num(schema, key, out);
}

static int
check(json_object *s, json_object *v, char *path, size_t pathcap, char *why, size_t n)
{
	json_object *t, *x;
	double lim;
	char a[64], b[64];
	size_t plen = strlen(path);

	if (s == NULL || !json_object_is_type(s, json_type_object))
		return 0;
	if (json_object_object_get_ex(s, "type", &t)) {
		int ok = 0;
		if (json_object_is_type(t, json_type_string))
			ok = is_type(v, json_object_get_string(t));
		else if (json_object_is_type(t, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(t) && !ok; i++) {
				json_object *e = json_object_array_get_idx(t, i);
				ok = json_object_is_type(e, json_type_string) &&
				     is_type(v, json_object_get_string(e));
			}
		} else
			ok = 1;
		if (!ok) {
			const char *want = json_object_is_type(t, json_type_string) ?
				json_object_get_string(t) : json_object_to_json_string_ext(t, JS_FLAGS);
			return fail(why, n, path, "expected %s, got %s", want, type_name(v));
		}
	}
	if (json_object_object_get_ex(s, "anyOf", &x) && json_object_is_type(x, json_type_array) &&
	    json_object_array_length(x) > 0) {
		/* the first branch that holds; else the failure that got deepest */
		char best[512] = "", bwhy[400] = "";
		size_t bdepth = 0;
		int ok = 0;
		for (size_t i = 0; i < json_object_array_length(x) && !ok; i++) {
			char w[400] = "";
			ok = check(json_object_array_get_idx(x, i), v, path, pathcap, w, sizeof w) == 0;
			if (!ok && (bwhy[0] == '\0' || strlen(path) > bdepth)) {
				bdepth = strlen(path);
				snprintf(best, sizeof best, "%s", path);
				snprintf(bwhy, sizeof bwhy, "%s", w);
			}
			path[plen] = '\0';
		}
		if (!ok) {
			snprintf(why, n, "%s (no alternative of anyOf holds)", bwhy);
			snprintf(path, pathcap, "%s", best);
			return -1;
		}
	}
	if (json_object_object_get_ex(s, "enum", &x) && json_object_is_type(x, json_type_array)) {
		int ok = 0;
		for (size_t i = 0; i < json_object_array_length(x) && !ok; i++)
			ok = equal(v, json_object_array_get_idx(x, i));
		if (!ok) {
			const char *txt = json_object_to_json_string_ext(v, JS_FLAGS);
			snprintf(a, sizeof a, "%.60s", txt);
			return fail(why, n, path, "%s is not one of the allowed values%s", a, "");
		}
	}
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		snprintf(a, sizeof a, "%.17g", d);
		if (num_kw(s, "minimum", &lim) == 0 && d < lim) {
			snprintf(b, sizeof b, "%.17g", lim);
			return fail(why, n, path, "%s is below the minimum %s", a, b);
		}
		if (num_kw(s, "maximum", &lim) == 0 && d > lim) {
			snprintf(b, sizeof b, "%.17g", lim);
			return fail(why, n, path, "%s is above the maximum %s", a, b);
		}
	}
	if (json_object_is_type(v, json_type_string)) {
		double len = json_object_get_string_len(v);
		snprintf(a, sizeof a, "%.0f", len);
		if (num_kw(s, "minLength", &lim) == 0 && len < lim) {
			snprintf(b, sizeof b, "%.0f", lim);
			return fail(why, n, path, "string of %s bytes is shorter than %s", a, b);
		}
		if (num_kw(s, "maxLength", &lim) == 0 && len > lim) {
			snprintf(b, sizeof b, "%.0f", lim);
			return fail(why, n, path, "string of %s bytes is longer than %s", a, b);
		}
	}
	if (json_object_is_type(v, json_type_array)) {
		size_t len = json_object_array_length(v);
		snprintf(a, sizeof a, "%zu", len);
		if (num_kw(s, "minItems", &lim) == 0 && (double)len < lim) {
			snprintf(b, sizeof b, "%.0f", lim);
			return fail(why, n, path, "%s items, at least %s expected", a, b);
		}
		if (num_kw(s, "maxItems", &lim) == 0 && (double)len > lim) {
			snprintf(b, sizeof b, "%.0f", lim);
			return fail(why, n, path, "%s items, at most %s allowed", a, b);
		}
		if (json_object_object_get_ex(s, "items", &x))
			for (size_t i = 0; i < len; i++) {
				snprintf(path + plen, pathcap - plen, "[%zu]", i);
				if (check(x, json_object_array_get_idx(v, i), path, pathcap, why, n) < 0)
					return -1;
				path[plen] = '\0';
			}
	}
	if (json_object_is_type(v, json_type_object)) {
		json_object *props = NULL, *addl = NULL;
		json_object_object_get_ex(s, "properties", &props);
		json_object_object_get_ex(s, "additionalProperties", &addl);
		if (json_object_object_get_ex(s, "required", &x) && json_object_is_type(x, json_type_array))
			for (size_t i = 0; i < json_object_array_length(x); i++) {
				const char *k = json_object_get_string(json_object_array_get_idx(x, i));
				if (k && !json_object_object_get_ex(v, k, NULL))
					return fail(why, n, path, "missing required member \"%s\"%s", k, "");
			}
		json_object_object_foreach(v, key, val) {
			json_object *ps = NULL;
			int known = props && json_object_object_get_ex(props, key, &ps);
			if (!known && addl && json_object_is_type(addl, json_type_boolean) &&
			    !json_object_get_boolean(addl))
				return fail(why, n, path, "unexpected member \"%.60s\"%s", key, "");
			if (!known && addl && json_object_is_type(addl, json_type_object))
				ps = addl;
			if (ps == NULL)
				continue;
			snprintf(path + plen, pathcap - plen, "%s%s", plen ? "." : "", key);
			if (check(ps, val, path, pathcap, why, n) < 0)
				return -1;
			path[plen] = '\0';
		}
	}
	return 0;
}

int
schema_validate(json_object *schema, json_object *v, char *why, size_t whylen)
{
	char path[512] = "";

	if (whylen)
		why[0] = '\0';
	return check(schema, v, path, sizeof path, why, whylen);
}

static int
has_type(json_object *s, const char *name)
{
	json_object *t;

	if (!json_object_object_get_ex(s, "type", &t))
		return 0;
	if (json_object_is_type(t, json_type_string))
		return strcmp(json_object_get_string(t), name) == 0;
	if (json_object_is_type(t, json_type_array))
		for (size_t i = 0; i < json_object_array_length(t); i++) {
			const char *n = json_object_get_string(json_object_array_get_idx(t, i));
			if (n && strcmp(n, name) == 0)
				return 1;
		}
	return 0;
}

void
schema_bound(json_object *s, int max_items, int max_len)
{
	json_object *x;

	if (!json_object_is_type(s, json_type_object))
		return;
	if (max_items > 0 && has_type(s, "array") && !json_object_object_get_ex(s, "maxItems", NULL))
		json_object_object_add(s, "maxItems", json_object_new_int(max_items));
	if (max_len > 0 && has_type(s, "string") && !json_object_object_get_ex(s, "maxLength", NULL) &&
	    !json_object_object_get_ex(s, "enum", NULL))
		json_object_object_add(s, "maxLength", json_object_new_int(max_len));
	if (json_object_object_get_ex(s, "items", &x))
		schema_bound(x, max_items, max_len);
	if (json_object_object_get_ex(s, "anyOf", &x) && json_object_is_type(x, json_type_array))
		for (size_t i = 0; i < json_object_array_length(x); i++)
			schema_bound(json_object_array_get_idx(x, i), max_items, max_len);
	if (json_object_object_get_ex(s, "properties", &x) && json_object_is_type(x, json_type_object)) {
		json_object_object_foreach(x, k, v) {
			(void)k;
			schema_bound(v, max_items, max_len);
		}
	}
	if (json_object_object_get_ex(s, "additionalProperties", &x))
		schema_bound(x, max_items, max_len);
}
