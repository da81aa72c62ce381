/* libFuzzer target: the line reader (lib/rec) with a small line limit and
 * the JSON parse every stage does on each line (lib/js).  The input is
 * served from a memfd so the reader's own read path is exercised. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "js.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_tokener *tok;
	struct rec_reader r;
	const char *p, *why;
	size_t n, total = 0;
	char path[64];
	int fd = memfd_create("fuzz", 0), k;

	if (fd < 0)
		return 0;
	if (tok == NULL)
		tok = json_tokener_new();
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (rec_open(&r, path, 64) < 0) {
		close(fd);
		return 0;
	}
	while ((k = rec_getline(&r, &p, &n)) > 0) {
		if (k == REC_LONG) {
			if (r.long_len <= 64 || n > REC_LONG_PREFIX)
				abort();
			total += r.long_len + 1;
			continue;
		}
		if (n > 64)
			abort();
		total += n + 1;
		json_object_put(js_parse(tok, p, n, &why));
		(void)js_utf8_valid(p, n);
	}
	/* Every byte is accounted for: lines plus their newlines, and a byte
	 * order mark at the start, which the reader drops.  An input that
	 * starts with the gzip magic is decompressed (the fuzzer does build
	 * valid gzip members), so its lines count the decompressed bytes, which
	 * only zlib itself could tell us: no count check for those. */
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		total += 3;
	if (k == REC_EOF && !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b) &&
	    total != size && total != size + 1)
		abort();
	rec_close(&r);
	close(fd);
	return 0;
}
