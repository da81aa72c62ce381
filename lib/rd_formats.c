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

/* In order of preference on equal scores. */
const struct rd_format *const rd_formats[] = {
	&rd_otlp,
	&rd_jsonl,
	&rd_csv,
	&rd_nezha_metric,
	&rd_nezha_trace,
	&rd_nezha_log,
	&rd_nezha_faults,
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
