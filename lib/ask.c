/* ask: batches of model questions with one repair round, order kept (see ask.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ask.h"
#include "err.h"
#include "js.h"
#include "schema.h"

enum { E_RAW, E_REC, E_JOB };

struct ask_ent {
	int type;
	char *raw;
	size_t len;
	json_object *rec;
	struct ask_job *job;
};

static const char repair_text[] =
	"Your answer was rejected: %s.\n"
	"Answer again with only one JSON object that matches the requested schema, "
	"and nothing else.";

struct ask_job *
ask_job_new(const char *group_id)
{
	struct ask_job *j = ecalloc(1, sizeof *j);

	snprintf(j->group_id, sizeof j->group_id, "%s", group_id ? group_id : "");
	j->calls = json_object_new_array();
	return j;
}

static void
job_free(struct ask_job *j)
{
	json_object_put(j->messages);
	json_object_put(j->answer);
	json_object_put(j->calls);
	free(j->text);
	free(j);
}

static struct ask_ent *
push(struct ask *a)
{
	if (a->qn == a->qcap) {
		a->qcap = a->qcap ? a->qcap * 2 : 64;
		a->q = erealloc(a->q, a->qcap * sizeof *a->q);
	}
	memset(&a->q[a->qn], 0, sizeof a->q[a->qn]);
	return &a->q[a->qn++];
}

void
ask_forward(struct ask *a, const struct rec *r)
{
	struct ask_ent *e;

	if (a->pending == 0) {
		stage_forward(a->st, r);
		return;
	}
	e = push(a);
	e->type = E_RAW;
	e->raw = estrndup(r->raw, r->len);
	e->len = r->len;
	a->qbytes += r->len;
}

void
ask_emit(struct ask *a, json_object *o)
{
	struct ask_ent *e;

	if (a->pending == 0) {
		stage_emit(a->st, o);
		return;
	}
	e = push(a);
	e->type = E_REC;
	e->rec = json_object_get(o);
}

/* Writes the whole queue out, in order, and empties it. */
static void
drain(struct ask *a)
{
	for (size_t i = 0; i < a->qn; i++) {
		struct ask_ent *e = &a->q[i];
		if (e->type == E_RAW) {
			struct rec r = {0};
			r.raw = e->raw;
			r.len = e->len;
			stage_forward(a->st, &r);
			free(e->raw);
		} else if (e->type == E_REC) {
			stage_emit(a->st, e->rec);
			json_object_put(e->rec);
		} else {
			struct ask_job *j = e->job;
			for (size_t k = 0; k < json_object_array_length(j->calls); k++)
				stage_emit(a->st, json_object_array_get_idx(j->calls, k));
			a->answers++;
			if (j->answer == NULL) {
				a->answers_failed++;
				if (a->first_error[0] == '\0')
					snprintf(a->first_error, sizeof a->first_error, "%s",
						 j->error[0] ? j->error : "no answer");
			}
			a->done(a, j);
			job_free(j);
		}
	}
	a->qn = a->qbytes = a->pending = 0;
}

static long long
estimate(size_t bytes)
{
	return (long long)((bytes + 3) / 4);
}

static size_t
msg_bytes(json_object *msgs)
{
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(msgs); i++) {
		const char *c = js_str(json_object_array_get_idx(msgs, i), "content");
		n += c ? strlen(c) : 0;
	}
	return n;
}

/* Marks every job still without an answer or error. */
static void
fail_open(struct ask *a, struct ask_job **jobs, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++)
		if (jobs[i]->answer == NULL && jobs[i]->error[0] == '\0')
			snprintf(jobs[i]->error, sizeof jobs[i]->error, "%s", why);
	(void)a;
}

/* Checks the call budget for n more calls.  Returns 0 or -1 with a->err. */
static int
call_budget(struct ask *a, size_t n)
{
	if (a->max_calls > 0 && a->calls + (long long)n > a->max_calls) {
		snprintf(a->err, sizeof a->err,
			 "call budget exceeded: max_calls is %lld, %lld used, %zu more needed",
			 a->max_calls, a->calls, n);
		return -1;
	}
	return 0;
}

static int
token_budget(struct ask *a)
{
	if (a->max_tokens > 0 && a->tokens > a->max_tokens) {
		snprintf(a->err, sizeof a->err, "token budget exceeded: max_tokens is %lld, %lld used",
			 a->max_tokens, a->tokens);
		return -1;
	}
	return 0;
}

/* Runs one round over jobs[0..n) with the given messages.  For each job,
 * sets answer, or error (final), or why + text (repairable). */
