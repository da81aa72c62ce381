/* mlf: MLflow client (run data, log-batch chunking, REST, file store). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "js.h"
#include "mlf.h"
#include "sha256.h"
#include "ts.h"

/* ---- small helpers ---- */

static const char b64tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
mlf_base64(const void *p, size_t n)
{
	const unsigned char *s = p;
	char *out = emalloc(4 * ((n + 2) / 3) + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		*o++ = b64tab[v >> 18];
		*o++ = b64tab[v >> 12 & 63];
		*o++ = b64tab[v >> 6 & 63];
		*o++ = b64tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
		*o++ = b64tab[v >> 18];
		*o++ = b64tab[v >> 12 & 63];
		*o++ = i + 1 < n ? b64tab[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

int
mlf_mkdirs(const char *path, int mode)
{
	char *p = estrdup(path), *s;
	struct stat sb;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
		free(p);
		return -1;
	}
	free(p);
	if (stat(path, &sb) < 0)
		return -1;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
mlf_write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	const char *s = p;

	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return close(fd);
}

int
mlf_copy_file(const char *src, const char *dst)
{
	char b[65536];
	int in, out, e;
	ssize_t r;

	if ((in = open(src, O_RDONLY)) < 0)
		return -1;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		e = errno;
		close(in);
		errno = e;
		return -1;
	}
	while ((r = read(in, b, sizeof b)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, b + off, (size_t)(r - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				goto fail;
			}
			off += w;
		}
	}
	close(in);
	return close(out);
fail:
	e = errno;
	close(in);
	close(out);
	errno = e;
	return -1;
}

/* Appends s as a JSON string (quotes included). */
static void
json_str(struct buf *b, const char *s)
{
	const char *run = s;

	buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, run, (size_t)(s - run));
		switch (c) {
		case '"': buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\t': buf_adds(b, "\\t"); break;
		case '\r': buf_adds(b, "\\r"); break;
		default: buf_printf(b, "\\u%04x", c); break;
		}
		run = s + 1;
	}
	buf_add(b, run, (size_t)(s - run));
	buf_addc(b, '"');
}

void
mlf_fmt_double(double v, char out[32])
{
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, 32, "%.0f", v);
		if (strcmp(out, "-0") == 0)
			snprintf(out, 32, "0");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, 32, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, 32, "%.17g", v);
}

/* ---- keys and values ---- */

static int
key_char_ok(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == ' ' || c == ':';
}

char *
mlf_key(const char *key)
{
	struct buf b = BUF_INIT(0);
	const char *s;
	char *k, *seg, *save = NULL, hex[65];

	/* Character set first. */
	char *tmp = estrdup(key);
	for (k = tmp; *k; k++)
		if (!key_char_ok((unsigned char)*k))
			*k = '_';
	/* Then normalise the path segments: no empty, "." or ".." ones, so the
	 * key survives POSIX normpath unchanged. */
	for (seg = strtok_r(tmp, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0)
			seg = strcmp(seg, ".") == 0 ? "_" : "__";
		if (b.len)
			buf_addc(&b, '/');
		buf_adds(&b, seg);
	}
	free(tmp);
	if (b.len == 0)
		buf_addc(&b, '_');
	if (b.len > MLF_MAX_KEY) {
		js_sha256_hex(key, strlen(key), hex);
		b.len = MLF_MAX_KEY - 9;
		while (b.len > 0 && b.p[b.len - 1] == '/')
			b.len--;
		b.p[b.len] = '\0';
		buf_printf(&b, "~%.8s", hex);
	}
	s = b.p;
	(void)s;
	return buf_detach(&b);
}

char *
mlf_shorten(const char *v, size_t max, int *cut)
{
	size_t n = strlen(v), keep;
	char marker[64];
	struct buf b = BUF_INIT(0);

	if (cut)
		*cut = 0;
	if (n <= max)
		return estrdup(v);
	snprintf(marker, sizeof marker, "...[truncated %zu bytes]", n);
	if (strlen(marker) > max)
		marker[0] = '\0'; /* no room for it: the value is only cut */
	keep = max - strlen(marker);
	/* Back up to the start of a UTF-8 sequence. */
	while (keep > 0 && ((unsigned char)v[keep] & 0xC0) == 0x80)
		keep--;
	buf_add(&b, v, keep);
	buf_adds(&b, marker);
	if (cut)
		*cut = 1;
	return buf_detach(&b);
}

