/*
 * llm: one interface over the model providers (openai_compat, llamastack,
 * ollama), plus `baseline` (no network: the stage answers by itself) and
 * `replay` (answers from recorded llm_call records).  Built on lib/http.
 *
 * The provider is read from the config: the top-level `provider` section
 * {type, default_model, params {...}}, overridden key by key by a `provider`
 * block inside the stage's own section (params are merged, not replaced).
 * No type (or no provider section) means baseline.  The model is
 * default_model (or model).  Params understood:
 *
 *   base_url           server base; else the environment (see below), else
 *                      https://api.openai.com/v1, http://localhost:8321
 *                      (llamastack), http://127.0.0.1:11434 (ollama)
 *   path               chat path (openai_compat "/chat/completions",
 *                      llamastack "/v1/chat/completions", ollama "/api/chat")
 *   temperature        default 0
 *   max_tokens         default 1024 (ollama: options.num_predict)
 *   seed               sent when set
 *   num_ctx            ollama only, sent when set
 *   timeout_s          each attempt, default 120
 *   connect_timeout_s  default 10
 *   concurrency        requests in flight, default 4
 *   max_attempts       default 4 (including the first)
 *   backoff_base_s, backoff_cap_s, max_retry_after_s   see http.h
 *   structured         "json_schema" (default), "json_object" or "text":
 *                      the first response_format mode to try
 *   models_path        llamastack's model list (default: path with
 *                      "chat/completions" replaced by "models")
 *   replay_file        the replay type's recording (or llm_replay_open)
 *   replay_provider    the provider type the recording was made with
 *                      (default: the single provider found in the file)
 *
 * Environment (keys only from here, never from the config, and never in any
 * record, artifact or message):
 *   openai_compat  OPENAI_API_BASE or OPENAI_BASE_URL (when no base_url),
 *                  OPENAI_API_KEY (sent as "Authorization: Bearer")
 *   llamastack     LLAMA_STACK_BASE_URL, LLAMA_STACK_API_KEY (Bearer, when set)
 *   ollama         OLLAMA_BASE_URL, else OLLAMA_HOST ("host:port" or a URL)
 * A key in the config (params.api_key) is refused as a config error.
 *
 * Structured output: for openai_compat and llamastack a request with a
 * schema sends response_format {"type":"json_schema","json_schema":{"name",
 * "schema","strict":true}}; when the server answers 400 and the body mentions
 * response_format (or json_schema), the call is retried once with
 * {"type":"json_object"}, then without response_format, and the weaker mode
 * is kept for the rest of the run (a 422 counts like a 400).  In text mode
 * the prompt itself must ask for JSON: messages are never altered.  Ollama gets the schema as "format".
 *
 * request_hash (the replay key) is the SHA-256 of the compact JSON
 * {"provider","model","messages","params"} where params is the llm_call
 * record's params: {temperature, max_tokens, seed?, num_ctx?, schema_name?,
 * schema_sha256?}.  It does not depend on the server URL, the key or the
 * response_format mode that the server ended up accepting.
 *
 * Nothing here prints or exits; errors come back in strings.
 */
#ifndef AIOPS_LLM_H
#define AIOPS_LLM_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

enum llm_type {
	LLM_BASELINE,
	LLM_OPENAI,        /* "openai_compat" */
	LLM_LLAMASTACK,    /* "llamastack" */
	LLM_OLLAMA,        /* "ollama" */
	LLM_REPLAY         /* "replay" */
};

struct llm;            /* opaque */

/* One model call in a batch.  Everything is borrowed for the duration of
 * llm_batch() only. */
struct llm_req {
	json_object *messages;    /* array of {role, content} (strings) */
	json_object *schema;      /* JSON schema of the answer, or NULL */
	const char *schema_name;  /* [A-Za-z0-9_-]{1,64}; NULL: "answer" */
	int json;                 /* 1: parse the answer as JSON even without a
	                           * schema (json_object mode is requested) */
	const char *purpose;      /* rca, remediation, triage, repair */
	const char *group_id;     /* NULL: null in the record */
};

/* The answer to one llm_req.  Owned by the caller: llm_result_free(). */
/* Bytes of free text (a reason, a rationale, a summary) kept in a record
 * when max_text is 0; the rest is cut with a mark. */
#define FREE_TEXT_MAX 2000

/* A bigger model answer is an error with its size: its llm_call and rca or
 * remediation lines must stay far under the next stage's line limit. */
#define LLM_MAX_ANSWER ((size_t)1 << 20)

struct llm_result {
	char *text;               /* response text; NULL when no answer came */
	json_object *json;        /* the parsed answer when schema or json was
	                           * asked and the text parsed (after trimming
	                           * blanks and a ```json fence); else NULL */
	char parse_error[128];    /* why json is NULL although asked; "" else */
	int has_nul;              /* the answer held a NUL (shown in text as \u0000) */
	int64_t tokens_in;        /* provider-reported; -1 when not reported */
	int64_t tokens_out;
	double latency_ms;        /* wall time of all attempts and waits */
	int attempts;             /* HTTP attempts, including fallbacks */
	long http_status;         /* of the last attempt; 0 when none */
	char error[512];          /* "" on success; never contains a key */
	json_object *record;      /* the ready llm_call record (kind "llm_call",
	                           * fields as in HACKING.md; error null on
	                           * success, tokens null when not reported) */
	char finish_reason[32];   /* "stop", "length" (cut at max_tokens), ...;
	                           * Ollama's done_reason; "" when not given */
};

