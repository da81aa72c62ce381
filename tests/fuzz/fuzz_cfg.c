/* libFuzzer target: the YAML/JSON config reader and --set (lib/cfg).  A
 * parse either yields an object or an error message naming the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	json_object *c = cfg_parse("fuzz.yaml", (const char *)data, size, err, sizeof err);
	char *s;

	if (c == NULL) {
		if (strncmp(err, "fuzz.yaml", 9) != 0)
			abort();
		c = json_object_new_object();
	}
	/* The same bytes as a --set assignment. */
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (strlen(s) == size)
		(void)cfg_set(c, s, err, sizeof err);
	free(s);
	json_object_put(c);
	return 0;
}
