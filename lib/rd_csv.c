/*
 * rd_csv: delimited text with a header line (RFC 4180 quoting; the
 * delimiter is ',' unless the header has none and has tabs or ';').  Header
 * names are matched by the alias map; metrics come in the long form (a name
 * and a value column) or the wide form (one metric per remaining column).
 * Options (dataset.<role>): delimiter, wide, labels (wide-form columns that
 * are labels), columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "err.h"
#include "js.h"
#include "rd.h"

struct csv {
	char delim;
	int wide;               /* metrics: -1 decide from the header, 0 long, 1 wide */
	json_object *label_cols; /* wide form: columns that are labels */
	int have_header;
	size_t ncols;
	short *colfld;
	int64_t *colmult;
	char **colname;
	int colsel[NFLD];       /* the column chosen for each field, or -1 */
	int is_label[512];
	struct csv_row row;
	/* Per-file constants (dataset.<role>.service / .name): the value of a
	 * row without that column, or with it empty (single-series files). */
	const char *const_service, *const_name;
};

static int
csv_header(struct rd_src *f, const char *p, size_t n)
{
	struct csv *c_ = f->priv;
	const char *why;
	size_t i;
	int prio[NFLD];

	if (c_->delim == 0)
		c_->delim = memchr(p, ',', n) == NULL && memchr(p, '\t', n) != NULL ? '\t' :
			   memchr(p, ',', n) == NULL && memchr(p, ';', n) != NULL ? ';' : ',';
	/* Column names reach records (attrs keys, reject reasons), so a
	 * header that is not UTF-8 is refused like any bad header. */
	if (!js_utf8_valid(p, n)) {
		snprintf(f->why, sizeof f->why, "%s:%lu: csv header: invalid UTF-8", f->path, f->rd.line);
		return -1;
	}
	if (csv_split(&c_->row, p, n, c_->delim, &why) < 0) {
		snprintf(f->why, sizeof f->why, "%s:%lu: csv header: %s", f->path, f->rd.line, why);
		return -1;
	}
	for (i = 0; i < c_->ncols; i++)
		free(c_->colname[i]);
	c_->ncols = c_->row.n;
	c_->colfld = erealloc(c_->colfld, c_->row.n * sizeof *c_->colfld);
	c_->colmult = erealloc(c_->colmult, c_->row.n * sizeof *c_->colmult);
	c_->colname = erealloc(c_->colname, c_->row.n * sizeof *c_->colname);
	for (i = 0; i < NFLD; i++) {
		c_->colsel[i] = -1;
		prio[i] = 1 << 30;
	}
	for (i = 0; i < c_->row.n; i++) {
		const struct amap_ent *e;
		char *name = estrndup(c_->row.f[i].p, c_->row.f[i].n);
		size_t len = c_->row.f[i].n;
		/* A byte-order mark on the first column. */
		if (i == 0 && len >= 3 && memcmp(name, "\xef\xbb\xbf", 3) == 0) {
			memmove(name, name + 3, len - 2);
			len -= 3;
		}
		c_->colname[i] = name;
		c_->colfld[i] = -1;
		e = amap_get_icase(&f->amap, name, len);
		if (e && (rd_role_flds[f->role] >> e->fld & 1) && e->fld != F_ATTRS) {
			c_->colfld[i] = e->fld;
			c_->colmult[i] = e->mult;
			if (e->prio < prio[e->fld]) {
				prio[e->fld] = e->prio;
				c_->colsel[e->fld] = (int)i;
			}
		}
		c_->is_label[i < 512 ? i : 511] = 0;
		if (c_->label_cols) {
			for (size_t j = 0; j < rd_alen(c_->label_cols); j++) {
				const char *l = json_object_get_string(json_object_array_get_idx(c_->label_cols, j));
				if (l && strcasecmp(l, name) == 0 && i < 512)
					c_->is_label[i] = 1;
			}
		}
	}
	if (c_->colsel[F_TS] < 0) {
		snprintf(f->why, sizeof f->why,
			 "%s:%lu: csv header has no timestamp column (ts, timestamp, time, ...)",
			 f->path, f->rd.line);
		return -1;
	}
	if (f->role == RD_METRICS && c_->wide < 0)
		c_->wide = c_->colsel[F_NAME] < 0 && c_->colsel[F_VALUE] < 0;
	if (f->role == RD_METRICS && !c_->wide &&
	    ((c_->colsel[F_NAME] < 0 && c_->const_name == NULL) || c_->colsel[F_VALUE] < 0)) {
		snprintf(f->why, sizeof f->why, "%s:%lu: csv header has no %s column%s", f->path,
			 f->rd.line, c_->colsel[F_NAME] < 0 ? "metric name" : "value",
			 c_->colsel[F_NAME] < 0 ? " (a single-series file: set dataset.metrics.name)" : "");
		return -1;
	}
	c_->have_header = 1;
	return 0;
}