/* ---- run data ---- */

void
mlf_data_init(struct mlf_data *d)
{
	memset(d, 0, sizeof *d);
}

void
mlf_data_free(struct mlf_data *d)
{
	size_t i;

	for (i = 0; i < d->nparams; i++) {
		free(d->params[i].key);
		free(d->params[i].value);
	}
	for (i = 0; i < d->ntags; i++) {
		free(d->tags[i].key);
		free(d->tags[i].value);
	}
	for (i = 0; i < d->nmetrics; i++)
		free(d->metrics[i].key);
	free(d->params);
	free(d->tags);
	free(d->metrics);
	memset(d, 0, sizeof *d);
}

static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	return erealloc(p, *cap * size);
}

int
mlf_param(struct mlf_data *d, const char *key, const char *value)
{
	char *k = mlf_key(key);
	int cut;
	char *v = mlf_shorten(value ? value : "", MLF_MAX_PARAM_VALUE, &cut);
	size_t i;

	/* Linear: a run has hundreds of params, not millions. */
	for (i = 0; i < d->nparams; i++) {
		if (strcmp(d->params[i].key, k) == 0) {
			int same = strcmp(d->params[i].value, v) == 0;
			free(k);
			free(v);
			if (same)
				return 0;
			d->dropped++;
			return 1;
		}
	}
	d->shortened += (unsigned long)cut;
	d->params = grow(d->params, &d->capparams, d->nparams, sizeof *d->params);
	d->params[d->nparams].key = k;
	d->params[d->nparams].value = v;
	d->nparams++;
	return 0;
}

void
mlf_tag(struct mlf_data *d, const char *key, const char *value)
{
	char *k = mlf_key(key);
	int cut;
	char *v = mlf_shorten(value ? value : "", MLF_MAX_TAG_VALUE, &cut);
	size_t i;

	d->shortened += (unsigned long)cut;
	for (i = 0; i < d->ntags; i++) {
		if (strcmp(d->tags[i].key, k) == 0) {
			free(k);
			free(d->tags[i].value);
			d->tags[i].value = v;
			return;
		}
	}
	d->tags = grow(d->tags, &d->captags, d->ntags, sizeof *d->tags);
	d->tags[d->ntags].key = k;
	d->tags[d->ntags].value = v;
	d->ntags++;
}

const char *
mlf_tag_get(const struct mlf_data *d, const char *key)
{
	for (size_t i = 0; i < d->ntags; i++)
		if (strcmp(d->tags[i].key, key) == 0)
			return d->tags[i].value;
	return NULL;
}

int
mlf_metric(struct mlf_data *d, const char *key, double value, int64_t ts_ms, int64_t step)
{
	char *k;
	size_t i;

	if (!isfinite(value))
		return -1;
	k = mlf_key(key);
	for (i = 0; i < d->nmetrics; i++) {
		if (d->metrics[i].step == step && strcmp(d->metrics[i].key, k) == 0) {
			d->metrics[i].value = value;
			d->metrics[i].ts_ms = ts_ms;
			free(k);
			return 0;
		}
	}
	d->metrics = grow(d->metrics, &d->capmetrics, d->nmetrics, sizeof *d->metrics);
	d->metrics[d->nmetrics].key = k;
	d->metrics[d->nmetrics].value = value;
	d->metrics[d->nmetrics].ts_ms = ts_ms;
	d->metrics[d->nmetrics].step = step;
	d->nmetrics++;
	return 0;
}

void
mlf_flatten_params(struct mlf_data *d, const char *prefix, json_object *v)
{
	struct buf k = BUF_INIT(0);

	if (json_object_is_type(v, json_type_object) && json_object_object_length(v) > 0) {
		json_object_object_foreach(v, key, val) {
			buf_reset(&k);
			if (prefix && *prefix)
				buf_printf(&k, "%s.%s", prefix, key);
			else
				buf_adds(&k, key);
			mlf_flatten_params(d, k.p, val);
		}
		buf_free(&k);
		return;
	}
	if (json_object_is_type(v, json_type_string))
		mlf_param(d, prefix && *prefix ? prefix : "_", json_object_get_string(v));
	else
		mlf_param(d, prefix && *prefix ? prefix : "_",
			  v ? json_object_to_json_string_ext(v, JS_FLAGS) : "null");
}

