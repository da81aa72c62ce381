/* Unit tests of lib/mlmodel's configuration and lib/mlprompt's links (no
 * server): the configuration ignores endpoints and timeouts, sorts its
 * stages, names the model after its models with characters MLflow refuses
 * replaced; a baseline stage's prompt is "none"; the prompts linked to a
 * trace are those of its calls' stages; the trace tag goes on the root span. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "js.h"
#include "mlmodel.h"
#include "mlprompt.h"
#include "tap.h"

static json_object *
parse(const char *s)
{
	const char *why;

	return js_parse(NULL, s, strlen(s), &why);
}

static const char *
param(const struct mlmodel *m, const char *k)
{
	return js_str(m->params, k);
}

int
main(void)
{
	struct mlmodel a, b, c;
	struct mlprompt_set ps;
	json_object *sp, *recs[2], *l, *req;
	char path[] = "/tmp/t_mlmodel.XXXXXX", sha[65];
	const char *tmpl = "[system]\nBe careful.\n[user]\nGroup {{group_id}}.\n";
	int fd = mkstemp(path);
	size_t n;

	tap_ok(fd >= 0 && write(fd, tmpl, strlen(tmpl)) == (ssize_t)strlen(tmpl), "a template file");
	close(fd);
	js_sha256_hex(tmpl, strlen(tmpl), sha);

	sp = parse("{\"remediate\":{\"provider\":{\"type\":\"ollama\",\"model\":\"qwen2.5:7b\",\"base_url\":\"http://a\","
		   "\"temperature\":0,\"timeout_s\":60},\"prompt_sha256\":null},"
		   "\"rca\":{\"provider\":{\"type\":\"ollama\",\"model\":\"qwen2.5:7b\",\"base_url\":\"http://a\"},"
		   "\"prompt_sha256\":\"abc\"},\"load\":{\"dataset\":\"d\"}}");
	tap_ok(mlmodel_config(&a, sp, NULL) == 1, "stages with a provider make a configuration");
	tap_is_str(param(&a, "rca.provider.model"), "qwen2.5:7b", "its params: the stage's model");
	tap_is_str(param(&a, "rca.prompt_sha256"), "abc", "the template's hash");
	tap_is_str(param(&a, "remediate.prompt_sha256"), "none", "a stage that rendered none: none");
	tap_is_str(param(&a, "rca.prompt"), "none", "no registered version: none");
	tap_ok(param(&a, "rca.provider.base_url") == NULL && param(&a, "remediate.provider.timeout_s") == NULL,
	       "endpoints and timeouts are not part of it");
	tap_ok(strncmp(a.name, "qwen2_5_7b-", 11) == 0 && strlen(a.name) == 19 &&
	       strncmp(a.name + 11, a.sha256, 8) == 0, "named after the model ('.' ':' replaced) and the hash");
	json_object_put(sp);

	/* the same configuration elsewhere, stages in another order: the same hash */
	sp = parse("{\"rca\":{\"provider\":{\"type\":\"ollama\",\"model\":\"qwen2.5:7b\",\"base_url\":\"http://b\"},"
		   "\"prompt_sha256\":\"abc\"},\"remediate\":{\"provider\":{\"type\":\"ollama\",\"model\":\"qwen2.5:7b\","
		   "\"temperature\":0,\"timeout_s\":5}}}");
	mlmodel_config(&b, sp, NULL);
	tap_is_str(b.sha256, a.sha256, "another URL or timeout, stages in another order: the same configuration");
	json_object_put(sp);
	sp = parse("{\"rca\":{\"provider\":{\"type\":\"ollama\",\"model\":\"qwen2.5:7b\"},\"prompt_sha256\":\"abd\"},"
		   "\"remediate\":{\"provider\":{\"type\":\"ollama\",\"model\":\"qwen2.5:7b\",\"temperature\":0}}}");
	mlmodel_config(&c, sp, NULL);
	tap_ok(strcmp(c.sha256, a.sha256) != 0, "another template: another configuration");
	json_object_put(sp);
	mlmodel_free(&a);
	mlmodel_free(&b);
	mlmodel_free(&c);
	sp = parse("{\"metrics\":{\"match_tolerance_s\":60}}");
	tap_ok(mlmodel_config(&a, sp, NULL) == 0, "no provider (a benchmark's parent): no model");
	mlmodel_free(&a);
	json_object_put(sp);

	/* prompts: collected from a stage record, linked by the calls' stages */
	mlprompt_init(&ps);
	sp = json_object_new_object();
	js_add_str(sp, "prompt", path);
	js_add_str(sp, "prompt_sha256", sha);
	mlprompt_collect(&ps, "rca", sp);
	json_object_put(sp);
	sp = parse("{\"prompt\":\"/nonexistent\",\"prompt_sha256\":null}");
	mlprompt_collect(&ps, "remediate", sp);
	json_object_put(sp);
	tap_ok(ps.n == 1 && ps.p[0].text && ps.p[0].len == strlen(tmpl) && strcmp(ps.p[0].name, "aiops-rca") == 0,
	       "a rendered template is read; a null hash (baseline) adds nothing");
	snprintf(ps.p[0].version, sizeof ps.p[0].version, "3");
	recs[0] = parse("{\"kind\":\"rca\",\"stage\":\"rca\"}");
	recs[1] = parse("{\"kind\":\"llm_call\",\"stage\":\"remediate\"}");
	tap_ok(mlprompt_linked(&ps, recs, 2) == NULL, "a trace without an rca call: not linked to aiops-rca");
	json_object_put(recs[1]);
	recs[1] = parse("{\"kind\":\"llm_call\",\"stage\":\"rca\"}");
	l = mlprompt_linked(&ps, recs, 2);
	tap_is_str(l ? js_dump(l, &n) : NULL, "[{\"name\":\"aiops-rca\",\"version\":\"3\"}]",
		   "an rca call: linked, as MLflow writes mlflow.linkedPrompts");
	req = parse("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"spanId\":\"b\",\"parentSpanId\":\"a\","
		    "\"attributes\":[]},{\"spanId\":\"a\",\"attributes\":[]}]}]}]}");
	mlprompt_tag_trace(req, l);
	{
		json_object *rs = json_object_array_get_idx(js_path(req, "resourceSpans"), 0);
		json_object *ss = json_object_array_get_idx(js_path(rs, "scopeSpans"), 0);
		json_object *spans = js_path(ss, "spans"), *ra, *ca;
		ca = js_path(json_object_array_get_idx(spans, 0), "attributes");
		ra = js_path(json_object_array_get_idx(spans, 1), "attributes");
		tap_ok(json_object_array_length(ca) == 0 && json_object_array_length(ra) == 1,
		       "the trace tag goes on the root span only");
		tap_is_str(js_str(json_object_array_get_idx(ra, 0), "key"),
			   "mlflow.traceTag.mlflow.linkedPrompts", "as the attribute the server makes a tag of");
	}
	json_object_put(req);
	json_object_put(l);
	json_object_put(recs[0]);
	json_object_put(recs[1]);
	mlprompt_free(&ps);
	unlink(path);
	return tap_done();
}
