/* drain: online log template mining (a Drain-style parse tree). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "drain.h"
#include "err.h"
#include "smap.h"

#define WILD "<*>"

struct tpl {
	struct drain_tpl pub;
	char **tok;
	size_t ntok;
	size_t nwild;
	char *leafkey;          /* the route key, to leave the leaf on eviction */
	size_t leafklen;
	struct tpl *prev, *next; /* LRU list, most recent first */
};

struct leaf {
	struct tpl **t;
	size_t n, cap;
};

struct drain {
	int depth;
	double sim;
	size_t max_tpl, max_tok;
	void (*on_evict)(struct drain_tpl *);
	struct smap leaves;
	struct tpl *head, *tail;
	size_t ntpl;
	uint64_t next_id, evictions;
	struct buf mask, key;
	char **tok;
	size_t tokcap;
};

static int
ishex(int c)
{
	return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
isword(int c)
{
	return isalnum(c) || c == '_';
}

/* Length of a UUID at s, or 0. */
static size_t
uuid_at(const char *s, size_t n)
{
	static const int grp[] = {8, 4, 4, 4, 12};
	size_t i = 0;

	for (int g = 0; g < 5; g++) {
		for (int k = 0; k < grp[g]; k++, i++)
			if (i >= n || !ishex((unsigned char)s[i]))
				return 0;
		if (g < 4) {
			if (i >= n || s[i] != '-')
				return 0;
			i++;
		}
	}
	return i < n && isword((unsigned char)s[i]) ? 0 : i;
}

/* Length of an IPv4 address (with an optional :port) at s, or 0. */
static size_t
ip_at(const char *s, size_t n)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t d = 0;
		while (i < n && isdigit((unsigned char)s[i]) && d < 3)
			i++, d++;
		if (d == 0)
			return 0;
		if (part < 3) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && isdigit((unsigned char)s[i]))
		return 0;
	if (i + 1 < n && s[i] == ':' && isdigit((unsigned char)s[i + 1]))
		for (i++; i < n && isdigit((unsigned char)s[i]); i++)
			;
	return i < n && isword((unsigned char)s[i]) ? 0 : i;
}

/* Length of a hex string at s (0x..., or 8+ hex digits with a digit and a
 * letter, or 16+ hex digits), or 0. */
static size_t
hex_at(const char *s, size_t n)
{
	size_t i = 0;
	int digit = 0, alpha = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && ishex((unsigned char)s[2])) {
		for (i = 2; i < n && ishex((unsigned char)s[i]); i++)
			;
		return i < n && isword((unsigned char)s[i]) ? 0 : i;
	}
	for (; i < n && ishex((unsigned char)s[i]); i++) {
		if (isdigit((unsigned char)s[i]))
			digit = 1;
		else
			alpha = 1;
	}
	if (i < n && isword((unsigned char)s[i]))
		return 0;
	if ((i >= 8 && digit && alpha) || (i >= 16 && digit))
		return i;
	return 0;
}

/* Length of a duration unit right after a number at s, or 0. */
static size_t
unit_at(const char *s, size_t n)
{
	static const char *const units[] = {"µs", "min", "sec", "ms", "us", "ns", "s", "m", "h", "d"};

	for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
		size_t l = strlen(units[k]);
		if (l <= n && memcmp(s, units[k], l) == 0 &&
		    (l == n || !isword((unsigned char)s[l])))
			return l;
	}
	return 0;
}

