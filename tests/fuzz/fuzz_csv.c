/* libFuzzer target: lib/csv, the line splitter of aiops-load's CSV input.
 * Every field of a split line must lie inside the line (unquoted) or be a
 * bounded unquoted copy (quoted); a failure must give a reason.  The row is
 * reused across inputs, as the reader does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct csv_row row = CSV_ROW_INIT;
	static const char delims[] = {',', '\t', ';', '|'};
	const char *line = (const char *)data, *why;
	char d = size ? delims[data[0] & 3] : ',';
	/* A private copy so that reads past the end are caught by ASan. */
	char *copy = malloc(size ? size : 1);

	memcpy(copy, line, size);
	why = NULL;
	if (csv_split(&row, copy, size, d, &why) == 0) {
		size_t total = 0;
		volatile unsigned sum = 0;
		if (row.n < 1)
			abort();
		for (size_t i = 0; i < row.n; i++) {
			const struct csv_field *f = &row.f[i];
			if (!f->quoted && (f->p < copy || f->p + f->n > copy + size))
				abort();
			if (f->n > size)
				abort();
			if (f->n && f->p[0] == d && !f->quoted)
				abort();
			for (size_t k = 0; k < f->n; k++)
				sum += (unsigned char)f->p[k];	/* ASan checks every byte */
			total += f->n;
		}
		(void)sum;
		if (total > size)
			abort();
	} else if (why == NULL || why[0] == '\0') {
		abort();
	}
	if (size && (data[0] & 0x80))
		csv_row_free(&row);
	free(copy);
	return 0;
}
