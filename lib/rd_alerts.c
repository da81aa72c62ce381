/* rd_alerts: alerts (jsonl, Alertmanager webhook, GAIA layout) into records. */
#include <ctype.h>
#include <errno.h>
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
#include "js.h"
#include "rd_alerts.h"
#include "rec.h"
#include "sha256.h"
#include "ts.h"

static const char *const fmt_names[] = {"auto", "jsonl", "alertmanager", "gaia"};
static const char *default_service_labels[] = {"service", "job", NULL};

const char *
rda_fmt_name(enum rda_fmt f)
{
	return fmt_names[f];
}

int
rda_fmt_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, fmt_names[i]) == 0)
			return i;
	if (strcmp(s, "json") == 0 || strcmp(s, "ndjson") == 0)
		return RDA_JSONL;
	return -1;
}

int
rda_config(struct rda *a, json_object *sec, const char *dir, const char *opt, char *why, size_t n)
{
	json_object *v;
	const char *s, *path = NULL;

	memset(a, 0, sizeof *a);
	a->service_labels = default_service_labels;
	a->source = "metric";
	a->max_doc = (size_t)256 << 20;
	if (sec && json_object_is_type(sec, json_type_string))
		path = json_object_get_string(sec);
	else if (sec && json_object_is_type(sec, json_type_object)) {
		path = js_str(sec, "path");
		if ((s = js_str(sec, "format")) != NULL) {
			int f = rda_fmt_parse(s);
			if (f < 0) {
				snprintf(why, n, "dataset.alerts.format: unknown format '%s' "
					 "(jsonl, alertmanager, gaia)", s);
				return -1;
			}
			a->fmt = (enum rda_fmt)f;
		}
		if ((s = js_str(sec, "labels")) != NULL)
			a->labels = cfg_path_join(dir, s);
		if ((s = js_str(sec, "source")) != NULL) {
			if (strcmp(s, "metric") && strcmp(s, "span") && strcmp(s, "log")) {
				snprintf(why, n, "dataset.alerts.source: '%s' is not metric, span or log", s);
				return -1;
			}
			a->source = s;
		}
		v = NULL;
		json_object_object_get_ex(sec, "service_label", &v);
		if (v && json_object_is_type(v, json_type_string)) {
			a->service_labels = ecalloc(2, sizeof *a->service_labels);
			a->service_labels[0] = json_object_get_string(v);
		} else if (v && json_object_is_type(v, json_type_array)) {
			size_t k = json_object_array_length(v);
			a->service_labels = ecalloc(k + 1, sizeof *a->service_labels);
			for (size_t i = 0; i < k; i++) {
				json_object *e = json_object_array_get_idx(v, i);
				if (!json_object_is_type(e, json_type_string)) {
					snprintf(why, n, "dataset.alerts.service_label: expected names");
					return -1;
				}
				a->service_labels[i] = json_object_get_string(e);
			}
		} else if (v && !json_object_is_type(v, json_type_null)) {
			snprintf(why, n, "dataset.alerts.service_label: expected a name or a list");
			return -1;
		}
	} else if (sec && !json_object_is_type(sec, json_type_null)) {
		snprintf(why, n, "dataset.alerts: expected a file name or an object");
		return -1;
	}
	if (opt)
		a->path = estrdup(opt);
	else if (path)
		a->path = cfg_path_join(dir, path);
	else
		return 1;
	return 0;
}

void
rda_free(struct rda *a)
{
	for (size_t i = 0; i < a->nfiles; i++)
		free(a->files[i].path);
	free(a->files);
	free(a->path);
	free(a->labels);
	if (a->service_labels != default_service_labels)
		free(a->service_labels);
	if (a->tok)
		json_tokener_free(a->tok);
	json_object_put(a->templates);
	memset(a, 0, sizeof *a);
}

/* ---- probing ---- */

static int
is_dir(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int
is_file(const char *dir, const char *name)
{
	char *p = cfg_path_join(dir, name);
	struct stat sb;
	int r = stat(p, &sb) == 0 && S_ISREG(sb.st_mode);

	free(p);
	return r;
}

static int
has(const char *buf, size_t len, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= len; i++)
		if (buf[i] == needle[0] && memcmp(buf + i, needle, k) == 0)
			return 1;
	return 0;
}

enum rda_fmt
rda_probe(const char *path, const char *buf, size_t len, int *score)
{
	size_t i = 0;

	*score = 0;
	if (path && is_dir(path)) {
		int k = is_file(path, "label.csv") + is_file(path, "metric/metrics.json") +
			is_file(path, "trace/traces.json") + is_file(path, "log/logs.json");
		*score = k * 25;
		return k ? RDA_GAIA : RDA_AUTO;
	}
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i == len || buf[i] != '{') {
		*score = 10;    /* a bad first line is one reject, not a lost file */
		return RDA_JSONL;
	}
	/* Alertmanager's payload keys, within the sample. */
	if (has(buf, len, "\"alerts\"") && (has(buf, len, "\"receiver\"") ||
					     has(buf, len, "\"groupKey\""))) {
		*score = 75;
		return RDA_ALERTMANAGER;
	}
	*score = 50;
	return RDA_JSONL;
}

