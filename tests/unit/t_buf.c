/* Unit tests of lib/buf: the hand-made decimal appends against printf. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

int
main(void)
{
	static const long long sv[] = {0, 1, -1, 9, 10, -10, 99, 100, 12345, -67890, INT_MAX, INT_MIN,
				       LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
	static const unsigned long long uv[] = {0, 7, 10, 4294967296ULL, ULLONG_MAX};
	struct buf b = BUF_INIT(0), small = BUF_INIT(3);
	char want[64];
	int ok = 1;

	for (size_t i = 0; i < sizeof sv / sizeof *sv; i++) {
		buf_reset(&b);
		buf_adds(&b, "k\x1f");
		buf_addll(&b, sv[i]);
		snprintf(want, sizeof want, "k\x1f%lld", sv[i]);
		if (strcmp(b.p, want) != 0) {
			printf("#   got '%s' want '%s'\n", b.p, want);
			ok = 0;
		}
	}
	tap_ok(ok, "buf_addll writes what %lld does, LLONG_MIN too");
	ok = 1;
	for (size_t i = 0; i < sizeof uv / sizeof *uv; i++) {
		buf_reset(&b);
		buf_addull(&b, uv[i]);
		snprintf(want, sizeof want, "%llu", uv[i]);
		ok &= strcmp(b.p, want) == 0 && b.len == strlen(want);
	}
	tap_ok(ok, "buf_addull writes what %llu does");
	/* a pseudo-random sweep */
	ok = 1;
	unsigned long long x = 88172645463325252ULL;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		long long v = (long long)(x >> (x % 64));
		if (i & 1)
			v = -v;
		buf_reset(&b);
		buf_addll(&b, v);
		snprintf(want, sizeof want, "%lld", v);
		ok &= strcmp(b.p, want) == 0;
	}
	tap_ok(ok, "100000 values of every magnitude");
	tap_ok(buf_addll(&small, 123) == 0 && buf_addll(&small, 4) == -1 && small.len == 3 &&
	       strcmp(small.p, "123") == 0, "past max: -1 and the buffer unchanged");
	buf_free(&b);
	buf_free(&small);
	return tap_done();
}
