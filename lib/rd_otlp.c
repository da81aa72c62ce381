/*
 * rd_otlp: OpenTelemetry's OTLP/JSON, one export request per line (the
 * file exporter's form): resourceLogs / resourceMetrics / resourceSpans,
 * service from the resource attribute service.name; each log record, data
 * point or span is one signal (ids "role:LINE.K").
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "js.h"
#include "rd.h"
#include "rd_doc.h"

static void wanyvalue(struct buf *b, json_object *av);

/* [{key, value}] as an object. */
static void
wkvlist(struct buf *b, json_object *list)
{
	size_t i, n = rd_alen(list);

	buf_addc(b, '{');
	for (i = 0; i < n; i++) {
		json_object *kv = json_object_array_get_idx(list, i);
		const char *k = js_str(kv, "key");
		if (k == NULL)
			continue;
		if (b->p[b->len - 1] != '{')
			buf_addc(b, ',');
		wstrz(b, k);
		buf_addc(b, ':');
		wanyvalue(b, rd_get(kv, "value"));
	}
	buf_addc(b, '}');
}

static void
wanyvalue(struct buf *b, json_object *av)
{
	json_object *v;

	if ((v = rd_get(av, "stringValue")) != NULL || (v = rd_get(av, "boolValue")) != NULL ||
	    (v = rd_get(av, "doubleValue")) != NULL || (v = rd_get(av, "bytesValue")) != NULL) {
		wjson(b, v);
	} else if ((v = rd_get(av, "intValue")) != NULL) {
		if (json_object_is_type(v, json_type_string) &&
		    rd_json_number(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
			w(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		else
			wjson(b, v);
	} else if ((v = rd_get(av, "arrayValue")) != NULL) {
		json_object *vals = rd_get(v, "values");
		size_t n = rd_alen(vals);
		buf_addc(b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			wanyvalue(b, json_object_array_get_idx(vals, i));
		}
		buf_addc(b, ']');
	} else if ((v = rd_get(av, "kvlistValue")) != NULL) {
		wkvlist(b, rd_get(v, "values"));
	} else {
		WS(b, "null");
	}
}

/* A *UnixNano value (a decimal string or a number). */
static int
otlp_ns(json_object *v, int64_t *ns, const char **why)
{
	*why = "missing time";
	if (v == NULL)
		return -1;
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (end == s || *end || errno) {
			*why = "bad time";
			return -1;
		}
		return ts_epoch_int(x, TS_NS, ns, why);
	}
	if (json_object_is_type(v, json_type_int) && !rd_int_saturated(v))
		return ts_epoch_int(json_object_get_int64(v), TS_NS, ns, why);
	*why = "bad time";
	return -1;
}

/* The service of a resource: service.name, else what the OpenTelemetry
 * SDKs default to, "unknown_service" (":" and process.executable.name when
 * the resource has it); *dflt is set then. */
static const char *
otlp_service(json_object *resource, char *buf, size_t n, int *dflt)
{
	json_object *attrs = rd_get(resource, "attributes");
	size_t i, na = rd_alen(attrs);
	const char *exe = NULL;

	*dflt = 0;
	for (i = 0; i < na; i++) {
		json_object *kv = json_object_array_get_idx(attrs, i);
		const char *k = js_str(kv, "key");
		const char *s = js_str(rd_get(kv, "value"), "stringValue");
		if (k && strcmp(k, "service.name") == 0 && s && *s)
			return s;
		if (k && strcmp(k, "process.executable.name") == 0 && s && *s)
			exe = s;
	}
	*dflt = 1;
	snprintf(buf, n, "unknown_service%s%s", exe ? ":" : "", exe ? exe : "");
	return buf;
}

static void
otlp_log(struct rd_src *f, json_object *lr, const char *svc, unsigned long line, const char *raw,
	 size_t n, const char *where)
{
	struct buf *b = &f->body;
	size_t off = b->len;
	json_object *v;
	const char *why, *lv = "INFO", *s;
	int64_t ts, x;

	v = rd_get(lr, "timeUnixNano");
	if (v == NULL || (json_object_is_type(v, json_type_string) &&
			  strcmp(json_object_get_string(v), "0") == 0) ||
	    (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0))
		v = rd_get(lr, "observedTimeUnixNano");
	if (otlp_ns(v, &ts, &why) < 0) {
		rd_reject(f, line, raw, n, "%s: %s", where, why);
		return;
	}
	if (f->quiet) {
		rd_pend(f, ts, f->nelem, 0, off);
		return;
	}
	if ((s = js_str(lr, "severityText")) != NULL && *s)
		lv = rd_level_text(s, strlen(s));
	else if (js_int(lr, "severityNumber", &x) == 0 && x != 0)
		lv = rd_level_number(x);
	if (lv == NULL) {
		rd_reject(f, line, raw, n, "%s: unknown log level", where);
		return;
	}
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wstrz(b, svc);
	WS(b, ",\"level\":\"");
	w(b, lv, strlen(lv));
	WS(b, "\",\"msg\":");
	v = rd_get(lr, "body");
	if ((s = js_str(v, "stringValue")) != NULL) {
		wstrz(b, s);
	} else if (v == NULL) {
		WS(b, "\"\"");
	} else {
		struct buf t = BUF_INIT(0);
		wanyvalue(&t, v);
		wstr(b, t.p, t.len);
		buf_free(&t);
	}
	if ((s = js_str(lr, "traceId")) != NULL && *s) {
		WS(b, ",\"trace_id\":");
		wstrz(b, s);
	}
	if ((s = js_str(lr, "spanId")) != NULL && *s) {
		WS(b, ",\"span_id\":");
		wstrz(b, s);
	}
	WS(b, ",\"attrs\":");
	wkvlist(b, rd_get(lr, "attributes"));
	buf_addc(b, '}');
	rd_pend(f, ts, f->nelem, 0, off);
}

static void
otlp_point(struct rd_src *f, json_object *dp, const char *svc, json_object *m,
	   unsigned long line, const char *raw, size_t n, const char *where)
{
	struct buf *b = &f->body;
	size_t off = b->len;
	json_object *v;
	const char *why, *name = js_str(m, "name"), *unit = js_str(m, "unit");
	int64_t ts;

	if (otlp_ns(rd_get(dp, "timeUnixNano"), &ts, &why) < 0) {
		rd_reject(f, line, raw, n, "%s: %s", where, why);
		return;
	}
	if (f->quiet) {
		rd_pend(f, ts, f->nelem, 1, off);
		return;
	}
	if (name == NULL || *name == '\0') {
		rd_reject(f, line, raw, n, "%s: missing metric name", where);
		return;
	}
	wmetric(b, ts, svc, name);
	if ((v = rd_get(dp, "asDouble")) == NULL)
		v = rd_get(dp, "asInt");
	if (v == NULL) {
		WS(b, "null");
	} else if (wvalue_json(b, v) < 0) {
		b->len = off;
		rd_reject(f, line, raw, n, "%s: metric value is not a number", where);
		return;
	}
	if (unit && *unit) {
		WS(b, ",\"unit\":");
		wstrz(b, unit);
	}
	WS(b, ",\"labels\":");
	wkvlist(b, rd_get(dp, "attributes"));
	buf_addc(b, '}');
	rd_pend(f, ts, f->nelem, 1, off);
}

static void
otlp_span(struct rd_src *f, json_object *sp, const char *svc, unsigned long line, const char *raw,
	  size_t n, const char *where)
{
	struct buf *b = &f->body;
	size_t off = b->len;
	const char *why, *tid = js_str(sp, "traceId"), *sid = js_str(sp, "spanId"),
		*pid = js_str(sp, "parentSpanId"), *name = js_str(sp, "name"), *stat;
	int64_t ts, end;
	json_object *sv;

	if (otlp_ns(rd_get(sp, "startTimeUnixNano"), &ts, &why) < 0) {
		rd_reject(f, line, raw, n, "%s: start: %s", where, why);
		return;
	}
	if (f->quiet) {
		rd_pend(f, ts, f->nelem, 2, off);
		return;
	}
	if (otlp_ns(rd_get(sp, "endTimeUnixNano"), &end, &why) < 0) {
		rd_reject(f, line, raw, n, "%s: end: %s", where, why);
		return;
	}
	if (end < ts) {
		rd_reject(f, line, raw, n, "%s: negative duration", where);
		return;
	}
	if (!tid || !*tid || !sid || !*sid || !name) {
		/* present but "" (the specification's own examples): not missing */
		const char *k = !tid || !*tid ? "traceId" : !sid || !*sid ? "spanId" : "name",
			*v = !tid || !*tid ? tid : !sid || !*sid ? sid : name;
		if (v)
			rd_reject(f, line, raw, n, "%s: empty %s (OTLP: an invalid span)", where, k);
		else
			rd_reject(f, line, raw, n, "%s: missing %s", where, k);
		return;
	}
	sv = rd_get(rd_get(sp, "status"), "code");
	stat = sv ? rd_status_json(sv) : "UNSET";
	if (stat == NULL) {
		rd_reject(f, line, raw, n, "%s: unknown span status", where);
		return;
	}
	wspan(b, ts, svc, tid, sid, pid, name, end - ts, stat);
	if (rd_alen(rd_get(sp, "attributes")) > 0) {
		WS(b, ",\"attrs\":");
		wkvlist(b, rd_get(sp, "attributes"));
	}
	buf_addc(b, '}');
	rd_pend(f, ts, f->nelem, 2, off);
}

/* ---- histograms ---- */

/* An unsigned count: a decimal string or a JSON integer (absent: 0). */
static int
otlp_u64(json_object *v, uint64_t *out)
{
	*out = 0;
	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		char *end;
		errno = 0;
		unsigned long long x = strtoull(s, &end, 10);
		if (end == s || *end || errno || *s == '-')
			return -1;
		*out = x;
		return 0;
	}
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
	    !rd_int_saturated(v)) {
		*out = (uint64_t)json_object_get_int64(v);
		return 0;
	}
	return -1;
}

