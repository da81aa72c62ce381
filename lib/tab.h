/*
 * tab: a table of strings printed as aligned text, Markdown or TSV (the
 * tables of aiops-eval score).  The first row is the header.
 *
 *   TAB_TEXT  each cell but the last of a row padded with spaces to the
 *             widest of its column, then two spaces
 *   TAB_MD    "| a | b |" rows, "|---|---|" after the header
 *   TAB_TSV   cells joined with tabs (cells are printed as they are: the
 *             caller keeps tabs and newlines out of them)
 *
 * Every row ends with '\n'.  Nothing here checks for write errors (the
 * caller checks the stream); allocation failure exits like emalloc().
 */
#ifndef AIOPS_TAB_H
#define AIOPS_TAB_H

#include <stddef.h>
#include <stdio.h>

enum tab_fmt { TAB_TEXT, TAB_MD, TAB_TSV };

struct tab {
	size_t ncol, nrow;
	char **cell;                    /* row-major, nrow * ncol; owned */
};

/* Appends a row: takes cells[0..t->ncol) (malloc'd strings, now t's). */
void tab_add(struct tab *t, char **cells);

/* Appends the header row: copies of h[0..t->ncol), through cells (t->ncol
 * long, scratch). */
void tab_head(struct tab *t, const char *const *h, char **cells);

/* Prints t on out in format f (see above). */
void tab_print(const struct tab *t, enum tab_fmt f, FILE *out);

/* Frees the cells; t is not usable again. */
void tab_free(struct tab *t);

#endif
