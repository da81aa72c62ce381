/*
 * rd_text: plain-text logs, one record per line that starts with a time.
 *
 *   text        the time at the start of the line in dataset.logs.ts_format
 *               (strptime-style, see lib/tfmt.h), then an optional level word
 *               ("ERROR", "[warn]", "info:"; a [thread], a thread number
 *               or "-" may come first), then the message;
 *   syslog      RFC 5424 ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG")
 *               and RFC 3164 ("[<PRI>]Mmm dd hh:mm:ss HOST TAG[PID]: MSG",
 *               or with an RFC 3339 time as rsyslog writes it by default),
 *               told apart per line; level from the PRI's severity (INFO
 *               without a PRI), service from APP-NAME or TAG;
 *   access_log  Apache/nginx common and combined log format ("HOST IDENT
 *               USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "REQUEST" STATUS BYTES
 *               ["REFERER" "AGENT"]"); level from the status (5xx ERROR,
 *               4xx WARN, else INFO), msg the request line;
 *   error_log   Apache ("[Wed Oct 11 14:32:52[.ffffff] 2000] [mod:level]
 *               [pid N] msg" and the 2.2 "[...] [level] msg") and nginx
 *               ("2024/05/01 10:00:00 [level] PID#TID: msg") error logs;
 *   log4j       log4j/logback/Spring lines "%d %p %c - %m" style: an ISO
 *               date and time (',' or '.' before the milliseconds), then a
 *               level word among the next three words ([thread] and "-"
 *               may come before it), then an optional logger ("LOGGER - "
 *               or "LOGGER : ") and the message.
 *
 * Options (dataset.logs): ts_format (text), service (the service of lines
 * that name none; default: the file name up to its first '.'), year (for
 * times without one, RFC 3164: default the current UTC year, or the year
 * before when that puts the first line more than a day in the future; a
 * month that goes back from Dec to Jan starts the next year).
 *
 * A line that starts with a space or a tab continues the record before it
 * (a stack trace): it is appended to its msg after a newline and is not a
 * record of its own; one with no record before it, or after a rejected
 * one, is a reject.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "js.h"
#include "rd.h"
#include "tfmt.h"

enum preset { P_TEXT, P_SYSLOG, P_ACCESS, P_ERROR, P_LOG4J };

struct tx {
	enum preset preset;
	const char *ts_format;
	char *service;          /* the option, or the file's stem */
	struct tf_year yr;     /* for times without a year */
	/* the record being read, held until its continuation lines are in */
	struct buf held;        /* the next record's first line */
	unsigned long held_line;
	int have_held, eof;
	struct buf msg, head, attrs;
};

/* ns from a broken-down time: the zone of the line, else the dataset's;
 * a time without a year takes the file's (x->yr). */
#define tf_ns(x, t, ns, why) tf_epoch_ns(&(x)->yr, (t), (ns), (why))

/* ---- a parsed line ---- */

struct line {
	int64_t ts;
	const char *level;
	const char *svc;
	size_t svcn;
	const char *msg;
	size_t msgn;
};

static size_t
skip_blank(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

static size_t
word_end(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] != ' ' && s[i] != '\t')
		i++;
	return i;
}

/* The end of the token at s[i]: a "[...]" (brackets nest, blanks inside,
 * as in "[Socket Reader #1 for port 62260]") ends after its closing
 * bracket, other words at the next blank. */
static size_t
tok_end(const char *s, size_t n, size_t i)
{
	int depth = 0;

	for (size_t j = i; i < n && s[i] == '[' && j < n; j++) {
		if (s[j] == '[')
			depth++;
		else if (s[j] == ']' && --depth == 0) {
			if (j + 1 == n || s[j + 1] == ' ' || s[j + 1] == '\t')
				return j + 1;
			break;
		}
	}
	return word_end(s, n, i);
}

/* A level word: "ERROR", "[warn]", "info:" (upper case, or in brackets,
 * or before a colon: a message starting "Error connecting" keeps its
 * word; at least 4 letters unless in brackets).  Returns the level or NULL. */
