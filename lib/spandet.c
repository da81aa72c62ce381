/* spandet: the span detector (contract in spandet.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "callgraph.h"
#include "detect.h"
#include "err.h"
#include "group.h"
#include "js.h"
#include "smap.h"
#include "spanattr.h"
#include "spandet.h"
#include "tailshare.h"
#include "ts.h"

/* A span's duration finding (a.sev its error part, lat_sev its latency
 * part), held by spanattr until the span's children are known. */
struct held {
	struct anom a;
	double lat_sev;
	char *key, *op;
};

static void
held_free(void *p)
{
	struct held *h = p;

	free(h->key);
	free(h->op);
	free(h);
}

void
spandet_init(struct spandet *d, const struct spandet_cfg *c)
{
	memset(d, 0, sizeof *d);
	d->c = *c;
	d->key = (struct buf)BUF_INIT(0);
	struct spanattr_cfg ac = {c->z, c->ratio, c->min_ms, c->span, (uint32_t)c->warmup,
				  c->warmup_ns, c->attr_slack_ns, c->cache, c->pending,
				  (size_t)c->max_ops, held_free, c->tail};
	d->attr = spanattr_new(&ac);
}

/* A spanattr finding is a span anomaly of the blamed service; a held
 * duration finding comes back without its latency part when the span's
 * children explain it. */
static void
on_attr(const struct spanattr_find *f, void *arg)
{
	struct spandet *d = arg;
	struct buf key = BUF_INIT(0);
	struct anom a = {0};

	if (f->kind == SPANATTR_HELD) {
		struct held *h = f->held;
		if (f->explained && h->lat_sev > 0)
			d->explained++;
		h->a.sev += f->explained ? 0 : h->lat_sev;
		if (h->a.sev > 0)
			d->c.found(&h->a, d->c.arg);
		held_free(h);
		return;
	}
	buf_printf(&key, "%d\x1f%d\x1f%s\x1f%d\x1f%s", GROUP_SPAN, f->svc,
		   f->kind == SPANATTR_GAP ? "gap" : "self", f->caller,
		   f->kind == SPANATTR_GAP || f->op == NULL ? "" : f->op);
	a.ts = f->ts;
	a.svc = f->svc;
	a.type = GROUP_SPAN;
	a.z = f->z;
	a.sev = f->sev;
	a.key = key.p;
	a.op = f->op;
	a.measure = f->kind;
	a.caller = f->kind == SPANATTR_GAP ? d->c.svc_name(f->caller, d->c.arg) : NULL;
	a.dur_ms = f->value_ms;
	a.baseline = f->baseline_ms;
	a.trace = f->trace;
	d->c.found(&a, d->c.arg);
	buf_free(&key);
}

/* Feeds spanattr (the call graph: parent's service -> s, s -> an orphan
 * child's; edge gaps and self times) with h, the span's duration finding
 * or NULL.  With attr off h is handled at once. */
static void
span_graph(struct spandet *d, int s, int64_t ts, double dur, const char *sid, const char *pid,
	   const char *name, uint64_t th, struct held *h)
{
	struct spanattr_span sp = {ts, ts + (isfinite(dur) && dur > 0 ? (int64_t)(dur * TS_NS_PER_MS) : 0),
				   s, sid, pid, name, th, d->c.attr ? h : NULL};
	int cs, ps = spanattr_span(d->attr, &sp, d->c.attr ? on_attr : NULL, d, &cs);

	if (ps >= 0 && ps != s)
		callgraph_add(d->c.graph, ps, s, 1);
	if (cs >= 0 && cs != s)
		callgraph_add(d->c.graph, s, cs, 1);
	if (h && !d->c.attr) {
		h->a.sev += h->lat_sev;
		d->c.found(&h->a, d->c.arg);
		held_free(h);
	}
}

