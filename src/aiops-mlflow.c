/*
 * aiops-mlflow: logs a whole run to MLflow and forwards its input unchanged.
 *
 * Every record goes downstream byte for byte.  The kinds it logs (run,
 * stage, stage_end, score, llm_call, rca, remediation, execution, reject)
 * are also appended to files in a private temporary directory as they pass:
 * the spool (the logged part of the stream, for --resume) and one JSONL
 * artifact per kind; a group record goes into the spool and a file of its
 * own as the few fields its trace needs (lib/mltrace), never its evidence;
 * an incident goes into the spool and memory as its ground truth
 * (lib/mlassess), for the assessments on its trace.
 * Memory holds only the run record, the stage records and the scores
 * (params and metrics to be), never the prompts, responses or decisions,
 * which are read back from disk (traces, one group at a time, through an
 * index of offsets) or mapped (artifact uploads).
 *
 * At end of input the run goes to a tracking server over REST (tracking URI
 * set) or into MLflow's file-store layout (offline default, ./mlruns).  A
 * server that stays down leaves the spool in the spool directory and exit
 * status 1 with the command that resends it.  The spool's last line, an
 * `mlflow_spool` record, keeps the experiment the run was logged to, so
 * that --resume sends it there (a different --experiment is a usage error).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "js.h"
#include "mlassess.h"
#include "mldataset.h"
#include "mlf.h"
#include "mlmodel.h"
#include "mlprompt.h"
#include "mlrun.h"
#include "mltlog.h"
#include "mltrace.h"
#include "rec.h"
#include "redact.h"
#include "sha256.h"
#include "stage.h"
#include "ts.h"

static const char *opt_uri, *opt_store, *opt_experiment, *opt_run_name, *opt_run_label,
	*opt_resume, *opt_spool_dir, *opt_parent, *opt_status, *opt_reason;
static char *kept_experiment;   /* the spool's, with --resume */
static long long opt_max_attempts = 4;
static double opt_timeout_s = 60, opt_backoff_s = 0.5;
static int opt_traces = 1, opt_score_counts;