static int
otlp_double(json_object *v, double *out)
{
	if (v == NULL || !(json_object_is_type(v, json_type_double) ||
			   json_object_is_type(v, json_type_int)))
		return -1;
	*out = json_object_get_double(v);
	return 0;
}

/* Buckets in value order: [lo, hi] with a count. */
struct hbucket {
	double lo, hi;
	uint64_t n;
};

/*
 * The q-quantile of the buckets, as Prometheus' histogram_quantile: the
 * bucket where the cumulative count reaches q * count, and a linear
 * interpolation inside it.  An infinite bound is replaced by min or max
 * when the point has them, else by the bucket's finite bound.
 */
static double
hquantile(const struct hbucket *b, size_t nb, uint64_t count, double q)
{
	double rank = q * (double)count, cum = 0;

	for (size_t i = 0; i < nb; i++) {
		if (b[i].n == 0)
			continue;
		if (cum + (double)b[i].n >= rank) {
			double lo = b[i].lo, hi = b[i].hi;
			if (isinf(lo))
				lo = hi;
			if (isinf(hi))
				hi = lo;
			return lo + (hi - lo) * ((rank - cum) / (double)b[i].n);
		}
		cum += (double)b[i].n;
	}
	return nb ? b[nb - 1].hi : NAN;
}

