/* csv: RFC 4180 field splitting of one line. */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "err.h"

static void
push(struct csv_row *row, const char *p, size_t n, int quoted)
{
	if (row->n == row->cap) {
		row->cap = row->cap ? row->cap * 2 : 16;
		row->f = erealloc(row->f, row->cap * sizeof *row->f);
	}
	row->f[row->n].p = p;
	row->f[row->n].n = n;
	row->f[row->n].quoted = quoted;
	row->n++;
}

int
csv_split(struct csv_row *row, const char *line, size_t n, char delim, const char **why)
{
	size_t i = 0, o = 0;

	row->n = 0;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	/* Unquoted copies never exceed the line, so the scratch space is sized
	 * once and the pointers into it stay valid. */
	if (row->scap < n + 1) {
		free(row->scratch);
		row->scap = n + 1;
		row->scratch = emalloc(row->scap);
	}
	for (;;) {
		if (i < n && line[i] == '"') {
			size_t start = o;
			i++;
			for (;;) {
				if (i >= n) {
					*why = "unterminated quoted field";
					return -1;
				}
				if (line[i] == '"') {
					if (i + 1 < n && line[i + 1] == '"') {
						row->scratch[o++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				row->scratch[o++] = line[i++];
			}
			if (i < n && line[i] != delim) {
				*why = "text after a closing quote";
				return -1;
			}
			push(row, row->scratch + start, o - start, 1);
		} else {
			const char *d = i < n ? memchr(line + i, delim, n - i) : NULL;
			size_t end = d ? (size_t)(d - line) : n;
			push(row, line + i, end - i, 0);
			i = end;
		}
		if (i >= n)
			break;
		i++;    /* the delimiter */
	}
	return 0;
}

void
csv_row_free(struct csv_row *row)
{
	free(row->f);
	free(row->scratch);
	row->f = NULL;
	row->scratch = NULL;
	row->n = row->cap = row->scap = 0;
}
