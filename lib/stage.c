/* stage: options, config section, stage/stage_end/reject records, the loop. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "cfgkeys.h"
#include "err.h"
#include "js.h"
#include "scan.h"
#include "redact.h"
#include "stage.h"
#include "ts.h"

static json_object *params;
/* The kind of a foreign record, as a C string for on_foreign. */
static struct buf kindbuf = BUF_INIT(0);
/* Values of OPT_JSON options given on the command line; they live until
 * exit, like the config's. */
static json_object *cli_values;
static int opt_unbuffered, opt_help, opt_version, opt_print_config, opt_preflight;
static const char *opt_config;
static long long opt_max_line;

/* The options every stage has, in --help order. */
static const struct opt common_opts[] = {
	{"config", OPT_STRING, &opt_config, "FILE", "read options from this YAML or JSON config", OPT_NOCONFIG | OPT_NOPARAM, 'c'},
	{"set", OPT_STRING, NULL, "KEY=VALUE", "override a config value (repeatable)", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"strict", OPT_FLAG, NULL, NULL, "make the first bad line fatal (exit 1)", OPT_NOPARAM, 0},
	{"max_line", OPT_INT, &opt_max_line, "BYTES", "longest accepted line (default 16 MiB)", OPT_NOPARAM, 0},
	{"unbuffered", OPT_FLAG, &opt_unbuffered, NULL, "flush after every record", OPT_NOCONFIG | OPT_NOPARAM, 'u'},
	{"print_config", OPT_FLAG, &opt_print_config, NULL, "print the effective config as JSON and exit", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"preflight", OPT_FLAG, &opt_preflight, NULL, "check the setup (config keys, files, servers) and exit: 0 ok, 1 not", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{"help", OPT_FLAG, &opt_help, NULL, "print this help and exit", OPT_NOCONFIG | OPT_NOPARAM, 'h'},
	{"version", OPT_FLAG, &opt_version, NULL, "print the version and exit", OPT_NOCONFIG | OPT_NOPARAM, 0},
	{NULL, 0, NULL, NULL, NULL, 0, 0},
};

json_object *
stage_record(const char *kind)
{
	json_object *o = json_object_new_object();

	js_add_str(o, "kind", kind);
	return o;
}

json_object *
stage_params(struct stage *st)
{
	(void)st;
	return params;
}

static void
print_opts(FILE *f, const struct opt *o)
{
	for (; o && o->name; o++) {
		char name[128], *p;
		int n;
		snprintf(name, sizeof name, "%s", o->name);
		for (p = name; *p; p++)
			if (*p == '_')
				*p = '-';
		if (o->shortopt)
			n = fprintf(f, "  -%c, --%s%s%s", o->shortopt, name, o->arg ? " " : "",
				    o->arg ? o->arg : "");
		else
			n = fprintf(f, "      --%s%s%s", name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "%*s%s\n", n < 34 ? 34 - n : 1, "", o->help ? o->help : "");
	}
}

static void
usage(struct stage *st, FILE *f)
{
	fprintf(f, "usage: %s %s\n", err_prog,
		st->synopsis ? st->synopsis : "[options] [FILE...]");
	if (f == stdout) {
		if (st->description)
			fprintf(f, "\n%s\n", st->description);
		fprintf(f, "\noptions:\n");
		print_opts(f, st->opts);
		print_opts(f, common_opts);
		if (st->section)
			fprintf(f, "\nConfig section: %s (keys are the option names with '_').\n",
				st->section);
	}
}

void
stage_usage_error(struct stage *st, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vwarnf(fmt, ap);
		va_end(ap);
	}
	usage(st, stderr);
	exit(EXIT_USAGE);
}

/* Compares an option name with a command-line spelling ('-' == '_'). */
static int
name_eq(const char *name, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char a = name[i], b = s[i];
		if (a == '\0')
			return 0;
		if (a == '_')
			a = '-';
		if (b == '_')
			b = '-';
		if (a != b)
			return 0;
	}
	return name[n] == '\0';
}