static const char *
level_word(const char *s, size_t n)
{
	int marked = 0, upper = 1;

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
		s++, n -= 2, marked = 2;
	else if (n && s[n - 1] == ':')
		n--, marked = 1;
	if (n < 3 || (n < 4 && marked != 2))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!isalpha((unsigned char)s[i]) && !(i == n - 1 && isdigit((unsigned char)s[i])))
			return NULL;
		upper &= !islower((unsigned char)s[i]);
	}
	return upper || marked ? rd_level_text(s, n) : NULL;
}

/* JSON-escaped attrs member "k":"v" into x->attrs. */
static void
attr(struct tx *x, const char *k, const char *v, size_t vn)
{
	if (x->attrs.len)
		buf_addc(&x->attrs, ',');
	wstrz(&x->attrs, k);
	buf_addc(&x->attrs, ':');
	wstr(&x->attrs, v, vn);
}

static const char *
syslog_level(int pri)
{
	static const char *const sev[] = {"FATAL", "FATAL", "FATAL", "ERROR", "WARN", "INFO", "INFO",
		"DEBUG"};
	return sev[pri & 7];
}

static int
parse_syslog(struct tx *x, const char *s, size_t n, struct line *L, const char **why)
{
	size_t i = 0, j;
	int pri = -1;
	struct tf t;
	long k;

	if (n && s[0] == '<') {
		i = 1;
		if (tf_num(s, n, &i, 1, 3, &pri) < 0 || pri > 191 || i >= n || s[i] != '>') {
			*why = "bad syslog <PRI>";
			return -1;
		}
		i++;
		L->level = syslog_level(pri);
	}
	if (pri >= 0 && i + 1 < n && s[i] == '1' && s[i + 1] == ' ') {
		/* RFC 5424 */
		const char *f[5];
		size_t fn[5];
		i += 2;
		for (int q = 0; q < 5; q++) {
			i = skip_blank(s, n, i);
			j = word_end(s, n, i);
			if (j == i) {
				*why = "RFC 5424 syslog: missing fields";
				return -1;
			}
			f[q] = s + i, fn[q] = j - i;
			i = j;
		}
		if (fn[0] == 1 && f[0][0] == '-') {
			*why = "RFC 5424 syslog: no timestamp (-)";
			return -1;
		}
		if (ts_parse(f[0], fn[0], &L->ts, why) < 0)
			return -1;
		if (!(fn[2] == 1 && f[2][0] == '-'))
			L->svc = f[2], L->svcn = fn[2];
		if (!(fn[1] == 1 && f[1][0] == '-'))
			attr(x, "host", f[1], fn[1]);
		if (!(fn[3] == 1 && f[3][0] == '-'))
			attr(x, "pid", f[3], fn[3]);
		if (!(fn[4] == 1 && f[4][0] == '-'))
			attr(x, "msgid", f[4], fn[4]);
		/* structured data: "-" or [id k="v" ...]... (']' may be escaped in values) */
		i = skip_blank(s, n, i);
		if (i < n && s[i] == '-') {
			i++;
		} else if (i < n && s[i] == '[') {
			size_t st = i;
			int q = 0;
			while (i < n && s[i] == '[') {
				for (i++; i < n && (q || s[i] != ']'); i++) {
					if (s[i] == '\\' && i + 1 < n)
						i++;
					else if (s[i] == '"')
						q = !q;
				}
				if (i >= n) {
					*why = "RFC 5424 syslog: unterminated structured data";
					return -1;
				}
				i++;
			}
			attr(x, "structured_data", s + st, i - st);
		} else {
			*why = "RFC 5424 syslog: missing structured data";
			return -1;
		}
		i = skip_blank(s, n, i);
		/* a UTF-8 byte-order mark before the message */
		if (n - i >= 3 && memcmp(s + i, "\xef\xbb\xbf", 3) == 0)
			i += 3;
		L->msg = s + i, L->msgn = n - i;
		return 0;
	}
	/* RFC 3164, or its form with an RFC 3339 time (rsyslog's default on
	 * current distributions) */
	j = word_end(s, n, i);
	if (j - i >= 19 && strspn(s + i, "0123456789") == 4 && s[i + 4] == '-' && j < n) {
		if (ts_parse(s + i, j - i, &L->ts, why) < 0)
			return -1;
		i = j;
	} else if ((k = tf_parse("%b %e %T", s + i, n - i, &t, why)) < 0 ||
		   (size_t)(i += (size_t)k) >= n || s[i] != ' ') {
		*why = "not RFC 3164 or RFC 5424 syslog (expected '[<PRI>]Mmm dd hh:mm:ss HOST TAG: MSG')";
		return -1;
	} else if (tf_ns(x, &t, &L->ts, why) < 0) {
		return -1;
	}
	i = skip_blank(s, n, i);
	j = word_end(s, n, i);
	if (j == i) {
		*why = "RFC 3164 syslog: no host";
		return -1;
	}
	attr(x, "host", s + i, j - i);
	i = skip_blank(s, n, j);
	/* TAG[PID]: or TAG: */
	j = i;
	while (j < n && s[j] != ':' && s[j] != '[' && s[j] != ' ')
		j++;
	if (j > i && j < n && (s[j] == ':' || s[j] == '[')) {
		size_t te = j;
		if (s[j] == '[') {
			size_t p = j + 1;
			while (p < n && isdigit((unsigned char)s[p]))
				p++;
			if (p < n && s[p] == ']' && p + 1 < n && s[p + 1] == ':') {
				attr(x, "pid", s + j + 1, p - j - 1);
				j = p + 1;
			} else {
				j = n;  /* not a tag */
			}
		}
		if (j < n && s[j] == ':') {
			L->svc = s + i, L->svcn = te - i;
			i = j + 1;
		}
	}
	i = skip_blank(s, n, i);
	L->msg = s + i, L->msgn = n - i;
	if (L->level == NULL)
		L->level = "INFO";
	return 0;
}

