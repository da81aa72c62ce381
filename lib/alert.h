/*
 * alert: the `alert` record, an anomaly that something else already
 * detected (aiops-load reads them, see lib/rd_alerts):
 *
 *   {"kind":"alert","id":..,"ts":T,"service":S,"source":"metric"|"span"|"log"|null,
 *    "name":N,"direction":"up"|"down"|null,"status":"firing"|"resolved",
 *    "end_ts":T|null,"attrs":{...}}
 *
 * attrs.caller, when a string, names the service that made the call a span
 * alert is about.  alert_parse checks a parsed record and points into it.
 */
#ifndef AIOPS_ALERT_H
#define AIOPS_ALERT_H

#include <stdint.h>

#include <json-c/json.h>

enum alert_source { ALERT_SRC_NONE, ALERT_SRC_METRIC, ALERT_SRC_SPAN, ALERT_SRC_LOG };

struct alert {
	int64_t ts;
	const char *service, *name;
	enum alert_source source;
	int direction;          /* 1 up, -1 down, 0 not given */
	int resolved;           /* status "resolved" */
	const char *caller;     /* attrs.caller or NULL */
};

/*
 * Fills a from the record o.  Strings point into o (valid while o lives).
 * Returns 0, or -1 with *why set to a static reason ("missing or bad
 * \"ts\"", ...).
 */
int alert_parse(json_object *o, struct alert *a, const char **why);

/* "metric", "span", "log" or NULL. */
const char *alert_source_name(enum alert_source s);

#endif
