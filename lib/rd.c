/* rd: what the readers of aiops-load share (see rd.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "js.h"
#include "rd.h"
#include "scan.h"

const char *const rd_role_name[RD_NROLE] = {"logs", "metrics", "traces", "incidents"};

/* Which fields each signal role reads (others become attrs or labels). */
const unsigned rd_role_flds[3] = {
	1u << F_TS | 1u << F_SERVICE | 1u << F_LEVEL | 1u << F_MSG | 1u << F_TRACE |
		1u << F_SPAN | 1u << F_ATTRS | 1u << F_KIND | 1u << F_ID,
	1u << F_TS | 1u << F_SERVICE | 1u << F_NAME | 1u << F_VALUE | 1u << F_UNIT |
		1u << F_ATTRS | 1u << F_KIND | 1u << F_ID,
	1u << F_TS | 1u << F_SERVICE | 1u << F_TRACE | 1u << F_SPAN | 1u << F_PARENT |
		1u << F_NAME | 1u << F_DUR | 1u << F_END | 1u << F_STATUS | 1u << F_ATTRS |
		1u << F_KIND | 1u << F_ID,
};

/* The alias table, in priority order within a field (the man page has the
 * same table).  mult is the duration unit in nanoseconds. */
struct alias {
	const char *name;
	int fld;
	int64_t mult;
};
static const struct alias aliases[] = {
	{"ts", F_TS, 0}, {"timestamp", F_TS, 0}, {"@timestamp", F_TS, 0}, {"time", F_TS, 0},
	{"start_time", F_TS, 0}, {"startTime", F_TS, 0}, {"start_ts", F_TS, 0},
	{"datetime", F_TS, 0},
	{"service", F_SERVICE, 0}, {"service.name", F_SERVICE, 0}, {"service_name", F_SERVICE, 0},
	{"serviceName", F_SERVICE, 0}, {"app", F_SERVICE, 0}, {"application", F_SERVICE, 0},
	{"resource.service.name", F_SERVICE, 0},
	{"level", F_LEVEL, 0}, {"severity", F_LEVEL, 0}, {"severity_text", F_LEVEL, 0},
	{"severityText", F_LEVEL, 0}, {"loglevel", F_LEVEL, 0}, {"log.level", F_LEVEL, 0},
	{"lvl", F_LEVEL, 0}, {"severity_number", F_LEVEL, 0}, {"severityNumber", F_LEVEL, 0},
	{"msg", F_MSG, 0}, {"message", F_MSG, 0}, {"body", F_MSG, 0}, {"log", F_MSG, 0},
	{"text", F_MSG, 0},
	{"trace_id", F_TRACE, 0}, {"traceId", F_TRACE, 0}, {"trace.id", F_TRACE, 0},
	{"traceID", F_TRACE, 0},
	{"span_id", F_SPAN, 0}, {"spanId", F_SPAN, 0}, {"span.id", F_SPAN, 0}, {"spanID", F_SPAN, 0},
	{"parent_id", F_PARENT, 0}, {"parentId", F_PARENT, 0}, {"parent_span_id", F_PARENT, 0},
	{"parentSpanId", F_PARENT, 0}, {"parent.id", F_PARENT, 0}, {"parentSpanID", F_PARENT, 0},
	{"name", F_NAME, 0}, {"metric", F_NAME, 0}, {"metric_name", F_NAME, 0},
	{"__name__", F_NAME, 0}, {"operation", F_NAME, 0}, {"operation_name", F_NAME, 0},
	{"operationName", F_NAME, 0}, {"span_name", F_NAME, 0},
	{"value", F_VALUE, 0}, {"val", F_VALUE, 0},
	{"unit", F_UNIT, 0}, {"units", F_UNIT, 0},
	{"attrs", F_ATTRS, 0}, {"attributes", F_ATTRS, 0}, {"labels", F_ATTRS, 0},
	{"tags", F_ATTRS, 0}, {"dimensions", F_ATTRS, 0}, {"fields", F_ATTRS, 0},
	{"duration_ms", F_DUR, TS_NS_PER_MS}, {"duration", F_DUR, TS_NS_PER_MS},
	{"durationNano", F_DUR, 1}, {"duration_ns", F_DUR, 1}, {"duration_us", F_DUR, 1000},
	{"duration_s", F_DUR, TS_NS_PER_S}, {"latency_ms", F_DUR, TS_NS_PER_MS},
	{"elapsed_ms", F_DUR, TS_NS_PER_MS},
	{"end_time", F_END, 0}, {"endTime", F_END, 0}, {"end_ts", F_END, 0},
	{"status", F_STATUS, 0}, {"status_code", F_STATUS, 0}, {"statusCode", F_STATUS, 0},
	{"otel.status_code", F_STATUS, 0},
	{"kind", F_KIND, 0}, {"id", F_ID, 0},
	{NULL, 0, 0},
};

