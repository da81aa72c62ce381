/*
 * rd_jsonl: one JSON object per line, keys matched to the canonical fields
 * by the alias map (the configured `columns` first); the remaining keys
 * become attrs (logs, spans) or labels (metrics).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "js.h"
#include "rd.h"


/* The fields of one JSON record, chosen by the alias map. */
struct pick {
	json_object *v[NFLD];
	int64_t mult[NFLD];
	short prio[NFLD];
	const char *key[NFLD];
};

/* Writes the members of an attrs object and the left-over top-level keys as
 * one object. */
static void
wextras(struct buf *b, json_object *o, const struct pick *pk, unsigned used)
{
	json_object *attrs = pk->v[F_ATTRS];
	int first = 1;

	buf_addc(b, '{');
	if (attrs && json_object_is_type(attrs, json_type_object)) {
		json_object_object_foreach(attrs, k, v) {
			if (!first)
				buf_addc(b, ',');
			first = 0;
			wstrz(b, k);
			buf_addc(b, ':');
			wjson(b, v);
		}
	} else {
		attrs = NULL;
	}
	json_object_object_foreach(o, key, val) {
		int fld = -1;
		for (int i = 0; i < NFLD; i++)
			if (pk->key[i] == key) {
				fld = i;
				break;
			}
		if (fld >= 0 && (used >> fld & 1) && (fld != F_ATTRS || attrs))
			continue;
		if (fld == F_KIND || fld == F_ID)
			continue;
		if (attrs && json_object_object_get_ex(attrs, key, NULL))
			continue;  /* the attrs object's own member wins */
		if (!first)
			buf_addc(b, ',');
		first = 0;
		wstrz(b, key);
		buf_addc(b, ':');
		wjson(b, val);
	}
	buf_addc(b, '}');
}


