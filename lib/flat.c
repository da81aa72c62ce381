/* flat: a lazy reader of flat JSON records (see flat.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flat.h"
#include "scan.h"

static const char *
ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static unsigned char
type_of(char c)
{
	switch (c) {
	case '"': return FLAT_STR;
	case '{': return FLAT_OBJ;
	case '[': return FLAT_ARR;
	case 't': return FLAT_TRUE;
	case 'f': return FLAT_FALSE;
	case 'n': return FLAT_NULL;
	default: return FLAT_NUM;
	}
}

int
flat_parse(const char *s, size_t n, int utf8, struct flat *r, const char **why)
{
	const char *p, *e = s + n;
	int over = 0;

	r->n = 0;
	r->dup = r->kesc = 0;
	p = ws(s, e);
	if (p >= e || *p != '{') {
		/* Not an object: validate only. */
		if ((p = scan_value(p, e, 0, utf8, NULL, why)) == NULL)
			return -1;
		if (ws(p, e) != e) {
			*why = "trailing data after the JSON value";
			return -1;
		}
		return 1;
	}
	p = ws(p + 1, e);
	if (p < e && *p == '}') {
		p++;
	} else {
		for (;;) {
			const char *k, *v;
			int kesc, vesc = 0;
			unsigned klen;
			p = ws(p, e);
			if (p >= e) {
				*why = "unexpected end of data";
				return -1;
			}
			if (*p != '"') {
				*why = "expected a member name";
				return -1;
			}
			k = p;
			if ((p = scan_string(p, e, utf8, &kesc, why)) == NULL)
				return -1;
			klen = (unsigned)(p - k - 2);
			p = ws(p, e);
			if (p >= e) {
				*why = "unexpected end of data";
				return -1;
			}
			if (*p != ':') {
				*why = "expected ':'";
				return -1;
			}
			v = p = ws(p + 1, e);
			if ((p = scan_value(p, e, 1, utf8, &vesc, why)) == NULL)
				return -1;
			r->kesc |= kesc;
			if (r->n == FLAT_MAX)
				over = 1;
			if (!over) {
				struct flat_mem *m = &r->m[r->n++];
				m->key = k + 1;
				m->klen = klen;
				m->kesc = (unsigned char)kesc;
				m->type = type_of(*v);
				m->vesc = (unsigned char)(m->type == FLAT_STR && vesc);
				if (m->type == FLAT_STR) {
					m->val = v + 1;
					m->vlen = (unsigned)(p - v - 2);
				} else {
					m->val = v;
					m->vlen = (unsigned)(p - v);
				}
			}
			p = ws(p, e);
			if (p >= e) {
				*why = "unexpected end of data";
				return -1;
			}
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p == '}') {
				p++;
				break;
			}
			*why = "expected ',' or '}'";
			return -1;
		}
	}
	if (ws(p, e) != e) {
		*why = "trailing data after the JSON value";
		return -1;
	}
	if (over) {
		r->n = 0;
		return 1;
	}
	for (unsigned i = 1; i < r->n && !r->dup; i++)
		for (unsigned j = 0; j < i; j++)
			if (r->m[j].klen == r->m[i].klen &&
			    memcmp(r->m[j].key, r->m[i].key, r->m[i].klen) == 0) {
				r->dup = 1;
				break;
			}
	return 0;
}

const struct flat_mem *
flat_get(const struct flat *r, const char *key, size_t klen)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->m[i].klen == klen && memcmp(r->m[i].key, key, klen) == 0)
			return &r->m[i];
	return NULL;
}

static int
hexval(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v = v << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* Appends code point cp as UTF-8; -1 when it does not fit. */
static int
put_utf8(char *out, size_t outn, size_t *o, unsigned cp)
{
	unsigned char t[4];
	size_t k;

	if (cp < 0x80)
		t[0] = (unsigned char)cp, k = 1;
	else if (cp < 0x800)
		t[0] = (unsigned char)(0xc0 | cp >> 6), t[1] = (unsigned char)(0x80 | (cp & 0x3f)), k = 2;
	else if (cp < 0x10000)
		t[0] = (unsigned char)(0xe0 | cp >> 12), t[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f)),
		t[2] = (unsigned char)(0x80 | (cp & 0x3f)), k = 3;
	else
		t[0] = (unsigned char)(0xf0 | cp >> 18), t[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f)),
		t[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f)), t[3] = (unsigned char)(0x80 | (cp & 0x3f)),
		k = 4;
	if (outn - *o < k)
		return -1;
	memcpy(out + *o, t, k);
	*o += k;
	return 0;
}