static void
hist_metric(struct rd_src *f, int64_t ts, const char *svc, const char *name, const char *sfx,
	    const char *unit, json_object *attrs, double v, int is_count, uint64_t cnt)
{
	struct buf *b = &f->body;
	size_t off = b->len;

	f->nelem++;
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wstrz(b, svc);
	WS(b, ",\"name\":");
	{
		struct buf t = BUF_INIT(0);
		buf_printf(&t, "%s.%s", name, sfx);
		wstr(b, t.p, t.len);
		buf_free(&t);
	}
	WS(b, ",\"value\":");
	if (is_count)
		buf_printf(b, "%llu", (unsigned long long)cnt);
	else
		wdouble(b, v);
	if (unit && *unit && !is_count) {
		WS(b, ",\"unit\":");
		wstrz(b, unit);
	}
	WS(b, ",\"labels\":");
	wkvlist(b, attrs);
	buf_addc(b, '}');
	rd_pend(f, ts, f->nelem, 1, off);
}

/* A histogram or exponential-histogram point: NAME.count, NAME.sum and
 * NAME.p50, .p90, .p99 estimated from the buckets (clamped to min and max
 * when present). */
/* The buckets of a point in value order into *out (*nb of them, *total
 * values).  NULL, or what is wrong with them. */
