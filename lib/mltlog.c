/* mltlog: sending a run's traces to MLflow (see mltlog.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"
#include "js.h"
#include "mlmodel.h"
#include "mlprompt.h"
#include "mltlog.h"

/* Where a record is: file and byte range of its line. */
struct loc {
	size_t file;
	off_t off;
	size_t len;
};

struct grp {
	char *id;
	off_t off;              /* its line in the groups file */
	size_t len;
	size_t seq;             /* order of arrival */
	struct loc *locs;
	size_t nlocs, caplocs;
};

struct index {
	struct grp *g;          /* sorted by id once built */
	size_t n, cap;
};

static int
cmp_grp(const void *a, const void *b)
{
	const struct grp *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	/* the last record of a group id wins: later ones sort first */
	return c ? c : (x->seq < y->seq) - (x->seq > y->seq);
}

static int
cmp_seq(const void *a, const void *b)
{
	const struct grp *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The latest record of group id (the first of its id in sorted order). */
static struct grp *
find_grp(struct index *ix, const char *id)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ix->g[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->n && strcmp(ix->g[lo].id, id) == 0 ? &ix->g[lo] : NULL;
}

/*
 * Reads path line by line, calling fn with each parsed record and its byte
 * range; a missing file is empty.  Returns 0 or -1 (errno set).
 */
static int
each_line(const char *path, int (*fn)(void *ctx, json_object *o, off_t off, size_t len),
	  void *ctx)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	off_t off = 0;
	int rc = 0;

	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		size_t len = (size_t)n;
		const char *why;
		json_object *o;
		if (line[len - 1] == '\n')
			len--;
		if ((o = js_parse(NULL, line, len, &why)) != NULL) {
			rc = fn(ctx, o, off, len);
			json_object_put(o);
		}
		off += n;
	}
	if (ferror(f))
		rc = -1;
	free(line);
	fclose(f);
	return rc;
}

static int
index_group(void *ctx, json_object *o, off_t off, size_t len)
{
	struct index *ix = ctx;
	const char *id = js_str(o, "id");

	if (id == NULL)
		return 0;
	if (ix->n == ix->cap) {
		ix->cap = ix->cap ? ix->cap * 2 : 64;
		ix->g = erealloc(ix->g, ix->cap * sizeof *ix->g);
	}
	memset(&ix->g[ix->n], 0, sizeof *ix->g);
	ix->g[ix->n].id = estrdup(id);
	ix->g[ix->n].off = off;
	ix->g[ix->n].len = len;
	ix->g[ix->n].seq = ix->n;
	ix->n++;
	return 0;
}

struct scan {
	struct index *ix;
	size_t file;
};

static int
index_rec(void *ctx, json_object *o, off_t off, size_t len)
{
	struct scan *sc = ctx;
	const char *id = js_str(o, "group_id");
	struct grp *g;

	if (id == NULL || (g = find_grp(sc->ix, id)) == NULL)
		return 0;
	if (g->nlocs == g->caplocs) {
		g->caplocs = g->caplocs ? g->caplocs * 2 : 8;
		g->locs = erealloc(g->locs, g->caplocs * sizeof *g->locs);
	}
	g->locs[g->nlocs++] = (struct loc){sc->file, off, len};
	return 0;
}

/* The record at a byte range of an open file (a new object), or NULL. */
static json_object *
read_at(FILE *f, off_t off, size_t len)
{
	char *p;
	const char *why;
	json_object *o = NULL;

	if (f == NULL || fseeko(f, off, SEEK_SET) < 0)
		return NULL;
	p = emalloc(len + 1);
	if (fread(p, 1, len, f) == len)
		o = js_parse(NULL, p, len, &why);
	free(p);
	return o;
}

struct sender {
	struct mlf_client *c;
	const char *exp_id;
	const struct mltrace_run *r;
	int resume;
	unsigned long sent;
	json_object *ids;       /* to link */
	char *err;
	size_t errlen;
};

static int
link_ids(struct sender *s)
{
	json_object *body;
	size_t n;
	const char *p;
	int rc;

	if (json_object_array_length(s->ids) == 0)
		return 0;
	body = json_object_new_object();
	js_add_ref(body, "trace_ids", s->ids);
	js_add_str(body, "run_id", s->r->mlflow_run);
	p = js_dump(body, &n);
	rc = mlf_call(s->c, "POST", "/api/2.0/mlflow/traces/link-to-run", p, n, NULL, NULL, NULL,
		      s->err, s->errlen);
	json_object_put(body);
	json_object_put(s->ids);
	s->ids = json_object_new_array();
	return rc;
}

/* Resume: 1 when the server has the trace. */
static int
trace_exists(struct sender *s, const char *id)
{
	struct buf p = BUF_INIT(0);
	json_object *o;
	char err[256];
	int rc;

	buf_printf(&p, "/api/3.0/mlflow/traces/%s", id);
	rc = mlf_call(s->c, "GET", p.p, NULL, 0, NULL, NULL, &o, err, sizeof err);
	buf_free(&p);
	if (rc == 0)
		json_object_put(o);
	return rc == 0;
}

/* Sends a trace (taken) unless a resend finds it; queues its link to the
 * run, links it to the run's LoggedModel and to the prompt versions its
 * calls used (recs[0..n)). */