static const struct opt opts[] = {
	{"tracking_uri", OPT_STRING, &opt_uri, "URI", "tracking server (http[s]://...) or file store path", OPT_NOPARAM, 0},
	{"store", OPT_STRING, &opt_store, "DIR", "offline file store (default ./mlruns)", 0, 0},
	{"experiment", OPT_STRING, &opt_experiment, "NAME", "experiment (default: the run record's)", 0, 0},
	{"run_name", OPT_STRING, &opt_run_name, "NAME", "run name (default [LABEL-]PROVIDER[-MODEL]-RUNID8)", 0, 0},
	{"run_label", OPT_STRING, &opt_run_label, "LABEL", "first part of the default run name (the driver's name of the config)", 0, 0},
	{"score_counts", OPT_BOOL, &opt_score_counts, NULL, "log each run-wide score's count n as the metric NAME.n too", 0, 0},
	{"resume", OPT_STRING, &opt_resume, "FILE", "resend a spooled run, completing it if it exists", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"spool_dir", OPT_STRING, &opt_spool_dir, "DIR", "where unsent runs are kept (default ./.aiops-spool)", 0, 0},
	{"max_attempts", OPT_INT, &opt_max_attempts, "N", "attempts per request, the first included", 0, 0},
	{"timeout_s", OPT_DURATION, &opt_timeout_s, "SECONDS", "time limit of one request", 0, 0},
	{"backoff_s", OPT_DURATION, &opt_backoff_s, "SECONDS", "base of the exponential backoff", 0, 0},
	{"traces", OPT_BOOL, &opt_traces, NULL, "log a trace per incident group and per lone llm_call (--no-traces)", 0, 0},
	{"parent_run_id", OPT_STRING, &opt_parent, "ID", "make the run a child of this MLflow run", 0, 0},
	{"status", OPT_STRING, &opt_status, "STATUS", "FAILED or KILLED: the run failed or was stopped, whatever the stream says (a driver's verdict); RUNNING: leave it running (a parent whose children come later)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"reason", OPT_STRING, &opt_reason, "TEXT", "with --status: why (the aiops.failure tag)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};

/* Per-kind files in the temporary directory. */
enum { F_SPOOL, F_LLM, F_RCA, F_REM, F_EXEC, F_SCORES, F_GROUP, F_N };
static const char *fnames[F_N] = {"spool.jsonl", "llm_calls.jsonl", "rca.jsonl",
				  "remediation.jsonl", "execution.jsonl", "scores.jsonl",
				  "groups.jsonl"};
static FILE *files[F_N];
static unsigned long nlines[F_N];
static char tmpdir[PATH_MAX];
static int server_mode;

struct stage_info {
	char *name, *version;
	json_object *params;   /* ref */
	json_object *end;      /* ref, NULL until its stage_end */
};

static json_object *run_rec;           /* ref */
static struct stage_info *stages;
static size_t nstages, capstages;
static json_object *scores;            /* array of refs */
static json_object *incidents;         /* slim incident records (lib/mlassess) */
static unsigned long nrejects;
static struct sha256 content_hash;     /* of the logged lines: an id without a run record */
static struct mlprompt_set prompts;    /* the templates the stages rendered (lib/mlprompt) */
static char model_id[64];              /* the run's LoggedModel (lib/mlmodel) */
static int final_rc;

/* ---- temporary files ---- */

static char **user_art;        /* artifact paths in the run, in arrival order */
static size_t nuser_art;

static void
cleanup(void)
{
	char p[PATH_MAX + 64];

	if (!tmpdir[0])
		return;
	for (int i = 0; i < F_N; i++) {
		if (files[i])
			fclose(files[i]);
		files[i] = NULL;
		snprintf(p, sizeof p, "%s/%s", tmpdir, fnames[i]);
		unlink(p);
	}
	snprintf(p, sizeof p, "%s/incidents.json", tmpdir);
	unlink(p);
	snprintf(p, sizeof p, "%s/config.json", tmpdir);
	unlink(p);
	for (size_t i = 0; i < nuser_art; i++) {
		snprintf(p, sizeof p, "%s/user-%zu", tmpdir, i);
		unlink(p);
		free(user_art[i]);
	}
	free(user_art);
	user_art = NULL;
	nuser_art = 0;
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

/* Appends s at p (no more than end - p - 1 bytes); returns the new end.
 * memcpy and strlen only: usable in a signal handler. */
static char *
put(char *p, char *end, const char *s)
{
	size_t n = strlen(s);

	if (n > (size_t)(end - p - 1))
		n = (size_t)(end - p - 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p + n;
}

/* The temporary files and directory removed with async-signal-safe calls
 * only (no stdio, no allocation): for a fatal signal or a reader that went
 * away, where the process then dies by the signal. */
static void
remove_tmp_now(void)
{
	static const char *const more[] = {"incidents.json", "config.json"};
	char p[PATH_MAX + 64], *end = p + sizeof p, *base, *q;

	if (!tmpdir[0])
		return;
	base = put(p, end, tmpdir);
	base = put(base, end, "/");
	for (int i = 0; i < F_N; i++) {
		put(base, end, fnames[i]);
		unlink(p);
	}
	for (size_t i = 0; i < sizeof more / sizeof *more; i++) {
		put(base, end, more[i]);
		unlink(p);
	}
	for (size_t i = 0; i < nuser_art; i++) {
		char digits[24], *d = digits + sizeof digits - 1;
		size_t v = i;
		*d = '\0';
		do
			*--d = (char)('0' + v % 10);
		while ((v /= 10) > 0);
		q = put(base, end, "user-");
		put(q, end, d);
		unlink(p);
	}
	rmdir(tmpdir);
}

static void
die_by_signal(int sig)
{
	remove_tmp_now();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
tmp_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static void
keep_bytes(int which, const char *raw, size_t len)
{
	char p[PATH_MAX + 64], *red;
	size_t n;

	if (files[which] == NULL) {
		tmp_path(p, sizeof p, fnames[which]);
		if ((files[which] = fopen(p, "w")) == NULL)
			efatal(EXIT_FAIL, "%s: %s", p, strerror(errno));
	}
	/* no secret reaches an artifact or the spool, whoever wrote the line */
	red = redact_str(raw, len, &n);
	if (fwrite(red ? red : raw, 1, red ? n : len, files[which]) != (red ? n : len) ||
	    putc('\n', files[which]) == EOF)
		efatal(EXIT_FAIL, "%s/%s: write error: %s", tmpdir, fnames[which], strerror(errno));
	free(red);
	nlines[which]++;
}

static void
keep_line(int which, const struct rec *r)
{
	keep_bytes(which, r->raw, r->len);
}

/* Closes the temporary files so that they can be read back. */
static void
close_files(void)
{
	for (int i = 0; i < F_N; i++) {
		if (files[i] && fclose(files[i]) != 0)
			efatal(EXIT_FAIL, "%s/%s: write error: %s", tmpdir, fnames[i], strerror(errno));
		files[i] = NULL;
	}
}

/* ---- handlers ---- */

/* Every logged record: downstream first, then the spool. */
static void
pass(struct stage *st, const struct rec *r)
{
	stage_forward(st, r);
	if (server_mode)
		keep_line(F_SPOOL, r);
	sha256_add(&content_hash, r->raw, r->len);
	sha256_add(&content_hash, "\n", 1);
}

static int
on_run(struct stage *st, struct rec *r)
{
	pass(st, r);
	if (run_rec == NULL) {
		run_rec = json_object_get(r->obj);
		redact_tree(run_rec);   /* its config becomes MLflow params */
	}
	else
		warn_at(r->source, r->line, "a second run record; the first one is logged");
	return 0;
}

/* A stage failed when it never ended or its stage_end says so. */
static int
stage_failed(const struct stage_info *si)
{
	int f = 0;

	return si->end == NULL || (js_bool(si->end, "failed", &f) == 0 && f);
}

static struct stage_info *
find_stage(const char *name, int open_only)
{
	for (size_t i = nstages; i-- > 0;)
		if (strcmp(stages[i].name, name) == 0 && (!open_only || stages[i].end == NULL))
			return &stages[i];
	return NULL;
}

static void
add_stage(struct rec *r)
{
	const char *name = js_str(r->obj, "stage"), *ver = js_str(r->obj, "version");
	json_object *p;

	if (nstages == capstages) {
		capstages = capstages ? capstages * 2 : 16;
		stages = erealloc(stages, capstages * sizeof *stages);
	}
	stages[nstages].name = estrdup(name);
	stages[nstages].version = estrdup(ver ? ver : "");
	stages[nstages].params = json_object_object_get_ex(r->obj, "params", &p) ? json_object_get(p) : NULL;
	stages[nstages].end = NULL;
	nstages++;
}

static int
on_stage(struct stage *st, struct rec *r)
{
	pass(st, r);
	if (js_str(r->obj, "stage") != NULL)
		add_stage(r);
	mlprompt_collect(&prompts, js_str(r->obj, "stage"), js_path(r->obj, "params"));
	return 0;
}

static int
on_stage_end(struct stage *st, struct rec *r)
{
	const char *name = js_str(r->obj, "stage");
	struct stage_info *s;

	pass(st, r);
	if (name == NULL)
		return 0;
	if ((s = find_stage(name, 1)) == NULL) {
		/* A stage_end without its stage record: keep its counters. */
		add_stage(r);
		s = &stages[nstages - 1];
		json_object_put(s->params);
		s->params = NULL;
	}
	s->end = json_object_get(r->obj);
	return 0;
}

static int
on_score(struct stage *st, struct rec *r)
{
	pass(st, r);
	keep_line(F_SCORES, r);
	if (js_str(r->obj, "name") != NULL)
		json_object_array_add(scores, json_object_get(r->obj));
	return 0;
}

static int
on_llm_call(struct stage *st, struct rec *r)
{
	pass(st, r);
	keep_line(F_LLM, r);
	return 0;
}

/* Forwards r whole and spools slim (a record cut to what is logged, may
 * be NULL) in its place; returns slim's text (owned by slim) or NULL. */
static const char *
forward_slim(struct stage *st, const struct rec *r, json_object *slim, size_t *n)
{
	const char *s;

	stage_forward(st, r);
	if (slim == NULL)
		return NULL;
	s = js_dump(slim, n);
	if (server_mode)
		keep_bytes(F_SPOOL, s, *n);
	return s;
}

/* A group goes downstream whole; the spool and the traces keep the few
 * fields a trace's root span needs (lib/mltrace), never its evidence, only
 * the evidence's digest (lib/mldataset).  It is not hashed: before groups were traced they were not logged. */
static int
on_group(struct stage *st, struct rec *r)
{
	json_object *slim = mltrace_group_slim(r->obj);
	size_t n;
	const char *s;

	mldataset_evidence(r->obj, slim);
	s = forward_slim(st, r, slim, &n);

	if (s)
		keep_bytes(F_GROUP, s, n);
	json_object_put(slim);
	return 0;
}

/* An incident (the ground truth) goes downstream whole; the spool and the
 * assessments keep its slim copy.  Not hashed, like a group. */
static int
on_incident(struct stage *st, struct rec *r)
{
	json_object *slim = mlassess_incident_slim(r->obj);
	size_t n;

	if (forward_slim(st, r, slim, &n))
		json_object_array_add(incidents, slim);
	return 0;
}

static int
on_rca(struct stage *st, struct rec *r)
{
	pass(st, r);
	keep_line(F_RCA, r);
	return 0;
}

static int
on_remediation(struct stage *st, struct rec *r)
{
	pass(st, r);
	keep_line(F_REM, r);
	return 0;
}

static int
on_execution(struct stage *st, struct rec *r)
{
	pass(st, r);
	keep_line(F_EXEC, r);
	return 0;
}

static int
on_reject(struct stage *st, struct rec *r)
{
	pass(st, r);
	nrejects++;
	return 0;
}

/*
 * An `artifact` record {path, content} becomes a file of the run under that
 * path (relative, no "..": e.g. the driver's benchmark table).  The content
 * waits in the temporary directory like the other artifacts.
 */

static int
safe_art_path(const char *p)
{
	const char *q;

	if (p == NULL || *p == '\0' || *p == '/' || strlen(p) > 200)
		return 0;
	for (q = p; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
		      *q == '_' || *q == '-' || *q == '.' || *q == '/'))
			return 0;
	return strstr(p, "..") == NULL && strstr(p, "//") == NULL && p[strlen(p) - 1] != '/';
}

static int
on_artifact(struct stage *st, struct rec *r)
{
	const char *path = js_str(r->obj, "path"), *content = js_str(r->obj, "content");
	char p[PATH_MAX + 64], name[32];

	if (!safe_art_path(path) || content == NULL) {
		stage_reject(st, r->source, r->line, r->raw, r->len, r->len,
			     "artifact needs a relative \"path\" ([A-Za-z0-9_./-], no \"..\") and a string \"content\"");
		return 0;
	}
	pass(st, r);
	snprintf(name, sizeof name, "user-%zu", nuser_art);
	tmp_path(p, sizeof p, name);
	if (mlf_write_file(p, content, strlen(content)) < 0)
		efatal(EXIT_FAIL, "%s: %s", p, strerror(errno));
	user_art = erealloc(user_art, (nuser_art + 1) * sizeof *user_art);
	user_art[nuser_art++] = estrdup(path);
	return 0;
}

/* Each template a stage rendered, as the artifact prompts/NAME.txt
 * (lib/mlprompt read it as its stage record passed). */
static void
prompt_artifacts(void)
{
	char p[PATH_MAX + 64], name[32], path[128];

	for (size_t i = 0; i < prompts.n; i++) {
		if (prompts.p[i].text == NULL)
			continue;
		snprintf(name, sizeof name, "user-%zu", nuser_art);
		tmp_path(p, sizeof p, name);
		if (mlf_write_file(p, prompts.p[i].text, prompts.p[i].len) < 0)
			efatal(EXIT_FAIL, "%s: %s", p, strerror(errno));
		snprintf(path, sizeof path, "prompts/%s.txt", prompts.p[i].name);
		user_art = erealloc(user_art, (nuser_art + 1) * sizeof *user_art);
		user_art[nuser_art++] = estrdup(path);
	}
}

/* The spool's trailer (keep_spool): read by on_start when resuming, and
 * neither logged, hashed nor forwarded then; any other time a foreign
 * record like any other. */
static int
on_spool_meta(struct stage *st, struct rec *r)
{
	if (!opt_resume)
		stage_forward(st, r);
	return 0;
}

static const struct handler handlers[] = {
	{"artifact", on_artifact},
	{"mlflow_spool", on_spool_meta},
	{"run", on_run},
	{"stage", on_stage},
	{"stage_end", on_stage_end},
	{"score", on_score},
	{"llm_call", on_llm_call},
	{"group", on_group},
	{"incident", on_incident},
	{"rca", on_rca},
	{"remediation", on_remediation},
	{"execution", on_execution},
	{"reject", on_reject},
	{NULL, NULL},
};

/* ---- the run to log ---- */

struct runinfo {
	char run_id[65];        /* aiops run id */
	const char *experiment;
	char *run_name;
	int64_t start_ms, end_ms;
	int failed;             /* FAILED, or KILLED when killed is set too */
	int killed;
	int running;            /* --status RUNNING: not ended */
	struct buf failure;     /* why FAILED or KILLED */
	struct mlf_data d;
	json_object *exp_tags;  /* borrowed */
	int has_table;
	char *user;
};

static const char *
status_name(const struct runinfo *ri)
{
	return ri->killed ? "KILLED" : ri->failed ? "FAILED" : ri->running ? "RUNNING" : "FINISHED";
}

/* Adds the number members of o as metrics PREFIX.KEY (objects recurse). */
static void
counters(struct mlf_data *d, const char *prefix, json_object *o, int64_t ts)
{
	struct buf k = BUF_INIT(0);

	json_object_object_foreach(o, key, v) {
		if (strcmp(key, "kind") == 0 || strcmp(key, "stage") == 0)
			continue;
		buf_reset(&k);
		buf_printf(&k, "%s.%s", prefix, key);
		if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
			mlf_metric(d, k.p, json_object_get_double(v), ts, 0);
		else if (json_object_is_type(v, json_type_boolean))
			mlf_metric(d, k.p, json_object_get_boolean(v) ? 1 : 0, ts, 0);
		else if (json_object_is_type(v, json_type_object))
			counters(d, k.p, v, ts);
	}
	buf_free(&k);
}

/* The evaluation table eval/incidents.json (lib/mlrun); 0 when no score
 * is per incident. */
static int
write_table(json_object *ids)
{
	json_object *t = mlrun_table(scores, ids);
	char p[PATH_MAX + 64];
	const char *s;
	size_t len;
	int rc;

	if (t == NULL)
		return 0;
	s = js_dump(t, &len);
	tmp_path(p, sizeof p, "incidents.json");
	rc = mlf_write_file(p, s, len);
	json_object_put(t);
	if (rc < 0)
		efatal(EXIT_FAIL, "%s: %s", p, strerror(errno));
	return 1;
}

/* Builds everything that is logged. */
static void
build(struct stage *st, struct runinfo *ri, const char *where)
{
	json_object *cfg = NULL, *v, *ids, **ends;
	const char *s;
	char hex[65];
	size_t i, n;
	struct buf note = BUF_INIT(0), b = BUF_INIT(0);
	int64_t ts;

	memset(ri, 0, sizeof *ri);
	mlf_data_init(&ri->d);
	ri->failure = (struct buf)BUF_INIT(0);
	sha256_hex(&content_hash, hex);
	s = run_rec ? js_str(run_rec, "run_id") : NULL;
	snprintf(ri->run_id, sizeof ri->run_id, "%s", s && *s ? s : hex);
	if (!(s && *s))
		ri->run_id[32] = '\0';
	/* The pipeline's times, not the upload's. */
	ri->start_ms = run_rec ? ts_parse_ms(js_str(run_rec, "started_at")) : -1;
	ends = ecalloc(nstages + 1, sizeof *ends);
	for (i = 0; i < nstages; i++)
		ends[i] = stages[i].end;
	ri->end_ms = mlrun_end_ms(ri->start_ms, ends, nstages);
	free(ends);
	if (ri->end_ms < 0)
		ri->end_ms = ts_now() / TS_NS_PER_MS;
	if (ri->start_ms < 0)
		ri->start_ms = ri->end_ms;
	ts = ri->start_ms;
	if (run_rec && json_object_object_get_ex(run_rec, "config", &cfg) &&
	    !json_object_is_type(cfg, json_type_object))
		cfg = NULL;
	if (cfg == NULL && json_object_object_length(st->config) > 0)
		cfg = st->config;
	ri->experiment = opt_experiment;
	if (ri->experiment == NULL && run_rec)
		ri->experiment = js_str(run_rec, "experiment");
	if (ri->experiment == NULL && cfg)
		ri->experiment = js_str(js_path(cfg, "experiment"), "name");
	if (ri->experiment == NULL)
		ri->experiment = "aiops";
	ri->exp_tags = cfg ? js_path(cfg, "experiment.tags") : NULL;
	ri->run_name = opt_run_name ? estrdup(opt_run_name) : mlrun_name(cfg, opt_run_label, ri->run_id);
	s = getenv("USER");
	ri->user = estrdup(s ? s : "aiops");

	/* Status: KILLED or FAILED when the driver says so (--status), FAILED
	 * when a stage never ended or says it failed. */
	if (opt_status && strcmp(opt_status, "RUNNING") == 0) {
		ri->running = 1;
		ri->end_ms = 0;
	} else if (opt_status) {
		ri->failed = 1;
		ri->killed = strcmp(opt_status, "KILLED") == 0;
		buf_adds(&ri->failure, opt_reason && *opt_reason ? opt_reason : opt_status);
	}
	for (i = 0; i < nstages; i++) {
		if (stages[i].end == NULL) {
			buf_printf(&ri->failure, "%sstage %s has no stage_end", ri->failure.len ? "; " : "",
				   stages[i].name);
			ri->failed = 1;
		} else if (stage_failed(&stages[i])) {
			const char *why = js_str(stages[i].end, "error");
			buf_printf(&ri->failure, "%sstage %s failed%s%s", ri->failure.len ? "; " : "",
				   stages[i].name, why ? ": " : "", why ? why : "");
			ri->failed = 1;
		}
	}

	/* Params: the URI used (redacted), the config, then each stage's own. */
	{
		char *u = mlrun_uri(where, server_mode);
		mlf_param(&ri->d, "mlflow.tracking_uri", u);
		free(u);
	}
	if (cfg)
		mlf_flatten_params(&ri->d, "", cfg);
	for (i = 0; i < nstages; i++)
		if (stages[i].params && json_object_is_type(stages[i].params, json_type_object))
			mlf_flatten_params(&ri->d, stages[i].name, stages[i].params);

	/* Tags. */
	if (run_rec && json_object_object_get_ex(run_rec, "tags", &v) &&
	    json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, tv) {
			if (strcmp(k, "mlflow.runName") == 0)
				continue;
			mlf_tag(&ri->d, k, json_object_is_type(tv, json_type_string)
				? json_object_get_string(tv) : json_object_to_json_string_ext(tv, JS_FLAGS));
		}
	}
	mlf_tag(&ri->d, "aiops.run_id", ri->run_id);
	/* Logged elsewhere than its own experiment (a benchmark's): say which. */
	s = run_rec ? js_str(run_rec, "experiment") : NULL;
	if (s == NULL && cfg)
		s = js_str(js_path(cfg, "experiment"), "name");
	if (s && strcmp(s, ri->experiment) != 0)
		mlf_tag(&ri->d, "aiops.config_experiment", s);
	if (opt_parent && *opt_parent)
		mlf_tag(&ri->d, "mlflow.parentRunId", opt_parent);
	mlf_tag(&ri->d, "mlflow.source.name", "aiops");
	mlf_tag(&ri->d, "mlflow.source.type", "LOCAL");
	mlf_tag(&ri->d, "mlflow.user", ri->user);
	if (run_rec && (s = js_str(js_path(run_rec, "dataset"), "sha256")) != NULL)
		mlf_tag(&ri->d, "aiops.dataset.sha256", s);
	if (run_rec && (s = js_str(js_path(run_rec, "dataset"), "path")) != NULL)
		mlf_tag(&ri->d, "aiops.dataset.path", s);
	for (i = 0; i < nstages; i++) {
		buf_reset(&b);
		buf_printf(&b, "aiops.stage.%s.version", stages[i].name);
		mlf_tag(&ri->d, b.p, stages[i].version);
	}
	if (ri->failed)
		mlf_tag(&ri->d, "aiops.failure", ri->failure.p);
	/* A stage replaced by a command is named as such, so that the run never
	 * claims the built-in stage (or the provider) that did not run. */
	if (cfg) {
		static const char *secs[][2] = {
			{"load", "dataset"}, {"correlate", "pipeline.correlation"},
			{"rca", "pipeline.rca"}, {"remediate", "pipeline.remediation"},
			{"exec", "pipeline.executor"}, {"metrics", "pipeline.metrics"},
		};
		const char *ptype = js_str(js_path(cfg, "provider"), "type");
		for (i = 0; i < sizeof secs / sizeof *secs; i++) {
			if ((s = js_str(js_path(cfg, secs[i][1]), "command")) == NULL || !*s)
				continue;
			buf_reset(&b);
			buf_printf(&b, "aiops.stage.%s.command", secs[i][0]);
			mlf_tag(&ri->d, b.p, s);
			if (strcmp(secs[i][0], "rca") == 0) {
				buf_reset(&b);
				buf_printf(&b, "command: %s", s);
				ptype = b.p;
			}
		}
		mlf_tag(&ri->d, "aiops.provider", ptype ? ptype : "baseline");
	}

	/* Metrics: the run-wide scores, stage counters; per-incident scores
	 * are the table. */
	ids = mlrun_incidents(scores);
	n = json_object_array_length(scores);
	mlrun_score_metrics(&ri->d, scores, ts, opt_score_counts);
	for (i = 0; i < nstages; i++)
		if (stages[i].end)
			counters(&ri->d, stages[i].name, stages[i].end, ts);
	if (nstages > 0) {   /* a pipeline's (a benchmark's parent has none) */
		mlf_metric(&ri->d, "aiops.rejects", (double)nrejects, ts, 0);
		mlf_metric(&ri->d, "aiops.llm_calls", (double)nlines[F_LLM], ts, 0);
	}
	ri->has_table = write_table(ids);
	if (ri->has_table)
		mlf_tag(&ri->d, "mlflow.loggedArtifacts", "[{\"path\": \"eval/incidents.json\", \"type\": \"table\"}]");

	/* The run description shown in the UI. */
	buf_printf(&note, "aiops run `%s`, experiment %s", ri->run_id, ri->experiment);
	if (run_rec && (s = js_str(js_path(run_rec, "dataset"), "sha256")) != NULL)
		buf_printf(&note, ", dataset sha256 `%.12s`", s);
	buf_printf(&note, ".\n\n**Status:** %s%s%s\n\n", status_name(ri),
		   ri->failed ? " — " : "", ri->failed ? ri->failure.p : "");
	if (nstages) {
		buf_adds(&note, "**Stages:**");
		for (i = 0; i < nstages; i++)
			buf_printf(&note, " %s%s", stages[i].name, i + 1 < nstages ? "," : "\n\n");
	}
	buf_printf(&note, "**Incidents scored:** %zu; **LLM calls:** %lu; **rejects:** %lu\n\n",
		   json_object_array_length(ids), nlines[F_LLM], nrejects);
	for (i = 0; i < n; i++) {
		json_object *sc = json_object_array_get_idx(scores, i);
		double val, cnt;
		char vs[32];
		if (js_str(sc, "incident_id") != NULL)
			continue;
		if (js_num(sc, "value", &val) == 0)
			mlf_fmt_double(val, vs);
		else
			snprintf(vs, sizeof vs, "undefined");
		buf_printf(&note, "- %s = %s", js_str(sc, "name"), vs);
		if ((s = js_str(sc, "unit")) != NULL)
			buf_printf(&note, " %s", s);
		if (js_num(sc, "n", &cnt) == 0)
			buf_printf(&note, " (n=%.0f)", cnt);
		buf_addc(&note, '\n');
	}
	mlf_tag(&ri->d, "mlflow.note.content", note.p);
	buf_free(&note);
	buf_free(&b);
	json_object_put(ids);

	/* config.json */
	if (cfg) {
		char p[PATH_MAX + 64];
		const char *txt = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
		tmp_path(p, sizeof p, "config.json");
		if (mlf_write_file(p, txt, strlen(txt)) < 0)
			efatal(EXIT_FAIL, "%s: %s", p, strerror(errno));
	}
}

/* The artifacts that exist: name in the run, file in tmpdir. */
struct artifact {
	const char *path;
	char file[32];
};

/* Fills a (room for ARTIFACTS_MAX) and returns how many there are. */
#define ARTIFACTS_MAX (8 + nuser_art)

static size_t
artifacts(struct artifact *a)
{
	static const struct {
		const char *path, *file;
		int which;
	} all[] = {
		{"config.json", "config.json", -1},
		{"llm_calls.jsonl", "llm_calls.jsonl", F_LLM},
		{"rca.jsonl", "rca.jsonl", F_RCA},
		{"remediation.jsonl", "remediation.jsonl", F_REM},
		{"execution.jsonl", "execution.jsonl", F_EXEC},
		{"scores.jsonl", "scores.jsonl", F_SCORES},
		{"eval/incidents.json", "incidents.json", -1},
	};
	size_t n = 0;
	char p[PATH_MAX + 64];

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (all[i].which >= 0 && nlines[all[i].which] == 0)
			continue;
		tmp_path(p, sizeof p, all[i].file);
		if (access(p, F_OK) < 0)
			continue;
		a[n].path = all[i].path;
		snprintf(a[n].file, sizeof a[n].file, "%s", all[i].file);
		n++;
	}
	for (size_t i = 0; i < nuser_art; i++) {
		a[n].path = user_art[i];
		snprintf(a[n].file, sizeof a[n].file, "user-%zu", i);
		n++;
	}
	return n;
}

/* Where the run went, for the mlflow_run record. */
static char logged_run[65], logged_exp[65], logged_where[PATH_MAX + 64];

/*
 * Writes {"kind":"mlflow_run", aiops_run_id, run_id, experiment_id, status,
 * tracking_uri or store} so that a driver can find the run (and name it as
 * the parent of others).
 */
static void
emit_logged(struct stage *st, const struct runinfo *ri, int server)
{
	json_object *o = stage_record("mlflow_run");

	js_add_str(o, "aiops_run_id", ri->run_id);
	js_add_str(o, "run_id", logged_run);
	js_add_str(o, "experiment_id", logged_exp);
	js_add_str(o, "status", status_name(ri));
	js_add_str(o, server ? "tracking_uri" : "store", logged_where);
	stage_emit(st, o);
	json_object_put(o);
}

/* ---- offline: the file store ---- */

static void
random_hex32(char out[33])
{
	unsigned char r[16];
	int fd = open("/dev/urandom", O_RDONLY);
	char seed[64], hex[65];

	if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
		snprintf(seed, sizeof seed, "%lld.%d", (long long)ts_now(), (int)getpid());
		js_sha256_hex(seed, strlen(seed), hex);
		memcpy(out, hex, 32);
	} else {
		for (int i = 0; i < 16; i++)
			snprintf(out + 2 * i, 3, "%02x", r[i]);
	}
	if (fd >= 0)
		close(fd);
	out[32] = '\0';
}

