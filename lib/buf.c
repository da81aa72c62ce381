/* buf: growable byte buffer with a maximum size. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

#define BUF_DEFAULT_MAX ((size_t)1 << 30)

static int
grow(struct buf *b, size_t need)
{
	size_t max = b->max ? b->max : BUF_DEFAULT_MAX;
	size_t cap;

	if (need > max)
		return -1;
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need + 1)
		cap *= 2;
	b->p = erealloc(b->p, cap);
	b->cap = cap;
	return 0;
}

/* Fits need bytes and a NUL without growing (the common case, checked
 * before calling grow). */
static inline int
fits(const struct buf *b, size_t need)
{
	return need < b->cap && need <= (b->max ? b->max : BUF_DEFAULT_MAX);
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (!fits(b, b->len + n) && grow(b, b->len + n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addc(struct buf *b, char c)
{
	if (!fits(b, b->len + 1))
		return buf_add(b, &c, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, b->len + (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* u in decimal at the end of t[24]; returns where it starts. */
static size_t
dec(char *t, unsigned long long u)
{
	size_t i = 24;

	do
		t[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	return i;
}

int
buf_addull(struct buf *b, unsigned long long v)
{
	char t[24];
	size_t i = dec(t, v);

	return buf_add(b, t + i, sizeof t - i);
}

int
buf_addll(struct buf *b, long long v)
{
	char t[24];
	/* the magnitude as unsigned: -LLONG_MIN does not fit a long long */
	size_t i = dec(t, v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v);

	if (v < 0)
		t[--i] = '-';
	return buf_add(b, t + i, sizeof t - i);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *
buf_detach(struct buf *b)
{
	char *p = b->p ? b->p : estrdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}