/* A JSONL record of any role. */
static void
parse_json_rec(struct rd_src *f, json_object *o, unsigned long line, const char *raw, size_t n)
{
	struct pick pk;
	unsigned want = rd_role_flds[f->role], used = 0;
	struct buf *b = &f->body;
	size_t off = b->len;
	const char *why;
	int64_t ts;
	json_object *v;

	memset(&pk, 0, sizeof pk);
	json_object_object_foreach(o, key, val) {
		const struct amap_ent *e = amap_get(&f->amap, key, strlen(key));
		if (e == NULL || !(want >> e->fld & 1))
			continue;
		if (pk.key[e->fld] == NULL || e->prio < pk.prio[e->fld]) {
			pk.key[e->fld] = key;
			pk.v[e->fld] = val;
			pk.prio[e->fld] = e->prio;
			pk.mult[e->fld] = e->mult;
		}
	}
	for (int i = 0; i < NFLD; i++) {
		if (pk.key[i] || !(want >> i & 1))
			continue;
		for (int j = 0; j < 4 && f->amap.dotted[i][j]; j++)
			if ((v = rd_nested(o, f->amap.dotted[i][j])) != NULL) {
				pk.v[i] = v;
				pk.mult[i] = f->amap.dotted_mult[i][j];
				break;
			}
	}
	f->nelem = 1;
	if (pk.key[F_TS] == NULL && pk.v[F_TS] == NULL) {
		rd_reject(f, line, raw, n, "missing timestamp");
		return;
	}
	if (rd_ts_json(pk.v[F_TS], f->unit, &ts, &why) < 0) {
		char r[300];
		const char *vs = json_object_is_type(pk.v[F_TS], json_type_string) ?
			json_object_get_string(pk.v[F_TS]) : json_object_to_json_string_ext(pk.v[F_TS], JS_FLAGS);
		rd_reject(f, line, raw, n, "%s", rd_ts_reason(r, sizeof r, why, vs, strlen(vs)));
		return;
	}
	if (f->quiet) {
		rd_pend(f, ts, 1, 0, off);
		return;
	}
	used |= 1u << F_TS;
	if (!rd_nonempty_str(pk.v[F_SERVICE])) {
		rd_reject(f, line, raw, n, pk.v[F_SERVICE] ? "service is not a non-empty string" :
			"missing service");
		return;
	}
	used |= 1u << F_SERVICE | 1u << F_KIND | 1u << F_ID;
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wjson(b, pk.v[F_SERVICE]);
	if (f->role == RD_LOGS) {
		const char *lv = "INFO";
		v = pk.v[F_LEVEL];
		if (v && json_object_is_type(v, json_type_string))
			lv = rd_level_text(json_object_get_string(v), (size_t)json_object_get_string_len(v));
		else if (v && json_object_is_type(v, json_type_int))
			lv = rd_level_number(json_object_get_int64(v));
		else if (v && !json_object_is_type(v, json_type_null))
			lv = NULL;
		if (lv == NULL) {
			b->len = off;
			rd_reject(f, line, raw, n, "unknown log level %s",
			       json_object_to_json_string_ext(v, JS_FLAGS));
			return;
		}
		WS(b, ",\"level\":\"");
		w(b, lv, strlen(lv));
		WS(b, "\",\"msg\":");
		v = pk.v[F_MSG];
		if (v == NULL || json_object_is_type(v, json_type_string) ||
		    json_object_is_type(v, json_type_null)) {
			if (v && json_object_is_type(v, json_type_string))
				wjson(b, v);
			else
				WS(b, "\"\"");
		} else {
			const char *s = json_object_to_json_string_ext(v, JS_FLAGS);
			wstrz(b, s);
		}
		used |= 1u << F_LEVEL | 1u << F_MSG;
		if (rd_nonempty_str(pk.v[F_TRACE])) {
			WS(b, ",\"trace_id\":");
			wjson(b, pk.v[F_TRACE]);
			used |= 1u << F_TRACE;
		}
		if (rd_nonempty_str(pk.v[F_SPAN])) {
			WS(b, ",\"span_id\":");
			wjson(b, pk.v[F_SPAN]);
			used |= 1u << F_SPAN;
		}
		used |= 1u << F_ATTRS;
		WS(b, ",\"attrs\":");
		wextras(b, o, &pk, used);
		buf_addc(b, '}');
		rd_pend(f, ts, 1, 0, off);
		return;
	}
	if (f->role == RD_METRICS) {
		if (!rd_nonempty_str(pk.v[F_NAME])) {
			b->len = off;
			rd_reject(f, line, raw, n, "missing metric name");
			return;
		}
		WS(b, ",\"name\":");
		wjson(b, pk.v[F_NAME]);
		if (pk.key[F_VALUE] == NULL && pk.v[F_VALUE] == NULL) {
			b->len = off;
			rd_reject(f, line, raw, n, "missing metric value");
			return;
		}
		WS(b, ",\"value\":");
		if (json_object_is_type(pk.v[F_VALUE], json_type_int) && rd_int_saturated(pk.v[F_VALUE])) {
			b->len = off;
			rd_reject(f, line, raw, n, "metric value out of the 64-bit integer range");
			return;
		}
		if (wvalue_json(b, pk.v[F_VALUE]) < 0) {
			b->len = off;
			rd_reject(f, line, raw, n, "metric value is not a number: %s",
			       json_object_to_json_string_ext(pk.v[F_VALUE], JS_FLAGS));
			return;
		}
		used |= 1u << F_NAME | 1u << F_VALUE;
		if (rd_nonempty_str(pk.v[F_UNIT])) {
			WS(b, ",\"unit\":");
			wjson(b, pk.v[F_UNIT]);
			used |= 1u << F_UNIT;
		}
		used |= 1u << F_ATTRS;
		WS(b, ",\"labels\":");
		wextras(b, o, &pk, used);
		buf_addc(b, '}');
		rd_pend(f, ts, 1, 1, off);
		return;
	}
	/* a span */
	{
		static const char *const need[] = {"trace_id", "span_id", "name"};
		static const int nf[] = {F_TRACE, F_SPAN, F_NAME};
		const char *stat;
		int64_t dur, end;
		for (int i = 0; i < 3; i++)
			if (!rd_nonempty_str(pk.v[nf[i]])) {
				b->len = off;
				rd_reject(f, line, raw, n, "missing %s", need[i]);
				return;
			}
		if (pk.v[F_DUR]) {
			if (rd_dur_json(pk.v[F_DUR], pk.mult[F_DUR], &dur) < 0) {
				b->len = off;
				rd_reject(f, line, raw, n, "bad duration %s",
				       json_object_to_json_string_ext(pk.v[F_DUR], JS_FLAGS));
				return;
			}
			used |= 1u << F_DUR;
		} else if (pk.v[F_END]) {
			if (rd_ts_json(pk.v[F_END], f->unit, &end, &why) < 0) {
				b->len = off;
				rd_reject(f, line, raw, n, "end time: %s", why);
				return;
			}
			dur = end - ts;
			used |= 1u << F_END;
		} else {
			b->len = off;
			rd_reject(f, line, raw, n, "missing duration");
			return;
		}
		if (dur < 0) {
			b->len = off;
			rd_reject(f, line, raw, n, "negative duration");
			return;
		}
		stat = pk.v[F_STATUS] ? rd_status_json(pk.v[F_STATUS]) : "UNSET";
		if (stat == NULL) {
			b->len = off;
			rd_reject(f, line, raw, n, "unknown span status %s",
			       json_object_to_json_string_ext(pk.v[F_STATUS], JS_FLAGS));
			return;
		}
		WS(b, ",\"trace_id\":");
		wjson(b, pk.v[F_TRACE]);
		WS(b, ",\"span_id\":");
		wjson(b, pk.v[F_SPAN]);
		WS(b, ",\"parent_id\":");
		v = pk.v[F_PARENT];
		if (rd_nonempty_str(v) && strspn(json_object_get_string(v), "0") !=
		    (size_t)json_object_get_string_len(v))
			wjson(b, v);
		else
			WS(b, "null");
		WS(b, ",\"name\":");
		wjson(b, pk.v[F_NAME]);
		WS(b, ",\"duration_ms\":");
		wms(b, dur);
		WS(b, ",\"status\":\"");
		w(b, stat, strlen(stat));
		buf_addc(b, '"');
		used |= 1u << F_TRACE | 1u << F_SPAN | 1u << F_PARENT | 1u << F_NAME |
			1u << F_STATUS | 1u << F_ATTRS;
		{
			size_t mark = b->len;
			WS(b, ",\"attrs\":");
			size_t at = b->len;
			wextras(b, o, &pk, used);
			if (b->len == at + 2)   /* {} */
				b->len = mark;
		}
		buf_addc(b, '}');
		rd_pend(f, ts, 1, 2, off);
	}
}


