/*
 * llm: the provider layer (see llm.h).  A batch is turned into HTTP requests
 * in the provider's wire format, run through http_do_many() with the
 * configured concurrency, and every answer comes back as text, parsed JSON,
 * usage and a ready llm_call record.  Replay answers from a table of
 * recorded calls instead of the network.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "js.h"
#include "llm.h"
#include "redact.h"
#include "sha256.h"
#include "ts.h"

enum { MODE_SCHEMA, MODE_OBJECT, MODE_TEXT };
static const char *const mode_names[] = {"json_schema", "json_object", "text"};

struct llm {
	enum llm_type type;
	enum llm_type orig_type;     /* the type before llm_replay_open() */
	char *stage;
	char *provider;              /* name used in records and hashes */
	char *model;
	char *base_url;              /* no trailing '/' */
	char *path;
	char *models_path;           /* where the served models are listed */
	char *api_key;               /* from the environment; never printed */
	const char *key_env;         /* its variable's name */
	double temperature;
	int64_t max_tokens;
	int has_seed, has_num_ctx;
	int64_t seed, num_ctx;
	int concurrency;
	struct http_policy pol;
	int mode;                    /* MODE_*: the strongest mode still tried */
	int first_mode;
	int checked, check_rc;
	char check_err[512];

	json_object *replay;         /* {hash: [records]} */
	json_object *replay_used;    /* {hash: count served} */
	char *replay_path;

	FILE *rec;
	char *rec_path;
	int rec_failed;

	uint64_t calls, failures, retries, tokens_in, tokens_out;
	double *lat;
	size_t nlat, caplat;
};

static const char *
type_name(enum llm_type t)
{
	switch (t) {
	case LLM_OPENAI: return "openai_compat";
	case LLM_LLAMASTACK: return "llamastack";
	case LLM_OLLAMA: return "ollama";
	case LLM_REPLAY: return "replay";
	case LLM_BASELINE: break;
	}
	return "baseline";
}

static int
parse_type(const char *s, enum llm_type *t)
{
	if (strcmp(s, "openai_compat") == 0 || strcmp(s, "openai") == 0)
		*t = LLM_OPENAI;
	else if (strcmp(s, "llamastack") == 0 || strcmp(s, "llama_stack") == 0)
		*t = LLM_LLAMASTACK;
	else if (strcmp(s, "ollama") == 0)
		*t = LLM_OLLAMA;
	else if (strcmp(s, "baseline") == 0)
		*t = LLM_BASELINE;
	else if (strcmp(s, "replay") == 0)
		*t = LLM_REPLAY;
	else
		return -1;
	return 0;
}

const char *const llm_keys[] = {"type", "default_model", "model", "models", "params", NULL};
/* api_key is read to be refused: keys come from the environment only. */
const char *const llm_param_keys[] = {"temperature", "max_tokens", "seed", "num_ctx",
	"concurrency", "max_attempts", "timeout_s", "connect_timeout_s", "backoff_base_s",
	"backoff_cap_s", "max_retry_after_s", "base_url", "path", "models_path", "structured",
	"model", "replay_file", "replay_provider", "api_key", NULL};

/* The provider section with the stage's provider block merged over it. */
static json_object *
merged_provider(json_object *config, json_object *sec)
{
	json_object *base = NULL, *over = NULL, *m;

	if (config != NULL)
		json_object_object_get_ex(config, "provider", &base);
	if (sec != NULL)
		json_object_object_get_ex(sec, "provider", &over);
	m = json_object_is_type(base, json_type_object) ? js_copy(base) : json_object_new_object();
	if (!json_object_is_type(over, json_type_object))
		return m;
	json_object_object_foreach(over, k, v) {
		json_object *mp;
		if (strcmp(k, "params") == 0 && json_object_is_type(v, json_type_object) &&
		    json_object_object_get_ex(m, "params", &mp) &&
		    json_object_is_type(mp, json_type_object)) {
			json_object_object_foreach(v, pk, pv)
				json_object_object_add(mp, pk, js_copy(pv));
		} else {
			json_object_object_add(m, k, js_copy(v));
		}
	}
	return m;
}

