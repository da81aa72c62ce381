/*
 * sigrec: the fields of a signal record (log, metric, span) that
 * aiops-correlate's detectors read, taken either from the record's json-c
 * tree or from lib/flat's view of its line without building the tree.
 * For the same record both give the same struct sig, so a record does the
 * same either way; where the flat view cannot promise that (an escape in a
 * string, a number or labels json-c would read or write its own way, a
 * record that is a reject), sig_flat() declines and the caller takes the
 * json-c path, which says why a record is a reject.
 *
 * The strings of a struct sig are NUL-terminated (the detectors take C
 * strings) and borrowed: from the json-c tree for sig_json(), from the
 * struct sigbuf for sig_flat() (valid until its next call).  Nothing
 * prints; sig_flat() exits like emalloc() on out-of-memory.
 */
#ifndef AIOPS_SIGREC_H
#define AIOPS_SIGREC_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "flat.h"

enum { SIG_LOG, SIG_METRIC, SIG_SPAN, SIG_NKINDS };

/* The record kinds, by SIG_LOG ...: "log", "metric", "span". */
extern const char *const sig_kind_name[SIG_NKINDS];

struct sig {
	int64_t ts;
	const char *svc, *name;         /* name: a metric's or a span's (NULL: none) */
	const char *tid, *sid, *pid;    /* trace, span and parent ids (NULL: none) */
	const char *level, *status;     /* a log's level, a span's status (NULL: none) */
	const char *msg;                /* a log's message, msglen bytes */
	size_t msglen;
	double x;                       /* a metric's value, a span's duration_ms (NAN: none) */
	const char *labels;             /* a metric's labels as JSON text (JS_FLAGS), labelslen
					 * bytes, not NUL-terminated; NULL: none */
	size_t labelslen;
};

/*
 * The fields of record o of kind k (SIG_LOG ...).  Returns NULL, or why
 * the record is a reject, checked in this order: "missing or bad \"ts\""
 * (absent, not a string, or not a time lib/ts reads), "missing
 * \"service\"", then for a log "missing \"msg\"", for a metric "missing
 * \"name\"" and "missing \"value\"".  A value or duration that is not a
 * number is NAN (a missing point).
 */
const char *sig_json(json_object *o, int k, struct sig *g);

/* The decoded strings of the record at hand. */
struct sigbuf {
	char *p;
	size_t cap, len;
};

/*
 * The same fields from f, lib/flat's view of a line of linelen bytes:
 * 0, or -1 when the record must take sig_json()'s path (it is a reject,
 * or holds what json-c reads its own way: escapes flat_str cannot decode
 * alike, numbers flat_double leaves to json-c, labels json-c would not
 * write back byte for byte).
 */
int sig_flat(struct sigbuf *b, const struct flat *f, size_t linelen, int k, struct sig *g);

void sigbuf_free(struct sigbuf *b);

#endif
