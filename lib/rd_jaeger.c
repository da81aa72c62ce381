/*
 * rd_jaeger: Jaeger JSON, the query API's answer and the UI's download
 * ({"data":[trace...]}), an array of traces, or one trace; also spans with
 * their own process (an array of them, as Jaeger's anonymizer and span
 * dumps write them, or one a line); pretty-printed or one document a line
 * (rd_doc.h).  A trace is {traceID, spans, processes}; its spans are the
 * document's elements "traces:LINE.K".
 *
 *   ts <- startTime and duration_ms <- duration, both epoch MICROseconds;
 *   service <- processes[processID].serviceName (or the span's own
 *   process); trace_id <- traceID; span_id <- spanID; parent_id <- the
 *   spanID of the first CHILD_OF reference into the span's own trace (else
 *   of its first other reference into it, else null: Jaeger's rule);
 *   name <- operationName; status ERROR when the tag error is
 *   true or otel.status_code is ERROR, else UNSET; attrs <- the tags.
 * A trace without a spans array, an answer with errors, a span without
 * times, ids or a service are rejects.
 */
#include <string.h>
#include <strings.h>

#include "js.h"
#include "rd_doc.h"

/* Do two trace ids name one trace?  Hex ids compare as numbers, without
 * leading zeros or case ("00a1" is "A1"); a reference without one is in
 * the span's trace. */
static int
same_trace(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return 1;
	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	return strcasecmp(a, b) == 0;
}

static const char *
parent_of(json_object *sp)
{
	json_object *refs = rd_get(sp, "references");
	const char *first = NULL, *t, *tid = js_str(sp, "traceID");
	size_t i;

	for (i = 0; i < rd_alen(refs); i++) {
		json_object *r = json_object_array_get_idx(refs, i);
		const char *id = js_str(r, "spanID");
		if (id == NULL || *id == '\0' || !same_trace(tid, js_str(r, "traceID")))
			continue;
		if ((t = js_str(r, "refType")) != NULL && strcmp(t, "CHILD_OF") == 0)
			return id;
		if (first == NULL)
			first = id;
	}
	return first;
}

static void
jg_span(struct rd_src *s, json_object *sp, json_object *procs, unsigned k, const char *where)
{
	struct buf *b = &s->body;
	size_t off = b->len, rawn, i;
	const char *raw = json_object_to_json_string_length(sp, JS_FLAGS, &rawn), *why;
	const char *tid = js_str(sp, "traceID"), *sid = js_str(sp, "spanID"),
		*name = js_str(sp, "operationName"), *pid = js_str(sp, "processID"), *svc, *stat = "UNSET";
	json_object *tags = rd_get(sp, "tags"), *proc;
	int64_t ts, dur;

	rd_count_in(s);
	if (!json_object_is_type(sp, json_type_object)) {
		rd_reject(s, s->line, raw, rawn, "%s: not a span object", where);
		return;
	}
	if (rd_doc_micros(sp, "startTime", &ts, &why) < 0) {
		rd_reject(s, s->line, raw, rawn, "%s: startTime: %s", where, why);
		return;
	}
	if (s->quiet) {
		rd_pend(s, ts, k, RD_SPAN, off);
		return;
	}
	if (rd_doc_micros(sp, "duration", &dur, &why) < 0) {
		rd_reject(s, s->line, raw, rawn, "%s: duration: %s", where, why);
		return;
	}
	proc = rd_get(sp, "process");
	if (proc == NULL && pid)
		proc = rd_get(procs, pid);
	svc = js_str(proc, "serviceName");
	if (!tid || !*tid || !sid || !*sid || !svc || !*svc) {
		if (tid && *tid && sid && *sid && proc == NULL)
			rd_reject(s, s->line, raw, rawn, "%s: processID '%s' is not in the trace's "
				  "processes", where, pid ? pid : "");
		else
			rd_reject(s, s->line, raw, rawn, "%s: missing %s", where, !tid || !*tid ?
				  "traceID" : !sid || !*sid ? "spanID" : "the process's serviceName");
		return;
	}
	for (i = 0; i < rd_alen(tags); i++) {
		json_object *t = json_object_array_get_idx(tags, i), *v = rd_get(t, "value");
		const char *key = js_str(t, "key"), *sv = json_object_get_string(v);
		if (key && v && ((strcmp(key, "error") == 0 && sv && strcmp(sv, "true") == 0) ||
				 (strcmp(key, "otel.status_code") == 0 && sv && strcmp(sv, "ERROR") == 0)))
			stat = "ERROR";
	}
	wspan(b, ts, svc, tid, sid, parent_of(sp), name ? name : "", dur, stat);
	WS(b, ",\"attrs\":{");
	for (i = 0; i < rd_alen(tags); i++) {
		json_object *t = json_object_array_get_idx(tags, i);
		const char *key = js_str(t, "key");
		if (key == NULL)
			continue;
		if (b->p[b->len - 1] != '{')
			buf_addc(b, ',');
		wstrz(b, key);
		buf_addc(b, ':');
		wjson(b, rd_get(t, "value"));
	}
	WS(b, "}}");
	rd_pend(s, ts, k, RD_SPAN, off);
}