/* The chosen column's cell of the current c_->row, or NULL when absent/empty. */
static const struct csv_field *
col(const struct rd_src *f, int fld)
{
	const struct csv *c_ = f->priv;
	int c = c_->colsel[fld];

	if (c < 0 || (size_t)c >= c_->row.n || c_->row.f[c].n == 0)
		return NULL;
	return &c_->row.f[c];
}

/* Extra columns as an object of strings (empty cells left out). */
static void
csv_extras(struct rd_src *f, struct buf *b, int labels_only)
{
	struct csv *c_ = f->priv;
	int first = 1;

	buf_addc(b, '{');
	for (size_t i = 0; i < c_->ncols; i++) {
		int fl = c_->colfld[i];
		if (fl >= 0 && c_->colsel[fl] == (int)i)
			continue;
		if (labels_only && !(i < 512 && c_->is_label[i]))
			continue;
		if (c_->row.f[i].n == 0)
			continue;
		if (!first)
			buf_addc(b, ',');
		first = 0;
		wstrz(b, c_->colname[i]);
		buf_addc(b, ':');
		wstr(b, c_->row.f[i].p, c_->row.f[i].n);
	}
	buf_addc(b, '}');
}

static void
parse_csv(struct rd_src *f, const char *p, size_t n, unsigned long line)
{
	struct csv *c_ = f->priv;
	struct buf *b = &f->body;
	size_t off = b->len;
	const struct csv_field *c;
	const char *why;
	int64_t ts;

	f->nelem = 1;
	if (csv_split(&c_->row, p, n, c_->delim, &why) < 0) {
		rd_reject(f, line, p, n, "%s", why);
		return;
	}
	if (c_->row.n != c_->ncols) {
		rd_reject(f, line, p, n, "expected %zu fields, got %zu", c_->ncols, c_->row.n);
		return;
	}
	if ((c = col(f, F_TS)) == NULL) {
		rd_reject(f, line, p, n, "missing timestamp");
		return;
	}
	if (rd_ts_text(c->p, c->n, f->unit, &ts, &why) < 0) {
		char r[300];
		rd_reject(f, line, p, n, "%s", rd_ts_reason(r, sizeof r, why, c->p, c->n));
		return;
	}
	if (f->quiet) {
		rd_pend(f, ts, 1, 0, off);
		return;
	}
	if ((c = col(f, F_SERVICE)) == NULL && c_->const_service == NULL) {
		rd_reject(f, line, p, n, "missing service");
		return;
	}
	WS(b, "\"ts\":");
	wts(b, ts);
	WS(b, ",\"service\":");
	if (c)
		wstr(b, c->p, c->n);
	else
		wstrz(b, c_->const_service);
	if (f->role == RD_LOGS) {
		const char *lv = "INFO";
		if ((c = col(f, F_LEVEL)) != NULL) {
			char *end, t[24];
			long x;
			lv = rd_level_text(c->p, c->n);
			if (lv == NULL && c->n < sizeof t) {
				memcpy(t, c->p, c->n);
				t[c->n] = '\0';
				x = strtol(t, &end, 10);
				if (*end == '\0')
					lv = rd_level_number(x);
			}
			if (lv == NULL) {
				b->len = off;
				rd_reject(f, line, p, n, "unknown log level '%.*s'", (int)c->n, c->p);
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
		rd_pend(f, ts, 1, 0, off);
		return;
	}
	if (f->role == RD_METRICS && !c_->wide) {
		if ((c = col(f, F_NAME)) == NULL && c_->const_name == NULL) {
			b->len = off;
			rd_reject(f, line, p, n, "missing metric name");
			return;
		}
		WS(b, ",\"name\":");
		if (c)
			wstr(b, c->p, c->n);
		else
			wstrz(b, c_->const_name);
		WS(b, ",\"value\":");
		c = &c_->row.f[c_->colsel[F_VALUE]];
		if (wvalue_text(b, c->p, c->n) < 0) {
			b->len = off;
			rd_reject(f, line, p, n, "metric value is not a number: '%.*s'", (int)c->n, c->p);
			return;
		}
		if ((c = col(f, F_UNIT)) != NULL) {
			WS(b, ",\"unit\":");
			wstr(b, c->p, c->n);
		}
		WS(b, ",\"labels\":");
		csv_extras(f, b, 0);
		buf_addc(b, '}');
		rd_pend(f, ts, 1, 1, off);
		return;
	}
	if (f->role == RD_METRICS) {
		/* Wide form: one metric per remaining column. */
		size_t head = b->len, hl = head - off;
		char *prefix = estrndup(b->p + off, hl);
		unsigned k = 0;
		struct buf lab = BUF_INIT(0);
		csv_extras(f, &lab, 1);
		b->len = off;
		for (size_t i = 0; i < c_->ncols; i++) {
			int fl = c_->colfld[i];
			size_t o2 = b->len;
			if ((fl >= 0 && c_->colsel[fl] == (int)i) || (i < 512 && c_->is_label[i]))
				continue;
			f->nelem = ++k;
			w(b, prefix, hl);
			WS(b, ",\"name\":");
			wstrz(b, c_->colname[i]);
			WS(b, ",\"value\":");
			if (wvalue_text(b, c_->row.f[i].p, c_->row.f[i].n) < 0) {
				b->len = o2;
				rd_reject(f, line, p, n, "column '%s': metric value is not a number: '%.*s'",
				       c_->colname[i], (int)c_->row.f[i].n, c_->row.f[i].p);
				continue;
			}
			WS(b, ",\"labels\":");
			w(b, lab.p, lab.len);
			buf_addc(b, '}');
			rd_pend(f, ts, k, 1, o2);
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
				rd_reject(f, line, p, n, "missing %s", need[i]);
				return;
			}
		if ((c = col(f, F_DUR)) != NULL) {
			if (rd_dur_text(c->p, c->n, c_->colmult[c_->colsel[F_DUR]], &dur) < 0) {
				b->len = off;
				rd_reject(f, line, p, n, "bad duration '%.*s'", (int)c->n, c->p);
				return;
			}
		} else if ((c = col(f, F_END)) != NULL) {
			if (rd_ts_text(c->p, c->n, f->unit, &end, &why) < 0) {
				b->len = off;
				rd_reject(f, line, p, n, "end time: %s", why);
				return;
			}
			dur = end - ts;
		} else {
			b->len = off;
			rd_reject(f, line, p, n, "missing duration");
			return;
		}
		if (dur < 0) {
			b->len = off;
			rd_reject(f, line, p, n, "negative duration");
			return;
		}
		if ((c = col(f, F_STATUS)) != NULL) {
			char t[24], *end2;
			stat = rd_status_text(c->p, c->n);
			if (stat == NULL && c->n < sizeof t) {
				memcpy(t, c->p, c->n);
				t[c->n] = '\0';
				long x = strtol(t, &end2, 10);
				if (*end2 == '\0')
					stat = rd_status_number(x);
			}
			if (stat == NULL) {
				b->len = off;
				rd_reject(f, line, p, n, "unknown span status '%.*s'", (int)c->n, c->p);
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
		rd_pend(f, ts, 1, 2, off);
	}
}

static int
csv_open(struct rd_src *s)
{
	struct csv *c = ecalloc(1, sizeof *c);
	const char *d = js_str(s->cfg, "delimiter"), *rn = rd_role_name[s->role];
	json_object *v;

	s->priv = c;
	c->wide = -1;
	if (d) {
		if (strcmp(d, "\\t") == 0 || strcmp(d, "tab") == 0)
			c->delim = '\t';
		else if (strlen(d) == 1)
			c->delim = d[0];
		else {
			snprintf(s->why, sizeof s->why, "dataset.%s.delimiter: expected one character", rn);
			return -1;
		}
	}
	if ((v = rd_get(s->cfg, "wide")) != NULL && json_object_is_type(v, json_type_boolean))
		c->wide = json_object_get_boolean(v);
	if ((v = rd_get(s->cfg, "labels")) != NULL && json_object_is_type(v, json_type_array))
		c->label_cols = v;
	c->const_service = js_str(s->cfg, "service");
	c->const_name = s->role == RD_METRICS ? js_str(s->cfg, "name") : NULL;
	if ((c->const_service && !js_utf8_valid(c->const_service, strlen(c->const_service))) ||
	    (c->const_name && !js_utf8_valid(c->const_name, strlen(c->const_name)))) {
		snprintf(s->why, sizeof s->why, "dataset.%s.service/name: invalid UTF-8", rn);
		return -1;
	}
	return 0;
}

static int
csv_next(struct rd_src *s)
{
	struct csv *c = s->priv;
	const char *p;
	size_t n;
	int k;

	if (!c->have_header) {
		/* The header is not a record: not counted; csv_header refuses
		 * one that is not UTF-8. */
		if ((k = rd_line_raw(s, &p, &n)) <= 0)
			return k;
		return csv_header(s, p, n) < 0 ? -1 : 1;
	}
	if ((k = rd_line(s, &p, &n)) <= 0)
		return k;
	parse_csv(s, p, n, s->line);
	return 1;
}

static void
csv_close(struct rd_src *s)
{
	struct csv *c = s->priv;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ncols; i++)
		free(c->colname[i]);
	free(c->colname);
	free(c->colfld);
	free(c->colmult);
	csv_row_free(&c->row);
	free(c);
	s->priv = NULL;
}

/* Fields of a line split at d (quotes respected). */
static size_t
nfields(const char *s, size_t n, char d)
{
	size_t k = 1;
	int q = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			q = !q;
		else if (s[i] == d && !q)
			k++;
	}
	return k;
}

/* A header of at least two fields, then lines with as many: at most 50
 * (generic; a reader that knows the exact header outbids it).  Files whose
 * lines are mostly JSON objects score 0. */
static int
csv_probe(const struct rd_probe *p)
{
	const char *cur = NULL, *l;
	size_t n, hf;
	int lines = 0, good = 0, json = 0;
	char d = ',';

	if ((l = rd_probe_next(p, &cur, &n)) == NULL)
		return 0;
	if (memchr(l, ',', n) == NULL)
		d = memchr(l, '\t', n) ? '\t' : memchr(l, ';', n) ? ';' : ',';
	if ((hf = nfields(l, n, d)) < 2 || l[0] == '{' || l[0] == '[' || rd_timeish(l, n))
		return 0;     /* a header never starts with a time: a text log does */
	while (lines < RD_PROBE_LINES && (l = rd_probe_next(p, &cur, &n)) != NULL) {
		lines++;
		good += nfields(l, n, d) == hf;
		json += l[0] == '{';
	}
	if (lines == 0)
		return 50;
	if (2 * json > lines)
		return 0;
	return 50 * good / lines;
}

const struct rd_format rd_csv = {
	.name = "csv",
	.exts = ".csv .tsv",
	.roles = 1u << RD_LOGS | 1u << RD_METRICS | 1u << RD_TRACES,
	.probe = csv_probe,
	.open = csv_open,
	.next = csv_next,
	.close = csv_close,
};
