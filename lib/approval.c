/*
 * approval: the approvals file of aiops-exec (see approval.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "approval.h"
#include "err.h"
#include "js.h"
#include "rec.h"
#include "ts.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of o with the keys of every object in sorted order. */
static json_object *
sorted(json_object *o)
{
	json_object *c;

	if (json_object_is_type(o, json_type_object)) {
		size_t n = (size_t)json_object_object_length(o), i = 0;
		const char **keys = ecalloc(n + 1, sizeof *keys);
		json_object_object_foreach(o, k, v) {
			(void)v;
			keys[i++] = k;
		}
		qsort(keys, n, sizeof *keys, cmp_str);
		c = json_object_new_object();
		for (i = 0; i < n; i++) {
			json_object *v = NULL;
			json_object_object_get_ex(o, keys[i], &v);
			json_object_object_add(c, keys[i], v ? sorted(v) : NULL);
		}
		free(keys);
		return c;
	}
	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		c = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *v = json_object_array_get_idx(o, i);
			json_object_array_add(c, v ? sorted(v) : NULL);
		}
		return c;
	}
	return o ? js_copy(o) : NULL;
}

void
approval_digest(const char *action, const char *target, json_object *params, char out[65])
{
	json_object *o = json_object_new_object();
	const char *s;
	size_t n;

	js_add_str(o, "action", action ? action : "");
	json_object_object_add(o, "params", params ? sorted(params) : json_object_new_object());
	js_add_str(o, "target", target ? target : "");
	s = js_dump(o, &n);
	js_sha256_hex(s, n, out);
	json_object_put(o);
}

static int
eq(json_object *o, const char *key, const char *want)
{
	const char *v = js_str(o, key);
	return v && want && strcmp(v, want) == 0;
}

/* How close a line came, the higher the closer. */
enum { NONE, STALE, MISMATCH, EXPIRED, RIGHTS };

const char *
approval_find(const char *path, const struct approval_want *w, approval_rights_fn rights,
	      void *ctx, char *approver, size_t an, char *why, size_t wn)
{
	struct rec_reader rd;
	const char *p, *perr;
	size_t n;
	int k, best = NONE;
	char bwhy[512] = "";

	if (rec_open(&rd, path, 0) < 0) {
		snprintf(why, wn, "cannot read the approvals file: %s", strerror(errno));
		return "approval-file";
	}
	while ((k = rec_getline(&rd, &p, &n)) > 0) {
		json_object *o;
		const char *ap, *exp, *rule;
		char rwhy[400];
		int64_t t;
		int got;

		if (k != REC_LINE || (o = js_parse(NULL, p, n, &perr)) == NULL)
			continue;
		ap = json_object_is_type(o, json_type_object) ? js_str(o, "approver") : NULL;
		if (ap == NULL || *ap == '\0' || strlen(ap) >= an || !eq(o, "group_id", w->group_id) ||
		    !eq(o, "step_id", w->step_id)) {
			json_object_put(o);
			continue;
		}
		exp = js_str(o, "expires_at");
		if (js_str(o, "run_id") == NULL || js_str(o, "digest") == NULL) {
			got = STALE;
			snprintf(rwhy, sizeof rwhy, "the approval of %.64s/%.64s by %.64s names no run_id "
				 "and digest (the old form approves nothing)", w->group_id, w->step_id, ap);
		} else if (!eq(o, "run_id", w->run_id)) {
			got = STALE;
			snprintf(rwhy, sizeof rwhy, "the approval of %.64s/%.64s by %.64s is for run %.64s, "
				 "not this run (%.64s)", w->group_id, w->step_id, ap, js_str(o, "run_id"),
				 w->run_id ? w->run_id : "none: no run record was seen");
		} else if (!eq(o, "digest", w->digest)) {
			got = MISMATCH;
			snprintf(rwhy, sizeof rwhy, "the approval of %.64s/%.64s by %.64s is for another "
				 "action, target or params (digest %.16s..., the step's %.16s...)",
				 w->group_id, w->step_id, ap, js_str(o, "digest"), w->digest);
		} else if (json_object_object_get_ex(o, "expires_at", NULL) &&
			   (exp == NULL || ts_parse(exp, strlen(exp), &t, &perr) < 0)) {
			got = EXPIRED;
			snprintf(rwhy, sizeof rwhy, "the approval of %.64s/%.64s by %.64s has an expires_at "
				 "that is not a time", w->group_id, w->step_id, ap);
		} else if (exp && t <= w->now) {
			got = EXPIRED;
			snprintf(rwhy, sizeof rwhy, "the approval of %.64s/%.64s by %.64s expired at %.40s",
				 w->group_id, w->step_id, ap, exp);
		} else if (rights && (rule = rights(ap, ctx, rwhy, sizeof rwhy)) != NULL) {
			char tmp[400];
			got = RIGHTS;
			snprintf(tmp, sizeof tmp, "%s", rwhy);
			snprintf(rwhy, sizeof rwhy, "approver %.64s lacks the rights (%s): %.250s", ap, rule, tmp);
		} else {
			snprintf(approver, an, "%s", ap);
			json_object_put(o);
			rec_close(&rd);
			return NULL;
		}
		if (got > best) {
			best = got;
			snprintf(bwhy, sizeof bwhy, "%s", rwhy);
		}
		json_object_put(o);
	}
	rec_close(&rd);
	switch (best) {
	case STALE:
		snprintf(why, wn, "%s", bwhy);
		return "approval-stale";
	case MISMATCH:
		snprintf(why, wn, "%s", bwhy);
		return "approval-mismatch";
	case EXPIRED:
		snprintf(why, wn, "%s", bwhy);
		return "approval-expired";
	case RIGHTS:
		snprintf(why, wn, "%s", bwhy);
		return "approval-rights";
	}
	snprintf(why, wn, "no approval for %.64s/%.64s in the approvals file", w->group_id, w->step_id);
	return "approval-file";
}
