/* extsort: external merge sort of keyed byte records under a memory budget. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "extsort.h"

struct ent {
	int64_t ts;
	uint64_t seq;
	size_t off;     /* into mem */
	size_t len;
};

/* A run on disk, or (for the merge) the sorted memory collection. */
struct run {
	FILE *f;                /* NULL for the memory source */
	char *iobuf;
	/* the current record */
	int64_t ts;
	uint64_t seq;
	char *p;
	size_t n, cap;
	size_t next;            /* memory source: the next entry */
};

struct xsort {
	size_t budget;
	char tmpdir[4096];
	char *mem;
	size_t mlen, mcap;
	struct ent *ent;
	size_t nent, ecap;
	struct run runs[XS_FANIN + 1];
	int nruns;
	unsigned long spilled, count;
	/* merge state */
	int heap[XS_FANIN + 2];
	int nheap;
	struct run memsrc;
	int finished;
	int pending;            /* the source popped last, or -1 */
};

#define RUN_IOBUF (64 * 1024)

struct xsort *
xs_new(size_t budget, const char *tmpdir)
{
	struct xsort *x = ecalloc(1, sizeof *x);
	const char *t = tmpdir ? tmpdir : getenv("TMPDIR");

	if (t == NULL || *t == '\0')
		t = "/tmp";
	snprintf(x->tmpdir, sizeof x->tmpdir, "%s", t);
	x->budget = budget;
	x->pending = -1;
	return x;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static FILE *
tmpfile_in(const char *dir)
{
	char path[4200];
	int fd;
	FILE *f;

	snprintf(path, sizeof path, "%s/aiops-load.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	f = fdopen(fd, "w+b");
	if (f == NULL)
		close(fd);
	return f;
}

static int
put_rec(FILE *f, int64_t ts, uint64_t seq, const void *p, size_t n)
{
	uint64_t len = n;

	if (fwrite(&ts, sizeof ts, 1, f) != 1 || fwrite(&seq, sizeof seq, 1, f) != 1 ||
	    fwrite(&len, sizeof len, 1, f) != 1 || (n && fwrite(p, 1, n, f) != n))
		return -1;
	return 0;
}

/* Reads the next record of a disk run into r.  Returns 1, 0 at end, -1. */
static int
run_read(struct run *r)
{
	uint64_t len;

	if (fread(&r->ts, sizeof r->ts, 1, r->f) != 1)
		return ferror(r->f) ? -1 : 0;
	if (fread(&r->seq, sizeof r->seq, 1, r->f) != 1 || fread(&len, sizeof len, 1, r->f) != 1)
		return -1;
	if (len + 1 > r->cap) {
		r->cap = len + 1 > 256 ? len + 1 : 256;
		r->p = erealloc(r->p, r->cap);
	}
	if (len && fread(r->p, 1, len, r->f) != len)
		return -1;
	r->n = len;
	r->p[len] = '\0';
	return 1;
}

static void
run_close(struct run *r)
{
	if (r->f)
		fclose(r->f);
	free(r->iobuf);
	free(r->p);
	memset(r, 0, sizeof *r);
}

/* Rewinds a freshly written run for reading. */
static int
run_rewind(struct run *r)
{
	if (fflush(r->f) != 0 || fseek(r->f, 0, SEEK_SET) != 0)
		return -1;
	return 0;
}

static int
key_less(const struct run *a, const struct run *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts;
	return a->seq < b->seq;
}

/* Advances source i of the merge.  Returns 1, 0 at its end, -1. */
static int
src_advance(struct xsort *x, int i)
{
	struct run *r = i == XS_FANIN ? &x->memsrc : &x->runs[i];

	if (r->f)
		return run_read(r);
	if (r->next >= x->nent)
		return 0;
	{
		struct ent *e = &x->ent[r->next++];
		r->ts = e->ts;
		r->seq = e->seq;
		r->p = x->mem + e->off;
		r->n = e->len;
	}
	return 1;
}

/* Starts a heap merge over the disk runs (and the memory source when
 * with_mem).  Sources live in runs[0..nruns) and memsrc (index XS_FANIN). */
static int
merge_start(struct xsort *x, int with_mem)
{
	int i, k;

	x->nheap = 0;
	for (i = 0; i < x->nruns; i++) {
		if (run_rewind(&x->runs[i]) < 0)
			return -1;
		k = run_read(&x->runs[i]);
		if (k < 0)
			return -1;
		if (k > 0)
			x->heap[x->nheap++] = i;
	}
	if (with_mem) {
		memset(&x->memsrc, 0, sizeof x->memsrc);
		if (src_advance(x, XS_FANIN) > 0)
			x->heap[x->nheap++] = XS_FANIN;
	}
	return 0;
}

/* Heap entries index runs[], with XS_FANIN standing for memsrc. */
static struct run *
src_of(struct xsort *x, int i)
{
	return i == XS_FANIN ? &x->memsrc : &x->runs[i];
}

static void
heap_fix(struct xsort *x, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i, t;
		if (l < x->nheap && key_less(src_of(x, x->heap[l]), src_of(x, x->heap[m])))
			m = l;
		if (r < x->nheap && key_less(src_of(x, x->heap[r]), src_of(x, x->heap[m])))
			m = r;
		if (m == i)
			return;
		t = x->heap[i];
		x->heap[i] = x->heap[m];
		x->heap[m] = t;
		i = m;
	}
}

static void
heap_build(struct xsort *x)
{
	for (int i = x->nheap / 2 - 1; i >= 0; i--)
		heap_fix(x, i);
}

/* Points *out at the smallest record, which stays in its source's buffer
 * until the next pop advances that source.  Returns 1, 0 at the end, -1 on
 * a read error. */

static int
merge_pop(struct xsort *x, struct run **out)
{
	if (x->pending >= 0) {
		int k = src_advance(x, x->pending);
		if (k < 0)
			return -1;
		if (k == 0)
			x->heap[0] = x->heap[--x->nheap];
		if (x->nheap > 0)
			heap_fix(x, 0);
		x->pending = -1;
	}
	if (x->nheap == 0)
		return 0;
	x->pending = x->heap[0];
	*out = src_of(x, x->pending);
	return 1;
}

/* Merges every disk run into one new run. */
static int
merge_down(struct xsort *x)
{
	struct run r, *s;
	FILE *f = tmpfile_in(x->tmpdir);
	int k;

	if (f == NULL)
		return -1;
	memset(&r, 0, sizeof r);
	if (merge_start(x, 0) < 0)
		goto fail;
	heap_build(x);
	x->pending = -1;
	while ((k = merge_pop(x, &s)) > 0)
		if (put_rec(f, s->ts, s->seq, s->p, s->n) < 0)
			goto fail;
	if (k < 0)
		goto fail;
	x->pending = -1;
	for (int i = 0; i < x->nruns; i++)
		run_close(&x->runs[i]);
	x->nruns = 1;
	r.f = f;
	r.iobuf = emalloc(RUN_IOBUF);
	setvbuf(f, r.iobuf, _IOFBF, RUN_IOBUF);
	x->runs[0] = r;
	x->spilled++;
	return 0;
fail:
	x->pending = -1;
	fclose(f);
	return -1;
}

/* Sorts the memory collection and writes it as a run. */
static int
spill(struct xsort *x)
{
	struct run *r;
	size_t i;

	if (x->nruns == XS_FANIN && merge_down(x) < 0)
		return -1;
	if (x->nent > 1)
		qsort(x->ent, x->nent, sizeof *x->ent, ent_cmp);
	r = &x->runs[x->nruns];
	memset(r, 0, sizeof *r);
	r->f = tmpfile_in(x->tmpdir);
	if (r->f == NULL)
		return -1;
	r->iobuf = emalloc(RUN_IOBUF);
	setvbuf(r->f, r->iobuf, _IOFBF, RUN_IOBUF);
	x->nruns++;
	for (i = 0; i < x->nent; i++) {
		struct ent *e = &x->ent[i];
		if (put_rec(r->f, e->ts, e->seq, x->mem + e->off, e->len) < 0)
			return -1;
	}
	if (fflush(r->f) != 0)
		return -1;
	x->nent = 0;
	x->mlen = 0;
	x->spilled++;
	return 0;
}

int
xs_add(struct xsort *x, int64_t ts, uint64_t seq, const void *p, size_t n)
{
	struct ent *e;

	x->count++;
	if (x->nent > 0 && x->mlen + n + (x->nent + 1) * sizeof *x->ent > x->budget &&
	    spill(x) < 0)
		return -1;
	if (x->mlen + n > x->mcap) {
		size_t cap = x->mcap ? x->mcap * 2 : 64 * 1024;
		while (cap < x->mlen + n)
			cap *= 2;
		if (cap > x->budget && x->budget >= x->mlen + n)
			cap = x->budget;
		x->mem = erealloc(x->mem, cap);
		x->mcap = cap;
	}
	if (x->nent == x->ecap) {
		x->ecap = x->ecap ? x->ecap * 2 : 1024;
		x->ent = erealloc(x->ent, x->ecap * sizeof *x->ent);
	}
	e = &x->ent[x->nent++];
	e->ts = ts;
	e->seq = seq;
	e->off = x->mlen;
	e->len = n;
	memcpy(x->mem + x->mlen, p, n);
	x->mlen += n;
	return 0;
}

int
xs_finish(struct xsort *x)
{
	if (x->nent > 1)	/* ent is NULL when nothing was added */
		qsort(x->ent, x->nent, sizeof *x->ent, ent_cmp);
	if (merge_start(x, 1) < 0)
		return -1;
	heap_build(x);
	x->pending = -1;
	x->finished = 1;
	return 0;
}

int
xs_next(struct xsort *x, int64_t *ts, uint64_t *seq, const char **p, size_t *n)
{
	struct run *s;
	int k = merge_pop(x, &s);

	if (k <= 0) {
		if (k < 0 && errno == 0)
			errno = EIO;
		return k;
	}
	*ts = s->ts;
	*seq = s->seq;
	*p = s->p;
	*n = s->n;
	return 1;
}

unsigned long
xs_spilled(const struct xsort *x)
{
	return x->spilled;
}

unsigned long
xs_count(const struct xsort *x)
{
	return x->count;
}

void
xs_free(struct xsort *x)
{
	if (x == NULL)
		return;
	for (int i = 0; i < x->nruns; i++)
		run_close(&x->runs[i]);
	free(x->mem);
	free(x->ent);
	free(x);
}
