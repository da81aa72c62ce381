/*
 * buf: a growable byte buffer that always has a maximum size (like curl's
 * dynbuf).  The content is kept NUL-terminated so it can be used as a C
 * string; len never counts the terminator.
 */
#ifndef AIOPS_BUF_H
#define AIOPS_BUF_H

#include <stddef.h>

struct buf {
	char *p;        /* content, NUL-terminated; NULL until the first append */
	size_t len;     /* bytes in use */
	size_t cap;     /* bytes allocated */
	size_t max;     /* appends past this fail; 0 means 1 GiB */
};

#define BUF_INIT(max) { NULL, 0, 0, (max) }

/* Appends n bytes.  Returns 0, or -1 when the result would exceed max (the
 * buffer is then unchanged).  Exits on out-of-memory. */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends v in decimal, as printf's %lld / %llu would (by hand, for the
 * keys built on per-record paths, where vsnprintf is too dear). */
int buf_addll(struct buf *b, long long v);
int buf_addull(struct buf *b, unsigned long long v);

/* Empties the buffer and keeps its memory. */
void buf_reset(struct buf *b);
/* Frees the memory; the buffer may be used again. */
void buf_free(struct buf *b);
/* Returns the content and hands ownership to the caller (free() it); the
 * buffer is left empty.  Never NULL. */
char *buf_detach(struct buf *b);

#endif
