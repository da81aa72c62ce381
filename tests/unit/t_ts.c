/* Unit tests of lib/ts: parsing every accepted form, rejecting impossible
 * dates, epoch magnitudes, zones, durations and the fixed-width format. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "ts.h"

/* Parses s and compares the formatted result with want (NULL: must fail). */
static void
parse_is(const char *s, const char *want)
{
	int64_t ns;
	const char *why = NULL;
	char out[TS_LEN + 1], name[256];
	int rc = ts_parse(s, strlen(s), &ns, &why);

	snprintf(name, sizeof name, "parse '%s' -> %s", s, want ? want : "rejected");
	if (want == NULL) {
		tap_ok(rc < 0 && why != NULL, name);
		return;
	}
	tap_is_str(rc == 0 ? ts_format(ns, out) : why, want, name);
}

static void
epoch_is(int64_t v, enum ts_unit u, const char *want)
{
	int64_t ns;
	const char *why;
	char out[TS_LEN + 1], name[128];

	snprintf(name, sizeof name, "epoch %lld unit %d -> %s", (long long)v, (int)u, want);
	tap_is_str(ts_epoch_int(v, u, &ns, &why) == 0 ? ts_format(ns, out) : why, want, name);
}

static void
dur_is(const char *s, int64_t want)
{
	int64_t ns = -1;
	char name[128];

	snprintf(name, sizeof name, "duration '%s' = %lld ns", s, (long long)want);
	tap_ok(want < 0 ? ts_duration(s, &ns) < 0 : ts_duration(s, &ns) == 0 && ns == want, name);
}