/* ---- chunking ---- */

void
mlf_chunker_init(struct mlf_chunker *c, const struct mlf_data *d, const char *run_id,
		 size_t max_bytes)
{
	memset(c, 0, sizeof *c);
	c->d = d;
	c->run_id = run_id;
	c->max_bytes = max_bytes ? max_bytes : MLF_BATCH_BYTES;
}

static void
kv_json(struct buf *b, const struct mlf_kv *kv)
{
	buf_adds(b, "{\"key\":");
	json_str(b, kv->key);
	buf_adds(b, ",\"value\":");
	json_str(b, kv->value);
	buf_addc(b, '}');
}

static void
metric_json(struct buf *b, const struct mlf_metric *m)
{
	char v[32];

	mlf_fmt_double(m->value, v);
	buf_adds(b, "{\"key\":");
	json_str(b, m->key);
	buf_printf(b, ",\"value\":%s,\"timestamp\":%lld,\"step\":%lld}", v, (long long)m->ts_ms,
		   (long long)m->step);
}

int
mlf_chunk_next(struct mlf_chunker *c, struct buf *out, size_t counts[3])
{
	const struct mlf_data *d = c->d;
	struct buf part[3] = {BUF_INIT(0), BUF_INIT(0), BUF_INIT(0)}, item = BUF_INIT(0);
	size_t total = 0, bytes, i;
	static const char *names[3] = {"params", "tags", "metrics"};
	static const size_t lim[3] = {MLF_BATCH_PARAMS, MLF_BATCH_TAGS, MLF_BATCH_METRICS};

	buf_reset(out);
	counts[0] = counts[1] = counts[2] = 0;
	while (c->im < d->nmetrics && c->skip && c->skip(c->skip_ctx, &d->metrics[c->im]))
		c->im++;
	if (c->ip >= d->nparams && c->it >= d->ntags && c->im >= d->nmetrics)
		return 0;
	buf_adds(out, "{\"run_id\":");
	json_str(out, c->run_id ? c->run_id : "");
	/* The fixed part: the run id, the three array names and brackets. */
	bytes = out->len + 64;
	for (i = 0; i < 3; i++) {
		for (;;) {
			if (counts[i] >= lim[i] || total >= MLF_BATCH_ITEMS)
				break;
			buf_reset(&item);
			if (i == 0) {
				if (c->ip >= d->nparams)
					break;
				kv_json(&item, &d->params[c->ip]);
			} else if (i == 1) {
				if (c->it >= d->ntags)
					break;
				kv_json(&item, &d->tags[c->it]);
			} else {
				while (c->im < d->nmetrics && c->skip &&
				       c->skip(c->skip_ctx, &d->metrics[c->im]))
					c->im++;
				if (c->im >= d->nmetrics)
					break;
				metric_json(&item, &d->metrics[c->im]);
			}
			/* Every body takes at least one item, whatever its size. */
			if (total > 0 && bytes + item.len + 1 >= c->max_bytes)
				goto full;
			if (part[i].len)
				buf_addc(&part[i], ',');
			buf_add(&part[i], item.p, item.len);
			bytes += item.len + 1;
			counts[i]++;
			total++;
			if (i == 0)
				c->ip++;
			else if (i == 1)
				c->it++;
			else
				c->im++;
		}
	}
full:
	for (i = 0; i < 3; i++) {
		buf_printf(out, ",\"%s\":[", names[i]);
		if (part[i].len)
			buf_add(out, part[i].p, part[i].len);
		buf_addc(out, ']');
		buf_free(&part[i]);
	}
	buf_addc(out, '}');
	buf_free(&item);
	return 1;
}

/* ---- REST client ---- */

