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
 * Matching of groups to incidents is lib/match's, the same as
 * aiops-metrics'.  Memory: slice holds the incidents and one small record
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
#include "js.h"
#include "match.h"
#include "outcome.h"
#include "rec.h"
#include "scan.h"
#include "smap.h"
#include "stats.h"
#include "ts.h"

#define BATCH 200               /* cases written per pass over the input */

static const char *usage_text =
	"usage: aiops-eval slice --out DIR [--pre SECONDS] [--post SECONDS] [--no-control] FILE\n"
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
	return (n == 3 && memcmp(k, "log", 3) == 0) || (n == 6 && memcmp(k, "metric", 6) == 0) ||
	       (n == 4 && memcmp(k, "span", 4) == 0) || (n == 5 && memcmp(k, "alert", 5) == 0);
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
	double pre = 600, post = 600;
	int control = 1;
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
	if (control && dmin != TS_NONE) {
		struct ctlwin *w = emalloc((ninc ? ninc : 1) * sizeof *w);
		for (i = 0; i < ninc; i++)
			w[i] = incs[i].w;
		ctlwin_place(w, ninc, len, post_ns, dmin, dmax);
		for (i = 0; i < ninc; i++)
			incs[i].w = w[i];
		free(w);
	}
	if (mkdir(out, 0777) < 0 && errno != EEXIST)
		efatal(1, "%s: %s", out, strerror(errno));
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
			for (i = b0; i < b1; i++) {
				struct sinc *x = &incs[i];
				if (ns >= x->ws && ns < x->we) {
					const char *s = strstr(p, "\"service\":\"");
					fwrite(p, 1, n, x->fcase);
					fputc('\n', x->fcase);
					x->nsig++;
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

enum { M_RECALL, M_FA, M_AC1, M_AC3, M_AC5, M_AVG5, M_REM, NMETRIC };
static const char *const mname[NMETRIC] = {
	"recall", "false_alarms_per_control", "ac1", "ac3", "ac5", "avg5", "remediation_match"
};
static json_object *prices;            /* --prices {MODEL: {input_per_1k, output_per_1k}} */

struct ccase {                          /* one case of one arm */
	char *arm, *system, *cid, *incident, *fault, *truth;
	int is_ref;                     /* reference row: rank only */
	int failed;                     /* the pipeline failed: nothing scored */
	char *why;                      /* its message */
	int detected;                   /* primary incident matched */
	int rca_failed;                 /* the matched group's rca has an error */
	double acc[OUTCOME_TOPK + 1];   /* P(truth in top k), k = 1..5; NAN when failed */
	char *top5;                     /* "a,b,c" */
	int rank;                       /* 1..5, 0 not in top 5, -1 no rca */
	double ttd, mttd;               /* model TTD, labelled MTTD (NAN: none) */
	int has_ctl;
	double fa, ctl_hours;           /* detected groups in the control, its length */
	int ctl_failed;
	double case_fp;                 /* unmatched groups in the case window */
	double calls, llm_failures, wall;
	int rem;                        /* remediation match: -1 no expected actions, 0, 1 */
	double tokens, cost;            /* over llm_call records; NAN: unknown */
	char **services;                /* the window's services (for references) */
	size_t nservices;
};

static struct ccase *cc;
static size_t ncc, capcc;
static char **arms;
static size_t narms;
static double tol_s = 60;

static size_t
arm_index(const char *a)
{
	size_t i;

	for (i = 0; i < narms; i++)
		if (strcmp(arms[i], a) == 0)
			return i;
	arms = erealloc(arms, (narms + 1) * sizeof *arms);
	arms[narms] = estrdup(a);
	return narms++;
}

static struct ccase *
find_case(const char *arm, const char *system, const char *cid)
{
	size_t i;

	for (i = 0; i < ncc; i++)
		if (strcmp(cc[i].arm, arm) == 0 && strcmp(cc[i].system, system) == 0 &&
		    strcmp(cc[i].cid, cid) == 0)
			return &cc[i];
	return NULL;
}

static struct ccase *
new_case(const char *arm, const char *system, const char *cid)
{
	struct ccase *c;

	if (ncc == capcc) {
		capcc = capcc ? capcc * 2 : 64;
		cc = erealloc(cc, capcc * sizeof *cc);
	}
	c = &cc[ncc++];
	memset(c, 0, sizeof *c);
	c->arm = estrdup(arm);
	c->system = estrdup(system);
	c->cid = estrdup(cid);
	c->rank = -1;
	c->ttd = c->mttd = NAN;
	c->wall = NAN;
	c->rem = -1;
	c->cost = prices ? 0 : NAN;
	return c;
}

static void
read_services(struct ccase *c, const char *dir)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/services.txt", dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (n > 0) {
			EPUSH(c->services, c->nservices, estrdup(line));
			c->nservices++;
		}
	}
	free(line);
	fclose(f);
}

