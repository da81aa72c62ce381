/* Unit tests of lib/svctab (aiops-correlate's bounded service table, TAP). */
#include <stdio.h>
#include <string.h>

#include "svctab.h"

#define S 1000000000LL   /* one second in ns */

static int n, failed;

static void
ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, name);
	if (!cond)
		failed = 1;
}

static unsigned char busy_mask[16], forgotten[16];
static int forget_calls;

static void
busy(unsigned char *b, int span, void *arg)
{
	(void)arg;
	for (int i = 0; i < span && i < 16; i++)
		b[i] = busy_mask[i];
}

static void
forget(const unsigned char *dead, int span, void *arg)
{
	(void)arg;
	forget_calls++;
	for (int i = 0; i < span && i < 16; i++)
		forgotten[i] |= dead[i];
}

int
main(void)
{
	static const struct svctab_ops ops = {busy, forget, NULL};
	struct svctab t;
	int a, b, c;

	svctab_init(&t, 2, 10 * S, &ops);
	a = svctab_get(&t, "a", 1, 0);
	b = svctab_get(&t, "b", 1, 1 * S);
	ok(a == 0 && b == 1 && t.live == 2, "two names get indices 0 and 1");
	ok(svctab_get(&t, "a", 0, 2 * S) == 0 && svctab_get(&t, "zz", 0, 2 * S) == -1,
	   "a known name is found, an absent one is not added without add");
	ok(svctab_get(&t, "c", 1, 5 * S) == -1 && t.refused == 1 && t.refusals == 1 &&
	   forget_calls == 0, "full and nothing idle: refused, counted, nothing forgotten");
	ok(svctab_get(&t, "c", 1, 6 * S) == -1 && t.refused == 1 && t.refusals == 2,
	   "the same name refused again: one name, two refusals");
	ok(t.first_refused && strcmp(t.first_refused, "c") == 0, "the first refused name is kept");
	/* "a" was looked up at 2 s: idle 10 s at 12 s; "b" at 1 s: at 11 s. */
	busy_mask[1] = 1;
	c = svctab_get(&t, "c", 1, 11 * S);
	ok(c == -1 && forget_calls == 0, "b idle but busy, a not idle yet: still refused");
	c = svctab_get(&t, "c", 1, 12 * S);
	ok(c == 0 && forgotten[0] && !forgotten[1] && t.evicted == 1,
	   "a idle and not busy: forgotten, its index reused by c");
	ok(strcmp(svctab_name(&t, c), "c") == 0 && svctab_get(&t, "a", 0, 12 * S) == -1,
	   "the reused index names c, a is gone");
	busy_mask[1] = 0;
	ok(svctab_get(&t, "d", 1, 12 * S) == -1 && t.evicted == 1,
	   "b was busy at the last pass: no new pass within a second, d refused");
	ok(svctab_get(&t, "d", 1, 13 * S) == 1 && t.evicted == 2 && t.live == 2,
	   "a second later b is no longer busy: evicted for d");
	ok(t.refused == 2 && t.refusals == 4, "names refused, then admitted, stay counted once");
	svctab_free(&t);

	/* A pass that evicts everything leaves no due time behind: the names
	 * added after it must still become evictable. */
	svctab_init(&t, 1, 10 * S, NULL);
	svctab_get(&t, "a", 1, 0);
	ok(svctab_get(&t, "b", 1, 20 * S) == 0 && t.evicted == 1, "a idle: evicted for b");
	ok(svctab_get(&t, "c", 1, 40 * S) == 0 && t.evicted == 2, "b idle in turn: evicted for c");
	svctab_free(&t);

	/* The refused count is of distinct names, beyond max. */
	svctab_init(&t, 1, 10 * S, NULL);
	svctab_get(&t, "x", 1, 0);
	for (int i = 0; i < 100; i++) {
		char name[16];
		snprintf(name, sizeof name, "j%d", i % 50);
		svctab_get(&t, name, 1, 1 * S);
	}
	ok(t.refused == 50 && t.refusals == 100, "50 distinct names in 100 refusals");
	svctab_free(&t);
	printf("1..%d\n", n);
	return failed;
}