static const char *
hist_buckets(json_object *dp, int expo, struct hbucket **out, size_t *nb, uint64_t *total,
	     char *why, size_t whyn)
{
	struct hbucket *bk;
	uint64_t c;

	*nb = 0, *total = 0;
	if (!expo) {
		json_object *bc = rd_get(dp, "bucketCounts"), *eb = rd_get(dp, "explicitBounds");
		size_t nc = rd_alen(bc), ne = rd_alen(eb);
		if (nc && nc != ne + 1) {
			snprintf(why, whyn, "%zu bucketCounts for %zu explicitBounds (expected %zu)",
				 nc, ne, ne + 1);
			return why;
		}
		*out = bk = ecalloc(nc + 1, sizeof *bk);
		for (size_t i = 0; i < nc; i++) {
			double lo = -INFINITY, hi = INFINITY;
			if ((i > 0 && otlp_double(json_object_array_get_idx(eb, i - 1), &lo) < 0) ||
			    (i < ne && otlp_double(json_object_array_get_idx(eb, i), &hi) < 0) ||
			    otlp_u64(json_object_array_get_idx(bc, i), &c) < 0 || lo > hi) {
				snprintf(why, whyn, "bad bucket %zu", i);
				return why;
			}
			bk[(*nb)++] = (struct hbucket){lo, hi, c};
			*total += c;
		}
		return NULL;
	}
	int64_t scale, off;
	json_object *pos = rd_get(dp, "positive"), *neg = rd_get(dp, "negative");
	json_object *pb = rd_get(pos, "bucketCounts"), *nbk = rd_get(neg, "bucketCounts");
	size_t np = rd_alen(pb), nn = rd_alen(nbk);
	double base;

	if (js_int(dp, "scale", &scale) < 0)
		scale = 0;
	if (scale < -10 || scale > 20 || otlp_u64(rd_get(dp, "zeroCount"), &c) < 0)
		return "bad scale or zeroCount";
	base = pow(2.0, pow(2.0, (double)-scale));
	*out = bk = ecalloc(np + nn + 1, sizeof *bk);
	/* negative buckets, most negative first: index i is [-base^(i+1), -base^i) */
	if (js_int(neg, "offset", &off) < 0)
		off = 0;
	for (size_t i = nn; i-- > 0;) {
		double k = (double)off + (double)i;   /* no int64 overflow at any offset */
		if (otlp_u64(json_object_array_get_idx(nbk, i), &c) < 0)
			return "bad negative bucket count";
		bk[(*nb)++] = (struct hbucket){-pow(base, k + 1), -pow(base, k), c};
		*total += c;
	}
	otlp_u64(rd_get(dp, "zeroCount"), &c);
	bk[(*nb)++] = (struct hbucket){0, 0, c};
	*total += c;
	if (js_int(pos, "offset", &off) < 0)
		off = 0;
	for (size_t i = 0; i < np; i++) {
		double k = (double)off + (double)i;   /* no int64 overflow at any offset */
		if (otlp_u64(json_object_array_get_idx(pb, i), &c) < 0)
			return "bad positive bucket count";
		bk[(*nb)++] = (struct hbucket){pow(base, k), pow(base, k + 1), c};
		*total += c;
	}
	return NULL;
}

/* A histogram or exponential-histogram point: NAME.count, NAME.sum and
 * NAME.p50, .p90, .p99 estimated from the buckets (infinite outer bounds
 * and the results clamped to min and max when present).  Buckets that do
 * not fit the count are a reject of the percentiles (count and sum load). */
