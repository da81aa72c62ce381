/*
 * metricdet: aiops-correlate's metric detector.  One series per (service,
 * name, labels), each an EWMA baseline (lib/detect's ewd) with a warm-up.
 * A point is anomalous at z robust standard deviations (z >= c.z, or
 * <= -c.z) in the series' direction (c.directions: {name: up|down|both},
 * both when not given); its severity is min(3, |z| / c.z), and it is a
 * saturation when above the baseline at saturation_share of the name's
 * limit (c.limits: {name: number}).  After c.persist anomalous points in a
 * row the series relearns from scratch (a lasting level shift); an
 * anomalous point is otherwise learned clipped, a missing point (NaN) only
 * marks the series active.  At most c.max_series series are held: a point
 * of a new one beyond is refused.
 *
 * The anomaly's key is "1 US service US name US labels" (US: 0x1f, numbers
 * in decimal): the stage's key space for metrics.
 */
#ifndef AIOPS_METRICDET_H
#define AIOPS_METRICDET_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"
#include "detect.h"
#include "group.h"
#include "smap.h"

struct metricdet_cfg {
	double z, span, rel_floor;   /* threshold, EWMA span in points, least sd as a share of the mean */
	long long warmup, persist;   /* points learned before judging; relearn after this many anomalous */
	json_object *directions;     /* borrowed; NULL: both */
	json_object *limits;         /* borrowed; NULL: none */
	double saturation_share;
	long long max_series;
};

/* One series. */
struct mser {
	struct ewd e;
	int svc, dir;          /* dir: 0 both, 1 up, -1 down */
	double limit;          /* its name's limit, NAN when none */
	int64_t last;
	char *name, *labels;   /* labels as compact JSON */
};

struct metricdet {
	struct metricdet_cfg c;
	struct smap series;
	struct buf key;
};

void metricdet_init(struct metricdet *d, const struct metricdet_cfg *c);

/*
 * Judges and learns point x (NAN: missing) of series (svc, name, labels:
 * compact JSON of n bytes) at ts; an anomaly is handed to found(a, arg)
 * before it is learned.  Returns -1 when the series was refused
 * (max_series), else 0.
 */
int metricdet_point(struct metricdet *d, int svc, const char *name, const char *labels, size_t n,
		    int64_t ts, double x, void (*found)(const struct anom *a, void *arg), void *arg);

/* Forgets the series idle since before `before` (last < before), or, when
 * dead is given, those of the services with dead[svc]. */
void metricdet_sweep(struct metricdet *d, int64_t before, const unsigned char *dead);

/* The series held. */
size_t metricdet_series(const struct metricdet *d);

void metricdet_free(struct metricdet *d);

#endif
