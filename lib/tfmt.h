/*
 * tfmt: strptime-style time formats, for the text-log readers (lib/rd_text)
 * and anything else that reads a time written in a declared layout.
 *
 * tf_parse reads a time from the start of a string into a broken-down
 * struct tf; tf_epoch_ns turns it into epoch nanoseconds, in the zone the
 * text gave (else UTC), with the year of a struct tf_year for times that
 * have none (RFC 3164 syslog): a month that goes back from December to
 * January starts the next year.
 */
#ifndef AIOPS_TFMT_H
#define AIOPS_TFMT_H

#include <stddef.h>
#include <stdint.h>

/* A broken-down time as read. */
struct tf {
	int Y, m, d, H, M, S;
	long ns;
	int have_year, have_off, off;   /* off in minutes east */
	int64_t epoch;                  /* %s: whole seconds; -1 unset */
};

/* The year of times without one, and the month seen last.  When not_after
 * is set (epoch ns; the year was guessed, not given), a first time that
 * would come after it takes the year before. */
struct tf_year {
	int year, last_month;
	int64_t not_after;
};

/*
 * Reads s[0..n) from its start by fmt: %Y %y %m %d %e %H %M %S, %f (an
 * optional fraction: '.' or ',' and 1-9+ digits), %b %h %B (month name),
 * %a %A (weekday name, skipped), %z (Z, +hh[:]mm), %Z (UTC, GMT or Z),
 * %T (%H:%M:%S), %F (%Y-%m-%d), %s (epoch seconds), %%; a space matches
 * one or more blanks, other bytes themselves.  Returns the bytes read, or
 * -1 with *why.
 */
long tf_parse(const char *fmt, const char *s, size_t n, struct tf *t, const char **why);

/* Checks a format: known directives, and a date (or %s).  0, or -1 with a
 * message in why. */
int tf_check(const char *fmt, char *why, size_t n);

/* Epoch ns of t (see above; y may be updated).  0, or -1 with *why. */
int tf_epoch_ns(struct tf_year *y, struct tf *t, int64_t *ns, const char **why);

/* Reads min..max digits at s[*i] into *out, advancing *i: 0, or -1. */
int tf_num(const char *s, size_t n, size_t *i, int min, int max, int *out);
/* Reads an offset "Z", "+hh", "+hhmm" or "+hh:mm" at s[*i] into t. */
int tf_offset(const char *s, size_t n, size_t *i, struct tf *t);

#endif
