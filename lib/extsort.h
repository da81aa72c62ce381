/*
 * extsort: an external merge sort of byte records by a (ts, seq) key, with
 * memory bounded by a budget.  Records are collected in memory; when the
 * next one would take the collection over the budget, it is sorted and
 * written to a temporary file (a "run") in TMPDIR (or /tmp), which is
 * unlinked at once so nothing is left behind.  Reading back merges the runs
 * and the last in-memory collection with a heap.  At most XS_FANIN runs are
 * open at a time: when that many exist they are merged into one.
 *
 * Keys must be unique (seq breaks ties between equal ts), which makes the
 * order total and so the sort stable by construction.
 *
 * Memory: the budget (record bytes plus 24 bytes of index per record), plus
 * about 64 KiB of read buffer per open run while merging.
 */
#ifndef AIOPS_EXTSORT_H
#define AIOPS_EXTSORT_H

#include <stddef.h>
#include <stdint.h>

#define XS_FANIN 32

struct xsort;

/* A new sorter with a memory budget in bytes (at least one record is always
 * kept).  tmpdir NULL means $TMPDIR, else /tmp.  Exits on out-of-memory. */
struct xsort *xs_new(size_t budget, const char *tmpdir);

/*
 * Adds a record of n bytes (copied).  Returns 0, or -1 with errno set when a
 * run could not be written (the sorter is then unusable).
 */
int xs_add(struct xsort *x, int64_t ts, uint64_t seq, const void *p, size_t n);

/* Ends input: sorts what is in memory.  Returns 0 or -1 with errno set. */
int xs_finish(struct xsort *x);

/*
 * After xs_finish(): the next record in key order.  Returns 1 with the key
 * and *p, *n set (valid until the next call), 0 at the end, or -1 with errno
 * set on a read error.
 */
int xs_next(struct xsort *x, int64_t *ts, uint64_t *seq, const char **p, size_t *n);

/* How many runs were written to disk so far (merges included). */
unsigned long xs_spilled(const struct xsort *x);
/* How many records were added. */
unsigned long xs_count(const struct xsort *x);

/* Closes the runs and frees everything. */
void xs_free(struct xsort *x);

#endif
