/* libFuzzer target: lib/scan against json-c.  Whatever scan_json accepts,
 * json-c must parse, and the kind it finds must be json-c's top-level
 * string "kind". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "js.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_tokener *tok;
	struct scan_result r;
	const char *why;
	json_object *o, *k;

	if (tok == NULL)
		tok = json_tokener_new_ex(SCAN_MAX_DEPTH);
	if (scan_json((const char *)data, size, &r, &why) < 0)
		return 0;
	if (memchr(data, '\0', size))
		return 0;	/* json-c stops at a NUL; scan rejects it in strings only */
	o = js_parse(tok, (const char *)data, size, &why);
	if (o == NULL && why != NULL)
		abort();
	if (r.kind && !r.kind_escaped) {
		if (!json_object_object_get_ex(o, "kind", &k) || !json_object_is_type(k, json_type_string) ||
		    strlen(json_object_get_string(k)) != r.kind_len ||
		    memcmp(json_object_get_string(k), r.kind, r.kind_len) != 0)
			abort();
	}
	json_object_put(o);
	return 0;
}