static int
send_trace(struct sender *s, json_object *req, const char *tid, json_object *const *recs,
	   size_t nrecs)
{
	const char *hdr[] = {"x-mlflow-experiment-id", s->exp_id, NULL}, *p;
	json_object *linked = s->r->prompts ? mlprompt_linked(s->r->prompts, recs, nrecs) : NULL;
	size_t n;
	int rc = 0;

	if (linked)
		mlprompt_tag_trace(req, linked);
	if (!(s->resume && trace_exists(s, tid))) {
		p = js_dump(req, &n);
		rc = mlf_call(s->c, "POST", "/v1/traces", p, n, NULL, hdr, NULL, s->err, s->errlen);
		if (rc == 0)
			s->sent++;
	}
	if (rc == 0 && s->r->model_id && *s->r->model_id)
		rc = mlmodel_link_trace(s->c, s->exp_id, req, tid, s->r->model_id, s->err, s->errlen);
	json_object_put(req);
	if (rc == 0 && linked)
		rc = mlprompt_link_trace(s->c, tid, linked, s->err, s->errlen);
	json_object_put(linked);
	if (rc < 0)
		return -1;
	json_object_array_add(s->ids, json_object_new_string(tid));
	return json_object_array_length(s->ids) == MLTLOG_LINK_MAX ? link_ids(s) : 0;
}

/* One group's trace from the index. */
static int
send_group(struct sender *s, struct grp *g, FILE *gf, FILE **fs)
{
	json_object *group = read_at(gf, g->off, g->len), **recs, *req;
	size_t i, n = 0;
	char tid[40];
	int rc;

	if (group == NULL)
		return 0;
	recs = ecalloc(g->nlocs + 1, sizeof *recs);
	for (i = 0; i < g->nlocs; i++)
		if ((recs[n] = read_at(fs[g->locs[i].file], g->locs[i].off, g->locs[i].len)) != NULL)
			n++;
	req = mltrace_group(s->r, group, recs, n, tid);
	rc = send_trace(s, req, tid, recs, n);
	for (i = 0; i < n; i++)
		json_object_put(recs[i]);
	free(recs);
	json_object_put(group);
	return rc;
}

struct calls {
	struct sender *s;
	struct index *ix;
	unsigned long idx;
};

/* An llm_call no group took: a trace of its own. */
static int
send_call(void *ctx, json_object *o, off_t off, size_t len)
{
	struct calls *cs = ctx;
	const char *gid = js_str(o, "group_id");
	unsigned long idx = cs->idx++;
	char tid[40];

	(void)off;
	(void)len;
	if (gid && find_grp(cs->ix, gid))
		return 0;
	return send_trace(cs->s, mltrace_call(cs->s->r, o, idx, tid), tid, &o, 1);
}

int
mltlog_send(struct mlf_client *c, const char *exp_id, const struct mltrace_run *r,
	    const char *groups_path, const char *const *files, size_t nfiles,
	    const char *llm_path, int resume, unsigned long *sent, char *err, size_t errlen)
{
	struct index ix = {0};
	struct sender s = {c, exp_id, r, resume, 0, json_object_new_array(), err, errlen};
	struct calls cs = {&s, &ix, 0};
	FILE **fs = ecalloc(nfiles + 1, sizeof *fs), *gf = NULL;
	size_t i;
	int rc = 0;

	*sent = 0;
	if (groups_path && each_line(groups_path, index_group, &ix) < 0) {
		snprintf(err, errlen, "%s: %s", groups_path, strerror(errno));
		rc = -1;
	}
	if (ix.n > 1)	/* g is NULL while no group came by */
		qsort(ix.g, ix.n, sizeof *ix.g, cmp_grp);
	for (i = 0; rc == 0 && i < nfiles; i++) {
		struct scan sc = {&ix, i};
		if (ix.n > 0 && each_line(files[i], index_rec, &sc) < 0) {
			snprintf(err, errlen, "%s: %s", files[i], strerror(errno));
			rc = -1;
		}
	}
	if (rc == 0 && ix.n > 0) {
		/* in order of arrival, each id once (its latest record) */
		struct index byseq = ix;
		byseq.g = emalloc(ix.n * sizeof *ix.g);
		memcpy(byseq.g, ix.g, ix.n * sizeof *ix.g);
		qsort(byseq.g, byseq.n, sizeof *byseq.g, cmp_seq);
		gf = fopen(groups_path, "r");
		for (i = 0; i < nfiles; i++)
			fs[i] = fopen(files[i], "r");
		for (i = 0; rc == 0 && i < byseq.n; i++) {
			struct grp *g = find_grp(&ix, byseq.g[i].id);
			if (g->seq == byseq.g[i].seq)
				rc = send_group(&s, g, gf, fs);
		}
		free(byseq.g);
	}
	if (rc == 0 && llm_path) {
		err[0] = '\0';
		if ((rc = each_line(llm_path, send_call, &cs)) < 0 && !*err)
			snprintf(err, errlen, "%s: %s", llm_path, strerror(errno));
	}
	if (rc == 0)
		rc = link_ids(&s);
	*sent = s.sent;
	for (i = 0; i < nfiles; i++)
		if (fs[i])
			fclose(fs[i]);
	if (gf)
		fclose(gf);
	free(fs);
	for (i = 0; i < ix.n; i++) {
		free(ix.g[i].id);
		free(ix.g[i].locs);
	}
	free(ix.g);
	json_object_put(s.ids);
	return rc;
}
