/* metricdet: the metric detector (contract in metricdet.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "detect.h"
#include "err.h"
#include "group.h"
#include "js.h"
#include "metricdet.h"
#include "smap.h"

void
metricdet_init(struct metricdet *d, const struct metricdet_cfg *c)
{
	memset(d, 0, sizeof *d);
	d->c = *c;
	d->key = (struct buf)BUF_INIT(0);
}

static int
metric_dir(const struct metricdet *d, const char *name)
{
	const char *s;

	if (d->c.directions == NULL || !json_object_is_type(d->c.directions, json_type_object))
		return 0;
	s = js_str(d->c.directions, name);
	if (s == NULL)
		return 0;
	return strcmp(s, "up") == 0 ? 1 : strcmp(s, "down") == 0 ? -1 : 0;
}

/* The limit c.limits gives the metric name, or NAN. */
static double
metric_limit(const struct metricdet *d, const char *name)
{
	json_object *v;

	if (d->c.limits == NULL || !json_object_object_get_ex(d->c.limits, name, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return NAN;
	return json_object_get_double(v);
}

int
metricdet_point(struct metricdet *d, int svc, const char *name, const char *labels, size_t n,
		int64_t ts, double x, void (*found)(const struct anom *a, void *arg), void *arg)
{
	const struct metricdet_cfg *c = &d->c;
	struct mser *m;
	void **slot;
	double z;
	int created;

	buf_reset(&d->key);
	group_key(&d->key, GROUP_METRIC, svc, name);
	buf_add(&d->key, labels, n);
	slot = smap_get(&d->series, d->key.p, d->key.len);
	if (slot == NULL) {
		if ((long long)d->series.n >= c->max_series)
			return -1;
		slot = smap_put(&d->series, d->key.p, d->key.len, &created);
		m = *slot = ecalloc(1, sizeof *m);
		m->svc = svc;
		m->name = estrdup(name);
		m->labels = estrndup(labels, n);
		m->dir = metric_dir(d, name);
		m->limit = metric_limit(d, name);
	}
	m = *slot;
	m->last = ts;
	if (!isfinite(x))
		return 0;
	z = ewd_z(&m->e, x, (uint32_t)c->warmup, c->rel_floor, 0);
	int anomalous = (z >= c->z && m->dir >= 0) || (z <= -c->z && m->dir <= 0);
	if (anomalous) {
		struct anom a = {0};
		char *key = estrndup(d->key.p, d->key.len);
		a.ts = ts;
		a.svc = svc;
		a.type = GROUP_METRIC;
		a.down = z < 0;
		a.z = isfinite(z) ? z : (z > 0 ? 1e9 : -1e9);
		a.sev = fmin(3, fabs(a.z) / c->z);
		a.key = key;
		a.name = m->name;
		a.labels = m->labels;
		a.value = x;
		a.baseline = m->e.mean;
		a.sat = z > 0 && isfinite(m->limit) && x >= c->saturation_share * m->limit;
		found(&a, arg);
		free(key);
		if (++m->e.run >= c->persist) {
			ewd_reset(&m->e);   /* a lasting level shift: learn it anew */
			return 0;
		}
	} else {
		m->e.run = 0;
	}
	uint32_t run = m->e.run;
	ewd_learn(&m->e, x, ewd_alpha(c->span), (uint32_t)c->warmup, c->z, c->rel_floor, 0);
	m->e.run = run;
	return 0;
}

static void
mser_free(void *v)
{
	struct mser *m = v;

	free(m->name);
	free(m->labels);
	free(m);
}

struct sweep {
	int64_t before;
	const unsigned char *dead;
};

static int
is_dead(const void *v, void *arg)
{
	const struct mser *m = v;
	const struct sweep *w = arg;

	return w->dead ? w->dead[m->svc] != 0 : m->last < w->before;
}

void
metricdet_sweep(struct metricdet *d, int64_t before, const unsigned char *dead)
{
	struct sweep w = {before, dead};

	smap_delete_if(&d->series, is_dead, &w, mser_free);
}

size_t
metricdet_series(const struct metricdet *d)
{
	return d->series.n;
}

void
metricdet_free(struct metricdet *d)
{
	smap_free(&d->series, mser_free);
	buf_free(&d->key);
}