/* ---- building records ---- */

static const char *
opt_str(json_object *o, const char *const *keys)
{
	for (; *keys; keys++) {
		json_object *v;
		if (json_object_object_get_ex(o, *keys, &v) && json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) > 0)
			return json_object_get_string(v);
	}
	return NULL;
}

/* A new alert record with its id: "alerts:TAG" */
static json_object *
new_alert(const char *tag)
{
	json_object *o = json_object_new_object();
	char id[96];

	json_object_object_add(o, "kind", json_object_new_string("alert"));
	snprintf(id, sizeof id, "alerts:%s", tag);
	json_object_object_add(o, "id", json_object_new_string(id));
	return o;
}

/* Adds the fields after id in their fixed order; takes attrs. */
static void
fill_alert(json_object *o, int64_t ts, const char *svc, const char *source, const char *name,
	   const char *dir, const char *status, int64_t end, json_object *attrs)
{
	js_add_ts(o, "ts", ts);
	js_add_str(o, "service", svc);
	json_object_object_add(o, "source", source ? json_object_new_string(source) : NULL);
	js_add_str(o, "name", name);
	json_object_object_add(o, "direction", dir ? json_object_new_string(dir) : NULL);
	js_add_str(o, "status", status ? status : "firing");
	if (end == TS_NONE)
		json_object_object_add(o, "end_ts", NULL);
	else
		js_add_ts(o, "end_ts", end);
	json_object_object_add(o, "attrs", attrs ? attrs : json_object_new_object());
}

static void
deliver(struct rda *a, const struct rda_out *out, int64_t ts, json_object *o)
{
	size_t n;
	const char *s = js_dump(o, &n);

	out->alert(out->ctx, ts, s, n);
	a->alerts++;
	json_object_put(o);
}

static void
reject(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
       const char *raw, size_t n, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void
reject(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
       const char *raw, size_t n, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	out->reject(out->ctx, path, line, raw, n, n, why);
	a->rejects++;
}

static void
reject_json(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
	    json_object *el, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A reject of a JSON element; raw is its compact text. */
static void
reject_json(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
	    json_object *el, const char *fmt, ...)
{
	char why[400];
	va_list ap;
	size_t n = 4;
	const char *s = el ? js_dump(el, &n) : "null";

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	out->reject(out->ctx, path, line, s, n, n, why);
	a->rejects++;
}

static int
get_ts(json_object *v, int64_t *ns, const char **why)
{
	if (v == NULL || json_object_is_type(v, json_type_null)) {
		*why = "missing";
		return -1;
	}
	if (json_object_is_type(v, json_type_string))
		return ts_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v), ns, why);
	if (json_object_is_type(v, json_type_int))
		return ts_epoch_int(json_object_get_int64(v), TS_AUTO, ns, why);
	if (json_object_is_type(v, json_type_double))
		return ts_epoch_double(json_object_get_double(v), TS_AUTO, ns, why);
	*why = "not a time";
	return -1;
}

/* ---- jsonl ---- */

static json_object *
member(json_object *o, const char *const *keys)
{
	json_object *v;

	for (; *keys; keys++)
		if (json_object_object_get_ex(o, *keys, &v))
			return v;
	return NULL;
}

static const char *const k_ts[] = {"ts", "timestamp", "time", "startsAt", "start_ts", NULL};
static const char *const k_svc[] = {"service", "entity", "service_name", "serviceName", NULL};
static const char *const k_src[] = {"source", "signal", NULL};
static const char *const k_name[] = {"name", "alertname", "kpi", NULL};
static const char *const k_dir[] = {"direction", NULL};
static const char *const k_status[] = {"status", "state", NULL};
static const char *const k_end[] = {"end_ts", "endsAt", "end_time", NULL};
static const char *const k_attrs[] = {"attrs", "attributes", "labels", NULL};

static int
known_key(const char *k)
{
	const char *const *lists[] = {k_ts, k_svc, k_src, k_name, k_dir, k_status, k_end, k_attrs};

	if (strcmp(k, "kind") == 0 || strcmp(k, "id") == 0)
		return 1;
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
		for (const char *const *p = lists[i]; *p; p++)
			if (strcmp(*p, k) == 0)
				return 1;
	return 0;
}

