/* rx: bounded-cost compilation of config patterns (see rx.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rx.h"

#define CAP ((size_t)RX_MAX_NODES + 1)
#define DEPTH 64

static size_t
add(size_t a, size_t b)
{
	return a + b > CAP ? CAP : a + b;
}

static size_t
mul(size_t a, size_t b)
{
	if (a == 0 || b == 0)
		return a == 0 ? 0 : a;
	return a > CAP / b ? CAP : a * b;
}

/* Skips a bracket expression starting at p ('['); returns the character
 * after its closing ']' (or the end of the string when it has none, which
 * regcomp will refuse). */
static const char *
skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (p[0] == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char end = p[1];
			const char *q = p + 2;
			while (*q && !(q[0] == end && q[1] == ']'))
				q++;
			p = *q ? q + 2 : q;
		} else {
			p++;
		}
	}
	return *p ? p + 1 : p;
}

/* Reads a bound "{m}", "{m,}" or "{m,n}" at p; returns the character after
 * it and the multiplier in *k, or NULL when p is not a bound. */
static const char *
bound(const char *p, size_t *k)
{
	char *e;
	unsigned long m, n;

	if (p[1] < '0' || p[1] > '9')
		return NULL;
	m = strtoul(p + 1, &e, 10);
	n = m;
	if (*e == ',') {
		if (e[1] >= '0' && e[1] <= '9')
			n = strtoul(e + 1, &e, 10);
		else
			n = m + 1, e++;
	}
	if (*e != '}')
		return NULL;
	if (n < m)
		n = m;
	*k = n == 0 ? 1 : (n > CAP ? CAP : (size_t)n);
	return e + 1;
}

size_t
rx_cost(const char *pat)
{
	/* per open group: the total so far and the size of the last atom */
	size_t total[DEPTH], last[DEPTH];
	int d = 0;
	const char *p = pat;

	total[0] = last[0] = 0;
	while (*p) {
		size_t atom = 1, k;
		const char *q;

		switch (*p) {
		case '(':
			if (d + 1 >= DEPTH)
				return CAP;
			d++;
			total[d] = last[d] = 0;
			p++;
			continue;
		case ')':
			if (d == 0) {
				p++;
				break;
			}
			atom = total[d] ? total[d] : 1;
			d--;
			p++;
			break;
		case '|':
			last[d] = 0;
			p++;
			continue;
		case '*':
		case '+':
		case '?':
			total[d] = add(total[d], last[d]);
			last[d] = mul(last[d], 2);
			p++;
			continue;
		case '{':
			if ((q = bound(p, &k)) != NULL) {
				size_t grown = mul(last[d], k);
				total[d] = add(total[d], grown - (last[d] < grown ? last[d] : grown));
				last[d] = grown;
				p = q;
				continue;
			}
			p++;
			break;
		case '[':
			p = skip_bracket(p);
			break;
		case '\\':
			p += p[1] ? 2 : 1;
			break;
		default:
			p++;
			break;
		}
		total[d] = add(total[d], atom);
		last[d] = atom;
		if (total[d] >= CAP)
			return CAP;
	}
	while (d > 0) {
		size_t t = total[d] ? total[d] : 1;
		d--;
		total[d] = add(total[d], t);
	}
	return total[0];
}

int
rx_compile(regex_t *re, const char *pat, char *why, size_t n)
{
	struct buf b = BUF_INIT(0);
	size_t cost;
	int rc;

	if (strlen(pat) > RX_MAX_LEN) {
		snprintf(why, n, "too long (%zu bytes, at most %d)", strlen(pat), RX_MAX_LEN);
		return -1;
	}
	cost = rx_cost(pat);
	if (cost > RX_MAX_NODES) {
		snprintf(why, n, "too many repetitions (it expands to more than %d atoms)",
			 RX_MAX_NODES);
		return -1;
	}
	buf_printf(&b, "^(%s)$", pat);
	rc = regcomp(re, b.p, REG_EXTENDED | REG_NOSUB);
	buf_free(&b);
	if (rc != 0) {
		regerror(rc, re, why, n);
		return -1;
	}
	return 0;
}
