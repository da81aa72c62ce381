/*
 * rd: the input formats of aiops-load, one reader module per format
 * (lib/rd_<format>.c) behind this interface, listed in rd_formats[]
 * (lib/rd_formats.c).  aiops-load owns the files, the sorting, the ids and
 * the run record; a reader turns the input of one file into signal bodies
 * and rejects.
 *
 * Contract of a reader:
 *   - probe(p) scores how well the first lines of a file fit the format,
 *     0..RD_SCORE_MAX, from the content and the file name together; the best
 *     score wins (rd_choose), a configured `format:` skips probing;
 *   - open(s) checks the file's options (s->cfg) and sets up private state
 *     in s->priv; it returns 0, or -1 with s->why set (a config error: the
 *     program exits 2).  It is called once per pass over the file (aiops-load
 *     reads a file twice: a quiet scan for time order, then the real pass)
 *     and once at start to check the options;
 *   - next(s) consumes one input record (a line, or one element of a
 *     document) and queues what it yields with rd_pend() (the body written
 *     to s->body first) or reports it with rd_reject().  Every record read
 *     is counted (rd_line does it for lines; a document reader calls
 *     rd_count_in per element), and ends as signals or a reject: nothing
 *     is dropped silently.  It returns 1 when it consumed a record, 0 at
 *     the end of the input, -1 with s->why set on a fatal data error (a
 *     CSV header without a timestamp column: exit 1);
 *   - close(s) frees s->priv.
 * Readers never print or exit (except out of memory): messages go through
 * rd_reject, fatal errors through s->why.  While s->quiet is set (the scan
 * for time order) only the timestamps matter: a reader may queue a pend
 * with an empty body and must not count or reject (rd_* do it for it).
 *
 * A body is the record without its first two members: it starts after
 * `{"kind":K,"id":"...",` with `"ts":...` and ends with the closing brace.
 */
#ifndef AIOPS_RD_H
#define AIOPS_RD_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "buf.h"
#include "rec.h"
#include "stage.h"
#include "ts.h"

/* The roles of the dataset files, and the kinds of signal they yield. */
enum rd_role { RD_LOGS, RD_METRICS, RD_TRACES, RD_INCIDENTS, RD_NROLE };
extern const char *const rd_role_name[RD_NROLE];
enum rd_kind { RD_LOG, RD_METRIC, RD_SPAN };

/* The canonical fields an input key or column can map to. */
enum rd_fld { F_TS, F_SERVICE, F_LEVEL, F_MSG, F_TRACE, F_SPAN, F_PARENT, F_NAME,
	      F_VALUE, F_UNIT, F_ATTRS, F_DUR, F_END, F_STATUS, F_KIND, F_ID, NFLD };
/* Which fields each signal role reads (others become attrs or labels). */
extern const unsigned rd_role_flds[3];

/* A key -> field map (open addressing): the alias table of the man page,
 * with the configured `columns` first. */
#define AMAP_SIZE 256
struct amap_ent {
	const char *key;
	size_t klen;
	short fld, prio;
	int64_t mult;          /* a duration's unit in ns */
};
struct amap {
	struct amap_ent e[AMAP_SIZE];
	const char *dotted[NFLD][4];   /* nested-path aliases, tried when a field is missing */
	int64_t dotted_mult[NFLD][4];
};
/* Fills m from the config object `columns` (may be NULL) and the built-in
 * aliases.  Returns 0, or -1 with why naming the bad entry. */
int rd_amap_build(struct amap *m, json_object *columns, char *why, size_t whyn);
const struct amap_ent *amap_get(const struct amap *m, const char *key, size_t n);
/* The same, else the entry whose key equals key without case (the first
 * in priority order): for header names. */
const struct amap_ent *amap_get_icase(const struct amap *m, const char *key, size_t n);

/* A signal produced from an input record, before its id is known. */
struct rd_pend {
	int64_t ts;
	unsigned k;             /* element number in the record, from 1 */
	int kind;               /* enum rd_kind */
	size_t off, len;        /* the body in s->body */
};

