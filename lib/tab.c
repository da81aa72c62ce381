/*
 * tab: a table printed as text, Markdown or TSV (see tab.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tab.h"

void
tab_add(struct tab *t, char **cells)
{
	size_t i;

	t->cell = erealloc(t->cell, (t->nrow + 1) * t->ncol * sizeof *t->cell);
	for (i = 0; i < t->ncol; i++)
		t->cell[t->nrow * t->ncol + i] = cells[i];
	t->nrow++;
}

void
tab_head(struct tab *t, const char *const *h, char **cells)
{
	for (size_t k = 0; k < t->ncol; k++)
		cells[k] = estrdup(h[k]);
	tab_add(t, cells);
}

void
tab_print(const struct tab *t, enum tab_fmt f, FILE *out)
{
	size_t i, j, *w = ecalloc(t->ncol, sizeof *w);

	for (i = 0; i < t->nrow; i++)
		for (j = 0; j < t->ncol; j++) {
			size_t l = strlen(t->cell[i * t->ncol + j]);
			if (l > w[j])
				w[j] = l;
		}
	for (i = 0; i < t->nrow; i++) {
		if (f == TAB_MD)
			fputs("| ", out);
		for (j = 0; j < t->ncol; j++) {
			const char *s = t->cell[i * t->ncol + j];
			if (f == TAB_TSV)
				fprintf(out, "%s%s", j ? "\t" : "", s);
			else if (f == TAB_MD)
				fprintf(out, "%s%s", j ? " | " : "", s);
			else if (j + 1 < t->ncol)
				fprintf(out, "%-*s  ", (int)w[j], s);
			else
				fputs(s, out);
		}
		fputs(f == TAB_MD ? " |\n" : "\n", out);
		if (f == TAB_MD && i == 0) {
			fputs("|", out);
			for (j = 0; j < t->ncol; j++)
				fputs("---|", out);
			fputs("\n", out);
		}
	}
	free(w);
}

void
tab_free(struct tab *t)
{
	size_t i;

	for (i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
}
