/*
 * rd_alerts: aiops-load's reader of already-detected anomalies.  It turns
 * alerts into `alert` records
 *
 *   {"kind":"alert","id":ID,"ts":T,"service":S,"source":"metric"|"span"|"log"|null,
 *    "name":N,"direction":"up"|"down"|null,"status":"firing"|"resolved",
 *    "end_ts":T|null,"attrs":{...}}
 *
 * from three formats:
 *
 *   jsonl         one alert a line, with the field aliases of the man page;
 *   alertmanager  Prometheus Alertmanager webhook payloads ({"version":"4",
 *                 "status", "receiver", "alerts":[...]}), one pretty-printed
 *                 document or one payload a line;
 *   gaia          the GAIA / OpenRCA alert layout (a directory with
 *                 metric/metrics.json, trace/traces.json, log/logs.json,
 *                 log/drain-templates.csv and label.csv); label.csv rows
 *                 become `incident` records.  Its `fault_message` column
 *                 names the root cause in plain words: it is never read
 *                 into any record.
 *
 * The reader never prints or exits: every alert goes to out->alert with its
 * time (for the merge), every label to out->incident, every element it
 * cannot use to out->reject with the file, the line (in a JSON document:
 * the element's ordinal, see the man page) and the reason.  *in counts the
 * units read, so that in = alerts + incidents + rejects.  It is shaped as
 * one reader of aiops-load's reader table: rda_probe decides the format,
 * rda_line turns one line of a line format into a record or a reject,
 * rda_read runs a whole input.
 */
#ifndef AIOPS_RD_ALERTS_H
#define AIOPS_RD_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

enum rda_fmt { RDA_AUTO, RDA_JSONL, RDA_ALERTMANAGER, RDA_GAIA };

/* "auto", "jsonl", "alertmanager", "gaia". */
const char *rda_fmt_name(enum rda_fmt f);
/* The format named s (json and ndjson are jsonl), or -1. */
int rda_fmt_parse(const char *s);

/* Where the records go.  rec is a whole record without a newline, valid
 * only during the call. */
struct rda_out {
	void *ctx;
	void (*alert)(void *ctx, int64_t ts, const char *rec, size_t n);
	void (*incident)(void *ctx, const char *rec, size_t n);
	void (*reject)(void *ctx, const char *path, unsigned long line, const char *raw,
		       size_t n, size_t full, const char *reason);
};

/* One file read, for the run record. */
struct rda_file {
	char *path;
	const char *role;       /* "alerts" or "incidents" */
	const char *format;
	uint64_t bytes;
	char sha256[65];
};

struct rda {
	enum rda_fmt fmt;
	char *path;             /* file or (gaia) directory */
	char *labels;           /* gaia: the label file (default PATH/label.csv) */
	const char **service_labels; /* alertmanager: labels naming the service, NULL ends */
	const char *source;     /* alertmanager: the source of its alerts (default "metric") */
	size_t max_doc;         /* largest document read whole */
	size_t max_line;
	/* results */
	struct rda_file *files;
	size_t nfiles;
	unsigned long in, alerts, incidents, rejects;
	/* private */
	json_tokener *tok;
	unsigned long seq;
	json_object *templates;
};

/*
 * Reads the dataset.alerts section sec (a file name or an object {path,
 * format, labels, service_label, source}) with names relative to dir.  opt
 * (a --alerts FILE) overrides the path.  Returns 0 with a filled, 1 when no
 * alerts are configured, or -1 with why set (a config error).
 */
int rda_config(struct rda *a, json_object *sec, const char *dir, const char *opt,
	       char *why, size_t n);

/*
 * The format of path, from its kind (a directory is gaia when it holds
 * label.csv and metric/metrics.json) and its first len bytes buf: a JSON
 * object with "alerts" and "receiver" or "groupKey" is alertmanager, else
 * jsonl.  Returns the format and a score 0..100 in *score.
 */
enum rda_fmt rda_probe(const char *path, const char *buf, size_t len, int *score);

/*
 * One line of a jsonl file: an alert record, or a reject.  Counts it in
 * a->in.  Blank lines are not passed.
 */
void rda_line(struct rda *a, const struct rda_out *out, const char *path, unsigned long line,
	      const char *p, size_t n);

/*
 * Reads the whole input of a (format decided by rda_probe when RDA_AUTO).
 * Returns 0, or -1 with why set when the input cannot be read at all (a
 * missing directory, a read error); what was read before stays delivered.
 */
int rda_read(struct rda *a, const struct rda_out *out, char *why, size_t n);

/* Frees what rda_config and rda_read allocated. */
void rda_free(struct rda *a);

#endif