static const struct opt *
find_opt(const struct opt *tab, const char *s, size_t n)
{
	for (; tab && tab->name; tab++)
		if (name_eq(tab->name, s, n))
			return tab;
	return NULL;
}

static const struct opt *
find_short(const struct opt *tab, char c)
{
	for (; tab && tab->name; tab++)
		if (tab->shortopt == c)
			return tab;
	return NULL;
}

/* Stores a value given as text (command line).  Returns 0 or -1. */
static int
set_text(const struct opt *o, const char *v)
{
	char *end;

	switch (o->type) {
	case OPT_FLAG:
	case OPT_BOOL: {
		int b;
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
			b = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
			b = 0;
		else
			return -1;
		if (o->ptr)
			*(int *)o->ptr = b;
		return 0;
	}
	case OPT_INT: {
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (end == v || *end || errno)
			return -1;
		*(long long *)o->ptr = x;
		return 0;
	}
	case OPT_DOUBLE: {
		errno = 0;
		double x = strtod(v, &end);
		if (end == v || *end || errno)
			return -1;
		*(double *)o->ptr = x;
		return 0;
	}
	case OPT_DURATION: {
		int64_t ns;
		if (ts_duration(v, &ns) < 0)
			return -1;
		*(double *)o->ptr = (double)ns / 1e9;
		return 0;
	}
	case OPT_STRING:
		*(const char **)o->ptr = v;
		return 0;
	case OPT_JSON: {
		/* Read as a YAML value, so "{m: {a: 1}}" is a mapping.  The
		 * object is kept in the config, so it lives as long as the
		 * program and is borrowed like a value from the file. */
		struct buf b = BUF_INIT(0);
		char err[256];
		json_object *w, *j = NULL;
		buf_adds(&b, "v: ");
		buf_adds(&b, v);
		w = cfg_parse("command line", b.p, b.len, err, sizeof err);
		buf_free(&b);
		if (w == NULL)
			return -1;
		json_object_object_get_ex(w, "v", &j);
		json_object_object_add(cli_values, o->name, json_object_get(j));
		json_object_put(w);
		*(json_object **)o->ptr = j;
		return 0;
	}
	}
	return -1;
}

/* Stores a value from the config.  Returns 0 or -1. */
static int
set_json(const struct opt *o, json_object *v)
{
	enum json_type t = json_object_get_type(v);

	switch (o->type) {
	case OPT_FLAG:
	case OPT_BOOL:
		if (t != json_type_boolean)
			return -1;
		if (o->ptr)
			*(int *)o->ptr = json_object_get_boolean(v);
		return 0;
	case OPT_INT:
		if (t != json_type_int)
			return -1;
		*(long long *)o->ptr = json_object_get_int64(v);
		return 0;
	case OPT_DOUBLE:
	case OPT_DURATION:
		if (t == json_type_int || t == json_type_double) {
			*(double *)o->ptr = json_object_get_double(v);
			return 0;
		}
		if (t == json_type_string && o->type == OPT_DURATION)
			return set_text(o, json_object_get_string(v));
		return -1;
	case OPT_STRING:
		if (t == json_type_null)
			*(const char **)o->ptr = NULL;
		else if (t == json_type_object || t == json_type_array)
			return -1;
		else
			*(const char **)o->ptr = json_object_get_string(v);
		return 0;
	case OPT_JSON:
		*(json_object **)o->ptr = v;
		return 0;
	}
	return -1;
}

static json_object *
opt_value(const struct opt *o)
{
	switch (o->type) {
	case OPT_FLAG:
	case OPT_BOOL:
		return json_object_new_boolean(o->ptr ? *(int *)o->ptr : 0);
	case OPT_INT:
		return json_object_new_int64(*(long long *)o->ptr);
	case OPT_DOUBLE:
	case OPT_DURATION:
		return js_new_double(*(double *)o->ptr);
	case OPT_STRING:
		return *(const char **)o->ptr ? json_object_new_string(*(const char **)o->ptr) : NULL;
	case OPT_JSON:
		return json_object_get(*(json_object **)o->ptr);
	}
	return NULL;
}

