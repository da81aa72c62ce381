/* Unit tests of lib/drain (template mining), lib/detect and lib/smap (TAP). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "detect.h"
#include "drain.h"
#include "smap.h"

static int n, failed;

static void
ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, name);
	if (!cond)
		failed = 1;
}

static void
mask_is(const char *in, const char *want)
{
	struct buf b = BUF_INIT(0);
	char name[512];

	drain_mask(in, strlen(in), &b);
	snprintf(name, sizeof name, "mask \"%s\" -> \"%s\"", in, want);
	ok(strcmp(b.p, want) == 0, name);
	if (strcmp(b.p, want) != 0)
		printf("# got \"%s\"\n", b.p);
	buf_free(&b);
}

static int evicted;

static void
on_evict(struct drain_tpl *t)
{
	(void)t;
	evicted++;
}

int
main(void)
{
	struct buf b = BUF_INIT(0);
	struct drain *d;
	struct drain_tpl *t;
	int is_new;
	uint64_t id;

	/* Masking. */
	mask_is("took 250ms and 1.5s", "took <DUR> and <DUR>");
	mask_is("user=180476 items=3", "user=<NUM> items=<NUM>");
	mask_is("dial tcp 10.0.3.17:5432: connect", "dial tcp <IP>: connect");
	mask_is("client 10.1.2.3 left", "client <IP> left");
	mask_is("req 550e8400-e29b-41d4-a716-446655440000 done", "req <UUID> done");
	mask_is("trace 6236d892eaf07fb824506d212415b19a span 0x1F", "trace <HEX> span <HEX>");
	mask_is("id=evt-0a6b2950 ok", "id=evt-<HEX> ok");
	mask_is("id=evt-06662950 ok", "id=evt-<NUM> ok");
	mask_is("index out of range [5] with length 3", "index out of range [<NUM>] with length <NUM>");
	mask_is("  two   spaces\tand tab  ", "two spaces and tab");
	mask_is("HikariPool-1 - pool", "HikariPool-<NUM> - pool");
	mask_is("3rd attempt", "3rd attempt");
	mask_is("pi is -3.14", "pi is -<NUM>");
	mask_is("", "");
	ok(drain_mask("a b  c", 6, &b) == 3, "mask counts tokens");

	/* Mining. */
	d = drain_new(2, 0.5, 100, 64, on_evict);
