/*
 * rd_rcaeval: the case layout of the RCAEval benchmark
 * (phamquiluan/RCAEval, its README "Data format"):
 *   <service>_<fault>/<n>/data.csv        rcaeval: a `time` column (unix
 *                                         seconds) and one column per
 *                                         metric named <service>_<metric>;
 *   <service>_<fault>/<n>/inject_time.txt rcaeval_inject: one unix time in
 *                                         seconds, the fault's start.
 * Each cell of data.csv is one metric record; the incident's root cause is
 * the case folder's name (the folder holding the file, or its parent when
 * that folder is a run number).
 *
 * The service of a name (a column or a folder): the longest service of the
 * option `services` (a list) that the name starts with, followed by '_';
 * else the name up to its first '_', as RCAEval's own code splits them
 * (utility.to_service_ranks, rq2.py); the rest is the metric or the fault.
 * A name with no '_' is a reject.  Columns named time.N (pandas' copies of
 * a duplicated `time` column) are not read, as RCAEval drops them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "err.h"
#include "js.h"
#include "rd.h"

struct rc {
	json_object *services;  /* the option, or NULL */
	struct csv_row row;
	int have_header;
	size_t ncols, tcol;
	char **colname;
	size_t *split;          /* where the service ends in colname[i]; 0: none */
	int *skip;              /* time.N copies */
	int done;               /* inject_time.txt: read */
};

/* The length of the service in name[0..n) (the '_' at that offset), or 0. */
static size_t
rc_split(const struct rc *r, const char *name, size_t n)
{
	size_t best = 0;
	const char *u;

	for (size_t i = 0; i < rd_alen(r->services); i++) {
		const char *sv = json_object_get_string(json_object_array_get_idx(r->services, i));
		size_t sl = sv ? strlen(sv) : 0;
		if (sl && sl + 1 < n && sl > best && memcmp(name, sv, sl) == 0 && name[sl] == '_')
			best = sl;
	}
	if (best)
		return best;
	u = memchr(name, '_', n);
	return u && u > name && (size_t)(u - name) + 1 < n ? (size_t)(u - name) : 0;
}

static int
rc_open(struct rd_src *s)
{
	struct rc *r = ecalloc(1, sizeof *r);
	json_object *v = rd_get(s->cfg, "services");

	s->priv = r;
	if (v) {
		for (size_t i = 0; i < rd_alen(v); i++)
			if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
				v = NULL;
		if (v == NULL || !json_object_is_type(v, json_type_array)) {
			snprintf(s->why, sizeof s->why, "dataset.%s.services: expected a list of service names",
				 rd_role_name[s->role]);
			return -1;
		}
		r->services = v;
	}
	return 0;
}

static void
rc_close(struct rd_src *s)
{
	struct rc *r = s->priv;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ncols; i++)
		free(r->colname[i]);
	free(r->colname);
	free(r->split);
	free(r->skip);
	csv_row_free(&r->row);
	free(r);
	s->priv = NULL;
}

static int
rc_header(struct rd_src *s, const char *p, size_t n)
{
	struct rc *r = s->priv;
	const char *why;
	int have_time = 0;

	if (!js_utf8_valid(p, n) || csv_split(&r->row, p, n, ',', &why) < 0) {
		snprintf(s->why, sizeof s->why, "%s:%lu: not an RCAEval data.csv header", s->path, s->line);
		return -1;
	}
	r->ncols = r->row.n;
	r->colname = ecalloc(r->ncols, sizeof *r->colname);
	r->split = ecalloc(r->ncols, sizeof *r->split);
	r->skip = ecalloc(r->ncols, sizeof *r->skip);
	for (size_t i = 0; i < r->ncols; i++) {
		const struct csv_field *f = &r->row.f[i];
		r->colname[i] = estrndup(f->p, f->n);
		if (f->n == 4 && memcmp(f->p, "time", 4) == 0 && !have_time) {
			r->tcol = i, have_time = 1;
			r->skip[i] = 1;
		} else if (f->n > 5 && memcmp(f->p, "time.", 5) == 0 &&
			   strspn(f->p + 5, "0123456789") == f->n - 5) {
			r->skip[i] = 1;
		} else {
			r->split[i] = rc_split(r, f->p, f->n);
		}
	}
	if (!have_time) {
		snprintf(s->why, sizeof s->why, "%s:%lu: RCAEval data.csv header has no time column",
			 s->path, s->line);
		return -1;
	}
	r->have_header = 1;
	return 0;
}