/* Whether key is one of the section keys the stage reads itself. */
static int
stage_reads(const struct stage *st, const char *key)
{
	for (const char *const *k = st->keys; k && *k; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

/* Where the config came from, for messages: the driver runs the stages on
 * its effective copy and names the user's file in AIOPS_CONFIG_SOURCE. */
static const char *
config_source(const struct stage *st)
{
	const char *s = getenv("AIOPS_CONFIG_SOURCE");

	if (s != NULL && *s)
		return s;
	return st->config_path ? st->config_path : "config";
}

static json_object *unknown_keys;  /* dotted paths, collected by apply_config */

static void
add_unknown(void *ctx, const char *dotted)
{
	(void)ctx;
	if (unknown_keys == NULL)
		unknown_keys = json_object_new_array();
	json_object_array_add(unknown_keys, json_object_new_string(dotted));
}

/*
 * Says each unknown key: "PROG: FILE:LINE: a.b: unknown key, ignored" (no
 * line: the key came from --set); under --preflight the keys outside the
 * stage's section too (lib/cfgkeys).  Under --strict they are errors: exit
 * 2 once all are listed.  A driver that checked the keys already sets
 * AIOPS_KEYS_CHECKED, and the stages it runs stay quiet about them.
 */
static void
report_unknown(struct stage *st)
{
	json_object *lines, *v;
	const char *src = config_source(st);
	size_t n;

	if (opt_preflight)
		cfgkeys_unknown(st->config, add_unknown, NULL);
	n = unknown_keys ? json_object_array_length(unknown_keys) : 0;
	if (n == 0 || (getenv("AIOPS_KEYS_CHECKED") != NULL && !opt_preflight))
		return;
	lines = st->config_path || getenv("AIOPS_CONFIG_SOURCE") ? cfg_key_lines(src) :
		json_object_new_object();
	for (size_t i = 0; i < n; i++) {
		const char *k = json_object_get_string(json_object_array_get_idx(unknown_keys, i));
		if (json_object_object_get_ex(lines, k, &v))
			warnf("%s:%d: %s: unknown key%s", src, json_object_get_int(v), k,
			      st->strict ? "" : ", ignored");
		else
			warnf("%s: %s: unknown key%s", src, k, st->strict ? "" : ", ignored");
	}
	json_object_put(lines);
	if (st->strict)
		exit(EXIT_USAGE);
}

static void
apply_config(struct stage *st)
{
	const struct opt *o;
	json_object *v;

	if (st->sec == NULL)
		return;
	for (o = st->opts; o && o->name; o++) {
		if (o->flags & OPT_NOCONFIG)
			continue;
		if (!json_object_object_get_ex(st->sec, o->name, &v))
			continue;
		if (set_json(o, v) < 0)
			efatal(EXIT_USAGE, "%s: %s.%s: expected %s, got '%s'",
			       st->config_path ? st->config_path : "config", st->section, o->name,
			       o->type == OPT_INT ? "an integer" :
			       o->type == OPT_STRING ? "a string" :
			       o->type == OPT_FLAG || o->type == OPT_BOOL ? "true or false" : "a number",
			       json_object_to_json_string_ext(v, JS_FLAGS));
	}
	if (json_object_object_get_ex(st->sec, "strict", &v) && json_object_is_type(v, json_type_boolean))
		st->strict = json_object_get_boolean(v);
	/* A misspelt key would silently change nothing: say so.  The driver's
	 * keys (command, enabled) and a provider override are not options,
	 * nor are the keys the stage reads itself (st->keys). */
	json_object_object_foreach(st->sec, key, val) {
		(void)val;
		if (find_opt(st->opts, key, strlen(key)) == NULL && !stage_reads(st, key) &&
		    strcmp(key, "command") != 0 &&
		    strcmp(key, "enabled") != 0 && strcmp(key, "provider") != 0 &&
		    strcmp(key, "strict") != 0 && strcmp(key, "max_line") != 0) {
			struct buf b = BUF_INIT(0);
			buf_printf(&b, "%s.%s", st->section, key);
			add_unknown(NULL, b.p);
			buf_free(&b);
		}
	}
}

/* One pass over argv.  Pass 0 only reads --config and --set; pass 1 reads
 * everything else and collects the positional arguments. */
static void
parse_args(struct stage *st, int argc, char **argv, int pass)
{
	int i, npos = 0;
	char err[512];

	if (pass == 1)
		st->files = ecalloc((size_t)argc + 1, sizeof *st->files);
	for (i = 1; i < argc; i++) {
		char *a = argv[i];
		const char *val = NULL, *nm;
		const struct opt *o = NULL;
		size_t n;
		int neg = 0, common;

		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				if (pass == 1)
					st->files[npos++] = argv[i];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (pass == 1)
				st->files[npos++] = a;
			continue;
		}
		if (a[1] == '-') {
			nm = a + 2;
			val = strchr(nm, '=');
			n = val ? (size_t)(val - nm) : strlen(nm);
			if (val)
				val++;
			o = find_opt(st->opts, nm, n);
			common = o == NULL;
			if (o == NULL)
				o = find_opt(common_opts, nm, n);
			if (o == NULL && n > 3 && strncmp(nm, "no-", 3) == 0) {
				o = find_opt(st->opts, nm + 3, n - 3);
				if (o && o->type != OPT_BOOL)
					o = NULL;
				neg = o != NULL;
				common = 0;
			}
		} else {
			if (a[2] != '\0') {
				if (pass == 1)
					stage_usage_error(st, "unknown option '%s'", a);
				continue;
			}
			o = find_short(st->opts, a[1]);
			common = o == NULL;
			if (o == NULL)
				o = find_short(common_opts, a[1]);
		}
		if (o == NULL) {
			if (pass == 1)
				stage_usage_error(st, "unknown option '%s'", a);
			continue;
		}
		if (o->type != OPT_FLAG && o->type != OPT_BOOL && val == NULL && !neg) {
			if (i + 1 >= argc) {
				if (pass == 1)
					stage_usage_error(st, "option '%s' needs a value", a);
				continue;
			}
			val = argv[++i];
		}
		if (common && strcmp(o->name, "set") == 0) {
			if (pass == 0 && cfg_set(st->config, val, err, sizeof err) < 0)
				efatal(EXIT_USAGE, "%s", err);
			continue;
		}
		if (common && strcmp(o->name, "config") == 0) {
			if (pass == 0)
				opt_config = val;
			continue;
		}
		if (pass == 0)
			continue;
		if (common && strcmp(o->name, "strict") == 0) {
			st->strict = val ? strcmp(val, "false") != 0 : 1;
			continue;
		}
		if (neg) {
			*(int *)o->ptr = 0;
		} else if (val == NULL) {
			if (o->ptr)
				*(int *)o->ptr = 1;
		} else if (set_text(o, val) < 0) {
			stage_usage_error(st, "option '--%.*s': bad value '%s'", (int)strcspn(a + 2, "="),
					  a + 2, val);
		}
	}
	if (pass == 1) {
		st->nfiles = npos;
		if (npos > 0 && st->positional_ok < 0)
			stage_usage_error(st, "unexpected argument '%s'", st->files[0]);
	}
}

void
stage_init(struct stage *st, int argc, char **argv)
{
	char err[1024];
	const struct opt *o;
	json_object *rec;

	err_setprog(argc > 0 ? argv[0] : NULL);
	redact_init();
	st->t0_mono = ts_mono();
	opt_max_line = (long long)REC_MAX_LINE_DEFAULT;
	st->config = json_object_new_object();
	cli_values = json_object_new_object();
	/* Pass 0: --config first, so --set applies on top of the file whatever
	 * the order on the command line. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
			opt_config = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			opt_config = argv[i] + 9;
	}
	if (opt_config) {
		json_object *c = cfg_load(opt_config, err, sizeof err);
		if (c == NULL)
			efatal(EXIT_USAGE, "%s", err);
		/* The file's relative paths are relative to the file; the
		 * --set values, applied next, to the working directory. */
		char *dir = cfg_dirname(opt_config);
		if (cfg_resolve_paths(c, dir, err, sizeof err) < 0)
			efatal(EXIT_USAGE, "%s", err);
		free(dir);
		json_object_put(st->config);
		st->config = c;
		st->config_path = opt_config;
	}
	parse_args(st, argc, argv, 0);
	if (st->section)
		st->sec = cfg_section(st->config, st->section);
	apply_config(st);
	parse_args(st, argc, argv, 1);
	if (opt_help) {
		usage(st, stdout);
		exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL);
	}
	if (opt_print_config) {
		/* Every path absolute, so that the printed config means the
		 * same from any directory (the driver runs the stages on it). */
		if (cfg_resolve_paths(st->config, ".", err, sizeof err) < 0)
			efatal(EXIT_USAGE, "%s", err);
		redact_tree(st->config);
		puts(json_object_to_json_string_ext(st->config, JS_FLAGS));
		exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL);
	}
	if (opt_version) {
		printf("%s %s\n", err_prog, AIOPS_VERSION);
		exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL);
	}
	report_unknown(st);
	if (opt_max_line < 16)
		stage_usage_error(st, "--max-line must be at least 16");
	st->max_line = (size_t)opt_max_line;
	for (o = st->opts; o && o->name; o++)
		if ((o->flags & OPT_REQUIRED) && o->type == OPT_STRING && *(const char **)o->ptr == NULL)
			stage_usage_error(st, "option '--%s' is required", o->name);
	out_init();
	out_set_unbuffered(opt_unbuffered);
	st->tok = json_tokener_new_ex(SCAN_MAX_DEPTH);
	if (st->tok == NULL)
		efatal(EXIT_FAIL, "out of memory");

	params = json_object_new_object();
	for (o = st->opts; o && o->name; o++)
		if (!(o->flags & OPT_NOPARAM))
			json_object_object_add(params, o->name, opt_value(o));
	if (st->on_start && st->on_start(st) != 0)
		exit(EXIT_FAIL);
	if (opt_preflight) {
		int bad = st->preflight ? st->preflight(st) : 0;
		exit(bad ? EXIT_FAIL : EXIT_OK);
	}
	rec = stage_record("stage");
	js_add_str(rec, "stage", st->name);
	js_add_str(rec, "version", AIOPS_VERSION);
	json_object_object_add(rec, "params", json_object_get(params));
	out_json(rec);
	json_object_put(rec);
}

