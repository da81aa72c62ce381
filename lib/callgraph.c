/* callgraph: the learned service call graph (contract in callgraph.h). */
#include <stdlib.h>
#include <string.h>

#include "callgraph.h"
#include "err.h"

/* 1 + the index of to among from's callees, or 0. */
static int
callee_slot(const struct callgraph *cg, int from, int to)
{
	if (from < 0 || from >= cg->nv)
		return 0;
	for (int i = 0; i < cg->v[from].n; i++)
		if (cg->v[from].callees[i] == to)
			return i + 1;
	return 0;
}

int
callgraph_calls(const struct callgraph *cg, int from, int to)
{
	return callee_slot(cg, from, to) > 0;
}

int
callgraph_by_span(const struct callgraph *cg, int from, int to)
{
	int k = callee_slot(cg, from, to);

	return k > 0 && cg->v[from].by_span[k - 1];
}

int
callgraph_adjacent(const struct callgraph *cg, int a, int b)
{
	return callgraph_calls(cg, a, b) || callgraph_calls(cg, b, a);
}

void
callgraph_add(struct callgraph *cg, int from, int to, int by_span)
{
	struct callgraph_node *s;
	int k;

	if (from == to || from < 0)
		return;
	if (from >= cg->nv) {
		cg->v = erealloc(cg->v, (size_t)(from + 1) * sizeof *cg->v);
		memset(&cg->v[cg->nv], 0, (size_t)(from + 1 - cg->nv) * sizeof *cg->v);
		cg->nv = from + 1;
	}
	s = &cg->v[from];
	if ((k = callee_slot(cg, from, to)) > 0) {
		s->by_span[k - 1] |= (unsigned char)(by_span != 0);
		return;
	}
	if (s->n >= 256)
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->callees = erealloc(s->callees, (size_t)s->cap * sizeof *s->callees);
		s->by_span = erealloc(s->by_span, (size_t)s->cap);
	}
	s->by_span[s->n] = by_span != 0;
	s->callees[s->n++] = to;
}

size_t
callgraph_edges(const struct callgraph *cg)
{
	size_t edges = 0;

	for (int i = 0; i < cg->nv; i++)
		edges += (size_t)cg->v[i].n;
	return edges;
}

void
callgraph_forget(struct callgraph *cg, const unsigned char *dead, int span)
{
	for (int i = 0; i < span && i < cg->nv; i++) {
		struct callgraph_node *s = &cg->v[i];
		if (dead[i]) {
			free(s->callees);
			free(s->by_span);
			memset(s, 0, sizeof *s);
			continue;
		}
		int k = 0;
		for (int j = 0; j < s->n; j++)
			if (!dead[s->callees[j]]) {
				s->by_span[k] = s->by_span[j];
				s->callees[k++] = s->callees[j];
			}
		s->n = k;
	}
}

void
callgraph_free(struct callgraph *cg)
{
	for (int i = 0; i < cg->nv; i++) {
		free(cg->v[i].callees);
		free(cg->v[i].by_span);
	}
	free(cg->v);
	cg->v = NULL;
	cg->nv = 0;
}
