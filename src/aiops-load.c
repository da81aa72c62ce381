/*
 * aiops-load: the source of the record stream.  Reads a dataset (a logs, a
 * metrics, a traces and an incidents file, each JSONL, CSV or OTLP JSON,
 * plain or gzip), writes the `stage` record, one `run` record (run id,
 * experiment, tags, the dataset files with their SHA-256, the whole config
 * with secrets redacted), every signal (`log`, `metric`, `span`) merged in
 * time order across the files, the `incident` records, and `stage_end`.
 *
 * Each signal file is first scanned for its time order.  Sorted files are
 * then read again and merged on the fly, one pending line per file, so
 * memory does not grow with the input.  Unsorted files go through an
 * external merge sort (lib/extsort) whose memory is bounded by --sort-mem;
 * its output is merged with the sorted files.  Incidents are few and are
 * buffered.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "cfg.h"
#include "csv.h"
#include "err.h"
#include "extsort.h"
#include "js.h"
#include "rd_alerts.h"
#include "rec.h"
#include "sha256.h"
#include "stage.h"
#include "ts.h"

enum role { R_LOGS, R_METRICS, R_TRACES, R_INCIDENTS, NROLE };
static const char *const role_name[NROLE] = {"logs", "metrics", "traces", "incidents"};

enum fmt { FMT_AUTO, FMT_JSONL, FMT_CSV, FMT_OTLP };
static const char *const fmt_name[] = {"auto", "jsonl", "csv", "otlp"};

/* The canonical fields an input key or column can map to. */
enum fld { F_TS, F_SERVICE, F_LEVEL, F_MSG, F_TRACE, F_SPAN, F_PARENT, F_NAME,
	   F_VALUE, F_UNIT, F_ATTRS, F_DUR, F_END, F_STATUS, F_KIND, F_ID, NFLD };

