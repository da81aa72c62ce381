/* js: json-c helpers, UTF-8 check, SHA-256 (for content hashes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "js.h"
#include "scan.h"
#include "sha256.h"
#include "ts.h"

const char *
js_str(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

json_object *
js_path(json_object *o, const char *dotted)
{
	const char *p = dotted, *dot;
	char key[256];
	json_object *v;

	while (o != NULL && *p) {
		size_t n;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof key || !json_object_is_type(o, json_type_object))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &v))
			return NULL;
		o = v;
		p = dot ? dot + 1 : p + n;
	}
	return o;
}

int
js_num(json_object *o, const char *key, double *out)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return -1;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return -1;
	*out = json_object_get_double(v);
	return 0;
}

int
js_int(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return -1;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

int
js_bool(json_object *o, const char *key, int *out)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return -1;
	*out = json_object_get_boolean(v);
	return 0;
}

int64_t
js_ts(json_object *o, const char *key)
{
	const char *s = js_str(o, key), *why;
	int64_t ns;

	if (s == NULL || ts_parse(s, strlen(s), &ns, &why) < 0)
		return TS_NONE;
	return ns;
}

void
js_add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, v ? json_object_new_string(v) : NULL);
}

void
js_add_strn(json_object *o, const char *key, const char *v, size_t n)
{
	json_object_object_add(o, key, json_object_new_string_len(v, (int)n));
}

void
js_add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void
js_add_double(json_object *o, const char *key, double v)
{
	json_object_object_add(o, key, js_new_double(v));
}

void
js_add_bool(json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

void
js_add_ts(json_object *o, const char *key, int64_t ns)
{
	char b[TS_LEN + 1];

	if (ns == TS_NONE)
		json_object_object_add(o, key, NULL);
	else
		json_object_object_add(o, key, json_object_new_string_len(ts_format(ns, b), TS_LEN));
}

void
js_add_ref(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, json_object_get(v));
}

json_object *
js_new_double(double v)
{
	char b[64];

	if (!isfinite(v))
		return NULL;
	if (v == floor(v) && fabs(v) < 1e15)
		return json_object_new_int64((int64_t)v);
	/* Shortest of %.15g..%.17g that reads back exactly. */
	for (int p = 15; p <= 17; p++) {
		snprintf(b, sizeof b, "%.*g", p, v);
		if (strtod(b, NULL) == v)
			break;
	}
	return json_object_new_double_s(v, b);
}

int
js_utf8_valid(const char *s, size_t n)
{
	const char *p = s, *e = s + n;

	while (p < e) {
		size_t k;
		if ((unsigned char)*p < 0x80) {
			p++;
			continue;
		}
		if ((k = scan_utf8_seq(p, e)) == 0)
			return 0;
		p += k;
	}
	return 1;
}

const char *
js_dump(json_object *o, size_t *len)
{
	return json_object_to_json_string_length(o, JS_FLAGS, len);
}

json_object *
js_parse(json_tokener *tok, const char *s, size_t n, const char **why)
{
	json_tokener *own = NULL;
	json_object *o;
	enum json_tokener_error e;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	if (n > (size_t)INT32_MAX - 1) {
		*why = "line too long for the JSON parser";
		return NULL;
	}
	if (tok == NULL)
		tok = own = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (tok == NULL)
		efatal(EXIT_FAIL, "out of memory");
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, s, (int)n);
	e = json_tokener_get_error(tok);
	*why = NULL;
	if (e == json_tokener_continue) {
		/* Incomplete text (or a bare number that needs a terminator). */
		o = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
		if (e == json_tokener_continue || e != json_tokener_success) {
			json_object_put(o);
			o = NULL;
			*why = e == json_tokener_continue ? "unexpected end of data" :
				json_tokener_error_desc(e);
		}
	} else if (e != json_tokener_success) {
		*why = json_tokener_error_desc(e);
	} else {
		/* Only whitespace may follow the value. */
		size_t off = json_tokener_get_parse_end(tok);
		while (off < n && (s[off] == ' ' || s[off] == '\t' || s[off] == '\r' || s[off] == '\n'))
			off++;
		if (off < n) {
			json_object_put(o);
			o = NULL;
			*why = "trailing data after the JSON value";
		}
	}
	if (own)
		json_tokener_free(own);
	return o;
}

json_object *
js_copy(json_object *o)
{
	json_object *c = NULL;

	if (o == NULL)
		return NULL;
	if (json_object_deep_copy(o, &c, NULL) < 0)
		efatal(EXIT_FAIL, "out of memory copying a JSON object");
	return c;
}

void
js_sha256_hex(const void *p, size_t n, char out[65])
{
	sha256_buf_hex(p, n, out);
}

int
js_has_nul(json_object *o)
{
	if (json_object_is_type(o, json_type_string))
		return memchr(json_object_get_string(o), '\0', (size_t)json_object_get_string_len(o)) != NULL;
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (js_has_nul(json_object_array_get_idx(o, i)))
				return 1;
		return 0;
	}
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (js_has_nul(v))
				return 1;
		}
	}
	return 0;
}

int
js_text_has_nul(const char *s, size_t n)
{
	if (memchr(s, '\0', n))
		return 1;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
			return 1;
		i++;    /* the escaped character */
	}
	return 0;
}

json_object *
js_bounded(json_object *v, size_t max)
{
	const char *s;
	size_t n, k;
	char mark[64];
	json_object *o;
	char *t;

	if (!json_object_is_type(v, json_type_string) ||
	    (n = (size_t)json_object_get_string_len(v)) <= max)
		return json_object_get(v);
	s = json_object_get_string(v);
	snprintf(mark, sizeof mark, " [cut: %zu bytes]", n);
	k = max > strlen(mark) ? max - strlen(mark) : 0;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	t = emalloc(k + strlen(mark) + 1);
	memcpy(t, s, k);
	strcpy(t + k, mark);
	o = json_object_new_string(t);
	free(t);
	return o;
}
