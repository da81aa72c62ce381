/*
 * rd_formats: the table of aiops-load's input formats and the choice among
 * them.  A new format is a lib/rd_<name>.c exporting one const struct
 * rd_format, plus a line here.
 */
#include <stdio.h>
#include <string.h>

#include "rd_formats.h"

extern const struct rd_format rd_jsonl, rd_csv, rd_otlp, rd_nezha_metric, rd_nezha_trace,
	rd_nezha_log, rd_nezha_faults;
extern const struct rd_format rd_text, rd_syslog, rd_access_log, rd_error_log, rd_log4j;
extern const struct rd_format rd_rcaeval, rd_rcaeval_inject;
extern const struct rd_format rd_zipkin, rd_jaeger, rd_prometheus, rd_otlp_doc, rd_json;

/* In order of preference on equal scores. */
const struct rd_format *const rd_formats[] = {
	&rd_otlp,
	&rd_jsonl,
	&rd_csv,
	&rd_nezha_metric,
	&rd_nezha_trace,
	&rd_nezha_log,
	&rd_nezha_faults,
	&rd_syslog,
	&rd_access_log,
	&rd_error_log,
	&rd_log4j,
	&rd_text,
	&rd_rcaeval,
	&rd_rcaeval_inject,
	&rd_zipkin,
	&rd_jaeger,
	&rd_prometheus,
	&rd_otlp_doc,
	&rd_json,
	NULL,
};

const struct rd_format *
rd_find(const char *name)
{
	for (int i = 0; rd_formats[i]; i++)
		if (strcmp(rd_formats[i]->name, name) == 0)
			return rd_formats[i];
	return NULL;
}

/* Does name end in one of exts (each maybe followed by .gz)? */
static int
has_ext(const char *name, const char *exts)
{
	size_t nl = strlen(name);

	if (nl > 3 && strcmp(name + nl - 3, ".gz") == 0)
		nl -= 3;
	while (*exts) {
		size_t el = strcspn(exts, " ");
		if (el && el <= nl && strncmp(name + nl - el, exts, el) == 0)
			return 1;
		exts += el;
		exts += strspn(exts, " ");
	}
	return 0;
}

const struct rd_format *
rd_choose(const struct rd_probe *p, int *score, char *why, size_t n)
{
	const struct rd_format *best = NULL;
	int bs = -1, tie = 0;
	char list[256] = "";
	size_t ll = 0;

	for (int i = 0; rd_formats[i]; i++) {
		const struct rd_format *f = rd_formats[i];
		int s;
		if (!(f->roles >> p->role & 1) || f->probe == NULL)
			continue;
		s = f->probe(p);
		if (s > 0 && has_ext(p->name, f->exts))
			s += RD_SCORE_EXT;
		if (s > RD_SCORE_MAX)
			s = RD_SCORE_MAX;
		if (s > 0 && ll < sizeof list)
			ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%s %d", ll ? ", " : "",
					       f->name, s);
		if (s > bs) {
			best = f;
			bs = s;
			tie = 0;
		} else if (s == bs) {
			tie = 1;
		}
	}
	*score = bs;
	if (best == NULL || bs < RD_SCORE_MIN || tie) {
		snprintf(why, n, "%s", ll ? list : "no format matches");
		return NULL;
	}
	return best;
}

const char *
rd_guess(const struct rd_probe *p, const char *scores, char *out, size_t n, const char **label)
{
	const char *cur = NULL, *l, *first = NULL, *what;
	size_t ln;
	int lines = 0, times = 0;

	while (lines < RD_PROBE_LINES && (l = rd_probe_next(p, &cur, &ln)) != NULL) {
		if (first == NULL)
			first = l;
		lines++;
		times += rd_timeish(l, ln);
	}
	*label = "no known format";
	if (lines && 2 * times >= lines)      /* before JSON: "[10.30 16:49:06] ..." */
		*label = "a plain-text log", what = "a plain-text log (its lines start with a time) in no preset "
		       "(syslog, access_log, error_log, log4j): set dataset.logs.format: text and "
		       "ts_format (strptime-style, as '%Y-%m-%d %H:%M:%S')";
	else if (first && (*first == '{' || *first == '[') && rd_probe_json(first, strcspn(first, "\n")) == 0)
		*label = "multi-line JSON", what = "JSON spread over several lines (a pretty-printed document or an array): "
		       "format json reads documents of records for logs, metrics and traces; "
		       "incidents are one JSON object a line (jq -c turns a document into that)";
	else
		what = "no known format (jsonl, otlp, csv with a header, nezha_*)";
	if (scores && strcmp(scores, "no format matches") != 0)
		snprintf(out, n, "looks like %s; scores too low or tied: %s (set dataset.%s.format)",
			 what, scores, rd_role_name[p->role]);
	else
		snprintf(out, n, "looks like %s", what);
	return out;
}

/* The reader for a file no format matched: every line is a reject that
 * says what the file looks like (s->hint). */
static int
unknown_next(struct rd_src *s)
{
	const char *p;
	size_t n;
	int k;

	if ((k = rd_line(s, &p, &n)) <= 0)
		return k;
	rd_reject(s, s->line, p, n, "file in no known format (%s)", s->hint ? s->hint : "?");
	return 1;
}

const struct rd_format rd_unknown = {
	.name = "unknown",
	.exts = "",
	.roles = 1u << RD_LOGS | 1u << RD_METRICS | 1u << RD_TRACES,
	.next = unknown_next,
};