/* Normalises a source name, or NULL. */
static const char *
norm_source(const char *s)
{
	if (strcmp(s, "metric") == 0 || strcmp(s, "metrics") == 0)
		return "metric";
	if (strcmp(s, "span") == 0 || strcmp(s, "trace") == 0 || strcmp(s, "traces") == 0 ||
	    strcmp(s, "spans") == 0)
		return "span";
	if (strcmp(s, "log") == 0 || strcmp(s, "logs") == 0)
		return "log";
	return NULL;
}

/* Turns a JSON object into an alert, or returns a reason. */
static const char *
object_alert(json_object *o, const char *tag, json_object **res, int64_t *tsp)
{
	static char why[160];
	const char *svc, *name, *src = NULL, *dir = NULL, *status = "firing", *w;
	json_object *v, *attrs;
	int64_t ts, end = TS_NONE;

	v = member(o, (const char *const[]){"kind", NULL});
	if (v && (!json_object_is_type(v, json_type_string) ||
		  strcmp(json_object_get_string(v), "alert") != 0))
		return "not an alert (kind is not \"alert\")";
	if (get_ts(member(o, k_ts), &ts, &w) < 0) {
		snprintf(why, sizeof why, "invalid or missing ts: %s", w);
		return why;
	}
	if ((svc = opt_str(o, k_svc)) == NULL)
		return "missing service (service, entity)";
	if ((name = opt_str(o, k_name)) == NULL)
		return "missing name (name, alertname, kpi)";
	if ((v = member(o, k_src)) != NULL && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_string) ||
		    (src = norm_source(json_object_get_string(v))) == NULL)
			return "source is not metric, span or log";
	}
	if ((v = member(o, k_dir)) != NULL && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_string))
			return "direction is not up or down";
		dir = json_object_get_string(v);
		if (strcmp(dir, "up") && strcmp(dir, "down"))
			return "direction is not up or down";
	}
	if ((v = member(o, k_status)) != NULL && !json_object_is_type(v, json_type_null)) {
		if (json_object_is_type(v, json_type_object))
			v = member(v, (const char *const[]){"state", NULL});   /* API v2 */
		status = v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		if (strcmp(status, "active") == 0)
			status = "firing";
		if (strcmp(status, "firing") && strcmp(status, "resolved"))
			return "status is not firing or resolved";
	}
	if ((v = member(o, k_end)) != NULL && !json_object_is_type(v, json_type_null)) {
		if (get_ts(v, &end, &w) < 0)
			end = TS_NONE;  /* Alertmanager's 0001-01-01: not known */
	}
	v = member(o, k_attrs);
	if (v && !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_null))
		return "attrs is not an object";
	attrs = v && json_object_is_type(v, json_type_object) ? js_copy(v) : json_object_new_object();
	json_object_object_foreach(o, key, val)
		if (!known_key(key))
			json_object_object_add(attrs, key, json_object_get(val));
	*res = new_alert(tag);
	fill_alert(*res, ts, svc, src, name, dir, status, end, attrs);
	*tsp = ts;
	return NULL;
}

void
rda_line(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
	 const char *p, size_t n)
{
	json_object *o, *res;
	const char *why;
	char tag[32];
	int64_t ts;
	size_t len = n;

	a->in++;
	if (a->tok == NULL)
		a->tok = json_tokener_new_ex(64);
	if (len && p[len - 1] == '\r')
		len--;
	o = js_parse(a->tok, p, len, &why);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		if (o)
			reject(a, out, path, line, p, n, "not a JSON object");
		else
			reject(a, out, path, line, p, n, "invalid JSON: %s", why ? why : "null");
		json_object_put(o);
		return;
	}
	snprintf(tag, sizeof tag, "%lu", line);
	why = object_alert(o, tag, &res, &ts);
	if (why)
		reject(a, out, path, line, p, n, "%s", why);
	else
		deliver(a, out, ts, res);
	json_object_put(o);
}

/* ---- whole files ---- */

static void
add_file(struct rda *a, const char *path, const char *role, const char *format, uint64_t bytes,
	 const char *sha)
{
	a->files = erealloc(a->files, (a->nfiles + 1) * sizeof *a->files);
	a->files[a->nfiles].path = estrdup(path);
	a->files[a->nfiles].role = role;
	a->files[a->nfiles].format = format;
	a->files[a->nfiles].bytes = bytes;
	memcpy(a->files[a->nfiles].sha256, sha, 65);
	a->nfiles++;
}

/* Bytes and SHA-256 of the file as stored (compressed or not). */
static int
hash_raw(const char *path, uint64_t *bytes, char sha[65])
{
	FILE *fp = fopen(path, "rb");
	struct sha256 c;
	char b[65536];
	size_t k;

	*bytes = 0;
	if (fp == NULL)
		return -1;
	sha256_init(&c);
	while ((k = fread(b, 1, sizeof b, fp)) > 0) {
		sha256_add(&c, b, k);
		*bytes += k;
	}
	k = (size_t)ferror(fp);
	fclose(fp);
	sha256_hex(&c, sha);
	return k ? -1 : 0;
}

