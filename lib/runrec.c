/*
 * runrec: aiops-load's run record (see runrec.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg.h"
#include "err.h"
#include "js.h"
#include "runrec.h"
#include "sha256.h"
#include "stage.h"
#include "ts.h"

int
run_hash_file(const char *path, uint64_t *bytes, char hex[65])
{
	struct sha256 c;
	char *b;
	ssize_t k;
	int fd, e = 0;

	*bytes = 0;
	memset(hex, 0, 65);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	b = emalloc(1 << 20);
	sha256_init(&c);
	while ((k = read(fd, b, 1 << 20)) > 0) {
		sha256_add(&c, b, (size_t)k);
		*bytes += (uint64_t)k;
	}
	if (k < 0)
		e = errno;
	sha256_hex(&c, hex);
	free(b);
	close(fd);
	return e;
}

static int
secret_key(const char *k)
{
	static const char *const words[] = {"key", "token", "secret", "password"};
	char low[256];
	size_t i, n = strlen(k);

	if (n >= sizeof low)
		n = sizeof low - 1;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	low[n] = '\0';
	for (i = 0; i < 4; i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

/* Counts of tokens (a number under a key ending in "tokens", like
 * max_tokens) are not secrets and are kept. */
void
run_redact_keys(json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			run_redact_keys(json_object_array_get_idx(o, i));
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, k, v) {
		size_t n = strlen(k);
		int count = n >= 6 && strcasecmp(k + n - 6, "tokens") == 0 &&
			    (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
		if (secret_key(k) && !count && !json_object_is_type(v, json_type_null))
			json_object_object_add(o, k, json_object_new_string("***"));
		else
			run_redact_keys(v);
	}
}

static void
random_id(char out[33])
{
	unsigned char r[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd >= 0) {
		ssize_t k;
		while (got < sizeof r && (k = read(fd, r + got, sizeof r - got)) > 0)
			got += (size_t)k;
		close(fd);
	}
	if (got < sizeof r) {
		uint64_t x = (uint64_t)ts_now() ^ (uint64_t)getpid() << 32;
		for (size_t i = 0; i < sizeof r; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			r[i] = (unsigned char)(x >> 56);
		}
	}
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

json_object *
run_record(const char *run_id, json_object *config, const char *dataset_dir,
	   const struct run_file *files, size_t n, int64_t started)
{
	static const char nohash[64];
	json_object *o = stage_record("run"), *ds, *arr, *cfg, *exp, *tags;
	char id[33], all[65];
	struct sha256 c;

	if (run_id)
		js_add_str(o, "run_id", run_id);
	else {
		random_id(id);
		js_add_str(o, "run_id", id);
	}
	exp = cfg_section(config, "experiment");
	js_add_str(o, "experiment", js_str(exp, "name"));
	if (!json_object_object_get_ex(exp, "tags", &tags))
		tags = NULL;
	if (tags && json_object_is_type(tags, json_type_object))
		js_add_ref(o, "tags", tags);
	else
		json_object_object_add(o, "tags", json_object_new_object());
	ds = json_object_new_object();
	js_add_str(ds, "path", dataset_dir);
	arr = json_object_new_array();
	sha256_init(&c);
	for (size_t i = 0; i < n; i++) {
		const struct run_file *f = &files[i];
		json_object *e = json_object_new_object();
		js_add_str(e, "role", f->role);
		js_add_str(e, "path", f->path);
		js_add_str(e, "format", f->format);
		if (f->hashed) {
			js_add_int(e, "bytes", (int64_t)f->bytes);
			js_add_str(e, "sha256", f->sha256);
		} else {
			json_object_object_add(e, "bytes", NULL);
			json_object_object_add(e, "sha256", NULL);
		}
		json_object_array_add(arr, e);
		/* an unhashed file (a pipe) counts as 64 zero bytes */
		sha256_add(&c, f->hashed && f->sha256 ? f->sha256 : nohash, 64);
		sha256_add(&c, "\n", 1);
	}
	json_object_object_add(ds, "files", arr);
	sha256_hex(&c, all);
	js_add_str(ds, "sha256", all);
	json_object_object_add(o, "dataset", ds);
	cfg = js_copy(config);
	run_redact_keys(cfg);
	json_object_object_add(o, "config", cfg);
	js_add_ts(o, "started_at", started);
	return o;
}
