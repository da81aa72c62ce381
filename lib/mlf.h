/*
 * mlf: an MLflow client.  Three parts:
 *
 *   - the run data (params, tags, metrics) with MLflow's rules applied as
 *     items are added: keys sanitised, over-long values shortened with a
 *     marker, duplicate params kept once; and the chunker that turns it into
 *     runs/log-batch bodies within MLflow's limits;
 *   - the REST client (tracking server over lib/http): experiments, runs,
 *     log-batch, artifacts through the proxy, OTLP traces;
 *   - the file-store writer: MLflow's local ./mlruns layout.
 *
 * Library rules: nothing here prints or exits (allocation failures exit
 * through emalloc); errors come back as -1 with a message in the caller's
 * err buffer.  No message ever holds a credential.
 */
#ifndef AIOPS_MLF_H
#define AIOPS_MLF_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "buf.h"

/* MLflow's limits (mlflow/utils/validation.py). */
#define MLF_MAX_KEY 250
#define MLF_MAX_PARAM_VALUE 6000
#define MLF_MAX_TAG_VALUE 8000
#define MLF_BATCH_METRICS 1000
#define MLF_BATCH_PARAMS 100
#define MLF_BATCH_TAGS 100
#define MLF_BATCH_ITEMS 1000
#define MLF_BATCH_BYTES 1000000   /* the documented 1 MB, kept strictly below */

/* Run statuses as the file store writes them (RunStatus enum numbers). */
enum { MLF_RUNNING = 1, MLF_FINISHED = 3, MLF_FAILED = 4, MLF_KILLED = 5 };

/* ---- run data ---- */

struct mlf_kv {
	char *key, *value;
};

struct mlf_metric {
	char *key;
	double value;
	int64_t ts_ms;
	int64_t step;
};

struct mlf_data {
	struct mlf_kv *params, *tags;
	struct mlf_metric *metrics;
	size_t nparams, ntags, nmetrics;
	size_t capparams, captags, capmetrics;
	unsigned long shortened;   /* values shortened so far */
	unsigned long dropped;     /* params dropped: same key, other value */
};

/*
 * Makes key a valid MLflow key in place-allocated form: characters other
 * than alphanumerics, "_-./ :" become '_'; leading '/', "//", "/./",
 * "/../" and a trailing '/' are removed; a key longer than MLF_MAX_KEY is
 * cut and ends with '~' and 8 hex digits of its SHA-256 so distinct long
 * keys stay distinct.  Returns a new string (caller frees); an empty key
 * becomes "_".
 */
char *mlf_key(const char *key);

/*
 * Returns a copy of v no longer than max bytes.  A longer value is cut at a
 * UTF-8 boundary and ends with the marker "...[truncated N bytes]" (N is
 * the original length), or without it when max is too small to hold it;
 * *cut is set to 1 then (it may be NULL).
 */
char *mlf_shorten(const char *v, size_t max, int *cut);

void mlf_data_init(struct mlf_data *d);
void mlf_data_free(struct mlf_data *d);
/* Adds a param (key sanitised, value shortened).  The first value of a key
 * wins: an equal later value is ignored, a different one is dropped and
 * counted in d->dropped.  Returns 0, or 1 when dropped.  A NULL value is "". */
int mlf_param(struct mlf_data *d, const char *key, const char *value);
/* Sets a tag; a later value for the same key replaces the earlier one.
 * A NULL value is the empty string (json_object_get_string of a JSON null). */
void mlf_tag(struct mlf_data *d, const char *key, const char *value);
const char *mlf_tag_get(const struct mlf_data *d, const char *key);
/* Adds a metric point; a point with the same key and step replaces the
 * earlier one (so a batch never repeats a point, which MLflow's SQL store
 * refuses).  Non-finite values are ignored: JSON cannot carry them.
 * Returns 0, or -1 when ignored. */
int mlf_metric(struct mlf_data *d, const char *key, double value, int64_t ts_ms, int64_t step);
/*
 * Flattens a JSON value into params: objects recurse with dotted keys
 * (prefix.a.b), every other value is one param (strings raw, the rest as
 * compact JSON, arrays included).  An empty object becomes "{}".
 */
void mlf_flatten_params(struct mlf_data *d, const char *prefix, json_object *v);

/* ---- log-batch chunking ---- */

/* Iterates over d in log-batch bodies: params first, then tags, then
 * metrics, each body within the MLF_BATCH_* counts and under max_bytes
 * (0: MLF_BATCH_BYTES).  Metrics for which skip() returns 1 are left out
 * (resume: points already on the server). */
struct mlf_chunker {
	const struct mlf_data *d;
	const char *run_id;
	size_t max_bytes;
	size_t ip, it, im;
	int (*skip)(void *ctx, const struct mlf_metric *m);
	void *skip_ctx;
};