void
stage_emit(struct stage *st, json_object *o)
{
	out_json(o);
	st->records_out++;
}

void
stage_forward(struct stage *st, const struct rec *r)
{
	size_t n;
	char *red = redact_str(r->raw, r->len, &n);

	/* byte for byte, unless a secret has to go */
	if (red) {
		out_line(red, n);
		free(red);
	} else {
		out_line(r->raw, r->len);
	}
	st->records_out++;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
add_b64(json_object *o, const char *key, const unsigned char *p, size_t n)
{
	struct buf b = BUF_INIT(0);
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		char q[4] = {b64[v >> 18], b64[v >> 12 & 63], b64[v >> 6 & 63], b64[v & 63]};
		buf_add(&b, q, 4);
	}
	if (i < n) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
		char q[4] = {b64[v >> 18], b64[v >> 12 & 63], i + 1 < n ? b64[v >> 6 & 63] : '=', '='};
		buf_add(&b, q, 4);
	}
	js_add_strn(o, key, b.p ? b.p : "", b.len);
	buf_free(&b);
}

void
stage_reject(struct stage *st, const char *source, unsigned long line, const char *raw,
	     size_t len, size_t full_len, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	json_object *o;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	warn_at(source, line, "%s", reason);
	o = stage_record("reject");
	js_add_str(o, "stage", st->name);
	js_add_str(o, "source", source);
	js_add_int(o, "line", (int64_t)line);
	js_add_str(o, "reason", reason);
	if (js_utf8_valid(raw, len))
		js_add_strn(o, "raw", raw, len);
	else
		add_b64(o, "raw_b64", (const unsigned char *)raw, len);
	if (full_len > len) {
		js_add_bool(o, "raw_truncated", 1);
		js_add_int(o, "raw_bytes", (int64_t)full_len);
	}
	out_json(o);
	json_object_put(o);
	st->rejects++;
	if (st->strict) {
		out_flush();
		warnf("stopping at the first bad line (--strict)");
		exit(EXIT_FAIL);
	}
}

