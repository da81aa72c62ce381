/* mlreq: JSON requests of the registry modules (see mlreq.h). */
#include "js.h"
#include "mlreq.h"

void
mlreq_kv(json_object *arr, const char *k, const char *v)
{
	json_object *t = json_object_new_object();

	js_add_str(t, "key", k);
	js_add_str(t, "value", v);
	json_object_array_add(arr, t);
}

int
mlreq_send(struct mlf_client *c, const char *method, const char *path, json_object *body,
	   json_object **out, unsigned *calls, char *err, size_t errlen)
{
	size_t n;
	const char *s = js_dump(body, &n);
	int rc = mlf_call(c, method, path, s, n, NULL, NULL, out, err, errlen);

	json_object_put(body);
	if (calls)
		(*calls)++;
	return rc;
}

json_object *
mlreq_root_span(json_object *req)
{
	json_object *rs = json_object_object_get(req, "resourceSpans");

	for (size_t i = 0; rs && i < json_object_array_length(rs); i++) {
		json_object *ss = json_object_object_get(json_object_array_get_idx(rs, i), "scopeSpans");
		for (size_t j = 0; ss && j < json_object_array_length(ss); j++) {
			json_object *sp = json_object_object_get(json_object_array_get_idx(ss, j), "spans");
			for (size_t k = 0; sp && k < json_object_array_length(sp); k++) {
				json_object *span = json_object_array_get_idx(sp, k);
				const char *par = js_str(span, "parentSpanId");
				if (par == NULL || *par == '\0')
					return span;
			}
		}
	}
	return NULL;
}
