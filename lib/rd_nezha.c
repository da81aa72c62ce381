/*
 * rd_nezha: the layout of the Nezha RCA benchmark (IntelligentDDS/Nezha,
 * FSE 2023): rca_data/<day>/ holds
 *   metric/<pod>_metric.csv   nezha_metric: Time,TimeStamp,PodName,<metric>...
 *                             (front_service.csv: ServiceName instead of PodName)
 *   trace/HH_MM_trace.csv     nezha_trace: TraceID,SpanID,ParentID,PodName,
 *                             OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration
 *   log/HH_MM_log.csv         nezha_log: Timestamp,TimeUnixNano,Node,PodName,
 *                             Container,TraceID,SpanID,Log
 *   <day>-fault_list.json     nezha_faults: {"HH": [{inject_time, inject_timestamp,
 *                             inject_pod, inject_type}, ...], ...}
 * Each reader recognises its exact header (or, for the fault list, its
 * keys), so it outbids the generic CSV and JSONL readers.
 *
 * The layout's rules, as its authors use them:
 *   - the service of a pod is its name without the last two '-'-separated
 *     parts (a Kubernetes Deployment's pod: frontend-579b9bff58-t2dbm ->
 *     frontend); the pod is kept as the attribute or label `pod`;
 *   - metric times are the Time column (Go's time.String() form); the
 *     TimeStamp column is not read (it is corrupt in some files);
 *   - span times are StartTimeUnixNano and EndTimeUnixNano (ns); ParentID
 *     "root" is a root; there is no status (UNSET);
 *   - log times are Timestamp (RFC 3339); TimeUnixNano only when Timestamp
 *     is empty and it is positive; Log is Docker's json-file wrapper
 *     {"log": LINE, "stream": ...} whose LINE may be JSON with severity and
 *     message;
 *   - a fault starts at inject_time, a UTC time without zone (the dataset
 *     timezone applies); inject_timestamp is not read (it disagrees with
 *     inject_time in this dataset family).  With the option `components`
 *     (a root_cause_*.json file: service -> fault -> component, relative to
 *     the fault list's directory) the incident's root cause gets its
 *     component.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "err.h"
#include "js.h"
#include "rd.h"

/* The service of a Kubernetes Deployment's pod: the name without its last
 * two '-'-separated parts, when it has at least three. */
static size_t
pod_service(const char *p, size_t n)
{
	size_t i = n, cut = 0;

	while (i > 0 && cut < 2) {
		i--;
		if (p[i] == '-')
			cut++;
	}
	return cut == 2 && i > 0 ? i : n;
}

/* Does the file start with exactly this header line? */
static int
header_is(const struct rd_probe *p, const char *h)
{
	size_t n = strlen(h);

	return strncmp(p->buf, h, n) == 0 && (p->buf[n] == '\n' || p->buf[n] == '\r');
}

struct nz {
	struct csv_row row;
	int have_header;
	size_t ncols;
	char **colname;
	int svc_is_pod;         /* metrics: PodName (1) or ServiceName (0) */
	/* the fault list */
	json_object *doc, *items, *components;
	size_t next;
};

static int
nz_open(struct rd_src *s)
{
	s->priv = ecalloc(1, sizeof(struct nz));
	return 0;
}

static void
nz_close(struct rd_src *s)
{
	struct nz *z = s->priv;

	if (z == NULL)
		return;
	for (size_t i = 0; i < z->ncols; i++)
		free(z->colname[i]);
	free(z->colname);
	csv_row_free(&z->row);
	json_object_put(z->doc);
	json_object_put(z->items);
	json_object_put(z->components);
	free(z);
	s->priv = NULL;
}

/* Reads the header (once), then returns the next row split into z->row:
 * 1 with the row, 0 at the end, -1 fatal; rows that do not split or have
 * the wrong number of fields are rejected here (2: go on). */
