/*
 * rd_formats: the table of input formats (see rd.h for a reader's
 * contract) and the choice of one for a file.
 */
#ifndef AIOPS_RD_FORMATS_H
#define AIOPS_RD_FORMATS_H

#include "rd.h"

/* Every format, NULL-terminated, in order of preference. */
extern const struct rd_format *const rd_formats[];

/* The format named name, or NULL. */
const struct rd_format *rd_find(const char *name);

/*
 * The format that fits p best: each probe's score for the content, plus
 * RD_SCORE_EXT when the file name has one of the format's extensions.
 * Returns NULL when the best is below RD_SCORE_MIN or tied, with why listing
 * the candidates and their scores ("jsonl 40, csv 40") or "no format
 * matches".  *score is the best score.
 */
const struct rd_format *rd_choose(const struct rd_probe *p, int *score, char *why, size_t n);

/* What a file that no format matched looks like (a plain-text log,
 * multi-line JSON, ...) with advice and the scores (rd_choose's why), into
 * out; *label is the short name ("a plain-text log"). */
const char *rd_guess(const struct rd_probe *p, const char *scores, char *out, size_t n,
		     const char **label);

/* The reader of such a file: each line becomes a reject quoting s->hint. */
extern const struct rd_format rd_unknown;

#endif
