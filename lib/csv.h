/*
 * csv: splits one line of RFC 4180 CSV into fields.  Quoted fields may hold
 * the delimiter and doubled quotes ("a ""b"""); a quoted field cannot span
 * lines (the reader hands over one line at a time).  A trailing '\r' is
 * dropped.  Fields are byte ranges, not NUL-terminated.
 */
#ifndef AIOPS_CSV_H
#define AIOPS_CSV_H

#include <stddef.h>

struct csv_field {
	const char *p;
	size_t n;
	int quoted;             /* the field was quoted in the input */
};

struct csv_row {
	struct csv_field *f;    /* the fields of the last line split */
	size_t n;
	/* private */
	size_t cap;
	char *scratch;          /* unquoted copies of quoted fields */
	size_t scap;
};

#define CSV_ROW_INIT { NULL, 0, 0, NULL, 0 }

/*
 * Splits line[0..n) at delim.  Returns 0 with row->f[0..row->n) set: each
 * field points into line (unquoted) or into the row's scratch space (quoted),
 * valid until the next call on this row.  Returns -1 and sets *why to a
 * static reason for an unterminated quote or text after a closing quote.
 * Exits on out-of-memory.
 */
int csv_split(struct csv_row *row, const char *line, size_t n, char delim, const char **why);

/* Frees the row's memory; the row may be used again. */
void csv_row_free(struct csv_row *row);

#endif