static int
is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

static const struct handler *
find_handler(const struct handler *h, const char *kind, size_t n)
{
	for (; h && h->kind; h++)
		if (strlen(h->kind) == n && memcmp(h->kind, kind, n) == 0)
			return h;
	return NULL;
}

/*
 * For a stage with flat handlers: validates the line with flat_parse()
 * instead of scan_json() (same grammar, same wording of what is wrong) and
 * fills *sr from it.  Returns 1 when fr describes the line (an object
 * whose keys are unescaped and unique), 0 when scan_json() must look
 * (not an object, too many members, or a key that is escaped or
 * repeated, where the kind json-c sees is scan_json's to find), and -1
 * with *why for a line that is not JSON.
 */
static int
flat_scan(const char *p, size_t n, struct flat *fr, struct scan_result *sr, const char **why)
{
	const struct flat_mem *k;
	int rc = flat_parse(p, n, 0, fr, why);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (fr->dup || fr->kesc)
		return 0;
	memset(sr, 0, sizeof *sr);
	sr->is_object = 1;
	k = flat_get(fr, "kind", 4);
	if (k && k->type == FLAT_STR) {
		sr->kind = k->val;
		sr->kind_len = k->vlen;
		sr->kind_escaped = k->vesc;
	}
	return 1;
}