static int
nz_row(struct rd_src *s, const char *const *want, size_t nwant, const char **pp, size_t *pn)
{
	struct nz *z = s->priv;
	const char *p, *why;
	size_t n;
	int k;

	if (!z->have_header) {
		if ((k = rd_line_raw(s, &p, &n)) <= 0)
			return k;
		if (csv_split(&z->row, p, n, ',', &why) < 0 || z->row.n < nwant) {
			snprintf(s->why, sizeof s->why, "%s:%lu: not a Nezha header", s->path, s->line);
			return -1;
		}
		for (size_t i = 0; i < nwant; i++)
			if (want[i] && (z->row.f[i].n != strlen(want[i]) ||
					memcmp(z->row.f[i].p, want[i], z->row.f[i].n) != 0)) {
				snprintf(s->why, sizeof s->why, "%s:%lu: not a Nezha header (column %zu is not %s)",
					 s->path, s->line, i + 1, want[i]);
				return -1;
			}
		z->ncols = z->row.n;
		z->colname = ecalloc(z->ncols, sizeof *z->colname);
		for (size_t i = 0; i < z->ncols; i++)
			z->colname[i] = estrndup(z->row.f[i].p, z->row.f[i].n);
		z->have_header = 1;
		return 2;
	}
	if ((k = rd_line(s, &p, &n)) <= 0)
		return k;
	*pp = p;
	*pn = n;
	if (csv_split(&z->row, p, n, ',', &why) < 0) {
		rd_reject(s, s->line, p, n, "%s", why);
		return 2;
	}
	if (z->row.n != z->ncols) {
		rd_reject(s, s->line, p, n, "expected %zu fields, got %zu", z->ncols, z->row.n);
		return 2;
	}
	return 1;
}

/* ---- metrics ---- */

static int
metric_next(struct rd_src *s)
{
	static const char *const want[] = {"Time", "TimeStamp", NULL};
	struct nz *z = s->priv;
	struct buf *b = &s->body;
	const struct csv_field *tf, *pf;
	const char *p, *why;
	size_t n, sl;
	int64_t ts;
	int k;
	unsigned e = 0;
	struct buf head = BUF_INIT(0);

	if (!z->have_header) {
		if ((k = nz_row(s, want, 3, &p, &n)) != 2)
			return k;
		z->svc_is_pod = strcmp(z->colname[2], "PodName") == 0;
		if (!z->svc_is_pod && strcmp(z->colname[2], "ServiceName") != 0) {
			snprintf(s->why, sizeof s->why, "%s:%lu: not a Nezha header (column 3 is "
				 "neither PodName nor ServiceName)", s->path, s->line);
			return -1;
		}
		return 1;
	}
	if ((k = nz_row(s, want, 3, &p, &n)) != 1)
		return k == 2 ? 1 : k;
	tf = &z->row.f[0];
	pf = &z->row.f[2];
	s->nelem = (unsigned)(z->ncols - 3);
	if (rd_ts_text(tf->p, tf->n, s->unit, &ts, &why) < 0) {
		char r[300];
		rd_reject(s, s->line, p, n, "Time: %s", rd_ts_reason(r, sizeof r, why, tf->p, tf->n));
		return 1;
	}
	if (s->quiet) {
		rd_pend(s, ts, 1, RD_METRIC, 0);
		return 1;
	}
	if (pf->n == 0) {
		rd_reject(s, s->line, p, n, "missing %s", z->colname[2]);
		return 1;
	}
	sl = z->svc_is_pod ? pod_service(pf->p, pf->n) : pf->n;
	WS(&head, "\"ts\":");
	wts(&head, ts);
	WS(&head, ",\"service\":");
	wstr(&head, pf->p, sl);
	for (size_t i = 3; i < z->ncols; i++) {
		const struct csv_field *c = &z->row.f[i];
		size_t off = b->len;
		e++;
		w(b, head.p, head.len);
		WS(b, ",\"name\":");
		wstrz(b, z->colname[i]);
		WS(b, ",\"value\":");
		if (wvalue_text(b, c->p, c->n) < 0) {
			b->len = off;
			rd_reject(s, s->line, p, n, "column '%s': metric value is not a number: '%.*s'",
				  z->colname[i], (int)c->n, c->p);
			continue;
		}
		WS(b, ",\"labels\":{");
		if (z->svc_is_pod) {
			WS(b, "\"pod\":");
			wstr(b, pf->p, pf->n);
		}
		WS(b, "}}");
		rd_pend(s, ts, e, RD_METRIC, off);
	}
	buf_free(&head);
	return 1;
}

static int
metric_probe(const struct rd_probe *p)
{
	return strncmp(p->buf, "Time,TimeStamp,PodName,", 23) == 0 ||
	       strncmp(p->buf, "Time,TimeStamp,ServiceName,", 27) == 0 ? RD_SCORE_MAX : 0;
}

const struct rd_format rd_nezha_metric = {
	.name = "nezha_metric",
	.exts = ".csv",
	.roles = 1u << RD_METRICS,
	.probe = metric_probe,
	.open = nz_open,
	.next = metric_next,
	.close = nz_close,
};