static void
score_case(struct ccase *c, const char *dir)
{
	char path[4096];
	struct outcome s;
	size_t i, k;
	long pi = -1;

	snprintf(path, sizeof path, "%s/final.jsonl", dir);
	if (outcome_read(&s, path, prices) < 0) {
		c->failed = 1;
		c->why = estrdup("no final stream");
		return;
	}
	for (i = 0; i < s.ni; i++) {
		if (s.mi[i].end == TS_NONE)
			s.mi[i].end = MATCH_OPEN;
		if (strcmp(s.iid[i], c->incident) == 0)
			pi = (long)i;
	}
	match_close_open(s.mi, s.ni, s.dmax, (int64_t)llround(tol_s * 1e9));
	match_run(s.mi, s.ni, s.mg, s.ng, (int64_t)llround(tol_s * 1e9));
	c->calls = s.calls_rec > s.calls_end ? s.calls_rec : s.calls_end;
	c->llm_failures = s.fail_rec > s.fail_end ? s.fail_rec : s.fail_end;
	/* Calls counted by a stage_end without their llm_call records: their
	 * tokens are unknown. */
	c->tokens = s.calls_end > s.calls_rec ? NAN : s.tokens;
	c->cost = s.calls_end > s.calls_rec ? NAN : s.cost;
	for (i = 0; i < s.ng; i++)
		c->case_fp += !s.mg[i].taken;
	if (pi < 0) {
		c->failed = 1;
		c->why = estrdup("the case's incident is not in the stream");
		outcome_free(&s);
		return;
	}
	if (s.ifault[pi] && c->fault == NULL)
		c->fault = estrdup(s.ifault[pi]);
	if (s.isvc[pi] && c->truth == NULL)
		c->truth = estrdup(s.isvc[pi]);
	if (s.idet[pi] != TS_NONE)
		c->mttd = (double)(s.idet[pi] - s.mi[pi].start) / 1e9;
	for (k = 1; k <= OUTCOME_TOPK; k++)
		c->acc[k] = 0;
	c->rank = -1;
	{
		long gi = s.mi[pi].group, mi = -1;
		for (i = 0; gi >= 0 && i < s.nm; i++)
			if (strcmp(s.mgid[i], s.mg[gi].id) == 0) {
				mi = (long)i;
				break;
			}
		c->rem = match_actions(mi >= 0 ? s.mact[mi] : NULL, mi >= 0 ? s.mn[mi] : 0,
				       s.iexp[pi], s.nexp[pi]);
	}
	if (s.mi[pi].group >= 0) {
		const struct match_grp *g = &s.mg[s.mi[pi].group];
		long ri = outcome_rca(&s, g->id);
		c->detected = 1;
		c->ttd = (double)(g->detected - s.mi[pi].start) / 1e9;
		if (ri >= 0 && s.rerr[ri]) {
			c->rca_failed = 1;
			for (k = 1; k <= OUTCOME_TOPK; k++)
				c->acc[k] = NAN;
		} else if (ri >= 0) {
			c->top5 = estrdup(s.rtop[ri]);
			c->rank = 0;
			for (i = 0; i < s.rn[ri]; i++)
				if (s.rsvc[ri][i] && c->truth && strcmp(s.rsvc[ri][i], c->truth) == 0) {
					c->rank = (int)i + 1;
					break;
				}
			for (k = 1; k <= OUTCOME_TOPK; k++)
				c->acc[k] = c->rank >= 1 && (size_t)c->rank <= k;
		}
	}
	outcome_free(&s);
}

static void
score_control(struct ccase *c, const char *dir, double hours)
{
	char path[4096];
	struct outcome s;

	snprintf(path, sizeof path, "%s/final.jsonl", dir);
	c->has_ctl = 1;
	c->ctl_hours = hours;
	if (outcome_read(&s, path, prices) < 0) {
		c->ctl_failed = 1;
		return;
	}
	c->fa = (double)s.ng;
	c->calls += s.calls_rec > s.calls_end ? s.calls_rec : s.calls_end;
	c->llm_failures += s.fail_rec > s.fail_end ? s.fail_rec : s.fail_end;
	c->tokens += s.calls_end > s.calls_rec ? NAN : s.tokens;
	c->cost += s.calls_end > s.calls_rec ? NAN : s.cost;
	outcome_free(&s);
}

/* Splits a tab-separated line in place into at most max fields. */
static size_t
split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			break;
		*p++ = 0;
	}
	return n;
}

/*
 * The manifest: a header line, then
 * arm system case incident role(case|control) hours status wall_s dir
 * with status "ok" or "failed: MESSAGE".
 */