/* A double-quoted field of an access log (backslash escapes). */
static int
quoted(const char *s, size_t n, size_t *i, const char **p, size_t *pn)
{
	size_t j;

	if (*i >= n || s[*i] != '"')
		return -1;
	for (j = *i + 1; j < n && s[j] != '"'; j++)
		if (s[j] == '\\' && j + 1 < n)
			j++;
	if (j >= n)
		return -1;
	*p = s + *i + 1, *pn = j - *i - 1;
	*i = j + 1;
	return 0;
}

static int
parse_access(struct tx *x, const char *s, size_t n, struct line *L, const char **why)
{
	static const char *const names[] = {"client", "ident", "user"};
	size_t i = 0, j, qn;
	const char *q;
	struct tf t;
	long k;
	int status;

	*why = "not an access log line (expected 'HOST IDENT USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "
	       "\"REQUEST\" STATUS BYTES')";
	for (int f = 0; f < 3; f++) {
		j = word_end(s, n, i);
		if (j == i || j >= n)
			return -1;
		if (!(j - i == 1 && s[i] == '-'))
			attr(x, names[f], s + i, j - i);
		i = skip_blank(s, n, j);
	}
	if ((k = tf_parse("[%d/%b/%Y:%T %z]", s + i, n - i, &t, why)) < 0) {
		*why = "access log: bad [dd/Mon/yyyy:HH:MM:SS +zzzz] time";
		return -1;
	}
	i = skip_blank(s, n, i + (size_t)k);
	if (tf_ns(x, &t, &L->ts, why) < 0)
		return -1;
	if (quoted(s, n, &i, &L->msg, &L->msgn) < 0) {
		*why = "access log: no quoted request";
		return -1;
	}
	i = skip_blank(s, n, i);
	if (tf_num(s, n, &i, 3, 3, &status) < 0 || (i < n && s[i] != ' ')) {
		*why = "access log: no 3-digit status";
		return -1;
	}
	attr(x, "status", s + i - 3, 3);
	L->level = status >= 500 ? "ERROR" : status >= 400 ? "WARN" : "INFO";
	i = skip_blank(s, n, i);
	j = word_end(s, n, i);
	if (j == i) {
		*why = "access log: no byte count";
		return -1;
	}
	if (!(j - i == 1 && s[i] == '-'))
		attr(x, "bytes", s + i, j - i);
	i = skip_blank(s, n, j);
	if (quoted(s, n, &i, &q, &qn) == 0) {         /* combined: referer, agent */
		if (!(qn == 1 && q[0] == '-'))
			attr(x, "referer", q, qn);
		i = skip_blank(s, n, i);
		if (quoted(s, n, &i, &q, &qn) == 0 && !(qn == 1 && q[0] == '-'))
			attr(x, "user_agent", q, qn);
	}
	return 0;
}