/* Names accepted in a `columns` mapping of the config. */
static const struct alias column_names[] = {
	{"ts", F_TS, 0}, {"service", F_SERVICE, 0}, {"level", F_LEVEL, 0}, {"msg", F_MSG, 0},
	{"trace_id", F_TRACE, 0}, {"span_id", F_SPAN, 0}, {"parent_id", F_PARENT, 0},
	{"name", F_NAME, 0}, {"value", F_VALUE, 0}, {"unit", F_UNIT, 0}, {"attrs", F_ATTRS, 0},
	{"labels", F_ATTRS, 0}, {"duration_ms", F_DUR, TS_NS_PER_MS},
	{"duration_us", F_DUR, 1000}, {"duration_ns", F_DUR, 1},
	{"duration_s", F_DUR, TS_NS_PER_S}, {"end_ts", F_END, 0}, {"status", F_STATUS, 0},
	{NULL, 0, 0},
};



static uint32_t
hash_key(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void
amap_put(struct amap *m, const char *key, int fld, int prio, int64_t mult)
{
	size_t n = strlen(key);
	uint32_t i = hash_key(key, n) % AMAP_SIZE;

	while (m->e[i].key) {
		if (m->e[i].klen == n && memcmp(m->e[i].key, key, n) == 0)
			return;    /* the first (highest priority) use wins */
		i = (i + 1) % AMAP_SIZE;
	}
	m->e[i].key = key;
	m->e[i].klen = n;
	m->e[i].fld = (short)fld;
	m->e[i].prio = (short)prio;
	m->e[i].mult = mult;
	if (strchr(key, '.')) {
		for (int j = 0; j < 4; j++)
			if (m->dotted[fld][j] == NULL) {
				m->dotted[fld][j] = key;
				m->dotted_mult[fld][j] = mult;
				break;
			}
	}
}

const struct amap_ent *
amap_get(const struct amap *m, const char *key, size_t n)
{
	uint32_t i = hash_key(key, n) % AMAP_SIZE;

	while (m->e[i].key) {
		if (m->e[i].klen == n && memcmp(m->e[i].key, key, n) == 0)
			return &m->e[i];
		i = (i + 1) % AMAP_SIZE;
	}
	return NULL;
}

const struct amap_ent *
amap_get_icase(const struct amap *m, const char *key, size_t n)
{
	const struct amap_ent *e = amap_get(m, key, n), *best = NULL;

	if (e)
		return e;
	for (size_t i = 0; i < AMAP_SIZE; i++)
		if (m->e[i].key && m->e[i].klen == n && strncasecmp(m->e[i].key, key, n) == 0 &&
		    (best == NULL || m->e[i].prio < best->prio))
			best = &m->e[i];
	return best;
}

/* A member at a path where each dot may be part of a key or a separator
 * ("resource.service.name" finds {"resource":{"service.name":...}}). */
json_object *
rd_nested(json_object *o, const char *path)
{
	json_object *v;
	const char *dot;

	if (!json_object_is_type(o, json_type_object))
		return NULL;
	if (json_object_object_get_ex(o, path, &v))
		return v;
	for (dot = strchr(path, '.'); dot; dot = strchr(dot + 1, '.')) {
		char key[128];
		size_t n = (size_t)(dot - path);
		if (n >= sizeof key)
			break;
		memcpy(key, path, n);
		key[n] = '\0';
		if (json_object_object_get_ex(o, key, &v) && (v = rd_nested(v, dot + 1)) != NULL)
			return v;
	}
	return NULL;
}

/* ---- the record writer ---- */

void
w(struct buf *b, const char *s, size_t n)
{
	buf_add(b, s, n);
}


void
wstr(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		w(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			u[6] = '\0';
			esc = u;
		}
		w(b, esc, strlen(esc));
	}
	w(b, s + run, n - run);
	buf_addc(b, '"');
}

