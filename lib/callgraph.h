/*
 * callgraph: the service call graph aiops-correlate learns, by service
 * index (lib/svctab's).  A call from -> to is learned from spans (a parent
 * and its child) or only from an alert's caller, and remembers whether
 * spans ever showed it.  A service calls at most 256 others (further
 * callees are not learned); a call to itself is never learned.  Nodes
 * grow on demand; a service never added calls nothing.  Functions exit on
 * allocation failure (lib/err).
 */
#ifndef AIOPS_CALLGRAPH_H
#define AIOPS_CALLGRAPH_H

#include <stddef.h>

struct callgraph_node {
	int *callees, n, cap;
	unsigned char *by_span;   /* callees[i] was seen in a span's parent link */
};

struct callgraph {
	struct callgraph_node *v;
	int nv;                   /* v[] entries */
};

/* Learns the call from -> to; by_span: from spans, not only from an
 * alert's caller. */
void callgraph_add(struct callgraph *cg, int from, int to, int by_span);
/* Whether from -> to was learned. */
int callgraph_calls(const struct callgraph *cg, int from, int to);
/* Whether from -> to was learned from spans. */
int callgraph_by_span(const struct callgraph *cg, int from, int to);
/* Whether a calls b or b calls a. */
int callgraph_adjacent(const struct callgraph *cg, int a, int b);
/* The calls learned. */
size_t callgraph_edges(const struct callgraph *cg);
/* Forgets the services i < span with dead[i]: their calls and the calls to
 * them. */
void callgraph_forget(struct callgraph *cg, const unsigned char *dead, int span);
void callgraph_free(struct callgraph *cg);

#endif
