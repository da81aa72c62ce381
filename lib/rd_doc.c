/* rd_doc: the JSON documents of the document readers (see rd_doc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "js.h"
#include "rd_doc.h"
#include "scan.h"

#define RAW_MAX 4096    /* bytes of a rejected document kept in the reject */

static int
load(struct rd_src *s, struct rd_doc *d)
{
	const char *p;
	size_t n;
	unsigned long nl = 0;
	int k;

	d->loaded = 1;
	d->line = 1;
	while ((k = rd_line_raw(s, &p, &n)) > 0) {
		for (; nl + 1 < s->line; nl++)
			if (buf_addc(&d->text, '\n') < 0)   /* blank (or over-long) lines keep their numbers */
				goto big;
		if (buf_add(&d->text, p, n) < 0 || buf_addc(&d->text, '\n') < 0)
			goto big;
		nl++;
	}
	return k;
big:
	snprintf(s->why, sizeof s->why, "%s: document larger than 1 GiB", s->path);
	return -1;
}

static unsigned long
lines_in(const char *p, size_t n)
{
	unsigned long k = 0;
	const char *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL)
		k++, p++;
	return k;
}

/* One counted reject of a whole value (its text cut to RAW_MAX bytes). */
#define doc_reject(s, line, raw, n, ...) \
	(rd_count_in(s), rd_reject_cut((s), (line), (raw), (n), RAW_MAX, __VA_ARGS__))

/* After a syntax error in the value that starts at start: the next line
 * that starts a value ('{' or '[' in its first column), or the end. */
static size_t
resume_at(const struct rd_doc *d, size_t start)
{
	const char *t = d->text.p, *nl;
	size_t off = start;

	while (off < d->text.len && (nl = memchr(t + off, '\n', d->text.len - off)) != NULL) {
		off = (size_t)(nl - t) + 1;
		if (off < d->text.len && (t[off] == '{' || t[off] == '['))
			return off;
	}
	return d->text.len;
}

int
rd_doc_next(struct rd_src *s, struct rd_doc *d, json_object **o, const char **raw, size_t *rawn)
{
	const char *t, *why, *hint = "";
	size_t start, end;
	enum json_tokener_error e;
	json_tokener *tok = s->st->tok;
	struct scan_result sr;

	*o = NULL;
	if (!d->loaded && load(s, d) < 0)
		return -1;
	t = d->text.p;
	while (d->pos < d->text.len && (t[d->pos] == ' ' || t[d->pos] == '\t' ||
					      t[d->pos] == '\r' || t[d->pos] == '\n')) {
		if (t[d->pos] == '\n')
			d->line++;
		d->pos++;
	}
	if (d->pos >= d->text.len)
		return 0;
	start = d->pos;
	s->line = d->line;
	json_tokener_reset(tok);
	if (d->text.len - start > (size_t)INT32_MAX - 1) {
		end = d->text.len;
		why = "document too large for the JSON parser";
		e = json_tokener_error_size;
	} else {
		*o = json_tokener_parse_ex(tok, t + start, (int)(d->text.len - start));
		e = json_tokener_get_error(tok);
		end = start + json_tokener_get_parse_end(tok);
		why = json_tokener_error_desc(e);
	}
	if (e == json_tokener_success && scan_json(t + start, end - start, &sr, &why) < 0) {
		/* json-c takes lenient numbers (039.5, 1., 1e): the text must be strict */
		json_object_put(*o);
		*o = NULL;
		e = json_tokener_error_parse_number;
		hint = " (not strict JSON: trailing commas and numbers such as 039.5, 1., 1e or NaN "
			"are not JSON)";
	}
	if (e != json_tokener_success) {
		unsigned long at = s->line + lines_in(t + start, end - start);
		json_object_put(*o);
		*o = NULL;
		if (e == json_tokener_continue)
			doc_reject(s, s->line, t + start, d->text.len - start, "invalid JSON: the "
				   "document ends before its value is closed (a cut file?)");
		else if (*hint)         /* json-c found its end; scan_json does not say where it broke */
			doc_reject(s, s->line, t + start, end - start, "invalid JSON: %s%s", why, hint);
		else
			doc_reject(s, s->line, t + start, resume_at(d, start) - start,
				   "invalid JSON at line %lu: %s", at, why);
		if (e == json_tokener_continue)
			end = d->text.len;
		else if (!*hint)
			end = resume_at(d, start);
	} else if (*o == NULL) {
		doc_reject(s, s->line, t + start, end - start, "null is not a document");
	} else if (!js_utf8_valid(t + start, end - start)) {
		json_object_put(*o);
		*o = NULL;
		doc_reject(s, s->line, t + start, end - start, "invalid UTF-8");
	}
	*raw = t + start;
	*rawn = end - start;
	d->line += lines_in(t + start, end - start);
	d->pos = end;
	return 1;
}

int
rd_doc_open(struct rd_src *s)
{
	s->priv = ecalloc(1, sizeof(struct rd_doc));
	return 0;
}

void
rd_doc_close(struct rd_src *s)
{
	struct rd_doc *d = s->priv;

	if (d) {
		buf_free(&d->text);
		free(d->aux);
		free(d);
	}
	s->priv = NULL;
}

int
rd_doc_first(const struct rd_probe *p)
{
	return (unsigned char)p->buf[strspn(p->buf, " \t\r\n")];
}

int
rd_doc_has(const struct rd_probe *p, const char *const *keys)
{
	for (; *keys; keys++)
		if (strstr(p->buf, *keys) == NULL)
			return 0;
	return 1;
}

int
rd_doc_micros(json_object *o, const char *k, int64_t *ns, const char **why)
{
	json_object *v = rd_get(o, k);

	*why = "missing";
	if (v == NULL)
		return -1;
	*why = "not a whole number of microseconds";
	if (!json_object_is_type(v, json_type_int) || rd_int_saturated(v) ||
	    json_object_get_int64(v) < 0)
		return -1;
	return ts_epoch_int(json_object_get_int64(v), TS_US, ns, why);
}