/* Line-by-line over a file, hashing it; fn gets every non-blank line. */
typedef void (*line_fn)(struct rda *a, const struct rda_out *out, const char *path,
			unsigned long line, const char *p, size_t n, void *arg);

static int
each_line(struct rda *a, const struct rda_out *out, const char *path, const char *role,
	  const char *format, line_fn fn, void *arg, char *why, size_t wn)
{
	struct rec_reader rd;
	const char *p;
	size_t n;
	int k;
	uint64_t bytes = 0;
	char sha[65];

	if (hash_raw(path, &bytes, sha) < 0 || rec_open(&rd, path, a->max_line) < 0) {
		snprintf(why, wn, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((k = rec_getline(&rd, &p, &n)) > 0) {
		size_t full = k == REC_LONG ? rd.long_len : n;
		if (k == REC_LONG) {
			a->in++;
			out->reject(out->ctx, path, rd.line, p, n, full, "line too long");
			a->rejects++;
			continue;
		}
		size_t i = 0;
		while (i < n && isspace((unsigned char)p[i]))
			i++;
		if (i == n)
			continue;
		fn(a, out, path, rd.line, p, n, arg);
	}
	if (k == REC_ERROR) {
		snprintf(why, wn, "%s: read error: %s", path, strerror(errno));
		rec_close(&rd);
		return -1;
	}
	rec_close(&rd);
	add_file(a, path, role, format, bytes, sha);
	return 0;
}

/* A whole file as one buffer (NUL-terminated), hashed.  Returns 0 or -1. */
static int
slurp(struct rda *a, const char *path, struct buf *b, char *why, size_t wn)
{
	struct rec_reader rd;
	const char *p;
	size_t n;
	int k;
	uint64_t bytes;
	char sha[65];

	if (hash_raw(path, &bytes, sha) < 0 || rec_open(&rd, path, a->max_doc) < 0) {
		snprintf(why, wn, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((k = rec_getline(&rd, &p, &n)) > 0) {
		if (k == REC_LONG || b->len + n + 1 > a->max_doc) {
			snprintf(why, wn, "%s: document larger than %zu bytes", path, a->max_doc);
			rec_close(&rd);
			return -1;
		}
		buf_add(b, p, n);
		buf_addc(b, '\n');
	}
	rec_close(&rd);
	if (k == REC_ERROR) {
		snprintf(why, wn, "%s: read error: %s", path, strerror(errno));
		return -1;
	}
	buf_addc(b, '\0');
	b->len--;
	add_file(a, path, "alerts", NULL, bytes, sha);
	return 0;
}

static json_object *
parse_doc(struct rda *a, const char *p, size_t n, const char **why)
{
	if (a->tok == NULL)
		a->tok = json_tokener_new_ex(64);
	return js_parse(a->tok, p, n, why);
}

/* ---- alertmanager ---- */

/* The alerts of one webhook payload; line is where it starts. */
static void
am_payload(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
	   json_object *doc, const char *raw, size_t rawn)
{
	json_object *arr;
	size_t k;

	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "alerts", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		a->in++;
		reject(a, out, path, line, raw, rawn, "not an Alertmanager payload (no \"alerts\" array)");
		return;
	}
	k = json_object_array_length(arr);
	if (k == 0) {
		a->in++;
		reject(a, out, path, line, raw, rawn, "Alertmanager payload with no alerts");
		return;
	}
	for (size_t i = 0; i < k; i++) {
		json_object *al = json_object_array_get_idx(arr, i), *labels, *v, *attrs, *res;
		const char *svc = NULL, *svckey = NULL, *name, *status, *w;
		int64_t ts, end = TS_NONE;
		char tag[48];

		char at[32], svcs[128] = "";
		a->in++;
		snprintf(at, sizeof at, "alerts[%zu]", i);
		if (!json_object_is_type(al, json_type_object)) {
			reject_json(a, out, path, line, al, "%s: not an object", at);
			continue;
		}
		if (!json_object_object_get_ex(al, "labels", &labels) ||
		    !json_object_is_type(labels, json_type_object)) {
			reject_json(a, out, path, line, al, "%s: no labels", at);
			continue;
		}
		for (const char **sl = a->service_labels; *sl && svc == NULL; sl++)
			if ((svc = js_str(labels, *sl)) != NULL && *svc)
				svckey = *sl;
			else
				svc = NULL;
		if (svc == NULL) {
			for (const char **sl = a->service_labels; *sl; sl++)
				snprintf(svcs + strlen(svcs), sizeof svcs - strlen(svcs), "%s%s",
					 sl == a->service_labels ? "" : ", ", *sl);
			reject_json(a, out, path, line, al, "%s: no service label (%s): "
				    "set dataset.alerts.service_label", at, svcs);
			continue;
		}
		if ((name = js_str(labels, "alertname")) == NULL || !*name) {
			reject_json(a, out, path, line, al, "%s: no alertname label", at);
			continue;
		}
		v = NULL;
		json_object_object_get_ex(al, "startsAt", &v);
		if (get_ts(v, &ts, &w) < 0) {
			const char *sv = v && json_object_is_type(v, json_type_string) ?
				json_object_get_string(v) : "(none)";
			reject_json(a, out, path, line, al, "%s: invalid startsAt '%.40s': %s "
				    "(RFC 3339, e.g. 2024-05-01T10:00:00Z)", at, sv, w);
			continue;
		}
		status = js_str(al, "status");
		if (status == NULL)
			status = js_str(doc, "status");
		if (status == NULL || (strcmp(status, "firing") && strcmp(status, "resolved"))) {
			reject_json(a, out, path, line, al, "%s: status is not firing or resolved", at);
			continue;
		}
		if (json_object_object_get_ex(al, "endsAt", &v) && get_ts(v, &end, &w) < 0)
			end = TS_NONE;  /* "0001-01-01T00:00:00Z": not known */
		attrs = json_object_new_object();
		json_object_object_foreach(labels, lk, lv)
			if (strcmp(lk, "alertname") && strcmp(lk, svckey))
				json_object_object_add(attrs, lk, json_object_get(lv));
		if (json_object_object_get_ex(al, "annotations", &v) &&
		    json_object_is_type(v, json_type_object))
			json_object_object_add(attrs, "annotations", json_object_get(v));
		if ((v = member(al, (const char *const[]){"fingerprint", NULL})) &&
		    json_object_is_type(v, json_type_string))
			json_object_object_add(attrs, "fingerprint", json_object_get(v));
		snprintf(tag, sizeof tag, "%lu.%lu", line, ++a->seq);
		res = new_alert(tag);
		fill_alert(res, ts, svc, a->source, name, NULL, status, end, attrs);
		deliver(a, out, ts, res);
	}
}

static void
am_line(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
	const char *p, size_t n, void *arg)
{
	json_object *o;
	const char *why;

	(void)arg;
	a->seq = 0;
	o = parse_doc(a, p, n, &why);
	if (o == NULL) {
		a->in++;
		reject(a, out, path, line, p, n, "invalid JSON: %s", why ? why : "null");
		return;
	}
	am_payload(a, out, path, line, o, p, n);
	json_object_put(o);
}

static int
read_alertmanager(struct rda *a, const struct rda_out *out, char *why, size_t wn)
{
	struct buf b = BUF_INIT(0);
	json_object *o;
	const char *w;
	unsigned long first = 1;
	size_t i = 0;

	if (slurp(a, a->path, &b, why, wn) < 0) {
		buf_free(&b);
		return -1;
	}
	a->files[a->nfiles - 1].format = "alertmanager";
	while (i < b.len && isspace((unsigned char)b.p[i]))
		if (b.p[i++] == '\n')
			first++;
	/* One document (pretty-printed or not), else one payload a line. */
	o = parse_doc(a, b.p, b.len, &w);
	if (o) {
		a->seq = 0;
		am_payload(a, out, a->path, first, o, b.p + i, b.len - i);
		json_object_put(o);
	} else {
		unsigned long line = 1;
		for (size_t s = 0; s < b.len;) {
			char *nl = memchr(b.p + s, '\n', b.len - s);
			size_t e = nl ? (size_t)(nl - b.p) : b.len, j = s;
			while (j < e && isspace((unsigned char)b.p[j]))
				j++;
			if (j < e)
				am_line(a, out, a->path, line, b.p + s, e - s, NULL);
			line++;
			s = e + 1;
		}
	}
	buf_free(&b);
	return 0;
}

/* ---- gaia ---- */

/* "2021-07-01 18:45:03,964 | ..." : the leading time, naive. */
static int
lead_ts(const char *s, size_t n, int64_t *ts, const char **why)
{
	char t[32];
	size_t k = 0;

	while (k < n && k < sizeof t - 1 && s[k] != '|' && !(k > 19 && s[k] == ' '))
		k++;
	while (k > 0 && s[k - 1] == ' ')
		k--;
	memcpy(t, s, k);
	t[k] = '\0';
	if (k > 19 && t[19] == ',')
		t[19] = '.';
	return ts_parse(t, k, ts, why);
}

static const char *
arr_str(json_object *arr, size_t i)
{
	json_object *v = json_object_array_get_idx(arr, i);

	return json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0 ?
		json_object_get_string(v) : NULL;
}

static int
epoch_ms(const char *s, int64_t *ts, const char **why)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end) {
		*why = "not a number";
		return -1;
	}
	return ts_epoch_int(v, TS_MS, ts, why);
}

enum { G_METRIC, G_TRACE, G_LOG };

/* One element of metrics.json / traces.json / logs.json. */
static void
gaia_elem(struct rda *a, const struct rda_out *out, const char *path, int kind,
	  json_object *el, unsigned long ord)
{
	json_object *attrs, *res;
	const char *w, *s[5];
	int64_t ts;
	char tag[48];

	/* A log alert is [entity, template id, [lines], count, last line]
	 * (the last two optional); the lines are what is read. */
	size_t len = json_object_is_type(el, json_type_array) ? json_object_array_length(el) : 0;
	if (kind == G_LOG ? len < 3 || len > 5 : len != 5) {
		a->in++;
		reject_json(a, out, path, ord, el, "expected an array of %s", kind == G_LOG ?
			    "3 to 5 (entity, template id, [lines], count, last line)" : "5 strings");
		return;
	}
	if (kind == G_LOG) {
		json_object *lines = json_object_array_get_idx(el, 2);
		const char *svc = arr_str(el, 0), *tid = arr_str(el, 1), *tpl = NULL;
		size_t k;
		if (svc == NULL || tid == NULL || !json_object_is_type(lines, json_type_array)) {
			a->in++;
			reject_json(a, out, path, ord, el, "expected [entity, template id, [lines]]");
			return;
		}
		if (a->templates)
			tpl = js_str(a->templates, tid);
		k = json_object_array_length(lines);
		if (k == 0) {
			a->in++;
			reject_json(a, out, path, ord, el, "log alert without lines");
		}
		for (size_t i = 0; i < k; i++) {
			json_object *ln = json_object_array_get_idx(lines, i);
			const char *t = json_object_is_type(ln, json_type_string) ?
				json_object_get_string(ln) : NULL;
			char name[64];
			a->in++;
			if (t == NULL || lead_ts(t, strlen(t), &ts, &w) < 0) {
				reject_json(a, out, path, ord, ln, "log alert line without a leading time");
				continue;
			}
			attrs = json_object_new_object();
			js_add_str(attrs, "template_id", tid);
			if (tpl)
				js_add_str(attrs, "template", tpl);
			js_add_str(attrs, "msg", t);
			snprintf(name, sizeof name, "template %s", tid);
			snprintf(tag, sizeof tag, "log:%lu.%zu", ord, i + 1);
			res = new_alert(tag);
			fill_alert(res, ts, svc, "log", name, NULL, "firing", TS_NONE, attrs);
			deliver(a, out, ts, res);
		}
		return;
	}
	a->in++;
	for (int i = 0; i < 5; i++)
		if ((s[i] = arr_str(el, (size_t)i)) == NULL) {
			reject_json(a, out, path, ord, el, "element %d is not a string", i + 1);
			return;
		}
	if (epoch_ms(s[0], &ts, &w) < 0) {
		reject_json(a, out, path, ord, el, "invalid time '%.40s': %s "
			    "(epoch milliseconds)", s[0], w);
		return;
	}
	attrs = json_object_new_object();
	if (kind == G_METRIC) {
		if (strcmp(s[4], "up") && strcmp(s[4], "down")) {
			json_object_put(attrs);
			reject_json(a, out, path, ord, el, "direction is not up or down");
			return;
		}
		js_add_str(attrs, "host", s[2]);
		snprintf(tag, sizeof tag, "metric:%lu", ord);
		res = new_alert(tag);
		fill_alert(res, ts, s[1], "metric", s[3], s[4], "firing", TS_NONE, attrs);
	} else {
		/* [ts, caller, callee, operation, PD | HTTP status]: the callee
		 * served the slow or failing call. */
		js_add_str(attrs, "caller", s[1]);
		js_add_str(attrs, "type", strcmp(s[4], "PD") == 0 ? "latency" : "error");
		if (strcmp(s[4], "PD"))
			js_add_str(attrs, "code", s[4]);
		snprintf(tag, sizeof tag, "trace:%lu", ord);
		res = new_alert(tag);
		fill_alert(res, ts, s[2], "span", s[3], "up", "firing", TS_NONE, attrs);
	}
	deliver(a, out, ts, res);
}

/* One of metrics.json, traces.json, logs.json: {fault: [element, ...]}. */
static int
gaia_file(struct rda *a, const struct rda_out *out, const char *name, int kind, char *why, size_t wn)
{
	char *path = cfg_path_join(a->path, name);
	struct buf b = BUF_INIT(0);
	json_object *o;
	const char *w;
	unsigned long ord = 0;

	if (!is_file(a->path, name)) {
		free(path);
		return 0;      /* a modality may be absent */
	}
	if (slurp(a, path, &b, why, wn) < 0) {
		free(path);
		buf_free(&b);
		return -1;
	}
	a->files[a->nfiles - 1].format = "gaia";
	o = parse_doc(a, b.p, b.len, &w);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		a->in++;
		reject(a, out, path, 1, b.p, b.len < 4096 ? b.len : 4096, "%s%s",
		       o ? "not a JSON object of alert lists" : "invalid JSON: ",
		       o ? "" : w ? w : "null");
	} else {
		json_object_object_foreach(o, key, list) {
			(void)key;
			if (!json_object_is_type(list, json_type_array)) {
				a->in++;
				reject_json(a, out, path, ++ord, list, "not a list of alerts");
				continue;
			}
			for (size_t i = 0; i < json_object_array_length(list); i++)
				gaia_elem(a, out, path, kind, json_object_array_get_idx(list, i), ++ord);
		}
	}
	json_object_put(o);
	buf_free(&b);
	free(path);
	return 0;
}

