/*
 * http: HTTP requests over libcurl with the project's retry policy.  Only
 * modules that talk HTTP include this header (and curl).
 *
 * Retry policy (like MLflow's and openai-python's clients): connection
 * errors, timeouts, 408, 409, 429 and 5xx are retried with exponential
 * backoff and full jitter (delay = random(0, min(cap, base * 2^attempt))),
 * honouring Retry-After (seconds or HTTP date) and retry-after-ms up to
 * max_retry_after_s; other 4xx are final, and so is a 429 whose body says
 * "insufficient_quota".  An "x-should-retry: true|false" answer header
 * overrides the status rule (as in openai-python).  Secrets (Authorization
 * and other headers marked secret) never appear in any message this module
 * produces: their values are replaced by "***" wherever they would.
 *
 * A POST body without a Content-Type header is sent as application/json;
 * "Expect: 100-continue" is never used.  Answers over 64 MiB are an error.
 *
 * IMPLEMENTATION OWNER: the LLM-provider work (lib/http.c, tests in
 * tests/unit/t_http.c).  The declarations below may gain fields but not
 * lose them.
 */
#ifndef AIOPS_HTTP_H
#define AIOPS_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct http_policy {
	double connect_timeout_s;   /* default 10 */
	double timeout_s;           /* each attempt, default 60 */
	int max_attempts;           /* including the first, default 4 */
	double backoff_base_s;      /* default 0.5 */
	double backoff_cap_s;       /* default 8 */
	double max_retry_after_s;   /* default 120: a longer hint makes the failure final */
	uint64_t seed;              /* jitter PRNG seed (0: from the clock) */
};

/* Fills p with the defaults above. */
void http_policy_default(struct http_policy *p);

struct http_header {
	const char *name;
	const char *value;
	int secret;                 /* never printed */
};

struct http_req {
	const char *method;         /* "GET", "POST", "PUT" */
	const char *url;
	const struct http_header *headers;  /* NULL-name terminated, may be NULL */
	const char *body;           /* may be NULL */
	size_t body_len;
	const struct http_policy *policy;   /* NULL: defaults */
};

struct http_resp {
	long status;                /* HTTP status of the last attempt, 0 if none */
	char *body;                 /* NUL-terminated, owned: http_resp_free() */
	size_t body_len;
	int attempts;               /* attempts made */
	double latency_ms;          /* wall time of all attempts and waits */
	char error[256];            /* empty on success; a curl error or "HTTP 404" */
	int retryable;              /* the last failure was of a retryable kind */
};

/* One-time global set-up (curl_global_init); safe to call more than once. */
void http_init(void);

/*
 * Performs the request with retries.  Returns 0 when a 2xx answer arrived,
 * -1 otherwise (resp->error says why; resp->status and body hold the last
 * answer, if any).  Never exits, never prints.
 */
int http_do(const struct http_req *req, struct http_resp *resp);

/*
 * Runs n requests with at most `concurrency` in flight (curl multi), each
 * with its own retries; resps[i] answers reqs[i].  Returns the number that
 * failed.  A request waiting out its backoff keeps its slot; connections
 * are reused within the call.  http_do() is this with n = 1.
 */
int http_do_many(const struct http_req *reqs, struct http_resp *resps, size_t n,
		 int concurrency);

void http_resp_free(struct http_resp *resp);

/* URL-encodes s into a new string (caller frees). */
char *http_escape(const char *s);

#endif