/*
 * Handles one line of input.  Every line is validated with scan_json()
 * (or, for a stage with flat handlers, flat_parse()), which also finds the
 * top-level kind; only records the stage owns are parsed with json-c, the
 * others are forwarded as they came.  Returns 0 or an exit status.
 */
static int
one_line(struct stage *st, struct rec_reader *rd, const char *p, size_t n, int kind)
{
	static struct flat fr;
	const struct handler *h;
	struct scan_result sr;
	struct rec r;
	const char *why;
	size_t plen = n;
	json_object *obj, *k;
	int rc = 0, fl = 0;

	if (kind == REC_LONG) {
		st->records_in++;
		stage_reject(st, rd->name, rd->line, p, n, rd->long_len,
			     "line too long (%zu bytes, limit %zu)", rd->long_len, st->max_line);
		return 0;
	}
	if (is_blank(p, n))
		return 0;
	st->records_in++;
	if (plen > 0 && p[plen - 1] == '\r')
		plen--;
	if (st->flat_handlers != NULL && plen <= UINT_MAX)   /* flat's lengths are unsigned */
		fl = flat_scan(p, plen, &fr, &sr, &why);
	if (fl < 0 || (fl == 0 && scan_json(p, plen, &sr, &why) < 0)) {
		stage_reject(st, rd->name, rd->line, p, n, n, "invalid JSON: %s", why);
		return 0;
	}
	if (!sr.is_object) {
		stage_reject(st, rd->name, rd->line, p, n, n, "not a JSON object");
		return 0;
	}
	if (sr.kind == NULL) {
		stage_reject(st, rd->name, rd->line, p, n, n, "missing string \"kind\"");
		return 0;
	}
	h = sr.kind_escaped ? NULL : find_handler(st->handlers, sr.kind, sr.kind_len);
	r.raw = p;
	r.len = n;
	r.obj = NULL;
	r.fl = NULL;
	r.source = rd->name;
	r.line = rd->line;
	if (h == NULL && !sr.kind_escaped) {
		if (st->on_foreign == NULL) {
			stage_forward(st, &r);
			return 0;
		}
		kindbuf.len = 0;
		buf_add(&kindbuf, sr.kind, sr.kind_len);
		r.kind = kindbuf.p;
		return st->on_foreign(st, &r);
	}
	if (fl && h != NULL) {
		const struct handler *fh = find_handler(st->flat_handlers, sr.kind, sr.kind_len);
		if (fh != NULL) {
			int frc;
			r.fl = &fr;
			r.kind = h->kind;
			if ((frc = fh->fn(st, &r)) != STAGE_JSONC)
				return frc;
			r.fl = NULL;
		}
	}
	obj = js_parse(st->tok, p, plen, &why);
	if (obj == NULL || !json_object_object_get_ex(obj, "kind", &k) ||
	    !json_object_is_type(k, json_type_string)) {
		json_object_put(obj);
		stage_reject(st, rd->name, rd->line, p, n, n, "invalid JSON: %s",
			     why ? why : "unreadable record");
		return 0;
	}
	r.obj = obj;
	r.kind = json_object_get_string(k);
	if (h == NULL)
		h = find_handler(st->handlers, r.kind, strlen(r.kind));
	if (h != NULL)
		rc = h->fn(st, &r);
	else if (st->on_foreign != NULL)
		rc = st->on_foreign(st, &r);
	else
		stage_forward(st, &r);
	json_object_put(obj);
	return rc;
}

