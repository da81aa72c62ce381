/* Unit tests of lib/scan: strict JSON validation and the top-level kind. */
#include <string.h>

#include "scan.h"
#include "tap.h"

static void
valid(const char *s, const char *kind, const char *name)
{
	struct scan_result r;
	const char *why = NULL;
	char k[64] = "";
	int rc = scan_json(s, strlen(s), &r, &why);

	if (rc == 0 && r.kind)
		snprintf(k, sizeof k, "%.*s", (int)r.kind_len, r.kind);
	tap_ok(rc == 0 && (kind ? r.kind != NULL && strcmp(k, kind) == 0 : r.kind == NULL), name);
	if (rc != 0)
		printf("#   rejected: %s\n", why);
}

static void
invalid(const char *s, const char *why_want, const char *name)
{
	struct scan_result r;
	const char *why = NULL;
	int rc = scan_json(s, strlen(s), &r, &why);

	tap_ok(rc < 0 && why && strcmp(why, why_want) == 0, name);
	if (rc == 0 || strcmp(why, why_want) != 0)
		printf("#   got: %s\n", rc == 0 ? "accepted" : why);
}

int
main(void)
{
	char deep[300];
	struct scan_result r;
	const char *why;

	valid("{\"kind\":\"log\",\"n\":1}", "log", "a record and its kind");
	valid(" {\"a\":{\"kind\":\"inner\"},\"kind\":\"outer\"} ", "outer", "only the top-level kind counts");
	valid("{\"a\":{\"kind\":\"inner\"}}", NULL, "a nested kind is not the record's");
	valid("{\"kind\":\"a\",\"kind\":\"b\"}", "b", "the last kind wins, as in json-c");
	valid("{\"kind\":5}", NULL, "a non-string kind is no kind");
	valid("{\"kinds\":\"x\"}", NULL, "a longer key is not kind");
	valid("{\"kind\":\"x\",\"v\":[1,-2.5e+3,0,0.1,true,false,null,\"s\\u00e9\\n\"],\"o\":{}}", "x",
	      "every value type");
	valid("[1,2]", NULL, "an array is valid JSON");
	valid("{\"kind\":\"a\\/b\"}", "a\\/b", "an escaped kind is returned raw");
	scan_json("{\"kind\":\"a\\/b\"}", 14, &r, &why);
	tap_ok(r.kind_escaped == 1, "and flagged as escaped");
	valid("{\"s\":\"\xff\xfe\"}", NULL, "bytes that are not UTF-8 pass (checked elsewhere)");
	invalid("{\"kind\":\"x\",\"n\":4", "unexpected end of data", "a cut record");
	invalid("{\"kind\":\"x\"} junk", "trailing data after the JSON value", "trailing data");
	invalid("{\"a\":01}", "expected ',' or '}'", "a leading zero");
	invalid("{\"a\":1.}", "bad number", "a bare decimal point");
	invalid("{\"a\":NaN}", "unexpected character", "NaN");
	invalid("{'a':1}", "expected a member name", "single quotes");
	invalid("{\"a\":1,}", "expected a member name", "a trailing comma");
	invalid("{\"a\":\"x\ty\"}", "control character in a string", "a raw tab in a string");
	invalid("{\"a\":\"x\ny\"}", "control character in a string", "a raw newline in a string");
	invalid("{\"a\":\"x\x1fy\"}", "control character in a string", "a raw 0x1f (the last control character) in a string");
	invalid("{\"a\":\"\\x\"}", "bad escape in a string", "a bad escape");
	invalid("{\"a\":\"\\u12\"}", "bad \\u escape", "a short \\u escape");
	invalid("", "unexpected end of data", "nothing");
	invalid("{\"a\" 1}", "expected ':'", "a missing colon");
	invalid("tru", "unexpected character", "a cut literal");
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	deep[130] = '\0';
	invalid(deep, "nesting too deep", "65 levels are too deep");
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	deep[128] = '\0';
	valid(deep, NULL, "64 levels are fine");
	tap_ok(scan_json("{\"a\":\"x\0y\"}", 11, &r, &why) < 0, "a NUL byte in a string is a control character");
	return tap_done();
}