void
wstrz(struct buf *b, const char *s)
{
	wstr(b, s, strlen(s));
}

void
wjson(struct buf *b, json_object *v)
{
	size_t n;
	const char *s;

	switch (json_object_get_type(v)) {
	case json_type_null:
		WS(b, "null");
		return;
	case json_type_string:
		wstr(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		return;
	case json_type_double:
		if (!isfinite(json_object_get_double(v))) {
			WS(b, "null");
			return;
		}
		break;
	default:
		break;
	}
	s = json_object_to_json_string_length(v, JS_FLAGS, &n);
	w(b, s, n);
}

void
wts(struct buf *b, int64_t ns)
{
	char t[TS_LEN + 1];

	buf_addc(b, '"');
	w(b, ts_format(ns, t), TS_LEN);
	buf_addc(b, '"');
}

void
wdouble(struct buf *b, double v)
{
	char t[64];

	if (!isfinite(v)) {
		WS(b, "null");
		return;
	}
	for (int p = 15; p <= 17; p++) {
		snprintf(t, sizeof t, "%.*g", p, v);
		if (strtod(t, NULL) == v)
			break;
	}
	w(b, t, strlen(t));
}

void
wspan(struct buf *b, int64_t ts, const char *svc, const char *tid, const char *sid,
      const char *pid, const char *name, int64_t dur, const char *status)
{
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wstrz(b, svc);
	WS(b, ",\"trace_id\":");
	wstrz(b, tid);
	WS(b, ",\"span_id\":");
	wstrz(b, sid);
	WS(b, ",\"parent_id\":");
	if (pid && *pid && strspn(pid, "0") != strlen(pid))
		wstrz(b, pid);
	else
		WS(b, "null");
	WS(b, ",\"name\":");
	wstrz(b, name);
	WS(b, ",\"duration_ms\":");
	wms(b, dur);
	WS(b, ",\"status\":\"");
	w(b, status, strlen(status));
	buf_addc(b, '"');
}

void
wmetric(struct buf *b, int64_t ts, const char *svc, const char *name)
{
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wstrz(b, svc);
	WS(b, ",\"name\":");
	wstrz(b, name);
	WS(b, ",\"value\":");
}

/* Milliseconds from nanoseconds, exactly ("28.522"); by hand, without
 * snprintf (it is on every span's path). */
void
wms(struct buf *b, int64_t ns)
{
	char t[24];
	int n = 0, i;
	uint64_t q, r;

	if (ns < 0) {
		/* the readers reject negative durations first */
		buf_addc(b, '-');
		ns = ns == INT64_MIN ? INT64_MAX : -ns;
	}
	q = (uint64_t)ns / TS_NS_PER_MS;
	r = (uint64_t)ns % TS_NS_PER_MS;
	do
		t[20 - n++] = (char)('0' + q % 10);
	while ((q /= 10) != 0);
	w(b, t + 21 - n, (size_t)n);
	if (r == 0)
		return;
	t[0] = '.';
	for (i = 6; i >= 1; i--, r /= 10)
		t[i] = (char)('0' + r % 10);
	for (n = 7; t[n - 1] == '0'; n--)
		;
	w(b, t, (size_t)n);
}

/* ---- values ---- */

static int
is_epoch_text(const char *s, size_t n, int *frac)
{
	size_t i = 0;
	int dig = 0;

	*frac = 0;
	if (n && (s[0] == '-' || s[0] == '+'))
		i++;
	for (; i < n; i++) {
		if (s[i] == '.' && !*frac)
			*frac = 1;
		else if (isdigit((unsigned char)s[i]))
			dig++;
		else
			return 0;
	}
	return dig > 0 && n < 40;
}

/*
 * Go's time.Time.String() form, "2022-08-22 03:41:09.858280782 +0000 UTC
 * m=+0.934442642": the monotonic clock reading "m=..." and the zone
 * abbreviation are dropped, the numeric offset is kept.
 */
static int
go_time(const char *s, size_t n, int64_t *ns)
{
	char t[80];
	const char *why, *m;
	size_t k;

	if (n >= sizeof t || n < 20)
		return -1;
	memcpy(t, s, n);
	t[n] = '\0';
	if ((m = strstr(t, " m=")) != NULL)
		t[m - t] = '\0';
	k = strlen(t);
	/* "... +0000 UTC": drop the abbreviation after the offset */
	char *sp = strrchr(t, ' ');
	if (sp && sp >= t + 5 && (sp[-5] == '+' || sp[-5] == '-') && isalpha((unsigned char)sp[1])) {
		*sp = '\0';
		k = strlen(t);
	}
	/* "...SS.fff +0000": the offset follows a space */
	if (k > 6 && t[k - 6] == ' ' && (t[k - 5] == '+' || t[k - 5] == '-'))
		memmove(t + k - 6, t + k - 5, 6);
	else
		return -1;
	return ts_parse(t, strlen(t), ns, &why);
}

/* A timestamp string; epoch strings use the configured unit. */
int
rd_ts_text(const char *s, size_t n, enum ts_unit u, int64_t *ns, const char **why)
{
	int frac;

	if (u != TS_AUTO && is_epoch_text(s, n, &frac)) {
		char t[48];
		memcpy(t, s, n);
		t[n] = '\0';
		if (frac)
			return ts_epoch_double(strtod(t, NULL), u, ns, why);
		errno = 0;
		long long v = strtoll(t, NULL, 10);
		if (errno == ERANGE) {
			*why = "timestamp out of range";
			return -1;
		}
		return ts_epoch_int(v, u, ns, why);
	}
	if (ts_parse(s, n, ns, why) == 0)
		return 0;
	return go_time(s, n, ns) == 0 ? 0 : -1;
}

/*
 * json-c stores an integer beyond the 64-bit range as the nearest limit, so
 * a limit value means the input's number is unknown: such values are
 * rejected rather than written as a number nobody sent.
 */
int
rd_int_saturated(json_object *v)
{
	int64_t i = json_object_get_int64(v);

	return i == INT64_MIN || (i == INT64_MAX && json_object_get_uint64(v) == UINT64_MAX);
}

int
rd_ts_json(json_object *v, enum ts_unit u, int64_t *ns, const char **why)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return rd_ts_text(json_object_get_string(v), (size_t)json_object_get_string_len(v), u, ns,
			       why);
	case json_type_int:
		if (rd_int_saturated(v) || json_object_get_int64(v) == INT64_MAX) {
			*why = "timestamp out of range";
			return -1;
		}
		return ts_epoch_int(json_object_get_int64(v), u, ns, why);
	case json_type_double:
		return ts_epoch_double(json_object_get_double(v), u, ns, why);
	default:
		*why = "timestamp is not a string or a number";
		return -1;
	}
}

