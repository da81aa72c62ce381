/*
 * t_llm: lib/llm against tests/servers/fake_llm.py (started here on
 * 127.0.0.1, ephemeral port): exact request bodies for the three wire
 * formats, the Bearer key (sent, never shown), the response_format fallback,
 * retries, order under concurrency, LlamaStack model check, replay and
 * record.  TAP output; skips everything without python3.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "http.h"
#include "js.h"
#include "llm.h"
#include "tap.h"

#define KEY "sk-unit-TOPSECRET-4242"

static pid_t srv_pid;
static int srv_port;
static char srv_dir[256];
static char logpath[300];

static const char *
server_path(void)
{
	const char *root = getenv("AIOPS_ROOT");
	static char path[512];

	snprintf(path, sizeof path, "%s/tests/servers/fake_llm.py", root ? root : ".");
	return path;
}

static int
server_start(void)
{
	char portfile[300];
	const char *argv[] = {"python3", server_path(), "--port-file", portfile, "--log",
			      logpath, "--hang-s", "3", "--models",
			      "fake-model,vllm/m1,vllm/m2", NULL};

	snprintf(srv_dir, sizeof srv_dir, "/tmp/t_llm.XXXXXX");
	if (mkdtemp(srv_dir) == NULL)
		return -1;
	snprintf(portfile, sizeof portfile, "%s/port", srv_dir);
	snprintf(logpath, sizeof logpath, "%s/log.jsonl", srv_dir);
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

static void
control(const char *json)
{
	char url[128];
	struct http_req q = {"POST", url, NULL, json, strlen(json), NULL};
	struct http_resp r;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/_control", srv_port);
	if (http_do(&q, &r) != 0)
		printf("# control failed: %s\n", r.error);
	http_resp_free(&r);
}

/* The n-th last logged request (1 = the last), parsed; caller puts. */
static json_object *
logged(int back)
{
	char *lines[4096];
	int n = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f = fopen(logpath, "r");
	json_object *o = NULL;

	if (f == NULL)
		return NULL;
	while (n < 4096 && (len = getline(&line, &cap, f)) > 0) {
		lines[n++] = line;
		line = NULL;
		cap = 0;
	}
	free(line);
	fclose(f);
	if (back <= n)
		o = json_tokener_parse(lines[n - back]);
	for (int i = 0; i < n; i++)
		free(lines[i]);
	return o;
}

static int
file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char buf[65536];
	int found = 0;

	if (f == NULL)
		return 0;
	while (fgets(buf, sizeof buf, f) != NULL)
		if (strstr(buf, needle))
			found = 1;
	fclose(f);
	return found;
}

static json_object *
config(const char *yaml)
{
	char err[256];
	char text[4096];
	json_object *c;

	snprintf(text, sizeof text, yaml, srv_port);
	c = cfg_parse("test", text, strlen(text), err, sizeof err);
	if (c == NULL)
		printf("# config: %s\n", err);
	return c;
}

static struct llm *
open_cfg(const char *yaml, char *err, size_t errlen)
{
	json_object *c = config(yaml);
	struct llm *l = llm_open(c, NULL, "rca", err, errlen);

	json_object_put(c);
	return l;
}

static int
json_eq_str(json_object *o, const char *want)
{
	json_object *w = json_tokener_parse(want);
	int eq = w != NULL && json_object_equal(o, w);

	if (!eq)
		printf("#   got:  %s\n#   want: %s\n", o ? js_dump(o, NULL) : "(null)", want);
	json_object_put(w);
	return eq;
}

static const char schema_text[] =
	"{\"type\":\"object\",\"properties\":{\"summary\":{\"type\":\"string\"}},"
	"\"required\":[\"summary\"],\"additionalProperties\":false}";

