/*
 * ctlwin: the fault-free control windows of aiops-eval slice, one window
 * of length len per labelled incident, never shared:
 *
 *   before      the latest window that ends at or before the incident's
 *               start, overlaps no incident's busy span [start, end + post)
 *               and starts inside the data;
 *   fault-free  else the nearest free slot of the fault-free stretches: the
 *               data span [dmin, dmax] less [start - len, end + post + len)
 *               of every incident, each stretch tiled from its beginning
 *               into windows of length len (ties: the earlier slot).
 *
 * An incident left without either has no control.  Nothing here prints;
 * ctlwin_place() exits like emalloc() on out-of-memory.
 */
#ifndef AIOPS_CTLWIN_H
#define AIOPS_CTLWIN_H

#include <stddef.h>
#include <stdint.h>

struct ctlwin {
	int64_t start, end;             /* the incident, ns; end resolved, >= start */
	int64_t cs, ce;                 /* its control [cs, ce); cs TS_NONE: none */
	const char *from;               /* the control's rule: "before", "fault-free" */
};

/*
 * Places the controls of w[0..n) (sorted by start; every cs TS_NONE on
 * entry) as described above, with incidents busy until end + post_ns and
 * the data spanning [dmin, dmax]: sets cs, ce and from of each incident
 * that gets one and leaves the others as they are.  No control overlaps
 * the reserved span [rs, re) (the reference; rs TS_NONE: none).
 */
void ctlwin_place(struct ctlwin *w, size_t n, int64_t len, int64_t post_ns, int64_t dmin,
		  int64_t dmax, int64_t rs, int64_t re);

/*
 * The reference window of aiops-eval slice --reference: the last ref_len of
 * the latest fault-free stretch that holds it, a stretch being the data span
 * [dmin, dmax] less every incident's busy span [start, end + post_ns) and
 * the time before each incident that its case window reaches, pre_ns.  Sets
 * [*rs, *re) and returns 0, or returns -1 when no stretch is long enough.
 */
int ctlwin_reference(const struct ctlwin *w, size_t n, int64_t ref_len, int64_t pre_ns,
		     int64_t post_ns, int64_t dmin, int64_t dmax, int64_t *rs, int64_t *re);

#endif
