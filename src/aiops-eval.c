/*
 * aiops-eval: the number crunching behind `aiops-harness eval`.  Two
 * commands, neither a filter:
 *
 *   slice  reads one loaded stream (aiops-load's output) and cuts a window
 *          around every labelled incident (pre/post the start) and a
 *          fault-free control window of the same length ending before it;
 *          writes DIR/cases.tsv and DIR/CASE/{case,control}.jsonl,
 *          DIR/CASE/services.txt.
 *   score  reads a manifest of finished runs (one final stream per arm,
 *          case and role) and prints the evaluation: per arm and per slice
 *          (overall, system, fault type) detection recall, false alarms in
 *          the controls, MTTD and model TTD, AC@1/3/5, Avg@5, LLM calls and
 *          failures, seconds per case, with percentile bootstrap intervals;
 *          the reference rows (leave-one-out constant ranking, random
 *          ranking's expected value); lift and McNemar's exact test against
 *          the first arm; and the per-case table.
 *
 * The controls are lib/ctlwin's; score reads each run with lib/outcome,
 * matches groups to incidents with lib/match (the same as aiops-metrics),
 * keeps the cases in lib/evcase, aggregates them in lib/evagg and prints
 * with lib/evfmt.  Memory: slice holds the incidents and one small record
 * at a time; score holds a few numbers per case and the records of one
 * final stream at a time.  See aiops-harness(1), EVALUATION.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "ctlwin.h"
#include "err.h"
#include "evagg.h"
#include "evcase.h"
#include "evfmt.h"
#include "js.h"
#include "rec.h"
#include "scan.h"
#include "sigrec.h"
#include "smap.h"
#include "tab.h"
#include "ts.h"

#define BATCH 200               /* cases written per pass over the input */

static const char *usage_text =
	"usage: aiops-eval slice --out DIR [--pre SECONDS] [--post SECONDS] [--no-control]\n"
	"                        [--reference SECONDS] FILE\n"
	"       aiops-eval cut [--until TIME] [--drop KIND[,KIND]...] [--merge FILE] FILE\n"
	"       aiops-eval score [--format text|md|tsv|json] [--table summary|cases|both]\n"
	"                        [--boot N] [--seed N] [--tolerance SECONDS] [--prices JSON] MANIFEST\n";

static void
usage(int code)
{
	fputs(usage_text, code ? stderr : stdout);
	exit(code);
}

/* The one file operand: arg, unless it is an option or one came before. */
static const char *
operand(const char *arg, const char *have)
{
	if ((arg[0] == '-' && arg[1]) || have)
		usage(2);
	return arg;
}

static double
num_arg(const char *opt, const char *v, double min)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d) || d < min)
		efatal(2, "%s: '%s' is not a number >= %g", opt, v, min);
	return d;
}

/* ---------------------------------------------------------------- slice */

struct sinc {
	char *id, *raw, *fault, *service, *file;
	struct ctlwin w;                /* end resolved, or start; from "-": no control */
	int64_t ws, we;                 /* the case window [ws, we) */
	FILE *fcase, *fctl;
	struct smap svcs;
	unsigned long nsig;            /* signals in the case window */
	unsigned long nctl;            /* signals in the control window */
	unsigned long nspan_after;     /* spans in the case window from the incident's start */
};