static void
otlp_hist(struct rd_src *f, json_object *dp, const char *svc, json_object *m, int expo,
	  unsigned long line, const char *raw, size_t n, const char *where)
{
	static const double qs[] = {0.5, 0.9, 0.99};
	static const char *const qn[] = {"p50", "p90", "p99"};
	const char *why, *name = js_str(m, "name"), *unit = js_str(m, "unit");
	json_object *attrs = rd_get(dp, "attributes");
	struct hbucket *bk = NULL;
	size_t nb = 0;
	uint64_t count, total = 0;
	double sum = 0, mn = 0, mx = 0;
	int have_sum, have_min, have_max;
	int64_t ts;
	char wb[120];

	if (otlp_ns(rd_get(dp, "timeUnixNano"), &ts, &why) < 0) {
		f->nelem++;
		rd_reject(f, line, raw, n, "%s: %s", where, why);
		return;
	}
	if (f->quiet) {
		f->nelem++;
		rd_pend(f, ts, f->nelem, 1, f->body.len);
		return;
	}
	if (name == NULL || *name == '\0' || otlp_u64(rd_get(dp, "count"), &count) < 0) {
		f->nelem++;
		rd_reject(f, line, raw, n, "%s: %s", where, name == NULL || *name == '\0' ?
			  "missing metric name" : "count is not an unsigned integer");
		return;
	}
	have_sum = otlp_double(rd_get(dp, "sum"), &sum) == 0;
	have_min = otlp_double(rd_get(dp, "min"), &mn) == 0;
	have_max = otlp_double(rd_get(dp, "max"), &mx) == 0;
	why = hist_buckets(dp, expo, &bk, &nb, &total, wb, sizeof wb);
	if (why == NULL && nb && total != count) {
		snprintf(wb, sizeof wb, "the buckets hold %llu values, count is %llu",
			 (unsigned long long)total, (unsigned long long)count);
		why = wb;
	}
	hist_metric(f, ts, svc, name, "count", unit, attrs, 0, 1, count);
	if (have_sum)
		hist_metric(f, ts, svc, name, "sum", unit, attrs, sum, 0, 0);
	if (why) {
		f->nelem++;
		rd_reject(f, line, raw, n, "%s: no percentiles: %s", where, why);
		free(bk);
		return;
	}
	for (size_t i = 0; i < nb; i++) {
		if (have_min && isinf(bk[i].lo))
			bk[i].lo = mn < bk[i].hi ? mn : bk[i].hi;
		if (have_max && isinf(bk[i].hi))
			bk[i].hi = mx > bk[i].lo ? mx : bk[i].lo;
	}
	for (int q = 0; q < 3 && count > 0 && total > 0; q++) {
		double v = hquantile(bk, nb, count, qs[q]);
		if (have_min && v < mn)
			v = mn;
		if (have_max && v > mx)
			v = mx;
		if (isfinite(v))
			hist_metric(f, ts, svc, name, qn[q], unit, attrs, v, 0, 0);
	}
	free(bk);
}

/* The array under key k of o, or NULL after a reject naming where it is
 * missing: damaged structure is never skipped silently. */
static json_object *
want_array(struct rd_src *f, json_object *o, const char *k, const char *alt, const char *where,
	   unsigned long line, const char *raw, size_t n)
{
	json_object *a = rd_get(o, k);

	if (a == NULL && alt)
		a = rd_get(o, alt);
	if (a && json_object_is_type(a, json_type_array))
		return a;
	rd_reject(f, line, raw, n, "%s: %s %s array", where, a ? "not an" : "no", k);
	return NULL;
}

static void
parse_otlp(struct rd_src *f, json_object *o, unsigned long line, const char *raw, size_t n)
{
	static const char *const top[] = {"resourceLogs", "resourceMetrics", "resourceSpans"};
	static const char *const scope[] = {"scopeLogs", "scopeMetrics", "scopeSpans"};
	static const char *const items[] = {"logRecords", "metrics", "spans"};
	static const char *const what[] = {"log records", "metric data points", "spans"};
	json_object *res = rd_get(o, top[f->role]);
	size_t i, j, k, q;
	char where[160];
	unsigned long rejects = f->st->rejects;

	f->nelem = 0;
	if (res == NULL || !json_object_is_type(res, json_type_array)) {
		rd_reject(f, line, raw, n, "no %s array in an OTLP %s file", top[f->role],
		       rd_role_name[f->role]);
		return;
	}
	for (i = 0; i < rd_alen(res); i++) {
		json_object *r = json_object_array_get_idx(res, i);
		char sbuf[300];
		int dflt;
		const char *svc = otlp_service(rd_get(r, "resource"), sbuf, sizeof sbuf, &dflt);
		json_object *scopes;
		size_t before = f->npend;
		snprintf(where, sizeof where, "%s[%zu]", top[f->role], i);
		scopes = want_array(f, r, scope[f->role], f->role == RD_LOGS ?
				    "instrumentationLibraryLogs" : NULL, where, line, raw, n);
		for (j = 0; j < rd_alen(scopes); j++) {
			json_object *its;
			snprintf(where, sizeof where, "%s[%zu].%s[%zu]", top[f->role], i,
				 scope[f->role], j);
			its = want_array(f, json_object_array_get_idx(scopes, j), items[f->role], NULL,
					 where, line, raw, n);
			for (k = 0; k < rd_alen(its); k++) {
				json_object *it = json_object_array_get_idx(its, k);
				snprintf(where, sizeof where, "%s[%zu].%s[%zu].%s[%zu]", top[f->role], i,
					 scope[f->role], j, items[f->role], k);
				if (f->role == RD_LOGS) {
					f->nelem++;
					otlp_log(f, it, svc, line, raw, n, where);
				} else if (f->role == RD_TRACES) {
					f->nelem++;
					otlp_span(f, it, svc, line, raw, n, where);
				} else {
					json_object *data = rd_get(it, "gauge");
					int hist = 0;
					if (data == NULL)
						data = rd_get(it, "sum");
					if (data == NULL && (data = rd_get(it, "histogram")) != NULL)
						hist = 1;
					if (data == NULL && (data = rd_get(it, "exponentialHistogram")) != NULL)
						hist = 2;
					if (data == NULL) {
						const char *t = rd_get(it, "summary") ? "summary" : "unknown";
						f->nelem++;
						rd_reject(f, line, raw, n, "%s: unsupported metric type %s", where, t);
						continue;
					}
					json_object *dps = want_array(f, data, "dataPoints", NULL, where, line,
								      raw, n);
					for (q = 0; q < rd_alen(dps); q++) {
						char w2[200];
						snprintf(w2, sizeof w2, "%s.dataPoints[%zu]", where, q);
						if (hist) {
							otlp_hist(f, json_object_array_get_idx(dps, q), svc, it,
								  hist == 2, line, raw, n, w2);
							continue;
						}
						f->nelem++;
						otlp_point(f, json_object_array_get_idx(dps, q), svc, it, line,
							   raw, n, w2);
					}
				}
			}
		}
		if (dflt && !f->quiet)
			f->unknown_service += f->npend - before;
	}
	/* A line that yields nothing and was not rejected would vanish. */
	if (!f->quiet && f->npend == 0 && f->st->rejects == rejects)
		rd_reject(f, line, raw, n, "no %s in the OTLP request (empty arrays)", what[f->role]);
}