int
rd_ieq(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

/* Normalises a level name; NULL when unknown. */
const char *
rd_level_text(const char *s, size_t n)
{
	static const struct { const char *in, *out; } tab[] = {
		{"trace", "DEBUG"}, {"debug", "DEBUG"}, {"dbg", "DEBUG"}, {"verbose", "DEBUG"},
		{"d", "DEBUG"}, {"t", "DEBUG"}, {"fine", "DEBUG"}, {"finer", "DEBUG"},
		{"finest", "DEBUG"},
		{"info", "INFO"}, {"information", "INFO"}, {"informational", "INFO"},
		{"notice", "INFO"}, {"i", "INFO"},
		{"warn", "WARN"}, {"warning", "WARN"}, {"w", "WARN"},
		{"error", "ERROR"}, {"err", "ERROR"}, {"severe", "ERROR"}, {"e", "ERROR"},
		{"fatal", "FATAL"}, {"critical", "FATAL"}, {"crit", "FATAL"}, {"alert", "FATAL"},
		{"emerg", "FATAL"}, {"emergency", "FATAL"}, {"panic", "FATAL"}, {"f", "FATAL"},
		{NULL, NULL},
	};
	/* OpenTelemetry severity texts may carry a digit: INFO2, WARN4. */
	if (n > 1 && isdigit((unsigned char)s[n - 1]) && !isdigit((unsigned char)s[0]))
		n--;
	for (int i = 0; tab[i].in; i++)
		if (rd_ieq(s, n, tab[i].in))
			return tab[i].out;
	return NULL;
}

/* OpenTelemetry severity numbers 1-24. */
const char *
rd_level_number(int64_t v)
{
	if (v >= 1 && v <= 8)
		return "DEBUG";
	if (v >= 9 && v <= 12)
		return "INFO";
	if (v >= 13 && v <= 16)
		return "WARN";
	if (v >= 17 && v <= 20)
		return "ERROR";
	if (v >= 21 && v <= 24)
		return "FATAL";
	return NULL;
}

const char *
rd_status_text(const char *s, size_t n)
{
	if (rd_ieq(s, n, "ok") || rd_ieq(s, n, "STATUS_CODE_OK") || rd_ieq(s, n, "1"))
		return "OK";
	if (rd_ieq(s, n, "error") || rd_ieq(s, n, "STATUS_CODE_ERROR") || rd_ieq(s, n, "2"))
		return "ERROR";
	if (rd_ieq(s, n, "unset") || rd_ieq(s, n, "STATUS_CODE_UNSET") || rd_ieq(s, n, "0") || n == 0)
		return "UNSET";
	return NULL;
}

const char *
rd_status_number(int64_t v)
{
	if (v == 0)
		return "UNSET";
	if (v == 1)
		return "OK";
	if (v == 2)
		return "ERROR";
	if (v >= 100 && v <= 599)    /* an HTTP status */
		return v >= 500 ? "ERROR" : "OK";
	return NULL;
}

const char *
rd_status_json(json_object *v)
{
	json_object *c;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return "UNSET";
	case json_type_string:
		return rd_status_text(json_object_get_string(v), (size_t)json_object_get_string_len(v));
	case json_type_int:
		return rd_status_number(json_object_get_int64(v));
	case json_type_object:
		if (json_object_object_get_ex(v, "code", &c))
			return rd_status_json(c);
		return "UNSET";
	default:
		return NULL;
	}
}