static int
sinc_by_start(const void *a, const void *b)
{
	const struct sinc *x = a, *y = b;

	if (x->w.start != y->w.start)
		return x->w.start < y->w.start ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* A file-name-safe copy of id: [A-Za-z0-9._-] kept, the rest '_'. */
static char *
safe_name(const char *id, size_t i)
{
	struct buf b = BUF_INIT(0);
	const char *p;

	buf_printf(&b, "%03zu-", i + 1);
	for (p = id; *p && p - id < 64; p++)
		buf_addc(&b, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ? *p : '_');
	return buf_detach(&b);
}

static void
tsv_field(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static int
is_signal(const char *k, size_t n)
{
	for (int i = 0; i < SIG_NKINDS; i++)
		if (n == strlen(sig_kind_name[i]) && memcmp(k, sig_kind_name[i], n) == 0)
			return 1;
	return n == 5 && memcmp(k, "alert", 5) == 0;
}

static FILE *
xopen(const char *dir, const char *name, const char *file, const char *mode)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s/%s", dir, name, file);
	if ((f = fopen(path, mode)) == NULL)
		efatal(1, "%s: %s", path, strerror(errno));
	return f;
}

static void
xclose(FILE *f, const char *what)
{
	if (f && (ferror(f) | fclose(f)))
		efatal(1, "%s: write error", what);
}

static int
cmd_slice(int argc, char **argv)
{
	double pre = 600, post = 600, refs = 0;
	int control = 1;
	int64_t rs = TS_NONE, re = TS_NONE;
	FILE *fref = NULL;
	unsigned long nref = 0;
	const char *out = NULL, *in = NULL, *p, *why;
	struct rec_reader r;
	struct sinc *incs = NULL;
	size_t ninc = 0, cap = 0, n, i, j, b0;
	char *runline = NULL;
	int64_t dmin = TS_NONE, dmax = TS_NONE, len, pre_ns, post_ns;
	json_tokener *tok = json_tokener_new();
	struct scan_result sr;
	FILE *tsv;
	char path[4096];
	int rc;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--pre") == 0 && i + 1 < (size_t)argc)
			pre = num_arg("--pre", argv[++i], 0);
		else if (strcmp(argv[i], "--post") == 0 && i + 1 < (size_t)argc)
			post = num_arg("--post", argv[++i], 1);
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < (size_t)argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--reference") == 0 && i + 1 < (size_t)argc)
			refs = num_arg("--reference", argv[++i], 0);
		else if (strcmp(argv[i], "--no-control") == 0)
			control = 0;
		else
			in = operand(argv[i], in);
	}
	if (out == NULL || in == NULL)
		usage(2);
	pre_ns = (int64_t)llround(pre * 1e9);
	post_ns = (int64_t)llround(post * 1e9);
	len = pre_ns + post_ns;

	/* Pass 1: the incidents, the run record and the time span. */
	if (rec_open(&r, in, 0) < 0)
		efatal(1, "%s: %s", in, strerror(errno));
	while ((rc = rec_getline(&r, &p, &n)) != REC_EOF) {
		json_object *o;
		if (rc == REC_ERROR)
			efatal(1, "%s: %s", in, strerror(errno));
		if (rc == REC_LONG || scan_json(p, n, &sr, &why) < 0 || sr.kind == NULL)
			continue;
		if (is_signal(sr.kind, sr.kind_len)) {
			const char *t = strstr(p, "\"ts\":\"");
			int64_t ns;
			if (t && ts_parse(t + 6, TS_LEN, &ns, &why) == 0) {
				if (dmin == TS_NONE || ns < dmin)
					dmin = ns;
				if (dmax == TS_NONE || ns > dmax)
					dmax = ns;
			}
			continue;
		}
		if (sr.kind_len == 3 && memcmp(sr.kind, "run", 3) == 0 && runline == NULL) {
			runline = estrndup(p, n);
			continue;
		}
		if (!(sr.kind_len == 8 && memcmp(sr.kind, "incident", 8) == 0))
			continue;
		o = js_parse(tok, p, n, NULL);
		if (o == NULL)
			continue;
		if (ninc == cap) {
			cap = cap ? cap * 2 : 64;
			incs = erealloc(incs, cap * sizeof *incs);
		}
		memset(&incs[ninc], 0, sizeof *incs);
		incs[ninc].w.start = js_ts(o, "start_ts");
		if (js_str(o, "id") == NULL || incs[ninc].w.start == TS_NONE) {
			warn_at(in, r.line, "incident without id or start_ts left out");
			json_object_put(o);
			continue;
		}
		incs[ninc].id = estrdup(js_str(o, "id"));
		incs[ninc].raw = estrndup(p, n);
		incs[ninc].w.end = js_ts(o, "resolved_ts");
		if (incs[ninc].w.end == TS_NONE || incs[ninc].w.end < incs[ninc].w.start)
			incs[ninc].w.end = incs[ninc].w.start;
		if (js_path(o, "root_cause.fault") && js_str(js_path(o, "root_cause"), "fault"))
			incs[ninc].fault = estrdup(js_str(js_path(o, "root_cause"), "fault"));
		if (js_path(o, "root_cause") && js_str(js_path(o, "root_cause"), "service"))
			incs[ninc].service = estrdup(js_str(js_path(o, "root_cause"), "service"));
		ninc++;
		json_object_put(o);
	}
	rec_close(&r);
	if (ninc > 1)
		qsort(incs, ninc, sizeof *incs, sinc_by_start);

	/* Windows and controls (see lib/ctlwin.h). */
	for (i = 0; i < ninc; i++) {
		incs[i].file = safe_name(incs[i].id, i);
		incs[i].ws = incs[i].w.start - pre_ns;
		incs[i].we = incs[i].w.start + post_ns;
		incs[i].w.cs = incs[i].w.ce = TS_NONE;
		incs[i].w.from = "-";
	}
	{
		struct ctlwin *w = emalloc((ninc ? ninc : 1) * sizeof *w);
		for (i = 0; i < ninc; i++)
			w[i] = incs[i].w;
		if (refs > 0 && (dmin == TS_NONE ||
				 ctlwin_reference(w, ninc, (int64_t)llround(refs * 1e9), pre_ns, post_ns,
						  dmin, dmax, &rs, &re) < 0))
			warnf("slice: %s: no fault-free stretch of %g s for the reference: the cases "
			      "run without one", in, refs);
		if (control && dmin != TS_NONE)
			ctlwin_place(w, ninc, len, post_ns, dmin, dmax, rs, re);
		for (i = 0; i < ninc; i++)
			incs[i].w = w[i];
		free(w);
	}
	if (mkdir(out, 0777) < 0 && errno != EEXIST)
		efatal(1, "%s: %s", out, strerror(errno));
	/* The reference: its signals (no alert: an alert is no baseline),
	 * after the run record; never an incident. */
	if (refs > 0) {
		snprintf(path, sizeof path, "%s/reference.jsonl", out);
		if ((fref = fopen(path, "w")) == NULL)
			efatal(1, "%s: %s", path, strerror(errno));
		if (runline)
			fprintf(fref, "%s\n", runline);
	}
	snprintf(path, sizeof path, "%s/cases.tsv", out);
	if ((tsv = fopen(path, "w")) == NULL)
		efatal(1, "%s: %s", path, strerror(errno));
	fprintf(tsv, "case\tincident\tfault\tservice\tstart\twindow_start\twindow_end\t"
		"control_start\tcontrol_end\tsignals\tcontrol_from\n");

	/* Pass 2 (per batch of cases): the signals into their windows. */
	for (b0 = 0; b0 < ninc || (ninc == 0 && b0 == 0); b0 += BATCH) {
		size_t b1 = b0 + BATCH < ninc ? b0 + BATCH : ninc;
		if (ninc == 0)
			break;
		for (i = b0; i < b1; i++) {
			snprintf(path, sizeof path, "%s/%s", out, incs[i].file);
			if (mkdir(path, 0777) < 0 && errno != EEXIST)
				efatal(1, "%s: %s", path, strerror(errno));
			incs[i].fcase = xopen(out, incs[i].file, "case.jsonl", "w");
			incs[i].fctl = incs[i].w.cs != TS_NONE ?
				xopen(out, incs[i].file, "control.jsonl", "w") : NULL;
			if (runline) {
				fprintf(incs[i].fcase, "%s\n", runline);
				if (incs[i].fctl)
					fprintf(incs[i].fctl, "%s\n", runline);
			}
		}
		if (rec_open(&r, in, 0) < 0)
			efatal(1, "%s: %s", in, strerror(errno));
		while ((rc = rec_getline(&r, &p, &n)) != REC_EOF) {
			const char *t;
			int64_t ns;
			if (rc == REC_ERROR)
				efatal(1, "%s: %s", in, strerror(errno));
			if (rc == REC_LONG || scan_json(p, n, &sr, &why) < 0 || sr.kind == NULL ||
			    !is_signal(sr.kind, sr.kind_len))
				continue;
			t = strstr(p, "\"ts\":\"");
			if (t == NULL || ts_parse(t + 6, TS_LEN, &ns, &why) < 0)
				continue;
			int is_span = sr.kind_len == strlen(sig_kind_name[SIG_SPAN]) &&
				      memcmp(sr.kind, sig_kind_name[SIG_SPAN], sr.kind_len) == 0;
			if (fref && b0 == 0 && ns >= rs && ns < re && rs != TS_NONE &&
			    !(sr.kind_len == 5 && memcmp(sr.kind, "alert", 5) == 0)) {
				fwrite(p, 1, n, fref);
				fputc('\n', fref);
				nref++;
			}
			for (i = b0; i < b1; i++) {
				struct sinc *x = &incs[i];
				if (ns >= x->ws && ns < x->we) {
					const char *s = strstr(p, "\"service\":\"");
					fwrite(p, 1, n, x->fcase);
					fputc('\n', x->fcase);
					x->nsig++;
					if (ns >= x->w.start && is_span)
						x->nspan_after++;
					if (s) {
						const char *e = strchr(s + 11, '"');
						if (e)
							smap_put(&x->svcs, s + 11, (size_t)(e - s - 11), NULL);
					}
				}
				if (x->fctl && ns >= x->w.cs && ns < x->w.ce) {
					fwrite(p, 1, n, x->fctl);
					fputc('\n', x->fctl);
					x->nctl++;
				}
			}
		}
		rec_close(&r);
		for (i = b0; i < b1; i++) {
			struct sinc *x = &incs[i];
			FILE *sv;
			char tb[5][TS_LEN + 1];
			/* Every incident that overlaps the window is labelled in it. */
			for (j = 0; j < ninc; j++)
				if (incs[j].w.start < x->we && incs[j].w.end + post_ns > x->ws)
					fprintf(x->fcase, "%s\n", incs[j].raw);
			xclose(x->fcase, "case.jsonl");
			xclose(x->fctl, "control.jsonl");
			/* A window without a signal measures no false alarm (the
			 * data has no record there, e.g. alerts kept only around
			 * faults): no control. */
			if (x->fctl && x->nctl == 0) {
				snprintf(path, sizeof path, "%s/%s/control.jsonl", out, x->file);
				if (unlink(path) < 0)
					efatal(1, "%s: %s", path, strerror(errno));
				x->w.cs = x->w.ce = TS_NONE;
				x->w.from = "empty";
			}
			sv = xopen(out, x->file, "traces.txt", "w");
			fprintf(sv, "%lu\n", x->nspan_after);
			xclose(sv, "traces.txt");
			sv = xopen(out, x->file, "services.txt", "w");
			for (j = 0; j < x->svcs.cap; j++)
				if (x->svcs.e[j].key)
					fprintf(sv, "%.*s\n", (int)x->svcs.e[j].klen, x->svcs.e[j].key);
			xclose(sv, "services.txt");
			smap_free(&x->svcs, NULL);
			fprintf(tsv, "%s\t", x->file);
			tsv_field(tsv, x->id);
			fputc('\t', tsv);
			tsv_field(tsv, x->fault ? x->fault : "-");
			fputc('\t', tsv);
			tsv_field(tsv, x->service ? x->service : "-");
			fprintf(tsv, "\t%s\t%s\t%s\t%s\t%s\t%lu\t%s\n", ts_format(x->w.start, tb[0]),
				ts_format(x->ws, tb[1]), ts_format(x->we, tb[2]),
				x->w.cs != TS_NONE ? ts_format(x->w.cs, tb[3]) : "-",
				x->w.cs != TS_NONE ? ts_format(x->w.ce, tb[4]) : "-", x->nsig, x->w.from);
		}
	}
	xclose(tsv, "cases.tsv");
	if (fref) {
		char tb[2][TS_LEN + 1];
		xclose(fref, "reference.jsonl");
		if (rs != TS_NONE)
			warnf("slice: %s: reference %s to %s, %lu signals", in, ts_format(rs, tb[0]),
			      ts_format(re, tb[1]), nref);
	}
	json_tokener_free(tok);
	for (i = 0; i < ninc; i++) {
		free(incs[i].id);
		free(incs[i].raw);
		free(incs[i].fault);
		free(incs[i].service);
		free(incs[i].file);
	}
	free(incs);
	free(runline);
	return 0;
}