int
stage_run(struct stage *st)
{
	int i, nin = st->nfiles > 0 ? st->nfiles : 1;

	for (i = 0; i < nin; i++) {
		struct rec_reader rd;
		const char *path = st->nfiles > 0 ? st->files[i] : NULL;
		const char *p;
		size_t n;
		int k, rc;

		if (rec_open(&rd, path, st->max_line) < 0) {
			warnf("%s: %s", path, strerror(errno));
			return EXIT_FAIL;
		}
		while ((k = rec_getline(&rd, &p, &n)) > 0)
			if ((rc = one_line(st, &rd, p, n, k)) != 0) {
				rec_close(&rd);
				return rc;
			}
		if (k == REC_ERROR) {
			warnf("%s: read error: %s", rd.name, strerror(errno));
			rec_close(&rd);
			return EXIT_FAIL;
		}
		rec_close(&rd);
	}
	return 0;
}

int
stage_finish(struct stage *st)
{
	json_object *o;
	struct rusage ru;
	double cpu_ms = 0;

	if (st->on_end && st->on_end(st) != 0)
		return EXIT_FAIL;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
			 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	o = stage_record("stage_end");
	js_add_str(o, "stage", st->name);
	js_add_int(o, "records_in", (int64_t)st->records_in);
	js_add_int(o, "records_out", (int64_t)st->records_out);
	js_add_int(o, "rejects", (int64_t)st->rejects);
	js_add_int(o, "wall_ms", (ts_mono() - st->t0_mono) / TS_NS_PER_MS);
	js_add_int(o, "cpu_ms", (int64_t)cpu_ms);
	if (st->add_end)
		st->add_end(st, o);
	/* secrets replaced by *** in what this stage wrote (this record too) */
	if (redact_count() > 0 || redact_tree(o) > 0)
		js_add_int(o, "redacted", (int64_t)redact_count());
	out_json(o);
	json_object_put(o);
	out_close();
	return EXIT_OK;
}

int
stage_main(struct stage *st, int argc, char **argv)
{
	int rc;

	stage_init(st, argc, argv);
	if (!st->no_loop && (rc = stage_run(st)) != 0) {
		out_flush();
		return rc;
	}
	return stage_finish(st);
}

int
stage_preflighting(void)
{
	return opt_preflight;
}

char *
stage_datafile(const char *name)
{
	static const char *const under[] = {"../share/aiops", "../examples"};
	char exe[PATH_MAX], *slash, *found;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return NULL;
	*slash = '\0';
	for (size_t i = 0; i < sizeof under / sizeof under[0]; i++) {
		struct buf b = BUF_INIT(0);
		buf_adds(&b, exe);
		buf_adds(&b, "/");
		buf_adds(&b, under[i]);
		buf_adds(&b, "/");
		buf_adds(&b, name);
		found = realpath(b.p, NULL);
		buf_free(&b);
		if (found != NULL)
			return found;
	}
	return NULL;
}
