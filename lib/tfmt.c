/* tfmt: strptime-style time formats (see tfmt.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tfmt.h"
#include "ts.h"

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
	"sep", "oct", "nov", "dec"};

int
tf_num(const char *s, size_t n, size_t *i, int min, int max, int *out)
{
	int v = 0, k = 0;

	while (*i < n && k < max && isdigit((unsigned char)s[*i]))
		v = v * 10 + (s[(*i)++] - '0'), k++;
	if (k < min)
		return -1;
	*out = v;
	return 0;
}

/* An offset "Z", "+hh", "+hhmm" or "+hh:mm". */
int
tf_offset(const char *s, size_t n, size_t *i, struct tf *t)
{
	int h, m = 0, sign;

	if (*i < n && (s[*i] == 'Z' || s[*i] == 'z')) {
		(*i)++;
		t->have_off = 1, t->off = 0;
		return 0;
	}
	if (*i >= n || (s[*i] != '+' && s[*i] != '-'))
		return -1;
	sign = s[(*i)++] == '-' ? -1 : 1;
	if (tf_num(s, n, i, 2, 2, &h) < 0)
		return -1;
	if (*i < n && s[*i] == ':')
		(*i)++;
	if (*i < n && isdigit((unsigned char)s[*i]) && tf_num(s, n, i, 2, 2, &m) < 0)
		return -1;
	t->have_off = 1;
	t->off = sign * (h * 60 + m);
	return 0;
}

/* See tfmt.h. */
long
tf_parse(const char *fmt, const char *s, size_t n, struct tf *t, const char **why)
{
	size_t i = 0;
	int v;

	memset(t, 0, sizeof *t);
	t->epoch = -1;
	*why = "does not match the time format";
	for (; *fmt; fmt++) {
		if (*fmt == ' ') {
			if (i >= n || (s[i] != ' ' && s[i] != '\t'))
				return -1;
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
			continue;
		}
		if (*fmt != '%') {
			if (i >= n || s[i] != *fmt)
				return -1;
			i++;
			continue;
		}
		switch (*++fmt) {
		case 'Y':
			if (tf_num(s, n, &i, 4, 4, &t->Y) < 0)
				return -1;
			t->have_year = 1;
			break;
		case 'y':
			if (tf_num(s, n, &i, 2, 2, &v) < 0)
				return -1;
			t->Y = 2000 + v, t->have_year = 1;
			break;
		case 'm':
			if (tf_num(s, n, &i, 1, 2, &t->m) < 0)
				return -1;
			break;
		case 'e':
			if (i < n && s[i] == ' ')
				i++;
			/* fall through */
		case 'd':
			if (tf_num(s, n, &i, 1, 2, &t->d) < 0)
				return -1;
			break;
		case 'H':
			if (tf_num(s, n, &i, 1, 2, &t->H) < 0)
				return -1;
			break;
		case 'M':
			if (tf_num(s, n, &i, 2, 2, &t->M) < 0)
				return -1;
			break;
		case 'S':
			if (tf_num(s, n, &i, 2, 2, &t->S) < 0)
				return -1;
			break;
		case 'T':
			if (tf_num(s, n, &i, 1, 2, &t->H) < 0 || i >= n || s[i++] != ':' ||
			    tf_num(s, n, &i, 2, 2, &t->M) < 0 || i >= n || s[i++] != ':' ||
			    tf_num(s, n, &i, 2, 2, &t->S) < 0)
				return -1;
			break;
		case 'F':
			if (tf_num(s, n, &i, 4, 4, &t->Y) < 0 || i >= n || s[i++] != '-' ||
			    tf_num(s, n, &i, 1, 2, &t->m) < 0 || i >= n || s[i++] != '-' ||
			    tf_num(s, n, &i, 1, 2, &t->d) < 0)
				return -1;
			t->have_year = 1;
			break;
		case 'f':
			if (i + 1 < n && (s[i] == '.' || s[i] == ',') && isdigit((unsigned char)s[i + 1])) {
				long scale = 100000000;
				for (i++; i < n && isdigit((unsigned char)s[i]); i++, scale /= 10)
					t->ns += scale * (s[i] - '0');
			}
			break;
		case 'b': case 'h': case 'B': {
			size_t j = i, k;
			while (j < n && isalpha((unsigned char)s[j]))
				j++;
			for (k = 0; k < 12; k++)
				if (j - i >= 3 && strncasecmp(s + i, months[k], 3) == 0)
					break;
			if (k == 12)
				return -1;
			t->m = (int)k + 1;
			i = *fmt == 'B' ? j : i + 3;
			break;
		}
		case 'a': case 'A':
			if (i >= n || !isalpha((unsigned char)s[i]))
				return -1;
			while (i < n && isalpha((unsigned char)s[i]))
				i++;
			break;
		case 'z':
			if (tf_offset(s, n, &i, t) < 0)
				return -1;
			break;
		case 'Z':
			if (i + 3 <= n && (strncmp(s + i, "UTC", 3) == 0 || strncmp(s + i, "GMT", 3) == 0))
				i += 3;
			else if (i < n && s[i] == 'Z')
				i++;
			else
				return -1;
			t->have_off = 1, t->off = 0;
			break;
		case 's': {
			int64_t e = 0;
			size_t k = 0;
			while (i < n && k < 12 && isdigit((unsigned char)s[i]))
				e = e * 10 + (s[i++] - '0'), k++;
			if (k == 0)
				return -1;
			t->epoch = e;
			break;
		}
		case '%':
			if (i >= n || s[i] != '%')
				return -1;
			i++;
			break;
		default:
			*why = "bad time format";
			return -1;
		}
	}
	return (long)i;
}

