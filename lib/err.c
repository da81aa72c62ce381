/* err: program name, messages on stderr, allocation that exits on failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

const char *err_prog = "aiops";

void
err_setprog(const char *argv0)
{
	const char *p;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	p = strrchr(argv0, '/');
	err_prog = p ? p + 1 : argv0;
}

static char *(*msg_filter)(const char *msg);

void
err_set_filter(char *(*filter)(const char *msg))
{
	msg_filter = filter;
}

/* Prints prefix then the message, through the filter when one is set. */
static void
vput(const char *prefix, const char *fmt, va_list ap)
{
	char small[1024], *big = NULL, *f = NULL;
	const char *m = small;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(small, sizeof small, fmt, aq);
	va_end(aq);
	if (n >= (int)sizeof small && (big = malloc((size_t)n + 1)) != NULL) {
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		m = big;
	}
	if (msg_filter && (f = msg_filter(m)) != NULL)
		m = f;
	fprintf(stderr, "%s%s\n", prefix, m);
	free(f);
	free(big);
}

void
vwarnf(const char *fmt, va_list ap)
{
	char prefix[256];

	snprintf(prefix, sizeof prefix, "%s: ", err_prog);
	vput(prefix, fmt, ap);
}

void
warnf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnf(fmt, ap);
	va_end(ap);
}

void
warn_at(const char *file, unsigned long line, const char *fmt, ...)
{
	char prefix[1024];
	va_list ap;

	if (line > 0)
		snprintf(prefix, sizeof prefix, "%s: %s:%lu: ", err_prog, file, line);
	else
		snprintf(prefix, sizeof prefix, "%s: %s: ", err_prog, file);
	va_start(ap, fmt);
	vput(prefix, fmt, ap);
	va_end(ap);
}

void
efatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnf(fmt, ap);
	va_end(ap);
	exit(code);
}

static void
oom(size_t n)
{
	efatal(EXIT_FAIL, "out of memory allocating %zu bytes", n);
}

void *
emalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
ecalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom(n * size);
	return p;
}

void *
erealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

char *
estrdup(const char *s)
{
	return estrndup(s, strlen(s));
}

char *
estrndup(const char *s, size_t n)
{
	char *p = emalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
