/* rec: line reader (plain or gzip) and checked record writer. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "js.h"
#include "rec.h"
#include "redact.h"

#ifndef F_SETPIPE_SZ
#define F_SETPIPE_SZ 1031
#endif

#define READ_CHUNK ((size_t)1 << 20)

void
rec_tune_pipe(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

int
rec_open(struct rec_reader *r, const char *path, size_t max_line)
{
	unsigned char magic[2];
	int gz = 0;

	memset(r, 0, sizeof *r);
	r->max_line = max_line ? max_line : REC_MAX_LINE_DEFAULT;
	if (path == NULL || strcmp(path, "-") == 0) {
		r->name = "<stdin>";
		r->fd = 0;
		rec_tune_pipe(0);
	} else {
		r->name = path;
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			return -1;
		gz = ends_with(path, ".gz") ||
		     (pread(r->fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b);
	}
	if (gz) {
		r->gz = gzdopen(r->fd, "rb");
		if (r->gz == NULL) {
			close(r->fd);
			errno = ENOMEM;
			return -1;
		}
		gzbuffer(r->gz, 256 * 1024);
	}
	return 0;
}

/* Reads more bytes into buf[end..cap).  Returns bytes read, 0 at end, -1. */
static ssize_t
fill(struct rec_reader *r)
{
	ssize_t k;

	if (r->gz) {
		int e;
		k = gzread(r->gz, r->buf + r->end, (unsigned)(r->cap - r->end));
		if (k < 0) {
			const char *m = gzerror(r->gz, &e);
			(void)m;
			errno = e == Z_ERRNO ? errno : EIO;
			return -1;
		}
		return k;
	}
	do
		k = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (k < 0 && errno == EINTR);
	return k;
}

int
rec_getline(struct rec_reader *r, const char **p, size_t *n)
{
	size_t skipped = 0, keep = 0;
	int too_long = 0;

	if (r->buf == NULL) {
		r->cap = READ_CHUNK;
		r->buf = emalloc(r->cap + 1);
	}
	for (;;) {
		char *nl = NULL;
		ssize_t k;

		if (r->end > r->start)
			nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl != NULL) {
			size_t len = (size_t)(nl - (r->buf + r->start));
			char *line = r->buf + r->start;
			r->start += len + 1;
			r->line++;
			if (too_long) {
				r->long_len = skipped + len;
				*p = r->buf;    /* the kept prefix sits at the front */
				*n = keep;
				return REC_LONG;
			}
			if (len > r->max_line) {
				r->long_len = len;
				*p = line;
				*n = REC_LONG_PREFIX < len ? REC_LONG_PREFIX : len;
				return REC_LONG;
			}
			*nl = '\0';
			*p = line;
			*n = len;
			return REC_LINE;
		}
		if (r->eof) {
			size_t len = r->end - r->start;
			if (len == 0 && !too_long)
				return REC_EOF;
			r->line++;
			if (too_long || len > r->max_line) {
				r->long_len = skipped + len;
				*p = too_long ? r->buf : r->buf + r->start;
				*n = too_long ? keep : (len < REC_LONG_PREFIX ? len : REC_LONG_PREFIX);
				r->start = r->end;
				return REC_LONG;
			}
			*p = r->buf + r->start;
			*n = len;
			r->buf[r->end] = '\0';
			r->start = r->end;
			return REC_LINE;
		}
		/* No newline in the buffer: make room, growing up to max_line. */
		if (too_long) {
			/* Keep the prefix at buf[0..PREFIX), drop the rest. */
			skipped += r->end - r->start;
			r->start = r->end = keep;
		} else if (r->end - r->start > r->max_line) {
			size_t len = r->end - r->start;
			keep = len < REC_LONG_PREFIX ? len : REC_LONG_PREFIX;
			memmove(r->buf, r->buf + r->start, keep);
			skipped = len;
			too_long = 1;
			r->start = r->end = keep;
		} else {
			if (r->start > 0) {
				memmove(r->buf, r->buf + r->start, r->end - r->start);
				r->end -= r->start;
				r->start = 0;
			}
			if (r->end == r->cap) {
				size_t cap = r->cap * 2;
				if (cap > r->max_line + READ_CHUNK)
					cap = r->max_line + READ_CHUNK;
				if (cap <= r->cap)
					cap = r->cap + READ_CHUNK;
				r->buf = erealloc(r->buf, cap + 1);
				r->cap = cap;
			}
		}
		k = fill(r);
		if (k < 0)
			return REC_ERROR;
		if (k == 0)
			r->eof = 1;
		r->end += (size_t)k;
		/* A UTF-8 byte order mark at the very start of an input is not
		 * part of any record (RFC 8259 8.1 lets a parser ignore it). */
		if (!r->bom_checked && (r->end >= 3 || r->eof)) {
			r->bom_checked = 1;
			if (r->line == 0 && r->start == 0 && r->end >= 3 &&
			    memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
				r->start = 3;
		}
	}
}

void
rec_close(struct rec_reader *r)
{
	if (r->gz)
		gzclose(r->gz);
	else if (r->fd > 0)
		close(r->fd);
	free(r->buf);
	r->buf = NULL;
	r->gz = NULL;
	r->fd = -1;
}

static int unbuffered;
static char *outbuf;
static void (*epipe_hook)(void);

void
out_on_epipe(void (*fn)(void))
{
	epipe_hook = fn;
}

static void
write_failed(void)
{
	if (errno == EPIPE) {
		if (epipe_hook)
			epipe_hook();
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
		_exit(141);
	}
	efatal(EXIT_FAIL, "write error: %s", strerror(errno ? errno : EIO));
}

void
out_init(void)
{
	if (outbuf == NULL) {
		outbuf = emalloc(1 << 20);
		setvbuf(stdout, outbuf, _IOFBF, 1 << 20);
	}
	rec_tune_pipe(1);
}

void
out_line(const char *p, size_t n)
{
	if (fwrite(p, 1, n, stdout) != n || putc_unlocked('\n', stdout) == EOF)
		write_failed();
	if (unbuffered)
		out_flush();
}

void
out_json(json_object *o)
{
	size_t n;
	const char *s;

	redact_tree(o);
	s = js_dump(o, &n);

	out_line(s, n);
}

void
out_flush(void)
{
	if (fflush(stdout) != 0)
		write_failed();
}

void
out_set_unbuffered(int on)
{
	unbuffered = on;
}

void
out_close(void)
{
	out_flush();
	if (ferror(stdout)) {
		errno = EIO;
		write_failed();
	}
	if (fclose(stdout) != 0)
		write_failed();
}
