/*
 * t_http: lib/http against tests/servers/fake_llm.py (started here on
 * 127.0.0.1 with an ephemeral port): the retry policy, timeouts, secrets,
 * order under concurrency.  TAP output; skips everything without python3.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http.h"
#include "ts.h"

static int nt, nfail;
static pid_t srv_pid;
static int srv_port;
static char srv_dir[256];

static void
ok(int cond, const char *name)
{
	nt++;
	if (!cond)
		nfail++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", nt, name);
	fflush(stdout);
}

static void
diag(const struct http_resp *r)
{
	printf("# status %ld attempts %d latency %.0f ms error '%s'\n", r->status,
	       r->attempts, r->latency_ms, r->error);
}

static const char *
server_path(void)
{
	const char *root = getenv("AIOPS_ROOT");
	static char path[512];

	snprintf(path, sizeof path, "%s/tests/servers/fake_llm.py", root ? root : ".");
	return path;
}

/* Starts the fake server with extra arguments; returns 0 or -1. */
static int
server_start(const char *const *extra)
{
	char portfile[300], logfile[300];
	const char *argv[32];
	int i = 0;

	snprintf(srv_dir, sizeof srv_dir, "/tmp/t_http.XXXXXX");
	if (mkdtemp(srv_dir) == NULL)
		return -1;
	snprintf(portfile, sizeof portfile, "%s/port", srv_dir);
	snprintf(logfile, sizeof logfile, "%s/log.jsonl", srv_dir);
	argv[i++] = "python3";
	argv[i++] = server_path();
	argv[i++] = "--port-file";
	argv[i++] = portfile;
	argv[i++] = "--log";
	argv[i++] = logfile;
	argv[i++] = "--hang-s";
	argv[i++] = "3";
	while (extra != NULL && *extra != NULL && i < 30)
		argv[i++] = *extra++;
	argv[i] = NULL;
	fflush(stdout);
	srv_pid = fork();
	if (srv_pid < 0)
		return -1;
	if (srv_pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	for (int t = 0; t < 200; t++) {
		FILE *f = fopen(portfile, "r");
		if (f != NULL) {
			int n = fscanf(f, "%d", &srv_port);
			fclose(f);
			if (n == 1)
				return 0;
		}
		if (waitpid(srv_pid, NULL, WNOHANG) == srv_pid)
			return -1;
		usleep(50000);
	}
	return -1;
}

static void
server_stop(void)
{
	char cmd[300];

	if (srv_pid > 0) {
		kill(srv_pid, SIGTERM);
		waitpid(srv_pid, NULL, 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", srv_dir);
	if (srv_dir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", srv_dir);
}

static char *
url(const char *path)
{
	static char u[8][256];
	static int k;
	k = (k + 1) % 8;
	snprintf(u[k], sizeof u[k], "http://127.0.0.1:%d%s", srv_port, path);
	return u[k];
}

static void
control(const char *json)
{
	struct http_req q = {"POST", url("/_control"), NULL, json, strlen(json), NULL};
	struct http_resp r;

	if (http_do(&q, &r) != 0)
		printf("# control failed: %s\n", r.error);
	http_resp_free(&r);
}

static struct http_policy
fast_policy(void)
{
	struct http_policy p;

	http_policy_default(&p);
	p.backoff_base_s = 0.01;
	p.backoff_cap_s = 0.05;
	p.timeout_s = 5;
	p.seed = 42;
	return p;
}

static const char chat_body[] =
	"{\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

/* One POST to the chat route after setting the faults. */
static int
chat(const char *faults, const struct http_policy *p, struct http_resp *r,
     const struct http_header *h)
{
	char ctl[256];
	struct http_req q = {"POST", url("/v1/chat/completions"), h, chat_body,
			     sizeof chat_body - 1, p};

	snprintf(ctl, sizeof ctl, "{\"faults\":\"%s\"}", faults);
	control(ctl);
	return http_do(&q, r);
}

static int
count_in_log(const char *needle)
{
	char path[300], line[65536];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/log.jsonl", srv_dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

int
main(void)
{
	struct http_policy p = fast_policy();
	struct http_resp r;
	int rc;

	http_init();
	if (server_start(NULL) < 0) {
		printf("1..0 # SKIP cannot start %s (python3 missing?)\n", server_path());
		return 0;
	}

	/* GET */
	{
		struct http_req q = {"GET", url("/v1/models"), NULL, NULL, 0, &p};
		rc = http_do(&q, &r);
		ok(rc == 0 && r.status == 200 && r.attempts == 1 && r.body &&
		   strstr(r.body, "fake-model") && r.body_len == strlen(r.body),
		   "GET answers 200 with the body in one attempt");
		http_resp_free(&r);
	}

	rc = chat("ok", &p, &r, NULL);
	ok(rc == 0 && r.status == 200 && r.error[0] == '\0' && strstr(r.body, "chat.completion"),
	   "POST with a JSON body succeeds");
	http_resp_free(&r);

	rc = chat("500,503,ok", &p, &r, NULL);
	ok(rc == 0 && r.attempts == 3 && r.status == 200, "500 and 503 are retried");
	diag(&r);
	http_resp_free(&r);

	rc = chat("408,409,502,ok", &p, &r, NULL);
	ok(rc == 0 && r.attempts == 4, "408, 409 and 502 are retried");
	http_resp_free(&r);

	rc = chat("500,500,500,500,500", &p, &r, NULL);
	ok(rc == -1 && r.attempts == 4 && r.status == 500 && strcmp(r.error, "HTTP 500") == 0 &&
	   r.retryable && r.body && strstr(r.body, "fake error 500"),
	   "gives up after max_attempts with the last answer kept");
	diag(&r);
	http_resp_free(&r);
	control("{\"faults\":\"\"}");

	rc = chat("400,ok", &p, &r, NULL);
	ok(rc == -1 && r.attempts == 1 && r.status == 400 && !r.retryable, "400 is not retried");
	http_resp_free(&r);

	rc = chat("404,ok", &p, &r, NULL);
	ok(rc == -1 && r.attempts == 1 && r.status == 404, "404 is not retried");
	http_resp_free(&r);

	rc = chat("429:quota,ok", &p, &r, NULL);
	ok(rc == -1 && r.attempts == 1 && r.status == 429 && strstr(r.error, "insufficient_quota"),
	   "429 insufficient_quota is not retried");
	diag(&r);
	http_resp_free(&r);

	rc = chat("429:retry-after=1,ok", &p, &r, NULL);
	ok(rc == 0 && r.attempts == 2 && r.latency_ms >= 990 && r.latency_ms < 2500,
	   "429 with Retry-After: 1 waits one second");
	diag(&r);
	http_resp_free(&r);

	rc = chat("429:retry-after-ms=300,ok", &p, &r, NULL);
	ok(rc == 0 && r.attempts == 2 && r.latency_ms >= 290 && r.latency_ms < 1200,
	   "429 with retry-after-ms: 300 waits 300 ms");
	diag(&r);
	http_resp_free(&r);

	rc = chat("429:retry-after-date=2,ok", &p, &r, NULL);
	ok(rc == 0 && r.attempts == 2 && r.latency_ms >= 900 && r.latency_ms < 3500,
	   "429 with Retry-After as an HTTP date is honoured");
	diag(&r);
	http_resp_free(&r);

	{
		struct http_policy q = p;
		q.max_retry_after_s = 0.5;
		rc = chat("429:retry-after=5,ok", &q, &r, NULL);
		ok(rc == -1 && r.attempts == 1 && r.latency_ms < 1000 &&
		   strstr(r.error, "exceeds the cap"),
		   "a Retry-After over the cap makes the failure final");
		diag(&r);
		http_resp_free(&r);
		control("{\"faults\":\"\"}");
	}

	{
		struct http_policy q = p;
		q.timeout_s = 0.4;
		q.max_attempts = 2;
		int64_t t0 = ts_mono();
		rc = chat("timeout,timeout,ok", &q, &r, NULL);
		double ms = (double)(ts_mono() - t0) / 1e6;
		ok(rc == -1 && r.attempts == 2 && r.status == 0 && strstr(r.error, "curl: (28)") &&
		   r.retryable && ms < 2000, "a timeout is retried and then reported");
		diag(&r);
		http_resp_free(&r);
		control("{\"faults\":\"\"}");
	}

	rc = chat("truncated,ok", &p, &r, NULL);
	ok(rc == 0 && r.attempts == 2, "a truncated body is retried");
	diag(&r);
	http_resp_free(&r);

	rc = chat("close,ok", &p, &r, NULL);
	ok(rc == 0 && r.attempts == 2, "a closed connection is retried");
	diag(&r);
	http_resp_free(&r);

	{
		struct http_policy q = p;
		q.max_attempts = 1;
		rc = chat("500,ok", &q, &r, NULL);
		ok(rc == -1 && r.attempts == 1, "max_attempts 1 means no retry");
		http_resp_free(&r);
		control("{\"faults\":\"\"}");
	}

	/* Secrets. */
	{
		const struct http_header h[] = {
			{"Authorization", "Bearer sk-test-SECRET-123", 1},
			{"X-Trace", "visible", 0},
			{NULL, NULL, 0},
		};
		char u[256];
		snprintf(u, sizeof u, "http://127.0.0.1:1/sk-test-SECRET-123");
		struct http_req q = {"POST", u, h, "{}", 2, &p};
		struct http_policy q1 = p;
		q1.max_attempts = 1;
		q.policy = &q1;
		rc = chat("401", &p, &r, h);
		ok(rc == -1 && strstr(r.error, "SECRET") == NULL &&
		   count_in_log("Bearer sk-test-SECRET-123") == 1,
		   "the Bearer header is sent and kept out of the error");
		http_resp_free(&r);
		rc = http_do(&q, &r);
		ok(rc == -1 && strstr(r.error, "SECRET") == NULL && r.error[0],
		   "a secret in a failing URL is scrubbed from the error");
		diag(&r);
		http_resp_free(&r);
	}

	/* Connection refused is retried until max_attempts. */
	{
		struct http_req q = {"GET", "http://127.0.0.1:1/", NULL, NULL, 0, &p};
		rc = http_do(&q, &r);
		ok(rc == -1 && r.attempts == 4 && r.status == 0 && strstr(r.error, "curl: (7)"),
		   "connection refused is retried");
		diag(&r);
		http_resp_free(&r);
	}

	/* Order under concurrency. */
	{
		enum { N = 12 };
		struct http_req qs[N];
		struct http_resp rs[N];
		char bodies[N][200];
		int good = 1;

		control("{\"faults\":\"\",\"reset_stats\":true}");
		for (int i = 0; i < N; i++) {
			snprintf(bodies[i], sizeof bodies[i],
				 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
				 "\"content\":\"req-%02d [[delay_ms=%d]]\"}]}",
				 i, (N - i) * 40);
			qs[i] = (struct http_req){"POST", url("/v1/chat/completions"), NULL,
						  bodies[i], strlen(bodies[i]), &p};
		}
		int64_t t0 = ts_mono();
		int failed = http_do_many(qs, rs, N, 4);
		double ms = (double)(ts_mono() - t0) / 1e6;
		for (int i = 0; i < N; i++) {
			char want[32];
			snprintf(want, sizeof want, "req-%02d ", i);
			if (rs[i].status != 200 || rs[i].body == NULL || !strstr(rs[i].body, want))
				good = 0;
			http_resp_free(&rs[i]);
		}
		ok(failed == 0 && good, "http_do_many keeps the input order");
		/* Sum of delays is 3120 ms; with 4 in flight about 900 ms. */
		ok(ms < 2000, "http_do_many runs requests concurrently");
		printf("# %d requests in %.0f ms\n", N, ms);
		struct http_req sq = {"GET", url("/_stats"), NULL, NULL, 0, &p};
		http_do(&sq, &r);
		ok(r.body && strstr(r.body, "\"max_inflight\": 4"), "no more than 4 in flight");
		printf("# %s\n", r.body ? r.body : "");
		http_resp_free(&r);
	}

	/* Retries inside a batch do not disturb the others. */
	{
		enum { N = 6 };
		struct http_req qs[N];
		struct http_resp rs[N];
		int good = 1, retried = 0;

		control("{\"faults\":\"500,429:retry-after-ms=50,ok,500\"}");
		for (int i = 0; i < N; i++)
			qs[i] = (struct http_req){"POST", url("/v1/chat/completions"), NULL,
						  chat_body, sizeof chat_body - 1, &p};
		int failed = http_do_many(qs, rs, N, 3);
		for (int i = 0; i < N; i++) {
			if (rs[i].status != 200)
				good = 0;
			retried += rs[i].attempts - 1;
			http_resp_free(&rs[i]);
		}
		ok(failed == 0 && good && retried == 3, "retries inside a batch");
	}

	{
		char *e = http_escape("a b/c?d=é&x");
		ok(strcmp(e, "a%20b%2Fc%3Fd%3D%C3%A9%26x") == 0, "http_escape");
		free(e);
	}

	server_stop();
	printf("1..%d\n", nt);
	return nfail ? 1 : 0;
}