/* A duration string: a bare number in the alias' unit, or with a unit
 * ("250ms", "1.5s"). */
int
rd_dur_text(const char *s, size_t n, int64_t mult, int64_t *ns)
{
	char t[64], *end;
	double v;

	if (n == 0 || n >= sizeof t)
		return -1;
	memcpy(t, s, n);
	t[n] = '\0';
	errno = 0;
	v = strtod(t, &end);
	if (end == t || errno)
		return -1;
	if (*end == '\0') {
		if (!isfinite(v) || fabs(v * (double)mult) > 9e18)
			return -1;
		*ns = llround(v * (double)mult);
		return 0;
	}
	return ts_duration(t, ns);
}

int
rd_dur_json(json_object *v, int64_t mult, int64_t *ns)
{
	switch (json_object_get_type(v)) {
	case json_type_int: {
		int64_t x = json_object_get_int64(v);
		if (x > INT64_MAX / mult || x < INT64_MIN / mult)
			return -1;
		*ns = x * mult;
		return 0;
	}
	case json_type_double: {
		double x = json_object_get_double(v) * (double)mult;
		if (!isfinite(x) || fabs(x) > 9e18)
			return -1;
		*ns = llround(x);
		return 0;
	}
	case json_type_string:
		return rd_dur_text(json_object_get_string(v), (size_t)json_object_get_string_len(v), mult,
				ns);
	default:
		return -1;
	}
}

/* Is s a JSON number as written? */
int
rd_json_number(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !isdigit((unsigned char)s[i]))
			return 0;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !isdigit((unsigned char)s[i]))
			return 0;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	return i == n;
}

/* Writes a metric value given as text.  Returns 0, or -1 when not a number. */
int
wvalue_text(struct buf *b, const char *s, size_t n)
{
	char t[128], *end;
	double v;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || rd_ieq(s, n, "nan") || rd_ieq(s, n, "null") || rd_ieq(s, n, "-nan")) {
		WS(b, "null");
		return 0;
	}
	if (rd_json_number(s, n) && n < 64) {
		w(b, s, n);
		return 0;
	}
	if (n >= sizeof t)
		return -1;
	memcpy(t, s, n);
	t[n] = '\0';
	errno = 0;
	v = strtod(t, &end);
	if (end == t || *end || errno == EINVAL)
		return -1;
	wdouble(b, v);     /* inf and -inf become null */
	return 0;
}

int
wvalue_json(struct buf *b, json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		WS(b, "null");
		return 0;
	case json_type_int:
		if (rd_int_saturated(v))
			return -1;
		wjson(b, v);
		return 0;
	case json_type_double:
		wjson(b, v);
		return 0;
	case json_type_string:
		return wvalue_text(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
	default:
		return -1;
	}
}