/* ------------------------------------------------------------------ cut */

/* The ts of a signal line, or TS_NONE when it is no signal or has none. */
static int64_t
signal_ts(const char *p, size_t n, struct scan_result *sr)
{
	const char *t, *why;
	int64_t ns;

	if (scan_json(p, n, sr, &why) < 0 || sr->kind == NULL || !is_signal(sr->kind, sr->kind_len))
		return TS_NONE;
	t = strstr(p, "\"ts\":\"");
	if (t == NULL || ts_parse(t + 6, TS_LEN, &ns, &why) < 0)
		return TS_NONE;
	return ns;
}

/* The signals of a --merge file, one line of look-ahead. */
struct merge {
	struct rec_reader r;
	char *line;                     /* the next signal, NULL at the end */
	size_t n;
	int64_t ts;
};

static void
merge_next(struct merge *m)
{
	struct scan_result sr;
	const char *p;
	size_t n;
	int rc;

	free(m->line);
	m->line = NULL;
	while ((rc = rec_getline(&m->r, &p, &n)) != REC_EOF) {
		if (rc == REC_ERROR)
			efatal(1, "%s: %s", m->r.name, strerror(errno));
		if (rc == REC_LINE && (m->ts = signal_ts(p, n, &sr)) != TS_NONE) {
			m->line = estrndup(p, n);
			m->n = n;
			return;
		}
	}
}

