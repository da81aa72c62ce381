/* libFuzzer target: the model-answer path of lib/llm as a stage sees it.
 * The input is the text a model answered: it is recorded as the response of
 * an llm_call record and answered through the replay provider, so it goes
 * through llm_batch's answer parser (blanks, a ```json fence, prose around
 * one object), then the parsed answer is validated against the rca and
 * remediation schemas (lib/schema) and every proposed step is checked
 * against the built-in catalog (lib/catalog), as aiops-rca and
 * aiops-remediate do.  An input that starts with '{"kind"' is instead a
 * whole replay file (llm_replay_open's reader).
 *
 * Invariants: a call answers with text (or an error), json is set exactly
 * when parse_error is empty, and the llm_call record is a JSON object. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "catalog.h"
#include "js.h"
#include "llm.h"
#include "schema.h"
#include "schemas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct llm *l;
static struct catalog *cat;
static json_object *rca, *rem, *messages;
static char hash[65];

static void
setup(void)
{
	char err[512];
	json_object *cfg = json_tokener_parse(
		"{\"provider\":{\"type\":\"openai_compat\",\"default_model\":\"m\","
		"\"params\":{\"base_url\":\"http://127.0.0.1:9\"}}}");
	struct llm_req req = {0};

	l = llm_open(cfg, NULL, "rca", err, sizeof err);
	cat = catalog_builtin(err, sizeof err);
	rca = json_tokener_parse(rca_schema_json);
	rem = json_tokener_parse(remediation_schema_json);
	if (l == NULL || cat == NULL || rca == NULL || rem == NULL)
		abort();
	messages = llm_messages("system", "user");
	req.messages = messages;
	req.schema = rca;
	req.schema_name = "rca";
	req.purpose = "rca";
	req.group_id = "G0001";
	llm_request_hash(l, &req, hash);
	json_object_put(cfg);
}

static void
check_answer(json_object *a)
{
	char why[256];
	json_object *steps, *params, *out;

	(void)schema_validate(rca, a, why, sizeof why);
	(void)schema_validate(rem, a, why, sizeof why);
	if (!json_object_object_get_ex(a, "steps", &steps) ||
	    !json_object_is_type(steps, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		const char *act = js_str(s, "action"), *tgt = js_str(s, "target");
		params = NULL;
		json_object_object_get_ex(s, "params", &params);
		out = NULL;
		if (catalog_check_step(cat, act ? act : "", tgt ? tgt : "", params, &out, why,
				       sizeof why) == 0)
			json_object_put(out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], path[64];
	struct llm_req req = {0};
	struct llm_result res = {0};
	int fd, whole = size >= 7 && memcmp(data, "{\"kind\"", 7) == 0;

	if (l == NULL)
		setup();
	fd = memfd_create("replay.jsonl", 0);
	if (fd < 0)
		return 0;
	if (whole) {
		if (write(fd, data, size) != (ssize_t)size)
			goto out;
	} else {
		json_object *r = json_object_new_object();
		const char *line;
		size_t len;
		js_add_str(r, "kind", "llm_call");
		js_add_str(r, "request_hash", hash);
		js_add_str(r, "provider", "openai_compat");
		js_add_str(r, "model", "m");
		js_add_strn(r, "response", (const char *)data, size);
		js_add_int(r, "attempts", 1);
		js_add_int(r, "http_status", 200);
		line = js_dump(r, &len);
		if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
			json_object_put(r);
			goto out;
		}
		json_object_put(r);
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (llm_replay_open(l, path, err, sizeof err) < 0)
		goto out;
	req.messages = messages;
	req.schema = rca;
	req.schema_name = "rca";
	req.purpose = "rca";
	req.group_id = "G0001";
	(void)llm_call(l, &req, &res);
	if (res.record == NULL || !json_object_is_type(res.record, json_type_object))
		abort();
	if (res.error[0] == '\0' && !whole && res.text == NULL)
		abort();
	if (res.text != NULL && (res.json == NULL) != (res.parse_error[0] != '\0'))
		abort();
	if (res.json != NULL)
		check_answer(res.json);
	llm_result_free(&res);
out:
	close(fd);
	return 0;
}
