/* libFuzzer target: lib/schema.  The input is either one JSON value, checked
 * against the rca and remediation answer schemas, or "SCHEMA\nVALUE", a
 * schema of the fuzzer's own checked against a value.  A failure must come
 * with a non-empty, NUL-terminated reason that fits the buffer; the
 * validator must not modify what it reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "js.h"
#include "schema.h"
#include "schemas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(json_object *schema, json_object *v)
{
	char why[96];
	const char *before, *after;
	char *copy;
	int rc;

	before = js_dump(v, NULL);
	copy = strdup(before);
	memset(why, 'x', sizeof why);
	rc = schema_validate(schema, v, why, sizeof why);
	if (memchr(why, '\0', sizeof why) == NULL && rc != 0)
		abort();
	if (rc != 0 && why[0] == '\0')
		abort();
	if (rc != 0 && rc != -1)
		abort();
	after = js_dump(v, NULL);
	if (strcmp(copy, after) != 0)
		abort();
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_object *rca, *rem;
	const char *s = (const char *)data, *nl, *why;
	json_object *schema, *v;

	if (rca == NULL) {
		rca = json_tokener_parse(rca_schema_json);
		rem = json_tokener_parse(remediation_schema_json);
		if (rca == NULL || rem == NULL)
			abort();
	}
	if (memchr(data, '\0', size))
		return 0;
	nl = memchr(s, '\n', size);
	if (nl == NULL) {
		v = js_parse(NULL, s, size, &why);
		if (v == NULL && why != NULL)
			return 0;
		check(rca, v);
		check(rem, v);
		json_object_put(v);
		return 0;
	}
	schema = js_parse(NULL, s, (size_t)(nl - s), &why);
	if (schema == NULL)
		return 0;
	v = js_parse(NULL, nl + 1, size - (size_t)(nl - s) - 1, &why);
	if (v != NULL || why == NULL)
		check(schema, v);
	json_object_put(v);
	json_object_put(schema);
	return 0;
}