/* Writes the merge signals with ts < before (all: TS_NONE). */
static void
merge_upto(struct merge *m, int64_t before)
{
	while (m->line && (before == TS_NONE || m->ts < before)) {
		fwrite(m->line, 1, m->n, stdout);
		fputc('\n', stdout);
		merge_next(m);
	}
}

/*
 * One arm's input from a case's window: every line copied, but the signals
 * of a dropped kind and the signals with ts at or after --until left out;
 * with --merge the signals of that file (in time order) put in among them.
 */
static int
cmd_cut(int argc, char **argv)
{
	const char *in = NULL, *p, *why, *drop = "", *mfile = NULL;
	int64_t until = TS_NONE;
	struct rec_reader r;
	struct scan_result sr;
	struct merge m = {0};
	size_t n, i;
	int rc;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--until") == 0 && i + 1 < (size_t)argc) {
			const char *t = argv[++i];
			if (ts_parse(t, strlen(t), &until, &why) < 0)
				efatal(2, "--until: '%s': %s", t, why);
		} else if (strcmp(argv[i], "--drop") == 0 && i + 1 < (size_t)argc) {
			drop = argv[++i];
		} else if (strcmp(argv[i], "--merge") == 0 && i + 1 < (size_t)argc) {
			mfile = argv[++i];
		} else {
			in = operand(argv[i], in);
		}
	}
	if (in == NULL)
		usage(2);
	for (p = drop; *p;) {
		size_t l = strcspn(p, ",");
		if (!is_signal(p, l))
			efatal(2, "--drop: '%.*s' is not log, metric, span or alert", (int)l, p);
		p += l + (p[l] == ',');
	}
	if (mfile) {
		if (rec_open(&m.r, mfile, 0) < 0)
			efatal(1, "%s: %s", mfile, strerror(errno));
		merge_next(&m);
	}
	if (rec_open(&r, in, 0) < 0)
		efatal(1, "%s: %s", in, strerror(errno));
	while ((rc = rec_getline(&r, &p, &n)) != REC_EOF) {
		int64_t ns;
		if (rc == REC_ERROR)
			efatal(1, "%s: %s", in, strerror(errno));
		if (rc == REC_LONG)     /* slice writes none */
			efatal(1, "%s:%lu: line too long", in, r.line);
		if ((ns = signal_ts(p, n, &sr)) != TS_NONE) {
			const char *d;
			int gone = 0;
			for (d = drop; *d && !gone;) {
				size_t l = strcspn(d, ",");
				gone = l == sr.kind_len && memcmp(d, sr.kind, l) == 0;
				d += l + (d[l] == ',');
			}
			if (gone || (until != TS_NONE && ns >= until))
				continue;
			merge_upto(&m, ns);
		} else if (r.line > 1) {
			merge_upto(&m, TS_NONE);    /* the labels after the signals */
		}
		fwrite(p, 1, n, stdout);
		fputc('\n', stdout);
	}
	merge_upto(&m, TS_NONE);
	rec_close(&r);
	if (mfile)
		rec_close(&m.r);
	if (fflush(stdout) == EOF || ferror(stdout))
		efatal(1, "write error: %s", strerror(errno));
	return 0;
}

