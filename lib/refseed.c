/*
 * refseed: aiops-correlate's reference stream (see refseed.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "js.h"
#include "rec.h"
#include "refseed.h"
#include "ts.h"

/* The signal kind of a record, or -1. */
static int
sig_kind(json_object *o)
{
	const char *k = js_str(o, "kind");

	for (int i = 0; k && i < SIG_NKINDS; i++)
		if (strcmp(k, sig_kind_name[i]) == 0)
			return i;
	return -1;
}

/*
 * One pass over the file: every signal to fn (its time moved by shift) when
 * fn is given; bad lines to bad when given.  Counts into r when count.
 */
static int
pass(struct refseed *r, int64_t shift, refseed_sig_fn fn, refseed_bad_fn bad, void *arg,
     int count, struct buf *why)
{
	struct rec_reader rd;
	json_tokener *tok;
	const char *p, *bwhy;
	size_t n;
	int rc;

	if (rec_open(&rd, r->path, r->max_line) < 0) {
		buf_printf(why, "%s: %s", r->path, strerror(errno));
		return -1;
	}
	tok = json_tokener_new();
	while ((rc = rec_getline(&rd, &p, &n)) != REC_EOF) {
		json_object *o;
		struct sig g;
		int k;

		if (rc == REC_ERROR) {
			buf_printf(why, "%s: %s", r->path, strerror(errno));
			json_tokener_free(tok);
			rec_close(&rd);
			return -1;
		}
		if (count)
			r->lines++;
		if (rc == REC_LONG) {
			if (count)
				r->rejects++;
			if (bad)
				bad(r->path, rd.line, p, n, rd.long_len, "line too long", arg);
			continue;
		}
		bwhy = NULL;
		o = js_parse(tok, p, n, &bwhy);
		if (o == NULL || !json_object_is_type(o, json_type_object)) {
			if (count)
				r->rejects++;
			if (bad)
				bad(r->path, rd.line, p, n, n, bwhy ? bwhy : "not a JSON object", arg);
			json_object_put(o);
			continue;
		}
		if ((k = sig_kind(o)) < 0) {
			if (count)
				r->skipped++;
			json_object_put(o);
			continue;
		}
		if ((bwhy = sig_json(o, k, &g)) != NULL) {
			if (count)
				r->rejects++;
			if (bad)
				bad(r->path, rd.line, p, n, n, bwhy, arg);
			json_object_put(o);
			continue;
		}
		if (count) {
			r->signals++;
			if (r->first == TS_NONE || g.ts < r->first)
				r->first = g.ts;
			if (r->last == TS_NONE || g.ts > r->last)
				r->last = g.ts;
		}
		if (fn) {
			g.ts += shift;
			fn(k, &g, arg);
		}
		json_object_put(o);
	}
	json_tokener_free(tok);
	rec_close(&rd);
	return 0;
}

int
refseed_open(struct refseed *r, const char *path, size_t max_line, struct buf *why)
{
	struct stat sb;

	memset(r, 0, sizeof *r);
	r->first = r->last = r->until = TS_NONE;
	r->max_line = max_line;
	if (stat(path, &sb) < 0) {
		buf_printf(why, "reference %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		buf_printf(why, "reference %s: not a regular file (it is read twice)", path);
		return -1;
	}
	r->path = path;
	if (pass(r, 0, NULL, NULL, NULL, 1, why) < 0) {
		r->path = NULL;
		return -1;
	}
	return 0;
}

int
refseed_replay(struct refseed *r, int64_t before, refseed_sig_fn fn, refseed_bad_fn bad,
	       void *arg, struct buf *why)
{
	if (r->path == NULL || r->replayed)
		return 0;
	r->replayed = 1;
	r->until = before;
	if (r->signals == 0 || before == TS_NONE) {
		/* Nothing to seed; the bad lines are still said. */
		return pass(r, 0, NULL, bad, arg, 0, why);
	}
	r->shift = before - 1 - r->last;
	return pass(r, r->shift, fn, bad, arg, 0, why);
}

int64_t
refseed_until(const struct refseed *r)
{
	return r->path ? r->until : TS_NONE;
}

void
refseed_add_end(const struct refseed *r, json_object *end)
{
	json_object *o;
	int used = r->replayed && r->signals > 0 && r->until != TS_NONE;

	if (r->path == NULL)
		return;
	o = json_object_new_object();
	js_add_str(o, "path", r->path);
	js_add_int(o, "lines", (int64_t)r->lines);
	js_add_int(o, "signals", (int64_t)r->signals);
	js_add_int(o, "skipped", (int64_t)r->skipped);
	js_add_int(o, "rejects", (int64_t)r->rejects);
	js_add_bool(o, "replayed", used);
	js_add_int(o, "anomalies_ignored", (int64_t)r->anomalies);
	if (r->first != TS_NONE) {
		js_add_ts(o, "first_ts", r->first);
		js_add_ts(o, "last_ts", r->last);
	}
	if (used)
		js_add_double(o, "shift_s", (double)r->shift / 1e9);
	json_object_object_add(end, "reference", o);
}
