/*
 * ask: the part of a model-calling stage that is the same in aiops-rca and
 * aiops-remediate.  Items (a group, an rca) become jobs: a messages array
 * and a schema.  Jobs are collected into batches of `batch` and asked with
 * llm_batch(); an answer that is not JSON or breaks the schema gets ONE
 * repair round (the model sees its answer and the problem and answers
 * again).  Output order is input order: while a job is pending, every record
 * the stage forwards or emits waits in a queue behind it, and the queue is
 * written out when the batch is answered.  Memory is bounded by the batch
 * size plus the records that arrive while it fills (a batch is also asked
 * early when those records pass `max_queue_bytes`).
 *
 * Budgets: max_calls (model calls, repairs included) and max_tokens
 * (tokens_in + tokens_out over the run; when a provider reports no usage the
 * tokens are estimated as bytes / 4).  0 means no limit.  Going over a
 * budget is an error the stage turns into exit 1; the jobs still pending get
 * an error so that no item is lost.
 *
 * ask_run() reads the stage's input so that foreign records wait behind a
 * pending job; bad lines become rejects at once (they do not wait).
 */
#ifndef AIOPS_ASK_H
#define AIOPS_ASK_H

#include <stddef.h>
#include <json-c/json.h>

#include "llm.h"
#include "stage.h"

struct ask;

struct ask_job {
	/* Set by the stage before ask_submit(); the job owns messages. */
	json_object *messages;
	char group_id[128];
	void *data;               /* the stage's; freed by its done() */
	size_t prompt_bytes;      /* for the token estimate */

	/* Set by ask for done(). */
	json_object *answer;      /* a valid answer (owned by the job) or NULL */
	char error[600];          /* why there is no answer; "" when there is */
	double latency_ms;        /* sum over the job's calls */
	const char *model;        /* llm_model() */
	int repaired;             /* the answer came from the repair round */

	/* Private. */
	json_object *calls;       /* llm_call records, emitted before done() */
	char *text;               /* first answer, for the repair round */
	char why[512];
};

struct ask {
	/* Filled in by the stage. */
	struct stage *st;
	struct llm *llm;
	json_object *schema;          /* sent with every request (borrowed) */
	json_object *check_schema;    /* validated against; NULL: schema */
	const char *schema_name;
	const char *purpose;          /* "rca", "remediation" */
	/* Extra check of a schema-valid answer: 0, or -1 with why (repaired). */
	int (*check)(struct ask *a, struct ask_job *job, json_object *answer, char *why, size_t n);
	/* Writes the job's result records; called in input order, after the
	 * job's llm_call records were emitted.  Must free job->data. */
	void (*done)(struct ask *a, struct ask_job *job);
	size_t batch;                 /* jobs per llm_batch(), >= 1 */
	long long max_calls, max_tokens;
	size_t max_queue_bytes;       /* 0: 64 MiB */

	/* Filled in by ask. */
	long long calls, tokens;
	long long answers;            /* jobs decided (with an answer or an error) */
	long long answers_failed;     /* of those, ended without a valid answer */
	char first_error[600];        /* the first such job's error */
	char err[512];                /* why ask_submit()/ask_flush() failed */

	/* Private. */
	struct ask_ent *q;
	size_t qn, qcap, pending, qbytes;
};

/* A new job (zeroed) with group_id copied; free happens in ask. */
struct ask_job *ask_job_new(const char *group_id);

/* Forwards r's original bytes now, or queues a copy behind pending jobs. */
void ask_forward(struct ask *a, const struct rec *r);
/* Emits o now, or queues it (a reference is taken; the caller keeps its). */
void ask_emit(struct ask *a, json_object *o);
/*
 * Queues a job (ask takes it over) and asks the batch when it is full.
 * Returns 0, or -1 with a->err when a budget was exceeded (the queue was
 * written out, the unasked jobs with an error).
 */
int ask_submit(struct ask *a, struct ask_job *job);
/* Asks whatever is pending and writes the queue out.  Returns 0 or -1. */
int ask_flush(struct ask *a);
/*
 * The stage's whole run after stage_init(): reads the input with foreign
 * records queued behind pending jobs (a->st's on_foreign is set to do
 * that), asks what is left at the end, closes the llm record file, and
 * writes stage_end.  Returns the exit status.  One ask per process.
 */
int ask_run(struct ask *a);
/*
 * Adds "answers" and "answers_failed" (a model call that failed for good
 * and an answer still invalid after its repair round both count) to
 * stage_end's "llm" object (made by llm_add_stats(), which must run first)
 * and, when any answer failed, says once on stderr how many and the first
 * cause: "PROG: 3 of 7 model answers failed: model call failed: ...".
 */
void ask_add_stats(struct ask *a, json_object *stage_end);
/* Frees the queue (after a final ask_flush). */
void ask_free(struct ask *a);


#endif
