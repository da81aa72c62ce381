/* scan: allocation-free strict JSON validation, finding the top "kind". */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "scan.h"

struct sc {
	const char *p, *e, *s;
	const char *why;
	int depth;
	int utf8;       /* check strings for UTF-8 (scan_value) */
	int *esc;       /* scan_value: set when the value, a string, holds an escape */
};

static const char *
fail(struct sc *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	return NULL;
}

static const char *
ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

size_t
scan_utf8_seq(const char *s, const char *end)
{
	const unsigned char *p = (const unsigned char *)s, *e = (const unsigned char *)end;
	unsigned c = *p, cp;
	size_t k;

	if (c >= 0xc2 && c <= 0xdf)
		k = 1, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 2, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 3, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(e - p) <= k)
		return 0;
	for (size_t i = 1; i <= k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k + 1;
}

static int
hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* p at the opening quote; returns the position after the closing one. */
static const char *
str(struct sc *c, const char *p, int *escaped)
{
	const char *e = c->e;

	p++;
	for (;;) {
		/* Skip the plain run quickly: 16 bytes at a time while none is a
		 * quote, a backslash or a control character (this loop is most
		 * of a pass-through stage's time). */
#ifdef __SSE2__
		{
			const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'),
				      c1f = _mm_set1_epi8(0x1f);
			while (e - p >= 16) {
				__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
				__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
							 _mm_cmpeq_epi8(_mm_max_epu8(x, c1f), c1f));
				int bits = _mm_movemask_epi8(m) | (c->utf8 ? _mm_movemask_epi8(x) : 0);
				if (bits != 0) {
					p += __builtin_ctz((unsigned)bits);
					break;
				}
				p += 16;
			}
		}
#endif
		while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 &&
		       !(c->utf8 && (unsigned char)*p >= 0x80))
			p++;
		if (p >= e)
			return fail(c, "unterminated string");
		if (*p == '"')
			return p + 1;
		if ((unsigned char)*p >= 0x80) {
			size_t k = scan_utf8_seq(p, e);
			if (k == 0)
				return fail(c, "invalid UTF-8");
			p += k;
			continue;
		}
		if ((unsigned char)*p < 0x20)
			return fail(c, "control character in a string");
		/* A backslash. */
		if (escaped)
			*escaped = 1;
		if (p + 1 >= e)
			return fail(c, "unterminated string");
		switch (p[1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p += 2;
			break;
		case 'u':
			if (e - p < 6 || !hex(p[2]) || !hex(p[3]) || !hex(p[4]) || !hex(p[5]))
				return fail(c, "bad \\u escape");
			p += 6;
			break;
		default:
			return fail(c, "bad escape in a string");
		}
	}
}

static const char *
num(struct sc *c, const char *p)
{
	const char *e = c->e;

	if (p < e && *p == '-')
		p++;
	if (p >= e)
		return fail(c, "bad number");
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		return fail(c, "bad number");
	if (p < e && *p == '.') {
		p++;
		if (p >= e || *p < '0' || *p > '9')
			return fail(c, "bad number");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return fail(c, "bad number");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

static const char *value(struct sc *c, const char *p, struct scan_result *top);

static const char *
lit(struct sc *c, const char *p, const char *w, size_t n)
{
	if ((size_t)(c->e - p) < n || memcmp(p, w, n) != 0)
		return fail(c, "unexpected character");
	return p + n;
}

static const char *
value(struct sc *c, const char *p, struct scan_result *top)
{
	const char *e = c->e;

	p = ws(p, e);
	if (p >= e)
		return fail(c, "unexpected end of data");
	switch (*p) {
	case '{':
		if (++c->depth > SCAN_MAX_DEPTH)
			return fail(c, "nesting too deep");
		if (top)
			top->is_object = 1;
		p = ws(p + 1, e);
		if (p < e && *p == '}') {
			c->depth--;
			return p + 1;
		}
		for (;;) {
			const char *k;
			int esc = 0, is_kind;
			p = ws(p, e);
			if (p >= e)
				return fail(c, "unexpected end of data");
			if (*p != '"')
				return fail(c, "expected a member name");
			k = p;
			if ((p = str(c, p, &esc)) == NULL)
				return NULL;
			is_kind = top && !esc && p - k == 6 && memcmp(k, "\"kind\"", 6) == 0;
			p = ws(p, e);
			if (p >= e)
				return fail(c, "unexpected end of data");
			if (*p != ':')
				return fail(c, "expected ':'");
			p = ws(p + 1, e);
			/* The last "kind" wins, as in json-c. */
			if (is_kind && p < e && *p == '"') {
				const char *v = p;
				int vesc = 0;
				if ((p = str(c, p, &vesc)) == NULL)
					return NULL;
				top->kind = v + 1;
				top->kind_len = (size_t)(p - v - 2);
				top->kind_escaped = vesc;
			} else {
				if (is_kind)
					top->kind = NULL;
				if ((p = value(c, p, NULL)) == NULL)
					return NULL;
			}
			p = ws(p, e);
			if (p >= e)
				return fail(c, "unexpected end of data");
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p == '}') {
				c->depth--;
				return p + 1;
			}
			return fail(c, "expected ',' or '}'");
		}
	case '[':
		if (++c->depth > SCAN_MAX_DEPTH)
			return fail(c, "nesting too deep");
		p = ws(p + 1, e);
		if (p < e && *p == ']') {
			c->depth--;
			return p + 1;
		}
		for (;;) {
			if ((p = value(c, p, NULL)) == NULL)
				return NULL;
			p = ws(p, e);
			if (p >= e)
				return fail(c, "unexpected end of data");
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p == ']') {
				c->depth--;
				return p + 1;
			}
			return fail(c, "expected ',' or ']'");
		}
	case '"':
		return str(c, p, c->esc);
	case 't':
		return lit(c, p, "true", 4);
	case 'f':
		return lit(c, p, "false", 5);
	case 'n':
		return lit(c, p, "null", 4);
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9'))
			return num(c, p);
		return fail(c, "unexpected character");
	}
}

int
scan_json(const char *s, size_t n, struct scan_result *r, const char **why)
{
	struct sc c = {s, s + n, s, NULL, 0, 0, NULL};
	const char *p;

	memset(r, 0, sizeof *r);
	p = value(&c, s, r);
	if (p != NULL) {
		p = ws(p, c.e);
		if (p == c.e)
			return 0;
		c.why = "trailing data after the JSON value";
	}
	/* The failing position is not tracked exactly; report the reason. */
	r->err_off = 0;
	*why = c.why ? c.why : "invalid JSON";
	return -1;
}

const char *
scan_value(const char *p, const char *e, int depth, int utf8, int *esc, const char **why)
{
	struct sc c = {p, e, p, NULL, depth, utf8, esc};

	if (esc)
		*esc = 0;
	p = value(&c, p, NULL);
	if (p == NULL)
		*why = c.why ? c.why : "invalid JSON";
	return p;
}

const char *
scan_string(const char *p, const char *e, int utf8, int *esc, const char **why)
{
	struct sc c = {p, e, p, NULL, 0, utf8, NULL};

	*esc = 0;
	p = str(&c, p, esc);
	if (p == NULL)
		*why = c.why;
	return p;
}