/* ---- traces ---- */

#define TRACE_HEADER "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration"

/* An integer count of ns since the epoch. */
static int
nano(const struct csv_field *c, int64_t *ns, const char **why)
{
	char t[32], *end;
	long long v;

	*why = "not an integer";
	if (c->n == 0 || c->n >= sizeof t)
		return -1;
	memcpy(t, c->p, c->n);
	t[c->n] = '\0';
	errno = 0;
	v = strtoll(t, &end, 10);
	if (*end || errno)
		return -1;
	return ts_epoch_int(v, TS_NS, ns, why);
}

static int
trace_next(struct rd_src *s)
{
	static const char *const want[] = {"TraceID", "SpanID", "ParentID", "PodName",
		"OperationName", "StartTimeUnixNano", "EndTimeUnixNano", "Duration"};
	struct nz *z = s->priv;
	struct buf *b = &s->body;
	const struct csv_field *f;
	const char *p, *why;
	size_t n;
	int64_t ts, end;
	int k;

	if ((k = nz_row(s, want, 8, &p, &n)) != 1)
		return k == 2 ? 1 : k;
	f = z->row.f;
	s->nelem = 1;
	if (nano(&f[5], &ts, &why) < 0) {
		rd_reject(s, s->line, p, n, "StartTimeUnixNano: %s '%.*s'", why, (int)f[5].n, f[5].p);
		return 1;
	}
	if (s->quiet) {
		rd_pend(s, ts, 1, RD_SPAN, 0);
		return 1;
	}
	if (nano(&f[6], &end, &why) < 0) {
		rd_reject(s, s->line, p, n, "EndTimeUnixNano: %s '%.*s'", why, (int)f[6].n, f[6].p);
		return 1;
	}
	if (end < ts) {
		rd_reject(s, s->line, p, n, "negative duration");
		return 1;
	}
	for (int i = 0; i < 5; i++)
		if (f[i].n == 0 && i != 2) {
			rd_reject(s, s->line, p, n, "missing %s", want[i]);
			return 1;
		}
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wstr(b, f[3].p, pod_service(f[3].p, f[3].n));
	WS(b, ",\"trace_id\":");
	wstr(b, f[0].p, f[0].n);
	WS(b, ",\"span_id\":");
	wstr(b, f[1].p, f[1].n);
	WS(b, ",\"parent_id\":");
	if (f[2].n == 0 || rd_ieq(f[2].p, f[2].n, "root"))
		WS(b, "null");
	else
		wstr(b, f[2].p, f[2].n);
	WS(b, ",\"name\":");
	wstr(b, f[4].p, f[4].n);
	WS(b, ",\"duration_ms\":");
	wms(b, end - ts);
	WS(b, ",\"status\":\"UNSET\",\"attrs\":{\"pod\":");
	wstr(b, f[3].p, f[3].n);
	WS(b, "}}");
	rd_pend(s, ts, 1, RD_SPAN, 0);
	return 1;
}

static int
trace_probe(const struct rd_probe *p)
{
	return header_is(p, TRACE_HEADER) ? RD_SCORE_MAX : 0;
}

const struct rd_format rd_nezha_trace = {
	.name = "nezha_trace",
	.exts = ".csv",
	.roles = 1u << RD_TRACES,
	.probe = trace_probe,
	.open = nz_open,
	.next = trace_next,
	.close = nz_close,
};

/* ---- logs ---- */

#define LOG_HEADER "Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log"

