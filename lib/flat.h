/*
 * flat: a lazy reader of flat JSON records (one object per line whose
 * fields are mostly scalars), built on lib/scan.  One pass validates the
 * line (strict RFC 8259, as scan_json, and UTF-8 in every string) and
 * records where each top-level member's key and value are; nothing is
 * allocated or decoded.  Strings and numbers are decoded on demand, from
 * the line's own bytes.
 *
 * It is for the hot paths that read a few fields of every record: json-c
 * stays for the rest (configs, nested values that must be copied, records
 * a stage writes).  A record the reader cannot describe exactly says so
 * (flat_parse's return, r->dup, r->kesc) and the caller parses it with
 * json-c instead, so that both paths give the same result:
 *
 *   struct flat r;
 *   const char *why;
 *   if (flat_parse(line, n, 1, &r, &why) == 0 && !r.dup && !r.kesc) {
 *           const struct flat_mem *m = flat_get(&r, "service", 7);
 *           ...   fast path: m->type, flat_str, flat_int ...
 *   } else {
 *           ...   json-c, which also words the error for a reject
 *   }
 *
 * aiops-load's JSONL reader (lib/rd_jsonl) uses it, and so do
 * aiops-correlate's signal handlers on the records aiops-load writes
 * (through lib/stage's flat handlers: flat_get on "ts", "service", "name",
 * "value" ..., flat_plain for the labels, json-c for the rest).
 */
#ifndef AIOPS_FLAT_H
#define AIOPS_FLAT_H

#include <stddef.h>
#include <stdint.h>

enum flat_type { FLAT_STR = 1, FLAT_NUM, FLAT_TRUE, FLAT_FALSE, FLAT_NULL, FLAT_OBJ, FLAT_ARR };

/* One top-level member.  Pointers are into the line: valid while it is. */
struct flat_mem {
	const char *key;        /* the key's bytes, without quotes, as written */
	const char *val;        /* a string's bytes without quotes; any other value as written */
	unsigned klen, vlen;
	unsigned char type;     /* enum flat_type */
	unsigned char kesc;     /* the key holds a backslash (compare it decoded: use json-c) */
	unsigned char vesc;     /* a string value holds a backslash (flat_str decodes it) */
};

#define FLAT_MAX 32             /* members recorded; more: flat_parse returns 1 */

struct flat {
	struct flat_mem m[FLAT_MAX];
	unsigned n;             /* members, in the order written */
	int dup;                /* some key is written twice (raw bytes compared) */
	int kesc;               /* some key holds a backslash */
};

/*
 * Validates s[0..n) as one JSON value with optional blanks around it and,
 * when it is an object of at most FLAT_MAX members, records them in r.
 * utf8: strings must be UTF-8 too.  Returns 0 (r filled), 1 (valid JSON
 * but not an object or too many members: r->n is 0) or -1 (invalid: *why
 * is a static reason, scan_json's wording or "invalid UTF-8").
 */
int flat_parse(const char *s, size_t n, int utf8, struct flat *r, const char **why);

/* The member whose raw key is key[0..klen), or NULL (first one; with r->dup
 * json-c's answer, the last, differs). */
const struct flat_mem *flat_get(const struct flat *r, const char *key, size_t klen);

/*
 * A string member's value, decoded into out[0..outn) when it holds escapes
 * (\uXXXX pairs become UTF-8).  Returns the length and sets *s to the
 * bytes (the line's own when there is no escape), or -1 when it is not a
 * string, does not fit, or holds an escape json-c would change (a lone
 * surrogate, which it replaces with U+FFFD): parse that line with json-c.
 */
long flat_str(const struct flat_mem *m, char *out, size_t outn, const char **s);

/*
 * A number as json-c would hold it: flat_int for an integer written
 * without fraction or exponent that fits in 63 bits (json-c's int64, which
 * writes it back as written, except "-0"); flat_num_plain says a number
 * is written back byte for byte by json-c (such an integer, or a decimal
 * fraction without exponent, which json-c keeps as text).  Return 0 / 1.
 */
int flat_int(const struct flat_mem *m, int64_t *v);
int flat_num_plain(const struct flat_mem *m);

/*
 * A number as json_object_get_double gives json-c's value of it: 1 and
 * *x, or 0 when json-c's own conversion must say (an integer of more than
 * 18 digits or "-0", which it keeps as an integer; a value beyond the
 * range of a double, finite or not).
 */
int flat_double(const struct flat_mem *m, double *x);

/*
 * Whether m's bytes are exactly what json-c writes (plain, '/' unescaped:
 * lib/js's JS_FLAGS) for the value it reads from them: true, false, null,
 * a string without escapes, a flat_num_plain number, or an object of such
 * members with unique, unescaped keys and no blanks.  1 / 0 (parse and
 * write it with json-c).
 */
int flat_plain(const struct flat_mem *m);

#endif