static void
read_manifest(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL, *fld[9];
	size_t cap = 0;
	ssize_t n;
	unsigned long ln = 0;

	if (f == NULL)
		efatal(2, "%s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		struct ccase *c;
		int failed;
		ln++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (ln == 1 || n == 0)
			continue;
		if (split_tabs(line, fld, 9) != 9)
			efatal(2, "%s:%lu: expected 9 tab-separated fields", path, ln);
		arm_index(fld[0]);
		c = find_case(fld[0], fld[1], fld[2]);
		if (c == NULL) {
			c = new_case(fld[0], fld[1], fld[2]);
			c->incident = estrdup(fld[3]);
		}
		failed = strncmp(fld[6], "ok", 2) != 0;
		if (strcmp(fld[4], "case") == 0) {
			c->wall = strtod(fld[7], NULL);
			if (failed) {
				c->failed = 1;
				c->why = estrdup(fld[6]);
			} else {
				score_case(c, fld[8]);
			}
			read_services(c, fld[8]);
		} else if (strcmp(fld[4], "control") == 0) {
			if (failed) {
				c->has_ctl = 1;
				c->ctl_failed = 1;
			} else {
				score_control(c, fld[8], strtod(fld[5], NULL));
			}
		} else {
			efatal(2, "%s:%lu: role '%s' is not case or control", path, ln, fld[4]);
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

/* The reference rows, from the first arm's cases (truth, fault, services). */
static void
add_references(void)
{
	size_t base = ncc, i, j, k;

	if (narms == 0)
		return;
	arm_index("ref:constant-loo");
	arm_index("ref:random");
	for (i = 0; i < base; i++) {
		struct ccase *c = &cc[i], *a, *b;
		struct smap freq = SMAP_INIT;
		char *top[OUTCOME_TOPK] = {0};
		size_t cnt[OUTCOME_TOPK] = {0}, nt = 0;
		struct buf tb = BUF_INIT(0);
		int inwin = 0;
		if (strcmp(c->arm, arms[0]) != 0)
			continue;
		/* Leave one out: the other cases of the same system. */
		for (j = 0; j < base; j++) {
			void **v;
			if (j == i || strcmp(cc[j].arm, arms[0]) || strcmp(cc[j].system, c->system) ||
			    cc[j].truth == NULL)
				continue;
			v = smap_put(&freq, cc[j].truth, strlen(cc[j].truth), NULL);
			*v = (void *)((size_t)*v + 1);
		}
		for (j = 0; j < freq.cap; j++) {
			struct smap_ent *e = &freq.e[j];
			size_t f, pos;
			if (e->key == NULL)
				continue;
			f = (size_t)e->val;
			for (pos = 0; pos < nt; pos++)
				if (f > cnt[pos] || (f == cnt[pos] && strcmp(e->key, top[pos]) < 0))
					break;
			if (pos >= OUTCOME_TOPK)
				continue;
			if (nt < OUTCOME_TOPK)
				nt++;
			memmove(&top[pos + 1], &top[pos], (nt - 1 - pos) * sizeof *top);
			memmove(&cnt[pos + 1], &cnt[pos], (nt - 1 - pos) * sizeof *cnt);
			top[pos] = e->key;
			cnt[pos] = f;
		}
		a = new_case("ref:constant-loo", cc[i].system, cc[i].cid);
		c = &cc[i];
		a->is_ref = 1;
		a->incident = estrdup(c->incident);
		a->fault = c->fault ? estrdup(c->fault) : NULL;
		a->truth = c->truth ? estrdup(c->truth) : NULL;
		a->rank = 0;
		for (k = 0; k < nt; k++) {
			if (k)
				buf_addc(&tb, ',');
			buf_adds(&tb, top[k]);
			if (a->rank == 0 && a->truth && strcmp(top[k], a->truth) == 0)
				a->rank = (int)k + 1;
		}
		a->top5 = tb.p ? buf_detach(&tb) : estrdup("");
		buf_free(&tb);
		for (k = 1; k <= OUTCOME_TOPK; k++)
			a->acc[k] = a->rank >= 1 && (size_t)a->rank <= k;
		smap_free(&freq, NULL);
		/* Random: a uniform order of the window's services. */
		b = new_case("ref:random", cc[i].system, cc[i].cid);
		c = &cc[i];
		b->is_ref = 1;
		b->incident = estrdup(c->incident);
		b->fault = c->fault ? estrdup(c->fault) : NULL;
		b->truth = c->truth ? estrdup(c->truth) : NULL;
		for (j = 0; c->truth && j < c->nservices; j++)
			if (strcmp(c->services[j], c->truth) == 0)
				inwin = 1;
		for (k = 1; k <= OUTCOME_TOPK; k++)
			b->acc[k] = inwin ? (double)(k < c->nservices ? k : c->nservices) /
						    (double)c->nservices : 0;
		b->rank = -2;           /* an expected value: no single rank */
		b->top5 = estrdup("(random)");
	}
}

/* ----------------------------------------------------------- aggregates */

struct row {
	const char *arm, *slice;
	int is_ref;
	size_t n, failed, nctl;
	double v[NMETRIC], lo[NMETRIC], hi[NMETRIC];
	size_t vn[NMETRIC];
	double fa_hour, mttd50, mttd90, ttd50, ttd90, calls, llm_fail, sec;
	double tokens, cost;            /* sums; NAN when one is unknown */
	double lift;                    /* AC@1 minus the first arm's, NAN for the first */
	double p;                       /* McNemar's exact p on AC@1 pairs, NAN: none */
	unsigned long b, c;
};

static unsigned boot_n = 1000;
static uint64_t seed = 1;

static int
in_slice(const struct ccase *c, const char *kind, const char *val)
{
	if (strcmp(kind, "all") == 0)
		return 1;
	if (strcmp(kind, "system") == 0)
		return strcmp(c->system, val) == 0;
	return strcmp(c->fault ? c->fault : "-", val) == 0;
}

static void
metric(struct row *r, int m, struct dvec *d)
{
	double sum = 0;
	size_t i;

	r->vn[m] = d->n;
	for (i = 0; i < d->n; i++)
		sum += d->v[i];
	r->v[m] = d->n ? sum / (double)d->n : NAN;
	stats_boot_ci(d->v, d->n, boot_n, seed, 95, &r->lo[m], &r->hi[m]);
}

static struct row
make_row(const char *arm, const char *kind, const char *val, const char *label)
{
	struct row r;
	struct dvec d[NMETRIC], mt = DVEC_INIT, tt = DVEC_INIT;
	double hours = 0, fa = 0;
	size_t i, m, nsec = 0;

	memset(&r, 0, sizeof r);
	memset(d, 0, sizeof d);
	r.arm = arm;
	r.slice = label;
	r.lift = r.p = NAN;
	r.sec = 0;
	r.cost = prices ? 0 : NAN;
	for (i = 0; i < ncc; i++) {
		const struct ccase *c = &cc[i];
		if (strcmp(c->arm, arm) || !in_slice(c, kind, val))
			continue;
		r.is_ref = c->is_ref;
		r.n++;
		if (c->failed || c->rca_failed)
			r.failed++;
		if (c->failed)
			continue;
		if (!c->is_ref) {
			dvec_push(&d[M_RECALL], c->detected);
			if (c->has_ctl && !c->ctl_failed) {
				dvec_push(&d[M_FA], c->fa);
				fa += c->fa;
				hours += c->ctl_hours;
				r.nctl++;
			}
			if (isfinite(c->mttd))
				dvec_push(&mt, c->mttd);
			if (isfinite(c->ttd))
				dvec_push(&tt, c->ttd);
			r.calls += c->calls;
			r.llm_fail += c->llm_failures;
			r.tokens += c->tokens;
			r.cost += c->cost;
			if (c->rem >= 0)
				dvec_push(&d[M_REM], c->rem);
			if (isfinite(c->wall)) {
				r.sec += c->wall;
				nsec++;
			}
		}
		if (c->rca_failed)
			continue;
		dvec_push(&d[M_AC1], c->acc[1]);
		dvec_push(&d[M_AC3], c->acc[3]);
		dvec_push(&d[M_AC5], c->acc[5]);
		dvec_push(&d[M_AVG5], (c->acc[1] + c->acc[2] + c->acc[3] + c->acc[4] + c->acc[5]) / 5);
	}
	for (m = 0; m < NMETRIC; m++)
		metric(&r, (int)m, &d[m]);
	r.fa_hour = hours > 0 ? fa / hours : NAN;
	r.mttd50 = stats_percentile(mt.v, mt.n, 50);
	r.mttd90 = stats_percentile(mt.v, mt.n, 90);
	r.ttd50 = stats_percentile(tt.v, tt.n, 50);
	r.ttd90 = stats_percentile(tt.v, tt.n, 90);
	r.sec = nsec ? r.sec / (double)nsec : NAN;
	for (m = 0; m < NMETRIC; m++)
		dvec_free(&d[m]);
	dvec_free(&mt);
	dvec_free(&tt);
	return r;
}

/* Lift and McNemar against the first arm over the same slice. */
static void
compare(struct row *r, const struct row *first, const char *kind, const char *val)
{
	size_t i, j;

	if (first == NULL || strcmp(r->arm, first->arm) == 0)
		return;
	r->lift = isfinite(r->v[M_AC1]) && isfinite(first->v[M_AC1]) ?
		r->v[M_AC1] - first->v[M_AC1] : NAN;
	if (strcmp(r->arm, "ref:random") == 0)
		return;
	r->b = r->c = 0;
	for (i = 0; i < ncc; i++) {
		const struct ccase *x = &cc[i];
		if (strcmp(x->arm, r->arm) || !in_slice(x, kind, val) || x->failed || x->rca_failed)
			continue;
		for (j = 0; j < ncc; j++) {
			const struct ccase *y = &cc[j];
			if (strcmp(y->arm, first->arm) || strcmp(y->system, x->system) ||
			    strcmp(y->cid, x->cid) || y->failed || y->rca_failed)
				continue;
			if (x->acc[1] > 0 && !(y->acc[1] > 0))
				r->b++;
			else if (!(x->acc[1] > 0) && y->acc[1] > 0)
				r->c++;
		}
	}
	r->p = stats_mcnemar_exact(r->b, r->c);
}

/* ---------------------------------------------------------------- output */

enum fmt { F_TEXT, F_MD, F_TSV, F_JSON };

static char *
fnum(double v, int d)
{
	char b[64];

	if (!isfinite(v))
		return estrdup("n/a");
	snprintf(b, sizeof b, "%.*f", d, v);
	return estrdup(b);
}

static char *
fci(const struct row *r, int m, int with_ci)
{
	char b[128];

	if (r->vn[m] == 0)
		return estrdup(r->n > 0 && r->failed == r->n ? "failed" : "n/a");
	if (!with_ci)
		snprintf(b, sizeof b, "%.3f", r->v[m]);
	else
		snprintf(b, sizeof b, "%.3f [%.3f,%.3f]", r->v[m], r->lo[m], r->hi[m]);
	return estrdup(b);
}

struct table {
	size_t ncol, nrow;
	char **cell;                    /* row-major, nrow * ncol */
};

static void
tab_add(struct table *t, char **cells)
{
	size_t i;

	t->cell = erealloc(t->cell, (t->nrow + 1) * t->ncol * sizeof *t->cell);
	for (i = 0; i < t->ncol; i++)
		t->cell[t->nrow * t->ncol + i] = cells[i];
	t->nrow++;
}

/* Adds the header row h[0..t->ncol), using cells (t->ncol long). */
static void
tab_head(struct table *t, const char *const *h, char **cells)
{
	for (size_t k = 0; k < t->ncol; k++)
		cells[k] = estrdup(h[k]);
	tab_add(t, cells);
}

static void
tab_print(const struct table *t, enum fmt f)
{
	size_t i, j, *w = ecalloc(t->ncol, sizeof *w);

	for (i = 0; i < t->nrow; i++)
		for (j = 0; j < t->ncol; j++) {
			size_t l = strlen(t->cell[i * t->ncol + j]);
			if (l > w[j])
				w[j] = l;
		}
	for (i = 0; i < t->nrow; i++) {
		if (f == F_MD)
			fputs("| ", stdout);
		for (j = 0; j < t->ncol; j++) {
			const char *s = t->cell[i * t->ncol + j];
			if (f == F_TSV)
				printf("%s%s", j ? "\t" : "", s);
			else if (f == F_MD)
				printf("%s%s", j ? " | " : "", s);
			else if (j + 1 < t->ncol)
				printf("%-*s  ", (int)w[j], s);
			else
				fputs(s, stdout);
		}
		fputs(f == F_MD ? " |\n" : "\n", stdout);
		if (f == F_MD && i == 0) {
			fputs("|", stdout);
			for (j = 0; j < t->ncol; j++)
				fputs("---|", stdout);
			fputs("\n", stdout);
		}
	}
	free(w);
}

static void
tab_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
}

static json_object *
jnum(double v)
{
	return isfinite(v) ? js_new_double(stats_round(v)) : NULL;
}

static json_object *
row_json(const struct row *r)
{
	json_object *o = json_object_new_object();
	int m;

	js_add_str(o, "arm", r->arm);
	js_add_str(o, "slice", r->slice);
	js_add_bool(o, "reference", r->is_ref);
	js_add_int(o, "cases", (int64_t)r->n);
	js_add_int(o, "failed", (int64_t)r->failed);
	js_add_int(o, "controls", (int64_t)r->nctl);
	for (m = 0; m < NMETRIC; m++) {
		json_object *x = json_object_new_object();
		if (r->is_ref && (m == M_RECALL || m == M_FA || m == M_REM)) {
			json_object_put(x);
			continue;
		}
		json_object_object_add(x, "value", jnum(r->v[m]));
		json_object_object_add(x, "ci_low", jnum(r->lo[m]));
		json_object_object_add(x, "ci_high", jnum(r->hi[m]));
		js_add_int(x, "n", (int64_t)r->vn[m]);
		if (r->vn[m] == 0 && r->n > 0 && r->failed == r->n)
			js_add_bool(x, "failed", 1);
		json_object_object_add(o, mname[m], x);
	}
	if (!r->is_ref) {
		json_object_object_add(o, "false_alarms_per_hour", jnum(r->fa_hour));
		json_object_object_add(o, "mttd_median_s", jnum(r->mttd50));
		json_object_object_add(o, "mttd_p90_s", jnum(r->mttd90));
		json_object_object_add(o, "model_ttd_median_s", jnum(r->ttd50));
		json_object_object_add(o, "model_ttd_p90_s", jnum(r->ttd90));
		json_object_object_add(o, "llm_calls", jnum(r->calls));
		json_object_object_add(o, "llm_failures", jnum(r->llm_fail));
		json_object_object_add(o, "llm_tokens", jnum(r->tokens));
		json_object_object_add(o, "cost_usd", jnum(r->cost));
		json_object_object_add(o, "seconds_per_case", jnum(r->sec));
	}
	json_object_object_add(o, "lift_ac1", jnum(r->lift));
	if (isfinite(r->p)) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "p", jnum(r->p));
		js_add_int(x, "b", (int64_t)r->b);
		js_add_int(x, "c", (int64_t)r->c);
		json_object_object_add(o, "mcnemar_ac1", x);
	} else {
		json_object_object_add(o, "mcnemar_ac1", NULL);
	}
	return o;
}

