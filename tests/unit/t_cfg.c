/* Unit tests of lib/cfg: YAML and JSON into json-c, scalar typing, --set
 * overrides, sections, and error positions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "js.h"
#include "tap.h"

static json_object *
parse(const char *text, char *err)
{
	return cfg_parse("t.yaml", text, strlen(text), err, 256);
}

static void
dump_is(json_object *o, const char *want, const char *name)
{
	size_t n;

	tap_is_str(o ? js_dump(o, &n) : "(null)", want, name);
}

int
main(void)
{
	char err[256] = "";
	json_object *c, *v;

	c = parse("a: 1\nb: 2.5\nc: true\nd: null\ne: hello\nf: '42'\ng: [1, two]\nh: {x: y}\n", err);
	dump_is(c, "{\"a\":1,\"b\":2.5,\"c\":true,\"d\":null,\"e\":\"hello\",\"f\":\"42\",\"g\":[1,\"two\"],\"h\":{\"x\":\"y\"}}",
		"plain scalars are typed, quoted ones stay strings");
	json_object_put(c);

	c = parse("{\"a\": {\"b\": [1, 2]}, \"s\": \"x/y\"}", err);
	dump_is(c, "{\"a\":{\"b\":[1,2]},\"s\":\"x/y\"}", "JSON is read too");
	json_object_put(c);

	c = parse("base: &b {t: 1}\nuse: *b\nmerged:\n  <<: *b\n  u: 2\n", err);
	dump_is(c, "{\"base\":{\"t\":1},\"use\":{\"t\":1},\"merged\":{\"t\":1,\"u\":2}}",
		"anchors, aliases and merge keys");
	json_object_put(c);

	/* "Billion laughs": ten levels of ten aliases each would expand to 10^10
	 * nodes; the parser stops at its node budget instead of eating memory. */
	{
		char bomb[2048];
		size_t n = (size_t)snprintf(bomb, sizeof bomb, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
		for (int i = 1; i <= 10; i++) {
			n += (size_t)snprintf(bomb + n, sizeof bomb - n, "l%d: &l%d [", i, i);
			for (int j = 0; j < 10; j++)
				n += (size_t)snprintf(bomb + n, sizeof bomb - n, "%s*l%d", j ? ", " : "", i - 1);
			n += (size_t)snprintf(bomb + n, sizeof bomb - n, "]\n");
		}
		c = parse(bomb, err);
		tap_ok(c == NULL && strstr(err, "aliases expand") != NULL,
		       "an alias bomb is refused, not expanded");
		printf("# %s\n", err);
		json_object_put(c);
	}
	c = parse("a: &a [1, 2, 3]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b]\n", err);
	dump_is(c, "{\"a\":[1,2,3],\"b\":[[1,2,3],[1,2,3],[1,2,3],[1,2,3]],\"c\":[[[1,2,3],[1,2,3],[1,2,3],[1,2,3]],[[1,2,3],[1,2,3],[1,2,3],[1,2,3]]]}",
		"aliases of aliases within the budget expand");
	json_object_put(c);

	c = parse("", err);
	dump_is(c, "{}", "an empty file is an empty config");
	json_object_put(c);

	c = parse("a: 1\nb: [1, 2\nc: 3\n", err);
	tap_ok(c == NULL, "a syntax error fails");
	tap_ok(strncmp(err, "t.yaml:", 7) == 0 && strstr(err, "yaml error") != NULL,
	       "the error names the file, line and column");
	printf("# %s\n", err);

	c = parse("a:\n  b: 1\n\tc: 2\n", err);
	tap_ok(c == NULL && strncmp(err, "t.yaml:3:", 9) == 0, "a tab in indentation is reported at line 3");
	printf("# %s\n", err);

	c = parse("- 1\n- 2\n", err);
	tap_ok(c == NULL && strstr(err, "mapping") != NULL, "a top-level list is refused");

	c = parse("pipeline:\n  rca:\n    top_k: 5\n", err);
	tap_ok(cfg_set(c, "pipeline.rca.top_k=3", err, sizeof err) == 0, "set an existing key");
	tap_ok(cfg_set(c, "pipeline.correlation.window_s=30.5", err, sizeof err) == 0, "set creates the path");
	tap_ok(cfg_set(c, "experiment.tags={team: sre, n: 2}", err, sizeof err) == 0, "set a flow mapping");
	tap_ok(cfg_set(c, "provider.type=ollama", err, sizeof err) == 0, "set a string");
	tap_ok(cfg_set(c, "mlflow.tracking_uri=null", err, sizeof err) == 0, "set null");
	tap_ok(cfg_set(c, "x.list=[a, 1]", err, sizeof err) == 0, "set a flow list");
	dump_is(c, "{\"pipeline\":{\"rca\":{\"top_k\":3},\"correlation\":{\"window_s\":30.5}},"
		"\"experiment\":{\"tags\":{\"team\":\"sre\",\"n\":2}},\"provider\":{\"type\":\"ollama\"},"
		"\"mlflow\":{\"tracking_uri\":null},\"x\":{\"list\":[\"a\",1]}}", "overrides applied");
	tap_ok(cfg_set(c, "novalue", err, sizeof err) < 0 && strstr(err, "KEY=VALUE") != NULL,
	       "set without '=' is an error");
	tap_ok(cfg_set(c, "a..b=1", err, sizeof err) < 0, "set with an empty key part is an error");
	v = cfg_section(c, "pipeline.rca");
	dump_is(v, "{\"top_k\":3}", "cfg_section finds a nested section");
	tap_ok(cfg_section(c, "pipeline.nothing") == NULL, "a missing section is NULL");
	tap_ok(cfg_section(c, "provider.type") == NULL, "a scalar is not a section");
	json_object_put(c);

	tap_ok(cfg_load("/nonexistent/x.yaml", err, sizeof err) == NULL &&
	       strstr(err, "/nonexistent/x.yaml: No such file") != NULL, "a missing file is named");
	c = cfg_load("examples/configs/basic.yaml", err, sizeof err);
	tap_ok(c != NULL && js_str(js_path(c, "provider"), "type") != NULL &&
	       strcmp(js_str(js_path(c, "provider"), "type"), "baseline") == 0,
	       "examples/configs/basic.yaml loads with the baseline provider");
	json_object_put(c);
	/* Paths the config names resolve against a directory; the rest stay. */
	c = parse("pipeline:\n  rca: {prompt: p.txt, top_k: 3}\n"
		  "  remediation: {catalog: /abs/c.yaml}\n"
		  "  executor: {approve: 'file:ok.jsonl', policy: ../pol.yaml}\n"
		  "mlflow: {tracking_uri: 'http://h:5000', store: runs}\n"
		  "provider: {params: {replay_file: rec.jsonl, base_url: v1}}\n"
		  "dataset: {path: data, logs: logs.jsonl}\n", err);
	tap_ok(cfg_resolve_paths(c, "/cfg", err, sizeof err) == 0, "cfg_resolve_paths succeeds");
	dump_is(c, "{\"pipeline\":{\"rca\":{\"prompt\":\"/cfg/p.txt\",\"top_k\":3},"
		"\"remediation\":{\"catalog\":\"/abs/c.yaml\"},"
		"\"executor\":{\"approve\":\"file:/cfg/ok.jsonl\",\"policy\":\"/cfg/../pol.yaml\"}},"
		"\"mlflow\":{\"tracking_uri\":\"http://h:5000\",\"store\":\"/cfg/runs\"},"
		"\"provider\":{\"params\":{\"replay_file\":\"/cfg/rec.jsonl\",\"base_url\":\"v1\"}},"
		"\"dataset\":{\"path\":\"/cfg/data\",\"logs\":\"logs.jsonl\"}}",
		"relative file paths join the directory; absolute ones, URLs and other keys stay");
	json_object_put(c);
	{
		char *d1 = cfg_dirname("a/b/c.yaml"), *d2 = cfg_dirname("c.yaml"), *d3 = cfg_dirname("/c.yaml");
		tap_is_str(d1, "a/b", "cfg_dirname of a path");
		tap_is_str(d2, ".", "cfg_dirname of a bare name");
		tap_is_str(d3, "/", "cfg_dirname at the root");
		free(d1);
		free(d2);
		free(d3);
	}

	return tap_done();
}
