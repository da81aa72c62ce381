/*
 * scan: a JSON validator that builds nothing.  Every stage checks each line
 * with it and finds the top-level "kind" on the way; only records the stage
 * owns are then parsed into json-c objects, so forwarding a foreign record
 * costs a scan (several times cheaper than json-c) and a write.
 *
 * The grammar is RFC 8259's, strictly (no comments, NaN, single quotes or
 * trailing commas), nested at most SCAN_MAX_DEPTH deep.  Strings are not
 * checked for UTF-8 (that costs a third more; the reject path checks it).
 */
#ifndef AIOPS_SCAN_H
#define AIOPS_SCAN_H

#include <stddef.h>

#define SCAN_MAX_DEPTH 64

struct scan_result {
	const char *kind;    /* the top-level "kind" string's bytes (no quotes), or NULL */
	size_t kind_len;
	int kind_escaped;    /* the kind string holds an escape: decode it with json-c */
	int is_object;       /* the value is an object */
	size_t err_off;      /* on error: the byte offset where the text broke */
};

/*
 * Validates s[0..n) as exactly one JSON value with optional blanks around
 * it.  Returns 0, or -1 and sets *why to a static reason.
 */
int scan_json(const char *s, size_t n, struct scan_result *r, const char **why);

/*
 * The pieces lib/flat builds on.  scan_value validates one value at p
 * (blanks before it skipped) inside [p, e), nested under depth levels
 * already; scan_string one string at p == '"'.  With utf8 the strings must
 * also be UTF-8 (js_utf8_valid's rules: a line all of whose strings pass is
 * UTF-8 as a whole, since the grammar allows only ASCII outside strings).
 * *esc (may be NULL for scan_value) is set when the value, a string, holds
 * a backslash.  Both return the position after the value, or NULL and set
 * *why.
 */
const char *scan_value(const char *p, const char *e, int depth, int utf8, int *esc,
		       const char **why);
/* The length of the UTF-8 sequence at p (a byte >= 0x80) before e, or 0
 * when it is not UTF-8 (overlong, surrogate, beyond U+10FFFF, cut): the
 * one definition of valid UTF-8 (js_utf8_valid applies it to a buffer). */
size_t scan_utf8_seq(const char *p, const char *e);
const char *scan_string(const char *p, const char *e, int utf8, int *esc, const char **why);

#endif