/* One input file being read. */
struct rd_src {
	/* set by aiops-load */
	struct stage *st;
	const char *path;
	enum rd_role role;
	json_object *cfg;       /* the file's config object (dataset.<role>), or NULL */
	enum ts_unit unit;      /* of numeric timestamps */
	struct amap amap;
	struct rec_reader rd;   /* open while the file is read */
	int quiet;              /* the scan for time order: no rejects, no counts
				 * (RD_QUIET_FAST or RD_QUIET_EXACT) */
	const char *hint;       /* what the file looks like, when no format matched */
	const char *elem;       /* set by a reader while it reads an element of a
				 * document ("[3]"): rejects say "element [3]: ..." */
	/* set by the reader */
	void *priv;
	unsigned long unknown_service;  /* signals given the service unknown_service
					   (OTLP without service.name); not while quiet */
	char why[300];
	unsigned long line;     /* the record's line (or element number), for ids */
	unsigned nelem;         /* signals the record may yield (ids get .K when > 1) */
	struct buf body;        /* the bodies of the queued signals */
	struct rd_pend *pend;
	size_t npend, ipend, pcap;
};

/* The scan for time order.  RD_QUIET_FAST lets a reader skip checks that
 * only drop lines (UTF-8): it yields the times of a superset of the lines,
 * so "sorted" stays true, but an inversion may come from a line the real
 * pass rejects; aiops-load then scans again with RD_QUIET_EXACT, which
 * yields exactly the lines the real pass keeps (and their times). */
#define RD_QUIET_FAST 1
#define RD_QUIET_EXACT 2

/* The probe's view of a file: its name and its first bytes. */
#define RD_PROBE_BYTES 65536
struct rd_probe {
	const char *name;       /* the file name, for the extension */
	enum rd_role role;
	const char *buf;        /* the first bytes (decompressed), NUL-terminated */
	size_t len;
	int eof;                /* buf holds the whole file */
};
#define RD_PROBE_LINES 32       /* lines a probe samples */
/* The next non-blank line of the sample (at most the whole buffer; a last
 * line cut by the end of the sample is left out): *cur starts NULL.
 * Returns the line with *n its length (no '\n' or '\r'), or NULL. */
const char *rd_probe_next(const struct rd_probe *p, const char **cur, size_t *n);
/* A line as JSON: 0 not a JSON object, 1 an object, 2 an object with a
 * top-level resourceLogs, resourceMetrics or resourceSpans (OTLP). */
int rd_probe_json(const char *s, size_t n);
/* Does the line start with something like a time ("2024-05-01", "Jun 14 ",
 * "10:00:00", "[2024-...", a syslog "<13>")? */
int rd_timeish(const char *s, size_t n);
#define RD_SCORE_MAX 100        /* the structure checked on every sampled line */
#define RD_SCORE_EXT 1          /* an extension only: breaks ties */
#define RD_SCORE_MIN 25         /* below this nothing is chosen */

struct rd_format {
	const char *name;       /* dataset.<role>.format */
	const char *exts;       /* ".jsonl .ndjson" (.gz implied), for the tie-break */
	unsigned roles;         /* 1u << RD_LOGS | ... */
	int (*probe)(const struct rd_probe *p);
	int (*open)(struct rd_src *s);
	int (*next)(struct rd_src *s);
	void (*close)(struct rd_src *s);
};

/* ---- for readers ---- */

/* The next line to parse: skips blank lines, rejects over-long ones and
 * (when check_utf8) lines that are not UTF-8, counts the rest in
 * records_in.  Returns 1 with *p, *n (and s->line) set, 0 at the end, -1 on
 * a read error (s->why set).  raw: no counting and no UTF-8 check (a
 * header line). */