static int
log_offline(struct runinfo *ri, const char *root)
{
	struct mlf_fs fs;
	char err[PATH_MAX + 256], rid[33], p[PATH_MAX + 64];
	struct artifact *a = ecalloc(ARTIFACTS_MAX, sizeof *a);
	size_t na, i;

	if (mlf_fs_open(&fs, root, ri->experiment, ri->exp_tags, err, sizeof err) < 0) {
		warnf("file store: %s", err);
		return EXIT_FAIL;
	}
	/* The aiops run id names the run directory when it has MLflow's form
	 * (32 hex digits), so logging the same run again completes it instead
	 * of making a second one. */
	if (strlen(ri->run_id) == 32 && strspn(ri->run_id, "0123456789abcdef") == 32)
		memcpy(rid, ri->run_id, 33);	/* 32 digits and the NUL */
	else
		random_hex32(rid);
	mlf_tag(&ri->d, "mlflow.runName", ri->run_name);
	if (mlf_fs_write_run(&fs, rid, ri->run_name, ri->user, ri->start_ms, ri->end_ms,
			     ri->killed ? MLF_KILLED : ri->failed ? MLF_FAILED : ri->running ? MLF_RUNNING : MLF_FINISHED,
			     &ri->d, err, sizeof err) < 0) {
		warnf("file store: %s", err);
		mlf_fs_free(&fs);
		free(a);
		return EXIT_FAIL;
	}
	na = artifacts(a);
	for (i = 0; i < na; i++) {
		tmp_path(p, sizeof p, a[i].file);
		if (mlf_fs_artifact(&fs, a[i].path, p, err, sizeof err) < 0) {
			warnf("file store: %s", err);
			mlf_fs_free(&fs);
			free(a);
			return EXIT_FAIL;
		}
	}
	free(a);
	snprintf(logged_run, sizeof logged_run, "%s", rid);
	snprintf(logged_exp, sizeof logged_exp, "%s", fs.exp_id);
	snprintf(logged_where, sizeof logged_where, "%s", fs.root);
	warnf("logged run %s (%s) to the file store %s, experiment %s", rid,
	      status_name(ri), fs.root, fs.exp_id);
	warnf("view it: MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri %s", fs.root);
	warnf("move it to a database: MLFLOW_ALLOW_FILE_STORE=true mlflow migrate-filestore "
	      "--source %s --target sqlite:///mlflow.db", fs.root);
	mlf_fs_free(&fs);
	return 0;
}