static int
parse_error(struct tx *x, const char *s, size_t n, struct line *L, const char **why)
{
	size_t i, j;
	struct tf t;
	long k;

	if ((k = tf_parse("[%a %b %d %T%f %Y]", s, n, &t, why)) > 0) {
		/* Apache: [module:level] or [level], then [pid ...] [client ...] */
		const char *e, *lv, *c;
		i = skip_blank(s, n, (size_t)k);
		if (i >= n || s[i] != '[' || (e = memchr(s + i, ']', n - i)) == NULL) {
			*why = "Apache error log: no [level] after the time";
			return -1;
		}
		j = (size_t)(e - s);
		lv = s + i + 1;
		c = memchr(lv, ':', j - i - 1);
		if (c) {
			attr(x, "module", lv, (size_t)(c - lv));
			lv = c + 1;
		}
		if ((L->level = rd_level_text(lv, (size_t)(s + j - lv))) == NULL) {
			*why = "Apache error log: unknown level";
			return -1;
		}
		i = skip_blank(s, n, j + 1);
		while (i + 5 < n && s[i] == '[' && (strncmp(s + i, "[pid ", 5) == 0 ||
						      strncmp(s + i, "[client ", 8) == 0)) {
			const char *e = memchr(s + i, ']', n - i);
			if (e == NULL)
				break;
			if (s[i + 1] == 'p')
				attr(x, "pid", s + i + 5, (size_t)(e - s - i - 5));
			else
				attr(x, "client", s + i + 8, (size_t)(e - s - i - 8));
			i = skip_blank(s, n, (size_t)(e - s) + 1);
		}
	} else if ((k = tf_parse("%Y/%m/%d %T", s, n, &t, why)) > 0) {
		/* nginx: [level] PID#TID: [*CONN ]msg */
		i = skip_blank(s, n, (size_t)k);
		j = word_end(s, n, i);
		if (j - i < 3 || s[i] != '[' || s[j - 1] != ']' ||
		    (L->level = rd_level_text(s + i + 1, j - i - 2)) == NULL) {
			*why = "nginx error log: no [level] after the time";
			return -1;
		}
		i = skip_blank(s, n, j);
		j = i;
		while (j < n && isdigit((unsigned char)s[j]))
			j++;
		if (j > i && j < n && s[j] == '#') {
			attr(x, "pid", s + i, j - i);
			while (j < n && s[j] != ':' && s[j] != ' ')
				j++;
			if (j < n && s[j] == ':')
				i = skip_blank(s, n, j + 1);
		}
	} else {
		*why = "not an error log line (expected '[Wed Oct 11 14:32:52 2000] [level] msg' or "
		       "'2024/05/01 10:00:00 [level] msg')";
		return -1;
	}
	if (tf_ns(x, &t, &L->ts, why) < 0)
		return -1;
	L->msg = s + i, L->msgn = n - i;
	return 0;
}

/* After the time: [thread], a thread number or "-" (up to three of them),
 * then a level word, optional in text (without one the words are the
 * message's), required in log4j; then the message, in log4j after an
 * optional [thread], "PID ---" and logger. */
