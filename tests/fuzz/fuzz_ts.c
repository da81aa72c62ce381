/* libFuzzer target: timestamp and duration parsing (lib/ts).  Any input
 * must either parse to a time that formats to the fixed width, or be
 * rejected with a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t ns;
	const char *why = NULL;
	char out[TS_LEN + 1], *s;

	if (ts_parse((const char *)data, size, &ns, &why) == 0) {
		ts_format(ns, out);
		if (strlen(out) != TS_LEN)
			abort();
	} else if (why == NULL) {
		abort();
	}
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	(void)ts_duration(s, &ns);
	free(s);
	return 0;
}
