/*
 * rd_jsonl: one JSON object per line, keys matched to the canonical fields
 * by the alias map (the configured `columns` first); the remaining keys
 * become attrs (logs, spans) or labels (metrics).
 *
 * A flat line is read by lib/flat in one pass (validation, UTF-8, the
 * members' places) and written without json-c (fast_rec); json-c reads
 * the rest (rd_jsonl_rec): nested attrs, escaped or duplicate keys, and
 * every line that ends as a reject, so that the reasons keep json-c's
 * wording.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "err.h"
#include "flat.h"
#include "js.h"
#include "rd.h"


/* The fields of one JSON record, chosen by the alias map. */
struct pick {
	json_object *v[NFLD];
	int64_t mult[NFLD];
	short prio[NFLD];
	const char *key[NFLD];
};

/* Is a top-level member that field fld took (-1: none) left out of the
 * extras?  Both readers (json-c and flat) ask this. */
static int
taken(int fld, unsigned used, int have_attrs)
{
	if (fld >= 0 && (used >> fld & 1) && (fld != F_ATTRS || have_attrs))
		return 1;
	return fld == F_KIND || fld == F_ID;
}

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
		if (taken(fld, used, attrs != NULL))
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


/* A span's duration_ms and status members. */
static void
wdur_status(struct buf *b, int64_t dur, const char *stat)
{
	WS(b, ",\"duration_ms\":");
	wms(b, dur);
	WS(b, ",\"status\":\"");
	w(b, stat, strlen(stat));
	buf_addc(b, '"');
}

/* A JSON record of any role, element k of its input record (see rd.h). */
void
rd_jsonl_rec(struct rd_src *f, json_object *o, unsigned long line, unsigned k, const char *raw,
	     size_t n)
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
		rd_pend(f, ts, k, 0, off);
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
		rd_pend(f, ts, k, 0, off);
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
		rd_pend(f, ts, k, 1, off);
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
		wdur_status(b, dur, stat);
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
		rd_pend(f, ts, k, 2, off);
	}
}


/* ---- the key memo: lines of a file repeat their keys in order ---- */

#define MEMO_KEYS 16
#define MEMO_KLEN 24
struct jl_priv {
	struct {
		unsigned char len;      /* key length + 1; 0: empty */
		char key[MEMO_KLEN];
		const struct amap_ent *e;
	} memo[MEMO_KEYS];
};

static int
jsonl_open(struct rd_src *s)
{
	s->priv = ecalloc(1, sizeof(struct jl_priv));
	return 0;
}

static void
jsonl_close(struct rd_src *s)
{
	free(s->priv);
	s->priv = NULL;
}

/* amap_get for the i-th key of a line, answered from the memo when the
 * line before had the same key there. */
static const struct amap_ent *
key_get(struct rd_src *f, unsigned i, const char *key, size_t klen)
{
	struct jl_priv *jp = f->priv;
	const struct amap_ent *e;

	if (jp == NULL || i >= MEMO_KEYS || klen >= MEMO_KLEN)
		return amap_get(&f->amap, key, klen);
	if (jp->memo[i].len == klen + 1 && memcmp(jp->memo[i].key, key, klen) == 0)
		return jp->memo[i].e;
	e = amap_get(&f->amap, key, klen);
	jp->memo[i].len = (unsigned char)(klen + 1);
	memcpy(jp->memo[i].key, key, klen);
	jp->memo[i].e = e;
	return e;
}


/* ---- the fast path: flat records through lib/flat, no json-c ---- */

/*
 * The fast path handles a record that it can write exactly as the json-c
 * path (rd_jsonl_rec) would, and gives up (returns 0, nothing written)
 * on anything else: a reject of any kind, an escaped or duplicate key, a
 * field that a dotted alias might find in a nested object, a nested value
 * or an attrs object that is not flat, a number json-c would write back
 * differently.  json-c then reads the line, so both paths agree byte for
 * byte (the golden tests and the fuzzer hold them to it).
 */

#define DEC_MAX 4096    /* a longer string with escapes goes to json-c */

/* A string member, decoded: its bytes in *s (the line's or tmp). */
static long
fstr(const struct flat_mem *m, char tmp[DEC_MAX], const char **s)
{
	return flat_str(m, tmp, DEC_MAX, s);
}

static int
fnonempty(const struct flat_mem *m)
{
	return m && m->type == FLAT_STR && m->vlen > 0;
}