static int
parse_rest(struct tx *x, const char *s, size_t n, size_t i, int need_level, struct line *L,
	   const char **why)
{
	size_t j, start = i, thn = 0;
	const char *th = NULL;

	for (int w = 0; w < 4; w++) {
		i = skip_blank(s, n, i);
		j = tok_end(s, n, i);
		if (j == i)
			break;
		if ((L->level = level_word(s + i, j - i)) != NULL) {
			i = j;
			break;
		}
		if (s[i] == '[' && s[j - 1] == ']')
			th = s + i + 1, thn = j - i - 2;
		else if (strspn(s + i, "0123456789") == j - i) {
			if (th == NULL)         /* HDFS: "yyMMdd HHmmss THREAD LEVEL" */
				th = s + i, thn = j - i;
		} else if (!(j - i == 1 && s[i] == '-'))
			break;
		i = j;
	}
	if (L->level == NULL) {
		if (need_level) {
			*why = "log4j: no level word (DEBUG, INFO, WARN, ERROR, ...) after the time";
			return -1;
		}
		L->level = "INFO";
		i = start;
	} else if (th) {
		attr(x, "thread", th, thn);
	}
	if (need_level) {
		/* [thread] or "PID ---" (Spring), then "LOGGER - " or "LOGGER : " */
		for (int w = 0; w < 4; w++) {
			i = skip_blank(s, n, i);
			j = tok_end(s, n, i);
			if (j > i && s[i] == '[' && s[j - 1] == ']')
				attr(x, "thread", s + i + 1, j - i - 2);
			else if (j > i && (strspn(s + i, "0123456789") == j - i ||
					   (j - i == 1 && s[i] == '-') ||
					   (j - i == 3 && memcmp(s + i, "---", 3) == 0)))
				;
			else
				break;
			i = j;
		}
		i = skip_blank(s, n, i);
		j = word_end(s, n, i);
		size_t k = skip_blank(s, n, j);
		if (j > i && k + 1 < n && (s[k] == '-' || s[k] == ':') && s[k + 1] == ' ') {
			attr(x, "logger", s + i, j - i);
			i = k + 2;
		} else if (j > i && s[j - 1] == ':' && j - i > 1) {
			attr(x, "logger", s + i, j - i - 1);
			i = j;
		}
	}
	i = skip_blank(s, n, i);
	L->msg = s + i, L->msgn = n - i;
	return 0;
}

static int
parse_log4j(struct tx *x, const char *s, size_t n, struct line *L, const char **why)
{
	struct tf t;
	long k;
	size_t i;

	if ((k = tf_parse("%Y-%m-%d %T%f", s, n, &t, why)) < 0 &&
	    (k = tf_parse("%Y-%m-%dT%T%f", s, n, &t, why)) < 0) {
		*why = "log4j: no 'YYYY-MM-DD HH:MM:SS[,mmm]' time at the start";
		return -1;
	}
	i = (size_t)k;
	if (i < n && s[i] != ' ' && tf_offset(s, n, &i, &t) < 0) {
		*why = "log4j: bad time";
		return -1;
	}
	if (tf_ns(x, &t, &L->ts, why) < 0)
		return -1;
	return parse_rest(x, s, n, i, 1, L, why);
}

static int
parse_text(struct tx *x, const char *s, size_t n, struct line *L, const char **why)
{
	struct tf t;
	long k = tf_parse(x->ts_format, s, n, &t, why);

	if (k < 0) {
		static char r[200];
		snprintf(r, sizeof r, "the line does not start with a time in ts_format '%s'", x->ts_format);
		*why = r;
		return -1;
	}
	if (tf_ns(x, &t, &L->ts, why) < 0)
		return -1;
	return parse_rest(x, s, n, (size_t)k, 0, L, why);
}

static int
parse_line(struct tx *x, const char *s, size_t n, struct line *L, const char **why)
{
	memset(L, 0, sizeof *L);
	buf_reset(&x->attrs);
	switch (x->preset) {
	case P_SYSLOG: return parse_syslog(x, s, n, L, why);
	case P_ACCESS: return parse_access(x, s, n, L, why);
	case P_ERROR: return parse_error(x, s, n, L, why);
	case P_LOG4J: return parse_log4j(x, s, n, L, why);
	default: return parse_text(x, s, n, L, why);
	}
}

/* ---- the reader ---- */

/* A line that continues the record before it: it starts with a blank, or
 * it is the head of a Java stack trace ("Caused by: ...", or a dotted class
 * name ending in Exception, Error or Throwable, then ':' or the end). */
static int
cont_line(const char *p, size_t n)
{
	size_t i = 0, dots = 0;

	if (n && (p[0] == ' ' || p[0] == '\t'))
		return 1;
	if (n >= 11 && memcmp(p, "Caused by: ", 11) == 0)
		return 1;
	while (i < n && (isalnum((unsigned char)p[i]) || p[i] == '_' || p[i] == '$' || p[i] == '.'))
		dots += p[i++] == '.';
	if (dots == 0 || (i < n && p[i] != ':'))
		return 0;
	for (int k = 0; k < 3; k++) {
		static const char *const end[] = {"Exception", "Error", "Throwable"};
		size_t e = strlen(end[k]);
		if (i >= e && memcmp(p + i - e, end[k], e) == 0)
			return 1;
	}
	return 0;
}

