/* Unit tests of lib/rx: the expansion estimate and the refusals. */
#include <string.h>

#include "rx.h"
#include "tap.h"

static int
compiles(const char *pat)
{
	regex_t re;
	char why[160];

	if (rx_compile(&re, pat, why, sizeof why) < 0)
		return 0;
	regfree(&re);
	return 1;
}

static int
refused(const char *pat, const char *want)
{
	regex_t re;
	char why[160];

	if (rx_compile(&re, pat, why, sizeof why) == 0) {
		regfree(&re);
		return 0;
	}
	return strstr(why, want) != NULL;
}

int
main(void)
{
	char big[RX_MAX_LEN + 2];

	tap_ok(rx_cost("abc") == 3, "three atoms");
	tap_ok(rx_cost("a{10}") == 10, "a bound multiplies its atom");
	tap_ok(rx_cost("(ab){10}") == 20, "a bound multiplies a group");
	tap_ok(rx_cost("((a{10}){10}){10}") == 1000, "nested bounds multiply");
	tap_ok(rx_cost("a|bc") == 3, "alternatives add");
	tap_ok(rx_cost("[a-z]{0,62}") == 62, "a bracket is one atom");
	tap_ok(rx_cost("[]a{]{3}") == 3, "a ']' first in a bracket does not close it");
	tap_ok(rx_cost("[[:alpha:]]x") == 2, "a class inside a bracket");
	tap_ok(rx_cost("a\\{5}") == 4, "an escaped brace is a literal, not a bound");
	tap_ok(rx_cost("a{,5}") == 5, "'{' that is no bound is a literal");
	tap_ok(rx_cost("((a{100}){100}){100}") > RX_MAX_NODES, "the million-node pattern saturates");
	tap_ok(compiles("[a-z0-9][a-z0-9-]{0,62}"), "the default target pattern compiles");
	tap_ok(compiles("previous|v?[0-9]+\\.[0-9]+\\.[0-9]+"), "a version pattern compiles");
	tap_ok(refused("((a{100}){100}){100}", "too many repetitions"), "nested bounds are refused");
	tap_ok(refused("(((((((a+)+)+)+)+)+)+){4000}", "too many repetitions"), "stacked '+' count");
	tap_ok(refused("[[:nope:]]", "nvalid"), "regcomp's own errors come through");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	tap_ok(refused(big, "too long"), "a pattern over RX_MAX_LEN is refused");
	tap_ok(compiles("x{2048}") && refused("x{2049}", "too many"), "the limit is inclusive");
	return tap_done();
}
