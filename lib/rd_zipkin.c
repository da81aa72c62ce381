/*
 * rd_zipkin: Zipkin v2 JSON spans: an array of spans (the answer of
 * /api/v2/trace/ID, what a tracer POSTs to /api/v2/spans), an array of such
 * arrays (/api/v2/traces), or one span or array a line.  Each top-level
 * value is one record at the line where it starts (rd_doc.h), its spans
 * "traces:LINE.K".
 *
 *   ts <- timestamp and duration_ms <- duration, both epoch MICROseconds;
 *   service <- localEndpoint.serviceName; trace_id <- traceId; span_id <- id;
 *   parent_id <- parentId (null when absent); name <- name ("" when absent);
 *   status ERROR when tags has "error" or otel.status_code ERROR, else UNSET;
 *   attrs <- tags, span.kind <- kind in lower case, peer.service <-
 *   remoteEndpoint.serviceName.
 * A span without timestamp, duration, traceId, id or serviceName is a
 * reject.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "js.h"
#include "rd_doc.h"

static void
zk_span(struct rd_src *s, json_object *sp, unsigned k, const char *where)
{
	struct buf *b = &s->body;
	size_t off = b->len, rawn;
	const char *raw = json_object_to_json_string_length(sp, JS_FLAGS, &rawn), *why;
	const char *tid = js_str(sp, "traceId"), *id = js_str(sp, "id"),
		*pid = js_str(sp, "parentId"), *name = js_str(sp, "name"), *kind = js_str(sp, "kind"),
		*svc = js_str(rd_get(sp, "localEndpoint"), "serviceName"),
		*peer = js_str(rd_get(sp, "remoteEndpoint"), "serviceName"), *oc;
	json_object *tags = rd_get(sp, "tags");
	int64_t ts, dur;
	int bad;

	rd_count_in(s);
	if (!json_object_is_type(sp, json_type_object)) {
		rd_reject(s, s->line, raw, rawn, "%s: not a span object", where);
		return;
	}
	bad = rd_doc_micros(sp, "timestamp", &ts, &why) < 0;
	if (!bad && ts == 0) {
		bad = 1;
		why = "0 (not set)";     /* Zipkin's "no timestamp" */
	}
	if (bad) {
		rd_reject(s, s->line, raw, rawn, "%s: timestamp: %s", where, why);
		return;
	}
	if (s->quiet) {
		rd_pend(s, ts, k, RD_SPAN, off);
		return;
	}
	if (rd_doc_micros(sp, "duration", &dur, &why) < 0) {
		rd_reject(s, s->line, raw, rawn, "%s: duration: %s%s", where, why,
			  rd_get(sp, "duration") ? "" : " (an unfinished span)");
		return;
	}
	if (!tid || !*tid || !id || !*id || !svc || !*svc) {
		rd_reject(s, s->line, raw, rawn, "%s: missing %s", where, !tid || !*tid ? "traceId" :
			  !id || !*id ? "id" : "localEndpoint.serviceName");
		return;
	}
	if (tags && !json_object_is_type(tags, json_type_object)) {
		rd_reject(s, s->line, raw, rawn, "%s: tags is not an object", where);
		return;
	}
	oc = js_str(tags, "otel.status_code");
	wspan(b, ts, svc, tid, id, pid, name ? name : "", dur,
	      rd_get(tags, "error") || (oc && rd_ieq(oc, strlen(oc), "error")) ? "ERROR" : "UNSET");
	WS(b, ",\"attrs\":{");
	if (tags) {
		json_object_object_foreach(tags, key, val) {
			if (b->p[b->len - 1] != '{')
				buf_addc(b, ',');
			wstrz(b, key);
			buf_addc(b, ':');
			wjson(b, val);
		}
	}
	if (kind && *kind && !rd_get(tags, "span.kind")) {
		char low[16];
		size_t i, n = strlen(kind) < sizeof low ? strlen(kind) : sizeof low - 1;
		for (i = 0; i < n; i++)
			low[i] = (char)tolower((unsigned char)kind[i]);
		if (b->p[b->len - 1] != '{')
			buf_addc(b, ',');
		WS(b, "\"span.kind\":");
		wstr(b, low, n);
	}
	if (peer && *peer && !rd_get(tags, "peer.service")) {
		if (b->p[b->len - 1] != '{')
			buf_addc(b, ',');
		WS(b, "\"peer.service\":");
		wstrz(b, peer);
	}
	WS(b, "}}");
	rd_pend(s, ts, k, RD_SPAN, off);
}

static int
zk_next(struct rd_src *s)
{
	json_object *o, *list;
	const char *raw;
	size_t rawn, i, j;
	unsigned k = 0;
	char where[64];
	int r;

	if ((r = rd_doc_next(s, s->priv, &o, &raw, &rawn)) <= 0 || o == NULL)
		return r;
	if (json_object_is_type(o, json_type_object)) {
		s->nelem = 1;
		zk_span(s, o, 1, "span");
	} else if (!json_object_is_type(o, json_type_array)) {
		rd_count_in(s);
		rd_reject(s, s->line, raw, rawn, "not a Zipkin span or array of spans");
	} else {
		/* [span, ...] or [[span, ...], ...] */
		s->nelem = 0;
		for (i = 0; i < rd_alen(o); i++) {
			list = json_object_array_get_idx(o, i);
			s->nelem += json_object_is_type(list, json_type_array) ? (unsigned)rd_alen(list) : 1;
		}
		if (s->nelem == 0) {
			rd_count_in(s);
			rd_reject(s, s->line, raw, rawn, "no spans (an empty array)");
		}
		for (i = 0; i < rd_alen(o); i++) {
			list = json_object_array_get_idx(o, i);
			if (!json_object_is_type(list, json_type_array)) {
				snprintf(where, sizeof where, "[%zu]", i);
				zk_span(s, list, ++k, where);
				continue;
			}
			for (j = 0; j < rd_alen(list); j++) {
				snprintf(where, sizeof where, "[%zu][%zu]", i, j);
				zk_span(s, json_object_array_get_idx(list, j), ++k, where);
			}
		}
	}
	json_object_put(o);
	return 1;
}

/* An array (or object) of objects with Zipkin's keys: "traceId" with "id"
 * and a "localEndpoint" (Jaeger writes traceID, OTLP starts with
 * resourceSpans). */
static int
zk_probe(const struct rd_probe *p)
{
	static const char *const keys[] = {"\"traceId\"", "\"id\"", "\"localEndpoint\"", NULL};
	static const char *const weak[] = {"\"traceId\"", "\"id\"", "\"timestamp\"", NULL};
	int c = rd_doc_first(p);

	if (c != '[' && c != '{')
		return 0;
	if (strstr(p->buf, "\"resourceSpans\""))
		return 0;
	return rd_doc_has(p, keys) ? RD_SCORE_MAX : rd_doc_has(p, weak) && c == '[' ? 60 : 0;
}

const struct rd_format rd_zipkin = {
	.name = "zipkin",
	.exts = ".json",
	.roles = 1u << RD_TRACES,
	.probe = zk_probe,
	.open = rd_doc_open,
	.next = zk_next,
	.close = rd_doc_close,
};