int
mlf_client_init(struct mlf_client *c, const char *uri, const struct http_policy *pol,
		char *err, size_t errlen)
{
	const char *user = getenv("MLFLOW_TRACKING_USERNAME");
	const char *pass = getenv("MLFLOW_TRACKING_PASSWORD");
	const char *token = getenv("MLFLOW_TRACKING_TOKEN");
	size_t n;

	memset(c, 0, sizeof *c);
	if (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0) {
		snprintf(err, errlen, "tracking URI '%s' is not http:// or https://", uri);
		return -1;
	}
	c->base = estrdup(uri);
	n = strlen(c->base);
	while (n > 0 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	c->policy = pol;
	if (user && *user && pass) {
		struct buf b = BUF_INIT(0);
		char *enc;
		buf_printf(&b, "%s:%s", user, pass);
		enc = mlf_base64(b.p, b.len);
		buf_reset(&b);
		buf_printf(&b, "Basic %s", enc);
		free(enc);
		c->auth = buf_detach(&b);
	} else if (token && *token) {
		struct buf b = BUF_INIT(0);
		buf_printf(&b, "Bearer %s", token);
		c->auth = buf_detach(&b);
	}
	http_init();
	return 0;
}

void
mlf_client_free(struct mlf_client *c)
{
	free(c->base);
	if (c->auth) {
		memset(c->auth, 0, strlen(c->auth));
		free(c->auth);
	}
	memset(c, 0, sizeof *c);
}

int
mlf_call(struct mlf_client *c, const char *method, const char *path, const char *body,
	 size_t body_len, const char *ctype, const char *const *headers, json_object **out,
	 char *err, size_t errlen)
{
	struct http_header hs[16];
	struct http_req req;
	struct http_resp resp;
	struct buf url = BUF_INIT(0);
	size_t nh = 0;
	int rc;

	if (out)
		*out = NULL;
	buf_printf(&url, "%s%s", c->base, path);
	if (c->auth)
		hs[nh++] = (struct http_header){"Authorization", c->auth, 1};
	if (ctype)
		hs[nh++] = (struct http_header){"Content-Type", ctype, 0};
	for (; headers && headers[0] && nh < 14; headers += 2)
		hs[nh++] = (struct http_header){headers[0], headers[1], 0};
	hs[nh] = (struct http_header){NULL, NULL, 0};
	memset(&req, 0, sizeof req);
	memset(&resp, 0, sizeof resp);
	req.method = method;
	req.url = url.p;
	req.headers = hs;
	req.body = body;
	req.body_len = body ? body_len : 0;
	req.policy = c->policy;
	rc = http_do(&req, &resp);
	c->status = resp.status;
	c->retryable = resp.retryable;
	c->error_code[0] = '\0';
	if (rc == 0) {
		if (out) {
			const char *why;
			json_object *o = NULL;
			if (resp.body && resp.body_len > 0)
				o = js_parse(NULL, resp.body, resp.body_len, &why);
			if (o == NULL || !json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				o = json_object_new_object();
			}
			*out = o;
		}
		http_resp_free(&resp);
		buf_free(&url);
		return 0;
	}
	{
		const char *why, *code = NULL, *msg = NULL;
		json_object *o = NULL;
		char shortmsg[200];
		if (resp.body && resp.body_len > 0)
			o = js_parse(NULL, resp.body, resp.body_len, &why);
		if (o && json_object_is_type(o, json_type_object)) {
			code = js_str(o, "error_code");
			msg = js_str(o, "message");
		}
		if (code)
			snprintf(c->error_code, sizeof c->error_code, "%s", code);
		shortmsg[0] = '\0';
		if (msg) {
			snprintf(shortmsg, sizeof shortmsg, "%s", msg);
			for (char *p = shortmsg; *p; p++)
				if (*p == '\n' || *p == '\r')
					*p = ' ';
		}
		snprintf(err, errlen, "%s %s: %s%s%s%s%s", method, path, resp.error,
			 code ? " " : "", code ? code : "", *shortmsg ? ": " : "", shortmsg);
		json_object_put(o);
	}
	http_resp_free(&resp);
	buf_free(&url);
	return -1;
}

/* GET experiments/get-by-name: 1 found (*exp set), 0 not found, -1 error. */
static int
get_exp_by_name(struct mlf_client *c, const char *name, json_object **exp, char *err,
		size_t errlen)
{
	char *q = http_escape(name);
	struct buf path = BUF_INIT(0);
	json_object *o, *e;
	int rc;

	*exp = NULL;
	buf_printf(&path, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=%s", q);
	free(q);
	rc = mlf_call(c, "GET", path.p, NULL, 0, NULL, NULL, &o, err, errlen);
	buf_free(&path);
	if (rc < 0)
		return c->status == 404 ? 0 : -1;
	if (!json_object_object_get_ex(o, "experiment", &e) || js_str(e, "experiment_id") == NULL) {
		json_object_put(o);
		snprintf(err, errlen, "experiments/get-by-name: answer without an experiment");
		return -1;
	}
	*exp = json_object_get(e);
	json_object_put(o);
	return 1;
}

int
mlf_experiment(struct mlf_client *c, const char *name, json_object *tags, char id[64],
	       int *restored, char *err, size_t errlen)
{
	json_object *exp = NULL, *body, *arr, *o = NULL;
	int rc, tries;

	*restored = 0;
	for (tries = 0; tries < 2; tries++) {
		rc = get_exp_by_name(c, name, &exp, err, errlen);
		if (rc < 0)
			return -1;
		if (rc == 1)
			break;
		body = json_object_new_object();
		js_add_str(body, "name", name);
		if (tags && json_object_is_type(tags, json_type_object)) {
			arr = json_object_new_array();
			json_object_object_foreach(tags, k, v) {
				json_object *t = json_object_new_object();
				char *kk = mlf_key(k);
				js_add_str(t, "key", kk);
				js_add_str(t, "value", json_object_is_type(v, json_type_string)
					   ? json_object_get_string(v)
					   : json_object_to_json_string_ext(v, JS_FLAGS));
				free(kk);
				json_object_array_add(arr, t);
			}
			json_object_object_add(body, "tags", arr);
		}
		size_t n;
		const char *s = js_dump(body, &n);
		rc = mlf_call(c, "POST", "/api/2.0/mlflow/experiments/create", s, n, NULL, NULL, &o,
			      err, errlen);
		json_object_put(body);
		if (rc == 0) {
			const char *eid = js_str(o, "experiment_id");
			if (eid == NULL) {
				json_object_put(o);
				snprintf(err, errlen, "experiments/create: answer without experiment_id");
				return -1;
			}
			snprintf(id, 64, "%s", eid);
			json_object_put(o);
			return 0;
		}
		/* A concurrent create won the race: look it up again. */
		if (strcmp(c->error_code, "RESOURCE_ALREADY_EXISTS") != 0)
			return -1;
	}
	if (exp == NULL) {
		snprintf(err, errlen, "experiment '%s' exists but cannot be found by name", name);
		return -1;
	}
	snprintf(id, 64, "%s", js_str(exp, "experiment_id"));
	{
		const char *stage = js_str(exp, "lifecycle_stage");
		if (stage && strcmp(stage, "deleted") == 0) {
			struct buf b = BUF_INIT(0);
			buf_adds(&b, "{\"experiment_id\":");
			json_str(&b, id);
			buf_addc(&b, '}');
			rc = mlf_call(c, "POST", "/api/2.0/mlflow/experiments/restore", b.p, b.len, NULL,
				      NULL, NULL, err, errlen);
			buf_free(&b);
			if (rc < 0) {
				json_object_put(exp);
				return -1;
			}
			*restored = 1;
		}
	}
	json_object_put(exp);
	return 0;
}

int
mlf_find_run(struct mlf_client *c, const char *exp_id, const char *key, const char *value,
	     json_object **run, char *err, size_t errlen)
{
	json_object *body, *o, *runs, *arr;
	struct buf f = BUF_INIT(0);
	size_t n;
	const char *s;
	int rc;

	*run = NULL;
	if (strchr(value, '\'') || strchr(key, '`')) {
		snprintf(err, errlen, "cannot search for tag value '%s'", value);
		return -1;
	}
	buf_printf(&f, "tags.`%s` = '%s'", key, value);
	body = json_object_new_object();
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string(exp_id));
	json_object_object_add(body, "experiment_ids", arr);
	js_add_str(body, "filter", f.p);
	js_add_str(body, "run_view_type", "ACTIVE_ONLY");
	js_add_int(body, "max_results", 1);
	arr = json_object_new_array();
	json_object_array_add(arr, json_object_new_string("attributes.start_time DESC"));
	json_object_object_add(body, "order_by", arr);
	s = js_dump(body, &n);
	rc = mlf_call(c, "POST", "/api/2.0/mlflow/runs/search", s, n, NULL, NULL, &o, err, errlen);
	json_object_put(body);
	buf_free(&f);
	if (rc < 0)
		return -1;
	if (json_object_object_get_ex(o, "runs", &runs) &&
	    json_object_is_type(runs, json_type_array) && json_object_array_length(runs) > 0)
		*run = json_object_get(json_object_array_get_idx(runs, 0));
	json_object_put(o);
	return 0;
}

/* ---- file store ---- */

/* Appends s as a single-quoted YAML scalar (line breaks become spaces). */
static void
yaml_str(struct buf *b, const char *s)
{
	buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(b, "''");
		else if (*s == '\n' || *s == '\r')
			buf_addc(b, ' ');
		else
			buf_addc(b, *s);
	}
	buf_addc(b, '\'');
}

