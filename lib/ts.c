/* ts: timestamp parsing and formatting in nanoseconds since the epoch. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ts.h"

/* The zone of naive timestamps: a fixed offset, or the process TZ. */
static int64_t zone_offset_s;
static int zone_is_tz;

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
mdays(int64_t y, unsigned m)
{
	static const unsigned char n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* Reads exactly k digits at s[*i]. */
static int
digits(const char *s, size_t n, size_t *i, int k, unsigned *out)
{
	unsigned v = 0;
	int j;

	if (*i + (size_t)k > n)
		return -1;
	for (j = 0; j < k; j++) {
		unsigned char c = (unsigned char)s[*i + (size_t)j];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*i += (size_t)k;
	*out = v;
	return 0;
}

/* ns = s * 1e9 + frac with overflow checks. */
static int
secs_to_ns(int64_t secs, int64_t frac, int64_t *ns)
{
	if (secs > INT64_MAX / TS_NS_PER_S || secs < INT64_MIN / TS_NS_PER_S + 1)
		return -1;
	secs *= TS_NS_PER_S;
	if ((frac > 0 && secs > INT64_MAX - frac) || (frac < 0 && secs < INT64_MIN + 1 - frac))
		return -1;
	*ns = secs + frac;
	return 0;
}

static int
is_epoch_string(const char *s, size_t n)
{
	size_t i = 0;
	int dot = 0, dig = 0;

	if (n && (s[0] == '-' || s[0] == '+'))
		i++;
	for (; i < n; i++) {
		if (s[i] == '.' && !dot)
			dot = 1;
		else if (isdigit((unsigned char)s[i]))
			dig++;
		else
			return 0;
	}
	return dig > 0;
}

static int64_t const unit_ns[] = {0, TS_NS_PER_S, TS_NS_PER_MS, 1000, 1};
static enum ts_unit guess_unit(double a);

/* An epoch number written as text, read exactly: the integer part decides
 * the unit by magnitude and the fraction is scaled in integers. */
static int
epoch_string(const char *s, size_t n, int64_t *ns, const char **why)
{
	size_t i = 0;
	int neg = 0, k = 0;
	int64_t v = 0, frac = 0, m, scale = 1;

	if (s[0] == '-' || s[0] == '+')
		neg = s[i++] == '-';
	for (; i < n && s[i] != '.'; i++) {
		if (v > (INT64_MAX - 9) / 10) {
			*why = "timestamp out of range";
			return -1;
		}
		v = v * 10 + (s[i] - '0');
	}
	if (i < n)
		for (i++; i < n; i++) {
			if (k == 18)
				continue;	/* finer than a nanosecond in any unit */
			frac = frac * 10 + (s[i] - '0');
			scale *= 10;
			k++;
		}
	m = unit_ns[guess_unit((double)v)];
	if (v > INT64_MAX / m) {
		*why = "timestamp out of range";
		return -1;
	}
	/* frac / scale of a unit, in ns, rounded down. */
	{
		long double f = (long double)frac * (long double)m / (long double)scale;
		v = v * m + (int64_t)f;
	}
	*ns = neg ? -v : v;
	return 0;
}

/* Seconds east of UTC for a naive local time, from the process TZ. */
static int
tz_offset(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned sec,
	  int64_t *off)
{
	struct tm tm;
	time_t t;
	int64_t utc;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)sec;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1 && errno == EOVERFLOW)
		return -1;
	utc = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	*off = utc - (int64_t)t;
	return 0;
}

/*
 * The canonical form YYYY-MM-DDTHH:MM:SS[.F]Z (1 to 9 digits of F) is read
 * from a one-minute cache: a record stream's times share their minute, so
 * most parses are the seconds and the fraction added to the start of the
 * minute that the full parse found last time (per thread).  canon_tail
 * says whether s is in that form and sets the seconds and the fraction in
 * ns; the minute is s[0..16).
 */
static _Thread_local struct {
	char key[16];
	int64_t base;           /* ns of key's minute */
	int valid;
} minute;