/* log/drain-templates.csv: id,template,count -> {id: template}. */
static void
tpl_line(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
	 const char *p, size_t n, void *arg)
{
	struct csv_row *row = arg;
	const char *why;

	(void)out;
	(void)path;
	if (line == 1 || csv_split(row, p, n, ',', &why) < 0 || row->n < 2)
		return;
	char *id = estrndup(row->f[0].p, row->f[0].n);
	json_object_object_add(a->templates, id, json_object_new_string_len(row->f[1].p, (int)row->f[1].n));
	free(id);
}

/* label.csv columns. */
enum { L_ID, L_ENTITY, L_TYPE, L_START, L_END, L_LEVEL, L_AUG, L_ORIG, NLCOL };
static const char *const lcol_name[NLCOL] = {"fault_id", "fault_entity", "fault_type",
	"fault_st_time", "fault_ed_time", "fault_level", "augmented", "orig_fault_id"};

struct labels {
	struct csv_row row;
	int col[NLCOL];
	int ok;
};

static void
label_line(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
	   const char *p, size_t n, void *arg)
{
	struct labels *L = arg;
	const char *why;
	json_object *o, *rc;
	int64_t st, en;
	char f[NLCOL][128];

	if (!L->ok) {      /* the header */
		if (csv_split(&L->row, p, n, ',', &why) < 0)
			return;
		for (int c = 0; c < NLCOL; c++) {
			L->col[c] = -1;
			for (size_t i = 0; i < L->row.n; i++)
				if (L->row.f[i].n == strlen(lcol_name[c]) &&
				    memcmp(L->row.f[i].p, lcol_name[c], L->row.f[i].n) == 0)
					L->col[c] = (int)i;
		}
		L->ok = L->col[L_ID] >= 0 && L->col[L_ENTITY] >= 0 && L->col[L_TYPE] >= 0 &&
			L->col[L_START] >= 0 ? 1 : -1;
		if (L->ok < 0) {
			a->in++;
			reject(a, out, path, line, p, n, "label header lacks fault_id, fault_entity, "
			       "fault_type or fault_st_time");
		}
		return;
	}
	a->in++;
	if (L->ok < 0) {
		reject(a, out, path, line, p, n, "no usable label header");
		return;
	}
	if (csv_split(&L->row, p, n, ',', &why) < 0) {
		reject(a, out, path, line, p, n, "%s", why);
		return;
	}
	for (int c = 0; c < NLCOL; c++) {
		f[c][0] = '\0';
		if (L->col[c] >= 0 && (size_t)L->col[c] < L->row.n) {
			size_t k = L->row.f[L->col[c]].n;
			if (k >= sizeof f[c])
				k = sizeof f[c] - 1;
			memcpy(f[c], L->row.f[L->col[c]].p, k);
			f[c][k] = '\0';
		}
	}
	if (!f[L_ID][0] || !f[L_ENTITY][0] || !f[L_TYPE][0]) {
		reject(a, out, path, line, p, n, "label without fault_id, fault_entity or fault_type");
		return;
	}
	if (ts_parse(f[L_START], strlen(f[L_START]), &st, &why) < 0) {
		reject(a, out, path, line, p, n, "invalid fault_st_time '%s': %s", f[L_START], why);
		return;
	}
	en = TS_NONE;
	if (f[L_END][0] && ts_parse(f[L_END], strlen(f[L_END]), &en, &why) < 0) {
		reject(a, out, path, line, p, n, "invalid fault_ed_time '%s': %s", f[L_END], why);
		return;
	}
	/* "[memory_anomalies]" -> "memory_anomalies" */
	char *ft = f[L_TYPE];
	size_t fl = strlen(ft);
	if (fl >= 2 && ft[0] == '[' && ft[fl - 1] == ']') {
		ft[fl - 1] = '\0';
		ft++;
	}
	o = json_object_new_object();
	js_add_str(o, "kind", "incident");
	char id[160];
	snprintf(id, sizeof id, "gaia:%s", f[L_ID]);
	js_add_str(o, "id", id);
	js_add_ts(o, "start_ts", st);
	json_object_object_add(o, "detected_ts", NULL);
	if (en == TS_NONE)
		json_object_object_add(o, "resolved_ts", NULL);
	else
		js_add_ts(o, "resolved_ts", en);
	rc = json_object_new_object();
	js_add_str(rc, "service", f[L_ENTITY]);
	json_object_object_add(rc, "component", NULL);
	js_add_str(rc, "fault", ft);
	json_object_object_add(o, "root_cause", rc);
	json_object_object_add(o, "title", NULL);
	json_object_object_add(o, "expected_actions", json_object_new_array());
	if (f[L_LEVEL][0])
		js_add_str(o, "fault_level", f[L_LEVEL]);
	if (f[L_ORIG][0])
		js_add_str(o, "orig_fault_id", f[L_ORIG]);
	if (f[L_AUG][0])
		js_add_bool(o, "augmented", strcmp(f[L_AUG], "True") == 0 || strcmp(f[L_AUG], "true") == 0);
	size_t len;
	const char *s = js_dump(o, &len);
	out->incident(out->ctx, s, len);
	a->incidents++;
	json_object_put(o);
}