int
spandet_span(struct spandet *d, int s, int64_t ts, double dur, const char *sid, const char *pid,
	     const char *name, uint64_t th, int is_err)
{
	const struct spandet_cfg *c = &d->c;
	struct sser *ss;
	void **slot;
	int created;

	buf_reset(&d->key);
	group_key(&d->key, GROUP_SPAN, s, name);
	slot = smap_get(&d->ops, d->key.p, d->key.len);
	if (slot == NULL) {
		if ((long long)d->ops.n >= c->max_ops) {
			span_graph(d, s, ts, dur, sid, pid, name, th, NULL);
			return -1;
		}
		slot = smap_put(&d->ops, d->key.p, d->key.len, &created);
		ss = *slot = ecalloc(1, sizeof *ss);
		ss->svc = s;
		ss->op = estrdup(name);
		ss->first = ts;
	}
	ss = *slot;
	ss->last = ts;
	if (ts < ss->first)
		ss->first = ts;
	/* An operation is judged once it has its own baseline: warmup spans
	 * and warmup_ns of its own history (20 spans of a burst are one
	 * instant, not a baseline). */
	int warm = ss->n >= (uint32_t)c->warmup && ts - ss->first >= c->warmup_ns;
	double lx = isfinite(dur) && dur >= 0 ? log(dur + 1) : NAN;
	double z = warm ? ewd_z(&ss->lat, lx, (uint32_t)c->warmup, 0, 0.1) : 0;
	double base = exp(ss->lat.mean) - 1;
	struct held *h = NULL;
	double lat_sev = 0, err_sev = 0;
	if (warm && isfinite(lx))
		lat_sev = tailshare_judge(&ss->tail, z >= c->z && dur >= c->ratio * base &&
					  dur - base >= c->min_ms, ts, &c->tail) * fmin(3, z / c->z);
	if (is_err && warm && ss->errshare < c->error_ratio)
		err_sev = 1.5;
	/* Far faster than usual: the operation stopped doing its work (a
	 * return or an exception before its calls), judged against its
	 * running median and weighed by its own usual fast share. */
	int fast = 0;
	double fbase = exp(ss->med) - 1;
	if (c->fast_ratio > 0 && warm && isfinite(lx)) {
		double w = tailshare_judge(&ss->fast, dur * c->fast_ratio <= fbase &&
					   fbase - dur >= c->min_ms, ts, &c->tail);
		/* a span that failed fast is its error */
		if (w > 0 && lat_sev == 0 && err_sev == 0) {
			lat_sev = w * fmin(3, log10((fbase + 1) / (dur + 1)));
			fast = 1;
			/* its own key: a fast span is not its operation's slow one */
			buf_adds(&d->key, "fast\x1f");
		}
	}
	if (lat_sev + err_sev > 0) {
		h = ecalloc(1, sizeof *h);
		h->key = estrndup(d->key.p, d->key.len);
		h->op = estrdup(name);
		h->a.measure = fast ? GROUP_SPAN_FAST : 0;
		h->lat_sev = lat_sev;
		h->a.sev = err_sev;
		h->a.ts = ts;
		h->a.svc = s;
		h->a.type = GROUP_SPAN;
		h->a.z = z;
		h->a.key = h->key;
		h->a.op = h->op;
		h->a.dur_ms = isfinite(dur) ? dur : 0;
		h->a.is_error = is_err;
		h->a.baseline = exp(ss->lat.mean + 1.645 * ewd_sd(&ss->lat, 0, 0.1)) - 1;
		h->a.trace = th;
	}
	span_graph(d, s, ts, dur, sid, pid, name, th, h);
	/* The fast rule's baseline, a running median of log latency (a
	 * mean sits between the modes of a bimodal operation, and its usual
	 * spans would look fast): it moves a tenth of lat's sd towards each
	 * span, and learns no slow span and nothing during a slow episode
	 * (lib/tailshare), after which the usual spans are not "fast". */
	if (isfinite(lx) && ss->n == 0)
		ss->med = lx;
	else if (isfinite(lx) && !(warm && z >= c->z) && ss->tail.ep_max == 0)
		ss->med += (lx > ss->med ? 0.1 : lx < ss->med ? -0.1 : 0) * ewd_sd(&ss->lat, 0, 0.1);
	ewd_learn(&ss->lat, lx, ewd_alpha(c->span), (uint32_t)c->warmup, c->z, 0, 0.1);
	double ea = 1.0 / (ss->n + 1.0);
	if (ea < ewd_alpha(c->error_span))
		ea = ewd_alpha(c->error_span);
	ss->errshare += ea * ((is_err ? 1.0 : 0.0) - ss->errshare);
	if (ss->n < UINT32_MAX)
		ss->n++;
	return 0;
}

void
spandet_advance(struct spandet *d, int64_t now)
{
	spanattr_advance(d->attr, now, d->c.attr ? on_attr : NULL, d);
}

void
spandet_flush(struct spandet *d)
{
	spanattr_flush(d->attr, d->c.attr ? on_attr : NULL, d);
}

static void
sser_free(void *v)
{
	struct sser *s = v;

	free(s->op);
	free(s);
}

/* An operation idle since before *(int64_t *)before. */
static int
sser_idle(const void *v, void *before)
{
	return ((const struct sser *)v)->last < *(const int64_t *)before;
}

/* An operation of a service with dead[svc]. */
static int
sser_of_dead(const void *v, void *dead)
{
	return ((const unsigned char *)dead)[((const struct sser *)v)->svc] != 0;
}

void
spandet_sweep(struct spandet *d, int64_t before)
{
	smap_delete_if(&d->ops, sser_idle, &before, sser_free);
	spanattr_sweep(d->attr, before);
}

void
spandet_forget(struct spandet *d, const unsigned char *dead, int span)
{
	spanattr_forget(d->attr, dead, span);
	smap_delete_if(&d->ops, sser_of_dead, (void *)dead, sser_free);
}

void
spandet_add_end(const struct spandet *d, json_object *end)
{
	if (!d->c.attr)
		return;
	const struct spanattr_stats *sa = spanattr_stats(d->attr);
	json_object *t = json_object_new_object();
	js_add_int(t, "edge_gaps", (int64_t)sa->gaps);
	js_add_int(t, "self_times", (int64_t)sa->selfs);
	js_add_int(t, "explained", (int64_t)d->explained);
	js_add_int(t, "ambiguous", (int64_t)sa->ambiguous);
	js_add_int(t, "lost", (int64_t)(sa->lost + sa->late + sa->orphans_lost));
	json_object_object_add(end, "span_attr", t);
}

void
spandet_free(struct spandet *d)
{
	if (d->attr)
		spanattr_free(d->attr);
	d->attr = NULL;
	smap_free(&d->ops, sser_free);
	buf_free(&d->key);
}
