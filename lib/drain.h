/*
 * drain: online log template mining in the style of Drain (He et al., ICWS
 * 2017).  A message is first masked (numbers, hex strings, UUIDs, IPv4
 * addresses with an optional port, and durations become <NUM>, <HEX>,
 * <UUID>, <IP>, <DUR>) and split on white space.  The parse tree then routes
 * it by a caller-given group (e.g. the service), by its token count and by
 * its first `depth` tokens (a token holding a digit routes as <*>) to a
 * short list of templates; the most similar template (share of equal tokens
 * at equal positions) takes it when the similarity reaches `sim`, and its
 * differing positions become <*>; otherwise the message starts a template.
 *
 * Memory is bounded: at most `max_templates` templates live at once; when a
 * new one would exceed that, the least recently matched template is evicted
 * (its id is never reused).  Everything is deterministic: the same messages
 * in the same order give the same ids and templates.
 */
#ifndef AIOPS_DRAIN_H
#define AIOPS_DRAIN_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct drain;

struct drain_tpl {
	uint64_t id;          /* 1, 2, ... in creation order; never reused */
	const char *text;     /* the template, tokens joined by one space */
	uint64_t count;       /* messages matched, including the first */
	void *data;           /* the caller's; passed to on_evict */
};

/*
 * Masks msg[0..n) into out (reset first): each maskable run becomes its
 * placeholder and runs of white space one space; leading and trailing space
 * is dropped.  Returns the number of tokens.  Never fails (out grows as
 * needed; a buffer at its maximum keeps a prefix).
 */
size_t drain_mask(const char *msg, size_t n, struct buf *out);

/*
 * Creates a miner.  depth >= 1 is how many leading tokens route a message
 * (Drain's depth - 2), sim in (0, 1] the similarity needed to join a
 * template, max_templates >= 1 the bound, max_tokens >= 2 the most tokens kept
 * (a longer message keeps max_tokens - 1 and one <*> for the rest).  on_evict, when
 * not NULL, is called with a template just before it is freed.  Returns a
 * miner the caller frees with drain_free(); exits on out-of-memory.
 */
struct drain *drain_new(int depth, double sim, size_t max_templates, size_t max_tokens,
			void (*on_evict)(struct drain_tpl *t));

/*
 * Adds one message of group `group` (any string; messages of different
 * groups never share a template).  Returns the template it joined or
 * started (valid until the next drain_add or drain_free); *is_new is set to
 * 1 when the template was started by this message, 0 otherwise.  The
 * template's text may have changed (a token became <*>).
 */
struct drain_tpl *drain_add(struct drain *d, const char *group, const char *msg, size_t n,
			    int *is_new);

/* The number of live templates, and of evictions so far. */
size_t drain_count(const struct drain *d);
uint64_t drain_evictions(const struct drain *d);

/* Frees the miner and every template (calling on_evict for each). */
void drain_free(struct drain *d);

#endif