/* Checks a ts_format: known directives, and a date (or %s). */
int
tf_check(const char *fmt, char *why, size_t n)
{
	int m = 0, d = 0, s = 0;

	for (const char *p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		if (*++p == '\0' || strchr("YymdeHMSTFfbhBaAzZs%", *p) == NULL) {
			snprintf(why, n, "unknown directive %%%s in '%s' (known: %%Y %%y %%m %%d %%e %%H "
				 "%%M %%S %%f %%b %%B %%a %%z %%Z %%T %%F %%s %%%%)", *p ? (char[]){*p, 0} : "",
				 fmt);
			return -1;
		}
		m |= strchr("mbhBF", *p) != NULL;
		d |= strchr("deF", *p) != NULL;
		s |= *p == 's';
	}
	if (!s && !(m && d)) {
		snprintf(why, n, "'%s' has no month and day (or %%s)", fmt);
		return -1;
	}
	return 0;
}

static int
tf_ns(struct tf *t, int64_t *ns, const char **why)
{
	char b[64];

	snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%09ld", t->Y, t->m, t->d, t->H, t->M,
		 t->S, t->ns);
	if (t->have_off) {
		int o = t->off < 0 ? -t->off : t->off;
		snprintf(b + strlen(b), 16, "%c%02d:%02d", t->off < 0 ? '-' : '+', o / 60, o % 60);
	}
	return ts_parse(b, strlen(b), ns, why);
}

int
tf_epoch_ns(struct tf_year *x, struct tf *t, int64_t *ns, const char **why)
{
	int first = 0;

	if (t->epoch >= 0)
		return ts_epoch_int(t->epoch * TS_NS_PER_S + t->ns, TS_NS, ns, why);
	if (!t->have_year) {
		first = x->last_month == 0;
		t->Y = x->year;
		/* Dec -> Jan in a file without years: the next year. */
		if (x->last_month == 12 && t->m == 1)
			x->year++, t->Y = x->year;
		x->last_month = t->m;
	}
	if (tf_ns(t, ns, why) < 0)
		return -1;
	/* A guessed year that puts the first time in the future: the year
	 * before (a log of December read in January). */
	if (first && x->not_after && *ns > x->not_after) {
		t->Y = --x->year;
		return tf_ns(t, ns, why);
	}
	return 0;
}