/* A span rather than a trace: a spanID and no spans array. */
static int
is_span(json_object *o)
{
	return rd_get(o, "spanID") != NULL && rd_get(o, "spans") == NULL;
}

static int
jg_next(struct rd_src *s)
{
	json_object *o, *traces, *tr, *spans, *errs, *one = NULL;
	const char *raw, *msg;
	size_t rawn, i, j, rn, n;
	unsigned k = 0;
	char where[96];
	int r;

	if ((r = rd_doc_next(s, s->priv, &o, &raw, &rawn)) <= 0 || o == NULL)
		return r;
	if (is_span(o)) {       /* one span a line */
		s->nelem = 1;
		jg_span(s, o, NULL, 1, "span");
		json_object_put(o);
		return 1;
	}
	traces = rd_get(o, "data");
	if (json_object_is_type(o, json_type_array))
		traces = o;
	errs = rd_get(o, "errors");
	s->nelem = 0;
	for (i = 0; i < rd_alen(traces); i++) {
		tr = json_object_array_get_idx(traces, i);
		s->nelem += is_span(tr) ? 1 : (unsigned)rd_alen(rd_get(tr, "spans"));
	}
	if (rd_alen(errs) > 0 && s->nelem == 0) {
		msg = js_str(json_object_array_get_idx(errs, 0), "msg");
		rd_count_in(s);
		rd_reject_cut(s, s->line, raw, rawn, 4096, "a Jaeger answer with errors: %s",
			      msg ? msg : "(no msg)");
		traces = NULL;
	} else if (traces == NULL && rd_get(o, "spans")) {
		s->nelem = (unsigned)rd_alen(rd_get(o, "spans"));
		one = o;        /* one trace */
	} else if (traces == NULL || !json_object_is_type(traces, json_type_array)) {
		rd_count_in(s);
		rd_reject_cut(s, s->line, raw, rawn, 4096, "not a Jaeger answer (no data array of traces)");
		traces = NULL;
	}
	n = one ? 1 : rd_alen(traces);
	if (traces && n == 0) {
		rd_count_in(s);
		rd_reject_cut(s, s->line, raw, rawn, 4096, "no traces (an empty data array)");
	}
	for (i = 0; i < n; i++) {
		tr = one ? one : json_object_array_get_idx(traces, i);
		if (is_span(tr)) {      /* an array of spans with their own process */
			snprintf(where, sizeof where, "data[%zu]", i);
			jg_span(s, tr, NULL, ++k, where);
			continue;
		}
		spans = rd_get(tr, "spans");
		if (spans == NULL || !json_object_is_type(spans, json_type_array) || rd_alen(spans) == 0) {
			const char *traw = json_object_to_json_string_length(tr, JS_FLAGS, &rn);
			rd_count_in(s);
			rd_reject_cut(s, s->line, traw, rn, 4096, "data[%zu]: %s spans array", i,
				      spans == NULL ? "no" : rd_alen(spans) == 0 &&
				      json_object_is_type(spans, json_type_array) ? "an empty" : "not a");
			continue;
		}
		for (j = 0; j < rd_alen(spans); j++) {
			snprintf(where, sizeof where, "data[%zu].spans[%zu]", i, j);
			jg_span(s, json_object_array_get_idx(spans, j), rd_get(tr, "processes"), ++k, where);
		}
	}
	json_object_put(o);
	return 1;
}

/* Jaeger's keys: traceID and spanID (capital ID), operationName. */
static int
jg_probe(const struct rd_probe *p)
{
	static const char *const keys[] = {"\"traceID\"", "\"spanID\"", "\"operationName\"", NULL};
	int c = rd_doc_first(p);

	return (c == '{' || c == '[') && rd_doc_has(p, keys) ? RD_SCORE_MAX : 0;
}

const struct rd_format rd_jaeger = {
	.name = "jaeger",
	.exts = ".json",
	.roles = 1u << RD_TRACES,
	.probe = jg_probe,
	.open = rd_doc_open,
	.next = jg_next,
	.close = rd_doc_close,
};