/* A value as wjson writes json-c's: 0, or -1 when only json-c can. */
static int
fjson(struct buf *b, const struct flat_mem *m)
{
	char tmp[DEC_MAX];
	const char *s;
	long n;

	switch (m->type) {
	case FLAT_STR:
		if (!m->vesc) {
			buf_addc(b, '"');
			w(b, m->val, m->vlen);
			buf_addc(b, '"');
			return 0;
		}
		if ((n = fstr(m, tmp, &s)) < 0)
			return -1;
		wstr(b, s, (size_t)n);
		return 0;
	case FLAT_NUM:
		if (!flat_num_plain(m))
			return -1;
		w(b, m->val, m->vlen);   /* as written */
		return 0;
	case FLAT_TRUE: case FLAT_FALSE: case FLAT_NULL:
		w(b, m->val, m->vlen);
		return 0;
	default:
		return -1;
	}
}

/* A timestamp member as rd_ts_json reads json-c's value. */
static int
fts(const struct flat_mem *m, enum ts_unit u, int64_t *ts)
{
	char tmp[DEC_MAX];
	const char *s, *why;
	long n;
	int64_t v;

	if (m->type == FLAT_STR) {
		if ((n = fstr(m, tmp, &s)) < 0)
			return -1;
		return rd_ts_text(s, (size_t)n, u, ts, &why);
	}
	if (flat_int(m, &v))
		return ts_epoch_int(v, u, ts, &why);
	if (flat_num_plain(m))
		return ts_epoch_double(strtod(m->val, NULL), u, ts, &why);
	return -1;
}

/* A duration member as rd_dur_json reads json-c's value. */
static int
fdur(const struct flat_mem *m, int64_t mult, int64_t *ns)
{
	char tmp[DEC_MAX];
	const char *s;
	long n;
	int64_t x;

	if (m->type == FLAT_STR) {
		if ((n = fstr(m, tmp, &s)) < 0)
			return -1;
		return rd_dur_text(s, (size_t)n, mult, ns);
	}
	if (flat_int(m, &x)) {
		if (x > INT64_MAX / mult || x < INT64_MIN / mult)
			return -1;
		*ns = x * mult;
		return 0;
	}
	if (flat_num_plain(m)) {
		double d = strtod(m->val, NULL) * (double)mult;
		if (!isfinite(d) || fabs(d) > 9e18)
			return -1;
		*ns = llround(d);
		return 0;
	}
	return -1;
}

/* wextras over a flat record: the members of a flat attrs object, then
 * the top-level members no field took.  -1: json-c must do it. */
static int
fextras(struct buf *b, const struct flat *r, const int *pick, unsigned used)
{
	const struct flat_mem *am = pick[F_ATTRS] >= 0 ? &r->m[pick[F_ATTRS]] : NULL;
	struct flat a;
	const char *why;
	int first = 1;

	buf_addc(b, '{');
	if (am && am->type == FLAT_OBJ) {
		if (flat_parse(am->val, am->vlen, 0, &a, &why) != 0 || a.dup || a.kesc)
			return -1;
		for (unsigned i = 0; i < a.n; i++) {
			if (!first)
				buf_addc(b, ',');
			first = 0;
			buf_addc(b, '"');
			w(b, a.m[i].key, a.m[i].klen);
			WS(b, "\":");
			if (fjson(b, &a.m[i]) < 0)
				return -1;
		}
	} else {
		am = NULL;
	}
	for (unsigned i = 0; i < r->n; i++) {
		const struct flat_mem *m = &r->m[i];
		int fld = -1;
		for (int k = 0; k < NFLD; k++)
			if (pick[k] == (int)i) {
				fld = k;
				break;
			}
		if (taken(fld, used, am != NULL))
			continue;
		if (am && flat_get(&a, m->key, m->klen))
			continue;  /* the attrs object's own member wins */
		if (!first)
			buf_addc(b, ',');
		first = 0;
		buf_addc(b, '"');
		w(b, m->key, m->klen);
		WS(b, "\":");
		if (fjson(b, m) < 0)
			return -1;
	}
	buf_addc(b, '}');
	return 0;
}

/* A level or status member (absent or null: dflt) through the text and
 * number tables of lib/rd; NULL when unknown. */
static const char *
fname(const struct flat_mem *v, const char *dflt, const char *(*text)(const char *, size_t),
      const char *(*num)(int64_t))
{
	char tmp[DEC_MAX];
	const char *s;
	long n;
	int64_t x;

	if (v == NULL || v->type == FLAT_NULL)
		return dflt;
	if (v->type == FLAT_STR)
		return (n = fstr(v, tmp, &s)) < 0 ? NULL : text(s, (size_t)n);
	return flat_int(v, &x) ? num(x) : NULL;
}

/* An optional string field, written (and marked used) when non-empty. */
static int
fopt(struct buf *b, const struct flat_mem *v, int fld, const char *name, unsigned *used)
{
	if (!fnonempty(v))
		return 0;
	w(b, name, strlen(name));
	if (fjson(b, v) < 0)
		return -1;
	*used |= 1u << fld;
	return 0;
}

