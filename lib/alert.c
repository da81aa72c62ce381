/* alert: checks an `alert` record. */
#include <string.h>

#include "alert.h"
#include "js.h"
#include "ts.h"

static const char *const src_names[] = {NULL, "metric", "span", "log"};

const char *
alert_source_name(enum alert_source s)
{
	return src_names[s];
}

int
alert_parse(json_object *o, struct alert *a, const char **why)
{
	json_object *v;
	const char *s, *w;

	memset(a, 0, sizeof *a);
	if (!json_object_object_get_ex(o, "ts", &v) || !json_object_is_type(v, json_type_string) ||
	    ts_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v), &a->ts, &w) < 0) {
		*why = "missing or bad \"ts\"";
		return -1;
	}
	if ((a->service = js_str(o, "service")) == NULL || !*a->service) {
		*why = "missing \"service\"";
		return -1;
	}
	if ((a->name = js_str(o, "name")) == NULL || !*a->name) {
		*why = "missing \"name\"";
		return -1;
	}
	if (json_object_object_get_ex(o, "source", &v) && !json_object_is_type(v, json_type_null)) {
		s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		for (int i = 1; i < 4; i++)
			if (strcmp(s, src_names[i]) == 0)
				a->source = (enum alert_source)i;
		if (a->source == ALERT_SRC_NONE) {
			*why = "\"source\" is not metric, span, log or null";
			return -1;
		}
	}
	if (json_object_object_get_ex(o, "direction", &v) && !json_object_is_type(v, json_type_null)) {
		s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		if (strcmp(s, "up") == 0)
			a->direction = 1;
		else if (strcmp(s, "down") == 0)
			a->direction = -1;
		else {
			*why = "\"direction\" is not up, down or null";
			return -1;
		}
	}
	if (json_object_object_get_ex(o, "status", &v) && !json_object_is_type(v, json_type_null)) {
		s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
		if (strcmp(s, "resolved") == 0)
			a->resolved = 1;
		else if (strcmp(s, "firing") != 0) {
			*why = "\"status\" is not firing or resolved";
			return -1;
		}
	}
	if (json_object_object_get_ex(o, "attrs", &v) && json_object_is_type(v, json_type_object))
		a->caller = js_str(v, "caller");
	if (a->caller && !*a->caller)
		a->caller = NULL;
	return 0;
}