/*
 * Creates the provider from the whole config and the stage's section (may
 * be NULL) for stage stage_name ("rca": the llm_call records' `stage`).
 * Returns NULL with a message in err for a config error (unknown type, no
 * model, no base URL, a bad replay file).  Makes no network call.  The
 * config objects are only read during the call (values are copied).
 */
struct llm *llm_open(json_object *config, json_object *stage_section,
		     const char *stage_name, char *err, size_t errlen);

/* Closes the record file (if any) and frees everything.  NULL is a no-op. */
void llm_close(struct llm *l);

enum llm_type llm_type(const struct llm *l);
/* "openai_compat", "llamastack", "ollama", "baseline", "replay". */
const char *llm_type_name(const struct llm *l);
/* The name written as `provider` in records: the type name, except for
 * replay, which gives the recorded provider. */
const char *llm_provider(const struct llm *l);
/* The model ("baseline" for the baseline type when none is configured). */
const char *llm_model(const struct llm *l);
/* 1 when calls go over the network (not baseline, not replay). */
int llm_uses_network(const struct llm *l);

/* The keys of a provider section, and of its params, that llm_open reads
 * (lib/cfgkeys reports any other); NULL ends. */
extern const char *const llm_keys[];
extern const char *const llm_param_keys[];

/*
 * Adds "provider": {type, model, base_url, path, temperature, max_tokens,
 * seed, concurrency, max_attempts, timeout_s, ...} to params (a stage
 * record's params object).  No key, ever.
 */
void llm_add_params(const struct llm *l, json_object *params);

/*
 * Checks the provider before the first call.  For llamastack this lists
 * GET /v1/models once and fails with "model 'x' is not served by LlamaStack
 * at URL (known: a, b)" when the model is unknown; the other types return 0
 * without network.  Returns 0, or -1 with err.  llm_batch() calls it itself
 * (once) and turns a failure into every call's error; a stage that wants to
 * stop early calls it from on_start.
 */
int llm_check(struct llm *l, char *err, size_t errlen);

/*
 * For --preflight: lists the served models of a network provider
 * (openai_compat and llamastack GET .../models, Ollama GET /api/tags; one
 * attempt, short timeouts) and says on stderr, one line each, a note when
 * the type's key variable is unset and the problem when the server cannot
 * be reached, answers an error (a 401/403 without a key names the unset
 * variable) or does not serve the model ("model 'x' is not served by
 * Ollama at URL (known: a, b)").  Returns the number of problems (0 or 1);
 * baseline and replay: 0 at once.
 */
int llm_preflight(struct llm *l);

/*
 * Switches to answering from the llm_call records in path (JSONL; other
 * kinds are ignored), keyed by request_hash.  The provider/model used in the
 * hash stay those of the config (so `--replay FILE` with the recording run's
 * config reproduces it).  A miss is that call's error "replay miss: no
 * recorded call for hash H", never a network call.  Returns 0, or -1 with
 * err (unreadable file, bad line).
 */
int llm_replay_open(struct llm *l, const char *path, char *err, size_t errlen);

/*
 * Writes every llm_call record produced from now on to path (one JSON line
 * each, flushed after each batch).  Returns 0 or -1 with err.  Write errors
 * later show up in llm_record_close().
 */
int llm_record_open(struct llm *l, const char *path, char *err, size_t errlen);
/* Writes one record to the record file (no-op without one).  Returns 0/-1. */
int llm_record_write(struct llm *l, json_object *rec);
/* Closes the record file; returns -1 with err when any write failed. */
int llm_record_close(struct llm *l, char *err, size_t errlen);

/*
 * Runs n calls, at most `concurrency` in flight; res[i] answers reqs[i]
 * (every res[i] is filled, even on failure).  When a record file is open,
 * each record is written there too.  Returns the number of calls that
 * failed (error non-empty).  The baseline type fails every call with
 * "baseline provider makes no model calls".  Never prints, never exits.
 */
int llm_batch(struct llm *l, const struct llm_req *reqs, struct llm_result *res,
	      size_t n);

/* One call: llm_batch(l, req, res, 1).  Returns 0 or -1. */
int llm_call(struct llm *l, const struct llm_req *req, struct llm_result *res);

/* Frees what res owns and zeroes it. */
void llm_result_free(struct llm_result *res);

/* A new messages array [{system}, {user}] (system skipped when NULL). */
json_object *llm_messages(const char *system, const char *user);

/* The request hash of req under l's provider/model/params into out[65]. */
void llm_request_hash(const struct llm *l, const struct llm_req *req, char out[65]);

/*
 * Adds "llm": {calls, failures, retries, tokens_in, tokens_out,
 * latency_p50_ms, latency_p95_ms} to a stage_end record (counts over every
 * llm_batch() call; percentiles null when no call was made).
 */
void llm_add_stats(const struct llm *l, json_object *stage_end);
/* Counts one more failure in those statistics: a call whose answer was
 * unusable although the call itself worked (lib/ask's rejected answers). */
void llm_count_failure(struct llm *l);

#endif
