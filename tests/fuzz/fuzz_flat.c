/* libFuzzer target: lib/flat against lib/scan and json-c.  flat_parse
 * accepts exactly what scan_json accepts (and with utf8, only UTF-8); each
 * recorded member is json-c's member of that key (no duplicates), and a
 * string flat_str decodes is json-c's string, byte for byte. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flat.h"
#include "js.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* json-c 0.16 (Debian 12) decodes some valid surrogate pairs to U+FFFD:
 * "\ud836\ude00" (U+1DA00, F0 9D A8 80) comes out EF BF BD, while
 * "\ud83d\ude00" is right.  flat_str decodes both right, so when json-c's
 * string holds U+FFFD and the value holds a high-surrogate escape, json-c
 * is no oracle for that string. */
static int
jsonc_pair_bug(const struct flat_mem *m, json_object *v)
{
	const char *j = json_object_get_string(v);
	size_t jn = (size_t)json_object_get_string_len(v);
	int hi = 0;

	for (unsigned k = 0; k + 3 < m->vlen && !hi; k++)
		hi = m->val[k] == '\\' && m->val[k + 1] == 'u' && (m->val[k + 2] | 0x20) == 'd' &&
		     strchr("89abAB", m->val[k + 3]) != NULL;
	return hi && memmem(j, jn, "\xef\xbf\xbd", 3) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_tokener *tok;
	static char out[4096];
	const char *s = (const char *)data, *why, *d;
	struct scan_result sr;
	struct flat r;
	json_object *o, *v;
	int scan_ok, rc, rc8;
	long n;

	if (tok == NULL)
		tok = json_tokener_new_ex(SCAN_MAX_DEPTH);
	scan_ok = scan_json(s, size, &sr, &why) == 0;
	rc = flat_parse(s, size, 0, &r, &why);
	if ((rc >= 0) != scan_ok || (rc == 0 && !sr.is_object))
		abort();
	rc8 = flat_parse(s, size, 1, &r, &why);
	if ((rc8 >= 0) != (scan_ok && js_utf8_valid(s, size)))
		abort();
	if (rc8 != 0 || r.dup || r.kesc || memchr(data, '\0', size))
		return 0;
	o = js_parse(tok, s, size, &why);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		abort();
	if ((size_t)json_object_object_length(o) != r.n)
		abort();
	for (unsigned i = 0; i < r.n; i++) {
		char key[512];
		if (r.m[i].klen >= sizeof key)
			continue;
		memcpy(key, r.m[i].key, r.m[i].klen);
		key[r.m[i].klen] = '\0';
		if (strlen(key) != r.m[i].klen || !json_object_object_get_ex(o, key, &v))
			abort();
		if (flat_get(&r, r.m[i].key, r.m[i].klen) != &r.m[i])
			abort();
		if (r.m[i].type == FLAT_STR) {
			if (!json_object_is_type(v, json_type_string))
				abort();
			if ((n = flat_str(&r.m[i], out, sizeof out, &d)) >= 0 &&
			    ((size_t)n != (size_t)json_object_get_string_len(v) ||
			     memcmp(d, json_object_get_string(v), (size_t)n) != 0) &&
			    !jsonc_pair_bug(&r.m[i], v))
				abort();
		} else if (r.m[i].type == FLAT_NULL ? v != NULL : v == NULL) {
			abort();
		}
	}
	json_object_put(o);
	return 0;
}
