/*
 * ts: timestamps.  Internally a timestamp is an int64_t count of nanoseconds
 * since 1970-01-01T00:00:00Z, which covers 1677-09-21 to 2262-04-11; inputs
 * outside that range are rejected.  On output every timestamp is fixed-width
 * RFC 3339 UTC with milliseconds ("2024-05-01T10:00:00.123Z", TS_LEN bytes),
 * so timestamps sort as strings.
 */
#ifndef AIOPS_TS_H
#define AIOPS_TS_H

#include <stddef.h>
#include <stdint.h>

#define TS_LEN 24               /* strlen("2024-05-01T10:00:00.123Z") */
#define TS_NONE INT64_MIN       /* "no timestamp" */
#define TS_NS_PER_MS 1000000LL
#define TS_NS_PER_S 1000000000LL

/* Units of a numeric epoch value.  TS_AUTO decides by magnitude: |v| < 1e11
 * seconds, < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds.  (So
 * in TS_AUTO, millisecond values before 1973-03-03 read as seconds: name the
 * unit when a dataset has such values.) */
enum ts_unit { TS_AUTO, TS_S, TS_MS, TS_US, TS_NS };

/*
 * Parses a timestamp string of n bytes:
 *   RFC 3339: 2024-05-01T10:00:00Z, with 't', ' ' or 'T' between date and
 *     time, 0 to 9 fractional digits, and 'Z' or an offset ±HH:MM (±HHMM
 *     and ±HH are also taken);
 *   the same without a zone ("2024-05-01 10:00:00.5"), read in the zone set
 *     with ts_set_zone() (UTC unless set);
 *   a bare date "2024-05-01" (midnight in that zone);
 *   a decimal epoch number ("1714557600", "1714557600.25"), see ts_epoch.
 * Impossible dates (2023-02-29, 24:00:00, month 13) are rejected.
 * Returns 0 and sets *ns, or -1 and sets *why to a static reason.
 */
int ts_parse(const char *s, size_t n, int64_t *ns, const char **why);

/* A timestamp (any form ts_parse reads) in ms since the epoch, or -1 when
 * s is NULL or not a timestamp. */
int64_t ts_parse_ms(const char *s);

/* Converts an integer epoch value in unit u.  Returns 0, or -1 with *why
 * when out of range. */
int ts_epoch_int(int64_t v, enum ts_unit u, int64_t *ns, const char **why);
/* Converts a fractional epoch value (a JSON double) in unit u. */
int ts_epoch_double(double v, enum ts_unit u, int64_t *ns, const char **why);

/* Sets the zone for naive timestamps: "UTC", "Z", a fixed offset such as
 * "+02:00" or "-0530", or an IANA name such as "Europe/Paris" (which sets
 * TZ for this process).  Returns 0, or -1 when the spec is not understood. */
int ts_set_zone(const char *spec);

/* Parses a unit name: auto, s, ms, us, ns.  Returns -1 if unknown. */
int ts_unit_parse(const char *s, enum ts_unit *u);

/* Writes the fixed-width form of ns (rounded down to the millisecond) into
 * out, which must hold TS_LEN + 1 bytes.  Returns out. */
char *ts_format(int64_t ns, char *out);

/* Parses a duration such as "90", "90s", "1.5m", "2h", "250ms", "1d" into
 * nanoseconds (a bare number is seconds).  Returns 0 or -1. */
int ts_duration(const char *s, int64_t *ns);

/* Wall-clock and monotonic now, in nanoseconds. */
int64_t ts_now(void);
int64_t ts_mono(void);

#endif