static int
rc_next(struct rd_src *s)
{
	struct rc *r = s->priv;
	struct buf *b = &s->body;
	const struct csv_field *tf;
	const char *p, *why;
	size_t n;
	int64_t ts;
	int k;
	unsigned e = 0;

	if (!r->have_header) {
		if ((k = rd_line_raw(s, &p, &n)) <= 0)
			return k;
		return rc_header(s, p, n) < 0 ? -1 : 1;
	}
	if ((k = rd_line(s, &p, &n)) <= 0)
		return k;
	s->nelem = 0;
	for (size_t i = 0; i < r->ncols; i++)
		s->nelem += !r->skip[i];
	if (csv_split(&r->row, p, n, ',', &why) < 0) {
		rd_reject(s, s->line, p, n, "%s", why);
		return 1;
	}
	if (r->row.n != r->ncols) {
		rd_reject(s, s->line, p, n, "expected %zu fields, got %zu", r->ncols, r->row.n);
		return 1;
	}
	tf = &r->row.f[r->tcol];
	if (rd_ts_text(tf->p, tf->n, s->unit == TS_AUTO ? TS_S : s->unit, &ts, &why) < 0) {
		char t[300];
		rd_reject(s, s->line, p, n, "time: %s", rd_ts_reason(t, sizeof t, why, tf->p, tf->n));
		return 1;
	}
	if (s->quiet) {
		rd_pend(s, ts, 1, RD_METRIC, 0);
		return 1;
	}
	for (size_t i = 0; i < r->ncols; i++) {
		const struct csv_field *c = &r->row.f[i];
		const char *name = r->colname[i];
		size_t off = b->len, sl = r->split[i];
		if (r->skip[i])
			continue;
		e++;
		if (sl == 0) {
			rd_reject(s, s->line, p, n, "column '%s': not <service>_<metric> (no '_'; "
				  "dataset.metrics.services names the services)", name);
			continue;
		}
		WS(b, "\"ts\":");
		wts(b, ts);
		WS(b, ",\"service\":");
		wstr(b, name, sl);
		WS(b, ",\"name\":");
		wstrz(b, name + sl + 1);
		WS(b, ",\"value\":");
		if (wvalue_text(b, c->p, c->n) < 0) {
			b->len = off;
			rd_reject(s, s->line, p, n, "column '%s': metric value is not a number: '%.*s'",
				  name, (int)c->n, c->p);
			continue;
		}
		WS(b, ",\"labels\":{}}");
		rd_pend(s, ts, e, RD_METRIC, off);
	}
	return 1;
}

/* A header "time,<a>_<b>,..." (time first, as RCAEval writes it) with at
 * least one other column, every one with a '_'. */
static int
rc_probe(const struct rd_probe *p)
{
	const char *cur = NULL, *l;
	size_t n, i, cols = 0;

	if ((l = rd_probe_next(p, &cur, &n)) == NULL || n < 6 || memcmp(l, "time,", 5) != 0)
		return 0;
	for (i = 5; i < n; i++) {
		size_t e = i;
		while (e < n && l[e] != ',')
			e++;
		if (memchr(l + i, '_', e - i) == NULL &&
		    !(e - i > 5 && memcmp(l + i, "time.", 5) == 0))
			return 0;
		cols++;
		i = e;
	}
	return cols ? RD_SCORE_MAX : 0;
}

