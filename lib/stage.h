/*
 * stage: what every aiops filter shares.  A stage declares its options and
 * the record kinds it owns; stage_main() does the rest:
 *
 *   - options: --config FILE, --set K=V (repeatable), --strict, --max-line N,
 *     --unbuffered, --print-config, --preflight, --help, --version, and the stage's own options, each of
 *     which is also read from the stage's config section (key = option name,
 *     '-' and '_' alike) and overridden by the command line;
 *   - the `stage` record first (name, version, effective params);
 *   - the loop over the inputs (FILE... or stdin): a line that is too long,
 *     not JSON, or has no string "kind" becomes a `reject` (stderr message
 *     "PROG: FILE:LINE: reason"; exit 1 at once under --strict); an owned
 *     kind goes to its handler (first to its flat handler, when it has one,
 *     which reads the line without json-c); any other line is forwarded
 *     byte for byte;
 *   - at end of input the on_end hook, then `stage_end` (counts, wall and
 *     CPU time, plus what add_end adds), then a checked close of stdout.
 *
 * Records are counted: records_in (lines read), records_out (lines
 * written, the stage records excluded), rejects.
 */
#ifndef AIOPS_STAGE_H
#define AIOPS_STAGE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "flat.h"
#include "rec.h"

#define AIOPS_VERSION "0.1.0"

enum opt_type {
	OPT_FLAG,     /* int: --name sets 1 (config: boolean) */
	OPT_BOOL,     /* int: --name / --no-name / --name=true|false */
	OPT_INT,      /* long long */
	OPT_DOUBLE,   /* double */
	OPT_STRING,   /* const char * (points into argv or the config) */
	OPT_DURATION, /* double seconds; "90", "90s", "5m", "250ms", "1h" */
	OPT_JSON      /* json_object *: borrowed, valid until exit, never put it; a
	               * command-line value is read as YAML ("{m: {a: 1}}") */
};

enum {
	OPT_NOCONFIG = 1,   /* command line only, not read from the config */
	OPT_NOPARAM = 2,    /* not listed in the stage record's params */
	OPT_REQUIRED = 4    /* a usage error when no value is given */
};

struct opt {
	const char *name;    /* "window_s": --window-s / --window_s / config window_s */
	enum opt_type type;
	void *ptr;
	const char *arg;     /* metavariable for --help ("SECONDS"), NULL for flags */
	const char *help;    /* one line */
	int flags;
	char shortopt;       /* a one-letter alias, or 0 */
};

struct stage;

/* A record handed to a handler.  obj is put after the handler returns: take
 * a reference (json_object_get) to keep any part of it. */
struct rec {
	const char *raw;     /* the input bytes of the line, without '\n' */
	size_t len;
	json_object *obj;    /* the parsed record (NULL for a flat handler) */
	const struct flat *fl;  /* for a flat handler: the line's members, else NULL */
	const char *kind;
	const char *source;  /* "<stdin>" or the file name */
	unsigned long line;
};

struct handler {
	const char *kind;
	/* Returns 0, or an exit status (1) to stop the stage at once. */
	int (*fn)(struct stage *st, struct rec *r);
};

/* A flat handler's answer: "parse it with json-c and call the handler". */
#define STAGE_JSONC (-1)

