/*
 * aiops-load: the source of the record stream.  Reads a dataset (logs,
 * metrics, traces and incidents files in the formats of lib/rd_formats.c,
 * plain or gzip), writes the `stage` record, one `run` record (lib/runrec: run id,
 * experiment, tags, the dataset files with their SHA-256, the whole config
 * with secrets redacted), every signal (`log`, `metric`, `span`) merged in
 * time order across the files, the `incident` records, and `stage_end`.
 *
 * Each signal file is first scanned for its time order.  Sorted files are
 * then read again and merged on the fly, one pending line per file, so
 * memory does not grow with the input.  Unsorted files go through an
 * external merge sort (lib/extsort) whose memory is bounded by --sort-mem;
 * its output is merged with the sorted files.  Incidents are few and are
 * buffered (lib/incident).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "cfg.h"
#include "dsfiles.h"
#include "err.h"
#include "extsort.h"
#include "incident.h"
#include "js.h"
#include "rd_alerts.h"
#include "rec.h"
#include "runrec.h"
#include "stage.h"
#include "ts.h"
#include "rd.h"
#include "rd_formats.h"


struct file {
	struct rd_src s;        /* the reader's view: path, role, options, queue */
	const struct rd_format *fmt;
	const char *cfgpath;    /* as configured */
	char *path;             /* as opened */
	int present, sorted, forced_fmt;
	int regular;            /* a regular file (a pipe is read once, unhashed) */
	/* the hash thread */
	uint64_t bytes;
	char sha[65];
	int hash_err;
	/* the merge */
	int open, eof;
	struct buf fin;
	int64_t last_ts;
	char *idpfx;            /* "logs", or "logs:NAME" when the role has several files */
};

static struct stage st;
static struct file *files;     /* in role order; a role may have several */
static size_t nfiles;
#define MAX_FILES 1024         /* the file index has 10 bits in seq_of */
static const char *role_param[RD_NROLE];
static const char *opt_dataset, *opt_files[RD_NROLE], *opt_run_id, *opt_tz, *opt_sort_mem,
	*opt_ts_unit;
static size_t sort_mem = (size_t)64 << 20;
static enum ts_unit g_unit = TS_AUTO;
static struct xsort *xs;
static unsigned long n_kind[3], n_sorted_files, n_xs_count, n_xs_spilled;
static const char *dataset_dir;
static const char *opt_alerts;
static struct rda alerts;      /* dataset.alerts (lib/rd_alerts) */
static int have_alerts, opt_list_files;
static unsigned long n_alerts;