#define ADD(g, m) drain_add(d, g, m, strlen(m), &is_new)
	t = ADD("api", "user 17 logged in from 10.0.0.1 via web");
	ok(is_new && t->id == 1, "the first message starts template 1");
	ok(strcmp(t->text, "user <NUM> logged in from <IP> via web") == 0, "a template is the masked message");
	t = ADD("api", "user 99 logged in from 10.0.0.7 via web");
	ok(!is_new && t->id == 1 && t->count == 2, "masked variables join the same template");
	t = ADD("api", "user 5 logged in from 10.0.0.7 via app");
	ok(!is_new && t->id == 1, "a similar message joins the template");
	ok(strcmp(t->text, "user <NUM> logged in from <IP> via <*>") == 0, "a differing token becomes <*>");
	t = ADD("api", "user bob logged in from 10.0.0.7 via app");
	ok(is_new, "a different routing prefix (depth 2) starts a template");
	t = ADD("db", "user 17 logged in from 10.0.0.1 via web");
	ok(is_new && t->id == 3, "another group never shares a template");
	t = drain_add(d, "api", "cache miss for key 12", 21, &is_new);
	ok(is_new && t->id == 4, "a different message starts a template");
	t = drain_add(d, "api", "cache miss", 10, &is_new);
	ok(is_new, "a different token count starts a template");
	t = drain_add(d, "api", "disk full on sda: 0 bytes left", 30, &is_new);
	id = t->id;
	t = drain_add(d, "api", "disk full on sdb: 1 bytes left", 30, &is_new);
	ok(!is_new && t->id == id, "half the tokens equal is similar enough (sim 0.5)");
	t = drain_add(d, "api", "disk full on sdb: no inode left", 31, &is_new);
	ok(!is_new && t->id == id, "so the template keeps absorbing");
	t = drain_add(d, "api", "connection reset by peer after 30s", 34, &is_new);
	ok(is_new && strcmp(t->text, "connection reset by peer after <DUR>") == 0,
	   "durations are masked in templates");
	ok(drain_count(d) == 7, "seven live templates");
	drain_free(d);
	ok(evicted == 7, "drain_free calls on_evict for each template");

	/* Bounded memory: LRU eviction. */
	evicted = 0;
	d = drain_new(4, 0.5, 2, 64, on_evict);
	drain_add(d, "g", "alpha one", 9, &is_new);
	drain_add(d, "g", "beta two three", 14, &is_new);
	drain_add(d, "g", "alpha one", 9, &is_new);       /* alpha is now recent */
	t = drain_add(d, "g", "gamma four five six", 19, &is_new);
	ok(is_new && t->id == 3 && drain_count(d) == 2 && evicted == 1, "a full miner evicts one template");
	t = drain_add(d, "g", "alpha one", 9, &is_new);
	ok(!is_new && t->id == 1, "the least recently used one went (alpha stayed)");
	t = drain_add(d, "g", "beta two three", 14, &is_new);
	ok(is_new && t->id == 4, "the evicted template comes back with a new id");
	ok(drain_evictions(d) == 2, "evictions are counted");
	drain_free(d);

	/* Long messages keep max_tokens tokens. */
	d = drain_new(2, 0.5, 10, 3, NULL);
	t = drain_add(d, "g", "a b c d e", 9, &is_new);
	ok(strcmp(t->text, "a b <*>") == 0, "tokens beyond max_tokens become one <*>");
	drain_free(d);

	/* Detectors. */
	{
		struct ewd e = {0};
		for (int i = 0; i < 10; i++)
			ewd_learn(&e, i % 2 ? 11 : 9, ewd_alpha(30), 5, 4, 0, 0);
		ok(fabs(e.mean - 10) < 0.2, "ewd: the warm-up learns a plain mean");
		ok(ewd_z(&e, 10, 20, 0, 0) == 0, "ewd: no score before warmup points");
		ok(ewd_z(&e, 30, 5, 0, 0) > 4, "ewd: a far point scores high");
		ok(ewd_z(&e, NAN, 5, 0, 0) == 0, "ewd: a missing point scores 0");
		double m = e.mean, v = e.var;
		ewd_learn(&e, 1000, ewd_alpha(30), 5, 4, 0, 0);
		ok(e.mean - m < 4 * sqrt(v) && e.var == v, "ewd: an outlier moves the mean a little, not the variance");
		ewd_learn(&e, NAN, ewd_alpha(30), 5, 4, 0, 0);
		ok(e.n == 11, "ewd: NaN is not learned");
		ok(ewd_sd(&e, 0.5, 0) >= 5, "ewd: the relative floor applies");
		ewd_reset(&e);
		ewd_learn(&e, 0, 0.1, 1, 0, 0, 0);
		ewd_learn(&e, 0, 0.1, 1, 0, 0, 0);
		ok(isinf(ewd_z(&e, 1, 1, 0, 0)), "ewd: a change of a constant series is infinite");
	}
	{
		struct rate r;
		rate_start(&r, 0);
		for (int b = 0; b < 100; b++) {
			rate_advance(&r, b, ewd_alpha(50), 0);
			rate_add(&r, 1);
			rate_add(&r, 1);
		}
		ok(fabs(r.mean - 2) < 1e-9, "rate: a steady rate is learned");
		rate_advance(&r, 200, ewd_alpha(50), 0);
		ok(r.mean < 0.1, "rate: empty buckets lower it");
		rate_start(&r, 0);
		rate_add(&r, 100);
		rate_advance(&r, 1, 0.1, 5);
		ok(r.mean == 5, "rate: a burst is learned clipped");
	}

	/* smap. */
	{
		struct smap m = SMAP_INIT;
		char k[32];
		int created, good = 1;
		for (int i = 0; i < 1000; i++) {
			snprintf(k, sizeof k, "key%d", i);
			*smap_put(&m, k, strlen(k), &created) = (void *)(intptr_t)(i + 1);
			good &= created;
		}
		for (int i = 0; i < 1000; i += 2) {
			snprintf(k, sizeof k, "key%d", i);
			good &= smap_del(&m, k, strlen(k)) == (void *)(intptr_t)(i + 1);
		}
		for (int i = 0; i < 1000; i++) {
			snprintf(k, sizeof k, "key%d", i);
			void **v = smap_get(&m, k, strlen(k));
			good &= i % 2 ? v && *v == (void *)(intptr_t)(i + 1) : v == NULL;
		}
		ok(good && m.n == 500, "smap: put, del (backward shift) and get agree");
		size_t it = 0, cnt = 0;
		while (smap_next(&m, &it, NULL, NULL, NULL))
			cnt++;
		ok(cnt == 500, "smap: iteration sees every entry once");
		smap_free(&m, NULL);
	}
	buf_free(&b);
	printf("1..%d\n", n);
	return failed;
}