/* ---- the fast sortedness scan of a JSONL line ---- */

/* Skips a JSON string starting at p[i] == '"'; returns the index after it,
 * or 0 when unterminated.  *esc is set when it holds a backslash. */
static size_t
skip_str(const char *p, size_t n, size_t i, int *esc)
{
	for (i++; i < n; i++) {
		if (p[i] == '\\') {
			*esc = 1;
			i++;
		} else if (p[i] == '"') {
			return i + 1;
		}
	}
	return 0;
}

/*
 * Finds the timestamp of a JSONL line without parsing it: the top-level key
 * that the alias map ranks best for the timestamp.  Returns 1 with *ts set,
 * or 0 when unsure (escapes, odd values, not an object), in which case the
 * caller parses the line properly.
 */
static int
scan_ts(struct rd_src *f, const char *p, size_t n, int64_t *ts)
{
	size_t i = 0, vs = 0, ve = 0;
	int best = 1 << 30, depth;
	const char *why;

	while (i < n && isspace((unsigned char)p[i]))
		i++;
	if (i >= n || p[i] != '{')
		return 0;
	i++;
	for (;;) {
		size_t ks, ke, v0;
		int esc = 0;
		const struct amap_ent *e;
		while (i < n && isspace((unsigned char)p[i]))
			i++;
		if (i < n && p[i] == '}')
			break;
		if (i >= n || p[i] != '"')
			return 0;
		ks = i + 1;
		if ((i = skip_str(p, n, i, &esc)) == 0 || esc)
			return 0;
		ke = i - 1;
		while (i < n && isspace((unsigned char)p[i]))
			i++;
		if (i >= n || p[i] != ':')
			return 0;
		i++;
		while (i < n && isspace((unsigned char)p[i]))
			i++;
		v0 = i;
		if (i >= n)
			return 0;
		if (p[i] == '"') {
			if ((i = skip_str(p, n, i, &esc)) == 0)
				return 0;
		} else if (p[i] == '{' || p[i] == '[') {
			depth = 0;
			for (; i < n; i++) {
				if (p[i] == '"') {
					if ((i = skip_str(p, n, i, &esc)) == 0)
						return 0;
					i--;
				} else if (p[i] == '{' || p[i] == '[') {
					depth++;
				} else if (p[i] == '}' || p[i] == ']') {
					if (--depth == 0) {
						i++;
						break;
					}
				}
			}
			if (depth != 0)
				return 0;
		} else {
			while (i < n && p[i] != ',' && p[i] != '}' && !isspace((unsigned char)p[i]))
				i++;
		}
		e = amap_get(&f->amap, p + ks, ke - ks);
		if (e && e->fld == F_TS && e->prio <= best) {
			if (e->prio == best)
				return 0;   /* a duplicate key: let json-c decide */
			best = e->prio;
			vs = v0;
			ve = i;
			if (esc && p[v0] == '"')
				return 0;
		}
		while (i < n && isspace((unsigned char)p[i]))
			i++;
		if (i < n && p[i] == ',') {
			i++;
			continue;
		}
		if (i < n && p[i] == '}')
			break;
		return 0;
	}
	for (i++; i < n; i++)
		if (!isspace((unsigned char)p[i]))
			return 0;
	if (ve == 0)
		return 0;
	if (p[vs] == '"')
		return rd_ts_text(p + vs + 1, ve - vs - 2, f->unit, ts, &why) == 0;
	if (p[vs] == '-' || isdigit((unsigned char)p[vs])) {
		char t[32], *end;
		size_t len = ve - vs;
		if (len >= 19 || !rd_json_number(p + vs, len))
			return 0;
		memcpy(t, p + vs, len);
		t[len] = '\0';
		if (strpbrk(t, ".eE"))
			return ts_epoch_double(strtod(t, &end), f->unit, ts, &why) == 0;
		return ts_epoch_int(strtoll(t, &end, 10), f->unit, ts, &why) == 0;
	}
	return 0;
}