/* Which fields each signal role reads (others become attrs or labels). */
static const unsigned role_flds[3] = {
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

/* A key -> field map (open addressing). */
#define AMAP_SIZE 256
struct amap_ent {
	const char *key;
	size_t klen;
	short fld, prio;
	int64_t mult;
};
struct amap {
	struct amap_ent e[AMAP_SIZE];
	const char *dotted[NFLD][4];   /* nested-path aliases, tried when a field is missing */
	int64_t dotted_mult[NFLD][4];
};

/* A signal produced from a line, before its id is known. */
struct pend {
	int64_t ts;
	unsigned k;             /* element number in the line, from 1 */
	int kind;               /* 0 log, 1 metric, 2 span */
	size_t off, len;        /* the record body in file.body */
};

struct file {
	enum role role;
	const char *cfgpath;    /* as configured */
	char *path;             /* as opened */
	enum fmt fmt;
	int present, sorted, forced_fmt;
	int regular;            /* a regular file (a pipe is read once, unhashed) */
	enum ts_unit unit;
	char delim;
	int wide;               /* CSV metrics: -1 decide from the header, 0 long, 1 wide */
	json_object *label_cols; /* CSV wide form: columns that are labels */
	struct amap amap;
	/* CSV header */
	int have_header;
	size_t ncols;
	short *colfld;
	int64_t *colmult;
	char **colname;
	int colsel[NFLD];       /* the column chosen for each field, or -1 */
	int is_label[512];
	/* the hash thread */
	uint64_t bytes;
	char sha[65];
	int hash_err;
	/* the merge */
	struct rec_reader rd;
	int open, eof;
	struct pend *pend;
	size_t npend, ipend, pcap;
	unsigned nelem;
	unsigned long line;
	struct buf body, fin;
	int64_t last_ts;
	unsigned long nsig;
};

static struct stage st;
static struct file files[NROLE];
static const char *opt_dataset, *opt_files[NROLE], *opt_run_id, *opt_tz, *opt_sort_mem,
	*opt_ts_unit;
static size_t sort_mem = (size_t)64 << 20;
static enum ts_unit g_unit = TS_AUTO;
static int g_quiet;            /* the sortedness scan: no rejects */
static struct xsort *xs;
static struct csv_row row = CSV_ROW_INIT;
static unsigned long n_kind[3], n_incidents, n_sorted_files, n_xs_count, n_xs_spilled;
static const char *dataset_dir;
static const char *opt_alerts;
static struct rda alerts;      /* dataset.alerts (lib/rd_alerts) */
static int have_alerts;
static unsigned long n_alerts;

static const struct opt opts[] = {
	{"dataset", OPT_STRING, &opt_dataset, "DIR", "directory of the dataset files (config: dataset.path)", OPT_NOCONFIG | OPT_NOPARAM, 'd'},
	{"logs", OPT_STRING, &opt_files[R_LOGS], "FILE", "logs file (default logs.jsonl)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"metrics", OPT_STRING, &opt_files[R_METRICS], "FILE", "metrics file (default metrics.jsonl)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"traces", OPT_STRING, &opt_files[R_TRACES], "FILE", "traces file (default traces.jsonl)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"incidents", OPT_STRING, &opt_files[R_INCIDENTS], "FILE", "incidents file (default incidents.jsonl)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"alerts", OPT_STRING, &opt_alerts, "PATH", "alerts file or GAIA directory (config: dataset.alerts)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"run_id", OPT_STRING, &opt_run_id, "ID", "the run id (default: 32 random hex digits)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"tz", OPT_STRING, &opt_tz, "ZONE", "zone of naive timestamps (config: dataset.timezone)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"ts_unit", OPT_STRING, &opt_ts_unit, "UNIT", "unit of numeric timestamps: auto s ms us ns", OPT_NOPARAM, 0},
	{"sort_mem", OPT_STRING, &opt_sort_mem, "BYTES", "memory for sorting unsorted files (default 64M)", OPT_NOPARAM, 0},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* ---- small helpers ---- */

static void
reject(struct file *f, unsigned long line, const char *raw, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
reject(struct file *f, unsigned long line, const char *raw, size_t n, const char *fmt, ...)
{
	char reason[400];
	va_list ap;

	if (g_quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	stage_reject(&st, f->path, line, raw, n, n, "%s", reason);
}

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

static const struct amap_ent *
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

/* A member at a path where each dot may be part of a key or a separator
 * ("resource.service.name" finds {"resource":{"service.name":...}}). */
static json_object *
nested(json_object *o, const char *path)
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
		if (json_object_object_get_ex(o, key, &v) && (v = nested(v, dot + 1)) != NULL)
			return v;
	}
	return NULL;
}

/* ---- the record writer ---- */

static void
w(struct buf *b, const char *s, size_t n)
{
	buf_add(b, s, n);
}

#define WS(b, lit) w((b), (lit), sizeof(lit) - 1)

static void
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

static void
wstrz(struct buf *b, const char *s)
{
	wstr(b, s, strlen(s));
}

static void
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

static void
wts(struct buf *b, int64_t ns)
{
	char t[TS_LEN + 1];

	buf_addc(b, '"');
	w(b, ts_format(ns, t), TS_LEN);
	buf_addc(b, '"');
}

static void
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

/* Milliseconds from nanoseconds, exactly ("28.522"). */
static void
wms(struct buf *b, int64_t ns)
{
	char t[48];
	int n;

	n = snprintf(t, sizeof t, "%lld", (long long)(ns / TS_NS_PER_MS));
	if (ns % TS_NS_PER_MS) {
		n += snprintf(t + n, sizeof t - (size_t)n, ".%06lld", (long long)(ns % TS_NS_PER_MS));
		while (t[n - 1] == '0')
			n--;
	}
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

/* A timestamp string; epoch strings use the configured unit. */
static int
ts_text(const char *s, size_t n, enum ts_unit u, int64_t *ns, const char **why)
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
	return ts_parse(s, n, ns, why);
}

/*
 * json-c stores an integer beyond the 64-bit range as the nearest limit, so
 * a limit value means the input's number is unknown: such values are
 * rejected rather than written as a number nobody sent.
 */
static int
int_saturated(json_object *v)
{
	int64_t i = json_object_get_int64(v);

	return i == INT64_MIN || (i == INT64_MAX && json_object_get_uint64(v) == UINT64_MAX);
}

static int
ts_json(json_object *v, enum ts_unit u, int64_t *ns, const char **why)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		return ts_text(json_object_get_string(v), (size_t)json_object_get_string_len(v), u, ns,
			       why);
	case json_type_int:
		if (int_saturated(v) || json_object_get_int64(v) == INT64_MAX) {
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

static int
ieq(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

/* Normalises a level name; NULL when unknown. */
static const char *
level_text(const char *s, size_t n)
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
		if (ieq(s, n, tab[i].in))
			return tab[i].out;
	return NULL;
}

/* OpenTelemetry severity numbers 1-24. */
static const char *
level_number(int64_t v)
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

static const char *
status_text(const char *s, size_t n)
{
	if (ieq(s, n, "ok") || ieq(s, n, "STATUS_CODE_OK") || ieq(s, n, "1"))
		return "OK";
	if (ieq(s, n, "error") || ieq(s, n, "STATUS_CODE_ERROR") || ieq(s, n, "2"))
		return "ERROR";
	if (ieq(s, n, "unset") || ieq(s, n, "STATUS_CODE_UNSET") || ieq(s, n, "0") || n == 0)
		return "UNSET";
	return NULL;
}

static const char *
status_number(int64_t v)
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

static const char *
status_json(json_object *v)
{
	json_object *c;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return "UNSET";
	case json_type_string:
		return status_text(json_object_get_string(v), (size_t)json_object_get_string_len(v));
	case json_type_int:
		return status_number(json_object_get_int64(v));
	case json_type_object:
		if (json_object_object_get_ex(v, "code", &c))
			return status_json(c);
		return "UNSET";
	default:
		return NULL;
	}
}

/* A duration string: a bare number in the alias' unit, or with a unit
 * ("250ms", "1.5s"). */
static int
dur_text(const char *s, size_t n, int64_t mult, int64_t *ns)
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

static int
dur_json(json_object *v, int64_t mult, int64_t *ns)
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
		return dur_text(json_object_get_string(v), (size_t)json_object_get_string_len(v), mult,
				ns);
	default:
		return -1;
	}
}

/* Is s a JSON number as written? */
static int
json_number_text(const char *s, size_t n)
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
static int
wvalue_text(struct buf *b, const char *s, size_t n)
{
	char t[128], *end;
	double v;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || ieq(s, n, "nan") || ieq(s, n, "null") || ieq(s, n, "-nan")) {
		WS(b, "null");
		return 0;
	}
	if (json_number_text(s, n) && n < 64) {
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

static int
wvalue_json(struct buf *b, json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		WS(b, "null");
		return 0;
	case json_type_int:
		if (int_saturated(v))
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

/* ---- signals ---- */

static struct pend *
pend_new(struct file *f, int64_t ts, unsigned k, int kind, size_t off)
{
	struct pend *p;

	if (f->npend == f->pcap) {
		f->pcap = f->pcap ? f->pcap * 2 : 8;
		f->pend = erealloc(f->pend, f->pcap * sizeof *f->pend);
	}
	p = &f->pend[f->npend++];
	p->ts = ts;
	p->k = k;
	p->kind = kind;
	p->off = off;
	p->len = f->body.len - off;
	return p;
}

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

static int
nonempty_str(json_object *v)
{
	return v && json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0;
}

/* A JSONL record of any role. */
static void
parse_json_rec(struct file *f, json_object *o, unsigned long line, const char *raw, size_t n)
{
	struct pick pk;
	unsigned want = role_flds[f->role], used = 0;
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
			if ((v = nested(o, f->amap.dotted[i][j])) != NULL) {
				pk.v[i] = v;
				pk.mult[i] = f->amap.dotted_mult[i][j];
				break;
			}
	}
	f->nelem = 1;
	if (pk.key[F_TS] == NULL && pk.v[F_TS] == NULL) {
		reject(f, line, raw, n, "missing timestamp");
		return;
	}
	if (ts_json(pk.v[F_TS], f->unit, &ts, &why) < 0) {
		reject(f, line, raw, n, "%s", why);
		return;
	}
	if (g_quiet) {
		pend_new(f, ts, 1, 0, off);
		return;
	}
	used |= 1u << F_TS;
	if (!nonempty_str(pk.v[F_SERVICE])) {
		reject(f, line, raw, n, pk.v[F_SERVICE] ? "service is not a non-empty string" :
			"missing service");
		return;
	}
	used |= 1u << F_SERVICE | 1u << F_KIND | 1u << F_ID;
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wjson(b, pk.v[F_SERVICE]);
	if (f->role == R_LOGS) {
		const char *lv = "INFO";
		v = pk.v[F_LEVEL];
		if (v && json_object_is_type(v, json_type_string))
			lv = level_text(json_object_get_string(v), (size_t)json_object_get_string_len(v));
		else if (v && json_object_is_type(v, json_type_int))
			lv = level_number(json_object_get_int64(v));
		else if (v && !json_object_is_type(v, json_type_null))
			lv = NULL;
		if (lv == NULL) {
			b->len = off;
			reject(f, line, raw, n, "unknown log level %s",
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
		if (nonempty_str(pk.v[F_TRACE])) {
			WS(b, ",\"trace_id\":");
			wjson(b, pk.v[F_TRACE]);
			used |= 1u << F_TRACE;
		}
		if (nonempty_str(pk.v[F_SPAN])) {
			WS(b, ",\"span_id\":");
			wjson(b, pk.v[F_SPAN]);
			used |= 1u << F_SPAN;
		}
		used |= 1u << F_ATTRS;
		WS(b, ",\"attrs\":");
		wextras(b, o, &pk, used);
		buf_addc(b, '}');
		pend_new(f, ts, 1, 0, off);
		return;
	}
	if (f->role == R_METRICS) {
		if (!nonempty_str(pk.v[F_NAME])) {
			b->len = off;
			reject(f, line, raw, n, "missing metric name");
			return;
		}
		WS(b, ",\"name\":");
		wjson(b, pk.v[F_NAME]);
		if (pk.key[F_VALUE] == NULL && pk.v[F_VALUE] == NULL) {
			b->len = off;
			reject(f, line, raw, n, "missing metric value");
			return;
		}
		WS(b, ",\"value\":");
		if (json_object_is_type(pk.v[F_VALUE], json_type_int) && int_saturated(pk.v[F_VALUE])) {
			b->len = off;
			reject(f, line, raw, n, "metric value out of the 64-bit integer range");
			return;
		}
		if (wvalue_json(b, pk.v[F_VALUE]) < 0) {
			b->len = off;
			reject(f, line, raw, n, "metric value is not a number: %s",
			       json_object_to_json_string_ext(pk.v[F_VALUE], JS_FLAGS));
			return;
		}
		used |= 1u << F_NAME | 1u << F_VALUE;
		if (nonempty_str(pk.v[F_UNIT])) {
			WS(b, ",\"unit\":");
			wjson(b, pk.v[F_UNIT]);
			used |= 1u << F_UNIT;
		}
		used |= 1u << F_ATTRS;
		WS(b, ",\"labels\":");
		wextras(b, o, &pk, used);
		buf_addc(b, '}');
		pend_new(f, ts, 1, 1, off);
		return;
	}
	/* a span */
	{
		static const char *const need[] = {"trace_id", "span_id", "name"};
		static const int nf[] = {F_TRACE, F_SPAN, F_NAME};
		const char *stat;
		int64_t dur, end;
		for (int i = 0; i < 3; i++)
			if (!nonempty_str(pk.v[nf[i]])) {
				b->len = off;
				reject(f, line, raw, n, "missing %s", need[i]);
				return;
			}
		if (pk.v[F_DUR]) {
			if (dur_json(pk.v[F_DUR], pk.mult[F_DUR], &dur) < 0) {
				b->len = off;
				reject(f, line, raw, n, "bad duration %s",
				       json_object_to_json_string_ext(pk.v[F_DUR], JS_FLAGS));
				return;
			}
			used |= 1u << F_DUR;
		} else if (pk.v[F_END]) {
			if (ts_json(pk.v[F_END], f->unit, &end, &why) < 0) {
				b->len = off;
				reject(f, line, raw, n, "end time: %s", why);
				return;
			}
			dur = end - ts;
			used |= 1u << F_END;
		} else {
			b->len = off;
			reject(f, line, raw, n, "missing duration");
			return;
		}
		if (dur < 0) {
			b->len = off;
			reject(f, line, raw, n, "negative duration");
			return;
		}
		stat = pk.v[F_STATUS] ? status_json(pk.v[F_STATUS]) : "UNSET";
		if (stat == NULL) {
			b->len = off;
			reject(f, line, raw, n, "unknown span status %s",
			       json_object_to_json_string_ext(pk.v[F_STATUS], JS_FLAGS));
			return;
		}
		WS(b, ",\"trace_id\":");
		wjson(b, pk.v[F_TRACE]);
		WS(b, ",\"span_id\":");
		wjson(b, pk.v[F_SPAN]);
		WS(b, ",\"parent_id\":");
		v = pk.v[F_PARENT];
		if (nonempty_str(v) && strspn(json_object_get_string(v), "0") !=
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
		pend_new(f, ts, 1, 2, off);
	}
}

/* ---- OTLP JSON ---- */

static json_object *
get(json_object *o, const char *k)
{
	json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static size_t
alen(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static void wanyvalue(struct buf *b, json_object *av);

/* [{key, value}] as an object. */
static void
wkvlist(struct buf *b, json_object *list)
{
	size_t i, n = alen(list);

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
		wanyvalue(b, get(kv, "value"));
	}
	buf_addc(b, '}');
}

static void
wanyvalue(struct buf *b, json_object *av)
{
	json_object *v;

	if ((v = get(av, "stringValue")) != NULL || (v = get(av, "boolValue")) != NULL ||
	    (v = get(av, "doubleValue")) != NULL || (v = get(av, "bytesValue")) != NULL) {
		wjson(b, v);
	} else if ((v = get(av, "intValue")) != NULL) {
		if (json_object_is_type(v, json_type_string) &&
		    json_number_text(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
			w(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		else
			wjson(b, v);
	} else if ((v = get(av, "arrayValue")) != NULL) {
		json_object *vals = get(v, "values");
		size_t n = alen(vals);
		buf_addc(b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_addc(b, ',');
			wanyvalue(b, json_object_array_get_idx(vals, i));
		}
		buf_addc(b, ']');
	} else if ((v = get(av, "kvlistValue")) != NULL) {
		wkvlist(b, get(v, "values"));
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
	if (json_object_is_type(v, json_type_int) && !int_saturated(v))
		return ts_epoch_int(json_object_get_int64(v), TS_NS, ns, why);
	*why = "bad time";
	return -1;
}

static const char *
otlp_service(json_object *resource)
{
	json_object *attrs = get(resource, "attributes");
	size_t i, n = alen(attrs);

	for (i = 0; i < n; i++) {
		json_object *kv = json_object_array_get_idx(attrs, i);
		const char *k = js_str(kv, "key");
		if (k && strcmp(k, "service.name") == 0) {
			const char *s = js_str(get(kv, "value"), "stringValue");
			return s && *s ? s : NULL;
		}
	}
	return NULL;
}

static void
otlp_log(struct file *f, json_object *lr, const char *svc, unsigned long line, const char *raw,
	 size_t n, const char *where)
{
	struct buf *b = &f->body;
	size_t off = b->len;
	json_object *v;
	const char *why, *lv = "INFO", *s;
	int64_t ts, x;

	v = get(lr, "timeUnixNano");
	if (v == NULL || (json_object_is_type(v, json_type_string) &&
			  strcmp(json_object_get_string(v), "0") == 0) ||
	    (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0))
		v = get(lr, "observedTimeUnixNano");
	if (otlp_ns(v, &ts, &why) < 0) {
		reject(f, line, raw, n, "%s: %s", where, why);
		return;
	}
	if (g_quiet) {
		pend_new(f, ts, f->nelem, 0, off);
		return;
	}
	if (svc == NULL) {
		reject(f, line, raw, n, "%s: missing service.name resource attribute", where);
		return;
	}
	if ((s = js_str(lr, "severityText")) != NULL && *s)
		lv = level_text(s, strlen(s));
	else if (js_int(lr, "severityNumber", &x) == 0 && x != 0)
		lv = level_number(x);
	if (lv == NULL) {
		reject(f, line, raw, n, "%s: unknown log level", where);
		return;
	}
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wstrz(b, svc);
	WS(b, ",\"level\":\"");
	w(b, lv, strlen(lv));
	WS(b, "\",\"msg\":");
	v = get(lr, "body");
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
	wkvlist(b, get(lr, "attributes"));
	buf_addc(b, '}');
	pend_new(f, ts, f->nelem, 0, off);
}

static void
otlp_point(struct file *f, json_object *dp, const char *svc, json_object *m,
	   unsigned long line, const char *raw, size_t n, const char *where)
{
	struct buf *b = &f->body;
	size_t off = b->len;
	json_object *v;
	const char *why, *name = js_str(m, "name"), *unit = js_str(m, "unit");
	int64_t ts;

	if (otlp_ns(get(dp, "timeUnixNano"), &ts, &why) < 0) {
		reject(f, line, raw, n, "%s: %s", where, why);
		return;
	}
	if (g_quiet) {
		pend_new(f, ts, f->nelem, 1, off);
		return;
	}
	if (svc == NULL) {
		reject(f, line, raw, n, "%s: missing service.name resource attribute", where);
		return;
	}
	if (name == NULL || *name == '\0') {
		reject(f, line, raw, n, "%s: missing metric name", where);
		return;
	}
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wstrz(b, svc);
	WS(b, ",\"name\":");
	wstrz(b, name);
	WS(b, ",\"value\":");
	if ((v = get(dp, "asDouble")) == NULL)
		v = get(dp, "asInt");
	if (v == NULL) {
		WS(b, "null");
	} else if (wvalue_json(b, v) < 0) {
		b->len = off;
		reject(f, line, raw, n, "%s: metric value is not a number", where);
		return;
	}
	if (unit && *unit) {
		WS(b, ",\"unit\":");
		wstrz(b, unit);
	}
	WS(b, ",\"labels\":");
	wkvlist(b, get(dp, "attributes"));
	buf_addc(b, '}');
	pend_new(f, ts, f->nelem, 1, off);
}

static void
otlp_span(struct file *f, json_object *sp, const char *svc, unsigned long line, const char *raw,
	  size_t n, const char *where)
{
	struct buf *b = &f->body;
	size_t off = b->len;
	const char *why, *tid = js_str(sp, "traceId"), *sid = js_str(sp, "spanId"),
		*pid = js_str(sp, "parentSpanId"), *name = js_str(sp, "name"), *stat;
	int64_t ts, end;
	json_object *sv;

	if (otlp_ns(get(sp, "startTimeUnixNano"), &ts, &why) < 0) {
		reject(f, line, raw, n, "%s: start: %s", where, why);
		return;
	}
	if (g_quiet) {
		pend_new(f, ts, f->nelem, 2, off);
		return;
	}
	if (svc == NULL) {
		reject(f, line, raw, n, "%s: missing service.name resource attribute", where);
		return;
	}
	if (otlp_ns(get(sp, "endTimeUnixNano"), &end, &why) < 0) {
		reject(f, line, raw, n, "%s: end: %s", where, why);
		return;
	}
	if (end < ts) {
		reject(f, line, raw, n, "%s: negative duration", where);
		return;
	}
	if (!tid || !*tid || !sid || !*sid || !name) {
		reject(f, line, raw, n, "%s: missing %s", where,
		       !tid || !*tid ? "traceId" : !sid || !*sid ? "spanId" : "name");
		return;
	}
	sv = get(get(sp, "status"), "code");
	stat = sv ? status_json(sv) : "UNSET";
	if (stat == NULL) {
		reject(f, line, raw, n, "%s: unknown span status", where);
		return;
	}
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
	wms(b, end - ts);
	WS(b, ",\"status\":\"");
	w(b, stat, strlen(stat));
	buf_addc(b, '"');
	if (alen(get(sp, "attributes")) > 0) {
		WS(b, ",\"attrs\":");
		wkvlist(b, get(sp, "attributes"));
	}
	buf_addc(b, '}');
	pend_new(f, ts, f->nelem, 2, off);
}

static void
parse_otlp(struct file *f, json_object *o, unsigned long line, const char *raw, size_t n)
{
	static const char *const top[] = {"resourceLogs", "resourceMetrics", "resourceSpans"};
	static const char *const scope[] = {"scopeLogs", "scopeMetrics", "scopeSpans"};
	static const char *const items[] = {"logRecords", "metrics", "spans"};
	json_object *res = get(o, top[f->role]);
	size_t i, j, k, q;
	char where[160];

	f->nelem = 0;
	if (res == NULL || !json_object_is_type(res, json_type_array)) {
		reject(f, line, raw, n, "no %s array in an OTLP %s file", top[f->role],
		       role_name[f->role]);
		return;
	}
	for (i = 0; i < alen(res); i++) {
		json_object *r = json_object_array_get_idx(res, i);
		const char *svc = otlp_service(get(r, "resource"));
		json_object *scopes = get(r, scope[f->role]);
		if (scopes == NULL && f->role == R_LOGS)
			scopes = get(r, "instrumentationLibraryLogs");
		for (j = 0; j < alen(scopes); j++) {
			json_object *its = get(json_object_array_get_idx(scopes, j), items[f->role]);
			for (k = 0; k < alen(its); k++) {
				json_object *it = json_object_array_get_idx(its, k);
				snprintf(where, sizeof where, "%s[%zu].%s[%zu].%s[%zu]", top[f->role], i,
					 scope[f->role], j, items[f->role], k);
				if (f->role == R_LOGS) {
					f->nelem++;
					otlp_log(f, it, svc, line, raw, n, where);
				} else if (f->role == R_TRACES) {
					f->nelem++;
					otlp_span(f, it, svc, line, raw, n, where);
				} else {
					json_object *data = get(it, "gauge");
					if (data == NULL)
						data = get(it, "sum");
					if (data == NULL) {
						const char *t = get(it, "histogram") ? "histogram" :
							get(it, "exponentialHistogram") ? "exponentialHistogram" :
							get(it, "summary") ? "summary" : "unknown";
						f->nelem++;
						reject(f, line, raw, n, "%s: unsupported metric type %s", where, t);
						continue;
					}
					json_object *dps = get(data, "dataPoints");
					for (q = 0; q < alen(dps); q++) {
						char w2[200];
						snprintf(w2, sizeof w2, "%s.dataPoints[%zu]", where, q);
						f->nelem++;
						otlp_point(f, json_object_array_get_idx(dps, q), svc, it, line,
							   raw, n, w2);
					}
				}
			}
		}
	}
}

/* ---- CSV ---- */

static void
csv_header(struct file *f, const char *p, size_t n)
{
	const char *why;
	size_t i;
	int prio[NFLD];

	if (f->delim == 0)
		f->delim = memchr(p, ',', n) == NULL && memchr(p, '\t', n) != NULL ? '\t' :
			   memchr(p, ',', n) == NULL && memchr(p, ';', n) != NULL ? ';' : ',';
	if (csv_split(&row, p, n, f->delim, &why) < 0)
		efatal(EXIT_FAIL, "%s:%lu: csv header: %s", f->path, f->rd.line, why);
	for (i = 0; i < f->ncols; i++)
		free(f->colname[i]);
	f->ncols = row.n;
	f->colfld = erealloc(f->colfld, row.n * sizeof *f->colfld);
	f->colmult = erealloc(f->colmult, row.n * sizeof *f->colmult);
	f->colname = erealloc(f->colname, row.n * sizeof *f->colname);
	for (i = 0; i < NFLD; i++) {
		f->colsel[i] = -1;
		prio[i] = 1 << 30;
	}
	for (i = 0; i < row.n; i++) {
		const struct amap_ent *e;
		char *name = estrndup(row.f[i].p, row.f[i].n);
		size_t len = row.f[i].n;
		/* A byte-order mark on the first column. */
		if (i == 0 && len >= 3 && memcmp(name, "\xef\xbb\xbf", 3) == 0) {
			memmove(name, name + 3, len - 2);
			len -= 3;
		}
		f->colname[i] = name;
		f->colfld[i] = -1;
		e = amap_get(&f->amap, name, len);
		if (e && (role_flds[f->role] >> e->fld & 1) && e->fld != F_ATTRS) {
			f->colfld[i] = e->fld;
			f->colmult[i] = e->mult;
			if (e->prio < prio[e->fld]) {
				prio[e->fld] = e->prio;
				f->colsel[e->fld] = (int)i;
			}
		}
		f->is_label[i < 512 ? i : 511] = 0;
		if (f->label_cols) {
			for (size_t j = 0; j < alen(f->label_cols); j++) {
				const char *l = json_object_get_string(json_object_array_get_idx(f->label_cols, j));
				if (l && strcmp(l, name) == 0 && i < 512)
					f->is_label[i] = 1;
			}
		}
	}
	if (f->colsel[F_TS] < 0)
		efatal(EXIT_FAIL, "%s:%lu: csv header has no timestamp column (ts, timestamp, time, ...)",
		       f->path, f->rd.line);
	if (f->role == R_METRICS && f->wide < 0)
		f->wide = f->colsel[F_NAME] < 0 && f->colsel[F_VALUE] < 0;
	if (f->role == R_METRICS && !f->wide && (f->colsel[F_NAME] < 0 || f->colsel[F_VALUE] < 0))
		efatal(EXIT_FAIL, "%s:%lu: csv header has no %s column", f->path, f->rd.line,
		       f->colsel[F_NAME] < 0 ? "metric name" : "value");
	f->have_header = 1;
}

/* The chosen column's cell of the current row, or NULL when absent/empty. */
static const struct csv_field *
col(const struct file *f, int fld)
{
	int c = f->colsel[fld];

	if (c < 0 || (size_t)c >= row.n || row.f[c].n == 0)
		return NULL;
	return &row.f[c];
}

/* Extra columns as an object of strings (empty cells left out). */
static void
csv_extras(struct file *f, struct buf *b, int labels_only)
{
	int first = 1;

	buf_addc(b, '{');
	for (size_t i = 0; i < f->ncols; i++) {
		int fl = f->colfld[i];
		if (fl >= 0 && f->colsel[fl] == (int)i)
			continue;
		if (labels_only && !(i < 512 && f->is_label[i]))
			continue;
		if (row.f[i].n == 0)
			continue;
		if (!first)
			buf_addc(b, ',');
		first = 0;
		wstrz(b, f->colname[i]);
		buf_addc(b, ':');
		wstr(b, row.f[i].p, row.f[i].n);
	}
	buf_addc(b, '}');
}

static void
parse_csv(struct file *f, const char *p, size_t n, unsigned long line)
{
	struct buf *b = &f->body;
	size_t off = b->len;
	const struct csv_field *c;
	const char *why;
	int64_t ts;

	f->nelem = 1;
	if (csv_split(&row, p, n, f->delim, &why) < 0) {
		reject(f, line, p, n, "%s", why);
		return;
	}
	if (row.n != f->ncols) {
		reject(f, line, p, n, "expected %zu fields, got %zu", f->ncols, row.n);
		return;
	}
	if ((c = col(f, F_TS)) == NULL) {
		reject(f, line, p, n, "missing timestamp");
		return;
	}
	if (ts_text(c->p, c->n, f->unit, &ts, &why) < 0) {
		reject(f, line, p, n, "%s", why);
		return;
	}
	if (g_quiet) {
		pend_new(f, ts, 1, 0, off);
		return;
	}
	if ((c = col(f, F_SERVICE)) == NULL) {
		reject(f, line, p, n, "missing service");
		return;
	}
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wstr(b, c->p, c->n);
	if (f->role == R_LOGS) {
		const char *lv = "INFO";
		if ((c = col(f, F_LEVEL)) != NULL) {
			char *end, t[24];
			long x;
			lv = level_text(c->p, c->n);
			if (lv == NULL && c->n < sizeof t) {
				memcpy(t, c->p, c->n);
				t[c->n] = '\0';
				x = strtol(t, &end, 10);
				if (*end == '\0')
					lv = level_number(x);
			}
			if (lv == NULL) {
				b->len = off;
				reject(f, line, p, n, "unknown log level '%.*s'", (int)c->n, c->p);
				return;
			}
		}
		WS(b, ",\"level\":\"");
		w(b, lv, strlen(lv));
		WS(b, "\",\"msg\":");
		c = col(f, F_MSG);
		wstr(b, c ? c->p : "", c ? c->n : 0);
		if ((c = col(f, F_TRACE)) != NULL) {
			WS(b, ",\"trace_id\":");
			wstr(b, c->p, c->n);
		}
		if ((c = col(f, F_SPAN)) != NULL) {
			WS(b, ",\"span_id\":");
			wstr(b, c->p, c->n);
		}
		WS(b, ",\"attrs\":");
		csv_extras(f, b, 0);
		buf_addc(b, '}');
		pend_new(f, ts, 1, 0, off);
		return;
	}
	if (f->role == R_METRICS && !f->wide) {
		if ((c = col(f, F_NAME)) == NULL) {
			b->len = off;
			reject(f, line, p, n, "missing metric name");
			return;
		}
		WS(b, ",\"name\":");
		wstr(b, c->p, c->n);
		WS(b, ",\"value\":");
		c = &row.f[f->colsel[F_VALUE]];
		if (wvalue_text(b, c->p, c->n) < 0) {
			b->len = off;
			reject(f, line, p, n, "metric value is not a number: '%.*s'", (int)c->n, c->p);
			return;
		}
		if ((c = col(f, F_UNIT)) != NULL) {
			WS(b, ",\"unit\":");
			wstr(b, c->p, c->n);
		}
		WS(b, ",\"labels\":");
		csv_extras(f, b, 0);
		buf_addc(b, '}');
		pend_new(f, ts, 1, 1, off);
		return;
	}
	if (f->role == R_METRICS) {
		/* Wide form: one metric per remaining column. */
		size_t head = b->len, hl = head - off;
		char *prefix = estrndup(b->p + off, hl);
		unsigned k = 0;
		struct buf lab = BUF_INIT(0);
		csv_extras(f, &lab, 1);
		b->len = off;
		for (size_t i = 0; i < f->ncols; i++) {
			int fl = f->colfld[i];
			size_t o2 = b->len;
			if ((fl >= 0 && f->colsel[fl] == (int)i) || (i < 512 && f->is_label[i]))
				continue;
			f->nelem = ++k;
			w(b, prefix, hl);
			WS(b, ",\"name\":");
			wstrz(b, f->colname[i]);
			WS(b, ",\"value\":");
			if (wvalue_text(b, row.f[i].p, row.f[i].n) < 0) {
				b->len = o2;
				reject(f, line, p, n, "column '%s': metric value is not a number: '%.*s'",
				       f->colname[i], (int)row.f[i].n, row.f[i].p);
				continue;
			}
			WS(b, ",\"labels\":");
			w(b, lab.p, lab.len);
			buf_addc(b, '}');
			pend_new(f, ts, k, 1, o2);
		}
		free(prefix);
		buf_free(&lab);
		return;
	}
	/* a span */
	{
		static const char *const need[] = {"trace_id", "span_id", "name"};
		static const int nf[] = {F_TRACE, F_SPAN, F_NAME};
		const char *stat = "UNSET";
		int64_t dur, end;
		for (int i = 0; i < 3; i++)
			if (col(f, nf[i]) == NULL) {
				b->len = off;
				reject(f, line, p, n, "missing %s", need[i]);
				return;
			}
		if ((c = col(f, F_DUR)) != NULL) {
			if (dur_text(c->p, c->n, f->colmult[f->colsel[F_DUR]], &dur) < 0) {
				b->len = off;
				reject(f, line, p, n, "bad duration '%.*s'", (int)c->n, c->p);
				return;
			}
		} else if ((c = col(f, F_END)) != NULL) {
			if (ts_text(c->p, c->n, f->unit, &end, &why) < 0) {
				b->len = off;
				reject(f, line, p, n, "end time: %s", why);
				return;
			}
			dur = end - ts;
		} else {
			b->len = off;
			reject(f, line, p, n, "missing duration");
			return;
		}
		if (dur < 0) {
			b->len = off;
			reject(f, line, p, n, "negative duration");
			return;
		}
		if ((c = col(f, F_STATUS)) != NULL) {
			char t[24], *end2;
			stat = status_text(c->p, c->n);
			if (stat == NULL && c->n < sizeof t) {
				memcpy(t, c->p, c->n);
				t[c->n] = '\0';
				long x = strtol(t, &end2, 10);
				if (*end2 == '\0')
					stat = status_number(x);
			}
			if (stat == NULL) {
				b->len = off;
				reject(f, line, p, n, "unknown span status '%.*s'", (int)c->n, c->p);
				return;
			}
		}
		WS(b, ",\"trace_id\":");
		c = col(f, F_TRACE);
		wstr(b, c->p, c->n);
		WS(b, ",\"span_id\":");
		c = col(f, F_SPAN);
		wstr(b, c->p, c->n);
		WS(b, ",\"parent_id\":");
		c = col(f, F_PARENT);
		if (c && strspn(c->p, "0") < c->n)
			wstr(b, c->p, c->n);
		else
			WS(b, "null");
		WS(b, ",\"name\":");
		c = col(f, F_NAME);
		wstr(b, c->p, c->n);
		WS(b, ",\"duration_ms\":");
		wms(b, dur);
		WS(b, ",\"status\":\"");
		w(b, stat, strlen(stat));
		buf_addc(b, '"');
		{
			size_t mark = b->len;
			WS(b, ",\"attrs\":");
			size_t at = b->len;
			csv_extras(f, b, 0);
			if (b->len == at + 2)
				b->len = mark;
		}
		buf_addc(b, '}');
		pend_new(f, ts, 1, 2, off);
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
scan_ts(struct file *f, const char *p, size_t n, int64_t *ts)
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
		return ts_text(p + vs + 1, ve - vs - 2, f->unit, ts, &why) == 0;
	if (p[vs] == '-' || isdigit((unsigned char)p[vs])) {
		char t[32], *end;
		size_t len = ve - vs;
		if (len >= 19 || !json_number_text(p + vs, len))
			return 0;
		memcpy(t, p + vs, len);
		t[len] = '\0';
		if (strpbrk(t, ".eE"))
			return ts_epoch_double(strtod(t, &end), f->unit, ts, &why) == 0;
		return ts_epoch_int(strtoll(t, &end, 10), f->unit, ts, &why) == 0;
	}
	return 0;
}

/* ---- one line of a signal file ---- */

static int
blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)p[i]))
			return 0;
	return 1;
}

/*
 * Parses one line into f->pend (and, unless scanning, the record bodies in
 * f->body).  Rejects are reported unless g_quiet.
 */
static void
parse_line(struct file *f, const char *p, size_t n, unsigned long line, int kind)
{
	json_object *o;
	const char *why;
	size_t plen = n;

	f->npend = f->ipend = 0;
	buf_reset(&f->body);
	if (kind == REC_LONG) {
		if (!g_quiet) {
			st.records_in++;
			stage_reject(&st, f->path, line, p, n, f->rd.long_len,
				     "line too long (%zu bytes, limit %zu)", f->rd.long_len, st.max_line);
		}
		return;
	}
	if (blank(p, n))
		return;
	if (!g_quiet)
		st.records_in++;
	/* Text is checked for UTF-8 once, here at the way in, so no record
	 * downstream carries bytes that are not (the reject keeps them). */
	if (!js_utf8_valid(p, n)) {
		if (!(f->fmt == FMT_CSV && !f->have_header))
			reject(f, line, p, n, "invalid UTF-8");
		else if (!g_quiet)
			st.records_in--;
		if (f->fmt == FMT_CSV && !f->have_header)
			csv_header(f, p, n);
		return;
	}
	if (f->fmt == FMT_CSV) {
		if (!f->have_header) {
			if (!g_quiet)
				st.records_in--;
			csv_header(f, p, n);
			return;
		}
		parse_csv(f, p, n, line);
		return;
	}
	if (g_quiet && f->fmt == FMT_JSONL) {
		int64_t ts;
		if (scan_ts(f, p, n, &ts)) {
			pend_new(f, ts, 1, 0, 0);
			return;
		}
	}
	if (plen && p[plen - 1] == '\r')
		plen--;
	o = js_parse(st.tok, p, plen, &why);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		if (o)
			reject(f, line, p, n, "not a JSON object");
		else
			reject(f, line, p, n, "invalid JSON: %s", why ? why : "null is not a record");
		return;
	}
	if (f->fmt == FMT_OTLP)
		parse_otlp(f, o, line, p, n);
	else
		parse_json_rec(f, o, line, p, n);
	json_object_put(o);
}

/* Decimal digits of v into p (no NUL); returns how many. */
static int
utoa(char *p, unsigned long v)
{
	char t[24];
	int n = 0, i;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

static uint64_t
seq_of(int role, unsigned long line, unsigned k)
{
	return (uint64_t)role << 62 | ((uint64_t)line & ((1ull << 40) - 1)) << 22 |
	       (k & ((1u << 22) - 1));
}

/* Writes "{"kind":K,"id":"role:LINE[.K]",BODY" for pending signal i into
 * f->fin. */
static void
finish_pend(struct file *f, size_t i)
{
	static const char *const kinds[] = {"{\"kind\":\"log\",\"id\":\"",
		"{\"kind\":\"metric\",\"id\":\"", "{\"kind\":\"span\",\"id\":\""};
	struct pend *pd = &f->pend[i];
	char id[64];
	int n;

	buf_reset(&f->fin);
	buf_adds(&f->fin, kinds[pd->kind]);
	buf_adds(&f->fin, role_name[f->role]);
	buf_addc(&f->fin, ':');
	n = utoa(id, f->line);
	if (f->nelem > 1) {
		id[n++] = '.';
		n += utoa(id + n, pd->k);
	}
	id[n++] = '"';
	id[n++] = ',';
	w(&f->fin, id, (size_t)n);
	w(&f->fin, f->body.p + pd->off, pd->len);
	n_kind[pd->kind]++;
}

/* ---- files ---- */

static int
file_open(struct file *f)
{
	if (rec_open(&f->rd, f->path, st.max_line) < 0)
		return -1;
	f->open = 1;
	f->eof = 0;
	f->have_header = 0;
	f->npend = f->ipend = 0;
	return 0;
}

static void
file_close(struct file *f)
{
	if (f->open)
		rec_close(&f->rd);
	f->open = 0;
}

/* Reads lines until one yields signals.  Returns 1, or 0 at the end. */
static int
file_fill(struct file *f)
{
	const char *p;
	size_t n;
	int k;

	while (f->ipend >= f->npend) {
		if (f->eof)
			return 0;
		k = rec_getline(&f->rd, &p, &n);
		if (k == REC_EOF) {
			f->eof = 1;
			return 0;
		}
		if (k == REC_ERROR)
			efatal(EXIT_FAIL, "%s: read error: %s", f->path, strerror(errno));
		f->line = f->rd.line;
		parse_line(f, p, n, f->line, k);
	}
	return 1;
}

/* The sortedness scan: 1 when every signal's time is >= the one before. */
static int
scan_sorted(struct file *f)
{
	struct stat sb;
	int64_t last = INT64_MIN;

	if (stat(f->path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return 0;     /* a pipe cannot be read twice */
	if (file_open(f) < 0)
		efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
	g_quiet = 1;
	while (file_fill(f)) {
		for (; f->ipend < f->npend; f->ipend++) {
			if (f->pend[f->ipend].ts < last) {
				g_quiet = 0;
				file_close(f);
				return 0;
			}
			last = f->pend[f->ipend].ts;
		}
	}
	g_quiet = 0;
	file_close(f);
	return 1;
}

/* First non-blank line: '{' with a resource* key is OTLP, '{' JSONL, else CSV. */
static enum fmt
detect(struct file *f)
{
	struct rec_reader rd;
	const char *p;
	size_t n;
	int k;
	enum fmt fm = FMT_JSONL;

	if (rec_open(&rd, f->path, st.max_line) < 0)
		efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
	while ((k = rec_getline(&rd, &p, &n)) > 0) {
		size_t i = 0;
		if (blank(p, n))
			continue;
		while (isspace((unsigned char)p[i]))
			i++;
		if (p[i] == '{' || p[i] == '[')
			fm = strstr(p, "\"resourceLogs\"") || strstr(p, "\"resourceMetrics\"") ||
			     strstr(p, "\"resourceSpans\"") ? FMT_OTLP : FMT_JSONL;
		else
			fm = FMT_CSV;
		break;
	}
	if (k == REC_ERROR)
		efatal(EXIT_FAIL, "%s: read error: %s", f->path, strerror(errno));
	rec_close(&rd);
	return fm;
}

/* ---- the run record ---- */

static void *
hash_files(void *arg)
{
	(void)arg;
	for (int r = 0; r < NROLE; r++) {
		struct file *f = &files[r];
		struct sha256 c;
		char *b;
		ssize_t k;
		int fd;
		if (!f->present || !f->regular)
			continue;
		fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			f->hash_err = errno;
			continue;
		}
		b = emalloc(1 << 20);
		sha256_init(&c);
		while ((k = read(fd, b, 1 << 20)) > 0) {
			sha256_add(&c, b, (size_t)k);
			f->bytes += (uint64_t)k;
		}
		if (k < 0)
			f->hash_err = errno;
		sha256_hex(&c, f->sha);
		free(b);
		close(fd);
	}
	return NULL;
}

static int
secret_key(const char *k)
{
	static const char *const words[] = {"key", "token", "secret", "password"};
	char low[256];
	size_t i, n = strlen(k);

	if (n >= sizeof low)
		n = sizeof low - 1;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	low[n] = '\0';
	for (i = 0; i < 4; i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

/* Replaces the value of every key that names a secret with "***".  Counts
 * of tokens (a number under a key ending in "tokens", like max_tokens) are
 * not secrets and are kept. */
static void
redact(json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			redact(json_object_array_get_idx(o, i));
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, k, v) {
		size_t n = strlen(k);
		int count = n >= 6 && strcasecmp(k + n - 6, "tokens") == 0 &&
			    (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
		if (secret_key(k) && !count && !json_object_is_type(v, json_type_null))
			json_object_object_add(o, k, json_object_new_string("***"));
		else
			redact(v);
	}
}

static void
random_id(char out[33])
{
	unsigned char r[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd >= 0) {
		ssize_t k;
		while (got < sizeof r && (k = read(fd, r + got, sizeof r - got)) > 0)
			got += (size_t)k;
		close(fd);
	}
	if (got < sizeof r) {
		uint64_t x = (uint64_t)ts_now() ^ (uint64_t)getpid() << 32;
		for (size_t i = 0; i < sizeof r; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			r[i] = (unsigned char)(x >> 56);
		}
	}
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static void
write_run(int64_t started)
{
	json_object *o = stage_record("run"), *ds, *arr, *cfg, *exp;
	char id[33], all[65];
	struct sha256 c;
	const char *name;

	if (opt_run_id)
		js_add_str(o, "run_id", opt_run_id);
	else {
		random_id(id);
		js_add_str(o, "run_id", id);
	}
	exp = cfg_section(st.config, "experiment");
	name = js_str(exp, "name");
	js_add_str(o, "experiment", name);
	if (get(exp, "tags") && json_object_is_type(get(exp, "tags"), json_type_object))
		js_add_ref(o, "tags", get(exp, "tags"));
	else
		json_object_object_add(o, "tags", json_object_new_object());
	ds = json_object_new_object();
	js_add_str(ds, "path", dataset_dir);
	arr = json_object_new_array();
	sha256_init(&c);
	for (int r = 0; r < NROLE; r++) {
		struct file *f = &files[r];
		json_object *e;
		if (!f->present)
			continue;
		e = json_object_new_object();
		js_add_str(e, "role", role_name[r]);
		js_add_str(e, "path", f->path);
		js_add_str(e, "format", r == R_INCIDENTS ? "jsonl" : fmt_name[f->fmt]);
		if (f->regular) {
			js_add_int(e, "bytes", (int64_t)f->bytes);
			js_add_str(e, "sha256", f->sha);
		} else {
			json_object_object_add(e, "bytes", NULL);
			json_object_object_add(e, "sha256", NULL);
		}
		json_object_array_add(arr, e);
		sha256_add(&c, f->sha, 64);
		sha256_add(&c, "\n", 1);
	}
	for (size_t i = 0; i < alerts.nfiles; i++) {
		const struct rda_file *af = &alerts.files[i];
		json_object *e = json_object_new_object();
		js_add_str(e, "role", af->role);
		js_add_str(e, "path", af->path);
		js_add_str(e, "format", af->format);
		js_add_int(e, "bytes", (int64_t)af->bytes);
		js_add_str(e, "sha256", af->sha256);
		json_object_array_add(arr, e);
		sha256_add(&c, af->sha256, 64);
		sha256_add(&c, "\n", 1);
	}
	json_object_object_add(ds, "files", arr);
	sha256_hex(&c, all);
	js_add_str(ds, "sha256", all);
	json_object_object_add(o, "dataset", ds);
	cfg = js_copy(st.config);
	redact(cfg);
	json_object_object_add(o, "config", cfg);
	js_add_ts(o, "started_at", started);
	stage_emit(&st, o);
	json_object_put(o);
}

/* ---- incidents ---- */

static struct buf incidents = BUF_INIT(0);

static int
inc_ts(json_object *in, json_object *out, const char *key, const char *const *alias,
       const char **why)
{
	json_object *v = NULL;
	int64_t ns;

	for (int i = 0; alias[i] && v == NULL; i++)
		v = get(in, alias[i]);
	if (v == NULL || json_object_is_type(v, json_type_null)) {
		json_object_object_add(out, key, NULL);
		return 0;
	}
	if (ts_json(v, files[R_INCIDENTS].unit, &ns, why) < 0)
		return -1;
	js_add_ts(out, key, ns);
	return 0;
}

static void
load_incidents(void)
{
	static const char *const a_start[] = {"start_ts", "start", "started_at", "start_time", "ts", NULL};
	static const char *const a_det[] = {"detected_ts", "detected", "detected_at", "detection_ts", NULL};
	static const char *const a_res[] = {"resolved_ts", "resolved", "resolved_at", "end_ts", "end", NULL};
	static const char *const known[] = {"kind", "id", "start_ts", "start", "started_at",
		"start_time", "ts", "detected_ts", "detected", "detected_at", "detection_ts",
		"resolved_ts", "resolved", "resolved_at", "end_ts", "end", "root_cause", "title",
		"expected_actions", NULL};
	struct file *f = &files[R_INCIDENTS];
	const char *p, *why;
	size_t n;
	int k;

	if (!f->present)
		return;
	if (rec_open(&f->rd, f->path, st.max_line) < 0)
		efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
	while ((k = rec_getline(&f->rd, &p, &n)) > 0) {
		unsigned long line = f->rd.line;
		json_object *o, *out, *v;
		size_t plen = n, len;
		const char *s;
		char idb[48];
		if (k == REC_LONG) {
			st.records_in++;
			stage_reject(&st, f->path, line, p, n, f->rd.long_len,
				     "line too long (%zu bytes, limit %zu)", f->rd.long_len, st.max_line);
			continue;
		}
		if (blank(p, n))
			continue;
		st.records_in++;
		if (plen && p[plen - 1] == '\r')
			plen--;
		o = js_parse(st.tok, p, plen, &why);
		if (o == NULL || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			if (o)
				reject(f, line, p, n, "not a JSON object");
			else
				reject(f, line, p, n, "invalid JSON: %s", why ? why : "null is not a record");
			continue;
		}
		out = stage_record("incident");
		v = get(o, "id");
		if (v && (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int)))
			js_add_str(out, "id", json_object_get_string(v));
		else {
			snprintf(idb, sizeof idb, "incidents:%lu", line);
			js_add_str(out, "id", idb);
		}
		if (inc_ts(o, out, "start_ts", a_start, &why) < 0 ||
		    inc_ts(o, out, "detected_ts", a_det, &why) < 0 ||
		    inc_ts(o, out, "resolved_ts", a_res, &why) < 0) {
			reject(f, line, p, n, "%s", why);
			goto next;
		}
		if (json_object_object_get_ex(out, "start_ts", &v) && v == NULL) {
			reject(f, line, p, n, "missing start_ts");
			goto next;
		}
		v = get(o, "root_cause");
		if (v && json_object_is_type(v, json_type_string)) {
			json_object *rc = json_object_new_object();
			js_add_ref(rc, "service", v);
			json_object_object_add(out, "root_cause", rc);
		} else {
			json_object_object_add(out, "root_cause", v ? json_object_get(v) : NULL);
		}
		json_object_object_add(out, "title", (v = get(o, "title")) ? json_object_get(v) : NULL);
		v = get(o, "expected_actions");
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
		buf_add(&incidents, s, len);
		buf_addc(&incidents, '\n');
		n_incidents++;
next:
		json_object_put(out);
		json_object_put(o);
	}
	if (k == REC_ERROR)
		efatal(EXIT_FAIL, "%s: read error: %s", f->path, strerror(errno));
	rec_close(&f->rd);
}

/* ---- alerts (lib/rd_alerts): sorted with the unsorted signals ---- */

static uint64_t alert_seq;

static void
alert_out(void *ctx, int64_t ts, const char *rec, size_t n)
{
	(void)ctx;
	if (xs == NULL)
		xs = xs_new(sort_mem, NULL);
	/* After the signals of the same time, in reading order. */
	if (xs_add(xs, ts, (uint64_t)R_INCIDENTS << 62 | ++alert_seq, rec, n) < 0)
		efatal(EXIT_FAIL, "sorting: cannot write a temporary file: %s", strerror(errno));
}

static void
alert_incident(void *ctx, const char *rec, size_t n)
{
	(void)ctx;
	buf_add(&incidents, rec, n);
	buf_addc(&incidents, '\n');
	n_incidents++;
}

static void
alert_reject(void *ctx, const char *path, unsigned long line, const char *raw, size_t n,
	     size_t full, const char *reason)
{
	(void)ctx;
	stage_reject(&st, path, line, raw, n, full, "%s", reason);
}

static void
load_alerts(void)
{
	const struct rda_out out = {NULL, alert_out, alert_incident, alert_reject};
	char why[400];

	if (!have_alerts)
		return;
	if (rda_read(&alerts, &out, why, sizeof why) < 0)
		efatal(EXIT_FAIL, "%s", why);
	st.records_in += alerts.in;
	n_alerts = alerts.alerts;
}

/* ---- configuration ---- */

static size_t
parse_size(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0)
		stage_usage_error(&st, "--sort-mem: bad size '%s'", s);
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		stage_usage_error(&st, "--sort-mem: bad size '%s'", s);
	return (size_t)v;
}

static char *
join(const char *dir, const char *name)
{
	struct buf b = BUF_INIT(0);

	if (dir == NULL || name[0] == '/')
		return estrdup(name);
	buf_printf(&b, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	return buf_detach(&b);
}

static int
exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static void
setup_file(struct file *f, enum role r, json_object *sec)
{
	json_object *fc = get(sec, role_name[r]), *v;
	const char *cfgname = NULL, *s;
	int i;

	f->role = r;
	f->unit = g_unit;
	f->wide = -1;
	if (fc && json_object_is_type(fc, json_type_string))
		cfgname = json_object_get_string(fc);
	else if (fc && json_object_is_type(fc, json_type_object)) {
		cfgname = js_str(fc, "path");
		if (cfgname == NULL)
			cfgname = js_str(fc, "file");
	} else if (fc && !json_object_is_type(fc, json_type_null))
		efatal(EXIT_USAGE, "%s: dataset.%s: expected a file name or an object",
		       st.config_path ? st.config_path : "config", role_name[r]);
	if (!json_object_is_type(fc, json_type_object))
		fc = NULL;
	/* format: per file, or dataset.format.{role} */
	s = js_str(fc, "format");
	if (s == NULL)
		s = js_str(get(sec, "format"), role_name[r]);
	if (s) {
		for (i = 1; i < 4; i++)
			if (strcmp(s, fmt_name[i]) == 0 || (i == 1 && (strcmp(s, "json") == 0 ||
								       strcmp(s, "ndjson") == 0)))
				break;
		if (i == 4)
			efatal(EXIT_USAGE, "dataset.%s.format: unknown format '%s' (jsonl, csv, otlp)",
			       role_name[r], s);
		f->fmt = (enum fmt)i;
		f->forced_fmt = 1;
	}
	if ((s = js_str(fc, "ts_unit")) != NULL && ts_unit_parse(s, &f->unit) < 0)
		efatal(EXIT_USAGE, "dataset.%s.ts_unit: unknown unit '%s' (auto, s, ms, us, ns)",
		       role_name[r], s);
	if ((s = js_str(fc, "delimiter")) != NULL) {
		if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0)
			f->delim = '\t';
		else if (strlen(s) == 1)
			f->delim = s[0];
		else
			efatal(EXIT_USAGE, "dataset.%s.delimiter: expected one character", role_name[r]);
	}
	if ((v = get(fc, "wide")) != NULL && json_object_is_type(v, json_type_boolean))
		f->wide = json_object_get_boolean(v);
	if ((v = get(fc, "labels")) != NULL && json_object_is_type(v, json_type_array))
		f->label_cols = v;
	/* the alias map, with the configured columns first */
	v = get(fc, "columns");
	if (v == NULL)
		v = get(fc, "fields");
	unsigned mapped = 0;
	if (v && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, canon, src) {
			const struct alias *a;
			for (a = column_names; a->name && strcmp(a->name, canon) != 0; a++)
				;
			if (a->name == NULL || !json_object_is_type(src, json_type_string))
				efatal(EXIT_USAGE, "dataset.%s.columns.%s: unknown field or not a string",
				       role_name[r], canon);
			amap_put(&f->amap, json_object_get_string(src), a->fld, 0, a->mult);
			mapped |= 1u << a->fld;
		}
	}
	for (i = 0; aliases[i].name; i++)
		if (!(mapped >> aliases[i].fld & 1))
			amap_put(&f->amap, aliases[i].name, aliases[i].fld, i, aliases[i].mult);

	/* the path */
	if (opt_files[r]) {
		f->path = estrdup(opt_files[r]);
	} else if (cfgname) {
		f->path = join(dataset_dir, cfgname);
	} else {
		static const char *const alt[] = {".jsonl", ".jsonl.gz", ".csv", ".csv.gz",
			".otlp.jsonl", ".otlp.jsonl.gz", ".json", ".ndjson", NULL};
		char name[64];
		for (i = 0; alt[i]; i++) {
			snprintf(name, sizeof name, "%s%s", role_name[r], alt[i]);
			free(f->path);
			f->path = join(dataset_dir, name);
			if (exists(f->path))
				break;
		}
		if (alt[i] == NULL) {
			free(f->path);
			snprintf(name, sizeof name, "%s.jsonl", role_name[r]);
			f->path = join(dataset_dir, name);
		}
	}
	f->present = exists(f->path);
	if (f->present) {
		struct stat sb;
		f->regular = stat(f->path, &sb) == 0 && S_ISREG(sb.st_mode);
	}
	if (!f->present) {
		if (errno != ENOENT)
			efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
		warnf("note: %s: not found, no %s loaded", f->path, role_name[r]);
	}
}

static int
on_start(struct stage *s)
{
	json_object *sec = s->sec, *params = stage_params(s);
	const char *tz, *unit;
	struct stat sb;

	if (sec && !json_object_is_type(sec, json_type_object))
		efatal(EXIT_USAGE, "%s: dataset: expected a mapping",
		       s->config_path ? s->config_path : "config");
	dataset_dir = opt_dataset;
	if (dataset_dir == NULL && (dataset_dir = js_str(sec, "path")) == NULL)
		dataset_dir = js_str(sec, "dir");
	if (dataset_dir && stat(dataset_dir, &sb) < 0)
		efatal(EXIT_USAGE, "dataset '%s': %s", dataset_dir, strerror(errno));
	if (dataset_dir && !S_ISDIR(sb.st_mode))
		efatal(EXIT_USAGE, "dataset '%s': not a directory", dataset_dir);
	tz = opt_tz ? opt_tz : js_str(sec, "timezone");
	if (tz == NULL)
		tz = js_str(sec, "tz");
	if (tz && ts_set_zone(tz) < 0)
		stage_usage_error(s, "--tz: unknown zone '%s'", tz);
	unit = opt_ts_unit ? opt_ts_unit : "auto";
	if (ts_unit_parse(unit, &g_unit) < 0)
		stage_usage_error(s, "--ts-unit: unknown unit '%s' (auto, s, ms, us, ns)", unit);
	if (opt_sort_mem)
		sort_mem = parse_size(opt_sort_mem);
	for (int r = 0; r < NROLE; r++)
		setup_file(&files[r], (enum role)r, sec);
	for (int r = 0; r < R_INCIDENTS; r++)
		if (files[r].present && !files[r].forced_fmt)
			files[r].fmt = files[r].regular ? detect(&files[r]) : FMT_JSONL;
	{
		char why[300];
		int k = rda_config(&alerts, get(sec, "alerts"), dataset_dir, opt_alerts, why, sizeof why);
		if (k < 0)
			efatal(EXIT_USAGE, "%s: %s", s->config_path ? s->config_path : "config", why);
		have_alerts = k == 0;
		alerts.max_line = st.max_line;
	}
	js_add_str(params, "dataset", dataset_dir);
	for (int r = 0; r < NROLE; r++)
		js_add_str(params, role_name[r], files[r].path);
	if (have_alerts)
		js_add_str(params, "alerts", alerts.path);
	js_add_str(params, "tz", tz ? tz : "UTC");
	js_add_str(params, "ts_unit", unit);
	js_add_int(params, "sort_mem", (int64_t)sort_mem);
	return 0;
}

static void
add_end(struct stage *s, json_object *end)
{
	json_object *o = json_object_new_object();

	(void)s;
	js_add_int(o, "log", (int64_t)n_kind[0]);
	js_add_int(o, "metric", (int64_t)n_kind[1]);
	js_add_int(o, "span", (int64_t)n_kind[2]);
	js_add_int(o, "incident", (int64_t)n_incidents);
	if (have_alerts)
		js_add_int(o, "alert", (int64_t)n_alerts);
	json_object_object_add(end, "kinds", o);
	o = json_object_new_object();
	js_add_int(o, "files_sorted", (int64_t)n_sorted_files);
	js_add_int(o, "records_sorted", (int64_t)n_xs_count);
	js_add_int(o, "runs_spilled", (int64_t)n_xs_spilled);
	json_object_object_add(end, "sort", o);
}

/* ---- the merge ---- */

static void
emit(const char *p, size_t n)
{
	out_line(p, n);
	st.records_out++;
}

static void
run_merge(void)
{
	struct file *src[3];
	int nsrc = 0, have_xs = 0;
	int64_t xts = 0;
	uint64_t xseq = 0;
	const char *xp = NULL;
	size_t xn = 0;

	/* unsorted files through the external sort */
	for (int r = 0; r < R_INCIDENTS; r++) {
		struct file *f = &files[r];
		if (!f->present || f->sorted)
			continue;
		if (xs == NULL)
			xs = xs_new(sort_mem, NULL);
		n_sorted_files++;
		if (file_open(f) < 0)
			efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
		while (file_fill(f)) {
			for (; f->ipend < f->npend; f->ipend++) {
				struct pend *pd = &f->pend[f->ipend];
				finish_pend(f, f->ipend);
				if (xs_add(xs, pd->ts, seq_of(r, f->line, pd->k), f->fin.p, f->fin.len) < 0)
					efatal(EXIT_FAIL, "sorting: cannot write a temporary file: %s",
					       strerror(errno));
			}
		}
		file_close(f);
	}
	if (xs) {
		if (xs_finish(xs) < 0)
			efatal(EXIT_FAIL, "sorting: %s", strerror(errno));
		int k = xs_next(xs, &xts, &xseq, &xp, &xn);
		if (k < 0)
			efatal(EXIT_FAIL, "sorting: cannot read a temporary file: %s", strerror(errno));
		have_xs = k > 0;
	}
	/* sorted files, read on the fly */
	for (int r = 0; r < R_INCIDENTS; r++) {
		struct file *f = &files[r];
		if (!f->present || !f->sorted)
			continue;
		if (file_open(f) < 0)
			efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
		f->last_ts = INT64_MIN;
		if (file_fill(f))
			src[nsrc++] = f;
		else
			file_close(f);
	}
	for (;;) {
		int best = -1;
		int64_t bts = 0;
		uint64_t bseq = 0;
		for (int i = 0; i < nsrc; i++) {
			struct file *f = src[i];
			struct pend *pd = &f->pend[f->ipend];
			uint64_t sq = seq_of(f->role, f->line, pd->k);
			if (best < 0 || pd->ts < bts || (pd->ts == bts && sq < bseq)) {
				best = i;
				bts = pd->ts;
				bseq = sq;
			}
		}
		if (have_xs && (best < 0 || xts < bts || (xts == bts && xseq < bseq))) {
			emit(xp, xn);
			int k = xs_next(xs, &xts, &xseq, &xp, &xn);
			if (k < 0)
				efatal(EXIT_FAIL, "sorting: cannot read a temporary file: %s",
				       strerror(errno));
			have_xs = k > 0;
			continue;
		}
		if (best < 0)
			break;
		{
			struct file *f = src[best];
			struct pend *pd = &f->pend[f->ipend];
			if (pd->ts < f->last_ts)
				efatal(EXIT_FAIL, "%s:%lu: out of time order on the second reading "
				       "(did the file change?)", f->path, f->line);
			f->last_ts = pd->ts;
			finish_pend(f, f->ipend);
			emit(f->fin.p, f->fin.len);
			f->ipend++;
			if (!file_fill(f)) {
				file_close(f);
				src[best] = src[--nsrc];
			}
		}
	}
}

int
main(int argc, char **argv)
{
	pthread_t th;
	int64_t started = ts_now();
	int threaded;

	st.name = "load";
	st.section = "dataset";
	st.synopsis = "[--config FILE] [--dataset DIR] [--logs FILE] [--metrics FILE]\n"
		      "                  [--traces FILE] [--incidents FILE] [--run-id ID] [--tz ZONE]\n"
		      "                  [--ts-unit UNIT] [--sort-mem BYTES] [--strict] [--set KEY=VALUE]";
	st.description = "Reads a dataset (logs, metrics, traces: JSONL, CSV or OTLP JSON, plain or\n"
			 "gzip; incidents: JSONL) and writes a run record, every signal merged in\n"
			 "time order, then the incidents.  See aiops-load(1).";
	st.opts = opts;
	st.on_start = on_start;
	st.add_end = add_end;
	st.positional_ok = -1;
	st.no_loop = 1;
	stage_init(&st, argc, argv);

	threaded = pthread_create(&th, NULL, hash_files, NULL) == 0;
	if (!threaded)
		hash_files(NULL);
	for (int r = 0; r < R_INCIDENTS; r++)
		if (files[r].present)
			files[r].sorted = scan_sorted(&files[r]);
	if (threaded)
		pthread_join(th, NULL);
	for (int r = 0; r < NROLE; r++)
		if (files[r].present && files[r].hash_err)
			efatal(EXIT_FAIL, "%s: %s", files[r].path, strerror(files[r].hash_err));
	load_alerts();
	write_run(started);
	load_incidents();
	run_merge();
	for (size_t i = 0; i < incidents.len;) {
		char *nl = memchr(incidents.p + i, '\n', incidents.len - i);
		emit(incidents.p + i, (size_t)(nl - (incidents.p + i)));
		i = (size_t)(nl - incidents.p) + 1;
	}
	if (xs) {
		n_xs_count = xs_count(xs);
		n_xs_spilled = xs_spilled(xs);
		xs_free(xs);
		xs = NULL;
	}
	rda_free(&alerts);
	return stage_finish(&st);
}