static int
canon_tail(const char *s, size_t n, int64_t *sub)
{
	int64_t frac = 0;
	size_t i, k;

	if (n < 20 || n > 30 || s[n - 1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || !isdigit((unsigned char)s[17]) ||
	    !isdigit((unsigned char)s[18]))
		return 0;
	if (n > 20) {
		if (s[19] != '.' || n < 22)
			return 0;
		for (i = 20, k = 0; i < n - 1; i++, k++) {
			if (!isdigit((unsigned char)s[i]))
				return 0;
			frac = frac * 10 + (s[i] - '0');
		}
		for (; k < 9; k++)
			frac *= 10;
	}
	*sub = ((s[17] - '0') * 10 + (s[18] - '0')) * TS_NS_PER_S + frac;
	return 1;
}

int
ts_parse(const char *s, size_t n, int64_t *ns, const char **why)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, oh, om;
	int64_t frac = 0, days, secs, off = 0;
	size_t i = 0;
	int have_zone = 0, canon;
	int64_t sub = 0;

	canon = canon_tail(s, n, &sub);
	if (canon && minute.valid && memcmp(minute.key, s, 16) == 0 && sub <= 60 * TS_NS_PER_S) {
		*ns = minute.base + sub;
		return 0;
	}
	*why = "invalid timestamp";
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	if (n == 0) {
		*why = "empty timestamp";
		return -1;
	}
	if (is_epoch_string(s, n))
		return epoch_string(s, n, ns, why);
	if (digits(s, n, &i, 4, &y) < 0 || i >= n || s[i++] != '-' ||
	    digits(s, n, &i, 2, &mo) < 0 || i >= n || s[i++] != '-' ||
	    digits(s, n, &i, 2, &d) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo)) {
		*why = "impossible date";
		return -1;
	}
	if (i < n) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return -1;
		i++;
		if (digits(s, n, &i, 2, &h) < 0 || i >= n || s[i++] != ':' ||
		    digits(s, n, &i, 2, &mi) < 0)
			return -1;
		if (i < n && s[i] == ':') {
			i++;
			if (digits(s, n, &i, 2, &sec) < 0)
				return -1;
		}
		if (h > 23 || mi > 59 || sec > 60) {
			*why = "impossible time of day";
			return -1;
		}
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			int k = 0;
			i++;
			while (i < n && isdigit((unsigned char)s[i])) {
				if (++k > 9) {
					*why = "more than 9 fractional digits";
					return -1;
				}
				frac = frac * 10 + (s[i++] - '0');
			}
			if (k == 0)
				return -1;
			for (; k < 9; k++)
				frac *= 10;
		}
		if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
			have_zone = 1;
		} else if (i < n && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i++] == '-' ? -1 : 1;
			om = 0;
			if (digits(s, n, &i, 2, &oh) < 0)
				return -1;
			if (i < n && s[i] == ':')
				i++;
			if (i < n && digits(s, n, &i, 2, &om) < 0)
				return -1;
			if (oh > 23 || om > 59) {
				*why = "impossible zone offset";
				return -1;
			}
			off = sign * (int64_t)(oh * 3600 + om * 60);
			have_zone = 1;
		} else if (i < n && s[i] == ' ' && n - i == 4 && strncmp(s + i, " UTC", 4) == 0) {
			i += 4;
			have_zone = 1;
		}
	}
	if (i != n)
		return -1;
	if (!have_zone) {
		if (zone_is_tz) {
			if (tz_offset(y, mo, d, h, mi, sec, &off) < 0) {
				*why = "timestamp out of range";
				return -1;
			}
		} else {
			off = zone_offset_s;
		}
	}
	days = days_from_civil(y, mo, d);
	secs = days * 86400 + (int64_t)h * 3600 + mi * 60 + sec - off;
	if (secs_to_ns(secs, frac, ns) < 0) {
		*why = "timestamp out of range";
		return -1;
	}
	/* Every second of the minute in range: the cache may serve it. */
	if (canon && *ns - sub > INT64_MIN + 61 * TS_NS_PER_S && *ns - sub < INT64_MAX - 61 * TS_NS_PER_S) {
		memcpy(minute.key, s, 16);
		minute.base = *ns - sub;
		minute.valid = 1;
	}
	return 0;
}

static enum ts_unit
guess_unit(double a)
{
	a = fabs(a);
	if (a < 1e11)
		return TS_S;
	if (a < 1e14)
		return TS_MS;
	if (a < 1e17)
		return TS_US;
	return TS_NS;
}

int
ts_epoch_int(int64_t v, enum ts_unit u, int64_t *ns, const char **why)
{
	int64_t m;

	if (u == TS_AUTO)
		u = guess_unit((double)v);
	m = unit_ns[u];
	if (v > INT64_MAX / m || v < INT64_MIN / m + 1) {
		*why = "timestamp out of range";
		return -1;
	}
	*ns = v * m;
	return 0;
}

