/* groupfmt: the prompt text of a group's services, graph and evidence. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "groupfmt.h"
#include "js.h"

char *
groupfmt_services(json_object *g)
{
	struct buf b = BUF_INIT(0);
	json_object *svcs = NULL;
	static const char *const keep[] = {"service", "score", "first_ts", "anomalies", NULL};

	if (g)
		json_object_object_get_ex(g, "services", &svcs);
	for (size_t i = 0; json_object_is_type(svcs, json_type_array) && i < json_object_array_length(svcs); i++) {
		json_object *s = json_object_array_get_idx(svcs, i), *x = json_object_new_object(), *v;
		for (const char *const *k = keep; *k; k++)
			if (json_object_is_type(s, json_type_object) && json_object_object_get_ex(s, *k, &v))
				js_add_ref(x, *k, v);
		buf_printf(&b, "%zu. %s\n", i + 1, js_dump(x, NULL));
		json_object_put(x);
	}
	if (b.len == 0)
		buf_adds(&b, "(none)\n");
	return buf_detach(&b);
}

char *
groupfmt_graph(json_object *ev)
{
	struct buf b = BUF_INIT(0);
	json_object *edges = NULL;

	if (ev)
		json_object_object_get_ex(ev, "edges", &edges);
	for (size_t i = 0; json_object_is_type(edges, json_type_array) && i < json_object_array_length(edges); i++) {
		json_object *e = json_object_array_get_idx(edges, i);
		if (js_str(e, "from") && js_str(e, "to"))
			buf_printf(&b, "%s -> %s\n", js_str(e, "from"), js_str(e, "to"));
	}
	if (b.len == 0)
		buf_adds(&b, "(no calls observed)\n");
	return buf_detach(&b);
}

/* alerts last: a group of alert records has that list, others do not. */
static const char *const keys[] = {"logs", "metrics", "spans", "alerts"};
#define NKEYS 4

static json_object *
list(json_object *ev, const char *k)
{
	json_object *a = NULL;

	if (ev && json_object_object_get_ex(ev, k, &a) && json_object_is_type(a, json_type_array))
		return a;
	return NULL;
}

char *
groupfmt_evidence(json_object *ev, const char *note)
{
	struct buf b = BUF_INIT(0);
	static const char *const heads[] = {"log templates", "anomalous metrics",
		"slow or failing operations", "alerts (already detected by a monitoring system)"};

	for (size_t p = 0; p < NKEYS; p++) {
		json_object *a = list(ev, keys[p]);
		size_t n = a ? json_object_array_length(a) : 0;
		if (p == 3 && a == NULL)
			break;     /* no alerts section unless the group has alerts */
		buf_printf(&b, "%s:\n", heads[p]);
		for (size_t i = 0; i < n; i++)
			buf_printf(&b, "%s\n", js_dump(json_object_array_get_idx(a, i), NULL));
		if (n == 0)
			buf_adds(&b, "(none)\n");
	}
	if (note)
		buf_printf(&b, "(note: %s)\n", note);
	return buf_detach(&b);
}

size_t
groupfmt_items(json_object *ev)
{
	size_t n = 0;

	for (size_t k = 0; k < NKEYS; k++)
		n += list(ev, keys[k]) ? json_object_array_length(list(ev, keys[k])) : 0;
	return n;
}

int
groupfmt_trim(json_object *ev, int *samples_dropped, size_t *omitted)
{
	json_object *a, *pick = NULL;
	size_t best = 0;

	if (!*samples_dropped) {
		*samples_dropped = 1;
		if ((a = list(ev, "logs")) != NULL)
			for (size_t i = 0; i < json_object_array_length(a); i++) {
				json_object *l = json_object_array_get_idx(a, i);
				if (json_object_is_type(l, json_type_object))
					json_object_object_del(l, "samples");
			}
		return 1;
	}
	for (size_t k = 0; k < NKEYS; k++)
		if ((a = list(ev, keys[k])) != NULL && json_object_array_length(a) > best)
			best = json_object_array_length(a), pick = a;
	if (pick == NULL)
		return 0;
	json_object_array_del_idx(pick, best - 1, 1);
	(*omitted)++;
	return 1;
}
