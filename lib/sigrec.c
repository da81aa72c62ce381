/* sigrec: a signal record's fields from json-c or lib/flat (see sigrec.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "js.h"
#include "sigrec.h"
#include "ts.h"

const char *const sig_kind_name[SIG_NKINDS] = {"log", "metric", "span"};

/* ---- json-c ---- */

static int
get_ts(json_object *o, int64_t *ns)
{
	json_object *v;
	const char *why;

	if (!json_object_object_get_ex(o, "ts", &v) || !json_object_is_type(v, json_type_string))
		return -1;
	return ts_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v), ns, &why);
}

const char *
sig_json(json_object *o, int k, struct sig *g)
{
	json_object *v;

	memset(g, 0, sizeof *g);
	g->svc = js_str(o, "service");
	if (k != SIG_LOG)
		g->name = js_str(o, "name");
	if (k != SIG_METRIC)
		g->tid = js_str(o, "trace_id");
	if (k == SIG_SPAN) {
		g->sid = js_str(o, "span_id");
		g->pid = js_str(o, "parent_id");
		g->status = js_str(o, "status");
	}
	if (get_ts(o, &g->ts) < 0)
		return "missing or bad \"ts\"";
	if (g->svc == NULL)
		return "missing \"service\"";
	switch (k) {
	case SIG_LOG:
		if (!json_object_object_get_ex(o, "msg", &v) || !json_object_is_type(v, json_type_string))
			return "missing \"msg\"";
		g->msg = json_object_get_string(v);
		g->msglen = (size_t)json_object_get_string_len(v);
		g->level = js_str(o, "level");
		break;
	case SIG_METRIC:
		if (g->name == NULL)
			return "missing \"name\"";
		if (!json_object_object_get_ex(o, "value", &v))
			return "missing \"value\"";
		if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
			g->x = json_object_get_double(v);
		else
			g->x = NAN;   /* null, NaN or anything else is a missing point */
		if (json_object_object_get_ex(o, "labels", &v) && v)
			g->labels = json_object_to_json_string_length(v, JS_FLAGS, &g->labelslen);
		break;
	default:
		if (js_num(o, "duration_ms", &g->x) < 0)
			g->x = NAN;
	}
	return NULL;
}

/* ---- lib/flat ---- */

/*
 * Decoding never lengthens a string, so the line's length and a
 * terminator per member always fit the buffer: pointers into it stay
 * valid for the record.
 */
static void
buf_start(struct sigbuf *b, size_t linelen)
{
	size_t need = linelen + FLAT_MAX + 1;

	if (need > b->cap) {
		b->cap = need > 2 * b->cap ? need : 2 * b->cap;
		free(b->p);
		b->p = emalloc(b->cap);
	}
	b->len = 0;
}

/* A string member as js_str gives it: NULL when absent or not a string.
 * Sets *bad when the string holds an escape json-c would decode its own
 * way (flat_str's -1). */
static const char *
fstr(struct sigbuf *b, const struct flat *f, const char *key, size_t klen, size_t *len, int *bad)
{
	const struct flat_mem *m = flat_get(f, key, klen);
	char *out = b->p + b->len;
	const char *s;
	long n;

	if (m == NULL || m->type != FLAT_STR)
		return NULL;
	if ((n = flat_str(m, out, b->cap - b->len - 1, &s)) < 0) {
		*bad = 1;
		return NULL;
	}
	if (s != out)
		memcpy(out, s, (size_t)n);
	out[n] = '\0';
	b->len += (size_t)n + 1;
	if (len)
		*len = (size_t)n;
	return out;
}

#define FSTR(key, len) fstr(b, f, key, sizeof key - 1, (len), &bad)

/* A number member as json-c reads it: 0 (NAN when absent or not a
 * number), or -1 when flat_double leaves it to json-c. */
static int
fnum(const struct flat_mem *m, double *x)
{
	if (m == NULL || m->type != FLAT_NUM) {
		*x = NAN;
		return 0;
	}
	return flat_double(m, x) ? 0 : -1;
}

int
sig_flat(struct sigbuf *b, const struct flat *f, size_t linelen, int k, struct sig *g)
{
	const struct flat_mem *l;
	const char *s, *why;
	size_t n;
	int bad = 0;

	memset(g, 0, sizeof *g);
	buf_start(b, linelen);
	g->svc = FSTR("service", NULL);
	if ((s = FSTR("ts", &n)) == NULL || ts_parse(s, n, &g->ts, &why) < 0 || g->svc == NULL)
		return -1;
	switch (k) {
	case SIG_LOG:
		g->tid = FSTR("trace_id", NULL);
		g->msg = FSTR("msg", &g->msglen);
		g->level = FSTR("level", NULL);
		if (g->msg == NULL)
			return -1;
		break;
	case SIG_METRIC:
		g->name = FSTR("name", NULL);
		if (g->name == NULL || (l = flat_get(f, "value", 5)) == NULL || fnum(l, &g->x) < 0)
			return -1;
		/* the labels as json-c writes them: the line's bytes when it
		 * would write them back unchanged */
		if ((l = flat_get(f, "labels", 6)) != NULL && l->type != FLAT_NULL) {
			if (l->type != FLAT_OBJ || !flat_plain(l))
				return -1;
			g->labels = l->val;
			g->labelslen = l->vlen;
		}
		break;
	default:
		g->name = FSTR("name", NULL);
		g->sid = FSTR("span_id", NULL);
		g->pid = FSTR("parent_id", NULL);
		g->tid = FSTR("trace_id", NULL);
		g->status = FSTR("status", NULL);
		if (fnum(flat_get(f, "duration_ms", 11), &g->x) < 0)
			return -1;
	}
	return bad ? -1 : 0;
}

void
sigbuf_free(struct sigbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = b->len = 0;
}