struct stage {
	/* Filled in by the stage. */
	const char *name;          /* "correlate": the program is "aiops-correlate" */
	const char *section;       /* config section, e.g. "pipeline.correlation" */
	const char *synopsis;      /* usage line(s) after the program name */
	const char *description;   /* one paragraph for --help */
	const struct opt *opts;    /* the stage's own options; name NULL ends */
	const struct handler *handlers; /* owned kinds; kind NULL ends */
	/* Owned kinds that can be read without json-c (a subset of handlers;
	 * kind NULL ends).  The fn gets r->fl, lib/flat's view of the line
	 * (an object whose keys are unescaped and unique, its "kind" a plain
	 * string), with r->obj NULL, and reads what it needs from it.  When
	 * it cannot do exactly what the kind's handler would with the parsed
	 * record (a bad record, an escape or a value it does not take), it
	 * returns STAGE_JSONC having changed nothing, and the handler gets
	 * the record parsed.  The line is validated once either way. */
	const struct handler *flat_handlers;
	int (*on_start)(struct stage *st);   /* after options, before reading */
	int (*on_end)(struct stage *st);     /* at end of input */
	/* --preflight: called after on_start (which checks options and loads
	 * files, exiting 2 on a problem) to check what it does not: servers,
	 * files that must agree.  Says each problem on one stderr line and
	 * returns how many there were (the stage exits 1 when any); writes
	 * nothing on stdout.  Under --preflight the config's keys outside the
	 * section are checked too (lib/cfgkeys), and nothing is read. */
	int (*preflight)(struct stage *st);
	void (*add_end)(struct stage *st, json_object *end); /* stage_end extras */
	/* When set, records of kinds the stage does not own come here instead
	 * of being forwarded (a stage that holds output back behind a pending
	 * model call queues them): r->raw, len, kind, source and line are set,
	 * r->obj is usually NULL (the record was only scanned).  Returns 0 or
	 * an exit status. */
	int (*on_foreign)(struct stage *st, struct rec *r);
	/* Keys of its section that the stage reads itself rather than as
	 * options (aiops-load's dataset.path); NULL ends.  The unknown-key
	 * warning spares them. */
	const char *const *keys;
	int positional_ok;         /* FILE... arguments allowed (default: yes) */
	int no_loop;               /* stage_main() skips the read loop (aiops-load) */

	/* Filled in by stage_main(). */
	json_object *config;       /* the whole config ({} when none) */
	json_object *sec;          /* this stage's section (NULL when absent) */
	const char *config_path;   /* --config FILE or NULL */
	int strict;
	size_t max_line;
	char **files;              /* positional arguments */
	int nfiles;
	unsigned long records_in, records_out, rejects;
	int64_t t0_mono;           /* ts_mono() at start */
	json_tokener *tok;         /* a reused tokener for the stage's own parsing */
};

/*
 * Parses options and config, writes the stage record, reads the inputs and
 * dispatches, then writes stage_end and closes stdout.  Returns the exit
 * status for main() to return.  Usage and config errors exit 2 from here.
 */
int stage_main(struct stage *st, int argc, char **argv);

/* The parts of stage_main(), for stages with their own loop (aiops-load). */
void stage_init(struct stage *st, int argc, char **argv);
int stage_run(struct stage *st);
int stage_finish(struct stage *st);

/* Writes a new record and counts it.  The caller keeps its reference. */
void stage_emit(struct stage *st, json_object *o);
/* Writes the record's original bytes and counts it. */
void stage_forward(struct stage *st, const struct rec *r);
/*
 * Reports a bad line: "PROG: SOURCE:LINE: reason" on stderr and a reject
 * record {stage, source, line, reason, raw} (raw as a string when it is
 * UTF-8, else raw_b64; raw_truncated and raw_bytes when only a prefix was
 * kept).  Under --strict, exits 1 after writing the reject.
 */
void stage_reject(struct stage *st, const char *source, unsigned long line,
		  const char *raw, size_t len, size_t full_len, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* A new record {"kind": kind}; the caller owns it. */
json_object *stage_record(const char *kind);

/* The effective params object of the stage record (borrowed): stages may add
 * to it in on_start (e.g. a template hash) before it is written. */
json_object *stage_params(struct stage *st);

/*
 * A bundled data file (name as under examples/: "prompts/rca.txt"): the
 * installed copy, PREFIX/share/aiops/NAME next to PREFIX/bin where the
 * program is, else the source tree's examples/NAME next to its bin/.
 * Returns a new absolute name (the caller frees it), or NULL when neither
 * is there.
 */
char *stage_datafile(const char *name);

/* 1 under --preflight: on_start must then not create or change anything
 * (an audit log, a spool). */
int stage_preflighting(void);

/* Prints usage to stderr and exits 2, with an optional message first. */
void stage_usage_error(struct stage *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