static const struct opt opts[] = {
	{"dataset", OPT_STRING, &opt_dataset, "DIR", "directory of the dataset files (config: dataset.path)", OPT_NOCONFIG | OPT_NOPARAM, 'd'},
	{"logs", OPT_STRING, &opt_files[RD_LOGS], "FILE", "logs file (default logs.jsonl)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"metrics", OPT_STRING, &opt_files[RD_METRICS], "FILE", "metrics file (default metrics.jsonl)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"traces", OPT_STRING, &opt_files[RD_TRACES], "FILE", "traces file (default traces.jsonl)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"incidents", OPT_STRING, &opt_files[RD_INCIDENTS], "FILE", "incidents file (default incidents.jsonl)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"alerts", OPT_STRING, &opt_alerts, "PATH", "alerts file or GAIA directory (config: dataset.alerts)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"run_id", OPT_STRING, &opt_run_id, "ID", "the run id (default: 32 random hex digits)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"tz", OPT_STRING, &opt_tz, "ZONE", "zone of naive timestamps (config: dataset.timezone)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"ts_unit", OPT_STRING, &opt_ts_unit, "UNIT", "unit of numeric timestamps: auto s ms us ns", OPT_NOPARAM, 0},
	{"sort_mem", OPT_STRING, &opt_sort_mem, "BYTES", "memory for sorting unsorted files (default 64M)", OPT_NOPARAM, 0},
	{"list_files", OPT_FLAG, &opt_list_files, NULL, "print ROLE, found or missing, and FILE for each dataset file; read none", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};
/* The dataset keys read here rather than as options (on_start, open_file):
 * the unknown-key warning spares them. */
static const char *const dataset_keys[] = {"path", "dir", "timezone", "format", NULL};

/* ---- small helpers ---- */

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

/* The order of signals with equal times: file (so role), line, element. */
static uint64_t
seq_of(size_t file, unsigned long line, unsigned k)
{
	return (uint64_t)file << 54 | ((uint64_t)line & 0xffffffffu) << 22 | (k & ((1u << 22) - 1));
}

/* Writes "{"kind":K,"id":"role:LINE[.K]",BODY" for pending signal i into
 * f->fin. */
static void
finish_pend(struct file *f, size_t i)
{
	static const char *const kinds[] = {"{\"kind\":\"log\",\"id\":\"",
		"{\"kind\":\"metric\",\"id\":\"", "{\"kind\":\"span\",\"id\":\""};
	struct rd_pend *pd = &f->s.pend[i];
	char id[64];
	int n;

	buf_reset(&f->fin);
	buf_adds(&f->fin, kinds[pd->kind]);
	buf_adds(&f->fin, f->idpfx);
	buf_addc(&f->fin, ':');
	n = utoa(id, f->s.line);
	if (f->s.nelem > 1) {
		id[n++] = '.';
		n += utoa(id + n, pd->k);
	}
	id[n++] = '"';
	id[n++] = ',';
	w(&f->fin, id, (size_t)n);
	w(&f->fin, f->s.body.p + pd->off, pd->len);
	n_kind[pd->kind]++;
}

/* ---- files ---- */

static int
file_open(struct file *f)
{
	if (rec_open(&f->s.rd, f->path, st.max_line) < 0)
		efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
	f->open = 1;
	f->eof = 0;
	rd_reset(&f->s);
	f->s.priv = NULL;
	f->s.why[0] = '\0';
	if (f->fmt->open && f->fmt->open(&f->s) < 0)
		efatal(EXIT_USAGE, "%s", f->s.why);
	return 0;
}

static void
file_close(struct file *f)
{
	if (f->open) {
		if (f->fmt->close)
			f->fmt->close(&f->s);
		rec_close(&f->s.rd);
	}
	f->open = 0;
}

/* Reads records until one yields signals.  Returns 1, or 0 at the end. */
static int
file_fill(struct file *f)
{
	int k;

	while (f->s.ipend >= f->s.npend) {
		if (f->eof)
			return 0;
		rd_reset(&f->s);
		k = f->fmt->next(&f->s);
		if (k == 0) {
			f->eof = 1;
			return 0;
		}
		if (k < 0)
			efatal(EXIT_FAIL, "%s", f->s.why);
	}
	return 1;
}

/* One sortedness scan: 1 when every signal's time is >= the one before. */
static int
scan_pass(struct file *f, int mode)
{
	int64_t last = INT64_MIN;
	int sorted = 1;

	file_open(f);
	f->s.quiet = mode;
	while (sorted && file_fill(f)) {
		for (; f->s.ipend < f->s.npend; f->s.ipend++) {
			if (f->s.pend[f->s.ipend].ts < last) {
				sorted = 0;
				break;
			}
			last = f->s.pend[f->s.ipend].ts;
		}
	}
	f->s.quiet = 0;
	file_close(f);
	return sorted;
}

/* The sortedness scan, fast (a superset of the lines: sorted is sure),
 * then on an inversion exact (rd.h, RD_QUIET_FAST). */
static int
scan_sorted(struct file *f)
{
	struct stat sb;

	if (stat(f->path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return 0;     /* a pipe cannot be read twice */
	return scan_pass(f, RD_QUIET_FAST) || scan_pass(f, RD_QUIET_EXACT);
}

/* The format of a file from its name and first bytes (rd_choose). */
static const struct rd_format *
detect(struct file *f)
{
	struct rec_reader rd;
	struct buf b = BUF_INIT(0);
	struct rd_probe pr;
	const struct rd_format *fm;
	const char *p;
	size_t n;
	int k, score;
	char why[300];

	if (rec_open(&rd, f->path, st.max_line) < 0)
		efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
	while (b.len < RD_PROBE_BYTES && (k = rec_getline(&rd, &p, &n)) != REC_EOF) {
		if (k == REC_ERROR)
			efatal(EXIT_FAIL, "%s: read error: %s", f->path, strerror(errno));
		buf_add(&b, p, n);
		buf_addc(&b, '\n');
	}
	pr.eof = b.len < RD_PROBE_BYTES;
	rec_close(&rd);
	buf_addc(&b, '\0');
	pr.name = f->path;
	pr.role = f->s.role;
	pr.buf = b.p;
	pr.len = b.len - 1;
	if (rd_blank(pr.buf, pr.len))
		fm = rd_find("jsonl");      /* nothing to read */
	else if (f->s.role == RD_INCIDENTS &&
		 (fm = rd_choose(&pr, &score, why, sizeof why)) == NULL)
		fm = rd_find("jsonl");      /* the incidents' own form */
	else if ((fm = rd_choose(&pr, &score, why, sizeof why)) == NULL) {
		char hint[600];
		/* One message for the file; its lines become rejects. */
		warnf("%s: %s; every line becomes a reject", f->path,
		      rd_guess(&pr, why, hint, sizeof hint, &f->s.hint));
		fm = &rd_unknown;
	}
	buf_free(&b);
	return fm;
}

/* ---- the run record (lib/runrec) ---- */

static void *
hash_files(void *arg)
{
	(void)arg;
	for (size_t r = 0; r < nfiles; r++) {
		struct file *f = &files[r];
		if (f->present && f->regular)
			f->hash_err = run_hash_file(f->path, &f->bytes, f->sha);
	}
	return NULL;
}

static void
write_run(int64_t started)
{
	struct run_file *rf = ecalloc(nfiles + alerts.nfiles + 1, sizeof *rf);
	size_t n = 0;
	json_object *o;

	for (size_t r = 0; r < nfiles; r++) {
		struct file *f = &files[r];
		if (f->present)
			rf[n++] = (struct run_file){rd_role_name[f->s.role], f->path, f->fmt->name,
						    f->regular, f->bytes, f->sha};
	}
	for (size_t i = 0; i < alerts.nfiles; i++) {
		const struct rda_file *af = &alerts.files[i];
		rf[n++] = (struct run_file){af->role, af->path, af->format, 1, af->bytes, af->sha256};
	}
	o = run_record(opt_run_id, st.config, dataset_dir, rf, n, started);
	stage_emit(&st, o);
	json_object_put(o);
	free(rf);
}

/* ---- incidents (lib/incident) ---- */

static struct incidents incidents;

static struct inc_src
inc_src_of(struct file *f)
{
	return (struct inc_src){&st, f->path, f->idpfx, f->s.unit};
}

/* An incidents file in a format of its own: its reader queues each
 * incident as a JSON object in the JSONL input form. */
static void
load_incidents_rd(struct file *f)
{
	struct inc_src src = inc_src_of(f);
	json_object *o;
	const char *why;

	file_open(f);
	while (file_fill(f)) {
		for (; f->s.ipend < f->s.npend; f->s.ipend++) {
			struct rd_pend *pd = &f->s.pend[f->s.ipend];
			const char *p = f->s.body.p + pd->off;
			o = js_parse(st.tok, p, pd->len, &why);
			if (o == NULL)
				efatal(EXIT_FAIL, "%s:%lu: the %s reader wrote bad JSON: %s", f->path,
				       f->s.line, f->fmt->name, why ? why : "null");
			incident_add(&incidents, &src, o, f->s.line, p, pd->len);
			json_object_put(o);
		}
	}
	file_close(f);
}

static void
load_incidents(struct file *f)
{
	struct inc_src src = inc_src_of(f);

	if (!f->present)
		return;
	if (strcmp(f->fmt->name, "jsonl") != 0)
		load_incidents_rd(f);
	else if (incidents_read_jsonl(&incidents, &src) < 0)
		efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
}

/* ---- alerts (lib/rd_alerts): sorted with the unsorted signals ---- */

static uint64_t alert_seq;

static void
alert_out(void *ctx, int64_t ts, const char *rec, size_t n)
{
	(void)ctx;
	if (xs == NULL)
		xs = xs_new(sort_mem, NULL);
	/* After the signals of the same time, in reading order: the alerts
	 * take the last file index of seq_of. */
	if (xs_add(xs, ts, (uint64_t)(MAX_FILES - 1) << 54 | (++alert_seq & ((UINT64_C(1) << 54) - 1)), rec, n) < 0)
		efatal(EXIT_FAIL, "sorting: cannot write a temporary file: %s", strerror(errno));
}

static void
alert_incident(void *ctx, const char *rec, size_t n)
{
	(void)ctx;
	incident_add_record(&incidents, rec, n);
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

static int
exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* A file of role r at path; multi: one of several (ids name the file). */
static void
add_file(const struct file *t, char *path, int multi)
{
	struct file *f;
	const char *base;

	if (nfiles == MAX_FILES - 1) /* the last index is the alerts' */
		efatal(EXIT_USAGE, "%s: too many dataset files (at most %d)", path, MAX_FILES - 1);
	files = erealloc(files, (nfiles + 1) * sizeof *files);
	f = &files[nfiles++];
	*f = *t;
	f->path = path;
	f->s.path = path;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (multi) {
		struct buf b = BUF_INIT(0);
		buf_printf(&b, "%s:%s", rd_role_name[t->s.role], base);
		f->idpfx = buf_detach(&b);
	} else {
		f->idpfx = estrdup(rd_role_name[t->s.role]);
	}
	f->present = exists(f->path);
	if (f->present) {
		struct stat sb;
		f->regular = stat(f->path, &sb) == 0 && S_ISREG(sb.st_mode);
	}
	if (!f->present) {
		if (errno != ENOENT)
			efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
		warnf("note: %s: not found, no %s loaded", f->path, rd_role_name[t->s.role]);
	}
}

static void
setup_role(enum rd_role r, json_object *sec)
{
	json_object *fc = rd_get(sec, rd_role_name[r]), *v;
	const char *cfgname = NULL, *s;
	char why[300];
	struct file tf, *f = &tf;
	struct dsfiles df;
	int i;

	memset(&tf, 0, sizeof tf);

	f->s.st = &st;
	f->s.role = r;
	f->s.unit = g_unit;
	if (fc && json_object_is_type(fc, json_type_string))
		cfgname = json_object_get_string(fc);
	else if (fc && json_object_is_type(fc, json_type_object)) {
		cfgname = js_str(fc, "path");
		if (cfgname == NULL)
			cfgname = js_str(fc, "file");
	} else if (fc && !json_object_is_type(fc, json_type_null))
		efatal(EXIT_USAGE, "%s: dataset.%s: expected a file name or an object",
		       st.config_path ? st.config_path : "config", rd_role_name[r]);
	if (!json_object_is_type(fc, json_type_object))
		fc = NULL;
	f->s.cfg = fc;
	/* format: per file, or dataset.format.{role} */
	s = js_str(fc, "format");
	if (s == NULL)
		s = js_str(rd_get(sec, "format"), rd_role_name[r]);
	if (s) {
		if (strcmp(s, "ndjson") == 0)
			s = "jsonl";
		f->fmt = rd_find(s);
		if (f->fmt == NULL || !(f->fmt->roles >> r & 1)) {
			struct buf names = BUF_INIT(0);
			for (i = 0; rd_formats[i]; i++)
				if (rd_formats[i]->roles >> r & 1)
					buf_printf(&names, "%s%s", names.len ? ", " : "", rd_formats[i]->name);
			efatal(EXIT_USAGE, "dataset.%s.format: unknown format '%s' (%s)",
			       rd_role_name[r], s, names.p);
		}
		f->forced_fmt = 1;
	}
	if ((s = js_str(fc, "ts_unit")) != NULL && ts_unit_parse(s, &f->s.unit) < 0)
		efatal(EXIT_USAGE, "dataset.%s.ts_unit: unknown unit '%s' (auto, s, ms, us, ns)",
		       rd_role_name[r], s);
	/* the alias map, with the configured columns first */
	v = rd_get(fc, "columns");
	if (v == NULL)
		v = rd_get(fc, "fields");
	if (rd_amap_build(&f->s.amap, v, why, sizeof why) < 0)
		efatal(EXIT_USAGE, "dataset.%s.%s", rd_role_name[r], why);

	/* the path: the one rule of lib/dsfiles */
	if (dsfiles_resolve(dataset_dir, rd_role_name[r], rd_get(sec, rd_role_name[r]), opt_files[r],
			    &df, why, sizeof why) < 0)
		efatal(EXIT_USAGE, "%s", why);
	/* the stage record's param: the pattern, else the file (owned) */
	role_param[r] = df.globbed ? df.param : estrdup(df.path[0]);
	if (opt_list_files) {
		for (size_t k = 0; k < df.n; k++)
			printf("%s\t%s\t%s\n", rd_role_name[r], df.present[k] ? "found" : "missing",
			       df.path[k]);
	} else {
		for (size_t k = 0; k < df.n; k++)
			add_file(f, estrdup(df.path[k]), df.globbed);
		if (df.globbed && df.n == 0)
			warnf("note: dataset.%s.files: no file matches, no %s loaded", rd_role_name[r],
			      rd_role_name[r]);
	}
	dsfiles_free(&df);
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
		if (cfg_parse_size(opt_sort_mem, &sort_mem) < 0)
			stage_usage_error(s, "--sort-mem: bad size '%s'", opt_sort_mem);
	for (int r = 0; r < RD_NROLE; r++)
		setup_role((enum rd_role)r, sec);
	if (opt_list_files)
		exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL);
	for (size_t r = 0; r < nfiles; r++) {
		struct file *f = &files[r];
		if (!f->present)
			continue;
		if (!f->forced_fmt)
			f->fmt = f->regular ? detect(f) : rd_find("jsonl");
		/* the reader checks its options now, before any output */
		if (f->fmt->open) {
			if (f->fmt->open(&f->s) < 0)
				efatal(EXIT_USAGE, "%s", f->s.why);
			if (f->fmt->close)
				f->fmt->close(&f->s);
		}
	}
	js_add_str(params, "dataset", dataset_dir);
	for (int r = 0; r < RD_NROLE; r++)
		js_add_str(params, rd_role_name[r], role_param[r]);
	{
		char why[300];
		int k = rda_config(&alerts, rd_get(sec, "alerts"), dataset_dir, opt_alerts, why, sizeof why);
		if (k < 0)
			efatal(EXIT_USAGE, "%s: %s", s->config_path ? s->config_path : "config", why);
		have_alerts = k == 0;
		alerts.max_line = st.max_line;
	}
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
	js_add_int(o, "incident", (int64_t)incidents.n);
	if (have_alerts)
		js_add_int(o, "alert", (int64_t)n_alerts);
	json_object_object_add(end, "kinds", o);
	{
		unsigned long unk = 0;
		for (size_t r = 0; r < nfiles; r++)
			unk += files[r].s.unknown_service;
		if (unk)
			js_add_int(end, "unknown_service", (int64_t)unk);
	}
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
	struct file **src = ecalloc(nfiles + 1, sizeof *src);
	int nsrc = 0, have_xs = 0;
	int64_t xts = 0;
	uint64_t xseq = 0;
	const char *xp = NULL;
	size_t xn = 0;

	/* unsorted files through the external sort */
	for (size_t r = 0; r < nfiles; r++) {
		struct file *f = &files[r];
		if (!f->present || f->sorted || f->s.role == RD_INCIDENTS)
			continue;
		if (xs == NULL)
			xs = xs_new(sort_mem, NULL);
		n_sorted_files++;
		if (file_open(f) < 0)
			efatal(EXIT_FAIL, "%s: %s", f->path, strerror(errno));
		while (file_fill(f)) {
			for (; f->s.ipend < f->s.npend; f->s.ipend++) {
				struct rd_pend *pd = &f->s.pend[f->s.ipend];
				finish_pend(f, f->s.ipend);
				if (xs_add(xs, pd->ts, seq_of(r, f->s.line, pd->k), f->fin.p, f->fin.len) < 0)
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
	for (size_t r = 0; r < nfiles; r++) {
		struct file *f = &files[r];
		if (!f->present || !f->sorted || f->s.role == RD_INCIDENTS)
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
			struct rd_pend *pd = &f->s.pend[f->s.ipend];
			uint64_t sq = seq_of((size_t)(f - files), f->s.line, pd->k);
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
			struct rd_pend *pd = &f->s.pend[f->s.ipend];
			if (pd->ts < f->last_ts)
				efatal(EXIT_FAIL, "%s:%lu: out of time order on the second reading "
				       "(did the file change?)", f->path, f->s.line);
			f->last_ts = pd->ts;
			finish_pend(f, f->s.ipend);
			emit(f->fin.p, f->fin.len);
			f->s.ipend++;
			if (!file_fill(f)) {
				file_close(f);
				src[best] = src[--nsrc];
			}
		}
	}
	free(src);
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
	st.keys = dataset_keys;
	st.on_start = on_start;
	st.add_end = add_end;
	st.positional_ok = -1;
	st.no_loop = 1;
	stage_init(&st, argc, argv);

	threaded = pthread_create(&th, NULL, hash_files, NULL) == 0;
	if (!threaded)
		hash_files(NULL);
	for (size_t r = 0; r < nfiles; r++)
		if (files[r].present && files[r].s.role != RD_INCIDENTS)
			files[r].sorted = scan_sorted(&files[r]);
	if (threaded)
		pthread_join(th, NULL);
	for (size_t r = 0; r < nfiles; r++)
		if (files[r].present && files[r].hash_err)
			efatal(EXIT_FAIL, "%s: %s", files[r].path, strerror(files[r].hash_err));
	load_alerts();
	write_run(started);
	for (size_t r = 0; r < nfiles; r++)
		if (files[r].s.role == RD_INCIDENTS)
			load_incidents(&files[r]);
	run_merge();
	for (size_t i = 0; i < incidents.recs.len;) {
		char *nl = memchr(incidents.recs.p + i, '\n', incidents.recs.len - i);
		emit(incidents.recs.p + i, (size_t)(nl - (incidents.recs.p + i)));
		i = (size_t)(nl - incidents.recs.p) + 1;
	}
	incidents_free(&incidents);
	if (xs) {
		n_xs_count = xs_count(xs);
		n_xs_spilled = xs_spilled(xs);
		xs_free(xs);
		xs = NULL;
	}
	rda_free(&alerts);
	return stage_finish(&st);
}