/* Reads "key: value" from a meta.yaml into a new string, unquoted. */
static char *
yaml_get(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *res = NULL;
	size_t cap = 0, kl = strlen(key);
	ssize_t n;

	if (f == NULL)
		return NULL;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (strncmp(line, key, kl) != 0 || line[kl] != ':')
			continue;
		char *v = line + kl + 1;
		while (*v == ' ')
			v++;
		size_t vl = strlen(v);
		while (vl > 0 && (v[vl - 1] == '\n' || v[vl - 1] == '\r' || v[vl - 1] == ' '))
			v[--vl] = '\0';
		if (vl >= 2 && v[0] == '\'' && v[vl - 1] == '\'') {
			struct buf b = BUF_INIT(0);
			for (size_t i = 1; i + 1 < vl; i++) {
				buf_addc(&b, v[i]);
				if (v[i] == '\'' && v[i + 1] == '\'')
					i++;
			}
			res = buf_detach(&b);
		} else if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			res = estrndup(v + 1, vl - 2);
		} else {
			res = estrdup(v);
		}
		break;
	}
	free(line);
	fclose(f);
	return res;
}

static int
fs_fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static int
write_exp_meta(const char *dir, const char *root, const char *id, const char *name, int64_t now)
{
	struct buf b = BUF_INIT(0), p = BUF_INIT(0);
	int rc;

	buf_printf(&b, "artifact_location: file://%s/%s\n", root, id);
	buf_printf(&b, "creation_time: %lld\n", (long long)now);
	buf_adds(&b, "experiment_id: ");
	yaml_str(&b, id);
	buf_printf(&b, "\nlast_update_time: %lld\nlifecycle_stage: active\nname: ", (long long)now);
	yaml_str(&b, name);
	buf_addc(&b, '\n');
	buf_printf(&p, "%s/meta.yaml", dir);
	rc = mlf_write_file(p.p, b.p, b.len);
	buf_free(&b);
	buf_free(&p);
	return rc;
}

