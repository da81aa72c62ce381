/* group: aiops-correlate's candidate incidents (contract in group.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "group.h"
#include "smap.h"
#include "spanattr.h"
#include "spread.h"
#include "ts.h"

static void
gkey_free(struct gkey *k)
{
	free(k->key);
	free(k->tpl);
	free(k->samples[0]);
	free(k->samples[1]);
	free(k->name);
	free(k->labels);
	free(k->op);
	free(k->caller);
	free(k);
}

struct group *
group_new(uint64_t seq, int64_t ts)
{
	struct group *g = ecalloc(1, sizeof *g);

	g->seq = seq;
	g->start = g->last = g->fresh = ts;
	return g;
}

void
group_free(struct group *g)
{
	for (size_t i = 0; i < g->nk; i++)
		gkey_free(g->karr[i]);
	free(g->karr);
	smap_free(&g->keys, NULL);
	free(g->sv);
	free(g);
}

static struct gsvc *
group_svc(struct group *g, int svc, int add)
{
	for (int i = 0; i < g->nsv; i++)
		if (g->sv[i].svc == svc)
			return &g->sv[i];
	if (!add)
		return NULL;
	if (g->nsv == g->capsv) {
		g->capsv = g->capsv ? g->capsv * 2 : 8;
		g->sv = erealloc(g->sv, (size_t)g->capsv * sizeof *g->sv);
	}
	memset(&g->sv[g->nsv], 0, sizeof *g->sv);
	g->sv[g->nsv].svc = svc;
	g->sv[g->nsv].first = TS_NONE;
	g->sv[g->nsv].fresh = TS_NONE;
	return &g->sv[g->nsv++];
}

static double
capped(double x, const struct group_cfg *c)
{
	return x < c->key_cap ? x : c->key_cap;
}

/* The score (group.h). */
static double
group_score(const struct group *g, const struct group_cfg *c)
{
	int t = __builtin_popcount((unsigned)g->types), s = g->nsv;

	if (s - 1 > c->service_cap)
		s = (int)c->service_cap + 1;
	return g->a * (1 + c->type_weight * (t - 1)) * (1 + c->service_weight * (s > 0 ? s - 1 : 0));
}

int
group_decide(const struct group *g, const struct group_cfg *c)
{
	if ((long long)g->nsignals < c->min_signals)
		return 0;
	/* A resource at its limit for saturation_detect points is evidence
	 * enough, whatever the score and the signal types. */
	if (c->saturation_detect > 0 && (long long)g->nsat >= c->saturation_detect)
		return 1;
	/* So is a change that persists (two points or more) in persist_detect
	 * series of one service whose own strength is persist_strength times
	 * the threshold, in a group that scores persist_score times it:
	 * metrics alone, no blip, no wobble shared by a few neighbours. */
	if (c->persist_detect > 0 && (long long)g->persist >= c->persist_detect &&
	    g->score >= c->persist_score * c->detect_threshold)
		for (int i = 0; i < g->nsv; i++)
			if ((long long)g->sv[i].persist >= c->persist_detect &&
			    g->sv[i].strength >= c->persist_strength * c->detect_threshold)
				return 1;
	return g->score >= c->detect_threshold && __builtin_popcount((unsigned)g->types) >= c->min_types;
}

static void
add_trace(struct group *g, uint64_t h, int64_t ts)
{
	size_t i;

	for (i = 0; i < g->ntr && i < GROUP_TRACES; i++)
		if (g->tr[i].h == h) {
			if (ts > g->tr[i].ts)
				g->tr[i].ts = ts;
			return;
		}
	g->tr[g->ntr % GROUP_TRACES].h = h;
	g->tr[g->ntr % GROUP_TRACES].ts = ts;
	g->ntr++;
}

static int
has_trace(const struct group *g, uint64_t h, int64_t since)
{
	for (size_t i = 0; i < g->ntr && i < GROUP_TRACES; i++)
		if (g->tr[i].h == h && g->tr[i].ts >= since)
			return 1;
	return 0;
}

int
group_connected(const struct group *g, const struct anom *a, const struct group_cfg *c)
{
	int64_t since = a->ts - c->window_ns, same = a->ts - c->quiet_ns;

	/* The same service keeps a group going until it closes; a neighbour
	 * or a shared trace joins it within window_s. */
	for (int i = 0; i < g->nsv; i++) {
		const struct gsvc *s = &g->sv[i];
		int64_t last = c->quiet_fresh ? s->fresh : s->last;
		if (s->svc == a->svc && last >= same)
			return 1;
		if (last >= since && c->adjacent(s->svc, a->svc, c->arg))
			return 1;
	}
	return a->trace && has_trace(g, a->trace, since);
}

