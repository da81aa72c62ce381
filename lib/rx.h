/*
 * rx: compiling a pattern someone wrote into a config file, whole-string
 * anchored, without letting it take the machine.
 *
 * glibc's regcomp expands every bounded repetition: "((a{100}){100}){100}"
 * is a million-node tree and ~200 MB before anything is matched, and the
 * catalog fuzzer found patterns that exhaust memory.  rx_compile estimates
 * the expanded size of an extended regular expression (each atom 1, a group
 * the sum of its alternatives, a bound {m,n} multiplies what it applies to
 * by n, or m+1 when open, and '*', '+', '?' by 2) and refuses a pattern whose
 * estimate passes RX_MAX_NODES, or that is longer than RX_MAX_LEN, before
 * regcomp sees it.  Every real pattern in the bundled configs is under 100.
 */
#ifndef AIOPS_RX_H
#define AIOPS_RX_H

#include <regex.h>
#include <stddef.h>

#define RX_MAX_LEN 1024
#define RX_MAX_NODES 2048

/* The estimate described above, saturating at RX_MAX_NODES + 1. */
size_t rx_cost(const char *pat);

/* Compiles "^(pat)$" with REG_EXTENDED | REG_NOSUB into *re.  Returns 0, or
 * -1 with a reason in why (NUL-terminated, at most n bytes: "too long",
 * "too many repetitions (...)" or regerror's text); *re is then not to be
 * freed. */
int rx_compile(regex_t *re, const char *pat, char *why, size_t n);

#endif
