/*
 * incident: aiops-load's incident records (see incident.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "incident.h"
#include "js.h"
#include "rd.h"
#include "rec.h"

/* Times under the first present alias go to out[key] (null when absent). */
static int
inc_ts(const struct inc_src *src, json_object *in, json_object *out, const char *key,
       const char *const *alias, const char **why)
{
	json_object *v = NULL;
	int64_t ns;

	for (int i = 0; alias[i] && v == NULL; i++)
		v = rd_get(in, alias[i]);
	if (v == NULL || json_object_is_type(v, json_type_null)) {
		json_object_object_add(out, key, NULL);
		return 0;
	}
	if (rd_ts_json(v, src->unit, &ns, why) < 0) {
		static char r[300];
		const char *vs = json_object_is_type(v, json_type_string) ? json_object_get_string(v) :
			json_object_to_json_string_ext(v, JS_FLAGS);
		*why = rd_ts_reason(r, sizeof r, *why, vs, strlen(vs));
		return -1;
	}
	js_add_ts(out, key, ns);
	return 0;
}

void
incident_add(struct incidents *in, const struct inc_src *src, json_object *o, unsigned long line,
	     const char *p, size_t n)
{
	static const char *const a_start[] = {"start_ts", "start", "started_at", "start_time", "ts", NULL};
	static const char *const a_det[] = {"detected_ts", "detected", "detected_at", "detection_ts", NULL};
	static const char *const a_res[] = {"resolved_ts", "resolved", "resolved_at", "end_ts", "end", NULL};
	static const char *const known[] = {"kind", "id", "start_ts", "start", "started_at",
		"start_time", "ts", "detected_ts", "detected", "detected_at", "detection_ts",
		"resolved_ts", "resolved", "resolved_at", "end_ts", "end", "root_cause", "title",
		"expected_actions", NULL};
	json_object *out, *v;
	const char *s, *why;
	size_t len;
	char idb[80];

	out = stage_record("incident");
	v = rd_get(o, "id");
	if (v && (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int)))
		js_add_str(out, "id", json_object_get_string(v));
	else {
		snprintf(idb, sizeof idb, "%s:%lu", src->idpfx, line);
		js_add_str(out, "id", idb);
	}
	if (inc_ts(src, o, out, "start_ts", a_start, &why) < 0 ||
	    inc_ts(src, o, out, "detected_ts", a_det, &why) < 0 ||
	    inc_ts(src, o, out, "resolved_ts", a_res, &why) < 0) {
		stage_reject(src->st, src->path, line, p, n, n, "%s", why);
		goto next;
	}
	if (json_object_object_get_ex(out, "start_ts", &v) && v == NULL) {
		stage_reject(src->st, src->path, line, p, n, n, "missing start_ts");
		goto next;
	}
	v = rd_get(o, "root_cause");
	if (v && json_object_is_type(v, json_type_string)) {
		json_object *rc = json_object_new_object();
		js_add_ref(rc, "service", v);
		json_object_object_add(out, "root_cause", rc);
	} else {
		json_object_object_add(out, "root_cause", v ? json_object_get(v) : NULL);
	}
	json_object_object_add(out, "title", (v = rd_get(o, "title")) ? json_object_get(v) : NULL);
	v = rd_get(o, "expected_actions");
	json_object_object_add(out, "expected_actions",
			       v ? json_object_get(v) : json_object_new_array());
	json_object_object_foreach(o, key, val) {
		int i;
		for (i = 0; known[i] && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL)
			js_add_ref(out, key, val);
	}
	s = js_dump(out, &len);
	incident_add_record(in, s, len);
next:
	json_object_put(out);
}

void
incident_add_record(struct incidents *in, const char *rec, size_t n)
{
	buf_add(&in->recs, rec, n);
	buf_addc(&in->recs, '\n');
	in->n++;
}

int
incidents_read_jsonl(struct incidents *in, const struct inc_src *src)
{
	struct stage *st = src->st;
	struct rec_reader rd;
	const char *p, *why;
	size_t n;
	int k;

	if (rec_open(&rd, src->path, st->max_line) < 0)
		return -1;
	while ((k = rec_getline(&rd, &p, &n)) > 0) {
		unsigned long line = rd.line;
		json_object *o;
		size_t plen = n;
		if (k == REC_LONG) {
			st->records_in++;
			stage_reject(st, src->path, line, p, n, rd.long_len,
				     "line too long (%zu bytes, limit %zu)", rd.long_len, st->max_line);
			continue;
		}
		if (rd_blank(p, n))
			continue;
		st->records_in++;
		/* As rd_line does for the signals: no incident carries bytes
		 * that are not UTF-8. */
		if (!js_utf8_valid(p, n)) {
			stage_reject(st, src->path, line, p, n, n, "invalid UTF-8");
			continue;
		}
		if (plen && p[plen - 1] == '\r')
			plen--;
		o = js_parse(st->tok, p, plen, &why);
		if (o == NULL || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			if (o)
				stage_reject(st, src->path, line, p, n, n, "not a JSON object");
			else
				stage_reject(st, src->path, line, p, n, n, "invalid JSON: %s",
					     why ? why : "null is not a record");
			continue;
		}
		incident_add(in, src, o, line, p, n);
		json_object_put(o);
	}
	k = k == REC_ERROR ? -1 : 0;
	{
		int e = errno;
		rec_close(&rd);
		errno = e;
	}
	return k;
}

void
incidents_free(struct incidents *in)
{
	buf_free(&in->recs);
}