const struct rd_format rd_rcaeval = {
	.name = "rcaeval",
	.exts = ".csv",
	.roles = 1u << RD_METRICS,
	.probe = rc_probe,
	.open = rc_open,
	.next = rc_next,
	.close = rc_close,
};

/* ---- inject_time.txt ---- */

/* The case of the file at path (resolved): its folder, or the folder's
 * parent when the folder is a run number (*run, *rn then the run). */
static int
case_folder(const char *path, char **folder, const char **run, size_t *rn)
{
	char *full = realpath(path, NULL), *slash, *st;

	*folder = NULL, *run = NULL, *rn = 0;
	if (full == NULL)
		return -1;
	if ((slash = strrchr(full, '/')) == NULL || slash == full) {
		free(full);
		return -1;
	}
	*slash = '\0';
	st = strrchr(full, '/') + 1;
	if (*st && strspn(st, "0123456789") == strlen(st) && st - 1 > full) {
		static char rb[32];
		snprintf(rb, sizeof rb, "%s", st);
		*run = rb, *rn = strlen(rb);
		st[-1] = '\0';
		st = strrchr(full, '/') + 1;
	}
	*folder = estrdup(st);
	free(full);
	return 0;
}

static int
inj_next(struct rd_src *s)
{
	struct rc *r = s->priv;
	struct buf *b = &s->body;
	const char *p, *why, *run;
	size_t n, rn, sl;
	int64_t ts;
	int k;
	char *folder;

	if ((k = rd_line(s, &p, &n)) <= 0)
		return k;
	s->nelem = 1;
	if (n && p[n - 1] == '\r')
		n--;
	if (r->done) {
		rd_reject(s, s->line, p, n, "inject_time.txt holds one time; this is one more line");
		return 1;
	}
	r->done = 1;
	if (rd_ts_text(p, n, s->unit == TS_AUTO ? TS_S : s->unit, &ts, &why) < 0) {
		char t[300];
		rd_reject(s, s->line, p, n, "inject time: %s", rd_ts_reason(t, sizeof t, why, p, n));
		return 1;
	}
	if (case_folder(s->path, &folder, &run, &rn) < 0)
		folder = estrdup("");
	sl = rc_split(r, folder, strlen(folder));
	if (sl == 0) {
		rd_reject(s, s->line, p, n, "the case folder '%s' is not <service>_<fault>", folder);
		free(folder);
		return 1;
	}
	/* the id: the case and its run, "<service>_<fault>/<n>" */
	WS(b, "{\"id\":");
	{
		struct buf id = BUF_INIT(0);
		buf_printf(&id, "%s%s%.*s", folder, run ? "/" : "", (int)rn, run ? run : "");
		wstr(b, id.p, id.len);
		buf_free(&id);
	}
	WS(b, ",\"start_ts\":");
	wts(b, ts);
	WS(b, ",\"root_cause\":{\"service\":");
	wstr(b, folder, sl);
	WS(b, ",\"fault\":");
	wstrz(b, folder + sl + 1);
	WS(b, "}}");
	free(folder);
	rd_pend(s, ts, 1, RD_LOG, 0);
	return 1;
}

/* The name inject_time.txt and one integer line. */
static int
inj_probe(const struct rd_probe *p)
{
	size_t nl = strlen(p->name), d;
	const char *l = p->buf + strspn(p->buf, " \t\r\n");

	if (nl < 15 || strcmp(p->name + nl - 15, "inject_time.txt") != 0)
		return 0;
	d = strspn(l, "0123456789");
	return d > 0 && (l[d] == '\0' || l[d] == '\n' || l[d] == '\r') ? RD_SCORE_MAX : 0;
}

const struct rd_format rd_rcaeval_inject = {
	.name = "rcaeval_inject",
	.exts = ".txt",
	.roles = 1u << RD_INCIDENTS,
	.probe = inj_probe,
	.open = rc_open,
	.next = inj_next,
	.close = rc_close,
};
