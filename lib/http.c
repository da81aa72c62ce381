/*
 * http: libcurl with the project's retry policy (see http.h).  One engine
 * serves both entry points: http_do() is http_do_many() with one request.
 * The engine is a curl multi handle that keeps at most `concurrency`
 * requests busy (a request waiting out its backoff keeps its slot, so the
 * limit also bounds the load a retry storm puts on the server), retries each
 * request on its own schedule, and writes resps[i] for reqs[i].
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "ts.h"

#define HTTP_BODY_MAX (64u << 20)   /* a bigger answer is an error */

void
http_policy_default(struct http_policy *p)
{
	p->connect_timeout_s = 10;
	p->timeout_s = 60;
	p->max_attempts = 4;
	p->backoff_base_s = 0.5;
	p->backoff_cap_s = 8;
	p->max_retry_after_s = 120;
	p->seed = 0;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
init_curl(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
http_init(void)
{
	pthread_once(&init_once, init_curl);
}

enum xstate { X_WAIT, X_RUNNING, X_BACKOFF, X_DONE };

struct xfer {
	const struct http_req *req;
	struct http_resp *resp;
	struct http_policy pol;
	CURL *eh;
	struct curl_slist *hdrs;
	struct buf body;
	char errbuf[CURL_ERROR_SIZE];
	enum xstate state;
	int64_t t0;               /* ts_mono() at the first attempt */
	int64_t next_at;          /* start of the next attempt (X_BACKOFF) */
	uint64_t rng;
	/* Hints from the last answer's headers. */
	double retry_after_s;     /* < 0: none */
	int should_retry;         /* -1 none, 0 false, 1 true */
};

static uint64_t
rng_next(uint64_t *s)
{
	/* xorshift64*: good enough for jitter, and reproducible from a seed. */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ULL;
}

static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

/* Replaces every occurrence of each secret header's value in s with "***". */
static void
scrub(const struct http_req *req, char *s, size_t size)
{
	const struct http_header *h;

	if (req->headers == NULL)
		return;
	for (h = req->headers; h->name != NULL; h++) {
		size_t vn;
		char *p;

		if (!h->secret || h->value == NULL || (vn = strlen(h->value)) < 3)
			continue;
		/* The value itself and, for "Bearer KEY", the key alone. */
		for (int pass = 0; pass < 2; pass++) {
			const char *v = h->value;
			if (pass == 1) {
				const char *sp = strrchr(h->value, ' ');
				if (sp == NULL || strlen(sp + 1) < 3)
					break;
				v = sp + 1;
			}
			vn = strlen(v);
			while ((p = strstr(s, v)) != NULL) {
				size_t rest = strlen(p + vn);
				memcpy(p, "***", 3);
				memmove(p + 3, p + vn, rest + 1);
			}
		}
	}
	s[size - 1] = '\0';
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (buf_add(&x->body, p, n) < 0)
		return 0;   /* curl reports a write error */
	return n;
}

/* Parses a header line "Name: value\r\n" for the retry hints. */
static size_t
on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, k, vlen;
	const char *colon = memchr(p, ':', n);
	char val[128];

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (e.g. after 100 Continue): forget old hints. */
		x->retry_after_s = -1;
		x->should_retry = -1;
		return n;
	}
	if (colon == NULL)
		return n;
	k = (size_t)(colon - p);
	const char *v = colon + 1;
	while (v < p + n && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(p + n - v);
	while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
		vlen--;
	if (vlen >= sizeof val)
		return n;
	memcpy(val, v, vlen);
	val[vlen] = '\0';
	if (k == 14 && strncasecmp(p, "retry-after-ms", k) == 0) {
		char *end;
		double ms = strtod(val, &end);
		if (end != val && ms >= 0)
			x->retry_after_s = ms / 1000;
	} else if (k == 11 && strncasecmp(p, "retry-after", k) == 0) {
		char *end;
		double s = strtod(val, &end);
		if (x->retry_after_s >= 0)
			return n;   /* retry-after-ms wins */
		if (end != val && *end == '\0') {
			if (s >= 0)
				x->retry_after_s = s;
		} else {
			time_t t = curl_getdate(val, NULL);
			if (t != -1) {
				double d = difftime(t, time(NULL));
				x->retry_after_s = d > 0 ? d : 0;
			}
		}
	} else if (k == 14 && strncasecmp(p, "x-should-retry", k) == 0) {
		if (strcasecmp(val, "true") == 0)
			x->should_retry = 1;
		else if (strcasecmp(val, "false") == 0)
			x->should_retry = 0;
	}
	return n;
}

static int
has_header(const struct http_req *req, const char *name)
{
	const struct http_header *h;

	if (req->headers == NULL)
		return 0;
	for (h = req->headers; h->name != NULL; h++)
		if (strcasecmp(h->name, name) == 0)
			return 1;
	return 0;
}

/* Sets up x->eh for the request (once; retries reuse the handle). */
static int
xfer_setup(struct xfer *x)
{
	const struct http_req *req = x->req;
	const struct http_header *h;
	struct buf line = BUF_INIT(0);

	x->eh = curl_easy_init();
	if (x->eh == NULL) {
		snprintf(x->resp->error, sizeof x->resp->error, "cannot create a curl handle");
		return -1;
	}
	if (req->headers != NULL) {
		for (h = req->headers; h->name != NULL; h++) {
			buf_reset(&line);
			buf_printf(&line, "%s: %s", h->name, h->value ? h->value : "");
			x->hdrs = curl_slist_append(x->hdrs, line.p);
		}
	}
	if (req->body != NULL && !has_header(req, "Content-Type"))
		x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip for larger bodies. */
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	buf_free(&line);

	curl_easy_setopt(x->eh, CURLOPT_URL, req->url);
	curl_easy_setopt(x->eh, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->eh, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->eh, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->eh, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->eh, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->eh, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->eh, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->eh, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->eh, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(x->pol.connect_timeout_s * 1000));
	curl_easy_setopt(x->eh, CURLOPT_TIMEOUT_MS, (long)(x->pol.timeout_s * 1000));
	curl_easy_setopt(x->eh, CURLOPT_USERAGENT, "aiops/0.1");
	const char *m = req->method ? req->method : (req->body ? "POST" : "GET");
	if (strcmp(m, "GET") == 0) {
		curl_easy_setopt(x->eh, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(m, "POST") == 0) {
		curl_easy_setopt(x->eh, CURLOPT_POST, 1L);
	} else {
		curl_easy_setopt(x->eh, CURLOPT_CUSTOMREQUEST, m);
	}
	if (req->body != NULL) {
		curl_easy_setopt(x->eh, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(x->eh, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(m, "GET") != 0) {
		curl_easy_setopt(x->eh, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(x->eh, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	return 0;
}

static void
attempt_start(CURLM *m, struct xfer *x)
{
	buf_reset(&x->body);
	x->errbuf[0] = '\0';
	x->retry_after_s = -1;
	x->should_retry = -1;
	x->resp->attempts++;
	x->state = X_RUNNING;
	curl_multi_add_handle(m, x->eh);
}

static int
curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
}

static void
finish(struct xfer *x, int64_t now)
{
	x->state = X_DONE;
	x->resp->latency_ms = (double)(now - x->t0) / TS_NS_PER_MS;
	x->resp->body_len = x->body.len;
	x->resp->body = buf_detach(&x->body);
	scrub(x->req, x->resp->error, sizeof x->resp->error);
}

/*
 * Decides what follows a finished attempt: done (success or final failure)
 * or a retry at x->next_at.  Returns 1 when the request is done.
 */
static int
attempt_done(struct xfer *x, CURLcode rc, int64_t now)
{
	struct http_resp *r = x->resp;
	long status = 0;
	int retry;

	curl_easy_getinfo(x->eh, CURLINFO_RESPONSE_CODE, &status);
	r->status = status;
	r->error[0] = '\0';
	if (rc != CURLE_OK) {
		const char *msg = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
		snprintf(r->error, sizeof r->error, "curl: (%d) %.200s", (int)rc, msg);
		retry = curl_retryable(rc);
		if (rc == CURLE_WRITE_ERROR && x->body.len + 1 >= HTTP_BODY_MAX) {
			snprintf(r->error, sizeof r->error,
				 "response body larger than %u bytes", HTTP_BODY_MAX);
			retry = 0;
		}
		status = 0;
		r->status = 0;
	} else if (status >= 200 && status < 300) {
		r->retryable = 0;
		return 1;
	} else {
		snprintf(r->error, sizeof r->error, "HTTP %ld", status);
		retry = status == 408 || status == 409 || status == 429 || status >= 500;
		if (status == 429 && x->body.p != NULL &&
		    strstr(x->body.p, "insufficient_quota") != NULL) {
			snprintf(r->error, sizeof r->error, "HTTP 429 (insufficient_quota)");
			retry = 0;
		}
		if (x->should_retry >= 0)
			retry = x->should_retry;
	}
	r->retryable = retry;
	if (!retry || r->attempts >= x->pol.max_attempts)
		return 1;

	double delay;
	if (x->retry_after_s >= 0 && status != 0) {
		if (x->retry_after_s > x->pol.max_retry_after_s) {
			size_t k = strlen(r->error);
			snprintf(r->error + k, sizeof r->error - k,
				 " (retry-after %g s exceeds the cap of %g s)",
				 x->retry_after_s, x->pol.max_retry_after_s);
			return 1;
		}
		delay = x->retry_after_s;
	} else {
		double ceil = x->pol.backoff_base_s;
		for (int i = 1; i < r->attempts && ceil < x->pol.backoff_cap_s; i++)
			ceil *= 2;
		if (ceil > x->pol.backoff_cap_s)
			ceil = x->pol.backoff_cap_s;
		delay = rng_unit(&x->rng) * ceil;
	}
	x->next_at = now + (int64_t)(delay * TS_NS_PER_S);
	x->state = X_BACKOFF;
	return 0;
}

int
http_do_many(const struct http_req *reqs, struct http_resp *resps, size_t n,
	     int concurrency)
{
	struct xfer *xs;
	CURLM *m;
	size_t cursor = 0, done = 0, busy = 0, i;
	int failed = 0;

	if (n == 0)
		return 0;
	http_init();
	if (concurrency < 1)
		concurrency = 1;
	xs = ecalloc(n, sizeof *xs);
	m = curl_multi_init();
	for (i = 0; i < n; i++) {
		struct xfer *x = &xs[i];
		memset(&resps[i], 0, sizeof resps[i]);
		x->req = &reqs[i];
		x->resp = &resps[i];
		if (reqs[i].policy != NULL)
			x->pol = *reqs[i].policy;
		else
			http_policy_default(&x->pol);
		if (x->pol.max_attempts < 1)
			x->pol.max_attempts = 1;
		x->rng = x->pol.seed ? x->pol.seed + i * 0x9E3779B97F4A7C15ULL
				     : (uint64_t)ts_mono() ^ ((uint64_t)(uintptr_t)x << 16);
		if (x->rng == 0)
			x->rng = 0x9E3779B97F4A7C15ULL;
		x->body.max = HTTP_BODY_MAX;
		x->state = X_WAIT;
	}
	if (m == NULL) {
		for (i = 0; i < n; i++)
			snprintf(resps[i].error, sizeof resps[i].error,
				 "cannot create a curl multi handle");
		free(xs);
		return (int)n;
	}
	/* Connections are reused between requests of the batch. */
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)concurrency + 4);

	while (done < n) {
		int64_t now = ts_mono();
		int running, msgs;
		CURLMsg *msg;

		while (busy < (size_t)concurrency && cursor < n) {
			struct xfer *x = &xs[cursor++];
			x->t0 = now;
			busy++;
			if (xfer_setup(x) < 0) {
				finish(x, now);
				done++, busy--, failed++;
				continue;
			}
			attempt_start(m, x);
		}
		for (i = 0; i < cursor; i++)
			if (xs[i].state == X_BACKOFF && xs[i].next_at <= now)
				attempt_start(m, &xs[i]);

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &msgs)) != NULL) {
			struct xfer *x;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			CURLcode rc = msg->data.result;
			curl_multi_remove_handle(m, x->eh);
			now = ts_mono();
			if (attempt_done(x, rc, now)) {
				finish(x, now);
				done++, busy--;
				if (x->resp->error[0])
					failed++;
			}
		}
		if (done >= n)
			break;

		/* Sleep until there is I/O or the next retry is due. */
		int64_t wait_ms = 1000;
		now = ts_mono();
		for (i = 0; i < cursor; i++) {
			if (xs[i].state == X_BACKOFF) {
				int64_t d = (xs[i].next_at - now) / TS_NS_PER_MS;
				if (d < wait_ms)
					wait_ms = d < 0 ? 0 : d;
			}
		}
		if (busy < (size_t)concurrency && cursor < n)
			wait_ms = 0;
		if (wait_ms > 0)
			curl_multi_poll(m, NULL, 0, (int)wait_ms, NULL);
	}

	for (i = 0; i < n; i++) {
		if (xs[i].eh != NULL)
			curl_easy_cleanup(xs[i].eh);
		curl_slist_free_all(xs[i].hdrs);
		buf_free(&xs[i].body);
	}
	curl_multi_cleanup(m);
	free(xs);
	return failed;
}

int
http_do(const struct http_req *req, struct http_resp *resp)
{
	return http_do_many(req, resp, 1, 1) == 0 ? 0 : -1;
}

void
http_resp_free(struct http_resp *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

char *
http_escape(const char *s)
{
	size_t n = strlen(s);
	char *out = emalloc(3 * n + 1), *p = out;
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}