static int
log_next(struct rd_src *s)
{
	static const char *const want[] = {"Timestamp", "TimeUnixNano", "Node", "PodName",
		"Container", "TraceID", "SpanID", "Log"};
	struct nz *z = s->priv;
	struct buf *b = &s->body;
	const struct csv_field *f;
	const char *p, *why, *lv = "INFO", *msg, *stream = NULL;
	size_t n, msgn;
	int64_t ts;
	int k;
	json_object *wrap = NULL, *inner = NULL, *v;

	if ((k = nz_row(s, want, 8, &p, &n)) != 1)
		return k == 2 ? 1 : k;
	f = z->row.f;
	s->nelem = 1;
	if (f[0].n > 0) {
		if (rd_ts_text(f[0].p, f[0].n, s->unit, &ts, &why) < 0) {
			char r[300];
			rd_reject(s, s->line, p, n, "Timestamp: %s",
				  rd_ts_reason(r, sizeof r, why, f[0].p, f[0].n));
			return 1;
		}
	} else if (nano(&f[1], &ts, &why) < 0 || ts <= 0) {
		rd_reject(s, s->line, p, n, "no Timestamp and TimeUnixNano is not a time '%.*s'",
			  (int)f[1].n, f[1].p);
		return 1;
	}
	if (s->quiet) {
		rd_pend(s, ts, 1, RD_LOG, 0);
		return 1;
	}
	if (f[3].n == 0) {
		rd_reject(s, s->line, p, n, "missing PodName");
		return 1;
	}
	/* Docker's json-file wrapper, then maybe a JSON line inside */
	msg = f[7].p;
	msgn = f[7].n;
	if (msgn && msg[0] == '{' && (wrap = js_parse(s->st->tok, msg, msgn, &why)) != NULL &&
	    json_object_is_type(wrap, json_type_object) &&
	    (v = rd_get(wrap, "log")) != NULL && json_object_is_type(v, json_type_string)) {
		msg = json_object_get_string(v);
		msgn = (size_t)json_object_get_string_len(v);
		while (msgn && (msg[msgn - 1] == '\n' || msg[msgn - 1] == '\r'))
			msgn--;
		stream = js_str(wrap, "stream");
		if (msgn && msg[0] == '{' &&
		    (inner = js_parse(s->st->tok, msg, msgn, &why)) != NULL &&
		    json_object_is_type(inner, json_type_object)) {
			const char *sv = js_str(inner, "severity");
			if (sv == NULL)
				sv = js_str(inner, "level");
			if (sv && (lv = rd_level_text(sv, strlen(sv))) == NULL) {
				rd_reject(s, s->line, p, n, "unknown log level '%s'", sv);
				json_object_put(inner);
				json_object_put(wrap);
				return 1;
			}
			if ((v = rd_get(inner, "message")) != NULL &&
			    json_object_is_type(v, json_type_string)) {
				msg = json_object_get_string(v);
				msgn = (size_t)json_object_get_string_len(v);
			}
		}
	}
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	wstr(b, f[3].p, pod_service(f[3].p, f[3].n));
	WS(b, ",\"level\":\"");
	w(b, lv, strlen(lv));
	WS(b, "\",\"msg\":");
	wstr(b, msg, msgn);
	if (f[5].n) {
		WS(b, ",\"trace_id\":");
		wstr(b, f[5].p, f[5].n);
	}
	if (f[6].n) {
		WS(b, ",\"span_id\":");
		wstr(b, f[6].p, f[6].n);
	}
	WS(b, ",\"attrs\":{\"pod\":");
	wstr(b, f[3].p, f[3].n);
	if (f[2].n) {
		WS(b, ",\"node\":");
		wstr(b, f[2].p, f[2].n);
	}
	if (f[4].n) {
		WS(b, ",\"container\":");
		wstr(b, f[4].p, f[4].n);
	}
	if (stream) {
		WS(b, ",\"stream\":");
		wstrz(b, stream);
	}
	WS(b, "}}");
	json_object_put(inner);
	json_object_put(wrap);
	rd_pend(s, ts, 1, RD_LOG, 0);
	return 1;
}

static int
log_probe(const struct rd_probe *p)
{
	return header_is(p, LOG_HEADER) ? RD_SCORE_MAX : 0;
}

const struct rd_format rd_nezha_log = {
	.name = "nezha_log",
	.exts = ".csv",
	.roles = 1u << RD_LOGS,
	.probe = log_probe,
	.open = nz_open,
	.next = log_next,
	.close = nz_close,
};

/* ---- the fault list ---- */

