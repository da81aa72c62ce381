/* rank_pr: the personalised-PageRank ranking arm (see rank_pr.h). */
#include <math.h>
#include <stdlib.h>

#include "err.h"
#include "rank_pr.h"

#define DAMP 0.85
#define BACK 0.2
#define ROUNDS 200
#define EPS 1e-12

void
rank_pagerank(struct rank_cand *c, int n, const struct rank_params *p)
{
	size_t nn = (size_t)n;
	double *w = ecalloc(nn * nn, sizeof *w);     /* w[i*n+j]: weight i -> j */
	double *start = ecalloc(3 * nn, sizeof *start), *pi = start + nn, *next = pi + nn;
	double total = 0;

	for (int i = 0; i < n; i++) {
		c[i].depth = 0;
		total += fmax(c[i].strength, 0);
	}
	if (total <= 0) {
		for (int i = 0; i < n; i++)
			c[i].score = 0;
		free(w);
		free(start);
		return;
	}
	for (int i = 0; i < n; i++) {
		double top = 0;
		for (int j = 0; j < n; j++) {
			if (j == i || !p->is_callee(c[i].id, c[j].id, p->arg))
				continue;
			double s = fmax(c[j].sym, 0);
			w[(size_t)i * nn + (size_t)j] += s;
			w[(size_t)j * nn + (size_t)i] += BACK * fmax(c[i].sym, 0);
			if (s > top)
				top = s;
		}
		w[(size_t)i * nn + (size_t)i] += fmax(fmax(c[i].sym, 0) - top, 0);
	}
	for (int i = 0; i < n; i++) {
		start[i] = fmax(c[i].strength, 0) / total;
		pi[i] = start[i];
	}
	for (int r = 0; r < ROUNDS; r++) {
		double lost = 0, diff = 0;
		for (int j = 0; j < n; j++)
			next[j] = 0;
		for (int i = 0; i < n; i++) {
			double out = 0;
			for (int j = 0; j < n; j++)
				out += w[(size_t)i * nn + (size_t)j];
			if (out <= 0) {
				lost += pi[i];
				continue;
			}
			for (int j = 0; j < n; j++)
				next[j] += DAMP * pi[i] * w[(size_t)i * nn + (size_t)j] / out;
			lost += (1 - DAMP) * pi[i];
		}
		for (int j = 0; j < n; j++) {
			next[j] += lost * start[j];
			diff += fabs(next[j] - pi[j]);
			pi[j] = next[j];
		}
		if (diff < EPS)
			break;
	}
	for (int i = 0; i < n; i++)
		c[i].score = c[i].strength > 0 ? pi[i] * total : 0;
	free(w);
	free(start);
}