/* The extras object as member `name` (left out when empty unless
 * keep_empty), the closing brace, and the signal queued. */
static int
fend(struct rd_src *f, const struct flat *r, const int *pick, unsigned used, const char *name,
     int keep_empty, int64_t ts, int kind, size_t off)
{
	struct buf *b = &f->body;
	size_t mark = b->len, at;

	w(b, name, strlen(name));
	at = b->len;
	if (fextras(b, r, pick, used | 1u << F_ATTRS) < 0)
		return -1;
	if (!keep_empty && b->len == at + 2)   /* {} */
		b->len = mark;
	buf_addc(b, '}');
	rd_pend(f, ts, 1, kind, off);
	return 0;
}

/* May a dotted alias of a missing field find it inside a member (as
 * rd_nested would)? */
static int
fdotted(const struct rd_src *f, const struct flat *r, int fld)
{
	for (int j = 0; j < 4 && f->amap.dotted[fld][j]; j++) {
		const char *path = f->amap.dotted[fld][j];
		for (unsigned i = 0; i < r->n; i++)
			if (r->m[i].type == FLAT_OBJ && strncmp(path, r->m[i].key, r->m[i].klen) == 0 &&
			    path[r->m[i].klen] == '.')
				return 1;
	}
	return 0;
}

/* The record of a flat line, as rd_jsonl_rec writes it: 1 done, 0 not
 * written (json-c must read the line). */
static int
fast_rec(struct rd_src *f, const struct flat *r)
{
	unsigned want = rd_role_flds[f->role], used = 0;
	int pick[NFLD];
	short prio[NFLD];
	int64_t mult[NFLD], ts;
	struct buf *b = &f->body;
	size_t off = b->len;
	const struct flat_mem *v;
	char tmp[DEC_MAX];
	const char *s;
	long n = 0;

	if (r->dup || r->kesc)
		return 0;
	for (int i = 0; i < NFLD; i++)
		pick[i] = -1;
	for (unsigned i = 0; i < r->n; i++) {
		const struct amap_ent *e = key_get(f, i, r->m[i].key, r->m[i].klen);
		if (e == NULL || !(want >> e->fld & 1))
			continue;
		if (pick[e->fld] < 0 || e->prio < prio[e->fld]) {
			pick[e->fld] = (int)i;
			prio[e->fld] = e->prio;
			mult[e->fld] = e->mult;
		}
	}
	for (int i = 0; i < NFLD; i++)
		if (pick[i] < 0 && (want >> i & 1) && f->amap.dotted[i][0] && fdotted(f, r, i))
			return 0;
#define PK(i) (pick[i] >= 0 ? &r->m[pick[i]] : NULL)
	if ((v = PK(F_TS)) == NULL || fts(v, f->unit, &ts) < 0)
		return 0;
	used |= 1u << F_TS;
	if (!fnonempty(PK(F_SERVICE)))
		return 0;
	used |= 1u << F_SERVICE | 1u << F_KIND | 1u << F_ID;
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	fjson(b, PK(F_SERVICE));
	if (f->role == RD_LOGS) {
		const char *lv = fname(PK(F_LEVEL), "INFO", rd_level_text, rd_level_number);
		if (lv == NULL)
			goto json_c;
		WS(b, ",\"level\":\"");
		w(b, lv, strlen(lv));
		WS(b, "\",\"msg\":");
		v = PK(F_MSG);
		if (v && v->type == FLAT_STR) {
			if (fjson(b, v) < 0)
				goto json_c;
		} else if (v == NULL || v->type == FLAT_NULL) {
			WS(b, "\"\"");
		} else {
			goto json_c;
		}
		used |= 1u << F_LEVEL | 1u << F_MSG;
		if (fopt(b, PK(F_TRACE), F_TRACE, ",\"trace_id\":", &used) < 0 ||
		    fopt(b, PK(F_SPAN), F_SPAN, ",\"span_id\":", &used) < 0 ||
		    fend(f, r, pick, used, ",\"attrs\":", 1, ts, RD_LOG, off) < 0)
			goto json_c;
		return 1;
	}
	if (f->role == RD_METRICS) {
		if (!fnonempty(PK(F_NAME)))
			goto json_c;
		WS(b, ",\"name\":");
		if (fjson(b, PK(F_NAME)) < 0 || (v = PK(F_VALUE)) == NULL)
			goto json_c;
		WS(b, ",\"value\":");
		if (v->type == FLAT_STR) {
			if ((n = fstr(v, tmp, &s)) < 0 || wvalue_text(b, s, (size_t)n) < 0)
				goto json_c;
		} else if (v->type != FLAT_NUM && v->type != FLAT_NULL) {
			goto json_c;
		} else if (fjson(b, v) < 0) {
			goto json_c;
		}
		used |= 1u << F_NAME | 1u << F_VALUE;
		if (fopt(b, PK(F_UNIT), F_UNIT, ",\"unit\":", &used) < 0 ||
		    fend(f, r, pick, used, ",\"labels\":", 1, ts, RD_METRIC, off) < 0)
			goto json_c;
		return 1;
	}
	/* a span */
	{
		const char *stat;
		int64_t dur, end;
		size_t z = 0;
		if (!fnonempty(PK(F_TRACE)) || !fnonempty(PK(F_SPAN)) || !fnonempty(PK(F_NAME)))
			goto json_c;
		if ((v = PK(F_DUR)) != NULL && v->type != FLAT_NULL) {
			if (fdur(v, mult[F_DUR], &dur) < 0)
				goto json_c;
			used |= 1u << F_DUR;
		} else if ((v = PK(F_END)) != NULL && v->type != FLAT_NULL) {
			if (fts(v, f->unit, &end) < 0)
				goto json_c;
			dur = end - ts;
			used |= 1u << F_END;
		} else {
			goto json_c;
		}
		if (dur < 0)
			goto json_c;
		stat = fname(PK(F_STATUS), "UNSET", rd_status_text, rd_status_number);
		if (stat == NULL)
			goto json_c;
		WS(b, ",\"trace_id\":");
		if (fjson(b, PK(F_TRACE)) < 0)
			goto json_c;
		WS(b, ",\"span_id\":");
		if (fjson(b, PK(F_SPAN)) < 0)
			goto json_c;
		WS(b, ",\"parent_id\":");
		v = PK(F_PARENT);
		if (fnonempty(v)) {
			if ((n = fstr(v, tmp, &s)) < 0)
				goto json_c;
			for (z = 0; z < (size_t)n && s[z] == '0'; z++)
				;
		}
		if (fnonempty(v) && z != (size_t)n) {
			if (fjson(b, v) < 0)
				goto json_c;
		} else {
			WS(b, "null");
		}
		WS(b, ",\"name\":");
		if (fjson(b, PK(F_NAME)) < 0)
			goto json_c;
		wdur_status(b, dur, stat);
		used |= 1u << F_TRACE | 1u << F_SPAN | 1u << F_PARENT | 1u << F_NAME |
			1u << F_STATUS;
		if (fend(f, r, pick, used, ",\"attrs\":", 0, ts, RD_SPAN, off) < 0)
			goto json_c;
		return 1;
	}
#undef PK
json_c:
	b->len = off;
	return 0;
}


