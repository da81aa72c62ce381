/* libFuzzer target: lib/rd_alerts, aiops-load's alert reader, on all three
 * formats.  The first byte picks one: jsonl (each line through rda_line),
 * an Alertmanager file, or one file of the GAIA layout (metrics, traces,
 * logs or label.csv in a scratch directory).  Every alert it delivers must
 * be a JSON object that lib/alert accepts; every incident a JSON object
 * with a root_cause; in = alerts + incidents + rejects. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alert.h"
#include "rd_alerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_alert(void *ctx, int64_t ts, const char *rec, size_t n)
{
	json_object *o = json_tokener_parse(rec);
	struct alert a;
	const char *why;

	(void)ctx;
	if (o == NULL || strlen(rec) != n || alert_parse(o, &a, &why) < 0 ||
	    a.ts > ts || ts - a.ts >= 1000000)
		abort();
	json_object_put(o);
}

static void
on_incident(void *ctx, const char *rec, size_t n)
{
	json_object *o = json_tokener_parse(rec), *rc;

	(void)ctx;
	if (o == NULL || strlen(rec) != n || !json_object_object_get_ex(o, "root_cause", &rc))
		abort();
	json_object_put(o);
}

static void
on_reject(void *ctx, const char *path, unsigned long line, const char *raw, size_t n,
	  size_t full, const char *reason)
{
	volatile unsigned sum = 0;

	(void)ctx;
	(void)line;
	if (path == NULL || reason == NULL || !*reason || n > full)
		abort();
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)raw[i];
}

static char dir[64];

static void
put(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (fp == NULL)
		abort();
	fwrite(p, 1, n, fp);
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const gaia[] = {"metric/metrics.json", "trace/traces.json",
		"log/logs.json", "label.csv"};
	const struct rda_out out = {NULL, on_alert, on_incident, on_reject};
	struct rda a;
	char why[400], path[128];
	int pick;

	if (size < 1)
		return 0;
	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/fuzz_alerts.%d", (int)getpid());
		mkdir(dir, 0700);
		snprintf(path, sizeof path, "%s/metric", dir);
		mkdir(path, 0700);
		snprintf(path, sizeof path, "%s/trace", dir);
		mkdir(path, 0700);
		snprintf(path, sizeof path, "%s/log", dir);
		mkdir(path, 0700);
	}
	pick = data[0] % 6;
	data++, size--;
	if (rda_config(&a, NULL, NULL, NULL, why, sizeof why) != 1)
		abort();
	a.max_line = 1 << 20;
	if (pick == 0) {
		size_t s = 0;
		unsigned long line = 1;
		while (s < size) {
			const uint8_t *nl = memchr(data + s, '\n', size - s);
			size_t e = nl ? (size_t)(nl - data) : size;
			rda_line(&a, &out, "fuzz", line++, (const char *)data + s, e - s);
			s = e + 1;
		}
	} else if (pick == 1) {
		put("am.json", data, size);
		snprintf(path, sizeof path, "%s/am.json", dir);
		a.path = strdup(path);
		a.fmt = RDA_ALERTMANAGER;
		rda_read(&a, &out, why, sizeof why);
	} else {
		for (int i = 0; i < 4; i++) {
			snprintf(path, sizeof path, "%s/%s", dir, gaia[i]);
			unlink(path);
		}
		put(gaia[pick - 2], data, size);
		a.path = strdup(dir);
		a.fmt = RDA_GAIA;
		rda_read(&a, &out, why, sizeof why);
	}
	if (a.in != a.alerts + a.incidents + a.rejects)
		abort();
	rda_free(&a);
	return 0;
}
