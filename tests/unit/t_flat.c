/* Unit tests of lib/flat: the lazy reader of flat records. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

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

/* A deterministic pseudo-random number (xorshift64). */
static unsigned long long
rnd(void)
{
	static unsigned long long x = 88172645463325252ULL;

	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	return x;
}

/* Appends n random digits, the first nonzero when lead. */
static void
digits(char *s, int n, int lead)
{
	size_t k = strlen(s);

	for (int i = 0; i < n; i++)
		s[k++] = (char)('0' + (lead && i == 0 ? 1 + rnd() % 9 : rnd() % 10));
	s[k] = '\0';
}

/* json-c's value of the member v of a record, and its text as json-c
 * writes it with lib/js's flags. */
static json_object *
jc_member(const char *rec, const char *key)
{
	json_object *o = json_tokener_parse(rec), *v = NULL;

	if (o && json_object_object_get_ex(o, key, &v))
		json_object_get(v);
	json_object_put(o);
	return v;
}

/* flat_double against json-c's json_object_get_double, bit for bit, over
 * random numbers of every form: returns how many flat_double took. */
static int
double_sweep(int n, int *wrong)
{
	int took = 0;

	*wrong = 0;
	for (int i = 0; i < n; i++) {
		char num[80] = "", rec[100];
		struct flat r;
		const char *why;
		double x;
		if (rnd() % 2)
			strcat(num, "-");
		if (rnd() % 4 == 0)
			strcat(num, "0");
		else
			digits(num, 1 + (int)(rnd() % 20), 1);
		if (rnd() % 3)
			strcat(num, "."), digits(num, 1 + (int)(rnd() % 20), 0);
		if (rnd() % 4 == 0) {
			strcat(num, rnd() % 2 ? "e" : "E");
			strcat(num, rnd() % 3 == 0 ? "-" : rnd() % 2 ? "+" : "");
			digits(num, 1 + (int)(rnd() % 3), 0);
		}
		snprintf(rec, sizeof rec, "{\"v\":%s}", num);
		if (flat_parse(rec, strlen(rec), 0, &r, &why) != 0 || !flat_double(&r.m[0], &x))
			continue;
		took++;
		json_object *v = jc_member(rec, "v");
		double y = json_object_get_double(v);
		if (memcmp(&x, &y, sizeof x) != 0) {
			if (++*wrong <= 5)
				printf("#   %s: flat %.17g json-c %.17g\n", num, x, y);
		}
		json_object_put(v);
	}
	return took;
}

/* A random labels-like object, sometimes with what json-c would write
 * otherwise: blanks, escapes, exponents, "-0", nesting, a repeated key. */
static void
random_object(char *s, size_t n)
{
	static const char *const vals[] = {"\"a/b\"", "\"x\\/y\"", "\"\\u00e9\"", "\"caf\xc3\xa9\"",
		"\"\x7f\"", "12", "-0", "1.50", "1e3", "-2.25", "true", "false", "null", "{}", "[1]",
		"\"\"", "0.1", "123456789012345678901"};
	size_t k = 0;
	int m = (int)(rnd() % 4);

	k += (size_t)snprintf(s + k, n - k, "{");
	for (int i = 0; i < m; i++) {
		const char *sp = rnd() % 8 == 0 ? " " : "";
		k += (size_t)snprintf(s + k, n - k, "%s%s\"%s%d\":%s%s", i ? "," : "", sp,
				      rnd() % 10 == 0 ? "k\\u0041" : "k", (int)(rnd() % 5), sp,
				      vals[rnd() % (sizeof vals / sizeof *vals)]);
	}
	snprintf(s + k, n - k, "}");
}

/* flat_plain against json-c: whenever it says the bytes are json-c's,
 * they are.  Returns how many it took. */
static int
plain_sweep(int n, int *wrong)
{
	int took = 0;

	*wrong = 0;
	for (int i = 0; i < n; i++) {
		char obj[400], rec[500];
		struct flat r;
		const char *why;
		random_object(obj, sizeof obj);
		snprintf(rec, sizeof rec, "{\"l\":%s}", obj);
		if (flat_parse(rec, strlen(rec), 0, &r, &why) != 0 || !flat_plain(&r.m[0]))
			continue;
		took++;
		json_object *v = jc_member(rec, "l");
		size_t jn;
		const char *j = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE, &jn);
		if (jn != r.m[0].vlen || memcmp(j, r.m[0].val, jn) != 0) {
			if (++*wrong <= 5)
				printf("#   %s: json-c writes %s\n", obj, j);
		}
		json_object_put(v);
	}
	return took;
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

	/* flat_double: json_object_get_double's value */
	double x;
	parse("{\"a\":-0,\"b\":-0.0,\"c\":1e400,\"d\":1e-400,\"e\":12345678901234567890,"
	      "\"f\":0.1,\"g\":-2.5E-3,\"h\":\"1\",\"i\":42}", &r, &why);
	tap_ok(!flat_double(&r.m[0], &x), "-0 (an integer to json-c) is left to json-c");
	tap_ok(flat_double(&r.m[1], &x) && x == 0 && signbit(x), "-0.0 is a negative zero");
	tap_ok(!flat_double(&r.m[2], &x) && !flat_double(&r.m[3], &x),
	       "overflow and underflow are left to json-c");
	tap_ok(!flat_double(&r.m[4], &x), "an integer beyond 18 digits is left to json-c");
	tap_ok(flat_double(&r.m[5], &x) && x == 0.1 && flat_double(&r.m[6], &x) && x == -2.5e-3,
	       "a fraction, an exponent");
	tap_ok(!flat_double(&r.m[7], &x) && flat_double(&r.m[8], &x) && x == 42,
	       "a string is no number; an integer is");
	int wrong, took = double_sweep(200000, &wrong);
	tap_ok(wrong == 0 && took > 100000, "200000 random numbers: json-c's value, bit for bit");
	if (wrong || took <= 100000)
		printf("#   %d taken, %d wrong\n", took, wrong);

	/* flat_plain: the bytes json-c writes */
	parse("{\"a\":{\"h\":\"x/y\",\"n\":1.50,\"t\":true},\"b\":{ },\"c\":{\"h\":\"\\u00e9\"},"
	      "\"d\":{\"o\":{}},\"e\":{},\"f\":{\"x\":1e3},\"g\":[]}", &r, &why);
	tap_ok(flat_plain(&r.m[0]) && flat_plain(&r.m[4]), "a plain object, an empty one");
	tap_ok(!flat_plain(&r.m[1]) && !flat_plain(&r.m[2]) && !flat_plain(&r.m[3]) &&
	       !flat_plain(&r.m[5]) && !flat_plain(&r.m[6]),
	       "blanks, an escape, nesting, an exponent, an array: json-c's");
	took = plain_sweep(100000, &wrong);
	tap_ok(wrong == 0 && took > 10000, "100000 random objects: json-c writes what flat_plain takes");
	if (wrong || took <= 10000)
		printf("#   %d taken, %d wrong\n", took, wrong);
	return tap_done();
}
