/* libFuzzer target: lib/catalog.  An input that parses as a JSON object is
 * a proposed step {action, target, params} as a model writes it, checked
 * against the built-in catalog (catalog_check_step); anything else is a
 * catalog file, loaded with catalog_load and, when it loads, asked for its
 * prompt text, params schema and every action's data. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "catalog.h"
#include "js.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_step(struct catalog *c, json_object *step)
{
	json_object *params = NULL, *out = NULL;
	char why[160];
	const char *action = js_str(step, "action"), *target = js_str(step, "target");
	int rc;

	json_object_object_get_ex(step, "params", &params);
	why[0] = '\0';
	rc = catalog_check_step(c, action ? action : "", target ? target : "", params, &out, why,
				sizeof why);
	if (rc == 0) {
		if (out == NULL || !json_object_is_type(out, json_type_object) || !catalog_has(c, action))
			abort();
		if (catalog_risk(c, action) == NULL)
			abort();
		json_object_put(out);
	} else if (rc != -1 || why[0] == '\0' || memchr(why, '\0', sizeof why) == NULL) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct catalog *builtin;
	char err[512], path[64];
	const char *why;
	json_object *o;
	struct catalog *c;
	int fd;

	if (builtin == NULL) {
		builtin = catalog_builtin(err, sizeof err);
		if (builtin == NULL)
			abort();
	}
	o = js_parse(NULL, (const char *)data, size, &why);
	if (o != NULL && json_object_is_type(o, json_type_object) && !memchr(data, '\0', size)) {
		json_object *steps;
		if (json_object_object_get_ex(o, "steps", &steps) &&
		    json_object_is_type(steps, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(steps); i++)
				if (json_object_is_type(json_object_array_get_idx(steps, i),
							json_type_object))
					check_step(builtin, json_object_array_get_idx(steps, i));
		} else {
			check_step(builtin, o);
		}
		json_object_put(o);
		return 0;
	}
	json_object_put(o);

	fd = memfd_create("catalog.yaml", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	err[0] = '\0';
	c = catalog_load(path, err, sizeof err);
	close(fd);
	if (c == NULL) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	free(catalog_prompt_text(c));
	json_object_put(catalog_step_schema(c));
	for (size_t i = 0; i < catalog_count(c); i++) {
		const char *name = catalog_name(c, i);
		json_object *step = json_object_new_object(), *rb;
		if (!catalog_has(c, name) || catalog_risk(c, name) == NULL)
			abort();
		js_add_str(step, "action", name);
		js_add_str(step, "target", "svc");
		check_step(c, step);
		json_object_put(step);
		rb = catalog_runbook(c, name);
		(void)rb;
	}
	(void)catalog_sha256(c);
	catalog_free(c);
	return 0;
}
