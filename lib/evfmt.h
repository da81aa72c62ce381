/*
 * evfmt: what aiops-eval score prints: the summary table (a line per row
 * of lib/evagg) and the per-case table (a line per case of lib/evcase),
 * as text, Markdown or TSV (lib/tab), or both in one JSON document
 *
 *   {"bootstrap":{"resamples","seed","level"},"match_tolerance_s",
 *    "rows":[...],"cases":[...]}
 *
 * on one line.  Numbers in JSON go through stats_round(); a value that is
 * not known is null in JSON and "n/a" in a table; a reference row or case
 * shows "-" (JSON: no key) for what it does not measure.  Nothing here
 * checks for write errors (the caller checks out); allocation failure
 * exits like emalloc().
 */
#ifndef AIOPS_EVFMT_H
#define AIOPS_EVFMT_H

#include <stddef.h>
#include <stdio.h>

#include "evagg.h"
#include "evcase.h"
#include "tab.h"

/* Prints the JSON document with "rows" when summary, "cases" when cases. */
void evfmt_json(FILE *out, const struct evcases *cs, const struct evrow *rows, size_t nrows,
		int summary, int cases);

/* Prints the summary table when summary, then (an empty line between when
 * both) the per-case table when cases, in format f. */
void evfmt_tables(FILE *out, const struct evcases *cs, const struct evrow *rows, size_t nrows,
		  enum tab_fmt f, int summary, int cases);

#endif
