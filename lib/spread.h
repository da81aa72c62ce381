/*
 * spread: how specific a piece of evidence is to one service of a group.
 *
 * A fault shows first and most strongly where it is; what it does to the
 * rest of the system (callers slowing down, load falling off everywhere,
 * the same error logged by every client) shows on many services at once,
 * in the same form.  So a signal class (a metric name and direction, a log
 * template, an operation, an alert name: what a signal is, without the
 * service it was seen on) that shows on k services of a group tells less
 * about each of them than a class only one service shows.
 *
 * spread_weigh() gives each key of a group the weight
 *
 *     w = k ^ -alpha
 *
 * where k is the number of distinct services of the group with a key of
 * the same class.  alpha 0 turns the module off (w is always 1); alpha 1
 * shares a class's weight out among the services that show it (the inverse
 * document frequency of text retrieval, taken over one group's services).
 * A class only one service shows keeps weight 1, whatever alpha.
 *
 * Nothing here prints or exits, except that spread_weigh() exits like
 * emalloc() on out-of-memory; it reads no clock and holds no state.
 */
#ifndef AIOPS_SPREAD_H
#define AIOPS_SPREAD_H

#include <stddef.h>

struct spread_key {
	const char *cls;     /* the class: what the signal is, without its service */
	int svc;             /* the service it was seen on */
	double w;            /* set by spread_weigh() */
};

/* Sets k[i].w for k[0..n); the order of k is kept. */
void spread_weigh(struct spread_key *k, size_t n, double alpha);

#endif
