/* Unit tests of lib/schema's anyOf (the remediation step schema is one
 * branch per catalog action) and of schema_bound through it. */
#include <string.h>

#include "js.h"
#include "schema.h"
#include "tap.h"

static const char *step_schema =
	"{\"type\":\"object\",\"properties\":{\"steps\":{\"type\":\"array\",\"items\":{\"anyOf\":["
	"{\"type\":\"object\",\"properties\":{\"target\":{\"type\":\"string\"},"
	"\"action\":{\"type\":\"string\",\"enum\":[\"restart\"]},"
	"\"params\":{\"type\":\"object\",\"properties\":{\"mode\":{\"type\":[\"string\",\"null\"],"
	"\"enum\":[\"rolling\",\"all\",null]}},\"required\":[\"mode\"],\"additionalProperties\":false}},"
	"\"required\":[\"action\",\"params\"],\"additionalProperties\":false},"
	"{\"type\":\"object\",\"properties\":{\"action\":{\"type\":\"string\",\"enum\":[\"scale_out\"]},"
	"\"params\":{\"type\":\"object\",\"properties\":{\"replicas\":{\"type\":\"integer\",\"minimum\":1,"
	"\"maximum\":20}},\"required\":[\"replicas\"],\"additionalProperties\":false}},"
	"\"required\":[\"action\",\"params\"],\"additionalProperties\":false}]}}},\"required\":[\"steps\"]}";

static int
valid(const char *answer, char *why, size_t n)
{
	json_object *s = json_tokener_parse(step_schema), *v = json_tokener_parse(answer);
	int rc = schema_validate(s, v, why, n);

	json_object_put(s);
	json_object_put(v);
	return rc == 0;
}

int
main(void)
{
	char why[400];
	json_object *s;

	tap_ok(valid("{\"steps\":[{\"action\":\"restart\",\"params\":{\"mode\":null}},"
		     "{\"action\":\"scale_out\",\"params\":{\"replicas\":3}}]}", why, sizeof why),
	       "each step matches its own action's branch");
	tap_ok(!valid("{\"steps\":[{\"action\":\"restart\",\"params\":{\"mode\":null,\"to_version\":\"v1\"}}]}",
		      why, sizeof why) && strstr(why, "steps[0].params: unexpected member \"to_version\""),
	       "another action's param fails, and the deepest failure is named");
	tap_is_str(why, "steps[0].params: unexpected member \"to_version\" (no alternative of anyOf holds)",
		   "the reason");
	tap_ok(!valid("{\"steps\":[{\"action\":\"scale_out\",\"params\":{\"replicas\":99}}]}", why, sizeof why) &&
	       strstr(why, "steps[0].params.replicas: 99 is above the maximum 20"),
	       "a bound of the matching branch is named");
	tap_ok(!valid("{\"steps\":[{\"action\":\"reboot\",\"params\":{}}]}", why, sizeof why),
	       "an action no branch has fails");
	s = json_tokener_parse(step_schema);
	schema_bound(s, 2, 80);
	tap_ok(strstr(js_dump(s, NULL), "\"maxItems\":2") != NULL, "bound: the array gets maxItems");
	tap_ok(strstr(js_dump(s, NULL), "\"target\":{\"type\":\"string\",\"maxLength\":80}") != NULL,
	       "bound: a string inside anyOf gets maxLength");
	tap_ok(strstr(strstr(js_dump(s, NULL), "\"maxLength\"") + 1, "\"maxLength\"") == NULL,
	       "bound: enum strings inside anyOf get none");
	json_object_put(s);
	return tap_done();
}