static int
tx_open_as(struct rd_src *s, enum preset pr)
{
	struct tx *x = ecalloc(1, sizeof *x);
	const char *v, *base;
	json_object *y;
	char why[200];

	s->priv = x;
	x->preset = pr;
	x->ts_format = js_str(s->cfg, "ts_format");
	if (pr == P_TEXT && x->ts_format == NULL) {
		snprintf(s->why, sizeof s->why, "dataset.%s: format text needs ts_format (strptime-style, "
			 "as '%%Y-%%m-%%d %%H:%%M:%%S'), or one of the formats syslog, access_log, "
			 "error_log, log4j", rd_role_name[s->role]);
		return -1;
	}
	if (pr == P_TEXT && tf_check(x->ts_format, why, sizeof why) < 0) {
		snprintf(s->why, sizeof s->why, "dataset.%s.ts_format: %s", rd_role_name[s->role], why);
		return -1;
	}
	if ((y = rd_get(s->cfg, "year")) != NULL) {
		x->yr.year = json_object_get_int(y);
		if (!json_object_is_type(y, json_type_int) || x->yr.year < 1678 || x->yr.year > 2261) {
			snprintf(s->why, sizeof s->why, "dataset.%s.year: expected a year",
				 rd_role_name[s->role]);
			return -1;
		}
	} else {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		x->yr.year = tm.tm_year + 1900;
		/* a day of slack for the zones of the lines */
		x->yr.not_after = ((int64_t)now + 86400) * TS_NS_PER_S;
	}
	if ((v = js_str(s->cfg, "service")) != NULL && *v) {
		x->service = estrdup(v);
	} else {
		const char *p = s->path ? s->path : "";
		base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
		x->service = estrndup(base, strcspn(base, "."));
		if (*x->service == '\0') {
			free(x->service);
			x->service = estrdup("unknown_service");
		}
	}
	return 0;
}

static void
tx_close(struct rd_src *s)
{
	struct tx *x = s->priv;

	if (x == NULL)
		return;
	free(x->service);
	buf_free(&x->held);
	buf_free(&x->msg);
	buf_free(&x->head);
	buf_free(&x->attrs);
	free(x);
	s->priv = NULL;
}

/* The next raw line: 1 with *p, *n, 0 at the end, -1 fatal. */
static int
tx_getline(struct rd_src *s, const char **p, size_t *n)
{
	return rd_line_raw(s, p, n);
}

/* A line that starts a record: counted, then held for the next call (a
 * reject when it is not UTF-8). */
static void
tx_take(struct rd_src *s, struct tx *x, const char *p, size_t n)
{
	rd_count_in(s);
	if (!js_utf8_valid(p, n)) {
		rd_reject(s, s->line, p, n, "invalid UTF-8");
		return;
	}
	buf_reset(&x->held);
	buf_add(&x->held, p, n);
	x->held_line = s->line;
	x->have_held = 1;
}