static int
get_num(json_object *params, const char *key, double *out, int *found, char *err,
	size_t errlen)
{
	json_object *v;

	if (found)
		*found = 0;
	if (params == NULL || !json_object_object_get_ex(params, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
		snprintf(err, errlen, "provider.params.%s: not a number", key);
		return -1;
	}
	*out = json_object_get_double(v);
	if (found)
		*found = 1;
	return 0;
}

static char *
dup_url(const char *s)
{
	char *u = estrdup(s);
	size_t n = strlen(u);

	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	return u;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && *v ? v : NULL;
}

/* Hides any user:password in a URL for display. */
static void
add_safe_url(json_object *o, const char *key, const char *url)
{
	const char *p = strstr(url, "://"), *at, *slash;
	struct buf b = BUF_INIT(0);

	if (p != NULL && (at = strchr(p + 3, '@')) != NULL &&
	    ((slash = strchr(p + 3, '/')) == NULL || at < slash)) {
		buf_add(&b, url, (size_t)(p + 3 - url));
		buf_adds(&b, "***");
		buf_adds(&b, at);
		js_add_str(o, key, b.p);
		buf_free(&b);
		return;
	}
	js_add_str(o, key, url);
}

struct llm *
llm_open(json_object *config, json_object *stage_section, const char *stage_name,
	 char *err, size_t errlen)
{
	struct llm *l = ecalloc(1, sizeof *l);
	json_object *prov = merged_provider(config, stage_section), *params = NULL, *v;
	const char *s;
	char hostbuf[512];
	double d;
	int found;

	l->stage = estrdup(stage_name ? stage_name : "");
	l->type = LLM_BASELINE;
	if ((s = js_str(prov, "type")) != NULL && parse_type(s, &l->type) < 0) {
		snprintf(err, errlen, "provider.type: unknown type '%s' (openai_compat, "
			 "llamastack, ollama, baseline, replay)", s);
		goto fail;
	}
	if (json_object_object_get_ex(prov, "type", &v) && !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "provider.type: not a string");
		goto fail;
	}
	l->orig_type = l->type;
	json_object_object_get_ex(prov, "params", &params);
	if (params != NULL && !json_object_is_type(params, json_type_object)) {
		snprintf(err, errlen, "provider.params: not a mapping");
		goto fail;
	}
	if (json_object_object_get_ex(params, "api_key", &v)) {
		snprintf(err, errlen, "provider.params.api_key: keys are read from the "
			 "environment only (OPENAI_API_KEY, LLAMA_STACK_API_KEY)");
		goto fail;
	}

	s = js_str(prov, "default_model");
	if (s == NULL)
		s = js_str(prov, "model");
	if (s == NULL)
		s = js_str(params, "model");
	if (s != NULL)
		l->model = estrdup(s);

	l->temperature = 0;
	l->max_tokens = 1024;
	l->concurrency = 4;
	http_policy_default(&l->pol);
	l->pol.timeout_s = 120;
	if (get_num(params, "temperature", &l->temperature, NULL, err, errlen) < 0)
		goto fail;
	d = (double)l->max_tokens;
	if (get_num(params, "max_tokens", &d, NULL, err, errlen) < 0)
		goto fail;
	l->max_tokens = (int64_t)d;
	if (get_num(params, "seed", &d, &found, err, errlen) < 0)
		goto fail;
	l->has_seed = found, l->seed = (int64_t)d;
	if (get_num(params, "num_ctx", &d, &found, err, errlen) < 0)
		goto fail;
	l->has_num_ctx = found, l->num_ctx = (int64_t)d;
	d = l->concurrency;
	if (get_num(params, "concurrency", &d, NULL, err, errlen) < 0)
		goto fail;
	l->concurrency = d < 1 ? 1 : d > 256 ? 256 : (int)d;
	d = l->pol.max_attempts;
	if (get_num(params, "max_attempts", &d, NULL, err, errlen) < 0)
		goto fail;
	l->pol.max_attempts = d < 1 ? 1 : (int)d;
	if (get_num(params, "timeout_s", &l->pol.timeout_s, NULL, err, errlen) < 0 ||
	    get_num(params, "connect_timeout_s", &l->pol.connect_timeout_s, NULL, err, errlen) < 0 ||
	    get_num(params, "backoff_base_s", &l->pol.backoff_base_s, NULL, err, errlen) < 0 ||
	    get_num(params, "backoff_cap_s", &l->pol.backoff_cap_s, NULL, err, errlen) < 0 ||
	    get_num(params, "max_retry_after_s", &l->pol.max_retry_after_s, NULL, err, errlen) < 0)
		goto fail;
	if (l->pol.timeout_s <= 0 || l->pol.connect_timeout_s <= 0) {
		snprintf(err, errlen, "provider.params: timeouts must be positive");
		goto fail;
	}

	l->first_mode = MODE_SCHEMA;
	if ((s = js_str(params, "structured")) != NULL) {
		int m;
		for (m = 0; m < 3 && strcmp(s, mode_names[m]) != 0; m++)
			;
		if (m == 3) {
			snprintf(err, errlen, "provider.params.structured: unknown mode '%s' "
				 "(json_schema, json_object, text)", s);
			goto fail;
		}
		l->first_mode = m;
	}
	l->mode = l->first_mode;

	s = js_str(params, "base_url");
	switch (l->type) {
	case LLM_OPENAI:
		if (s == NULL && (s = env("OPENAI_API_BASE")) == NULL &&
		    (s = env("OPENAI_BASE_URL")) == NULL)
			s = "https://api.openai.com/v1";
		l->path = estrdup("/chat/completions");
		l->key_env = "OPENAI_API_KEY";
		break;
	case LLM_LLAMASTACK:
		if (s == NULL && (s = env("LLAMA_STACK_BASE_URL")) == NULL)
			s = "http://localhost:8321";
		l->path = estrdup("/v1/chat/completions");
		l->key_env = "LLAMA_STACK_API_KEY";
		break;
	case LLM_OLLAMA:
		if (s == NULL && (s = env("OLLAMA_BASE_URL")) == NULL &&
		    (s = env("OLLAMA_HOST")) != NULL && strstr(s, "://") == NULL) {
			snprintf(hostbuf, sizeof hostbuf, "http://%s", s);
			s = hostbuf;
		}
		if (s == NULL)
			s = "http://127.0.0.1:11434";
		l->path = estrdup("/api/chat");
		break;
	default:
		break;
	}
	if (s != NULL)
		l->base_url = dup_url(s);
	if (l->key_env != NULL && env(l->key_env) != NULL)
		l->api_key = estrdup(env(l->key_env));
	redact_add(l->api_key);
	if ((s = js_str(params, "path")) != NULL && l->path != NULL) {
		free(l->path);
		l->path = estrdup(s);
	}
	if (l->type == LLM_OLLAMA) {
		s = js_str(params, "models_path");
		l->models_path = estrdup(s ? s : "/api/tags");
	} else if (l->type == LLM_LLAMASTACK || l->type == LLM_OPENAI) {
		if ((s = js_str(params, "models_path")) != NULL) {
			l->models_path = estrdup(s);
		} else {
			/* ".../chat/completions" → ".../models" */
			const char *cc = strstr(l->path, "chat/completions");
			struct buf b = BUF_INIT(0);
			if (cc != NULL) {
				buf_add(&b, l->path, (size_t)(cc - l->path));
				buf_adds(&b, "models");
			} else {
				buf_adds(&b, "/v1/models");
			}
			l->models_path = buf_detach(&b);
		}
	}

	if (l->type == LLM_BASELINE) {
		l->provider = estrdup("baseline");
		if (l->model == NULL)
			l->model = estrdup("baseline");
	} else if (l->type == LLM_REPLAY) {
		s = js_str(params, "replay_provider");
		l->provider = estrdup(s ? s : "");
		if ((s = js_str(params, "replay_file")) != NULL &&
		    llm_replay_open(l, s, err, errlen) < 0)
			goto fail;
	} else {
		l->provider = estrdup(type_name(l->type));
		if (l->model == NULL) {
			snprintf(err, errlen, "provider.default_model: not set (the %s provider "
				 "needs a model)", l->provider);
			goto fail;
		}
	}
	json_object_put(prov);
	return l;
fail:
	json_object_put(prov);
	llm_close(l);
	return NULL;
}