size_t
drain_mask(const char *msg, size_t n, struct buf *out)
{
	size_t i = 0, ntok = 0;
	int space = 1;   /* the last thing written was a separator (or nothing) */

	buf_reset(out);
	buf_add(out, "", 0);
	while (i < n) {
		unsigned char c = (unsigned char)msg[i];
		int boundary = i == 0 || !isword((unsigned char)msg[i - 1]);
		size_t l;

		if (isspace(c)) {
			if (!space)
				buf_addc(out, ' ');
			space = 1;
			i++;
			continue;
		}
		if (space)
			ntok++;
		space = 0;
		if (boundary && ishex(c)) {
			if ((l = uuid_at(msg + i, n - i)) > 0) {
				buf_adds(out, "<UUID>");
				i += l;
				continue;
			}
			if ((l = ip_at(msg + i, n - i)) > 0) {
				buf_adds(out, "<IP>");
				i += l;
				continue;
			}
			if ((l = hex_at(msg + i, n - i)) > 0) {
				buf_adds(out, "<HEX>");
				i += l;
				continue;
			}
		}
		if (isdigit(c)) {
			for (l = i; l < n && isdigit((unsigned char)msg[l]); l++)
				;
			if (l + 1 < n && msg[l] == '.' && isdigit((unsigned char)msg[l + 1]))
				for (l++; l < n && isdigit((unsigned char)msg[l]); l++)
					;
			size_t u = boundary ? unit_at(msg + l, n - l) : 0;
			if (u > 0) {
				buf_adds(out, "<DUR>");
				i = l + u;
			} else if (l < n && isword((unsigned char)msg[l]) && boundary) {
				/* A word that starts with digits ("3rd", "2xx"): keep. */
				for (; l < n && isword((unsigned char)msg[l]); l++)
					;
				buf_add(out, msg + i, l - i);
				i = l;
			} else {
				buf_adds(out, "<NUM>");
				i = l;
			}
			continue;
		}
		buf_addc(out, (char)c);
		i++;
	}
	if (out->len > 0 && out->p[out->len - 1] == ' ')
		out->p[--out->len] = '\0';
	return ntok;
}

struct drain *
drain_new(int depth, double sim, size_t max_templates, size_t max_tokens,
	  void (*on_evict)(struct drain_tpl *t))
{
	struct drain *d = ecalloc(1, sizeof *d);

	d->depth = depth < 1 ? 1 : depth;
	d->sim = sim;
	d->max_tpl = max_templates < 1 ? 1 : max_templates;
	d->max_tok = max_tokens < 2 ? 2 : max_tokens;
	d->on_evict = on_evict;
	d->next_id = 1;
	d->mask.max = 1 << 20;
	d->key.max = 1 << 20;
	return d;
}

static void
set_text(struct tpl *t)
{
	struct buf b = BUF_INIT(0);

	for (size_t i = 0; i < t->ntok; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_adds(&b, t->tok[i]);
	}
	free((char *)t->pub.text);
	t->pub.text = buf_detach(&b);
}

static void
lru_unlink(struct drain *d, struct tpl *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		d->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		d->tail = t->prev;
	t->prev = t->next = NULL;
}

static void
lru_front(struct drain *d, struct tpl *t)
{
	t->next = d->head;
	t->prev = NULL;
	if (d->head)
		d->head->prev = t;
	d->head = t;
	if (d->tail == NULL)
		d->tail = t;
}

static void
tpl_free(struct drain *d, struct tpl *t)
{
	if (d->on_evict)
		d->on_evict(&t->pub);
	for (size_t i = 0; i < t->ntok; i++)
		free(t->tok[i]);
	free(t->tok);
	free((char *)t->pub.text);
	free(t->leafkey);
	free(t);
}

static void
evict_one(struct drain *d)
{
	struct tpl *t = d->tail;
	void **slot;

	if (t == NULL)
		return;
	lru_unlink(d, t);
	slot = smap_get(&d->leaves, t->leafkey, t->leafklen);
	if (slot && *slot) {
		struct leaf *lf = *slot;
		for (size_t i = 0; i < lf->n; i++)
			if (lf->t[i] == t) {
				memmove(lf->t + i, lf->t + i + 1, (lf->n - i - 1) * sizeof *lf->t);
				lf->n--;
				break;
			}
		if (lf->n == 0) {
			smap_del(&d->leaves, t->leafkey, t->leafklen);
			free(lf->t);
			free(lf);
		}
	}
	d->ntpl--;
	d->evictions++;
	tpl_free(d, t);
}