static void
keep_sample(struct gkey *k, const char *msg, size_t n, long long max)
{
	if (k->nsamples >= 2 || msg == NULL)
		return;
	if ((long long)n > max) {
		n = (size_t)max;
		while (n > 0 && ((unsigned char)msg[n] & 0xC0) == 0x80)
			n--;   /* do not cut a UTF-8 sequence */
	}
	k->samples[k->nsamples++] = estrndup(msg, n);
}

int
group_add(struct group *g, const struct anom *a, const struct group_cfg *c)
{
	struct gsvc *s = group_svc(g, a->svc, 1);
	struct gkey *k = NULL;
	void **slot;
	double delta;
	int created = 0, rc = 0;

	slot = smap_get(&g->keys, a->key, strlen(a->key));
	if (slot == NULL && (long long)g->nk < c->max_keys) {
		slot = smap_put(&g->keys, a->key, strlen(a->key), &created);
		k = ecalloc(1, sizeof *k);
		k->key = estrdup(a->key);
		k->type = a->type;
		k->svc = a->svc;
		k->first = a->ts;
		k->peakz = -1;
		k->down = a->type == GROUP_METRIC && a->down;
		*slot = k;
		if (g->nk == g->capk) {
			g->capk = g->capk ? g->capk * 2 : 16;
			g->karr = erealloc(g->karr, g->capk * sizeof *g->karr);
		}
		g->karr[g->nk++] = k;
		g->nsignals++;
	} else if (slot) {
		k = *slot;
	} else {
		rc = -1;
	}
	if (k) {
		delta = capped(k->sev + a->sev, c) - capped(k->sev, c);
		k->sev += a->sev;
		k->count++;
		if (a->ts < k->first)
			k->first = a->ts;
		if (a->al) {
			if (created) {
				k->alert = 1;
				k->name = estrdup(a->al->name);
				k->adir = a->al->direction;
				k->asrc = a->al->source;
			}
		} else switch (a->type) {
		case GROUP_LOG:
			if (k->tpl == NULL || strcmp(k->tpl, a->tpl) != 0) {
				free(k->tpl);
				k->tpl = estrdup(a->tpl);
			}
			if (a->level > k->level || created)
				k->level = a->level;
			keep_sample(k, a->msg, a->msglen, c->sample_chars);
			break;
		case GROUP_METRIC:
			if (created) {
				k->name = estrdup(a->name);
				k->labels = estrdup(a->labels);
				k->baseline = a->baseline;
			}
			if (fabs(a->z) > k->peakz) {
				k->peakz = fabs(a->z);
				k->peak = a->value;
			}
			if (a->sat)
				k->sat = 1;
			break;
		case GROUP_SPAN:
			if (created) {
				k->op = estrdup(a->op ? a->op : "");
				k->base_p95 = a->baseline;
				k->measure = a->measure;
				if (a->measure == SPANATTR_GAP)
					k->caller = estrdup(a->caller);
			}
			if (a->is_error)
				k->errors++;
			if (k->ndurs < 64)
				k->durs[k->ndurs++] = a->dur_ms;
			break;
		}
	} else {
		delta = capped(a->sev, c);
	}
	g->a += delta;
	s->strength += delta;
	if (a->sat) {
		s->sat += 1;
		g->nsat++;
	}
	if (k && k->type == GROUP_METRIC && !k->alert && k->count == 2 && ++s->persist > g->persist)
		g->persist = s->persist;
	if (!(a->type == GROUP_METRIC && a->down))
		s->sym += delta;
	s->n++;
	s->types |= 1u << a->type;
	if (a->type != GROUP_LOG && fabs(a->z) > s->zmax)
		s->zmax = fmin(fabs(a->z), 1e6);
	if (s->first == TS_NONE || a->ts < s->first)
		s->first = a->ts;
	if (a->ts > s->last)
		s->last = a->ts;
	if (delta > 0 && a->ts > s->fresh)
		s->fresh = a->ts;
	if (delta > 0 && a->ts > g->fresh)
		g->fresh = a->ts;
	if (a->ts < g->start)
		g->start = a->ts;
	if (a->ts > g->last)
		g->last = a->ts;
	g->types |= 1 << a->type;
	g->nanom++;
	if (a->trace)
		add_trace(g, a->trace, a->ts);
	g->score = group_score(g, c);
	return rc;
}