/* ---- the fast sortedness scan of a JSONL line ---- */

/* Skips a JSON string starting at p[i] == '"'; returns the index after it,
 * or 0 when unterminated.  *esc is set when it holds a backslash. */
static size_t
skip_str(const char *p, size_t n, size_t i, int *esc)
{
	for (i++; i < n; i++) {
#ifdef __SSE2__
		/* 16 bytes at a time while none is a quote or a backslash */
		const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
		while (n - i >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
			int bits = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)));
			if (bits != 0) {
				i += (size_t)__builtin_ctz((unsigned)bits);
				break;
			}
			i += 16;
		}
		if (i >= n)
			break;
#endif
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
	unsigned nkey = 0;
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
		e = key_get(f, nkey++, p + ks, ke - ks);
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
	const char *p, *why;
	size_t n;
	int k;
	json_object *o;
	struct flat fr;

	for (;;) {
		if ((k = rd_line_raw(s, &p, &n)) <= 0)
			return k;
		rd_count_in(s);
		s->nelem = 1;
		if (s->quiet) {
			/* Only the time matters; with quiet == 1 a line that is not
			 * UTF-8 counts too (see RD_QUIET_FAST in rd.h). */
			int64_t ts;
			if ((s->quiet == RD_QUIET_FAST || js_utf8_valid(p, n)) && scan_ts(s, p, n, &ts)) {
				rd_pend(s, ts, 1, RD_LOG, 0);
				return 1;
			}
		} else if (flat_parse(p, n, 1, &fr, &why) == 0 && fast_rec(s, &fr)) {
			return 1;   /* validated, UTF-8 checked and written in one pass */
		}
		if (js_utf8_valid(p, n))
			break;
		rd_reject(s, s->line, p, n, "invalid UTF-8");
	}
	if ((o = rd_json_object(s, p, n)) == NULL)
		return 1;
	rd_jsonl_rec(s, o, s->line, 1, p, n);
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
	.open = jsonl_open,
	.next = jsonl_next,
	.close = jsonl_close,
};