json_object *
rd_get(json_object *o, const char *k)
{
	json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

size_t
rd_alen(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

int
rd_nonempty_str(json_object *v)
{
	return v && json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0;
}


int
rd_amap_build(struct amap *m, json_object *v, char *why, size_t whyn)
{
	unsigned mapped = 0;
	int i;

	memset(m, 0, sizeof *m);
	if (v && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, canon, src) {
			const struct alias *a;
			for (a = column_names; a->name && strcmp(a->name, canon) != 0; a++)
				;
			if (a->name == NULL || !json_object_is_type(src, json_type_string)) {
				snprintf(why, whyn, "columns.%s: unknown field or not a string", canon);
				return -1;
			}
			amap_put(m, json_object_get_string(src), a->fld, 0, a->mult);
			mapped |= 1u << a->fld;
		}
	}
	for (i = 0; aliases[i].name; i++)
		if (!(mapped >> aliases[i].fld & 1))
			amap_put(m, aliases[i].name, aliases[i].fld, i, aliases[i].mult);
	return 0;
}

/* ---- the reader's side ---- */

int
rd_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)p[i]))
			return 0;
	return 1;
}

static void
vreject(struct rd_src *s, unsigned long line, const char *raw, size_t n, size_t max,
	const char *fmt, va_list ap)
{
	char reason[400];

	if (s->quiet)
		return;
	vsnprintf(reason, sizeof reason, fmt, ap);
	if (s->elem)
		stage_reject(s->st, s->path, line, raw, n < max ? n : max, n, "element %s: %s",
			     s->elem, reason);
	else
		stage_reject(s->st, s->path, line, raw, n < max ? n : max, n, "%s", reason);
}

void
rd_reject(struct rd_src *s, unsigned long line, const char *raw, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreject(s, line, raw, n, n, fmt, ap);
	va_end(ap);
}

void
rd_reject_cut(struct rd_src *s, unsigned long line, const char *raw, size_t n, size_t max,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreject(s, line, raw, n, max, fmt, ap);
	va_end(ap);
}

void
rd_count_in(struct rd_src *s)
{
	if (!s->quiet)
		s->st->records_in++;
}

int
rd_line_raw(struct rd_src *s, const char **p, size_t *n)
{
	int k;

	for (;;) {
		k = rec_getline(&s->rd, p, n);
		if (k == REC_EOF)
			return 0;
		if (k == REC_ERROR) {
			snprintf(s->why, sizeof s->why, "read error: %s", strerror(errno));
			return -1;
		}
		s->line = s->rd.line;
		if (k == REC_LONG) {
			if (!s->quiet) {
				s->st->records_in++;
				stage_reject(s->st, s->path, s->line, *p, *n, s->rd.long_len,
					     "line too long (%zu bytes, limit %zu)", s->rd.long_len,
					     s->st->max_line);
			}
			continue;
		}
		if (rd_blank(*p, *n))
			continue;
		return 1;
	}
}

int
rd_line(struct rd_src *s, const char **p, size_t *n)
{
	int k;

	while ((k = rd_line_raw(s, p, n)) > 0) {
		rd_count_in(s);
		/* Text is checked for UTF-8 once, here at the way in, so no record
		 * downstream carries bytes that are not (the reject keeps them). */
		if (js_utf8_valid(*p, *n))
			return 1;
		rd_reject(s, s->line, *p, *n, "invalid UTF-8");
	}
	return k;
}

void
rd_reset(struct rd_src *s)
{
	s->npend = s->ipend = 0;
	buf_reset(&s->body);
}

void
rd_pend(struct rd_src *s, int64_t ts, unsigned k, int kind, size_t off)
{
	struct rd_pend *p;

	if (s->npend == s->pcap) {
		s->pcap = s->pcap ? s->pcap * 2 : 8;
		s->pend = erealloc(s->pend, s->pcap * sizeof *s->pend);
	}
	p = &s->pend[s->npend++];
	p->ts = ts;
	p->k = k;
	p->kind = kind;
	p->off = off;
	p->len = s->body.len - off;
}