static int
otlp_next(struct rd_src *s)
{
	const char *p;
	size_t n;
	int k;
	json_object *o;

	if ((k = rd_line(s, &p, &n)) <= 0)
		return k;
	if ((o = rd_json_object(s, p, n)) == NULL)
		return 1;
	parse_otlp(s, o, s->line, p, n);
	json_object_put(o);
	return 1;
}

/* The share of sampled lines that are JSON objects with a top-level
 * resourceLogs, resourceMetrics or resourceSpans key. */
static int
otlp_probe(const struct rd_probe *p)
{
	const char *cur = NULL, *l;
	size_t n;
	int lines = 0, good = 0;

	while (lines < RD_PROBE_LINES && (l = rd_probe_next(p, &cur, &n)) != NULL) {
		lines++;
		good += rd_probe_json(l, n) == 2;
	}
	return lines ? RD_SCORE_MAX * good / lines : 0;
}

const struct rd_format rd_otlp = {
	.name = "otlp",
	.exts = ".otlp.jsonl .otlp.json",
	.roles = 1u << RD_LOGS | 1u << RD_METRICS | 1u << RD_TRACES,
	.probe = otlp_probe,
	.next = otlp_next,
};

/*
 * otlp_doc: the same OTLP requests as whole JSON documents, pretty-printed
 * or not (the opentelemetry-proto examples, an exporter's request body
 * saved with an editor).  A document is one record in, like a line of the
 * line form; its signals get ids role:LINE.K.
 */
static int
otlp_doc_next(struct rd_src *s)
{
	json_object *o;
	const char *raw;
	size_t rawn;
	int r;

	if ((r = rd_doc_next(s, s->priv, &o, &raw, &rawn)) <= 0 || o == NULL)
		return r;
	rd_count_in(s);
	if (!json_object_is_type(o, json_type_object))
		rd_reject_cut(s, s->line, raw, rawn, 4096, "not an OTLP request (a JSON object)");
	else
		parse_otlp(s, o, s->line, raw, rawn);
	json_object_put(o);
	return 1;
}

/* A document that starts with '{' and holds a resource array key; the line
 * form scores higher when each line is a whole request. */
static int
otlp_doc_probe(const struct rd_probe *p)
{
	static const char *const keys[][2] = {
		{"\"resourceSpans\"", NULL}, {"\"resourceLogs\"", NULL}, {"\"resourceMetrics\"", NULL},
	};

	if (rd_doc_first(p) != '{')
		return 0;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (rd_doc_has(p, keys[i]))
			return 90;
	return 0;
}

const struct rd_format rd_otlp_doc = {
	.name = "otlp_doc",
	.exts = ".json",
	.roles = 1u << RD_LOGS | 1u << RD_METRICS | 1u << RD_TRACES,
	.probe = otlp_doc_probe,
	.open = rd_doc_open,
	.next = otlp_doc_next,
	.close = rd_doc_close,
};