long
flat_str(const struct flat_mem *m, char *out, size_t outn, const char **s)
{
	const char *p = m->val, *e = m->val + m->vlen;
	size_t o = 0;

	if (m->type != FLAT_STR)
		return -1;
	if (!m->vesc) {
		*s = m->val;
		return (long)m->vlen;
	}
	/* The line was validated: every escape is complete and well formed. */
	while (p < e) {
		const char *b = memchr(p, '\\', (size_t)(e - p));
		size_t run = b ? (size_t)(b - p) : (size_t)(e - p);
		char c;
		if (outn - o < run)
			return -1;
		memcpy(out + o, p, run);
		o += run;
		if (b == NULL)
			break;
		p = b + 2;
		switch (b[1]) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u': {
			unsigned cp = (unsigned)hexval(b + 2);
			p = b + 6;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;       /* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;
				if (e - p < 6 || p[0] != '\\' || p[1] != 'u')
					return -1;
				lo = (unsigned)hexval(p + 2);
				if (lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			if (put_utf8(out, outn, &o, cp) < 0)
				return -1;
			continue;
		}
		default: c = b[1]; break;        /* " \\ / */
		}
		if (o == outn)
			return -1;
		out[o++] = c;
	}
	*s = out;
	return (long)o;
}

int
flat_int(const struct flat_mem *m, int64_t *v)
{
	const char *p = m->val, *e = m->val + m->vlen;
	int neg = 0;
	int64_t x = 0;

	if (m->type != FLAT_NUM)
		return 0;
	if (p < e && *p == '-')
		neg = 1, p++;
	if (e - p < 1 || e - p > 18)
		return 0;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		x = x * 10 + (*p - '0');
	}
	if (neg && x == 0)
		return 0;        /* "-0": json-c writes 0 */
	*v = neg ? -x : x;
	return 1;
}

int
flat_num_plain(const struct flat_mem *m)
{
	int64_t v;

	if (m->type != FLAT_NUM)
		return 0;
	if (flat_int(m, &v))
		return 1;
	/* a fraction, no exponent: json-c keeps the text */
	return m->vlen < 40 && memchr(m->val, '.', m->vlen) != NULL &&
	       memchr(m->val, 'e', m->vlen) == NULL && memchr(m->val, 'E', m->vlen) == NULL;
}

/* The powers of ten a double holds exactly. */
static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int
flat_double(const struct flat_mem *m, double *x)
{
	const char *p = m->val, *e = m->val + m->vlen;
	uint64_t mant = 0;
	int neg = 0, digits = 0, frac = -1;
	int64_t v;

	if (flat_int(m, &v)) {
		*x = (double)v;       /* json_object_get_double of an int64 */
		return 1;
	}
	if (m->type != FLAT_NUM)
		return 0;
	/* A decimal fraction of at most 15 digits: its digits and the power of
	 * ten are exact doubles, so one division rounds exactly as strtod
	 * (Clinger's fast path). */
	if (p < e && *p == '-')
		neg = 1, p++;
	for (; p < e; p++) {
		if (*p == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		mant = mant * 10 + (uint64_t)(*p - '0');
		digits++;
		frac += frac >= 0;
	}
	if (p == e && frac >= 0 && digits <= 15) {
		*x = (double)mant / pow10_exact[frac];
		if (neg)
			*x = -*x;
		return 1;
	}
	/* json-c reads a number with a fraction or an exponent with strtod;
	 * one without either that flat_int did not take stays an integer. */
	if (!memchr(m->val, '.', m->vlen) && !memchr(m->val, 'e', m->vlen) &&
	    !memchr(m->val, 'E', m->vlen))
		return 0;
	errno = 0;
	*x = strtod(m->val, NULL);    /* it stops at the byte after the number */
	return errno != ERANGE && isfinite(*x);
}

int
flat_plain(const struct flat_mem *m)
{
	struct flat o;
	const char *why;
	size_t want = 2;      /* the braces */

	switch (m->type) {
	case FLAT_STR:
		return !m->vesc;
	case FLAT_NUM:
		return flat_num_plain(m);
	case FLAT_TRUE: case FLAT_FALSE: case FLAT_NULL:
		return 1;
	case FLAT_OBJ:
		break;
	default:
		return 0;
	}
	if (flat_parse(m->val, m->vlen, 0, &o, &why) != 0 || o.dup || o.kesc)
		return 0;
	for (unsigned i = 0; i < o.n; i++) {
		const struct flat_mem *v = &o.m[i];
		if (v->type == FLAT_OBJ || !flat_plain(v))
			return 0;
		/* "key":value, and a comma before each but the first */
		want += (i > 0) + v->klen + 3 + v->vlen + (v->type == FLAT_STR ? 2 : 0);
	}
	return want == m->vlen;   /* else there are blanks */
}
