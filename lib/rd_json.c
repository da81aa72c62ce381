/*
 * rd_json: JSON documents of plain records, the shape a REST API, an
 * export button or `jq -s` writes: one top-level array of objects, or
 * objects one after another, pretty-printed or not.  Each object is mapped
 * exactly as a jsonl line is (rd_jsonl_rec: the alias map, the configured
 * `columns`, the rest as attrs or labels); an array's elements are
 * "role:LINE.K", LINE the line where the array starts.
 *
 * An element that is not an object and an empty array are counted
 * rejects; a value that is not strict JSON is one reject (rd_doc).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "js.h"
#include "rd_doc.h"

/* "a string", "an array", ... for a reason. */
static const char *
a_type(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	case json_type_boolean: return "true or false";
	case json_type_null: return "null";
	default: return "a number";
	}
}

static int
json_next(struct rd_src *s)
{
	json_object *o, *e;
	const char *raw;
	size_t rawn, n;
	int r;

	if ((r = rd_doc_next(s, s->priv, &o, &raw, &rawn)) <= 0 || o == NULL)
		return r;
	if (json_object_is_type(o, json_type_object)) {
		rd_count_in(s);
		s->nelem = 1;
		rd_jsonl_rec(s, o, s->line, 1, raw, rawn);
	} else if (!json_object_is_type(o, json_type_array)) {
		rd_count_in(s);
		rd_reject(s, s->line, raw, rawn, "%s, not a record (an object) or an array of records",
			  a_type(o));
	} else if ((n = json_object_array_length(o)) == 0) {
		rd_count_in(s);
		rd_reject(s, s->line, raw, rawn, "no records (an empty array)");
	} else {
		char where[32];
		s->nelem = n > 1 ? (unsigned)n : 1;
		s->elem = where;
		for (size_t i = 0; i < n; i++) {
			const char *t;
			e = json_object_array_get_idx(o, i);
			t = json_object_to_json_string_ext(e, JS_FLAGS);
			snprintf(where, sizeof where, "[%zu]", i);
			rd_count_in(s);
			if (json_object_is_type(e, json_type_object))
				rd_jsonl_rec(s, e, s->line, (unsigned)i + 1, t, strlen(t));
			else
				rd_reject(s, s->line, t, strlen(t), "%s, not a record (an object)",
					  a_type(e));
		}
		s->elem = NULL;
	}
	json_object_put(o);
	return 1;
}

/* A document that is no line-per-object file: the sample is the start of
 * a JSON array or object (json-c parses it without an error, or runs out
 * of sample before the value ends) and is not a jsonl or OTLP line.
 * Scored below the document formats with their own keys (zipkin, jaeger,
 * prometheus, OTLP), which win when their keys are there. */
static int
json_probe(const struct rd_probe *p)
{
	const char *cur = NULL, *l;
	size_t n;
	int c = rd_doc_first(p), ok;
	json_tokener *tok;
	json_object *o;
	enum json_tokener_error e;

	if (c != '[' && c != '{')
		return 0;
	if ((l = rd_probe_next(p, &cur, &n)) != NULL && c == '{' && rd_probe_json(l, n) != 0)
		return 0;                   /* a jsonl or OTLP line */
	if ((tok = json_tokener_new()) == NULL || p->len > (size_t)INT32_MAX)
		return json_tokener_free(tok), 0;
	o = json_tokener_parse_ex(tok, p->buf, (int)p->len);
	e = json_tokener_get_error(tok);
	ok = e == json_tokener_success || (e == json_tokener_continue && !p->eof);
	json_object_put(o);
	json_tokener_free(tok);
	return ok ? 50 : 0;
}

const struct rd_format rd_json = {
	.name = "json",
	.exts = ".json",
	.roles = 1u << RD_LOGS | 1u << RD_METRICS | 1u << RD_TRACES,
	.probe = json_probe,
	.open = rd_doc_open,
	.next = json_next,
	.close = rd_doc_close,
};
