/*
 * err: the program's name and the messages it prints on stderr.
 *
 * Every message has the form "aiops-STAGE: text" or, for a position in an
 * input, "aiops-STAGE: FILE:LINE: text" (lowercase, no full stop, the error
 * first).  Library code never exits: only the e-prefixed helpers do, and
 * only stages call them.
 */
#ifndef AIOPS_ERR_H
#define AIOPS_ERR_H

#include <stdarg.h>

/* Exit codes shared by every stage. */
enum {
	EXIT_OK = 0,      /* success */
	EXIT_FAIL = 1,    /* the stage could not do its job */
	EXIT_USAGE = 2    /* usage or config error */
};

/* The name used in messages; set once from main() with err_setprog(). */
extern const char *err_prog;

/* Sets err_prog to the basename of argv0 (the string must outlive the
 * program; argv[0] does). */
void err_setprog(const char *argv0);

/* Prints "PROG: message\n" on stderr. */
/* Installs a filter that every message goes through before it is printed:
 * it returns a malloc'd replacement, or NULL to keep the message (redact.c
 * keeps secrets out of messages with it). */
void err_set_filter(char *(*filter)(const char *msg));

void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vwarnf(const char *fmt, va_list ap);

/* Prints "PROG: FILE:LINE: message\n" on stderr; line 0 omits the line. */
void warn_at(const char *file, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prints like warnf() and exits with status code. */
void efatal(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Allocation that exits with status 1 and a message on failure. */
void *emalloc(size_t n);
void *ecalloc(size_t n, size_t size);
void *erealloc(void *p, size_t n);
char *estrdup(const char *s);
char *estrndup(const char *s, size_t n);

/* Sets arr[n] = v after growing the array arr of n elements by one with
 * erealloc() (n itself is left to the caller). */
#define EPUSH(arr, n, v) do { (arr) = erealloc((arr), ((n) + 1) * sizeof *(arr)); (arr)[(n)] = (v); } while (0)

#endif
