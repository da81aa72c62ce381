/*
 * rec: the record stream.  A reader splits an input (a file, stdin, or a
 * gzip file read through zlib) into lines without ever truncating one; the
 * writer puts records on stdout with big buffers and checked writes.
 *
 * Lines are returned without their '\n'; the bytes are the input's own, so a
 * record a stage does not touch can be forwarded byte for byte.  The one
 * exception: a UTF-8 byte order mark at the very start of an input is
 * dropped (it belongs to no record).
 */
#ifndef AIOPS_REC_H
#define AIOPS_REC_H

#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>

#define REC_MAX_LINE_DEFAULT ((size_t)16 << 20)   /* 16 MiB */
#define REC_LONG_PREFIX 4096   /* bytes of an over-long line kept for the reject */

struct rec_reader {
	const char *name;       /* "<stdin>" or the path, for messages */
	unsigned long line;     /* number of the line last returned, from 1 */
	size_t max_line;        /* longer lines are reported, not returned */
	size_t long_len;        /* after REC_LONG: the whole line's length */
	/* private */
	int fd;
	void *gz;
	char *buf;
	size_t cap, start, end;
	int eof;
	int bom_checked;
};

enum { REC_EOF = 0, REC_LINE = 1, REC_LONG = 2, REC_ERROR = -1 };

/*
 * Opens path for reading (NULL or "-" is stdin).  A file whose name ends in
 * ".gz", or that starts with the gzip magic, is decompressed.  Returns 0, or
 * -1 with errno set.  max_line 0 means REC_MAX_LINE_DEFAULT.
 */
int rec_open(struct rec_reader *r, const char *path, size_t max_line);

/*
 * Reads the next line.  Returns REC_LINE with *p and *n set to the line (valid
 * until the next call; a NUL follows it), REC_LONG when the line was longer
 * than max_line (*p and *n are its first REC_LONG_PREFIX bytes, r->long_len the
 * full length; the rest was skipped), REC_EOF, or REC_ERROR with errno set.
 * A final line without '\n' is returned like any other.
 */
int rec_getline(struct rec_reader *r, const char **p, size_t *n);

/* Closes the input (not stdin) and frees the buffer. */
void rec_close(struct rec_reader *r);

/*
 * The writer.  out_init() gives stdout a 1 MiB buffer and, when stdout is a
 * pipe, a 1 MiB pipe buffer.  Every out_* call checks for errors: a reader
 * that went away (EPIPE) ends the program quietly by SIGPIPE; any other
 * write error prints "PROG: write error: REASON" and exits with status 1.
 */
void out_init(void);
/* fn runs just before a reader that went away ends the program by SIGPIPE
 * (to remove temporary files, say); it must not write to stdout. */
void out_on_epipe(void (*fn)(void));
/* Writes n bytes and a '\n'. */
void out_line(const char *p, size_t n);
/* Serialises o compactly (JS_FLAGS) and writes it as one line. */
void out_json(json_object *o);
/* Writes out everything buffered: call it before anything that blocks. */
void out_flush(void);
/* Flushes after every record from now on (--unbuffered). */
void out_set_unbuffered(int on);
/* Flushes and closes stdout, checking for errors (exits 1 on one). */
void out_close(void);

/* Sets 1 MiB buffers on an input fd that is a pipe (a no-op otherwise). */
void rec_tune_pipe(int fd);

#endif