void
group_merge(struct group *a, struct group *b, const struct group_cfg *c)
{
	a->a += b->a;
	for (int i = 0; i < b->nsv; i++) {
		struct gsvc *f = &b->sv[i], *t = group_svc(a, f->svc, 1);
		t->strength += f->strength;
		t->sym += f->sym;
		t->sat += f->sat;
		t->n += f->n;
		t->types |= f->types;
		t->zmax = fmax(t->zmax, f->zmax);
		if (t->first == TS_NONE || f->first < t->first)
			t->first = f->first;
		if (f->last > t->last)
			t->last = f->last;
		if (f->fresh > t->fresh)
			t->fresh = f->fresh;
	}
	for (size_t i = 0; i < b->nk; i++) {
		struct gkey *k = b->karr[i];
		void **slot;
		int created;

		slot = smap_get(&a->keys, k->key, strlen(k->key));
		if (slot) {
			struct gkey *t = *slot;
			/* Both parts were counted whole: count the cap once. */
			double before = capped(t->sev, c) + capped(k->sev, c), adj;
			t->sev += k->sev;
			adj = capped(t->sev, c) - before;
			a->a += adj;
			group_svc(a, k->svc, 1)->strength += adj;
			t->count += k->count;
			t->errors += k->errors;
			if (k->first < t->first)
				t->first = k->first;
			if (k->peakz > t->peakz) {
				t->peakz = k->peakz;
				t->peak = k->peak;
			}
			t->sat |= k->sat;
			for (uint32_t j = 0; j < k->ndurs && t->ndurs < 64; j++)
				t->durs[t->ndurs++] = k->durs[j];
			for (int j = 0; j < k->nsamples; j++)
				if (t->nsamples < 2) {
					t->samples[t->nsamples++] = k->samples[j];
					k->samples[j] = NULL;
				}
			gkey_free(k);
			continue;
		}
		if ((long long)a->nk >= c->max_keys) {
			gkey_free(k);
			continue;
		}
		slot = smap_put(&a->keys, k->key, strlen(k->key), &created);
		*slot = k;
		if (a->nk == a->capk) {
			a->capk = a->capk ? a->capk * 2 : 16;
			a->karr = erealloc(a->karr, a->capk * sizeof *a->karr);
		}
		a->karr[a->nk++] = k;
		a->nsignals++;
	}
	b->nk = 0;
	for (size_t i = 0; i < b->ntr && i < GROUP_TRACES; i++)
		add_trace(a, b->tr[i].h, b->tr[i].ts);
	if (b->start < a->start)
		a->start = b->start;
	if (b->last > a->last)
		a->last = b->last;
	if (b->fresh > a->fresh)
		a->fresh = b->fresh;
	a->types |= b->types;
	a->nanom += b->nanom;
	a->nsat += b->nsat;
	/* The persistent series, counted again: a signal in both parts may
	 * reach two points only now. */
	a->persist = 0;
	for (int i = 0; i < a->nsv; i++)
		a->sv[i].persist = 0;
	for (size_t i = 0; i < a->nk; i++) {
		const struct gkey *k = a->karr[i];
		struct gsvc *s = group_svc(a, k->svc, 0);
		if (s && k->type == GROUP_METRIC && !k->alert && k->count >= 2 && ++s->persist > a->persist)
			a->persist = s->persist;
	}
	if (b->detected && (!a->detected || b->det_ts < a->det_ts)) {
		a->detected = 1;
		a->det_ts = b->det_ts;
		a->det_latency_ms = b->det_latency_ms;
	}
	a->score = group_score(a, c);
	group_free(b);
}

void
group_key(struct buf *b, int type, int svc, const char *name)
{
	buf_addll(b, type);
	buf_addc(b, '\x1f');
	buf_addll(b, svc);
	buf_addc(b, '\x1f');
	buf_adds(b, name);
	buf_addc(b, '\x1f');
}

/* What a key's signal is, without its service: the class lib/spread
 * compares across the group's services. */
static void
key_class(struct buf *b, const struct gkey *k)
{
	buf_reset(b);
	if (k->alert)
		buf_printf(b, "a\x1f%d\x1f%d\x1f%s", k->asrc, k->adir, k->name);
	else if (k->type == GROUP_LOG)
		buf_printf(b, "l\x1f%s", k->tpl ? k->tpl : "");
	else if (k->type == GROUP_METRIC)
		buf_printf(b, "m\x1f%d\x1f%s", k->down, k->name ? k->name : "");
	else
		buf_printf(b, "s\x1f%d\x1f%s", k->measure, k->op ? k->op : "");
}

