/* tap.h: the few TAP helpers the unit tests use.  Include once per test
 * program; end main() with `return tap_done();`. */
#ifndef AIOPS_TAP_H
#define AIOPS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_UNUSED __attribute__((unused))

TAP_UNUSED static void
tap_ok(int cond, const char *name)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
}

TAP_UNUSED static void
tap_is_str(const char *got, const char *want, const char *name)
{
	int ok = (got == NULL && want == NULL) ||
		 (got != NULL && want != NULL && strcmp(got, want) == 0);

	tap_ok(ok, name);
	if (!ok)
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
}

TAP_UNUSED static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