static char *
fmt_rank(const struct ccase *c)
{
	char b[32];

	if (c->failed)
		return estrdup("failed");
	if (c->rca_failed)
		return estrdup("failed");
	if (c->rank == -2)
		return fnum(c->acc[1], 3);
	if (c->rank < 0)
		return estrdup(c->is_ref ? "-" : "missed");
	if (c->rank == 0)
		return estrdup(">5");
	snprintf(b, sizeof b, "%d", c->rank);
	return estrdup(b);
}

static char *
fmt_ctl(const struct ccase *c)
{
	if (c->is_ref)
		return estrdup("-");
	if (!c->has_ctl)
		return estrdup("no control");
	if (c->ctl_failed)
		return estrdup("failed");
	return fnum(c->fa, 0);
}

static json_object *
case_json(const struct ccase *c)
{
	json_object *o = json_object_new_object();

	js_add_str(o, "arm", c->arm);
	js_add_str(o, "system", c->system);
	js_add_str(o, "case", c->cid);
	js_add_str(o, "incident", c->incident);
	js_add_str(o, "fault", c->fault);
	js_add_str(o, "truth", c->truth);
	js_add_bool(o, "failed", c->failed);
	if (c->why)
		js_add_str(o, "error", c->why);
	if (!c->is_ref) {
		js_add_bool(o, "detected", c->detected);
		js_add_bool(o, "rca_failed", c->rca_failed);
	}
	js_add_str(o, "top5", c->top5);
	if (c->rank >= 0)
		js_add_int(o, "rank", c->rank);
	else
		json_object_object_add(o, "rank", NULL);
	json_object_object_add(o, "ac1", jnum(c->failed ? NAN : c->acc[1]));
	json_object_object_add(o, "ac3", jnum(c->failed ? NAN : c->acc[3]));
	json_object_object_add(o, "ac5", jnum(c->failed ? NAN : c->acc[5]));
	if (!c->is_ref) {
		json_object_object_add(o, "model_ttd_s", jnum(c->ttd));
		json_object_object_add(o, "mttd_s", jnum(c->mttd));
		json_object_object_add(o, "control_false_alarms",
				       c->has_ctl && !c->ctl_failed ? jnum(c->fa) : NULL);
		json_object_object_add(o, "control_hours", c->has_ctl ? jnum(c->ctl_hours) : NULL);
		json_object_object_add(o, "case_false_positives", c->failed ? NULL : jnum(c->case_fp));
		json_object_object_add(o, "llm_calls", jnum(c->calls));
		json_object_object_add(o, "llm_failures", jnum(c->llm_failures));
		json_object_object_add(o, "llm_tokens", jnum(c->tokens));
		json_object_object_add(o, "cost_usd", jnum(c->cost));
		json_object_object_add(o, "remediation_match",
				       c->failed || c->rem < 0 ? NULL : json_object_new_boolean(c->rem));
		json_object_object_add(o, "seconds", jnum(c->wall));
	}
	return o;
}