static void
round_(struct ask *a, struct ask_job **jobs, json_object **msgs, size_t n, const char *purpose,
       int final)
{
	struct llm_req *reqs = ecalloc(n, sizeof *reqs);
	struct llm_result *res = ecalloc(n, sizeof *res);
	json_object *cs = a->check_schema ? a->check_schema : a->schema;

	for (size_t i = 0; i < n; i++) {
		reqs[i].messages = msgs[i];
		reqs[i].schema = a->schema;
		reqs[i].schema_name = a->schema_name;
		reqs[i].json = 1;
		reqs[i].purpose = purpose;
		reqs[i].group_id = jobs[i]->group_id[0] ? jobs[i]->group_id : NULL;
	}
	out_flush();
	llm_batch(a->llm, reqs, res, n);
	a->calls += (long long)n;
	for (size_t i = 0; i < n; i++) {
		struct ask_job *j = jobs[i];
		struct llm_result *r = &res[i];
		char why[512] = "";
		if (r->record)
			json_object_array_add(j->calls, json_object_get(r->record));
		j->latency_ms += r->latency_ms;
		a->tokens += r->tokens_in >= 0 ? r->tokens_in : estimate(msg_bytes(msgs[i]));
		if (r->text)
			a->tokens += r->tokens_out >= 0 ? r->tokens_out : estimate(strlen(r->text));
		free(j->text);
		j->text = NULL;
		if (r->error[0] || r->text == NULL) {
			snprintf(j->error, sizeof j->error, "model call failed: %s",
				 r->error[0] ? r->error : "no answer");
			continue;
		}
		if (r->json == NULL)
			snprintf(why, sizeof why, "the answer is not valid JSON (%s)",
				 r->parse_error[0] ? r->parse_error : "no JSON found");
		else if (schema_validate(cs, r->json, why, sizeof why) == 0 &&
			 (a->check == NULL || a->check(a, j, r->json, why, sizeof why) == 0)) {
			j->answer = json_object_get(r->json);
			j->repaired = final;
			continue;
		}
		if (final) {
			snprintf(j->error, sizeof j->error, "invalid answer after a repair round: %s", why);
			/* The call worked, its answer did not: counted as a failure
			 * and marked on its llm_call record. */
			llm_count_failure(a->llm);
			if (r->record)
				js_add_str(r->record, "rejected", why);
		} else {
			snprintf(j->why, sizeof j->why, "%s", why);
			j->text = estrdup(r->text);
		}
	}
	for (size_t i = 0; i < n; i++)
		llm_result_free(&res[i]);
	free(reqs);
	free(res);
}

int
ask_flush(struct ask *a)
{
	struct ask_job **jobs, **rep;
	json_object **msgs;
	size_t n = 0, m = 0;
	int rc = 0;

	if (a->pending == 0) {
		drain(a);
		return 0;
	}
	jobs = ecalloc(a->pending, sizeof *jobs);
	rep = ecalloc(a->pending, sizeof *rep);
	msgs = ecalloc(a->pending, sizeof *msgs);
	for (size_t i = 0; i < a->qn; i++)
		if (a->q[i].type == E_JOB) {
			jobs[n] = a->q[i].job;
			jobs[n]->model = llm_model(a->llm);
			msgs[n] = jobs[n]->messages;
			n++;
		}
	if (call_budget(a, n) < 0) {
		fail_open(a, jobs, n, "not asked: call budget exceeded");
		rc = -1;
		goto out;
	}
	round_(a, jobs, msgs, n, a->purpose, 0);
	for (size_t i = 0; i < n; i++)
		if (jobs[i]->text)
			rep[m++] = jobs[i];
	if (token_budget(a) < 0) {
		fail_open(a, jobs, n, "not repaired: token budget exceeded");
		rc = -1;
		goto out;
	}
	if (m > 0) {
		if (call_budget(a, m) < 0) {
			fail_open(a, jobs, n, "not repaired: call budget exceeded");
			rc = -1;
			goto out;
		}
		for (size_t i = 0; i < m; i++) {
			json_object *mm = js_copy(rep[i]->messages), *o;
			char txt[700];
			o = json_object_new_object();
			js_add_str(o, "role", "assistant");
			js_add_str(o, "content", rep[i]->text);
			json_object_array_add(mm, o);
			snprintf(txt, sizeof txt, repair_text, rep[i]->why);
			o = json_object_new_object();
			js_add_str(o, "role", "user");
			js_add_str(o, "content", txt);
			json_object_array_add(mm, o);
			msgs[i] = mm;
		}
		round_(a, rep, msgs, m, "repair", 1);
		for (size_t i = 0; i < m; i++)
			json_object_put(msgs[i]);
		if (token_budget(a) < 0)
			rc = -1;
	}
out:
	free(jobs);
	free(rep);
	free(msgs);
	drain(a);
	return rc;
}

int
ask_submit(struct ask *a, struct ask_job *job)
{
	struct ask_ent *e = push(a);
	size_t maxq = a->max_queue_bytes ? a->max_queue_bytes : (size_t)64 << 20;

	e->type = E_JOB;
	e->job = job;
	if (job->prompt_bytes == 0)
		job->prompt_bytes = msg_bytes(job->messages);
	a->pending++;
	if (a->pending >= (a->batch ? a->batch : 1) || a->qbytes > maxq)
		return ask_flush(a);
	return 0;
}

void
ask_add_stats(struct ask *a, json_object *stage_end)
{
	json_object *llm = js_path(stage_end, "llm");

	if (llm == NULL || !json_object_is_type(llm, json_type_object) ||
	    (a->llm != NULL && llm_type(a->llm) == LLM_BASELINE && a->answers == 0))
		return;
	js_add_int(llm, "answers", a->answers);
	js_add_int(llm, "answers_failed", a->answers_failed);
	if (a->answers_failed > 0)
		warnf("%lld of %lld model answers failed: %s", a->answers_failed, a->answers,
		      a->first_error);
}

void
ask_free(struct ask *a)
{
	free(a->q);
	a->q = NULL;
	a->qn = a->qcap = 0;
}


/* The ask that ask_run() feeds; there is one per process. */
static struct ask *running;

static int
queue_foreign(struct stage *st, struct rec *r)
{
	(void)st;
	ask_forward(running, r);
	return 0;
}

int
ask_run(struct ask *a)
{
	char err[512];
	int rc;

	running = a;
	a->st->on_foreign = queue_foreign;
	rc = stage_run(a->st);
	if (rc == 0 && ask_flush(a) < 0) {
		warnf("%s", a->err);
		rc = EXIT_FAIL;
	}
	if (a->llm && llm_record_close(a->llm, err, sizeof err) < 0) {
		warnf("%s", err);
		rc = EXIT_FAIL;
	}
	if (rc != 0) {
		out_flush();
		return rc;
	}
	return stage_finish(a->st);
}