int
main(void)
{
	int64_t ns;
	const char *why;
	char out[TS_LEN + 1];

	/* RFC 3339 and friends. */
	parse_is("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000Z");
	parse_is("2024-05-01T10:00:00.123Z", "2024-05-01T10:00:00.123Z");
	parse_is("2024-05-01T10:00:00.1Z", "2024-05-01T10:00:00.100Z");
	parse_is("2024-05-01T10:00:00.123456789Z", "2024-05-01T10:00:00.123Z");
	parse_is("2024-05-01T10:00:00.1234567891Z", NULL);
	parse_is("2024-05-01t10:00:00z", "2024-05-01T10:00:00.000Z");
	parse_is("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.000Z");
	parse_is("2024-05-01T04:30:00-0530", "2024-05-01T10:00:00.000Z");
	parse_is("2024-05-01T00:30:00+01:00", "2024-04-30T23:30:00.000Z");
	parse_is("2024-05-01 10:00:00", "2024-05-01T10:00:00.000Z");
	parse_is("2024-05-01 10:00:00.5", "2024-05-01T10:00:00.500Z");
	parse_is("2024-05-01 10:00", "2024-05-01T10:00:00.000Z");
	parse_is("2024-05-01", "2024-05-01T00:00:00.000Z");
	parse_is("  2024-05-01T10:00:00Z ", "2024-05-01T10:00:00.000Z");
	/* Leap years and impossible dates. */
	parse_is("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z");
	parse_is("2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z");
	parse_is("2023-02-29T00:00:00Z", NULL);
	parse_is("1900-02-29T00:00:00Z", NULL);
	parse_is("2024-13-01T00:00:00Z", NULL);
	parse_is("2024-04-31T00:00:00Z", NULL);
	parse_is("2024-05-01T24:00:00Z", NULL);
	parse_is("2024-05-01T23:60:00Z", NULL);
	parse_is("2024-05-01T10:00:00+25:00", NULL);
	parse_is("2024-05-01T10:00:00Zjunk", NULL);
	parse_is("yesterday", NULL);
	parse_is("", NULL);
	parse_is("2024-5-1", NULL);
	/* Out of the int64 nanosecond range. */
	parse_is("1500-01-01T00:00:00Z", NULL);
	parse_is("2300-01-01T00:00:00Z", NULL);
	parse_is("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z");
	parse_is("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z");
	/* Epoch strings decide by magnitude. */
	parse_is("1714557600", "2024-05-01T10:00:00.000Z");
	parse_is("1714557600.25", "2024-05-01T10:00:00.250Z");
	parse_is("1714557600123", "2024-05-01T10:00:00.123Z");
	parse_is("1714557600.999999", "2024-05-01T10:00:00.999Z");
	parse_is("1714557600123456789", "2024-05-01T10:00:00.123Z");
	parse_is("99999999999999999999", NULL);
	/* Numeric epochs. */
	epoch_is(1714557600LL, TS_AUTO, "2024-05-01T10:00:00.000Z");
	epoch_is(1714557600123LL, TS_AUTO, "2024-05-01T10:00:00.123Z");
	epoch_is(1714557600123456LL, TS_AUTO, "2024-05-01T10:00:00.123Z");
	epoch_is(1714557600123456789LL, TS_AUTO, "2024-05-01T10:00:00.123Z");
	epoch_is(0, TS_AUTO, "1970-01-01T00:00:00.000Z");
	epoch_is(1714557600LL, TS_MS, "1970-01-20T20:15:57.600Z");
	epoch_is(9000000000000000000LL, TS_S, "timestamp out of range");
	tap_ok(ts_epoch_double(1714557600.5, TS_AUTO, &ns, &why) == 0 &&
	       strcmp(ts_format(ns, out), "2024-05-01T10:00:00.500Z") == 0, "double epoch seconds");
	tap_ok(ts_epoch_double(1714557600.123, TS_AUTO, &ns, &why) == 0 &&
	       strcmp(ts_format(ns, out), "2024-05-01T10:00:00.123Z") == 0, "double epoch keeps milliseconds");
	tap_ok(ts_epoch_double(-1.5, TS_S, &ns, &why) == 0 &&
	       strcmp(ts_format(ns, out), "1969-12-31T23:59:58.500Z") == 0, "negative double epoch");
	tap_ok(ts_epoch_double(0.0 / 0.0, TS_AUTO, &ns, &why) < 0, "NaN epoch rejected");
	tap_ok(ts_parse_ms("2024-05-01T10:00:01.250Z") == 1714557601250LL, "ts_parse_ms: ms since the epoch");
	tap_ok(ts_parse_ms(NULL) == -1 && ts_parse_ms("soon") == -1, "ts_parse_ms: -1 for NULL or no timestamp");
	/* Naive timestamps follow the configured zone. */
	tap_ok(ts_set_zone("+02:00") == 0, "zone +02:00 accepted");
	parse_is("2024-05-01 12:00:00", "2024-05-01T10:00:00.000Z");
	parse_is("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000Z");
	tap_ok(ts_set_zone("Europe/Paris") == 0, "zone Europe/Paris accepted");
	parse_is("2024-01-15 12:00:00", "2024-01-15T11:00:00.000Z");
	parse_is("2024-07-15 12:00:00", "2024-07-15T10:00:00.000Z");
	tap_ok(ts_set_zone("nonsense") < 0, "unknown zone rejected");
	tap_ok(ts_set_zone("UTC") == 0, "back to UTC");
	parse_is("2024-05-01 12:00:00", "2024-05-01T12:00:00.000Z");
	/* Formatting rounds down, also before 1970. */
	tap_is_str(ts_format(-1, out), "1969-12-31T23:59:59.999Z", "format -1 ns");
	tap_is_str(ts_format(999999, out), "1970-01-01T00:00:00.000Z", "format 999999 ns");
	/* Durations. */
	dur_is("90", 90 * TS_NS_PER_S);
	dur_is("90s", 90 * TS_NS_PER_S);
	dur_is("1.5m", 90 * TS_NS_PER_S);
	dur_is("2h", 7200 * TS_NS_PER_S);
	dur_is("250ms", 250 * TS_NS_PER_MS);
	dur_is("1d", 86400 * TS_NS_PER_S);
	dur_is("-5s", -1);
	dur_is("5 parsecs", -1);
	/* The one-minute cache of the canonical form gives what the full parse
	 * gives (a lowercase z is not canonical: always parsed in full). */
	{
		static const char *const canon[] = {
			"2024-05-01T10:00:00.000Z", "2024-05-01T10:00:59.999Z", "2024-05-01T10:00:07Z",
			"2024-05-01T10:00:07.5Z", "2024-05-01T10:00:07.123456789Z",
			"2024-05-01T10:00:60Z", "2024-05-01T10:00:60.5Z", "2024-05-01T10:00:61Z",
			"2024-05-01T10:00:07.1234567890Z", "2024-05-01T10:00:7.5Z", "2024-05-01T10:00:07.Z",
			"2024-05-01T10:01:00Z", "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:01Z",
			"2262-04-11T23:47:16.854775807Z", "2262-04-11T23:47:17Z", "2262-04-11T23:47:16Z",
			"1677-09-21T00:12:44Z", "1677-09-21T00:12:43.145224193Z",
			"2024-02-30T10:00:00Z", "2024-02-29T24:00:00Z", NULL,
		};
		int same = 1;
		for (int rep = 0; rep < 2; rep++)
			for (int i = 0; canon[i]; i++) {
				char low[40];
				int64_t a = 0, b = 0;
				const char *wa = NULL, *wb = NULL;
				size_t n = strlen(canon[i]);
				int ra = ts_parse(canon[i], n, &a, &wa);
				memcpy(low, canon[i], n + 1);
				low[n - 1] = 'z';
				int rb = ts_parse(low, n, &b, &wb);
				if (ra != rb || (ra == 0 && a != b) || (ra < 0 && strcmp(wa, wb) != 0)) {
					printf("#   %s: %d %lld (%s) vs %d %lld (%s)\n", canon[i], ra, (long long)a,
					       ra < 0 ? wa : "", rb, (long long)b, rb < 0 ? wb : "");
					same = 0;
				}
			}
		tap_ok(same, "the minute cache agrees with the full parse, edges and errors included");
	}
	return tap_done();
}