/* Writes value to dir/key, creating the subdirectories a '/' in key makes. */
static int
write_keyed(const char *dir, const char *key, const char *value, size_t n)
{
	struct buf p = BUF_INIT(0);
	char *slash;
	int rc;

	buf_printf(&p, "%s/%s", dir, key);
	slash = strrchr(p.p, '/');
	*slash = '\0';
	rc = mlf_mkdirs(p.p, 0755);
	*slash = '/';
	if (rc == 0)
		rc = mlf_write_file(p.p, value, n);
	buf_free(&p);
	return rc;
}

static uint64_t
rand64(void)
{
	uint64_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY);

	if (fd >= 0) {
		if (read(fd, &v, sizeof v) != (ssize_t)sizeof v)
			v = 0;
		close(fd);
	}
	if (v == 0)
		v = (uint64_t)ts_now() ^ ((uint64_t)getpid() << 32);
	return v;
}

int
mlf_fs_open(struct mlf_fs *fs, const char *root, const char *name, json_object *exp_tags,
	    char *err, size_t errlen)
{
	char abs[PATH_MAX];
	struct buf p = BUF_INIT(0);
	DIR *dir;
	struct dirent *de;
	int64_t now = ts_now() / TS_NS_PER_MS;

	memset(fs, 0, sizeof *fs);
	if (mlf_mkdirs(root, 0755) < 0)
		return fs_fail(err, errlen, "cannot create", root);
	if (realpath(root, abs) == NULL)
		return fs_fail(err, errlen, "cannot resolve", root);
	fs->root = estrdup(abs);
	buf_printf(&p, "%s/.trash", abs);
	if (mlf_mkdirs(p.p, 0755) < 0) {
		fs_fail(err, errlen, "cannot create", p.p);
		buf_free(&p);
		return -1;
	}
	buf_reset(&p);
	buf_printf(&p, "%s/0/meta.yaml", abs);
	if (access(p.p, F_OK) < 0) {
		buf_reset(&p);
		buf_printf(&p, "%s/0", abs);
		if (mlf_mkdirs(p.p, 0755) < 0 || write_exp_meta(p.p, abs, "0", "Default", now) < 0) {
			fs_fail(err, errlen, "cannot write", p.p);
			buf_free(&p);
			return -1;
		}
	}
	/* An active experiment with this name? */
	if ((dir = opendir(abs)) == NULL) {
		buf_free(&p);
		return fs_fail(err, errlen, "cannot read", abs);
	}
	while ((de = readdir(dir)) != NULL) {
		const char *s = de->d_name;
		char *nm, *ls;
		if (!isdigit((unsigned char)*s) || strspn(s, "0123456789") != strlen(s))
			continue;
		buf_reset(&p);
		buf_printf(&p, "%s/%s/meta.yaml", abs, s);
		nm = yaml_get(p.p, "name");
		ls = yaml_get(p.p, "lifecycle_stage");
		if (nm && strcmp(nm, name) == 0 && (ls == NULL || strcmp(ls, "active") == 0))
			fs->exp_id = estrdup(s);
		free(nm);
		free(ls);
		if (fs->exp_id)
			break;
	}
	closedir(dir);
	if (fs->exp_id == NULL) {
		char id[32];
		/* MLflow's own ids: 18 random digits, the first not 0. */
		snprintf(id, sizeof id, "%llu",
			 (unsigned long long)(100000000000000000ULL + rand64() % 900000000000000000ULL));
		buf_reset(&p);
		buf_printf(&p, "%s/%s", abs, id);
		if (mlf_mkdirs(p.p, 0755) < 0 || write_exp_meta(p.p, abs, id, name, now) < 0) {
			fs_fail(err, errlen, "cannot write", p.p);
			buf_free(&p);
			return -1;
		}
		fs->exp_id = estrdup(id);
		if (exp_tags && json_object_is_type(exp_tags, json_type_object)) {
			buf_adds(&p, "/tags");
			json_object_object_foreach(exp_tags, k, v) {
				char *kk = mlf_key(k);
				const char *vs = json_object_is_type(v, json_type_string)
					? json_object_get_string(v)
					: json_object_to_json_string_ext(v, JS_FLAGS);
				if (write_keyed(p.p, kk, vs, strlen(vs)) < 0) {
					fs_fail(err, errlen, "cannot write tag", kk);
					free(kk);
					buf_free(&p);
					return -1;
				}
				free(kk);
			}
		}
	}
	buf_free(&p);
	return 0;
}

