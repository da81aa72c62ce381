/*
 * refseed: aiops-correlate's reference stream (--reference FILE): fault-free
 * signals whose only use is to seed the detectors' baselines, so that a
 * stream that starts right before a fault is not judged against a warm-up
 * made of the fault itself.
 *
 * The file is read twice: refseed_open() checks that it is a regular file
 * (a pipe cannot be read again) and finds the latest time of its signals
 * (log, metric, span records that lib/sigrec reads); refseed_replay() hands
 * every signal to fn, in file order, its time moved by one constant so that
 * the latest one falls 1 ns before `before` (the stream's first signal): the
 * reference's state (warm-ups counted in stream time, idle timers, held
 * spans) then ends right where the stream begins, whatever day it was
 * recorded.  Every other line is skipped and counted: a reference's
 * incidents, alerts or runs never reach the stage.  A line that is too
 * long, not JSON or a signal lib/sigrec rejects goes to bad(path, line,
 * raw, n, full_len, why) (raw the line's first n bytes of full_len) and is
 * counted.
 *
 * Nothing here judges: the caller learns from what fn gets and ignores what
 * its detectors find before `before` (refseed_until()).
 */
#ifndef AIOPS_REFSEED_H
#define AIOPS_REFSEED_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"
#include "sigrec.h"

struct refseed {
	const char *path;              /* NULL: no reference */
	size_t max_line;
	int64_t first, last;           /* its signals' earliest and latest times (TS_NONE: none) */
	int64_t until;                 /* after the replay: the stream's first time, else TS_NONE */
	int64_t shift;                 /* what was added to every time */
	int replayed;
	unsigned long lines, signals, skipped, rejects;
	unsigned long anomalies;       /* counted by the caller: found before until */
};

/*
 * Opens the reference at path (a regular file, possibly gzip-compressed)
 * and reads it once for its time span.  Returns 0, or -1 with why set.
 */
int refseed_open(struct refseed *r, const char *path, size_t max_line, struct buf *why);

typedef void (*refseed_sig_fn)(int kind, struct sig *g, void *arg);
typedef void (*refseed_bad_fn)(const char *path, unsigned long line, const char *raw, size_t n,
			       size_t full_len, const char *why, void *arg);

/*
 * Replays the reference once (later calls do nothing), its signals moved to
 * end 1 ns before `before`.  Returns 0, or -1 when the file could not be
 * read again (why set).
 */
int refseed_replay(struct refseed *r, int64_t before, refseed_sig_fn fn, refseed_bad_fn bad,
		   void *arg, struct buf *why);

/* The time before which what the detectors find came from the reference
 * (TS_NONE before the replay, or without a reference). */
int64_t refseed_until(const struct refseed *r);

/* stage_end's "reference": {path, lines, signals, skipped, rejects,
 * anomalies_ignored, first_ts, last_ts, shift_s}, or nothing without one. */
void refseed_add_end(const struct refseed *r, json_object *end);

#endif