void
llm_close(struct llm *l)
{
	if (l == NULL)
		return;
	if (l->rec != NULL)
		fclose(l->rec);
	free(l->stage);
	free(l->provider);
	free(l->model);
	free(l->base_url);
	free(l->path);
	free(l->models_path);
	if (l->api_key != NULL) {
		memset(l->api_key, 0, strlen(l->api_key));
		free(l->api_key);
	}
	json_object_put(l->replay);
	json_object_put(l->replay_used);
	free(l->replay_path);
	free(l->rec_path);
	free(l->lat);
	free(l);
}

enum llm_type
llm_type(const struct llm *l)
{
	return l->type;
}

const char *
llm_type_name(const struct llm *l)
{
	return type_name(l->type);
}

const char *
llm_provider(const struct llm *l)
{
	return l->provider;
}

const char *
llm_model(const struct llm *l)
{
	return l->model ? l->model : "";
}

int
llm_uses_network(const struct llm *l)
{
	return l->type == LLM_OPENAI || l->type == LLM_LLAMASTACK || l->type == LLM_OLLAMA;
}

void
llm_add_params(const struct llm *l, json_object *params)
{
	json_object *p = json_object_new_object();

	js_add_str(p, "type", type_name(l->type));
	if (l->type == LLM_REPLAY)
		js_add_str(p, "replay_provider", l->provider);
	js_add_str(p, "model", llm_model(l));
	if (l->type != LLM_BASELINE) {
		if (l->base_url != NULL && l->type != LLM_REPLAY)
			add_safe_url(p, "base_url", l->base_url);
		if (l->path != NULL && l->type != LLM_REPLAY)
			js_add_str(p, "path", l->path);
		json_object_object_add(p, "temperature", js_new_double(l->temperature));
		js_add_int(p, "max_tokens", l->max_tokens);
		if (l->has_seed)
			js_add_int(p, "seed", l->seed);
		if (l->has_num_ctx)
			js_add_int(p, "num_ctx", l->num_ctx);
	}
	if (llm_uses_network(l)) {
		js_add_int(p, "concurrency", l->concurrency);
		js_add_int(p, "max_attempts", l->pol.max_attempts);
		json_object_object_add(p, "timeout_s", js_new_double(l->pol.timeout_s));
		json_object_object_add(p, "connect_timeout_s",
				       js_new_double(l->pol.connect_timeout_s));
		if (l->type != LLM_OLLAMA)
			js_add_str(p, "structured", mode_names[l->first_mode]);
		js_add_bool(p, "api_key_set", l->api_key != NULL);
	}
	if (l->replay_path != NULL)
		js_add_str(p, "replay_file", l->replay_path);
	json_object_object_add(params, "provider", p);
}

/* ---- messages, params, hash ------------------------------------------ */

json_object *
llm_messages(const char *system, const char *user)
{
	json_object *a = json_object_new_array(), *m;

	if (system != NULL) {
		m = json_object_new_object();
		js_add_str(m, "role", "system");
		js_add_str(m, "content", system);
		json_object_array_add(a, m);
	}
	m = json_object_new_object();
	js_add_str(m, "role", "user");
	js_add_str(m, "content", user ? user : "");
	json_object_array_add(a, m);
	return a;
}

/* A normalised copy [{role, content}] of the request's messages, or NULL
 * with err. */
static json_object *
norm_messages(const struct llm_req *req, char *err, size_t errlen)
{
	json_object *a;
	size_t n, i;

	if (!json_object_is_type(req->messages, json_type_array) ||
	    (n = json_object_array_length(req->messages)) == 0) {
		snprintf(err, errlen, "messages: not a non-empty array");
		return NULL;
	}
	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(req->messages, i), *c;
		const char *role = js_str(m, "role"), *content = js_str(m, "content");
		if (role == NULL || content == NULL) {
			snprintf(err, errlen, "messages[%zu]: needs string role and content", i);
			json_object_put(a);
			return NULL;
		}
		c = json_object_new_object();
		js_add_str(c, "role", role);
		js_add_str(c, "content", content);
		json_object_array_add(a, c);
	}
	return a;
}

static const char *
schema_name(const struct llm_req *req)
{
	return req->schema_name && *req->schema_name ? req->schema_name : "answer";
}

/* The llm_call record's params (also the hashed ones). */
static json_object *
call_params(const struct llm *l, const struct llm_req *req)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "temperature", js_new_double(l->temperature));
	js_add_int(p, "max_tokens", l->max_tokens);
	if (l->has_seed)
		js_add_int(p, "seed", l->seed);
	if (l->has_num_ctx && (l->orig_type == LLM_OLLAMA ||
			       strcmp(l->provider, "ollama") == 0))
		js_add_int(p, "num_ctx", l->num_ctx);
	if (req->schema != NULL) {
		char h[65];
		size_t n;
		const char *s = js_dump(req->schema, &n);
		js_sha256_hex(s, n, h);
		js_add_str(p, "schema_name", schema_name(req));
		js_add_str(p, "schema_sha256", h);
	} else if (req->json) {
		js_add_bool(p, "json", 1);
	}
	return p;
}

static void
hash_of(const struct llm *l, json_object *msgs, json_object *params, char out[65])
{
	json_object *o = json_object_new_object();
	size_t n;
	const char *s;

	js_add_str(o, "provider", l->provider);
	js_add_str(o, "model", llm_model(l));
	js_add_ref(o, "messages", msgs);
	js_add_ref(o, "params", params);
	s = js_dump(o, &n);
	js_sha256_hex(s, n, out);
	json_object_put(o);
}