/* ---- online: REST ---- */

struct online {
	struct mlf_client c;
	char exp_id[64];
	char run_id[64];
	char *art_path;              /* "/<exp>/<run>/artifacts" under the proxy, or NULL */
	char err[PATH_MAX + 1024];
	char **have;                 /* resume: "key\037step\037value" already on the server */
	size_t nhave;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
point_key(const char *key, long long step, double v)
{
	struct buf b = BUF_INIT(0);
	char vs[32];

	mlf_fmt_double(v, vs);
	buf_printf(&b, "%s\037%lld\037%s", key, step, vs);
	return buf_detach(&b);
}

static int
skip_point(void *ctx, const struct mlf_metric *m)
{
	struct online *on = ctx;
	char *k;
	int found;

	if (on->nhave == 0)
		return 0;
	k = point_key(m->key, (long long)m->step, m->value);
	found = bsearch(&k, on->have, on->nhave, sizeof *on->have, cmp_str) != NULL;
	free(k);
	return found;
}

/* Resume: collects the metric points the existing run already has. */
static int
load_points(struct online *on, const struct runinfo *ri)
{
	size_t i, j, cap = 0;
	struct buf path = BUF_INIT(0);

	for (i = 0; i < ri->d.nmetrics; i++) {
		const char *key = ri->d.metrics[i].key;
		json_object *o, *ms;
		int seen = 0;
		char *q;
		for (j = 0; j < i && !seen; j++)
			seen = strcmp(ri->d.metrics[j].key, key) == 0;
		if (seen)
			continue;
		q = http_escape(key);
		buf_reset(&path);
		buf_printf(&path, "/api/2.0/mlflow/metrics/get-history?run_id=%s&metric_key=%s&max_results=25000",
			   on->run_id, q);
		free(q);
		if (mlf_call(&on->c, "GET", path.p, NULL, 0, NULL, NULL, &o, on->err, sizeof on->err) < 0) {
			buf_free(&path);
			return -1;
		}
		if (json_object_object_get_ex(o, "metrics", &ms) && json_object_is_type(ms, json_type_array))
			for (j = 0; j < json_object_array_length(ms); j++) {
				json_object *m = json_object_array_get_idx(ms, j);
				double v;
				int64_t step = 0;
				if (js_num(m, "value", &v) < 0)
					continue;
				js_int(m, "step", &step);
				if (on->nhave == cap) {
					cap = cap ? cap * 2 : 64;
					on->have = erealloc(on->have, cap * sizeof *on->have);
				}
				on->have[on->nhave++] = point_key(key, (long long)step, v);
			}
		json_object_put(o);
	}
	buf_free(&path);
	if (on->nhave > 1)	/* have is NULL while the run has no metrics */
		qsort(on->have, on->nhave, sizeof *on->have, cmp_str);
	return 0;
}

/* "mlflow-artifacts:/1/abc/artifacts" or "mlflow-artifacts://host:port/1/..."
 * → "/1/abc/artifacts"; NULL for any other scheme (no proxy to upload to). */
static char *
proxy_path(const char *uri)
{
	const char *p;

	if (uri == NULL || strncmp(uri, "mlflow-artifacts:", 17) != 0)
		return NULL;
	p = uri + 17;
	if (strncmp(p, "//", 2) == 0) {
		p = strchr(p + 2, '/');
		if (p == NULL)
			return NULL;
	}
	while (p[0] == '/' && p[1] == '/')
		p++;
	if (*p != '/')
		return NULL;
	return estrdup(p);
}

static int
put_artifact(struct online *on, const char *path, const char *file)
{
	char p[PATH_MAX + 64];
	struct buf url = BUF_INIT(0);
	struct stat sb;
	void *map = NULL;
	int fd, rc;
	const char *ct = strstr(path, ".jsonl") ? "application/x-ndjson" : "application/json";

	tmp_path(p, sizeof p, file);
	if ((fd = open(p, O_RDONLY)) < 0 || fstat(fd, &sb) < 0) {
		snprintf(on->err, sizeof on->err, "%s: %s", p, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (sb.st_size > 0 &&
	    (map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		snprintf(on->err, sizeof on->err, "%s: %s", p, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	buf_printf(&url, "/api/2.0/mlflow-artifacts/artifacts%s/%s", on->art_path, path);
	rc = mlf_call(&on->c, "PUT", url.p, map ? map : "", (size_t)sb.st_size, ct, NULL, NULL,
		      on->err, sizeof on->err);
	if (map)
		munmap(map, (size_t)sb.st_size);
	buf_free(&url);
	return rc;
}

/* What the traces and their assessments know of the run. */
static struct mltrace_run
trace_run(const struct online *on, const struct runinfo *ri)
{
	struct mltrace_run r = {ri->run_id, on->run_id,
				run_rec ? js_str(js_path(run_rec, "dataset"), "sha256") : NULL,
				ri->start_ms, &prompts, model_id};
	return r;
}

/* Every trace of the run (lib/mltlog, lib/mltrace): one per incident group, and one
 * per llm_call that no group took. */
static int
log_traces(struct online *on, const struct runinfo *ri, int resume, unsigned long *sent)
{
	static const int kinds[] = {F_RCA, F_REM, F_EXEC, F_LLM};
	char paths[5][PATH_MAX + 64];
	const char *files[4];
	struct mltrace_run r = trace_run(on, ri);

	for (size_t i = 0; i < 4; i++) {
		tmp_path(paths[i], sizeof paths[i], fnames[kinds[i]]);
		files[i] = paths[i];
	}
	tmp_path(paths[4], sizeof paths[4], fnames[F_GROUP]);
	return mltlog_send(&on->c, on->exp_id, &r, paths[4], files, 4, paths[3], resume, sent,
			   on->err, sizeof on->err);
}

/* The incidents' ground truth and scores as assessments on their traces
 * (lib/mlassess); a stage that failed for the run fails the scores that
 * depend on it. */
static int
log_assessments(struct online *on, const struct runinfo *ri, struct mlassess_count *n)
{
	char rca[PATH_MAX + 64], rem[PATH_MAX + 64];
	const char **failed = ecalloc(nstages + 1, sizeof *failed);
	struct mltrace_run r = trace_run(on, ri);
	size_t k = 0;
	int rc;

	for (size_t i = 0; i < nstages; i++)
		if (stage_failed(&stages[i]))
			failed[k++] = stages[i].name;
	tmp_path(rca, sizeof rca, fnames[F_RCA]);
	tmp_path(rem, sizeof rem, fnames[F_REM]);
	rc = mlassess_send(&on->c, &r, incidents, scores, rca, rem, failed, n, on->err,
			   sizeof on->err);
	free(failed);
	return rc;
}

/*
 * The templates into the prompt registry and the run's LoggedModel (issue
 * #19): the run's tags mlflow.linkedPrompts and aiops.prompts (what was
 * registered, or none and why) and aiops.model_id, before its log-batch.
 */
static int
log_prompts_model(struct online *on, struct runinfo *ri)
{
	json_object *sp = json_object_new_object(), *linked;
	struct mlmodel m = {{0}, {0}, {0}, 0, NULL};
	unsigned calls = 0;
	char *sum;
	size_t i, n;
	int rc = mlprompt_register(&prompts, &on->c, on->exp_id, &calls, on->err, sizeof on->err);

	linked = rc == 0 ? mlprompt_linked(&prompts, NULL, 0) : NULL;
	for (i = 0; i < nstages; i++)
		if (stages[i].params)
			json_object_object_add(sp, stages[i].name, json_object_get(stages[i].params));
	if (rc == 0 && mlmodel_config(&m, sp, &prompts)) {
		rc = mlmodel_log(&m, &on->c, on->exp_id, on->run_id, &ri->d, linked, opt_resume != NULL,
				 &calls, on->err, sizeof on->err);
		if (rc == 0) {
			mlf_tag(&ri->d, "aiops.model_id", m.id);
			snprintf(model_id, sizeof model_id, "%s", m.id);
			warnf("logged model %s (%s, %s)", m.name, m.id, m.reused ? "reused" : "new");
		}
	}
	if (rc == 0) {
		if (linked)
			mlf_tag(&ri->d, "mlflow.linkedPrompts", js_dump(linked, &n));
		sum = mlprompt_summary(&prompts);
		mlf_tag(&ri->d, "aiops.prompts", sum);
		warnf("prompts: %s; %u registry and model requests", sum, calls);
		free(sum);
	}
	mlmodel_free(&m);
	json_object_put(linked);
	json_object_put(sp);
	return rc;
}

static int
log_online(struct runinfo *ri, const char *uri)
{
	static struct online on;
	struct http_policy pol;
	json_object *run = NULL, *o, *tags;
	struct buf body = BUF_INIT(0);
	struct mlf_chunker ch;
	size_t counts[3], nbatches = 0, na, i;
	struct artifact *a = NULL;
	unsigned long ntraces = 0;
	struct mlassess_count nass = {0};
	unsigned long nrec = 0;
	char group_file[PATH_MAX + 64];
	int restored = 0, existing = 0;
	const char *s;

	tmp_path(group_file, sizeof group_file, fnames[F_GROUP]);
	http_policy_default(&pol);
	pol.max_attempts = (int)opt_max_attempts;
	pol.timeout_s = opt_timeout_s;
	pol.backoff_base_s = opt_backoff_s;
	if (mlf_client_init(&on.c, uri, &pol, on.err, sizeof on.err) < 0) {
		warnf("%s", on.err);
		return EXIT_USAGE;
	}
	if (mlf_experiment(&on.c, ri->experiment, ri->exp_tags, on.exp_id, &restored, on.err,
			   sizeof on.err) < 0)
		goto fail;
	if (restored)
		warnf("experiment '%s' (%s) was deleted: restored it", ri->experiment, on.exp_id);
	if (opt_resume) {
		if (mlf_find_run(&on.c, on.exp_id, "aiops.run_id", ri->run_id, &run, on.err,
				 sizeof on.err) < 0)
			goto fail;
		existing = run != NULL;
	}
	if (run == NULL) {
		json_object *req = json_object_new_object(), *arr = json_object_new_array();
		static const char *create_tags[] = {"aiops.run_id", "mlflow.source.name",
						    "mlflow.source.type", "mlflow.user", NULL};
		js_add_str(req, "experiment_id", on.exp_id);
		js_add_str(req, "run_name", ri->run_name);
		js_add_int(req, "start_time", ri->start_ms);
		for (i = 0; create_tags[i]; i++) {
			json_object *t = json_object_new_object();
			js_add_str(t, "key", create_tags[i]);
			js_add_str(t, "value", mlf_tag_get(&ri->d, create_tags[i]));
			json_object_array_add(arr, t);
		}
		json_object_object_add(req, "tags", arr);
		s = js_dump(req, &i);
		if (mlf_call(&on.c, "POST", "/api/2.0/mlflow/runs/create", s, i, NULL, NULL, &o,
			     on.err, sizeof on.err) < 0) {
			json_object_put(req);
			goto fail;
		}
		json_object_put(req);
		run = json_object_get(js_path(o, "run"));
		json_object_put(o);
	}
	s = js_str(js_path(run, "info"), "run_id");
	if (s == NULL) {
		snprintf(on.err, sizeof on.err, "runs/create: answer without run.info.run_id");
		goto fail;
	}
	snprintf(on.run_id, sizeof on.run_id, "%s", s);
	on.art_path = proxy_path(js_str(js_path(run, "info"), "artifact_uri"));
	if (!on.art_path)
		warnf("artifact URI '%s' is not served by the tracking server's proxy: "
		      "artifacts not uploaded", js_str(js_path(run, "info"), "artifact_uri"));
	(void)tags;
	json_object_put(run);
	run = NULL;
	if (existing) {
		warnf("resuming run %s (aiops.run_id %s)", on.run_id, ri->run_id);
		if (load_points(&on, ri) < 0)
			goto fail;
	}

	if (nstages > 0 && log_prompts_model(&on, ri) < 0)   /* lib/mlprompt, lib/mlmodel */
		goto fail;
	mlf_chunker_init(&ch, &ri->d, on.run_id, 0);
	ch.skip = skip_point;
	ch.skip_ctx = &on;
	while (mlf_chunk_next(&ch, &body, counts)) {
		if (mlf_call(&on.c, "POST", "/api/2.0/mlflow/runs/log-batch", body.p, body.len, NULL,
			     NULL, NULL, on.err, sizeof on.err) < 0)
			goto fail;
		nbatches++;
	}
	buf_free(&body);
	if (on.art_path) {
		a = ecalloc(ARTIFACTS_MAX, sizeof *a);
		na = artifacts(a);
		for (i = 0; i < na; i++)
			if (put_artifact(&on, a[i].path, a[i].file) < 0)
				goto fail;
		free(a);
		a = NULL;
	}
	if (run_rec && mldataset_send(&on.c, on.exp_id, on.run_id, js_path(run_rec, "dataset"),
				      incidents, scores, group_file, &nrec, on.err, sizeof on.err) < 0)
		goto fail;
	if (opt_traces && (log_traces(&on, ri, existing, &ntraces) < 0 ||
			   log_assessments(&on, ri, &nass) < 0))
		goto fail;
	if (!ri->running) {
		json_object *req = json_object_new_object();
		js_add_str(req, "run_id", on.run_id);
		js_add_str(req, "status", status_name(ri));
		js_add_int(req, "end_time", ri->end_ms);
		s = js_dump(req, &i);
		if (mlf_call(&on.c, "POST", "/api/2.0/mlflow/runs/update", s, i, NULL, NULL, NULL,
			     on.err, sizeof on.err) < 0) {
			json_object_put(req);
			goto fail;
		}
		json_object_put(req);
	}
	warnf("logged run %s (%s): %zu params, %zu metric points, %zu tags in %zu batches, "
	      "%lu traces, %lu assessments (%lu already there), %lu incidents in the evaluation dataset",
	      on.run_id, status_name(ri), ri->d.nparams, ri->d.nmetrics, ri->d.ntags, nbatches,
	      ntraces, nass.created, nass.kept, nrec);
	warnf("view it: %s/#/experiments/%s/runs/%s", on.c.base, on.exp_id, on.run_id);
	snprintf(logged_run, sizeof logged_run, "%s", on.run_id);
	snprintf(logged_exp, sizeof logged_exp, "%s", on.exp_id);
	snprintf(logged_where, sizeof logged_where, "%s", on.c.base);
	mlf_client_free(&on.c);
	free(on.art_path);
	for (i = 0; i < on.nhave; i++)
		free(on.have[i]);
	free(on.have);
	return 0;
fail:
	free(a);
	json_object_put(run);
	buf_free(&body);
	warnf("%s", on.err);
	mlf_client_free(&on.c);
	free(on.art_path);
	return EXIT_FAIL;
}

/*
 * Appends the spool's trailer, {"kind":"mlflow_spool","experiment":...}:
 * what a resend needs that the logged records do not say (the experiment
 * may come from --experiment or aiops-mlflow's own config).  Never the
 * tracking URI, which may hold a password.
 */
static int
spool_trailer(const char *path, const struct runinfo *ri)
{
	json_object *o = json_object_new_object();
	const char *s;
	char *red;
	size_t n;
	FILE *f;
	int rc = 0;

	js_add_str(o, "kind", "mlflow_spool");
	js_add_str(o, "experiment", ri->experiment);
	s = js_dump(o, &n);
	red = redact_str(s, n, &n);
	if ((f = fopen(path, "a")) == NULL)
		rc = -1;
	else if (fwrite(red ? red : s, 1, n, f) != n || putc('\n', f) == EOF)
		rc = -1;
	if (f && fclose(f) != 0)
		rc = -1;
	free(red);
	json_object_put(o);
	return rc;
}

/* The experiment kept in a spool's trailer (its last line), or NULL: a
 * spool from before the trailer, or not a spool. */
static char *
spool_experiment(const char *path)
{
	char buf[65536], *line, *exp = NULL;
	json_object *o;
	FILE *f = fopen(path, "r");
	size_t n;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
	    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET) == 0) {
		n = fread(buf, 1, sizeof buf - 1, f);
		while (n > 0 && buf[n - 1] == '\n')
			n--;
		buf[n] = '\0';
		line = buf + n;
		while (line > buf && line[-1] != '\n')
			line--;
		if ((o = json_tokener_parse(line)) != NULL) {
			const char *k = js_str(o, "kind"), *e = js_str(o, "experiment");
			if (k && strcmp(k, "mlflow_spool") == 0 && e && *e)
				exp = estrdup(e);
			json_object_put(o);
		}
	}
	fclose(f);
	return exp;
}

/* Keeps the spool after a failure and says how to resend it. */
static void
keep_spool(const struct runinfo *ri, const char *uri)
{
	const char *dir = opt_spool_dir ? opt_spool_dir : getenv("AIOPS_SPOOL_DIR");
	char src[PATH_MAX + 64];
	struct buf dst = BUF_INIT(0);

	if (opt_resume) {
		warnf("the run is still in %s; resend it with: aiops-mlflow --resume %s "
		      "--tracking-uri %s --experiment '%s'", opt_resume, opt_resume, uri, ri->experiment);
		return;
	}
	if (dir == NULL || *dir == '\0')
		dir = ".aiops-spool";
	tmp_path(src, sizeof src, fnames[F_SPOOL]);
	buf_printf(&dst, "%s/%s.jsonl", dir, ri->run_id);
	if (nlines[F_SPOOL] == 0) {
		/* Nothing logged came by: write an empty spool all the same. */
		FILE *f = fopen(src, "w");
		if (f)
			fclose(f);
	}
	if (spool_trailer(src, ri) < 0) {
		warnf("%s: cannot write the spool: %s; the run is lost", src, strerror(errno));
		buf_free(&dst);
		return;
	}
	if (mlf_mkdirs(dir, 0700) < 0 ||
	    (rename(src, dst.p) < 0 && (errno != EXDEV || mlf_copy_file(src, dst.p) < 0))) {
		warnf("%s: cannot keep the spool: %s; the run is lost", dst.p, strerror(errno));
		buf_free(&dst);
		return;
	}
	/* The experiment goes with the hint: a run logged with --experiment
	 * would otherwise be resent to the run record's experiment. */
	warnf("the run is kept in %s; resend it with: aiops-mlflow --resume %s --tracking-uri %s "
	      "--experiment '%s'", dst.p, dst.p, uri, ri->experiment);
	buf_free(&dst);
}

/* ---- the stage ---- */

static const char *
tracking_uri(void)
{
	const char *u = opt_uri;

	if (u == NULL || *u == '\0')
		u = getenv("MLFLOW_TRACKING_URI");
	return u && *u ? u : NULL;
}

static int
on_start(struct stage *st)
{
	const char *base = getenv("TMPDIR"), *u = tracking_uri();

	if (opt_resume) {
		if (st->nfiles > 0)
			stage_usage_error(st, "--resume FILE takes no other input files");
		if (access(opt_resume, R_OK) < 0)
			efatal(EXIT_USAGE, "%s: %s", opt_resume, strerror(errno));
		st->files[0] = (char *)opt_resume;
		st->nfiles = 1;
		/* The run goes back to the experiment it was logged to. */
		if ((kept_experiment = spool_experiment(opt_resume)) != NULL) {
			if (opt_experiment && strcmp(opt_experiment, kept_experiment) != 0)
				stage_usage_error(st, "--experiment '%s' disagrees with the experiment "
						  "'%s' kept in %s: the run was logged there; "
						  "resend it without --experiment", opt_experiment,
						  kept_experiment, opt_resume);
			opt_experiment = kept_experiment;
		}
		if (u == NULL || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
			stage_usage_error(st, "--resume needs an http(s) tracking URI "
					  "(--tracking-uri or MLFLOW_TRACKING_URI)");
	}
	if (opt_max_attempts < 1)
		stage_usage_error(st, "--max-attempts must be at least 1");
	if (opt_status && strcmp(opt_status, "FAILED") != 0 && strcmp(opt_status, "KILLED") != 0 &&
	    strcmp(opt_status, "RUNNING") != 0)
		stage_usage_error(st, "--status must be FAILED, KILLED or RUNNING");
	server_mode = u && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0);
	if (u && !server_mode && strstr(u, "://") && strncmp(u, "file://", 7) != 0)
		stage_usage_error(st, "tracking URI '%s': only http://, https://, file:// or a "
				  "directory are supported", u);
	snprintf(tmpdir, sizeof tmpdir, "%s/aiops-mlflow.XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		warnf("%s: %s", tmpdir, strerror(errno));
		tmpdir[0] = '\0';
		return 1;
	}
	atexit(cleanup);
	/* A reader that went away: SIGPIPE, or EPIPE when SIGPIPE is ignored. */
	out_on_epipe(remove_tmp_now);
	{
		static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = die_by_signal;
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
			struct sigaction old;
			/* An ignored signal stays ignored (nohup, a shell's background job). */
			if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
				sigaction(sigs[i], &sa, NULL);
		}
	}
	scores = json_object_new_array();
	incidents = json_object_new_array();
	sha256_init(&content_hash);
	return 0;
}

static int
on_end(struct stage *st)
{
	struct runinfo ri;
	const char *u = tracking_uri(), *root = opt_store;

	out_flush();
	close_files();
	prompt_artifacts();
	if (root == NULL && u)
		root = strncmp(u, "file://", 7) == 0 ? u + 7 : u;
	if (root == NULL)
		root = "mlruns";
	build(st, &ri, server_mode ? u : root);
	if (server_mode) {
		final_rc = log_online(&ri, u);
		if (final_rc == 0)
			emit_logged(st, &ri, 1);
		if (final_rc == EXIT_FAIL)
			keep_spool(&ri, u);
		else if (final_rc == 0 && opt_resume) {
			if (unlink(opt_resume) == 0)
				warnf("sent; removed %s", opt_resume);
		}
	} else {
		final_rc = log_offline(&ri, root);
		if (final_rc == 0)
			emit_logged(st, &ri, 0);
	}
	mlf_data_free(&ri.d);
	mlprompt_free(&prompts);
	buf_free(&ri.failure);
	free(ri.run_name);
	free(ri.user);
	return 0;
}

/* --preflight: an http(s) tracking server answers (one short lookup of the
 * experiment, which need not exist yet); a file store needs nothing. */
static int
preflight(struct stage *st)
{
	const char *u = tracking_uri(), *exp = opt_experiment;
	struct http_policy pol;
	struct mlf_client c;
	struct buf path = BUF_INIT(0);
	char err[1024], *q;
	int bad = 0;

	if (!server_mode)
		return 0;
	if (exp == NULL && (exp = js_str(js_path(st->config, "experiment"), "name")) == NULL)
		exp = "aiops";
	http_policy_default(&pol);
	pol.max_attempts = 1;
	pol.connect_timeout_s = 3;
	pol.timeout_s = 10;
	if (mlf_client_init(&c, u, &pol, err, sizeof err) < 0) {
		warnf("%s", err);
		return 1;
	}
	q = http_escape(exp);
	buf_printf(&path, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=%s", q);
	free(q);
	if (mlf_call(&c, "GET", path.p, NULL, 0, NULL, NULL, NULL, err, sizeof err) < 0 &&
	    strcmp(c.error_code, "RESOURCE_DOES_NOT_EXIST") != 0) {
		warnf("MLflow at %s cannot be used: %s", u, err);
		bad = 1;
	}
	buf_free(&path);
	mlf_client_free(&c);
	return bad;
}

int
main(int argc, char **argv)
{
	static struct stage st = {
		.name = "mlflow",
		.section = "mlflow",
		.opts = opts,
		.handlers = handlers,
		.on_start = on_start,
		.preflight = preflight,
		.on_end = on_end,
		.synopsis = "[--tracking-uri URI | --store DIR] [options] [FILE...]\n"
			    "       aiops-mlflow --resume FILE [--tracking-uri URI] [options]",
		.description = "Forwards its input unchanged and, at end of input, logs the run "
			       "(params, metrics, tags, artifacts, a trace per incident) to an MLflow "
			       "tracking server, or offline into MLflow's file-store layout.",
	};
	int rc;

	stage_init(&st, argc, argv);
	if ((rc = stage_run(&st)) != 0) {
		out_flush();
		return rc;
	}
	rc = stage_finish(&st);
	return rc != 0 ? rc : final_rc;
}
