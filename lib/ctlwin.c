/*
 * ctlwin: the control windows of aiops-eval slice (see ctlwin.h).
 */
#include <stdlib.h>

#include "ctlwin.h"
#include "err.h"
#include "ts.h"

/* Does [s, e) overlap a control already given to one of incs[0..n)? */
static int
ctl_taken(const struct ctlwin *incs, size_t n, int64_t s, int64_t e)
{
	for (size_t i = 0; i < n; i++)
		if (incs[i].cs != TS_NONE && s < incs[i].ce && incs[i].cs < e)
			return 1;
	return 0;
}

/* Does [s, e) overlap the reserved span [rs, re)? */
static int
reserved(int64_t s, int64_t e, int64_t rs, int64_t re)
{
	return rs != TS_NONE && s < re && rs < e;
}

void
ctlwin_place(struct ctlwin *incs, size_t ninc, int64_t len, int64_t post_ns, int64_t dmin,
	     int64_t dmax, int64_t rs, int64_t re)
{
	int64_t *slot = NULL, t;
	char *used = NULL;
	size_t i, j, nslot = 0;
	struct { int64_t s, e; } *z = emalloc((ninc + 1) * sizeof *z);

	for (i = 0; i < ninc; i++) {
		struct ctlwin *x = &incs[i];
		int64_t e = x->start;
		int moved = 1;
		while (moved) {
			moved = 0;
			for (j = 0; j < ninc; j++) {
				int64_t bs = incs[j].start, be = incs[j].end + post_ns;
				if (e - len < be && e > bs) {
					e = bs;
					moved = 1;
				}
			}
		}
		if (e - len >= dmin && !ctl_taken(incs, i, e - len, e) && !reserved(e - len, e, rs, re)) {
			x->cs = e - len;
			x->ce = e;
			x->from = "before";
		}
	}
	/* The fault-free stretches: zones sorted by start, merged on the way. */
	for (i = 0; i < ninc; i++) {
		z[i].s = incs[i].start - len;
		z[i].e = incs[i].end + post_ns + len;
	}
	t = dmin;
	for (i = 0; i <= ninc; i++) {
		int64_t gap_end = i < ninc ? z[i].s : dmax;
		for (; t + len <= gap_end; t += len) {
			EPUSH(slot, nslot, t);
			nslot++;
		}
		if (i < ninc && z[i].e > t)
			t = z[i].e;
	}
	used = ecalloc(nslot ? nslot : 1, 1);
	for (i = 0; i < ninc; i++) {
		struct ctlwin *x = &incs[i];
		size_t best = nslot;
		int64_t bd = 0;
		if (x->cs != TS_NONE)
			continue;
		for (j = 0; j < nslot; j++) {
			int64_t d = slot[j] > x->start ? slot[j] - x->start : x->start - slot[j];
			if (used[j] || ctl_taken(incs, ninc, slot[j], slot[j] + len) ||
			    reserved(slot[j], slot[j] + len, rs, re))
				continue;
			if (best == nslot || d < bd)
				best = j, bd = d;
		}
		if (best < nslot) {
			used[best] = 1;
			x->cs = slot[best];
			x->ce = slot[best] + len;
			x->from = "fault-free";
		}
	}
	free(used);
	free(slot);
	free(z);
}

int
ctlwin_reference(const struct ctlwin *incs, size_t ninc, int64_t ref_len, int64_t pre_ns,
		 int64_t post_ns, int64_t dmin, int64_t dmax, int64_t *rs, int64_t *re)
{
	/* Latest first: the end of a candidate stretch is dmax or an
	 * incident's reach back (start - pre_ns); its start the latest busy
	 * end before it. */
	for (size_t k = ninc + 1; k-- > 0;) {
		int64_t e = k == ninc ? dmax : incs[k].start - pre_ns, s = dmin;
		if (e > dmax)
			e = dmax;
		for (size_t i = 0; i < ninc; i++) {
			int64_t be = incs[i].end + post_ns;
			if (incs[i].start - pre_ns < e && be > s && be <= e)
				s = be;
			if (incs[i].start - pre_ns < e && be > e)
				s = e;   /* e falls inside a busy span */
		}
		if (e - s >= ref_len) {
			*rs = e - ref_len;
			*re = e;
			return 0;
		}
	}
	return -1;
}
