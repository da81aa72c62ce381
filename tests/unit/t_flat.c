/* Unit tests of lib/flat: the lazy reader of flat records. */
#include <string.h>

#include "flat.h"
#include "tap.h"

static int
parse(const char *s, struct flat *r, const char **why)
{
	*why = NULL;
	return flat_parse(s, strlen(s), 1, r, why);
}

/* The decoded string value of key, or "(none)". */
static const char *
str_of(const struct flat *r, const char *key, char *out, size_t outn)
{
	static char res[256];
	const struct flat_mem *m = flat_get(r, key, strlen(key));
	const char *s;
	long n;

	if (m == NULL || (n = flat_str(m, out, outn, &s)) < 0)
		return "(none)";
	snprintf(res, sizeof res, "%.*s", (int)n, s);
	return res;
}

static void
invalid(const char *s, const char *want, const char *name)
{
	struct flat r;
	const char *why;
	int rc = parse(s, &r, &why);

	tap_ok(rc == -1 && why && strcmp(why, want) == 0, name);
	if (rc != -1 || strcmp(why, want) != 0)
		printf("#   got %d %s\n", rc, why ? why : "(null)");
}

int
main(void)
{
	struct flat r;
	const char *why, *s;
	char out[64];
	int64_t v;
	const struct flat_mem *m;
	char many[2048];

	tap_ok(parse(" {\"ts\":\"2024-05-01T10:00:00Z\", \"n\":12,\"x\":-3.50,\"o\":{\"a\":[1,{}]},"
		     "\"t\":true,\"f\":false,\"z\":null,\"a\":[]}\r", &r, &why) == 0 && r.n == 8,
	       "a record: eight members");
	tap_ok(r.m[0].type == FLAT_STR && r.m[1].type == FLAT_NUM && r.m[3].type == FLAT_OBJ &&
	       r.m[4].type == FLAT_TRUE && r.m[5].type == FLAT_FALSE && r.m[6].type == FLAT_NULL &&
	       r.m[7].type == FLAT_ARR, "each value's type");
	tap_is_str(str_of(&r, "ts", out, sizeof out), "2024-05-01T10:00:00Z", "a plain string, undecoded");
	m = flat_get(&r, "o", 1);
	tap_ok(m && m->vlen == 12 &&
	       memcmp(m->val, "{\"a\":[1,{}]}", m->vlen) == 0, "a nested value's bytes, as written");
	tap_ok(flat_int(flat_get(&r, "n", 1), &v) && v == 12, "an integer");
	tap_ok(!flat_int(flat_get(&r, "x", 1), &v) && flat_num_plain(flat_get(&r, "x", 1)),
	       "a fraction is no integer but is written back as it is");
	tap_ok(flat_get(&r, "missing", 7) == NULL && flat_get(&r, "t", 1) != NULL, "lookup by key");
	tap_ok(flat_str(flat_get(&r, "n", 1), out, sizeof out, &s) == -1, "a number is not a string");

	/* escapes */
	tap_ok(parse("{\"m\":\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"}", &r, &why) == 0 &&
	       r.m[0].vesc, "escapes are flagged");
	tap_is_str(str_of(&r, "m", out, sizeof out), "a\"b\\c/d\n\t\xc3\xa9\xf0\x9f\x98\x80",
		   "and decoded on demand (a surrogate pair becomes one code point)");
	tap_ok(flat_str(&r.m[0], out, 5, &s) == -1, "a decoded string that does not fit is refused");
	parse("{\"m\":\"x\\ud800y\"}", &r, &why);
	tap_ok(flat_str(&r.m[0], out, sizeof out, &s) == -1, "a lone high surrogate is left to json-c");
	parse("{\"m\":\"\\udc00\"}", &r, &why);
	tap_ok(flat_str(&r.m[0], out, sizeof out, &s) == -1, "a lone low surrogate is left to json-c");
	tap_ok(parse("{\"k\\u0041\":1}", &r, &why) == 0 && r.kesc && r.m[0].kesc,
	       "an escaped key is flagged");
	tap_ok(parse("{\"s\":\"\\u0000\"}", &r, &why) == 0 &&
	       flat_str(&r.m[0], out, sizeof out, &s) == 1 && s[0] == '\0', "\\u0000 decodes to a NUL");

	/* duplicates and numbers json-c would rewrite */
	tap_ok(parse("{\"a\":1,\"b\":2,\"a\":3}", &r, &why) == 0 && r.dup, "a duplicate key is flagged");
	tap_ok(parse("{\"a\":1,\"ab\":2}", &r, &why) == 0 && !r.dup, "a key that is a prefix is none");
	parse("{\"a\":-0,\"b\":1e2,\"c\":12345678901234567890,\"d\":-123456789012345678,\"e\":0}", &r, &why);
	tap_ok(!flat_int(&r.m[0], &v) && !flat_num_plain(&r.m[0]), "-0 is not written back as is");
	tap_ok(!flat_num_plain(&r.m[1]), "an exponent is left to json-c");
	tap_ok(!flat_int(&r.m[2], &v), "an integer beyond 18 digits is left to json-c");
	tap_ok(flat_int(&r.m[3], &v) && v == -123456789012345678LL, "18 digits and a sign");
	tap_ok(flat_int(&r.m[4], &v) && v == 0, "zero");

	/* not a flat record */
	tap_ok(parse("[1,2]", &r, &why) == 1 && r.n == 0, "an array is valid, not a record");
	tap_ok(parse("\"s\"", &r, &why) == 1, "a string is valid, not a record");
	tap_ok(parse("{}", &r, &why) == 0 && r.n == 0, "an empty object");
	strcpy(many, "{");
	for (int i = 0; i <= FLAT_MAX; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"k%d\":%d", i ? "," : "", i, i);
	strcat(many, "}");
	tap_ok(parse(many, &r, &why) == 1 && r.n == 0, "more than FLAT_MAX members: valid, left to json-c");
	many[strlen(many) - 1] = ',';
	tap_ok(parse(many, &r, &why) == -1, "and past the limit still validated");

	/* malformed */
	invalid("{\"a\":1", "unexpected end of data", "a cut record");
	invalid("{\"a\":1} x", "trailing data after the JSON value", "trailing data");
	invalid("{\"a\" 1}", "expected ':'", "a missing colon");
	invalid("{\"a\":1,}", "expected a member name", "a trailing comma");
	invalid("{\"a\":01}", "expected ',' or '}'", "a leading zero");
	invalid("{\"a\":NaN}", "unexpected character", "NaN");
	invalid("{\"a\":\"x\\q\"}", "bad escape in a string", "a bad escape");
	invalid("{\"a\":\"\\u12\"}", "bad \\u escape", "a short \\u escape");
	invalid("{\"a\":\"tab\there\"}", "control character in a string", "a raw control character");
	invalid("{\"a\":{\"b\":[1,}}", "unexpected character", "a broken nested value");
	invalid("", "unexpected end of data", "nothing");

	/* UTF-8 */
	invalid("{\"a\":\"\xff\"}", "invalid UTF-8", "0xff in a value");
	invalid("{\"\xc3\":1}", "invalid UTF-8", "a cut sequence in a key");
	invalid("{\"a\":\"\xc0\xaf\"}", "invalid UTF-8", "an overlong form");
	invalid("{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8", "an encoded surrogate");
	invalid("{\"a\":{\"b\":[\"ok\",\"\xf4\x90\x80\x80\"]}}", "invalid UTF-8", "beyond U+10FFFF, nested");
	invalid("{\"a\":\"0123456789abcdef0123456789\xe9t\xc3\xa9\"}", "invalid UTF-8",
		"a stray byte after 16 plain ones (the vector loop)");
	tap_ok(parse("{\"a\":\"0123456789abcdef0123456789\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ok\"}",
		     &r, &why) == 0, "valid 2-, 3- and 4-byte sequences");
	tap_ok(flat_parse("{\"a\":\"\xff\"}", 9, 0, &r, &why) == 0, "without utf8 the bytes pass");
	return tap_done();
}