int
ts_epoch_double(double v, enum ts_unit u, int64_t *ns, const char **why)
{
	double r;

	if (!isfinite(v)) {
		*why = "timestamp is not a finite number";
		return -1;
	}
	if (u == TS_AUTO)
		u = guess_unit(v);
	r = v * (double)unit_ns[u];
	if (r >= 9.2e18 || r <= -9.2e18) {
		*why = "timestamp out of range";
		return -1;
	}
	/* A double holds ~16 significant digits: an epoch in seconds is good to
	 * about a microsecond, so the fraction is rounded to whole microseconds
	 * (1714557600.123 is .123, not .122999906). */
	{
		double ip = floor(v), f = v - ip;
		int64_t whole = (int64_t)ip * unit_ns[u];
		int64_t fr = unit_ns[u] >= 1000 ?
			(int64_t)llround(f * (double)(unit_ns[u] / 1000)) * 1000 :
			(int64_t)llround(f * (double)unit_ns[u]);
		*ns = whole + fr;
	}
	return 0;
}

int
ts_set_zone(const char *spec)
{
	int64_t ns;
	const char *why;
	char tmp[64];

	zone_is_tz = 0;
	zone_offset_s = 0;
	if (spec == NULL || *spec == '\0' || strcmp(spec, "UTC") == 0 ||
	    strcmp(spec, "Z") == 0 || strcmp(spec, "utc") == 0)
		return 0;
	if (spec[0] == '+' || spec[0] == '-') {
		/* Reuse the parser on a fixed date to read the offset. */
		if (snprintf(tmp, sizeof tmp, "1970-01-02T00:00:00%s", spec) >= (int)sizeof tmp)
			return -1;
		if (ts_parse(tmp, strlen(tmp), &ns, &why) < 0)
			return -1;
		zone_offset_s = 86400 - ns / TS_NS_PER_S;
		return 0;
	}
	if (strchr(spec, '/') == NULL)
		return -1;
	if (setenv("TZ", spec, 1) < 0)
		return -1;
	tzset();
	zone_is_tz = 1;
	return 0;
}

int
ts_unit_parse(const char *s, enum ts_unit *u)
{
	static const char *names[] = {"auto", "s", "ms", "us", "ns"};
	size_t i;

	for (i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(s, names[i]) == 0) {
			*u = (enum ts_unit)i;
			return 0;
		}
	return -1;
}

/* Writes v as exactly k decimal digits (the int64 range keeps years to
 * four). */
static void
put_digits(char *p, unsigned v, int k)
{
	while (k-- > 0) {
		p[k] = (char)('0' + v % 10);
		v /= 10;
	}
}

char *
ts_format(int64_t ns, char *out)
{
	int64_t ms = ns / TS_NS_PER_MS, secs, days, rem, y;
	unsigned m, d;

	if (ns % TS_NS_PER_MS < 0)
		ms--;
	secs = ms / 1000;
	if (ms % 1000 < 0)
		secs--;
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	put_digits(out, (unsigned)y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)(rem / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)(rem / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)(rem % 60), 2);
	out[19] = '.';
	put_digits(out + 20, (unsigned)(ms - secs * 1000), 3);
	out[23] = 'Z';
	out[24] = '\0';
	return out;
}

int
ts_duration(const char *s, int64_t *ns)
{
	char *end;
	double v, mul = 1e9;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v) || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1e9;
	else if (strcmp(end, "ms") == 0)
		mul = 1e6;
	else if (strcmp(end, "us") == 0)
		mul = 1e3;
	else if (strcmp(end, "ns") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mul = 60e9;
	else if (strcmp(end, "h") == 0)
		mul = 3600e9;
	else if (strcmp(end, "d") == 0)
		mul = 86400e9;
	else
		return -1;
	if (v * mul >= 9.2e18)
		return -1;
	*ns = (int64_t)llround(v * mul);
	return 0;
}

int64_t
ts_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * TS_NS_PER_S + t.tv_nsec;
}

int64_t
ts_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * TS_NS_PER_S + t.tv_nsec;
}

int64_t
ts_parse_ms(const char *s)
{
	int64_t ns;
	const char *why;

	if (s == NULL || ts_parse(s, strlen(s), &ns, &why) < 0)
		return -1;
	return ns / TS_NS_PER_MS;
}