static int
jsonl_next(struct rd_src *s)
{
	const char *p;
	size_t n;
	int k;
	json_object *o;

	if ((k = rd_line(s, &p, &n)) <= 0)
		return k;
	s->nelem = 1;
	if (s->quiet) {
		int64_t ts;
		if (scan_ts(s, p, n, &ts)) {
			rd_pend(s, ts, 1, RD_LOG, 0);
			return 1;
		}
	}
	if ((o = rd_json_object(s, p, n)) == NULL)
		return 1;
	parse_json_rec(s, o, s->line, p, n);
	json_object_put(o);
	return 1;
}

/* The share of sampled lines that are JSON objects (not OTLP requests),
 * scaled to 90: a bad first line costs a little, not the file. */
static int
jsonl_probe(const struct rd_probe *p)
{
	const char *cur = NULL, *l;
	size_t n;
	int lines = 0, good = 0;

	while (lines < RD_PROBE_LINES && (l = rd_probe_next(p, &cur, &n)) != NULL) {
		lines++;
		good += rd_probe_json(l, n) == 1;
	}
	return lines ? 90 * good / lines : 0;
}

const struct rd_format rd_jsonl = {
	.name = "jsonl",
	.exts = ".jsonl .ndjson .json",
	.roles = 1u << RD_LOGS | 1u << RD_METRICS | 1u << RD_TRACES | 1u << RD_INCIDENTS,
	.probe = jsonl_probe,
	.next = jsonl_next,
};