int rd_line(struct rd_src *s, const char **p, size_t *n);
int rd_line_raw(struct rd_src *s, const char **p, size_t *n);
/* Counts one input record of a document (records_in) unless quiet. */
void rd_count_in(struct rd_src *s);
/* A reject of the record at line (unless quiet). */
void rd_reject(struct rd_src *s, unsigned long line, const char *raw, size_t n, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));
/* The same with raw cut to max bytes (the reject says raw_truncated). */
void rd_reject_cut(struct rd_src *s, unsigned long line, const char *raw, size_t n, size_t max,
		   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Queues a signal whose body is s->body[off..len). */
void rd_pend(struct rd_src *s, int64_t ts, unsigned k, int kind, size_t off);
/* Resets the queue (aiops-load calls it before next()). */
void rd_reset(struct rd_src *s);
/* Parses a line as a JSON object with the stage's tokener: NULL after a
 * reject (invalid JSON, not an object). */
json_object *rd_json_object(struct rd_src *s, const char *p, size_t n);
int rd_blank(const char *p, size_t n);
/* The jsonl reader's mapping of one JSON object o (any role) through the
 * alias map: queues its signal as element k of the input record at line,
 * or rejects it with raw[0..n) as the record's text.  The json reader
 * (documents of such objects) shares it. */
void rd_jsonl_rec(struct rd_src *f, json_object *o, unsigned long line, unsigned k,
		  const char *raw, size_t n);

/* ---- values ---- */

/* A timestamp string; epoch strings use the unit u.  -1 with *why. */
int rd_ts_text(const char *s, size_t n, enum ts_unit u, int64_t *ns, const char **why);
int rd_ts_json(json_object *v, enum ts_unit u, int64_t *ns, const char **why);
/* The reason for a reject of a timestamp: why, or for "invalid timestamp"
 * the value (at most 64 bytes) and the accepted forms, written into out. */
const char *rd_ts_reason(char *out, size_t outn, const char *why, const char *val, size_t vn);
/* An integer that json-c clamped to the 64-bit limits (its value is lost). */
int rd_int_saturated(json_object *v);
/* Normalised level (DEBUG INFO WARN ERROR FATAL) or NULL when unknown. */
const char *rd_level_text(const char *s, size_t n);
const char *rd_level_number(int64_t v);
/* Span status (OK ERROR UNSET) or NULL. */
const char *rd_status_text(const char *s, size_t n);
const char *rd_status_number(int64_t v);
const char *rd_status_json(json_object *v);
/* A duration: a bare number in mult ns, or with a unit ("250ms"). */
int rd_dur_text(const char *s, size_t n, int64_t mult, int64_t *ns);
int rd_dur_json(json_object *v, int64_t mult, int64_t *ns);
/* Is s[0..n) a JSON number as written? */
int rd_json_number(const char *s, size_t n);
int rd_ieq(const char *a, size_t n, const char *b);
/* A member at a dotted path where a dot may be part of a key. */
json_object *rd_nested(json_object *o, const char *path);
json_object *rd_get(json_object *o, const char *k);
size_t rd_alen(json_object *a);
int rd_nonempty_str(json_object *v);

/* ---- writers (JSON text into a buffer) ---- */

void w(struct buf *b, const char *s, size_t n);
#define WS(b, lit) w((b), (lit), sizeof(lit) - 1)
void wstr(struct buf *b, const char *s, size_t n);
void wstrz(struct buf *b, const char *s);
/* A JSON value; non-finite numbers are null. */
void wjson(struct buf *b, json_object *v);
void wts(struct buf *b, int64_t ns);
void wdouble(struct buf *b, double v);
/* A span body's fields from "ts" to "status" (no closing brace): parent_id
 * is null when pid is NULL, empty or all zeros; dur in ns. */
void wspan(struct buf *b, int64_t ts, const char *svc, const char *tid, const char *sid,
	   const char *pid, const char *name, int64_t dur, const char *status);
/* A metric body's fields from "ts" to "value": (the value itself is the caller's). */
void wmetric(struct buf *b, int64_t ts, const char *svc, const char *name);
/* Milliseconds from nanoseconds, exactly ("28.522"), for ns >= 0 (every
 * reader rejects a negative duration first). */
void wms(struct buf *b, int64_t ns);
/* A metric value: -1 when not a number (NaN, null, empty: null). */
int wvalue_text(struct buf *b, const char *s, size_t n);
int wvalue_json(struct buf *b, json_object *v);

#endif