/* Reads the whole document and flattens it into z->items: [[hour, entry]]. */
static int
faults_load(struct rd_src *s)
{
	struct nz *z = s->priv;
	struct buf all = BUF_INIT(0);
	const char *p, *why, *cf;
	size_t n;
	int k;

	while ((k = rd_line_raw(s, &p, &n)) > 0) {
		buf_add(&all, p, n);
		buf_addc(&all, '\n');
	}
	if (k < 0) {
		buf_free(&all);
		return -1;
	}
	z->items = json_object_new_array();
	if (all.len == 0) {
		buf_free(&all);
		return 0;
	}
	z->doc = js_parse(s->st->tok, all.p, all.len, &why);
	if (z->doc == NULL || !json_object_is_type(z->doc, json_type_object)) {
		/* one record that is not a fault list: one reject */
		rd_count_in(s);
		rd_reject(s, 1, all.p, all.len < 4096 ? all.len : 4096,
			  "not a Nezha fault list (an object of hours): %s",
			  z->doc ? "not an object" : why ? why : "invalid JSON");
		buf_free(&all);
		return 0;
	}
	buf_free(&all);
	json_object_object_foreach(z->doc, hour, list) {
		size_t m = rd_alen(list);
		if (!json_object_is_type(list, json_type_array)) {
			json_object *pair = json_object_new_array();
			json_object_array_add(pair, json_object_new_string(hour));
			json_object_array_add(pair, json_object_get(list));
			json_object_array_add(z->items, pair);
			continue;
		}
		for (size_t i = 0; i < m; i++) {
			json_object *pair = json_object_new_array();
			json_object_array_add(pair, json_object_new_string(hour));
			json_object_array_add(pair, json_object_get(json_object_array_get_idx(list, i)));
			json_object_array_add(z->items, pair);
		}
	}
	if ((cf = js_str(s->cfg, "components")) != NULL) {
		struct buf path = BUF_INIT(0);
		const char *slash = strrchr(s->path, '/');
		if (cf[0] != '/' && slash)
			buf_printf(&path, "%.*s/%s", (int)(slash - s->path), s->path, cf);
		else
			buf_printf(&path, "%s", cf);
		z->components = json_object_from_file(path.p);
		if (z->components == NULL || !json_object_is_type(z->components, json_type_object)) {
			snprintf(s->why, sizeof s->why, "%s: dataset.incidents.components: cannot read "
				 "a JSON object of services", path.p);
			buf_free(&path);
			return -1;
		}
		buf_free(&path);
	}
	return 0;
}

static int
faults_next(struct rd_src *s)
{
	struct nz *z = s->priv;
	struct buf *b = &s->body;
	json_object *pair, *e;
	const char *hour, *t, *pod, *type, *raw;
	size_t rawn;

	if (z->items == NULL && faults_load(s) < 0)
		return -1;
	if (z->next >= json_object_array_length(z->items))
		return 0;
	pair = json_object_array_get_idx(z->items, z->next++);
	hour = json_object_get_string(json_object_array_get_idx(pair, 0));
	e = json_object_array_get_idx(pair, 1);
	s->line = z->next;
	s->nelem = 1;
	rd_count_in(s);
	raw = json_object_to_json_string_length(e, JS_FLAGS, &rawn);
	t = js_str(e, "inject_time");
	pod = js_str(e, "inject_pod");
	type = js_str(e, "inject_type");
	if (!json_object_is_type(e, json_type_object) || !t || !*t || !pod || !*pod || !type ||
	    !*type) {
		rd_reject(s, s->line, raw, rawn, "fault %zu (hour %s): %s", z->next, hour,
			  !json_object_is_type(e, json_type_object) ? "not an object" :
			  !t || !*t ? "missing inject_time" : !pod || !*pod ? "missing inject_pod" :
			  "missing inject_type");
		return 1;
	}
	WS(b, "{\"start_ts\":");
	wstrz(b, t);
	WS(b, ",\"root_cause\":{\"service\":");
	size_t sl = pod_service(pod, strlen(pod));
	wstr(b, pod, sl);
	WS(b, ",\"fault\":");
	wstrz(b, type);
	if (z->components) {
		char *svc = estrndup(pod, sl);
		const char *comp = js_str(rd_get(z->components, svc), type);
		free(svc);
		if (comp) {
			WS(b, ",\"component\":");
			wstrz(b, comp);
		}
	}
	WS(b, "},\"pod\":");
	wstrz(b, pod);
	WS(b, "}");
	rd_pend(s, 0, 1, RD_LOG, 0);
	return 1;
}

static int
faults_probe(const struct rd_probe *p)
{
	const char *l = p->buf + strspn(p->buf, " \t\r\n");

	return *l == '{' && strstr(l, "\"inject_time\"") && strstr(l, "\"inject_pod\"") &&
	       strstr(l, "\"inject_type\"") ? RD_SCORE_MAX : 0;
}

const struct rd_format rd_nezha_faults = {
	.name = "nezha_faults",
	.exts = ".json",
	.roles = 1u << RD_INCIDENTS,
	.probe = faults_probe,
	.open = nz_open,
	.next = faults_next,
	.close = nz_close,
};