int
mlf_fs_write_run(struct mlf_fs *fs, const char *run_id, const char *run_name, const char *user,
		 int64_t start_ms, int64_t end_ms, int status, const struct mlf_data *d,
		 char *err, size_t errlen)
{
	struct buf p = BUF_INIT(0), b = BUF_INIT(0);
	size_t i, j, base;
	static const char *subs[] = {"metrics", "params", "tags", "artifacts"};

	free(fs->run_id);
	free(fs->run_dir);
	fs->run_id = estrdup(run_id);
	buf_printf(&p, "%s/%s/%s", fs->root, fs->exp_id, run_id);
	fs->run_dir = estrdup(p.p);
	for (i = 0; i < 4; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", fs->run_dir, subs[i]);
		if (mlf_mkdirs(p.p, 0755) < 0)
			goto fail;
	}
	/* meta.yaml last but one: the run is complete once it is there. */
	buf_reset(&p);
	buf_printf(&p, "%s/params", fs->run_dir);
	for (i = 0; i < d->nparams; i++)
		if (write_keyed(p.p, d->params[i].key, d->params[i].value,
				strlen(d->params[i].value)) < 0)
			goto fail;
	buf_reset(&p);
	buf_printf(&p, "%s/tags", fs->run_dir);
	for (i = 0; i < d->ntags; i++)
		if (write_keyed(p.p, d->tags[i].key, d->tags[i].value, strlen(d->tags[i].value)) < 0)
			goto fail;
	/* Metrics: one file per key, points in the order logged. */
	buf_reset(&p);
	buf_printf(&p, "%s/metrics", fs->run_dir);
	base = p.len;
	for (i = 0; i < d->nmetrics; i++) {
		int seen = 0;
		for (j = 0; j < i && !seen; j++)
			seen = strcmp(d->metrics[j].key, d->metrics[i].key) == 0;
		if (seen)
			continue;
		buf_reset(&b);
		for (j = i; j < d->nmetrics; j++) {
			char v[32];
			if (strcmp(d->metrics[j].key, d->metrics[i].key) != 0)
				continue;
			mlf_fmt_double(d->metrics[j].value, v);
			buf_printf(&b, "%lld %s %lld\n", (long long)d->metrics[j].ts_ms, v,
				   (long long)d->metrics[j].step);
		}
		p.len = base;
		p.p[base] = '\0';
		if (write_keyed(p.p, d->metrics[i].key, b.p, b.len) < 0)
			goto fail;
	}
	buf_reset(&b);
	buf_printf(&b, "artifact_uri: file://%s/artifacts\n", fs->run_dir);
	if (end_ms > 0)
		buf_printf(&b, "end_time: %lld\n", (long long)end_ms);
	else
		buf_adds(&b, "end_time: null\n");
	buf_adds(&b, "entry_point_name: ''\nexperiment_id: ");
	yaml_str(&b, fs->exp_id);
	buf_printf(&b, "\nlifecycle_stage: active\nrun_id: %s\nrun_name: ", run_id);
	yaml_str(&b, run_name);
	buf_printf(&b, "\nrun_uuid: %s\nsource_name: ''\nsource_type: 4\nsource_version: ''\n"
		   "start_time: %lld\nstatus: %d\ntags: []\nuser_id: ",
		   run_id, (long long)start_ms, status);
	yaml_str(&b, user ? user : "");
	buf_adds(&b, "\n");
	buf_reset(&p);
	buf_printf(&p, "%s/meta.yaml", fs->run_dir);
	if (mlf_write_file(p.p, b.p, b.len) < 0)
		goto fail;
	buf_free(&p);
	buf_free(&b);
	return 0;
fail:
	fs_fail(err, errlen, "cannot write", p.p);
	buf_free(&p);
	buf_free(&b);
	return -1;
}

int
mlf_fs_artifact(struct mlf_fs *fs, const char *path, const char *src, char *err, size_t errlen)
{
	struct buf p = BUF_INIT(0);
	char *slash;

	buf_printf(&p, "%s/artifacts/%s", fs->run_dir, path);
	slash = strrchr(p.p, '/');
	*slash = '\0';
	if (mlf_mkdirs(p.p, 0755) < 0) {
		fs_fail(err, errlen, "cannot create", p.p);
		buf_free(&p);
		return -1;
	}
	*slash = '/';
	if (rename(src, p.p) < 0 && (errno != EXDEV || mlf_copy_file(src, p.p) < 0)) {
		fs_fail(err, errlen, "cannot write", p.p);
		buf_free(&p);
		return -1;
	}
	buf_free(&p);
	return 0;
}

void
mlf_fs_free(struct mlf_fs *fs)
{
	free(fs->root);
	free(fs->exp_id);
	free(fs->run_id);
	free(fs->run_dir);
	memset(fs, 0, sizeof *fs);
}
