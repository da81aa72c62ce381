/*
 * incident: aiops-load's `incident` records.  An incident arrives in the
 * JSONL input form (an incidents.jsonl line, or what an incidents reader
 * of lib/rd_*.c queues) and leaves as
 *
 *   {"kind":"incident","id":ID,"start_ts":T,"detected_ts":T|null,
 *    "resolved_ts":T|null,"root_cause":{...}|null,"title":S|null,
 *    "expected_actions":[...], other input keys as they came}
 *
 * (the aliases of each key in aiops-load(1)).  Incidents are few: the
 * records are kept in memory, one a line, until the signals are out.
 * Nothing here prints: a bad incident is a reject through the stage.
 */
#ifndef AIOPS_INCIDENT_H
#define AIOPS_INCIDENT_H

#include <stddef.h>
#include <json-c/json.h>

#include "buf.h"
#include "stage.h"
#include "ts.h"

struct incidents {
	struct buf recs;        /* the records, each followed by '\n' */
	unsigned long n;
};

/* Where an incident comes from: its file, the id prefix of incidents
 * without an id ("incidents" -> "incidents:LINE") and the unit of
 * numeric times. */
struct inc_src {
	struct stage *st;
	const char *path;
	const char *idpfx;
	enum ts_unit unit;
};

/* Adds the incident of input object o (line `line`, raw text raw[0..n)),
 * or rejects it (bad or missing start_ts, bad times). */
void incident_add(struct incidents *in, const struct inc_src *src, json_object *o,
		  unsigned long line, const char *raw, size_t n);

/* Adds a finished incident record (rec[0..n), no newline). */
void incident_add_record(struct incidents *in, const char *rec, size_t n);

/* Reads an incidents file in the JSONL form: every line counted in
 * records_in, each an incident or a reject (too long, not UTF-8, not a
 * JSON object, a bad incident).  Returns 0, or -1 with errno on a read
 * error. */
int incidents_read_jsonl(struct incidents *in, const struct inc_src *src);

/* Frees the records (n, the count, stays). */
void incidents_free(struct incidents *in);

#endif
