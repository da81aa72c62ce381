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
	(*calls)++;
	return rc;
}