static int
cmd_score(int argc, char **argv)
{
	enum fmt f = F_TEXT;
	const char *manifest = NULL, *tables = "both";
	struct row *rows = NULL;
	size_t nrows = 0, i, a, s;
	char **systems = NULL, **faults = NULL;
	size_t nsys = 0, nfault = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < (size_t)argc) {
			const char *v = argv[++i];
			f = strcmp(v, "text") == 0 ? F_TEXT : strcmp(v, "md") == 0 ? F_MD :
			    strcmp(v, "tsv") == 0 ? F_TSV : strcmp(v, "json") == 0 ? F_JSON : (enum fmt)-1;
			if ((int)f < 0)
				efatal(2, "--format: '%s' is not text, md, tsv or json", v);
		} else if (strcmp(argv[i], "--table") == 0 && i + 1 < (size_t)argc) {
			tables = argv[++i];
			if (strcmp(tables, "summary") && strcmp(tables, "cases") && strcmp(tables, "both"))
				efatal(2, "--table: '%s' is not summary, cases or both", tables);
		} else if (strcmp(argv[i], "--boot") == 0 && i + 1 < (size_t)argc) {
			boot_n = (unsigned)num_arg("--boot", argv[++i], 1);
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < (size_t)argc) {
			seed = (uint64_t)num_arg("--seed", argv[++i], 0);
		} else if (strcmp(argv[i], "--tolerance") == 0 && i + 1 < (size_t)argc) {
			tol_s = num_arg("--tolerance", argv[++i], 0);
		} else if (strcmp(argv[i], "--prices") == 0 && i + 1 < (size_t)argc) {
			const char *v = argv[++i];
			json_object_put(prices);
			prices = json_tokener_parse(v);
			if (prices == NULL || !json_object_is_type(prices, json_type_object))
				efatal(2, "--prices: not a JSON object {MODEL: {input_per_1k, output_per_1k}}");
		} else {
			manifest = operand(argv[i], manifest);
		}
	}
	if (manifest == NULL)
		usage(2);
	read_manifest(manifest);
	if (ncc == 0)
		efatal(1, "%s: no cases", manifest);
	add_references();
	for (i = 0; i < ncc; i++) {
		size_t j;
		const char *fl = cc[i].fault ? cc[i].fault : "-";
		for (j = 0; j < nsys && strcmp(systems[j], cc[i].system); j++)
			;
		if (j == nsys) {
			EPUSH(systems, nsys, cc[i].system);
			nsys++;
		}
		for (j = 0; j < nfault && strcmp(faults[j], fl); j++)
			;
		if (j == nfault) {
			EPUSH(faults, nfault, (char *)fl);
			nfault++;
		}
	}
	/* Rows: overall, then per system (when more than one), then per fault. */
	for (s = 0; s < 1 + (nsys > 1 ? nsys : 0) + nfault; s++) {
		const char *kind, *val;
		char label[512];
		size_t first = nrows;
		if (s == 0) {
			kind = "all", val = "";
			snprintf(label, sizeof label, "all");
		} else if (nsys > 1 && s <= nsys) {
			kind = "system", val = systems[s - 1];
			snprintf(label, sizeof label, "system=%s", val);
		} else {
			kind = "fault", val = faults[s - 1 - (nsys > 1 ? nsys : 0)];
			snprintf(label, sizeof label, "fault=%s", val);
		}
		for (a = 0; a < narms; a++) {
			rows = erealloc(rows, (nrows + 1) * sizeof *rows);
			rows[nrows] = make_row(arms[a], kind, val, estrdup(label));
			compare(&rows[nrows], &rows[first], kind, val);
			nrows++;
		}
	}

	if (f == F_JSON) {
		json_object *o = json_object_new_object(), *ra = json_object_new_array();
		json_object *ca = json_object_new_array();
		json_object *bo = json_object_new_object();
		size_t len;
		const char *txt;
		js_add_int(bo, "resamples", boot_n);
		js_add_int(bo, "seed", (int64_t)seed);
		json_object_object_add(bo, "level", js_new_double(0.95));
		json_object_object_add(o, "bootstrap", bo);
		json_object_object_add(o, "match_tolerance_s", js_new_double(tol_s));
		for (i = 0; i < nrows; i++)
			json_object_array_add(ra, row_json(&rows[i]));
		for (i = 0; i < ncc; i++)
			json_object_array_add(ca, case_json(&cc[i]));
		if (strcmp(tables, "cases"))
			json_object_object_add(o, "rows", ra);
		else
			json_object_put(ra);
		if (strcmp(tables, "summary"))
			json_object_object_add(o, "cases", ca);
		else
			json_object_put(ca);
		txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		len = strlen(txt);
		fwrite(txt, 1, len, stdout);
		fputc('\n', stdout);
		json_object_put(o);
	} else {
		if (strcmp(tables, "cases")) {
			static const char *h[] = {
				"arm", "slice", "cases", "failed", "recall [95% CI]",
				"FA/control [95% CI]", "FA/h", "MTTD s p50/p90", "model TTD s p50/p90",
				"AC@1 [95% CI]", "AC@3 [95% CI]", "AC@5 [95% CI]", "Avg@5 [95% CI]",
				"remediation [95% CI]", "LLM calls", "LLM failures", "LLM tokens", "cost USD",
				"s/case", "lift AC@1", "McNemar p (b/c)",
			};
			struct table t = {sizeof h / sizeof *h, 0, NULL};
			char *cells[sizeof h / sizeof *h];
			size_t k;
			tab_head(&t, h, cells);
			for (i = 0; i < nrows; i++) {
				const struct row *r = &rows[i];
				char b[128];
				k = 0;
				cells[k++] = estrdup(r->arm);
				cells[k++] = estrdup(r->slice);
				snprintf(b, sizeof b, "%zu", r->n);
				cells[k++] = estrdup(b);
				snprintf(b, sizeof b, "%zu", r->failed);
				cells[k++] = estrdup(b);
				cells[k++] = r->is_ref ? estrdup("-") : fci(r, M_RECALL, 1);
				cells[k++] = r->is_ref ? estrdup("-") : r->nctl ? fci(r, M_FA, 1) : estrdup("no controls");
				cells[k++] = r->is_ref ? estrdup("-") : fnum(r->fa_hour, 2);
				if (r->is_ref) {
					cells[k++] = estrdup("-");
					cells[k++] = estrdup("-");
				} else {
					char *x = fnum(r->mttd50, 1), *y = fnum(r->mttd90, 1);
					snprintf(b, sizeof b, "%s/%s", x, y);
					free(x), free(y);
					cells[k++] = estrdup(b);
					x = fnum(r->ttd50, 1), y = fnum(r->ttd90, 1);
					snprintf(b, sizeof b, "%s/%s", x, y);
					free(x), free(y);
					cells[k++] = estrdup(b);
				}
				cells[k++] = fci(r, M_AC1, 1);
				cells[k++] = fci(r, M_AC3, 1);
				cells[k++] = fci(r, M_AC5, 1);
				cells[k++] = fci(r, M_AVG5, 1);
				cells[k++] = r->is_ref ? estrdup("-") : fci(r, M_REM, 1);
				cells[k++] = r->is_ref ? estrdup("-") : fnum(r->calls, 0);
				cells[k++] = r->is_ref ? estrdup("-") : fnum(r->llm_fail, 0);
				cells[k++] = r->is_ref ? estrdup("-") : fnum(r->tokens, 0);
				cells[k++] = r->is_ref ? estrdup("-") : fnum(r->cost, 4);
				cells[k++] = r->is_ref ? estrdup("-") : fnum(r->sec, 2);
				cells[k++] = isfinite(r->lift) ? fnum(r->lift, 3) : estrdup("-");
				if (isfinite(r->p)) {
					snprintf(b, sizeof b, "%.3f (%lu/%lu)", r->p, r->b, r->c);
					cells[k++] = estrdup(b);
				} else {
					cells[k++] = estrdup("-");
				}
				tab_add(&t, cells);
			}
			tab_print(&t, f);
			tab_free(&t);
		}
		if (strcmp(tables, "both") == 0)
			fputs("\n", stdout);
		if (strcmp(tables, "summary")) {
			static const char *h[] = {
				"arm", "system", "case", "fault", "truth", "top-5", "rank",
				"model TTD s", "false alarms in control", "remediation", "LLM calls",
				"LLM failures", "LLM tokens", "cost USD", "s",
			};
			struct table t = {sizeof h / sizeof *h, 0, NULL};
			char *cells[sizeof h / sizeof *h];
			size_t k;
			tab_head(&t, h, cells);
			for (i = 0; i < ncc; i++) {
				const struct ccase *c = &cc[i];
				k = 0;
				cells[k++] = estrdup(c->arm);
				cells[k++] = estrdup(c->system);
				cells[k++] = estrdup(c->cid);
				cells[k++] = estrdup(c->fault ? c->fault : "-");
				cells[k++] = estrdup(c->truth ? c->truth : "-");
				cells[k++] = estrdup(c->failed ? "failed" : c->top5 && *c->top5 ? c->top5 : "-");
				cells[k++] = fmt_rank(c);
				cells[k++] = c->is_ref ? estrdup("-") : fnum(c->ttd, 1);
				cells[k++] = fmt_ctl(c);
				cells[k++] = estrdup(c->is_ref || c->rem < 0 ? "-" : c->failed ? "failed" :
						     c->rem ? "match" : "no match");
				cells[k++] = c->is_ref ? estrdup("-") : fnum(c->calls, 0);
				cells[k++] = c->is_ref ? estrdup("-") : fnum(c->llm_failures, 0);
				cells[k++] = c->is_ref ? estrdup("-") : fnum(c->tokens, 0);
				cells[k++] = c->is_ref ? estrdup("-") : fnum(c->cost, 4);
				cells[k++] = c->is_ref ? estrdup("-") : fnum(c->wall, 2);
				tab_add(&t, cells);
			}
			tab_print(&t, f);
			tab_free(&t);
		}
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		efatal(1, "write error: %s", strerror(errno));
	for (i = 0; i < nrows; i++)
		free((char *)rows[i].slice);
	free(rows);
	free(systems);
	free(faults);
	for (i = 0; i < ncc; i++) {
		struct ccase *c = &cc[i];
		size_t j;
		free(c->arm);
		free(c->system);
		free(c->cid);
		free(c->incident);
		free(c->fault);
		free(c->truth);
		free(c->why);
		free(c->top5);
		for (j = 0; j < c->nservices; j++)
			free(c->services[j]);
		free(c->services);
	}
	free(cc);
	for (i = 0; i < narms; i++)
		free(arms[i]);
	free(arms);
	json_object_put(prices);
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