struct drain_tpl *
drain_add(struct drain *d, const char *group, const char *msg, size_t n, int *is_new)
{
	size_t ntok = 0, i;
	char *p, *end;
	struct leaf *lf;
	struct tpl *best = NULL, *t;
	double best_sim = -1;
	size_t best_wild = 0;
	void **slot;
	int created;

	drain_mask(msg, n, &d->mask);
	/* Split the masked text in place. */
	p = d->mask.p;
	end = p + d->mask.len;
	while (p < end) {
		char *q = memchr(p, ' ', (size_t)(end - p));
		if (q == NULL)
			q = end;
		*q = '\0';
		if (ntok == d->tokcap) {
			d->tokcap = d->tokcap ? d->tokcap * 2 : 32;
			d->tok = erealloc(d->tok, d->tokcap * sizeof *d->tok);
		}
		if (ntok + 1 == d->max_tok && q < end) {
			d->tok[ntok++] = WILD;   /* the rest as one wildcard */
			break;
		}
		d->tok[ntok++] = p;
		p = q + 1;
	}
	/* Route key: group, token count, the first depth tokens. */
	buf_reset(&d->key);
	if (group)
		buf_adds(&d->key, group);
	buf_addc(&d->key, '\x1f');
	buf_addull(&d->key, ntok);
	for (i = 0; i < ntok && i < (size_t)d->depth; i++) {
		int digit = 0;
		for (const char *s = d->tok[i]; *s; s++)
			digit |= isdigit((unsigned char)*s);
		buf_addc(&d->key, '\x1f');
		buf_adds(&d->key, digit ? WILD : d->tok[i]);
	}
	slot = smap_put(&d->leaves, d->key.p, d->key.len, &created);
	if (created)
		*slot = ecalloc(1, sizeof(struct leaf));
	lf = *slot;
	for (i = 0; i < lf->n; i++) {
		size_t eq = 0;
		t = lf->t[i];
		for (size_t k = 0; k < ntok; k++)
			if (strcmp(t->tok[k], d->tok[k]) == 0)
				eq++;
		double s = ntok ? (double)eq / (double)ntok : 1.0;
		if (s > best_sim || (s == best_sim && t->nwild > best_wild)) {
			best = t;
			best_sim = s;
			best_wild = t->nwild;
		}
	}
	if (best && best_sim >= d->sim) {
		int changed = 0;
		for (size_t k = 0; k < ntok; k++)
			if (strcmp(best->tok[k], d->tok[k]) != 0 && strcmp(best->tok[k], WILD) != 0) {
				free(best->tok[k]);
				best->tok[k] = estrdup(WILD);
				best->nwild++;
				changed = 1;
			}
		if (changed)
			set_text(best);
		best->pub.count++;
		lru_unlink(d, best);
		lru_front(d, best);
		*is_new = 0;
		return &best->pub;
	}
	/* A new template: make room first (the leaf may go away with it). */
	if (d->ntpl >= d->max_tpl) {
		char *k = estrndup(d->key.p, d->key.len);
		size_t kl = d->key.len;
		evict_one(d);
		slot = smap_put(&d->leaves, k, kl, &created);
		if (created)
			*slot = ecalloc(1, sizeof(struct leaf));
		lf = *slot;
		free(k);
	}
	t = ecalloc(1, sizeof *t);
	t->ntok = ntok;
	t->tok = emalloc((ntok ? ntok : 1) * sizeof *t->tok);
	for (i = 0; i < ntok; i++) {
		t->tok[i] = estrdup(d->tok[i]);
		if (strcmp(d->tok[i], WILD) == 0)
			t->nwild++;
	}
	t->leafkey = estrndup(d->key.p, d->key.len);
	t->leafklen = d->key.len;
	t->pub.id = d->next_id++;
	t->pub.count = 1;
	set_text(t);
	if (lf->n == lf->cap) {
		lf->cap = lf->cap ? lf->cap * 2 : 4;
		lf->t = erealloc(lf->t, lf->cap * sizeof *lf->t);
	}
	lf->t[lf->n++] = t;
	lru_front(d, t);
	d->ntpl++;
	*is_new = 1;
	return &t->pub;
}

size_t
drain_count(const struct drain *d)
{
	return d->ntpl;
}

uint64_t
drain_evictions(const struct drain *d)
{
	return d->evictions;
}

static void
leaf_free(void *v)
{
	struct leaf *lf = v;

	free(lf->t);
	free(lf);
}

void
drain_free(struct drain *d)
{
	struct tpl *t, *next;

	if (d == NULL)
		return;
	for (t = d->head; t; t = next) {
		next = t->next;
		tpl_free(d, t);
	}
	smap_free(&d->leaves, leaf_free);
	buf_free(&d->mask);
	buf_free(&d->key);
	free(d->tok);
	free(d);
}