json_object *
rd_json_object(struct rd_src *s, const char *p, size_t n)
{
	json_object *o;
	const char *why;
	size_t plen = n;

	if (plen && p[plen - 1] == '\r')
		plen--;
	o = js_parse(s->st->tok, p, plen, &why);
	if (o != NULL) {
		/* json-c takes lenient numbers (039.5, 1., 1e) and would write
		 * them back as they came: the line must be strict JSON. */
		struct scan_result sr;
		const char *swhy;
		if (scan_json(p, plen, &sr, &swhy) < 0) {
			json_object_put(o);
			rd_reject(s, s->line, p, n, "invalid JSON: %s (not strict JSON: numbers such as "
				  "039.5, 1., 1e or NaN are not JSON)", swhy);
			return NULL;
		}
	}
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		if (o)
			rd_reject(s, s->line, p, n, "not a JSON object");
		else
			rd_reject(s, s->line, p, n, "invalid JSON: %s", why ? why : "null is not a record");
		return NULL;
	}
	return o;
}

const char *
rd_ts_reason(char *out, size_t outn, const char *why, const char *val, size_t vn)
{
	if (strcmp(why, "invalid timestamp") != 0)
		return why;
	if (vn > 64)
		vn = 64;
	snprintf(out, outn, "invalid timestamp '%.*s' (accepted: RFC 3339 such as "
		 "2024-05-01T10:00:00.5Z or +02:00 offsets, 'YYYY-MM-DD HH:MM:SS[.fff]' in "
		 "dataset.timezone, a date, epoch numbers in s, ms, us or ns, Go's time.String())",
		 (int)vn, val);
	return out;
}

const char *
rd_probe_next(const struct rd_probe *p, const char **cur, size_t *n)
{
	const char *s = *cur ? *cur : p->buf, *end = p->buf + p->len, *nl;

	for (;;) {
		if (s >= end)
			return NULL;
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL && !p->eof)
			return NULL;        /* cut by the end of the sample */
		if (nl == NULL)
			nl = end;
		*cur = nl + 1;
		*n = (size_t)(nl - s);
		if (*n && s[*n - 1] == '\r')
			(*n)--;
		if (!rd_blank(s, *n))
			return s;
		s = nl + 1;
	}
}

int
rd_probe_json(const char *s, size_t n)
{
	json_tokener *tok;
	json_object *o;
	int r = 0;
	static const char *const keys[] = {"resourceLogs", "resourceMetrics", "resourceSpans"};

	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	if (n == 0 || *s != '{')
		return 0;
	if ((tok = json_tokener_new()) == NULL)
		return 0;
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (o && json_tokener_get_error(tok) == json_tokener_success &&
	    json_object_is_type(o, json_type_object)) {
		r = 1;
		for (int i = 0; i < 3; i++)
			if (json_object_object_get_ex(o, keys[i], NULL))
				r = 2;
	}
	json_object_put(o);
	json_tokener_free(tok);
	return r;
}

/* Does the line start with something like a time (a text log)?  A date
 * with a 4-digit year, "hh:", a month name, a syslog <PRI>, or digits
 * then '-', '/' or '.' then a digit ("17/06/09", "03-17", "10.30",
 * "20171223-22"), or "yyMMdd HHmmss" (HDFS). */
int
rd_timeish(const char *s, size_t n)
{
	static const char *const mon[] = {"Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ", "Jul ",
		"Aug ", "Sep ", "Oct ", "Nov ", "Dec ", NULL};
	size_t i = 0, d;

	if (n && (s[0] == '[' || s[0] == '<')) {     /* [2024-...] or a syslog <PRI> */
		i = 1;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (s[0] == '<' && i < n && s[i] == '>')
			return 1;
		i = 1;
	}
	if (n >= i + 5 && strspn(s + i, "0123456789") >= 4 && (s[i + 4] == '-' || s[i + 4] == '/'))
		return 1;
	if (n >= i + 5 && strspn(s + i, "0123456789") == 2 && s[i + 2] == ':')
		return 1;
	for (d = 0; i + d < n && d < 9 && s[i + d] >= '0' && s[i + d] <= '9'; d++)
		;
	if (d >= 2 && d <= 8 && i + d + 1 < n && strchr("-/.", s[i + d]) &&
	    s[i + d + 1] >= '0' && s[i + d + 1] <= '9')
		return 1;
	if (d == 6 && i + 13 <= n && s[i + 6] == ' ' && strspn(s + i + 7, "0123456789") >= 6)
		return 1;
	for (int k = 0; mon[k]; k++)
		if (n >= i + 4 && memcmp(s + i, mon[k], 4) == 0)
			return 1;
	return 0;
}