/*
 * Driver mode for tests/llm.bats and the benchmark:
 *   t_llm drive --config FILE [--set K=V]... [--stage NAME] [--replay FILE]
 *               [--record FILE] [--check]
 * reads requests as JSON lines {messages, schema?, schema_name?, json?,
 * purpose?, group_id?} from stdin, runs them as one llm_batch(), and prints
 * each llm_call record, then {"kind":"result","i":I,"json":...,
 * "parse_error":...} lines, then {"kind":"stats","llm":{...}}.  Exit 0, 1 when
 * a call failed, 2 for a usage or config error (message on stderr).
 */
static int
drive(int argc, char **argv)
{
	const char *cfgpath = NULL, *stage = "probe", *replay = NULL, *record = NULL;
	json_object *cfg = NULL, *reqarr;
	char err[512];
	int check = 0, i, failed;
	struct llm *l;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			cfgpath = argv[++i];
		} else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
			i++;
			if (cfg == NULL)
				cfg = json_object_new_object();
			if (cfg_set(cfg, argv[i], err, sizeof err) < 0) {
				fprintf(stderr, "t_llm: --set: %s\n", err);
				json_object_put(cfg);
				return 2;
			}
		} else if (strcmp(argv[i], "--stage") == 0 && i + 1 < argc) {
			stage = argv[++i];
		} else if (strcmp(argv[i], "--replay") == 0 && i + 1 < argc) {
			replay = argv[++i];
		} else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc) {
			record = argv[++i];
		} else if (strcmp(argv[i], "--check") == 0) {
			check = 1;
		} else {
			fprintf(stderr, "t_llm: usage: t_llm drive --config FILE [--set K=V] "
				"[--stage NAME] [--replay FILE] [--record FILE] [--check]\n");
			return 2;
		}
	}
	if (cfgpath != NULL) {
		json_object *file = cfg_load(cfgpath, err, sizeof err);
		if (file == NULL) {
			fprintf(stderr, "t_llm: %s\n", err);
			return 2;
		}
		/* --set values were collected first; apply them over the file. */
		if (cfg != NULL) {
			for (i = 2; i < argc; i++)
				if (strcmp(argv[i], "--set") == 0 && i + 1 < argc)
					cfg_set(file, argv[++i], err, sizeof err);
			json_object_put(cfg);
		}
		cfg = file;
	}
	if (cfg == NULL)
		cfg = json_object_new_object();
	l = llm_open(cfg, NULL, stage, err, sizeof err);
	json_object_put(cfg);
	if (l == NULL) {
		fprintf(stderr, "t_llm: %s\n", err);
		return 2;
	}
	if ((replay && llm_replay_open(l, replay, err, sizeof err) < 0) ||
	    (record && llm_record_open(l, record, err, sizeof err) < 0)) {
		fprintf(stderr, "t_llm: %s\n", err);
		llm_close(l);
		return 2;
	}
	if (check && llm_check(l, err, sizeof err) < 0) {
		fprintf(stderr, "t_llm: %s\n", err);
		llm_close(l);
		return 1;
	}
	reqarr = json_object_new_array();
	while ((len = getline(&line, &cap, stdin)) > 0) {
		json_object *o = json_tokener_parse(line);
		if (o == NULL) {
			fprintf(stderr, "t_llm: <stdin>: invalid JSON request\n");
			free(line);
			json_object_put(reqarr);
			llm_close(l);
			return 2;
		}
		json_object_array_add(reqarr, o);
	}
	free(line);
	size_t n = json_object_array_length(reqarr);
	struct llm_req *rq = calloc(n ? n : 1, sizeof *rq);
	struct llm_result *rs = calloc(n ? n : 1, sizeof *rs);
	for (size_t k = 0; k < n; k++) {
		json_object *o = json_object_array_get_idx(reqarr, k), *v;
		int b = 0;
		rq[k].messages = json_object_object_get(o, "messages");
		if (json_object_object_get_ex(o, "schema", &v))
			rq[k].schema = v;
		rq[k].schema_name = js_str(o, "schema_name");
		js_bool(o, "json", &b);
		rq[k].json = b;
		rq[k].purpose = js_str(o, "purpose") ? js_str(o, "purpose") : "rca";
		rq[k].group_id = js_str(o, "group_id");
	}
	failed = llm_batch(l, rq, rs, n);
	for (size_t k = 0; k < n; k++)
		printf("%s\n", js_dump(rs[k].record, NULL));
	for (size_t k = 0; k < n; k++) {
		json_object *r = json_object_new_object();
		js_add_str(r, "kind", "result");
		js_add_int(r, "i", (int64_t)k);
		js_add_ref(r, "json", rs[k].json);
		js_add_str(r, "parse_error", rs[k].parse_error);
		printf("%s\n", js_dump(r, NULL));
		json_object_put(r);
		llm_result_free(&rs[k]);
	}
	{
		json_object *st = json_object_new_object();
		js_add_str(st, "kind", "stats");
		llm_add_stats(l, st);
		printf("%s\n", js_dump(st, NULL));
		json_object_put(st);
	}
	if (llm_record_close(l, err, sizeof err) < 0) {
		fprintf(stderr, "t_llm: %s\n", err);
		failed = 1;
	}
	llm_close(l);
	free(rq);
	free(rs);
	json_object_put(reqarr);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return failed ? 1 : 0;
}

