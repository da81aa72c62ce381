/* The answer schemas the stages send to models (strict form), copied from
 * the `prompt` records of `aiops-rca --emit-prompt` and `aiops-remediate
 * --emit-prompt` with the built-in catalog.  Shared by the fuzz targets
 * that check model answers; refresh when a stage's schema changes. */
#ifndef FUZZ_SCHEMAS_H
#define FUZZ_SCHEMAS_H

static const char rca_schema_json[] =
	"{\"type\":\"object\",\"properties\":{\"candidates\":{\"type\":\"array\",\"items\":"
	"{\"type\":\"object\",\"properties\":{\"service\":{\"type\":\"string\"},"
	"\"component\":{\"type\":[\"string\",\"null\"]},\"fault\":{\"type\":[\"string\",\"null\"],"
	"\"enum\":[\"latency\",\"error_burst\",\"cpu_saturation\",\"memory_leak\",\"bad_deploy\","
	"\"db_exhaustion\",\"network_partition\",null]},\"confidence\":{\"type\":\"number\","
	"\"minimum\":0,\"maximum\":1},\"reason\":{\"type\":\"string\"}},\"required\":[\"service\","
	"\"component\",\"fault\",\"confidence\",\"reason\"],\"additionalProperties\":false}},"
	"\"summary\":{\"type\":\"string\"}},\"required\":[\"candidates\",\"summary\"],"
	"\"additionalProperties\":false}";

static const char remediation_schema_json[] =
	"{\"type\":\"object\",\"properties\":{\"steps\":{\"type\":\"array\",\"items\":{\"type\":"
	"\"object\",\"properties\":{\"action\":{\"type\":\"string\",\"enum\":[\"restart\",\"rollback\","
	"\"scale_out\",\"failover\",\"clear_cache\",\"increase_pool\",\"throttle\"]},\"target\":"
	"{\"type\":\"string\"},\"params\":{\"type\":\"object\",\"properties\":{\"mode\":{\"type\":"
	"[\"string\",\"null\"]},\"to_version\":{\"type\":[\"string\",\"null\"]},\"replicas\":{\"type\":"
	"[\"integer\",\"null\"]},\"to\":{\"type\":[\"string\",\"null\"]},\"pattern\":{\"type\":"
	"[\"string\",\"null\"]},\"size\":{\"type\":[\"integer\",\"null\"]},\"rate_per_s\":{\"type\":"
	"[\"integer\",\"null\"]},\"scope\":{\"type\":[\"string\",\"null\"]}},\"required\":[\"mode\","
	"\"to_version\",\"replicas\",\"to\",\"pattern\",\"size\",\"rate_per_s\",\"scope\"],"
	"\"additionalProperties\":false},\"rationale\":{\"type\":\"string\"}},\"required\":[\"action\","
	"\"target\",\"params\",\"rationale\"],\"additionalProperties\":false}}},"
	"\"required\":[\"steps\"],\"additionalProperties\":false}";

#endif