void
llm_request_hash(const struct llm *l, const struct llm_req *req, char out[65])
{
	char err[128];
	json_object *m = norm_messages(req, err, sizeof err), *p = call_params(l, req);

	if (m == NULL)
		m = json_object_new_array();
	hash_of(l, m, p, out);
	json_object_put(m);
	json_object_put(p);
}

/* ---- replay and record ------------------------------------------------- */

/* Sets *dst to the single value of key over the records, if it is unique. */
static void
infer_unique(json_object *table, const char *key, char **dst)
{
	const char *only = NULL;

	json_object_object_foreach(table, h, arr) {
		(void)h;
		size_t n = json_object_array_length(arr);
		for (size_t i = 0; i < n; i++) {
			const char *v = js_str(json_object_array_get_idx(arr, i), key);
			if (v == NULL)
				continue;
			if (only != NULL && strcmp(only, v) != 0)
				return;
			only = v;
		}
	}
	if (only != NULL)
		*dst = estrdup(only);
}

int
llm_replay_open(struct llm *l, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	json_object *table;
	json_tokener *tok;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	table = json_object_new_object();
	tok = json_tokener_new();
	while ((len = getline(&line, &cap, f)) > 0) {
		const char *why, *kind, *hash;
		json_object *o, *arr;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		o = js_parse(tok, line, (size_t)len, &why);
		if (o == NULL) {
			snprintf(err, errlen, "%s:%lu: invalid JSON: %s", path, lineno,
				 why ? why : "null");
			goto fail;
		}
		kind = js_str(o, "kind");
		if (kind == NULL || strcmp(kind, "llm_call") != 0) {
			json_object_put(o);
			continue;
		}
		if ((hash = js_str(o, "request_hash")) == NULL) {
			snprintf(err, errlen, "%s:%lu: llm_call without request_hash", path, lineno);
			json_object_put(o);
			goto fail;
		}
		if (!json_object_object_get_ex(table, hash, &arr)) {
			arr = json_object_new_array();
			json_object_object_add(table, hash, arr);
		}
		json_object_array_add(arr, o);
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	free(line);
	json_tokener_free(tok);

	json_object_put(l->replay);
	json_object_put(l->replay_used);
	l->replay = table;
	l->replay_used = json_object_new_object();
	free(l->replay_path);
	l->replay_path = estrdup(path);
	if (l->type == LLM_REPLAY && l->provider[0] == '\0') {
		char *p = NULL;
		infer_unique(table, "provider", &p);
		if (p == NULL) {
			snprintf(err, errlen, "%s: cannot tell which provider made the "
				 "recording: set provider.params.replay_provider", path);
			return -1;
		}
		free(l->provider);
		l->provider = p;
	}
	if (l->type == LLM_REPLAY && l->model == NULL)
		infer_unique(table, "model", &l->model);
	if (l->model == NULL) {
		snprintf(err, errlen, "%s: cannot tell which model made the recording: set "
			 "provider.default_model", path);
		return -1;
	}
	l->type = LLM_REPLAY;
	return 0;
fail:
	fclose(f);
	free(line);
	json_tokener_free(tok);
	json_object_put(table);
	return -1;
}

int
llm_record_open(struct llm *l, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (l->rec != NULL)
		fclose(l->rec);
	l->rec = f;
	free(l->rec_path);
	l->rec_path = estrdup(path);
	l->rec_failed = 0;
	return 0;
}

int
llm_record_write(struct llm *l, json_object *rec)
{
	size_t n;
	const char *s;

	if (l->rec == NULL || rec == NULL)
		return 0;
	redact_tree(rec);
	s = js_dump(rec, &n);
	if (fwrite(s, 1, n, l->rec) != n || putc('\n', l->rec) == EOF) {
		l->rec_failed = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

int
llm_record_close(struct llm *l, char *err, size_t errlen)
{
	int rc = 0;

	if (l->rec == NULL)
		return 0;
	if (fclose(l->rec) != 0 && !l->rec_failed)
		l->rec_failed = errno ? errno : EIO;
	l->rec = NULL;
	if (l->rec_failed) {
		snprintf(err, errlen, "%s: %s", l->rec_path, strerror(l->rec_failed));
		rc = -1;
	}
	return rc;
}

/* ---- the model check ------------------------------------------------- */

static void
auth_headers(const struct llm *l, struct http_header h[3], char *auth, size_t authlen)
{
	int k = 0;

	if (l->api_key != NULL) {
		snprintf(auth, authlen, "Bearer %s", l->api_key);
		h[k++] = (struct http_header){"Authorization", auth, 1};
	}
	h[k] = (struct http_header){NULL, NULL, 0};
}

/* Replaces the key, if it shows up, with "***". */
static void
scrub_key(const struct llm *l, char *s)
{
	char *p;
	size_t kn;

	if (l->api_key == NULL || (kn = strlen(l->api_key)) < 3)
		return;
	while ((p = strstr(s, l->api_key)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + kn, strlen(p + kn) + 1);
	}
}

/* A one-line reason from an error body (error.message, error, detail). */
static void
error_detail(const char *body, char *out, size_t outlen)
{
	json_object *o, *e;
	const char *why, *msg = NULL;
	size_t k;

	out[0] = '\0';
	if (body == NULL || *body == '\0')
		return;
	o = js_parse(NULL, body, strlen(body), &why);
	if (o != NULL) {
		if (json_object_object_get_ex(o, "error", &e)) {
			if (json_object_is_type(e, json_type_string))
				msg = json_object_get_string(e);
			else
				msg = js_str(e, "message");
		}
		if (msg == NULL && json_object_object_get_ex(o, "detail", &e))
			msg = json_object_get_string(e);
		if (msg == NULL)
			msg = js_str(o, "message");
	}
	if (msg == NULL)
		msg = body;
	snprintf(out, outlen, "%s", msg);
	for (k = 0; out[k]; k++)
		if (out[k] == '\n' || out[k] == '\r' || out[k] == '\t')
			out[k] = ' ';
	json_object_put(o);
}

static void
http_error(const struct llm *l, const struct http_resp *r, char *out, size_t outlen)
{
	char detail[300];

	if (r->status != 0 && r->status != 200 && r->body != NULL) {
		error_detail(r->body, detail, sizeof detail);
		if (detail[0])
			snprintf(out, outlen, "%s: %s", r->error, detail);
		else
			snprintf(out, outlen, "%s", r->error);
	} else {
		snprintf(out, outlen, "%s", r->error);
	}
	scrub_key(l, out);
}

static const char *
server_label(const struct llm *l)
{
	switch (l->type) {
	case LLM_LLAMASTACK: return "LlamaStack";
	case LLM_OLLAMA: return "Ollama";
	default: return "the OpenAI-compatible server";
	}
}

/*
 * Lists the models the server serves (GET models_path: {data: [{id}]}, or
 * Ollama's {models: [{name}]}) and looks for l->model.  Returns 0, or -1
 * with msg ("model 'x' is not served by Ollama at URL (known: a, b)", or
 * why the list could not be had).
 */
static int
list_models(struct llm *l, const struct http_policy *pol, char *msg, size_t msglen)
{
	struct http_header h[3];
	char auth[1024], url[2048];
	struct http_req q;
	struct http_resp r;
	json_object *o, *data;
	const char *why, *idkey = l->type == LLM_OLLAMA ? "name" : "id";
	struct buf known = BUF_INIT(0);
	const char *guess = NULL;
	int found = 0;

	msg[0] = '\0';
	auth_headers(l, h, auth, sizeof auth);
	snprintf(url, sizeof url, "%s%s", l->base_url, l->models_path);
	q = (struct http_req){"GET", url, h, NULL, 0, pol};
	if (http_do(&q, &r) < 0) {
		char e[400];
		int nokey = (r.status == 401 || r.status == 403) && l->api_key == NULL &&
			    l->key_env != NULL;
		http_error(l, &r, e, sizeof e);
		snprintf(msg, msglen, "cannot list the models of %s at %s: %s%s%s%s", server_label(l),
			 l->base_url, e, nokey ? "; no key was sent: " : "", nokey ? l->key_env : "",
			 nokey ? " is unset" : "");
		goto out;
	}
	o = js_parse(NULL, r.body, r.body_len, &why);
	if (!json_object_object_get_ex(o, l->type == LLM_OLLAMA ? "models" : "data", &data) ||
	    !json_object_is_type(data, json_type_array)) {
		snprintf(msg, msglen, "cannot list the models of %s at %s: the answer of GET %s has no "
			 "%s array", server_label(l), l->base_url, l->models_path,
			 l->type == LLM_OLLAMA ? "models" : "data");
		json_object_put(o);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(data); i++) {
		const char *id = js_str(json_object_array_get_idx(data, i), idkey);
		size_t idn, mn = strlen(l->model);
		if (id == NULL)
			continue;
		idn = strlen(id);
		/* Ollama: "llama3" is "llama3:latest" */
		if (strcmp(id, l->model) == 0 || (l->type == LLM_OLLAMA && idn == mn + 7 &&
		    strncmp(id, l->model, mn) == 0 && strcmp(id + mn, ":latest") == 0))
			found = 1;
		if (idn > mn && id[idn - mn - 1] == '/' && strcmp(id + idn - mn, l->model) == 0)
			guess = id;
		buf_printf(&known, "%s%s", known.len ? ", " : "", id);
	}
	if (!found) {
		char hint[300] = "";
		if (guess != NULL)
			snprintf(hint, sizeof hint, "; did you mean '%s'?", guess);
		snprintf(msg, msglen, "model '%s' is not served by %s at %s (known: %s)%s", l->model,
			 server_label(l), l->base_url, known.len ? known.p : "none", hint);
	}
	json_object_put(o);
out:
	buf_free(&known);
	http_resp_free(&r);
	scrub_key(l, msg);
	return msg[0] ? -1 : 0;
}

int
llm_check(struct llm *l, char *err, size_t errlen)
{
	if (l->checked) {
		if (l->check_rc < 0)
			snprintf(err, errlen, "%s", l->check_err);
		return l->check_rc;
	}
	l->checked = 1;
	if (l->type != LLM_LLAMASTACK)
		return l->check_rc = 0;
	l->check_rc = list_models(l, &l->pol, l->check_err, sizeof l->check_err);
	if (l->check_rc < 0)
		snprintf(err, errlen, "%s", l->check_err);
	return l->check_rc;
}

int
llm_preflight(struct llm *l)
{
	struct http_policy pol = l->pol;
	char err[1024];

	if (!llm_uses_network(l))
		return 0;
	if (l->key_env != NULL && l->api_key == NULL)
		warnf("note: %s is unset: the requests to %s carry no key", l->key_env, l->base_url);
	pol.max_attempts = 1;
	if (pol.connect_timeout_s > 3)
		pol.connect_timeout_s = 3;
	if (pol.timeout_s > 10)
		pol.timeout_s = 10;
	if (list_models(l, &pol, err, sizeof err) < 0) {
		warnf("%s", err);
		return 1;
	}
	return 0;
}

/* ---- the batch ------------------------------------------------------- */

struct call {
	json_object *msgs;       /* normalised */
	json_object *params;
	char hash[65];
	int done;
	int mode;                /* the mode of the last attempt */
	char *body;              /* request body of this round */
	size_t body_len;
};

/* The response_format mode used for req under the current mode, or -1 for
 * none. */
static int
format_mode(const struct llm *l, const struct llm_req *req)
{
	if (req->schema != NULL)
		return l->mode;
	if (req->json)
		return l->mode <= MODE_OBJECT ? MODE_OBJECT : MODE_TEXT;
	return MODE_TEXT;
}

static char *
build_body(const struct llm *l, const struct llm_req *req, struct call *c, size_t *len)
{
	json_object *o = json_object_new_object(), *opt;
	const char *s;
	char *out;
	size_t n;

	js_add_str(o, "model", l->model);
	js_add_ref(o, "messages", c->msgs);
	js_add_bool(o, "stream", 0);
	if (l->type == LLM_OLLAMA) {
		if (req->schema != NULL)
			js_add_ref(o, "format", req->schema);
		else if (req->json)
			js_add_str(o, "format", "json");
		opt = json_object_new_object();
		json_object_object_add(opt, "temperature", js_new_double(l->temperature));
		if (l->has_seed)
			js_add_int(opt, "seed", l->seed);
		js_add_int(opt, "num_predict", l->max_tokens);
		if (l->has_num_ctx)
			js_add_int(opt, "num_ctx", l->num_ctx);
		json_object_object_add(o, "options", opt);
		c->mode = -1;
	} else {
		json_object_object_add(o, "temperature", js_new_double(l->temperature));
		js_add_int(o, "max_tokens", l->max_tokens);
		if (l->has_seed)
			js_add_int(o, "seed", l->seed);
		c->mode = format_mode(l, req);
		if (c->mode == MODE_SCHEMA) {
			json_object *rf = json_object_new_object(), *js = json_object_new_object();
			js_add_str(rf, "type", "json_schema");
			js_add_str(js, "name", schema_name(req));
			js_add_ref(js, "schema", req->schema);
			js_add_bool(js, "strict", 1);
			json_object_object_add(rf, "json_schema", js);
			json_object_object_add(o, "response_format", rf);
		} else if (c->mode == MODE_OBJECT) {
			json_object *rf = json_object_new_object();
			js_add_str(rf, "type", "json_object");
			json_object_object_add(o, "response_format", rf);
		}
	}
	s = js_dump(o, &n);
	out = estrndup(s, n);
	*len = n;
	json_object_put(o);
	return out;
}

/* Parses the answer text as JSON after trimming blanks and a ``` fence. */
static void
parse_answer(struct llm_result *res)
{
	const char *s = res->text, *e, *why = NULL;
	json_object *o;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (e - s >= 6 && strncmp(s, "```", 3) == 0 && strncmp(e - 3, "```", 3) == 0) {
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		if (nl != NULL) {
			s = nl + 1;
			e -= 3;
			while (e > s && isspace((unsigned char)e[-1]))
				e--;
		}
	}
	if (e == s) {
		snprintf(res->parse_error, sizeof res->parse_error, "empty answer");
		return;
	}
	if (res->has_nul || js_text_has_nul(s, (size_t)(e - s))) {
		snprintf(res->parse_error, sizeof res->parse_error,
			 "the answer contains a NUL character (\\u0000): rejected, never cut there");
		return;
	}
	o = js_parse(NULL, s, (size_t)(e - s), &why);
	if (o == NULL && why == NULL) {
		snprintf(res->parse_error, sizeof res->parse_error, "the answer is JSON null");
		return;
	}
	if (o == NULL) {
		/* Prose around one object: take the outermost braces. */
		const char *a = memchr(s, '{', (size_t)(e - s)), *b = e;
		while (b > s && b[-1] != '}')
			b--;
		if (a != NULL && b > a) {
			const char *why2;
			o = js_parse(NULL, a, (size_t)(b - a), &why2);
		}
	}
	if (o == NULL) {
		snprintf(res->parse_error, sizeof res->parse_error, "answer is not JSON: %s%s", why,
			 strcmp(res->finish_reason, "length") == 0 ?
			 " (the answer was cut at max_tokens)" : "");
		return;
	}
	if (js_has_nul(o)) {
		snprintf(res->parse_error, sizeof res->parse_error,
			 "the answer contains a NUL character (\\u0000): rejected, never cut there");
		json_object_put(o);
		return;
	}
	res->json = o;
}

/* Sets res->text from a JSON string value: a NUL in it (the provider's
 * \u0000) is kept visible as the six characters \u0000 and marked, so the
 * answer is rejected rather than cut at it. */
static void
set_text(struct llm_result *res, json_object *v)
{
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	struct buf b = BUF_INIT(0);

	if (memchr(s, '\0', n) == NULL) {
		res->text = estrndup(s, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			buf_adds(&b, "\\u0000");
		else
			buf_addc(&b, s[i]);
	}
	res->text = buf_detach(&b);
	res->has_nul = 1;
}

/* Reads the provider's envelope into res.  Returns 0, or -1 with error. */
static int
read_envelope(const struct llm *l, const struct http_resp *r, struct llm_result *res)
{
	const char *why, *content = NULL;
	json_object *o, *msg = NULL, *u;
	int64_t v;

	o = js_parse(NULL, r->body ? r->body : "", r->body_len, &why);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		snprintf(res->error, sizeof res->error, "malformed response: %s",
			 o == NULL ? (why ? why : "null") : "not a JSON object");
		json_object_put(o);
		return -1;
	}
	if (l->type == LLM_OLLAMA) {
		json_object_object_get_ex(o, "message", &msg);
		content = js_str(msg, "content");
		if (js_str(o, "done_reason") != NULL)
			snprintf(res->finish_reason, sizeof res->finish_reason, "%s",
				 js_str(o, "done_reason"));
		if (js_int(o, "prompt_eval_count", &v) == 0)
			res->tokens_in = v;
		if (js_int(o, "eval_count", &v) == 0)
			res->tokens_out = v;
		if (content == NULL && js_str(o, "error") != NULL) {
			snprintf(res->error, sizeof res->error, "server error: %s", js_str(o, "error"));
			goto fail;
		}
	} else {
		json_object *choices, *c0;
		if (json_object_object_get_ex(o, "choices", &choices) &&
		    json_object_is_type(choices, json_type_array) &&
		    (c0 = json_object_array_get_idx(choices, 0)) != NULL &&
		    json_object_object_get_ex(c0, "message", &msg)) {
			content = js_str(msg, "content");
			if (js_str(c0, "finish_reason") != NULL)
				snprintf(res->finish_reason, sizeof res->finish_reason, "%s",
					 js_str(c0, "finish_reason"));
		}
		if (json_object_object_get_ex(o, "usage", &u)) {
			if (js_int(u, "prompt_tokens", &v) == 0)
				res->tokens_in = v;
			if (js_int(u, "completion_tokens", &v) == 0)
				res->tokens_out = v;
		}
		if (content == NULL && js_str(msg, "refusal") != NULL) {
			snprintf(res->error, sizeof res->error, "the model refused: %s",
				 js_str(msg, "refusal"));
			goto fail;
		}
	}
	if (content == NULL) {
		snprintf(res->error, sizeof res->error, "malformed response: no message content");
		goto fail;
	}
	json_object_object_get_ex(msg, "content", &u);
	if ((size_t)json_object_get_string_len(u) > LLM_MAX_ANSWER) {
		snprintf(res->error, sizeof res->error,
			 "the answer is %d bytes, over the limit of %zu bytes", json_object_get_string_len(u),
			 LLM_MAX_ANSWER);
		json_object_put(o);
		return -1;
	}
	set_text(res, u);
	json_object_put(o);
	return 0;
fail:
	scrub_key(l, res->error);
	json_object_put(o);
	return -1;
}

/* A 400 that names the structured-output request: fall back. */
static int
rejects_format(const struct http_resp *r)
{
	return (r->status == 400 || r->status == 422) && r->body != NULL &&
	       (strstr(r->body, "response_format") || strstr(r->body, "json_schema"));
}

static json_object *
make_record(const struct llm *l, const struct llm_req *req, struct call *c,
	    const struct llm_result *res)
{
	json_object *o = json_object_new_object();

	js_add_str(o, "kind", "llm_call");
	js_add_str(o, "stage", l->stage);
	if (req->group_id)
		js_add_str(o, "group_id", req->group_id);
	else
		json_object_object_add(o, "group_id", NULL);
	js_add_str(o, "provider", l->provider);
	js_add_str(o, "model", llm_model(l));
	js_add_str(o, "purpose", req->purpose ? req->purpose : "");
	js_add_str(o, "request_hash", c->hash);
	js_add_ref(o, "messages", c->msgs ? c->msgs : NULL);
	js_add_ref(o, "params", c->params);
	if (res->text)
		js_add_str(o, "response", res->text);
	else
		json_object_object_add(o, "response", NULL);
	/* When the call started: now less its wall time (a batch's calls
	 * start at different times; a trace's span starts here). */
	js_add_ts(o, "started_at", ts_now() - (int64_t)llround(res->latency_ms) * TS_NS_PER_MS);
	js_add_int(o, "latency_ms", llround(res->latency_ms));
	if (res->tokens_in >= 0)
		js_add_int(o, "tokens_in", res->tokens_in);
	else
		json_object_object_add(o, "tokens_in", NULL);
	if (res->tokens_out >= 0)
		js_add_int(o, "tokens_out", res->tokens_out);
	else
		json_object_object_add(o, "tokens_out", NULL);
	js_add_int(o, "attempts", res->attempts);
	js_add_int(o, "http_status", res->http_status);
	/* Kept so that a replay judges a cut answer as the live run did (the
	 * repair prompt says so, and it is part of the repair call's hash). */
	if (res->finish_reason[0])
		js_add_str(o, "finish_reason", res->finish_reason);
	else
		json_object_object_add(o, "finish_reason", NULL);
	if (res->error[0])
		js_add_str(o, "error", res->error);
	else
		json_object_object_add(o, "error", NULL);
	return o;
}

static void
replay_answer(struct llm *l, const struct llm_req *req, struct call *c,
	      struct llm_result *res)
{
	json_object *arr, *rec, *v;
	int64_t used = 0, n;
	const char *s;

	if (l->replay == NULL) {
		snprintf(res->error, sizeof res->error,
			 "replay: no recording (provider.params.replay_file or --replay FILE)");
		return;
	}
	if (!json_object_object_get_ex(l->replay, c->hash, &arr)) {
		snprintf(res->error, sizeof res->error,
			 "replay miss: no recorded call for hash %s", c->hash);
		return;
	}
	js_int(l->replay_used, c->hash, &used);
	n = (int64_t)json_object_array_length(arr);
	/* Identical requests get the recorded answers in order, then the last. */
	rec = json_object_array_get_idx(arr, (size_t)(used < n ? used : n - 1));
	json_object_object_add(l->replay_used, c->hash, json_object_new_int64(used + 1));
	if ((s = js_str(rec, "response")) != NULL && json_object_object_get_ex(rec, "response", &v))
		set_text(res, v);
	if (js_int(rec, "tokens_in", &n) == 0)
		res->tokens_in = n;
	if (js_int(rec, "tokens_out", &n) == 0)
		res->tokens_out = n;
	js_num(rec, "latency_ms", &res->latency_ms);
	if (js_int(rec, "attempts", &n) == 0)
		res->attempts = (int)n;
	if (js_int(rec, "http_status", &n) == 0)
		res->http_status = (long)n;
	if ((s = js_str(rec, "error")) != NULL)
		snprintf(res->error, sizeof res->error, "%s", s);
	if ((s = js_str(rec, "finish_reason")) != NULL)
		snprintf(res->finish_reason, sizeof res->finish_reason, "%s", s);
	res->record = js_copy(rec);
	/* The current call's identity, should the stage have renamed things. */
	js_add_str(res->record, "stage", l->stage);
	if (req->group_id)
		js_add_str(res->record, "group_id", req->group_id);
	js_add_str(res->record, "purpose", req->purpose ? req->purpose : "");
	(void)v;
}

static void
add_latency(struct llm *l, double ms)
{
	if (l->nlat == l->caplat) {
		l->caplat = l->caplat ? 2 * l->caplat : 64;
		l->lat = erealloc(l->lat, l->caplat * sizeof *l->lat);
	}
	l->lat[l->nlat++] = ms;
}

int
llm_batch(struct llm *l, const struct llm_req *reqs, struct llm_result *res, size_t n)
{
	struct call *cs;
	size_t i;
	int failed = 0;

	if (n == 0)
		return 0;
	cs = ecalloc(n, sizeof *cs);
	for (i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof res[i]);
		res[i].tokens_in = res[i].tokens_out = -1;
		cs[i].msgs = norm_messages(&reqs[i], res[i].error, sizeof res[i].error);
		if (cs[i].msgs)
			redact_tree(cs[i].msgs);   /* no secret reaches a model or a record */
		cs[i].params = call_params(l, &reqs[i]);
		if (cs[i].msgs == NULL) {
			cs[i].done = 1;
			json_object *empty = json_object_new_array();
			hash_of(l, empty, cs[i].params, cs[i].hash);
			json_object_put(empty);
		} else {
			hash_of(l, cs[i].msgs, cs[i].params, cs[i].hash);
		}
	}

	if (l->type == LLM_BASELINE) {
		for (i = 0; i < n; i++)
			if (!cs[i].done)
				snprintf(res[i].error, sizeof res[i].error,
					 "baseline provider makes no model calls");
	} else if (l->type == LLM_REPLAY) {
		for (i = 0; i < n; i++)
			if (!cs[i].done)
				replay_answer(l, &reqs[i], &cs[i], &res[i]);
	} else {
		char cerr[512];
		if (llm_check(l, cerr, sizeof cerr) < 0) {
			for (i = 0; i < n; i++)
				if (!cs[i].done)
					snprintf(res[i].error, sizeof res[i].error, "%s", cerr);
		} else {
			struct http_header h[3];
			char auth[1024], url[2048];
			struct http_req *hq = ecalloc(n, sizeof *hq);
			struct http_resp *hr = ecalloc(n, sizeof *hr);
			size_t *idx = ecalloc(n, sizeof *idx);

			auth_headers(l, h, auth, sizeof auth);
			snprintf(url, sizeof url, "%s%s", l->base_url, l->path);
			/* Rounds: the second and third only for a structured-output
			 * fallback. */
			for (int round = 0; round < 3; round++) {
				size_t m = 0;
				for (i = 0; i < n; i++) {
					if (cs[i].done)
						continue;
					free(cs[i].body);
					cs[i].body = build_body(l, &reqs[i], &cs[i], &cs[i].body_len);
					hq[m] = (struct http_req){"POST", url, h, cs[i].body,
								  cs[i].body_len, &l->pol};
					idx[m++] = i;
				}
				if (m == 0)
					break;
				http_do_many(hq, hr, m, l->concurrency);
				for (size_t k = 0; k < m; k++) {
					struct call *c = &cs[idx[k]];
					struct llm_result *r = &res[idx[k]];
					struct http_resp *x = &hr[k];
					r->attempts += x->attempts;
					r->latency_ms += x->latency_ms;
					r->http_status = x->status;
					if (x->error[0] == '\0') {
						r->error[0] = '\0';
						read_envelope(l, x, r);
						c->done = 1;
					} else if (c->mode >= 0 && c->mode < MODE_TEXT &&
						   rejects_format(x) && round < 2) {
						/* Remember the weaker mode for the run. */
						if (l->mode <= c->mode)
							l->mode = c->mode + 1;
						http_error(l, x, r->error, sizeof r->error);
					} else {
						http_error(l, x, r->error, sizeof r->error);
						c->done = 1;
					}
					http_resp_free(x);
				}
			}
			free(hq);
			free(hr);
			free(idx);
		}
	}

	for (i = 0; i < n; i++) {
		if (res[i].record == NULL)
			res[i].record = make_record(l, &reqs[i], &cs[i], &res[i]);
		if (res[i].text != NULL && (reqs[i].schema != NULL || reqs[i].json))
			parse_answer(&res[i]);
		llm_record_write(l, res[i].record);
		l->calls++;
		if (res[i].error[0]) {
			l->failures++;
			failed++;
		}
		if (res[i].attempts > 1)
			l->retries += (uint64_t)res[i].attempts - 1;
		if (res[i].tokens_in > 0)
			l->tokens_in += (uint64_t)res[i].tokens_in;
		if (res[i].tokens_out > 0)
			l->tokens_out += (uint64_t)res[i].tokens_out;
		if (l->type != LLM_BASELINE)
			add_latency(l, res[i].latency_ms);
		json_object_put(cs[i].msgs);
		json_object_put(cs[i].params);
		free(cs[i].body);
	}
	if (l->rec != NULL && fflush(l->rec) != 0 && !l->rec_failed)
		l->rec_failed = errno ? errno : EIO;
	free(cs);
	return failed;
}

int
llm_call(struct llm *l, const struct llm_req *req, struct llm_result *res)
{
	return llm_batch(l, req, res, 1) == 0 ? 0 : -1;
}

void
llm_result_free(struct llm_result *res)
{
	if (res == NULL)
		return;
	free(res->text);
	json_object_put(res->json);
	json_object_put(res->record);
	memset(res, 0, sizeof *res);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double
pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p / 100 * (double)n);
	return v[k == 0 ? 0 : k - 1];
}

void
llm_count_failure(struct llm *l)
{
	l->failures++;
}

void
llm_add_stats(const struct llm *l, json_object *stage_end)
{
	json_object *o = json_object_new_object();

	js_add_int(o, "calls", (int64_t)l->calls);
	js_add_int(o, "failures", (int64_t)l->failures);
	js_add_int(o, "retries", (int64_t)l->retries);
	js_add_int(o, "tokens_in", (int64_t)l->tokens_in);
	js_add_int(o, "tokens_out", (int64_t)l->tokens_out);
	if (l->nlat > 0) {
		double *v = emalloc(l->nlat * sizeof *v);
		memcpy(v, l->lat, l->nlat * sizeof *v);
		qsort(v, l->nlat, sizeof *v, cmp_double);
		js_add_int(o, "latency_p50_ms", llround(pct(v, l->nlat, 50)));
		js_add_int(o, "latency_p95_ms", llround(pct(v, l->nlat, 95)));
		free(v);
	} else {
		json_object_object_add(o, "latency_p50_ms", NULL);
		json_object_object_add(o, "latency_p95_ms", NULL);
	}
	json_object_object_add(stage_end, "llm", o);
}