/* The index in g->sv of service svc, or -1. */
static int
svc_index(const struct group *g, int svc)
{
	for (int j = 0; j < g->nsv; j++)
		if (g->sv[j].svc == svc)
			return j;
	return -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The size of an edge gap signal k: the median of the gaps it kept over
 * its baseline at its first anomaly, or 1 when unknown. */
static double
gap_ratio(const struct gkey *k)
{
	double v[sizeof k->durs / sizeof k->durs[0]], r;

	if (k->ndurs == 0 || !(k->base_p95 > 0))
		return 1;
	memcpy(v, k->durs, k->ndurs * sizeof *v);
	qsort(v, k->ndurs, sizeof *v, cmp_double);
	r = k->ndurs % 2 ? v[k->ndurs / 2] : (v[k->ndurs / 2 - 1] + v[k->ndurs / 2]) / 2;
	return isfinite(r) && r > k->base_p95 ? r / k->base_p95 : 1;
}

void
group_rank_strength(const struct group *g, const struct group_rank_w *w,
		    const struct group_cfg *c, double *out, double *own)
{
	struct spread_key *sk;
	struct buf b = BUF_INIT(0);

	for (int j = 0; j < g->nsv; j++) {
		out[j] = g->sv[j].strength;
		own[j] = 0;
	}
	if (g->nk < 1)
		return;
	sk = emalloc(g->nk * sizeof *sk);
	for (size_t i = 0; i < g->nk; i++) {
		key_class(&b, g->karr[i]);
		sk[i].cls = estrndup(b.p, b.len);
		sk[i].svc = g->karr[i]->svc;
		sk[i].w = 1;
	}
	if (w->spread > 0)
		spread_weigh(sk, g->nk, w->spread);
	for (size_t i = 0; i < g->nk; i++) {
		const struct gkey *k = g->karr[i];
		int j = svc_index(g, k->svc);
		int op = k->type == GROUP_SPAN && !k->alert;
		double ws = w->support > 0 && op ? fmin(1, k->count / w->support) : 1;

		if (j >= 0) {
			double kw = sk[i].w * ws, f = 1, sev = capped(k->sev, c);
			int gap = op && k->measure == SPANATTR_GAP;
			if (gap && w->gap_mag > 0)
				f = 1 + w->gap_mag * log10(gap_ratio(k));
			out[j] = fmax(0, out[j] - (1 - kw) * sev + (f - 1) * kw * sev);
			if (w->own && op && (k->measure == SPANATTR_SELF || k->measure == GROUP_SPAN_FAST || gap))
				own[j] += f * kw * sev;
		}
		free((char *)sk[i].cls);
	}
	free(sk);
	buf_free(&b);
}

static void
close_group(struct groupset *s, size_t idx)
{
	struct group *g = s->g[idx];

	memmove(s->g + idx, s->g + idx + 1, (s->n - idx - 1) * sizeof *s->g);
	s->n--;
	s->closed(g, s->arg);
}

void
groupset_close_due(struct groupset *s, int64_t t, const struct group_cfg *c)
{
	for (size_t i = 0; i < s->n;) {
		struct group *g = s->g[i];
		if (t - (c->quiet_fresh ? g->fresh : g->last) > c->quiet_ns ||
		    t - g->start >= c->max_duration_ns)
			close_group(s, i);
		else
			i++;
	}
}

struct group *
groupset_join(struct groupset *s, const struct anom *a, const struct group_cfg *c)
{
	struct group *g = NULL;
	size_t i;

	for (i = 0; i < s->n;) {
		if (!group_connected(s->g[i], a, c)) {
			i++;
			continue;
		}
		if (g == NULL) {
			g = s->g[i++];
			continue;
		}
		/* A second connected group: merge it into the first (older). */
		struct group *b = s->g[i];
		memmove(s->g + i, s->g + i + 1, (s->n - i - 1) * sizeof *s->g);
		s->n--;
		group_merge(g, b, c);
	}
	if (g == NULL) {
		if ((long long)s->n >= c->max_open && s->n > 0)
			close_group(s, 0);
		g = group_new(++s->seq, a->ts);
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 16;
			s->g = erealloc(s->g, s->cap * sizeof *s->g);
		}
		s->g[s->n++] = g;
	}
	return g;
}

void
groupset_close_all(struct groupset *s)
{
	while (s->n > 0) {
		size_t best = 0;
		for (size_t i = 1; i < s->n; i++)
			if (s->g[i]->start < s->g[best]->start ||
			    (s->g[i]->start == s->g[best]->start && s->g[i]->seq < s->g[best]->seq))
				best = i;
		close_group(s, best);
	}
}

void
groupset_free(struct groupset *s)
{
	for (size_t i = 0; i < s->n; i++)
		group_free(s->g[i]);
	free(s->g);
	s->g = NULL;
	s->n = s->cap = 0;
}