int
main(int argc, char **argv)
{
	char err[512];
	struct llm *l;
	struct llm_result res;
	json_object *schema, *msgs, *o;
	struct llm_req req;
	int rc;

	if (argc > 1 && strcmp(argv[1], "drive") == 0) {
		http_init();
		return drive(argc, argv);
	}
	unsetenv("OPENAI_API_BASE");
	unsetenv("OPENAI_BASE_URL");
	unsetenv("LLAMA_STACK_BASE_URL");
	unsetenv("LLAMA_STACK_API_KEY");
	unsetenv("OLLAMA_BASE_URL");
	setenv("OPENAI_API_KEY", KEY, 1);
	http_init();

	/* Config errors need no server. */
	l = open_cfg("provider: {type: gpt}", err, sizeof err);
	tap_ok(l == NULL && strstr(err, "unknown type 'gpt'"), "an unknown type is a config error");
	l = open_cfg("provider: {type: openai_compat, default_model: m, params: {api_key: x}}",
		     err, sizeof err);
	tap_ok(l == NULL && strstr(err, "environment only"), "a key in the config is refused");
	l = open_cfg("provider: {type: openai_compat}", err, sizeof err);
	tap_ok(l == NULL && strstr(err, "default_model"), "a network provider needs a model");
	l = open_cfg("provider: {type: ollama, default_model: m, params: {temperature: hot}}",
		     err, sizeof err);
	tap_ok(l == NULL && strstr(err, "temperature: not a number"), "a bad param is named");
	l = open_cfg("{}", err, sizeof err);
	tap_ok(l != NULL && llm_type(l) == LLM_BASELINE && !llm_uses_network(l) &&
	       strcmp(llm_model(l), "baseline") == 0, "no provider means baseline");
	if (l != NULL) {
		msgs = llm_messages(NULL, "x");
		req = (struct llm_req){msgs, NULL, NULL, 0, "rca", "G1"};
		rc = llm_call(l, &req, &res);
		tap_ok(rc == -1 && strstr(res.error, "baseline"), "baseline makes no calls");
		llm_result_free(&res);
		json_object_put(msgs);
		llm_close(l);
	}
	{
		json_object *c = config("provider: {type: openai_compat, default_model: base, "
					"params: {base_url: 'http://a/v1', temperature: 0.5}}\n"
					"pipeline: {rca: {provider: {default_model: over, "
					"params: {max_tokens: 7}}}}");
		l = llm_open(c, cfg_section(c, "pipeline.rca"), "rca", err, sizeof err);
		o = json_object_new_object();
		if (l != NULL)
			llm_add_params(l, o);
		tap_ok(l != NULL && json_eq_str(json_object_object_get(o, "provider"),
			"{\"type\":\"openai_compat\",\"model\":\"over\",\"base_url\":\"http://a/v1\","
			"\"path\":\"/chat/completions\",\"temperature\":0.5,\"max_tokens\":7,"
			"\"concurrency\":4,\"max_attempts\":4,\"timeout_s\":120,"
			"\"connect_timeout_s\":10,\"structured\":\"json_schema\",\"api_key_set\":true}"),
		       "a stage provider block overrides the global one, params merged");
		tap_ok(strstr(js_dump(o, NULL), KEY) == NULL, "params never show the key");
		json_object_put(o);
		json_object_put(c);
		llm_close(l);
	}

	if (server_start() < 0) {
		printf("# SKIP cannot start %s (python3 missing?)\n", server_path());
		return tap_done();
	}
	schema = json_tokener_parse(schema_text);

	/* openai_compat: the exact body, the key, the result. */
	l = open_cfg("provider: {type: openai_compat, default_model: fake-model, params: "
		     "{base_url: 'http://127.0.0.1:%d/v1', temperature: 0.2, max_tokens: 300, "
		     "seed: 7, backoff_base_s: 0.01, backoff_cap_s: 0.05}}", err, sizeof err);
	tap_ok(l != NULL, "openai_compat opens");
	msgs = llm_messages("You are an SRE.", "Find the root cause.");
	req = (struct llm_req){msgs, schema, "rca", 0, "rca", "G0001"};
	rc = llm_call(l, &req, &res);
	tap_ok(rc == 0 && res.error[0] == '\0' && res.http_status == 200 && res.attempts == 1,
	       "openai_compat call succeeds");
	o = logged(1);
	tap_ok(json_eq_str(json_object_object_get(o, "body"),
		"{\"model\":\"fake-model\",\"messages\":[{\"role\":\"system\",\"content\":"
		"\"You are an SRE.\"},{\"role\":\"user\",\"content\":\"Find the root cause.\"}],"
		"\"stream\":false,\"temperature\":0.2,\"max_tokens\":300,\"seed\":7,"
		"\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"rca\","
		"\"schema\":" "{\"type\":\"object\",\"properties\":{\"summary\":{\"type\":\"string\"}},"
		"\"required\":[\"summary\"],\"additionalProperties\":false}" ",\"strict\":true}}}"),
	       "openai_compat sends the exact body with the nested json_schema");
	tap_is_str(js_str(o, "path"), "/v1/chat/completions", "openai_compat posts to base + /chat/completions");
	tap_is_str(js_str(js_path(o, "headers"), "Authorization"), "Bearer " KEY,
		   "the key goes in a Bearer header");
	json_object_put(o);
	tap_is_str(res.text, "{\"summary\": \"fake answer\", \"echo\": \"Find the root cause.\"}",
		   "the text is the message content");
	tap_is_str(res.json ? js_str(res.json, "summary") : NULL, "fake answer", "the answer is parsed");
	/* fake tokens: len/4+1 per message */
	tap_ok(res.tokens_in == (15 / 4 + 1) + (20 / 4 + 1) && res.tokens_out == 58 / 4 + 1,
	       "tokens come from usage");
	{
		char h[65];
		llm_request_hash(l, &req, h);
		o = res.record;
		tap_ok(o && strcmp(js_str(o, "kind"), "llm_call") == 0 &&
		       strcmp(js_str(o, "request_hash"), h) == 0 &&
		       strcmp(js_str(o, "stage"), "rca") == 0 &&
		       strcmp(js_str(o, "group_id"), "G0001") == 0 &&
		       strcmp(js_str(o, "provider"), "openai_compat") == 0 &&
		       strcmp(js_str(o, "purpose"), "rca") == 0 &&
		       json_object_is_type(json_object_object_get(o, "error"), json_type_null) &&
		       strstr(js_dump(o, NULL), KEY) == NULL,
		       "the llm_call record carries hash, stage, group and no key");
		const char *keys[] = {"kind", "stage", "group_id", "provider", "model", "purpose",
				      "request_hash", "messages", "params", "response", "started_at",
				      "latency_ms", "tokens_in", "tokens_out", "attempts",
				      "http_status", "finish_reason", "error", NULL};
		int all = json_object_object_length(o) == 18;
		for (int k = 0; keys[k]; k++)
			all = all && json_object_object_get_ex(o, keys[k], NULL);
		tap_ok(all, "the llm_call record has exactly the documented fields");
		{
			char sh[65], want[300];
			js_sha256_hex(schema_text, sizeof schema_text - 1, sh);
			snprintf(want, sizeof want, "{\"temperature\":0.2,\"max_tokens\":300,"
				 "\"seed\":7,\"schema_name\":\"rca\",\"schema_sha256\":\"%s\"}", sh);
			tap_ok(json_eq_str(json_object_object_get(o, "params"), want),
			       "the record's params name the schema by hash");
		}
	}
	llm_result_free(&res);

	/* Errors: the key never shows. */
	control("{\"faults\":\"401\"}");
	rc = llm_call(l, &req, &res);
	tap_ok(rc == -1 && res.attempts == 1 && res.http_status == 401 &&
	       strcmp(res.error, "HTTP 401: fake error 401") == 0 &&
	       strstr(js_dump(res.record, NULL), KEY) == NULL,
	       "a 401 is final and its error has no key");
	printf("# %s\n", res.error);
	llm_result_free(&res);

	control("{\"faults\":\"429:retry-after-ms=100,500,ok\"}");
	rc = llm_call(l, &req, &res);
	tap_ok(rc == 0 && res.attempts == 3 && res.latency_ms >= 100, "429 and 500 are retried");
	llm_result_free(&res);

	control("{\"faults\":\"400,ok\"}");
	rc = llm_call(l, &req, &res);
	tap_ok(rc == -1 && res.attempts == 1 && strcmp(res.error, "HTTP 400: fake error 400") == 0,
	       "400 is not retried");
	llm_result_free(&res);
	control("{\"faults\":\"\"}");

	control("{\"faults\":\"429:quota,ok\"}");
	rc = llm_call(l, &req, &res);
	tap_ok(rc == -1 && res.attempts == 1 && strstr(res.error, "insufficient_quota") &&
	       strstr(res.error, "exceeded your current quota"),
	       "429 insufficient_quota is not retried");
	printf("# %s\n", res.error);
	llm_result_free(&res);
	control("{\"faults\":\"\"}");

	control("{\"faults\":\"malformed\"}");
	rc = llm_call(l, &req, &res);
	tap_ok(rc == -1 && res.http_status == 200 && strncmp(res.error, "malformed response", 18) == 0
	       && res.text == NULL, "a malformed envelope is an error");
	llm_result_free(&res);

	control("{\"faults\":\"notjson\"}");
	rc = llm_call(l, &req, &res);
	tap_ok(rc == 0 && res.json == NULL && strstr(res.parse_error, "not JSON") && res.text,
	       "prose instead of JSON is a parse error, not a call error");
	llm_result_free(&res);

	control("{\"faults\":\"schema-break\"}");
	rc = llm_call(l, &req, &res);
	tap_ok(rc == 0 && res.json && js_str(res.json, "candidates"), "an answer that breaks the "
	       "schema still parses (validation is the stage's)");
	llm_result_free(&res);

	control("{\"faults\":\"length\"}");
	rc = llm_call(l, &req, &res);
	tap_ok(rc == 0 && res.json == NULL && strcmp(res.finish_reason, "length") == 0 &&
	       strstr(res.parse_error, "cut at max_tokens"),
	       "an answer cut at max_tokens says so in parse_error");
	printf("# %s\n", res.parse_error);
	llm_result_free(&res);

	control("{\"script\":[{\"content\":\"```json\\n{\\\"summary\\\": \\\"fenced\\\"}\\n```\\n\"}]}");
	rc = llm_call(l, &req, &res);
	tap_is_str(res.json ? js_str(res.json, "summary") : NULL, "fenced", "a ```json fence is stripped");
	llm_result_free(&res);

	/* Order under concurrency, stats. */
	{
		enum { N = 10 };
		struct llm_req rq[N];
		struct llm_result rs[N];
		json_object *ms[N];
		char text[64];
		int good = 1;
		for (int i = 0; i < N; i++) {
			snprintf(text, sizeof text, "call-%d [[delay_ms=%d]]", i, (i * 37) % 200);
			ms[i] = llm_messages(NULL, text);
			rq[i] = (struct llm_req){ms[i], NULL, NULL, 1, "rca", NULL};
		}
		int failed = llm_batch(l, rq, rs, N);
		for (int i = 0; i < N; i++) {
			snprintf(text, sizeof text, "call-%d [[", i);
			const char *e = rs[i].json ? js_str(rs[i].json, "echo") : NULL;
			if (e == NULL || strncmp(e, text, strlen(text)) != 0)
				good = 0;
			llm_result_free(&rs[i]);
			json_object_put(ms[i]);
		}
		tap_ok(failed == 0 && good, "llm_batch keeps the input order under concurrency");
		o = logged(1);
		tap_ok(json_eq_str(json_object_object_get(js_path(o, "body"), "response_format"),
				   "{\"type\":\"json_object\"}"),
		       "json without a schema asks for json_object");
		json_object_put(o);
	}
	o = json_object_new_object();
	llm_add_stats(l, o);
	{
		json_object *s = json_object_object_get(o, "llm");
		int64_t calls = -1, fails = -1, retries = -1;
		js_int(s, "calls", &calls);
		js_int(s, "failures", &fails);
		js_int(s, "retries", &retries);
		tap_ok(calls == 20 && fails == 4 && retries == 2 &&
		       json_object_object_get_ex(s, "latency_p95_ms", NULL),
		       "stats count calls, failures and retries");
		printf("# %s\n", js_dump(o, NULL));
	}
	json_object_put(o);
	llm_close(l);

	/* The response_format fallback. */
	l = open_cfg("provider: {type: openai_compat, default_model: fake-model, params: "
		     "{base_url: 'http://127.0.0.1:%d/v1'}}", err, sizeof err);
	control("{\"reject\":\"json_schema\"}");
	rc = llm_call(l, &req, &res);
	o = logged(1);
	tap_ok(rc == 0 && res.attempts == 2 && res.json &&
	       json_eq_str(json_object_object_get(js_path(o, "body"), "response_format"),
			   "{\"type\":\"json_object\"}"),
	       "a rejected json_schema falls back to json_object");
	json_object_put(o);
	llm_result_free(&res);
	rc = llm_call(l, &req, &res);
	tap_ok(rc == 0 && res.attempts == 1, "the fallback is remembered");
	llm_result_free(&res);
	control("{\"reject\":\"response_format\"}");
	rc = llm_call(l, &req, &res);
	o = logged(1);
	tap_ok(rc == 0 && res.attempts == 2 && res.json &&
	       !json_object_object_get_ex(js_path(o, "body"), "response_format", NULL),
	       "a rejected json_object falls back to plain text");
	json_object_put(o);
	llm_result_free(&res);
	control("{\"reject\":null}");
	llm_close(l);

	/* Timeout. */
	l = open_cfg("provider: {type: openai_compat, default_model: fake-model, params: "
		     "{base_url: 'http://127.0.0.1:%d/v1', timeout_s: 0.3, max_attempts: 2, "
		     "backoff_base_s: 0.01}}", err, sizeof err);
	control("{\"faults\":\"timeout,timeout\"}");
	rc = llm_call(l, &req, &res);
	tap_ok(rc == -1 && res.attempts == 2 && res.http_status == 0 && strstr(res.error, "(28)") &&
	       json_object_is_type(json_object_object_get(res.record, "response"), json_type_null),
	       "a call that times out twice is an error record");
	llm_result_free(&res);
	control("{\"faults\":\"\"}");
	llm_close(l);

	/* Ollama. */
	l = open_cfg("provider: {type: ollama, default_model: llama3.2, params: "
		     "{base_url: 'http://127.0.0.1:%d', temperature: 0, seed: 42, max_tokens: 256, "
		     "num_ctx: 4096}}", err, sizeof err);
	rc = llm_call(l, &req, &res);
	o = logged(1);
	tap_ok(rc == 0 && strcmp(js_str(o, "path"), "/api/chat") == 0 &&
	       js_path(o, "headers.Authorization") == NULL &&
	       json_eq_str(json_object_object_get(o, "body"),
		"{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"system\",\"content\":"
		"\"You are an SRE.\"},{\"role\":\"user\",\"content\":\"Find the root cause.\"}],"
		"\"stream\":false,\"format\":" "{\"type\":\"object\",\"properties\":{\"summary\":"
		"{\"type\":\"string\"}},\"required\":[\"summary\"],\"additionalProperties\":false}"
		",\"options\":{\"temperature\":0,\"seed\":42,\"num_predict\":256,\"num_ctx\":4096}}"),
	       "ollama posts /api/chat with format and options");
	json_object_put(o);
	tap_ok(res.tokens_in == 10 && res.tokens_out == 58 / 4 + 1 && res.json &&
	       strcmp(js_str(res.record, "provider"), "ollama") == 0,
	       "ollama tokens come from prompt_eval_count and eval_count");
	llm_result_free(&res);
	llm_close(l);

	/* LlamaStack. */
	setenv("LLAMA_STACK_API_KEY", KEY, 1);
	l = open_cfg("provider: {type: llamastack, default_model: m1, params: "
		     "{base_url: 'http://127.0.0.1:%d'}}", err, sizeof err);
	rc = llm_check(l, err, sizeof err);
	{
		char want[300];
		snprintf(want, sizeof want, "model 'm1' is not served by LlamaStack at "
			 "http://127.0.0.1:%d (known: fake-model, vllm/m1, vllm/m2); did you "
			 "mean 'vllm/m1'?", srv_port);
		tap_ok(rc == -1, "llamastack: an unknown model fails the check");
		tap_is_str(err, want, "llamastack: the message names the model, URL and known ids");
		rc = llm_call(l, &req, &res);
		tap_is_str(res.error, want, "llamastack: every call carries the check error");
		llm_result_free(&res);
	}
	llm_close(l);
	control("{\"reset_log\":true}");
	l = open_cfg("provider: {type: llamastack, default_model: vllm/m2, params: "
		     "{base_url: 'http://127.0.0.1:%d', path: /v1/openai/v1/chat/completions}}",
		     err, sizeof err);
	rc = llm_call(l, &req, &res);
	{
		json_object *a = logged(2), *b = logged(1);
		tap_ok(rc == 0 && strcmp(js_str(a, "path"), "/v1/openai/v1/models") == 0 &&
		       strcmp(js_str(b, "path"), "/v1/openai/v1/chat/completions") == 0 &&
		       strcmp(js_str(js_path(b, "body"), "model"), "vllm/m2") == 0 &&
		       strcmp(js_str(js_path(a, "headers"), "Authorization"), "Bearer " KEY) == 0,
		       "llamastack: the older path, models listed once, Bearer key");
		json_object_put(a);
		json_object_put(b);
	}
	llm_result_free(&res);
	llm_close(l);
	unsetenv("LLAMA_STACK_API_KEY");

	/* Record, then replay. */
	{
		char recpath[400];
		const char *yaml = "provider: {type: openai_compat, default_model: fake-model, "
				   "params: {base_url: 'http://127.0.0.1:%d/v1', seed: 1}}";
		struct llm_req rq[2];
		struct llm_result r1[2], r2[2];
		json_object *m2 = llm_messages(NULL, "second question");
		char *d1, *d2;

		snprintf(recpath, sizeof recpath, "%s/calls.jsonl", srv_dir);
		rq[0] = (struct llm_req){msgs, schema, "rca", 0, "rca", "G1"};
		rq[1] = (struct llm_req){m2, NULL, NULL, 1, "remediation", "G2"};
		l = open_cfg(yaml, err, sizeof err);
		rc = llm_record_open(l, recpath, err, sizeof err);
		llm_batch(l, rq, r1, 2);
		tap_ok(rc == 0 && llm_record_close(l, err, sizeof err) == 0, "record file written");
		llm_close(l);
		control("{\"reset_stats\":true}");

		/* --replay FILE with the same config */
		l = open_cfg(yaml, err, sizeof err);
		rc = llm_replay_open(l, recpath, err, sizeof err);
		int fails = llm_batch(l, rq, r2, 2);
		d1 = strdup(js_dump(r1[0].record, NULL));
		d2 = strdup(js_dump(r2[0].record, NULL));
		tap_ok(rc == 0 && fails == 0 && strcmp(d1, d2) == 0 &&
		       strcmp(r1[1].text, r2[1].text) == 0 && r2[0].json != NULL,
		       "replay reproduces the recorded records byte for byte");
		free(d1);
		free(d2);
		tap_ok(!llm_uses_network(l), "replay uses no network");
		for (int i = 0; i < 2; i++) {
			llm_result_free(&r2[i]);
		}
		/* A changed prompt misses. */
		json_object *m3 = llm_messages(NULL, "a question never asked");
		struct llm_req q3 = {m3, NULL, NULL, 0, "rca", "G3"};
		char h[65];
		llm_request_hash(l, &q3, h);
		rc = llm_call(l, &q3, &res);
		{
			char want[200];
			snprintf(want, sizeof want, "replay miss: no recorded call for hash %s", h);
			tap_is_str(res.error, want, "a replay miss is an error, never a fallback");
		}
		llm_result_free(&res);
		llm_close(l);

		/* type: replay infers provider and model from the file */
		char yaml2[600];
		snprintf(yaml2, sizeof yaml2, "provider: {type: replay, params: {seed: 1, "
			 "replay_file: '%s'}}", recpath);
		l = open_cfg(yaml2, err, sizeof err);
		rc = l ? llm_batch(l, rq, r2, 2) : -1;
		tap_ok(l && rc == 0 && strcmp(llm_provider(l), "openai_compat") == 0 &&
		       strcmp(r1[0].text, r2[0].text) == 0,
		       "type replay reads provider and model from the recording");
		if (l) {
			for (int i = 0; i < 2; i++)
				llm_result_free(&r2[i]);
		}
		llm_close(l);
		{
			struct http_req q = {"GET", NULL, NULL, NULL, 0, NULL};
			struct http_resp r;
			char url[100];
			snprintf(url, sizeof url, "http://127.0.0.1:%d/_stats", srv_port);
			q.url = url;
			http_do(&q, &r);
			tap_ok(r.body && strstr(r.body, "\"requests\": 1"), "replay sent no request (the stats request only)");
			http_resp_free(&r);
		}
		tap_ok(!file_contains(recpath, KEY) && !file_contains(recpath, "TOPSECRET"),
		       "the record file has no key");
		for (int i = 0; i < 2; i++)
			llm_result_free(&r1[i]);
		json_object_put(m2);
		json_object_put(m3);
	}

	json_object_put(msgs);
	json_object_put(schema);
	server_stop();
	return tap_done();
}