static int
tx_next(struct rd_src *s)
{
	struct tx *x = s->priv;
	struct buf *b = &s->body;
	const char *p, *why;
	size_t n, off;
	struct line L;
	int k, ok;
	unsigned long line;
	size_t maxmsg = s->st && s->st->max_line ? s->st->max_line : 1 << 20;

	/* the record's first line */
	while (!x->have_held) {
		if (x->eof || (k = tx_getline(s, &p, &n)) == 0)
			return 0;
		if (k < 0)
			return -1;
		if (cont_line(p, n)) {
			rd_count_in(s);
			rd_reject(s, s->line, p, n, "continuation line (it starts with a blank) with no "
				  "record before it");
			return 1;
		}
		tx_take(s, x, p, n);
		if (!x->have_held)
			return 1;
	}
	line = x->held_line;
	p = x->held.p;
	n = x->held.len;
	if (n && p[n - 1] == '\r')
		n--;
	s->nelem = 1;
	ok = parse_line(x, p, n, &L, &why) == 0;
	if (!ok)
		rd_reject(s, line, p, n, "%s", why);
	buf_reset(&x->msg);
	if (ok)
		buf_add(&x->msg, L.msg, L.msgn);
	/* the head of the body now: x->held is reused for the next line */
	buf_reset(&x->head);
	if (ok) {
		WS(&x->head, "\"ts\":");
		wts(&x->head, L.ts);
		WS(&x->head, ",\"service\":");
		if (L.svc)
			wstr(&x->head, L.svc, L.svcn);
		else
			wstrz(&x->head, x->service);
		WS(&x->head, ",\"level\":\"");
		w(&x->head, L.level, strlen(L.level));
		WS(&x->head, "\",\"msg\":");
	}
	/* continuation lines */
	x->have_held = 0;
	while ((k = tx_getline(s, &p, &n)) > 0) {
		if (!cont_line(p, n)) {
			tx_take(s, x, p, n);
			break;
		}
		if (n && p[n - 1] == '\r')
			n--;
		if (!js_utf8_valid(p, n)) {
			rd_count_in(s);
			rd_reject(s, s->line, p, n, "invalid UTF-8");
		} else if (!ok) {
			rd_count_in(s);
			rd_reject(s, s->line, p, n, "continuation of the rejected record of line %lu", line);
		} else if (x->msg.len + n + 1 > maxmsg) {
			rd_count_in(s);
			rd_reject(s, s->line, p, n, "continuation line beyond the record size limit "
				  "(%zu bytes) of the record of line %lu", maxmsg, line);
		} else {
			buf_addc(&x->msg, '\n');
			buf_add(&x->msg, p, n);
		}
	}
	if (k < 0)
		return -1;
	if (k == 0)
		x->eof = 1;
	s->line = line;
	if (!ok)
		return 1;
	if (s->quiet) {
		rd_pend(s, L.ts, 1, RD_LOG, b->len);
		return 1;
	}
	off = b->len;
	w(b, x->head.p, x->head.len);
	wstr(b, x->msg.p, x->msg.len);
	WS(b, ",\"attrs\":{");
	w(b, x->attrs.p, x->attrs.len);
	WS(b, "}}");
	rd_pend(s, L.ts, 1, RD_LOG, off);
	return 1;
}

/* The share of sampled lines (continuation lines aside) the preset reads. */
static int
tx_probe_as(const struct rd_probe *p, enum preset pr)
{
	struct tx x;
	struct line L;
	const char *cur = NULL, *l, *why;
	size_t n;
	int lines = 0, good = 0;

	if (p->role != RD_LOGS)
		return 0;
	memset(&x, 0, sizeof x);
	x.preset = pr;
	x.yr.year = 2000;
	while (lines < RD_PROBE_LINES && (l = rd_probe_next(p, &cur, &n)) != NULL) {
		if (cont_line(l, n))
			continue;
		lines++;
		good += parse_line(&x, l, n, &L, &why) == 0;
	}
	buf_free(&x.attrs);
	return lines ? RD_SCORE_MAX * good / lines : 0;
}

#define OPEN(fn, P) static int fn##_open(struct rd_src *s) { return tx_open_as(s, P); }
#define PRESET(fn, P)                                                          \
	OPEN(fn, P)                                                            \
	static int fn##_probe(const struct rd_probe *p) { return tx_probe_as(p, P); }

OPEN(text, P_TEXT)
PRESET(syslog, P_SYSLOG)
PRESET(access, P_ACCESS)
PRESET(error, P_ERROR)
PRESET(log4j, P_LOG4J)

/* text is never guessed: its ts_format comes from the config. */
const struct rd_format rd_text = {
	.name = "text", .exts = ".log .txt", .roles = 1u << RD_LOGS,
	.open = text_open, .next = tx_next, .close = tx_close,
};
const struct rd_format rd_syslog = {
	.name = "syslog", .exts = ".log", .roles = 1u << RD_LOGS,
	.probe = syslog_probe, .open = syslog_open, .next = tx_next, .close = tx_close,
};
const struct rd_format rd_access_log = {
	.name = "access_log", .exts = ".log", .roles = 1u << RD_LOGS,
	.probe = access_probe, .open = access_open, .next = tx_next, .close = tx_close,
};
const struct rd_format rd_error_log = {
	.name = "error_log", .exts = ".log", .roles = 1u << RD_LOGS,
	.probe = error_probe, .open = error_open, .next = tx_next, .close = tx_close,
};
const struct rd_format rd_log4j = {
	.name = "log4j", .exts = ".log", .roles = 1u << RD_LOGS,
	.probe = log4j_probe, .open = log4j_open, .next = tx_next, .close = tx_close,
};