static int
read_gaia(struct rda *a, const struct rda_out *out, char *why, size_t wn)
{
	struct csv_row row = CSV_ROW_INIT;
	struct labels L;
	char *lab;
	int r = 0;

	if (!is_dir(a->path)) {
		snprintf(why, wn, "%s: not a directory (the GAIA layout)", a->path);
		return -1;
	}
	/* Template texts first, for the log alerts' attrs. */
	if (is_file(a->path, "log/drain-templates.csv")) {
		char *tp = cfg_path_join(a->path, "log/drain-templates.csv");
		a->templates = json_object_new_object();
		r = each_line(a, out, tp, "alerts", "gaia", tpl_line, &row, why, wn);
		free(tp);
		csv_row_free(&row);
		if (r < 0)
			return -1;
	}
	if (gaia_file(a, out, "metric/metrics.json", G_METRIC, why, wn) < 0 ||
	    gaia_file(a, out, "trace/traces.json", G_TRACE, why, wn) < 0 ||
	    gaia_file(a, out, "log/logs.json", G_LOG, why, wn) < 0)
		return -1;
	lab = a->labels ? estrdup(a->labels) : cfg_path_join(a->path, "label.csv");
	memset(&L, 0, sizeof L);
	if (access(lab, F_OK) == 0)
		r = each_line(a, out, lab, "incidents", "gaia", label_line, &L, why, wn);
	else if (a->labels) {
		snprintf(why, wn, "%s: %s", lab, strerror(errno));
		r = -1;
	}
	csv_row_free(&L.row);
	free(lab);
	return r;
}

