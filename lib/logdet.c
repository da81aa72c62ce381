/* logdet: the log detector (contract in logdet.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "detect.h"
#include "drain.h"
#include "err.h"
#include "group.h"
#include "logdet.h"
#include "ts.h"

const char *const logdet_level_name[LOGDET_NLEVELS] = {"DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
static const double level_weight[LOGDET_NLEVELS] = {0.25, 0.5, 1, 1.5, 2};

/* A template's rate. */
struct tstat {
	struct rate r;
	int64_t first;
	int64_t burst_bucket;  /* the last bucket that reported a burst */
};

int
logdet_level(const char *s)
{
	if (s == NULL)
		return LOGDET_INFO;
	switch (s[0]) {
	case 'D': case 'd': case 'T': case 't':
		return LOGDET_DEBUG;
	case 'W': case 'w':
		return LOGDET_WARN;
	case 'E': case 'e':
		return LOGDET_ERROR;
	case 'F': case 'f': case 'C': case 'c':
		return LOGDET_FATAL;
	default:
		return LOGDET_INFO;
	}
}

static void
tpl_evicted(struct drain_tpl *t)
{
	free(t->data);
	t->data = NULL;
}

int
logdet_init(struct logdet *d, const struct logdet_cfg *c, struct buf *why)
{
	char *lv = estrdup(c->error_levels ? c->error_levels : ""), *tok, *save = NULL;

	memset(d, 0, sizeof *d);
	d->c = *c;
	d->key = (struct buf)BUF_INIT(0);
	for (tok = strtok_r(lv, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		int found = 0;
		for (int i = 0; i < LOGDET_NLEVELS; i++)
			if (strcasecmp(tok, logdet_level_name[i]) == 0)
				d->is_error[i] = found = 1;
		if (!found) {
			/* The name is cut at 63 bytes, as it always was. */
			buf_printf(why, "error_levels: unknown level '%.63s'", tok);
			free(lv);
			return -1;
		}
	}
	free(lv);
	d->new_level = -1;
	for (int i = 0; i < LOGDET_NLEVELS; i++)
		if (c->new_level && strcasecmp(c->new_level, logdet_level_name[i]) == 0)
			d->new_level = i;
	if (d->new_level < 0) {
		buf_printf(why, "new_template_level: unknown level '%s'", c->new_level ? c->new_level : "");
		return -1;
	}
	d->miner = drain_new((int)c->depth, c->sim, (size_t)c->max_templates, 64, tpl_evicted);
	return 0;
}

void
logdet_line(struct logdet *d, int s, const char *svc, int64_t *first, int64_t ts, const char *msg,
	    size_t mlen, int level, uint64_t trace, void (*found)(const struct anom *a, void *arg),
	    void *arg)
{
	const struct logdet_cfg *c = &d->c;
	struct drain_tpl *t;
	struct tstat *ts_;
	int64_t b;
	int is_new;

	t = drain_add(d->miner, svc, msg, mlen, &is_new);
	b = (int64_t)floor((double)ts / (c->bucket_s * 1e9));
	if (t->data == NULL) {
		ts_ = t->data = ecalloc(1, sizeof *ts_);
		rate_start(&ts_->r, b);
		ts_->first = ts;
		ts_->burst_bucket = INT64_MIN;
	}
	ts_ = t->data;
	/* A bucket is learned clipped at the burst threshold of its time. */
	rate_advance(&ts_->r, b, ewd_alpha(c->span_buckets), fmax(c->burst_min, c->burst_factor * ts_->r.mean));
	double cnt = rate_add(&ts_->r, 1);
	double thr = fmax(c->burst_min, c->burst_factor * ts_->r.mean);

	/* A service's logs warm up from its own first line, not from the first
	 * record of the stream (other signals may have begun long before). */
	if (*first == TS_NONE || ts < *first)
		*first = ts;
	int64_t warm = *first + c->warmup_ns;
	if (ts < warm)
		return;
	struct anom a = {0};
	a.ts = ts;
	a.svc = s;
	a.type = GROUP_LOG;
	a.level = level;
	a.tpl = t->text;
	a.msg = msg;
	a.msglen = mlen;
	a.trace = trace;
	/* Templates born during the service's warm-up are never young. */
	int young = ts_->first >= warm &&
		    ts - ts_->first < c->young_ns;
	if (is_new && level >= d->new_level)
		a.sev = level_weight[level];
	else if (young && d->is_error[level])
		a.sev = level_weight[level];
	else if (!young && cnt >= thr && ts_->burst_bucket != b) {
		ts_->burst_bucket = b;
		a.sev = level_weight[level] * (d->is_error[level] ? 1.5 : 1);
	}
	if (a.sev > 0) {
		buf_reset(&d->key);
		buf_printf(&d->key, "%d\x1f%d\x1f%llu", GROUP_LOG, s, (unsigned long long)t->id);
		char *key = estrndup(d->key.p, d->key.len);
		a.key = key;
		found(&a, arg);
		free(key);
	}
}

size_t
logdet_templates(const struct logdet *d)
{
	return d->miner ? drain_count(d->miner) : 0;
}

uint64_t
logdet_evictions(const struct logdet *d)
{
	return d->miner ? drain_evictions(d->miner) : 0;
}

void
logdet_free(struct logdet *d)
{
	if (d->miner)
		drain_free(d->miner);
	d->miner = NULL;
	buf_free(&d->key);
}