/* ---------------------------------------------------------------- score */

/* The cases (lib/evcase), the rows (lib/evagg), the output (lib/evfmt). */
static int
cmd_score(int argc, char **argv)
{
	struct evcases ev = EVCASES_INIT;
	enum tab_fmt f = TAB_TEXT;
	int json = 0;
	const char *manifest = NULL, *tables = "both";
	struct evrow *rows = NULL;
	size_t nrows = 0, i;
	char *err;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < (size_t)argc) {
			const char *v = argv[++i];
			json = strcmp(v, "json") == 0;
			f = strcmp(v, "md") == 0 ? TAB_MD : strcmp(v, "tsv") == 0 ? TAB_TSV : TAB_TEXT;
			if (!json && f == TAB_TEXT && strcmp(v, "text"))
				efatal(2, "--format: '%s' is not text, md, tsv or json", v);
		} else if (strcmp(argv[i], "--table") == 0 && i + 1 < (size_t)argc) {
			tables = argv[++i];
			if (strcmp(tables, "summary") && strcmp(tables, "cases") && strcmp(tables, "both"))
				efatal(2, "--table: '%s' is not summary, cases or both", tables);
		} else if (strcmp(argv[i], "--boot") == 0 && i + 1 < (size_t)argc) {
			ev.boot_n = (unsigned)num_arg("--boot", argv[++i], 1);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < (size_t)argc) {
			ev.seed = (uint64_t)num_arg("--seed", argv[++i], 0);
		} else if (strcmp(argv[i], "--tolerance") == 0 && i + 1 < (size_t)argc) {
			ev.tol_s = num_arg("--tolerance", argv[++i], 0);
		} else if (strcmp(argv[i], "--prices") == 0 && i + 1 < (size_t)argc) {
			const char *v = argv[++i];
			json_object_put(ev.prices);
			ev.prices = json_tokener_parse(v);
			if (ev.prices == NULL || !json_object_is_type(ev.prices, json_type_object))
				efatal(2, "--prices: not a JSON object {MODEL: {input_per_1k, output_per_1k}}");
		} else {
			manifest = operand(argv[i], manifest);
		}
	}
	if (manifest == NULL)
		usage(2);
	if (evcases_read_manifest(&ev, manifest, &err) < 0)
		efatal(2, "%s", err);
	if (ev.ncc == 0)
		efatal(1, "%s: no cases", manifest);
	evcases_add_references(&ev);
	rows = evagg_rows(&ev, &nrows);

	if (json)
		evfmt_json(stdout, &ev, rows, nrows, strcmp(tables, "cases") != 0,
			   strcmp(tables, "summary") != 0);
	else
		evfmt_tables(stdout, &ev, rows, nrows, f, strcmp(tables, "cases") != 0,
			     strcmp(tables, "summary") != 0);
	if (fflush(stdout) == EOF || ferror(stdout))
		efatal(1, "write error: %s", strerror(errno));
	evagg_free(rows, nrows);
	evcases_free(&ev);
	return 0;
}

int
main(int argc, char **argv)
{
	err_setprog(argv[0]);
	if (argc < 2)
		usage(2);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(0);
	if (strcmp(argv[1], "slice") == 0)
		return cmd_slice(argc - 1, argv + 1);
	if (strcmp(argv[1], "score") == 0)
		return cmd_score(argc - 1, argv + 1);
	if (strcmp(argv[1], "cut") == 0)
		return cmd_cut(argc - 1, argv + 1);
	warnf("unknown command '%s'", argv[1]);
	usage(2);
	return 2;
}