/* ---- entry ---- */

static void
jsonl_line(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
	   const char *p, size_t n, void *arg)
{
	(void)arg;
	rda_line(a, out, path, line, p, n);
}

int
rda_read(struct rda *a, const struct rda_out *out, char *why, size_t wn)
{
	if (a->fmt == RDA_AUTO) {
		char head[65536];
		size_t got = 0;
		int score;
		if (!is_dir(a->path)) {
			struct rec_reader rd;
			const char *p;
			size_t n;
			if (rec_open(&rd, a->path, a->max_line) < 0) {
				snprintf(why, wn, "%s: %s", a->path, strerror(errno));
				return -1;
			}
			while (got < sizeof head - 1 && rec_getline(&rd, &p, &n) > 0) {
				size_t k = n < sizeof head - 1 - got ? n : sizeof head - 1 - got;
				memcpy(head + got, p, k);
				got += k;
				if (got < sizeof head - 1)
					head[got++] = '\n';
			}
			rec_close(&rd);
		}
		a->fmt = rda_probe(a->path, head, got, &score);
		if (a->fmt == RDA_AUTO) {
			snprintf(why, wn, "%s: %s", a->path, is_dir(a->path) ?
				 "a directory without the GAIA layout (label.csv, metric/metrics.json, ...)" :
				 "not alerts (no JSON object on its first line): set dataset.alerts.format");
			return -1;
		}
	}
	switch (a->fmt) {
	case RDA_GAIA:
		return read_gaia(a, out, why, wn);
	case RDA_ALERTMANAGER:
		return read_alertmanager(a, out, why, wn);
	default:
		return each_line(a, out, a->path, "alerts", "jsonl", jsonl_line, NULL, why, wn);
	}
}
