/*
 * rd_doc: the JSON documents of the document readers (zipkin, jaeger,
 * prometheus).  A file holds one or more top-level JSON values: one
 * document, pretty-printed or not, or one a line.  Each value is one
 * record at the line where it starts (s->line); the reader counts and
 * yields its elements (spans, points) as "role:LINE.K".
 *
 * A value that is not strict JSON or not UTF-8 is one counted reject (its
 * text from where it starts to the next line that starts with '{' or '[',
 * where reading resumes; a value cut by the end of the file is rejected
 * whole).
 */
#ifndef AIOPS_RD_DOC_H
#define AIOPS_RD_DOC_H

#include "rd.h"

struct rd_doc {
	struct buf text;        /* the whole input, lines at their own numbers */
	size_t pos;
	unsigned long line;     /* the line at pos */
	int loaded;
	void *aux;              /* the reader's options (freed with the doc) */
};

/* A reader's open and close: s->priv is a struct rd_doc. */
int rd_doc_open(struct rd_src *s);
void rd_doc_close(struct rd_src *s);

/* The next top-level value: 1 with *o (the caller puts it; NULL after a
 * reject) and *raw, *rawn its text; 0 at the end; -1 with s->why on a read
 * error. */
int rd_doc_next(struct rd_src *s, struct rd_doc *d, json_object **o, const char **raw,
		size_t *rawn);

/* The member k of o as epoch microseconds (a whole number >= 0, Zipkin's
 * and Jaeger's unit) in ns: 0, or -1 with *why. */
int rd_doc_micros(json_object *o, const char *k, int64_t *ns, const char **why);

/* The probe's view: the first non-blank byte of the sample, and whether
 * the sample holds every one of the NULL-terminated quoted keys. */
int rd_doc_first(const struct rd_probe *p);
int rd_doc_has(const struct rd_probe *p, const char *const *keys);

#endif
