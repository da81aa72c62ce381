/*
 * logdet: aiops-correlate's log detector.  Lines are mined into templates
 * per service (lib/drain); each template keeps a rate per bucket_s bucket
 * (lib/detect's rate, learned clipped at the burst threshold).  A
 * service's lines are judged from warmup_ns after its own first line on;
 * then a line is an anomaly when
 *
 *   - it made a new template and its level is at least new_level;
 *   - its template is young (born after the warm-up, at most young_ns
 *     ago) and its level is one of error_levels;
 *   - its template is not young and its bucket reaches max(burst_min,
 *     burst_factor * the usual rate), once per bucket (severity times 1.5
 *     at an error level).
 *
 * Severity by level: DEBUG 0.25, INFO 0.5, WARN 1, ERROR 1.5, FATAL 2.
 * The anomaly's key is "0 US service US template id" (US: 0x1f).
 */
#ifndef AIOPS_LOGDET_H
#define AIOPS_LOGDET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "drain.h"
#include "group.h"

enum { LOGDET_DEBUG, LOGDET_INFO, LOGDET_WARN, LOGDET_ERROR, LOGDET_FATAL, LOGDET_NLEVELS };
extern const char *const logdet_level_name[LOGDET_NLEVELS];

/* The level of a record's "level" (by its first letter: D/T debug, W
 * warn, E error, F/C fatal, else and NULL info). */
int logdet_level(const char *s);

struct logdet_cfg {
	double bucket_s, span_buckets;       /* rate bucket, EWMA span in buckets */
	double burst_factor, burst_min;
	int64_t warmup_ns, young_ns;
	long long depth, max_templates;      /* lib/drain's */
	double sim;
	const char *error_levels;            /* "ERROR,FATAL": names, comma or blank separated */
	const char *new_level;               /* least level of a new template's anomaly */
};

struct logdet {
	struct logdet_cfg c;
	struct drain *miner;
	int is_error[LOGDET_NLEVELS], new_level;
	struct buf key;
};

/* Sets up d; -1 when a level name is unknown, having appended why to
 * *why and holding no memory (nothing to free: logdet_free() is not
 * needed, *why is the caller's). */
int logdet_init(struct logdet *d, const struct logdet_cfg *c, struct buf *why);

/*
 * Judges and learns line msg (n bytes, level) of service svc (named
 * service) at ts, with trace the trace id's hash (0: none); *first is the
 * service's first line (TS_NONE: none yet; updated).  An anomaly is handed
 * to found(a, arg).
 */
void logdet_line(struct logdet *d, int svc, const char *service, int64_t *first, int64_t ts,
		 const char *msg, size_t n, int level, uint64_t trace,
		 void (*found)(const struct anom *a, void *arg), void *arg);

/* Templates held, and evicted (0 before logdet_init). */
size_t logdet_templates(const struct logdet *d);
uint64_t logdet_evictions(const struct logdet *d);

void logdet_free(struct logdet *d);

#endif