void mlf_chunker_init(struct mlf_chunker *c, const struct mlf_data *d, const char *run_id,
		      size_t max_bytes);
/* Writes the next body into out (reset first) and the item counts into
 * counts[3] (params, tags, metrics).  Returns 1 when a body was written,
 * 0 when everything was sent. */
int mlf_chunk_next(struct mlf_chunker *c, struct buf *out, size_t counts[3]);

/* A metric value as MLflow's file store writes it: the shortest text that
 * reads back as the same double. */
void mlf_fmt_double(double v, char out[32]);

/* ---- REST client ---- */

struct http_policy;

struct mlf_client {
	char *base;                 /* tracking URI without a trailing '/' */
	char *auth;                 /* "Bearer ..." / "Basic ..." or NULL: secret */
	const struct http_policy *policy;
	int retryable;              /* the last failure was of a retryable kind */
	long status;                /* HTTP status of the last answer (0: none) */
	char error_code[64];        /* MLflow error_code of the last failure */
};

/*
 * Sets up a client for an http(s) tracking URI, with credentials from
 * MLFLOW_TRACKING_USERNAME/PASSWORD (Basic) or MLFLOW_TRACKING_TOKEN
 * (Bearer).  Returns 0, or -1 with err set.
 */
int mlf_client_init(struct mlf_client *c, const char *uri, const struct http_policy *pol,
		    char *err, size_t errlen);
void mlf_client_free(struct mlf_client *c);

/*
 * One REST call: method, a path under the tracking URI ("/api/2.0/..."),
 * an optional body (JSON unless ctype says otherwise), extra headers
 * (name/value pairs, NULL-terminated; may be NULL).  On success returns 0
 * and, when out is not NULL, the parsed JSON answer (caller puts; an empty
 * or non-JSON body gives an empty object).  On failure returns -1 with
 * err "METHOD PATH: reason" and c->status, c->error_code, c->retryable set.
 */
int mlf_call(struct mlf_client *c, const char *method, const char *path, const char *body,
	     size_t body_len, const char *ctype, const char *const *headers, json_object **out,
	     char *err, size_t errlen);

/*
 * Finds the experiment by name or creates it (with tags, a JSON object of
 * strings, may be NULL).  A create that answers RESOURCE_ALREADY_EXISTS
 * (a concurrent create) is followed by another lookup.  A deleted
 * experiment of that name is restored (*restored = 1).  Writes the id into
 * id[64].  Returns 0 or -1.
 */
int mlf_experiment(struct mlf_client *c, const char *name, json_object *tags, char id[64],
		   int *restored, char *err, size_t errlen);

/* The run of experiment exp_id whose tag `key` equals value (the most
 * recent, deleted runs excluded), as a new runs/get-like "run" object, or
 * NULL in *run when there is none.  Returns 0 or -1. */
int mlf_find_run(struct mlf_client *c, const char *exp_id, const char *key, const char *value,
		 json_object **run, char *err, size_t errlen);

/* ---- file store ---- */

struct mlf_fs {
	char *root;                 /* absolute path of the store */
	char *exp_id;
	char *run_id;
	char *run_dir;              /* root/exp_id/run_id */
};

/*
 * Opens (creating) the store at root, then finds the active experiment
 * `name` or creates it (the next free integer id; tags written under
 * tags/); a store without experiment 0 gets "Default" as MLflow would.
 * Returns 0 or -1 with err set.
 */
int mlf_fs_open(struct mlf_fs *fs, const char *root, const char *name, json_object *exp_tags,
		char *err, size_t errlen);
/*
 * Writes a complete run: meta.yaml with status (MLF_FINISHED/FAILED/KILLED)
 * and times, params/, metrics/ (lines "TS VALUE STEP"), tags/, and an empty
 * artifacts/.  run_id is 32 hex digits.  Returns 0 or -1.
 */
int mlf_fs_write_run(struct mlf_fs *fs, const char *run_id, const char *run_name,
		     const char *user, int64_t start_ms, int64_t end_ms, int status,
		     const struct mlf_data *d, char *err, size_t errlen);
/* Moves (or copies, across file systems) the file src to artifacts/path,
 * creating directories.  Returns 0 or -1. */
int mlf_fs_artifact(struct mlf_fs *fs, const char *path, const char *src, char *err,
		    size_t errlen);
void mlf_fs_free(struct mlf_fs *fs);

/* ---- small shared helpers ---- */

/* mkdir -p; returns 0 or -1 with errno. */
int mlf_mkdirs(const char *path, int mode);
/* Copies a file; returns 0 or -1 with errno. */
int mlf_copy_file(const char *src, const char *dst);
/* Writes n bytes to path (created or truncated); returns 0 or -1. */
int mlf_write_file(const char *path, const void *p, size_t n);
/* Base64 (standard alphabet, padded) of n bytes into a new string. */
char *mlf_base64(const void *p, size_t n);

#endif
